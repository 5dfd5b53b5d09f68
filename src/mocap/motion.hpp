// Skeletal motion as the BVH and ASF/AMC readers produce it: a joint hierarchy with rest
// offsets plus per-frame local rotations/translations, and the forward kinematics that turns
// it into world positions.
//
// Convention shared by both formats: in the rest pose every joint's frame is aligned with the
// world axes, so a joint's world rotation maps rest-pose (global) directions to the current
// pose, and world position = parent position + parent world rotation * local translation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mocap/geometry.hpp"
#include "mocap/text_file.hpp"

namespace poselift::mocap {

// Bounds that keep a small or hostile file from making a reader allocate or recurse without
// limit. Frame counts are also checked against the bytes actually present.
struct ReadLimits {
  std::size_t max_text_bytes = kDefaultMaxTextBytes;  // after gunzip
  int max_joints = 4096;
  int max_depth = 256;  // hierarchy nesting (real rigs: < 20)
  std::int64_t max_frames = 10'000'000;  // 23 hours at 120 fps
  // Frames x joints stored: each costs 56 bytes here and as much again in forward kinematics, so
  // 2^23 (150 joints at 60 fps for 15 minutes; CMU clips need < 10^6) bounds a clip to about
  // 1 GB whatever its text.
  std::int64_t max_joint_frames = std::int64_t{1} << 23;
};

// Joint-frames a reader may store for `text_bytes` of text: what the text can plausibly
// describe (joints without channels take storage in every frame, so the file size alone does
// not bound it), capped by limits.max_joint_frames.
inline double joint_frame_budget(std::size_t text_bytes, const ReadLimits& limits) {
  const double by_text = 4.0 * static_cast<double>(text_bytes) + 1e6;
  const double cap = static_cast<double>(limits.max_joint_frames);
  return by_text < cap ? by_text : cap;
}

// The end of the message for a motion past joint_frame_budget.
inline std::string joint_frame_excess(std::size_t text_bytes, const ReadLimits& limits) {
  const double by_text = 4.0 * static_cast<double>(text_bytes) + 1e6;
  if (by_text < static_cast<double>(limits.max_joint_frames))
    return "the motion is out of proportion to the file size (more than " +
           std::to_string(static_cast<std::int64_t>(by_text)) + " joint-frames)";
  return "more than " + std::to_string(limits.max_joint_frames) + " joint-frames, the limit for one clip";
}

struct RigJoint {
  std::string name;
  int parent = -1;  // index of the parent joint, -1 for the root
  Vec3 offset;      // rest position relative to the parent joint, source units
  bool animated_translation = false;  // the motion sets its translation (position channels)
};

// A leaf point carried by a joint (BVH "End Site", the far end of an ASF bone). Named
// "<joint>.end" ("<joint>.end2", ... when a joint has several).
struct RigEndSite {
  std::string name;
  int joint = 0;
  Vec3 offset;  // in the joint's frame, source units
};

struct Rig {
  std::vector<RigJoint> joints;  // parents always precede their children
  std::vector<RigEndSite> end_sites;

  int find_joint(const std::string& name) const;  // -1 when absent
  // Points are the joints followed by the end sites.
  int point_count() const { return static_cast<int>(joints.size() + end_sites.size()); }
  const std::string& point_name(int point) const;
  int find_point(const std::string& name) const;  // -1 when absent
  // The joint a point moves with (the joint itself, or an end site's joint).
  int point_joint(int point) const;
};

struct SkeletalMotion {
  std::string source;  // file(s) read, for messages
  std::string format;  // "bvh" or "asf/amc"
  Rig rig;
  double fps = 0.0;
  std::int64_t frames = 0;
  // Declared by the file (ASF `:units length`); BVH files have no unit declaration.
  std::optional<double> metres_per_unit;
  // frames x joints, frame-major: the rotation of each joint relative to its parent and the
  // translation from the parent (the rest offset unless position channels animate it).
  std::vector<Quat> local_rotations;
  std::vector<Vec3> local_translations;

  std::size_t index(std::int64_t frame, int joint) const {
    return static_cast<std::size_t>(frame) * rig.joints.size() + static_cast<std::size_t>(joint);
  }
};

// World positions of every rig point and world rotations of every joint, per frame.
struct PointTracks {
  std::vector<std::string> names;  // Rig point names
  int joint_count = 0;
  double fps = 0.0;
  std::int64_t frames = 0;
  std::vector<Vec3> positions;        // frames x points
  std::vector<Quat> joint_rotations;  // frames x joints

  int point_count() const { return static_cast<int>(names.size()); }
  const Vec3& position(std::int64_t frame, int point) const {
    return positions[static_cast<std::size_t>(frame) * names.size() + static_cast<std::size_t>(point)];
  }
  const Quat& rotation(std::int64_t frame, int joint) const {
    return joint_rotations[static_cast<std::size_t>(frame) * static_cast<std::size_t>(joint_count) +
                           static_cast<std::size_t>(joint)];
  }
};

PointTracks forward_kinematics(const SkeletalMotion& motion);

// Number of frames covering the same time span at `target_fps` (first frame kept at t = 0).
std::int64_t resampled_frame_count(std::int64_t frames, double source_fps, double target_fps);

// Resamples the joint-local motion to `target_fps`: rotations by spherical interpolation and
// translations linearly between the two nearest source frames. Interpolating before forward
// kinematics keeps every bone exactly rigid (interpolating world positions would shorten
// fast-turning limbs).
SkeletalMotion resample_motion(const SkeletalMotion& motion, double target_fps);

}  // namespace poselift::mocap
