// bfloat16 inference for the fast path's linear layers (model::Precision::bf16), on raw float
// buffers: weights and activations rounded to bfloat16 (nearest even), multiplied by oneDNN's
// matmul primitive with float32 accumulation and a float32 result (bias and residual added
// there). Only on CPUs with bfloat16 arithmetic (AVX512-BF16 or AMX): oneDNN would emulate it
// elsewhere, slower than float32. No LibTorch in this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace poselift::model {

// The instruction set oneDNN multiplies bfloat16 with on this CPU ("avx512_core_amx",
// "avx512_core_bf16"), or "" where the CPU has no bfloat16 arithmetic or the build no oneDNN.
std::string bf16_isa();

// The implementation oneDNN picks for the bfloat16 matmul of (m x k) by (k x n), e.g.
// "brg:avx512_core_amx"; "" without bfloat16 support.
std::string bf16_matmul_implementation(std::int64_t m, std::int64_t n, std::int64_t k);

namespace fast {

// Round-to-nearest-even float32 -> bfloat16 (NaN stays NaN), and back (exact).
std::uint16_t to_bf16(float value);
float from_bf16(std::uint16_t value);

// A weight matrix (N x K, row-major) in bfloat16.
struct Bf16Weight {
  std::vector<std::uint16_t> values;
};
Bf16Weight bf16_weight(const float* weight, std::int64_t N, std::int64_t K);

// out (M x N) = bf16(x) (M x K) bf16(W)^T (+ bias[n]) (+ residual (M x N)), accumulated in
// float32; bias and residual may be null. Throws where bf16_isa() is "".
void bf16_linear(const float* x, std::int64_t M, std::int64_t K, const Bf16Weight& weight, std::int64_t N,
                 const float* bias, const float* residual, float* out);

// GFLOP/s of bf16_linear for (m x k) times (k x n)^T, like fast::measure_gemm_gflops.
double measure_bf16_gflops(std::int64_t m, std::int64_t n, std::int64_t k, double seconds);

}  // namespace fast
}  // namespace poselift::model
