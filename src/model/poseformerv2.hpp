// PoseFormerV2 (PoseTransformerV2): a spatial transformer over the joints of a few centre frames
// of the window, plus the window's low-frequency DCT coefficients embedded as tokens; mixed
// temporal blocks attend over coefficient and frame tokens together, then feed one half of the
// tokens through a plain MLP and the other half through an MLP applied in the DCT domain; two
// learned weighted means (coefficient tokens, frame tokens) and a linear head give the centre
// frame's 3D pose. Parameter names and registration order equal the original's state dict
// (QitaoZhao/PoseFormerV2 common/model_poseformer.py), so checkpoints and optimizer state map
// one to one.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/checkpoint.hpp"
#include "model/fast_settings.hpp"
#include "model/lifter.hpp"
#include "model/poseformer.hpp"

namespace poselift::model {

// Unnormalised DCT-II along the last dimension, X_k = 2 sum_n x_n cos(pi k (2n + 1) / 2N), and
// its exact inverse, x_n = (X_0 / 2 + sum_{k>=1} X_k cos(pi k (2n + 1) / 2N)) / N: torch_dct's
// dct / idct with norm=None. Products with an N x N cosine matrix (built in double precision,
// cached per size, device and dtype), differentiable. InputError on an empty last dimension.
torch::Tensor dct_ii(const torch::Tensor& x);
torch::Tensor idct_ii(const torch::Tensor& X);
// The matrices themselves: dct_matrix(N)[k][n] = 2 cos(pi k (2n + 1) / 2N) (so X = D x for a
// column x), idct_matrix(N) its inverse.
torch::Tensor dct_matrix(std::int64_t n, const torch::TensorOptions& options);
torch::Tensor idct_matrix(std::int64_t n, const torch::TensorOptions& options);

struct PoseFormerV2Config {
  int num_frames = 27;        // the window; not stored in the weights
  int frames_kept = 3;        // centre frames through the spatial transformer (odd)
  int coefficients_kept = 3;  // low-frequency DCT coefficients of the whole window
  int num_joints = 17, in_chans = 2;
  int embed_dim_ratio = 32, depth = 4, num_heads = 8;
  double mlp_ratio = 2.0;
  bool qkv_bias = true;
  // Stochastic depth at the last block, training only: run_poseformer.py trains with 0.1
  // (its evaluation model has 0, which changes nothing in eval mode).
  double drop_path_rate = 0.1;

  int temporal_dim() const { return embed_dim_ratio * num_joints; }
  // Tokens of the temporal blocks: the kept coefficients, then the kept frames.
  int temporal_tokens() const { return coefficients_kept + frames_kept; }
  // "27 frames (3 kept, 5 DCT coefficients), 17 joints, width 16, depth 2, 8 heads, mlp 2"
  // (the input channels are named after the joints when they are not 2).
  std::string describe() const;
  // InputError on impossible combinations: kept frames even or more than the window, more
  // coefficients than frames, heads not dividing a width, an empty MLP...
  void validate() const;
};

// FreqMlp: the MLP applied to the DCT of its tokens along the token axis, transformed back.
class FrequencyFeedForwardImpl : public torch::nn::Module {
 public:
  FrequencyFeedForwardImpl(int dim, int hidden);
  torch::Tensor forward(const torch::Tensor& x);  // (B, N, C) -> (B, N, C)
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(FrequencyFeedForward);

// MixedBlock: pre-norm attention over all tokens, then the first T/2 tokens (T//2, as the
// original splits) through mlp1 and the rest through the frequency-domain mlp2, each with its
// own residual and stochastic depth.
class MixedBlockImpl : public torch::nn::Module {
 public:
  MixedBlockImpl(int dim, int num_heads, double mlp_ratio, bool qkv_bias, double drop_path);
  torch::Tensor forward(const torch::Tensor& x);  // reference implementation
  // The same through the fast path's operations (float32 CPU tensors; gradients supported).
  torch::Tensor forward_fast(const torch::Tensor& x, std::int64_t heads);

