#include "model/mixste.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "io/error.hpp"
#include "model/fast_poseformer.hpp"

namespace poselift::model {

// ---------------------------------------------------------------- configuration

std::string MixSTEConfig::describe() const {
  const std::string channels = in_chans == 2 ? "" : fmt::format(", {} input channels", in_chans);
  return fmt::format("{} frames, {} joints{}, width {}, depth {}, {} heads, mlp {}", num_frames, num_joints, channels,
                     embed_dim_ratio, depth, num_heads, mlp_ratio);
}

void MixSTEConfig::validate() const {
  auto fail = [&](const std::string& why) { throw InputError("MixSTE configuration (" + describe() + "): " + why); };
  if (num_frames < 1) fail("the frame count must be positive");
  if (num_joints < 1) fail("the joint count must be positive");
  if (in_chans < 1) fail("the input channel count must be positive");
  if (embed_dim_ratio < 1 || num_heads < 1) fail("width and heads must be positive");
  // The original runs STEblocks[0] and TTEblocks[0] before its loop over the others.
  if (depth < 1) fail("the depth must be at least 1");
  if (embed_dim_ratio % num_heads != 0)
    fail(fmt::format("the width {} is not divisible by {} heads", embed_dim_ratio, num_heads));
  if (mlp_hidden(embed_dim_ratio, mlp_ratio) < 1) fail("the MLP ratio gives an empty hidden layer");
  if (!(drop_path_rate >= 0 && drop_path_rate < 1)) fail("drop_path_rate must be in [0, 1)");
}

// ---------------------------------------------------------------- the model

MixSTEImpl::MixSTEImpl(const MixSTEConfig& config) : config_(config) {
  config_.validate();
  const int C = config_.embed_dim_ratio, J = config_.num_joints;
  Spatial_pos_embed = register_parameter("Spatial_pos_embed", torch::zeros({1, J, C}));
  Temporal_pos_embed = register_parameter("Temporal_pos_embed", torch::zeros({1, config_.num_frames, C}));
  Spatial_patch_to_embedding = register_module("Spatial_patch_to_embedding", torch::nn::Linear(config_.in_chans, C));
  STEblocks = register_module("STEblocks", torch::nn::ModuleList());
  TTEblocks = register_module("TTEblocks", torch::nn::ModuleList());
  for (int i = 0; i < config_.depth; ++i) {
    // torch.linspace(0, drop_path_rate, depth): round i's rate, the same for both of its blocks.
    const double rate = config_.depth > 1 ? config_.drop_path_rate * i / (config_.depth - 1) : 0.0;
    STEblocks->push_back(TransformerBlock(C, config_.num_heads, config_.mlp_ratio, config_.qkv_bias, rate));
    TTEblocks->push_back(TransformerBlock(C, config_.num_heads, config_.mlp_ratio, config_.qkv_bias, rate));
  }
  // Spatial_norm and Temporal_norm are the original's norm_layer (eps 1e-6); the head's is a
  // plain nn.LayerNorm (eps 1e-5). Each norm is shared by all rounds.
  Spatial_norm = register_module("Spatial_norm", make_norm(C, kBlockNormEps));
  Temporal_norm = register_module("Temporal_norm", make_norm(C, kBlockNormEps));
  head = register_module("head", torch::nn::Sequential(make_norm(C, kHeadNormEps), torch::nn::Linear(C, 3)));
}

void MixSTEImpl::check_input(const torch::Tensor& x) const {
  auto shape = [&] {
    std::string s = "(";
    for (std::int64_t i = 0; i < x.dim(); ++i) s += (i ? ", " : "") + std::to_string(x.size(i));
    return s + ")";
  };
  const std::string expected =
      fmt::format("MixSTE ({}) expects (batch, {}, {}, {}) keypoints (a clip of exactly {} frames; pad or window "
                  "other lengths)",
                  describe(), config_.num_frames, config_.num_joints, config_.in_chans, config_.num_frames);
  if (!x.defined() || x.dim() != 4)
    throw InputError(expected + ", got a tensor of shape " + (x.defined() ? shape() : "none"));
  if (x.size(0) < 1) throw InputError(fmt::format("{}, got an empty batch (shape {})", expected, shape()));
  if (x.size(1) != config_.num_frames)
    throw InputError(fmt::format("{}, got {} frames (shape {})", expected, x.size(1), shape()));
  if (x.size(2) != config_.num_joints)
    throw InputError(fmt::format("{}, got {} joints (shape {})", expected, x.size(2), shape()));
  if (x.size(3) != config_.in_chans)
    throw InputError(fmt::format("{}, got {} channels (shape {})", expected, x.size(3), shape()));
  if (!x.is_floating_point())
    throw InputError(fmt::format("{}, got {} values", expected, c10::toString(x.scalar_type())));
}

torch::Tensor MixSTEImpl::run_block(torch::nn::ModuleList& list, int index, const torch::Tensor& x, bool fast) {
  auto& block = *list[index]->as<TransformerBlock>();
  return fast ? fast::block_forward(block, x, config_.num_heads) : block.forward(x);
}

torch::Tensor MixSTEImpl::forward(const torch::Tensor& x) {
  check_input(x);
  const auto B = x.size(0), F = x.size(1), J = x.size(2);
  const auto C = static_cast<std::int64_t>(config_.embed_dim_ratio);
  // rearrange 'b f n c -> (b f) n c': each frame's joints are one spatial sequence.
  auto h = Spatial_patch_to_embedding(x.reshape({B * F, J, x.size(3)})) + Spatial_pos_embed;
  const bool fast = implementation_ == Implementation::fast && h.device().is_cpu() &&
                    h.scalar_type() == torch::kFloat32;
  for (int i = 0; i < config_.depth; ++i) {
    h = Spatial_norm(run_block(STEblocks, i, h, fast));
    // '(b f) n cw -> (b n) f cw': each joint's frames are one temporal sequence.
    auto t = h.view({B, F, J, C}).permute({0, 2, 1, 3}).reshape({B * J, F, C});
    if (i == 0) t = t + Temporal_pos_embed;  // only the first round adds it, as TTE_foward
    t = Temporal_norm(run_block(TTEblocks, i, t, fast));
    // '(b n) f cw -> b f n cw', and on to the next round's '(b f) n cw'.
    h = t.view({B, J, F, C}).permute({0, 2, 1, 3}).reshape({B * F, J, C});
  }
  return head->forward(h).view({B, F, J, 3});
}

double MixSTEImpl::macs_per_output_frame() const {
  const auto& c = config_;
  const double C = c.embed_dim_ratio, J = c.num_joints, F = c.num_frames, Cin = c.in_chans;
  const double hidden = mlp_hidden(c.embed_dim_ratio, c.mlp_ratio);
  // One block over `sequences` sequences of `tokens` tokens: qkv 3C^2 and proj C^2 and the MLP
  // 2 C hidden per token, QK^T and AV tokens^2 C each per sequence.
  auto block = [&](double sequences, double tokens) {
    return sequences * (tokens * (4 * C * C + 2 * C * hidden) + 2 * tokens * tokens * C);
  };
  const double clip = F * J * Cin * C                               // Spatial_patch_to_embedding
                      + c.depth * (block(F, J) + block(J, F))  // spatial then temporal blocks
                      + F * J * C * 3;                              // head
  return clip / F;
}

std::int64_t count_parameters(const MixSTEConfig& c) {
  const std::int64_t C = c.embed_dim_ratio, J = c.num_joints, hidden = mlp_hidden(c.embed_dim_ratio, c.mlp_ratio);
  const std::int64_t block = 2 * 2 * C                              // norm1, norm2
                             + C * 3 * C + (c.qkv_bias ? 3 * C : 0)  // qkv
                             + C * C + C                             // proj
                             + C * hidden + hidden + hidden * C + C;  // MLP
  return J * C + static_cast<std::int64_t>(c.num_frames) * C + (c.in_chans * C + C) + 2 * c.depth * block +
         2 * 2 * C + (2 * C + 3 * C + 3);
}

// ---------------------------------------------------------------- configuration from a state dict

MixSTEConfig infer_mixste_config(const StateDict& state, int num_heads, const std::string& source) {
  const StateDictShapes shapes(state, source, "MixSTE");
  auto need = [&](const std::string& key, std::size_t rank) -> const torch::Tensor& { return shapes.need(key, rank); };
  auto expect_shape = [&](const std::string& key, const std::vector<std::int64_t>& shape, const std::string& why) {
    shapes.expect_shape(key, shape, why);
  };

  const int spatial_depth = shapes.block_count("STEblocks");
  const int temporal_depth = shapes.block_count("TTEblocks");
  // The blocks first: they tell a MixSTE dict from the other families' (PoseFormer shares the
  // embedding and position embedding names).
  if (spatial_depth == 0 && temporal_depth == 0)
    throw InputError(fmt::format("{}: not a MixSTE checkpoint: no 'STEblocks.N.' or 'TTEblocks.N.' keys in the "
                                 "state dict",
                                 source));
  if (spatial_depth != temporal_depth)
    throw InputError(fmt::format("{}: {} spatial blocks ('STEblocks.N.') but {} temporal blocks ('TTEblocks.N.'): "
                                 "MixSTE2 has as many of each",
                                 source, spatial_depth, temporal_depth));
  MixSTEConfig c;
  const auto& spatial_pos = need("Spatial_pos_embed", 3);
  const auto& temporal_pos = need("Temporal_pos_embed", 3);
  const auto& embedding = need("Spatial_patch_to_embedding.weight", 2);
  c.num_joints = static_cast<int>(spatial_pos.size(1));
  c.embed_dim_ratio = static_cast<int>(spatial_pos.size(2));
  c.num_frames = static_cast<int>(temporal_pos.size(1));
  c.in_chans = static_cast<int>(embedding.size(1));
  const std::int64_t C = c.embed_dim_ratio, J = c.num_joints;
  expect_shape("Spatial_pos_embed", {1, J, C}, "one row per joint");
  expect_shape("Temporal_pos_embed", {1, c.num_frames, C}, "one row per frame, the width of Spatial_pos_embed");
  expect_shape("Spatial_patch_to_embedding.weight", {C, c.in_chans}, "the width of Spatial_pos_embed");
  expect_shape("Spatial_norm.weight", {C}, "the model's width");
  expect_shape("Temporal_norm.weight", {C}, "the model's width");
  expect_shape("head.1.weight", {3, C}, "3 coordinates per joint token");

  c.depth = spatial_depth;
  const auto& fc1 = need("STEblocks.0.mlp.fc1.weight", 2);
  c.mlp_ratio = static_cast<double>(fc1.size(0)) / c.embed_dim_ratio;
  // int(dim * ratio) must give the file's hidden width back despite the division's rounding.
  if (mlp_hidden(c.embed_dim_ratio, c.mlp_ratio) < fc1.size(0)) c.mlp_ratio = std::nextafter(c.mlp_ratio, 1e9);
  c.qkv_bias = shapes.find("STEblocks.0.attn.qkv.bias") != nullptr;
  const std::int64_t hidden = mlp_hidden(c.embed_dim_ratio, c.mlp_ratio);
  for (const char* list : {"STEblocks", "TTEblocks"}) {
    const std::string prefix = fmt::format("{}.{}.", list, c.depth - 1);
    expect_shape(prefix + "attn.qkv.weight", {3 * C, C}, "q, k and v at the model's width");
    expect_shape(prefix + "mlp.fc1.weight", {hidden, C}, "the MLP ratio of STEblocks.0");
  }
  c.num_heads = num_heads > 0 ? num_heads : kDefaultHeads;  // run.py always builds 8
  try {
    c.validate();
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  return c;
}

}  // namespace poselift::model
