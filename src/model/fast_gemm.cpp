#include "model/fast_gemm.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef POSELIFT_HAVE_DNNL
#include <dnnl.h>
#else
#include <ATen/ATen.h>
#endif
#if __has_include(<omp.h>)
#include <omp.h>
#define POSELIFT_HAVE_OMP_H 1
#endif

namespace poselift::model {

std::string fast_gemm_backend() {
#ifdef POSELIFT_HAVE_DNNL
  return "oneDNN";
#else
  return "LibTorch";
#endif
}

namespace fast {

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef POSELIFT_HAVE_DNNL
  const auto status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success)
    throw std::runtime_error("oneDNN sgemm failed with status " + std::to_string(static_cast<int>(status)));
#else
  const auto options = at::TensorOptions().dtype(at::kFloat);
  auto as = trans_a ? at::from_blob(const_cast<float*>(a), {k, m}, {lda, 1}, options).t()
                    : at::from_blob(const_cast<float*>(a), {m, k}, {lda, 1}, options);
  auto bs = trans_b ? at::from_blob(const_cast<float*>(b), {n, k}, {ldb, 1}, options).t()
                    : at::from_blob(const_cast<float*>(b), {k, n}, {ldb, 1}, options);
  auto cs = at::from_blob(c, {m, n}, {ldc, 1}, options);
  if (beta == 0.0f) cs.zero_();
  cs.addmm_(as, bs, beta == 0.0f ? 1.0f : beta, alpha);
#endif
}

OneThreadPerGemm::OneThreadPerGemm() {
#ifdef POSELIFT_HAVE_OMP_H
  saved_ = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
}

OneThreadPerGemm::~OneThreadPerGemm() {
#ifdef POSELIFT_HAVE_OMP_H
  omp_set_num_threads(saved_);
#endif
}

double measure_gflops(const std::function<void()>& product, double flops, double seconds) {
  product();
  int passes = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    product();
    ++passes;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds || passes < 3);
  return flops * passes / elapsed / 1e9;
}

GemmOperands::GemmOperands(std::int64_t m, std::int64_t n, std::int64_t k)
    : a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(n * k)) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i)));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(std::cos(0.3 * static_cast<double>(i)));
}

double measure_gemm_gflops(std::int64_t m, std::int64_t n, std::int64_t k, double seconds) {
  const GemmOperands operands(m, n, k);
  std::vector<float> c(static_cast<std::size_t>(m * n));
  return measure_gflops(
      [&] { gemm(false, true, m, n, k, 1.0f, operands.a.data(), k, operands.b.data(), k, 0.0f, c.data(), n); },
      2.0 * m * n * k, seconds);
}

}  // namespace fast
}  // namespace poselift::model
