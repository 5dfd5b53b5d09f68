// The geometric root trajectory: exact on noise-free projections of a known skeleton through a
// known pinhole camera, close under detector-like noise, robust on degenerate frames; the
// camera from a focal length or a field of view.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "io/error.hpp"
#include "motion/trajectory.hpp"

using namespace poselift;

namespace {

struct Projected {
  std::vector<float> positions, keypoints, scores, roots;
};

// A 17-joint skeleton (about 1.7 m, root at the origin) walking away and sideways, projected.
Projected walking_skeleton(std::int64_t T, const motion::PinholeCamera& cam, double noise_px, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_px);
  std::uniform_real_distribution<double> u(-0.3, 0.3);
  std::vector<std::array<double, 3>> body(17);
  body[0] = {0, 0, 0};  // the root
  for (int j = 1; j < 17; ++j) body[j] = {u(rng), -0.9 + 1.7 * (j % 7) / 6.0, 0.5 * u(rng)};
  Projected p;
  for (std::int64_t t = 0; t < T; ++t) {
    const double root[3] = {-1.0 + 0.02 * t, 0.3 + 0.05 * std::sin(0.2 * t), 3.0 + 0.04 * t};
    for (int c = 0; c < 3; ++c) p.roots.push_back(static_cast<float>(root[c]));
    for (int j = 0; j < 17; ++j) {
      const double sway = j ? 0.05 * std::sin(0.3 * t + j) : 0.0;
      const double X = body[j][0] + sway, Y = body[j][1], Z = body[j][2] + sway;
      const double x = X + root[0], y = Y + root[1], z = Z + root[2];
      p.positions.insert(p.positions.end(), {static_cast<float>(X), static_cast<float>(Y), static_cast<float>(Z)});
      p.keypoints.push_back(static_cast<float>(cam.focal * x / z + cam.cx + noise(rng)));
      p.keypoints.push_back(static_cast<float>(cam.focal * y / z + cam.cy + noise(rng)));
      p.scores.push_back(0.9f);
    }
  }
  return p;
}

double mean_root_error(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); i += 3)
    sum += std::sqrt(std::pow(a[i] - b[i], 2) + std::pow(a[i + 1] - b[i + 1], 2) + std::pow(a[i + 2] - b[i + 2], 2));
  return sum / (a.size() / 3);
}

}  // namespace

TEST(RootTrajectory, RecoversTheRootFromExactProjections) {
  const auto cam = motion::camera_for_image(1920, 1080, 0.0, 60.0);
  const auto p = walking_skeleton(50, cam, 0.0, 1);
  const auto roots = motion::root_trajectory(p.positions, p.keypoints, p.scores, 50, 17, cam);
  ASSERT_EQ(roots.size(), p.roots.size());
  for (std::size_t i = 0; i < roots.size(); ++i) EXPECT_NEAR(roots[i], p.roots[i], 1e-4) << i;
}

TEST(RootTrajectory, DetectorNoiseMovesItLittleAndDepthMost) {
  const auto cam = motion::camera_for_image(1920, 1080, 1500.0, 0.0);
  const auto p = walking_skeleton(200, cam, 3.0, 2);
  const auto roots = motion::root_trajectory(p.positions, p.keypoints, p.scores, 200, 17, cam);
  const double error = mean_root_error(roots, p.roots);
  std::printf("[ trajectory ] 3 px noise at 3-11 m: mean root error %.1f mm\n", 1000 * error);
  EXPECT_LT(error, 0.15);
  EXPECT_GT(error, 1e-4);  // the noise is seen
}

