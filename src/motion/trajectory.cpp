#include "motion/trajectory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "io/error.hpp"

namespace poselift::motion {

PinholeCamera camera_for_image(int width, int height, double focal_px, double fov_degrees) {
  if (width <= 0 || height <= 0) throw InputError(fmt::format("image size {}x{}: expected pixels above 0", width, height));
  PinholeCamera c;
  c.cx = width / 2.0;
  c.cy = height / 2.0;
  if (focal_px != 0.0) {
    if (!(std::isfinite(focal_px) && focal_px > 0.0 && focal_px < 1e7))
      throw InputError(fmt::format("--focal: expected a focal length in pixels above 0, found {}", focal_px));
    c.focal = focal_px;
  } else {
    if (!(std::isfinite(fov_degrees) && fov_degrees >= 1.0 && fov_degrees <= 170.0))
      throw InputError(fmt::format("--fov: expected a field of view of 1 to 170 degrees, found {}", fov_degrees));
    c.focal = 0.5 * std::max(width, height) / std::tan(0.5 * fov_degrees * M_PI / 180.0);
  }
  return c;
}

namespace {

// Solves the symmetric 3x3 system m t = r; false when it is (nearly) singular.
bool solve3(std::array<double, 9> m, std::array<double, 3> r, std::array<double, 3>& t) {
  const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                     m[2] * (m[3] * m[7] - m[4] * m[6]);
  const double scale = std::abs(m[0] * m[4] * m[8]) + 1e-300;
  if (!(std::abs(det) > 1e-12 * scale)) return false;
  const auto col = [&](int k) {
    std::array<double, 9> a = m;
    for (int i = 0; i < 3; ++i) a[i * 3 + k] = r[i];
    return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
  };
  for (int k = 0; k < 3; ++k) t[k] = col(k) / det;
  return std::isfinite(t[0]) && std::isfinite(t[1]) && std::isfinite(t[2]);
}

}  // namespace

std::vector<float> root_trajectory(const std::vector<float>& positions, const std::vector<float>& keypoints,
                                   const std::vector<float>& scores, std::int64_t T, std::int64_t J,
                                   const PinholeCamera& camera) {
  const auto n = static_cast<std::size_t>(T) * static_cast<std::size_t>(J);
  if (T < 0 || J < 1 || positions.size() != n * 3 || keypoints.size() != n * 2 || scores.size() != n)
    throw std::invalid_argument("root_trajectory: positions, keypoints and scores do not hold T x J joints");
  if (!(camera.focal > 0.0)) throw std::invalid_argument("root_trajectory: focal length must be positive");
  std::vector<float> out(static_cast<std::size_t>(T) * 3, 0.0f);
  std::vector<bool> solved(static_cast<std::size_t>(T), false);
  for (std::int64_t t = 0; t < T; ++t) {
    std::array<double, 9> m{};
    std::array<double, 3> r{};
    for (std::int64_t j = 0; j < J; ++j) {
      const std::size_t i = static_cast<std::size_t>(t * J + j);
      const double w = 0.1 + std::max(0.0f, std::min(1.0f, scores[i]));
      const double X = positions[i * 3], Y = positions[i * 3 + 1], Z = positions[i * 3 + 2];
      const double x = (keypoints[i * 2] - camera.cx) / camera.focal, y = (keypoints[i * 2 + 1] - camera.cy) / camera.focal;
      // Rows (1, 0, -x) . t = x Z - X and (0, 1, -y) . t = y Z - Y.
      const double rows[2][4] = {{1.0, 0.0, -x, x * Z - X}, {0.0, 1.0, -y, y * Z - Y}};
      for (const auto& row : rows)
        for (int a = 0; a < 3; ++a) {
          for (int b = 0; b < 3; ++b) m[a * 3 + b] += w * row[a] * row[b];
          r[a] += w * row[a] * row[3];
        }
    }
    std::array<double, 3> root{};
    if (solve3(m, r, root) && root[2] > 0.0) {
      for (int c = 0; c < 3; ++c) out[static_cast<std::size_t>(t) * 3 + c] = static_cast<float>(root[c]);
      solved[static_cast<std::size_t>(t)] = true;
    }
  }
  // Unsolved frames hold the last good position (the first good one before any).
  std::int64_t first = 0;
  while (first < T && !solved[static_cast<std::size_t>(first)]) ++first;
  for (std::int64_t t = 0; t < T; ++t) {
    if (solved[static_cast<std::size_t>(t)]) continue;
    const std::int64_t from = t < first ? first : t - 1;
    if (from >= T) break;  // no frame solved: zeros
    for (int c = 0; c < 3; ++c) out[static_cast<std::size_t>(t) * 3 + c] = out[static_cast<std::size_t>(from) * 3 + c];
  }
  return out;
}

double standing_height(const std::vector<float>& positions, std::int64_t frames) {
  constexpr std::int64_t J = 17;
  if (frames < 0 || positions.size() != static_cast<std::size_t>(frames) * J * 3)
    throw std::invalid_argument("standing_height: positions do not hold T x 17 joints");
  if (frames == 0) return 0.0;
  std::vector<double> heights;
  heights.reserve(static_cast<std::size_t>(frames));
  for (std::int64_t t = 0; t < frames; ++t) {
    const float* p = &positions[static_cast<std::size_t>(t * J * 3)];
    auto bone = [p](int a, int b) {
      double d2 = 0.0;
      for (int c = 0; c < 3; ++c) d2 += double(p[a * 3 + c] - p[b * 3 + c]) * double(p[a * 3 + c] - p[b * 3 + c]);
      return std::sqrt(d2);
    };
    // Human3.6M-17: 0 pelvis, 1-3 right hip/knee/ankle, 4-6 left, 7 spine, 8 thorax, 10 head top.
    const double legs = 0.5 * (bone(1, 2) + bone(2, 3) + bone(4, 5) + bone(5, 6));
    heights.push_back(legs + bone(0, 7) + bone(7, 8) + bone(8, 10));
  }
  std::nth_element(heights.begin(), heights.begin() + static_cast<std::ptrdiff_t>(heights.size() / 2), heights.end());
  return heights[heights.size() / 2] + kAnkleAboveFloor;
}

}  // namespace poselift::motion
