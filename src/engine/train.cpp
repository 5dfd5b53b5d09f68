#include "engine/train.hpp"

#include "io/motionbert_yaml.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <filesystem>
#include <mutex>

#include "data/selection.hpp"
#include "engine/evaluate.hpp"
#include "engine/model_loading.hpp"
#include "engine/runtime.hpp"
#include "io/file.hpp"
#include "io/error.hpp"
#include "io/torch_file.hpp"
#include "io/zip_archive.hpp"
#include "model/checkpoint.hpp"
#include "render/plot.hpp"
#include "report/report.hpp"
#include "runtime/signals.hpp"

namespace poselift::engine {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- examples

TrainingExamples::TrainingExamples(const std::vector<io::NdArray>& poses_2d, const std::vector<io::NdArray>& poses_3d,
                                   int frames, int stride, bool augment, FlipSymmetry symmetry, ExampleCut cut)
    : frames_(frames), stride_(stride), cut_(cut), symmetry_(std::move(symmetry)) {
  if (poses_2d.size() != poses_3d.size())
    throw InputError(fmt::format("training data: {} 2D sequences but {} 3D sequences", poses_2d.size(),
                                 poses_3d.size()));
  if (stride < 1) throw InputError("-s/--stride must be at least 1");
  if (cut.step < 0) throw InputError("--data-stride must be at least 1");
  std::vector<torch::Tensor> inputs, targets, roots;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < poses_2d.size(); ++i) {
    const std::int64_t length = poses_2d[i].shape.empty() ? 0 : poses_2d[i].shape[0];
    if (poses_3d[i].shape.empty() || poses_3d[i].shape[0] != length)
      throw InputError(fmt::format("training data: sequence {} has {} 2D frames but {} 3D frames", i, length,
                                   poses_3d[i].shape.empty() ? 0 : poses_3d[i].shape[0]));
    offsets_.push_back(offset);
    lengths_.push_back(length);
    offset += length;
    if (length == 0) continue;
    inputs.push_back(model::to_tensor(poses_2d[i]).to(torch::kFloat32));
    auto target = model::to_tensor(poses_3d[i]).to(torch::kFloat32).clone();
    roots.push_back(target.select(1, 0).clone());  // the trajectory model's target
    target.select(1, 0).zero_();  // root-relative targets: the root joint is the origin
    targets.push_back(target);

    // Chunks covering the sequence: centred like the originals' generators (`stride` target
    // frames, or whole clips), or MotionBERT's clips `step` apart.
    std::vector<std::int64_t> starts;
    const std::int64_t span = cut.clips ? frames : stride;
    if (cut.clips && cut.step > 0) {
      for (std::int64_t start = 0; start + frames <= length; start += cut.step) starts.push_back(start);
      if (starts.empty()) starts.push_back(0);
    } else {
      const std::int64_t n_chunks = (length + span - 1) / span;
      const std::int64_t shift = (n_chunks * span - length) / 2;
      for (std::int64_t k = 0; k < n_chunks; ++k) starts.push_back(k * span - shift);
    }
    for (int flip = 0; flip <= (augment ? 1 : 0); ++flip)
      for (const std::int64_t start : starts)
        chunks_.push_back({static_cast<std::int64_t>(i), start, start + span, flip == 1});
  }
  total_frames_ = offset;
  if (inputs.empty()) throw InputError("training data: no frames to train on (check -str, -a and --subset)");
  inputs_ = torch::cat(inputs, 0);
  targets_ = torch::cat(targets, 0);
  roots_ = torch::cat(roots, 0);
}

TrainingBatch TrainingExamples::batch(const std::vector<std::int64_t>& order, std::int64_t begin,
                                      std::int64_t end) const {
  const std::int64_t pad = cut_.clips ? 0 : (frames_ - 1) / 2;
  std::vector<std::int64_t> window_index, target_index, flipped_rows;
  for (std::int64_t c = begin; c < end; ++c) {
    const Chunk& chunk = chunks_[order[c]];
    const std::int64_t base = offsets_[chunk.sequence], last = lengths_[chunk.sequence] - 1;
    if (cut_.clips && chunk.flip) flipped_rows.push_back(c - begin);
    for (std::int64_t t = chunk.start; t < chunk.end; ++t) {
      if (!cut_.clips && chunk.flip) flipped_rows.push_back(static_cast<std::int64_t>(target_index.size()));
      target_index.push_back(base + std::clamp<std::int64_t>(t, 0, last));
      for (std::int64_t k = -pad; k <= pad; ++k) window_index.push_back(base + std::clamp<std::int64_t>(t + k, 0, last));
    }
  }
  // Rows of the batch: one per target frame (windows) or per clip, with its F target frames.
  const std::int64_t per_row = cut_.clips ? frames_ : 1;
  const auto rows = static_cast<std::int64_t>(target_index.size()) / per_row;
  auto inputs = inputs_.index_select(0, torch::tensor(window_index, torch::kLong))
                    .view({rows, frames_, inputs_.size(1), inputs_.size(2)});
  const auto target_rows = torch::tensor(target_index, torch::kLong);
  auto targets = targets_.index_select(0, target_rows).view({rows, per_row, targets_.size(1), 3});
  auto roots = roots_.index_select(0, target_rows).view({rows, per_row, 1, 3});
  if (!flipped_rows.empty()) {
    auto rows_index = torch::tensor(flipped_rows, torch::kLong);
    inputs.index_copy_(0, rows_index,
                       flip_poses(inputs.index_select(0, rows_index), symmetry_.kps_left, symmetry_.kps_right));
    targets.index_copy_(0, rows_index, flip_poses(targets.index_select(0, rows_index), symmetry_.joints_left,
                                                  symmetry_.joints_right));
    roots.index_copy_(0, rows_index, flip_poses(roots.index_select(0, rows_index), {}, {}));
  }
  return {inputs, targets, roots};
}

double sequences_mpjpe(model::LifterImpl& model, const std::vector<io::NdArray>& poses_2d,
                       const std::vector<io::NdArray>& poses_3d, const FlipSymmetry& symmetry,
                       const PredictOptions& options, const torch::Device& device, Communicator* comm) {
  return *sequences_mpjpe_until(model, poses_2d, poses_3d, symmetry, options, device, comm, nullptr, {});
}

