// MotionBERT's DSTformer (Walter0807/MotionBERT lib/model/DSTformer.py): every joint of every
// frame is a token; each depth level runs two dual-stream blocks on the same input, one
// spatial-then-temporal (blocks_st), one temporal-then-spatial (blocks_ts), and fuses them
// with per-token softmax weights (ts_attn) or their mean. Spatial attention spans the joints of
// a frame, temporal attention one joint across the clip's frames. A LayerNorm, the tanh
// representation layer (pre_logits) and a linear head give a 3D pose for every input frame.
// Parameter names and registration order equal the original's state dict, so checkpoints and
// optimizer state map one to one.
#pragma once

#include <torch/torch.h>

#include <string>

#include "io/motionbert_yaml.hpp"
#include "model/checkpoint.hpp"
#include "model/fast_settings.hpp"
#include "model/lifter.hpp"
#include "model/poseformer.hpp"

namespace poselift::model {

// The LayerNorm eps MotionBERT's scripts build every model with (load_backbone).
constexpr double kMotionBERTScriptNormEps = 1e-6;

struct MotionBERTConfig {
  int dim_in = 3, dim_out = 3, dim_feat = 256, dim_rep = 512, depth = 5, num_heads = 8;
  double mlp_ratio = 4.0;
  int num_joints = 17, maxlen = 243;  // maxlen: rows of the temporal embedding, the longest clip
  bool att_fuse = true, qkv_bias = true;
  // Stochastic depth, rising linearly to this rate at the last block (training only). The
  // original's load_backbone never sets it: 0.
  double drop_path_rate = 0.0;
  // Every LayerNorm's eps; not in the weights. The DSTformer constructor's default, nn.LayerNorm's
  // 1e-5 (the zoo fixture's). MotionBERT's own scripts build through load_backbone
  // (lib/utils/learning.py), which passes partial(nn.LayerNorm, eps=1e-6): its published
  // checkpoints run exactly with 1e-6 (1e-5 moves the fixture's output by ~4e-4 of its range).
  double norm_eps = 1e-5;

  // "maxlen 27, 17 joints, features 32, representation 64, depth 2, 4 heads, mlp 2", with
  // ", N input channels", ", N outputs", ", mean fusion", ", no qkv bias" where they apply.
  std::string describe() const;
  // InputError on impossible combinations (heads not dividing the features, an empty MLP or
  // representation, non-positive sizes...).
  void validate() const;
};

// The original's Attention in its "spatial" or "temporal" mode: a plain multi-head attention
// over the J joints of each frame, or over the F frames of each joint. proj is registered before
// qkv, as in the original.
enum class AttentionAxis { Spatial, Temporal };

class DualAttentionImpl : public torch::nn::Module {
 public:
  DualAttentionImpl(int dim, int num_heads, bool qkv_bias, AttentionAxis axis);
  // (B*F, J, C) -> (B*F, J, C); `frames` = F, the clip length the batch rows group into.
  torch::Tensor forward(const torch::Tensor& x, std::int64_t frames);

  torch::nn::Linear proj{nullptr}, qkv{nullptr};
  AttentionAxis axis() const { return axis_; }
  int heads() const { return num_heads_; }

 private:
  int num_heads_;
  double scale_;
  AttentionAxis axis_;
};
TORCH_MODULE(DualAttention);

// The original's Block in mode stage_st (spatial attention + MLP, then temporal attention + MLP,
// each pre-norm with a residual) or stage_ts (temporal first).
enum class StageOrder { SpatialTemporal, TemporalSpatial };

class DualStreamBlockImpl : public torch::nn::Module {
 public:
  DualStreamBlockImpl(int dim, int num_heads, double mlp_ratio, bool qkv_bias, double drop_path, double norm_eps,
                      StageOrder order);
  torch::Tensor forward(const torch::Tensor& x, std::int64_t frames);  // (B*F, J, C) -> same
  // The same block from the fast path's operations (model/fast_ops; float32 CPU tensors, with
  // gradients when they are needed): the temporal stage runs on each joint's frames laid out as
  // rows of their own, (B*J, F, C), so that its attention reads whole sequences in place.
  torch::Tensor forward_fast(const torch::Tensor& x, std::int64_t frames);

  torch::nn::LayerNorm norm1_s{nullptr}, norm1_t{nullptr};
  DualAttention attn_s{nullptr}, attn_t{nullptr};
  torch::nn::LayerNorm norm2_s{nullptr}, norm2_t{nullptr};
  FeedForward mlp_s{nullptr}, mlp_t{nullptr};

  StageOrder order() const { return order_; }
  double drop_path_rate() const { return drop_path_; }

