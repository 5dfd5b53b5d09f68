// The fast CPU path of PoseFormer: the same parameters and arithmetic as the reference module,
// computed with fewer passes over memory. Matrix products go straight to oneDNN's GEMM on the
// tensors' own strides (LibTorch's matmul when oneDNN is absent), attention runs one fused
// kernel per head reading Q/K/V inside the qkv projection's rows (no permute copies; loop
// kernels for the spatial stage's 4-channel heads), residual adds and biases are folded into
// the GEMM's output, layer norms and GELU are one-pass kernels. Training works through custom
// autograd functions with hand-written backward passes.
//
// Its units: fast_settings (implementation and precision), fast_gemm (the GEMM backend),
// fast_int8 and fast_bf16 (int8 and bfloat16 inference), fast_ops (the differentiable operations), fast_profile (the GEMM
// tally) and the stages below (fast_stages.cpp); the loop kernels are attention_kernels and
// row_kernels.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "model/fast_bf16.hpp"
#include "model/fast_gemm.hpp"
#include "model/fast_int8.hpp"
#include "model/fast_ops.hpp"
#include "model/fast_profile.hpp"
#include "model/fast_settings.hpp"

namespace poselift::model {

class PoseFormerImpl;
class TransformerBlockImpl;

namespace fast {

// The whole spatial stage at inference, PoseFormerImpl::spatial_features without gradients:
// (N, J, in_chans) frames -> (N, J * C) features, kLanes frames per SIMD lane group.
torch::Tensor spatial_stage(PoseFormerImpl& model, const torch::Tensor& frames);

// The temporal stage's closing layer norm, weighted mean over the frames and head at inference:
// (B, F, D) -> (B, 1, J, 3). Every window's pose is computed alone, in a fixed order (LibTorch's
// Conv1d and small matrix products round differently with the batch size), so sharded
// evaluation prints what one process computes.
torch::Tensor temporal_head(PoseFormerImpl& model, const torch::Tensor& x);

// One pre-norm transformer block (B, N, C) -> (B, N, C).
torch::Tensor block_forward(TransformerBlockImpl& block, const torch::Tensor& x, std::int64_t heads);

}  // namespace fast
}  // namespace poselift::model
