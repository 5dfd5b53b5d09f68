// Shared pieces of the CPU kernels (internal to src/model): function multi-versioning and the
// branch-free exp the softmax and GELU loops vectorise.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

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

}  // namespace poselift::model::kernels::math
