// Seeded random numbers that are identical on every platform: std::mt19937_64's raw output is
// specified by the standard, but std::normal_distribution & co. are not, so the variates are
// derived here by hand.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

namespace poselift::mocap {

// splitmix64 finaliser: spreads similar seeds far apart.
inline std::uint64_t mix_seed(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ull;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

// A seed for one labelled stream ("noisy/S1/Walking/2") of a run seeded with `seed`, so each
// sequence's randomness does not depend on the order in which sequences are processed.
inline std::uint64_t derive_seed(std::uint64_t seed, const std::string& label) {
  std::uint64_t hash = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : label) hash = (hash ^ c) * 0x100000001B3ull;
  return mix_seed(seed ^ mix_seed(hash));
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n) (n > 0); the modulo bias is below 2^-40 for the sizes used here.
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }
  bool chance(double probability) { return uniform() < probability; }
  // Standard normal variate (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0;
    do u = uniform();
    while (u <= 0.0);
    const double radius = std::sqrt(-2.0 * std::log(u));
    const double angle = 2.0 * 3.14159265358979323846 * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }
  double normal(double mean, double sigma) { return mean + sigma * normal(); }
  // Length of an episode with the given mean (geometric distribution, at least 1).
  int episode_length(double mean_frames) {
    const double p = 1.0 / std::max(1.0, mean_frames);
    int length = 1;
    while (length < 10000 && !chance(p)) ++length;
    return length;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace poselift::mocap
