// Training as the originals do it (run_poseformer.py for PoseFormer and PoseFormerV2, VideoPose3D's
// and MixSTE's run.py, MotionBERT's train.py): window models get one example per target frame
// (an F-frame window centred on it, edges repeated), sequence models (MixSTE, MotionBERT) one
// F-frame clip per example with a target for every frame; flip augmentation, examples shuffled
// by numpy's RandomState(1234) stream, learning rate decayed after every epoch, evaluation after
// every epoch, periodic and best checkpoints. Per family: the loss (MPJPE; MixSTE's joint-
// weighted MPJPE with its temporal terms; MotionBERT's MPJPE + scale + velocity), AdamW (the
// transformers), or Adam with AMSGrad, BatchNorm momentum decayed from 0.1 to 0.001 and
// optionally the trajectory model (VideoPose3D).
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "engine/distributed.hpp"
#include "engine/evaluate.hpp"
#include "data/numpy_random.hpp"
#include "engine/options.hpp"
#include "engine/runtime.hpp"
#include "engine/predict.hpp"
#include "model/checkpoint.hpp"
#include "model/registry.hpp"
#include "report/report.hpp"

namespace poselift::engine {

struct TrainOptions {
  std::string checkpoint_dir = "checkpoint";  // -c
  int checkpoint_frequency = 5;               // --checkpoint-frequency (the last epoch is always written)
  std::string resume;                         // -r: file name inside checkpoint_dir (or a path)
  int epochs = 130;                           // -e
  int batch_size = 256;                       // -b, in predicted frames
  int stride = 1;                             // -s: consecutive target frames per shuffled chunk
  double learning_rate = 2e-4;                // -lr
  double lr_decay = 0.99;                     // -lrd
  double weight_decay = 0.1;
  bool data_augmentation = true;              // -no-da clears it
  bool no_eval = false;                       // --no-eval
  bool export_training_curves = false;        // --export-training-curves
  std::uint32_t seed = 1234;                  // the original's ChunkedGenerator seed
  std::int64_t max_batches_per_epoch = 0;     // 0: all (tests and quick runs use a cap)
  bool trajectory = false;  // --trajectory: also train VideoPose3D's trajectory model (root position)
  // MotionBERT: frames between the starts of its training clips (its data_stride; 0: MixSTE's
  // non-overlapping clips) and its loss weights (lambda_3d_velocity, lambda_scale).
  int clip_step = 0;
  double velocity_weight = 20.0, scale_weight = 0.5;
  int check_every = 200;  // multi-process: steps between checks that all ranks hold the same weights
};

// Throws InputError (exit status 2 in the CLI) naming the flag and the accepted range for any
// value the training loop cannot run with (e.g. -e 0, -b -5, --learning-rate nan).
void validate_train_options(const TrainOptions& options);

// One batch: inputs (B, F, J, 2), root-relative targets (B, 1, J, 3) and the roots' camera-space
// positions (B, 1, 1, 3), the trajectory model's target; for clips (B, F, J, 3) and (B, F, 1, 3).
struct TrainingBatch {
  torch::Tensor inputs, targets, roots;
};

// How the examples are cut. Windows: chunks of `stride` consecutive target frames, each frame
// the centre of an F-frame window (VideoPose3D's ChunkedGenerator, PoseFormer). Clips: each
// chunk one F-frame clip with every frame a target, edges repeated; with step 0 the clips cover
// a sequence without overlap, centred as MixSTE's ChunkedGenerator_Seq cuts it; with a step they
// start `step` frames apart and the tail that fills no whole clip is left out, as MotionBERT's
// split_clips (a sequence shorter than F gives one clip, edge-padded where MotionBERT resamples).
struct ExampleCut {
  bool clips = false;
  int step = 0;
};

// One training example set: sequences (2D inputs and root-relative 3D targets) and the
// shuffled chunk list over them.
class TrainingExamples {
 public:
  TrainingExamples(const std::vector<io::NdArray>& poses_2d, const std::vector<io::NdArray>& poses_3d, int frames,
                   int stride, bool augment, FlipSymmetry symmetry, ExampleCut cut = {});
  std::int64_t num_chunks() const { return static_cast<std::int64_t>(chunks_.size()); }
  std::int64_t num_frames() const { return total_frames_; }  // unaugmented target frames
  // The examples of the chunks order[begin, end).
  TrainingBatch batch(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end) const;

