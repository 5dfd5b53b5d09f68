#include "model/fast_poseformer.hpp"

#include <ATen/Parallel.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#ifdef POSELIFT_HAVE_DNNL
#include <dnnl.h>
#endif
#if __has_include(<omp.h>)
#include <omp.h>
#define POSELIFT_HAVE_OMP_H 1
#endif

#include "io/error.hpp"
#include "model/attention_kernels.hpp"
#include "model/poseformer.hpp"
#include "model/row_kernels.hpp"

namespace poselift::model {

namespace {

std::atomic<Implementation> g_default_implementation{Implementation::fast};
std::atomic<Precision> g_inference_precision{Precision::float32};
std::atomic<bool> g_tally_enabled{false};
fast::GemmTally g_tally;  // written only outside parallel regions

// Head widths below this use the loop kernels; wider heads use GEMM calls per head.
constexpr std::int64_t kLoopKernelMaxHeadDim = 16;

// Row-major C (m x n) = alpha op(A) op(B) + beta C, on raw strided buffers.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef POSELIFT_HAVE_DNNL
  const auto status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  TORCH_CHECK(status == dnnl_success, "oneDNN sgemm failed with status ", static_cast<int>(status));
#else
  const auto options = torch::TensorOptions().dtype(torch::kFloat32);
  auto as = trans_a ? torch::from_blob(const_cast<float*>(a), {k, m}, {lda, 1}, options).t()
                    : torch::from_blob(const_cast<float*>(a), {m, k}, {lda, 1}, options);
  auto bs = trans_b ? torch::from_blob(const_cast<float*>(b), {n, k}, {ldb, 1}, options).t()
                    : torch::from_blob(const_cast<float*>(b), {k, n}, {ldb, 1}, options);
  auto cs = torch::from_blob(c, {m, n}, {ldc, 1}, options);
  if (beta == 0.0f) cs.zero_();
  cs.addmm_(as, bs, beta == 0.0f ? 1.0f : beta, alpha);
#endif
}

// Inside a parallel region (one head per thread), each per-head GEMM runs on its own thread:
// oneDNN must not try to split it over the team again (nested teams oversubscribe the cores).
class OneThreadPerGemm {
 public:
  OneThreadPerGemm() {
#ifdef POSELIFT_HAVE_OMP_H
    saved_ = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
  }
  ~OneThreadPerGemm() {
#ifdef POSELIFT_HAVE_OMP_H
    omp_set_num_threads(saved_);
#endif
  }
  OneThreadPerGemm(const OneThreadPerGemm&) = delete;
  OneThreadPerGemm& operator=(const OneThreadPerGemm&) = delete;