std::optional<double> sequences_mpjpe_until(model::LifterImpl& model, const std::vector<io::NdArray>& poses_2d,
                                            const std::vector<io::NdArray>& poses_3d, const FlipSymmetry& symmetry,
                                            const PredictOptions& options, const torch::Device& device,
                                            Communicator* comm, report::Progress* progress,
                                            const std::function<bool()>& stop, SequenceTarget target_kind) {
  std::vector<std::int64_t> lengths;
  for (const auto& p : poses_2d) lengths.push_back(p.shape.empty() ? 0 : p.shape[0]);
  const int world = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  const std::vector<int> owner = comm ? balance_items(lengths, world) : std::vector<int>(lengths.size(), 0);
  // Parts of consecutive sequences with about one batch of windows each: the stop request is
  // answered within one part's time (a few seconds on the published model).
  const std::int64_t part_frames =
      std::max<std::int64_t>(1, options.test_time_augmentation ? options.max_batch / 2 : options.max_batch);
  auto parts_of = [&](int r) {
    std::vector<std::vector<std::size_t>> parts(1);
    std::int64_t frames = 0;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      if (lengths[i] == 0 || owner[i] != r) continue;
      if (frames >= part_frames) {
        parts.emplace_back();
        frames = 0;
      }
      parts.back().push_back(i);
      frames += lengths[i];
    }
    if (parts.back().empty()) parts.pop_back();
    return parts;
  };
  const auto mine = parts_of(rank);
  // Every rank takes the same number of turns, so that a collective `stop` meets all of them.
  std::size_t turns = mine.size();
  for (int r = 0; r < world; ++r)
    if (r != rank) turns = std::max(turns, parts_of(r).size());

  // Per-sequence weighted errors: exactly one rank fills each entry, the others add zeros, so
  // the reduced values and their in-order sum are bit-identical to a single process's.
  // The rows each sequence counts: its frames, or its clips' frames (overlaps again) for a
  // sequence model, as MixSTE's run.py weights its per-epoch losses.
  const bool clips = model.temporal_shape() == model::TemporalShape::Sequence;
  std::vector<std::int64_t> counted(lengths);
  if (clips)
    for (auto& n : counted) n = n == 0 ? 0 : (n + model.receptive_field() - 1) / model.receptive_field() * model.receptive_field();
  std::vector<double> weighted(poses_2d.size(), 0.0);
  model.eval();
  for (std::size_t turn = 0; turn < turns; ++turn) {
    if (turn < mine.size()) {
      std::vector<torch::Tensor> inputs;
      std::int64_t frames = 0;
      for (const auto i : mine[turn]) {
        inputs.push_back(model::to_tensor(poses_2d[i]));
        frames += lengths[i];
      }
      std::vector<torch::Tensor> predictions;
      std::vector<std::vector<std::int64_t>> rows(inputs.size());
      if (clips) {
        for (std::size_t k = 0; k < inputs.size(); ++k) {
          ClipPrediction c = predict_clips(model, inputs[k], symmetry, options, device);
          predictions.push_back(c.poses);
          rows[k] = std::move(c.frames);
        }
      } else {
        predictions = predict_sequences(model, inputs, symmetry, options, device);
      }
      for (std::size_t k = 0; k < mine[turn].size(); ++k) {
        const std::size_t i = mine[turn][k];
        const auto& predicted = predictions[k];
        auto target = model::to_tensor(poses_3d[i]).to(torch::kFloat32).clone();
        if (clips) target = target.index_select(0, torch::tensor(rows[k], torch::kLong));
        if (target_kind == SequenceTarget::Trajectory) target = target.slice(1, 0, 1).contiguous();
        else target.select(1, 0).zero_();
        weighted[i] = predicted.size(0) * (predicted - target.to(predicted.device())).norm(2, -1).mean().item<double>();
      }
      if (progress) progress->advance(frames);
    }
    if (stop && stop()) return std::nullopt;
  }
  if (comm && !weighted.empty()) weighted = comm->allreduce_sum(weighted);
  double sum = 0;
  std::int64_t frames = 0;
  for (std::size_t i = 0; i < weighted.size(); ++i) {
    if (lengths[i] == 0) continue;
    sum += weighted[i];
    frames += counted[i];
  }
  return frames > 0 ? sum / frames : NAN;
}

// ---------------------------------------------------------------- options

void validate_train_options(const TrainOptions& o) {
  auto at_least = [](const char* flag, std::int64_t value, std::int64_t minimum, const char* meaning = "") {
    if (value < minimum)
      throw InputError(fmt::format("{}: expected an integer of at least {}{}, got {}", flag, minimum, meaning, value));
  };
  auto positive_finite = [](const char* flag, double value) {
    if (!std::isfinite(value) || value <= 0)
      throw InputError(fmt::format("{}: expected a finite number above 0, got {}", flag, value));
  };
  at_least("-e/--epochs", o.epochs, 1);
  at_least("-b/--batch-size", o.batch_size, 1);
  at_least("-s/--stride", o.stride, 1);
  at_least("--checkpoint-frequency", o.checkpoint_frequency, 0, " (0: only the last epoch)");
  at_least("--max-batches", o.max_batches_per_epoch, 0, " (0: all)");
  at_least("--check-every", o.check_every, 0, " (0: at epoch ends only)");
  positive_finite("-lr/--learning-rate", o.learning_rate);
  positive_finite("-lrd/--lr-decay", o.lr_decay);
  if (!std::isfinite(o.weight_decay) || o.weight_decay < 0)
    throw InputError(fmt::format("--weight-decay: expected a finite number of at least 0, got {}", o.weight_decay));
  if (o.checkpoint_dir.empty()) throw InputError("-c/--checkpoint: expected a folder name, got an empty one");
}

// ---------------------------------------------------------------- training state

