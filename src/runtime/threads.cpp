#include "runtime/threads.hpp"

#include <sched.h>
#include <torch/torch.h>

#include <cstdlib>

#include "runtime/blas.hpp"

namespace poselift::runtime {

void set_cpu_threads(int threads) {
  torch::set_num_threads(threads);
  set_blas_threads(threads);
}

int usable_cpu_count() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return 0;
  return CPU_COUNT(&cpus);
}

int default_cpu_threads() {
  if (std::getenv("OMP_NUM_THREADS") != nullptr || std::getenv("MKL_NUM_THREADS") != nullptr) return 0;
  return usable_cpu_count();
}

CpuThreadScope::CpuThreadScope(int threads) : saved_(torch::get_num_threads()) { set_cpu_threads(threads); }

CpuThreadScope::~CpuThreadScope() { set_cpu_threads(saved_); }

}  // namespace poselift::runtime
