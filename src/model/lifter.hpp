// The common face of every 2D-to-3D lifting model poselift runs (PoseFormer, VideoPose3D,
// PoseFormerV2, ...): what the engine needs to feed it windows or whole sequences, count its
// cost and train it, without knowing the family. Each family's module derives from LifterImpl
// and keeps its original's parameter names, so state dicts map one to one.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

namespace poselift::model {

enum class Family { PoseFormer, VideoPose3D, PoseFormerV2, MixSTE, MotionBERT };

// "PoseFormer", "VideoPose3D", "PoseFormerV2", "MixSTE", "MotionBERT".
const char* family_name(Family family);
// The family of a name as users type it (case-insensitive: "poseformerv2", "videopose3d", ...);
// throws InputError listing the names otherwise.
Family family_from_name(const std::string& name);

// How a model maps input frames to output frames (F = receptive_field()).
enum class TemporalShape {
  CentreFrame,  // (B, F, J, C) -> (B, 1, J', 3): the centre frame of each window (PoseFormer, V2)
  Convolution,  // (B, T + F - 1, J, C) -> (B, T, J', 3), any T >= 1 (VideoPose3D)
  Sequence,     // (B, F, J, C) -> (B, F, J', 3): every frame of the window (MixSTE, MotionBERT)
};

class LifterImpl : public torch::nn::Module {
 public:
  virtual Family family() const = 0;
  virtual TemporalShape temporal_shape() const = 0;
  virtual int receptive_field() const = 0;  // input frames per output frame (per window)
  virtual int input_joints() const = 0;
  virtual int input_channels() const = 0;  // 2 (x, y); 3 with a confidence channel
  virtual int output_joints() const = 0;   // 1 for a trajectory model
  // Frames the receptive field reaches further into the past than into the future (VideoPose3D's
  // causal convolutions); 0 for a centred window.
  virtual int causal_shift() const { return 0; }
  // The configuration in one line: "27 frames, 17 joints, 64 channels, filter widths 3,3,3".
  virtual std::string describe() const = 0;
  // Multiply-accumulates of eval-mode inference per output frame as the original code runs it,
  // every product counted (attention's QK^T and AV included): a window's forward divided by
  // its output frames; for a convolution, per frame of a long sequence.
  virtual double macs_per_output_frame() const = 0;
  // Normalised 2D keypoints -> root-relative 3D positions in metres (shapes as temporal_shape()).
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // BatchNorm momentum of every BatchNorm layer (VideoPose3D decays it during training); a
  // no-op for families without BatchNorm.
  virtual void set_batch_norm_momentum(double /*momentum*/) {}

  std::int64_t parameter_count() const;
};

using Lifter = std::shared_ptr<LifterImpl>;

}  // namespace poselift::model