namespace {

torch::Tensor torch_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_torch_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// Where training stands inside an epoch (all zero at an epoch boundary).
struct EpochPosition {
  std::int64_t next_chunk = 0;  // in the epoch's shuffled order: independent of batch and world size
  std::int64_t next_batch = 0;
  double loss_sum = 0;
  std::int64_t frames = 0;
  std::optional<data::NumpyRandomState> rng_before_shuffle;
};

struct TrainState {
  std::int64_t epoch = 0;  // completed epochs
  double lr = 0;
  double min_loss = 100000;
  data::NumpyRandomState rng;
  EpochPosition position;
  std::vector<EpochRecord> history;
};

// The original's checkpoint dict with poselift's entries (model::encode_training_state).
// The models a run trains: the pose model of its family and, for VideoPose3D, optionally the
// trajectory model beside it (one optimizer over both, as the original's semi-supervised setup).
struct TrainedModels {
  model::ModelSpec spec;
  model::Lifter pose, trajectory;
  std::vector<torch::Tensor> parameters() const {
    auto all = pose->parameters();
    if (trajectory)
      for (const auto& p : trajectory->parameters()) all.push_back(p);
    return all;
  }
};

void save_checkpoint(const std::string& path, const TrainState& state, const TrainedModels& models,
                     torch::optim::Optimizer& optimizer) {
  model::TrainingState t = model::spec_training_state(models.spec);
  if (const auto* c = std::get_if<model::PoseFormerConfig>(&models.spec)) t.drop_path_rate = c->drop_path_rate;
  if (const auto* c = std::get_if<model::PoseFormerV2Config>(&models.spec)) t.drop_path_rate = c->drop_path_rate;
  if (const auto* c = std::get_if<model::MixSTEConfig>(&models.spec)) t.drop_path_rate = c->drop_path_rate;
  t.torch_rng_state = torch_rng_state();
  t.min_loss = state.min_loss;
  t.history = state.history;
  t.batch_index = state.position.next_batch;
  t.epoch_chunk_index = state.position.next_chunk;
  t.epoch_loss_sum = state.position.loss_sum;
  t.epoch_frames = state.position.frames;
  if (state.position.rng_before_shuffle) t.epoch_random_state = state.position.rng_before_shuffle->to_value();
  model::CheckpointContents contents;
  contents.epoch = state.epoch;
  contents.lr = state.lr;
  contents.random_state = state.rng.to_value();
  contents.optimizer = &optimizer;
  contents.model = models.pose.get();
  contents.trajectory = models.trajectory.get();
  contents.extra = model::encode_training_state(t);
  model::write_checkpoint(path, contents);
}

// The resumed configuration: the shapes and stored entries of the checkpoint win over the flags.
model::PoseFormerConfig resumed_poseformer(model::PoseFormerConfig config, const model::Checkpoint& ck) {
  const auto saved = model::infer_config(ck.model_state, config.num_heads, ck.source, flag_hints().heads);
  if (saved.num_frames != config.num_frames)
    throw InputError(fmt::format("{}: the checkpoint takes {} frames but -f is {}", ck.source, saved.num_frames,
                                 config.num_frames));
  if (ck.training && ck.training->num_heads) config.num_heads = *ck.training->num_heads;
  if (ck.training && ck.training->drop_path_rate) config.drop_path_rate = *ck.training->drop_path_rate;
  config.embed_dim_ratio = saved.embed_dim_ratio;
  config.depth = saved.depth;
  config.mlp_ratio = saved.mlp_ratio;
  config.num_joints = saved.num_joints;
  return config;
}

model::ModelSpec resumed_spec(const model::ModelSpec& spec, const model::Checkpoint& ck, const ModelOptions& options) {
  if (const auto* c = std::get_if<model::PoseFormerConfig>(&spec)) return resumed_poseformer(*c, ck);
  model::ModelRequest request = model_request(options);
  request.family = model::family_of(spec);
  request.frames = model::make_lifter(spec)->receptive_field();
  model::ModelSpec saved = model::checkpoint_spec(ck, request);
  const int wanted = model::make_lifter(spec)->receptive_field(), stored = model::make_lifter(saved)->receptive_field();
  if (wanted != stored)
    throw InputError(fmt::format("{}: the checkpoint takes {} frames but the flags make {} (-f, -arc)", ck.source,
                                 stored, wanted));
  // What training adds to the shapes: dropout and stochastic depth as the flags (or the file) say.
  if (auto* v = std::get_if<model::VideoPose3DConfig>(&saved)) v->dropout = std::get<model::VideoPose3DConfig>(spec).dropout;
  if (auto* v = std::get_if<model::PoseFormerV2Config>(&saved)) {
    v->drop_path_rate = ck.training && ck.training->drop_path_rate ? *ck.training->drop_path_rate
                                                                   : std::get<model::PoseFormerV2Config>(spec).drop_path_rate;
  }
  if (auto* m = std::get_if<model::MixSTEConfig>(&saved)) {
    m->drop_path_rate = ck.training && ck.training->drop_path_rate ? *ck.training->drop_path_rate
                                                                   : std::get<model::MixSTEConfig>(spec).drop_path_rate;
  }
  return saved;
}

// A damaged or foreign file must not train epochs -4..5 or start past the examples.
void check_resumed_state(const TrainState& state, torch::optim::Optimizer& optimizer, const std::string& path,
                         std::int64_t num_chunks) {
  if (state.epoch < 0)
    throw InputError(fmt::format("{}: 'epoch' is {}: expected the number of completed epochs (0 or more)", path,
                                 state.epoch));
  if (!std::isfinite(state.lr) || state.lr <= 0)
    throw InputError(fmt::format("{}: 'lr' is {}: expected a finite learning rate above 0", path, state.lr));
  for (const auto& group : optimizer.param_groups())
    if (const double lr = group.options().get_lr(); !std::isfinite(lr) || lr <= 0)
      throw InputError(fmt::format("{}: the optimizer's learning rate is {}: expected a finite number above 0", path,
                                   lr));
  if (state.position.next_chunk < 0 || state.position.next_chunk > num_chunks || state.position.next_batch < 0 ||
      state.position.frames < 0)
    throw InputError(fmt::format("{}: its position inside epoch {} (example {}, batch {}) does not fit this "
                                 "training set of {} examples: resume with the data options it was written with",
                                 path, state.epoch + 1, state.position.next_chunk, state.position.next_batch,
                                 num_chunks));
}

// Restores `state`, the optimizer and LibTorch's generator from a resumed checkpoint.
void restore_state(TrainState& state, torch::optim::Optimizer& optimizer, const model::Checkpoint& ck,
                   const TrainOptions& opt, std::int64_t num_chunks, const std::function<void(const std::string&)>& say) {
  const std::string& path = ck.source;
  state.epoch = ck.epoch.value_or(0);
  if (ck.optimizer) {
    model::load_optimizer_state(optimizer, *ck.optimizer, path);
    if (ck.random_state) state.rng = data::NumpyRandomState::from_value(*ck.random_state, path + ": random_state");
  } else {
    say("WARNING: this checkpoint does not contain an optimizer state. The optimizer will be reinitialized.");
  }
  if (ck.lr) state.lr = *ck.lr;
  if (const auto& t = ck.training) {
    if (t->torch_rng_state.defined()) set_torch_rng_state(t->torch_rng_state);
    if (t->min_loss) state.min_loss = *t->min_loss;
    if (t->history) state.history = *t->history;
    if (t->batch_index) state.position.next_batch = *t->batch_index;
    if (t->epoch_chunk_index) state.position.next_chunk = *t->epoch_chunk_index;
    else  // a file without the chunk position: the same batch size assumed
      state.position.next_chunk = state.position.next_batch * std::max(1, opt.batch_size / opt.stride);
    if (t->epoch_loss_sum) state.position.loss_sum = *t->epoch_loss_sum;
    if (t->epoch_frames) state.position.frames = *t->epoch_frames;
    if (t->epoch_random_state)
      state.position.rng_before_shuffle =
          data::NumpyRandomState::from_value(*t->epoch_random_state, path + ": poselift['epoch_random_state']");
  }
  check_resumed_state(state, optimizer, path, num_chunks);
}

void export_curves(const std::string& dir, const std::vector<EpochRecord>& history) {
  std::string csv = "epoch,minutes,lr,loss_3d_train_mm,loss_3d_train_eval_mm,loss_3d_valid_mm\n";
  render::PlotSeries train{"3d train", {}, {}, 0.12, 0.47, 0.71, true};
  render::PlotSeries train_eval{"3d train (eval)", {}, {}, 0.12, 0.47, 0.71, false};
  render::PlotSeries valid{"3d valid (eval)", {}, {}, 1.0, 0.50, 0.05, false};
  for (const auto& r : history) {
    csv += fmt::format("{},{:.4f},{:.8g},{:.4f},{:.4f},{:.4f}\n", r.epoch, r.minutes, r.lr, r.loss_train * 1000,
                       r.loss_train_eval * 1000, r.loss_valid * 1000);
    for (auto* s : {&train, &train_eval, &valid}) s->x.push_back(r.epoch);
    train.y.push_back(r.loss_train * 1000);
    train_eval.y.push_back(r.loss_train_eval * 1000);
    valid.y.push_back(r.loss_valid * 1000);
  }
  io::write_file_atomic(dir + "/training_curves.csv", csv);
  render::write_line_plot(dir + "/loss_3d.png", {train, train_eval, valid}, "Epoch", "MPJPE (mm)");
}

std::int64_t frame_count(const std::vector<io::NdArray>& sequences) {
  std::int64_t frames = 0;
  for (const auto& s : sequences) frames += s.shape.empty() ? 0 : s.shape[0];
  return frames;
}

// ---------------------------------------------------------------- examples

// The validation and training sequences of a run.
struct TrainingData {
  data::FetchedSequences valid, train;
  FlipSymmetry symmetry;
};

TrainingData fetch_training_data(const TrainSetup& setup) {
  const auto& dataset = *setup.dataset;
  const auto& keypoints = *setup.keypoints;
  TrainingData d;
  d.symmetry = flip_symmetry(dataset, keypoints);
  data::FetchOptions valid_fetch;
  valid_fetch.action_filter = setup.data.action_filter;
  valid_fetch.downsample = setup.data.downsample;
  d.valid = data::fetch(dataset, keypoints, setup.data.subjects_test, valid_fetch);
  data::FetchOptions train_fetch = valid_fetch;
  train_fetch.subset = setup.data.subset;
  d.train = data::fetch(dataset, keypoints, setup.data.subjects_train, train_fetch);
  if (d.train.poses_3d.size() != d.train.poses_2d.size())
    throw InputError("training subjects " + fmt::format("{}", fmt::join(setup.data.subjects_train, ",")) +
                     " have no 3D ground truth in " + dataset.source);
  return d;
}

// ---------------------------------------------------------------- training loop

// VideoPose3D's BatchNorm momentum after `epoch` completed epochs: decayed exponentially from
// 0.1 to 0.001 over the run (a no-op for families without BatchNorm). Set on resume too, so a
// resumed run continues as the uninterrupted one.
void set_batch_norm_momentum(const TrainedModels& models, std::int64_t epoch, int epochs) {
  constexpr double kInitial = 0.1, kFinal = 0.001;
  const double momentum =
      kInitial * std::exp(-static_cast<double>(epoch) / epochs * std::log(kInitial / kFinal));
  models.pose->set_batch_norm_momentum(momentum);
  if (models.trajectory) models.trajectory->set_batch_norm_momentum(momentum);
}

// The epochs of one run: steps, the per-epoch evaluation, checkpoints, and the agreement of all
// ranks on when to stop.
class TrainingLoop {
 public:
  TrainingLoop(const TrainSetup& setup, const TrainedModels& models, torch::optim::Optimizer& optimizer,
               TrainState& state, const TrainingExamples& examples, const TrainingData& data)
      : setup_(setup),
        opt_(setup.train),
        models_(models),
        net_(*models.pose),
        trajectory_(models.trajectory.get()),
        optimizer_(optimizer),
        state_(state),
        examples_(examples),
        data_(data),
        comm_(setup.comm),
        world_(comm_ ? comm_->size() : 1),
        rank_(comm_ ? comm_->rank() : 0),
        parameters_(models.parameters()),
        chunks_per_rank_(std::max(1, opt_.batch_size / opt_.stride)),
        chunks_per_step_(chunks_per_rank_ * world_),
        interrupted_path_((fs::path(opt_.checkpoint_dir) / "interrupted.bin").string()) {
    // A step takes the next `chunks_per_step_` chunks of the epoch's order; rank r trains on the
    // r-th `chunks_per_rank_` of them (the last step of an epoch may leave some ranks fewer or none).
    epoch_chunks_ = examples.num_chunks();
    if (opt_.max_batches_per_epoch > 0)
      epoch_chunks_ = std::min(epoch_chunks_, opt_.max_batches_per_epoch * chunks_per_step_);
    num_batches_ = (epoch_chunks_ + chunks_per_step_ - 1) / chunks_per_step_;
    eval_predict_ = setup.evaluation;
    // VideoPose3D's run.py validates each epoch without flipping (its test generator's augment
    // is off); PoseFormer's run_poseformer.py flips.
    if (net_.family() == model::Family::VideoPose3D) eval_predict_.test_time_augmentation = false;
    train_eval_predict_ = eval_predict_;
    train_eval_predict_.test_time_augmentation = false;
    root_symmetry_ = data.symmetry;
    root_symmetry_.joints_left.clear();
    root_symmetry_.joints_right.clear();
  }

