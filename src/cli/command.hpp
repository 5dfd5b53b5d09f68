// A subcommand of the CLI: its flags, defined on a CLI11 subcommand, and what runs when it was
// given. Each src/cli/<name>_command.cpp defines one or two; main.cpp lists them.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "engine/infer.hpp"
#include "engine/options.hpp"

namespace poselift::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;  // called when `app` was parsed
};

Command add_info_command(CLI::App& app);
Command add_evaluate_command(CLI::App& app);
Command add_forward_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_train_command(CLI::App& app);
std::vector<Command> add_prepare_commands(CLI::App& app);  // prepare synthetic, prepare mocap
Command add_render_command(CLI::App& app);
Command add_infer_command(CLI::App& app);
Command add_video_command(CLI::App& app);

// The flags of lifting and writing that `infer` and `video` share (checkpoint, --out, smoothing,
// the floor, BVH axes, model, predict and runtime blocks); `settle_lifting_flags` runs after
// parsing, `lifting_options` turns the text flags into options (InputError for bad values).
struct LiftingFlags {
  engine::InferOptions infer;
  std::string infer_bones = "median";
  std::string up = "y", forward;
  std::string smooth;
};
void add_lifting_flags(CLI::App& cmd, LiftingFlags& flags);
void settle_lifting_flags(CLI::App& cmd, LiftingFlags& flags);
engine::InferOptions lifting_options(const LiftingFlags& flags);

// Flag blocks shared by several commands: each flag is defined (and range-checked) once here.
void add_data_options(CLI::App& cmd, engine::DataOptions& data);
// -f, the architecture flags (--width, --depth, -arc, -ch, -frame-kept, -coeff-kept) and the
// loading options.
void add_model_options(CLI::App& cmd, engine::ModelOptions& model);
// -f alone: for commands that load a checkpoint (PoseFormerV2's window is not in its file).
void add_window_option(CLI::App& cmd, engine::ModelOptions& model);
// --model, --heads, --causal, --dense, --layer-norm-eps, --config, --non-strict.
void add_loading_options(CLI::App& cmd, engine::ModelOptions& model);
void add_runtime_options(CLI::App& cmd, engine::RuntimeOptions& runtime);
// --no-test-time-augmentation and, with `batch`, -b/--batch-size (windows per forward pass).
void add_predict_options(CLI::App& cmd, engine::PredictOptions& predict, bool batch = true);
// -c/--checkpoint PATH and --evaluate/--checkpoint-file FILE, the same in every command that
// reads a checkpoint (engine::resolve_checkpoint_path); `evaluate` requires the file, as the
// original's --evaluate mode does.
void add_checkpoint_options(CLI::App& cmd, engine::CheckpointOptions& checkpoint, bool file_required = false);
const char* heads_help();

// What a checkpoint knows wins over defaults: -f and --heads count as given only when typed.
void forget_untyped_model_flags(CLI::App& cmd, engine::ModelOptions& model);

}  // namespace poselift::cli
