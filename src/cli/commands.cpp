#include "cli/commands.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "data/summary.hpp"
#include "cli/launch.hpp"
#include "engine/benchmark.hpp"
#include "engine/distributed.hpp"
#include "engine/evaluate.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/output_path.hpp"
#include "report/report.hpp"
#include "io/zip_archive.hpp"
#include "model/checkpoint.hpp"
#include "model/fast_poseformer.hpp"
#include "mocap/prepare.hpp"
#include "mocap/synthetic.hpp"
#include "runtime/signals.hpp"
#include "runtime/blas.hpp"
#include "runtime/memory.hpp"

namespace poselift::cli {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void describe_value(const std::string& name, const io::Value& v, int indent, int depth) {
  const std::string pad(indent, ' ');
  if (v.kind == io::Value::Kind::Array) {
    fmt::print("{}{}: {} {}\n", pad, name, io::dtype_name(v.array->dtype), v.array->shape_string());
    return;
  }
  if ((v.kind == io::Value::Kind::Dict) && depth < 3) {
    fmt::print("{}{}: dict with {} entries\n", pad, name, v.entries.size());
    std::size_t shown = 0;
    for (const auto& [key, value] : v.entries) {
      if (++shown > 12) {
        fmt::print("{}  ...\n", pad);
        break;
      }
      describe_value(key->repr(40), *value, indent + 2, depth + 1);
    }
    return;
  }
  if ((v.kind == io::Value::Kind::List || v.kind == io::Value::Kind::Tuple) && depth < 3 && !v.items.empty() &&
      v.items.front()->kind == io::Value::Kind::Array) {
    fmt::print("{}{}: {} of {} arrays, first {} {}\n", pad, name, io::Value::kind_name(v.kind), v.items.size(),
               io::dtype_name(v.items.front()->array->dtype), v.items.front()->array->shape_string());
    return;
  }
  fmt::print("{}{}: {}\n", pad, name, v.repr(100));
}

int info_file(const Options& o) {
  const std::string& path = o.file;
  if (!fs::exists(path)) throw InputError(path + ": no such file");
  if (ends_with(path, ".npz")) {
    auto npz = io::read_npz(path);
    fmt::print("{}: npz archive with {} members\n", path, npz.names.size());
    for (const auto& name : npz.names) {
      const auto& member = npz.members.at(name);
      if (member.is_object()) describe_value(name, *member.object, 2, 0);
      else fmt::print("  {}: {} {}\n", name, io::dtype_name(member.array.dtype), member.array.shape_string());
    }
    return 0;
  }
  if (ends_with(path, ".npy")) {
    auto npy = io::read_npy(path);
    if (npy.is_object()) describe_value(path, *npy.object, 0, 0);
    else fmt::print("{}: {} {}\n", path, io::dtype_name(npy.array.dtype), npy.array.shape_string());
    return 0;
  }
  for (const char* other : {".bvh", ".bvh.gz", ".asf", ".amc", ".json", ".csv", ".mp4", ".gif", ".html", ".txt"})
    if (ends_with(path, other))
      throw InputError(path + ": info reads .npz archives, .npy arrays and PyTorch checkpoints (.bin, .pth, .pt), "
                              "not " + other + " files");
  // Anything else is taken for a torch.save checkpoint.
  model::Checkpoint ck;
  try {
    ck = model::read_checkpoint(path);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (info reads .npz archives, .npy arrays and PyTorch checkpoints: .bin, .pth, .pt)");
  }
  const int heads = model::resolve_heads(ck, o.model.heads);
  auto config = model::infer_config(ck.model_state, heads, path);
  fmt::print("{}: PyTorch checkpoint\n", path);
  if (ck.epoch) fmt::print("  epoch: {}\n", *ck.epoch);
  if (ck.lr) fmt::print("  lr: {}\n", *ck.lr);
  fmt::print("  optimizer state: {}\n", ck.optimizer ? "yes" : "no");
  fmt::print("  model: PoseFormer, {}{}\n", config.describe(),
             model::stored_heads(ck)      ? " (heads as stored in the file)"
             : o.model.heads > 0          ? " (heads from --heads)"
                                          : " (heads not in the file: PoseFormer's default; --heads sets them)");
  std::int64_t params = 0;
  for (const auto& kv : ck.model_state) params += kv.second.numel();
  fmt::print("  parameters: {} in {} tensors\n", params, ck.model_state.size());
  return 0;
}

}  // namespace

