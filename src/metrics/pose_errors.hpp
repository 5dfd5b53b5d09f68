// Evaluation metrics of VideoPose3D / PoseFormer (common/loss.py) on plain float arrays.
// Inputs are float32 poses (as the model produces them); every sum runs in double, and the
// results are in the inputs' unit (metres for poselift's data).
#pragma once

#include <array>
#include <cstddef>

#include "io/ndarray.hpp"

namespace poselift::metrics {

// Read-only view of `num_poses` poses of `num_joints` 3D joints, C order (N, J, 3).
struct PoseView {
  const float* data = nullptr;
  std::size_t num_poses = 0;
  std::size_t num_joints = 0;
};
// View of a float32 (..., J, 3) array: every leading axis becomes the pose axis.
PoseView pose_view(const io::NdArray& poses);

// Protocol #1: mean Euclidean distance between corresponding joints over all poses.
double mpjpe(PoseView predicted, PoseView target);
// Protocol #2: MPJPE after aligning each predicted pose to its target with the best
// similarity transform (scale, rotation without reflection, translation).
double p_mpjpe(PoseView predicted, PoseView target);
// Protocol #3: MPJPE after scaling each predicted pose by the least-squares optimal factor
// mean_j(target . predicted) / mean_j(predicted . predicted).
double n_mpjpe(PoseView predicted, PoseView target);
// MPJVE: mean distance between the frame-to-frame velocities (differences along the pose
// axis, which must therefore be one sequence in frame order).
double mean_velocity_error(PoseView predicted, PoseView target);
// As the original (numpy/torch mean of nothing), these return NaN when there is nothing to
// average: no poses (or no joints), or fewer than two poses for the velocity error.

// Singular value decomposition A = U * diag(s) * V^T of a 3x3 matrix (row-major arrays),
// with s sorted in decreasing order, s >= 0, and U, V orthogonal (det +1 or -1).
// Hand-written (one-sided Jacobi) because P-MPJPE needs only this tiny fixed size: it avoids
// a LAPACK/Eigen dependency, and rank-deficient inputs (planar or collinear poses) still get
// a complete orthonormal U.
struct Svd3 {
  std::array<double, 9> u{};
  std::array<double, 3> s{};
  std::array<double, 9> v{};
};
Svd3 svd_3x3(const std::array<double, 9>& a);

}  // namespace poselift::metrics
