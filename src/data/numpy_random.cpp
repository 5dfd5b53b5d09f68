#include "data/numpy_random.hpp"

#include <cstring>
#include <utility>

#include "io/error.hpp"

namespace poselift::data {

namespace {
constexpr int kN = 624, kM = 397;
constexpr std::uint32_t kMatrixA = 0x9908b0dfU, kUpper = 0x80000000U, kLower = 0x7fffffffU;
}  // namespace

NumpyRandomState::NumpyRandomState(std::uint32_t seed) {
  std::uint32_t s = seed;
  for (int i = 0; i < kN; ++i) {
    key_[i] = s;
    s = 1812433253U * (s ^ (s >> 30)) + static_cast<std::uint32_t>(i + 1);
  }
  pos_ = kN;
}

void NumpyRandomState::regenerate() {
  for (int i = 0; i < kN; ++i) {
    const std::uint32_t y = (key_[i] & kUpper) | (key_[(i + 1) % kN] & kLower);
    key_[i] = key_[(i + kM) % kN] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
  }
  pos_ = 0;
}

std::uint32_t NumpyRandomState::next_uint32() {
  if (pos_ >= kN) regenerate();
  std::uint32_t y = key_[pos_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

std::uint64_t NumpyRandomState::random_interval(std::uint64_t max) {
  if (max == 0) return 0;
  std::uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift <<= 1) mask |= mask >> shift;
  std::uint64_t value;
  if (max <= 0xffffffffULL) {
    while ((value = (next_uint32() & mask)) > max) {
    }
  } else {
    do {
      const std::uint64_t high = next_uint32(), low = next_uint32();
      value = ((high << 32) | low) & mask;
    } while (value > max);
  }
  return value;
}

std::vector<std::int64_t> NumpyRandomState::permutation(std::int64_t n) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[i] = i;
  for (std::int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<std::int64_t>(random_interval(static_cast<std::uint64_t>(i)));
    if (i != j) std::swap(order[i], order[j]);
  }
  return order;
}

io::ValuePtr NumpyRandomState::to_value() const {
  io::NdArray key = io::NdArray::zeros(io::DType::UInt32, {kN});
  std::memcpy(key.bytes.data(), key_.data(), sizeof(std::uint32_t) * kN);
  auto state = io::Value::dict({
      {io::Value::from_str("bit_generator"), io::Value::from_str("MT19937")},
      {io::Value::from_str("state"), io::Value::dict({{io::Value::from_str("key"), io::Value::from_array(key)},
                                                      {io::Value::from_str("pos"), io::Value::from_int(pos_)}})},
      {io::Value::from_str("has_gauss"), io::Value::from_int(0)},
      {io::Value::from_str("gauss"), io::Value::from_float(0.0)},
  });
  auto object = std::make_shared<io::Object>();
  object->module = "numpy.random._pickle";
  object->name = "__randomstate_ctor";
  object->args = {io::Value::from_str("MT19937"), io::Value::global("numpy.random._pickle", "__bit_generator_ctor")};
  object->state = state;
  return io::Value::from_object(object);
}

NumpyRandomState NumpyRandomState::from_value(const io::Value& value, const std::string& what) {
  if (value.kind != io::Value::Kind::Object || !value.object->state)
    throw InputError(what + ": expected a pickled numpy RandomState");
  const io::Value& state = value.object->state->at("state", what);
  const io::NdArray& key = state.at("key", what + "['state']").as_array(what + "['state']['key']");
  if (key.numel() != kN || (key.dtype != io::DType::UInt32 && key.dtype != io::DType::Int64 &&
                            key.dtype != io::DType::UInt64 && key.dtype != io::DType::Int32))
    throw InputError(what + "['state']['key']: expected 624 unsigned 32-bit words");
  NumpyRandomState out;
  const auto words = key.to_doubles();
  for (int i = 0; i < kN; ++i) out.key_[i] = static_cast<std::uint32_t>(words[i]);
  const std::int64_t pos = state.at("pos", what + "['state']").as_int(what + "['state']['pos']");
  if (pos < 0 || pos > kN) throw InputError(what + "['state']['pos']: expected 0..624");
  out.pos_ = static_cast<int>(pos);
  return out;
}

}  // namespace poselift::data
