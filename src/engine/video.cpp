#include "engine/video.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/model_loading.hpp"
#include "io/error.hpp"
#include "io/file.hpp"
#include "io/output_path.hpp"
#include "io/text.hpp"
#include "render/video.hpp"
#include "report/report.hpp"

namespace poselift::engine {

namespace {
constexpr int kMaxPeople = 64;  // each tracked person costs a landmark model run per frame

// `pattern` with its one printf number ("%d", "%04d"; "%%" is a percent sign) replaced by
// `number`, or nothing when it is not such a pattern. Parsed here rather than given to
// snprintf: the pattern is the user's.
std::optional<std::string> expand_sequence_pattern(const std::string& pattern, int number) {
  std::string out;
  bool expanded = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out += pattern[i];
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out += '%', ++i;
      continue;
    }
    std::size_t j = i + 1;
    const bool zero = j < pattern.size() && pattern[j] == '0';
    if (zero) ++j;
    int width = 0;
    while (j < pattern.size() && pattern[j] >= '0' && pattern[j] <= '9' && width < 100)
      width = width * 10 + (pattern[j++] - '0');
    if (expanded || j >= pattern.size() || pattern[j] != 'd' || width > 16) return std::nullopt;
    std::string digits = std::to_string(number);
    if (static_cast<int>(digits.size()) < width)
      digits.insert(0, static_cast<std::size_t>(width) - digits.size(), zero ? '0' : ' ');
    out += digits;
    expanded = true;
    i = j;
  }
  if (!expanded) return std::nullopt;
  return out;
}

// A video file, or a numbered image sequence as FFmpeg's image2 demuxer reads one
// ("frames/%04d.png", starting at one of the numbers 0-4 it tries).
void check_video_exists(const std::string& path) {
  if (std::filesystem::is_regular_file(path)) return;
  bool pattern = false;
  for (int number = 0; number < 5; ++number) {
    const auto name = expand_sequence_pattern(path, number);
    if (!name) break;
    pattern = true;
    if (std::filesystem::is_regular_file(*name)) return;
  }
  if (pattern)
    throw InputError(path + ": no image of this sequence found (its first number is 0 to 4, as FFmpeg reads them)");
  throw InputError(path + ": video not found");
}
}  // namespace

