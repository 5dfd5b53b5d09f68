// BVH parsing and forward kinematics: conventions checked against rotations computed here
// with plain matrices, malformed files, and resource limits.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>

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

Vec3 apply(const Matrix& m, const Vec3& v) {
  return {m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z, m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
          m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z};
}

void expect_near(const Vec3& actual, const Vec3& expected, double tolerance = 1e-9) {
  EXPECT_NEAR(actual.x, expected.x, tolerance);
  EXPECT_NEAR(actual.y, expected.y, tolerance);
  EXPECT_NEAR(actual.z, expected.z, tolerance);
}

const char* kTwoJoints = R"(HIERARCHY
ROOT Hips
{
	OFFSET 1.0 100.0 2.0
	CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
	JOINT Chest
	{
		OFFSET 0 10 0
		CHANNELS 3 Xrotation Zrotation Yrotation
		End Site
		{
			OFFSET 0 0 5
		}
	}
}
MOTION
Frames: 2
Frame Time: .0083333
0 0 0 0 0 0 0 0 0
3 -4 5 30 -20 45 10 70 -35
)";

TEST(MocapBvh, ParsesHierarchyChannelsAndFrameRate) {
  const SkeletalMotion motion = parse_bvh(kTwoJoints, "two.bvh");
  ASSERT_EQ(motion.rig.joints.size(), 2u);
  EXPECT_EQ(motion.rig.joints[0].name, "Hips");
  EXPECT_EQ(motion.rig.joints[1].parent, 0);
  ASSERT_EQ(motion.rig.end_sites.size(), 1u);
  EXPECT_EQ(motion.rig.end_sites[0].name, "Chest.end");
  EXPECT_EQ(motion.rig.find_point("Chest.end"), 2);
  EXPECT_EQ(motion.frames, 2);
  EXPECT_EQ(motion.fps, 120.0);  // ".0083333" snaps to 120
  EXPECT_TRUE(motion.rig.joints[0].animated_translation);
  EXPECT_FALSE(motion.rig.joints[1].animated_translation);
}

TEST(MocapBvh, EulerChannelsComposeIntrinsicallyInChannelOrder) {
  const PointTracks tracks = forward_kinematics(parse_bvh(kTwoJoints, "two.bvh"));
  // Frame 0: rest pose, root at its OFFSET.
  expect_near(tracks.position(0, 0), {1, 100, 2});
  expect_near(tracks.position(0, 1), {1, 110, 2});
  expect_near(tracks.position(0, 2), {1, 110, 7});
  // Frame 1: root OFFSET + position channels; root R = Rz(30) Rx(-20) Ry(45);
  // chest R = root R * Rx(10) Rz(70) Ry(-35).
  const Matrix root = multiply(multiply(axis_matrix(2, 30), axis_matrix(0, -20)), axis_matrix(1, 45));
  const Matrix chest = multiply(root, multiply(multiply(axis_matrix(0, 10), axis_matrix(2, 70)), axis_matrix(1, -35)));
  const Vec3 hips{4, 96, 7};
  const Vec3 chest_position = hips + apply(root, {0, 10, 0});
  expect_near(tracks.position(1, 0), hips);
  expect_near(tracks.position(1, 1), chest_position);
  expect_near(tracks.position(1, 2), chest_position + apply(chest, {0, 0, 5}));
}

TEST(MocapBvh, NonRootPositionChannelsReplaceTheOffset) {
  const std::string text = R"(HIERARCHY
ROOT joint_Root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Hips
  {
    OFFSET 100 200 300
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 0 0
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.0333333
0 0 0 0 0 0 1 90 -3 0 0 0
)";
  const SkeletalMotion motion = parse_bvh(text, "bandai.bvh");
  EXPECT_EQ(motion.fps, 30.0);
  const PointTracks tracks = forward_kinematics(motion);
  expect_near(tracks.position(0, 1), {1, 90, -3});
}

