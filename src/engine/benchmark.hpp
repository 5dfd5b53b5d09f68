// Throughput measurements that print figures (never asserted in tests: machines are noisy).
// The fast and reference code paths are measured interleaved, pass by pass, so both see the
// same machine load and their ratio is meaningful even on a busy machine.
#pragma once

#include <string>
#include <vector>

#include "model/poseformer.hpp"

namespace poselift::engine {

struct PathFigures {
  int threads = 1;
  int batch = 1;
  double reference = 0;  // rate of the reference path (frames/s, or steps/s)
  double fast = 0;       // rate of the fast path
  double ratio() const { return reference > 0 ? fast / reference : 0; }
};

// Forward passes of a randomly initialised model in eval mode, about `seconds` per pair of
// (threads, batch), alternating the two paths. Rates in output frames (windows) per second.
std::vector<PathFigures> compare_inference(const model::PoseFormerConfig& config, const std::vector<int>& thread_counts,
                                           const std::vector<int>& batches, double seconds);

// Training steps (forward, MPJPE loss, backward, AdamW with weight decay 0.1) alternating the
// two paths, `steps` each after one warm-up step each. Rates in steps per second.
PathFigures compare_training_step(const model::PoseFormerConfig& config, int threads, int batch, int steps);

// Where the fast path's inference time goes at (threads, batch).
struct GemmShare {
  double gemm_seconds_share = 0;  // share of the forward time inside the linear layers' GEMMs
  double gemm_gflops = 0;         // GEMM rate at the temporal qkv shape (B*F x D by D x 3D)
  double bound_frames_per_second = 0;  // all forward FLOPs at that rate: the GEMM-bound limit
  std::vector<std::pair<std::string, double>> phases;  // share of the forward time per block step
};
GemmShare measure_gemm_share(const model::PoseFormerConfig& config, int threads, int batch, double seconds);

// Sliding-window evaluation of one long sequence with flip augmentation (frame features reused
// across windows), both paths alternating. Rates in output frames (windows) per second.
PathFigures compare_sequence_evaluation(const model::PoseFormerConfig& config, int threads, int frames,
                                        double seconds);

// The fast path's inference in float32 ("reference" rate) against int8 ("fast" rate), alternating,
// at batch 64, and how far the int8 outputs are from the float32 ones (metres).
struct PrecisionFigures {
  PathFigures rates;
  double max_abs_difference = 0;
  double mean_joint_distance = 0;  // mean Euclidean distance per joint between the two outputs
};
PrecisionFigures compare_int8_inference(const model::PoseFormerConfig& config, int threads, int batch, double seconds);


}  // namespace poselift::engine
