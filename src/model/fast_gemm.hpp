// The fast path's matrix products on raw strided float buffers: oneDNN's sgemm where the build
// has it, LibTorch's addmm otherwise. No LibTorch in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace poselift::model {

// "oneDNN" or "LibTorch" (whatever does the fast path's matrix products).
std::string fast_gemm_backend();

namespace fast {

// Row-major C (m x n) = alpha op(A) op(B) + beta C.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

// Inside a parallel region (one head per thread), each per-head GEMM runs on its own thread:
// oneDNN must not try to split it over the team again (nested teams oversubscribe the cores).
class OneThreadPerGemm {
 public:
  OneThreadPerGemm();
  ~OneThreadPerGemm();
  OneThreadPerGemm(const OneThreadPerGemm&) = delete;
  OneThreadPerGemm& operator=(const OneThreadPerGemm&) = delete;

 private:
  int saved_ = 1;
};

// GFLOP/s of `product` (`flops` per call): one warm-up call, then calls for at least `seconds`
// and at least 3.
double measure_gflops(const std::function<void()>& product, double flops, double seconds);

// Operands of a linear layer's product for rate measurements: a (m x k) and b (n x k), values in
// [-1, 1] (their size does not matter to the rate, only that they are normal floats).
struct GemmOperands {
  GemmOperands(std::int64_t m, std::int64_t n, std::int64_t k);
  std::vector<float> a, b;
};

// GFLOP/s of the fast path's matrix product for (m x k) times (k x n)^T, like a linear layer.
double measure_gemm_gflops(std::int64_t m, std::int64_t n, std::int64_t k, double seconds);

}  // namespace fast
}  // namespace poselift::model