 private:
  int saved_ = 1;
};

void check_cpu_float(const torch::Tensor& t, const char* what) {
  TORCH_CHECK(t.device().is_cpu() && t.scalar_type() == torch::kFloat32, "the fast PoseFormer path needs float32 CPU ",
              what, " (use --impl reference on other devices)");
}

// ---- linear ----

torch::Tensor linear_forward(const torch::Tensor& x2, const torch::Tensor& weight, const torch::Tensor& bias,
                             const torch::Tensor& residual2) {
  const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
  torch::Tensor out;
  if (residual2.defined()) {
    out = bias.defined() ? torch::add(residual2, bias) : residual2.clone(at::MemoryFormat::Contiguous);
  } else if (bias.defined()) {
    out = bias.unsqueeze(0).expand({M, N}).contiguous();
  } else {
    out = torch::zeros({M, N}, x2.options());
  }
  const bool tally = g_tally_enabled && !at::in_parallel_region();
  const auto start = tally ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  gemm(false, true, M, N, K, 1.0f, x2.data_ptr<float>(), K, weight.data_ptr<float>(), K, 1.0f,
       out.data_ptr<float>(), N);
  if (tally) {
    g_tally.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    g_tally.flops += 2.0 * M * N * K;
  }
  return out;
}

// ---- int8 inference ----

#ifdef POSELIFT_HAVE_DNNL
// A weight matrix (N x K) as int8 with one scale per output row: w ~ scale[n] * q[n][k].
struct QuantizedWeight {
  c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> source;
  std::int64_t version = 0;
  std::vector<std::int8_t> values;
  std::vector<float> scales;
};

QuantizedWeight quantize_weight(const torch::Tensor& weight) {
  const auto N = weight.size(0), K = weight.size(1);
  QuantizedWeight q{c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>(weight.getIntrusivePtr()),
                    weight._version(), std::vector<std::int8_t>(N * K), std::vector<float>(N)};
  const float* w = weight.data_ptr<float>();
  for (std::int64_t n = 0; n < N; ++n) {
    float top = 0.0f;
    for (std::int64_t k = 0; k < K; ++k) top = std::max(top, std::fabs(w[n * K + k]));
    const float scale = top > 0.0f ? top / 127.0f : 1.0f;
    q.scales[n] = scale;
    for (std::int64_t k = 0; k < K; ++k)
      q.values[n * K + k] = static_cast<std::int8_t>(std::lround(w[n * K + k] / scale));
  }
  return q;
}

// Quantised weights by tensor; an entry is valid while its tensor lives and is unmodified
// (in-place updates such as an optimizer step bump the version counter).
const QuantizedWeight& quantized_weight(const torch::Tensor& weight) {
  static std::mutex mutex;
  static std::unordered_map<const c10::TensorImpl*, QuantizedWeight> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const auto* key = weight.unsafeGetTensorImpl();
  auto it = cache.find(key);
  if (it != cache.end() && it->second.source.lock().get() == key && it->second.version == weight._version())
    return it->second;
  for (auto e = cache.begin(); e != cache.end();) e = e->second.source.expired() ? cache.erase(e) : std::next(e);
  return cache.insert_or_assign(key, quantize_weight(weight)).first->second;
}

// x (M x K) W^T through 8-bit integers: rows of x quantised symmetrically (scale per row, stored
// with an offset of levels + 1 as unsigned, which the GEMM's A offset removes), int32 products,
// then scaled back.
torch::Tensor linear_forward_int8(const torch::Tensor& x2, const torch::Tensor& weight, const torch::Tensor& bias,
                                  const torch::Tensor& residual2) {
  const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
  const auto& qw = quantized_weight(weight);
  std::vector<std::uint8_t> xq(M * K);
  std::vector<float> row_scale(M);
  const float* x = x2.data_ptr<float>();
  const int levels = int8_activation_levels();
  const float inv_levels = 1.0f / static_cast<float>(levels);
  at::parallel_for(0, M, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = begin; m < end; ++m) {
      const float* row = x + m * K;
      float top = 0.0f;
      for (std::int64_t k = 0; k < K; ++k) top = std::max(top, std::fabs(row[k]));
      const float scale = top > 0.0f ? top * inv_levels : 1.0f, inv = 1.0f / scale;
      row_scale[m] = scale;
      std::uint8_t* out = xq.data() + m * K;
      for (std::int64_t k = 0; k < K; ++k) {
        const float v = row[k] * inv;  // in [-levels, levels]: round half away from zero, shift by levels + 1
        out[k] = static_cast<std::uint8_t>(static_cast<std::int32_t>(v + (v >= 0.0f ? 0.5f : -0.5f)) + levels + 1);
      }
    }
  });
  auto products = torch::empty({M, N}, x2.options().dtype(torch::kInt32));
  const std::int32_t no_offset = 0;
  const auto a_offset = static_cast<std::uint8_t>(levels + 1);
  const auto status = dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1.0f, xq.data(), K, a_offset, qw.values.data(), K, 0, 0.0f,
                                        products.data_ptr<std::int32_t>(), N, &no_offset);
  TORCH_CHECK(status == dnnl_success, "oneDNN u8s8s32 GEMM failed with status ", static_cast<int>(status));
  auto out = torch::empty({M, N}, x2.options());
  const std::int32_t* p = products.data_ptr<std::int32_t>();
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  const float* r = residual2.defined() ? residual2.data_ptr<float>() : nullptr;
  float* o = out.data_ptr<float>();
  at::parallel_for(0, M, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = begin; m < end; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        float v = static_cast<float>(p[m * N + n]) * (row_scale[m] * qw.scales[n]);
        if (b != nullptr) v += b[n];
        if (r != nullptr) v += r[m * N + n];
        o[m * N + n] = v;
      }
  });
  return out;
}

