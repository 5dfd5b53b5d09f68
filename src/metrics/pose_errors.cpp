#include "metrics/pose_errors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "io/error.hpp"

namespace poselift::metrics {

namespace {

using Mat3 = std::array<double, 9>;  // row-major
using Vec3 = std::array<double, 3>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_pair(const PoseView& predicted, const PoseView& target, const char* metric) {
  if (predicted.num_poses != target.num_poses || predicted.num_joints != target.num_joints)
    throw InputError(std::string(metric) + ": predicted poses (" + std::to_string(predicted.num_poses) + ", " +
                     std::to_string(predicted.num_joints) + ", 3) and targets (" + std::to_string(target.num_poses) +
                     ", " + std::to_string(target.num_joints) + ", 3) differ in shape");
  const bool empty = predicted.num_poses == 0 || predicted.num_joints == 0;
  if (!empty && (!predicted.data || !target.data))
    throw InputError(std::string(metric) + ": pose data is missing");
}

Vec3 point(const float* p) { return {p[0], p[1], p[2]}; }

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

Vec3 column(const Mat3& m, int c) { return {m[c], m[3 + c], m[6 + c]}; }

void set_column(Mat3& m, int c, const Vec3& v) {
  for (int r = 0; r < 3; ++r) m[3 * r + c] = v[r];
}

double determinant(const Mat3& m) {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

// A unit vector orthogonal to the unit vector `u`: the axis least aligned with u, minus its
// projection on u.
Vec3 orthogonal_unit(const Vec3& u) {
  int axis = 0;
  for (int k = 1; k < 3; ++k)
    if (std::fabs(u[k]) < std::fabs(u[axis])) axis = k;
  Vec3 e{0.0, 0.0, 0.0};
  e[axis] = 1.0;
  const double along = dot(e, u);
  for (int k = 0; k < 3; ++k) e[k] -= along * u[k];
  const double length = norm(e);
  for (double& x : e) x /= length;
  return e;
}

// Mean over the joints of one pose of |aligned_j - target_j| where aligned_j = transform(p_j).
template <class Transform>
double pose_error(const float* predicted, const float* target, std::size_t joints, Transform transform) {
  double sum = 0.0;
  for (std::size_t j = 0; j < joints; ++j) sum += distance(transform(point(predicted + 3 * j)), point(target + 3 * j));
  return sum;
}

}  // namespace

PoseView pose_view(const io::NdArray& poses) {
  if (poses.dtype != io::DType::Float32)
    throw InputError("pose_view: expected float32 poses, found " + io::dtype_name(poses.dtype));
  if (poses.shape.size() < 2 || poses.shape.back() != 3)
    throw InputError("pose_view: expected poses of shape (..., joints, 3), found " + poses.shape_string());
  PoseView view;
  view.data = poses.data<float>();
  view.num_joints = static_cast<std::size_t>(poses.shape[poses.shape.size() - 2]);
  view.num_poses = view.num_joints == 0 ? 0 : static_cast<std::size_t>(poses.numel() / (3 * poses.shape[poses.shape.size() - 2]));
  return view;
}

Svd3 svd_3x3(const Mat3& a) {
  // One-sided Jacobi: rotate column pairs of W = A V until all columns are orthogonal;
  // then the column norms are the singular values and the normalised columns form U.
  Mat3 w = a;
  Mat3 v{1, 0, 0, 0, 1, 0, 0, 0, 1};
  constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
  constexpr int kMaxSweeps = 60;  // 3x3 converges in a handful; this only bounds bad inputs (NaN)
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    bool rotated = false;
    for (int p = 0; p < 2; ++p)
      for (int q = p + 1; q < 3; ++q) {
        const Vec3 wp = column(w, p), wq = column(w, q);
        const double alpha = dot(wp, wp), beta = dot(wq, wq), gamma = dot(wp, wq);
        if (!(std::fabs(gamma) > kEpsilon * std::sqrt(alpha * beta))) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2.0 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::hypot(1.0, zeta));
        const double c = 1.0 / std::sqrt(1.0 + t * t), s = c * t;
        for (Mat3* m : {&w, &v})
          for (int r = 0; r < 3; ++r) {
            const double mp = (*m)[3 * r + p], mq = (*m)[3 * r + q];
            (*m)[3 * r + p] = c * mp - s * mq;
            (*m)[3 * r + q] = s * mp + c * mq;
          }
      }
    if (!rotated) break;
  }