  bool lead() const { return rank_ == 0; }  // only rank 0 reports and writes checkpoints and curves

  void say(const std::string& text) const {
    if (!lead()) return;
    if (setup_.observer.line) setup_.observer.line(text);
    else report::line(text);
  }

  TrainResult run(TrainedModels* trained_out) {
    while (state_.epoch < opt_.epochs) {
      const auto start_time = std::chrono::steady_clock::now();
      if (auto stopped = train_steps()) return *stopped;
      EpochRecord record;
      record.epoch = static_cast<int>(state_.epoch + 1);
      record.lr = state_.lr;
      record.loss_train = state_.position.loss_sum / std::max<std::int64_t>(1, state_.position.frames);
      if (!opt_.no_eval)
        if (auto stopped = evaluate_epoch(record)) return *stopped;
      record.minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count() / 60.0;
      report_epoch(record);
      end_epoch(record);
      // After the last epoch too: the final evaluation is skipped.
      if (agree_stop())
        return interrupted(state_.epoch < opt_.epochs
                               ? fmt::format("after epoch {}", state_.epoch)
                               : fmt::format("after the last epoch ({}; the final evaluation was skipped)",
                                             state_.epoch));
    }
    result_.history = state_.history;
    if (trained_out) *trained_out = models_;
    return finish();
  }

 private:
  void report_epoch(const EpochRecord& record) {
    state_.history.push_back(record);
    if (!lead()) return;
    if (setup_.observer.epoch) setup_.observer.epoch(record, !opt_.no_eval);
    else say(format_epoch_line(record, !opt_.no_eval));
  }

  // All ranks must agree to stop: a signal may reach only some of them (several hosts). `values`
  // (when given) are summed over the ranks in the same reduction.
  bool agree_stop(std::vector<double>* values = nullptr) {
    if (!comm_) return runtime::stop_request().load() != 0;
    std::vector<double> reduced = values ? *values : std::vector<double>{};
    reduced.push_back(static_cast<double>(runtime::stop_request().load()));
    reduced = comm_->allreduce_sum(reduced);
    const double signal = reduced.back();
    reduced.pop_back();
    if (values) *values = reduced;
    if (signal > 0 && runtime::stop_request().load() == 0) runtime::stop_request().store(SIGTERM);
    return signal > 0;
  }

  void check_same_weights(const std::string& when) {
    if (!comm_) return;
    const auto [lo, hi] = comm_->allreduce_min_max({weights_checksum(parameters_)});
    if (lo[0] != hi[0])
      throw DistributedError(fmt::format("the ranks' weights differ {} (checksums {} to {}): a rank computed "
                                         "differently (non-deterministic hardware or a bug); stopping",
                                         when, lo[0], hi[0]));
  }

  void write(const std::string& path) {
    if (lead()) save_checkpoint(path, state_, models_, optimizer_);
    result_.last_checkpoint = path;
    if (comm_) comm_->set_last_checkpoint(path);  // named in its errors
  }

  // Nobody leaves while another rank may still be inside a collective.
  TrainResult finish() {
    if (comm_) comm_->barrier();
    return result_;
  }

  TrainResult stopped(TrainOutcome outcome, std::string message) {
    result_.outcome = outcome;
    result_.message = std::move(message);
    result_.history = state_.history;
    return finish();
  }

  TrainResult interrupted(const std::string& when) {
    write(interrupted_path_);
    return stopped(TrainOutcome::Interrupted,
                   fmt::format("interrupted by signal {} {}: wrote the resumable checkpoint {} (continue with -r {})",
                               runtime::stop_request().load(), when, interrupted_path_, interrupted_path_));
  }