bool int8_applies(std::int64_t inputs) {
  return g_inference_precision == Precision::int8 && inputs >= kInt8MinInputs;
}
#endif

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x2,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& residual2) {
    const bool has_bias = bias.numel() > 0, has_residual = residual2.numel() > 0;
    ctx->save_for_backward({x2, weight});
    ctx->saved_data["has_bias"] = has_bias;
    ctx->saved_data["has_residual"] = has_residual;
    return linear_forward(x2, weight, has_bias ? bias : torch::Tensor(), has_residual ? residual2 : torch::Tensor());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x2 = saved[0];
    const auto& weight = saved[1];
    auto grad = grads[0].contiguous();
    const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
    auto grad_x = torch::empty({M, K}, x2.options());
    auto grad_w = torch::empty({N, K}, weight.options());
    gemm(false, false, M, K, N, 1.0f, grad.data_ptr<float>(), N, weight.data_ptr<float>(), K, 0.0f,
         grad_x.data_ptr<float>(), K);
    gemm(true, false, N, K, M, 1.0f, grad.data_ptr<float>(), N, x2.data_ptr<float>(), K, 0.0f,
         grad_w.data_ptr<float>(), K);
    torch::Tensor grad_b = ctx->saved_data["has_bias"].toBool() ? grad.sum(0) : torch::Tensor();
    torch::Tensor grad_r = ctx->saved_data["has_residual"].toBool() ? grad : torch::Tensor();
    return {grad_x, grad_w, grad_b, grad_r};
  }
};

// ---- attention ----

struct AttentionLayout {
  std::int64_t batch, tokens, width, heads, head_dim;
  float scale;
  explicit AttentionLayout(const torch::Tensor& qkv, std::int64_t num_heads) {
    TORCH_CHECK(qkv.dim() == 3 && qkv.size(2) % (3 * num_heads) == 0, "attention expects (B, N, 3C) with C divisible by ",
                num_heads, " heads, got ", qkv.sizes());
    batch = qkv.size(0);
    tokens = qkv.size(1);
    width = qkv.size(2) / 3;
    heads = num_heads;
    head_dim = width / heads;
    scale = static_cast<float>(std::pow(static_cast<double>(head_dim), -0.5));
  }
  bool loop_kernel() const { return head_dim < kLoopKernelMaxHeadDim; }
  kernels::SequenceView view() const { return {tokens, heads, head_dim, scale}; }
  // Groups of kernels::kLanes sequences (loop kernels).
  std::int64_t groups() const { return (batch + kernels::kLanes - 1) / kernels::kLanes; }
  // Q of head h in sequence b; K and V follow at +width and +2*width.
  std::int64_t qkv_offset(std::int64_t b, std::int64_t h) const { return b * tokens * 3 * width + h * head_dim; }
  std::int64_t out_offset(std::int64_t b, std::int64_t h) const { return b * tokens * width + h * head_dim; }
};

// One head with GEMM calls (wide heads): probs (N x N) and output.
void head_forward(const AttentionLayout& L, const float* qkv, float* probs, float* out, std::int64_t b, std::int64_t h) {
  const float* q = qkv + L.qkv_offset(b, h);
  const float* k = q + L.width;
  const float* v = q + 2 * L.width;
  float* o = out + L.out_offset(b, h);
  const std::int64_t N = L.tokens, d = L.head_dim, s = 3 * L.width;
  gemm(false, true, N, N, d, 1.0f, q, s, k, s, 0.0f, probs, N);
  kernels::softmax_rows(probs, N, N, L.scale);
  gemm(false, false, N, d, N, 1.0f, probs, N, v, s, 0.0f, o, L.width);
}

