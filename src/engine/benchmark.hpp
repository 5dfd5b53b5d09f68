// Throughput measurements that print figures (never asserted in tests: machines are noisy).
#pragma once

#include <string>
#include <vector>

#include "model/poseformer.hpp"

namespace poselift::engine {

struct ThroughputFigure {
  int threads = 1;
  int batch = 1;
  double frames_per_second = 0;  // output frames (windows) per second
  double ms_per_batch = 0;
};

// Forward passes of a randomly initialised model in eval mode for about `seconds` per
// (threads, batch) pair, after a warm-up pass.
std::vector<ThroughputFigure> measure_inference(const model::PoseFormerConfig& config,
                                                const std::vector<int>& thread_counts,
                                                const std::vector<int>& batches, double seconds);

// Peak resident memory of this process so far, in MiB.
double peak_memory_mib();

}  // namespace poselift::engine
