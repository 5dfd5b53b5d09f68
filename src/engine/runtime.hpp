// Device and thread selection, and progress reporting for long work.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/options.hpp"

namespace poselift::engine {

// Keeps freed memory inside the process: PoseFormer allocates and frees tensors of tens of MiB
// at every layer, and glibc's default would return each to the kernel (munmap) and page-fault
// it in again on the next pass -- about a third of CPU time at batch 64. Call once at start.
void keep_freed_memory_in_process();

// Sets LibTorch's intra-op threads (OpenMP, oneDNN) and, when the BLAS is OpenBLAS with its own
// thread pool, OpenBLAS's too: otherwise "1 thread" would still run matrix products on all cores.
void set_cpu_threads(int threads);

// Resolves "auto" / "cpu" / "cuda" (error when CUDA is requested but absent) and applies the
// thread count.
torch::Device configure_runtime(const RuntimeOptions& options);

// A one-line progress bar on stderr with rate and ETA, redrawn at most a few times a second
// (plain lines, one per 10%, when stderr is not a terminal).
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit, bool enabled = true);
  void advance(std::int64_t n, const std::string& status = "");
  void finish(const std::string& status = "");
  double elapsed_seconds() const;

 private:
  void draw(bool final);
  std::string label_, unit_, status_;
  std::int64_t total_, done_ = 0;
  bool enabled_, tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace poselift::engine
