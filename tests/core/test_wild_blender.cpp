// The BVH export read by a second, independent reader: Blender's own importer (Debian's
// blender in background mode), which must put every joint where the rig does.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/file.hpp"
#include "mocap/geometry.hpp"
#include "test_support.hpp"
#include "wild/bvh_export.hpp"
#include "wild/rig.hpp"

using namespace poselift;
using namespace poselift::wild;
using mocap::Vec3;

namespace {

// A y-up world motion with a bent, moving skeleton: joints on smooth curves around a walking
// root (bone lengths vary, so the median-length rig is what Blender is checked against).
std::vector<Pose3D> wavy_motion(int frames) {
  std::vector<Pose3D> poses(static_cast<std::size_t>(frames));
  const std::array<Vec3, 17> rest{Vec3{0, 0.9, 0}, {-0.13, 0.9, 0}, {-0.14, 0.47, 0.05}, {-0.15, 0.08, 0},
                                  {0.13, 0.9, 0},  {0.14, 0.47, 0.05}, {0.15, 0.08, 0},  {0, 1.13, 0},
                                  {0, 1.38, 0},    {0, 1.5, 0.03},     {0, 1.62, 0},      {0.16, 1.36, 0},
                                  {0.4, 1.2, 0.1}, {0.5, 1.0, 0.25},   {-0.16, 1.36, 0},  {-0.4, 1.2, 0.1},
                                  {-0.5, 1.0, 0.25}};
  for (int t = 0; t < frames; ++t)
    for (int j = 0; j < 17; ++j) {
      const double a = 0.15 * t + j;
      poses[static_cast<std::size_t>(t)][static_cast<std::size_t>(j)] =
          rest[static_cast<std::size_t>(j)] + Vec3{0.02 * t + 0.05 * std::sin(a), 0.04 * std::cos(1.3 * a), 0.01 * t + 0.05 * std::sin(0.7 * a)};
    }
  return poses;
}

}  // namespace

TEST(WildBvhBlender, BlenderImportsEveryJointWhereTheRigPutsIt) {
  const char* blender = "/usr/bin/blender";
  if (!std::filesystem::exists(blender)) GTEST_SKIP() << "Debian's blender is not installed";
  const std::string script = (std::filesystem::path(__FILE__).parent_path() / "blender" / "read_bvh.py").string();
  ASSERT_TRUE(std::filesystem::exists(script)) << script;
  const std::string dir = test::temp_dir("wild_bvh_blender");
  const auto poses = wavy_motion(24);
  for (const char* up : {"y", "z"}) {
    RigOptions options;
    options.fps = 24;
    options.up = parse_axis(up, "--up");
    options.forward = up == std::string("y") ? Axis{2, 1} : Axis{1, -1};
    const RigAnimation animation = animate_rig(poses, options);
    const std::string bvh = fmt::format("{}/motion_{}.bvh", dir, up), json = fmt::format("{}/motion_{}.json", dir, up);
    io::write_file_atomic(bvh, bvh_text(animation));
    std::string out;
    ASSERT_EQ(test::run_command(fmt::format("{} -b --factory-startup --python-exit-code 1 --python {} -- {} {} 2>&1",
                                            blender, script, bvh, json),
                                &out),
              0)
        << out;
    const auto read = nlohmann::json::parse(test::read_text(json));
    ASSERT_EQ(read.at("frames").get<int>(), 24);
    // Blender's importer reads the file as y up, -z forward and turns it into its own z up:
    // (x, y, z) -> (x, -z, y).
    double worst = 0.0;
    int compared = 0;
    for (std::size_t t = 0; t < poses.size(); ++t) {
      const auto rig = rig_positions(animation, t);
      for (std::size_t i = 0; i < animation.joints.size(); ++i) {
        if (animation.joints[i].h36m < 0) continue;
        const auto& head = read.at("bones").at(animation.joints[i].name).at(t);
        const Vec3 p = rig[i];
        const Vec3 blender_axes{p.x, -p.z, p.y};
        worst = std::max(worst, mocap::norm(Vec3{head[0], head[1], head[2]} - blender_axes));
        ++compared;
      }
    }
    std::printf("[ blender ] --up %s: %d joints compared, worst %.2e m\n", up, compared, worst);
    EXPECT_EQ(compared, 24 * 17);
    EXPECT_LT(worst, 1e-3) << "--up " << up;
  }
}
