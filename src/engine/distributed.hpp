// Data-parallel training over PyTorch's c10d: a TCPStore rendezvous and a Gloo process group
// (NCCL for CUDA devices when LibTorch was built with it), the same engine as PyTorch's
// DistributedDataParallel. The c10d types stay inside distributed.cpp so this header is cheap.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace poselift::engine {

// Where this process sits in the job, as torchrun describes it (MASTER_ADDR, MASTER_PORT, RANK,
// WORLD_SIZE, LOCAL_RANK). A process without these variables is a world of one.
struct WorldInfo {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool distributed() const { return world_size > 1; }
};

// Reads the torchrun variables; InputError naming the variable when one is malformed.
WorldInfo world_from_environment();

// True when this build has c10d (Gloo); "nccl" support is reported by the backend names below.
bool distributed_available();
std::string distributed_backends();  // e.g. "gloo" or "gloo, nccl"

// A peer died, the network failed or a collective timed out: the message says which operation
// and what to do next.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommunicatorOptions {
  double timeout_seconds = 300;  // rendezvous and every collective (--dist-timeout)
};

// One rank's handle on the process group. Every method is a collective: all ranks call the
// same methods in the same order.
class Communicator {
 public:
  // Rendezvous through a TCPStore on MASTER_ADDR:MASTER_PORT (served by rank 0) and build the
  // process group: NCCL for a CUDA device when available, Gloo otherwise.
  Communicator(const WorldInfo& world, const torch::Device& device, const CommunicatorOptions& options);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return world_.rank; }
  int size() const { return world_.world_size; }
  const std::string& backend() const { return backend_; }

  // Copies rank 0's tensors into every rank's (in place).
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Multiplies each parameter's gradient by `scale`, then sums them over the ranks in buckets
  // sized as DistributedDataParallel sizes them (1 MiB first, then 25 MiB). Missing gradients
  // count as zeros (a rank without examples in a step still takes part).
  void allreduce_gradients(const std::vector<torch::Tensor>& parameters, double scale);
  // Element-wise sum over the ranks, in float64.
  std::vector<double> allreduce_sum(const std::vector<double>& values);
  // Element-wise minimum and maximum over the ranks.
  std::pair<std::vector<double>, std::vector<double>> allreduce_min_max(const std::vector<double>& values);
  void barrier();
  // Named in the errors of later collectives (where to resume from).
  void set_last_checkpoint(std::string path) { last_checkpoint_ = std::move(path); }

  // Bytes handed to all-reduce by this rank so far, and the number of all-reduce calls.
  std::int64_t bytes_allreduced() const { return bytes_allreduced_; }
  std::int64_t gradient_buckets() const { return static_cast<std::int64_t>(buckets_.size()); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  WorldInfo world_;
  torch::Device device_;
  std::string backend_;
  std::vector<std::vector<std::size_t>> buckets_;
  std::int64_t bytes_allreduced_ = 0;
  double timeout_seconds_;
  std::string last_checkpoint_;
  void wait(const char* what, const std::function<void()>& run);
};

// A checksum of tensors, sensitive to any single changed value, for checking that all ranks
// hold the same weights.
double weights_checksum(const std::vector<torch::Tensor>& tensors);

// Shares of items (e.g. evaluation sequences weighted by frames) for the ranks: a deterministic
// greedy balance, identical on every rank. Returns the owning rank of each item.
std::vector<int> balance_items(const std::vector<std::int64_t>& weights, int ranks);

}  // namespace poselift::engine
