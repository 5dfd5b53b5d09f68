// Sliding-window lifting of whole 2D sequences with PoseFormer: one F-frame window per output
// frame (edges padded by repeating the first/last frame), optionally averaged with the
// prediction for the horizontally flipped input (test-time augmentation).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/poseformer.hpp"

namespace poselift::engine {

// Left/right keypoint (2D) and joint (3D) indices swapped by a horizontal flip.
struct FlipSymmetry {
  std::vector<std::int64_t> kps_left, kps_right, joints_left, joints_right;
};

// Mirrors poses horizontally: x negated, left/right indices swapped. `poses` (..., J, C).
torch::Tensor flip_poses(const torch::Tensor& poses, const std::vector<std::int64_t>& left,
                         const std::vector<std::int64_t>& right);

struct PredictOptions {
  bool test_time_augmentation = true;
  std::int64_t max_batch = 1024;  // windows per forward pass (bounds memory)
};

// `keypoints` (T, J, 2) normalised screen coordinates -> (T, J, 3) root-relative camera-space
// positions in metres. The model must be in eval mode.
torch::Tensor predict_sequence(model::PoseFormer& model, const torch::Tensor& keypoints,
                               const FlipSymmetry& symmetry, const PredictOptions& options,
                               const torch::Device& device);

}  // namespace poselift::engine
