#include "io/ndarray.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace poselift::io {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float/double expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "poselift stores arrays in little-endian order and assumes a little-endian host"
#endif

std::size_t dtype_itemsize(DType dtype) {
  switch (dtype) {
    case DType::Bool: case DType::UInt8: case DType::Int8: return 1;
    case DType::Int16: case DType::UInt16: case DType::Float16: return 2;
    case DType::Int32: case DType::UInt32: case DType::Float32: return 4;
    case DType::Int64: case DType::UInt64: case DType::Float64: return 8;
  }
  return 1;
}

std::string dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::UInt16: return "uint16";
    case DType::Int32: return "int32";
    case DType::UInt32: return "uint32";
    case DType::Int64: return "int64";
    case DType::UInt64: return "uint64";
    case DType::Float16: return "float16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "unknown";
}

std::optional<NumpyTypeCode> parse_numpy_type_code(const std::string& code) {
  NumpyTypeCode out;
  std::string body = code;
  if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '|' || body[0] == '=' || body[0] == '!')) {
    out.big_endian = body[0] == '>' || body[0] == '!';
    body.erase(0, 1);
  }
  struct Named { const char* name; DType dtype; };
  static const Named kNamed[] = {
      {"bool", DType::Bool},       {"?", DType::Bool},          {"b1", DType::Bool},
      {"uint8", DType::UInt8},     {"u1", DType::UInt8},        {"B", DType::UInt8},
      {"int8", DType::Int8},       {"i1", DType::Int8},         {"b", DType::Int8},
      {"int16", DType::Int16},     {"i2", DType::Int16},        {"h", DType::Int16},
      {"uint16", DType::UInt16},   {"u2", DType::UInt16},       {"H", DType::UInt16},
      {"int32", DType::Int32},     {"i4", DType::Int32},        {"i", DType::Int32},
      {"uint32", DType::UInt32},   {"u4", DType::UInt32},       {"I", DType::UInt32},
      {"int64", DType::Int64},     {"i8", DType::Int64},        {"q", DType::Int64},
      {"uint64", DType::UInt64},   {"u8", DType::UInt64},       {"Q", DType::UInt64},
      {"float16", DType::Float16}, {"f2", DType::Float16},      {"e", DType::Float16},
      {"float32", DType::Float32}, {"f4", DType::Float32},      {"f", DType::Float32},
      {"float64", DType::Float64}, {"f8", DType::Float64},      {"d", DType::Float64},
  };
  for (const auto& named : kNamed)
    if (body == named.name) {
      out.dtype = named.dtype;
      if (dtype_itemsize(out.dtype) == 1) out.big_endian = false;  // byte order is meaningless
      return out;
    }
  if (body == "O" || body == "O8" || body == "O4" || body == "object") {
    out.is_object = true;
    out.big_endian = false;
    return out;
  }
  return std::nullopt;
}

std::string numpy_type_code(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "|b1";
    case DType::UInt8: return "|u1";
    case DType::Int8: return "|i1";
    case DType::Int16: return "<i2";
    case DType::UInt16: return "<u2";
    case DType::Int32: return "<i4";
    case DType::UInt32: return "<u4";
    case DType::Int64: return "<i8";
    case DType::UInt64: return "<u8";
    case DType::Float16: return "<f2";
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
  }
  return "|u1";
}

std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& what) {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) {
    if (dim < 0) throw InputError(what + ": negative dimension " + std::to_string(dim) + " in shape");
    if (dim != 0 && count > std::numeric_limits<std::int64_t>::max() / dim)
      throw InputError(what + ": shape is too large (element count overflows)");
    count *= dim;
  }
  return count;
}

std::size_t checked_byte_size(const std::vector<std::int64_t>& shape, DType dtype, const std::string& what) {
  const auto count = static_cast<std::uint64_t>(checked_numel(shape, what));
  const std::uint64_t itemsize = dtype_itemsize(dtype);
  if (count > std::numeric_limits<std::size_t>::max() / itemsize)
    throw InputError(what + ": shape is too large (byte size overflows)");
  return static_cast<std::size_t>(count * itemsize);
}

namespace {

std::string shape_to_string(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";  // Python's one-tuple spelling
  return out + ")";
}

void byteswap_elements(std::uint8_t* data, std::size_t count, std::size_t itemsize) {
  if (itemsize <= 1) return;
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * itemsize, data + (i + 1) * itemsize);
}

// One element read as the widest type of its family, so conversions lose nothing avoidable.
struct Scalar {
  enum class Family { Signed, Unsigned, Floating } family = Family::Signed;
  std::int64_t s = 0;
  std::uint64_t u = 0;
  double f = 0.0;
};