void check_checkpoint_fits(const std::string& path, const model::PoseFormerConfig& config, int frames,
                           int num_joints, const std::string& source) {
  if (frames > 0 && config.num_frames != frames)
    report::warn(fmt::format("{} takes {} frames per prediction: -f {} is ignored", path, config.num_frames, frames));
  if (config.num_joints != num_joints)
    throw InputError(fmt::format("{}: the checkpoint has {} joints but {} has {}", path, config.num_joints, source,
                                 num_joints));
}

int run_info(const Options& o) {
  if (!o.file.empty()) return info_file(o);
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  for (const auto& line : data::summarize(dataset, &keypoints)) fmt::print("{}\n", line);
  return 0;
}

namespace {

std::string python_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "]";
}

std::string resolve_checkpoint_path(const std::string& dir, const std::string& file) {
  const std::string joined = (fs::path(dir) / file).string();  // os.path.join semantics
  if (fs::exists(joined) || !fs::exists(file)) return joined;
  return file;
}

std::vector<engine::EvaluationBlock> print_evaluation(engine::Evaluator& evaluator, bool by_subject) {
  fmt::print("Evaluating...\n");
  std::fflush(stdout);
  auto blocks = evaluator.run(by_subject);
  for (const auto& block : blocks) {
    if (by_subject) fmt::print("Evaluating on subject {}\n", block.subject);
    fmt::print("{}", engine::format_block(block));
    if (by_subject) fmt::print("\n");
  }
  std::fflush(stdout);
  return blocks;
}

}  // namespace

int run_evaluate(const Options& o) {
  const torch::Device device = engine::configure_runtime(o.runtime);
  fmt::print("Loading dataset...\n");
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  fmt::print("Preparing data...\n");
  fmt::print("Loading 2D detections...\n");
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  const auto action_filter = data::parse_action_filter(o.data.actions);
  if (!action_filter.empty()) fmt::print("Selected actions: {}\n", python_list(action_filter));

  const std::string path = resolve_checkpoint_path(o.checkpoint_dir, o.evaluate_file);
  if (!fs::exists(path)) throw InputError(path + ": checkpoint not found (--evaluate is relative to -c)");
  const std::string json_path =
      o.json_out.empty() ? "" : io::checked_output_path(o.json_out, {path, dataset.source, keypoints.source}, "--json");
  model::Checkpoint ck;
  auto net = model::load_poseformer(path, o.model.heads, o.model.strict_load, &ck);
  check_checkpoint_fits(path, net->config(), o.model.frames, keypoints.metadata.num_joints, keypoints.source);
  fmt::print("INFO: Receptive field: {} frames\n", net->config().num_frames);
  fmt::print("INFO: Trainable parameter count: {}\n", net->parameter_count());
  fmt::print("Loading checkpoint {}\n", path);
  net->to(device);
  net->eval();

  engine::EvaluateOptions options;
  options.subjects = data::split_comma_list(o.data.subjects_test);
  options.action_filter = action_filter;
  options.downsample = o.data.downsample;
  options.predict.test_time_augmentation = o.test_time_augmentation;
  options.predict.max_batch = o.eval_batch;
  options.progress = o.runtime.progress;
  engine::Evaluator evaluator(net, dataset, keypoints, engine::flip_symmetry(dataset, keypoints), options, device);
  fmt::print("INFO: Testing on {} frames\n", evaluator.test_frames());
  auto blocks = print_evaluation(evaluator, o.by_subject);
  if (!json_path.empty()) {
    nlohmann::json j;
    j["checkpoint"] = path;
    j["dataset"] = o.data.dataset;
    j["keypoints"] = o.data.keypoints;
    j["frames"] = net->config().num_frames;
    j["test_time_augmentation"] = o.test_time_augmentation;
    j["blocks"] = engine::blocks_to_json(blocks);
    io::write_file_atomic(json_path, j.dump(2) + "\n");
  }
  return 0;
}