  // One optimizer step on the chunks [begin, end) of `order` (this rank's share); returns the
  // step's summed per-frame MPJPE and frame count over all ranks, and whether they agreed to stop.
  struct Step {
    double loss_sum = 0;
    std::int64_t frames = 0;
    bool stop = false;
    bool finite = true;
  };
  Step step(const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end) {
    const std::int64_t mine_begin = std::min(end, begin + rank_ * chunks_per_rank_);
    const std::int64_t mine_end = std::min(end, mine_begin + chunks_per_rank_);
    optimizer_.zero_grad();
    torch::Tensor loss;
    Step s;
    std::int64_t local_frames = 0;
    if (mine_end > mine_begin) {
      TrainingBatch b = examples_.batch(order, mine_begin, mine_end);
      const auto inputs = with_model_channels(net_, b.inputs).to(setup_.device);
      auto predicted = net_.forward(inputs);
      const auto targets = b.targets.to(setup_.device);
      // Every predicted frame counts: one per window, F per clip.
      local_frames = predicted.size(0) * predicted.size(1);
      if (net_.temporal_shape() == model::TemporalShape::Sequence) {
        const TrainingLoss l = sequence_loss(net_.family(), predicted, targets, opt_);
        loss = l.total;
        s.loss_sum = local_frames * l.reported;
      } else {
        loss = (predicted - targets).norm(2, -1).mean();
        s.loss_sum = local_frames * loss.item<double>();
      }
      if (trajectory_) {
        // VideoPose3D's weighted_mpjpe: each frame's root error weighted by 1 / depth.
        const auto roots = b.roots.to(setup_.device);
        const auto weight = 1.0 / roots.select(-1, 2);
        loss = loss + (weight * (trajectory_->forward(inputs) - roots).norm(2, -1)).mean();
      }
    }
    s.frames = local_frames;
    if (comm_) {
      std::vector<double> sums = {s.loss_sum, static_cast<double>(local_frames)};
      s.stop = agree_stop(&sums);
      s.loss_sum = sums[0];
      s.frames = static_cast<std::int64_t>(sums[1]);
    }
    if (!std::isfinite(s.loss_sum)) {
      s.finite = false;
      return s;
    }
    // MixSTE's run.py calls loss_total.backward(loss_total.clone().detach()): its gradients are
    // the loss's scaled by the loss itself, which its published training depends on.
    if (loss.defined()) {
      if (net_.family() == model::Family::MixSTE) loss.backward(loss.detach().clone());
      else loss.backward();
    }
    // Each rank's mean-loss gradient weighted by its share of the step's frames: the sum
    // over ranks is the gradient of the mean over all of them, even for uneven last steps
    // (equal shares: the 1/world_size average of DistributedDataParallel).
    if (comm_) comm_->allreduce_gradients(parameters_, static_cast<double>(local_frames) / s.frames);
    optimizer_.step();
    if (!comm_) s.stop = agree_stop();
    return s;
  }

  // The steps of the current epoch from where it stands; a result when the run stops there.
  std::optional<TrainResult> train_steps() {
    // Every epoch permutes the same fixed example list (the original's
    // `self.random.permutation(self.pairs)`). Resuming inside an epoch replays its shuffle from
    // the generator state saved before it.
    if (state_.position.rng_before_shuffle) state_.rng = *state_.position.rng_before_shuffle;
    state_.position.rng_before_shuffle = state_.rng;
    const auto order = state_.rng.permutation(examples_.num_chunks());
    net_.train();
    if (trajectory_) trajectory_->train();
    report::Progress progress(fmt::format("epoch {}/{}", state_.epoch + 1, opt_.epochs), num_batches_, "batches",
                              setup_.progress && lead());
    progress.advance(state_.position.next_chunk / chunks_per_step_);
    for (std::int64_t begin = state_.position.next_chunk; begin < epoch_chunks_; begin += chunks_per_step_) {
      const std::int64_t end = std::min(epoch_chunks_, begin + chunks_per_step_);
      const Step s = step(order, begin, end);
      if (!s.finite) {
        progress.finish();
        return stopped(TrainOutcome::Diverged,
                       fmt::format("training stopped: the loss became {} at epoch {} batch {}; {}",
                                   s.loss_sum / std::max<std::int64_t>(1, s.frames), state_.epoch + 1,
                                   begin / chunks_per_step_ + 1,
                                   result_.last_checkpoint.empty()
                                       ? std::string("no checkpoint was written in this run")
                                       : "the last good checkpoint is " + result_.last_checkpoint));
      }
      state_.position.loss_sum += s.loss_sum;
      state_.position.frames += s.frames;
      state_.position.next_chunk = end;
      state_.position.next_batch = begin / chunks_per_step_ + 1;
      ++steps_run_;
      if (comm_ && opt_.check_every > 0 && steps_run_ % opt_.check_every == 0)
        check_same_weights(fmt::format("after step {}", steps_run_));
      progress.advance(1, fmt::format("loss {:.2f} mm", state_.position.loss_sum / state_.position.frames * 1000));
      if (s.stop) {
        // After the epoch's last step too: the checkpoint then resumes with its evaluation.
        progress.finish("interrupted");
        return interrupted(fmt::format("during epoch {}", state_.epoch + 1));
      }
    }
    progress.finish();
    return std::nullopt;
  }

  // Rank 0's share of the evaluated frames (all of them in one process).
  std::int64_t evaluated_frames() const {
    if (!comm_) return frame_count(data_.valid.poses_2d) + frame_count(data_.train.poses_2d);
    std::int64_t shown = 0;
    for (const auto* set : {&data_.valid, &data_.train}) {
      std::vector<std::int64_t> lengths;
      for (const auto& p : set->poses_2d) lengths.push_back(p.shape.empty() ? 0 : p.shape[0]);
      const auto owner = balance_items(lengths, world_);
      for (std::size_t i = 0; i < lengths.size(); ++i)
        if (owner[i] == rank_) shown += lengths[i];
    }
    return shown;
  }

  // The validation and training losses of the epoch; the stop request is answered between parts
  // of a batch of windows each.
  std::optional<TrainResult> evaluate_epoch(EpochRecord& record) {
    report::Progress progress(fmt::format("evaluating epoch {}", record.epoch), evaluated_frames(), "frames",
                              setup_.progress && lead());
    const auto stop = [this] { return agree_stop(); };
    const auto valid_loss = sequences_mpjpe_until(net_, data_.valid.poses_2d, data_.valid.poses_3d, data_.symmetry,
                                                  eval_predict_, setup_.device, comm_, &progress, stop);
    const auto train_loss = valid_loss ? sequences_mpjpe_until(net_, data_.train.poses_2d, data_.train.poses_3d,
                                                               data_.symmetry, train_eval_predict_, setup_.device,
                                                               comm_, &progress, stop)
                                       : std::nullopt;
    std::optional<double> traj_valid, traj_train;
    if (trajectory_ && train_loss) {
      traj_valid = sequences_mpjpe_until(*trajectory_, data_.valid.poses_2d, data_.valid.poses_3d, root_symmetry_,
                                         eval_predict_, setup_.device, comm_, nullptr, stop, SequenceTarget::Trajectory);
      if (traj_valid)
        traj_train = sequences_mpjpe_until(*trajectory_, data_.train.poses_2d, data_.train.poses_3d, root_symmetry_,
                                           train_eval_predict_, setup_.device, comm_, nullptr, stop,
                                           SequenceTarget::Trajectory);
    }
    if (!valid_loss || !train_loss || (trajectory_ && (!traj_valid || !traj_train))) {
      progress.finish("interrupted");
      return interrupted(fmt::format("during the evaluation of epoch {}", record.epoch));
    }
    progress.finish();
    record.loss_valid = *valid_loss;
    record.loss_train_eval = *train_loss;
    if (trajectory_) {
      record.loss_traj_valid = *traj_valid;
      record.loss_traj_train_eval = *traj_train;
    }
    return std::nullopt;
  }

