#include "bench/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "bench/path_comparison.hpp"
#include "bench/suite.hpp"
#include "bench/tables.hpp"
#include "model/poseformer.hpp"
#include "report/report.hpp"

namespace poselift::bench {

DataParallelFigures measure_training_steps(const model::PoseFormerConfig& config, int global_batch, double seconds,
                                           engine::Communicator* comm) {
  const int world = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  const int share = global_batch / world + (rank < global_batch % world ? 1 : 0);
  torch::manual_seed(7 + rank);
  model::PoseFormer net(config);
  net->train();
  auto parameters = net->parameters();
  if (comm) comm->broadcast(parameters);
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(1e-4).weight_decay(0.1));
  auto inputs = torch::randn({share, config.num_frames, config.num_joints, 2});
  auto targets = torch::randn({share, 1, config.num_joints, 3});

  using clock = std::chrono::steady_clock;
  DataParallelFigures f;
  f.processes = world;
  f.threads = torch::get_num_threads();
  f.global_batch = global_batch;
  double comm_seconds = 0;
  std::int64_t bytes_before = 0, grad_bytes = 0;
  clock::time_point start;
  for (int step = 0;; ++step) {
    if (step == 1) {  // the first step warms up allocations and connections
      start = clock::now();
      comm_seconds = 0;
      bytes_before = comm ? comm->bytes_allreduced() : 0;
      grad_bytes = 0;
    }
    optimizer.zero_grad();
    auto loss = (net->forward(inputs) - targets).norm(2, -1).mean();
    const double elapsed = step >= 1 ? std::chrono::duration<double>(clock::now() - start).count() : 0;
    // As in training: one small all-reduce (loss, frames, stop) then the gradient buckets.
    const bool stop = rank == 0 && step >= 1 && elapsed >= seconds;  // rank 0's clock decides
    std::vector<double> small = {share * loss.item<double>(), static_cast<double>(share), stop ? 1.0 : 0.0};
    if (comm) small = comm->allreduce_sum(small);
    loss.backward();
    if (comm) {
      const auto t0 = clock::now();
      const std::int64_t b0 = comm->bytes_allreduced();
      comm->allreduce_gradients(parameters, share / small[1]);
      grad_bytes += comm->bytes_allreduced() - b0;
      comm_seconds += std::chrono::duration<double>(clock::now() - t0).count();
    }
    optimizer.step();
    if (small[2] > 0) {
      f.steps = step;  // steps 1..step were timed
      break;
    }
  }
  const double total = std::chrono::duration<double>(clock::now() - start).count();
  const int steps = std::max(1, f.steps);
  f.steps_per_second = steps / total;
  f.frames_per_second = f.steps_per_second * global_batch;
  f.communication_ms_per_step = comm_seconds / steps * 1000;
  if (comm) {
    f.gradient_bytes_per_step = grad_bytes / steps;
    f.other_bytes_per_step = (comm->bytes_allreduced() - bytes_before - grad_bytes) / steps;
    f.buckets = comm->gradient_buckets();
    // Rank 0's figures for everybody.
    auto shared = comm->allreduce_sum({rank == 0 ? f.steps_per_second : 0.0, rank == 0 ? f.communication_ms_per_step : 0.0});
    f.steps_per_second = shared[0];
    f.frames_per_second = shared[0] * global_batch;
    f.communication_ms_per_step = shared[1];
  }
  return f;
}

namespace {

// One rank of a measurement that `bench dist` started: measures with the world of the
// environment; rank 0 returns its table row, the others nothing.
std::string data_parallel_rank(const model::PoseFormerConfig& config, int global_batch, double seconds) {
  const engine::WorldInfo world = engine::world_from_environment();
  std::unique_ptr<engine::Communicator> comm;
  if (world.distributed())
    comm = std::make_unique<engine::Communicator>(world, torch::kCPU, engine::CommunicatorOptions{});
  const auto figures = bench::measure_training_steps(config, global_batch, seconds, comm.get());
  return world.rank == 0 ? data_parallel_row(figures) : std::string();
}

}  // namespace

int run_data_parallel_benchmark(const BenchOptions& o, const BenchHooks& hooks) {
  const model::PoseFormerConfig config = bench_config(o);
  if (o.as_rank) {  // one rank of a measurement started below
    const std::string row = data_parallel_rank(config, o.dist_batch, o.seconds);
    if (!row.empty()) report::line(row);
    return 0;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  report::line(fmt::format("data-parallel training steps: PoseFormer {}, {} parameters ({:.2f} MB of float32 "
                           "gradients), {} frames per step over all processes, {} cores, c10d backends: {}",
                           config.describe(), model::count_parameters(config),
                           model::count_parameters(config) * 4 / 1e6, o.dist_batch, cores,
                           engine::distributed_backends()));
  report::line(data_parallel_header());
  int status = 0;
  for (int n : o.processes) status = std::max(status, hooks.launch_ranks(n));
  report::line("each rank sends and receives about 2(N-1)/N x the gradient MB per step in Gloo's ring all-reduce");
  return status;
}

}  // namespace poselift::bench
