// Timing two ways of doing the same work side by side: passes alternate so that the machine's
// drift (frequency, other load) falls on both alike.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

namespace poselift::bench {

inline double seconds_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs `first` and `second` alternately (one warm-up each: allocator, BLAS buffers, kernel
// dispatch) until `seconds` have passed in total and each ran at least `min_passes` times;
// returns the seconds per pass of each.
inline std::pair<double, double> alternate(const std::function<void()>& first, const std::function<void()>& second,
                                           double seconds, int min_passes = 2) {
  first();
  second();
  double first_total = 0, second_total = 0;
  int passes = 0;
  while (passes < min_passes || first_total + second_total < seconds) {
    first_total += seconds_of(first);
    second_total += seconds_of(second);
    ++passes;
  }
  return {first_total / passes, second_total / passes};
}

}  // namespace poselift::bench