TEST(RootTrajectory, DegenerateFramesHoldTheLastGoodPosition) {
  const auto cam = motion::camera_for_image(640, 480, 500.0, 0.0);
  auto p = walking_skeleton(5, cam, 0.0, 3);
  // Frames 0 and 3: every joint at the root and on one image point — no depth to be had.
  for (std::int64_t t : {0, 3})
    for (int j = 0; j < 17; ++j) {
      for (int c = 0; c < 3; ++c) p.positions[static_cast<std::size_t>((t * 17 + j) * 3 + c)] = 0.0f;
      p.keypoints[static_cast<std::size_t>((t * 17 + j) * 2)] = 320.0f;
      p.keypoints[static_cast<std::size_t>((t * 17 + j) * 2 + 1)] = 240.0f;
    }
  const auto roots = motion::root_trajectory(p.positions, p.keypoints, p.scores, 5, 17, cam);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(roots[c], p.roots[3 + c], 1e-4);       // frame 0 takes frame 1's
    EXPECT_NEAR(roots[9 + c], p.roots[6 + c], 1e-4);   // frame 3 takes frame 2's
    EXPECT_NEAR(roots[12 + c], p.roots[12 + c], 1e-4);
  }
}

TEST(RootTrajectory, CameraFromFocalOrFieldOfView) {
  const auto wide = motion::camera_for_image(1000, 600, 0.0, 90.0);
  EXPECT_NEAR(wide.focal, 500.0, 1e-9);  // half the longer side over tan(45 degrees)
  EXPECT_DOUBLE_EQ(wide.cx, 500.0);
  EXPECT_DOUBLE_EQ(wide.cy, 300.0);
  EXPECT_DOUBLE_EQ(motion::camera_for_image(1000, 600, 1234.0, 90.0).focal, 1234.0);  // --focal wins
  const auto message = [](double focal, double fov) {
    try {
      motion::camera_for_image(1000, 600, focal, fov);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message(-5.0, 60.0).find("--focal"), std::string::npos);
  EXPECT_NE(message(0.0, 180.0).find("--fov"), std::string::npos);
  EXPECT_NE(message(0.0, NAN).find("--fov"), std::string::npos);
}

// standing_height: legs (shin + thigh, both legs averaged), pelvis-spine, spine-thorax and
// thorax-head top along the bones, the median over frames, plus the ankle above the floor.
TEST(StandingHeight, SumsLegsAndSpineAlongTheBones) {
  std::vector<float> p(3 * 17 * 3, 0.0f);
  auto set = [&](int t, int j, float x, float y, float z) {
    float* q = &p[static_cast<std::size_t>((t * 17 + j) * 3)];
    q[0] = x, q[1] = y, q[2] = z;
  };
  for (int t = 0; t < 3; ++t) {
    const float s = t == 1 ? 2.0f : 1.0f;  // frame 1 twice as big: the median ignores it
    // Right leg straight down (thigh 0.4, shin 0.45), left leg bent (thigh 0.4 via 3-4-5, shin 0.35).
    set(t, 1, -0.1f * s, 0.0f, 0.0f), set(t, 2, -0.1f * s, 0.4f * s, 0.0f), set(t, 3, -0.1f * s, 0.85f * s, 0.0f);
    set(t, 4, 0.1f * s, 0.0f, 0.0f), set(t, 5, 0.1f * s, 0.24f * s, 0.32f * s), set(t, 6, 0.1f * s, 0.59f * s, 0.32f * s);
    set(t, 7, 0.0f, -0.2f * s, 0.0f), set(t, 8, 0.0f, -0.45f * s, 0.0f), set(t, 10, 0.0f, -0.45f * s, -0.2f * s);
  }
  // Legs (0.4 + 0.45 + 0.4 + 0.35) / 2 = 0.8; spine 0.2 + 0.25 + 0.2 = 0.65; ankle 0.08.
  EXPECT_NEAR(motion::standing_height(p, 3), 0.8 + 0.65 + motion::kAnkleAboveFloor, 1e-6);
  EXPECT_EQ(motion::standing_height({}, 0), 0.0);
  EXPECT_THROW(motion::standing_height(p, 2), std::invalid_argument);
}