int run_forward(const Options& o) {
  const torch::Device device = engine::configure_runtime(o.runtime);
  const std::string out_path = io::checked_output_path(o.output, {o.input, o.checkpoint_file}, "--out");
  auto net = model::load_poseformer(o.checkpoint_file, o.model.heads, o.model.strict_load);
  net->to(device);
  net->eval();
  const auto& c = net->config();
  io::NpyContent input = io::read_npy(o.input);
  if (input.is_object() || input.array.shape.size() != 4 || input.array.shape[1] != c.num_frames ||
      input.array.shape[2] != c.num_joints || input.array.shape[3] != c.in_chans)
    throw InputError(fmt::format("{}: expected a (B, {}, {}, {}) numeric array for this checkpoint, found {}", o.input,
                                 c.num_frames, c.num_joints, c.in_chans,
                                 input.is_object() ? std::string("an object array") : input.array.shape_string()));
  auto x = model::to_tensor(input.array.astype(io::DType::Float32));
  const auto finite = torch::isfinite(x).view({x.size(0), -1}).all(1);
  if (!finite.all().item<bool>()) {
    const auto window = torch::nonzero(finite.logical_not())[0][0].item<std::int64_t>();
    throw InputError(fmt::format("{}: window {} holds a NaN or infinite coordinate; expected finite 2D keypoints",
                                 o.input, window));
  }
  // Chunks of -b windows: memory stays bounded whatever the input's size.
  torch::NoGradGuard no_grad;
  const std::int64_t windows = x.size(0), chunk = o.eval_batch;
  std::vector<torch::Tensor> parts;
  report::Progress bar("forward", windows, "windows", o.runtime.progress && windows > chunk);
  for (std::int64_t s = 0; s < windows; s += chunk) {
    const std::int64_t e = std::min(windows, s + chunk);
    parts.push_back(net->forward(x.slice(0, s, e).to(device)).to(torch::kCPU));
    bar.advance(e - s);
  }
  bar.finish();
  const auto y = windows > 0 ? torch::cat(parts, 0) : torch::zeros({0, 1, c.num_joints, 3});
  const io::NdArray result = model::to_ndarray(y);
  io::write_npy(out_path, result);
  fmt::print("wrote {} {} from {} windows\n", o.output, result.shape_string(), windows);
  return 0;
}

int run_train(const Options& o) {
  if (o.nproc > 0) {
    LaunchOptions launch;
    launch.nproc = o.nproc;
    launch.timeout_seconds = o.dist_timeout;
    launch.threads_per_worker = o.runtime.threads;
    return launch_workers(launch);
  }
  const engine::WorldInfo world = engine::world_from_environment();
  // Only rank 0 prints the run's lines; the others keep stderr for their errors.
  if (world.rank > 0 && !std::freopen("/dev/null", "w", stdout)) throw std::runtime_error("cannot silence stdout");
  torch::Device device = engine::configure_runtime(o.runtime);
  if (world.distributed() && device.is_cuda())
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank % torch::cuda::device_count()));
  std::unique_ptr<engine::Communicator> comm;
  try {
    if (world.distributed()) {
      engine::CommunicatorOptions comm_options;
      comm_options.timeout_seconds = o.dist_timeout;
      comm = std::make_unique<engine::Communicator>(world, device, comm_options);
    }
  } catch (const engine::DistributedError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 4;
  }
  if (o.dropout != 0.0)
    fmt::print(stderr, "WARNING: -drop/--dropout is accepted for compatibility; PoseFormer trains with stochastic "
                       "depth (--drop-path) and no dropout\n");
  std::printf("Loading dataset...\n");
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  std::printf("Preparing data...\n");
  std::printf("Loading 2D detections...\n");
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  const auto action_filter = data::parse_action_filter(o.data.actions);
  if (!action_filter.empty()) std::printf("Selected actions: %s\n", python_list(action_filter).c_str());

  engine::TrainSetup setup;
  setup.dataset = &dataset;
  setup.keypoints = &keypoints;
  setup.data = o.data;
  setup.model = o.model;
  setup.train = o.train;
  setup.train.progress = o.runtime.progress && world.rank == 0;
  setup.device = device;
  setup.comm = comm.get();
  if (o.torch_seed >= 0) torch::manual_seed(static_cast<std::uint64_t>(o.torch_seed));
  runtime::enable_stop_requests();
  model::PoseFormer trained{nullptr};
  engine::TrainResult result;
  try {
    result = engine::train_poseformer(setup, &trained);
  } catch (const engine::DistributedError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 4;
  }
  if (result.outcome == engine::TrainOutcome::Interrupted) {
    if (world.rank == 0) fmt::print(stderr, "poselift: {}\n", result.message);
    return 128 + runtime::stop_request().load();
  }
  if (result.outcome == engine::TrainOutcome::Diverged) {
    fmt::print(stderr, "poselift: {}\n", result.message);
    return 3;
  }
  if (world.rank > 0) return 0;  // rank 0 alone runs the final evaluation
  // From here a signal ends the process at once, as in `evaluate`.
  runtime::disable_stop_requests();
  if (const int sig = runtime::stop_request().load()) {
    fmt::print(stderr, "poselift: interrupted by signal {} before the final evaluation; the trained weights are in {}\n",
               sig, result.last_checkpoint);
    return 128 + sig;
  }
  // As the original, the final evaluation follows the last epoch.
  engine::EvaluateOptions options;
  options.subjects = data::split_comma_list(o.data.subjects_test);
  options.action_filter = action_filter;
  options.downsample = o.data.downsample;
  options.predict.test_time_augmentation = o.train.test_time_augmentation;
  options.progress = o.runtime.progress;
  engine::Evaluator evaluator(trained, dataset, keypoints, engine::flip_symmetry(dataset, keypoints), options,
                              device);
  print_evaluation(evaluator, o.by_subject);
  return 0;
}

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

