#include "model/poseformer.hpp"

#include <fmt/format.h>

#include <cmath>

#include "io/error.hpp"
#include "model/fast_poseformer.hpp"

namespace poselift::model {

torch::nn::LayerNorm make_norm(int dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

int mlp_hidden(int dim, double ratio) { return static_cast<int>(dim * ratio); }

std::string PoseFormerConfig::describe() const {
  return fmt::format("{} frames, {} joints, {} input channels, width {}, depth {}, {} heads, mlp ratio {}",
                     num_frames, num_joints, in_chans, embed_dim_ratio, depth, num_heads, mlp_ratio);
}

void PoseFormerConfig::validate() const {
  auto fail = [&](const std::string& why) {
    throw InputError("PoseFormer configuration (" + describe() + "): " + why);
  };
  if (num_frames < 1 || num_frames % 2 == 0) fail("the frame count must be odd and positive");
  if (num_joints < 1) fail("the joint count must be positive");
  if (in_chans < 1) fail("the input channel count must be positive");
  if (embed_dim_ratio < 1 || depth < 0 || num_heads < 1) fail("width, depth and heads must be positive");
  if (embed_dim_ratio % num_heads != 0)
    fail(fmt::format("the spatial width {} is not divisible by {} heads", embed_dim_ratio, num_heads));
  if (temporal_dim() % num_heads != 0)
    fail(fmt::format("the temporal width {} is not divisible by {} heads", temporal_dim(), num_heads));
  if (mlp_hidden(embed_dim_ratio, mlp_ratio) < 1) fail("the MLP ratio gives an empty hidden layer");
  if (drop_path_rate < 0 || drop_path_rate >= 1) fail("drop_path_rate must be in [0, 1)");
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int dim, int num_heads, bool qkv_bias)
    : num_heads_(num_heads), scale_(std::pow(static_cast<double>(dim / num_heads), -0.5)) {
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, dim * 3).bias(qkv_bias)));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& x) {
  const auto B = x.size(0), N = x.size(1), C = x.size(2);
  auto qkv_heads = qkv(x).reshape({B, N, 3, num_heads_, C / num_heads_}).permute({2, 0, 3, 1, 4});
  auto q = qkv_heads[0], k = qkv_heads[1], v = qkv_heads[2];
  auto attn = torch::matmul(q, k.transpose(-2, -1)) * scale_;
  attn = attn.softmax(-1);
  auto out = torch::matmul(attn, v).transpose(1, 2).reshape({B, N, C});
  return proj(out);
}

FeedForwardImpl::FeedForwardImpl(int dim, int hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  return fc2(torch::gelu(fc1(x)));  // exact (erf) GELU, as nn.GELU()
}

TransformerBlockImpl::TransformerBlockImpl(int dim, int num_heads, double mlp_ratio, bool qkv_bias, double drop_path)
    : drop_path_(drop_path) {
  norm1 = register_module("norm1", make_norm(dim, kBlockNormEps));
  attn = register_module("attn", MultiHeadAttention(dim, num_heads, qkv_bias));
  norm2 = register_module("norm2", make_norm(dim, kBlockNormEps));
  mlp = register_module("mlp", FeedForward(dim, mlp_hidden(dim, mlp_ratio)));
}

torch::Tensor TransformerBlockImpl::drop_path(const torch::Tensor& branch) {
  if (!drop_path_active()) return branch;
  // Stochastic depth: drop the whole branch per sample, rescale the survivors.
  const double keep = 1.0 - drop_path_;
  std::vector<int64_t> mask_shape(branch.dim(), 1);
  mask_shape[0] = branch.size(0);
  auto mask = torch::floor(keep + torch::rand(mask_shape, branch.options()));
  return branch.div(keep) * mask;
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x) {
  auto y = x + drop_path(attn(norm1(x)));
  return y + drop_path(mlp(norm2(y)));
}

PoseFormerImpl::PoseFormerImpl(const PoseFormerConfig& config) : config_(config) {
  config_.validate();
  const int C = config_.embed_dim_ratio, D = config_.temporal_dim();
  Spatial_pos_embed = register_parameter("Spatial_pos_embed", torch::zeros({1, config_.num_joints, C}));
  Temporal_pos_embed = register_parameter("Temporal_pos_embed", torch::zeros({1, config_.num_frames, D}));
  Spatial_patch_to_embedding = register_module("Spatial_patch_to_embedding", torch::nn::Linear(config_.in_chans, C));

  Spatial_blocks = register_module("Spatial_blocks", torch::nn::ModuleList());
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config_.depth; ++i) {
    // Stochastic depth rises linearly from 0 to drop_path_rate over the blocks.
    const double rate = config_.depth > 1 ? config_.drop_path_rate * i / (config_.depth - 1) : 0.0;
    Spatial_blocks->push_back(TransformerBlock(C, config_.num_heads, config_.mlp_ratio, config_.qkv_bias, rate));
    blocks->push_back(TransformerBlock(D, config_.num_heads, config_.mlp_ratio, config_.qkv_bias, rate));
  }
  Spatial_norm = register_module("Spatial_norm", make_norm(C, kBlockNormEps));
  Temporal_norm = register_module("Temporal_norm", make_norm(D, kBlockNormEps));
  weighted_mean = register_module(
      "weighted_mean", torch::nn::Conv1d(torch::nn::Conv1dOptions(config_.num_frames, 1, 1)));
  head = register_module("head", torch::nn::Sequential(make_norm(D, kHeadNormEps),
                                                       torch::nn::Linear(D, config_.num_joints * 3)));
}

