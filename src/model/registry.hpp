// The one place a model comes from: the family of a checkpoint detected from its keys, its
// configuration from the shapes plus what the file cannot tell (given by the caller), built and
// strictly loaded; or a fresh model of a family for training. infer, evaluate, train, render
// and forward all get their model here.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "model/checkpoint.hpp"
#include "model/lifter.hpp"
#include "model/mixste.hpp"
#include "model/motionbert.hpp"
#include "model/poseformer.hpp"
#include "model/poseformerv2.hpp"
#include "model/videopose3d.hpp"

namespace poselift::model {

// The family a state dict belongs to and the keys that tell it ("STEblocks.*, TTEblocks.*");
// none when no family's signature is there.
struct FamilySignature {
  Family family;
  std::string keys;
};
std::optional<FamilySignature> detect_family(const StateDict& state);

// A family with its whole configuration: what a fresh model is built from.
using ModelSpec =
    std::variant<PoseFormerConfig, VideoPose3DConfig, PoseFormerV2Config, MixSTEConfig, MotionBERTConfig>;
Family family_of(const ModelSpec& spec);
Lifter make_lifter(const ModelSpec& spec);

// What the weights cannot tell, from the caller's flags (or the original's fixed choices).
struct ModelRequest {
  std::optional<Family> family;  // the family asked for; none: the file's
  int num_heads = 0;             // <= 0: the stored count, else the family's default (8)
  int frames = 0;                // <= 0: the stored window; PoseFormerV2 needs one of them
  bool causal = false, dense = false;  // VideoPose3D, when the file does not store them
  // MotionBERT's LayerNorm eps when the file does not store it (<= 0: 1e-6, as its scripts'
  // load_backbone builds every published model).
  double layer_norm_eps = 0;
  bool strict = true;
  struct Hints {  // appended to the errors: the caller's flag names
    std::string heads, frames, strict, family;
  } hints;
};

struct LoadedModel {
  Family family = Family::PoseFormer;
  ModelSpec spec;
  Lifter pose;
  Lifter trajectory;  // VideoPose3D's trajectory model when the file holds one, else null
};

// The spec of a checkpoint's `model_pos`: family detected (one sentence naming the keys when it
// is another family than request.family, or none at all), configuration from the shapes and
// `request`. Throws InputError naming the file.
ModelSpec checkpoint_spec(const Checkpoint& checkpoint, const ModelRequest& request);

// checkpoint_spec, built and loaded (strictly unless request.strict is false: a partial load
// is reported through report::warn), with the trajectory model when there is one.
LoadedModel build_model(const Checkpoint& checkpoint, const ModelRequest& request);

// The head count poselift records in its checkpoints for `spec` (none for VideoPose3D), and
// the window / convolution flags the shapes do not hold.
TrainingState spec_training_state(const ModelSpec& spec);

}  // namespace poselift::model
