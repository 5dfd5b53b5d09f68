// PoseFormer: spatial transformer over the joints of each frame, temporal transformer over
// the frames, weighted mean over frames, linear head predicting the centre frame's 3D pose.
// Parameter names equal the original PyTorch state dict, so checkpoints map one to one.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/fast_poseformer.hpp"
#include "model/lifter.hpp"

namespace poselift::model {

struct PoseFormerConfig {
  int num_frames = 81;
  int num_joints = 17;
  int in_chans = 2;
  int embed_dim_ratio = 32;  // spatial width C; temporal width is C * num_joints
  int depth = 4;
  int num_heads = 8;
  double mlp_ratio = 2.0;
  bool qkv_bias = true;
  double drop_path_rate = 0.0;  // stochastic depth at the last block (training only)

  int temporal_dim() const { return embed_dim_ratio * num_joints; }
  std::string describe() const;  // "81 frames, 17 joints, width 32, depth 4, 8 heads, mlp 2"
  void validate() const;         // throws InputError on impossible combinations
};

// The transformers' LayerNorms (PoseFormer's and PoseFormerV2's): eps 1e-6 in the blocks, as the
// originals' partial(nn.LayerNorm, eps=1e-6), and the head's plain nn.LayerNorm.
constexpr double kBlockNormEps = 1e-6;
constexpr double kHeadNormEps = 1e-5;
torch::nn::LayerNorm make_norm(int dim, double eps);
// The MLP's hidden width, int(dim * mlp_ratio) as timm's Block computes it.
int mlp_hidden(int dim, double ratio);

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  MultiHeadAttentionImpl(int dim, int num_heads, bool qkv_bias);
  torch::Tensor forward(const torch::Tensor& x);  // (B, N, C) -> (B, N, C)

  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  int num_heads_;
  double scale_;
};
TORCH_MODULE(MultiHeadAttention);

class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int dim, int hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(FeedForward);

// Pre-norm transformer block with stochastic depth on both residual branches.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int dim, int num_heads, double mlp_ratio, bool qkv_bias, double drop_path);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  MultiHeadAttention attn{nullptr};
  FeedForward mlp{nullptr};

  // Stochastic depth of a residual branch (identity unless training with a positive rate).
  torch::Tensor drop_path(const torch::Tensor& branch);
  bool drop_path_active() const { return is_training() && drop_path_ > 0.0; }

 private:
  double drop_path_;
};
TORCH_MODULE(TransformerBlock);

class PoseFormerImpl : public LifterImpl {
 public:
  explicit PoseFormerImpl(const PoseFormerConfig& config);

  // (B, F, J, in_chans) normalised 2D keypoints -> (B, 1, J, 3) root-relative 3D pose of the
  // centre frame, in metres.
  torch::Tensor forward(const torch::Tensor& x) override;

  Family family() const override { return Family::PoseFormer; }
  TemporalShape temporal_shape() const override { return TemporalShape::CentreFrame; }
  int receptive_field() const override { return config_.num_frames; }
  int input_joints() const override { return config_.num_joints; }
  int input_channels() const override { return config_.in_chans; }
  int output_joints() const override { return config_.num_joints; }
  std::string describe() const override { return config_.describe(); }
  double macs_per_output_frame() const override;

  // The two stages separately. The spatial stage sees one frame at a time, so a sliding
  // window evaluation computes it once per frame instead of once per window and frame.
  // (N, J, in_chans) frames -> (N, J * C) per-frame features.
  torch::Tensor spatial_features(const torch::Tensor& frames);
  // (B, F, J * C) windows of frame features -> (B, 1, J, 3).
  torch::Tensor temporal_forward(const torch::Tensor& features);

  const PoseFormerConfig& config() const { return config_; }
  // Which code computes forward and backward (same parameters, results equal within float
  // rounding). The fast path runs on float32 CPU tensors; other devices use the reference.
  void set_implementation(Implementation implementation) { implementation_ = implementation; }
  Implementation implementation() const { return implementation_; }

  // Registration order equals the original's (own parameters first, then sub-modules), so
  // parameters() lines up with PyTorch optimizer state indices.
  torch::Tensor Spatial_pos_embed, Temporal_pos_embed;
  torch::nn::Linear Spatial_patch_to_embedding{nullptr};
  torch::nn::ModuleList Spatial_blocks{nullptr}, blocks{nullptr};
  torch::nn::LayerNorm Spatial_norm{nullptr}, Temporal_norm{nullptr};
  torch::nn::Conv1d weighted_mean{nullptr};
  torch::nn::Sequential head{nullptr};

 private:
  // Whether a pass over x runs the fast path's inference-only stages.
  bool fast_inference(const torch::Tensor& x) const;
  torch::Tensor run_blocks(torch::nn::ModuleList& list, torch::Tensor x);
  PoseFormerConfig config_;
  Implementation implementation_ = default_implementation();
};
TORCH_MODULE(PoseFormer);

// Parameter count of a configuration without building it.
std::int64_t count_parameters(const PoseFormerConfig& config);
// Multiply-adds x2 per output frame of the forward pass (matrix products only).
double forward_flops_per_frame(const PoseFormerConfig& config);

}  // namespace poselift::model
