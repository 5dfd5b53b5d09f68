#include "mocap/noise.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "io/error.hpp"
#include "mocap/quality.hpp"
#include "mocap/random.hpp"

namespace poselift::mocap {

namespace {

constexpr int kJoints = 17;
// Left/right pairs that detectors confuse: knees + ankles, elbows + wrists (Human3.6M-17).
constexpr int kSwapGroups[2][2][2] = {{{5, 2}, {6, 3}}, {{12, 15}, {13, 16}}};

struct Point2 {
  double x = 0.0, y = 0.0;
};

// The person's size in the image: median over frames of the larger side of the keypoints'
// bounding box (the larger side, so a lying person is not taken for a tiny one).
double median_person_size(const std::vector<double>& xy, std::int64_t frames) {
  std::vector<double> sizes(static_cast<std::size_t>(frames));
  for (std::int64_t t = 0; t < frames; ++t) {
    double min_x = 1e300, max_x = -1e300, min_y = 1e300, max_y = -1e300;
    for (int j = 0; j < kJoints; ++j) {
      const double x = xy[static_cast<std::size_t>((t * kJoints + j) * 2)];
      const double y = xy[static_cast<std::size_t>((t * kJoints + j) * 2 + 1)];
      min_x = std::min(min_x, x);
      max_x = std::max(max_x, x);
      min_y = std::min(min_y, y);
      max_y = std::max(max_y, y);
    }
    sizes[static_cast<std::size_t>(t)] = std::max(max_x - min_x, max_y - min_y);
  }
  return quantile(std::move(sizes), 0.5);
}

}  // namespace

io::NdArray apply_detector_noise(const io::NdArray& ground_truth, const DetectorNoiseOptions& options, double fps,
                                 std::uint64_t seed, NoiseStatistics* statistics) {
  if (ground_truth.shape.size() != 3 || ground_truth.shape[1] != kJoints || ground_truth.shape[2] < 2)
    throw InputError("apply_detector_noise: expected (frames, 17, 2) pixel coordinates, found " +
                     ground_truth.shape_string());
  if (!(options.strength >= 0.0)) throw InputError("apply_detector_noise: strength must be >= 0");
  if (!(fps > 0.0)) throw InputError("apply_detector_noise: fps must be positive");
  const std::int64_t frames = ground_truth.shape[0];
  const std::int64_t in_channels = ground_truth.shape[2];
  const std::vector<double> all = ground_truth.to_doubles();
  std::vector<double> xy(static_cast<std::size_t>(frames * kJoints * 2));
  for (std::int64_t i = 0; i < frames * kJoints; ++i) {
    xy[static_cast<std::size_t>(2 * i)] = all[static_cast<std::size_t>(i * in_channels)];
    xy[static_cast<std::size_t>(2 * i + 1)] = all[static_cast<std::size_t>(i * in_channels + 1)];
  }

  const int out_channels = options.confidence ? 3 : 2;
  io::NdArray out = io::NdArray::zeros(io::DType::Float32, {frames, kJoints, out_channels});
  float* result = out.data<float>();
  NoiseStatistics stats;
  stats.points = frames * kJoints;
  if (frames == 0) {
    if (statistics) *statistics = stats;
    return out;
  }

  Rng rng(seed);
  const double strength = options.strength;
  const double person = median_person_size(xy, frames);
  const double pixel_scale = strength * person / options.reference_height_px;
  // Event rates grow with the strength too (capped), so one knob makes the detector worse.
  auto rate = [&](double r) { return std::min(0.5, r * strength); };
  const double rho = std::exp(-1.0 / (fps * std::max(options.correlation_seconds, 1e-6)));
  const double innovation = std::sqrt(1.0 - rho * rho);
  const double correlated = std::sqrt(std::clamp(options.correlated_fraction, 0.0, 1.0));
  const double white = std::sqrt(1.0 - std::clamp(options.correlated_fraction, 0.0, 1.0));

  std::array<Point2, kJoints> bias{}, state{}, outlier_offset{}, held{}, last{};
  std::array<int, kJoints> outlier_left{}, miss_left{};
  for (int j = 0; j < kJoints; ++j) {
    bias[j] = {rng.normal() * options.bias_sigma * pixel_scale, rng.normal() * options.bias_sigma * pixel_scale};
    state[j] = {rng.normal(), rng.normal()};  // AR(1) started in its stationary distribution
  }
  int swap_left = 0, swap_group = 0;
  double error_sum = 0.0;

  for (std::int64_t t = 0; t < frames; ++t) {
    std::array<Point2, kJoints> base{};
    for (int j = 0; j < kJoints; ++j)
      base[j] = {xy[static_cast<std::size_t>((t * kJoints + j) * 2)], xy[static_cast<std::size_t>((t * kJoints + j) * 2 + 1)]};
    const std::array<Point2, kJoints> truth = base;
    if (swap_left == 0 && strength > 0.0 && rng.chance(rate(options.swap_rate))) {
      swap_left = rng.episode_length(options.swap_frames);
      swap_group = static_cast<int>(rng.below(2));
    }
    std::array<bool, kJoints> swapped{};
    if (swap_left > 0) {
      for (const auto& pair : kSwapGroups[swap_group]) {
        std::swap(base[pair[0]], base[pair[1]]);
        swapped[pair[0]] = swapped[pair[1]] = true;
      }
      --swap_left;
    }
    for (int j = 0; j < kJoints; ++j) {
      const double sigma = options.joint_sigma[j] * pixel_scale;
      state[j].x = rho * state[j].x + innovation * rng.normal();
      state[j].y = rho * state[j].y + innovation * rng.normal();
      const Point2 jitter{sigma * (correlated * state[j].x + white * rng.normal()),
                          sigma * (correlated * state[j].y + white * rng.normal())};
      Point2 p{base[j].x + bias[j].x + jitter.x, base[j].y + bias[j].y + jitter.y};
      const double jitter_size = std::hypot(jitter.x, jitter.y);
      double confidence = rng.uniform(0.85, 1.0) * std::exp(-0.5 * std::pow(jitter_size / (3.0 * sigma + 1e-9), 2.0));
      if (swapped[j]) {
        confidence = rng.uniform(0.3, 0.7);
        ++stats.swapped_points;
      }
      if (outlier_left[j] == 0 && strength > 0.0 && rng.chance(rate(options.outlier_rate))) {
        outlier_left[j] = rng.episode_length(options.outlier_frames);
        const double spread = options.outlier_sigma * person * strength;
        outlier_offset[j] = {rng.normal() * spread, rng.normal() * spread};
      }
      if (outlier_left[j] > 0) {
        p.x += outlier_offset[j].x;
        p.y += outlier_offset[j].y;
        confidence = rng.uniform(0.2, 0.6);
        --outlier_left[j];
        ++stats.outlier_points;
      }
      if (miss_left[j] == 0 && t > 0 && strength > 0.0 && rng.chance(rate(options.miss_rate))) {
        miss_left[j] = rng.episode_length(options.miss_frames);
        held[j] = last[j];
      }
      if (miss_left[j] > 0) {
        p = {held[j].x + jitter.x, held[j].y + jitter.y};
        confidence = rng.uniform(0.0, 0.1);
        --miss_left[j];
        ++stats.missed_points;
      }
      if (strength == 0.0) confidence = 1.0;
      last[j] = p;
      float* o = result + (t * kJoints + j) * out_channels;
      o[0] = static_cast<float>(p.x);
      o[1] = static_cast<float>(p.y);
      if (options.confidence) o[2] = static_cast<float>(std::clamp(confidence, 0.0, 1.0));
      error_sum += std::hypot(static_cast<double>(o[0]) - truth[j].x, static_cast<double>(o[1]) - truth[j].y);
    }
  }
  stats.mean_error_px = error_sum / static_cast<double>(stats.points);
  if (statistics) *statistics = stats;
  return out;
}

}  // namespace poselift::mocap
