// The ground and contacts of motion/world: a synthetic walk with known foot contacts, seen
// through a tilted camera and given a lifter-like sliding trajectory, is put back on its floor
// (up direction, floor height), its contacts found, and its feet locked without changing bone
// lengths or the upper body.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "io/error.hpp"
#include "mocap/geometry.hpp"
#include "motion/world.hpp"

using namespace poselift;
using mocap::Vec3;

namespace {

constexpr double kFps = 50.0;

struct Walk {
  std::vector<Vec3> world;              // T * 17, y up, soles at 0
  std::vector<std::uint8_t> contacts;   // T * 2, by construction
  std::int64_t frames = 0;
};

// Knee of a two-bone leg from hip to ankle, bending forward (`front`).
Vec3 knee_for(const Vec3& hip, const Vec3& ankle, double l1, double l2, const Vec3& front) {
  const Vec3 d = ankle - hip;
  const double r = mocap::norm(d);
  const Vec3 dir = d * (1.0 / r);
  const double along = (l1 * l1 - l2 * l2 + r * r) / (2 * r);
  Vec3 pole = front - dir * mocap::dot(front, dir);
  return hip + dir * along + mocap::normalized(pole) * std::sqrt(std::max(0.0, l1 * l1 - along * along));
}

// A walk around a circle of radius 1.5 m at 0.9 m/s: a 1.1 s gait cycle, each foot planted for
// 60% of it (at the path point of mid-stance, 0.1 m to its side), swinging on a 0.1 m arc between.
Walk circle_walk(double seconds) {
  Walk w;
  w.frames = static_cast<std::int64_t>(seconds * kFps);
  const double radius = 1.5, speed = 0.9, cycle = 1.1, stance = 0.6;
  const auto path = [&](double time) {
    const double a = speed * time / radius;
    return std::make_pair(Vec3{radius * std::cos(a), 0, radius * std::sin(a)},
                          Vec3{-std::sin(a), 0, std::cos(a)});  // position, heading
  };
  const auto foot_anchor = [&](int foot, double cycle_start) {
    const auto [p, h] = path(cycle_start + 0.5 * stance * cycle);
    const Vec3 side = mocap::cross(Vec3{0, 1, 0}, h);  // the walker's left
    return p + side * (foot == 1 ? 0.1 : -0.1) + Vec3{0, motion::kAnkleHeight, 0};
  };
  for (std::int64_t t = 0; t < w.frames; ++t) {
    const double time = static_cast<double>(t) / kFps;
    const auto [root_ground, heading] = path(time);
    const Vec3 left = mocap::cross(Vec3{0, 1, 0}, heading);
    std::array<Vec3, 17> p;
    p[0] = root_ground + Vec3{0, 0.88, 0};
    p[1] = p[0] - left * 0.1;  // right hip
    p[4] = p[0] + left * 0.1;
    for (int foot = 0; foot < 2; ++foot) {
      const double offset = foot == 0 ? 0.0 : 0.5 * cycle;  // the left foot half a cycle later
      const double local = time - offset;
      const double start = std::floor(local / cycle) * cycle + offset;
      const double phase = (time - start) / cycle;
      Vec3 ankle;
      bool planted = phase < stance;
      if (planted) {
        ankle = foot_anchor(foot, start);
      } else {
        const double u = (phase - stance) / (1 - stance);
        ankle = mocap::lerp(foot_anchor(foot, start), foot_anchor(foot, start + cycle), u) +
                Vec3{0, 0.1 * std::sin(mocap::kPi * u), 0};
      }
      const int hip = foot == 0 ? 1 : 4;
      p[hip + 2] = ankle;
      p[hip + 1] = knee_for(p[hip], ankle, 0.45, 0.45, heading);
      w.contacts.push_back(planted);
    }
    const Vec3 up{0, 1, 0};
    p[7] = p[0] + up * 0.23, p[8] = p[0] + up * 0.48, p[9] = p[0] + up * 0.6 + heading * 0.02, p[10] = p[0] + up * 0.72;
    p[11] = p[8] + left * 0.17, p[14] = p[8] - left * 0.17;
    p[12] = p[11] - up * 0.28, p[15] = p[14] - up * 0.28;
    p[13] = p[12] - up * 0.25 + heading * 0.05, p[16] = p[15] - up * 0.25 + heading * 0.05;
    w.world.insert(w.world.end(), p.begin(), p.end());
  }
  return w;
}

// A camera 4.5 m from the circle's centre at 1.6 m height, pitched down 20 degrees and rolled
// 4: camera space (x right, y down, z forward) from the world.
struct Camera {
  Vec3 position{0, 1.6, 4.5};
  Vec3 right, down, forward;
  Camera() {
    const double pitch = 20 * mocap::kPi / 180, roll = 4 * mocap::kPi / 180;
    const Vec3 f{0, -std::sin(pitch), -std::cos(pitch)};
    const Vec3 r0{1, 0, 0};
    const Vec3 d0 = mocap::cross(f, r0);  // completes a right-handed (x right, y down, z forward)
    right = r0 * std::cos(roll) + d0 * std::sin(roll);
    down = d0 * std::cos(roll) - r0 * std::sin(roll);
    forward = f;
  }
  Vec3 to_camera(const Vec3& w) const {
    const Vec3 d = w - position;
    return {mocap::dot(right, d), mocap::dot(down, d), mocap::dot(forward, d)};
  }
  Vec3 up_in_camera() const { return {right.y, down.y, forward.y}; }  // the world's +y seen from the camera
};

// The walk as a lifter's output would be: root-relative camera-space poses with 2 mm of joint
// jitter, and a camera-space trajectory that wanders by a few centimetres (the depth error of a
// geometric trajectory), so planted feet slide.
void as_lifted(const Walk& walk, const Camera& camera, std::vector<float>& positions, std::vector<float>& trajectory,
               std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> jitter(0.0, 0.002), step(0.0, 0.004);
  Vec3 drift{0, 0, 0}, velocity{0, 0, 0};
  for (std::int64_t t = 0; t < walk.frames; ++t) {
    velocity = velocity * 0.95 + Vec3{step(rng), 0.2 * step(rng), 2 * step(rng)} * 0.05;
    drift = drift * 0.995 + velocity;
    const Vec3 root = camera.to_camera(walk.world[static_cast<std::size_t>(17 * t)]);
    for (int c = 0; c < 3; ++c) trajectory.push_back(static_cast<float>((c == 0 ? root.x + drift.x : c == 1 ? root.y + drift.y : root.z + drift.z)));
    for (int j = 0; j < 17; ++j) {
      const Vec3 p = camera.to_camera(walk.world[static_cast<std::size_t>(17 * t + j)]) - root;
      positions.push_back(static_cast<float>(j ? p.x + jitter(rng) : 0.0));
      positions.push_back(static_cast<float>(j ? p.y + jitter(rng) : 0.0));
      positions.push_back(static_cast<float>(j ? p.z + jitter(rng) : 0.0));
    }
  }
}

Vec3 at(const std::vector<float>& v, std::int64_t t, int j) {
  const float* p = &v[static_cast<std::size_t>((t * 17 + j) * 3)];
  return {p[0], p[1], p[2]};
}

}  // namespace

