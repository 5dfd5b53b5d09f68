// Reading numbers out of unpickled Python values that may be Python scalars/lists or numpy
// scalars/arrays (both appear in VideoPose3D data files, depending on who wrote them).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/pyvalue.hpp"

namespace poselift::data::detail {

// An integer: Python int/bool or a one-element integer numpy array/scalar.
std::int64_t integer_of(const io::Value& value, const std::string& what);
// A number: Python int/float/bool or a one-element numeric numpy array/scalar.
double number_of(const io::Value& value, const std::string& what);
// A flat list of numbers: Python list/tuple of numbers or a numeric array (flattened).
std::vector<double> numbers_of(const io::Value& value, const std::string& what);
// A flat list of integers (same sources as numbers_of, every value integral).
std::vector<int> integers_of(const io::Value& value, const std::string& what);

// The entries of a dict whose keys must all be strings, in insertion order.
std::vector<std::pair<std::string, const io::Value*>> str_items(const io::Value& value, const std::string& what);

// "['S1']" - Python-style subscript used to build value paths in messages.
std::string subscript(const std::string& key);

// Bytes of arrays a loader copies out of one file. A pickle can reference one array many times
// (through its memo) and each reference is copied, so the total is bounded as the file's
// decompressed data is: io::decompression_budget of the file's size.
class CopyBudget {
 public:
  explicit CopyBudget(const std::string& path);
  // Throws InputError naming `what` when `bytes` more would exceed the budget.
  void take(std::uint64_t bytes, const std::string& what);

 private:
  std::uint64_t left_ = 0, total_ = 0;
};

}  // namespace poselift::data::detail