// probs_all: (B, H, N, N) to keep for the backward pass, or undefined (inference: per-thread
// scratch only).
torch::Tensor attention_forward(const torch::Tensor& qkv, const AttentionLayout& L, torch::Tensor* probs_all) {
  auto out = torch::empty({L.batch, L.tokens, L.width}, qkv.options());
  const float* in = qkv.data_ptr<float>();
  float* o = out.data_ptr<float>();
  float* probs_base = nullptr;
  const std::int64_t NN = L.tokens * L.tokens;
  if (L.loop_kernel()) {  // small heads: kernels::kLanes sequences per call, one per SIMD lane
    const auto view = L.view();
    const std::int64_t group_probs = kernels::lanes_probs_floats(view);
    if (probs_all != nullptr) {
      *probs_all = torch::empty({L.groups(), group_probs}, qkv.options());
      probs_base = probs_all->data_ptr<float>();
    }
    at::parallel_for(0, L.groups(), 1, [&](std::int64_t begin, std::int64_t end) {
      std::vector<float> scratch(kernels::lanes_scratch_floats(view));
      for (std::int64_t g = begin; g < end; ++g) {
        const std::int64_t first = g * kernels::kLanes, count = std::min(kernels::kLanes, L.batch - first);
        kernels::attention_lanes_forward(view, in + first * L.tokens * 3 * L.width, count,
                                         probs_base != nullptr ? probs_base + g * group_probs : nullptr,
                                         o + first * L.tokens * L.width, scratch.data());
      }
    });
    return out;
  }
  if (probs_all != nullptr) {
    *probs_all = torch::empty({L.batch, L.heads, L.tokens, L.tokens}, qkv.options());
    probs_base = probs_all->data_ptr<float>();
  }
  at::parallel_for(0, L.batch * L.heads, 1, [&](std::int64_t begin, std::int64_t end) {
    OneThreadPerGemm one_thread;
    std::vector<float> scratch(probs_base == nullptr ? NN : 0);
    for (std::int64_t bh = begin; bh < end; ++bh) {
      float* probs = probs_base != nullptr ? probs_base + bh * NN : scratch.data();
      head_forward(L, in, probs, o, bh / L.heads, bh % L.heads);
    }
  });
  return out;
}

torch::Tensor attention_backward(const torch::Tensor& qkv, const torch::Tensor& probs_all, const AttentionLayout& L,
                                 const torch::Tensor& grad_out) {
  auto grad_qkv = torch::empty_like(qkv);
  const float* in = qkv.data_ptr<float>();
  const float* probs_base = probs_all.data_ptr<float>();
  const float* go = grad_out.data_ptr<float>();
  float* gqkv = grad_qkv.data_ptr<float>();
  const std::int64_t N = L.tokens, d = L.head_dim, s = 3 * L.width, NN = N * N;
  if (L.loop_kernel()) {
    const auto view = L.view();
    const std::int64_t group_probs = kernels::lanes_probs_floats(view);
    at::parallel_for(0, L.groups(), 1, [&](std::int64_t begin, std::int64_t end) {
      std::vector<float> scratch(kernels::lanes_scratch_floats(view));
      for (std::int64_t g = begin; g < end; ++g) {
        const std::int64_t first = g * kernels::kLanes, count = std::min(kernels::kLanes, L.batch - first);
        kernels::attention_lanes_backward(view, in + first * N * s, count, probs_base + g * group_probs,
                                          go + first * N * L.width, gqkv + first * N * s, scratch.data());
      }
    });
    return grad_qkv;
  }
  at::parallel_for(0, L.batch * L.heads, 1, [&](std::int64_t begin, std::int64_t end) {
    OneThreadPerGemm one_thread;
    std::vector<float> scratch(NN);
    for (std::int64_t bh = begin; bh < end; ++bh) {
      const std::int64_t b = bh / L.heads, h = bh % L.heads;
      const float* q = in + L.qkv_offset(b, h);
      const float* k = q + L.width;
      const float* v = q + 2 * L.width;
      const float* probs = probs_base + bh * NN;
      const float* dout = go + L.out_offset(b, h);
      float* dq = gqkv + L.qkv_offset(b, h);
      float* dk = dq + L.width;
      float* dv = dq + 2 * L.width;
      float* dp = scratch.data();
      gemm(true, false, N, d, N, 1.0f, probs, N, dout, L.width, 0.0f, dv, s);  // dV = P^T dO
      gemm(false, true, N, N, d, 1.0f, dout, L.width, v, s, 0.0f, dp, N);     // dP = dO V^T
      kernels::softmax_backward_rows(probs, dp, N, N);                        // dS
      gemm(false, false, N, d, N, L.scale, dp, N, k, s, 0.0f, dq, s);         // dQ = s dS K
      gemm(true, false, N, d, N, L.scale, dp, N, q, s, 0.0f, dk, s);          // dK = s dS^T Q
    }
  });
  return grad_qkv;
}

