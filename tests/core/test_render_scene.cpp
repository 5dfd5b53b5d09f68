// render/scene: the transforms that place a prediction in the 3D panels, against hand-computed
// values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "render/scene.hpp"

using namespace poselift;

namespace {

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-6) << "value " << i;
}

// A quarter turn about z (x -> y), placed at (1, 2, 3).
data::Camera quarter_turn_camera() {
  data::Camera camera;
  const float h = static_cast<float>(std::sqrt(0.5));
  camera.orientation = {h, 0, 0, h};
  camera.translation = {1, 2, 3};
  camera.has_extrinsics = true;
  return camera;
}

}  // namespace

TEST(RenderScene, CameraSpaceUprightTurnsYDownIntoZUpOnTheGround) {
  // (x, y, z) -> (x, z, -y), then the lowest height (-2) moved to 0.
  expect_near(render::camera_space_upright({1, 2, 3, 4, -1, 5}), {1, 3, 0, 4, 5, 3});
  EXPECT_TRUE(render::camera_space_upright({}).empty());
}

TEST(RenderScene, RestOnGroundMovesTheLowestPointToZero) {
  std::vector<float> poses = {0, 0, 2, 5, 5, -1, 1, 1, 0.5f};
  render::rest_on_ground(poses);
  expect_near(poses, {0, 0, 3, 5, 5, 0, 1, 1, 1.5f});
}

TEST(RenderScene, ReapplyTrajectoryAddsTheTruthsRoot) {
  // One frame, two joints: the truth's root (10, 20, 30) goes onto both predicted joints and onto
  // the truth's second joint; the truth's root itself stays.
  std::vector<float> prediction = {0, 0, 0, 1, 2, 3}, truth = {10, 20, 30, 1, 1, 1};
  render::reapply_trajectory(prediction, truth, 1, 2);
  expect_near(prediction, {10, 20, 30, 11, 22, 33});
  expect_near(truth, {10, 20, 30, 11, 21, 31});
}

TEST(RenderScene, CameraToWorldRotatesThenTranslates) {
  const data::Camera camera = quarter_turn_camera();
  // (1, 0, 0) -> (0, 1, 0) -> + (1, 2, 3); (0, 0, 2) stays on the axis.
  expect_near(render::camera_to_world({1, 0, 0, 0, 0, 2}, 1, 2, camera), {1, 3, 3, 1, 2, 5});
  expect_near(render::camera_to_world({1, 0, 0, 0, 0, 2}, 1, 2, camera, /*translate=*/false), {0, 1, 0, 0, 0, 2});
}

TEST(RenderScene, DatasetSequenceWithTruthStandsAtItsTrajectory) {
  const data::Camera camera = quarter_turn_camera();
  const std::vector<float> truth = {1, 0, 0, 0, 0, 1};  // root (1, 0, 0), second joint root-relative (0, 0, 1)
  render::DatasetScene scene;
  scene.prediction = {0, 0, 0, 0, 0, 2};
  scene.truth = &truth;
  scene.frames = 1;
  scene.joints = 2;
  scene.camera = &camera;
  scene.rotation_source = &camera;
  const auto placement = render::place_dataset_sequence(scene);
  ASSERT_EQ(placement.tracks.size(), 2u);
  EXPECT_FALSE(placement.camera_view);
  EXPECT_EQ(placement.tracks[0].title, "Reconstruction");
  EXPECT_EQ(placement.tracks[1].title, "Ground truth");
  // Prediction (1, 0, 0), (1, 0, 2) in camera space -> (1, 3, 3), (1, 3, 5) in the world.
  expect_near(placement.tracks[0].positions, {1, 3, 3, 1, 3, 5});
  // Truth (1, 0, 0), (1, 0, 1) -> (1, 3, 3), (1, 3, 4).
  expect_near(placement.tracks[1].positions, {1, 3, 3, 1, 3, 4});

  scene.show_truth = false;
  EXPECT_EQ(render::place_dataset_sequence(scene).tracks.size(), 1u);
}

TEST(RenderScene, DatasetSequenceWithoutTruthIsRotatedOrShownFromTheCamera) {
  const data::Camera camera = quarter_turn_camera();
  render::DatasetScene scene;
  scene.prediction = {1, 0, 0, 0, 0, 2};
  scene.frames = 1;
  scene.joints = 2;
  scene.camera = &camera;
  scene.rotation_source = &camera;
  // Rotation only, (0, 1, 0), (0, 0, 2), then the lowest height (0) stays at 0.
  auto placement = render::place_dataset_sequence(scene);
  ASSERT_EQ(placement.tracks.size(), 1u);
  EXPECT_FALSE(placement.camera_view);
  expect_near(placement.tracks[0].positions, {0, 1, 0, 0, 0, 2});
  // No camera with extrinsics: upright camera space, seen from the camera.
  scene.rotation_source = nullptr;
  placement = render::place_dataset_sequence(scene);
  ASSERT_EQ(placement.tracks.size(), 1u);
  EXPECT_TRUE(placement.camera_view);
  expect_near(placement.tracks[0].positions, render::camera_space_upright(scene.prediction));
}