TEST(MotionWorld, WalkIsGroundedItsContactsFoundAndItsFeetLocked) {
  const Walk walk = circle_walk(8.0);
  const Camera camera;
  std::vector<float> positions, trajectory;
  as_lifted(walk, camera, positions, trajectory, 3);
  const std::int64_t T = walk.frames;

  motion::GroundOptions unlocked;
  unlocked.lock_contacts = false;
  const motion::WorldMotion before = motion::ground_motion(positions, trajectory, T, kFps, unlocked);
  const motion::WorldMotion after = motion::ground_motion(positions, trajectory, T, kFps, {});

  // The up direction from the planted feet (they cover the circle): the world's true up.
  EXPECT_EQ(after.up_source, "feet");
  const Vec3 up{after.world_from_camera[4], after.world_from_camera[5], after.world_from_camera[6]};
  const double up_error = std::acos(std::min(1.0, mocap::dot(up, camera.up_in_camera()))) * 180 / mocap::kPi;
  EXPECT_LT(up_error, 2.0);
  EXPECT_NEAR(after.camera_tilt_degrees, 20.4, 2.0);  // 20 degrees of pitch and 4 of roll

  // Contacts against the construction.
  std::int64_t agree = 0;
  for (std::size_t i = 0; i < walk.contacts.size(); ++i) agree += before.contacts[i] == walk.contacts[i];
  const double agreement = static_cast<double>(agree) / static_cast<double>(walk.contacts.size());
  EXPECT_GT(agreement, 0.9);

  // Foot skating over the frames planted by construction, mm/frame.
  const double skate_before = 1000 * motion::foot_skating(before.world, walk.contacts, T);
  const double skate_after = 1000 * motion::foot_skating(after.world, walk.contacts, T);
  std::printf("[ contacts ] up error %.2f deg, contact agreement %.1f%%, foot skating %.2f -> %.2f mm/frame\n", up_error,
              100 * agreement, skate_before, skate_after);
  EXPECT_GT(skate_before, 2.0);  // the wandering trajectory does make the feet slide
  EXPECT_LT(skate_after, 0.3 * skate_before);

  for (std::int64_t t = 0; t < T; ++t) {
    for (int ankle : {3, 6}) EXPECT_GE(at(after.world, t, ankle).y, motion::kAnkleHeight - 1e-5) << t;
    // Thigh and shin lengths kept; the upper body moves with the root only.
    for (auto [a, b] : {std::pair{1, 2}, {2, 3}, {4, 5}, {5, 6}})
      EXPECT_NEAR(mocap::norm(at(after.world, t, a) - at(after.world, t, b)),
                  mocap::norm(at(before.world, t, a) - at(before.world, t, b)), 1e-4);
    for (int j = 7; j < 17; ++j)
      EXPECT_LT(mocap::norm((at(after.world, t, j) - at(after.world, t, 0)) - (at(before.world, t, j) - at(before.world, t, 0))),
                1e-5);
  }
  // The camera-space outputs are the world's, seen back from the camera.
  for (std::int64_t t = 0; t < T; t += 37)
    for (int j = 0; j < 17; ++j) {
      const Vec3 camera_point = at(after.positions, t, j) + Vec3{after.trajectory[3 * t], after.trajectory[3 * t + 1], after.trajectory[3 * t + 2]};
      const auto& m = after.world_from_camera;
      const Vec3 w{m[0] * camera_point.x + m[1] * camera_point.y + m[2] * camera_point.z + m[3],
                   m[4] * camera_point.x + m[5] * camera_point.y + m[6] * camera_point.z + m[7],
                   m[8] * camera_point.x + m[9] * camera_point.y + m[10] * camera_point.z + m[11]};
      EXPECT_LT(mocap::norm(w - at(after.world, t, j)), 1e-5);
    }
}