torch::Tensor PoseFormerImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4 && input.size(1) == config_.num_frames && input.size(2) == config_.num_joints &&
                  input.size(3) == config_.in_chans,
              "PoseFormer expects (B, ", config_.num_frames, ", ", config_.num_joints, ", ", config_.in_chans,
              ") input, got ", input.sizes());
  const auto B = input.size(0), F = input.size(1), J = input.size(2);
  auto features = spatial_features(input.reshape({B * F, J, input.size(3)}));
  return temporal_forward(features.reshape({B, F, J * config_.embed_dim_ratio}));
}

torch::Tensor PoseFormerImpl::spatial_features(const torch::Tensor& frames) {
  // Inference on the CPU: the fast path runs the whole stage per group of frames in cache.
  if (fast_inference(frames)) return fast::spatial_stage(*this, frames);
  // Every frame's joints are one token sequence.
  auto x = Spatial_patch_to_embedding(frames) + Spatial_pos_embed;
  x = run_blocks(Spatial_blocks, x);
  return Spatial_norm(x).reshape({frames.size(0), -1});
}

torch::Tensor PoseFormerImpl::temporal_forward(const torch::Tensor& features) {
  // Every frame is one token.
  const auto B = features.size(0);
  auto x = features + Temporal_pos_embed;
  x = run_blocks(blocks, x);
  if (fast_inference(x)) return fast::temporal_head(*this, x);
  x = weighted_mean(Temporal_norm(x));  // (B, 1, J*C): a learned weighting of the frames
  return head->forward(x).view({B, 1, config_.num_joints, -1});
}

bool PoseFormerImpl::fast_inference(const torch::Tensor& x) const {
  return implementation_ == Implementation::fast && !is_training() && !torch::GradMode::is_enabled() &&
         x.device().is_cpu() && x.scalar_type() == torch::kFloat32;
}

torch::Tensor PoseFormerImpl::run_blocks(torch::nn::ModuleList& list, torch::Tensor x) {
  const bool fast = implementation_ == Implementation::fast && x.device().is_cpu() &&
                    x.scalar_type() == torch::kFloat32;
  for (const auto& block : *list) {
    auto& b = *block->as<TransformerBlock>();
    x = fast ? fast::block_forward(b, x, config_.num_heads) : b.forward(x);
  }
  return x;
}

double PoseFormerImpl::macs_per_output_frame() const { return forward_flops_per_frame(config_) / 2; }

std::int64_t count_parameters(const PoseFormerConfig& c) {
  auto block = [&](std::int64_t dim) {
    const std::int64_t hidden = mlp_hidden(static_cast<int>(dim), c.mlp_ratio);
    return 2 * 2 * dim                                   // two LayerNorms
           + dim * 3 * dim + (c.qkv_bias ? 3 * dim : 0)  // qkv
           + dim * dim + dim                             // proj
           + dim * hidden + hidden + hidden * dim + dim; // MLP
  };
  const std::int64_t C = c.embed_dim_ratio, D = c.temporal_dim(), J = c.num_joints, F = c.num_frames;
  return J * C + F * D + (c.in_chans * C + C) + c.depth * (block(C) + block(D)) + 2 * C + 2 * D + (F + 1) +
         2 * D + (D * J * 3 + J * 3);
}

double forward_flops_per_frame(const PoseFormerConfig& c) {
  auto block = [&](double tokens, double dim) {
    const double hidden = mlp_hidden(static_cast<int>(dim), c.mlp_ratio);
    return 2.0 * tokens * (dim * 3 * dim + dim * dim + 2 * dim * hidden)  // linear layers
           + 2.0 * 2.0 * tokens * tokens * dim;                           // QK^T and AV
  };
  const double C = c.embed_dim_ratio, D = c.temporal_dim(), J = c.num_joints, F = c.num_frames;
  return F * (2.0 * J * c.in_chans * C + c.depth * block(J, C)) + c.depth * block(F, D) + 2.0 * F * D +
         2.0 * D * J * 3;
}

}  // namespace poselift::model
