// MotionBERT's in-the-wild input (infer_wild.py: WildDetDataset, crop_scale), its pixel output
// and its clips, against values worked out by hand from the original's formulas.
#include <gtest/gtest.h>

#include "wild/motionbert_input.hpp"

using namespace poselift;
using namespace poselift::wild;

namespace {

Sequence2D one_frame() {
  Sequence2D s;
  s.frames = {0};
  H36mPose p;
  for (auto& k : p) k = {500.0f, 500.0f, 0.0f};  // filled joints: confidence 0, outside the box
  p[0] = {0.0f, 0.0f, 1.0f};
  p[1] = {100.0f, 50.0f, 0.5f};
  p[2] = {40.0f, 20.0f, 0.8f};
  p[3] = {10.0f, 10.0f, 2.0f};
  s.poses = {p};
  return s;
}

}  // namespace

TEST(MotionBERTWildInput, CropScaleOverTheValidKeypointsAsTheOriginal) {
  // Box x [0, 100], y [0, 50]: scale 100, corner (0, -25); x -> ((x - 0) / 100 - 0.5) * 2,
  // y -> ((y + 25) / 100 - 0.5) * 2, every channel clipped to [-1, 1].
  const auto v = motionbert_wild_input(one_frame(), 640, 480, /*pixel=*/false);
  ASSERT_EQ(v.size(), 17u * 3);
  auto expect = [&](int j, float x, float y, float c) {
    EXPECT_NEAR(v[3 * j], x, 1e-6) << j;
    EXPECT_NEAR(v[3 * j + 1], y, 1e-6) << j;
    EXPECT_NEAR(v[3 * j + 2], c, 1e-6) << j;
  };
  expect(0, -1.0f, -0.5f, 1.0f);
  expect(1, 1.0f, 0.5f, 0.5f);
  expect(2, -0.2f, -0.1f, 0.8f);
  expect(3, -0.8f, -0.3f, 1.0f);  // confidence 2 clipped to 1
  expect(4, 1.0f, 1.0f, 0.0f);    // (9, 9.5) clipped
}

TEST(MotionBERTWildInput, FewerThanFourValidKeypointsOrAPointBoxGiveZeros) {
  Sequence2D s = one_frame();
  s.poses[0][3][2] = 0.0f;  // three valid keypoints left
  for (float x : motionbert_wild_input(s, 640, 480, false)) EXPECT_EQ(x, 0.0f);
  Sequence2D point = one_frame();
  for (int j = 0; j < 4; ++j) point.poses[0][j] = {7.0f, 7.0f, 0.9f};
  for (float x : motionbert_wild_input(point, 640, 480, false)) EXPECT_EQ(x, 0.0f);
}

TEST(MotionBERTWildInput, PixelModeAndItsOutputConversion) {
  Sequence2D s = one_frame();
  s.poses[0][5] = {400.0f, 300.0f, 1.5f};
  // 640 x 480: centre (320, 240), scale 240; no clipping, the confidence as it is.
  const auto v = motionbert_wild_input(s, 640, 480, /*pixel=*/true);
  EXPECT_NEAR(v[15], 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(v[16], 0.25, 1e-6);
  EXPECT_EQ(v[17], 1.5f);
  EXPECT_NEAR(v[0], -320.0 / 240, 1e-6);
  EXPECT_NEAR(v[1], -1.0, 1e-6);
  std::vector<float> out = {1.0f / 3, 0.25f, 0.5f, -1.0f, 0.0f, -2.0f};
  auto centred = out;
  motionbert_pixels_from_model(centred, 640, 480);
  const std::vector<float> expected = {400, 300, 120, 80, 240, -480};
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(centred[i], expected[i], 1e-4) << i;
  motionbert_pixels_from_model(out, 640, 480, /*centre=*/false);
  const std::vector<float> scaled = {80, 60, 120, -240, 0, -480};
  for (std::size_t i = 0; i < scaled.size(); ++i) EXPECT_NEAR(out[i], scaled[i], 1e-4) << i;
}

TEST(MotionBERTWildInput, ClipsAreConsecutiveWithAShorterLastOne) {
  using Clips = std::vector<std::pair<std::int64_t, std::int64_t>>;
  const Clips c = motionbert_clips(300, 27);
  ASSERT_EQ(c.size(), 12u);  // ceil(300 / 27), WildDetDataset's __len__
  EXPECT_EQ(c[0], std::make_pair(std::int64_t{0}, std::int64_t{27}));
  EXPECT_EQ(c[10], std::make_pair(std::int64_t{270}, std::int64_t{297}));
  EXPECT_EQ(c[11], std::make_pair(std::int64_t{297}, std::int64_t{300}));
  EXPECT_EQ(motionbert_clips(54, 27), (Clips{{0, 27}, {27, 54}}));
  EXPECT_EQ(motionbert_clips(5, 243), (Clips{{0, 5}}));
  EXPECT_TRUE(motionbert_clips(0, 27).empty());
}
