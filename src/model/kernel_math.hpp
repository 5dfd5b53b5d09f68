// Shared pieces of the CPU kernels (internal to src/model): function multi-versioning and the
// branch-free exp the softmax and GELU loops vectorise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "model/attention_kernels.hpp"  // kLanes

// The kernels are compiled for AVX-512, AVX2+FMA and baseline x86-64; the loader picks the
// widest the CPU has (GCC function multi-versioning), so one binary runs everywhere.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define POSELIFT_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define POSELIFT_MULTIVERSION
#endif

namespace poselift::model::kernels::math {

#define POSELIFT_INLINE inline __attribute__((always_inline))

template <class F>
POSELIFT_INLINE F splat(float value) {
  return F{} + value;  // a float, or the value in every lane
}

// exp(x) = 2^n exp(r) with r = x - n ln2 (ln2 in two parts, Cody-Waite), exp(r) by the Cephes
// expf polynomial (relative error ~1e-7), 2^n through the exponent bits. For a float or a vector
// of floats; I is the matching integer type, nf == n.
template <class F, class I>
POSELIFT_INLINE F exp_with_exponent(F x, F nf, I n) {
  F r = x - nf * 0.693359375f;
  r = r + nf * 2.12194440e-4f;
  F p = splat<F>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const I bits = (n + 127) << 23;
  F scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// exp for x <= 0 (softmax after subtracting the row maximum), written branch-free so the
// compiler vectorises the loops that call it.
POSELIFT_INLINE float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  return exp_with_exponent(x, n, static_cast<std::int32_t>(n));
}


// ---- kLanes floats as one vector (GCC vector extensions) ----

// kLanes floats; under-aligned so that any float address can be loaded (the unaligned vector
// instructions cost nothing extra on aligned data).
typedef float VecF __attribute__((vector_size(kLanes * sizeof(float)), aligned(sizeof(float))));
typedef std::int32_t VecI __attribute__((vector_size(kLanes * sizeof(std::int32_t)), aligned(sizeof(float))));


POSELIFT_INLINE VecF load(const float* p) {
  VecF v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
POSELIFT_INLINE void store(float* p, VecF v) { std::memcpy(p, &v, sizeof v); }
POSELIFT_INLINE VecF vmax(VecF a, VecF b) { return a > b ? a : b; }

// exp_nonpositive on every lane; the floor through truncation (exact for |x| < 2^31), corrected
// where truncation went up (negative non-integers).
POSELIFT_INLINE VecF exp_nonpositive(VecF x) {
  x = vmax(x, splat<VecF>(-87.0f));
  const VecF t = x * 1.44269504088896341f + 0.5f;
  VecI n = __builtin_convertvector(t, VecI);
  n += (__builtin_convertvector(n, VecF) > t);  // a true comparison is -1
  return exp_with_exponent(x, __builtin_convertvector(n, VecF), n);
}

// GELU, x Phi(x) with Phi the standard normal CDF (nn.GELU's exact form), on every lane; also
// exp(-x^2 / 2) for the derivative. erfc(z), z = |x| / sqrt(2), by Abramowitz & Stegun 7.1.26
// (|error| < 1.5e-7): t (a1 + t (a2 + ...)) exp(-z^2) with t = 1 / (1 + p z); Phi(x) = erfc(z) / 2
// for x < 0 and 1 - erfc(z) / 2 otherwise (no cancellation in the negative tail).
POSELIFT_INLINE VecF normal_cdf(VecF x, VecF* gauss) {
  const VecF z = (x < splat<VecF>(0.0f) ? -x : x) * 0.70710678118654752f;
  const VecF t = 1.0f / (1.0f + 0.3275911f * z);
  const VecF poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const VecF e = exp_nonpositive(-z * z);
  *gauss = e;
  const VecF half_erfc = 0.5f * poly * e;
  return x < splat<VecF>(0.0f) ? half_erfc : 1.0f - half_erfc;
}

}  // namespace poselift::model::kernels::math
