// `poselift bench`: the fast path against the reference path, side by side, and data-parallel
// training steps with 1 and 2 processes.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/command.hpp"
#include "cli/launch.hpp"
#include "engine/benchmark.hpp"
#include "engine/distributed.hpp"
#include "model/fast_poseformer.hpp"
#include "runtime/blas.hpp"
#include "runtime/memory.hpp"

namespace poselift::cli {

namespace {

struct BenchFlags {
  engine::ModelOptions model;
  std::string bench_what = "all";
  double bench_seconds = 3.0;
  int bench_train_batch = 256, bench_train_steps = 2;
  int bench_batch = 32;       // bench dist: frames per step over all processes
  std::vector<int> bench_processes = {1, 2};
  bool bench_emit_figures = false;  // internal: a child measuring for its parent prints bare figures
};

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
std::vector<engine::PathFigures> figures_on_stock_blas(const BenchFlags& o, const std::string& what,
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

std::vector<engine::PathFigures> training_figures(const BenchFlags& o, const model::PoseFormerConfig& config) {
  std::vector<engine::PathFigures> figures;
  for (int threads : {1, 2}) {
    auto config_train = config;
    config_train.drop_path_rate = 0.1;
    figures.push_back(engine::compare_training_step(config_train, threads, o.bench_train_batch, o.bench_train_steps));
  }
  return figures;
}

int run_bench(const BenchFlags& o) {
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

int run_bench_dist(const BenchFlags& o) {
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

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchFlags>();
  auto* bench = app.add_subcommand("bench", "Benchmarks that print figures");
  bench->add_option("what", o->bench_what,
                    "all (= model, train, eval, int8), model (inference), train (training step), eval (sequence "
                    "evaluation), int8 (int8 vs float32 inference), or dist (data-parallel training steps, 1 vs 2 "
                    "processes)")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "model", "train", "eval", "int8", "dist"}));
  bench->add_option("--batch", o->bench_batch, "dist: frames per training step over all processes")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench->add_option("--processes", o->bench_processes, "dist: process counts to compare")
      ->capture_default_str()->check(CLI::Range(1, 64));
  bench->add_option("-f,--number-of-frames", o->model.frames, "frames")->capture_default_str();
  bench->add_option("--seconds", o->bench_seconds, "time per measurement")->capture_default_str();
  bench->add_option("--train-batch", o->bench_train_batch, "training step batch")->capture_default_str();
  bench->add_option("--train-steps", o->bench_train_steps, "training steps per path and thread count")
      ->capture_default_str();
  bench->add_flag("--emit-figures", o->bench_emit_figures, "internal: print bare figure lines (model, train)")
      ->group("");

  return {bench, [o] { return o->bench_what == "dist" ? run_bench_dist(*o) : run_bench(*o); }};
}

}  // namespace poselift::cli