class AttentionFunction : public torch::autograd::Function<AttentionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& qkv, std::int64_t heads) {
    AttentionLayout layout(qkv, heads);
    torch::Tensor probs;
    auto out = attention_forward(qkv, layout, &probs);
    ctx->save_for_backward({qkv, probs});
    ctx->saved_data["heads"] = heads;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    AttentionLayout layout(saved[0], ctx->saved_data["heads"].toInt());
    auto grad = attention_backward(saved[0], saved[1], layout, grads[0].contiguous());
    return {grad, torch::Tensor()};
  }
};

// ---- layer norm and GELU ----

// Rows per task of the row kernels. The layer norm's weight and bias gradients are summed per
// chunk of this many rows, then over the chunks in order: the same result for any thread count.
constexpr std::int64_t kRowChunk = 256;
// Floats per task of the elementwise kernels.
constexpr std::int64_t kElementGrain = 1 << 15;

torch::Tensor layer_norm_forward(const torch::Tensor& x2, const torch::Tensor& weight, const torch::Tensor& bias,
                                 double eps, torch::Tensor* mean, torch::Tensor* rstd) {
  const auto M = x2.size(0), C = x2.size(1);
  auto out = torch::empty({M, C}, x2.options());
  float* mean_data = nullptr;
  float* rstd_data = nullptr;
  if (mean != nullptr) {
    *mean = torch::empty({M}, x2.options());
    *rstd = torch::empty({M}, x2.options());
    mean_data = mean->data_ptr<float>();
    rstd_data = rstd->data_ptr<float>();
  }
  const float* x = x2.data_ptr<float>();
  const float* w = weight.data_ptr<float>();
  const float* b = bias.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, M, kRowChunk, [&](std::int64_t begin, std::int64_t end) {
    kernels::layer_norm_rows(x + begin * C, end - begin, C, w, b, static_cast<float>(eps), o + begin * C,
                             mean_data != nullptr ? mean_data + begin : nullptr,
                             rstd_data != nullptr ? rstd_data + begin : nullptr);
  });
  return out;
}

class LayerNormFunction : public torch::autograd::Function<LayerNormFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x2,
                               const torch::Tensor& weight, const torch::Tensor& bias, double eps) {
    torch::Tensor mean, rstd;
    auto out = layer_norm_forward(x2, weight, bias, eps, &mean, &rstd);
    ctx->save_for_backward({x2, weight, mean, rstd});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x2 = saved[0];
    const auto& weight = saved[1];
    const auto grad = grads[0].contiguous();
    const auto M = x2.size(0), C = x2.size(1);
    const std::int64_t chunks = (M + kRowChunk - 1) / kRowChunk;
    auto grad_x = torch::empty({M, C}, x2.options());
    std::vector<float> partial(static_cast<std::size_t>(chunks * 2 * C), 0.0f);  // per chunk: weight, bias
    const float* x = x2.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    const float* w = weight.data_ptr<float>();
    const float* mean = saved[2].data_ptr<float>();
    const float* rstd = saved[3].data_ptr<float>();
    float* dx = grad_x.data_ptr<float>();
    at::parallel_for(0, chunks, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) {
        const std::int64_t first = k * kRowChunk, rows = std::min(kRowChunk, M - first);
        float* sums = partial.data() + k * 2 * C;
        kernels::layer_norm_backward_rows(x + first * C, g + first * C, rows, C, w, mean + first, rstd + first,
                                          dx + first * C, sums, sums + C);
      }
    });
    auto grad_w = torch::zeros({C}, weight.options());
    auto grad_b = torch::zeros({C}, weight.options());
    float* dw = grad_w.data_ptr<float>();
    float* db = grad_b.data_ptr<float>();
    for (std::int64_t k = 0; k < chunks; ++k)
      for (std::int64_t c = 0; c < C; ++c) {
        dw[c] += partial[k * 2 * C + c];
        db[c] += partial[k * 2 * C + C + c];
      }
    return {grad_x, grad_w, grad_b, torch::Tensor()};
  }
};

torch::Tensor gelu_forward(const torch::Tensor& x) {
  auto out = torch::empty_like(x);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), kElementGrain, [&](std::int64_t begin, std::int64_t end) {
    kernels::gelu(in + begin, end - begin, o + begin);
  });
  return out;
}

