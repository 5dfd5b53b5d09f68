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
// with +128 as unsigned, which the GEMM's A offset removes), int32 products, then scaled back.
torch::Tensor linear_forward_int8(const torch::Tensor& x2, const torch::Tensor& weight, const torch::Tensor& bias,
                                  const torch::Tensor& residual2) {
  const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
  const auto& qw = quantized_weight(weight);
  std::vector<std::uint8_t> xq(M * K);
  std::vector<float> row_scale(M);
  const float* x = x2.data_ptr<float>();
  at::parallel_for(0, M, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = begin; m < end; ++m) {
      const float* row = x + m * K;
      float top = 0.0f;
      for (std::int64_t k = 0; k < K; ++k) top = std::max(top, std::fabs(row[k]));
      const float scale = top > 0.0f ? top / 127.0f : 1.0f, inv = 1.0f / scale;
      row_scale[m] = scale;
      std::uint8_t* out = xq.data() + m * K;
      for (std::int64_t k = 0; k < K; ++k) {
        const float v = row[k] * inv;  // in [-127, 127]: round half away from zero, shift by 128
        out[k] = static_cast<std::uint8_t>(static_cast<std::int32_t>(v + (v >= 0.0f ? 0.5f : -0.5f)) + 128);
      }
    }
  });
  auto products = torch::empty({M, N}, x2.options().dtype(torch::kInt32));
  const std::int32_t no_offset = 0;
  const auto status = dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1.0f, xq.data(), K, 128, qw.values.data(), K, 0, 0.0f,
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
  auto h = torch::layer_norm(x, {C}, norm1.weight, norm1.bias, norm1.options.eps());
  clock.mark("layer norms");
  auto qkv = linear(h, attn.qkv->weight, attn.qkv->bias);
  clock.mark("qkv projection");
  auto context = attention(qkv, heads);
  clock.mark(C < 64 ? "attention (spatial)" : "attention (temporal)");
  // Residual and bias go into the GEMM's output unless stochastic depth must scale the branch.
  auto y = drop ? x + block.drop_path(linear(context, attn.proj->weight, attn.proj->bias))
                : linear(context, attn.proj->weight, attn.proj->bias, x);
  clock.mark("output projection");
  auto h2 = torch::layer_norm(y, {C}, norm2.weight, norm2.bias, norm2.options.eps());
  clock.mark("layer norms");
  auto pre = linear(h2, mlp.fc1->weight, mlp.fc1->bias);
  clock.mark("MLP products");
  auto hidden = torch::gelu(pre);
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