wild::Detections detect_video(const std::string& path, const detector::ModelFiles& files,
                              const detector::MultiTrackerOptions& tracker_options, bool progress,
                              VideoResult* stats) {
  if (tracker_options.max_people < 1 || tracker_options.max_people > kMaxPeople)
    throw InputError(fmt::format("--people: expected 1 to {}, found {}", kMaxPeople, tracker_options.max_people));
  render::VideoReader reader(path);  // InputError naming the file when FFmpeg cannot read it
  // One person: MediaPipe's own video mode, exactly; several: the multi-person tracker.
  std::optional<detector::PoseTracker> single;
  std::optional<detector::MultiPoseTracker> several;
  if (tracker_options.max_people == 1)
    single.emplace(files, tracker_options.tracker);
  else
    several.emplace(files, tracker_options);
  wild::Detections detections;
  detections.source = path;
  detections.layout = wild::Layout::Coco17;
  detections.width = reader.width();
  detections.height = reader.height();
  detections.fps = reader.fps();
  const double fps = reader.fps() > 0 ? reader.fps() : kAssumedVideoFps;
  report::Progress bar("detecting", reader.frame_count(), "frames", progress);
  render::Image image;
  std::int64_t index = 0, found = 0, detected = 0, people = 0;
  const auto start = std::chrono::steady_clock::now();
  while (reader.next(image)) {
    // BGRx bytes to an RGB tensor [H, W, 3] (a view, then one copy).
    const torch::Tensor bgrx =
        torch::from_blob(image.pixels.data(), {image.height, image.width, 4}, torch::kByte);
    const torch::Tensor rgb = torch::stack({bgrx.select(2, 2), bgrx.select(2, 1), bgrx.select(2, 0)}, 2);
    const detector::Frame rgb_frame = detector::make_frame(rgb);
    const double seconds = static_cast<double>(index) / fps;
    std::vector<detector::TrackedPose> poses;
    if (single) {
      std::optional<detector::PoseLandmarks> pose = single->process(rgb_frame, seconds);
      if (!single->last_detections().empty() || !pose) ++detected;
      if (pose) poses.push_back({0, std::move(*pose)});
    } else {
      poses = several->process(rgb_frame, seconds);
      if (several->detected_last_frame()) ++detected;
      for (const auto& tracked : poses) people = std::max<std::int64_t>(people, tracked.id + 1);
    }
    wild::Frame frame;
    frame.index = index;
    if (!poses.empty()) ++found;
    for (const detector::TrackedPose& tracked : poses) {
      wild::Person person;
      person.score = tracked.pose.score;
      for (int k : detector::kCocoFromBlazePose) {
        const detector::Landmark& l = tracked.pose.image[k];
        person.keypoints.push_back({l.x * image.width, l.y * image.height, l.visibility});
      }
      frame.people.push_back(std::move(person));
    }
    detections.frames.push_back(std::move(frame));
    ++index;
    bar.advance(1, fmt::format("{} with a person", found));
  }
  bar.finish(fmt::format("{} of {} frames with a person", found, index));
  if (index == 0) throw InputError(path + ": the video has no frames");
  if (found == 0) {
    throw InputError(fmt::format("{}: BlazePose found no person in any of its {} frames", path, index));
  }
  if (stats) {
    stats->frames = index;
    stats->frames_with_person = found;
    stats->people = single ? 1 : people;
    stats->detections = detected;
    stats->detection_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return detections;
}

void write_coco_keypoints(const wild::Detections& detections, const std::string& path) {
  nlohmann::json results = nlohmann::json::array();
  for (const wild::Frame& frame : detections.frames) {
    for (const wild::Person& person : frame.people) {
      nlohmann::json keypoints = nlohmann::json::array();
      for (const wild::Keypoint& k : person.keypoints) {
        keypoints.push_back(k[0]);
        keypoints.push_back(k[1]);
        keypoints.push_back(k[2]);
      }
      results.push_back({{"image_id", frame.index}, {"category_id", 1}, {"keypoints", keypoints},
                         {"score", person.score}});
    }
  }
  io::write_file_atomic(path, results.dump());
}

VideoResult run_video(const VideoOptions& o) {
  // Everything cheap is checked before the video is decoded: formats, paths, the models.
  const InferOptions& infer = o.infer;
  wild::output_format(infer.output);
  const std::string checkpoint = resolve_checkpoint_path(infer.checkpoint);
  io::checked_output_path(infer.output, {infer.input, checkpoint}, "--out");
  if (!o.keypoints_out.empty()) {
    if (!io::iends_with(o.keypoints_out, ".json"))
      throw InputError("--keypoints-out " + o.keypoints_out + ": expected a .json file (COCO keypoint results)");
    io::checked_output_path(o.keypoints_out, {infer.input, checkpoint, infer.output}, "--keypoints-out");
  }
  if (!o.render.empty() || !o.html.empty()) {
    if (wild::output_format(infer.output) != wild::OutputFormat::Npz)
      throw InputError("--render and --html draw the lifted .npz: give --out a .npz file (" + infer.output + " is not)");
    if (infer.person == "all") throw InputError("--render and --html draw one person: not with --person all");
    if (!o.render.empty()) {
      render::video_format_for(o.render);  // .mp4 or .gif
      io::checked_output_path(o.render, {infer.input, checkpoint, infer.output}, "--render");
    }
    if (!o.html.empty()) io::checked_output_path(o.html, {infer.input, checkpoint, infer.output}, "--html");
  }
  if (o.max_people < 1 || o.max_people > kMaxPeople)
    throw InputError(fmt::format("--people: expected 1 to {}, found {}", kMaxPeople, o.max_people));
  check_video_exists(infer.input);
  const detector::ModelFiles files =
      detector::find_model_files(o.models.empty() ? detector::default_models_folder() : o.models, o.landmark_model);

  VideoResult result;
  detector::MultiTrackerOptions tracker;
  tracker.tracker.model = o.landmark_model;
  tracker.tracker.smooth = o.smooth_landmarks;
  tracker.max_people = o.max_people;
  const wild::Detections detections = detect_video(infer.input, files, tracker, infer.runtime.progress, &result);
  if (!o.keypoints_out.empty()) {
    write_coco_keypoints(detections, o.keypoints_out);
    result.keypoints_written = o.keypoints_out;
  }
  result.lifted = run_inference(infer, detections);
  if ((!o.render.empty() || !o.html.empty()) && !result.lifted.written.empty()) {
    RenderOptions render;
    render.runtime = infer.runtime;
    render.input = result.lifted.written.front();
    render.video = infer.input;
    render.output = o.render;
    render.html = o.html;
    const RenderResult drawn = run_render(render);
    result.rendered = drawn.video;
    result.html = drawn.html;
  }
  return result;
}

}  // namespace poselift::engine
