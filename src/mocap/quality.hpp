// Plausibility measures for Human3.6M-17 pose sequences (imported or synthetic): bone-length
// stability, standing height, floor contact, image coverage. Used by the prepare reports and
// the tests.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "io/ndarray.hpp"
#include "mocap/geometry.hpp"
#include "mocap/mapping.hpp"

namespace poselift::mocap {

// Human3.6M's ankle joints sit about 8 cm above the sole; added to the skeleton's ankle-to-
// head-top length to estimate a person's standing height.
constexpr double kAnkleHeight = 0.08;

// Value at quantile q in [0, 1] (linear interpolation between order statistics) of the finite
// values; 0 when there are none.
double quantile(std::vector<double> values, double q);

// Per bone (indexed by child joint 1..16; entry 0 unused): mean and standard deviation of its
// length over the frames of `positions` (frames x 17).
struct BoneLengthStats {
  std::array<double, h36m::kJoints> mean{};
  std::array<double, h36m::kJoints> stddev{};
};
BoneLengthStats bone_length_stats(const std::vector<Vec3>& positions);

// Standing height of the skeleton straightened out, independent of the clip's postures:
// kAnkleHeight + shin + thigh (mean of both legs) + pelvis to hip-centre distance + the trunk
// chain pelvis -> spine -> thorax -> neck/nose -> head top, each the median over frames.
// Human3.6M S1: 0.08 + 0.454 + 0.443 + 0 + 0.233 + 0.257 + 0.121 + 0.115 = 1.70 m.
double standing_height(const std::vector<Vec3>& positions);

// Per-frame height of the lower ankle above z = 0, summarised by its median.
double median_lowest_ankle_height(const std::vector<Vec3>& positions);

// Fraction of the (x, y) points of a (..., 2+) pixel array inside [0, w) x [0, h).
double fraction_inside_image(const io::NdArray& pixels, int res_w, int res_h);

}  // namespace poselift::mocap
