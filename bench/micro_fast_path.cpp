// Micro-benchmarks of the fast path's pieces at the published model's shapes (batch 64 windows
// of 81 frames): `build/micro_bench --benchmark_filter=...`. Whole-model figures: `poselift bench`.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "engine/runtime.hpp"
#include "model/fast_poseformer.hpp"

namespace {

using poselift::model::fast::attention;
using poselift::model::fast::linear;

// Spatial stage: 64 x 81 frames of 17 joint tokens, width 32, 8 heads of 4.
void SpatialAttention(benchmark::State& state) {
  poselift::engine::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  auto qkv = torch::randn({64 * 81, 17, 96});
  for (auto _ : state) benchmark::DoNotOptimize(attention(qkv, 8));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(SpatialAttention)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Temporal stage: 64 windows of 81 frame tokens, width 544, 8 heads of 68.
void TemporalAttention(benchmark::State& state) {
  poselift::engine::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  auto qkv = torch::randn({64, 81, 3 * 544});
  for (auto _ : state) benchmark::DoNotOptimize(attention(qkv, 8));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(TemporalAttention)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The temporal qkv projection with bias: (5184 x 544) by (544 x 1632).
void TemporalQkvProjection(benchmark::State& state) {
  poselift::engine::set_cpu_threads(static_cast<int>(state.range(0)));
  torch::NoGradGuard no_grad;
  auto x = torch::randn({64, 81, 544});
  auto w = torch::randn({1632, 544});
  auto b = torch::randn({1632});
  for (auto _ : state) benchmark::DoNotOptimize(linear(x, w, b));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 5184 * 544 * 1632 * state.iterations(),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(TemporalQkvProjection)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
