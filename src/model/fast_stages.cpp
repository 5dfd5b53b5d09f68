// The fast path's stages: the whole spatial stage at inference (loop kernels, kernels::kLanes
// frames at a time), one transformer block from the fast operations, and the temporal head.
#include <ATen/Parallel.h>

#include <vector>

#include "model/attention_kernels.hpp"
#include "model/fast_poseformer.hpp"
#include "model/fast_profile.hpp"
#include "model/poseformer.hpp"
#include "model/row_kernels.hpp"

namespace poselift::model::fast {

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

}  // namespace poselift::model::fast
