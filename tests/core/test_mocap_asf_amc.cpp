// Acclaim ASF/AMC: conventions checked against matrices computed here, malformed files, and
// agreement with the BVH conversion of the same CMU take.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "mocap/asf_amc.hpp"
#include "mocap/bvh.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

using mocap_test::expect_input_error;
using Matrix = std::array<std::array<double, 3>, 3>;

Matrix axis_matrix(int axis, double degrees) {
  const double c = std::cos(degrees * kPi / 180.0), s = std::sin(degrees * kPi / 180.0);
  if (axis == 0) return {{{1, 0, 0}, {0, c, -s}, {0, s, c}}};
  if (axis == 1) return {{{c, 0, s}, {0, 1, 0}, {-s, 0, c}}};
  return {{{c, -s, 0}, {s, c, 0}, {0, 0, 1}}};
}
Matrix multiply(const Matrix& a, const Matrix& b) {
  Matrix m{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) m[i][j] += a[i][k] * b[k][j];
  return m;
}
Matrix transpose(const Matrix& a) {
  Matrix m{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = a[j][i];
  return m;
}
Vec3 apply(const Matrix& m, const Vec3& v) {
  return {m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z, m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
          m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z};
}
// Rotation of angles applied x first, then y, then z (column vectors): Rz Ry Rx.
Matrix xyz(double x, double y, double z) { return multiply(axis_matrix(2, z), multiply(axis_matrix(1, y), axis_matrix(0, x))); }

void expect_near(const Vec3& actual, const Vec3& expected, double tolerance = 1e-9) {
  EXPECT_NEAR(actual.x, expected.x, tolerance);
  EXPECT_NEAR(actual.y, expected.y, tolerance);
  EXPECT_NEAR(actual.z, expected.z, tolerance);
}

const char* kSkeleton = R"(# test skeleton
:version 1.10
:name TEST
:units
  mass 1.0
  length 0.45
  angle deg
:documentation
  free text: with a colon
:root
  order TX TY TZ RX RY RZ
  axis XYZ
  position 0 0 0
  orientation 0 0 0
:bonedata
  begin
    id 1
    name upper
    direction 0 2 0
    length 2
    axis 0 0 90 XYZ
    dof rx ry rz
    limits (-180 180)
           (-180 180)
           (-180 180)
  end
  begin
    id 2
    name lower
    direction 1 0 0
    length 3
    axis 0 0 0 XYZ
    dof rz
  end
:hierarchy
  begin
    root upper
    upper lower
  end
)";

const char* kMotion = R"(#!OML:ASF test.asf
:FULLY-SPECIFIED
:DEGREES
1
root 1 2 3 0 0 0
upper 0 0 0
lower 0
2
root 1 2 3 10 20 30
upper 15 -25 40
lower 90
)";

TEST(MocapAsfAmc, ParsesUnitsRootBonesAndHierarchy) {
  const AsfSkeleton skeleton = parse_asf(kSkeleton, "test.asf");
  EXPECT_DOUBLE_EQ(skeleton.length_unit, 0.45);
  EXPECT_NEAR(skeleton.metres_per_unit(), 0.0254 / 0.45, 1e-15);
  ASSERT_EQ(skeleton.bones.size(), 2u);
  EXPECT_EQ(skeleton.bones[0].name, "upper");
  expect_near(skeleton.bones[0].direction, {0, 1, 0});  // normalised
  EXPECT_EQ(skeleton.bones[1].parent, 0);
  EXPECT_EQ(skeleton.bones[0].dofs.size(), 3u);
}

