// Loop kernels of scaled dot-product attention for the small heads of PoseFormer's spatial
// stage (17 tokens x 4 channels), where a batched matrix product per head costs far more in
// dispatch and copies than the arithmetic itself, and the row softmax (forward and backward)
// the wide heads' GEMM path uses. Q, K, V and the output are read and written in place inside
// the qkv projection's and the output's rows.
#pragma once

#include <cstdint>
#include <vector>

namespace poselift::model::kernels {

// One token sequence, all heads: Q/K/V of head h sit at columns h*d, C + h*d and 2C + h*d of
// each token's qkv row (row stride 3C); the output at column h*d of a row of stride C.
struct SequenceView {
  std::int64_t tokens = 0;    // N
  std::int64_t heads = 0;     // H
  std::int64_t head_dim = 0;  // d; C = H * d
  float scale = 1.0f;         // applied to Q K^T before the softmax
  std::int64_t width() const { return heads * head_dim; }
};

// In-place row softmax of an (rows x cols) row-major block after scaling by `scale`.
void softmax_rows(float* data, std::int64_t rows, std::int64_t cols, float scale);

// dS = P * (dP - rowsum(dP * P)), in place over dP (rows x cols).
void softmax_backward_rows(const float* probs, float* grad, std::int64_t rows, std::int64_t cols);

// ---- many short sequences at once, one sequence per SIMD lane ----
// The spatial stage attends over 17 joint tokens with 4-channel heads: vectorising along the
// tokens fills 17 of 16-float lanes badly, while kLanes sequences side by side run every
// product, exponential and sum as one full-width vector operation. A group of kLanes
// sequences is transposed into scratch (token, channel, lane), processed, and transposed back.
constexpr std::int64_t kLanes = 16;

// Floats of scratch the lane kernels need (forward and backward).
std::int64_t lanes_scratch_floats(const SequenceView& view);
// Floats of saved probabilities per group of kLanes sequences (H x N x N x kLanes).
inline std::int64_t lanes_probs_floats(const SequenceView& view) {
  return view.heads * view.tokens * view.tokens * kLanes;
}

// `count` <= kLanes consecutive sequences: their qkv rows (N x 3C each, laid out as above)
// and output rows (N x C each). `probs` (lanes_probs_floats) is written for the
// backward pass when not null.
void attention_lanes_forward(const SequenceView& view, const float* qkv, std::int64_t count, float* probs, float* out,
                             float* scratch);

// Gradient of the qkv rows of the same `count` sequences from the saved probabilities and dout.
void attention_lanes_backward(const SequenceView& view, const float* qkv, std::int64_t count, const float* probs,
                              const float* dout, float* dqkv, float* scratch);


// ---- PoseFormer's whole spatial stage for inference, one frame per SIMD lane ----
// Patch embedding, positional embedding, the transformer blocks and the closing layer norm run
// on kLanes frames at once in (token, channel, lane) layout, inside one thread's scratch (~100
// KiB): no pass over the (frames x tokens x channels) activations in memory between the steps,
// and no transposes but the first and the last.
struct SpatialBlockWeights {  // raw float32 parameters, row-major as nn.Linear (out x in)
  const float* norm1_weight;
  const float* norm1_bias;
  float norm1_eps;
  const float* qkv_weight;  // (3C x C)
  const float* qkv_bias;    // (3C) or null
  const float* proj_weight;  // (C x C)
  const float* proj_bias;
  const float* norm2_weight;
  const float* norm2_bias;
  float norm2_eps;
  const float* fc1_weight;  // (H x C)
  const float* fc1_bias;
  const float* fc2_weight;  // (C x H)
  const float* fc2_bias;
};
struct SpatialStageWeights {
  std::int64_t joints = 0, in_chans = 0, width = 0, heads = 0, hidden = 0;  // J, in, C, heads, H
  const float* embed_weight = nullptr;  // (C x in)
  const float* embed_bias = nullptr;    // (C)
  const float* pos_embed = nullptr;     // (J x C)
  std::vector<SpatialBlockWeights> blocks;
  const float* norm_weight = nullptr;  // the stage's closing layer norm
  const float* norm_bias = nullptr;
  float norm_eps = 0;
};
std::int64_t spatial_stage_scratch_floats(const SpatialStageWeights& weights);
// `count` <= kLanes frames (J x in floats each) -> their features (J*C floats each).
void spatial_stage_lanes(const SpatialStageWeights& weights, const float* frames, std::int64_t count, float* features,
                         float* scratch);

}  // namespace poselift::model::kernels
