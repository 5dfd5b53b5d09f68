// Throughput of the fast path against the reference path (never asserted in tests: machines are
// noisy), and the tables of `bench` all|model|train|eval|int8 built from it (run_path_benchmarks,
// suite.hpp). The two paths are measured interleaved, pass by pass, so both see the same machine
// load and their ratio is meaningful even on a busy machine.
#pragma once

#include <vector>

#include "bench/figures.hpp"
#include "bench/suite.hpp"
#include "model/poseformer.hpp"

namespace poselift::bench {

// PoseFormer's published configuration with `options.frames` frames (validated).
model::PoseFormerConfig bench_config(const BenchOptions& options);

// Forward passes of a randomly initialised model in eval mode, about `seconds` per pair of
// (threads, batch), alternating the two paths. Rates in output frames (windows) per second.
std::vector<PathFigures> compare_inference(const model::PoseFormerConfig& config, const std::vector<int>& thread_counts,
                                           const std::vector<int>& batches, double seconds);

// Training steps (forward, MPJPE loss, backward, AdamW with weight decay 0.1) alternating the
// two paths, `steps` each after one warm-up step each. Rates in steps per second.
PathFigures compare_training_step(const model::PoseFormerConfig& config, int threads, int batch, int steps);

// Where the fast path's inference time goes at (threads, batch).
GemmShare measure_gemm_share(const model::PoseFormerConfig& config, int threads, int batch, double seconds);

// Sliding-window evaluation of one long sequence with flip augmentation (frame features reused
// across windows), both paths alternating. Rates in output frames (windows) per second.
PathFigures compare_sequence_evaluation(const model::PoseFormerConfig& config, int threads, int frames,
                                        double seconds);

// The fast path's inference in float32 against `precision` (int8 or bf16), alternating, at `batch`.
PrecisionFigures compare_reduced_inference(const model::PoseFormerConfig& config, model::Precision precision,
                                           int threads, int batch, double seconds);

}  // namespace poselift::bench
