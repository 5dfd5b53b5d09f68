// `poselift bench families`: every model family in its published Human3.6M configuration, side
// by side: parameters, multiply-accumulates per output frame (attention included), inference
// frames/s at batch 64 and for one window, and a training step, each against the family's
// straightforward LibTorch form at equal threads (PoseFormer and PoseFormerV2: the reference
// modules against the fast path; VideoPose3D: one window per output frame against the whole
// sequence through the convolution, and the dilated training form against the strided one).
#pragma once

#include <string>
#include <vector>

#include "bench/figures.hpp"
#include "bench/suite.hpp"

namespace poselift::bench {

struct FamilyFigures {
  std::string family, configuration;
  double parameters = 0, macs_per_frame = 0;
  PathFigures batch64, single_window, training;  // rates: frames/s, frames/s, steps/s
};

// One family's figures at `threads` (each measurement alternates the two forms for `seconds`).
std::vector<FamilyFigures> measure_families(int threads, double seconds, int train_batch, int train_steps);

// A sequence-to-sequence family: one clip of `window` frames at batch 1, each form run
// `passes` times after one warm-up (a clip of the large models takes seconds).
struct SequenceFamilyFigures {
  std::string family, configuration;
  double parameters = 0, macs_per_frame = 0;
  int window = 0;
  PathFigures clip;  // output frames/s
};
std::vector<SequenceFamilyFigures> measure_sequence_families(int threads, int passes);

// The families table (report::line); returns the exit status.
int run_family_benchmark(const BenchOptions& options);

}  // namespace poselift::bench
