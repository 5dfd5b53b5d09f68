// PoseFormer checkpoints in PyTorch's torch.save format: the dict run_poseformer.py writes
// (`epoch`, `lr`, `random_state`, `optimizer`, `model_pos`), read and written natively.
#pragma once

#include <torch/torch.h>

#include <cmath>
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

// One training epoch as poselift's checkpoints record it (losses in metres).
struct EpochRecord {
  int epoch = 0;  // 1-based
  double minutes = 0, lr = 0;
  double loss_train = 0, loss_train_eval = NAN, loss_valid = NAN;
  // VideoPose3D's trajectory model, when trained beside: its mean root distance (metres).
  double loss_traj_train_eval = NAN, loss_traj_valid = NAN;
  bool has_trajectory() const { return !std::isnan(loss_traj_train_eval) || !std::isnan(loss_traj_valid); }
};

// poselift's own entries of a checkpoint (its `poselift` dict): what the model's shapes do not
// tell and what resuming needs beyond the original's keys. The one codec of that dict:
// encode_training_state writes it, read_checkpoint decodes it. Every field is optional when
// read (the original's files have none; a file may hold only `num_heads`).
constexpr std::int64_t kTrainingStateFormat = 1;  // the dict's `format`; other formats are refused
struct TrainingState {
  std::optional<int> num_heads;  // 1..4096
  std::optional<double> drop_path_rate;
  // What other families' shapes do not tell: PoseFormerV2's window, VideoPose3D's convolutions.
  std::optional<int> num_frames;  // 1..100000
  std::optional<bool> causal, dense;
  std::optional<double> layer_norm_eps;  // MotionBERT's (not in its weights)
  torch::Tensor torch_rng_state;  // LibTorch's CPU generator; undefined when absent
  std::optional<double> min_loss;  // best validation MPJPE so far, millimetres
  std::optional<std::vector<EpochRecord>> history;
  // Where training stands inside an epoch (absent or zero at an epoch boundary).
  std::optional<std::int64_t> batch_index, epoch_chunk_index, epoch_frames;
  std::optional<double> epoch_loss_sum;
  io::ValuePtr epoch_random_state;  // the shuffling generator before the epoch's shuffle, or null
};
io::ValuePtr encode_training_state(const TrainingState& state);
// Throws InputError naming `source` for a malformed dict or a format other than
// kTrainingStateFormat.
TrainingState decode_training_state(const io::Value& value, const std::string& source);

struct Checkpoint {
  std::string source;
  StateDict model_state;              // keys without the DataParallel "module." prefix
  StateDict trajectory_state;         // VideoPose3D's `model_traj` (empty when absent or None)
  bool module_prefixed = false;       // the file's `model_pos` keys carried the "module." prefix
  std::optional<std::int64_t> epoch;  // epochs completed
  std::optional<double> lr;
  io::ValuePtr optimizer;     // PyTorch optimizer state_dict, or null
  io::ValuePtr random_state;  // numpy RandomState (opaque) or poselift's generator state, or null
  std::optional<TrainingState> training;  // poselift's own entries, decoded
};

// Reads a checkpoint: a training dict with `model_pos` (or `model`, `state_dict`), or a bare
// state dict. Throws InputError naming the file for anything else.
// `builtin` (assets::is_builtin_lifter) reads the checkpoint compiled into the program.
Checkpoint read_checkpoint(const std::string& path);
Checkpoint read_checkpoint(const io::TorchFile& file);

// PoseFormer's head count where neither the file nor a flag says (the published models' 8).
constexpr int kDefaultHeads = 8;

// The head count poselift's own checkpoints record (the tensor shapes cannot tell it); none for
// the original's files.
std::optional<int> stored_heads(const Checkpoint& ck);
// The head count to build the model with: the stored one, else `requested` when > 0, else
// kDefaultHeads. (The caller tells the user when a requested count is overruled.)
int resolve_heads(const Checkpoint& ck, int requested);

// Everything the tensor shapes determine: frames, joints, input channels, width, depth, MLP
// ratio, qkv bias. The head count is not in the shapes: it comes from `num_heads` (<= 0: the
// default). `heads_hint` is appended to the error when the head count does not fit the width
// (the caller names its flag there).
PoseFormerConfig infer_config(const StateDict& state, int num_heads, const std::string& source,
                              const std::string& heads_hint = "");

// A family's configuration read out of a state dict: tensors by name, their rank and shape
// checked; errors name the file, the family ("not a MixSTE checkpoint: ... is missing") and the key.
class StateDictShapes {
 public:
  StateDictShapes(const StateDict& state, std::string source, std::string family)
      : state_(state), source_(std::move(source)), family_(std::move(family)) {}
  const torch::Tensor* find(const std::string& name) const;  // null when absent
  const torch::Tensor& need(const std::string& name, std::size_t rank) const;
  void expect_shape(const std::string& name, const std::vector<std::int64_t>& shape, const std::string& why) const;
  // Blocks numbered in the keys "<prefix>.<N>.": one more than the highest N (0 when none). The
  // index comes from the file, so it is bounded (below 1000) before it is converted.
  int block_count(const std::string& prefix) const;

 private:
  const StateDict& state_;
  std::string source_, family_;
};
// "(3, 4)", "(5,)" as Python prints a shape.
std::string shape_text(const torch::Tensor& tensor);

struct LoadReport {
  std::vector<std::string> missing, unexpected, mismatched;
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string describe() const;
};

// Copies the tensors into the model. Strict (default): any missing or unexpected key or shape
// mismatch throws one InputError listing all of them (`strict_hint` appended); non-strict loads
// what matches and returns the report of what was skipped.
LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state, bool strict,
                           const std::string& source, const std::string& strict_hint = "");

StateDict module_state(const torch::nn::Module& model, bool with_module_prefix = false);

// Builds a model from a checkpoint (config inferred from the shapes; heads as resolve_heads),
// strictly loaded unless told otherwise; a partial load is reported through report::warn.
// The hints are appended to the errors as in infer_config and load_state_dict.
struct LoadHints {
  std::string heads, strict;
};
PoseFormer build_poseformer(const Checkpoint& checkpoint, int num_heads, bool strict, const LoadHints& hints = {});
PoseFormer load_poseformer(const std::string& path, int num_heads, bool strict = true,
                           Checkpoint* checkpoint_out = nullptr);

// Adam or AdamW state in PyTorch's optimizer.state_dict() layout (param indices in parameters()
// order; AMSGrad's max_exp_avg_sq when enabled). Other optimizers are a programming error.
io::ValuePtr optimizer_state_value(torch::optim::Optimizer& optimizer);
void load_optimizer_state(torch::optim::Optimizer& optimizer, const io::Value& state, const std::string& source);

struct CheckpointContents {
  std::int64_t epoch = 0;
  double lr = 0.0;
  io::ValuePtr random_state;      // may be null -> None
  torch::optim::Optimizer* optimizer = nullptr;  // Adam or AdamW; null -> None
  const torch::nn::Module* model = nullptr;
  const torch::nn::Module* trajectory = nullptr;  // VideoPose3D's `model_traj`; null -> no such key
  io::ValuePtr extra;             // poselift's own entries (encode_training_state) or null
};
// Writes the run_poseformer.py dict atomically; Python's torch.load reads it and the original
// model loads `model_pos`.
void write_checkpoint(const std::string& path, const CheckpointContents& contents);

}  // namespace poselift::model