  // The learning rate decay, the epoch's checkpoints and curves.
  void end_epoch(const EpochRecord& record) {
    state_.lr *= opt_.lr_decay;
    for (auto& group : optimizer_.param_groups()) group.options().set_lr(group.options().get_lr() * opt_.lr_decay);
    state_.epoch += 1;
    set_batch_norm_momentum(models_, state_.epoch, opt_.epochs);
    state_.position = EpochPosition{};
    check_same_weights(fmt::format("at the end of epoch {}", state_.epoch));
    // The original's cadence, plus the last epoch: a run shorter than the frequency (or with
    // --no-eval, which writes no best_epoch.bin) would otherwise keep no trained weights.
    if ((opt_.checkpoint_frequency > 0 && state_.epoch % opt_.checkpoint_frequency == 0) ||
        state_.epoch == opt_.epochs) {
      const std::string path = (fs::path(opt_.checkpoint_dir) / fmt::format("epoch_{}.bin", state_.epoch)).string();
      say("Saving checkpoint to " + path);
      write(path);
    }
    if (!opt_.no_eval && record.loss_valid * 1000 < state_.min_loss) {
      state_.min_loss = record.loss_valid * 1000;
      say("save best checkpoint");
      write((fs::path(opt_.checkpoint_dir) / "best_epoch.bin").string());
    }
    if (opt_.export_training_curves && lead()) export_curves(opt_.checkpoint_dir, state_.history);
  }

  const TrainSetup& setup_;
  const TrainOptions& opt_;
  const TrainedModels& models_;
  model::LifterImpl& net_;
  model::LifterImpl* trajectory_;
  torch::optim::Optimizer& optimizer_;
  TrainState& state_;
  const TrainingExamples& examples_;
  const TrainingData& data_;
  Communicator* comm_;
  int world_, rank_;
  std::vector<torch::Tensor> parameters_;
  std::int64_t chunks_per_rank_, chunks_per_step_, epoch_chunks_ = 0, num_batches_ = 0;
  PredictOptions eval_predict_, train_eval_predict_;
  FlipSymmetry root_symmetry_;  // the trajectory model's: no joints to swap
  std::string interrupted_path_;
  TrainResult result_;
  std::int64_t steps_run_ = 0;
};

// Every rank starts from rank 0's weights whatever its own initialisation or file was, and
// draws its own stochastic depth (rank 0 keeps the single-process stream), derived from the
// shuffling seed and the position so that a run is reproducible.
void share_start(Communicator& comm, const TrainedModels& models, const TrainState& state, const TrainOptions& opt) {
  std::vector<torch::Tensor> shared = models.parameters();
  for (const auto& b : models.pose->buffers()) shared.push_back(b);
  if (models.trajectory)
    for (const auto& b : models.trajectory->buffers()) shared.push_back(b);
  comm.broadcast(shared);
  if (comm.rank() > 0)
    torch::manual_seed(static_cast<std::uint64_t>(opt.seed) * 1000003ull +
                       static_cast<std::uint64_t>(comm.rank()) * 7919ull +
                       static_cast<std::uint64_t>(state.epoch) * 104729ull +
                       static_cast<std::uint64_t>(state.position.next_chunk));
}

}  // namespace

std::string format_epoch_line(const EpochRecord& r, bool evaluated) {
  if (!evaluated)
    return fmt::format("[{}] time {:.2f} lr {:.6f} 3d_train {:.6f}", r.epoch, r.minutes, r.lr, r.loss_train * 1000);
  if (r.has_trajectory())  // VideoPose3D's line with a trajectory model, without its 2D terms
    return fmt::format("[{}] time {:.2f} lr {:.6f} 3d_train {:.6f} 3d_eval {:.6f} traj_eval {:.6f} 3d_valid {:.6f} "
                       "traj_valid {:.6f}",
                       r.epoch, r.minutes, r.lr, r.loss_train * 1000, r.loss_train_eval * 1000,
                       r.loss_traj_train_eval * 1000, r.loss_valid * 1000, r.loss_traj_valid * 1000);
  return fmt::format("[{}] time {:.2f} lr {:.6f} 3d_train {:.6f} 3d_eval {:.6f} 3d_valid {:.6f}", r.epoch, r.minutes,
                     r.lr, r.loss_train * 1000, r.loss_train_eval * 1000, r.loss_valid * 1000);
}

std::vector<float> mixste_joint_weights(int joints) {
  if (joints == 17) return {1, 1, 2.5, 2.5, 1, 2.5, 2.5, 1, 1, 1, 1.5, 1.5, 4, 4, 1.5, 4, 4};  // Human3.6M
  if (joints == 15) return {1, 1, 2.5, 2.5, 1, 2.5, 2.5, 1, 1.5, 1.5, 4, 4, 1.5, 4, 4};  // HumanEva-15
  return std::vector<float>(static_cast<std::size_t>(std::max(0, joints)), 1.0f);
}

TrainingLoss sequence_loss(model::Family family, const torch::Tensor& predicted, const torch::Tensor& target,
                           const TrainOptions& options) {
  const auto error = (predicted - target).norm(2, -1);  // (B, F, J)
  // Velocity error over consecutive frames (both originals' mean_velocity_error_train / loss_velocity).
  const auto velocity = [&] {
    if (predicted.size(1) < 2) return torch::zeros({}, predicted.options());
    const auto dp = predicted.slice(1, 1) - predicted.slice(1, 0, -1), dt = target.slice(1, 1) - target.slice(1, 0, -1);
    return (dp - dt).norm(2, -1).mean();
  };
  TrainingLoss out;
  if (family == model::Family::MixSTE) {
    const auto w = torch::tensor(mixste_joint_weights(static_cast<int>(predicted.size(2))), predicted.options());
    const auto weighted = (w * error).mean();
    torch::Tensor consistency = torch::zeros({}, predicted.options());
    if (predicted.size(1) >= 2) {
      const auto motion = predicted.slice(1, 1) - predicted.slice(1, 0, -1);  // (B, F-1, J, 3)
      consistency = (w.view({1, 1, -1, 1}) * motion.square()).mean();
    }
    out.total = weighted + 0.5 * consistency + 2.0 * velocity();
    out.reported = out.total.item<double>();
  } else if (family == model::Family::MotionBERT) {
    const auto mpjpe = error.mean();
    // N-MPJPE: each frame's prediction scaled by the least-squares factor onto the target.
    const auto norm_predicted = predicted.square().sum(-1, true).mean(-2, true);
    const auto norm_target = (target * predicted).sum(-1, true).mean(-2, true);
    const auto scaled = (norm_target / norm_predicted * predicted - target).norm(2, -1).mean();
    out.total = mpjpe + options.scale_weight * scaled + options.velocity_weight * velocity();
    out.reported = mpjpe.item<double>();
  } else {
    out.total = error.mean();
    out.reported = out.total.item<double>();
  }
  return out;
}

