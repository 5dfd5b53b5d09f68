// numpy.random.RandomState's legacy MT19937 stream, reproduced exactly, so poselift shuffles
// training examples in the same order as the original (ChunkedGenerator, seed 1234) and its
// checkpoints carry a `random_state` that Python's numpy can unpickle and continue.
// Hand-written rather than std::mt19937: the full state (624 words + position) must be read
// and written in numpy's layout.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "io/pyvalue.hpp"

namespace poselift::data {

class NumpyRandomState {
 public:
  explicit NumpyRandomState(std::uint32_t seed = 1234);

  std::uint32_t next_uint32();
  // Uniform integer in [0, max], by masked rejection (numpy's legacy random_interval).
  std::uint64_t random_interval(std::uint64_t max);
  // The row order of RandomState.permutation(array of n rows): Fisher-Yates from the end.
  std::vector<std::int64_t> permutation(std::int64_t n);

  // The pickled form: a numpy.random.RandomState object (as torch.save stores it).
  io::ValuePtr to_value() const;
  // Reads a RandomState pickled by numpy or by to_value(); throws InputError otherwise.
  static NumpyRandomState from_value(const io::Value& value, const std::string& what);

  bool operator==(const NumpyRandomState& other) const { return key_ == other.key_ && pos_ == other.pos_; }

 private:
  void regenerate();
  std::array<std::uint32_t, 624> key_{};
  int pos_ = 624;
};

}  // namespace poselift::data
