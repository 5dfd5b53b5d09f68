// Throughput figures of the motion-capture importer, for `poselift bench`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mocap/import.hpp"

namespace poselift::mocap {

struct MocapBenchmarkOptions {
  ImportOptions import;  // default: resample to 50 fps
  // When set, also times a complete prepare_mocap_dataset of the same inputs written into
  // this folder (dataset name "bench"), with its default cameras and noise.
  std::string build_dir;
};

struct MocapBenchmark {
  std::int64_t files = 0;
  std::int64_t failed = 0;          // files that raised InputError (skipped)
  std::int64_t source_frames = 0;   // frames in the files
  std::int64_t output_frames = 0;   // after resampling
  std::uint64_t file_bytes = 0;     // on disk (gzipped or not)
  std::uint64_t text_bytes = 0;     // after gunzip
  double read_seconds = 0.0;        // reading + gunzip
  double parse_seconds = 0.0;       // BVH / ASF+AMC parsing
  double convert_seconds = 0.0;     // resampling, forward kinematics, mapping to 17 joints
  double import_seconds = 0.0;      // the three above
  double build_seconds = 0.0;       // the whole prepare_mocap_dataset (0 when not run)
  std::int64_t build_frames = 0;    // frames written by it (per camera)

  double frames_per_second() const { return import_seconds > 0.0 ? static_cast<double>(source_frames) / import_seconds : 0.0; }
  double megabytes_per_second() const { return import_seconds > 0.0 ? static_cast<double>(text_bytes) / 1e6 / import_seconds : 0.0; }
};

// Imports every motion file under `paths` (files or folders, recursively), timing each stage.
MocapBenchmark benchmark_mocap_import(const std::vector<std::string>& paths, const MocapBenchmarkOptions& options = {});

}  // namespace poselift::mocap
