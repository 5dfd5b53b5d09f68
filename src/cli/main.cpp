// poselift command line: a thin layer mapping flags (including the seed's
// run_poseformer.py flags) onto the library.
#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/seed_args.hpp"
#include "cli/terminal.hpp"
#include "cli/usage_errors.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "report/report.hpp"
#include "runtime/signals.hpp"
#include "runtime/blas.hpp"
#include "runtime/memory.hpp"

using namespace poselift;

namespace {

// A number in (0, 1].
CLI::Validator fraction() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double x = 0;
        if (!CLI::detail::lexical_cast(value, x) || !(x > 0.0 && x <= 1.0))
          return "expected a fraction in (0, 1], found " + value;
        return "";
      },
      "FRACTION in (0, 1]");
}

void add_data_options(CLI::App& cmd, engine::DataOptions& d) {
  cmd.add_option("-d,--dataset", d.dataset, "dataset name: h36m, humaneva15, custom, or NAME of data_3d_NAME.npz")
      ->capture_default_str();
  cmd.add_option("-k,--keypoints", d.keypoints, "2D detections to use (data_2d_<dataset>_<keypoints>.npz)")
      ->capture_default_str();
  cmd.add_option("--data-dir", d.data_dir, "folder holding the dataset .npz files")->capture_default_str();
  cmd.add_option("--subjects-train", d.subjects_train, "training subjects, comma separated (-str)")
      ->capture_default_str();
  cmd.add_option("--subjects-test", d.subjects_test, "test subjects, comma separated (-ste)")->capture_default_str();
  cmd.add_option("--subjects-unlabeled", d.subjects_unlabeled,
                 "unlabeled subjects (-sun; accepted for compatibility, PoseFormer does not use them)");
  cmd.add_option("-a,--actions", d.actions, "actions to use, comma separated prefixes, or * for all")
      ->capture_default_str();
  cmd.add_option("--subset", d.subset, "reduce the dataset to this fraction (deterministic)")
      ->capture_default_str()
      ->check(fraction());
  cmd.add_option("--downsample", d.downsample, "keep every N-th frame")->capture_default_str()->check(
      CLI::PositiveNumber);
}

const char* heads_help() {
  return "attention heads: poselift's checkpoints store theirs (a warning when --heads disagrees); the original's "
         "files do not, and PoseFormer's 8 is the default";
}

void add_model_options(CLI::App& cmd, engine::ModelOptions& m) {
  cmd.add_option("-f,--number-of-frames", m.frames,
                 "input frames per prediction (odd; -frame); a checkpoint's own count wins (a warning when -f "
                 "disagrees)")
      ->capture_default_str();
  cmd.add_option("--heads", m.heads, heads_help())->capture_default_str();
  cmd.add_flag("!--non-strict", m.strict_load,
               "load checkpoints partially, warning about skipped keys (default: strict)");
}

void add_runtime_options(CLI::App& cmd, engine::RuntimeOptions& r) {
  cmd.add_option("--device", r.device, "cpu, cuda or auto (cuda when available)")->capture_default_str();
  cmd.add_option("--threads", r.threads,
                 "CPU threads (0: all CPUs this process may use, or what OMP_NUM_THREADS says; more than that is "
                 "capped)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd.add_option("--precision", r.precision,
                 "inference arithmetic of the fast path: float32, or int8 (the temporal stage's linear layers in "
                 "8-bit integers)")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "int8"}));
  cmd.add_option("--impl", r.implementation, "PoseFormer code path: fast (CPU fast path) or reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"fast", "reference"}));
  cmd.add_flag("!--no-progress", r.progress, "no progress bars");
}

}  // namespace

