#include "model/row_kernels.hpp"

#include <cmath>

#include "model/kernel_math.hpp"

namespace poselift::model::kernels {

namespace {

using namespace math;

// Phi(x) and phi(x) * sqrt(2 pi) = exp(-x^2 / 2) in one go: with z = |x| / sqrt(2),
// erfc(z) = t (a1 + t (a2 + ...)) exp(-z^2), t = 1 / (1 + p z) (Abramowitz & Stegun 7.1.26,
// |error| < 1.5e-7), and Phi(x) = erfc(z) / 2 for x < 0, 1 - erfc(z) / 2 otherwise. Branch-free
// so that the loops vectorise; no cancellation for large negative x.
POSELIFT_INLINE float normal_cdf(float x, float* gauss) {
  const float z = std::fabs(x) * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  const float poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float e = exp_nonpositive(-z * z);
  *gauss = e;
  const float half_erfc = 0.5f * poly * e;
  return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}

constexpr float kInvSqrt2Pi = 0.39894228040143268f;

}  // namespace

POSELIFT_MULTIVERSION
void layer_norm_rows(const float* x, std::int64_t rows, std::int64_t width, const float* weight, const float* bias,
                     float eps, float* out, float* mean, float* rstd) {
  const float inv_width = 1.0f / static_cast<float>(width);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * width;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t c = 0; c < width; ++c) sum += xr[c];
    const float m = sum * inv_width;
    float squares = 0.0f;  // second pass: no cancellation for rows far from zero
#pragma omp simd reduction(+ : squares)
    for (std::int64_t c = 0; c < width; ++c) squares += (xr[c] - m) * (xr[c] - m);
    const float s = 1.0f / std::sqrt(squares * inv_width + eps);
    float* o = out + r * width;
#pragma omp simd
    for (std::int64_t c = 0; c < width; ++c) o[c] = (xr[c] - m) * s * weight[c] + bias[c];
    if (mean != nullptr) mean[r] = m;
    if (rstd != nullptr) rstd[r] = s;
  }
}

POSELIFT_MULTIVERSION
void layer_norm_backward_rows(const float* x, const float* grad_out, std::int64_t rows, std::int64_t width,
                              const float* weight, const float* mean, const float* rstd, float* grad_x,
                              float* grad_weight, float* grad_bias) {
  const float inv_width = 1.0f / static_cast<float>(width);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * width;
    const float* g = grad_out + r * width;
    const float m = mean[r], s = rstd[r];
    // With h = (x - m) s and dh = g w: dx = s (dh - mean(dh) - h mean(dh h)).
    float sum_dh = 0.0f, sum_dh_h = 0.0f;
#pragma omp simd reduction(+ : sum_dh, sum_dh_h)
    for (std::int64_t c = 0; c < width; ++c) {
      const float h = (xr[c] - m) * s, dh = g[c] * weight[c];
      sum_dh += dh;
      sum_dh_h += dh * h;
      grad_weight[c] += g[c] * h;
      grad_bias[c] += g[c];
    }
    const float a = sum_dh * inv_width, b = sum_dh_h * inv_width;
    float* dx = grad_x + r * width;
#pragma omp simd
    for (std::int64_t c = 0; c < width; ++c) dx[c] = s * (g[c] * weight[c] - a - (xr[c] - m) * s * b);
  }
}

POSELIFT_MULTIVERSION
void gelu(const float* x, std::int64_t n, float* out) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gauss;
    out[i] = x[i] * normal_cdf(x[i], &gauss);
  }
}

POSELIFT_MULTIVERSION
void gelu_backward(const float* x, const float* grad_out, std::int64_t n, float* grad_x) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    float gauss;
    const float cdf = normal_cdf(x[i], &gauss);
    grad_x[i] = grad_out[i] * (cdf + x[i] * gauss * kInvSqrt2Pi);
  }
}

}  // namespace poselift::model::kernels