class GeluFunction : public torch::autograd::Function<GeluFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return gelu_forward(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    const auto grad = grads[0].contiguous();
    auto grad_x = torch::empty_like(x);
    const float* in = x.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* dx = grad_x.data_ptr<float>();
    at::parallel_for(0, x.numel(), kElementGrain, [&](std::int64_t begin, std::int64_t end) {
      kernels::gelu_backward(in + begin, g + begin, end - begin, dx + begin);
    });
    return {grad_x};
  }
};

bool needs_grad(std::initializer_list<const torch::Tensor*> tensors) {
  if (!torch::GradMode::is_enabled()) return false;
  for (const auto* t : tensors)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

}  // namespace

Implementation parse_implementation(const std::string& name) {
  if (name == "fast") return Implementation::fast;
  if (name == "reference") return Implementation::reference;
  throw InputError("--impl: expected 'fast' or 'reference', got '" + name + "'");
}

const char* implementation_name(Implementation implementation) {
  return implementation == Implementation::fast ? "fast" : "reference";
}

void set_default_implementation(Implementation implementation) { g_default_implementation = implementation; }
Implementation default_implementation() { return g_default_implementation; }

Precision parse_precision(const std::string& name) {
  if (name == "float32") return Precision::float32;
  if (name == "int8") {
#ifndef POSELIFT_HAVE_DNNL
    throw InputError("--precision int8 needs oneDNN's integer GEMM: rebuild with oneDNN (Debian: libdnnl-dev)");
#endif
    return Precision::int8;
  }
  throw InputError("--precision: expected 'float32' or 'int8', got '" + name + "'");
}

const char* precision_name(Precision precision) { return precision == Precision::int8 ? "int8" : "float32"; }
void set_inference_precision(Precision precision) { g_inference_precision = precision; }
Precision inference_precision() { return g_inference_precision; }

int int8_activation_levels() {
  static const int levels = __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni") ? 127 : 63;
  return levels;
}

std::string fast_gemm_backend() {
#ifdef POSELIFT_HAVE_DNNL
  return "oneDNN";
#else
  return "LibTorch";
#endif
}

namespace fast {

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const torch::Tensor& residual) {
  check_cpu_float(x, "input");
  const auto K = x.size(-1), N = weight.size(0);
  auto out_shape = x.sizes().vec();
  out_shape.back() = N;
  auto x2 = x.reshape({-1, K}).contiguous();
  auto w = weight.contiguous();
  torch::Tensor r2 = residual.defined() ? residual.reshape({-1, N}).contiguous() : torch::Tensor();
  torch::Tensor out;
  if (needs_grad({&x, &weight, &bias, &residual})) {
    // Custom autograd functions take no undefined tensors: empty ones stand for "absent".
    const auto absent = torch::empty({0}, x.options());
    out = LinearFunction::apply(x2, w, bias.defined() ? bias : absent, r2.defined() ? r2 : absent);
  } else {
    torch::NoGradGuard no_grad;
#ifdef POSELIFT_HAVE_DNNL
    if (int8_applies(K)) return linear_forward_int8(x2, w, bias, r2).view(out_shape);
#endif
    out = linear_forward(x2, w, bias, r2);
  }
  return out.view(out_shape);
}

torch::Tensor attention(const torch::Tensor& qkv, std::int64_t heads) {
  check_cpu_float(qkv, "activations");
  auto input = qkv.contiguous();
  if (needs_grad({&qkv})) return AttentionFunction::apply(input, heads);
  torch::NoGradGuard no_grad;
  return attention_forward(input, AttentionLayout(input, heads), nullptr);
}

torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double eps) {
  check_cpu_float(x, "input");
  const auto C = x.size(-1);
  TORCH_CHECK(weight.numel() == C && bias.numel() == C, "layer norm: weight and bias need ", C, " values");
  auto x2 = x.reshape({-1, C}).contiguous();
  if (needs_grad({&x, &weight, &bias}))
    return LayerNormFunction::apply(x2, weight.contiguous(), bias.contiguous(), eps).view(x.sizes());
  torch::NoGradGuard no_grad;
  return layer_norm_forward(x2, weight.contiguous(), bias.contiguous(), eps, nullptr, nullptr).view(x.sizes());
}