void print_written(const mocap::WrittenDataset& files, const std::string& name, const std::string& out_dir,
                   const std::vector<std::string>& train, const std::vector<std::string>& test) {
  fmt::print("wrote {}\n      {}\n", files.positions_3d_path, files.keypoints_gt_path);
  for (std::size_t i = 0; i < files.keypoints_noisy_paths.size(); ++i)
    fmt::print("      {} (mean 2D error {:.1f} px)\n", files.keypoints_noisy_paths[i],
               i < files.noisy_mean_error_px.size() ? files.noisy_mean_error_px[i] : 0.0);
  fmt::print("{} frames per camera, {:.2f}% of the 2D joints inside the image\n", files.frames,
             files.fraction_inside_image * 100);
  fmt::print("train with: poselift train -d {} -k gt --data-dir {} -str {} -ste {}\n", name, out_dir, joined(train),
             joined(test));
}

}  // namespace

int run_prepare_synthetic(const Options& o) {
  mocap::SyntheticOptions options;
  options.name = o.prepare_name;
  options.output_dir = o.prepare_out;
  options.seconds_per_action = o.synthetic_seconds;
  options.seed = o.prepare_seed;
  options.cameras.randomize = o.random_rigs;
  options.noisy.front().noise.strength = o.noise_strength;
  auto report = mocap::prepare_synthetic_dataset(options);
  fmt::print("synthetic dataset '{}': {} train subjects, {} test subjects, made in {:.1f} s\n", options.name,
             report.train_subjects.size(), report.test_subjects.size(), report.seconds);
  print_written(report.files, options.name, options.output_dir, report.train_subjects, report.test_subjects);
  return 0;
}

int run_prepare_mocap(const Options& o) {
  mocap::PrepareMocapOptions options;
  options.inputs = o.prepare_inputs;
  options.name = o.prepare_name;
  options.output_dir = o.prepare_out;
  options.seed = o.prepare_seed;
  options.import.target_fps = o.prepare_fps;
  options.mapping_files = o.prepare_mappings;
  options.skip_unreadable = o.skip_unreadable;
  options.test_subjects = o.prepare_test_subjects;
  options.cameras.randomize = o.random_rigs;
  options.noisy.front().noise.strength = o.noise_strength;
  auto report = mocap::prepare_mocap_dataset(options);
  for (const auto& [file, reason] : report.skipped) fmt::print(stderr, "skipped {}: {}\n", file, reason);
  fmt::print("{} clips, {} subjects ({} for training, {} for testing) at {} fps, made in {:.1f} s\n",
             report.clips.size(), report.subjects.size(), report.train_subjects.size(), report.test_subjects.size(),
             report.fps, report.seconds);
  print_written(report.files, options.name, options.output_dir, report.train_subjects, report.test_subjects);
  return 0;
}

