// CPU thread counts.
#pragma once

namespace poselift::runtime {

// Sets LibTorch's intra-op threads (OpenMP, oneDNN) and, when the BLAS is OpenBLAS with its own
// thread pool, OpenBLAS's too: otherwise "1 thread" would still run matrix products on all cores.
void set_cpu_threads(int threads);

// set_cpu_threads(threads) for a scope (benchmarks, deterministic tests), then back to
// LibTorch's count before it.
class CpuThreadScope {
 public:
  explicit CpuThreadScope(int threads);
  ~CpuThreadScope();
  CpuThreadScope(const CpuThreadScope&) = delete;
  CpuThreadScope& operator=(const CpuThreadScope&) = delete;

 private:
  int saved_;
};

// The thread count poselift uses without --threads: every CPU this process may run on, unless
// OMP_NUM_THREADS or MKL_NUM_THREADS is set (then 0: LibTorch's choice, which follows them).
// LibTorch's own default counts physical cores through cpuinfo, which reports one core for two
// vCPUs on some virtual machines (measured on one: a second thread makes the fast path ~1.8x faster).
int default_cpu_threads();
// The CPUs this process may run on (its affinity mask), 0 when unknown.
int usable_cpu_count();

}  // namespace poselift::runtime