TEST(MocapBvh, AcceptsBracesOnJointLinesSpacesInNamesAndCrlf) {
  const std::string text =
      "HIERARCHY\r\nROOT Root Joint {\r\n OFFSET 0 0 0\r\n CHANNELS 3 Xposition Yposition Zposition\r\n"
      " End Site {\r\n  OFFSET 1 2 3\r\n }\r\n}\r\nMOTION\r\nFrames:\t1\r\nFrame Time:\t0.5\r\n\r\n7 8 9\r\n\r\n";
  const SkeletalMotion motion = parse_bvh(text, "crlf.bvh");
  EXPECT_EQ(motion.rig.joints[0].name, "Root Joint");
  EXPECT_EQ(motion.fps, 2.0);
  expect_near(forward_kinematics(motion).position(0, 1), {8, 10, 12});
}

struct Malformed {
  const char* label;
  std::string text;
  std::vector<std::string> fragments;
};

TEST(MocapBvh, MalformedFilesNameTheFileLineAndExpectation) {
  const std::string header = "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n";
  const std::string motion = "}\nMOTION\nFrames: 2\nFrame Time: 0.01\n";
  const std::vector<Malformed> cases = {
      {"empty", "", {"bad.bvh:0:", "HIERARCHY"}},
      {"not bvh", "hello\n", {"bad.bvh:1:", "expected 'HIERARCHY'"}},
      {"missing brace", "HIERARCHY\nROOT Hips\nOFFSET 0 0 0\n", {"bad.bvh:3:", "expected '{'"}},
      {"bad offset", "HIERARCHY\nROOT Hips\n{\nOFFSET 0 x 0\n", {"bad.bvh:4:", "OFFSET", "'x'"}},
      {"short offset", "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0\n", {"bad.bvh:4:", "3 numbers"}},
      {"channel count", "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition\n",
       {"bad.bvh:5:", "declares 3 channels but names 2"}},
      {"unknown channel", "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 1 Wrotation\n", {"bad.bvh:5:", "'Wrotation'"}},
      {"duplicate channel", "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 2 Xrotation xrotation\n",
       {"bad.bvh:5:", "listed twice"}},
      {"joint outside", "HIERARCHY\nJOINT Hips\n", {"bad.bvh:2:", "JOINT outside"}},
      {"no offset", "HIERARCHY\nROOT Hips\n{\n}\n", {"bad.bvh:4:", "without an OFFSET"}},
      {"unclosed", header + "MOTION\n", {"bad.bvh:6:", "MOTION inside an open block"}},
      {"no motion", header + "}\n", {"bad.bvh:6:", "missing 'MOTION'"}},
      {"frames", header + "}\nMOTION\nFrames: many\n", {"bad.bvh:8:", "Frames: N"}},
      {"negative frames", header + "}\nMOTION\nFrames: -3\n", {"bad.bvh:8:", "non-negative"}},
      {"frame time", header + "}\nMOTION\nFrames: 1\nFrame Time: 0\n", {"bad.bvh:9:", "positive"}},
      {"short frame", header + motion + "1 2 3\n4 5\n", {"bad.bvh:11:", "frame 2 has 2 values, expected 3"}},
      {"bad value", header + motion + "1 2 3\n4 five 6\n", {"bad.bvh:11:", "frame 2, value 2", "'five'"}},
      {"nan value", header + motion + "1 2 3\n4 nan 6\n", {"bad.bvh:11:", "'nan'"}},
      {"truncated", header + motion + "1 2 3\n", {"bad.bvh:", "ends after 1 of the 2 frames"}},
      {"extra", header + motion + "1 2 3\n4 5 6\n7 8 9\n", {"bad.bvh:12:", "unexpected content"}},
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.label);
    expect_input_error([&] { parse_bvh(c.text, "bad.bvh"); }, c.fragments);
  }
}

