// The 17-joint Human3.6M skeleton that VideoPose3D and PoseFormer use: one table of joint
// indices, names, parents and left/right symmetry for every module (data, mocap, wild, engine).
//
// Order: 0 pelvis, 1 r hip, 2 r knee, 3 r ankle, 4 l hip, 5 l knee, 6 l ankle, 7 spine,
// 8 thorax, 9 neck/nose, 10 head top, 11 l shoulder, 12 l elbow, 13 l wrist, 14 r shoulder,
// 15 r elbow, 16 r wrist. It is h36m_skeleton() reduced by VideoPose3D's rule
// (data/skeleton.hpp: h36m_skeleton_17() equals this table).
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace poselift::data::h36m {

inline constexpr int kJoints = 17;

enum Joint : int {
  kPelvis, kRHip, kRKnee, kRAnkle, kLHip, kLKnee, kLAnkle, kSpine, kThorax, kNeck, kHeadTop,
  kLShoulder, kLElbow, kLWrist, kRShoulder, kRElbow, kRWrist
};

// Joint names in order, as JSON mapping files and the mocap importer's messages spell them
// ("head_top" for joint 10).
const std::array<const char*, kJoints>& joint_names();
// The same names with joint 10 spelled "head": what `infer`'s exports (JSON "joints") and its
// messages write.
const std::array<const char*, kJoints>& short_joint_names();
// Other names accepted on input for a joint: "nose" (9) and "head" (10).
struct JointAlias {
  const char* name;
  int joint;
};
const std::array<JointAlias, 2>& joint_aliases();
// The joint a name (joint_names() or an alias) denotes.
std::optional<int> find_joint(std::string_view name);

// Parent of each joint (-1 for the pelvis): the 16 bones.
const std::array<int, kJoints>& parents();

// Mirror pairs for flip augmentation: joints_left()[i] and joints_right()[i] swap. The 2D
// keypoints of the 17-joint layout (keypoints_symmetry of data_2d files) use the same lists.
const std::vector<int>& joints_left();   // 4, 5, 6, 11, 12, 13
const std::vector<int>& joints_right();  // 1, 2, 3, 14, 15, 16

}  // namespace poselift::data::h36m
