// Loop kernels of scaled dot-product attention over one token sequence, for the small heads of
// PoseFormer's spatial stage (17 tokens x 4 channels): there a batched matrix product per head
// costs far more in dispatch and copies than the arithmetic itself. K and V are transposed once
// per sequence into scratch so every inner loop runs over the tokens (vectorised), and Q, K, V
// and the output are read/written in place inside the qkv projection's and output's rows.
#pragma once

#include <cstdint>

namespace poselift::model::kernels {

// One token sequence, all heads: Q/K/V of head h sit at columns h*d, C + h*d and 2C + h*d of
// each token's qkv row (row stride 3C); the output at column h*d of a row of stride C.
struct SequenceView {
  std::int64_t tokens = 0;    // N
  std::int64_t heads = 0;     // H
  std::int64_t head_dim = 0;  // d; C = H * d
  float scale = 1.0f;         // applied to Q K^T before the softmax
  std::int64_t width() const { return heads * head_dim; }
  // Floats of scratch the kernels below need.
  std::int64_t scratch_floats() const { return 4 * width() * tokens + tokens; }
};

// probs (H x N x N) = softmax(scale Q K^T) per head; out (N x C) = probs V.
void attention_sequence_forward(const SequenceView& view, const float* qkv, float* probs, float* out, float* scratch);

// Gradient of the qkv rows (N x 3C, written) from the saved probabilities and dout (N x C).
void attention_sequence_backward(const SequenceView& view, const float* qkv, const float* probs, const float* dout,
                                 float* dqkv, float* scratch);

// In-place row softmax of an (rows x cols) row-major block after scaling by `scale`.
void softmax_rows(float* data, std::int64_t rows, std::int64_t cols, float scale);

// dS = P * (dP - rowsum(dP * P)), in place over dP (rows x cols).
void softmax_backward_rows(const float* probs, float* grad, std::int64_t rows, std::int64_t cols);

}  // namespace poselift::model::kernels
