#include "model/fast_ops.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "model/attention_kernels.hpp"
#include "model/fast_bf16.hpp"
#include "model/fast_gemm.hpp"
#include "model/fast_int8.hpp"
#include "model/fast_profile.hpp"
#include "model/fast_settings.hpp"
#include "model/row_kernels.hpp"

namespace poselift::model::fast {

void check_cpu_float(const at::Tensor& t, const char* what) {
  TORCH_CHECK(t.device().is_cpu() && t.scalar_type() == at::kFloat, "the fast PoseFormer path needs float32 CPU ",
              what, " (use --impl reference on other devices)");
}

namespace {

// Head widths below this use the loop kernels; wider heads use GEMM calls per head.
constexpr std::int64_t kLoopKernelMaxHeadDim = 16;

// ---- linear ----

at::Tensor linear_forward(const at::Tensor& x2, const at::Tensor& weight, const at::Tensor& bias,
                          const at::Tensor& residual2) {
  const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
  at::Tensor out;
  if (residual2.defined()) {
    out = bias.defined() ? at::add(residual2, bias) : residual2.clone(at::MemoryFormat::Contiguous);
  } else if (bias.defined()) {
    out = bias.unsqueeze(0).expand({M, N}).contiguous();
  } else {
    out = at::zeros({M, N}, x2.options());
  }
  const bool tally = tally_active();
  const auto start = tally ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  gemm(false, true, M, N, K, 1.0f, x2.data_ptr<float>(), K, weight.data_ptr<float>(), K, 1.0f,
       out.data_ptr<float>(), N);
  if (tally)
    tally_gemm(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0 * M * N * K);
  return out;
}

// ---- int8 and bfloat16 inference ----

#ifdef POSELIFT_HAVE_DNNL
// A weight's reduced-precision form (QuantizedWeight or Bf16Weight), valid while its tensor lives
// and is unmodified (in-place updates such as an optimizer step bump the version counter).
template <class Prepared>
struct CachedWeight {
  c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> source;
  std::int64_t version = 0;
  Prepared weight;
};

template <class Prepared, class Prepare>
const Prepared& cached_weight(const at::Tensor& weight, Prepare prepare) {
  static std::mutex mutex;
  static std::unordered_map<const c10::TensorImpl*, CachedWeight<Prepared>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const auto* key = weight.unsafeGetTensorImpl();
  auto it = cache.find(key);
  if (it != cache.end() && it->second.source.lock().get() == key && it->second.version == weight._version())
    return it->second.weight;
  for (auto e = cache.begin(); e != cache.end();) e = e->second.source.expired() ? cache.erase(e) : std::next(e);
  CachedWeight<Prepared> entry{
      c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>(weight.getIntrusivePtr()), weight._version(),
      prepare(weight.data_ptr<float>(), weight.size(0), weight.size(1))};
  return cache.insert_or_assign(key, std::move(entry)).first->second.weight;
}

at::Tensor linear_forward_reduced(Precision precision, const at::Tensor& x2, const at::Tensor& weight,
                                  const at::Tensor& bias, const at::Tensor& residual2) {
  const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
  auto out = at::empty({M, N}, x2.options());
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  const float* r = residual2.defined() ? residual2.data_ptr<float>() : nullptr;
  if (precision == Precision::bf16)
    bf16_linear(x2.data_ptr<float>(), M, K, cached_weight<Bf16Weight>(weight, bf16_weight), N, b, r,
                out.data_ptr<float>());
  else
    int8_linear(x2.data_ptr<float>(), M, K, cached_weight<QuantizedWeight>(weight, quantize_weight), N, b, r,
                out.data_ptr<float>());
  return out;
}
#endif

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x2,
                            const at::Tensor& weight, const at::Tensor& bias,
                            const at::Tensor& residual2) {
    const bool has_bias = bias.numel() > 0, has_residual = residual2.numel() > 0;
    ctx->save_for_backward({x2, weight});
    ctx->saved_data["has_bias"] = has_bias;
    ctx->saved_data["has_residual"] = has_residual;
    return linear_forward(x2, weight, has_bias ? bias : at::Tensor(), has_residual ? residual2 : at::Tensor());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x2 = saved[0];
    const auto& weight = saved[1];
    auto grad = grads[0].contiguous();
    const auto M = x2.size(0), K = x2.size(1), N = weight.size(0);
    auto grad_x = at::empty({M, K}, x2.options());
    auto grad_w = at::empty({N, K}, weight.options());
    gemm(false, false, M, K, N, 1.0f, grad.data_ptr<float>(), N, weight.data_ptr<float>(), K, 0.0f,
         grad_x.data_ptr<float>(), K);
    gemm(true, false, N, K, M, 1.0f, grad.data_ptr<float>(), N, x2.data_ptr<float>(), K, 0.0f,
         grad_w.data_ptr<float>(), K);
    at::Tensor grad_b = ctx->saved_data["has_bias"].toBool() ? grad.sum(0) : at::Tensor();
    at::Tensor grad_r = ctx->saved_data["has_residual"].toBool() ? grad : at::Tensor();
    return {grad_x, grad_w, grad_b, grad_r};
  }
};

