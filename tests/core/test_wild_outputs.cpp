// In-the-wild outputs: the .npz contract, CSV/JSON, and the BVH export read back with the
// project's own BVH reader.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "mocap/bvh.hpp"
#include "test_support.hpp"
#include "wild/bvh_export.hpp"
#include "wild/rig.hpp"
#include "wild/export.hpp"

using namespace poselift;
using namespace poselift::wild;
using mocap::Quat;
using mocap::Vec3;

namespace {

// Rigid-bone poses: Human3.6M-average bones in a standing rest pose, each bone turned by a
// smooth random rotation per frame, the pelvis anywhere (camera space: y down).
std::vector<Pose3D> rigid_motion(int frames, unsigned seed) {
  const auto& parents = h36m::parents();
  const auto& length = h36m_average_bone_lengths();
  const std::array<Vec3, 17> rest{Vec3{0, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, 1, 0}, {1, 0, 0},  {0, 1, 0},
                                  {0, 1, 0},     {0, -1, 0}, {0, -1, 0}, {0, -1, 0.3}, {0, -1, 0}, {1, 0, 0},
                                  {0.2, 1, 0},   {0, 1, 0},  {-1, 0, 0}, {-0.2, 1, 0}, {0, 1, 0}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::array<Vec3, 17> axis;
  std::array<double, 17> amplitude, phase;
  for (int j = 0; j < 17; ++j) axis[j] = mocap::normalized(Vec3{u(rng), u(rng), u(rng)}), amplitude[j] = 1.2 * u(rng), phase[j] = 3 * u(rng);
  std::vector<Pose3D> poses(static_cast<std::size_t>(frames));
  for (int t = 0; t < frames; ++t) {
    std::array<Quat, 17> world;
    Pose3D& p = poses[static_cast<std::size_t>(t)];
    p[0] = Vec3{0.3 * std::sin(0.1 * t), 0.1, 4.0 + 0.2 * std::cos(0.05 * t)};
    world[0] = mocap::axis_angle(axis[0], amplitude[0] * std::sin(0.07 * t + phase[0]));
    for (int j = 1; j < 17; ++j) {
      world[j] = world[parents[j]] * mocap::axis_angle(axis[j], amplitude[j] * std::sin(0.09 * t + phase[j]));
      p[j] = p[parents[j]] + mocap::rotate(world[j], mocap::normalized(rest[j]) * length[j]);
    }
  }
  return poses;
}

// The same poses in a y-up world (camera (x, y, z) -> (x, -y, -z)).
std::vector<Pose3D> y_up(std::vector<Pose3D> poses) {
  for (auto& p : poses)
    for (auto& q : p) q = Vec3{q.x, -q.y, -q.z};
  return poses;
}

// The Human3.6M joints of a BVH read back with the project's reader, in the file's axes.
std::vector<Pose3D> read_back(const std::string& text, bool relative_to_hips = true) {
  const auto motion = mocap::parse_bvh(text, "export.bvh");
  const auto tracks = mocap::forward_kinematics(motion);
  std::vector<Pose3D> out(static_cast<std::size_t>(tracks.frames));
  for (std::int64_t t = 0; t < tracks.frames; ++t)
    for (int j = 0; j < 17; ++j) {
      const int point = motion.rig.find_point(rig_joint_names()[j]);
      EXPECT_GE(point, 0) << rig_joint_names()[j];
      const Vec3 hips = relative_to_hips ? tracks.position(t, motion.rig.find_point("Hips")) : Vec3{0, 0, 0};
      out[static_cast<std::size_t>(t)][j] = tracks.position(t, point) - hips;
    }
  return out;
}

double worst_offset(const std::vector<Pose3D>& back, const std::vector<Pose3D>& poses, bool relative_to_hips = true) {
  double worst = 0.0;
  for (std::size_t t = 0; t < poses.size(); ++t)
    for (int j = 0; j < 17; ++j)
      worst = std::max(worst, mocap::norm(back[t][j] - (poses[t][j] - (relative_to_hips ? poses[t][0] : Vec3{0, 0, 0}))));
  return worst;
}

}  // namespace

TEST(WildBvh, RoundTripThroughTheProjectsReaderWithin1mm) {
  const auto poses = y_up(rigid_motion(120, 7));
  RigOptions options;
  options.fps = 25;
  const std::string text = bvh_text(animate_rig(poses, options));
  const auto motion = mocap::parse_bvh(text, "export.bvh");
  EXPECT_EQ(motion.frames, 120);
  EXPECT_NEAR(motion.fps, 25.0, 1e-6);
  // Rigid bones are reproduced exactly up to the file's 6 decimals (angles in degrees), the
  // root where the world put it.
  EXPECT_LT(worst_offset(read_back(text, false), poses, false), 0.001);
  // The rig's own forward kinematics agree with the reader's.
  const RigAnimation animation = animate_rig(poses, options);
  for (std::size_t t = 0; t < poses.size(); t += 7) {
    const auto p = rig_positions(animation, t);
    for (std::size_t i = 0; i < animation.joints.size(); ++i)
      if (animation.joints[i].h36m >= 0) {
        EXPECT_LT(mocap::norm(p[i] - poses[t][animation.joints[i].h36m]), 1e-6);
      }
  }
}

// The output axes turn everything, rest pose included, by the rotation taking (y up, +z
// forward) to (--up, --forward): read back, each joint is that rotation of the world's.
TEST(WildBvh, AxisPresetsTurnTheWholeMotion) {
  const auto poses = y_up(rigid_motion(40, 11));
  struct Preset {
    const char* up;
    const char* forward;
    Vec3 (*map)(const Vec3&);
  };
  const Preset presets[] = {
      {"z", "-y", [](const Vec3& v) { return Vec3{v.x, -v.z, v.y}; }},   // Blender: z up, facing -y
      {"y", "+x", [](const Vec3& v) { return Vec3{v.z, v.y, -v.x}; }},
      {"-y", "z", [](const Vec3& v) { return Vec3{-v.x, -v.y, v.z}; }},
  };
  for (const Preset& preset : presets) {
    RigOptions options;
    options.up = parse_axis(preset.up, "--up");
    options.forward = parse_axis(preset.forward, "--forward");
    std::vector<Pose3D> expected = poses;
    for (auto& p : expected)
      for (auto& q : p) q = preset.map(q);
    const std::string text = bvh_text(animate_rig(poses, options));
    EXPECT_LT(worst_offset(read_back(text, false), expected, false), 0.001) << preset.up << " " << preset.forward;
    // The rest pose stands along the new up: the spine's offset points there.
    const RigAnimation animation = animate_rig(poses, options);
    EXPECT_GT(mocap::dot(mocap::normalized(animation.joints[9].offset), options.up.vector()), 0.999999);
  }
  RigOptions bad;
  bad.up = parse_axis("z", "--up");
  bad.forward = parse_axis("-z", "--forward");
  EXPECT_THROW(animate_rig(poses, bad), InputError);
  EXPECT_THROW(parse_axis("w", "--forward"), InputError);
}

// The hinge twist turns each thigh and upper arm so the knee and the elbow bend about their
// hinge: the knee's rotation relative to the thigh is then about the rest x axis alone, the
// elbow's about y, on every frame bent more than 25 degrees; without it they are not.
TEST(WildBvh, HingeTwistBendsKneesAndElbowsAboutTheirHinge) {
  const auto poses = y_up(rigid_motion(200, 5));
  for (bool twist : {true, false}) {
    RigOptions options;
    options.hinge_twist = twist;
    const RigAnimation animation = animate_rig(poses, options);
    double worst = 0.0;
    int bent = 0;
    // Rig rows: RightLeg 3 (knee, after RightUpLeg), LeftLeg 7; LeftForeArm 15, RightForeArm 19.
    const std::pair<int, int> knees_and_elbows[] = {{3, 0}, {7, 0}, {15, 1}, {19, 1}};
    for (std::size_t t = 0; t < poses.size(); ++t)
      for (const auto& [row, axis] : knees_and_elbows) {
        const int at = animation.joints[static_cast<std::size_t>(row)].h36m;
        const Vec3 in = poses[t][at] - poses[t][h36m::parents()[at]];
        const Vec3 out = poses[t][at + 1] - poses[t][at];
        const double bend = std::acos(mocap::dot(mocap::normalized(in), mocap::normalized(out))) * 180 / mocap::kPi;
        if (bend < 25) continue;
        ++bent;
        // The rotation at the knee / elbow is the child's (shin's / forearm's) local rotation.
        const Quat& q = animation.rotations[t][static_cast<std::size_t>(row)];
        const double off_axis = axis == 0 ? std::hypot(q.y, q.z) : std::hypot(q.x, q.z);
        worst = std::max(worst, off_axis);
      }
    ASSERT_GT(bent, 100);
    if (twist) EXPECT_LT(worst, 1e-6);
    else EXPECT_GT(worst, 0.1);
    EXPECT_LT(worst_offset(read_back(bvh_text(animation), false), poses, false), 0.001);
  }
}

TEST(WildBvh, Human36mProportionsKeepDirectionsAndTotalLength) {
  auto poses = y_up(rigid_motion(30, 3));
  // Stretch the shins by 20%: the median lengths change, the h36m proportions do not.
  for (auto& p : poses) {
    const Vec3 d = (p[3] - p[2]) * 0.2;
    p[3] += d;
  }
  RigOptions options;
  options.bones = BoneLengths::H36mAverage;
  const auto back = read_back(bvh_text(animate_rig(poses, options)));
  const auto& parents = h36m::parents();
  double total = 0.0, reference = 0.0, exported = 0.0;
  for (int j = 1; j < 17; ++j) total += mocap::norm(poses[0][j] - poses[0][parents[j]]), reference += h36m_average_bone_lengths()[j];
  for (int j = 1; j < 17; ++j) exported += mocap::norm(back[0][j] - back[0][parents[j]]);
  EXPECT_NEAR(exported, total, 1e-4);
  for (int j = 1; j < 17; ++j) {
    const Vec3 a = mocap::normalized(back[5][j] - back[5][parents[j]]);
    const Vec3 b = mocap::normalized(poses[5][j] - poses[5][parents[j]]);
    EXPECT_GT(mocap::dot(a, b), 0.99999) << j;
    EXPECT_NEAR(mocap::norm(back[5][j] - back[5][parents[j]]), h36m_average_bone_lengths()[j] * total / reference, 1e-4);
  }
  EXPECT_THROW(parse_bone_lengths("cmu", "--bvh-bones"), InputError);
  EXPECT_THROW(animate_rig({}, options), InputError);
  poses[3][5].x = std::nan("");
  EXPECT_THROW(animate_rig(poses, options), InputError);
}

namespace {

LiftedSequence small_sequence() {
  LiftedSequence s;
  s.width = 640;
  s.height = 480;
  s.input.frames = {4, 5, 7};
  for (std::size_t t = 0; t < 3; ++t) {
    H36mPose p;
    for (int j = 0; j < 17; ++j) p[static_cast<std::size_t>(j)] = {float(10 * t + j), float(100 + j), j == 3 ? 0.0f : 0.5f};
    s.input.poses.push_back(p);
    for (int j = 0; j < 17; ++j)
      for (int c = 0; c < 3; ++c) s.positions.push_back(j == 0 ? 0.0f : float(t) + 0.01f * j + 0.1f * c);
  }
  return s;
}

}  // namespace

TEST(WildExport, NpzFollowsTheContract) {
  const std::string dir = test::temp_dir("wild_export_npz");
  const LiftedSequence s = small_sequence();
  write_lifted(dir + "/out.npz", s);
  const auto npz = io::read_npz(dir + "/out.npz");
  const auto& p = npz.at("positions_3d", "out").array;
  EXPECT_EQ(p.dtype, io::DType::Float32);
  EXPECT_EQ(p.shape, (std::vector<std::int64_t>{3, 17, 3}));
  EXPECT_FLOAT_EQ(p.data<float>()[(2 * 17 + 16) * 3 + 2], 2.0f + 0.16f + 0.2f);
  const auto& k = npz.at("keypoints_2d", "out").array;
  EXPECT_EQ(k.shape, (std::vector<std::int64_t>{3, 17, 2}));
  EXPECT_FLOAT_EQ(k.data<float>()[(1 * 17 + 2) * 2], 12.0f);
  const auto& sc = npz.at("scores", "out").array;
  EXPECT_EQ(sc.shape, (std::vector<std::int64_t>{3, 17}));
  EXPECT_FLOAT_EQ(sc.data<float>()[3], 0.0f);
  EXPECT_FLOAT_EQ(sc.data<float>()[4], 0.5f);
  const auto& f = npz.at("frames", "out").array;
  EXPECT_EQ(f.dtype, io::DType::Int64);
  EXPECT_EQ(std::vector<std::int64_t>(f.data<std::int64_t>(), f.data<std::int64_t>() + 3),
            (std::vector<std::int64_t>{4, 5, 7}));
  const auto& size = npz.at("image_size", "out").array;
  EXPECT_EQ(size.dtype, io::DType::Int64);
  EXPECT_EQ(size.data<std::int64_t>()[0], 640);
  EXPECT_EQ(size.data<std::int64_t>()[1], 480);

  write_lifted(dir + "/out.npy", s);
  const auto npy = io::read_npy(dir + "/out.npy");
  EXPECT_EQ(npy.array.shape, (std::vector<std::int64_t>{3, 17, 3}));
  EXPECT_EQ(npy.array.bytes, p.bytes);
  EXPECT_EQ(track_path(dir + "/out.npz", 2), dir + "/out.track2.npz");
  EXPECT_THROW(write_lifted(dir + "/out.txt", s), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.txt"));
}

TEST(WildExport, JsonAndCsv) {
  const std::string dir = test::temp_dir("wild_export_text");
  const LiftedSequence s = small_sequence();
  ExportOptions options;
  options.animation.fps = 24;
  write_lifted(dir + "/out.json", s, options);
  const auto j = nlohmann::json::parse(test::read_text(dir + "/out.json"));
  EXPECT_EQ(j.at("joint_names").size(), 17u);
  EXPECT_EQ(j.at("joint_names")[10], "head");
  EXPECT_EQ(j.at("fps"), 24);
  EXPECT_EQ(j.at("image_size")[0], 640);
  ASSERT_EQ(j.at("frames").size(), 3u);
  EXPECT_EQ(j.at("frames")[2].at("frame"), 7);
  EXPECT_NEAR(j.at("frames")[1].at("positions_3d")[16][1].get<double>(), 1.0 + 0.16 + 0.1, 1e-6);
  EXPECT_NEAR(j.at("frames")[1].at("keypoints_2d")[2][0].get<double>(), 12.0, 1e-6);
  EXPECT_EQ(j.at("frames")[0].at("scores")[3], 0.0);

  write_lifted(dir + "/out.csv", s);
  const std::string csv = test::read_text(dir + "/out.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')).substr(0, 33), "frame,pelvis_x,pelvis_y,pelvis_z,");
  EXPECT_NE(csv.find("\n7,0.000000,0.000000,0.000000,2.010000,2.110000,2.210000,"), std::string::npos);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
}
