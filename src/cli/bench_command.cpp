// `poselift bench`: the fast path against the reference path, side by side, and data-parallel
// training steps with 1 and 2 processes (src/bench measures and formats; this starts processes).
#include <cstdio>
#include <memory>

#include "bench/suite.hpp"
#include "cli/command.hpp"
#include "cli/launch.hpp"

namespace poselift::cli {

namespace {

int run_bench(bench::BenchOptions options) {
  options.as_rank = options.what == "dist" && launched_as_rank();
  bench::BenchHooks hooks;
  hooks.run_self = [](const std::vector<std::string>& args, const bench::Environment& environment) {
    std::fflush(stdout);
    return run_self_for_output(args, environment);
  };
  hooks.launch_ranks = [](int processes) {
    std::fflush(stdout);  // the table's head before the ranks' rows
    LaunchOptions launch;
    launch.nproc = processes;
    launch.timeout_seconds = 60;
    launch.verbose = false;
    return launch_workers(launch);
  };
  const int status = bench::run_benchmarks(options, hooks);
  std::fflush(stdout);
  return status;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto o = std::make_shared<bench::BenchOptions>();
  auto* bench = app.add_subcommand("bench", "Benchmarks that print figures");
  bench->add_option("what", o->what,
                    "all (= model, train, eval, int8), model (inference), train (training step), eval (sequence "
                    "evaluation), int8 (int8 and, on CPUs with bfloat16 arithmetic, bf16 vs float32 inference), families (every model family side by side), or dist "
                    "(data-parallel training steps, 1 vs 2 processes), or video (poselift video's stages: BlazePose lite/full/heavy and "
                    "the whole command)")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "model", "train", "eval", "int8", "families", "dist", "video"}));
  bench->add_option("--video", o->video, "video: the clip (default: one made from python3-skimage's astronaut)");
  bench->add_option("--models", o->models, "video: the @mediapipe/pose folder (default: as poselift video finds it)");
  bench->add_option("--batch", o->dist_batch, "dist: frames per training step over all processes")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("--processes", o->processes, "dist: process counts to compare")
      ->capture_default_str()->check(CLI::Range(1, 64));
  bench->add_option("-f,--number-of-frames", o->frames, "frames")->capture_default_str();
  bench->add_option("--seconds", o->seconds, "time per measurement")->capture_default_str();
  bench->add_option("--train-batch", o->train_batch, "training step batch")->capture_default_str();
  bench->add_option("--train-steps", o->train_steps, "training steps per path and thread count")
      ->capture_default_str();
  bench->add_option("--clip-passes", o->clip_passes,
                    "families: timed passes per path of one full clip of MixSTE and MotionBERT (after a warm-up)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_flag("--emit-figures", o->emit_figures, "internal: print bare figure lines (model, train)")->group("");

  return {bench, [o] { return run_bench(*o); }};
}

}  // namespace poselift::cli
