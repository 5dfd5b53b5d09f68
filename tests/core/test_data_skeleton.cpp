#include <gtest/gtest.h>

#include "data/h36m.hpp"
#include "data/skeleton.hpp"
#include "io/error.hpp"

namespace poselift::data {
namespace {

TEST(DataSkeleton, Human36mFullSkeletonHas32Joints) {
  const Skeleton skeleton = h36m_skeleton();
  EXPECT_EQ(skeleton.num_joints(), 32);
  EXPECT_EQ(skeleton.parents()[0], -1);
  EXPECT_EQ(skeleton.joints_left().size(), 13u);
  EXPECT_EQ(skeleton.joints_right().size(), 13u);
}

TEST(DataSkeleton, Human36mReductionGivesTheKnown17JointSkeleton) {
  const Skeleton skeleton = h36m_skeleton_17();
  EXPECT_EQ(skeleton.num_joints(), 17);
  EXPECT_EQ(skeleton.parents(), (std::vector<int>{-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15}));
  EXPECT_EQ(skeleton.joints_left(), (std::vector<int>{4, 5, 6, 11, 12, 13}));
  EXPECT_EQ(skeleton.joints_right(), (std::vector<int>{1, 2, 3, 14, 15, 16}));
}

TEST(DataSkeleton, TheHuman36mTableIsThe32JointReduction) {
  const Skeleton skeleton = h36m_skeleton_17();
  ASSERT_EQ(skeleton.num_joints(), h36m::kJoints);
  EXPECT_EQ(skeleton.parents(), std::vector<int>(h36m::parents().begin(), h36m::parents().end()));
  EXPECT_EQ(skeleton.joints_left(), h36m::joints_left());
  EXPECT_EQ(skeleton.joints_right(), h36m::joints_right());
  EXPECT_EQ(h36m::joint_names().size(), static_cast<std::size_t>(h36m::kJoints));
  EXPECT_STREQ(h36m::joint_names()[h36m::kHeadTop], "head_top");
  EXPECT_STREQ(h36m::short_joint_names()[h36m::kHeadTop], "head");
  for (int j = 0; j < h36m::kJoints; ++j) {
    EXPECT_EQ(h36m::find_joint(h36m::joint_names()[static_cast<std::size_t>(j)]), j);
    EXPECT_EQ(h36m::find_joint(h36m::short_joint_names()[static_cast<std::size_t>(j)]), j);
    if (j != h36m::kHeadTop) {
      EXPECT_STREQ(h36m::joint_names()[static_cast<std::size_t>(j)], h36m::short_joint_names()[static_cast<std::size_t>(j)]);
    }
  }
  EXPECT_EQ(h36m::find_joint("nose"), h36m::kNeck);
  EXPECT_FALSE(h36m::find_joint("tail"));
}

TEST(DataSkeleton, ReductionReturnsTheKeptOriginalJoints) {
  Skeleton skeleton = h36m_skeleton();
  const std::vector<int> kept = reduce_h36m_skeleton(skeleton);
  EXPECT_EQ(kept, (std::vector<int>{0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27}));
  EXPECT_EQ(h36m_static_joints().size(), 15u);
}

TEST(DataSkeleton, RemovingAJointReattachesItsChildrenToTheNearestKeptAncestor) {
  // Chain 0 <- 1 <- 2 <- 3 plus a branch 0 <- 4; remove 1 and 2.
  Skeleton skeleton({-1, 0, 1, 2, 0}, {3}, {4});
  const std::vector<int> kept = skeleton.remove_joints({1, 2});
  EXPECT_EQ(kept, (std::vector<int>{0, 3, 4}));
  EXPECT_EQ(skeleton.parents(), (std::vector<int>{-1, 0, 0}));
  EXPECT_EQ(skeleton.joints_left(), (std::vector<int>{1}));
  EXPECT_EQ(skeleton.joints_right(), (std::vector<int>{2}));
  EXPECT_TRUE(skeleton.has_children(0));
  EXPECT_FALSE(skeleton.has_children(1));
  EXPECT_EQ(skeleton.children()[0], (std::vector<int>{1, 2}));
}

TEST(DataSkeleton, HumanEvaSkeletonHas15Joints) {
  const Skeleton skeleton = humaneva_skeleton();
  EXPECT_EQ(skeleton.num_joints(), 15);
  EXPECT_EQ(skeleton.parents(), (std::vector<int>{-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1}));
  EXPECT_EQ(skeleton.joints_left(), (std::vector<int>{2, 3, 4, 8, 9, 10}));
  EXPECT_EQ(skeleton.joints_right(), (std::vector<int>{5, 6, 7, 11, 12, 13}));
}

TEST(DataSkeleton, RejectsInconsistentDefinitions) {
  EXPECT_THROW(Skeleton({-1, 0}, {1}, {}), InputError);
  EXPECT_THROW(Skeleton({-1, 5}, {}, {}), InputError);
  Skeleton skeleton({-1, 0}, {}, {});
  EXPECT_THROW(skeleton.remove_joints({2}), InputError);
  EXPECT_THROW(skeleton.set_parent(0, 7), InputError);
}

}  // namespace
}  // namespace poselift::data
