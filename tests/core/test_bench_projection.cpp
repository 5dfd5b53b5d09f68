// The families table's Human3.6M projection against counts worked out by hand.
#include <gtest/gtest.h>

#include <numeric>

#include "bench/projection.hpp"

namespace poselift::bench {
namespace {

TEST(BenchProjection, ClipsPerSequenceAndWindowsPerFrameWithFlip) {
  // 243 frames: one clip; 244: two (the second padded); 10: one. Flip doubles: 8 forwards.
  const std::vector<std::int64_t> lengths{243, 244, 10};
  EXPECT_EQ(test_set_forwards(lengths, 243, true), 8);
  // One window per output frame: (243 + 244 + 10) x 2.
  EXPECT_EQ(test_set_forwards(lengths, 243, false), 994);
  // 27-frame clips: 9 + 10 + 1 = 20 clips, 40 forwards.
  EXPECT_EQ(test_set_forwards(lengths, 27, true), 40);
  // Empty sequences and a degenerate window add nothing.
  EXPECT_EQ(test_set_forwards({0, 5}, 5, true), 2);
  EXPECT_EQ(test_set_forwards(lengths, 0, true), 0);
  // 8 forwards of 1.8 s: 14.4 s = 0.004 h.
  EXPECT_NEAR(projected_hours(lengths, 243, true, 1.8), 0.004, 1e-15);
}

TEST(BenchProjection, HumanThreeSixMTestSet) {
  const auto lengths = h36m_test_sequence_lengths();
  ASSERT_EQ(lengths.size(), 240u);
  EXPECT_EQ(std::accumulate(lengths.begin(), lengths.end(), std::int64_t{0}), 543344);
  EXPECT_EQ(lengths.front(), 2264);
  EXPECT_EQ(lengths.back(), 2263);
  // 243-frame clips: ceil(2264 / 243) = ceil(2263 / 243) = 10 per sequence, 2400 clips, 4800
  // forwards with flip; at 0.75 s per clip, 3600 s = 1 h.
  EXPECT_EQ(test_set_forwards(lengths, 243, true), 4800);
  EXPECT_DOUBLE_EQ(projected_hours(lengths, 243, true, 0.75), 1.0);
  // PoseFormer: 543,344 windows, 1,086,688 forwards; at 1/1086.688 s each, 1 s.
  EXPECT_EQ(test_set_forwards(lengths, 81, false), 1086688);
  EXPECT_NEAR(projected_hours(lengths, 81, false, 3600.0 / 1086688), 1.0, 1e-12);
}

}  // namespace
}  // namespace poselift::bench
