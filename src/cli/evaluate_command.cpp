// `poselift evaluate`: a checkpoint's errors under the Human3.6M protocols, as the original's
// --evaluate prints them.
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/command.hpp"
#include "cli/evaluation_output.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "engine/evaluate.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/output_path.hpp"
#include "io/zip_archive.hpp"
#include "model/checkpoint.hpp"

namespace poselift::cli {

namespace fs = std::filesystem;

namespace {

struct EvaluateFlags {
  engine::DataOptions data;
  engine::ModelOptions model;
  engine::RuntimeOptions runtime;
  std::string checkpoint_dir = "checkpoint";
  std::string evaluate_file;
  bool by_subject = false;
  bool test_time_augmentation = true;
  std::string json_out;
  int eval_batch = 1024;
};

int run_evaluate(const EvaluateFlags& o) {
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

}  // namespace

Command add_evaluate_command(CLI::App& app) {
  auto o = std::make_shared<EvaluateFlags>();
  auto* evaluate = app.add_subcommand("evaluate", "Evaluate a checkpoint: MPJPE, P-MPJPE, N-MPJPE, MPJVE per action");
  add_data_options(*evaluate, o->data);
  add_model_options(*evaluate, o->model);
  add_runtime_options(*evaluate, o->runtime);
  evaluate->add_option("--evaluate,--checkpoint-file", o->evaluate_file,
                       "checkpoint file name, relative to -c unless it exists as given")
      ->required();
  evaluate->add_option("-c,--checkpoint", o->checkpoint_dir, "checkpoint folder")->capture_default_str();
  evaluate->add_flag("--by-subject", o->by_subject, "break the errors down per subject");
  evaluate->add_flag("!--no-test-time-augmentation", o->test_time_augmentation, "disable flip augmentation (-no-tta)");
  evaluate->add_option("--json", o->json_out, "also write the figures as JSON");
  evaluate->add_option("-b,--batch-size", o->eval_batch, "windows per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));

  return {evaluate, [o, evaluate] {
            forget_untyped_model_flags(*evaluate, o->model);
            return run_evaluate(*o);
          }};
}

}  // namespace poselift::cli
