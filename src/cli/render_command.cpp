// `poselift render`: the original's --render (predict one subject/action/camera sequence of a
// dataset with a checkpoint, optionally export it, render it) and the rendering of `infer`
// results. engine::run_render does the work.
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "engine/render.hpp"

namespace poselift::cli {

namespace {

struct RenderFlags {
  engine::RenderOptions render;
  bool render_flag = false;  // --render: accepted, implied
};

int run_render(const RenderFlags& flags) {
  const engine::RenderResult result = engine::run_render(flags.render);
  if (!result.html.empty()) fmt::print("wrote {}\n", result.html);
  if (!result.video.empty()) fmt::print("wrote {} ({} frames)\n", result.video, result.video_frames);
  return 0;
}

void add_render_flags(CLI::App& render, engine::RenderOptions& o) {
  render.add_option("-c,--checkpoint", o.checkpoint_dir, "checkpoint folder (with --evaluate), or checkpoint file")
      ->capture_default_str();
  render.add_option("--evaluate,--checkpoint-file", o.evaluate_file, "checkpoint file name, relative to -c");
  render.add_flag("!--no-test-time-augmentation", o.test_time_augmentation, "disable flip augmentation (-no-tta)");
  render.add_option("-b,--batch-size", o.batch, "windows per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  render.add_option("--viz-subject", o.subject, "subject to render");
  render.add_option("--viz-action", o.action, "action to render");
  render.add_option("--viz-camera", o.camera, "camera to render")->capture_default_str();
  render.add_option("--viz-video,--video", o.video, "video drawn under the 2D input");
  render.add_option("--viz-skip", o.skip, "skip the first N frames of the video (and their poses)")
      ->capture_default_str();
  render.add_option("--viz-output,--out", o.output, "output video (.mp4 H.264 or .gif)");
  render.add_option("--viz-export", o.export_npy, "also write the prediction as (T, J, 3) float32 .npy (camera space)");
  render.add_option("--viz-bitrate", o.bitrate_kbps, "MP4 bitrate in kbit/s")->capture_default_str();
  render.add_flag("!--viz-no-ground-truth", o.show_ground_truth, "do not show the ground truth");
  render.add_option("--viz-limit", o.limit, "render at most N frames (-1: all)")->capture_default_str();
  render.add_option("--viz-downsample", o.downsample, "keep every N-th frame (fps divided by N)")
      ->capture_default_str();
  render.add_option("--viz-size", o.size, "panel size in inches of the original (100 px each for MP4, 80 for GIF)")
      ->capture_default_str();
  render.add_option("--input", o.input, "an `infer` result (.npz) to render instead of predicting");
  render.add_option("--fps", o.fps, "frame rate (default: the dataset's, else the video's, else 50)");
  render.add_option("--html", o.html, "also write a self-contained interactive HTML player");
}

}  // namespace

Command add_render_command(CLI::App& app) {
  auto o = std::make_shared<RenderFlags>();
  auto* render = app.add_subcommand("render", "Render 2D input and 3D reconstruction as MP4/GIF or an HTML player");
  add_data_options(*render, o->render.data);
  add_model_options(*render, o->render.model);
  add_runtime_options(*render, o->render.runtime);
  render->add_flag("--render", o->render_flag, "accepted for the original's command lines (implied)");
  add_render_flags(*render, o->render);

  return {render, [o, render] {
            forget_untyped_model_flags(*render, o->render.model);
            return run_render(*o);
          }};
}

}  // namespace poselift::cli
