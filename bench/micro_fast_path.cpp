// Micro-benchmarks of the fast path's pieces at the published model's shapes (batch 64 windows
// of 81 frames): `build/micro_bench --benchmark_filter=...`. Whole-model figures: `poselift bench`.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "engine/runtime.hpp"
#include "model/fast_poseformer.hpp"
#include "model/poseformer.hpp"
#include "runtime/memory.hpp"
#include "runtime/threads.hpp"

namespace {

using poselift::model::fast::attention;
using poselift::model::fast::linear;

// Spatial stage: 64 x 81 frames of 17 joint tokens, width 32, 8 heads of 4.
void SpatialAttention(benchmark::State& state) {
  poselift::runtime::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  auto qkv = torch::randn({64 * 81, 17, 96});
  for (auto _ : state) benchmark::DoNotOptimize(attention(qkv, 8));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(SpatialAttention)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Temporal stage: 64 windows of 81 frame tokens, width 544, 8 heads of 68.
void TemporalAttention(benchmark::State& state) {
  poselift::runtime::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  auto qkv = torch::randn({64, 81, 3 * 544});
  for (auto _ : state) benchmark::DoNotOptimize(attention(qkv, 8));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(TemporalAttention)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The temporal qkv projection with bias: (5184 x 544) by (544 x 1632).
void TemporalQkvProjection(benchmark::State& state) {
  poselift::runtime::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  auto x = torch::randn({64, 81, 544});
  auto w = torch::randn({1632, 544});
  auto b = torch::randn({1632});
  for (auto _ : state) benchmark::DoNotOptimize(linear(x, w, b));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 5184 * 544 * 1632 * state.iterations(),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(TemporalQkvProjection)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The whole fast forward pass of the published 81-frame model at batch 64 (inference): for
// profiling the pieces in context (`perf record build/micro_bench --benchmark_filter=Forward`).
void FastForwardBatch64(benchmark::State& state) {
  poselift::runtime::keep_freed_memory_in_process();  // as poselift's main() does
  poselift::runtime::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  poselift::model::PoseFormer net{poselift::model::PoseFormerConfig{}};
  net->eval();
  auto input = torch::randn({64, 81, 17, 2});
  for (auto _ : state) benchmark::DoNotOptimize(net->forward(input));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(FastForwardBatch64)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The spatial stage at inference (one SIMD-lane group of frames at a time, in cache) for the
// 64 x 81 frames of a batch of 64 windows.
void SpatialStage(benchmark::State& state) {
  poselift::runtime::keep_freed_memory_in_process();
  poselift::runtime::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  poselift::model::PoseFormer net{poselift::model::PoseFormerConfig{}};
  net->eval();
  auto frames = torch::randn({64 * 81, 17, 2});
  for (auto _ : state) benchmark::DoNotOptimize(net->spatial_features(frames));
  state.SetItemsProcessed(state.iterations() * 64 * 81);
}
BENCHMARK(SpatialStage)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One training step of the fast path (forward, MPJPE, backward, AdamW) at batch 64.
void FastTrainingStepBatch64(benchmark::State& state) {
  poselift::runtime::keep_freed_memory_in_process();
  poselift::runtime::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::manual_seed(0);
  poselift::model::PoseFormerConfig config;
  config.drop_path_rate = 0.1;
  poselift::model::PoseFormer net{config};
  net->train();
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(1e-4).weight_decay(0.1));
  auto input = torch::randn({64, 81, 17, 2});
  auto target = torch::randn({64, 1, 17, 3});
  for (auto _ : state) {
    optimizer.zero_grad();
    auto loss = (net->forward(input) - target).norm(2, -1).mean();
    loss.backward();
    optimizer.step();
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(FastTrainingStepBatch64)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Layer norm over the spatial (32) and temporal (544) rows of a batch of 64 windows.
void LayerNorm(benchmark::State& state) {
  poselift::runtime::keep_freed_memory_in_process();
  poselift::runtime::set_cpu_threads(1);
  torch::NoGradGuard no_grad;
  const std::int64_t C = state.range(0), M = 64 * 81 * 544 / C;
  auto x = torch::randn({M, C}), w = torch::randn({C}), b = torch::randn({C});
  for (auto _ : state) benchmark::DoNotOptimize(poselift::model::fast::layer_norm(x, w, b, 1e-6));
  state.counters["GB/s"] = benchmark::Counter(8.0 * M * C * state.iterations(), benchmark::Counter::kIsRate,
                                              benchmark::Counter::kIs1000);
}
BENCHMARK(LayerNorm)->Arg(32)->Arg(544)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