TEST(MocapAsfAmc, BoneRotationsAreCTimesMTimesCInverse) {
  const AsfSkeleton skeleton = parse_asf(kSkeleton, "test.asf");
  const SkeletalMotion motion = parse_amc(kMotion, "test.amc", skeleton);
  EXPECT_EQ(motion.frames, 2);
  EXPECT_EQ(motion.fps, 120.0);
  ASSERT_TRUE(motion.metres_per_unit.has_value());
  EXPECT_EQ(motion.rig.joints[0].name, "root");
  EXPECT_EQ(motion.rig.find_point("lower.end"), 3);
  const PointTracks tracks = forward_kinematics(motion);
  // Rest frame: upper goes up 2, lower goes along +x 3.
  expect_near(tracks.position(0, 1), {1, 2, 3});
  expect_near(tracks.position(0, 2), {1, 4, 3});
  expect_near(tracks.position(0, 3), {4, 4, 3});
  const Matrix root = xyz(10, 20, 30);
  const Matrix upper_frame = xyz(0, 0, 90);
  const Matrix upper = multiply(root, multiply(upper_frame, multiply(xyz(15, -25, 40), transpose(upper_frame))));
  const Matrix lower = multiply(upper, axis_matrix(2, 90));
  const Vec3 lower_start = Vec3{1, 2, 3} + apply(upper, {0, 2, 0});
  expect_near(tracks.position(1, 2), lower_start);
  expect_near(tracks.position(1, 3), lower_start + apply(lower, {3, 0, 0}));
}

TEST(MocapAsfAmc, RadiansAreHonoured) {
  std::string skeleton_text = kSkeleton;
  skeleton_text.replace(skeleton_text.find("angle deg"), 9, "angle rad");
  skeleton_text.replace(skeleton_text.find("axis 0 0 90 XYZ"), 15, "axis 0 0 1.5707963267948966 XYZ");
  const AsfSkeleton skeleton = parse_asf(skeleton_text, "rad.asf");
  const std::string amc = "1\nroot 0 0 0 0 0 0\nupper 0 0 0\nlower 1.5707963267948966\n";
  const PointTracks tracks = forward_kinematics(parse_amc(amc, "rad.amc", skeleton));
  // lower turned 90 deg about z in its own (identity) frame: +x -> +y.
  expect_near(tracks.position(0, 3), {0, 5, 0}, 1e-12);
  // An AMC can switch to degrees.
  const PointTracks degrees = forward_kinematics(parse_amc(":DEGREES\n1\nroot 0 0 0 0 0 0\nupper 0 0 0\nlower 90\n",
                                                           "deg.amc", skeleton));
  expect_near(degrees.position(0, 3), {0, 5, 0}, 1e-12);
}

TEST(MocapAsfAmc, MalformedSkeletonsNameTheLine) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string text = kSkeleton;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {with("    dof rz\n", "    dof rz\n    color red\n"), {"bad.asf:34:", "unknown field 'color'"}},
      {with("    dof rz\n", "    dof tx\n"), {"bad.asf:33:", "'tx'", "not supported"}},
      {with("direction 1 0 0", "direction 0 0 0"), {"bad.asf:30:", "non-zero"}},
      {with("direction 1 0 0", "direction 1 0 x"), {"bad.asf:30:", "'x'"}},
      {with("    upper lower\n", "    upper middle\n"), {"bad.asf:38:", "unknown bone 'middle'"}},
      {with("    upper lower\n", ""), {"bad.asf:", "'lower' is not connected to the root"}},
      {with("length 0.45", "length -1"), {"bad.asf:6:", "positive"}},
      {with("axis 0 0 0 XYZ", "axis 0 0 0 XXZ"), {"bad.asf:32:", "ORDER"}},
      {with("name lower", "name upper"), {"bad.asf:", "'upper' is used twice"}},
      {with(":hierarchy\n  begin\n    root upper\n    upper lower\n  end\n", ""), {"no :hierarchy section"}},
  };
  for (const auto& [text, fragments] : cases) expect_input_error([&] { parse_asf(text, "bad.asf"); }, fragments);
}

