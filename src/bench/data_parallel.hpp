// Data-parallel training steps of PoseFormer with 1, 2, ... processes on one host, and the table
// of `bench dist` (run_data_parallel_benchmark, suite.hpp).
#pragma once

#include "bench/figures.hpp"
#include "engine/distributed.hpp"

namespace poselift::model {
struct PoseFormerConfig;
}

namespace poselift::bench {

// Training steps (forward, MPJPE backward, gradient all-reduce, AdamW) of a randomly initialised
// PoseFormer on random windows for about `seconds`, `global_batch` frames per step split over the
// ranks; `comm` null for one process. Every rank returns the same figures.
DataParallelFigures measure_training_steps(const model::PoseFormerConfig& config, int global_batch, double seconds,
                                           engine::Communicator* comm);

}  // namespace poselift::bench
