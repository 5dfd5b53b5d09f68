// The benchmark's tables and targets, as lines of text (no LibTorch; nothing printed here), and
// the figure lines a child process measuring for its parent writes on its standard output.
#pragma once

#include <string>
#include <vector>

#include "bench/figures.hpp"

namespace poselift::bench {

// The fast path's speed targets (fast over reference at equal thread counts); 0 where
// none is set.
double inference_target(int threads, int batch);
constexpr double kTrainingTarget = 3.0;
// "2.5x, met" / "3.0x, not met", or "" without a target.
std::string target_cell(double ratio, double target);

// Windows of the Human3.6M protocol test set (S9 + S11, four cameras, every frame an output
// window): what the sequence evaluation table converts its rate into.
constexpr double kH36mTestWindows = 543344;

// Inference rates per (threads, batch); `flops` per output frame gives the fast path's GFLOP/s.
std::string inference_header();
std::string inference_row(const PathFigures& figures, double flops);
// Training step times per thread count.
std::string training_header();
std::string training_row(const PathFigures& figures);
// The fast path's GEMM share: its row, and the line of per-phase shares when there are phases.
std::string gemm_share_header();
std::vector<std::string> gemm_share_rows(int threads, const GemmShare& share);
// Sequence evaluation rates and the Human3.6M test set in hours.
std::string sequence_header();
std::string sequence_row(int threads, const PathFigures& figures);
// float32 against a reduced precision ("int8", "bf16").
std::string precision_header(const std::string& precision);
std::string precision_row(int threads, const PrecisionFigures& figures);
// Data-parallel training steps, one row per process count.
std::string data_parallel_header();
std::string data_parallel_row(const DataParallelFigures& figures);

// A child's figures for its parent: one line "<kind> threads batch reference fast" per figure.
std::vector<std::string> figure_lines(const std::string& kind, const std::vector<PathFigures>& figures);
// The figures of `kind` in a child's output; throws std::runtime_error when there are none.
std::vector<PathFigures> parse_figure_lines(const std::string& output, const std::string& kind);

}  // namespace poselift::bench
