#include "engine/train.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <mutex>

#include "data/selection.hpp"
#include "engine/evaluate.hpp"
#include "engine/runtime.hpp"
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
                                   int frames, int stride, bool augment, FlipSymmetry symmetry)
    : frames_(frames), stride_(stride), symmetry_(std::move(symmetry)) {
  if (poses_2d.size() != poses_3d.size())
    throw InputError(fmt::format("training data: {} 2D sequences but {} 3D sequences", poses_2d.size(),
                                 poses_3d.size()));
  if (stride < 1) throw InputError("-s/--stride must be at least 1");
  std::vector<torch::Tensor> inputs, targets;
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
    target.select(1, 0).zero_();  // root-relative targets: the root joint is the origin
    targets.push_back(target);

    // Chunks of `stride` target frames covering the sequence, centred like the original.
    const std::int64_t n_chunks = (length + stride - 1) / stride;
    const std::int64_t shift = (n_chunks * stride - length) / 2;
    for (int flip = 0; flip <= (augment ? 1 : 0); ++flip)
      for (std::int64_t k = 0; k < n_chunks; ++k)
        chunks_.push_back({static_cast<std::int64_t>(i), k * stride - shift, (k + 1) * stride - shift, flip == 1});
  }
  total_frames_ = offset;
  if (inputs.empty()) throw InputError("training data: no frames to train on (check -str, -a and --subset)");
  inputs_ = torch::cat(inputs, 0);
  targets_ = torch::cat(targets, 0);
}

std::pair<torch::Tensor, torch::Tensor> TrainingExamples::batch(const std::vector<std::int64_t>& order,
                                                                std::int64_t begin, std::int64_t end) const {
  const std::int64_t pad = (frames_ - 1) / 2;
  std::vector<std::int64_t> window_index, target_index, flipped_rows;
  for (std::int64_t c = begin; c < end; ++c) {
    const Chunk& chunk = chunks_[order[c]];
    const std::int64_t base = offsets_[chunk.sequence], last = lengths_[chunk.sequence] - 1;
    for (std::int64_t t = chunk.start; t < chunk.end; ++t) {
      if (chunk.flip) flipped_rows.push_back(static_cast<std::int64_t>(target_index.size()));
      target_index.push_back(base + std::clamp<std::int64_t>(t, 0, last));
      for (std::int64_t k = -pad; k <= pad; ++k) window_index.push_back(base + std::clamp<std::int64_t>(t + k, 0, last));
    }
  }
  const auto rows = static_cast<std::int64_t>(target_index.size());
  auto inputs = inputs_.index_select(0, torch::tensor(window_index, torch::kLong))
                    .view({rows, frames_, inputs_.size(1), inputs_.size(2)});
  auto targets = targets_.index_select(0, torch::tensor(target_index, torch::kLong)).unsqueeze(1);
  if (!flipped_rows.empty()) {
    auto rows_index = torch::tensor(flipped_rows, torch::kLong);
    inputs.index_copy_(0, rows_index,
                       flip_poses(inputs.index_select(0, rows_index), symmetry_.kps_left, symmetry_.kps_right));
    targets.index_copy_(0, rows_index, flip_poses(targets.index_select(0, rows_index), symmetry_.joints_left,
                                                  symmetry_.joints_right));
  }
  return {inputs, targets};
}

double sequences_mpjpe(model::PoseFormer& model, const std::vector<io::NdArray>& poses_2d,
                       const std::vector<io::NdArray>& poses_3d, const FlipSymmetry& symmetry,
                       const PredictOptions& options, const torch::Device& device, Communicator* comm) {
  return *sequences_mpjpe_until(model, poses_2d, poses_3d, symmetry, options, device, comm, nullptr, {});
}