namespace {

// Issue #8's speed targets (fast over reference, equal thread counts); 0 where none is set.
double inference_target(int threads, int batch) {
  if (batch == 64) return threads == 2 ? 4.0 : 2.5;
  return batch == 1 && threads == 2 ? 3.0 : 0.0;
}
constexpr double kTrainingTarget = 3.0;

std::string target_cell(double ratio, double target) {
  if (target <= 0) return "";
  return fmt::format("{:.1f}x, {}", target, ratio >= target ? "met" : "not met");
}

// What a `bench --emit-figures` child prints for its parent: one line per figure.
void emit_figures(const char* kind, const std::vector<engine::PathFigures>& figures) {
  for (const auto& f : figures)
    fmt::print("{} {} {} {:.6g} {:.6g}\n", kind, f.threads, f.batch, f.reference, f.fast);
  std::fflush(stdout);
}

std::vector<engine::PathFigures> parse_figures(const std::string& output, const std::string& kind) {
  std::vector<engine::PathFigures> figures;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    engine::PathFigures f;
    if (fields >> name >> f.threads >> f.batch >> f.reference >> f.fast && name == kind) figures.push_back(f);
  }
  if (figures.empty()) throw std::runtime_error("bench: the child process reported no " + kind + " figures");
  return figures;
}

// The same comparison against the reference on OpenBLAS's own choice of kernels for this CPU,
// in a child process (OpenBLAS fixes its kernels when it loads); both paths alternate in it.
std::vector<engine::PathFigures> figures_on_stock_blas(const Options& o, const std::string& what,
                                                       const std::string& stock_core) {
  const auto output = run_self_for_output(
      {"bench", what, "--emit-figures", "-f", std::to_string(o.model.frames), "--seconds",
       fmt::format("{}", o.bench_seconds), "--train-batch", std::to_string(o.bench_train_batch), "--train-steps",
       std::to_string(o.bench_train_steps)},
      {{"OPENBLAS_CORETYPE", stock_core}});
  return parse_figures(output, what == "model" ? "inference" : "training");
}

void print_inference_table(const std::vector<engine::PathFigures>& figures, double flops) {
  fmt::print("{:>8} {:>6} {:>16} {:>16} {:>8} {:>14}  {}\n", "threads", "batch", "reference fr/s", "fast fr/s",
             "speedup", "fast GFLOP/s", "target");
  for (const auto& f : figures)
    fmt::print("{:>8} {:>6} {:>16.2f} {:>16.2f} {:>7.2f}x {:>14.1f}  {}\n", f.threads, f.batch, f.reference, f.fast,
               f.ratio(), f.fast * flops / 1e9, target_cell(f.ratio(), inference_target(f.threads, f.batch)));
}

void print_training_table(const std::vector<engine::PathFigures>& figures) {
  fmt::print("{:>8} {:>16} {:>16} {:>8}  {}\n", "threads", "reference s/step", "fast s/step", "speedup", "target");
  for (const auto& f : figures)
    fmt::print("{:>8} {:>16.2f} {:>16.2f} {:>7.2f}x  {}\n", f.threads, 1 / f.reference, 1 / f.fast, f.ratio(),
               target_cell(f.ratio(), kTrainingTarget));
}

std::vector<engine::PathFigures> training_figures(const Options& o, const model::PoseFormerConfig& config) {
  std::vector<engine::PathFigures> figures;
  for (int threads : {1, 2}) {
    auto config_train = config;
    config_train.drop_path_rate = 0.1;
    figures.push_back(engine::compare_training_step(config_train, threads, o.bench_train_batch, o.bench_train_steps));
  }
  return figures;
}

}  // namespace