TEST(MocapBvh, HugeFrameCountsCostOnlyTheDataPresent) {
  const std::string header =
      "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
      "}\nMOTION\n";
  const auto start = std::chrono::steady_clock::now();
  expect_input_error([&] { parse_bvh(header + "Frames: 900000000\nFrame Time: 0.01\n0 0 0 0 0 0\n", "huge.bvh"); },
                     {"huge.bvh:8:", "exceeds the limit of 10000000"});
  ReadLimits limits;
  limits.max_frames = 1000;
  expect_input_error([&] { parse_bvh(header + "Frames: 5000\nFrame Time: 0.01\n", "huge.bvh", limits); },
                     {"exceeds the limit of 1000"});
  // Within the limit but far beyond the data: fails at the end of the data, having reserved
  // memory for one frame only.
  expect_input_error([&] { parse_bvh(header + "Frames: 9000000\nFrame Time: 0.01\n0 0 0 0 0 0\n", "huge.bvh"); },
                     {"huge.bvh:", "ends after 1 of the 9000000 frames"});
  // Many channel-less joints x many frames: bounded by the file size.
  std::string wide = "HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 1 Xrotation\n";
  for (int j = 0; j < 4000; ++j) wide += "JOINT J" + std::to_string(j) + "\n{\nOFFSET 0 0 0\n}\n";
  wide += "}\nMOTION\nFrames: 60000\nFrame Time: 0.01\n";
  for (int f = 0; f < 60000; ++f) wide += "0\n";
  expect_input_error([&] { parse_bvh(wide, "wide.bvh"); }, {"wide.bvh:", "out of proportion to the file size"});
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

TEST(MocapBvh, DeepNestingIsBoundedWithoutRecursion) {
  std::string text = "HIERARCHY\nROOT J0\n{\nOFFSET 0 1 0\nCHANNELS 1 Xrotation\n";
  for (int depth = 1; depth < 100000; ++depth) text += "JOINT J" + std::to_string(depth) + "\n{\nOFFSET 0 1 0\n";
  expect_input_error([&] { parse_bvh(text, "deep.bvh"); }, {"deep.bvh:", "nested deeper than 256 levels"});
  ReadLimits limits;
  limits.max_depth = 1000000;
  expect_input_error([&] { parse_bvh(text, "deep.bvh", limits); }, {"more than 4096 joints"});
}

TEST(MocapBvh, ReadsGzippedFilesByContent) {
  const std::string dir = test::temp_dir("mocap_bvh_gzip");
  mocap_test::write_file(dir + "/walk.bvh", mocap_test::walking_bvh(30));
  if (test::run_command("gzip -f '" + dir + "/walk.bvh'") != 0) GTEST_SKIP() << "gzip tool not available";
  const SkeletalMotion motion = read_bvh(dir + "/walk.bvh.gz");
  EXPECT_EQ(motion.frames, 30);
  EXPECT_EQ(motion.rig.joints.size(), 20u);
  expect_input_error([&] { read_bvh(dir + "/missing.bvh"); }, {"missing.bvh", "cannot open"});
}

TEST(MocapBvh, ResamplingKeepsBonesRigidAndHitsTheFrameCount) {
  const SkeletalMotion motion = parse_bvh(mocap_test::walking_bvh(241), "walk.bvh");  // 2 s at 120 fps
  EXPECT_EQ(resampled_frame_count(241, 120.0, 50.0), 101);
  EXPECT_EQ(resampled_frame_count(10, 30.0, 50.0), 16);
  const SkeletalMotion resampled = resample_motion(motion, 50.0);
  ASSERT_EQ(resampled.frames, 101);
  const PointTracks source = forward_kinematics(motion), tracks = forward_kinematics(resampled);
  // Frames at common instants agree (0.1 s = source frame 12 = target frame 5).
  for (int p = 0; p < tracks.point_count(); ++p) expect_near(tracks.position(5, p), source.position(12, p), 1e-9);
  // Thigh length stays exact between source frames.
  const int hip = motion.rig.find_point("LeftUpLeg"), knee = motion.rig.find_point("LeftLeg");
  for (std::int64_t f = 0; f < tracks.frames; ++f)
    EXPECT_NEAR(norm(tracks.position(f, hip) - tracks.position(f, knee)), 7.4, 1e-9);
}

}  // namespace
}  // namespace poselift::mocap
