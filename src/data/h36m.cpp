#include "data/h36m.hpp"

namespace poselift::data::h36m {

const std::array<const char*, kJoints>& joint_names() {
  static const std::array<const char*, kJoints> names = {
      "pelvis", "r_hip",    "r_knee",     "r_ankle", "l_hip",   "l_knee",     "l_ankle", "spine",  "thorax",
      "neck",   "head_top", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist"};
  return names;
}

const std::array<const char*, kJoints>& short_joint_names() {
  static const std::array<const char*, kJoints> names = [] {
    std::array<const char*, kJoints> out = joint_names();
    out[kHeadTop] = "head";
    return out;
  }();
  return names;
}

const std::array<JointAlias, 2>& joint_aliases() {
  static const std::array<JointAlias, 2> aliases = {JointAlias{"nose", kNeck}, JointAlias{"head", kHeadTop}};
  return aliases;
}

std::optional<int> find_joint(std::string_view name) {
  for (int j = 0; j < kJoints; ++j)
    if (name == joint_names()[static_cast<std::size_t>(j)]) return j;
  for (const JointAlias& alias : joint_aliases())
    if (name == alias.name) return alias.joint;
  return std::nullopt;
}

const std::array<int, kJoints>& parents() {
  static const std::array<int, kJoints> table = {-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15};
  return table;
}

const std::vector<int>& joints_left() {
  static const std::vector<int> joints = {kLHip, kLKnee, kLAnkle, kLShoulder, kLElbow, kLWrist};
  return joints;
}

const std::vector<int>& joints_right() {
  static const std::vector<int> joints = {kRHip, kRKnee, kRAnkle, kRShoulder, kRElbow, kRWrist};
  return joints;
}

}  // namespace poselift::data::h36m
