// Kinematic skeletons (joint hierarchy + left/right symmetry) of the supported datasets.
#pragma once

#include <vector>

namespace poselift::data {

class Skeleton {
 public:
  Skeleton() = default;
  // `parents[j]` is the parent of joint j (-1 for the root). The left and right lists name
  // mirrored joints pairwise and must have the same length.
  Skeleton(std::vector<int> parents, std::vector<int> joints_left, std::vector<int> joints_right);

  int num_joints() const { return static_cast<int>(parents_.size()); }
  const std::vector<int>& parents() const { return parents_; }
  const std::vector<int>& joints_left() const { return joints_left_; }
  const std::vector<int>& joints_right() const { return joints_right_; }
  std::vector<std::vector<int>> children() const;
  bool has_children(int joint) const;

  // Drops joints the way VideoPose3D's Skeleton.remove_joints does: a removed joint's
  // children are re-attached to its nearest kept ancestor, the kept joints are renumbered in
  // order, and removed joints disappear from the left/right lists. Returns the kept joints'
  // old indices (in order), i.e. the columns to keep from position arrays.
  std::vector<int> remove_joints(const std::vector<int>& joints_to_remove);

  // Re-parents one joint (used to rewire the Human3.6M shoulders after the reduction).
  void set_parent(int joint, int parent);

 private:
  std::vector<int> parents_;
  std::vector<int> joints_left_;
  std::vector<int> joints_right_;
};

// The full 32-joint Human3.6M skeleton as recorded.
Skeleton h36m_skeleton();
// The 15 joints that never move relative to their parent in Human3.6M; removing them gives
// the 17-joint skeleton every 2D detector layout of VideoPose3D / PoseFormer uses.
const std::vector<int>& h36m_static_joints();
// h36m_skeleton() without the static joints, shoulders (11, 14) re-parented to the thorax (8).
Skeleton h36m_skeleton_17();
// Finishes the Human3.6M reduction on a 32-joint skeleton: removes the static joints and
// rewires the shoulders. Returns the kept joints' old indices.
std::vector<int> reduce_h36m_skeleton(Skeleton& skeleton);

// The 15-joint HumanEva-I skeleton.
Skeleton humaneva_skeleton();

}  // namespace poselift::data
