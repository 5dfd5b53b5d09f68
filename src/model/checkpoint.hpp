// PoseFormer checkpoints in PyTorch's torch.save format: the dict run_poseformer.py writes
// (`epoch`, `lr`, `random_state`, `optimizer`, `model_pos`), read and written natively.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/torch_file.hpp"
#include "model/poseformer.hpp"

namespace poselift::model {

using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

torch::Tensor to_tensor(const io::NdArray& array);
io::NdArray to_ndarray(const torch::Tensor& tensor);

struct Checkpoint {
  std::string source;
  StateDict model_state;              // keys without the DataParallel "module." prefix
  std::optional<std::int64_t> epoch;  // epochs completed
  std::optional<double> lr;
  io::ValuePtr optimizer;     // PyTorch optimizer state_dict, or null
  io::ValuePtr random_state;  // numpy RandomState (opaque) or poselift's generator state, or null
  io::ValuePtr extra;         // poselift's own entries (dict) or null
};

// Reads a checkpoint: a training dict with `model_pos` (or `model`, `state_dict`), or a bare
// state dict. Throws InputError naming the file for anything else.
Checkpoint read_checkpoint(const std::string& path);
Checkpoint read_checkpoint(const io::TorchFile& file);

// PoseFormer's head count where neither the file nor a flag says (the published models' 8).
constexpr int kDefaultHeads = 8;

// The head count poselift's own checkpoints record (the tensor shapes cannot tell it); none for
// the original's files. Throws InputError for a stored value out of range.
std::optional<int> stored_heads(const Checkpoint& ck);
// The head count to build the model with: the stored one (a warning through report::warn when
// `requested` > 0 disagrees), else `requested` when > 0, else kDefaultHeads.
int resolve_heads(const Checkpoint& ck, int requested);

// Everything the tensor shapes determine: frames, joints, input channels, width, depth, MLP
// ratio, qkv bias. The head count is not in the shapes: it comes from `num_heads` (<= 0: the
// default).
PoseFormerConfig infer_config(const StateDict& state, int num_heads, const std::string& source);

struct LoadReport {
  std::vector<std::string> missing, unexpected, mismatched;
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string describe() const;
};

// Copies the tensors into the model. Strict (default): any missing or unexpected key or shape
// mismatch throws one InputError listing all of them; non-strict loads what matches and
// returns the report of what was skipped.
LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state, bool strict,
                           const std::string& source);

StateDict module_state(const torch::nn::Module& model, bool with_module_prefix = false);

// Builds a model from a checkpoint file (config inferred from the shapes; heads as
// resolve_heads), strictly loaded unless told otherwise.
PoseFormer load_poseformer(const std::string& path, int num_heads, bool strict = true,
                           Checkpoint* checkpoint_out = nullptr);

// AdamW state in PyTorch's optimizer.state_dict() layout (param indices in parameters() order).
io::ValuePtr adamw_state_value(torch::optim::AdamW& optimizer);
void load_adamw_state(torch::optim::AdamW& optimizer, const io::Value& state, const std::string& source);

struct CheckpointContents {
  std::int64_t epoch = 0;
  double lr = 0.0;
  io::ValuePtr random_state;      // may be null -> None
  torch::optim::AdamW* optimizer = nullptr;  // null -> None
  const torch::nn::Module* model = nullptr;
  io::ValuePtr extra;             // poselift's own resumable state (dict) or null
};
// Writes the run_poseformer.py dict atomically; Python's torch.load reads it and the original
// model loads `model_pos`.
void write_checkpoint(const std::string& path, const CheckpointContents& contents);

}  // namespace poselift::model
