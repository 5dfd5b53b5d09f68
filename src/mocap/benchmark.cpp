#include "mocap/benchmark.hpp"

#include <cctype>
#include <chrono>
#include <filesystem>

#include "io/error.hpp"
#include "mocap/asf_amc.hpp"
#include "mocap/bvh.hpp"
#include "mocap/prepare.hpp"
#include "mocap/text_file.hpp"
#include "io/text.hpp"

namespace poselift::mocap {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool is_amc(const std::string& path) {
  return io::to_lower(std::filesystem::path(path).filename().string()).find(".amc") != std::string::npos;
}

}  // namespace

MocapBenchmark benchmark_mocap_import(const std::vector<std::string>& paths, const MocapBenchmarkOptions& options) {
  MocapBenchmark result;
  for (const std::string& path : find_motion_files(paths)) {
    ++result.files;
    try {
      auto start = Clock::now();
      std::error_code error;
      result.file_bytes += std::filesystem::file_size(path, error);
      const std::string text = read_text_file(path, options.import.limits.max_text_bytes);
      std::string asf_text, asf_path;
      if (is_amc(path)) {
        asf_path = find_asf_for_amc(path);
        if (asf_path.empty()) throw InputError(path + ": no .asf skeleton beside it");
        asf_text = read_text_file(asf_path, options.import.limits.max_text_bytes);
      }
      const double read = since(start);

      start = Clock::now();
      SkeletalMotion motion;
      if (asf_path.empty()) {
        motion = parse_bvh(text, path, options.import.limits);
      } else {
        const AsfSkeleton skeleton = parse_asf(asf_text, asf_path, options.import.limits);
        motion = parse_amc(text, path, skeleton, options.import.amc_fps, options.import.limits);
      }
      const double parse = since(start);

      start = Clock::now();
      const ImportedClip clip = import_motion(motion, options.import);
      const double convert = since(start);

      result.text_bytes += text.size() + asf_text.size();
      result.read_seconds += read;
      result.parse_seconds += parse;
      result.convert_seconds += convert;
      result.source_frames += motion.frames;
      result.output_frames += clip.frames;
    } catch (const InputError&) {
      ++result.failed;
    }
  }
  result.import_seconds = result.read_seconds + result.parse_seconds + result.convert_seconds;

  if (!options.build_dir.empty()) {
    PrepareMocapOptions prepare;
    prepare.inputs = paths;
    prepare.name = "bench";
    prepare.output_dir = options.build_dir;
    prepare.import = options.import;
    prepare.skip_unreadable = true;
    const PrepareReport report = prepare_mocap_dataset(prepare);
    result.build_seconds = report.seconds;
    result.build_frames = report.files.frames;
  }
  return result;
}

}  // namespace poselift::mocap