torch::Tensor gelu(const torch::Tensor& x) {
  check_cpu_float(x, "input");
  auto input = x.contiguous();
  if (needs_grad({&x})) return GeluFunction::apply(input);
  torch::NoGradGuard no_grad;
  return gelu_forward(input);
}

torch::Tensor temporal_head(PoseFormerImpl& model, const torch::Tensor& x) {
  check_cpu_float(x, "activations");
  torch::NoGradGuard no_grad;
  const auto& config = model.config();
  const std::int64_t B = x.size(0), F = x.size(1), D = x.size(2), outputs = config.num_joints * 3;
  auto normed = layer_norm(x, model.Temporal_norm->weight, model.Temporal_norm->bias,
                           model.Temporal_norm->options.eps());
  // weighted_mean, a Conv1d over the F frames with kernel 1: a learned weighted sum of frames.
  const auto frame_weight = model.weighted_mean->weight.reshape({F}).contiguous();
  const float frame_bias = model.weighted_mean->bias.item<float>();
  auto pooled = torch::empty({B, D}, x.options());
  const float* n = normed.data_ptr<float>();
  const float* fw = frame_weight.data_ptr<float>();
  float* p = pooled.data_ptr<float>();
  for (std::int64_t b = 0; b < B; ++b) {
    float* row = p + b * D;
    for (std::int64_t c = 0; c < D; ++c) row[c] = frame_bias;
    for (std::int64_t f = 0; f < F; ++f) {
      const float* frame = n + (b * F + f) * D;
      for (std::int64_t c = 0; c < D; ++c) row[c] += fw[f] * frame[c];
    }
  }
  auto& head_norm = *model.head[0]->as<torch::nn::LayerNorm>();
  auto& head_linear = *model.head[1]->as<torch::nn::Linear>();
  const auto h = layer_norm(pooled, head_norm.weight, head_norm.bias, head_norm.options.eps());
  const auto weight = head_linear.weight.contiguous();
  const float* hw = weight.data_ptr<float>();
  const float* hb = head_linear.bias.data_ptr<float>();
  const float* hd = h.data_ptr<float>();
  auto out = torch::empty({B, outputs}, x.options());
  float* o = out.data_ptr<float>();
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t j = 0; j < outputs; ++j) {
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (std::int64_t c = 0; c < D; ++c) sum += hw[j * D + c] * hd[b * D + c];
      o[b * outputs + j] = sum + hb[j];
    }
  return out.view({B, 1, config.num_joints, 3});
}

torch::Tensor spatial_stage(PoseFormerImpl& model, const torch::Tensor& frames) {
  check_cpu_float(frames, "input");
  const auto& config = model.config();
  TORCH_CHECK(frames.dim() == 3 && frames.size(1) == config.num_joints && frames.size(2) == config.in_chans,
              "spatial stage expects (N, ", config.num_joints, ", ", config.in_chans, ") frames, got ", frames.sizes());
  torch::NoGradGuard no_grad;
  // The parameters' own storage, contiguous (copies kept alive here where a view is not).
  std::vector<torch::Tensor> keep;
  auto raw = [&](const torch::Tensor& t) -> const float* {
    if (!t.defined()) return nullptr;
    check_cpu_float(t, "parameters");
    keep.push_back(t.contiguous());
    return keep.back().data_ptr<float>();
  };
  kernels::SpatialStageWeights w;
  w.joints = config.num_joints;
  w.in_chans = config.in_chans;
  w.width = config.embed_dim_ratio;
  w.heads = config.num_heads;
  w.embed_weight = raw(model.Spatial_patch_to_embedding->weight);
  w.embed_bias = raw(model.Spatial_patch_to_embedding->bias);
  w.pos_embed = raw(model.Spatial_pos_embed);
  for (const auto& module : *model.Spatial_blocks) {
    auto& block = *module->as<TransformerBlock>();
    auto& attn = *block.attn;
    auto& mlp = *block.mlp;
    w.hidden = mlp.fc1->weight.size(0);
    w.blocks.push_back({raw(block.norm1->weight), raw(block.norm1->bias), static_cast<float>(block.norm1->options.eps()),
                        raw(attn.qkv->weight), raw(attn.qkv->bias), raw(attn.proj->weight), raw(attn.proj->bias),
                        raw(block.norm2->weight), raw(block.norm2->bias), static_cast<float>(block.norm2->options.eps()),
                        raw(mlp.fc1->weight), raw(mlp.fc1->bias), raw(mlp.fc2->weight), raw(mlp.fc2->bias)});
  }
  w.norm_weight = raw(model.Spatial_norm->weight);
  w.norm_bias = raw(model.Spatial_norm->bias);
  w.norm_eps = static_cast<float>(model.Spatial_norm->options.eps());

  const auto input = frames.contiguous();
  const std::int64_t count = input.size(0), feature_width = w.joints * w.width;
  auto features = torch::empty({count, feature_width}, input.options());
  const float* in = input.data_ptr<float>();
  float* out = features.data_ptr<float>();
  const std::int64_t groups = (count + kernels::kLanes - 1) / kernels::kLanes;
  at::parallel_for(0, groups, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> scratch(static_cast<std::size_t>(kernels::spatial_stage_scratch_floats(w)));
    for (std::int64_t g = begin; g < end; ++g) {
      const std::int64_t first = g * kernels::kLanes, n = std::min(kernels::kLanes, count - first);
      kernels::spatial_stage_lanes(w, in + first * w.joints * w.in_chans, n, out + first * feature_width,
                                   scratch.data());
    }
  });
  return features;
}

