#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "data/camera.hpp"
#include "io/error.hpp"
#include "test_data_support.hpp"

namespace poselift::data {
namespace {

using test_support::random_array;

TEST(DataCamera, Human36mTableHasFourCamerasForElevenSubjects) {
  const CameraTable table = h36m_cameras();
  EXPECT_EQ(table.size(), 10u);  // S1-S9 and S11 (there is no S10)
  for (const auto& [subject, cameras] : table) {
    ASSERT_EQ(cameras.size(), 4u) << subject;
    const bool known = subject != "S2" && subject != "S3" && subject != "S4";
    for (const Camera& camera : cameras) {
      EXPECT_TRUE(camera.has_intrinsics);
      EXPECT_EQ(camera.has_extrinsics, known) << subject;
    }
  }
  const Camera& first = table.at("S1")[0];
  EXPECT_EQ(first.id, "54138969");
  EXPECT_EQ(first.res_w, 1000);
  EXPECT_EQ(first.res_h, 1002);
  EXPECT_EQ(first.azimuth, 70);
  // Translation converted from millimetres to metres.
  EXPECT_NEAR(first.translation[0], 1.8411070556640625, 1e-6);
  EXPECT_NEAR(first.translation[2], 1.5634454345703125, 1e-6);
  EXPECT_EQ(table.at("S11")[3].id, "60457274");
}

TEST(DataCamera, IntrinsicIsNormalisedLikeVideoPose3D) {
  const Camera& camera = h36m_cameras().at("S9")[0];
  const Intrinsic k = camera.intrinsic();
  EXPECT_NEAR(k[0], 1145.0494384765625 / 1000 * 2, 1e-6);
  EXPECT_NEAR(k[1], 1143.7811279296875 / 1000 * 2, 1e-6);
  EXPECT_NEAR(k[2], 512.54150390625 / 1000 * 2 - 1, 1e-6);
  EXPECT_NEAR(k[3], 515.4514770507812 / 1000 * 2 - 1002.0 / 1000, 1e-6);
  EXPECT_NEAR(k[4], -0.20709891617298126, 1e-8);
  EXPECT_NEAR(k[6], -0.0030751503072679043, 1e-9);
  EXPECT_NEAR(k[7], -0.0009756988729350269, 1e-9);
  EXPECT_NEAR(k[8], -0.00142447161488235, 1e-9);
}

TEST(DataCamera, IntrinsicMatchesNumpyFloat32ArithmeticBitForBit) {
  if (!test_support::numpy_available()) GTEST_SKIP() << "no numpy at /usr/bin/python3; skipping";
  const std::string script = R"(
import numpy as np
cams = [([512.54150390625, 515.4514770507812], [1145.0494384765625, 1143.7811279296875], 1000, 1002),
        ([508.8486328125, 508.0649108886719], [1149.6756591796875, 1147.5916748046875], 1000, 1000)]
for c, f, w, h in cams:
    c = np.array(c, dtype='float32'); f = np.array(f, dtype='float32')
    c = (c / w * 2 - [1, h / w]).astype('float32')
    f = f / w * 2
    print(' '.join(repr(float(v)) for v in np.concatenate((f, c))))
)";
  std::istringstream lines(test_support::run_python(script, test_support::scratch_dir()));
  const CameraTable table = h36m_cameras();
  for (int i = 0; i < 2; ++i) {
    const Intrinsic k = table.at("S1")[i].intrinsic();
    for (int v = 0; v < 4; ++v) {
      double expected = 0;
      ASSERT_TRUE(lines >> expected);
      EXPECT_EQ(k[v], static_cast<float>(expected)) << "camera " << i << " value " << v;
    }
  }
}

TEST(DataCamera, HumanEvaCamerasHaveExtrinsicsButNoIntrinsics) {
  const CameraTable table = humaneva_cameras();
  ASSERT_TRUE(table.count("Train/S1"));
  ASSERT_TRUE(table.count("Unlabeled/Validate/S3"));
  ASSERT_TRUE(table.count("Validate/S4"));
  const Camera& c2 = table.at("Train/S2")[1];
  EXPECT_EQ(c2.id, "C2");
  EXPECT_EQ(c2.res_w, 640);
  EXPECT_EQ(c2.res_h, 480);
  EXPECT_TRUE(c2.has_extrinsics);
  EXPECT_FALSE(c2.has_intrinsics);
  EXPECT_NEAR(c2.translation[0], 0.923574, 1e-6);
  EXPECT_THROW(c2.intrinsic(), InputError);
  EXPECT_FALSE(table.at("Train/S4")[0].has_extrinsics);
}

TEST(DataCamera, QuaternionRotationAndInverse) {
  const float half = static_cast<float>(std::sqrt(0.5));
  const Quaternion quarter_turn_about_z{half, 0.0f, 0.0f, half};
  const Vec3f rotated = quaternion_rotate(quarter_turn_about_z, {1.0f, 0.0f, 0.0f});
  EXPECT_NEAR(rotated[0], 0.0f, 1e-6);
  EXPECT_NEAR(rotated[1], 1.0f, 1e-6);
  EXPECT_NEAR(rotated[2], 0.0f, 1e-6);
  const Vec3f back = quaternion_rotate(quaternion_inverse(quarter_turn_about_z), rotated);
  EXPECT_NEAR(back[0], 1.0f, 1e-6);
  EXPECT_NEAR(back[1], 0.0f, 1e-6);
}

TEST(DataCamera, WorldToCameraAndBackIsTheIdentity) {
  const Camera& camera = h36m_cameras().at("S5")[2];
  const io::NdArray world = random_array({7, 17, 3}, 11, -2.0f, 2.0f);
  const io::NdArray local = world_to_camera(world, camera.orientation, camera.translation);
  ASSERT_EQ(local.shape, world.shape);
  const io::NdArray again = camera_to_world(local, camera.orientation, camera.translation);
  for (std::int64_t i = 0; i < world.numel(); ++i) EXPECT_NEAR(again.data<float>()[i], world.data<float>()[i], 1e-5);
  // The camera centre maps to the origin.
  const io::NdArray centre = io::NdArray::from_vector<float>(
      {1, 3}, {camera.translation[0], camera.translation[1], camera.translation[2]});
  const io::NdArray origin = world_to_camera(centre, camera.orientation, camera.translation);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(origin.data<float>()[c], 0.0f);
}

TEST(DataCamera, ProjectionWithoutDistortionIsAPinhole) {
  const Intrinsic pinhole{2.0f, 3.0f, 0.1f, -0.2f, 0, 0, 0, 0, 0};
  const io::NdArray points = io::NdArray::from_vector<float>({2, 3}, {0.5f, -0.25f, 2.0f, 4.0f, 1.0f, 2.0f});
  const io::NdArray projected = project_to_2d(points, pinhole);
  ASSERT_EQ(projected.shape, (std::vector<std::int64_t>{2, 2}));
  const float* p = projected.data<float>();
  EXPECT_NEAR(p[0], 2.0 * 0.25 + 0.1, 1e-6);
  EXPECT_NEAR(p[1], 3.0 * -0.125 - 0.2, 1e-6);
  // x / z = 2 is clamped to 1 (as the original does); y / z = 0.5 is not.
  EXPECT_NEAR(p[2], 2.0 * 1.0 + 0.1, 1e-6);
  EXPECT_NEAR(p[3], 3.0 * 0.5 - 0.2, 1e-6);
}

TEST(DataCamera, ProjectionAppliesRadialAndTangentialDistortion) {
  const Intrinsic k{1.5f, 1.25f, 0.05f, 0.02f, 0.1f, -0.05f, 0.01f, 0.003f, -0.002f};
  const double x = 0.3, y = -0.2;
  const io::NdArray points = io::NdArray::from_vector<float>({1, 1, 3}, {0.6f, -0.4f, 2.0f});
  const io::NdArray projected = project_to_2d(points, k);
  const double r2 = x * x + y * y;
  const double radial = 1 + 0.1 * r2 - 0.05 * r2 * r2 + 0.01 * r2 * r2 * r2;
  const double tangential = 0.003 * x - 0.002 * y;
  EXPECT_NEAR(projected.data<float>()[0], 1.5 * (x * (radial + tangential) + 0.003 * r2) + 0.05, 1e-6);
  EXPECT_NEAR(projected.data<float>()[1], 1.25 * (y * (radial + tangential) - 0.002 * r2) + 0.02, 1e-6);
}

TEST(DataCamera, ScreenNormalisationAndItsInverse) {
  const io::NdArray pixels = io::NdArray::from_vector<float>({2, 3}, {500.0f, 501.0f, 0.9f, 0.0f, 1002.0f, 0.5f});
  const io::NdArray normalized = normalize_screen_coordinates(pixels, 1000, 1002);
  const float* n = normalized.data<float>();
  EXPECT_NEAR(n[0], 0.0, 1e-7);
  EXPECT_NEAR(n[1], 0.0, 1e-7);
  EXPECT_EQ(n[2], 0.9f);  // extra channels are copied
  EXPECT_NEAR(n[3], -1.0, 1e-7);
  EXPECT_NEAR(n[4], 1.002, 1e-6);
  const io::NdArray restored = image_coordinates(normalized, 1000, 1002);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(restored.data<float>()[i], pixels.data<float>()[i], 1e-4);

  // float64 input is normalised in double precision and returned as float32.
  const io::NdArray doubles = io::NdArray::from_vector<double>({1, 2}, {640.0, 480.0});
  const io::NdArray from_doubles = normalize_screen_coordinates(doubles, 640, 480);
  EXPECT_EQ(from_doubles.dtype, io::DType::Float32);
  EXPECT_NEAR(from_doubles.data<float>()[0], 1.0, 1e-7);
  EXPECT_NEAR(from_doubles.data<float>()[1], 0.75, 1e-7);

  EXPECT_THROW(normalize_screen_coordinates(io::NdArray::from_vector<float>({2}, {1, 2}), 0, 10), InputError);
  EXPECT_THROW(normalize_screen_coordinates(io::NdArray::from_vector<float>({1, 1}, {1}), 10, 10), InputError);
}

TEST(DataCamera, CameraDictRoundTripsExactly) {
  for (const auto& [subject, cameras] : h36m_cameras())
    for (const Camera& camera : cameras) {
      const Camera copy = camera_from_value(*camera_to_value(camera), "camera of " + subject);
      EXPECT_EQ(copy.id, camera.id);
      EXPECT_EQ(copy.res_w, camera.res_w);
      EXPECT_EQ(copy.res_h, camera.res_h);
      EXPECT_EQ(copy.azimuth, camera.azimuth);
      EXPECT_EQ(copy.has_intrinsics, camera.has_intrinsics);
      EXPECT_EQ(copy.has_extrinsics, camera.has_extrinsics);
      EXPECT_EQ(copy.intrinsic(), camera.intrinsic());
      EXPECT_EQ(copy.orientation, camera.orientation);
      EXPECT_EQ(copy.translation, camera.translation) << subject << " " << camera.id;
    }
}

TEST(DataCamera, CameraDictErrorsNameTheField) {
  using io::Value;
  const io::ValuePtr missing_resolution = Value::dict({{Value::from_str("res_w"), Value::from_int(640)}});
  try {
    camera_from_value(*missing_resolution, "x.npz: cameras['S1'][0]");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.npz: cameras['S1'][0]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("res_h"), std::string::npos) << e.what();
  }
  const io::ValuePtr short_center = Value::dict({{Value::from_str("res_w"), Value::from_int(640)},
                                                 {Value::from_str("res_h"), Value::from_int(480)},
                                                 {Value::from_str("center"), Value::list({Value::from_float(1)})},
                                                 {Value::from_str("focal_length"),
                                                  Value::list({Value::from_float(1), Value::from_float(1)})}});
  EXPECT_THROW(camera_from_value(*short_center, "cam"), InputError);
}

TEST(DataCamera, CustomCameraBorrowsPlaceholderExtrinsics) {
  const Camera camera = custom_camera("clip.mp4", 1920, 1080);
  EXPECT_EQ(camera.id, "clip.mp4");
  EXPECT_EQ(camera.res_w, 1920);
  EXPECT_EQ(camera.res_h, 1080);
  EXPECT_FALSE(camera.has_intrinsics);
  EXPECT_TRUE(camera.has_extrinsics);
  EXPECT_EQ(camera.orientation, h36m_cameras().at("S1")[0].orientation);
}

}  // namespace
}  // namespace poselift::data