  // Sort by decreasing column norm, permuting W and V alike.
  std::array<int, 3> order{0, 1, 2};
  Vec3 norms{norm(column(w, 0)), norm(column(w, 1)), norm(column(w, 2))};
  std::sort(order.begin(), order.end(), [&](int i, int j) { return norms[i] > norms[j]; });
  Svd3 result;
  Mat3 sorted_w{};
  for (int k = 0; k < 3; ++k) {
    set_column(sorted_w, k, column(w, order[k]));
    set_column(result.v, k, column(v, order[k]));
    result.s[k] = norms[order[k]];
  }

  // U: normalised columns, completed to an orthonormal basis where singular values vanish.
  const double negligible = result.s[0] * 8.0 * kEpsilon;
  Vec3 u0{1.0, 0.0, 0.0};
  if (result.s[0] > 0.0) {
    u0 = column(sorted_w, 0);
    for (double& x : u0) x /= result.s[0];
  }
  Vec3 u1;
  if (result.s[1] > negligible) {
    u1 = column(sorted_w, 1);
    const double along = dot(u1, u0);
    for (int k = 0; k < 3; ++k) u1[k] -= along * u0[k];  // re-orthogonalise against rounding
    const double length = norm(u1);
    for (double& x : u1) x /= length;
  } else {
    u1 = orthogonal_unit(u0);
    result.s[1] = std::fabs(dot(column(sorted_w, 1), u1));
  }
  Vec3 u2 = cross(u0, u1);
  double s2 = dot(column(sorted_w, 2), u2);
  if (s2 < 0.0) {
    for (double& x : u2) x = -x;
    s2 = -s2;
  }
  result.s[2] = s2;
  set_column(result.u, 0, u0);
  set_column(result.u, 1, u1);
  set_column(result.u, 2, u2);
  return result;
}

double mpjpe(PoseView predicted, PoseView target) {
  check_pair(predicted, target, "mpjpe");
  const std::size_t n = predicted.num_poses * predicted.num_joints;
  if (n == 0) return kNaN;
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    sum += distance(point(predicted.data + 3 * i), point(target.data + 3 * i));
  return sum / static_cast<double>(n);
}