int run_bench(const Options& o) {
  model::PoseFormerConfig config;
  config.num_frames = o.model.frames;
  config.validate();
  const bool all = o.bench_what == "all";
  if (o.bench_emit_figures) {
    if (o.bench_what == "model") emit_figures("inference", engine::compare_inference(config, {1, 2}, {1, 64}, o.bench_seconds));
    if (o.bench_what == "train") emit_figures("training", training_figures(o, config));
    return 0;
  }
  const double flops = model::forward_flops_per_frame(config);
  fmt::print("PoseFormer {}\n", config.describe());
  fmt::print("parameters: {}; forward: {:.3f} GFLOP per output frame; fast path GEMM: {}; hardware threads: {}\n",
             model::count_parameters(config), flops / 1e9, model::fast_gemm_backend(),
             std::thread::hardware_concurrency());
  const std::string blas_core = runtime::blas_core_name(), stock_core = runtime::stock_blas_core_name();
  if (!blas_core.empty())
    fmt::print("reference path's BLAS: OpenBLAS with {} kernels{}\n", blas_core,
               !stock_core.empty() ? fmt::format(" (chosen by poselift; OpenBLAS picks {} on this CPU by itself)", stock_core)
               : std::getenv("OPENBLAS_CORETYPE") != nullptr ? " (OPENBLAS_CORETYPE)"
                                                               : "");
  fmt::print("(reference = the straightforward LibTorch module, fast = poselift's CPU path; measured alternately)\n");
  const std::string tuned_heading =
      fmt::format("against the reference on OpenBLAS's {} kernels (this process)\n", blas_core);
  const std::string stock_heading = fmt::format(
      "against the reference on OpenBLAS's own pick for this CPU, {} kernels: the straightforward LibTorch path as "
      "Debian runs it (a child process; both paths alternate in it)\n",
      stock_core);
  if (all || o.bench_what == "model") {
    fmt::print("\ninference, independent windows (no reuse between them)\n");
    if (!stock_core.empty()) fmt::print("{}", tuned_heading);
    print_inference_table(engine::compare_inference(config, {1, 2}, {1, 64}, o.bench_seconds), flops);
    if (!stock_core.empty()) {
      fmt::print("{}", stock_heading);
      print_inference_table(figures_on_stock_blas(o, "model", stock_core), flops);
    }
    fmt::print("\nfast path at batch 64: share of time in the linear layers' GEMMs, GEMM-bound limit\n");
    fmt::print("{:>8} {:>12} {:>14} {:>18}\n", "threads", "GEMM share", "GEMM GFLOP/s", "bound fr/s");
    for (int threads : {1, 2}) {
      const auto share = engine::measure_gemm_share(config, threads, 64, o.bench_seconds);
      fmt::print("{:>8} {:>11.0f}% {:>14.1f} {:>18.1f}\n", threads, 100 * share.gemm_seconds_share, share.gemm_gflops,
                 share.bound_frames_per_second);
      std::string phases;
      for (const auto& [name, part] : share.phases) phases += fmt::format("{} {:.0f}%, ", name, 100 * part);
      if (!phases.empty()) fmt::print("{:>8} time in the blocks: {}\n", "", phases.substr(0, phases.size() - 2));
    }
  }
  if (all || o.bench_what == "train") {
    fmt::print("\ntraining step (forward + MPJPE + backward + AdamW), batch {}, {} frames\n", o.bench_train_batch,
               config.num_frames);
    if (!stock_core.empty()) fmt::print("{}", tuned_heading);
    print_training_table(training_figures(o, config));
    if (!stock_core.empty()) {
      fmt::print("{}", stock_heading);
      print_training_table(figures_on_stock_blas(o, "train", stock_core));
    }
  }
  if (all || o.bench_what == "eval") {
    // Human3.6M protocol test set: S9 + S11, four cameras, every frame an output window.
    constexpr double kH36mTestWindows = 543344;
    constexpr int kEvalFrames = 1000;  // a long Human3.6M take; the reference needs ~20 s per pass
    fmt::print("\nsequence evaluation with flip augmentation (frame features reused across windows), {} frames\n",
               kEvalFrames);
    fmt::print("{:>8} {:>16} {:>16} {:>8} {:>22}\n", "threads", "reference fr/s", "fast fr/s", "speedup",
               "Human3.6M test (fast)");
    for (int threads : {1, 2}) {
      const auto f = engine::compare_sequence_evaluation(config, threads, kEvalFrames, o.bench_seconds);
      fmt::print("{:>8} {:>16.2f} {:>16.2f} {:>7.2f}x {:>19.1f} h\n", threads, f.reference, f.fast, f.ratio(),
                 kH36mTestWindows / f.fast / 3600);
    }
  }
  if (all || o.bench_what == "int8") {
    if (model::fast_gemm_backend() != "oneDNN") {
      fmt::print("\nint8 inference: needs oneDNN (not in this build)\n");
    } else {
      fmt::print("\nreduced precision (optional): fast path in float32 vs int8 (temporal linear layers), batch 64\n");
      fmt::print("{:>8} {:>16} {:>16} {:>8} {:>26}\n", "threads", "float32 fr/s", "int8 fr/s", "speedup",
                 "output change (random model)");
      for (int threads : {1, 2}) {
        const auto f = engine::compare_int8_inference(config, threads, 64, o.bench_seconds);
        fmt::print("{:>8} {:>16.2f} {:>16.2f} {:>7.2f}x {:>13.2f} mm per joint\n", threads, f.rates.reference,
                   f.rates.fast, f.rates.ratio(), f.mean_joint_distance * 1000);
      }
    }
  }
  fmt::print("\npeak memory: {:.0f} MiB\n", runtime::peak_memory_mib());
  return 0;
}

