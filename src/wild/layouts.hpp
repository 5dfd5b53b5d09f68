// Conversion of detector keypoint layouts to the 17 Human3.6M joints PoseFormer takes.
//
// Rules (L/R = the person's left/right; a point with confidence below the threshold counts
// as missing; a derived joint is missing when any point it needs is, and takes the lowest
// confidence of the points it uses):
//   limbs        hips, knees, ankles, shoulders, elbows, wrists: the detector's points
//   pelvis       BODY_25 MidHip, else the midpoint of the two hips
//   thorax       the midpoint of the two shoulders, else OpenPose's Neck (COCO-18/BODY_25)
//   spine        the midpoint of pelvis and thorax (Human3.6M's spine joint splits that
//                segment at 0.48)
//   neck/nose    the nose
//   head (top)   c + 0.9 (c - thorax), c = the midpoint of the ears, else of the eyes, else the
//                nose: the vertex lies about as far above the ears as the ears lie above the
//                neck base (Human3.6M averages: thorax -> ear level ~0.13 m, ear -> vertex ~0.12 m)
//   h36m         taken as it is
#pragma once

#include <array>
#include <string>
#include <vector>

#include "data/h36m.hpp"
#include "wild/detections.hpp"

namespace poselift::wild {

// The Human3.6M-17 table: data/h36m.hpp (names as `infer` writes them:
// data::h36m::short_joint_names()).
namespace h36m = data::h36m;

inline constexpr int kH36mJoints = h36m::kJoints;
using H36mPose = std::array<Keypoint, kH36mJoints>;

// `keypoints` in `layout` (layout_joint_count entries) -> Human3.6M-17. Missing joints get
// confidence 0 and coordinates (0, 0).
H36mPose to_h36m(const std::vector<Keypoint>& keypoints, Layout layout, float min_confidence);

}  // namespace poselift::wild
