#include "cli/commands.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "data/summary.hpp"
#include "engine/benchmark.hpp"
#include "engine/evaluate.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/zip_archive.hpp"
#include "model/checkpoint.hpp"
#include "mocap/prepare.hpp"
#include "mocap/synthetic.hpp"

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
  // Anything else is taken for a torch.save checkpoint.
  model::Checkpoint ck = model::read_checkpoint(path);
  auto config = model::infer_config(ck.model_state, o.model.heads, path);
  fmt::print("{}: PyTorch checkpoint\n", path);
  if (ck.epoch) fmt::print("  epoch: {}\n", *ck.epoch);
  if (ck.lr) fmt::print("  lr: {}\n", *ck.lr);
  fmt::print("  optimizer state: {}\n", ck.optimizer ? "yes" : "no");
  fmt::print("  model: PoseFormer, {}\n", config.describe());
  std::int64_t params = 0;
  for (const auto& kv : ck.model_state) params += kv.second.numel();
  fmt::print("  parameters: {} in {} tensors\n", params, ck.model_state.size());
  return 0;
}

}  // namespace

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
  fmt::print("INFO: Receptive field: {} frames\n", o.model.frames);

  const std::string path = resolve_checkpoint_path(o.checkpoint_dir, o.evaluate_file);
  if (!fs::exists(path)) throw InputError(path + ": checkpoint not found (--evaluate is relative to -c)");
  model::Checkpoint ck;
  auto net = model::load_poseformer(path, o.model.heads, o.model.strict_load, &ck);
  const auto& config = net->config();
  if (config.num_frames != o.model.frames)
    throw InputError(fmt::format("{}: the checkpoint takes {} frames but -f is {}: pass -f {}", path,
                                 config.num_frames, o.model.frames, config.num_frames));
  if (config.num_joints != keypoints.metadata.num_joints)
    throw InputError(fmt::format("{}: the checkpoint has {} joints but {} has {}", path, config.num_joints,
                                 keypoints.source, keypoints.metadata.num_joints));
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
  if (!o.json_out.empty()) {
    nlohmann::json j;
    j["checkpoint"] = path;
    j["dataset"] = o.data.dataset;
    j["keypoints"] = o.data.keypoints;
    j["frames"] = o.model.frames;
    j["test_time_augmentation"] = o.test_time_augmentation;
    j["blocks"] = engine::blocks_to_json(blocks);
    io::write_file_atomic(o.json_out, j.dump(2) + "\n");
  }
  return 0;
}

int run_forward(const Options& o) {
  const torch::Device device = engine::configure_runtime(o.runtime);
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
  auto x = model::to_tensor(input.array.astype(io::DType::Float32)).to(device);
  torch::NoGradGuard no_grad;
  auto y = net->forward(x);
  io::write_npy(o.output, model::to_ndarray(y));
  fmt::print("wrote {} {} from {} windows\n", o.output, io::NdArray(model::to_ndarray(y)).shape_string(), x.size(0));
  return 0;
}

int run_train(const Options& o) {
  const torch::Device device = engine::configure_runtime(o.runtime);
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
  setup.train.progress = o.runtime.progress;
  setup.device = device;
  engine::install_stop_signal_handlers();
  model::PoseFormer trained{nullptr};
  auto result = engine::train_poseformer(setup, &trained);
  if (result.outcome == engine::TrainOutcome::Interrupted) {
    fmt::print(stderr, "poselift: {}\n", result.message);
    return 128 + engine::stop_request().load();
  }
  if (result.outcome == engine::TrainOutcome::Diverged) {
    fmt::print(stderr, "poselift: {}\n", result.message);
    return 3;
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

int run_bench(const Options& o) {
  model::PoseFormerConfig config;
  config.num_frames = o.model.frames;
  config.validate();
  fmt::print("PoseFormer {}\n", config.describe());
  fmt::print("parameters: {}\n", model::count_parameters(config));
  fmt::print("forward FLOPs per output frame: {:.3f} GFLOP\n", model::forward_flops_per_frame(config) / 1e9);
  auto figures = engine::measure_inference(config, {1, 2}, {1, 64}, o.bench_seconds);
  fmt::print("{:>8} {:>6} {:>14} {:>12} {:>10}\n", "threads", "batch", "frames/s", "ms/batch", "GFLOP/s");
  for (const auto& f : figures)
    fmt::print("{:>8} {:>6} {:>14.2f} {:>12.2f} {:>10.1f}\n", f.threads, f.batch, f.frames_per_second, f.ms_per_batch,
               f.frames_per_second * model::forward_flops_per_frame(config) / 1e9);
  fmt::print("peak memory: {:.0f} MiB\n", engine::peak_memory_mib());
  return 0;
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
