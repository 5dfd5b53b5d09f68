// The one way commands get a trained model: the checkpoint file they name (engine/options.hpp's
// resolve_checkpoint_path), read and built with the model flags, checked against the 2D input,
// moved to the device in eval mode. Errors and warnings name the flags (--heads, -f,
// --non-strict); the model layer's own messages do not.
#pragma once

#include <torch/torch.h>

#include <string>

#include "engine/options.hpp"
#include "model/checkpoint.hpp"

namespace poselift::engine {

// The flag hints appended to the model layer's errors.
model::LoadHints flag_hints();

// The head count to build `checkpoint` with (model::resolve_heads), warning when --heads
// (`requested` > 0) disagrees with the count the file stores.
int heads_for(const model::Checkpoint& checkpoint, int requested);

// Throws InputError unless a loaded checkpoint takes `num_joints` joints (`source` names the 2D
// keypoints file); warns when -f (`frames` > 0) differs from the checkpoint's frame count.
void check_checkpoint_fits(const std::string& path, const model::PoseFormerConfig& config, int frames,
                           int num_joints, const std::string& source);

// What the model must fit: the 2D keypoints' joint count (0: anything).
struct ModelFit {
  int num_joints = 0;
  std::string source;  // the keypoints file, named in the error
};

// Reads `path`, builds PoseFormer with `options`' heads and strictness, checks it against `fit`
// (check_checkpoint_fits) and returns it on `device` in eval mode.
model::PoseFormer load_for_inference(const std::string& path, const ModelOptions& options,
                                     const torch::Device& device, const ModelFit& fit = {});

}  // namespace poselift::engine
