#include "bench/path_comparison.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "bench/suite.hpp"
#include "bench/timing.hpp"
#include "bench/tables.hpp"
#include "data/h36m.hpp"
#include "engine/infer.hpp"
#include "engine/predict.hpp"
#include "model/fast_bf16.hpp"
#include "report/report.hpp"
#include "runtime/blas.hpp"
#include "runtime/memory.hpp"
#include "runtime/threads.hpp"

namespace poselift::bench {

namespace {

model::PoseFormer benchmark_model(const model::PoseFormerConfig& config) {
  torch::manual_seed(0);
  return model::PoseFormer(config);
}

// The benchmark model in eval mode on the fast path, for inference measurements.
model::PoseFormer fast_inference_model(const model::PoseFormerConfig& config) {
  auto net = benchmark_model(config);
  net->eval();
  net->set_implementation(model::Implementation::fast);
  return net;
}

}  // namespace

std::vector<PathFigures> compare_inference(const model::PoseFormerConfig& config, const std::vector<int>& thread_counts,
                                           const std::vector<int>& batches, double seconds) {
  auto net = benchmark_model(config);
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<PathFigures> out;
  for (int threads : thread_counts) {
    runtime::CpuThreadScope scope(threads);
    for (int batch : batches) {
      auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
      auto run = [&](model::Implementation impl) {
        return [&, impl] {
          net->set_implementation(impl);
          net->forward(input);
        };
      };
      const auto [ref, fast] = alternate(run(model::Implementation::reference), run(model::Implementation::fast), seconds);
      out.push_back({threads, batch, batch / ref, batch / fast});
    }
  }
  return out;
}

PathFigures compare_training_step(const model::PoseFormerConfig& config, int threads, int batch, int steps) {
  runtime::CpuThreadScope scope(threads);
  auto net = benchmark_model(config);
  net->train();
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(1e-4).weight_decay(0.1));
  auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
  auto target = torch::randn({batch, 1, config.num_joints, 3});
  auto step = [&](model::Implementation impl) {
    return [&, impl] {
      net->set_implementation(impl);
      optimizer.zero_grad();
      auto loss = (net->forward(input) - target).norm(2, -1).mean();
      loss.backward();
      optimizer.step();
    };
  };
  // Whole steps alternate (one warm-up each first): a step is long, so no time budget.
  double ref_total = 0, fast_total = 0;
  step(model::Implementation::reference)();
  step(model::Implementation::fast)();
  for (int i = 0; i < steps; ++i) {
    ref_total += seconds_of(step(model::Implementation::reference));
    fast_total += seconds_of(step(model::Implementation::fast));
  }
  return {threads, batch, steps / ref_total, steps / fast_total};
}

GemmShare measure_gemm_share(const model::PoseFormerConfig& config, int threads, int batch, double seconds) {
  runtime::CpuThreadScope scope(threads);
  auto net = fast_inference_model(config);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
  net->forward(input);
  model::fast::GemmTally tally;
  double total = 0;
  {
    model::fast::GemmTallyScope tallying;
    int passes = 0;
    while (passes < 2 || total < seconds) {
      total += seconds_of([&] { net->forward(input); });
      ++passes;
    }
    tally = tallying.tally();
  }
  GemmShare share;
  share.gemm_seconds_share = tally.seconds / total;
  for (const auto& [name, seconds] : tally.phases) share.phases.emplace_back(name, seconds / total);
  const std::int64_t tokens = static_cast<std::int64_t>(batch) * config.num_frames, D = config.temporal_dim();
  share.gemm_gflops = model::fast::measure_gemm_gflops(tokens, 3 * D, D, std::min(seconds, 2.0));
  share.bound_frames_per_second = share.gemm_gflops * 1e9 / model::forward_flops_per_frame(config);
  return share;
}

PathFigures compare_sequence_evaluation(const model::PoseFormerConfig& config, int threads, int frames,
                                        double seconds) {
  runtime::CpuThreadScope scope(threads);
  auto net = benchmark_model(config);
  net->eval();
  torch::NoGradGuard no_grad;
  auto keypoints = torch::rand({frames, config.num_joints, config.in_chans}) * 2 - 1;
  engine::FlipSymmetry symmetry = engine::h36m_symmetry();
  if (config.num_joints != data::h36m::kJoints) symmetry = {};
  engine::PredictOptions options;
  auto run = [&](model::Implementation impl) {
    return [&, impl] {
      net->set_implementation(impl);
      engine::predict_sequence(*net, keypoints, symmetry, options, torch::kCPU);
    };
  };
  const auto [ref, fast] = alternate(run(model::Implementation::reference), run(model::Implementation::fast), seconds);
  return {threads, frames, frames / ref, frames / fast};
}

