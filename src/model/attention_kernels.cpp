#include "model/attention_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/kernel_math.hpp"

namespace poselift::model::kernels {

namespace {

using namespace math;

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

namespace {

// The lane kernels' bodies, for a head width D known at compile time (the loops over a head's
// channels unroll and its Q row stays in registers) or, with D = 0, given at run time.
// Attention of kLanes sequences already in lane layout: g (N, 3C, L) holds Q, K, V; o (N, C, L)
// receives the output; row (N, L) is scratch; probs as in attention_lanes_forward.
template <std::int64_t D>
POSELIFT_INLINE void lanes_attention(const SequenceView& view, const float* g, float* probs, float* o, float* row) {
  const std::int64_t N = view.tokens, d = D > 0 ? D : view.head_dim, C = view.width(), s = 3 * C, L = kLanes;
  for (std::int64_t h = 0; h < view.heads; ++h) {
    for (std::int64_t i = 0; i < N; ++i) {
      const float* qi = g + (i * s + h * d) * L;
      // Q_i in registers (the stores to `row` below could alias it as far as the compiler knows).
      VecF q[D > 0 ? D : 1];
      if constexpr (D > 0)
        for (std::int64_t c = 0; c < D; ++c) q[c] = load(qi + c * L);
      auto q_at = [&](std::int64_t c) { return D > 0 ? q[c] : load(qi + c * L); };
      VecF top{};
      for (std::int64_t j = 0; j < N; ++j) {
        const float* kj = g + (j * s + C + h * d) * L;
        VecF acc = q_at(0) * load(kj);
        for (std::int64_t c = 1; c < d; ++c) acc += q_at(c) * load(kj + c * L);
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
      if constexpr (D > 0) {  // one pass over the row, D accumulators
        VecF acc[D] = {};
        for (std::int64_t j = 0; j < N; ++j) {
          const VecF p = load(row + j * L);
          const float* vj = g + (j * s + 2 * C + h * d) * L;
          for (std::int64_t c = 0; c < D; ++c) acc[c] += p * load(vj + c * L);
        }
        for (std::int64_t c = 0; c < D; ++c) store(o + (i * C + h * d + c) * L, acc[c]);
      } else {
        for (std::int64_t c = 0; c < d; ++c) {
          const float* vc = g + (2 * C + h * d + c) * L;
          VecF acc{};
          for (std::int64_t j = 0; j < N; ++j) acc += load(row + j * L) * load(vc + j * s * L);
          store(o + (i * C + h * d + c) * L, acc);
        }
      }
    }
  }
}

template <std::int64_t D>
POSELIFT_INLINE void lanes_forward(const SequenceView& view, const float* qkv, std::int64_t count, float* probs,
                                   float* out, float* scratch) {
  const std::int64_t N = view.tokens, C = view.width(), L = kLanes;
  float* g = scratch;              // (N, 3C, L): Q, K, V of every lane
  float* o = g + N * 3 * C * L;    // (N, C, L)
  float* row = o + N * C * L;      // (N, L): one row of probabilities
  gather_lanes(qkv, N * 3 * C, count, g);
  lanes_attention<D>(view, g, probs, o, row);
  scatter_lanes(o, N * C, count, out);
}

template <std::int64_t D>
POSELIFT_INLINE void lanes_backward(const SequenceView& view, const float* qkv, std::int64_t count, const float* probs,
                                    const float* dout, float* dqkv, float* scratch) {
  const std::int64_t N = view.tokens, d = D > 0 ? D : view.head_dim, C = view.width(), s = 3 * C, L = kLanes;
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
      VecF go_reg[D > 0 ? D : 1];  // dO_i in registers (stores to dV could alias it)
      if constexpr (D > 0)
        for (std::int64_t c = 0; c < D; ++c) go_reg[c] = load(goi + c * L);
      auto go_at = [&](std::int64_t c) { return D > 0 ? go_reg[c] : load(goi + c * L); };
      // dP_ij = dO_i . V_j; dV_j += P_ij dO_i
      VecF dot{};
      for (std::int64_t j = 0; j < N; ++j) {
        const float* vj = g + (j * s + 2 * C + h * d) * L;
        float* dvj = dg + (j * s + 2 * C + h * d) * L;
        const VecF pij = load(p + j * L);
        VecF acc{};
        for (std::int64_t c = 0; c < d; ++c) {
          const VecF gc = go_at(c);
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
      if constexpr (D > 0) {  // Q_i and the dQ_i sums in registers
        VecF q[D], dq[D];
        for (std::int64_t c = 0; c < D; ++c) {
          q[c] = load(qi + c * L);
          dq[c] = load(dqi + c * L);
        }
        for (std::int64_t j = 0; j < N; ++j) {
          const float* kj = g + (j * s + C + h * d) * L;
          float* dkj = dg + (j * s + C + h * d) * L;
          const VecF dsij = load(ds + j * L);
          for (std::int64_t c = 0; c < D; ++c) {
            dq[c] += dsij * load(kj + c * L);
            store(dkj + c * L, load(dkj + c * L) + dsij * q[c]);
          }
        }
        for (std::int64_t c = 0; c < D; ++c) store(dqi + c * L, dq[c]);
      } else {
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
  }
  scatter_lanes(dg, N * s, count, dqkv);
}

}  // namespace

// PoseFormer's spatial heads are 4 wide (width 32, 8 heads).
POSELIFT_MULTIVERSION
void attention_lanes_forward(const SequenceView& view, const float* qkv, std::int64_t count, float* probs, float* out,
                             float* scratch) {
  if (view.head_dim == 4) {
    lanes_forward<4>(view, qkv, count, probs, out, scratch);
  } else {
    lanes_forward<0>(view, qkv, count, probs, out, scratch);
  }
}

POSELIFT_MULTIVERSION
void attention_lanes_backward(const SequenceView& view, const float* qkv, std::int64_t count, const float* probs,
                              const float* dout, float* dqkv, float* scratch) {
  if (view.head_dim == 4) {
    lanes_backward<4>(view, qkv, count, probs, dout, dqkv, scratch);
  } else {
    lanes_backward<0>(view, qkv, count, probs, dout, dqkv, scratch);
  }
}


// ---- the whole spatial stage in lane layout (inference) ----

namespace {


// 1 / sqrt(v) for v > 0 on every lane in plain vector arithmetic (a loop of std::sqrt compiles to
// sixteen scalar square roots and inserts): the exponent-halving first guess (relative error
// < 3.5%) and three Newton steps, each squaring the error, reach float precision.
POSELIFT_INLINE VecF inverse_sqrt(VecF v) {
  VecI bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits = 0x5f3759df - (bits >> 1);
  VecF y;
  std::memcpy(&y, &bits, sizeof y);
  const VecF half = v * 0.5f;
  for (int step = 0; step < 3; ++step) y = y * (1.5f - half * y * y);
  return y;
}

// x Phi(x), as kernels::gelu.
POSELIFT_INLINE VecF gelu_lanes(VecF x) {
  VecF gauss;
  return x * normal_cdf(x, &gauss);
}

// Layer norm over the `width` channels of each of `tokens` tokens, every lane its own sequence.
POSELIFT_INLINE void lanes_layer_norm(const float* x, std::int64_t tokens, std::int64_t width, const float* weight,
                                      const float* bias, float eps, float* out) {
  const std::int64_t L = kLanes;
  const float inv_width = 1.0f / static_cast<float>(width);
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* xt = x + t * width * L;
    float* ot = out + t * width * L;
    VecF sum{};
    for (std::int64_t c = 0; c < width; ++c) sum += load(xt + c * L);
    const VecF mean = sum * inv_width;
    VecF squares{};
    for (std::int64_t c = 0; c < width; ++c) {
      const VecF dx = load(xt + c * L) - mean;
      squares += dx * dx;
    }
    const VecF rstd = inverse_sqrt(squares * inv_width + eps);
    for (std::int64_t c = 0; c < width; ++c) store(ot + c * L, (load(xt + c * L) - mean) * rstd * weight[c] + bias[c]);
  }
}

enum class LaneOutput { store, add, gelu };

// out[t][n] = bias[n] + sum_k W[n][k] in[t][k] on every lane (W row-major N x K, as nn.Linear),
// then stored, added to out (a residual) or passed through GELU. Eight outputs at a time: each
// input vector loaded once feeds eight FMAs with broadcast weights.
template <LaneOutput Mode>
POSELIFT_INLINE void lanes_linear(const float* in, std::int64_t tokens, std::int64_t K, const float* W,
                                  const float* bias, std::int64_t N, float* out) {
  constexpr std::int64_t kBlock = 8;
  const std::int64_t L = kLanes;
  auto finish = [](float* dst, VecF value) {
    if constexpr (Mode == LaneOutput::add) value += load(dst);
    if constexpr (Mode == LaneOutput::gelu) value = gelu_lanes(value);
    store(dst, value);
  };
  for (std::int64_t t = 0; t < tokens; ++t) {
    const float* it = in + t * K * L;
    float* ot = out + t * N * L;
    std::int64_t n0 = 0;
    for (; n0 + kBlock <= N; n0 += kBlock) {
      VecF acc[kBlock];
      for (std::int64_t j = 0; j < kBlock; ++j) acc[j] = splat<VecF>(bias != nullptr ? bias[n0 + j] : 0.0f);
      for (std::int64_t k = 0; k < K; ++k) {
        const VecF v = load(it + k * L);
        for (std::int64_t j = 0; j < kBlock; ++j) acc[j] += W[(n0 + j) * K + k] * v;
      }
      for (std::int64_t j = 0; j < kBlock; ++j) finish(ot + (n0 + j) * L, acc[j]);
    }
    for (; n0 < N; ++n0) {
      VecF acc = splat<VecF>(bias != nullptr ? bias[n0] : 0.0f);
      for (std::int64_t k = 0; k < K; ++k) acc += W[n0 * K + k] * load(it + k * L);
      finish(ot + n0 * L, acc);
    }
  }
}

template <std::int64_t D>
POSELIFT_INLINE void spatial_stage(const SpatialStageWeights& w, const float* frames, std::int64_t count,
                                   float* features, float* scratch) {
  const std::int64_t J = w.joints, C = w.width, H = w.hidden, L = kLanes;
  float* x = scratch;             // (J, C, L): the residual stream
  float* h = x + J * C * L;       // (J, C, L): layer norm output
  float* qkv = h + J * C * L;     // (J, 3C, L)
  float* ctx = qkv + J * 3 * C * L;  // (J, C, L): attention output
  float* hidden = ctx + J * C * L;   // (J, H, L)
  float* row = hidden + J * H * L;   // (J, L)
  float* input = row + J * L;        // (J, in_chans, L)
  gather_lanes(frames, J * w.in_chans, count, input);
  lanes_linear<LaneOutput::store>(input, J, w.in_chans, w.embed_weight, w.embed_bias, C, x);
  for (std::int64_t t = 0; t < J; ++t)
    for (std::int64_t c = 0; c < C; ++c) store(x + (t * C + c) * L, load(x + (t * C + c) * L) + w.pos_embed[t * C + c]);
  const SequenceView view{J, w.heads, C / w.heads, static_cast<float>(std::pow(static_cast<double>(C / w.heads), -0.5))};
  for (const auto& b : w.blocks) {
    lanes_layer_norm(x, J, C, b.norm1_weight, b.norm1_bias, b.norm1_eps, h);
    lanes_linear<LaneOutput::store>(h, J, C, b.qkv_weight, b.qkv_bias, 3 * C, qkv);
    lanes_attention<D>(view, qkv, nullptr, ctx, row);
    lanes_linear<LaneOutput::add>(ctx, J, C, b.proj_weight, b.proj_bias, C, x);
    lanes_layer_norm(x, J, C, b.norm2_weight, b.norm2_bias, b.norm2_eps, h);
    lanes_linear<LaneOutput::gelu>(h, J, C, b.fc1_weight, b.fc1_bias, H, hidden);
    lanes_linear<LaneOutput::add>(hidden, J, H, b.fc2_weight, b.fc2_bias, C, x);
  }
  lanes_layer_norm(x, J, C, w.norm_weight, w.norm_bias, w.norm_eps, h);
  scatter_lanes(h, J * C, count, features);
}

}  // namespace

std::int64_t spatial_stage_scratch_floats(const SpatialStageWeights& w) {
  const std::int64_t J = w.joints, C = w.width;
  return (J * C * 4 + J * 3 * C + J * w.hidden + J + J * w.in_chans) * kLanes;
}

POSELIFT_MULTIVERSION
void spatial_stage_lanes(const SpatialStageWeights& weights, const float* frames, std::int64_t count, float* features,
                         float* scratch) {
  if (weights.width / weights.heads == 4) {
    spatial_stage<4>(weights, frames, count, features, scratch);
  } else {
    spatial_stage<0>(weights, frames, count, features, scratch);
  }
}

}  // namespace poselift::model::kernels
