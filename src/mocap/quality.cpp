#include "mocap/quality.hpp"

#include <algorithm>
#include <cmath>

namespace poselift::mocap {

double quantile(std::vector<double> values, double q) {
  // NaN would break std::sort's ordering; infinities sort fine but are dropped alike.
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (values[above] - values[below]) * (position - static_cast<double>(below));
}

BoneLengthStats bone_length_stats(const std::vector<Vec3>& positions) {
  BoneLengthStats stats;
  const std::size_t frames = positions.size() / h36m::kJoints;
  if (frames == 0) return stats;
  for (int child = 1; child < h36m::kJoints; ++child) {
    const int parent = h36m::parents()[static_cast<std::size_t>(child)];
    double sum = 0.0, sum_sq = 0.0;
    for (std::size_t f = 0; f < frames; ++f) {
      const double length = norm(positions[f * h36m::kJoints + static_cast<std::size_t>(child)] -
                                 positions[f * h36m::kJoints + static_cast<std::size_t>(parent)]);
      sum += length;
      sum_sq += length * length;
    }
    const double mean = sum / static_cast<double>(frames);
    stats.mean[static_cast<std::size_t>(child)] = mean;
    stats.stddev[static_cast<std::size_t>(child)] =
        std::sqrt(std::max(0.0, sum_sq / static_cast<double>(frames) - mean * mean));
  }
  return stats;
}

double standing_height(const std::vector<Vec3>& positions) {
  const std::size_t frames = positions.size() / h36m::kJoints;
  if (frames == 0) return 0.0;
  auto median_distance = [&](auto&& first, auto&& second) {
    std::vector<double> lengths(frames);
    for (std::size_t f = 0; f < frames; ++f) {
      const Vec3* pose = &positions[f * h36m::kJoints];
      lengths[f] = norm(first(pose) - second(pose));
    }
    return quantile(std::move(lengths), 0.5);
  };
  auto joint = [](int j) { return [j](const Vec3* pose) { return pose[j]; }; };
  const auto hip_centre = [](const Vec3* pose) { return lerp(pose[1], pose[4], 0.5); };
  const double legs = 0.5 * (median_distance(joint(1), joint(2)) + median_distance(joint(2), joint(3)) +
                             median_distance(joint(4), joint(5)) + median_distance(joint(5), joint(6)));
  const double trunk = median_distance(joint(0), hip_centre) + median_distance(joint(0), joint(7)) +
                       median_distance(joint(7), joint(8)) + median_distance(joint(8), joint(9)) +
                       median_distance(joint(9), joint(10));
  return kAnkleHeight + legs + trunk;
}

double median_lowest_ankle_height(const std::vector<Vec3>& positions) {
  const std::size_t frames = positions.size() / h36m::kJoints;
  std::vector<double> lowest(frames);
  for (std::size_t f = 0; f < frames; ++f)
    lowest[f] = std::min(positions[f * h36m::kJoints + 3].z, positions[f * h36m::kJoints + 6].z);
  return quantile(std::move(lowest), 0.5);
}

double fraction_inside_image(const io::NdArray& pixels, int res_w, int res_h) {
  if (pixels.shape.empty() || pixels.shape.back() < 2 || pixels.numel() == 0) return 0.0;
  const std::vector<double> values = pixels.to_doubles();
  const auto channels = static_cast<std::size_t>(pixels.shape.back());
  std::size_t inside = 0, total = 0;
  for (std::size_t i = 0; i + 1 < values.size(); i += channels, ++total) {
    const double x = values[i], y = values[i + 1];
    if (x >= 0.0 && x < res_w && y >= 0.0 && y < res_h) ++inside;
  }
  return static_cast<double>(inside) / static_cast<double>(total);
}

}  // namespace poselift::mocap
