// The animation skeleton that the BVH and glTF exports share: the 17 Human3.6M joints under
// CMU-like names (Hips, RightUpLeg, RightLeg, RightFoot, ..., Spine, Thorax, Neck, Head,
// LeftArm, ...), with zero-length "...Joint" branch bones (RightHipJoint, LeftShoulderJoint,
// ...) where a joint has several children (pelvis, thorax), so that every child gets its own
// rotation and every joint lands where the poses put it.
//
// Rest pose: a T-pose facing +z, y up, the figure's left arm along +x, in metres, before the
// output axes (RigOptions::up / forward) turn it.
//
// Input poses are in the world frame of motion/world.hpp: y up, the floor at y = 0, the figure
// facing the camera along +z. The rotations come from inverse kinematics, per frame:
// - the pelvis and the thorax get the rotation that aligns their rest frame with the pose's
//   (the spine or neck direction, then the left-right axis);
// - with `hinge_twist` (the default), the thigh and the upper arm are turned about their own
//   bone so the knee and the elbow bend about their anatomical hinge (knee: the rest x axis, the
//   shin folding backwards; elbow: the upper arm's rest y axis, the forearm folding forwards);
//   this twist fades in with the bend (straight limbs leave it undefined) and the shins and
//   forearms then need no twist of their own;
// - every other joint gets the smallest rotation, relative to its parent's, that points its
//   bone at its child.
// Hands and feet carry no rotation of their own: the poses say nothing about them.
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

// A signed coordinate axis of the output: +x, -x, +y, -y, +z, -z.
struct Axis {
  int index = 1;  // 0 x, 1 y, 2 z
  int sign = 1;
  mocap::Vec3 vector() const;
};
// "+x", "x", "-y", ...; InputError naming `what` otherwise.
Axis parse_axis(const std::string& name, const std::string& what);

struct RigOptions {
  BoneLengths bones = BoneLengths::Median;
  double fps = 30.0;
  // Output axes: where the world's up and the figure's forward go. y up / +z forward is the
  // BVH convention (Blender's BVH importer reads it upright, facing the front view); z up /
  // -y forward is Blender's own. glTF requires y up / +z forward.
  Axis up{1, 1};
  Axis forward{2, 1};
  bool hinge_twist = true;
};

// up and forward perpendicular; InputError naming --up / --forward otherwise.
void validate_axes(const RigOptions& options);

struct RigJoint {
  std::string name;
  int parent = -1;       // index into RigAnimation::joints; -1 for the root (Hips)
  int h36m = -1;         // the Human3.6M joint it sits at; -1 for the zero-length branch joints
  mocap::Vec3 offset;    // rest offset from the parent, metres, output axes
  mocap::Vec3 end_site;  // non-zero: the end of a terminal bone (foot, hand, head), output axes
};

struct RigAnimation {
  std::vector<RigJoint> joints;  // parents before children, in depth-first order
  double fps = 30.0;
  // Per frame, output axes, metres: the root's position, and every joint's rotation relative
  // to its parent's frame (the rest pose is all identity rotations). A joint's world position
  // is its parent's plus the parent's world rotation applied to its offset.
  std::vector<mocap::Vec3> root_positions;
  std::vector<std::vector<mocap::Quat>> rotations;  // [frame][joint]
};

using Pose3D = std::array<mocap::Vec3, h36m::kJoints>;

// The BVH joint that sits at each Human3.6M joint (names in Human3.6M order).
const std::array<const char*, h36m::kJoints>& rig_joint_names();

// Approximate Human3.6M average bone lengths (metres), indexed by the child joint (pelvis: 0).
const std::array<double, h36m::kJoints>& h36m_average_bone_lengths();

// `world_poses`: world-frame positions (y up, metres), one per frame. Throws InputError when
// empty or not finite.
RigAnimation animate_rig(const std::vector<Pose3D>& world_poses, const RigOptions& options);

// Every joint's world position (output axes) at frame `t`, by forward kinematics.
std::vector<mocap::Vec3> rig_positions(const RigAnimation& animation, std::size_t t);

}  // namespace poselift::wild
