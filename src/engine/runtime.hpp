// Device and thread selection, and progress reporting for long work.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "engine/options.hpp"

namespace poselift::engine {

// Keeps freed memory inside the process: PoseFormer allocates and frees tensors of tens of MiB
// at every layer, and glibc's default would return each to the kernel (munmap) and page-fault
// it in again on the next pass -- about a third of CPU time at batch 64. Call once at start.
void keep_freed_memory_in_process();

// OpenBLAS picks its kernels for the CPU when it loads, from a table fixed at its release:
// Debian 12's 0.3.21 does not know newer CPUs (e.g. Intel Emerald Rapids) and falls back to its
// SSE3 "Prescott" kernels, which run LibTorch's matrix products several times slower. The
// choice can only be made by OPENBLAS_CORETYPE before the library loads, so when OpenBLAS
// reports such a fallback on a CPU with AVX-512 (or AVX2) and OPENBLAS_CORETYPE is unset,
// this restarts the program once (execv) with OPENBLAS_CORETYPE=SkylakeX (Haswell). Call first
// thing in main(); returns when nothing needs to change or the restart fails.
void use_cpu_specific_blas_kernels(char** argv);
// OpenBLAS's kernel set ("SkylakeX", ...), "" when the BLAS is not OpenBLAS.
std::string blas_core_name();
// The kernel set OpenBLAS picked by itself before that restart ("Prescott", ...), or "" when
// poselift did not change it. `bench` measures the reference path on those too.
std::string stock_blas_core_name();

// Ctrl-C and SIGTERM. oneDNN's JIT GEMM kernels (the fast path's matrix products; fixed only in
// oneDNN 3.11, Debian has 2.x) point the stack pointer into the heap while they run, so a signal
// handled on a computing thread writes its frame over heap memory (oneDNN issue #4845: seen
// here as "corrupted size vs. prev_size" after an early SIGTERM in training). Call this first
// thing in main(), before any thread starts: it blocks SIGINT and SIGTERM in this thread and so
// in every thread created later (OpenMP's, oneDNN's), and starts one thread that waits for
// them. A signal then becomes a stop request when the program asked for those (training),
// otherwise it ends the process as the default action would.
void route_stop_signals();

// From now on SIGINT/SIGTERM set stop_request() instead of ending the process; the work polls it
// (training finishes its step, writes a resumable checkpoint and returns; the launcher forwards it).
void enable_stop_requests();
// Back to ending the process on those signals (work that cannot stop part-way, e.g. train's final
// evaluation); a request already received stays in stop_request().
void disable_stop_requests();
// The signal number received since enable_stop_requests(), 0 if none.
std::atomic<int>& stop_request();

// Sets LibTorch's intra-op threads (OpenMP, oneDNN) and, when the BLAS is OpenBLAS with its own
// thread pool, OpenBLAS's too: otherwise "1 thread" would still run matrix products on all cores.
void set_cpu_threads(int threads);

// The thread count poselift uses without --threads: every CPU this process may run on, unless
// OMP_NUM_THREADS or MKL_NUM_THREADS is set (then 0: LibTorch's choice, which follows them).
// LibTorch's own default counts physical cores through cpuinfo, which reports one core for the
// two vCPUs of this machine class (measured: a second thread makes the fast path ~1.8x faster).
int default_cpu_threads();
// The CPUs this process may run on (its affinity mask), 0 when unknown.
int usable_cpu_count();

// Resolves "auto" / "cpu" / "cuda" (error when CUDA is requested but absent) and applies the
// thread count (options.threads, else default_cpu_threads(); at most usable_cpu_count(), with a
// warning through report::warn).
torch::Device configure_runtime(const RuntimeOptions& options);

// A one-line progress bar on stderr with rate (seconds per unit below one unit a second) and ETA,
// redrawn at most a few times a second (plain lines, one per 10% and none repeated, when stderr
// is not a terminal).
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit, bool enabled = true);
  void advance(std::int64_t n, const std::string& status = "");
  void finish(const std::string& status = "");
  double elapsed_seconds() const;

 private:
  void draw(bool final);
  std::string rate_text(double elapsed) const;
  std::string label_, unit_, status_, printed_status_;
  std::int64_t total_, done_ = 0, printed_done_ = -1;
  bool enabled_, tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace poselift::engine