// A figure standing still before a level camera: the floor lies kAnkleHeight below the
// ankles, the origin below the root, world = (x, -y, -z) shifted; without a trajectory the
// contacts are found and nothing is locked.
TEST(MotionWorld, StandingFigureBeforeALevelCameraByHand) {
  const std::int64_t T = 20;
  std::vector<float> positions;
  for (std::int64_t t = 0; t < T; ++t)
    for (int j = 0; j < 17; ++j) {
      // Ankles (3, 6) 0.85 m below the root (camera y down), everything else above it.
      const bool ankle = j == 3 || j == 6;
      const bool centred = j == 0 || j == 8 || ankle;  // the body's up exactly -y
      positions.insert(positions.end(), {centred ? 0.0f : 0.01f * j, ankle ? 0.85f : (j == 0 ? 0.0f : -0.3f), 0.0f});
    }
  const motion::WorldMotion w = motion::ground_motion(positions, {}, T, kFps, {});
  EXPECT_EQ(w.up_source, "body");
  EXPECT_NEAR(w.camera_tilt_degrees, 0.0, 1e-9);
  for (std::int64_t t = 0; t < T; ++t) {
    EXPECT_NEAR(at(w.world, t, 3).y, motion::kAnkleHeight, 1e-6);
    EXPECT_NEAR(at(w.world, t, 0).y, 0.85 + motion::kAnkleHeight, 1e-6);
    EXPECT_NEAR(at(w.world, t, 0).x, 0.0, 1e-6);
    EXPECT_NEAR(at(w.world, t, 5).x, 0.05, 1e-6);
    EXPECT_EQ(w.contacts[2 * t], 1);
    EXPECT_EQ(w.contacts[2 * t + 1], 1);
  }
  EXPECT_TRUE(w.trajectory.empty());
  EXPECT_EQ(w.positions, positions);
  // Ground off: the level camera and no contacts.
  motion::GroundOptions off;
  off.ground = false;
  const motion::WorldMotion level = motion::ground_motion(positions, {}, T, kFps, off);
  EXPECT_EQ(level.up_source, "level");
  EXPECT_EQ(level.positions, positions);
  EXPECT_TRUE(level.contacts.empty());
  EXPECT_NEAR(at(level.world, 4, 3).y, motion::kAnkleHeight, 1e-6);
}