 private:
  // Stochastic depth of a residual branch per row of the (B*F, J, C) batch, as the original's
  // DropPath (identity unless training with a positive rate).
  torch::Tensor drop_path(const torch::Tensor& branch) const;
  torch::Tensor spatial_stage(const torch::Tensor& x, std::int64_t frames);
  torch::Tensor temporal_stage(const torch::Tensor& x, std::int64_t frames);
  // One pre-norm stage from the fast operations on rows that are whole attention sequences:
  // (B*F, J, C) for the spatial stage, (B*J, F, C) for the temporal one; J = `joints`.
  torch::Tensor fast_stage(const torch::Tensor& x, AttentionAxis axis, std::int64_t joints);
  // drop_path for a temporal branch in the (B*J, F, C) layout: the same random draw per (batch,
  // frame) row as drop_path on the (B*F, J, C) layout.
  torch::Tensor drop_path_by_joint(const torch::Tensor& branch, std::int64_t joints) const;
  double drop_path_;
  StageOrder order_;
};
TORCH_MODULE(DualStreamBlock);

class MotionBERTImpl : public LifterImpl {  // TemporalShape::Sequence: (B, F, J, 3) -> (B, F, J, 3)
 public:
  explicit MotionBERTImpl(const MotionBERTConfig& config);

  // (B, F, J, dim_in) keypoints (x, y, confidence in the original's setup), 1 <= F <= maxlen
  // -> (B, F, J, dim_out), one 3D pose per frame. InputError on a wrong rank, joint or channel
  // count, an empty clip or one longer than maxlen.
  torch::Tensor forward(const torch::Tensor& x) override;
  // The same up to the representation (the original's get_representation / return_rep):
  // (B, F, J, dim_rep), after pre_logits' tanh.
  torch::Tensor representation(const torch::Tensor& x);

  Family family() const override { return Family::MotionBERT; }
  TemporalShape temporal_shape() const override { return TemporalShape::Sequence; }
  int receptive_field() const override { return config_.maxlen; }
  int input_joints() const override { return config_.num_joints; }
  int input_channels() const override { return config_.dim_in; }
  int output_joints() const override { return config_.num_joints; }
  std::string describe() const override { return config_.describe(); }
  // Multiply-accumulates of one maxlen-frame clip divided by maxlen: joints_embed; in each of
  // the 2 x depth blocks qkv and proj of both attentions, spatial QK^T and AV (J x J per frame),
  // temporal QK^T and AV (F x F per joint), both MLPs; each level's ts_attn and its weighted sum
  // of the two streams (2 products per feature); pre_logits and head. LayerNorms, softmax,
  // GELU, tanh and the attention scaling are not counted (as the other families' counts).
  double macs_per_output_frame() const override;

  const MotionBERTConfig& config() const { return config_; }
  // Which code runs the dual-stream blocks (same parameters, results equal within float
  // rounding). The fast path applies to float32 CPU tensors; elsewhere the reference runs. The
  // embeddings, the streams' fusion and the head are the same LibTorch operations in both.
  void set_implementation(Implementation implementation) { implementation_ = implementation; }
  Implementation implementation() const { return implementation_; }

  // Registration order equals the original's: its own parameters first, then the sub-modules
  // in constructor order (ts_attn last, as the original adds it after its initialisation).
  torch::Tensor temp_embed, pos_embed;
  torch::nn::Linear joints_embed{nullptr};
  torch::nn::ModuleList blocks_st{nullptr}, blocks_ts{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Sequential pre_logits{nullptr};  // fc (Linear dim_feat -> dim_rep), act (Tanh)
  torch::nn::Linear head{nullptr};
  torch::nn::ModuleList ts_attn{nullptr};  // att_fuse only: Linear(2 dim_feat, 2) per level

 private:
  void check_input(const torch::Tensor& x) const;
  // The original's initialisation: truncated normal (std 0.02) weights and embeddings, zero
  // biases, unit LayerNorms; ts_attn weights 0 and biases 0.5 (equal fusion at the start).
  void initialise();
  MotionBERTConfig config_;
  Implementation implementation_ = default_implementation();
};
TORCH_MODULE(MotionBERT);

// Parameter count of a configuration without building it.
std::int64_t count_parameters(const MotionBERTConfig& config);

// What the shapes determine: dim_in, dim_out, dim_feat, dim_rep, depth, mlp ratio, joints,
// maxlen, att_fuse (ts_attn present), qkv bias. num_heads is not in the weights: from the
// caller (<= 0: 8, MotionBERT's configs). norm_eps and drop_path_rate keep their defaults.
// Throws InputError naming `source` and the key when the dict is not a well-formed DSTformer
// state dict.
MotionBERTConfig infer_motionbert_config(const StateDict& state, int num_heads, const std::string& source);

// A MotionBERT YAML configuration's model fields (maxlen, dim_feat, dim_rep, depth, num_heads,
// mlp_ratio, att_fuse, num_joints) over `base`, with the 1e-6 LayerNorm eps of load_backbone,
// which builds every model of the original's scripts from such a file; what builds a fresh
// model for training from --config. InputError naming the file unless the backbone is
// DSTformer (the default) or the result is a valid configuration.
MotionBERTConfig motionbert_config_from_file(const io::MotionBERTConfigFile& file, MotionBERTConfig base = {});

// The shapes win: InputError naming `checkpoint`, the file and the first field where the
// file's model fields differ from the configuration the checkpoint's weights give (`shapes`;
// num_heads is not in the weights and is not compared: the caller builds with the file's).
void check_motionbert_config_file(const MotionBERTConfig& shapes, const io::MotionBERTConfigFile& file,
                                  const std::string& checkpoint);

}  // namespace poselift::model