template <class T>
T load_unaligned(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

Scalar load_scalar(const std::uint8_t* p, DType dtype) {
  Scalar out;
  switch (dtype) {
    case DType::Bool: out.s = *p != 0; break;
    case DType::Int8: out.s = load_unaligned<std::int8_t>(p); break;
    case DType::Int16: out.s = load_unaligned<std::int16_t>(p); break;
    case DType::Int32: out.s = load_unaligned<std::int32_t>(p); break;
    case DType::Int64: out.s = load_unaligned<std::int64_t>(p); break;
    case DType::UInt8: out.family = Scalar::Family::Unsigned; out.u = *p; break;
    case DType::UInt16: out.family = Scalar::Family::Unsigned; out.u = load_unaligned<std::uint16_t>(p); break;
    case DType::UInt32: out.family = Scalar::Family::Unsigned; out.u = load_unaligned<std::uint32_t>(p); break;
    case DType::UInt64: out.family = Scalar::Family::Unsigned; out.u = load_unaligned<std::uint64_t>(p); break;
    case DType::Float16: out.family = Scalar::Family::Floating; out.f = half_to_float(load_unaligned<std::uint16_t>(p)); break;
    case DType::Float32: out.family = Scalar::Family::Floating; out.f = load_unaligned<float>(p); break;
    case DType::Float64: out.family = Scalar::Family::Floating; out.f = load_unaligned<double>(p); break;
  }
  return out;
}

double scalar_to_double(const Scalar& v) {
  switch (v.family) {
    case Scalar::Family::Signed: return static_cast<double>(v.s);
    case Scalar::Family::Unsigned: return static_cast<double>(v.u);
    case Scalar::Family::Floating: return v.f;
  }
  return 0.0;
}

// Float -> integer without undefined behaviour: NaN becomes 0, out-of-range values saturate.
template <class Int>
Int saturate_float(double value) {
  if (std::isnan(value)) return 0;
  if (value <= static_cast<double>(std::numeric_limits<Int>::min())) return std::numeric_limits<Int>::min();
  // max() may round up when converted to double, hence >=.
  if (value >= static_cast<double>(std::numeric_limits<Int>::max())) return std::numeric_limits<Int>::max();
  return static_cast<Int>(value);
}

template <class Int>
Int scalar_to_int(const Scalar& v) {
  switch (v.family) {
    case Scalar::Family::Signed: return static_cast<Int>(v.s);    // wraps modulo 2^n, as NumPy does
    case Scalar::Family::Unsigned: return static_cast<Int>(v.u);
    case Scalar::Family::Floating: return saturate_float<Int>(v.f);
  }
  return 0;
}

template <class T>
void store_unaligned(std::uint8_t* p, T value) {
  std::memcpy(p, &value, sizeof(T));
}

void store_scalar(std::uint8_t* p, DType dtype, const Scalar& v) {
  switch (dtype) {
    case DType::Bool: {
      const bool truth = v.family == Scalar::Family::Floating ? v.f != 0.0
                         : v.family == Scalar::Family::Unsigned ? v.u != 0 : v.s != 0;
      *p = truth ? 1 : 0;
      break;
    }
    case DType::Int8: store_unaligned(p, scalar_to_int<std::int8_t>(v)); break;
    case DType::Int16: store_unaligned(p, scalar_to_int<std::int16_t>(v)); break;
    case DType::Int32: store_unaligned(p, scalar_to_int<std::int32_t>(v)); break;
    case DType::Int64: store_unaligned(p, scalar_to_int<std::int64_t>(v)); break;
    case DType::UInt8: store_unaligned(p, scalar_to_int<std::uint8_t>(v)); break;
    case DType::UInt16: store_unaligned(p, scalar_to_int<std::uint16_t>(v)); break;
    case DType::UInt32: store_unaligned(p, scalar_to_int<std::uint32_t>(v)); break;
    case DType::UInt64: store_unaligned(p, scalar_to_int<std::uint64_t>(v)); break;
    case DType::Float16: store_unaligned(p, float_to_half(static_cast<float>(scalar_to_double(v)))); break;
    case DType::Float32: store_unaligned(p, static_cast<float>(scalar_to_double(v))); break;
    case DType::Float64: store_unaligned(p, scalar_to_double(v)); break;
  }
}

}  // namespace

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
  std::uint32_t mantissa = bits & 0x3FFu;
  std::uint32_t out;
  if (exponent == 0x1F) {
    out = sign | 0x7F800000u | (mantissa << 13);  // inf / NaN
  } else if (exponent != 0) {
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    // Subnormal half: normalise the mantissa into a regular float.
    std::uint32_t shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3FFu;
    out = sign | ((113 - shift) << 23) | (mantissa << 13);
  }
  float result;
  std::memcpy(&result, &out, sizeof(result));
  return result;
}