std::optional<double> sequences_mpjpe_until(model::PoseFormer& model, const std::vector<io::NdArray>& poses_2d,
                                            const std::vector<io::NdArray>& poses_3d, const FlipSymmetry& symmetry,
                                            const PredictOptions& options, const torch::Device& device,
                                            Communicator* comm, report::Progress* progress,
                                            const std::function<bool()>& stop) {
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
  std::vector<double> weighted(poses_2d.size(), 0.0);
  model->eval();
  for (std::size_t turn = 0; turn < turns; ++turn) {
    if (turn < mine.size()) {
      std::vector<torch::Tensor> inputs;
      std::int64_t frames = 0;
      for (const auto i : mine[turn]) {
        inputs.push_back(model::to_tensor(poses_2d[i]));
        frames += lengths[i];
      }
      const auto predictions = predict_sequences(model, inputs, symmetry, options, device);
      for (std::size_t k = 0; k < mine[turn].size(); ++k) {
        const std::size_t i = mine[turn][k];
        const auto& predicted = predictions[k];
        auto target = model::to_tensor(poses_3d[i]).to(torch::kFloat32).clone();
        target.select(1, 0).zero_();
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
    frames += lengths[i];
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
  at_least("evaluation batch", o.eval_batch, 1);
  positive_finite("-lr/--learning-rate", o.learning_rate);
  positive_finite("-lrd/--lr-decay", o.lr_decay);
  if (!std::isfinite(o.weight_decay) || o.weight_decay < 0)
    throw InputError(fmt::format("--weight-decay: expected a finite number of at least 0, got {}", o.weight_decay));
  if (o.checkpoint_dir.empty()) throw InputError("-c/--checkpoint: expected a folder name, got an empty one");
}

// ---------------------------------------------------------------- training loop

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

io::ValuePtr str(const std::string& s) { return io::Value::from_str(s); }

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

io::ValuePtr history_value(const std::vector<EpochRecord>& history) {
  std::vector<io::ValuePtr> rows;
  for (const auto& r : history)
    rows.push_back(io::Value::list({io::Value::from_int(r.epoch), io::Value::from_float(r.minutes),
                                    io::Value::from_float(r.lr), io::Value::from_float(r.loss_train),
                                    io::Value::from_float(r.loss_train_eval), io::Value::from_float(r.loss_valid)}));
  return io::Value::list(std::move(rows));
}

std::vector<EpochRecord> history_from_value(const io::Value& v, const std::string& what) {
  std::vector<EpochRecord> out;
  for (const auto& row : v.as_sequence(what)) {
    const auto& cells = row->as_sequence(what);
    if (cells.size() != 6) throw InputError(what + ": expected rows of 6 values");
    EpochRecord r;
    r.epoch = static_cast<int>(cells[0]->as_int(what));
    r.minutes = cells[1]->as_float(what);
    r.lr = cells[2]->as_float(what);
    r.loss_train = cells[3]->as_float(what);
    r.loss_train_eval = cells[4]->as_float(what);
    r.loss_valid = cells[5]->as_float(what);
    out.push_back(r);
  }
  return out;
}

void save_checkpoint(const std::string& path, const TrainState& state, model::PoseFormer& net,
                     torch::optim::AdamW& optimizer) {
  const auto& c = net->config();
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> extra = {
      {str("format"), io::Value::from_int(1)},
      {str("num_heads"), io::Value::from_int(c.num_heads)},
      {str("drop_path_rate"), io::Value::from_float(c.drop_path_rate)},
      {str("torch_rng_state"), io::make_tensor_value(model::to_ndarray(torch_rng_state()))},
      {str("min_loss"), io::Value::from_float(state.min_loss)},
      {str("history"), history_value(state.history)},
      {str("batch_index"), io::Value::from_int(state.position.next_batch)},
      {str("epoch_chunk_index"), io::Value::from_int(state.position.next_chunk)},
      {str("epoch_loss_sum"), io::Value::from_float(state.position.loss_sum)},
      {str("epoch_frames"), io::Value::from_int(state.position.frames)},
      {str("epoch_random_state"),
       state.position.rng_before_shuffle ? state.position.rng_before_shuffle->to_value() : io::Value::none()},
  };
  model::CheckpointContents contents;
  contents.epoch = state.epoch;
  contents.lr = state.lr;
  contents.random_state = state.rng.to_value();
  contents.optimizer = &optimizer;
  contents.model = net.get();
  contents.extra = io::Value::dict(std::move(extra));
  model::write_checkpoint(path, contents);
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

std::string checkpoint_path(const std::string& dir, const std::string& name) {
  const std::string joined = (fs::path(dir) / name).string();
  if (fs::exists(joined) || !fs::exists(name)) return joined;
  return name;
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

TrainResult train_poseformer(const TrainSetup& setup, model::PoseFormer* trained_out) {
  const auto& opt = setup.train;
  validate_train_options(opt);
  const auto& dataset = *setup.dataset;
  const auto& keypoints = *setup.keypoints;
  TrainResult result;

  const FlipSymmetry symmetry = flip_symmetry(dataset, keypoints);

  data::FetchOptions valid_fetch;
  valid_fetch.action_filter = data::parse_action_filter(setup.data.actions);
  valid_fetch.downsample = setup.data.downsample;
  auto valid = data::fetch(dataset, keypoints, data::split_comma_list(setup.data.subjects_test), valid_fetch);
  data::FetchOptions train_fetch = valid_fetch;
  train_fetch.subset = setup.data.subset;
  auto train = data::fetch(dataset, keypoints, data::split_comma_list(setup.data.subjects_train), train_fetch);
  if (train.poses_3d.size() != train.poses_2d.size())
    throw InputError("training subjects " + setup.data.subjects_train + " have no 3D ground truth in " +
                     dataset.source);

  model::PoseFormerConfig config = training_model_config(setup.model, keypoints.metadata.num_joints);

  TrainState state;
  state.lr = opt.learning_rate;
  state.rng = data::NumpyRandomState(opt.seed);
  std::optional<model::Checkpoint> resumed;
  std::string resume_path;
  if (!opt.resume.empty()) {
    resume_path = checkpoint_path(opt.checkpoint_dir, opt.resume);
    if (!fs::exists(resume_path)) throw InputError(resume_path + ": checkpoint to resume not found");
    resumed = model::read_checkpoint(resume_path);
    const auto saved = model::infer_config(resumed->model_state, config.num_heads, resume_path);
    if (saved.num_frames != config.num_frames)
      throw InputError(fmt::format("{}: the checkpoint takes {} frames but -f is {}", resume_path, saved.num_frames,
                                   config.num_frames));
    if (resumed->extra) {
      if (auto heads = resumed->extra->find("num_heads", resume_path)) config.num_heads = heads->as_int("num_heads");
      if (auto rate = resumed->extra->find("drop_path_rate", resume_path))
        config.drop_path_rate = rate->as_float("drop_path_rate");
    }
    config.embed_dim_ratio = saved.embed_dim_ratio;
    config.depth = saved.depth;
    config.mlp_ratio = saved.mlp_ratio;
    config.num_joints = saved.num_joints;
  }

  model::PoseFormer net(config);
  net->to(setup.device);
  std::printf("INFO: Receptive field: %d frames\n", config.num_frames);
  std::printf("INFO: Trainable parameter count: %lld\n", static_cast<long long>(net->parameter_count()));
  torch::optim::AdamW optimizer(net->parameters(),
                                torch::optim::AdamWOptions(opt.learning_rate).weight_decay(opt.weight_decay));
  if (resumed) {
    std::printf("Loading checkpoint %s\n", resume_path.c_str());
    model::load_state_dict(*net, resumed->model_state, setup.model.strict_load, resume_path);
  }
  std::int64_t test_frames = 0;
  for (const auto& s : valid.poses_2d) test_frames += s.shape.empty() ? 0 : s.shape[0];
  std::printf("INFO: Testing on %lld frames\n", static_cast<long long>(test_frames));

  TrainingExamples examples(train.poses_2d, train.poses_3d, config.num_frames, opt.stride, opt.data_augmentation,
                            symmetry);
  std::printf("INFO: Training on %lld frames\n", static_cast<long long>(examples.num_frames()));

  if (resumed) {
    state.epoch = resumed->epoch.value_or(0);
    if (resumed->optimizer) {
      model::load_adamw_state(optimizer, *resumed->optimizer, resume_path);
      if (resumed->random_state)
        state.rng = data::NumpyRandomState::from_value(*resumed->random_state, resume_path + ": random_state");
    } else {
      std::printf("WARNING: this checkpoint does not contain an optimizer state. The optimizer will be "
                  "reinitialized.\n");
    }
    if (resumed->lr) state.lr = *resumed->lr;
    if (const auto& extra = resumed->extra) {
      const std::string what = resume_path + ": poselift";
      if (auto v = extra->find("torch_rng_state", what); v && v->kind == io::Value::Kind::Array)
        set_torch_rng_state(model::to_tensor(*v->array));
      if (auto v = extra->find("min_loss", what)) state.min_loss = v->as_float(what + "['min_loss']");
      if (auto v = extra->find("history", what)) state.history = history_from_value(*v, what + "['history']");
      if (auto v = extra->find("batch_index", what)) state.position.next_batch = v->as_int(what + "['batch_index']");
      if (auto v = extra->find("epoch_chunk_index", what))
        state.position.next_chunk = v->as_int(what + "['epoch_chunk_index']");
      else  // written before positions were kept in chunks: same batch size assumed
        state.position.next_chunk = state.position.next_batch * std::max(1, opt.batch_size / opt.stride);
      if (auto v = extra->find("epoch_loss_sum", what)) state.position.loss_sum = v->as_float(what);
      if (auto v = extra->find("epoch_frames", what)) state.position.frames = v->as_int(what);
      if (auto v = extra->find("epoch_random_state", what); v && !v->is_none())
        state.position.rng_before_shuffle = data::NumpyRandomState::from_value(*v, what + "['epoch_random_state']");
    }
    // A damaged or foreign file must not train epochs -4..5 or start past the examples.
    if (state.epoch < 0)
      throw InputError(fmt::format("{}: 'epoch' is {}: expected the number of completed epochs (0 or more)",
                                   resume_path, state.epoch));
    if (!std::isfinite(state.lr) || state.lr <= 0)
      throw InputError(fmt::format("{}: 'lr' is {}: expected a finite learning rate above 0", resume_path, state.lr));
    for (const auto& group : optimizer.param_groups())
      if (const double lr = static_cast<const torch::optim::AdamWOptions&>(group.options()).lr();
          !std::isfinite(lr) || lr <= 0)
        throw InputError(fmt::format("{}: the optimizer's learning rate is {}: expected a finite number above 0",
                                     resume_path, lr));
    if (state.position.next_chunk < 0 || state.position.next_chunk > examples.num_chunks() ||
        state.position.next_batch < 0 || state.position.frames < 0)
      throw InputError(fmt::format("{}: its position inside epoch {} (example {}, batch {}) does not fit this "
                                   "training set of {} examples: resume with the data options it was written with",
                                   resume_path, state.epoch + 1, state.position.next_chunk,
                                   state.position.next_batch, examples.num_chunks()));
  }

  Communicator* comm = setup.comm;
  const int world = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  const bool lead = rank == 0;  // only rank 0 writes checkpoints and curves
  std::vector<torch::Tensor> parameters = net->parameters();
  if (comm) {
    // Every rank starts from rank 0's weights whatever its own initialisation or file was.
    std::vector<torch::Tensor> shared = parameters;
    for (const auto& b : net->buffers()) shared.push_back(b);
    comm->broadcast(shared);
    // Stochastic depth draws differ per rank (rank 0 keeps the single-process stream); derived
    // from the seed and position so a run is reproducible.
    if (rank > 0)
      torch::manual_seed(static_cast<std::uint64_t>(opt.seed) * 1000003ull + static_cast<std::uint64_t>(rank) * 7919ull +
                         static_cast<std::uint64_t>(state.epoch) * 104729ull +
                         static_cast<std::uint64_t>(state.position.next_chunk));
    std::printf("INFO: data-parallel training on %d processes (%s), batch %d per process, %d per step\n", world,
                comm->backend().c_str(), opt.batch_size, opt.batch_size * world);
  }

  fs::create_directories(opt.checkpoint_dir);
  std::printf("** Note: reported losses are averaged over all frames.\n");
  std::printf("** The final evaluation will be carried out after the last training epoch.\n");
  std::fflush(stdout);

  // A step takes the next `chunks_per_step` chunks of the epoch's order; rank r trains on the
  // r-th `chunks_per_rank` of them (the last step of an epoch may leave some ranks fewer or none).
  const std::int64_t chunks_per_rank = std::max(1, opt.batch_size / opt.stride);
  const std::int64_t chunks_per_step = chunks_per_rank * world;
  std::int64_t epoch_chunks = examples.num_chunks();
  if (opt.max_batches_per_epoch > 0) epoch_chunks = std::min(epoch_chunks, opt.max_batches_per_epoch * chunks_per_step);
  const std::int64_t num_batches = (epoch_chunks + chunks_per_step - 1) / chunks_per_step;
  PredictOptions eval_predict;
  eval_predict.max_batch = opt.eval_batch;
  eval_predict.test_time_augmentation = opt.test_time_augmentation;
  PredictOptions train_eval_predict = eval_predict;
  train_eval_predict.test_time_augmentation = false;

  auto write = [&](const std::string& path) {
    if (lead) save_checkpoint(path, state, net, optimizer);
    result.last_checkpoint = path;
    if (comm) comm->set_last_checkpoint(path);  // named in its errors
  };
  // All ranks must agree to stop: a signal may reach only some of them (several hosts).
  auto agreed_stop = [&]() {
    if (!comm) return runtime::stop_request().load() != 0;
    const double signal = comm->allreduce_sum({static_cast<double>(runtime::stop_request().load())})[0];
    if (signal > 0 && runtime::stop_request().load() == 0) runtime::stop_request().store(SIGTERM);
    return signal > 0;
  };
  auto check_same_weights = [&](const char* when) {
    if (!comm) return;
    const auto [lo, hi] = comm->allreduce_min_max({weights_checksum(parameters)});
    if (lo[0] != hi[0])
      throw DistributedError(fmt::format("the ranks' weights differ {} (checksums {} to {}): a rank computed "
                                         "differently (non-deterministic hardware or a bug); stopping",
                                         when, lo[0], hi[0]));
  };
  std::int64_t steps_run = 0;
  // Nobody leaves while another rank may still be inside a collective.
  auto finish = [&]() -> TrainResult {
    if (comm) comm->barrier();
    return result;
  };

  const std::string interrupted_path = (fs::path(opt.checkpoint_dir) / "interrupted.bin").string();
  auto interrupted = [&](const std::string& when) -> TrainResult {
    write(interrupted_path);
    result.outcome = TrainOutcome::Interrupted;
    result.message = fmt::format("interrupted by signal {} {}: wrote the resumable checkpoint {} (continue with -r {})",
                                 runtime::stop_request().load(), when, interrupted_path, interrupted_path);
    result.history = state.history;
    return finish();
  };
  std::int64_t valid_frames = 0, train_frames = 0;
  for (const auto& s : valid.poses_2d) valid_frames += s.shape.empty() ? 0 : s.shape[0];
  for (const auto& s : train.poses_2d) train_frames += s.shape.empty() ? 0 : s.shape[0];

  while (state.epoch < opt.epochs) {
    const auto start_time = std::chrono::steady_clock::now();
    // Every epoch permutes the same fixed example list (the original's
    // `self.random.permutation(self.pairs)`). Resuming inside an epoch replays its shuffle from
    // the generator state saved before it.
    if (state.position.rng_before_shuffle) state.rng = *state.position.rng_before_shuffle;
    state.position.rng_before_shuffle = state.rng;
    const auto order = state.rng.permutation(examples.num_chunks());
    net->train();
    report::Progress progress(fmt::format("epoch {}/{}", state.epoch + 1, opt.epochs), num_batches, "batches",
                      opt.progress && lead);
    progress.advance(state.position.next_chunk / chunks_per_step);
    for (std::int64_t begin = state.position.next_chunk; begin < epoch_chunks; begin += chunks_per_step) {
      const std::int64_t end = std::min(epoch_chunks, begin + chunks_per_step);
      const std::int64_t mine_begin = std::min(end, begin + rank * chunks_per_rank);
      const std::int64_t mine_end = std::min(end, mine_begin + chunks_per_rank);
      optimizer.zero_grad();
      torch::Tensor loss;
      double step_sum = 0;  // sum over the step's frames of the per-frame MPJPE
      std::int64_t step_frames = 0, local_frames = 0;
      if (mine_end > mine_begin) {
        auto [inputs, targets] = examples.batch(order, mine_begin, mine_end);
        inputs = inputs.to(setup.device);
        targets = targets.to(setup.device);
        auto predicted = net->forward(inputs);
        loss = (predicted - targets).norm(2, -1).mean();
        local_frames = inputs.size(0);
        step_sum = local_frames * loss.item<double>();
      }
      step_frames = local_frames;
      bool stop_now = false;
      if (comm) {
        const auto reduced = comm->allreduce_sum(
            {step_sum, static_cast<double>(local_frames), static_cast<double>(runtime::stop_request().load())});
        step_sum = reduced[0];
        step_frames = static_cast<std::int64_t>(reduced[1]);
        if (reduced[2] > 0 && runtime::stop_request().load() == 0) runtime::stop_request().store(SIGTERM);
        stop_now = reduced[2] > 0;
      }
      if (!std::isfinite(step_sum)) {
        progress.finish();
        result.outcome = TrainOutcome::Diverged;
        result.message = fmt::format("training stopped: the loss became {} at epoch {} batch {}; {}",
                                     step_sum / std::max<std::int64_t>(1, step_frames), state.epoch + 1,
                                     begin / chunks_per_step + 1,
                                     result.last_checkpoint.empty()
                                         ? std::string("no checkpoint was written in this run")
                                         : "the last good checkpoint is " + result.last_checkpoint);
        result.history = state.history;
        return finish();
      }
      if (loss.defined()) loss.backward();
      // Each rank's mean-loss gradient weighted by its share of the step's frames: the sum
      // over ranks is the gradient of the mean over all of them, even for uneven last steps
      // (equal shares: the 1/world_size average of DistributedDataParallel).
      if (comm) comm->allreduce_gradients(parameters, static_cast<double>(local_frames) / step_frames);
      optimizer.step();
      state.position.loss_sum += step_sum;
      state.position.frames += step_frames;
      state.position.next_chunk = end;
      state.position.next_batch = begin / chunks_per_step + 1;
      ++steps_run;
      if (comm && opt.check_every > 0 && steps_run % opt.check_every == 0)
        check_same_weights(fmt::format("after step {}", steps_run).c_str());
      progress.advance(1, fmt::format("loss {:.2f} mm", state.position.loss_sum / state.position.frames * 1000));
      if (!comm) stop_now = runtime::stop_request().load() != 0;
      if (stop_now) {
        // After the epoch's last step too: the checkpoint then resumes with its evaluation.
        progress.finish("interrupted");
        return interrupted(fmt::format("during epoch {}", state.epoch + 1));
      }
    }
    progress.finish();

    EpochRecord record;
    record.epoch = static_cast<int>(state.epoch + 1);
    record.lr = state.lr;
    record.loss_train = state.position.loss_sum / std::max<std::int64_t>(1, state.position.frames);
    if (!opt.no_eval) {
      // Rank 0's share of the frames (all of them in one process); the stop request is answered
      // between parts of a batch of windows each.
      std::int64_t shown = valid_frames + train_frames;
      if (comm) {
        shown = 0;
        for (const auto* set : {&valid, &train}) {
          std::vector<std::int64_t> lengths;
          for (const auto& p : set->poses_2d) lengths.push_back(p.shape.empty() ? 0 : p.shape[0]);
          const auto owner = balance_items(lengths, world);
          for (std::size_t i = 0; i < lengths.size(); ++i)
            if (owner[i] == rank) shown += lengths[i];
        }
      }
      report::Progress eval_progress(fmt::format("evaluating epoch {}", record.epoch), shown, "frames", opt.progress && lead);
      const auto valid_loss = sequences_mpjpe_until(net, valid.poses_2d, valid.poses_3d, symmetry, eval_predict,
                                                    setup.device, comm, &eval_progress, agreed_stop);
      const auto train_loss = valid_loss ? sequences_mpjpe_until(net, train.poses_2d, train.poses_3d, symmetry,
                                                                 train_eval_predict, setup.device, comm,
                                                                 &eval_progress, agreed_stop)
                                         : std::nullopt;
      if (!valid_loss || !train_loss) {
        eval_progress.finish("interrupted");
        return interrupted(fmt::format("during the evaluation of epoch {}", record.epoch));
      }
      eval_progress.finish();
      record.loss_valid = *valid_loss;
      record.loss_train_eval = *train_loss;
    }
    record.minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count() / 60.0;
    if (opt.no_eval)
      std::printf("[%d] time %.2f lr %f 3d_train %f\n", record.epoch, record.minutes, record.lr,
                  record.loss_train * 1000);
    else
      std::printf("[%d] time %.2f lr %f 3d_train %f 3d_eval %f 3d_valid %f\n", record.epoch, record.minutes,
                  record.lr, record.loss_train * 1000, record.loss_train_eval * 1000, record.loss_valid * 1000);
    std::fflush(stdout);
    state.history.push_back(record);

    state.lr *= opt.lr_decay;
    for (auto& group : optimizer.param_groups()) {
      auto& o = static_cast<torch::optim::AdamWOptions&>(group.options());
      o.lr(o.lr() * opt.lr_decay);
    }
    state.epoch += 1;
    state.position = EpochPosition{};
    check_same_weights(fmt::format("at the end of epoch {}", state.epoch).c_str());

    // The original's cadence, plus the last epoch: a run shorter than the frequency (or with
    // --no-eval, which writes no best_epoch.bin) would otherwise keep no trained weights.
    if ((opt.checkpoint_frequency > 0 && state.epoch % opt.checkpoint_frequency == 0) || state.epoch == opt.epochs) {
      const std::string path = (fs::path(opt.checkpoint_dir) / fmt::format("epoch_{}.bin", state.epoch)).string();
      std::printf("Saving checkpoint to %s\n", path.c_str());
      write(path);
    }
    if (!opt.no_eval && record.loss_valid * 1000 < state.min_loss) {
      state.min_loss = record.loss_valid * 1000;
      std::printf("save best checkpoint\n");
      write((fs::path(opt.checkpoint_dir) / "best_epoch.bin").string());
    }
    std::fflush(stdout);
    if (opt.export_training_curves && lead) export_curves(opt.checkpoint_dir, state.history);
    // After the last epoch too: the final evaluation is skipped.
    if (agreed_stop())
      return interrupted(state.epoch < opt.epochs
                             ? fmt::format("after epoch {}", state.epoch)
                             : fmt::format("after the last epoch ({}; the final evaluation was skipped)", state.epoch));
  }
  result.history = state.history;
  if (trained_out) *trained_out = net;
  return finish();
}

}  // namespace poselift::engine
