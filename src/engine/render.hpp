// `poselift render`: a dataset sequence predicted with a checkpoint (the original's --render,
// optionally exported as .npy), or an `infer` result (.npz), drawn as MP4/GIF and/or a
// self-contained HTML player. Placement in the world is render/scene; drawing render/figure.
#pragma once

#include <cstdint>
#include <string>

#include "engine/options.hpp"

namespace poselift::engine {

struct RenderOptions {
  DataOptions data;
  ModelOptions model;
  RuntimeOptions runtime;
  // The checkpoint: -c DIR with --evaluate FILE (relative to DIR), or -c FILE.
  std::string checkpoint_dir = "checkpoint", evaluate_file;
  bool test_time_augmentation = true;
  int batch = 1024;  // windows per forward pass
  // A dataset sequence (the original's --viz-* flags) ...
  std::string subject, action;
  int camera = 0;
  std::string export_npy;  // also write the prediction as (T, J, 3) float32 camera space
  bool show_ground_truth = true;
  // ... or an `infer` result.
  std::string input;
  // Outputs and how they show the frames.
  std::string video, output, html;  // background video; .mp4/.gif; HTML player
  int bitrate_kbps = 3000, size = 5, downsample = 1;
  std::int64_t limit = -1, skip = 0;
  double fps = 0;  // 0: the dataset's, else the video's, else 50
};

struct RenderResult {
  std::string html, video;  // written files ("" where not asked for)
  std::int64_t video_frames = 0;
};

// The whole command; progress lines go to report::line. Bad flags and input -> InputError before
// the prediction runs and before any output file is written.
RenderResult run_render(const RenderOptions& options);

}  // namespace poselift::engine
