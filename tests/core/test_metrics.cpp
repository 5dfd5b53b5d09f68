#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "metrics/pose_errors.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "test_data_support.hpp"

namespace poselift::metrics {
namespace {

using Poses = std::vector<float>;

PoseView view(const Poses& poses, std::size_t joints) { return {poses.data(), poses.size() / (3 * joints), joints}; }

// A non-planar 5-joint pose (so a reflection cannot be undone by a rotation).
const Poses kPose{0.0f, 0.0f, 0.0f, 0.3f, 0.1f, -0.2f, -0.1f, 0.5f, 0.2f, 0.4f, -0.3f, 0.6f, -0.5f, 0.2f, -0.1f};
constexpr std::size_t kJoints = 5;

using Matrix = std::array<double, 9>;

Poses transform(const Poses& poses, const Matrix& rotation, double scale, const std::array<double, 3>& shift) {
  Poses out(poses.size());
  for (std::size_t j = 0; j < poses.size() / 3; ++j)
    for (int r = 0; r < 3; ++r) {
      double value = shift[r];
      for (int c = 0; c < 3; ++c) value += scale * rotation[3 * r + c] * poses[3 * j + c];
      out[3 * j + r] = static_cast<float>(value);
    }
  return out;
}

Matrix rotation_about_axis(std::array<double, 3> axis, double angle) {
  const double length = std::sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
  for (double& a : axis) a /= length;
  const double c = std::cos(angle), s = std::sin(angle), t = 1 - c;
  const double x = axis[0], y = axis[1], z = axis[2];
  return {t * x * x + c,     t * x * y - s * z, t * x * z + s * y,
          t * x * y + s * z, t * y * y + c,     t * y * z - s * x,
          t * x * z - s * y, t * y * z + s * x, t * z * z + c};
}

TEST(Metrics, IdenticalPosesHaveNoError) {
  const Poses two_frames = [] {
    Poses p = kPose;
    p.insert(p.end(), kPose.begin(), kPose.end());
    return p;
  }();
  EXPECT_EQ(mpjpe(view(two_frames, kJoints), view(two_frames, kJoints)), 0.0);
  EXPECT_NEAR(p_mpjpe(view(two_frames, kJoints), view(two_frames, kJoints)), 0.0, 1e-12);
  EXPECT_NEAR(n_mpjpe(view(two_frames, kJoints), view(two_frames, kJoints)), 0.0, 1e-12);
  EXPECT_EQ(mean_velocity_error(view(two_frames, kJoints), view(two_frames, kJoints)), 0.0);
}

TEST(Metrics, TranslatedPoseIsAlignedByProcrustes) {
  const Matrix identity{1, 0, 0, 0, 1, 0, 0, 0, 1};
  const Poses moved = transform(kPose, identity, 1.0, {0.3, -0.4, 1.2});
  EXPECT_NEAR(mpjpe(view(moved, kJoints), view(kPose, kJoints)), std::sqrt(0.09 + 0.16 + 1.44), 1e-6);
  EXPECT_NEAR(p_mpjpe(view(moved, kJoints), view(kPose, kJoints)), 0.0, 1e-6);
  EXPECT_GT(n_mpjpe(view(moved, kJoints), view(kPose, kJoints)), 0.01);
}

TEST(Metrics, RotatedAndScaledPoseIsAlignedByProcrustes) {
  const Matrix rotation = rotation_about_axis({0.2, 1.0, -0.4}, 0.9);
  const Poses moved = transform(kPose, rotation, 1.7, {0.1, 0.2, -0.3});
  double expected = 0.0;  // mean joint distance computed directly
  for (std::size_t j = 0; j < kJoints; ++j) {
    double squared = 0.0;
    for (int c = 0; c < 3; ++c) squared += std::pow(double(moved[3 * j + c]) - kPose[3 * j + c], 2);
    expected += std::sqrt(squared) / kJoints;
  }
  EXPECT_NEAR(mpjpe(view(moved, kJoints), view(kPose, kJoints)), expected, 1e-12);
  EXPECT_GT(expected, 0.1);
  EXPECT_NEAR(p_mpjpe(view(moved, kJoints), view(kPose, kJoints)), 0.0, 1e-6);
}

TEST(Metrics, MpjpeOfAHandWorkedCase) {
  // Joint errors 5 (3-4-5 triangle) and 0: mean 2.5.
  const Poses predicted{3, 4, 0, 1, 1, 1};
  const Poses target{0, 0, 0, 1, 1, 1};
  EXPECT_DOUBLE_EQ(mpjpe(view(predicted, 2), view(target, 2)), 2.5);
}

TEST(Metrics, ReflectionIsNotAllowedInTheAlignment) {
  const Matrix mirror_x{-1, 0, 0, 0, 1, 0, 0, 0, 1};
  const Poses mirrored = transform(kPose, mirror_x, 1.0, {0, 0, 0});
  EXPECT_GT(p_mpjpe(view(mirrored, kJoints), view(kPose, kJoints)), 0.02);
  // A rotated mirror image is just as unreachable.
  const Poses rotated_mirror = transform(mirrored, rotation_about_axis({1, 1, 0}, 0.5), 1.0, {0, 0, 0});
  EXPECT_GT(p_mpjpe(view(rotated_mirror, kJoints), view(kPose, kJoints)), 0.02);
}

TEST(Metrics, ScaleNormalisedError) {
  const Matrix identity{1, 0, 0, 0, 1, 0, 0, 0, 1};
  const Poses doubled = transform(kPose, identity, 2.0, {0, 0, 0});
  EXPECT_NEAR(n_mpjpe(view(doubled, kJoints), view(kPose, kJoints)), 0.0, 1e-7);
  // Target (1,0,0), (0,1,0); prediction (2,0,0), (0,0,1): scale = mean(2, 0) / mean(4, 1) = 0.4,
  // scaled prediction (0.8,0,0), (0,0,0.4): errors 0.2 and sqrt(1.16).
  const Poses predicted{2, 0, 0, 0, 0, 1};
  const Poses target{1, 0, 0, 0, 1, 0};
  EXPECT_NEAR(n_mpjpe(view(predicted, 2), view(target, 2)), (0.2 + std::sqrt(1.16)) / 2, 1e-12);
  // An all-zero prediction stays at zero instead of producing NaN.
  const Poses zeros(6, 0.0f);
  EXPECT_NEAR(n_mpjpe(view(zeros, 2), view(target, 2)), 1.0, 1e-12);
}

TEST(Metrics, VelocityErrorComparesFrameDifferences) {
  // Constant offset: same velocities.
  const Poses target{0, 0, 0, 1, 0, 0, 3, 0, 0};  // one joint, three frames
  const Poses offset{5, 5, 5, 6, 5, 5, 8, 5, 5};
  EXPECT_EQ(mean_velocity_error(view(offset, 1), view(target, 1)), 0.0);
  // Velocities (1,0,0),(2,0,0) vs (0,1,0),(2,0,0): errors sqrt(2) and 0.
  const Poses predicted{0, 0, 0, 0, 1, 0, 2, 1, 0};
  EXPECT_NEAR(mean_velocity_error(view(predicted, 1), view(target, 1)), std::sqrt(2.0) / 2, 1e-12);
  EXPECT_TRUE(std::isnan(mean_velocity_error(view(Poses{0, 0, 0}, 1), view(Poses{1, 1, 1}, 1))));
}

TEST(Metrics, DegeneratePosesStayFinite) {
  const Poses point(15, 0.5f);
  EXPECT_TRUE(std::isfinite(p_mpjpe(view(point, kJoints), view(kPose, kJoints))));
  EXPECT_TRUE(std::isfinite(p_mpjpe(view(kPose, kJoints), view(point, kJoints))));
  // A planar pose (all z = 0) against a rotated copy of itself.
  Poses planar = kPose;
  for (std::size_t j = 0; j < kJoints; ++j) planar[3 * j + 2] = 0.0f;
  const Poses turned = transform(planar, rotation_about_axis({0, 0, 1}, 1.1), 0.8, {1, 2, 3});
  EXPECT_NEAR(p_mpjpe(view(turned, kJoints), view(planar, kJoints)), 0.0, 1e-6);
  // Collinear joints.
  const Poses line{0, 0, 0, 1, 1, 1, 2, 2, 2};
  const Poses line_moved = transform(line, rotation_about_axis({1, 0, 0}, 0.7), 2.0, {0, 1, 0});
  EXPECT_NEAR(p_mpjpe(view(line_moved, 3), view(line, 3)), 0.0, 1e-6);
}

TEST(Metrics, ShapeMismatchIsAnInputError) {
  EXPECT_THROW(mpjpe(view(kPose, kJoints), view(Poses(12, 0.0f), 4)), InputError);
  EXPECT_THROW(p_mpjpe(view(kPose, kJoints), view(Poses(30, 0.0f), kJoints)), InputError);
  EXPECT_TRUE(std::isnan(mpjpe(PoseView{}, PoseView{})));
}

TEST(Metrics, PoseViewOfAnArray) {
  const io::NdArray poses = test_support::random_array({2, 4, 17, 3}, 1);
  const PoseView v = pose_view(poses);
  EXPECT_EQ(v.num_poses, 8u);
  EXPECT_EQ(v.num_joints, 17u);
  EXPECT_THROW(pose_view(test_support::random_array({4, 17, 2}, 1)), InputError);
  EXPECT_THROW(pose_view(io::NdArray::zeros(io::DType::Float64, {4, 17, 3})), InputError);
}

void expect_valid_svd(const Matrix& a, const Svd3& svd, double tolerance) {
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      double reconstructed = 0.0, u_gram = 0.0, v_gram = 0.0;
      for (int k = 0; k < 3; ++k) {
        reconstructed += svd.u[3 * r + k] * svd.s[k] * svd.v[3 * c + k];
        u_gram += svd.u[3 * k + r] * svd.u[3 * k + c];
        v_gram += svd.v[3 * k + r] * svd.v[3 * k + c];
      }
      EXPECT_NEAR(reconstructed, a[3 * r + c], tolerance);
      EXPECT_NEAR(u_gram, r == c ? 1.0 : 0.0, 1e-12);
      EXPECT_NEAR(v_gram, r == c ? 1.0 : 0.0, 1e-12);
    }
  EXPECT_GE(svd.s[0], svd.s[1]);
  EXPECT_GE(svd.s[1], svd.s[2]);
  EXPECT_GE(svd.s[2], 0.0);
}

TEST(Metrics, Svd3x3OnRandomAndRankDeficientMatrices) {
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 200; ++trial) {
    Matrix a;
    for (double& x : a) x = normal(rng);
    expect_valid_svd(a, svd_3x3(a), 1e-12);
  }
  const Matrix rank2{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Svd3 svd2 = svd_3x3(rank2);
  expect_valid_svd(rank2, svd2, 1e-12);
  EXPECT_NEAR(svd2.s[2], 0.0, 1e-12);
  const Matrix rank1{1, 2, 3, 2, 4, 6, -1, -2, -3};
  const Svd3 svd1 = svd_3x3(rank1);
  expect_valid_svd(rank1, svd1, 1e-12);
  EXPECT_NEAR(svd1.s[1], 0.0, 1e-12);
  expect_valid_svd(Matrix{}, svd_3x3(Matrix{}), 0.0);
  const Matrix diagonal{0, 0, 0, 0, 3, 0, 0, 0, -2};
  const Svd3 svd_diagonal = svd_3x3(diagonal);
  expect_valid_svd(diagonal, svd_diagonal, 1e-14);
  EXPECT_DOUBLE_EQ(svd_diagonal.s[0], 3.0);
  EXPECT_DOUBLE_EQ(svd_diagonal.s[1], 2.0);
}

TEST(Metrics, AgreeWithNumpyReferenceOnRandomSequences) {
  if (!test_support::numpy_available()) GTEST_SKIP() << "no numpy at /usr/bin/python3; skipping";
  const std::string dir = test_support::scratch_dir();
  // Targets: random poses; predictions: noisy, rotated, scaled copies (a realistic mix).
  const io::NdArray target = test_support::random_array({40, 17, 3}, 21, -0.8f, 0.8f);
  io::NdArray predicted = test_support::random_array({40, 17, 3}, 22, -0.1f, 0.1f);
  const Matrix rotation = rotation_about_axis({0.3, -1, 0.5}, 0.4);
  for (std::int64_t i = 0; i < 40 * 17; ++i)
    for (int r = 0; r < 3; ++r) {
      double value = 0.0;
      for (int c = 0; c < 3; ++c) value += 1.1 * rotation[3 * r + c] * target.data<float>()[3 * i + c];
      predicted.data<float>()[3 * i + r] += static_cast<float>(value);
    }
  io::write_npy(dir + "/target.npy", target);
  io::write_npy(dir + "/predicted.npy", predicted);

  // Independent numpy formulation of common/loss.py, in float64.
  const std::string script = "import numpy as np\n"
                             "t = np.load('" + dir + "/target.npy').astype(np.float64)\n"
                             "p = np.load('" + dir + "/predicted.npy').astype(np.float64)\n"
                             "def mpjpe(p, t): return np.linalg.norm(p - t, axis=-1).mean()\n"
                             "def p_mpjpe(p, t):\n"
                             "    mt, mp = t.mean(1, keepdims=True), p.mean(1, keepdims=True)\n"
                             "    t0, p0 = t - mt, p - mp\n"
                             "    nt = np.sqrt((t0 ** 2).sum((1, 2), keepdims=True))\n"
                             "    np_ = np.sqrt((p0 ** 2).sum((1, 2), keepdims=True))\n"
                             "    t0, p0 = t0 / nt, p0 / np_\n"
                             "    u, s, vt = np.linalg.svd(t0.transpose(0, 2, 1) @ p0)\n"
                             "    v = vt.transpose(0, 2, 1)\n"
                             "    d = np.sign(np.linalg.det(v @ u.transpose(0, 2, 1)))\n"
                             "    v[:, :, -1] *= d[:, None]\n"
                             "    s[:, -1] *= d\n"
                             "    r = v @ u.transpose(0, 2, 1)\n"
                             "    a = s.sum(1)[:, None, None] * nt / np_\n"
                             "    aligned = a * (p @ r) + (mt - a * (mp @ r))\n"
                             "    return mpjpe(aligned, t)\n"
                             "def n_mpjpe(p, t):\n"
                             "    scale = (t * p).sum(-1).mean(-1) / (p * p).sum(-1).mean(-1)\n"
                             "    return mpjpe(scale[:, None, None] * p, t)\n"
                             "def mpjve(p, t): return np.linalg.norm(np.diff(p, axis=0) - np.diff(t, axis=0), axis=-1).mean()\n"
                             "for f in (mpjpe, p_mpjpe, n_mpjpe, mpjve): print(repr(f(p, t)))\n";
  std::istringstream output(test_support::run_python(script, dir));
  double expected[4];
  for (double& e : expected) ASSERT_TRUE(output >> e);
  const PoseView p = pose_view(predicted), t = pose_view(target);
  EXPECT_NEAR(mpjpe(p, t), expected[0], 1e-12);
  EXPECT_NEAR(p_mpjpe(p, t), expected[1], 1e-12);
  EXPECT_NEAR(n_mpjpe(p, t), expected[2], 1e-12);
  EXPECT_NEAR(mean_velocity_error(p, t), expected[3], 1e-12);
  EXPECT_GT(expected[1], 0.01);
}

}  // namespace
}  // namespace poselift::metrics
