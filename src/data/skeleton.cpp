#include "data/skeleton.hpp"

#include <algorithm>
#include <string>

#include "data/h36m.hpp"
#include "io/error.hpp"

namespace poselift::data {

namespace {

bool contains(const std::vector<int>& values, int value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

void check_joint(int joint, int num_joints, const char* what) {
  if (joint < 0 || joint >= num_joints)
    throw InputError(std::string("skeleton: ") + what + " " + std::to_string(joint) +
                     " is outside 0.." + std::to_string(num_joints - 1));
}

}  // namespace

Skeleton::Skeleton(std::vector<int> parents, std::vector<int> joints_left, std::vector<int> joints_right)
    : parents_(std::move(parents)), joints_left_(std::move(joints_left)), joints_right_(std::move(joints_right)) {
  if (joints_left_.size() != joints_right_.size())
    throw InputError("skeleton: " + std::to_string(joints_left_.size()) + " left joints but " +
                     std::to_string(joints_right_.size()) + " right joints (they must pair up)");
  const int n = num_joints();
  for (int j = 0; j < n; ++j)
    if (parents_[j] != -1) check_joint(parents_[j], n, "parent");
  for (int j : joints_left_) check_joint(j, n, "left joint");
  for (int j : joints_right_) check_joint(j, n, "right joint");
}

std::vector<std::vector<int>> Skeleton::children() const {
  std::vector<std::vector<int>> result(parents_.size());
  for (int j = 0; j < num_joints(); ++j)
    if (parents_[j] != -1) result[parents_[j]].push_back(j);
  return result;
}

bool Skeleton::has_children(int joint) const {
  return contains(parents_, joint);
}

std::vector<int> Skeleton::remove_joints(const std::vector<int>& joints_to_remove) {
  const int n = num_joints();
  for (int j : joints_to_remove) check_joint(j, n, "joint to remove");

  std::vector<int> kept;
  std::vector<int> new_index(n, -1);
  for (int j = 0; j < n; ++j) {
    if (contains(joints_to_remove, j)) continue;
    new_index[j] = static_cast<int>(kept.size());
    kept.push_back(j);
  }

  // Climb past removed ancestors first (old numbering), then renumber.
  std::vector<int> new_parents;
  for (int j : kept) {
    int parent = parents_[j];
    while (parent != -1 && contains(joints_to_remove, parent)) parent = parents_[parent];
    new_parents.push_back(parent == -1 ? -1 : new_index[parent]);
  }
  parents_ = std::move(new_parents);

  auto renumber = [&](const std::vector<int>& joints) {
    std::vector<int> result;
    for (int j : joints)
      if (new_index[j] != -1) result.push_back(new_index[j]);
    return result;
  };
  joints_left_ = renumber(joints_left_);
  joints_right_ = renumber(joints_right_);
  return kept;
}

void Skeleton::set_parent(int joint, int parent) {
  check_joint(joint, num_joints(), "joint");
  if (parent != -1) check_joint(parent, num_joints(), "parent");
  parents_[joint] = parent;
}

Skeleton h36m_skeleton() {
  return Skeleton({-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12,
                   16, 17, 18, 19, 20, 19, 22, 12, 24, 25, 26, 27, 28, 27, 30},
                  {6, 7, 8, 9, 10, 16, 17, 18, 19, 20, 21, 22, 23},
                  {1, 2, 3, 4, 5, 24, 25, 26, 27, 28, 29, 30, 31});
}

const std::vector<int>& h36m_static_joints() {
  static const std::vector<int> joints = {4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31};
  return joints;
}

std::vector<int> reduce_h36m_skeleton(Skeleton& skeleton) {
  std::vector<int> kept = skeleton.remove_joints(h36m_static_joints());
  // The removal leaves both shoulders under the spine (7); VideoPose3D attaches them to the thorax.
  skeleton.set_parent(h36m::kLShoulder, h36m::kThorax);
  skeleton.set_parent(h36m::kRShoulder, h36m::kThorax);
  return kept;
}

Skeleton h36m_skeleton_17() {
  Skeleton skeleton = h36m_skeleton();
  reduce_h36m_skeleton(skeleton);
  return skeleton;
}

Skeleton humaneva_skeleton() {
  return Skeleton({-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1},
                  {2, 3, 4, 8, 9, 10},
                  {5, 6, 7, 11, 12, 13});
}

}  // namespace poselift::data
