#include "bench/tables.hpp"

#include <fmt/format.h>

#include <sstream>
#include <stdexcept>

namespace poselift::bench {

double inference_target(int threads, int batch) {
  if (batch == 64) return threads == 2 ? 4.0 : 2.5;
  return batch == 1 && threads == 2 ? 3.0 : 0.0;
}

std::string target_cell(double ratio, double target) {
  if (target <= 0) return "";
  return fmt::format("{:.1f}x, {}", target, ratio >= target ? "met" : "not met");
}

std::string inference_header() {
  return fmt::format("{:>8} {:>6} {:>16} {:>16} {:>8} {:>14}  {}", "threads", "batch", "reference fr/s", "fast fr/s",
                     "speedup", "fast GFLOP/s", "target");
}

std::string inference_row(const PathFigures& f, double flops) {
  return fmt::format("{:>8} {:>6} {:>16.2f} {:>16.2f} {:>7.2f}x {:>14.1f}  {}", f.threads, f.batch, f.reference, f.fast,
                     f.ratio(), f.fast * flops / 1e9, target_cell(f.ratio(), inference_target(f.threads, f.batch)));
}

std::string training_header() {
  return fmt::format("{:>8} {:>16} {:>16} {:>8}  {}", "threads", "reference s/step", "fast s/step", "speedup",
                     "target");
}

std::string training_row(const PathFigures& f) {
  return fmt::format("{:>8} {:>16.2f} {:>16.2f} {:>7.2f}x  {}", f.threads, 1 / f.reference, 1 / f.fast, f.ratio(),
                     target_cell(f.ratio(), kTrainingTarget));
}

std::string gemm_share_header() {
  return fmt::format("{:>8} {:>12} {:>14} {:>18}", "threads", "GEMM share", "GEMM GFLOP/s", "bound fr/s");
}

std::vector<std::string> gemm_share_rows(int threads, const GemmShare& share) {
  std::vector<std::string> rows = {fmt::format("{:>8} {:>11.0f}% {:>14.1f} {:>18.1f}", threads,
                                               100 * share.gemm_seconds_share, share.gemm_gflops,
                                               share.bound_frames_per_second)};
  std::string phases;
  for (const auto& [name, part] : share.phases) phases += fmt::format("{} {:.0f}%, ", name, 100 * part);
  if (!phases.empty()) rows.push_back(fmt::format("{:>8} time in the blocks: {}", "", phases.substr(0, phases.size() - 2)));
  return rows;
}

std::string sequence_header() {
  return fmt::format("{:>8} {:>16} {:>16} {:>8} {:>22}", "threads", "reference fr/s", "fast fr/s", "speedup",
                     "Human3.6M test (fast)");
}

std::string sequence_row(int threads, const PathFigures& f) {
  return fmt::format("{:>8} {:>16.2f} {:>16.2f} {:>7.2f}x {:>19.1f} h", threads, f.reference, f.fast, f.ratio(),
                     kH36mTestWindows / f.fast / 3600);
}

std::string precision_header(const std::string& precision) {
  return fmt::format("{:>8} {:>16} {:>16} {:>8} {:>26}", "threads", "float32 fr/s", precision + " fr/s", "speedup",
                     "output change (random model)");
}

std::string precision_row(int threads, const PrecisionFigures& f) {
  return fmt::format("{:>8} {:>16.2f} {:>16.2f} {:>7.2f}x {:>13.2f} mm per joint", threads, f.rates.reference,
                     f.rates.fast, f.rates.ratio(), f.mean_joint_distance * 1000);
}

std::string data_parallel_header() {
  return fmt::format("{:>9} {:>9} {:>7} {:>8} {:>9} {:>12} {:>13} {:>13}", "processes", "threads", "steps", "steps/s",
                     "frames/s", "allreduce ms", "grad MB/step", "other kB/step");
}

std::string data_parallel_row(const DataParallelFigures& f) {
  return fmt::format("{:>9} {:>9} {:>7} {:>8.3f} {:>9.1f} {:>12.1f} {:>13.2f} {:>13.2f}", f.processes, f.threads,
                     f.steps, f.steps_per_second, f.frames_per_second, f.communication_ms_per_step,
                     f.gradient_bytes_per_step / 1e6, f.other_bytes_per_step / 1e3);
}

std::vector<std::string> figure_lines(const std::string& kind, const std::vector<PathFigures>& figures) {
  std::vector<std::string> lines;
  for (const auto& f : figures)
    lines.push_back(fmt::format("{} {} {} {:.6g} {:.6g}", kind, f.threads, f.batch, f.reference, f.fast));
  return lines;
}

std::vector<PathFigures> parse_figure_lines(const std::string& output, const std::string& kind) {
  std::vector<PathFigures> figures;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    PathFigures f;
    if (fields >> name >> f.threads >> f.batch >> f.reference >> f.fast && name == kind) figures.push_back(f);
  }
  if (figures.empty()) throw std::runtime_error("bench: the child process reported no " + kind + " figures");
  return figures;
}

}  // namespace poselift::bench
