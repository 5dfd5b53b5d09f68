// The fast path's differentiable operations: each is a custom autograd function with a
// hand-written backward pass when gradients are needed, a plain kernel call otherwise. Inputs
// must be float32 CPU tensors. Without gradients, linear layers follow model::inference_precision().
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace poselift::model::fast {

// y = x W^T + b (+ residual). x (..., K) -> (..., N).
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                  const at::Tensor& residual = {});

// Multi-head attention core: qkv (B, N, 3C) laid out as the original's qkv projection
// (3 x heads x head_dim per token) -> (B, N, C) = softmax(Q K^T / sqrt(d)) V per head.
at::Tensor attention(const at::Tensor& qkv, std::int64_t heads);

// LayerNorm over the last dimension (one pass per row).
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);

// Exact (erf) GELU, as nn.GELU().
at::Tensor gelu(const at::Tensor& x);

// Throws unless `t` is a float32 CPU tensor (`what` names it in the message).
void check_cpu_float(const at::Tensor& t, const char* what);

}  // namespace poselift::model::fast