double p_mpjpe(PoseView predicted, PoseView target) {
  check_pair(predicted, target, "p_mpjpe");
  const std::size_t joints = predicted.num_joints;
  if (predicted.num_poses * joints == 0) return kNaN;
  double sum = 0.0;
  for (std::size_t pose = 0; pose < predicted.num_poses; ++pose) {
    const float* p = predicted.data + pose * joints * 3;
    const float* t = target.data + pose * joints * 3;

    Vec3 mean_target{0, 0, 0}, mean_predicted{0, 0, 0};
    for (std::size_t j = 0; j < joints; ++j)
      for (int c = 0; c < 3; ++c) {
        mean_target[c] += t[3 * j + c];
        mean_predicted[c] += p[3 * j + c];
      }
    for (int c = 0; c < 3; ++c) {
      mean_target[c] /= static_cast<double>(joints);
      mean_predicted[c] /= static_cast<double>(joints);
    }
    double norm_target = 0.0, norm_predicted = 0.0;
    for (std::size_t j = 0; j < joints; ++j)
      for (int c = 0; c < 3; ++c) {
        norm_target += (t[3 * j + c] - mean_target[c]) * (t[3 * j + c] - mean_target[c]);
        norm_predicted += (p[3 * j + c] - mean_predicted[c]) * (p[3 * j + c] - mean_predicted[c]);
      }
    norm_target = std::sqrt(norm_target);
    norm_predicted = std::sqrt(norm_predicted);

    if (norm_target == 0.0 || norm_predicted == 0.0) {
      // A pose collapsed to one point: the best similarity maps the prediction onto the
      // target's centroid (the original divides by zero here and yields NaN).
      sum += pose_error(p, t, joints, [&](const Vec3&) { return mean_target; });
      continue;
    }

    // Correlation H = X0^T Y0 of the centred, unit-norm target X0 and prediction Y0.
    Mat3 h{};
    for (std::size_t j = 0; j < joints; ++j)
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          h[3 * a + b] += (t[3 * j + a] - mean_target[a]) / norm_target * ((p[3 * j + b] - mean_predicted[b]) / norm_predicted);
    Svd3 svd = svd_3x3(h);

    // R = V U^T; a reflection (det -1) is turned into the closest rotation by flipping the
    // singular vector of the smallest singular value.
    auto rotation = [&]() {
      Mat3 r{};
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          for (int k = 0; k < 3; ++k) r[3 * a + b] += svd.v[3 * a + k] * svd.u[3 * b + k];
      return r;
    };
    Mat3 r = rotation();
    if (determinant(r) < 0.0) {
      for (int row = 0; row < 3; ++row) svd.v[3 * row + 2] = -svd.v[3 * row + 2];
      svd.s[2] = -svd.s[2];
      r = rotation();
    }
    const double scale = (svd.s[0] + svd.s[1] + svd.s[2]) * norm_target / norm_predicted;
    // Row-vector convention of the original: aligned = scale * p R + (muX - scale * muY R).
    auto rotate_row = [&](const Vec3& x) {
      return Vec3{x[0] * r[0] + x[1] * r[3] + x[2] * r[6], x[0] * r[1] + x[1] * r[4] + x[2] * r[7],
                  x[0] * r[2] + x[1] * r[5] + x[2] * r[8]};
    };
    const Vec3 rotated_mean = rotate_row(mean_predicted);
    Vec3 offset{};
    for (int c = 0; c < 3; ++c) offset[c] = mean_target[c] - scale * rotated_mean[c];
    sum += pose_error(p, t, joints, [&](const Vec3& x) {
      const Vec3 y = rotate_row(x);
      return Vec3{scale * y[0] + offset[0], scale * y[1] + offset[1], scale * y[2] + offset[2]};
    });
  }
  return sum / static_cast<double>(predicted.num_poses * joints);
}

double n_mpjpe(PoseView predicted, PoseView target) {
  check_pair(predicted, target, "n_mpjpe");
  const std::size_t joints = predicted.num_joints;
  if (predicted.num_poses * joints == 0) return kNaN;
  double sum = 0.0;
  for (std::size_t pose = 0; pose < predicted.num_poses; ++pose) {
    const float* p = predicted.data + pose * joints * 3;
    const float* t = target.data + pose * joints * 3;
    double predicted_energy = 0.0, correlation = 0.0;
    for (std::size_t i = 0; i < joints * 3; ++i) {
      predicted_energy += static_cast<double>(p[i]) * p[i];
      correlation += static_cast<double>(t[i]) * p[i];
    }
    // The per-joint means of the original cancel in the ratio. An all-zero prediction stays
    // zero whatever the scale (the original would produce NaN).
    const double scale = predicted_energy == 0.0 ? 0.0 : correlation / predicted_energy;
    sum += pose_error(p, t, joints, [&](const Vec3& x) { return Vec3{scale * x[0], scale * x[1], scale * x[2]}; });
  }
  return sum / static_cast<double>(predicted.num_poses * joints);
}

double mean_velocity_error(PoseView predicted, PoseView target) {
  check_pair(predicted, target, "mean_velocity_error");
  const std::size_t joints = predicted.num_joints;
  if (predicted.num_poses < 2 || joints == 0) return kNaN;
  double sum = 0.0;
  for (std::size_t pose = 1; pose < predicted.num_poses; ++pose)
    for (std::size_t j = 0; j < joints; ++j) {
      const std::size_t now = (pose * joints + j) * 3, before = ((pose - 1) * joints + j) * 3;
      Vec3 difference{};
      for (int c = 0; c < 3; ++c) {
        const double velocity_predicted = static_cast<double>(predicted.data[now + c]) - predicted.data[before + c];
        const double velocity_target = static_cast<double>(target.data[now + c]) - target.data[before + c];
        difference[c] = velocity_predicted - velocity_target;
      }
      sum += norm(difference);
    }
  return sum / static_cast<double>((predicted.num_poses - 1) * joints);
}

}  // namespace poselift::metrics