int main(int argc, char** argv) {
  // Line-buffered stdout, so that a log of stdout and stderr together keeps their order (the
  // progress bars and warnings go to stderr).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  poselift::runtime::use_cpu_specific_blas_kernels(argv);  // may restart the program once
  poselift::runtime::route_stop_signals();                // before any thread starts
  poselift::runtime::keep_freed_memory_in_process();
  cli::install_terminal_sink();
  CLI::App app{"poselift: 3D human pose lifting with PoseFormer, natively in C++.\n"
               "The seed's command lines work with `python run_poseformer.py` replaced by `poselift`."};
  app.name("poselift");
  app.set_version_flag("--version", std::string("poselift ") + POSELIFT_VERSION);
  app.require_subcommand(1);

  cli::Options o;

  auto* info = app.add_subcommand("info", "Summarise a dataset (-d/-k) or inspect a .npz/.npy/checkpoint file");
  add_data_options(*info, o.data);
  info->add_option("file", o.file, "file to inspect instead of a dataset");
  info->add_option("--heads", o.model.heads, heads_help())->capture_default_str();

  auto* evaluate = app.add_subcommand("evaluate", "Evaluate a checkpoint: MPJPE, P-MPJPE, N-MPJPE, MPJVE per action");
  add_data_options(*evaluate, o.data);
  add_model_options(*evaluate, o.model);
  add_runtime_options(*evaluate, o.runtime);
  evaluate->add_option("--evaluate,--checkpoint-file", o.evaluate_file,
                       "checkpoint file name, relative to -c unless it exists as given")
      ->required();
  evaluate->add_option("-c,--checkpoint", o.checkpoint_dir, "checkpoint folder")->capture_default_str();
  evaluate->add_flag("--by-subject", o.by_subject, "break the errors down per subject");
  evaluate->add_flag("!--no-test-time-augmentation", o.test_time_augmentation, "disable flip augmentation (-no-tta)");
  evaluate->add_option("--json", o.json_out, "also write the figures as JSON");
  evaluate->add_option("-b,--batch-size", o.eval_batch, "windows per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));

  auto* forward = app.add_subcommand("forward", "Run a checkpoint on (B, F, J, 2) windows from a .npy file");
  forward->add_option("--checkpoint", o.checkpoint_file, "checkpoint (.bin, torch.save format)")->required();
  forward->add_option("--input", o.input, "(B, F, J, 2) float32 .npy")->required();
  forward->add_option("--out", o.output, "(B, 1, J, 3) float32 .npy to write")->required();
  forward->add_option("--heads", o.model.heads, heads_help())->capture_default_str();
  forward->add_option("-b,--batch-size", o.eval_batch, "windows per forward pass (the input runs in such chunks)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  forward->add_flag("!--non-strict", o.model.strict_load, "load the checkpoint partially");
  add_runtime_options(*forward, o.runtime);

  auto* bench = app.add_subcommand("bench", "Benchmarks that print figures");
  bench->add_option("what", o.bench_what,
                    "all (= model, train, eval, int8), model (inference), train (training step), eval (sequence "
                    "evaluation), int8 (int8 vs float32 inference), or dist (data-parallel training steps, 1 vs 2 "
                    "processes)")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "model", "train", "eval", "int8", "dist"}));
  bench->add_option("--batch", o.bench_batch, "dist: frames per training step over all processes")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("--processes", o.bench_processes, "dist: process counts to compare")
      ->capture_default_str()->check(CLI::Range(1, 64));
  bench->add_option("-f,--number-of-frames", o.model.frames, "frames")->capture_default_str();
  bench->add_option("--seconds", o.bench_seconds, "time per measurement")->capture_default_str();
  bench->add_option("--train-batch", o.bench_train_batch, "training step batch")->capture_default_str();
  bench->add_option("--train-steps", o.bench_train_steps, "training steps per path and thread count")
      ->capture_default_str();
  bench->add_flag("--emit-figures", o.bench_emit_figures, "internal: print bare figure lines (model, train)")
      ->group("");

  auto* train = app.add_subcommand("train", "Train PoseFormer from scratch or resume (the seed's default mode)");
  add_data_options(*train, o.data);
  add_model_options(*train, o.model);
  add_runtime_options(*train, o.runtime);
  train->add_option("-c,--checkpoint", o.train.checkpoint_dir, "checkpoint folder")->capture_default_str();
  train->add_option("--checkpoint-frequency", o.train.checkpoint_frequency, "write epoch_N.bin every N epochs")
      ->capture_default_str();
  train->add_option("-r,--resume", o.train.resume, "checkpoint to resume (file name in -c, or a path)");
  train->add_option("-e,--epochs", o.train.epochs, "training epochs")->capture_default_str()->check(
      CLI::Range(1, 1'000'000));
  train->add_option("-b,--batch-size", o.train.batch_size, "batch size in predicted frames")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  train->add_option("-s,--stride", o.train.stride, "consecutive target frames per shuffled chunk")
      ->capture_default_str();
  train->add_option("--dropout", o.dropout, "dropout probability (-drop; PoseFormer uses stochastic depth instead)");
  train->add_option("--learning-rate", o.train.learning_rate, "initial learning rate (-lr)")->capture_default_str();
  train->add_option("--lr-decay", o.train.lr_decay, "learning rate factor per epoch (-lrd)")->capture_default_str();
  train->add_option("--weight-decay", o.train.weight_decay, "AdamW weight decay")->capture_default_str();
  train->add_option("--drop-path", o.model.drop_path, "stochastic depth rate of the last block")
      ->capture_default_str();
  train->add_option("--width", o.model.embed_dim_ratio, "spatial embedding width per joint")->capture_default_str();
  train->add_option("--depth", o.model.depth, "transformer blocks per stage")->capture_default_str();
  train->add_flag("!--no-data-augmentation", o.train.data_augmentation, "disable flip augmentation (-no-da)");
  train->add_flag("!--no-test-time-augmentation", o.train.test_time_augmentation,
                  "disable flip augmentation at evaluation (-no-tta)");
  train->add_flag("--no-eval", o.train.no_eval, "skip the per-epoch evaluation");
  train->add_flag("--export-training-curves", o.train.export_training_curves,
                  "write training_curves.csv and loss_3d.png into -c after every epoch");
  train->add_flag("--by-subject", o.by_subject, "final evaluation broken down per subject");
  train->add_option("--seed", o.train.seed, "seed of the example shuffling (the original's is 1234)")
      ->capture_default_str();
  train->add_option("--max-batches", o.train.max_batches_per_epoch, "cap on batches per epoch (0: all)")
      ->capture_default_str();
  train->add_option("--torch-seed", o.torch_seed,
                    "seed LibTorch's generator (initial weights, stochastic depth) for reproducible runs; default: "
                    "random, as PyTorch")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--nproc", o.nproc,
                    "data-parallel on this host: start N ranks (-b is per rank); torchrun-style variables "
                    "(MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) start one rank instead")
      ->check(CLI::Range(1, 1024));
  train->add_option("--dist-timeout", o.dist_timeout,
                    "multi-process: seconds to wait for the other ranks before failing")
      ->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--check-every", o.train.check_every,
                    "multi-process: steps between checks that all ranks hold identical weights (0: epoch ends only)")
      ->capture_default_str();

  auto* prepare = app.add_subcommand("prepare", "Make datasets in the VideoPose3D layout");
  prepare->require_subcommand(1);
  auto* synthetic = prepare->add_subcommand("synthetic", "Procedural human motion (built-in data, no downloads)");
  synthetic->add_option("--out", o.prepare_out, "output folder")->capture_default_str();
  synthetic->add_option("--name", o.prepare_name, "dataset name (-d NAME)")->capture_default_str();
  synthetic->add_option("--seconds", o.synthetic_seconds, "seconds per action and subject")->capture_default_str();
  synthetic->add_option("--seed", o.prepare_seed, "random seed")->capture_default_str();
  synthetic->add_option("--noise", o.noise_strength, "detector-noise strength of the noisy 2D file")
      ->capture_default_str();
  synthetic->add_flag("--random-rigs", o.random_rigs, "randomised camera rigs per subject");
  auto* mocap = prepare->add_subcommand("mocap", "Import BVH / ASF+AMC motion capture with virtual cameras");
  mocap->add_option("--input", o.prepare_inputs, "motion files or folders (scanned recursively)")->required();
  mocap->add_option("--name", o.prepare_name, "dataset name (-d NAME)")->required();
  mocap->add_option("--out", o.prepare_out, "output folder")->capture_default_str();
  mocap->add_option("--fps", o.prepare_fps, "target frame rate (0 keeps the source's)")->capture_default_str();
  mocap->add_option("--seed", o.prepare_seed, "random seed (split, rigs, noise)")->capture_default_str();
  mocap->add_option("--noise", o.noise_strength, "detector-noise strength of the noisy 2D file")
      ->capture_default_str();
  mocap->add_option("--test-subjects", o.prepare_test_subjects, "performers to hold out for testing");
  mocap->add_option("--mapping", o.prepare_mappings, "JSON joint mapping files for other rigs");
  mocap->add_flag("--random-rigs", o.random_rigs, "randomised camera rigs per subject");
  mocap->add_flag("--skip-unreadable", o.skip_unreadable, "report unreadable files instead of failing");

  auto* render = app.add_subcommand("render", "Render 2D input and 3D reconstruction as MP4/GIF or an HTML player");
  add_data_options(*render, o.data);
  add_model_options(*render, o.model);
  add_runtime_options(*render, o.runtime);
  render->add_flag("--render", o.render_flag, "accepted for the seed's command lines (implied)");
  render->add_option("-c,--checkpoint", o.checkpoint_dir, "checkpoint folder (with --evaluate), or checkpoint file")
      ->capture_default_str();
  render->add_option("--evaluate,--checkpoint-file", o.evaluate_file, "checkpoint file name, relative to -c");
  render->add_flag("!--no-test-time-augmentation", o.test_time_augmentation, "disable flip augmentation (-no-tta)");
  render->add_option("-b,--batch-size", o.eval_batch, "windows per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  render->add_option("--viz-subject", o.viz_subject, "subject to render");
  render->add_option("--viz-action", o.viz_action, "action to render");
  render->add_option("--viz-camera", o.viz_camera, "camera to render")->capture_default_str();
  render->add_option("--viz-video,--video", o.viz_video, "video drawn under the 2D input");
  render->add_option("--viz-skip", o.viz_skip, "skip the first N frames of the video (and their poses)")
      ->capture_default_str();
  render->add_option("--viz-output,--out", o.viz_output, "output video (.mp4 H.264 or .gif)");
  render->add_option("--viz-export", o.viz_export, "also write the prediction as (T, J, 3) float32 .npy (camera space)");
  render->add_option("--viz-bitrate", o.viz_bitrate, "MP4 bitrate in kbit/s")->capture_default_str();
  render->add_flag("--viz-no-ground-truth", o.viz_no_ground_truth, "do not show the ground truth");
  render->add_option("--viz-limit", o.viz_limit, "render at most N frames (-1: all)")->capture_default_str();
  render->add_option("--viz-downsample", o.viz_downsample, "keep every N-th frame (fps divided by N)")
      ->capture_default_str();
  render->add_option("--viz-size", o.viz_size, "panel size in inches of the original (100 px each for MP4, 80 for GIF)")
      ->capture_default_str();
  render->add_option("--input", o.render_input, "an `infer` result (.npz) to render instead of predicting");
  render->add_option("--fps", o.render_fps, "frame rate (default: the dataset's, else the video's, else 50)");
  render->add_option("--html", o.html_out, "also write a self-contained interactive HTML player");

  auto* infer = app.add_subcommand("infer", "Lift a detector's 2D keypoints of your own video to 3D");
  {
    auto& i = o.infer;
    infer->add_option("--checkpoint", i.checkpoint, "PoseFormer checkpoint (Human3.6M-17 joints)")->required();
    infer->add_option("--input", i.input,
                      "COCO keypoint results .json, OpenPose folder or frame .json, VideoPose3D custom .npz, or .csv")
        ->required();
    infer->add_option("--out", i.output, "output .npz, .npy, .json, .csv or .bvh (format from the extension)")
        ->required();
    infer->add_option("--format", i.read.format, "input format: auto, coco, openpose, npz, csv")->capture_default_str();
    infer->add_option("--layout", i.read.layout, "keypoint layout: auto, coco, coco18, body25, h36m")
        ->capture_default_str();
    infer->add_option("--video", i.read.video, "video of a VideoPose3D custom .npz with several, or SUBJECT/ACTION[/CAMERA] of a dataset's data_2d_*.npz");
    infer->add_option("--width", i.width, "image width in pixels (when the input does not say)");
    infer->add_option("--height", i.height, "image height in pixels");
    infer->add_option("--person", i.person, "track to lift (0: the one seen longest), or 'all': <stem>.track<K><ext>")
        ->capture_default_str();
    infer->add_option("--min-confidence", i.tracking.min_confidence,
                      "keypoints below this confidence are missing and filled by interpolation")
        ->capture_default_str();
    infer->add_option("--min-detection-score", i.tracking.min_detection_score, "ignore detections scored below")
        ->capture_default_str();
    infer->add_option("--min-valid", i.fill.min_valid_fraction,
                      "reject tracks with fewer confident joint observations than this fraction")
        ->capture_default_str();
    infer->add_option("--fps", i.output_options.bvh.fps,
                      "frame rate written to .bvh and .json (default: the input's where it says, else 30)");
    infer->add_option("--bvh-bones", o.infer_bones, "BVH bone lengths: median (of the sequence) or h36m (proportions)")
        ->capture_default_str();
    infer->add_option("--heads", i.heads, heads_help())->capture_default_str();
    infer->add_flag("!--non-strict", i.strict, "load the checkpoint partially");
    infer->add_flag("!--no-test-time-augmentation", i.predict.test_time_augmentation, "disable flip augmentation");
    infer->add_option("-b,--batch-size", i.predict.max_batch, "windows per forward pass")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
    add_runtime_options(*infer, o.runtime);
  }


  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  args = cli::translate_seed_arguments(args, names);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const CLI::App* command = &app;
    for (const CLI::App* sub = command->get_subcommands().empty() ? nullptr : command->get_subcommands().front(); sub;
         sub = sub->get_subcommands().empty() ? nullptr : sub->get_subcommands().front())
      command = sub;
    std::vector<std::string> extras = command->remaining();
    if (command != &app && extras.empty()) extras = app.remaining();
    if (dynamic_cast<const CLI::ExtrasError*>(&e) && !extras.empty())
      fmt::print(stderr, "poselift: error: {}\n", cli::unexpected_arguments_message(app, *command, extras));
    else
      fmt::print(stderr, "poselift: error: {}\n", e.what());
    fmt::print(stderr, "Run `poselift{}{} --help` for the options.\n", command == &app ? "" : " ",
               command == &app ? "" : command->get_name());
    return 2;
  }
  // What a checkpoint knows wins over defaults: -f and --heads count as given only when typed.
  for (CLI::App* command : {info, evaluate, forward, render}) {
    if (!command->parsed()) continue;
    if (command->count("--heads") == 0) o.model.heads = 0;
    if (command != info && command != forward && command->count("-f") == 0) o.model.frames = 0;
  }
  if (infer->parsed() && infer->count("--heads") == 0) o.infer.heads = 0;
  if (infer->parsed() && infer->count("--fps") == 0) o.infer.output_options.bvh.fps = 0;

  try {
    if (info->parsed()) return cli::run_info(o);
    if (evaluate->parsed()) return cli::run_evaluate(o);
    if (forward->parsed()) return cli::run_forward(o);
    if (bench->parsed()) return o.bench_what == "dist" ? cli::run_bench_dist(o) : cli::run_bench(o);
    if (train->parsed()) return cli::run_train(o);
    if (synthetic->parsed()) return cli::run_prepare_synthetic(o);
    if (mocap->parsed()) return cli::run_prepare_mocap(o);
    if (render->parsed()) return cli::run_render(o);
    if (infer->parsed()) return cli::run_infer(o);
  } catch (const InputError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "poselift: LibTorch error: {}\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