namespace {
// Adds the time since the previous mark to a named phase (only while tallying).
class PhaseClock {
 public:
  PhaseClock() : on_(g_tally_enabled && !at::in_parallel_region()), last_(std::chrono::steady_clock::now()) {}
  void mark(const char* phase) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    for (auto& [name, seconds] : g_tally.phases)
      if (name == phase) {
        seconds += dt;
        return;
      }
    g_tally.phases.emplace_back(phase, dt);
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_;
};
}  // namespace

torch::Tensor block_forward(TransformerBlockImpl& block, const torch::Tensor& x, std::int64_t heads) {
  const auto C = x.size(-1);
  auto& norm1 = *block.norm1;
  auto& norm2 = *block.norm2;
  auto& attn = *block.attn;
  auto& mlp = *block.mlp;
  const bool drop = block.drop_path_active();
  PhaseClock clock;
  auto h = fast::layer_norm(x, norm1.weight, norm1.bias, norm1.options.eps());
  clock.mark("layer norms");
  auto qkv = linear(h, attn.qkv->weight, attn.qkv->bias);
  clock.mark("qkv projection");
  auto context = attention(qkv, heads);
  clock.mark(C < 64 ? "attention (spatial)" : "attention (temporal)");
  // Residual and bias go into the GEMM's output unless stochastic depth must scale the branch.
  auto y = drop ? x + block.drop_path(linear(context, attn.proj->weight, attn.proj->bias))
                : linear(context, attn.proj->weight, attn.proj->bias, x);
  clock.mark("output projection");
  auto h2 = fast::layer_norm(y, norm2.weight, norm2.bias, norm2.options.eps());
  clock.mark("layer norms");
  auto pre = linear(h2, mlp.fc1->weight, mlp.fc1->bias);
  clock.mark("MLP products");
  auto hidden = fast::gelu(pre);
  clock.mark("GELU");
  auto out = drop ? y + block.drop_path(linear(hidden, mlp.fc2->weight, mlp.fc2->bias))
                  : linear(hidden, mlp.fc2->weight, mlp.fc2->bias, y);
  clock.mark("MLP products");
  return out;
}

void set_gemm_tally(bool enabled) { g_tally_enabled = enabled; }
void reset_gemm_tally() { g_tally = GemmTally{}; }
GemmTally gemm_tally() { return g_tally; }

double measure_gemm_gflops(std::int64_t m, std::int64_t n, std::int64_t k, double seconds) {
  auto a = torch::randn({m, k});
  auto b = torch::randn({n, k});
  auto c = torch::empty({m, n});
  auto once = [&] {
    gemm(false, true, m, n, k, 1.0f, a.data_ptr<float>(), k, b.data_ptr<float>(), k, 0.0f, c.data_ptr<float>(), n);
  };
  once();
  int passes = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    once();
    ++passes;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds || passes < 3);
  return 2.0 * m * n * k * passes / elapsed / 1e9;
}

}  // namespace fast
}  // namespace poselift::model