 private:
  struct Chunk {
    std::int64_t sequence, start, end;  // target frames [start, end), may reach past the edges
    bool flip;
  };
  std::vector<Chunk> chunks_;
  std::vector<std::int64_t> offsets_, lengths_;
  torch::Tensor inputs_, targets_, roots_;  // all sequences: (N, J, 2), (N, J, 3) root zeroed, (N, 3)
  int frames_, stride_;
  ExampleCut cut_;
  FlipSymmetry symmetry_;
  std::int64_t total_frames_ = 0;
};

// Weighted mean MPJPE (metres) of whole sequences, one window per frame (sequence models: over
// the rows of their clips, as MixSTE's run.py), as the original's per-epoch evaluation computes it. With `comm` each rank predicts a share of the sequences and
// the per-sequence figures are summed in sequence order afterwards, so every rank gets exactly
// the single-process value.
double sequences_mpjpe(model::LifterImpl& model, const std::vector<io::NdArray>& poses_2d,
                       const std::vector<io::NdArray>& poses_3d, const FlipSymmetry& symmetry,
                       const PredictOptions& options, const torch::Device& device, Communicator* comm = nullptr);

// The same, predicting about options.max_batch windows at a time: after each part it advances
// `progress` (when given) by its frames and calls `stop` (when given; with `comm` every rank
// must pass one, and it must return the same on all of them, e.g. after a reduction); a true
// answer abandons the evaluation and returns nullopt. With SequenceTarget::Trajectory the model
// is a trajectory model and the targets are the roots' camera-space positions.
enum class SequenceTarget { RootRelative, Trajectory };
std::optional<double> sequences_mpjpe_until(model::LifterImpl& model, const std::vector<io::NdArray>& poses_2d,
                                            const std::vector<io::NdArray>& poses_3d, const FlipSymmetry& symmetry,
                                            const PredictOptions& options, const torch::Device& device,
                                            Communicator* comm, report::Progress* progress,
                                            const std::function<bool()>& stop,
                                            SequenceTarget target = SequenceTarget::RootRelative);

using EpochRecord = model::EpochRecord;  // one epoch's losses, as checkpoints record them

enum class TrainOutcome { Completed, Interrupted, Diverged };

struct TrainResult {
  TrainOutcome outcome = TrainOutcome::Completed;
  std::vector<EpochRecord> history;
  std::string last_checkpoint;
  std::string message;
};

// The loop polls runtime::stop_request() (runtime/signals.hpp) after every step, between parts of the
// per-epoch evaluation and after the checkpoints of an epoch are written: when set, it finishes
// the step (abandons the evaluation), writes the resumable checkpoint interrupted.bin and returns
// TrainOutcome::Interrupted -- after the last epoch too, so that a run stopped there skips the
// final evaluation. A run interrupted during an epoch's evaluation resumes with that evaluation.

// What a training run tells as it goes. Empty members fall back to the defaults: the original's
// printed lines ("INFO: Training on N frames", "Saving checkpoint to ...") through report::line,
// and each epoch as the original's "[N] time ... lr ... 3d_train ..." line through `line`.
// Only rank 0 reports.
struct TrainObserver {
  std::function<void(const std::string& line)> line;
  std::function<void(const EpochRecord& record, bool evaluated)> epoch;
};

// The original's line for one epoch ("[3] time 0.03 lr 0.001960 3d_train 220.6 ...").
std::string format_epoch_line(const EpochRecord& record, bool evaluated);

struct TrainSetup {
  const data::MocapDataset* dataset = nullptr;
  const data::Keypoints* keypoints = nullptr;
  DataSelection data;  // training and validation subjects, actions, subset, downsampling
  ModelOptions model;
  TrainOptions train;
  PredictOptions evaluation;  // the per-epoch validation (max_batch, test-time augmentation)
  bool progress = true;       // progress bars (rank 0 only)
  torch::Device device = torch::kCPU;
  // Data-parallel training when set (see distributed.hpp): -b is per rank, each step takes the
  // next world_size * b frames of the shuffled order, rank r the r-th share; only rank 0 writes.
  Communicator* comm = nullptr;
  TrainObserver observer;
};

// The PoseFormer a training run builds from the model flags (joints from the 2D file).
model::PoseFormerConfig training_model_config(const ModelOptions& options, int num_joints);
// The model of the --model family a training run builds from the flags (PoseFormer without one).
model::ModelSpec training_model_spec(const ModelOptions& options, int num_joints);
// VideoPose3D's -arc text ("3,3,3,3,3") as filter widths; InputError naming the flag otherwise.
std::vector<int> parse_filter_widths(const std::string& text);

// Each original's defaults for the flags a user did not type (poselift's TrainOptions and
// ModelOptions hold PoseFormer's).
struct TrainingRecipe {
  int epochs = TrainOptions{}.epochs, batch_size = TrainOptions{}.batch_size;
  double learning_rate = TrainOptions{}.learning_rate, lr_decay = TrainOptions{}.lr_decay;
  double weight_decay = TrainOptions{}.weight_decay;
  int checkpoint_frequency = TrainOptions{}.checkpoint_frequency;
  double dropout = 0.0;
  // The architecture (sequence models; 0: poselift's flag defaults) and the chunking: stride 0
  // means one clip per chunk (-s = -f, MixSTE's published -s 243).
  int frames = 0, width = 0, depth = 0, representation = 0;
  double mlp_ratio = 0;
  int stride = 1, clip_step = 0;
  int heads = 0;  // 0: the --heads default
  double velocity_weight = TrainOptions{}.velocity_weight, scale_weight = TrainOptions{}.scale_weight;
};
TrainingRecipe training_recipe(model::Family family);
// MotionBERT's recipe as a YAML configuration (its configs/pose3d/*.yaml, `--config`) states
// it: the fields the file has replace `recipe`'s (epochs, batch_size, learning_rate,
// weight_decay, lr_decay, checkpoint_frequency, lambda_3d_velocity, lambda_scale, data_stride,
// clip_len or maxlen, dim_feat, dim_rep, depth, num_heads, mlp_ratio).
TrainingRecipe motionbert_recipe_from_config(const std::string& yaml_path, TrainingRecipe recipe);

// A sequence model's training loss on (B, F, J, 3) predictions and root-relative targets:
// `total` to minimise and `reported`, what the original prints as 3d_train.
//   MixSTE (run.py): MPJPE weighted per joint (its Human3.6M or HumanEva weights; 1 for other
//   skeletons) + 0.5 x the joint-weighted mean squared frame-to-frame motion + 2 x the velocity
//   error; reported: that total.
//   MotionBERT (train.py): MPJPE + scale_weight x N-MPJPE + velocity_weight x the velocity
//   error; reported: the MPJPE alone.
struct TrainingLoss {
  torch::Tensor total;
  double reported = 0;
};
TrainingLoss sequence_loss(model::Family family, const torch::Tensor& predicted, const torch::Tensor& target,
                           const TrainOptions& options);
// MixSTE's per-joint weights for a skeleton of `joints` (ones unless 17 or 15 joints).
std::vector<float> mixste_joint_weights(int joints);

// Runs the whole training, reporting through `setup.observer`, and returns the trained model's
// history. The model is created from `setup.model` or restored from `train.resume` (a file in
// train.checkpoint_dir, or a path).
// The trained models come back through the out-parameters when given (the trajectory model: null
// unless trained).
TrainResult train_model(const TrainSetup& setup, model::Lifter* trained_out = nullptr,
                        model::Lifter* trajectory_out = nullptr);

// `poselift train`: the data, the communicator of a multi-process run (torchrun's variables,
// see distributed.hpp) and its per-rank device, the training, then -- on rank 0 -- the final
// evaluation, as the original's default mode.
struct TrainRunOptions {
  DataOptions data;
  ModelOptions model;
  RuntimeOptions runtime;
  TrainOptions train;
  PredictOptions evaluation;
  bool by_subject = false;       // final evaluation per subject
  std::int64_t torch_seed = -1;  // LibTorch's generator (weight init, stochastic depth); -1: random
  double dist_timeout = 300;     // multi-process: seconds before a silent peer counts as failed
};

struct TrainRunResult {
  TrainOutcome outcome = TrainOutcome::Completed;
  std::string message;  // why it stopped (empty when completed, and on ranks > 0 when interrupted)
  int signal = 0;       // the stop signal when interrupted
  std::vector<EpochRecord> history;
  std::vector<EvaluationBlock> evaluation;  // the final evaluation (rank 0)
};

// Throws DistributedError when the ranks cannot meet or one fails, InputError for bad input.
TrainRunResult run_train(const TrainRunOptions& options);

}  // namespace poselift::engine
