#include "bench/video.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include <unistd.h>

#include "detector/blazepose.hpp"
#include "engine/runtime.hpp"
#include "engine/video.hpp"
#include "io/error.hpp"
#include "render/video.hpp"
#include "report/report.hpp"

namespace poselift::bench {

namespace {

namespace fs = std::filesystem;

constexpr const char* kPhoto = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

detector::Frame frame_of(render::Image& image) {
  const torch::Tensor bgrx = torch::from_blob(image.pixels.data(), {image.height, image.width, 4}, torch::kByte);
  return detector::make_frame(torch::stack({bgrx.select(2, 2), bgrx.select(2, 1), bgrx.select(2, 0)}, 2));
}

// `frames` frames of 320x320 at 25 fps panning over and zooming into the photograph.
void make_clip(const std::string& path, int frames) {
  if (!fs::exists(kPhoto))
    throw InputError(std::string("bench video: give --video CLIP (the default clip is made from ") + kPhoto +
                     ", python3-skimage's photograph, which is not installed)");
  render::VideoReader reader(kPhoto);
  render::Image photo;
  reader.next(photo);
  const detector::Frame frame = frame_of(photo);
  render::VideoWriter writer(path, 320, 320, 25.0);
  for (int i = 0; i < frames; ++i) {
    const float t = static_cast<float>(i) / static_cast<float>(frames - 1);
    detector::RotatedRect view;
    view.width = view.height = 1.0f - 0.25f * t;
    view.x_center = 0.5f + 0.1f * std::sin(6.2832f * t);
    view.y_center = 0.5f - 0.05f * t;
    const torch::Tensor rgb = detector::crop_region(frame, view, 320, false)[0].clamp(0, 255).round().to(torch::kByte)
                                  .contiguous();
    render::Image image(320, 320);
    const std::uint8_t* p = rgb.data_ptr<std::uint8_t>();
    for (std::size_t k = 0; k < static_cast<std::size_t>(320 * 320); ++k) {
      image.pixels[4 * k] = p[3 * k + 2];
      image.pixels[4 * k + 1] = p[3 * k + 1];
      image.pixels[4 * k + 2] = p[3 * k];
    }
    writer.write(image);
  }
  writer.finish();
}

}  // namespace

int run_video_benchmark(const BenchOptions& options) {
  const std::string folder = options.models.empty() ? detector::default_models_folder() : options.models;
  detector::find_model_files(folder, detector::LandmarkModel::Lite);  // InputError saying how to install
  const fs::path work = fs::temp_directory_path() / fmt::format("poselift-bench-video-{}", ::getpid());
  fs::create_directories(work);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{work};
  engine::RuntimeOptions runtime;  // all CPUs this process may use, as `poselift video` runs
  runtime.progress = false;
  engine::configure_runtime(runtime);
  std::string clip = options.video;
  if (clip.empty()) {
    clip = (work / "astronaut.mp4").string();
    make_clip(clip, 100);
  }
  render::VideoReader probe(clip);
  report::line(fmt::format("poselift video on {} ({}x{}), {} threads: frames/s, decoding included", clip,
                           probe.width(), probe.height(), torch::get_num_threads()));
  report::line(fmt::format("{:<28} {:>8} {:>10} {:>10}", "stage", "frames", "seconds", "frames/s"));
  for (const auto model : {detector::LandmarkModel::Lite, detector::LandmarkModel::Full, detector::LandmarkModel::Heavy}) {
    const detector::ModelFiles files = detector::find_model_files(folder, model);
    detector::MultiTrackerOptions tracker;
    tracker.tracker.model = model;
    tracker.max_people = 1;  // MediaPipe's single-person video mode, as `poselift video` runs by default
    engine::VideoResult stats;
    engine::detect_video(clip, files, tracker, false, &stats);
    report::line(fmt::format("{:<28} {:>8} {:>10.2f} {:>10.1f}",
                             fmt::format("BlazePose {}", detector::landmark_model_name(model)), stats.frames,
                             stats.detection_seconds, stats.frames / stats.detection_seconds));
  }
  engine::VideoOptions whole;
  whole.models = folder;
  whole.landmark_model = detector::LandmarkModel::Lite;
  whole.infer.input = clip;
  whole.infer.checkpoint.dir = "builtin";
  whole.infer.output = (work / "motion.npz").string();
  whole.infer.runtime = runtime;
  whole.infer.tracking.min_confidence = 0.0f;
  const auto start = std::chrono::steady_clock::now();
  const engine::VideoResult result = engine::run_video(whole);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report::line(fmt::format("{:<28} {:>8} {:>10.2f} {:>10.1f}", "whole command (lite, builtin)", result.frames, seconds,
                           result.frames / seconds));
  return 0;
}

}  // namespace poselift::bench
