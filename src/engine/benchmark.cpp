#include "engine/benchmark.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "engine/predict.hpp"
#include "engine/runtime.hpp"
#include "runtime/threads.hpp"

namespace poselift::engine {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_of(const std::function<void()>& work) {
  const auto start = Clock::now();
  work();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `reference` and `fast` alternately until `seconds` have passed in total (at least two
// passes each) and returns the seconds per pass of each.
std::pair<double, double> alternate(const std::function<void()>& reference, const std::function<void()>& fast,
                                    double seconds) {
  reference();  // warm-up: allocator, BLAS buffers, kernel dispatch
  fast();
  double ref_total = 0, fast_total = 0;
  int passes = 0;
  while (passes < 2 || ref_total + fast_total < seconds) {
    ref_total += seconds_of(reference);
    fast_total += seconds_of(fast);
    ++passes;
  }
  return {ref_total / passes, fast_total / passes};
}

model::PoseFormer benchmark_model(const model::PoseFormerConfig& config) {
  torch::manual_seed(0);
  return model::PoseFormer(config);
}

struct ThreadScope {
  explicit ThreadScope(int threads) : saved(torch::get_num_threads()) { runtime::set_cpu_threads(threads); }
  ~ThreadScope() { runtime::set_cpu_threads(saved); }
  int saved;
};

}  // namespace

std::vector<PathFigures> compare_inference(const model::PoseFormerConfig& config, const std::vector<int>& thread_counts,
                                           const std::vector<int>& batches, double seconds) {
  auto net = benchmark_model(config);
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<PathFigures> out;
  for (int threads : thread_counts) {
    ThreadScope scope(threads);
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
  ThreadScope scope(threads);
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
  ThreadScope scope(threads);
  auto net = benchmark_model(config);
  net->eval();
  net->set_implementation(model::Implementation::fast);
  torch::NoGradGuard no_grad;
  auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
  net->forward(input);
  model::fast::reset_gemm_tally();
  model::fast::set_gemm_tally(true);
  double total = 0;
  int passes = 0;
  while (passes < 2 || total < seconds) {
    total += seconds_of([&] { net->forward(input); });
    ++passes;
  }
  model::fast::set_gemm_tally(false);
  GemmShare share;
  const auto tally = model::fast::gemm_tally();
  share.gemm_seconds_share = tally.seconds / total;
  for (const auto& [name, seconds] : tally.phases) share.phases.emplace_back(name, seconds / total);
  const std::int64_t tokens = static_cast<std::int64_t>(batch) * config.num_frames, D = config.temporal_dim();
  share.gemm_gflops = model::fast::measure_gemm_gflops(tokens, 3 * D, D, std::min(seconds, 2.0));
  share.bound_frames_per_second = share.gemm_gflops * 1e9 / model::forward_flops_per_frame(config);
  return share;
}

PathFigures compare_sequence_evaluation(const model::PoseFormerConfig& config, int threads, int frames,
                                        double seconds) {
  ThreadScope scope(threads);
  auto net = benchmark_model(config);
  net->eval();
  torch::NoGradGuard no_grad;
  auto keypoints = torch::rand({frames, config.num_joints, config.in_chans}) * 2 - 1;
  FlipSymmetry symmetry{{4, 5, 6, 11, 12, 13}, {1, 2, 3, 14, 15, 16}, {4, 5, 6, 11, 12, 13}, {1, 2, 3, 14, 15, 16}};
  if (config.num_joints != 17) symmetry = {};
  PredictOptions options;
  auto run = [&](model::Implementation impl) {
    return [&, impl] {
      net->set_implementation(impl);
      predict_sequence(net, keypoints, symmetry, options, torch::kCPU);
    };
  };
  const auto [ref, fast] = alternate(run(model::Implementation::reference), run(model::Implementation::fast), seconds);
  return {threads, frames, frames / ref, frames / fast};
}

PrecisionFigures compare_int8_inference(const model::PoseFormerConfig& config, int threads, int batch,
                                        double seconds) {
  ThreadScope scope(threads);
  auto net = benchmark_model(config);
  net->eval();
  net->set_implementation(model::Implementation::fast);
  torch::NoGradGuard no_grad;
  const auto saved = model::inference_precision();
  auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
  auto run = [&](model::Precision precision) {
    return [&, precision] {
      model::set_inference_precision(precision);
      net->forward(input);
    };
  };
  const auto [f32, i8] = alternate(run(model::Precision::float32), run(model::Precision::int8), seconds);
  PrecisionFigures figures;
  figures.rates = {threads, batch, batch / f32, batch / i8};
  model::set_inference_precision(model::Precision::float32);
  const auto exact = net->forward(input);
  model::set_inference_precision(model::Precision::int8);
  const auto quantised = net->forward(input);
  model::set_inference_precision(saved);
  figures.max_abs_difference = (exact - quantised).abs().max().item<double>();
  figures.mean_joint_distance = (exact - quantised).norm(2, -1).mean().item<double>();
  return figures;
}

}  // namespace poselift::engine