// ---- attention ----

struct AttentionLayout {
  std::int64_t batch, tokens, width, heads, head_dim;
  float scale;
  explicit AttentionLayout(const at::Tensor& qkv, std::int64_t num_heads) {
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
at::Tensor attention_forward(const at::Tensor& qkv, const AttentionLayout& L, at::Tensor* probs_all) {
  auto out = at::empty({L.batch, L.tokens, L.width}, qkv.options());
  const float* in = qkv.data_ptr<float>();
  float* o = out.data_ptr<float>();
  float* probs_base = nullptr;
  const std::int64_t NN = L.tokens * L.tokens;
  if (L.loop_kernel()) {  // small heads: kernels::kLanes sequences per call, one per SIMD lane
    const auto view = L.view();
    const std::int64_t group_probs = kernels::lanes_probs_floats(view);
    if (probs_all != nullptr) {
      *probs_all = at::empty({L.groups(), group_probs}, qkv.options());
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
    *probs_all = at::empty({L.batch, L.heads, L.tokens, L.tokens}, qkv.options());
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

at::Tensor attention_backward(const at::Tensor& qkv, const at::Tensor& probs_all, const AttentionLayout& L,
                              const at::Tensor& grad_out) {
  auto grad_qkv = at::empty_like(qkv);
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
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& qkv, std::int64_t heads) {
    AttentionLayout layout(qkv, heads);
    at::Tensor probs;
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
    return {grad, at::Tensor()};
  }
};

// ---- layer norm and GELU ----

// Rows per task of the row kernels. The layer norm's weight and bias gradients are summed per
// chunk of this many rows, then over the chunks in order: the same result for any thread count.
constexpr std::int64_t kRowChunk = 256;
// Floats per task of the elementwise kernels.
constexpr std::int64_t kElementGrain = 1 << 15;

at::Tensor layer_norm_forward(const at::Tensor& x2, const at::Tensor& weight, const at::Tensor& bias,
                                 double eps, at::Tensor* mean, at::Tensor* rstd) {
  const auto M = x2.size(0), C = x2.size(1);
  auto out = at::empty({M, C}, x2.options());
  float* mean_data = nullptr;
  float* rstd_data = nullptr;
  if (mean != nullptr) {
    *mean = at::empty({M}, x2.options());
    *rstd = at::empty({M}, x2.options());
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
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x2,
                            const at::Tensor& weight, const at::Tensor& bias, double eps) {
    at::Tensor mean, rstd;
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
    auto grad_x = at::empty({M, C}, x2.options());
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
    auto grad_w = at::zeros({C}, weight.options());
    auto grad_b = at::zeros({C}, weight.options());
    float* dw = grad_w.data_ptr<float>();
    float* db = grad_b.data_ptr<float>();
    for (std::int64_t k = 0; k < chunks; ++k)
      for (std::int64_t c = 0; c < C; ++c) {
        dw[c] += partial[k * 2 * C + c];
        db[c] += partial[k * 2 * C + C + c];
      }
    return {grad_x, grad_w, grad_b, at::Tensor()};
  }
};

at::Tensor gelu_forward(const at::Tensor& x) {
  auto out = at::empty_like(x);
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, x.numel(), kElementGrain, [&](std::int64_t begin, std::int64_t end) {
    kernels::gelu(in + begin, end - begin, o + begin);
  });
  return out;
}

class GeluFunction : public torch::autograd::Function<GeluFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x) {
    ctx->save_for_backward({x});
    return gelu_forward(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    const auto grad = grads[0].contiguous();
    auto grad_x = at::empty_like(x);
    const float* in = x.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* dx = grad_x.data_ptr<float>();
    at::parallel_for(0, x.numel(), kElementGrain, [&](std::int64_t begin, std::int64_t end) {
      kernels::gelu_backward(in + begin, g + begin, end - begin, dx + begin);
    });
    return {grad_x};
  }
};

bool needs_grad(std::initializer_list<const at::Tensor*> tensors) {
  if (!c10::GradMode::is_enabled()) return false;
  for (const auto* t : tensors)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}
}  // namespace

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                  const at::Tensor& residual) {
  check_cpu_float(x, "input");
  const auto K = x.size(-1), N = weight.size(0);
  auto out_shape = x.sizes().vec();
  out_shape.back() = N;
  auto x2 = x.reshape({-1, K}).contiguous();
  auto w = weight.contiguous();
  at::Tensor r2 = residual.defined() ? residual.reshape({-1, N}).contiguous() : at::Tensor();
  at::Tensor out;
  if (needs_grad({&x, &weight, &bias, &residual})) {
    // Custom autograd functions take no undefined tensors: empty ones stand for "absent".
    const auto absent = at::empty({0}, x.options());
    out = LinearFunction::apply(x2, w, bias.defined() ? bias : absent, r2.defined() ? r2 : absent);
  } else {
    c10::NoGradGuard no_grad;
#ifdef POSELIFT_HAVE_DNNL
    const Precision precision = inference_precision();
    if (precision != Precision::float32 && K >= kReducedPrecisionMinInputs)
      return linear_forward_reduced(precision, x2, w, bias, r2).view(out_shape);
#endif
    out = linear_forward(x2, w, bias, r2);
  }
  return out.view(out_shape);
}

