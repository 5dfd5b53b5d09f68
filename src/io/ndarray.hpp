// A dense n-dimensional array as stored in NumPy files, independent of any tensor library.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "io/error.hpp"

namespace poselift::io {

enum class DType : std::uint8_t {
  Bool, UInt8, Int8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float16, Float32, Float64
};

std::size_t dtype_itemsize(DType dtype);
// NumPy's name for the type, e.g. "float32".
std::string dtype_name(DType dtype);

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<std::int8_t>() { return DType::Int8; }
template <> constexpr DType dtype_of<std::int16_t>() { return DType::Int16; }
template <> constexpr DType dtype_of<std::uint16_t>() { return DType::UInt16; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<std::uint32_t>() { return DType::UInt32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<std::uint64_t>() { return DType::UInt64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

// C-ordered, native (little-endian) bytes. Readers convert Fortran order and big-endian
// data on load, so every NdArray in memory has this one layout.
struct NdArray {
  DType dtype = DType::Float32;
  std::vector<std::int64_t> shape;  // empty = 0-d (one element)
  std::vector<std::uint8_t> bytes;  // numel() * itemsize

  std::int64_t numel() const;
  std::size_t itemsize() const { return dtype_itemsize(dtype); }
  std::string shape_string() const;  // "(5, 81, 17, 2)"

  template <class T> T* data() {
    check_type(dtype_of<T>());
    return reinterpret_cast<T*>(bytes.data());
  }
  template <class T> const T* data() const {
    check_type(dtype_of<T>());
    return reinterpret_cast<const T*>(bytes.data());
  }

  // Any numeric dtype converted element-wise.
  std::vector<double> to_doubles() const;
  std::vector<float> to_floats() const;
  NdArray astype(DType target) const;

  static NdArray zeros(DType dtype, std::vector<std::int64_t> shape);
  template <class T>
  static NdArray from_vector(std::vector<std::int64_t> shape, const std::vector<T>& values) {
    NdArray a = zeros(dtype_of<T>(), std::move(shape));
    if (static_cast<std::size_t>(a.numel()) != values.size())
      throw InputError("NdArray::from_vector: shape " + a.shape_string() + " does not hold " +
                       std::to_string(values.size()) + " values");
    if (!values.empty())
      std::copy(reinterpret_cast<const std::uint8_t*>(values.data()),
                reinterpret_cast<const std::uint8_t*>(values.data()) + a.bytes.size(), a.bytes.begin());
    return a;
  }

 private:
  void check_type(DType requested) const;
};

// A NumPy type string decoded: "<f4", ">i8", "|b1", "f8", "O8", "float32", "?".
struct NumpyTypeCode {
  DType dtype = DType::Float32;
  bool is_object = false;   // 'O': Python objects (pickled), `dtype` is meaningless then
  bool big_endian = false;  // '>' (or '!'); '<', '|', '=' and no prefix mean native little-endian
};
// nullopt when the type is not one poselift handles (strings, complex, datetimes, structs...).
std::optional<NumpyTypeCode> parse_numpy_type_code(const std::string& code);
// The little-endian NumPy type string of a dtype, as written in .npy headers: "<f4", "|u1".
std::string numpy_type_code(DType dtype);

// numel of `shape`, throwing InputError (prefixed by `what`) on a negative dimension or overflow.
std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& what);
// numel(shape) * itemsize in bytes, overflow-checked the same way.
std::size_t checked_byte_size(const std::vector<std::int64_t>& shape, DType dtype, const std::string& what);

// Builds an NdArray from raw element bytes laid out as described (converted to native byte order
// and C order). `size` must equal numel * itemsize, otherwise InputError naming `what`.
NdArray array_from_raw_bytes(DType dtype, std::vector<std::int64_t> shape, const std::uint8_t* data,
                             std::size_t size, bool big_endian, bool fortran_order, const std::string& what);

// IEEE half precision <-> single precision (round to nearest even).
float half_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);

}  // namespace poselift::io
