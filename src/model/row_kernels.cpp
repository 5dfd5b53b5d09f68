#include "model/row_kernels.hpp"

#include <cmath>
#include <cstring>

#include "model/kernel_math.hpp"

namespace poselift::model::kernels {

namespace {

using namespace math;

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

// Every element goes through the same vector code, the last partial vector through a padded
// copy: an element's result does not depend on its position, so on how a batch is split (sharded
// evaluation prints what one process computes).
template <class Op>
POSELIFT_INLINE void for_each_vector(std::int64_t n, Op op) {
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) op(i, kLanes);
  if (i < n) op(i, n - i);
}

POSELIFT_INLINE VecF load_part(const float* p, std::int64_t count) {
  float padded[kLanes] = {};
  std::memcpy(padded, p, sizeof(float) * count);
  return load(padded);
}

POSELIFT_INLINE void store_part(float* p, VecF v, std::int64_t count) {
  float padded[kLanes];
  store(padded, v);
  std::memcpy(p, padded, sizeof(float) * count);
}

POSELIFT_MULTIVERSION
void gelu(const float* x, std::int64_t n, float* out) {
  for_each_vector(n, [&](std::int64_t i, std::int64_t count) {
    const VecF v = load_part(x + i, count);
    VecF gauss;
    store_part(out + i, v * normal_cdf(v, &gauss), count);
  });
}

POSELIFT_MULTIVERSION
void gelu_backward(const float* x, const float* grad_out, std::int64_t n, float* grad_x) {
  for_each_vector(n, [&](std::int64_t i, std::int64_t count) {
    const VecF v = load_part(x + i, count);
    VecF gauss;
    const VecF cdf = normal_cdf(v, &gauss);
    store_part(grad_x + i, load_part(grad_out + i, count) * (cdf + v * gauss * kInvSqrt2Pi), count);
  });
}

}  // namespace poselift::model::kernels
