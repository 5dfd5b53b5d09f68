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

#include "wild/detections.hpp"

namespace poselift::wild {

constexpr int kH36mJoints = 17;
using H36mPose = std::array<Keypoint, kH36mJoints>;

// Joint names in Human3.6M-17 order (pelvis, r_hip, ..., r_wrist).
const std::array<const char*, kH36mJoints>& h36m_joint_names();
// Parents in the same order (-1 for the pelvis): data::h36m_skeleton_17()'s hierarchy.
const std::array<int, kH36mJoints>& h36m_parents();

// `keypoints` in `layout` (layout_joint_count entries) -> Human3.6M-17. Missing joints get
// confidence 0 and coordinates (0, 0).
H36mPose to_h36m(const std::vector<Keypoint>& keypoints, Layout layout, float min_confidence);

}  // namespace poselift::wild