namespace {

// The fields PoseFormerV2's and MixSTE's configurations share with the flags (--width, --depth,
// --heads, --mlp-ratio, stochastic depth).
template <class Config>
void set_transformer_fields(Config& c, const ModelOptions& options, int num_joints) {
  c.num_joints = num_joints;
  c.embed_dim_ratio = options.embed_dim_ratio;
  c.depth = options.depth;
  c.num_heads = options.heads > 0 ? options.heads : model::kDefaultHeads;
  c.mlp_ratio = options.mlp_ratio;
  c.drop_path_rate = options.drop_path;
}

}  // namespace

model::PoseFormerConfig training_model_config(const ModelOptions& options, int num_joints) {
  model::PoseFormerConfig config;
  config.num_frames = options.frames;
  config.num_joints = num_joints;
  config.embed_dim_ratio = options.embed_dim_ratio;
  config.depth = options.depth;
  config.num_heads = options.heads;
  config.mlp_ratio = options.mlp_ratio;
  config.drop_path_rate = options.drop_path;
  return config;
}

std::vector<int> parse_filter_widths(const std::string& text) {
  std::vector<int> widths;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const long value = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 1 || value > 99 || value % 2 == 0)
      throw InputError(fmt::format("-arc/--architecture: expected odd filter widths separated by commas (e.g. "
                                   "3,3,3,3,3), found '{}'",
                                   text));
    widths.push_back(static_cast<int>(value));
    start = comma + 1;
  }
  if (widths.size() > 16) throw InputError("-arc/--architecture: at most 16 filter widths");
  return widths;
}

model::ModelSpec training_model_spec(const ModelOptions& options, int num_joints) {
  const model::Family family = options.family.empty() ? model::Family::PoseFormer : model::family_from_name(options.family);
  switch (family) {
    case model::Family::PoseFormer: return training_model_config(options, num_joints);
    case model::Family::VideoPose3D: {
      model::VideoPose3DConfig c;
      c.num_joints_in = c.num_joints_out = num_joints;
      c.filter_widths = parse_filter_widths(options.architecture);
      c.channels = options.channels;
      c.causal = options.causal;
      c.dense = options.dense;
      c.dropout = options.dropout;
      c.validate();
      return c;
    }
    case model::Family::PoseFormerV2: {
      model::PoseFormerV2Config c;
      c.num_frames = options.frames;
      c.frames_kept = options.frames_kept;
      c.coefficients_kept = options.coefficients_kept > 0 ? options.coefficients_kept : options.frames_kept;
      set_transformer_fields(c, options, num_joints);
      c.validate();
      return c;
    }
    case model::Family::MixSTE: {
      model::MixSTEConfig c;
      c.num_frames = options.frames;
      set_transformer_fields(c, options, num_joints);
      c.validate();
      return c;
    }
    case model::Family::MotionBERT: {
      model::MotionBERTConfig c;
      c.maxlen = options.frames;
      c.num_joints = num_joints;
      c.dim_feat = options.embed_dim_ratio;
      c.dim_rep = options.representation;
      c.depth = options.depth;
      c.num_heads = options.heads > 0 ? options.heads : model::kDefaultHeads;
      c.mlp_ratio = options.mlp_ratio;
      // MotionBERT's load_backbone builds every model with LayerNorm eps 1e-6 and no stochastic depth.
      c.norm_eps = options.layer_norm_eps > 0 ? options.layer_norm_eps : model::kMotionBERTScriptNormEps;
      c.drop_path_rate = 0.0;
      c.validate();
      return c;
    }
  }
  throw InputError(fmt::format("--model {}: training is not available for this family", options.family));
}

TrainingRecipe training_recipe(model::Family family) {
  TrainingRecipe r;
  switch (family) {
    case model::Family::VideoPose3D:  // VideoPose3D's run.py
      r.epochs = 60;
      r.batch_size = 1024;
      r.learning_rate = 1e-3;
      r.lr_decay = 0.95;
      r.checkpoint_frequency = 10;
      r.dropout = 0.25;
      break;
    case model::Family::PoseFormerV2:  // PoseFormerV2's common/arguments.py
      r.epochs = 200;
      r.batch_size = 1024;
      r.learning_rate = 1e-4;
      r.lr_decay = 0.99;
      r.checkpoint_frequency = 40;
      break;
    case model::Family::MixSTE:  // MixSTE's common/arguments.py and its README's -f 243 -s 243
      r.epochs = 120;
      r.batch_size = 1024;
      r.learning_rate = 4e-5;
      r.lr_decay = 0.99;
      r.checkpoint_frequency = 20;
      r.frames = 243;
      r.width = 512;
      r.depth = 8;
      r.mlp_ratio = 2.0;
      r.stride = 0;  // -s = -f: 1024 / 243 = 4 clips per step
      break;
    case model::Family::MotionBERT:  // configs/pose3d/MB_train_h36m.yaml
      r.epochs = 120;
      r.batch_size = 32;  // clips (-s 1)
      r.learning_rate = 2e-4;
      r.weight_decay = 0.01;
      r.lr_decay = 0.99;
      r.checkpoint_frequency = 30;
      r.frames = 243;
      r.width = 512;
      r.depth = 5;
      r.mlp_ratio = 2.0;
      r.representation = 512;
      r.clip_step = 81;  // data_stride
      break;
    default: break;
  }
  return r;
}

TrainingRecipe motionbert_recipe_from_config(const std::string& yaml_path, TrainingRecipe r) {
  const io::MotionBERTConfigFile f = io::read_motionbert_yaml(yaml_path);
  const auto take = [](auto& field, const auto& value) {
    if (value) field = *value;
  };
  take(r.epochs, f.epochs);
  take(r.batch_size, f.batch_size);
  take(r.learning_rate, f.learning_rate);
  take(r.weight_decay, f.weight_decay);
  take(r.lr_decay, f.lr_decay);
  take(r.checkpoint_frequency, f.checkpoint_frequency);
  take(r.velocity_weight, f.lambda_3d_velocity);
  take(r.scale_weight, f.lambda_scale);
  take(r.clip_step, f.data_stride);
  take(r.frames, f.maxlen);
  take(r.frames, f.clip_len);  // the training clips' length (the model's maxlen when absent)
  take(r.width, f.dim_feat);
  take(r.representation, f.dim_rep);
  take(r.depth, f.depth);
  take(r.heads, f.num_heads);
  take(r.mlp_ratio, f.mlp_ratio);
  return r;
}

