#include "engine/distributed.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "io/error.hpp"

#if defined(POSELIFT_HAVE_C10D)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(POSELIFT_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

// DistributedDataParallel's bucket assignment, exported by libtorch_cpu. Declared here because
// reducer.hpp includes distributed-autograd headers that Debian's libtorch-dev does not ship.
namespace c10d {
class Logger;
TORCH_API std::tuple<std::vector<std::vector<size_t>>, std::vector<size_t>> compute_bucket_assignment_by_size(
    const std::vector<at::Tensor>& tensors, const std::vector<size_t>& bucket_size,
    const std::vector<bool>& expect_sparse_gradient, const std::vector<int64_t>& tensor_indices,
    const c10::optional<std::weak_ptr<c10d::Logger>>& logger);
}  // namespace c10d
#endif

namespace poselift::engine {

namespace {

int env_int(const char* name, int fallback, int min_value) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < min_value || value > 1000000)
    throw InputError(fmt::format("environment variable {}='{}': expected an integer >= {}", name, text, min_value));
  return static_cast<int>(value);
}

}  // namespace

WorldInfo world_from_environment() {
  WorldInfo w;
  w.world_size = env_int("WORLD_SIZE", 1, 1);
  w.rank = env_int("RANK", 0, 0);
  w.local_rank = env_int("LOCAL_RANK", w.rank, 0);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) w.master_addr = addr;
  w.master_port = env_int("MASTER_PORT", w.master_port, 1);
  if (w.master_port > 65535) throw InputError(fmt::format("MASTER_PORT={}: not a TCP port", w.master_port));
  if (w.rank >= w.world_size)
    throw InputError(fmt::format("RANK={} is not below WORLD_SIZE={}", w.rank, w.world_size));
  if (w.distributed() && !std::getenv("MASTER_PORT"))
    throw InputError("WORLD_SIZE > 1 needs MASTER_ADDR and MASTER_PORT (rank 0's address and a free port)");
  return w;
}

bool distributed_available() {
#if defined(POSELIFT_HAVE_C10D)
  return true;
#else
  return false;
#endif
}

std::string distributed_backends() {
#if defined(POSELIFT_HAVE_NCCL)
  return "gloo, nccl";
#elif defined(POSELIFT_HAVE_C10D)
  return "gloo";
#else
  return "none";
#endif
}

double weights_checksum(const std::vector<torch::Tensor>& tensors) {
  // Position-weighted so that swapped or offsetting changes are caught too.
  double sum = 0;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    auto t = tensors[i].detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
    auto weights = torch::arange(1, t.numel() + 1, torch::kFloat64).remainder(97).add_(1.0 + static_cast<double>(i));
    sum += (t * weights).sum().item<double>();
  }
  return sum;
}

std::vector<int> balance_items(const std::vector<std::int64_t>& weights, int ranks) {
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return weights[a] > weights[b]; });
  std::vector<std::int64_t> load(std::max(1, ranks), 0);
  std::vector<int> owner(weights.size(), 0);
  for (std::size_t i : order) {
    const int r = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = r;
    load[r] += weights[i];
  }
  return owner;
}

#if defined(POSELIFT_HAVE_C10D)

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

Communicator::Communicator(const WorldInfo& world, const torch::Device& device, const CommunicatorOptions& options)
    : impl_(std::make_unique<Impl>()), world_(world), device_(device), timeout_seconds_(options.timeout_seconds) {
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(options.timeout_seconds * 1000));
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(world.master_port);
  store_options.isServer = world.rank == 0;
  store_options.numWorkers = world.world_size;
  store_options.waitWorkers = true;
  store_options.timeout = timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, store_options);
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format(
        "rank {}: rendezvous at {}:{} failed within {} s (is rank 0 running, the port free on rank 0 and reachable "
        "from this host, and WORLD_SIZE={} the same for every rank?): {}",
        world.rank, world.master_addr, world.master_port, options.timeout_seconds, world.world_size,
        c10::GetExceptionString(e)));
  }
  try {
#if defined(POSELIFT_HAVE_NCCL)
    if (device.is_cuda()) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = timeout;
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, world.rank, world.world_size,
                                                                 nccl_options);
      backend_ = "nccl";
    }
#endif
    if (!impl_->group) {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
      // GLOO_SOCKET_IFNAME picks the network interface as in PyTorch; on one host loopback
      // avoids depending on how the host name resolves.
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (is_loopback(world.master_addr))
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      impl_->group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, world.rank, world.world_size, gloo_options);
      backend_ = "gloo";
    }
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError(fmt::format("rank {}: could not connect the process group (world size {}): {}",
                                       world.rank, world.world_size, c10::GetExceptionString(e)));
  }
}

Communicator::~Communicator() = default;

