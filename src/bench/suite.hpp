// `poselift bench`: the fast path against the reference path (inference, training step,
// sequence evaluation, int8) and data-parallel training steps, as the tables of tables.hpp sent
// to report::line. Starting processes is the program's business: it passes them in as hooks.
// No LibTorch in this header.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace poselift::bench {

struct BenchOptions {
  std::string what = "all";  // all (= model, train, eval, int8), model, train, eval, int8, families, dist, video
  int frames = 81;           // the model's receptive field
  double seconds = 3.0;      // time per measurement
  int train_batch = 256, train_steps = 2;
  int clip_passes = 1;  // families: timed passes per form of one full clip of the sequence models
  int dist_batch = 32;  // dist: frames per step over all processes
  std::vector<int> processes = {1, 2};  // dist: process counts to compare
  bool emit_figures = false;  // a child measuring for its parent: bare figure lines (model, train)
  bool as_rank = false;       // dist: this process is one rank of a measurement
  std::string video, models;  // video: the clip ("": one made from a photograph), BlazePose's folder
};

using Environment = std::vector<std::pair<std::string, std::string>>;

struct BenchHooks {
  // Runs this program again with `args` (argv[1...]) and `environment` added; returns its
  // standard output. For the comparison on OpenBLAS's own kernels.
  std::function<std::string(const std::vector<std::string>& args, const Environment& environment)> run_self;
  // Starts `processes` ranks of this command line, waits for them and returns the worst status.
  std::function<int(int processes)> launch_ranks;
};

// all|model|train|eval|int8: the path comparisons and their tables (path_comparison.cpp).
int run_path_benchmarks(const BenchOptions& options, const BenchHooks& hooks);
// dist: the data-parallel table, one row per process count (data_parallel.cpp).
int run_data_parallel_benchmark(const BenchOptions& options, const BenchHooks& hooks);

// families: every model family side by side (families.cpp).
int run_family_benchmark(const BenchOptions& options);

// video: `poselift video`'s stages, frames/s (video.cpp).
int run_video_benchmark(const BenchOptions& options);

// Runs what `options.what` names; returns the exit status.
inline int run_benchmarks(const BenchOptions& options, const BenchHooks& hooks) {
  if (options.what == "dist") return run_data_parallel_benchmark(options, hooks);
  if (options.what == "families") return run_family_benchmark(options);
  if (options.what == "video") return run_video_benchmark(options);
  return run_path_benchmarks(options, hooks);
}

}  // namespace poselift::bench