std::uint16_t float_to_half(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t exponent = (bits >> 23) & 0xFFu;
  std::uint32_t mantissa = bits & 0x7FFFFFu;
  if (exponent == 0xFF)  // inf / NaN (keep NaN quiet and non-zero)
    return static_cast<std::uint16_t>(sign | 0x7C00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u));
  const int unbiased = static_cast<int>(exponent) - 127;
  if (unbiased > 15) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow -> inf
  if (unbiased >= -14) {
    // Normal half: round the 23-bit mantissa to 10 bits, nearest even; a carry may bump the exponent.
    std::uint32_t half = (static_cast<std::uint32_t>(unbiased + 15) << 10) | (mantissa >> 13);
    const std::uint32_t rest = mantissa & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);  // a carry into 0x7C00 correctly yields inf
  }
  if (unbiased < -25) return sign;  // underflow -> signed zero
  // Subnormal half: value = m * 2^-24 with the implicit leading one restored.
  mantissa |= 0x800000u;
  const int shift = -unbiased - 1;  // 14..24: brings the mantissa to units of 2^-24
  std::uint32_t half = mantissa >> shift;
  const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

NdArray array_from_raw_bytes(DType dtype, std::vector<std::int64_t> shape, const std::uint8_t* data,
                             std::size_t size, bool big_endian, bool fortran_order, const std::string& what) {
  const std::size_t expected = checked_byte_size(shape, dtype, what);
  if (size != expected)
    throw InputError(what + ": shape " + shape_to_string(shape) + " of " + dtype_name(dtype) + " needs " +
                     std::to_string(expected) + " bytes but " + std::to_string(size) + " are present");
  NdArray out;
  out.dtype = dtype;
  out.shape = std::move(shape);
  const std::size_t itemsize = dtype_itemsize(dtype);
  const std::size_t count = expected / itemsize;
  if (!fortran_order || out.shape.size() < 2 || count == 0) {
    out.bytes.assign(data, data + size);  // a 1-d or empty Fortran array is also C-ordered
  } else {
    // Visit elements in C order, tracking the matching Fortran offset incrementally.
    out.bytes.resize(size);
    const std::size_t rank = out.shape.size();
    std::vector<std::size_t> fortran_stride(rank);
    std::size_t stride = 1;
    for (std::size_t axis = 0; axis < rank; ++axis) {
      fortran_stride[axis] = stride;
      stride *= static_cast<std::size_t>(out.shape[axis]);
    }
    std::vector<std::int64_t> index(rank, 0);
    std::size_t source_element = 0;
    for (std::size_t element = 0; element < count; ++element) {
      std::memcpy(out.bytes.data() + element * itemsize, data + source_element * itemsize, itemsize);
      for (std::size_t axis = rank; axis-- > 0;) {
        if (++index[axis] < out.shape[axis]) {
          source_element += fortran_stride[axis];
          break;
        }
        source_element -= fortran_stride[axis] * static_cast<std::size_t>(out.shape[axis] - 1);
        index[axis] = 0;
      }
    }
  }
  if (big_endian) byteswap_elements(out.bytes.data(), count, itemsize);
  return out;
}

std::int64_t NdArray::numel() const { return checked_numel(shape, "NdArray"); }

std::string NdArray::shape_string() const { return shape_to_string(shape); }

void NdArray::check_type(DType requested) const {
  if (requested != dtype)
    throw InputError("NdArray: requested " + dtype_name(requested) + " data but the array holds " +
                     dtype_name(dtype) + " " + shape_string());
}

std::vector<double> NdArray::to_doubles() const {
  const std::size_t count = bytes.size() / itemsize();
  std::vector<double> out(count);
  if (dtype == DType::Float64) {
    if (count) std::memcpy(out.data(), bytes.data(), count * sizeof(double));
    return out;
  }
  for (std::size_t i = 0; i < count; ++i) out[i] = scalar_to_double(load_scalar(bytes.data() + i * itemsize(), dtype));
  return out;
}

std::vector<float> NdArray::to_floats() const {
  const std::size_t count = bytes.size() / itemsize();
  std::vector<float> out(count);
  if (dtype == DType::Float32) {
    if (count) std::memcpy(out.data(), bytes.data(), count * sizeof(float));
    return out;
  }
  for (std::size_t i = 0; i < count; ++i)
    out[i] = static_cast<float>(scalar_to_double(load_scalar(bytes.data() + i * itemsize(), dtype)));
  return out;
}

NdArray NdArray::astype(DType target) const {
  if (target == dtype) return *this;
  NdArray out;
  out.dtype = target;
  out.shape = shape;
  const std::size_t count = bytes.size() / itemsize();
  const std::size_t target_size = dtype_itemsize(target);
  out.bytes.resize(count * target_size);
  for (std::size_t i = 0; i < count; ++i)
    store_scalar(out.bytes.data() + i * target_size, target, load_scalar(bytes.data() + i * itemsize(), dtype));
  return out;
}

NdArray NdArray::zeros(DType dtype, std::vector<std::int64_t> shape) {
  NdArray out;
  out.dtype = dtype;
  const std::size_t size = checked_byte_size(shape, dtype, "NdArray::zeros");
  out.shape = std::move(shape);
  out.bytes.assign(size, 0);
  return out;
}

}  // namespace poselift::io