int run_bench_dist(const Options& o) {
  model::PoseFormerConfig config;
  config.num_frames = o.model.frames;
  config.validate();
  if (launched_as_rank()) {  // one rank of a measurement started below
    const engine::WorldInfo world = engine::world_from_environment();
    std::unique_ptr<engine::Communicator> comm;
    if (world.distributed()) comm = std::make_unique<engine::Communicator>(world, torch::kCPU, engine::CommunicatorOptions{});
    const auto f = engine::measure_training_steps(config, o.bench_batch, o.bench_seconds, comm.get());
    if (world.rank == 0) {
      fmt::print("{:>9} {:>9} {:>7} {:>8.3f} {:>9.1f} {:>12.1f} {:>13.2f} {:>13.2f}\n", f.processes, f.threads, f.steps,
                 f.steps_per_second, f.frames_per_second, f.communication_ms_per_step,
                 f.gradient_bytes_per_step / 1e6, f.other_bytes_per_step / 1e3);
      std::fflush(stdout);
    }
    return 0;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  fmt::print("data-parallel training steps: PoseFormer {}, {} parameters ({:.2f} MB of float32 gradients), {} frames "
             "per step over all processes, {} cores, c10d backends: {}\n",
             config.describe(), model::count_parameters(config), model::count_parameters(config) * 4 / 1e6,
             o.bench_batch, cores, engine::distributed_backends());
  fmt::print("{:>9} {:>9} {:>7} {:>8} {:>9} {:>12} {:>13} {:>13}\n", "processes", "threads", "steps", "steps/s",
             "frames/s", "allreduce ms", "grad MB/step", "other kB/step");
  std::fflush(stdout);
  int status = 0;
  for (int n : o.bench_processes) {
    LaunchOptions launch;
    launch.nproc = n;
    launch.timeout_seconds = 60;
    launch.verbose = false;
    status = std::max(status, launch_workers(launch));
  }
  fmt::print("each rank sends and receives about 2(N-1)/N x the gradient MB per step in Gloo's ring all-reduce\n");
  return status;
}

int run_infer(const Options& o) {
  engine::InferOptions options = o.infer;
  options.output_options.bvh.bones = wild::parse_bone_lengths(o.infer_bones, "--bvh-bones");
  options.progress = o.runtime.progress;
  if (options.predict.max_batch <= 0) throw InputError("--batch-size: expected a positive number");
  const torch::Device device = engine::configure_runtime(o.runtime);
  const auto result = engine::run_inference(options, device);
  for (const auto& note : result.notes) fmt::print(stderr, "poselift infer: {}\n", note);
  fmt::print("{} track{} in {}; lifted {} frames\n", result.tracks, result.tracks == 1 ? "" : "s", options.input,
             result.frames);
  for (const auto& path : result.written) fmt::print("wrote {}\n", path);
  return 0;
}

}  // namespace poselift::cli