at::Tensor attention(const at::Tensor& qkv, std::int64_t heads) {
  check_cpu_float(qkv, "activations");
  auto input = qkv.contiguous();
  if (needs_grad({&qkv})) return AttentionFunction::apply(input, heads);
  c10::NoGradGuard no_grad;
  return attention_forward(input, AttentionLayout(input, heads), nullptr);
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  check_cpu_float(x, "input");
  const auto C = x.size(-1);
  TORCH_CHECK(weight.numel() == C && bias.numel() == C, "layer norm: weight and bias need ", C, " values");
  auto x2 = x.reshape({-1, C}).contiguous();
  if (needs_grad({&x, &weight, &bias}))
    return LayerNormFunction::apply(x2, weight.contiguous(), bias.contiguous(), eps).view(x.sizes());
  c10::NoGradGuard no_grad;
  return layer_norm_forward(x2, weight.contiguous(), bias.contiguous(), eps, nullptr, nullptr).view(x.sizes());
}

at::Tensor gelu(const at::Tensor& x) {
  check_cpu_float(x, "input");
  auto input = x.contiguous();
  if (needs_grad({&x})) return GeluFunction::apply(input);
  c10::NoGradGuard no_grad;
  return gelu_forward(input);
}

}  // namespace poselift::model::fast
