#include "data/array_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "io/error.hpp"

namespace poselift::data {

namespace {

std::int64_t product(const std::vector<std::int64_t>& shape, std::size_t from) {
  std::int64_t result = 1;
  for (std::size_t i = from; i < shape.size(); ++i) result *= shape[i];
  return result;
}

}  // namespace

io::NdArray slice_frames(const io::NdArray& array, std::int64_t start, std::int64_t stop, std::int64_t step) {
  if (array.shape.empty()) throw InputError("slice_frames: expected an array with a frame axis, found a scalar");
  if (start < 0 || step <= 0)
    throw InputError("slice_frames: start must be >= 0 and step > 0, got start " + std::to_string(start) +
                     ", step " + std::to_string(step));
  const std::int64_t length = array.shape[0];
  stop = std::min(stop, length);
  const std::int64_t count = start >= stop ? 0 : (stop - start + step - 1) / step;
  std::vector<std::int64_t> shape = array.shape;
  shape[0] = count;
  io::NdArray out = io::NdArray::zeros(array.dtype, shape);
  const std::size_t frame_bytes = static_cast<std::size_t>(product(array.shape, 1)) * array.itemsize();
  for (std::int64_t i = 0; i < count; ++i)
    std::memcpy(out.bytes.data() + i * frame_bytes, array.bytes.data() + (start + i * step) * frame_bytes,
                frame_bytes);
  return out;
}

io::NdArray select_joints(const io::NdArray& array, const std::vector<int>& joints) {
  if (array.shape.size() < 2)
    throw InputError("select_joints: expected a (frames, joints, ...) array, found shape " + array.shape_string());
  const std::int64_t num_joints = array.shape[1];
  for (int j : joints)
    if (j < 0 || j >= num_joints)
      throw InputError("select_joints: joint " + std::to_string(j) + " is outside an array of shape " +
                       array.shape_string());
  std::vector<std::int64_t> shape = array.shape;
  shape[1] = static_cast<std::int64_t>(joints.size());
  io::NdArray out = io::NdArray::zeros(array.dtype, shape);
  const std::size_t joint_bytes = static_cast<std::size_t>(product(array.shape, 2)) * array.itemsize();
  std::uint8_t* dst = out.bytes.data();
  for (std::int64_t t = 0; t < array.shape[0]; ++t)
    for (int j : joints) {
      std::memcpy(dst, array.bytes.data() + (t * num_joints + j) * joint_bytes, joint_bytes);
      dst += joint_bytes;
    }
  return out;
}

io::NdArray leading_channels(const io::NdArray& array, std::int64_t count) {
  if (array.shape.empty() || array.shape.back() < count || count < 0)
    throw InputError("leading_channels: cannot take " + std::to_string(count) + " channels of shape " +
                     array.shape_string());
  if (array.shape.back() == count) return array;
  std::vector<std::int64_t> shape = array.shape;
  const std::int64_t channels = shape.back();
  shape.back() = count;
  io::NdArray out = io::NdArray::zeros(array.dtype, shape);
  const std::size_t item = array.itemsize();
  const std::int64_t points = channels == 0 ? 0 : array.numel() / channels;
  for (std::int64_t i = 0; i < points; ++i)
    std::memcpy(out.bytes.data() + i * count * item, array.bytes.data() + i * channels * item, count * item);
  return out;
}

std::int64_t first_non_finite(const io::NdArray& array) {
  const std::int64_t n = array.numel();
  switch (array.dtype) {
    case io::DType::Float32: {
      const float* p = array.data<float>();
      for (std::int64_t i = 0; i < n; ++i)
        if (!std::isfinite(p[i])) return i;
      return -1;
    }
    case io::DType::Float64: {
      const double* p = array.data<double>();
      for (std::int64_t i = 0; i < n; ++i)
        if (!std::isfinite(p[i])) return i;
      return -1;
    }
    case io::DType::Float16: {
      std::uint16_t bits;
      for (std::int64_t i = 0; i < n; ++i) {
        std::memcpy(&bits, array.bytes.data() + 2 * i, sizeof bits);
        if ((bits & 0x7C00) == 0x7C00) return i;  // exponent all ones: inf or NaN
      }
      return -1;
    }
    default: return -1;
  }
}

}  // namespace poselift::data