TrainResult train_model(const TrainSetup& setup, model::Lifter* trained_out, model::Lifter* trajectory_out) {
  const auto& opt = setup.train;
  validate_train_options(opt);
  validate_predict_options(setup.evaluation, "evaluation batch");
  const bool lead = !setup.comm || setup.comm->rank() == 0;
  const auto say = [&](const std::string& text) {
    if (!lead) return;
    if (setup.observer.line) setup.observer.line(text);
    else report::line(text);
  };
  const TrainingData data = fetch_training_data(setup);

  TrainedModels models;
  models.spec = training_model_spec(setup.model, setup.keypoints->metadata.num_joints);
  std::optional<model::Checkpoint> resumed;
  if (!opt.resume.empty()) {
    const std::string path = checkpoint_file_path(opt.checkpoint_dir, opt.resume);
    if (!fs::exists(path)) throw InputError(path + ": checkpoint to resume not found");
    resumed = model::read_checkpoint(path);
    models.spec = resumed_spec(models.spec, *resumed, setup.model);
  }
  const model::Family family = model::family_of(models.spec);
  const bool with_trajectory = opt.trajectory || (resumed && !resumed->trajectory_state.empty());
  if (with_trajectory && family != model::Family::VideoPose3D)
    throw InputError(fmt::format("--trajectory: only VideoPose3D has a trajectory model, not {}",
                                 model::family_name(family)));

  models.pose = model::make_lifter(models.spec);
  models.pose->to(setup.device);
  if (with_trajectory) {
    model::VideoPose3DConfig root_model = std::get<model::VideoPose3DConfig>(models.spec);
    root_model.num_joints_out = 1;
    models.trajectory = model::make_lifter(root_model);
    models.trajectory->to(setup.device);
  }
  say(fmt::format("INFO: Receptive field: {} frames", models.pose->receptive_field()));
  say(fmt::format("INFO: Trainable parameter count: {}", models.pose->parameter_count()));
  // Each original's optimizer: VideoPose3D's Adam with AMSGrad, the transformers' AdamW.
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (family == model::Family::VideoPose3D)
    optimizer = std::make_unique<torch::optim::Adam>(models.parameters(),
                                                     torch::optim::AdamOptions(opt.learning_rate).amsgrad(true));
  else
    optimizer = std::make_unique<torch::optim::AdamW>(
        models.parameters(), torch::optim::AdamWOptions(opt.learning_rate).weight_decay(opt.weight_decay));
  if (resumed) {
    say("Loading checkpoint " + resumed->source);
    model::load_state_dict(*models.pose, resumed->model_state, setup.model.strict_load, resumed->source,
                           flag_hints().strict);
    if (models.trajectory) {
      if (resumed->trajectory_state.empty())
        throw InputError(resumed->source + ": --trajectory: the checkpoint has no trajectory model (model_traj) to "
                                           "resume");
      model::load_state_dict(*models.trajectory, resumed->trajectory_state, true, resumed->source + " (model_traj)");
    }
  }
  say(fmt::format("INFO: Testing on {} frames", frame_count(data.valid.poses_2d)));
  ExampleCut cut;
  cut.clips = models.pose->temporal_shape() == model::TemporalShape::Sequence;
  if (cut.clips && family == model::Family::MotionBERT) cut.step = opt.clip_step;
  TrainingExamples examples(data.train.poses_2d, data.train.poses_3d, models.pose->receptive_field(), opt.stride,
                            opt.data_augmentation, data.symmetry, cut);
  say(fmt::format("INFO: Training on {} frames", examples.num_frames()));

  TrainState state;
  state.lr = opt.learning_rate;
  state.rng = data::NumpyRandomState(opt.seed);
  if (resumed) restore_state(state, *optimizer, *resumed, opt, examples.num_chunks(), say);
  if (state.epoch > 0) set_batch_norm_momentum(models, state.epoch, opt.epochs);
  if (setup.comm) {
    share_start(*setup.comm, models, state, opt);
    say(fmt::format("INFO: data-parallel training on {} processes ({}), batch {} per process, {} per step",
                    setup.comm->size(), setup.comm->backend(), opt.batch_size, opt.batch_size * setup.comm->size()));
  }
  fs::create_directories(opt.checkpoint_dir);
  say("** Note: reported losses are averaged over all frames.");
  say("** The final evaluation will be carried out after the last training epoch.");
  TrainedModels trained;
  const TrainResult result = TrainingLoop(setup, models, *optimizer, state, examples, data).run(&trained);
  if (trained_out) *trained_out = trained.pose;
  if (trajectory_out) *trajectory_out = trained.trajectory;
  return result;
}

// ---------------------------------------------------------------- the command

namespace {

// The device of this rank: with several ranks on CUDA, one GPU each (round robin).
torch::Device rank_device(torch::Device device, const WorldInfo& world) {
  if (world.distributed() && device.is_cuda())
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank % torch::cuda::device_count()));
  return device;
}

TrainRunResult run_result(const TrainResult& trained, bool lead) {
  TrainRunResult r;
  r.outcome = trained.outcome;
  r.history = trained.history;
  r.message = trained.outcome == TrainOutcome::Interrupted && !lead ? std::string() : trained.message;
  if (trained.outcome == TrainOutcome::Interrupted) r.signal = runtime::stop_request().load();
  return r;
}

}  // namespace

TrainRunResult run_train(const TrainRunOptions& o) {
  const WorldInfo world = world_from_environment();
  const bool lead = world.rank == 0;
  const torch::Device device = rank_device(configure_runtime(o.runtime), world);
  std::unique_ptr<Communicator> comm;
  if (world.distributed()) {
    CommunicatorOptions comm_options;
    comm_options.timeout_seconds = o.dist_timeout;
    comm = std::make_unique<Communicator>(world, device, comm_options);
  }
  const model::Family family = o.model.family.empty() ? model::Family::PoseFormer : model::family_from_name(o.model.family);
  if (o.model.dropout != 0.0 && family != model::Family::VideoPose3D)
    report::warn(fmt::format("-drop/--dropout is accepted for compatibility; {} trains with stochastic depth "
                             "(--drop-path) and no dropout",
                             model::family_name(family)));
  const PoseData d = load_pose_data(o.data, lead);
  TrainSetup setup;
  setup.dataset = &d.dataset;
  setup.keypoints = &d.keypoints;
  setup.data = d.selection;
  setup.model = o.model;
  setup.train = o.train;
  setup.evaluation = o.evaluation;
  setup.progress = o.runtime.progress && lead;
  setup.device = device;
  setup.comm = comm.get();
  if (o.torch_seed >= 0) torch::manual_seed(static_cast<std::uint64_t>(o.torch_seed));
  runtime::enable_stop_requests();
  model::Lifter trained;
  const TrainResult result = train_model(setup, &trained);
  TrainRunResult run = run_result(result, lead);
  if (result.outcome != TrainOutcome::Completed || !lead) return run;  // rank 0 alone runs the final evaluation
  // From here a signal ends the process at once, as in `evaluate`.
  runtime::disable_stop_requests();
  if (const int sig = runtime::stop_request().load()) {
    run.outcome = TrainOutcome::Interrupted;
    run.signal = sig;
    run.message = fmt::format("interrupted by signal {} before the final evaluation; the trained weights are in {}",
                              sig, result.last_checkpoint);
    return run;
  }
  // As the original, the final evaluation follows the last epoch.
  EvaluatorOptions final_options = evaluator_options(d.selection, o.evaluation, o.runtime.progress);
  final_options.style =
      report_style(trained->family(), o.evaluation.test_time_augmentation, result.last_checkpoint, o.train.epochs);
  Evaluator evaluator(*trained, d.dataset, d.keypoints, flip_symmetry(d.dataset, d.keypoints), final_options, device);
  run.evaluation = report_evaluation(evaluator, o.by_subject);
  return run;
}

}  // namespace poselift::engine