TEST(MocapAsfAmc, MalformedMotionsNameTheLine) {
  const AsfSkeleton skeleton = parse_asf(kSkeleton, "test.asf");
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {":DEGREES\nroot 0 0 0 0 0 0\n", {"bad.amc:2:", "expected a frame number"}},
      {"1\nroot 0 0 0 0 0 0\nneck 1 2\n", {"bad.amc:3:", "unknown bone 'neck'"}},
      {"1\nroot 0 0 0 0 0\n", {"bad.amc:2:", "has 5 values, expected 6"}},
      {"1\nupper 0 zero 0\n", {"bad.amc:2:", "'zero'"}},
      {"1\nlower 0\n3\nlower 0\n", {"bad.amc:3:", "expected frame number 2, found 3"}},
      {"1\nlower 0\n:RADIANS\n", {"bad.amc:3:", "after the first frame"}},
      {"# nothing\n", {"bad.amc", "no frames"}},
  };
  for (const auto& [text, fragments] : cases)
    expect_input_error([&] { parse_amc(text, "bad.amc", skeleton); }, fragments);
}

TEST(MocapAsfAmc, FindsTheSkeletonBesideTheMotion) {
  const std::string dir = test::temp_dir("mocap_asf_find");
  mocap_test::write_file(dir + "/07.asf", kSkeleton);
  mocap_test::write_file(dir + "/07_03.amc", kMotion);
  EXPECT_EQ(find_asf_for_amc(dir + "/07_03.amc"), dir + "/07.asf");
  const std::string other = test::temp_dir("mocap_asf_find_single");
  mocap_test::write_file(other + "/skeleton.asf", kSkeleton);
  mocap_test::write_file(other + "/take.amc", kMotion);
  EXPECT_EQ(find_asf_for_amc(other + "/take.amc"), other + "/skeleton.asf");
  EXPECT_EQ(find_asf_for_amc(test::temp_dir("mocap_asf_none") + "/x_01.amc"), "");
}

TEST(MocapAsfAmc, AgreesWithTheBvhConversionOfTheSameCmuTake) {
  POSELIFT_REQUIRE_MOCAP(dir);
  // fairmotion converted CMU 01_01 to BVH (with one extra leading rest frame): the legs and
  // pelvis must coincide; the upper body differs because that BVH drops the thorax bone.
  const AsfSkeleton skeleton = read_asf(dir + "/cmu-misc/fairmotion_01.asf.gz");
  const PointTracks amc = forward_kinematics(read_amc(dir + "/cmu-misc/fairmotion_01_01.amc.gz", skeleton));
  const SkeletalMotion bvh_motion = read_bvh(dir + "/cmu-misc/fairmotion_01_01.bvh.gz");
  const PointTracks bvh = forward_kinematics(bvh_motion);
  ASSERT_EQ(bvh.frames, amc.frames + 1);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"Hips", "root"},       {"LeftUpLeg", "lfemur"},  {"LeftLeg", "ltibia"}, {"LeftFoot", "lfoot"},
      {"RightUpLeg", "rfemur"}, {"RightLeg", "rtibia"}, {"RightFoot", "rfoot"}, {"RightToeBase.end", "rtoes.end"},
      {"Spine", "upperback"}};
  double worst = 0.0;
  for (std::int64_t f = 0; f < amc.frames; f += 7)
    for (const auto& [bvh_name, amc_name] : pairs) {
      const int b = bvh_motion.rig.find_point(bvh_name);
      ASSERT_GE(b, 0) << bvh_name;
      int point = -1;
      for (int p = 0; p < amc.point_count(); ++p)
        if (amc.names[static_cast<std::size_t>(p)] == amc_name) point = p;
      ASSERT_GE(point, 0) << amc_name;
      worst = std::max(worst, norm(bvh.position(f + 1, b) - amc.position(f, point)));
    }
  EXPECT_LT(worst, 1e-3) << "CMU units (about 0.06 mm)";
}

}  // namespace
}  // namespace poselift::mocap
