#include <chrono>

#include "engine/distributed.hpp"
#include "model/poseformer.hpp"

namespace poselift::engine {

DataParallelFigures measure_training_steps(const model::PoseFormerConfig& config, int global_batch, double seconds,
                                           Communicator* comm) {
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

}  // namespace poselift::engine