PrecisionFigures compare_reduced_inference(const model::PoseFormerConfig& config, model::Precision precision,
                                           int threads, int batch, double seconds) {
  runtime::CpuThreadScope scope(threads);
  auto net = fast_inference_model(config);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
  auto forward_in = [&](model::Precision precision) {
    model::PrecisionScope scope(precision);
    return net->forward(input);
  };
  auto run = [&](model::Precision p) { return [&, p] { forward_in(p); }; };
  const auto [f32, low] = alternate(run(model::Precision::float32), run(precision), seconds);
  PrecisionFigures figures;
  figures.rates = {threads, batch, batch / f32, batch / low};
  const auto exact = forward_in(model::Precision::float32);
  const auto reduced = forward_in(precision);
  figures.max_abs_difference = (exact - reduced).abs().max().item<double>();
  figures.mean_joint_distance = (exact - reduced).norm(2, -1).mean().item<double>();
  return figures;
}

// ---- the tables of `bench` all|model|train|eval|int8 ----

model::PoseFormerConfig bench_config(const BenchOptions& o) {
  model::PoseFormerConfig config;
  config.num_frames = o.frames;
  config.validate();
  return config;
}

namespace {

void lines(const std::vector<std::string>& texts) {
  for (const auto& text : texts) report::line(text);
}

std::vector<PathFigures> training_figures(const BenchOptions& o, const model::PoseFormerConfig& config) {
  std::vector<PathFigures> figures;
  for (int threads : {1, 2}) {
    auto config_train = config;
    config_train.drop_path_rate = 0.1;
    figures.push_back(compare_training_step(config_train, threads, o.train_batch, o.train_steps));
  }
  return figures;
}

std::vector<PathFigures> inference_figures(const model::PoseFormerConfig& config, double seconds) {
  return compare_inference(config, {1, 2}, {1, 64}, seconds);
}

// Both paths again, on OpenBLAS's own choice of kernels for this CPU, in a child process
// (OpenBLAS fixes its kernels when it loads); both paths alternate in it.
std::vector<PathFigures> figures_on_stock_blas(const BenchOptions& o, const BenchHooks& hooks, const std::string& what,
                                               const std::string& stock_core) {
  const auto output = hooks.run_self({"bench", what, "--emit-figures", "-f", std::to_string(o.frames), "--seconds",
                                      fmt::format("{}", o.seconds), "--train-batch", std::to_string(o.train_batch),
                                      "--train-steps", std::to_string(o.train_steps)},
                                     {{"OPENBLAS_CORETYPE", stock_core}});
  return parse_figure_lines(output, what == "model" ? "inference" : "training");
}

// The tables of one comparison: here, and on the stock BLAS kernels when poselift chose others.
struct BlasContext {
  std::string core = runtime::blas_core_name(), stock_core = runtime::stock_blas_core_name();
  std::string tuned_heading() const {
    return fmt::format("against the reference on OpenBLAS's {} kernels (this process)", core);
  }
  std::string stock_heading() const {
    return fmt::format(
        "against the reference on OpenBLAS's own pick for this CPU, {} kernels: the straightforward LibTorch path as "
        "Debian runs it (a child process; both paths alternate in it)",
        stock_core);
  }
};

void print_intro(const model::PoseFormerConfig& config, const BlasContext& blas) {
  const double flops = model::forward_flops_per_frame(config);
  report::line(fmt::format("PoseFormer {}", config.describe()));
  report::line(fmt::format("parameters: {}; forward: {:.3f} GFLOP per output frame; fast path GEMM: {}; hardware "
                           "threads: {}",
                           model::count_parameters(config), flops / 1e9, model::fast_gemm_backend(),
                           std::thread::hardware_concurrency()));
  if (!blas.core.empty())
    report::line(fmt::format(
        "reference path's BLAS: OpenBLAS with {} kernels{}", blas.core,
        !blas.stock_core.empty()
            ? fmt::format(" (chosen by poselift; OpenBLAS picks {} on this CPU by itself)", blas.stock_core)
        : std::getenv("OPENBLAS_CORETYPE") != nullptr ? " (OPENBLAS_CORETYPE)"
                                                        : ""));
  report::line("(reference = the straightforward LibTorch module, fast = poselift's CPU path; measured alternately)");
}

void inference_tables(const BenchOptions& o, const BenchHooks& hooks, const model::PoseFormerConfig& config,
                      const BlasContext& blas) {
  const double flops = model::forward_flops_per_frame(config);
  auto table = [&](const std::vector<PathFigures>& figures) {
    report::line(inference_header());
    for (const auto& f : figures) report::line(inference_row(f, flops));
  };
  report::line("");
  report::line("inference, independent windows (no reuse between them)");
  if (!blas.stock_core.empty()) report::line(blas.tuned_heading());
  table(inference_figures(config, o.seconds));
  if (!blas.stock_core.empty()) {
    report::line(blas.stock_heading());
    table(figures_on_stock_blas(o, hooks, "model", blas.stock_core));
  }
  report::line("");
  report::line("fast path at batch 64: share of time in the linear layers' GEMMs, GEMM-bound limit");
  report::line(gemm_share_header());
  for (int threads : {1, 2}) lines(gemm_share_rows(threads, measure_gemm_share(config, threads, 64, o.seconds)));
}

void training_tables(const BenchOptions& o, const BenchHooks& hooks, const model::PoseFormerConfig& config,
                     const BlasContext& blas) {
  auto table = [&](const std::vector<PathFigures>& figures) {
    report::line(training_header());
    for (const auto& f : figures) report::line(training_row(f));
  };
  report::line("");
  report::line(fmt::format("training step (forward + MPJPE + backward + AdamW), batch {}, {} frames", o.train_batch,
                           config.num_frames));
  if (!blas.stock_core.empty()) report::line(blas.tuned_heading());
  table(training_figures(o, config));
  if (!blas.stock_core.empty()) {
    report::line(blas.stock_heading());
    table(figures_on_stock_blas(o, hooks, "train", blas.stock_core));
  }
}

void sequence_table(const BenchOptions& o, const model::PoseFormerConfig& config) {
  constexpr int kEvalFrames = 1000;  // a long Human3.6M take; the reference needs ~20 s per pass
  report::line("");
  report::line(fmt::format(
      "sequence evaluation with flip augmentation (frame features reused across windows), {} frames", kEvalFrames));
  report::line(sequence_header());
  for (int threads : {1, 2})
    report::line(sequence_row(threads, compare_sequence_evaluation(config, threads, kEvalFrames, o.seconds)));
}

void int8_table(const BenchOptions& o, const model::PoseFormerConfig& config) {
  report::line("");
  if (model::fast_gemm_backend() != "oneDNN") {
    report::line("int8 inference: needs oneDNN (not in this build)");
    return;
  }
  report::line("reduced precision (optional): fast path in float32 vs int8 (temporal linear layers), batch 64");
  report::line(precision_header("int8"));
  for (int threads : {1, 2})
    report::line(precision_row(threads, compare_reduced_inference(config, model::Precision::int8, threads, 64, o.seconds)));
  report::line("");
  const std::string isa = model::bf16_isa();
  if (isa.empty()) {
    report::line("bf16 inference: this CPU (or build) has no bfloat16 arithmetic (AVX512-BF16 or AMX)");
    return;
  }
  // The temporal stage's query/key/value product at batch 64: the shape that dominates inference.
  const std::int64_t tokens = std::int64_t{64} * config.num_frames, D = config.temporal_dim();
  report::line(fmt::format("bf16 on {} (oneDNN matmul: {}), the same model and batch:", isa,
                           model::bf16_matmul_implementation(tokens, 3 * D, D)));
  report::line(precision_header("bf16"));
  for (int threads : {1, 2})
    report::line(precision_row(threads, compare_reduced_inference(config, model::Precision::bf16, threads, 64, o.seconds)));
  for (int threads : {1, 2}) {
    runtime::CpuThreadScope scope(threads);
    const double seconds = std::min(o.seconds, 2.0);
    report::line(fmt::format("  temporal qkv GEMM {}x{}x{}, {} thread(s): float32 {:.0f} GFLOP/s, bf16 {:.0f} GFLOP/s",
                             tokens, 3 * D, D, threads, model::fast::measure_gemm_gflops(tokens, 3 * D, D, seconds),
                             model::fast::measure_bf16_gflops(tokens, 3 * D, D, seconds)));
  }
}

}  // namespace

int run_path_benchmarks(const BenchOptions& o, const BenchHooks& hooks) {
  const model::PoseFormerConfig config = bench_config(o);
  if (o.emit_figures) {
    if (o.what == "model") lines(figure_lines("inference", inference_figures(config, o.seconds)));
    if (o.what == "train") lines(figure_lines("training", training_figures(o, config)));
    return 0;
  }
  const BlasContext blas;
  print_intro(config, blas);
  const bool all = o.what == "all";
  if (all || o.what == "model") inference_tables(o, hooks, config, blas);
  if (all || o.what == "train") training_tables(o, hooks, config, blas);
  if (all || o.what == "eval") sequence_table(o, config);
  if (all || o.what == "int8") int8_table(o, config);
  report::line("");
  report::line(fmt::format("peak memory: {:.0f} MiB", runtime::peak_memory_mib()));
  return 0;
}

}  // namespace poselift::bench
