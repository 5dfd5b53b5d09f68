// Lifting of whole 2D sequences with any family: one F-frame window per output frame for window
// models, the whole edge-padded sequence through a temporal convolution (VideoPose3D), edges
// padded by repeating the first/last frame either way; optionally averaged with the prediction
// for the horizontally flipped input (test-time augmentation).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "engine/options.hpp"
#include "model/lifter.hpp"

namespace poselift::engine {

// Left/right keypoint (2D) and joint (3D) indices swapped by a horizontal flip.
struct FlipSymmetry {
  std::vector<std::int64_t> kps_left, kps_right, joints_left, joints_right;
};

// Mirrors poses horizontally: x negated, left/right indices swapped. `poses` (..., J, C).
torch::Tensor flip_poses(const torch::Tensor& poses, const std::vector<std::int64_t>& left,
                         const std::vector<std::int64_t>& right);

// `keypoints` with the channels the model takes: a 2-channel input gets a confidence of 1 for a
// 3-channel model (MotionBERT); anything else is an InputError.
torch::Tensor with_model_channels(const model::LifterImpl& model, const torch::Tensor& keypoints);

// `keypoints` (T, J, 2) normalised screen coordinates (or (T, J, 3) with confidences) -> (T, J', 3) root-relative camera-space
// positions in metres (J' = the model's output joints; for a trajectory model pass a symmetry
// without joints). The model must be in eval mode.
torch::Tensor predict_sequence(model::LifterImpl& model, const torch::Tensor& keypoints,
                               const FlipSymmetry& symmetry, const PredictOptions& options,
                               const torch::Device& device);

// The same for several sequences at once, batched across them: the spatial stage runs on the
// frames of several sequences per pass and a temporal pass takes windows from several sequences
// (and, with test-time augmentation, the flipped windows beside the plain ones), so short
// sequences fill whole batches. Results equal predict_sequence's per sequence (up to float
// rounding); memory stays bounded by options.max_batch and the longest sequence.
std::vector<torch::Tensor> predict_sequences(model::LifterImpl& model, const std::vector<torch::Tensor>& keypoints,
                                             const FlipSymmetry& symmetry, const PredictOptions& options,
                                             const torch::Device& device);

// A sequence model's clips as MixSTE's run.py cuts a sequence of T frames: consecutive clips
// of F = receptive_field() frames, the last one the sequence's last F frames (overlapping the
// one before it), a sequence shorter than F repeated at its last frame; each clip flipped as a
// whole for test-time augmentation. `poses` (K, J', 3) are the clips' frames in order (K = clips
// x F) and `frames` the source frame of each: MixSTE's evaluation counts every row, overlaps
// included. The model must be in eval mode.
struct ClipPrediction {
  torch::Tensor poses;
  std::vector<std::int64_t> frames;
};
ClipPrediction predict_clips(model::LifterImpl& model, const torch::Tensor& keypoints, const FlipSymmetry& symmetry,
                             const PredictOptions& options, const torch::Device& device);

// `poselift forward`: a checkpoint run on (B, F, J, C) windows from a .npy file, written as
// float32 .npy: (B, 1, J, 3) for window models, (B, F - receptive field + 1, J, 3) for a
// temporal convolution.
struct ForwardOptions {
  CheckpointOptions checkpoint;
  ModelOptions model;    // heads and strictness
  RuntimeOptions runtime;
  PredictOptions predict;  // max_batch: the windows of one forward pass
  std::string input, output;
  std::string trajectory_output;  // also the trajectory model's output, when the checkpoint has one
};

struct ForwardResult {
  std::string output_shape;  // "(B, 1, J, 3)"
  std::int64_t windows = 0;
};

// Bad input -> InputError before the output is written.
ForwardResult run_forward(const ForwardOptions& options);

}  // namespace poselift::engine

