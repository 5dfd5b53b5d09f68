// VideoPose3D (Pavllo et al. 2019): a stack of dilated temporal convolutions over the 2D
// keypoints of a sequence, one 3D pose out per input frame beyond the receptive field. The
// same module is the trajectory model with one output joint (the original's model_traj).
// Parameter and buffer names and their registration order equal the original TemporalModel's,
// so state dicts map one to one and parameters() lines up with PyTorch optimizer indices.
// In training, windows of exactly receptive_field() frames run the original's
// TemporalModelOptimized1f computation (strided convolutions, same weights), as run.py does.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/checkpoint.hpp"
#include "model/lifter.hpp"

namespace poselift::model {

struct VideoPose3DConfig {
  int num_joints_in = 17, in_features = 2, num_joints_out = 17;  // num_joints_out 1: trajectory model
  std::vector<int> filter_widths{3, 3, 3, 3, 3};                  // odd widths; receptive field = product
  bool causal = false;  // outputs depend on past frames only (the original's --causal)
  double dropout = 0.25;
  int channels = 1024;
  bool dense = false;  // undilated wide kernels instead of dilation (the original's --dense ablation)

  int receptive_field() const;
  // "receptive field 27 frames (filter widths 3,3,3), 64 channels, 17 joints -> 17", with
  // ", 3 input channels", ", causal" and ", dense" appended where they apply.
  std::string describe() const;
  void validate() const;  // InputError on impossible combinations

  // The dilation of block `block` (0 = the expanding convolution): the product of the widths
  // before it.
  int dilation(int block) const;
  // Frames the block's convolution reaches on each side (the original's `pad`).
  int pad(int block) const;
  // How far the block's residual is shifted towards the end of the window (the original's
  // `causal_shift` of the dilated form); 0 unless causal.
  int causal_shift(int block) const;
  // The kernel width of the block's wide convolution: its filter width, or 2 * pad + 1 when dense.
  int kernel_width(int block) const;
};

class VideoPose3DImpl : public LifterImpl {  // TemporalShape::Convolution: (B, T + F - 1, J, C) -> (B, T, J', 3)
 public:
  explicit VideoPose3DImpl(const VideoPose3DConfig& config);

  Family family() const override { return Family::VideoPose3D; }
  TemporalShape temporal_shape() const override { return TemporalShape::Convolution; }
  int receptive_field() const override { return config_.receptive_field(); }
  int input_joints() const override { return config_.num_joints_in; }
  int input_channels() const override { return config_.in_features; }
  int output_joints() const override { return config_.num_joints_out; }
  // run.py's causal_shift: a causal model's output frame is the last of its receptive field.
  int causal_shift() const override { return config_.causal ? (receptive_field() - 1) / 2 : 0; }
  std::string describe() const override { return config_.describe(); }
  double macs_per_output_frame() const override;
  // (B, T + F - 1, J, C) -> (B, T, J', 3). The strided form where uses_strided_form(x), else
  // the dilated one. Throws InputError for a wrong rank, joint or channel count, or fewer than
  // F frames.
  torch::Tensor forward(const torch::Tensor& x) override;
  void set_batch_norm_momentum(double momentum) override;  // the original's set_bn_momentum

  const VideoPose3DConfig& config() const { return config_; }
  // Training with windows of exactly receptive_field() frames runs the strided form of the original's
  // TemporalModelOptimized1f (same weights); on by default, as run.py uses it whenever stride is 1 and not dense.
  void set_strided_training(bool on) { strided_training_ = on; }
  bool strided_training() const { return strided_training_; }
  // Whether forward(x) runs the strided form: training, strided training on, not dense, and x
  // exactly receptive_field() frames long.
  bool uses_strided_form(const torch::Tensor& x) const;

  // The two computations themselves, whatever the mode (dropout and BatchNorm follow each
  // sub-module's own training flag). The dilated form is the original's TemporalModel; the
  // strided form is TemporalModelOptimized1f and takes exactly receptive_field() frames (not
  // for a dense model). Both validate their input as forward does.
  torch::Tensor forward_dilated(const torch::Tensor& x);
  torch::Tensor forward_strided(const torch::Tensor& x);

  // Registration order equals the original's: TemporalModelBase's drop, relu, expand_bn, shrink,
  // then TemporalModel's expand_conv, layers_conv, layers_bn.
  torch::nn::Dropout drop{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::BatchNorm1d expand_bn{nullptr};
  torch::nn::Conv1d shrink{nullptr};
  torch::nn::Conv1d expand_conv{nullptr};
  torch::nn::ModuleList layers_conv{nullptr}, layers_bn{nullptr};

 private:
  // (B, T, J, C) -> (B, J * C, T) after checking the shape; `exact_length` demands F frames.
  torch::Tensor to_channels(const torch::Tensor& x, bool exact_length) const;
  torch::Tensor from_channels(const torch::Tensor& y, std::int64_t batch) const;
  torch::Tensor activate(torch::nn::BatchNorm1d& bn, const torch::Tensor& x);
  torch::nn::Conv1dImpl& conv(std::size_t index);
  torch::nn::BatchNorm1d bn(std::size_t index);

  VideoPose3DConfig config_;
  bool strided_training_ = true;
};
TORCH_MODULE(VideoPose3D);

// The configuration a state dict's shapes determine (model_pos or model_traj): joints in/out, in_features,
// channels, filter widths. `causal` and `dense` are not in the shapes: they come from the caller (the original's
// --causal / --dense flags). Throws InputError naming `source` and the offending key when the dict is not a
// well-formed TemporalModel state dict.
// The expanding convolution's input width is joints x features; the shapes cannot split it, so
// the split follows run.py's models: features = width / output joints when that is 2 or 3 (the
// pose model, as many joints in as out), else 2 when the width is even (2D keypoints), else 3.
// A caller who knows better sets num_joints_in / in_features afterwards (same product).
// `dropout` keeps its default (not in the shapes).
VideoPose3DConfig infer_videopose3d_config(const StateDict& state, const std::string& source, bool causal = false,
                                           bool dense = false);

}  // namespace poselift::model
