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

// exp for x <= 0 (softmax after subtracting the row maximum), written branch-free so the
// compiler vectorises the loops that call it: x = n ln2 + r, exp(r) by the Cephes expf
// polynomial (relative error ~1e-7), 2^n through the exponent bits.
inline float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
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

POSELIFT_MULTIVERSION
void attention_sequence_forward(const SequenceView& view, const float* qkv, float* probs, float* out, float* scratch) {
  const std::int64_t N = view.tokens, d = view.head_dim, C = view.width(), s = 3 * C;
  float* kT = scratch;      // C x N
  float* vT = kT + C * N;   // C x N
  for (std::int64_t j = 0; j < N; ++j)
    for (std::int64_t c = 0; c < C; ++c) {
      kT[c * N + j] = qkv[j * s + C + c];
      vT[c * N + j] = qkv[j * s + 2 * C + c];
    }
  for (std::int64_t h = 0; h < view.heads; ++h) {
    float* P = probs + h * N * N;
    for (std::int64_t i = 0; i < N; ++i) {
      float* row = P + i * N;
      const float* qi = qkv + i * s + h * d;
      for (std::int64_t j = 0; j < N; ++j) row[j] = 0.0f;
      for (std::int64_t c = 0; c < d; ++c) {
        const float qc = qi[c];
        const float* kc = kT + (h * d + c) * N;
        for (std::int64_t j = 0; j < N; ++j) row[j] += qc * kc[j];
      }
    }
    softmax_rows(P, N, N, view.scale);
    for (std::int64_t i = 0; i < N; ++i) {
      const float* row = P + i * N;
      float* oi = out + i * C + h * d;
      for (std::int64_t c = 0; c < d; ++c) {
        const float* vc = vT + (h * d + c) * N;
        float acc = 0.0f;
        for (std::int64_t j = 0; j < N; ++j) acc += row[j] * vc[j];
        oi[c] = acc;
      }
    }
  }
}

POSELIFT_MULTIVERSION
void attention_sequence_backward(const SequenceView& view, const float* qkv, const float* probs, const float* dout,
                                 float* dqkv, float* scratch) {
  const std::int64_t N = view.tokens, d = view.head_dim, C = view.width(), s = 3 * C;
  const float scale = view.scale;
  float* kT = scratch;         // C x N
  float* vT = kT + C * N;      // C x N
  float* dkT = vT + C * N;     // C x N, accumulated over queries
  float* dvT = dkT + C * N;    // C x N
  float* ds = dvT + C * N;     // N: one row of dS
  for (std::int64_t j = 0; j < N; ++j)
    for (std::int64_t c = 0; c < C; ++c) {
      kT[c * N + j] = qkv[j * s + C + c];
      vT[c * N + j] = qkv[j * s + 2 * C + c];
    }
  for (std::int64_t x = 0; x < 2 * C * N; ++x) dkT[x] = 0.0f;
  for (std::int64_t h = 0; h < view.heads; ++h) {
    const float* P = probs + h * N * N;
    for (std::int64_t i = 0; i < N; ++i) {
      const float* p = P + i * N;
      const float* go = dout + i * C + h * d;
      const float* qi = qkv + i * s + h * d;
      // dP_i = dO_i V^T; dV^T += dO_i (x) P_i
      for (std::int64_t j = 0; j < N; ++j) ds[j] = 0.0f;
      for (std::int64_t c = 0; c < d; ++c) {
        const float g = go[c];
        const float* vc = vT + (h * d + c) * N;
        float* dvc = dvT + (h * d + c) * N;
        for (std::int64_t j = 0; j < N; ++j) {
          ds[j] += g * vc[j];
          dvc[j] += g * p[j];
        }
      }
      float dot = 0.0f;
      for (std::int64_t j = 0; j < N; ++j) dot += ds[j] * p[j];
      for (std::int64_t j = 0; j < N; ++j) ds[j] = p[j] * (ds[j] - dot) * scale;
      // dQ_i = dS_i K; dK^T += Q_i (x) dS_i
      float* gq = dqkv + i * s + h * d;
      for (std::int64_t c = 0; c < d; ++c) {
        const float* kc = kT + (h * d + c) * N;
        float* dkc = dkT + (h * d + c) * N;
        const float qc = qi[c];
        float acc = 0.0f;
        for (std::int64_t j = 0; j < N; ++j) {
          acc += ds[j] * kc[j];
          dkc[j] += qc * ds[j];
        }
        gq[c] = acc;
      }
    }
  }
  for (std::int64_t j = 0; j < N; ++j)
    for (std::int64_t c = 0; c < C; ++c) {
      dqkv[j * s + C + c] = dkT[c * N + j];
      dqkv[j * s + 2 * C + c] = dvT[c * N + j];
    }
}

}  // namespace poselift::model::kernels
