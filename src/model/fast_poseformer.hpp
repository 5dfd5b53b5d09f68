// The fast CPU path of PoseFormer: the same parameters and arithmetic as the reference module,
// computed with fewer passes over memory. Matrix products go straight to oneDNN's GEMM on the
// tensors' own strides (LibTorch's matmul when oneDNN is absent), attention runs one fused
// kernel per head reading Q/K/V inside the qkv projection's rows (no permute copies; loop
// kernels for the spatial stage's 4-channel heads), residual adds and biases are folded into
// the GEMM's output, layer norms and GELU are one-pass kernels. Training works through custom
// autograd functions with hand-written backward passes.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace poselift::model {

class PoseFormerImpl;
class TransformerBlockImpl;

enum class Implementation { reference, fast };

// "reference" | "fast"; throws InputError otherwise.
Implementation parse_implementation(const std::string& name);
const char* implementation_name(Implementation implementation);

// The implementation new PoseFormer modules start with (fast unless changed).
void set_default_implementation(Implementation implementation);
Implementation default_implementation();

// "oneDNN" or "LibTorch" (whatever does the fast path's matrix products).
std::string fast_gemm_backend();

// Arithmetic of the fast path's inference matrix products. int8: the linear layers with at least
// kInt8MinInputs inputs (the temporal stage's, ~95% of the FLOPs) multiply 8-bit integers
// (oneDNN's u8s8s32 GEMM, VNNI where the CPU has it): weights quantised symmetrically per output
// channel (once, then cached until the weights change), activations per row at every call.
// Gradient passes always use float32. Needs oneDNN; elsewhere int8 is refused.
enum class Precision { float32, int8 };
Precision parse_precision(const std::string& name);  // "float32" | "int8"; InputError otherwise
const char* precision_name(Precision precision);
void set_inference_precision(Precision precision);
Precision inference_precision();
constexpr std::int64_t kInt8MinInputs = 128;
// Quantisation levels of the int8 activations on each side of zero: 127 where the CPU has VNNI
// (AVX512-VNNI or AVX-VNNI); 63 elsewhere, because oneDNN's u8s8s32 GEMM then sums pairs of
// u8 x s8 products in saturating 16-bit arithmetic (vpmaddubsw), and 7-bit activations keep
// every pair below 2^15 (measured without it on an AVX2 CPU: errors of 0.4 above the rounding
// bound, predictions moved by 7 mm instead of ~1.3).
int int8_activation_levels();

namespace fast {

// y = x W^T + b (+ residual). x (..., K) -> (..., N). Differentiable.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const torch::Tensor& residual = {});

// Multi-head attention core: qkv (B, N, 3C) laid out as the original's qkv projection
// (3 x heads x head_dim per token) -> (B, N, C) = softmax(Q K^T / sqrt(d)) V per head.
// Differentiable.
torch::Tensor attention(const torch::Tensor& qkv, std::int64_t heads);

// LayerNorm over the last dimension (one pass per row). Differentiable.
torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double eps);

// Exact (erf) GELU, as nn.GELU(). Differentiable.
torch::Tensor gelu(const torch::Tensor& x);

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

// Time spent in the linear layers' matrix products (for the benchmark's GEMM share).
struct GemmTally {
  double seconds = 0;
  double flops = 0;
  // Seconds per step of the transformer blocks (layer norms, qkv, attention, ...), in order.
  std::vector<std::pair<std::string, double>> phases;
};
void set_gemm_tally(bool enabled);
void reset_gemm_tally();
GemmTally gemm_tally();

// GFLOP/s of the fast path's matrix product for (m x k) times (k x n)^T, like a linear layer.
double measure_gemm_gflops(std::int64_t m, std::int64_t n, std::int64_t k, double seconds);

}  // namespace fast
}  // namespace poselift::model
