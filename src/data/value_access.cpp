#include "data/value_access.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

#include "io/error.hpp"
#include "io/input_limits.hpp"

namespace poselift::data::detail {

namespace {

bool is_integral_dtype(io::DType dtype) {
  switch (dtype) {
    case io::DType::Bool:
    case io::DType::UInt8:
    case io::DType::Int8:
    case io::DType::Int16:
    case io::DType::UInt16:
    case io::DType::Int32:
    case io::DType::UInt32:
    case io::DType::Int64:
    case io::DType::UInt64:
      return true;
    default:
      return false;
  }
}

const io::NdArray& single_element_array(const io::Value& value, const std::string& what) {
  const io::NdArray& array = value.as_array(what);
  if (array.numel() != 1)
    throw InputError(what + ": expected a single number, found an array of shape " + array.shape_string());
  return array;
}

int checked_int(double number, const std::string& what) {
  if (number != std::floor(number) || std::fabs(number) > std::numeric_limits<int>::max())
    throw InputError(what + ": expected integers, found " + std::to_string(number));
  return static_cast<int>(number);
}

}  // namespace

std::int64_t integer_of(const io::Value& value, const std::string& what) {
  if (value.kind != io::Value::Kind::Array) return value.as_int(what);
  const io::NdArray& array = single_element_array(value, what);
  if (!is_integral_dtype(array.dtype))
    throw InputError(what + ": expected an integer, found a " + io::dtype_name(array.dtype) + " value");
  return static_cast<std::int64_t>(array.to_doubles()[0]);
}

double number_of(const io::Value& value, const std::string& what) {
  if (value.kind != io::Value::Kind::Array) return value.as_float(what);
  return single_element_array(value, what).to_doubles()[0];
}

std::vector<double> numbers_of(const io::Value& value, const std::string& what) {
  if (value.kind == io::Value::Kind::Array) return value.as_array(what).to_doubles();
  std::vector<double> result;
  const auto& items = value.as_sequence(what);
  for (std::size_t i = 0; i < items.size(); ++i)
    result.push_back(number_of(*items[i], what + "[" + std::to_string(i) + "]"));
  return result;
}

std::vector<int> integers_of(const io::Value& value, const std::string& what) {
  std::vector<int> result;
  for (double number : numbers_of(value, what)) result.push_back(checked_int(number, what));
  return result;
}

std::vector<std::pair<std::string, const io::Value*>> str_items(const io::Value& value, const std::string& what) {
  if (value.kind != io::Value::Kind::Dict)
    throw InputError(what + ": expected a dict, found " + io::Value::kind_name(value.kind));
  std::vector<std::pair<std::string, const io::Value*>> items;
  for (const auto& [key, item] : value.entries) {
    if (!key || key->kind != io::Value::Kind::Str)
      throw InputError(what + ": expected string keys, found the key " + (key ? key->repr() : std::string("<null>")));
    if (!item) throw InputError(what + subscript(key->text) + ": missing value");
    items.emplace_back(key->text, item.get());
  }
  return items;
}

std::string subscript(const std::string& key) { return "['" + key + "']"; }

CopyBudget::CopyBudget(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  left_ = total_ = io::decompression_budget(error ? 0 : static_cast<std::uint64_t>(size));
}

void CopyBudget::take(std::uint64_t bytes, const std::string& what) {
  if (bytes > left_)
    throw InputError(what + ": the arrays read from this file add up to more than " + std::to_string(total_) +
                     " bytes (an array referenced many times?; set " + io::kMaxInputBytesVariable +
                     " to allow more)");
  left_ -= bytes;
}

}  // namespace poselift::data::detail
