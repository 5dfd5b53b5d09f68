// The detector-noise model and the virtual camera rigs.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "mocap/cameras.hpp"
#include "mocap/noise.hpp"
#include "mocap/quality.hpp"
#include "mocap/synthetic.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

// Ground-truth pixels of a synthetic walk seen by Human3.6M-like camera 0.
io::NdArray walking_pixels(int seconds = 20) {
  Rng rng(4);
  const std::vector<Vec3> poses = generate_synthetic_action("Walking", random_body(rng), seconds, 50.0, 8);
  Rng camera_rng(0);
  const std::vector<data::Camera> cameras = make_camera_rig(VirtualCameraOptions{}, camera_rng);
  return project_to_pixels(poses, cameras[0]);
}

double mean_error(const io::NdArray& a, const io::NdArray& b) {
  const std::vector<double> x = a.to_doubles(), y = b.to_doubles();
  const std::size_t ca = static_cast<std::size_t>(a.shape.back()), cb = static_cast<std::size_t>(b.shape.back());
  double sum = 0.0;
  const std::size_t points = x.size() / ca;
  for (std::size_t i = 0; i < points; ++i) sum += std::hypot(x[i * ca] - y[i * cb], x[i * ca + 1] - y[i * cb + 1]);
  return sum / static_cast<double>(points);
}

TEST(MocapNoise, StrengthZeroIsTheGroundTruth) {
  const io::NdArray truth = walking_pixels(4);
  DetectorNoiseOptions options;
  options.strength = 0.0;
  const io::NdArray same = apply_detector_noise(truth, options, 50.0, 1);
  EXPECT_EQ(same.bytes, truth.bytes);
}

TEST(MocapNoise, StrengthOneMatchesCpnLikeErrorsAndScales) {
  const io::NdArray truth = walking_pixels();
  NoiseStatistics stats;
  const io::NdArray noisy = apply_detector_noise(truth, DetectorNoiseOptions{}, 50.0, 7, &stats);
  EXPECT_EQ(noisy.shape, truth.shape);
  EXPECT_NEAR(stats.mean_error_px, mean_error(noisy, truth), 1e-3);
  EXPECT_GT(stats.mean_error_px, 4.0);
  EXPECT_LT(stats.mean_error_px, 9.0);
  EXPECT_GT(stats.outlier_points, 0);
  EXPECT_GT(stats.swapped_points, 0);
  EXPECT_GT(stats.missed_points, 0);
  DetectorNoiseOptions double_strength;
  double_strength.strength = 2.0;
  NoiseStatistics strong;
  apply_detector_noise(truth, double_strength, 50.0, 7, &strong);
  EXPECT_GT(strong.mean_error_px, 1.7 * stats.mean_error_px);
  // Same seed, same noise; another seed, other noise.
  EXPECT_EQ(apply_detector_noise(truth, DetectorNoiseOptions{}, 50.0, 7).bytes, noisy.bytes);
  EXPECT_NE(apply_detector_noise(truth, DetectorNoiseOptions{}, 50.0, 8).bytes, noisy.bytes);
}

TEST(MocapNoise, JitterIsTemporallyCorrelated) {
  const io::NdArray truth = walking_pixels();
  DetectorNoiseOptions options;
  options.outlier_rate = options.swap_rate = options.miss_rate = 0.0;
  options.bias_sigma = 0.0;
  const std::vector<double> noisy = apply_detector_noise(truth, options, 50.0, 3).to_doubles();
  const std::vector<double> clean = truth.to_doubles();
  // Lag-1 autocorrelation of the x error of the left wrist: AR(1) with tau = 0.12 s at 50 fps
  // gives rho = 0.85 on 70% of the variance, so about 0.6.
  std::vector<double> error;
  for (std::size_t t = 0; t < noisy.size() / 34; ++t) error.push_back(noisy[t * 34 + 13 * 2] - clean[t * 34 + 13 * 2]);
  double mean = 0.0;
  for (double e : error) mean += e / static_cast<double>(error.size());
  double c0 = 0.0, c1 = 0.0;
  for (std::size_t t = 0; t + 1 < error.size(); ++t) {
    c0 += (error[t] - mean) * (error[t] - mean);
    c1 += (error[t] - mean) * (error[t + 1] - mean);
  }
  EXPECT_GT(c1 / c0, 0.4);
  EXPECT_LT(c1 / c0, 0.8);
}