void Communicator::wait(const char* what, const std::function<void()>& run) {
  try {
    run();
  } catch (const std::exception& e) {
    std::string detail = e.what();
    if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) detail = c10_error->what_without_backtrace();
    if (auto cut = detail.find('\n'); cut != std::string::npos) detail.resize(cut);
    throw DistributedError(fmt::format("rank {} of {}: {} failed: another rank stopped (it died, was killed or "
                                       "failed), the network failed, or nothing arrived within --dist-timeout {} s "
                                       "({}: {}); {}",
                                       world_.rank, world_.world_size, what, timeout_seconds_, backend_, detail,
                                       last_checkpoint_.empty()
                                           ? std::string("no checkpoint was written in this run")
                                           : "the last checkpoint written is " + last_checkpoint_));
  }
}

void Communicator::broadcast(const std::vector<torch::Tensor>& tensors) {
  wait("broadcast of rank 0's weights", [&] {
    torch::NoGradGuard no_grad;
    for (const auto& t : tensors) {
      std::vector<torch::Tensor> one{t.is_contiguous() ? t.detach() : t.detach().contiguous()};
      impl_->group->broadcast(one)->wait();
      if (!t.is_contiguous()) t.detach().copy_(one[0]);
    }
  });
}

void Communicator::allreduce_gradients(const std::vector<torch::Tensor>& parameters, double scale) {
  torch::NoGradGuard no_grad;
  if (buckets_.empty()) {
    // DistributedDataParallel's defaults: a small first bucket, then 25 MiB ones.
    const std::vector<std::size_t> limits = {std::size_t{1} << 20, std::size_t{25} << 20};
    buckets_ = std::get<0>(c10d::compute_bucket_assignment_by_size(parameters, limits, {}, {}, {}));
  }
  std::vector<torch::Tensor> flats;
  for (const auto& bucket : buckets_) {
    std::vector<torch::Tensor> parts;
    for (std::size_t i : bucket) {
      auto& p = const_cast<torch::Tensor&>(parameters[i]);
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      parts.push_back(p.grad().reshape({-1}));
    }
    flats.push_back(torch::cat(parts).mul_(scale));
  }
  wait("gradient all-reduce", [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& flat : flats) {
      std::vector<torch::Tensor> one{flat};
      works.push_back(impl_->group->allreduce(one));
      bytes_allreduced_ += flat.numel() * static_cast<std::int64_t>(flat.element_size());
    }
    for (auto& w : works) w->wait();
  });
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    std::int64_t offset = 0;
    for (std::size_t i : buckets_[b]) {
      auto grad = parameters[i].grad();
      grad.copy_(flats[b].slice(0, offset, offset + grad.numel()).view_as(grad));
      offset += grad.numel();
    }
  }
}

std::vector<double> Communicator::allreduce_sum(const std::vector<double>& values) {
  auto t = torch::tensor(values, torch::kFloat64).to(device_.is_cuda() ? device_ : torch::Device(torch::kCPU));
  wait("all-reduce", [&] {
    std::vector<torch::Tensor> one{t};
    impl_->group->allreduce(one)->wait();
    bytes_allreduced_ += t.numel() * 8;
  });
  t = t.cpu();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

std::pair<std::vector<double>, std::vector<double>> Communicator::allreduce_min_max(const std::vector<double>& values) {
  const auto where = device_.is_cuda() ? device_ : torch::Device(torch::kCPU);
  auto lo = torch::tensor(values, torch::kFloat64).to(where), hi = lo.clone();
  wait("consistency check", [&] {
    c10d::AllreduceOptions min_options, max_options;
    min_options.reduceOp = c10d::ReduceOp::MIN;
    max_options.reduceOp = c10d::ReduceOp::MAX;
    std::vector<torch::Tensor> a{lo}, b{hi};
    impl_->group->allreduce(a, min_options)->wait();
    impl_->group->allreduce(b, max_options)->wait();
  });
  lo = lo.cpu();
  hi = hi.cpu();
  return {std::vector<double>(lo.data_ptr<double>(), lo.data_ptr<double>() + lo.numel()),
          std::vector<double>(hi.data_ptr<double>(), hi.data_ptr<double>() + hi.numel())};
}

void Communicator::barrier() {
  wait("barrier", [&] { impl_->group->barrier()->wait(); });
}

#else  // no c10d in this LibTorch: only a world of one exists

struct Communicator::Impl {};

Communicator::Communicator(const WorldInfo& world, const torch::Device& device, const CommunicatorOptions& options)
    : world_(world), device_(device), timeout_seconds_(options.timeout_seconds) {
  throw InputError("multi-process training: this poselift was built without c10d (LibTorch's distributed headers "
                   "and gloo headers were not found at configure time); install libgloo-dev and reconfigure");
}
Communicator::~Communicator() = default;
void Communicator::wait(const char*, const std::function<void()>& run) { run(); }
void Communicator::broadcast(const std::vector<torch::Tensor>&) {}
void Communicator::allreduce_gradients(const std::vector<torch::Tensor>&, double) {}
std::vector<double> Communicator::allreduce_sum(const std::vector<double>& values) { return values; }
std::pair<std::vector<double>, std::vector<double>> Communicator::allreduce_min_max(const std::vector<double>& values) {
  return {values, values};
}
void Communicator::barrier() {}

#endif

}  // namespace poselift::engine
