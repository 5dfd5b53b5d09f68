// The one way commands get a trained model: the checkpoint file they name (engine/options.hpp's
// resolve_checkpoint_path), read and built by the model registry with the model flags, checked
// against the 2D input, moved to the device in eval mode. Errors and warnings name the flags
// (--model, --heads, -f, --non-strict); the model layer's own messages do not.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

#include "engine/options.hpp"
#include "io/motionbert_yaml.hpp"
#include "model/checkpoint.hpp"
#include "model/registry.hpp"

namespace poselift::engine {

// The flag hints appended to the model layer's errors.
model::LoadHints flag_hints();

// The registry request the model flags make (--model, --heads, -f, --causal, --dense,
// --non-strict), with their hints.
model::ModelRequest model_request(const ModelOptions& options);

// --config's part before building `checkpoint`: InputError unless the checkpoint is a
// MotionBERT one, or when the file's num_heads contradicts --heads or the heads the
// checkpoint stores; the file's num_heads into `request`.
void apply_model_config(const io::MotionBERTConfigFile& config, const model::Checkpoint& checkpoint,
                        const ModelOptions& options, model::ModelRequest& request);

// The head count to build `checkpoint` with (model::resolve_heads), warning when --heads
// (`requested` > 0) disagrees with the count the file stores.
int heads_for(const model::Checkpoint& checkpoint, int requested);

// Throws InputError unless a loaded model takes `num_joints` joints (`source` names the 2D
// keypoints file); warns when -f (`frames` > 0) differs from the model's receptive field.
void check_checkpoint_fits(const std::string& path, const model::LifterImpl& model, int frames, int num_joints,
                           const std::string& source);

// What the model must fit: the 2D keypoints' joint count (0: anything).
struct ModelFit {
  int num_joints = 0;
  std::string source;  // the keypoints file, named in the error
};

// A model ready to predict, with the checkpoint it came from.
struct InferenceModel {
  model::Checkpoint checkpoint;
  model::LoadedModel loaded;
  std::optional<io::MotionBERTConfigFile> config;  // --config, when given
  model::LifterImpl& pose() const { return *loaded.pose; }
};

// Reads `path`, builds its model with `options` (model_request; with --config, the head count
// from the file and its other model fields checked against the shapes: apply_model_config),
// checks it against `fit` (check_checkpoint_fits) and returns it on `device` in eval mode.
InferenceModel load_for_inference(const std::string& path, const ModelOptions& options, const torch::Device& device,
                                  const ModelFit& fit = {});

}  // namespace poselift::engine