TEST(MocapNoise, ConfidencesFollowTheErrorKind) {
  const io::NdArray truth = walking_pixels();
  DetectorNoiseOptions options;
  options.confidence = true;
  options.miss_rate = 0.02;
  NoiseStatistics stats;
  const io::NdArray noisy = apply_detector_noise(truth, options, 50.0, 5, &stats);
  ASSERT_EQ(noisy.shape.back(), 3);
  const std::vector<double> values = noisy.to_doubles();
  std::int64_t low = 0;
  for (std::size_t i = 2; i < values.size(); i += 3) {
    EXPECT_GE(values[i], 0.0);
    EXPECT_LE(values[i], 1.0);
    low += values[i] < 0.1;
  }
  EXPECT_GE(low, stats.missed_points * 9 / 10);
  mocap_test::expect_input_error(
      [] { apply_detector_noise(io::NdArray::zeros(io::DType::Float32, {3, 16, 2}), DetectorNoiseOptions{}, 50.0, 1); },
      {"(frames, 17, 2)"});
}

TEST(MocapCameras, DefaultRigSurroundsThePerformerFromTheCorners) {
  Rng rng(0);
  const std::vector<data::Camera> cameras = make_camera_rig(VirtualCameraOptions{}, rng);
  ASSERT_EQ(cameras.size(), 4u);
  const data::CameraTable h36m = data::h36m_cameras();
  for (std::size_t i = 0; i < 4; ++i) {
    const data::Camera& camera = cameras[i];
    EXPECT_EQ(camera.focal_length, h36m.at("S1")[i].focal_length);
    EXPECT_EQ(camera.res_w, h36m.at("S1")[i].res_w);
    const double distance = std::hypot(camera.translation[0], camera.translation[1]);
    EXPECT_GE(distance, 4.5);
    EXPECT_LE(distance, 5.5);
    EXPECT_GE(camera.translation[2], 1.2);
    EXPECT_LE(camera.translation[2], 1.8);
    const double azimuth = std::atan2(camera.translation[1], camera.translation[0]) * 180.0 / kPi;
    EXPECT_NEAR(std::fmod(azimuth + 360.0, 90.0), 45.0, 1e-3);
    // The aim point (0, 0, 0.95) projects near the principal point; "up" is up in the image.
    std::vector<Vec3> points(17, Vec3{0, 0, 0.95});
    points[1] = {0, 0, 1.9};
    const std::vector<double> xy = project_to_pixels(points, camera).to_doubles();
    EXPECT_NEAR(xy[0], camera.center[0], 1.0);
    EXPECT_NEAR(xy[1], camera.center[1], 1.0);
    EXPECT_LT(xy[3], xy[1] - 100.0);
    EXPECT_NEAR(xy[2], xy[0], 1.0);
  }
}

TEST(MocapCameras, RandomRigsVaryWithinTheirRangesAndAreFittedToThePerformer) {
  VirtualCameraOptions options;
  options.randomize = true;
  std::set<int> widths;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    for (const data::Camera& camera : make_camera_rig(options, rng)) {
      widths.insert(camera.res_w);
      const double distance = std::hypot(camera.translation[0], camera.translation[1]);
      EXPECT_GE(distance, 4.5 - 0.3);
      EXPECT_LE(distance, 5.5 + 0.3);
      EXPECT_GE(camera.translation[2], 1.2);
      EXPECT_LE(camera.translation[2], 1.8);
    }
  }
  EXPECT_GE(widths.size(), 3u);
  // A performer far off-centre makes the fitting push cameras back until everything is seen.
  Rng rng(1);
  std::vector<Vec3> poses = generate_synthetic_action("Waiting", random_body(rng), 2.0, 50.0, 3);
  for (Vec3& p : poses) p.x += 2.5;
  Rng camera_rng(5);
  std::vector<data::Camera> cameras = make_camera_rig(VirtualCameraOptions{}, camera_rng);
  EXPECT_GT(fit_cameras_to_sequences(cameras, {&poses}, VirtualCameraOptions{}), 0);
  for (const data::Camera& camera : cameras)
    EXPECT_EQ(fraction_inside_image(project_to_pixels(poses, camera), camera.res_w, camera.res_h), 1.0);
}

}  // namespace
}  // namespace poselift::mocap