TEST(MotionWorld, LegsReachingBelowTheFloorAreBentUpOntoIt) {
  // One foot dips 5 cm under the floor for a few frames while the other stands.
  const std::int64_t T = 40;
  std::vector<float> positions;
  for (std::int64_t t = 0; t < T; ++t)
    for (int j = 0; j < 17; ++j) {
      double y = j == 0 ? 0.0 : -0.3;
      if (j == 1 || j == 4) y = 0.0;
      if (j == 2 || j == 5) y = 0.42;
      if (j == 3 || j == 6) y = 0.84;
      if (j == 3 && t >= 20 && t < 25) y = 0.89;
      positions.insert(positions.end(), {static_cast<float>(j == 1 || j == 2 || j == 3 ? -0.1 : 0.1), static_cast<float>(y),
                                         static_cast<float>(j == 2 || j == 5 ? -0.03 : 0.0)});
    }
  positions[0] = positions[1] = positions[2] = 0.0f;
  const motion::WorldMotion w = motion::ground_motion(positions, {}, 40, kFps, {});
  for (std::int64_t t = 0; t < T; ++t) EXPECT_GE(at(w.world, t, 3).y, motion::kAnkleHeight - 1e-6) << t;
  // Bent, not stretched: the shin keeps its length, the knee comes forward.
  EXPECT_NEAR(mocap::norm(at(w.world, 22, 3) - at(w.world, 22, 2)), mocap::norm(at(positions, 22, 3) - at(positions, 22, 2)),
              1e-5);
  EXPECT_GT(at(w.world, 22, 2).z - at(w.world, 22, 1).z, at(w.world, 10, 2).z - at(w.world, 10, 1).z + 0.01);
}

TEST(MotionWorld, BadSettingsNameTheirFlag) {
  motion::GroundOptions o;
  o.contact_height = 0;
  try {
    motion::validate_ground(o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--contact-height"), std::string::npos);
  }
  o = {};
  o.contact_speed = -1;
  EXPECT_THROW(motion::validate_ground(o), InputError);
  std::vector<float> bad(17 * 3, 0.0f);
  bad[5] = std::nanf("");
  EXPECT_THROW(motion::ground_motion(bad, {}, 1, kFps, {}), InputError);
}
