// What the benchmarks measure, as plain figures (no LibTorch): the measurements in
// path_comparison.hpp and data_parallel.hpp fill them, tables.hpp formats them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace poselift::bench {

struct PathFigures {
  int threads = 1;
  int batch = 1;
  double reference = 0;  // rate of the reference path (frames/s, or steps/s)
  double fast = 0;       // rate of the fast path
  double ratio() const { return reference > 0 ? fast / reference : 0; }
};

// Where the fast path's inference time goes at (threads, batch).
struct GemmShare {
  double gemm_seconds_share = 0;       // share of the forward time inside the linear layers' GEMMs
  double gemm_gflops = 0;              // GEMM rate at the temporal qkv shape (B*F x D by D x 3D)
  double bound_frames_per_second = 0;  // all forward FLOPs at that rate: the GEMM-bound limit
  std::vector<std::pair<std::string, double>> phases;  // share of the forward time per block step
};

// The fast path's inference in float32 ("reference" rate) against int8 ("fast" rate), and how
// far the int8 outputs are from the float32 ones (metres).
struct PrecisionFigures {
  PathFigures rates;
  double max_abs_difference = 0;
  double mean_joint_distance = 0;  // mean Euclidean distance per joint between the two outputs
};

// Data-parallel training steps.
struct DataParallelFigures {
  int processes = 1, threads = 1, global_batch = 0, steps = 0;
  double steps_per_second = 0, frames_per_second = 0;
  double communication_ms_per_step = 0;      // time inside the gradient all-reduce
  std::int64_t gradient_bytes_per_step = 0;  // payload all-reduced per step by each rank
  std::int64_t other_bytes_per_step = 0;     // loss, frame count and stop flag
  std::int64_t buckets = 0;
};

}  // namespace poselift::bench
