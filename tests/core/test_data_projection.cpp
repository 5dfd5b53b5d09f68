// The Human3.6M camera constants and projection, checked against 2D files that the original
// VideoPose3D code projected from the same 3D files (prepare_data_h36m.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "data/camera.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "test_data_support.hpp"

namespace poselift::data {
namespace {

struct ReprojectionResult {
  double max_error_px = 0.0;
  std::string worst;  // where the largest error occurs
  std::int64_t points = 0;
};

ReprojectionResult reproject_fixture(const std::string& data_dir) {
  const MocapDataset dataset = load_dataset("h36m", data_dir, "gt");
  const Keypoints stored = read_keypoints(keypoints_2d_path(data_dir, "h36m", "gt"));
  ReprojectionResult result;
  for (const Subject& subject : dataset.subjects)
    for (const Action& action : subject.actions) {
      const ActionKeypoints& expected = stored.action(subject.name, action.name);
      const std::vector<Camera>& cameras = dataset.cameras_of(subject.name);
      EXPECT_EQ(expected.cameras.size(), cameras.size());
      for (std::size_t c = 0; c < cameras.size() && c < expected.cameras.size(); ++c) {
        const Camera& camera = cameras[c];
        const io::NdArray local = world_to_camera(action.positions, camera.orientation, camera.translation);
        const io::NdArray pixels = image_coordinates(project_to_2d(local, camera.intrinsic()), camera.res_w,
                                                     camera.res_h);
        const io::NdArray& reference = expected.cameras[c];
        EXPECT_EQ(pixels.shape, reference.shape) << subject.name << " " << action.name << " camera " << c;
        if (pixels.shape != reference.shape) continue;
        const std::vector<double> truth = reference.to_doubles();
        for (std::int64_t i = 0; i < pixels.numel(); ++i) {
          const double error = std::fabs(pixels.data<float>()[i] - truth[i]);
          if (error > result.max_error_px) {
            result.max_error_px = error;
            result.worst = subject.name + " " + action.name + " camera " + std::to_string(c) + " value " +
                           std::to_string(i) + " (" + std::to_string(truth[i]) + " px)";
          }
        }
        result.points += pixels.numel() / 2;
      }
    }
  return result;
}

void check_fixture(const std::string& data_dir, const char* fixture) {
  const ReprojectionResult result = reproject_fixture(data_dir);
  std::cout << "[ info ] " << fixture << ": max 2D reprojection error " << result.max_error_px << " px over "
            << result.points << " points, at " << result.worst << "\n";
  ::testing::Test::RecordProperty(std::string(fixture) + "_max_error_px", std::to_string(result.max_error_px));
  EXPECT_GT(result.points, 0);
  EXPECT_LT(result.max_error_px, 0.01);
}

TEST(DataProjection, ReproducesTheOriginalGroundTruth2DOfPoseformerF81) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  check_fixture(data_dir, "poseformer-f81");
}

TEST(DataProjection, ReproducesTheOriginalGroundTruth2DOfPoseformerTiny) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-tiny");
  check_fixture(data_dir, "poseformer-tiny");
}

TEST(DataProjection, PreparedKeypointsAreTheNormalisedProjection) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const MocapDataset dataset = load_dataset("h36m", data_dir, "gt");
  const Keypoints keypoints = load_keypoints(dataset, data_dir, "gt");
  ASSERT_TRUE(keypoints.normalized);
  const Subject& subject = dataset.subject("S11");
  const Action& action = *subject.find_action("Greeting");
  for (std::size_t c = 0; c < 4; ++c) {
    const Camera& camera = dataset.cameras_of("S11")[c];
    const io::NdArray projected =
        project_to_2d(world_to_camera(action.positions, camera.orientation, camera.translation), camera.intrinsic());
    const io::NdArray& prepared = keypoints.action("S11", "Greeting").cameras[c];
    ASSERT_EQ(prepared.shape, projected.shape);
    for (std::int64_t i = 0; i < projected.numel(); ++i)
      ASSERT_NEAR(prepared.data<float>()[i], projected.data<float>()[i], 2e-5) << "camera " << c << " value " << i;
  }
}

}  // namespace
}  // namespace poselift::data
