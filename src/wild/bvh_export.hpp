// BVH export of lifted poses: joint rotations on a fixed-length Human3.6M skeleton found by
// inverse kinematics, so the motion opens in Blender, MotionBuilder or a game engine.
//
// Skeleton: the 17 joints under CMU-like names (Hips, RightUpLeg, RightLeg, RightFoot, ...,
// Spine, Thorax, Neck, Head, LeftArm, ...); where a joint has several children (pelvis,
// thorax), zero-length "...Joint" bones (RightHipJoint, LeftShoulderJoint, ...) give each
// child its own rotation so every joint lands where the poses put it. Rest pose: a T-pose
// facing +z, y up, left arm along +x. Units: metres.
//
// Coordinates: camera space (x right, y down, z away from the camera) becomes y up by a
// rotation of 180 degrees about x: (x, y, z) -> (x, -y, -z). Poses are made root-relative and
// lifted so that the lower ankle is on average at y = 0 (median over the sequence); the root
// (Hips) stays at x = z = 0 or follows BvhOptions::root_motion.
//
// Inverse kinematics, per frame: the pelvis and the thorax get the rotation that aligns
// their rest frame (spine or neck direction, then the left-right axis) with the pose's; every
// other joint gets the smallest rotation, relative to its parent's, that points its bone at
// its child. Twist about a bone is therefore the parent's (hands and feet carry no rotation
// of their own; the poses say nothing about them). Channels: Zrotation Xrotation Yrotation
// (degrees), position channels on the root.
//
// Bone lengths are fixed over the sequence:
//   median (default): each bone's median length over the sequence: positions are reproduced
//                     exactly when the poses have rigid bones;
//   h36m:             Human3.6M's average proportions, scaled so the summed bone length
//                     equals the sequence's summed median lengths.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "mocap/geometry.hpp"
#include "wild/layouts.hpp"

namespace poselift::wild {

enum class BoneLengths { Median, H36mAverage };

// "median" or "h36m"; InputError naming `what` otherwise.
BoneLengths parse_bone_lengths(const std::string& name, const std::string& what);

struct BvhOptions {
  BoneLengths bones = BoneLengths::Median;
  double fps = 30.0;
  // The root's camera-space positions (metres), one per frame, or empty. Given, the Hips
  // translate by them (y up as the poses; the first frame's horizontal position at the origin,
  // the median height at the ankle rule's); else the root stays at x = z = 0.
  std::vector<mocap::Vec3> root_motion;
};

using Pose3D = std::array<mocap::Vec3, h36m::kJoints>;

// The BVH joint that sits at each Human3.6M joint (names in Human3.6M order).
const std::array<const char*, h36m::kJoints>& bvh_joint_names();

// Approximate Human3.6M average bone lengths (metres), indexed by the child joint (pelvis: 0).
const std::array<double, h36m::kJoints>& h36m_average_bone_lengths();

// `poses`: camera-space positions in metres (root-relative or not), one per frame. Throws
// InputError when empty or not finite.
std::string bvh_text(const std::vector<Pose3D>& poses, const BvhOptions& options);

}  // namespace poselift::wild