  torch::nn::LayerNorm norm1{nullptr};
  MultiHeadAttention attn{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  FeedForward mlp1{nullptr};
  torch::nn::LayerNorm norm3{nullptr};
  FrequencyFeedForward mlp2{nullptr};

  bool drop_path_active() const { return is_training() && drop_path_ > 0.0; }
  // Stochastic depth of a residual branch (identity unless training with a positive rate).
  torch::Tensor drop_path(const torch::Tensor& branch) const;
  double drop_path_rate() const { return drop_path_; }

 private:
  double drop_path_;
};
TORCH_MODULE(MixedBlock);

class PoseFormerV2Impl : public LifterImpl {  // TemporalShape::CentreFrame: (B, F, J, 2) -> (B, 1, J, 3)
 public:
  explicit PoseFormerV2Impl(const PoseFormerV2Config& config);

  // (B, F, J, in_chans) normalised 2D keypoints -> (B, 1, J, 3), the centre frame's pose. F is
  // normally num_frames; like the original, any window of at least max(frames_kept,
  // coefficients_kept) frames runs (InputError otherwise, and on a wrong joint/channel count).
  torch::Tensor forward(const torch::Tensor& x) override;

  Family family() const override { return Family::PoseFormerV2; }
  TemporalShape temporal_shape() const override { return TemporalShape::CentreFrame; }
  int receptive_field() const override { return config_.num_frames; }
  int input_joints() const override { return config_.num_joints; }
  int input_channels() const override { return config_.in_chans; }
  int output_joints() const override { return config_.num_joints; }
  std::string describe() const override { return config_.describe(); }
  // Matrix products of one window (= one output frame): spatial blocks on the kept frames (QK^T
  // and AV included), the embeddings, the kept rows of the window's DCT, the mixed blocks with
  // each FreqMlp's DCT and inverse, the two weighted means, the head. Layer norms, softmax and
  // GELU are not counted (as PoseFormer's count).
  double macs_per_output_frame() const override;

  const PoseFormerV2Config& config() const { return config_; }
  // Which code runs the spatial and mixed blocks (same parameters, results equal within float
  // rounding). The fast path applies to float32 CPU tensors; elsewhere the reference runs.
  void set_implementation(Implementation implementation) { implementation_ = implementation; }
  Implementation implementation() const { return implementation_; }

  // Registration order equals the original's: its own parameters first, then the sub-modules
  // in constructor order.
  torch::Tensor Spatial_pos_embed, Temporal_pos_embed, Temporal_pos_embed_;
  torch::nn::Linear Joint_embedding{nullptr}, Freq_embedding{nullptr};
  torch::nn::ModuleList Spatial_blocks{nullptr}, blocks{nullptr};
  torch::nn::LayerNorm Spatial_norm{nullptr}, Temporal_norm{nullptr};
  torch::nn::Conv1d weighted_mean{nullptr}, weighted_mean_{nullptr};
  torch::nn::Sequential head{nullptr};

 private:
  void check_input(const torch::Tensor& x) const;
  bool fast_path(const torch::Tensor& x) const;
  // (B, F, J, in_chans) -> (B, frames_kept, J * C): the kept centre frames' spatial features.
  torch::Tensor spatial_features(const torch::Tensor& x);
  // (B, F, J, in_chans) -> (B, coefficients_kept, D): the embedded low DCT coefficients.
  torch::Tensor frequency_features(const torch::Tensor& x);

  PoseFormerV2Config config_;
  Implementation implementation_ = default_implementation();
};
TORCH_MODULE(PoseFormerV2);

// Parameter count of a configuration without building it.
std::int64_t count_parameters(const PoseFormerV2Config& config);

// What the shapes determine: kept frames, kept coefficients, joints, in_chans, width, depth, mlp
// ratio, qkv bias. `num_frames` and `num_heads` are not in the weights: from the caller (the
// original's -frame and its fixed 8 heads; num_heads <= 0 means kDefaultHeads, 8).
// drop_path_rate keeps the training default.
// Throws InputError naming `source` and the key when the dict is not a well-formed
// PoseTransformerV2 state dict.
PoseFormerV2Config infer_poseformerv2_config(const StateDict& state, int num_frames, int num_heads,
                                             const std::string& source);

}  // namespace poselift::model
