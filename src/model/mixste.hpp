// MixSTE (MixSTE2 in JinluZhang1126/MixSTE common/model_cross.py): sequence to sequence. Every
// joint of every frame is a token of width C. Each of `depth` rounds runs a spatial transformer
// block over the joints of each frame, then a temporal block over the frames of each joint (the
// first round adds the spatial and temporal position embeddings before its blocks); a layer
// norm and a linear head give every frame's 3D pose. Parameter names and registration order
// equal the original's state dict, so checkpoints and optimizer state map one to one.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/checkpoint.hpp"
#include "model/fast_settings.hpp"
#include "model/lifter.hpp"
#include "model/poseformer.hpp"

namespace poselift::model {

struct MixSTEConfig {
  int num_frames = 243;  // run.py's -f default
  int num_joints = 17, in_chans = 2;
  // run.py's -cs and -dep defaults (the published model); the spatial and temporal blocks have
  // the same width, embed_dim_ratio.
  int embed_dim_ratio = 512, depth = 8, num_heads = 8;
  double mlp_ratio = 2.0;
  bool qkv_bias = true;
  // Stochastic depth at the last round, training only: run.py trains with 0.1 (its evaluation
  // model has 0, which changes nothing in eval mode).
  double drop_path_rate = 0.1;

  // "27 frames, 17 joints, width 32, depth 2, 8 heads, mlp 2" (the input channels are named
  // after the joints when they are not 2).
  std::string describe() const;
  // InputError on impossible combinations: no frames, joints or channels, depth 0 (the original
  // always runs block 0), heads not dividing the width, an empty MLP, a drop rate outside [0, 1).
  void validate() const;
};

class MixSTEImpl : public LifterImpl {  // TemporalShape::Sequence: (B, F, J, 2) -> (B, F, J, 3)
 public:
  explicit MixSTEImpl(const MixSTEConfig& config);

  // (B, F, J, in_chans) normalised 2D keypoints -> (B, F, J, 3), every frame's root-relative 3D
  // pose. F must be num_frames exactly: the original adds its (1, F, C) temporal position
  // embedding in place without slicing, so any other length fails there; run.py pads a short
  // clip (edge replication) and windows a long one into clips of num_frames, which is the
  // caller's job here. InputError on a wrong frame, joint or channel count.
  torch::Tensor forward(const torch::Tensor& x) override;

  Family family() const override { return Family::MixSTE; }
  TemporalShape temporal_shape() const override { return TemporalShape::Sequence; }
  int receptive_field() const override { return config_.num_frames; }
  int input_joints() const override { return config_.num_joints; }
  int input_channels() const override { return config_.in_chans; }
  int output_joints() const override { return config_.num_joints; }
  std::string describe() const override { return config_.describe(); }
  // Matrix products of one clip divided by its num_frames output frames: the joint embedding,
  // per round the spatial block on every frame and the temporal block on every joint (qkv,
  // QK^T, AV, proj, MLP), the head. Layer norms, softmax, GELU and the position embeddings'
  // additions are not counted (as the other families' counts).
  double macs_per_output_frame() const override;

  const MixSTEConfig& config() const { return config_; }
  // Which code runs the blocks (same parameters, results equal within float rounding). The fast
  // path applies to float32 CPU tensors; elsewhere the reference runs.
  void set_implementation(Implementation implementation) { implementation_ = implementation; }
  Implementation implementation() const { return implementation_; }

  // Registration order equals the original's: its own parameters first, then the sub-modules
  // in constructor order. (pos_drop, a Dropout of rate 0 in the original, holds nothing.)
  torch::Tensor Spatial_pos_embed, Temporal_pos_embed;
  torch::nn::Linear Spatial_patch_to_embedding{nullptr};
  torch::nn::ModuleList STEblocks{nullptr}, TTEblocks{nullptr};
  torch::nn::LayerNorm Spatial_norm{nullptr}, Temporal_norm{nullptr};
  torch::nn::Sequential head{nullptr};

 private:
  void check_input(const torch::Tensor& x) const;
  torch::Tensor run_block(torch::nn::ModuleList& list, int index, const torch::Tensor& x, bool fast);

  MixSTEConfig config_;
  Implementation implementation_ = default_implementation();
};
TORCH_MODULE(MixSTE);

// Parameter count of a configuration without building it.
std::int64_t count_parameters(const MixSTEConfig& config);

// What the shapes determine: frames (the temporal position embedding), joints, in_chans, width,
// depth, mlp ratio, qkv bias. The head count is not in the weights: from the caller (run.py
// always builds 8; num_heads <= 0 means kDefaultHeads, 8). drop_path_rate keeps the training
// default. Throws InputError naming `source` and the key when the dict is not a well-formed
// MixSTE2 state dict.
MixSTEConfig infer_mixste_config(const StateDict& state, int num_heads, const std::string& source);

}  // namespace poselift::model
