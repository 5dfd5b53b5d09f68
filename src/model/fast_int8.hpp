// int8 inference for the fast path's linear layers (model::Precision::int8), on raw float
// buffers: weights quantised symmetrically per output row, activations per input row, oneDNN's
// u8s8s32 GEMM, then scaled back. No LibTorch in this header.
#pragma once

#include <cstdint>
#include <vector>

namespace poselift::model {

// Quantisation levels of the int8 activations on each side of zero: 127 where the CPU has VNNI
// (AVX512-VNNI or AVX-VNNI); 63 elsewhere, because oneDNN's u8s8s32 GEMM then sums pairs of
// u8 x s8 products in saturating 16-bit arithmetic (vpmaddubsw), and 7-bit activations keep
// every pair below 2^15 (measured without it on an AVX2 CPU: errors of 0.4 above the rounding
// bound, predictions moved by 7 mm instead of ~1.3).
int int8_activation_levels();

namespace fast {

// A weight matrix (N x K) as int8 with one scale per output row: w ~ scale[n] * q[n][k].
struct QuantizedWeight {
  std::vector<std::int8_t> values;
  std::vector<float> scales;
};
QuantizedWeight quantize_weight(const float* weight, std::int64_t N, std::int64_t K);

// out (M x N) = x (M x K) W^T (+ bias[n]) (+ residual (M x N)) through 8-bit integers; bias and
// residual may be null. Needs oneDNN (throws without it).
void int8_linear(const float* x, std::int64_t M, std::int64_t K, const QuantizedWeight& weight, std::int64_t N,
                 const float* bias, const float* residual, float* out);

}  // namespace fast
}  // namespace poselift::model
