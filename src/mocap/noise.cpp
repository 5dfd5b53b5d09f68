#include "mocap/noise.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "data/h36m.hpp"
#include "io/error.hpp"
#include "mocap/quality.hpp"
#include "mocap/random.hpp"

namespace poselift::mocap {

namespace {

constexpr int kJoints = data::h36m::kJoints;
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

// The simulated detector on one person, frame by frame: per-joint bias and AR(1)-correlated
// jitter, and episodes of a few frames of left/right swaps, outliers and misses (the last
// position held). The random draws happen in one fixed order, so a seed gives one sequence.
class DetectorSimulator {
 public:
  DetectorSimulator(const DetectorNoiseOptions& options, double fps, std::uint64_t seed, double person,
                    NoiseStatistics& stats)
      : options_(options),
        rng_(seed),
        stats_(stats),
        strength_(options.strength),
        person_(person),
        pixel_scale_(options.strength * person / options.reference_height_px),
        rho_(std::exp(-1.0 / (fps * std::max(options.correlation_seconds, 1e-6)))),
        innovation_(std::sqrt(1.0 - rho_ * rho_)),
        correlated_(std::sqrt(std::clamp(options.correlated_fraction, 0.0, 1.0))),
        white_(std::sqrt(1.0 - std::clamp(options.correlated_fraction, 0.0, 1.0))) {
    for (int j = 0; j < kJoints; ++j) {
      bias_[j] = {rng_.normal() * options.bias_sigma * pixel_scale_, rng_.normal() * options.bias_sigma * pixel_scale_};
      state_[j] = {rng_.normal(), rng_.normal()};  // AR(1) started in its stationary distribution
    }
  }

  // The keypoints reported for the true ones of frame t, and their confidences.
  void detect(std::int64_t t, const std::array<Point2, kJoints>& truth, std::array<Point2, kJoints>& points,
              std::array<double, kJoints>& confidence) {
    std::array<Point2, kJoints> base = truth;
    const std::array<bool, kJoints> swapped = swap_sides(base);
    for (int j = 0; j < kJoints; ++j) points[j] = joint(j, base[j], swapped[j], t, confidence[j]);
  }

 private:
  // Event rates grow with the strength too (capped), so one knob makes the detector worse.
  double rate(double r) const { return std::min(0.5, r * strength_); }

  std::array<bool, kJoints> swap_sides(std::array<Point2, kJoints>& base) {
    if (swap_left_ == 0 && strength_ > 0.0 && rng_.chance(rate(options_.swap_rate))) {
      swap_left_ = rng_.episode_length(options_.swap_frames);
      swap_group_ = static_cast<int>(rng_.below(2));
    }
    std::array<bool, kJoints> swapped{};
    if (swap_left_ > 0) {
      for (const auto& pair : kSwapGroups[swap_group_]) {
        std::swap(base[pair[0]], base[pair[1]]);
        swapped[pair[0]] = swapped[pair[1]] = true;
      }
      --swap_left_;
    }
    return swapped;
  }

  Point2 joint(int j, const Point2& base, bool swapped, std::int64_t t, double& confidence) {
    const double sigma = options_.joint_sigma[j] * pixel_scale_;
    state_[j].x = rho_ * state_[j].x + innovation_ * rng_.normal();
    state_[j].y = rho_ * state_[j].y + innovation_ * rng_.normal();
    const Point2 jitter{sigma * (correlated_ * state_[j].x + white_ * rng_.normal()),
                        sigma * (correlated_ * state_[j].y + white_ * rng_.normal())};
    Point2 p{base.x + bias_[j].x + jitter.x, base.y + bias_[j].y + jitter.y};
    const double jitter_size = std::hypot(jitter.x, jitter.y);
    confidence = rng_.uniform(0.85, 1.0) * std::exp(-0.5 * std::pow(jitter_size / (3.0 * sigma + 1e-9), 2.0));
    if (swapped) {
      confidence = rng_.uniform(0.3, 0.7);
      ++stats_.swapped_points;
    }
    if (outlier_left_[j] == 0 && strength_ > 0.0 && rng_.chance(rate(options_.outlier_rate))) {
      outlier_left_[j] = rng_.episode_length(options_.outlier_frames);
      const double spread = options_.outlier_sigma * person_ * strength_;
      outlier_offset_[j] = {rng_.normal() * spread, rng_.normal() * spread};
    }
    if (outlier_left_[j] > 0) {
      p.x += outlier_offset_[j].x;
      p.y += outlier_offset_[j].y;
      confidence = rng_.uniform(0.2, 0.6);
      --outlier_left_[j];
      ++stats_.outlier_points;
    }
    if (miss_left_[j] == 0 && t > 0 && strength_ > 0.0 && rng_.chance(rate(options_.miss_rate))) {
      miss_left_[j] = rng_.episode_length(options_.miss_frames);
      held_[j] = last_[j];
    }
    if (miss_left_[j] > 0) {
      p = {held_[j].x + jitter.x, held_[j].y + jitter.y};
      confidence = rng_.uniform(0.0, 0.1);
      --miss_left_[j];
      ++stats_.missed_points;
    }
    if (strength_ == 0.0) confidence = 1.0;
    last_[j] = p;
    return p;
  }

  const DetectorNoiseOptions& options_;
  Rng rng_;
  NoiseStatistics& stats_;
  const double strength_, person_, pixel_scale_;
  const double rho_, innovation_, correlated_, white_;  // AR(1) coefficient and the mix of jitter
  std::array<Point2, kJoints> bias_{}, state_{}, outlier_offset_{}, held_{}, last_{};
  std::array<int, kJoints> outlier_left_{}, miss_left_{};
  int swap_left_ = 0, swap_group_ = 0;
};

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

  DetectorSimulator detector(options, fps, seed, median_person_size(xy, frames), stats);
  double error_sum = 0.0;
  for (std::int64_t t = 0; t < frames; ++t) {
    std::array<Point2, kJoints> truth{}, points{};
    std::array<double, kJoints> confidence{};
    for (int j = 0; j < kJoints; ++j)
      truth[j] = {xy[static_cast<std::size_t>((t * kJoints + j) * 2)], xy[static_cast<std::size_t>((t * kJoints + j) * 2 + 1)]};
    detector.detect(t, truth, points, confidence);
    for (int j = 0; j < kJoints; ++j) {
      float* o = result + (t * kJoints + j) * out_channels;
      o[0] = static_cast<float>(points[j].x);
      o[1] = static_cast<float>(points[j].y);
      if (options.confidence) o[2] = static_cast<float>(std::clamp(confidence[j], 0.0, 1.0));
      error_sum += std::hypot(static_cast<double>(o[0]) - truth[j].x, static_cast<double>(o[1]) - truth[j].y);
    }
  }
  stats.mean_error_px = error_sum / static_cast<double>(stats.points);
  if (statistics) *statistics = stats;
  return out;
}

}  // namespace poselift::mocap
