#include "model/attention_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// The kernels are compiled for AVX-512, AVX2+FMA and baseline x86-64; the loader picks the
// widest the CPU has (GCC function multi-versioning), so one binary runs everywhere.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define POSELIFT_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define POSELIFT_MULTIVERSION
#endif

namespace poselift::model::kernels {

namespace {

#define POSELIFT_INLINE inline __attribute__((always_inline))

// kLanes floats; under-aligned so that any float address can be loaded (the unaligned vector
// instructions cost nothing extra on aligned data).
typedef float VecF __attribute__((vector_size(kLanes * sizeof(float)), aligned(sizeof(float))));
typedef std::int32_t VecI __attribute__((vector_size(kLanes * sizeof(std::int32_t)), aligned(sizeof(float))));

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

}  // namespace

POSELIFT_MULTIVERSION
void softmax_rows(float* data, std::int64_t rows, std::int64_t cols, float scale) {
  for (std::int64_t i = 0; i < rows; ++i) {
    float* row = data + i * cols;
    float top = row[0];
    for (std::int64_t j = 1; j < cols; ++j) top = std::max(top, row[j]);
    const float shift = top * scale;
    float sum = 0.0f;
    for (std::int64_t j = 0; j < cols; ++j) {
      const float e = exp_nonpositive(row[j] * scale - shift);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (std::int64_t j = 0; j < cols; ++j) row[j] *= inv;
  }
}

POSELIFT_MULTIVERSION
void softmax_backward_rows(const float* probs, float* grad, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t i = 0; i < rows; ++i) {
    const float* p = probs + i * cols;
    float* g = grad + i * cols;
    float dot = 0.0f;
    for (std::int64_t j = 0; j < cols; ++j) dot += p[j] * g[j];
    for (std::int64_t j = 0; j < cols; ++j) g[j] = p[j] * (g[j] - dot);
  }
}

// ---- lane kernels ----

namespace {

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

// Transposes `count` sequences of `len` floats each (stride `len`) into (len, kLanes); lanes
// past `count` repeat the last sequence so that every lane computes finite values. In tiles of
// kLanes values per sequence, so the tile's kLanes x kLanes floats stay in L1 while every lane
// fills them (a whole sequence per lane at a time spilled each line to L2 between lanes).
POSELIFT_INLINE void gather_lanes(const float* src, std::int64_t len, std::int64_t count, float* dst) {
  for (std::int64_t x0 = 0; x0 < len; x0 += kLanes) {
    const std::int64_t x1 = std::min(len, x0 + kLanes);
    for (std::int64_t lane = 0; lane < kLanes; ++lane) {
      const float* s = src + std::min(lane, count - 1) * len;
      for (std::int64_t x = x0; x < x1; ++x) dst[x * kLanes + lane] = s[x];
    }
  }
}

POSELIFT_INLINE void scatter_lanes(const float* src, std::int64_t len, std::int64_t count, float* dst) {
  for (std::int64_t x0 = 0; x0 < len; x0 += kLanes) {
    const std::int64_t x1 = std::min(len, x0 + kLanes);
    for (std::int64_t lane = 0; lane < count; ++lane) {
      float* d = dst + lane * len;
      for (std::int64_t x = x0; x < x1; ++x) d[x] = src[x * kLanes + lane];
    }
  }
}

}  // namespace

std::int64_t lanes_scratch_floats(const SequenceView& view) {
  const std::int64_t N = view.tokens, C = view.width();
  return (2 * N * 3 * C + N * C + N) * kLanes;
}

POSELIFT_MULTIVERSION
void attention_lanes_forward(const SequenceView& view, const float* qkv, std::int64_t count, float* probs, float* out,
                             float* scratch) {
  const std::int64_t N = view.tokens, d = view.head_dim, C = view.width(), s = 3 * C, L = kLanes;
  float* g = scratch;        // (N, 3C, L): Q, K, V of every lane
  float* o = g + N * s * L;  // (N, C, L)
  float* row = o + N * C * L;  // (N, L): one row of probabilities
  gather_lanes(qkv, N * s, count, g);
  for (std::int64_t h = 0; h < view.heads; ++h) {
    for (std::int64_t i = 0; i < N; ++i) {
      const float* qi = g + (i * s + h * d) * L;
      VecF top{};
      for (std::int64_t j = 0; j < N; ++j) {
        const float* kj = g + (j * s + C + h * d) * L;
        VecF acc = load(qi) * load(kj);
        for (std::int64_t c = 1; c < d; ++c) acc += load(qi + c * L) * load(kj + c * L);
        store(row + j * L, acc);
        top = j == 0 ? acc : vmax(top, acc);
      }
      VecF sum{};
      for (std::int64_t j = 0; j < N; ++j) {
        const VecF e = exp_nonpositive((load(row + j * L) - top) * view.scale);
        store(row + j * L, e);
        sum += e;
      }
      const VecF inv = 1.0f / sum;
      float* saved = probs != nullptr ? probs + (h * N + i) * N * L : nullptr;
      for (std::int64_t j = 0; j < N; ++j) {
        const VecF p = load(row + j * L) * inv;
        store(row + j * L, p);
        if (saved != nullptr) store(saved + j * L, p);
      }
      for (std::int64_t c = 0; c < d; ++c) {
        const float* vc = g + (2 * C + h * d + c) * L;
        VecF acc{};
        for (std::int64_t j = 0; j < N; ++j) acc += load(row + j * L) * load(vc + j * s * L);
        store(o + (i * C + h * d + c) * L, acc);
      }
    }
  }
  scatter_lanes(o, N * C, count, out);
}

POSELIFT_MULTIVERSION
void attention_lanes_backward(const SequenceView& view, const float* qkv, std::int64_t count, const float* probs,
                              const float* dout, float* dqkv, float* scratch) {
  const std::int64_t N = view.tokens, d = view.head_dim, C = view.width(), s = 3 * C, L = kLanes;
  float* g = scratch;            // (N, 3C, L): Q, K, V
  float* dg = g + N * s * L;     // (N, 3C, L): their gradients
  float* go = dg + N * s * L;    // (N, C, L): gradient of the output
  float* ds = go + N * C * L;    // (N, L): one row of dP, then dS
  gather_lanes(qkv, N * s, count, g);
  gather_lanes(dout, N * C, count, go);
  std::memset(dg, 0, sizeof(float) * N * s * L);
  for (std::int64_t h = 0; h < view.heads; ++h) {
    for (std::int64_t i = 0; i < N; ++i) {
      const float* p = probs + (h * N + i) * N * L;
      const float* goi = go + (i * C + h * d) * L;
      // dP_ij = dO_i . V_j; dV_j += P_ij dO_i
      VecF dot{};
      for (std::int64_t j = 0; j < N; ++j) {
        const float* vj = g + (j * s + 2 * C + h * d) * L;
        float* dvj = dg + (j * s + 2 * C + h * d) * L;
        const VecF pij = load(p + j * L);
        VecF acc{};
        for (std::int64_t c = 0; c < d; ++c) {
          const VecF gc = load(goi + c * L);
          acc += gc * load(vj + c * L);
          store(dvj + c * L, load(dvj + c * L) + pij * gc);
        }
        store(ds + j * L, acc);
        dot += acc * pij;
      }
      // dS_ij = P_ij (dP_ij - sum_k dP_ik P_ik), times the score scale
      for (std::int64_t j = 0; j < N; ++j) {
        const VecF pij = load(p + j * L);
        store(ds + j * L, pij * (load(ds + j * L) - dot) * view.scale);
      }
      // dQ_i = dS_i K; dK_j += dS_ij Q_i
      const float* qi = g + (i * s + h * d) * L;
      float* dqi = dg + (i * s + h * d) * L;
      for (std::int64_t j = 0; j < N; ++j) {
        const float* kj = g + (j * s + C + h * d) * L;
        float* dkj = dg + (j * s + C + h * d) * L;
        const VecF dsij = load(ds + j * L);
        for (std::int64_t c = 0; c < d; ++c) {
          store(dqi + c * L, load(dqi + c * L) + dsij * load(kj + c * L));
          store(dkj + c * L, load(dkj + c * L) + dsij * load(qi + c * L));
        }
      }
    }
  }
  scatter_lanes(dg, N * s, count, dqkv);
}

}  // namespace poselift::model::kernels
