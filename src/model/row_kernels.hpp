// Row and elementwise kernels of the fast path: layer norm and exact (erf) GELU, forward and
// backward, on raw float buffers. ATen's versions take 2-3x longer than a pass over memory on
// these shapes (layer norm over the spatial stage's 32-float rows above all); each of these is
// one pass. Callers split the rows across threads.
#pragma once

#include <cstdint>

namespace poselift::model::kernels {

// out = (x - mean) / sqrt(var + eps) * weight + bias over each of `rows` rows of `width` floats
// (biased variance, as LayerNorm); mean and 1/sqrt(var + eps) per row go to `mean` and `rstd`
// when not null (the backward pass needs them).
void layer_norm_rows(const float* x, std::int64_t rows, std::int64_t width, const float* weight, const float* bias,
                     float eps, float* out, float* mean, float* rstd);

// Gradient of layer_norm_rows: grad_x for the rows; the rows' contributions to the weight and
// bias gradients are added to grad_weight and grad_bias (width floats each).
void layer_norm_backward_rows(const float* x, const float* grad_out, std::int64_t rows, std::int64_t width,
                              const float* weight, const float* mean, const float* rstd, float* grad_x,
                              float* grad_weight, float* grad_bias);

// out = x * Phi(x), Phi the standard normal CDF (nn.GELU's exact form), for n floats.
// Absolute error below 1e-6 * max(1, |x|) (erfc by Abramowitz & Stegun 7.1.26).
void gelu(const float* x, std::int64_t n, float* out);

// grad_x = grad_out * (Phi(x) + x * phi(x)), phi the standard normal density.
void gelu_backward(const float* x, const float* grad_out, std::int64_t n, float* grad_x);

}  // namespace poselift::model::kernels
