// `poselift video`: a video file to 3D motion, BlazePose finding the person (engine/video.hpp).
#include <fmt/format.h>

#include <memory>

#include "assets/builtin_lifter.hpp"
#include "cli/command.hpp"
#include "engine/video.hpp"

namespace poselift::cli {

namespace {

struct VideoFlags {
  LiftingFlags lifting;
  engine::VideoOptions video;
  std::string detector = "full";
};

int run_video(const VideoFlags& o) {
  engine::VideoOptions options = o.video;
  const std::string input = options.infer.input;
  options.infer = lifting_options(o.lifting);
  options.infer.input = input;
  options.landmark_model = detector::landmark_model_from_name(o.detector);
  const engine::VideoResult result = engine::run_video(options);
  for (const auto& note : result.lifted.notes) fmt::print(stderr, "poselift video: {}\n", note);
  const double rate = result.detection_seconds > 0 ? result.frames / result.detection_seconds : 0;
  fmt::print("{}: {} frames, a person in {} ({} detector run{}), BlazePose {} at {:.1f} frames/s\n", input,
             result.frames, result.frames_with_person, result.detections, result.detections == 1 ? "" : "s",
             o.detector, rate);
  if (options.max_people > 1) fmt::print("{} people tracked\n", result.people);
  fmt::print("lifted {} frames\n", result.lifted.frames);
  if (!result.keypoints_written.empty()) fmt::print("wrote {}\n", result.keypoints_written);
  for (const auto& path : result.lifted.written) fmt::print("wrote {}\n", path);
  if (!result.rendered.empty()) fmt::print("wrote {}\n", result.rendered);
  if (!result.html.empty()) fmt::print("wrote {}\n", result.html);
  return 0;
}

}  // namespace

Command add_video_command(CLI::App& app) {
  auto o = std::make_shared<VideoFlags>();
  auto* video = app.add_subcommand("video", "Turn a video of a person into 3D motion (BlazePose 2D, then a lifter)");
  video->add_option("video", o->video.infer.input, "the video file (anything FFmpeg decodes: .mp4, .mov, .webm, ...)")
      ->required();
  video->add_option("--detector", o->detector, "BlazePose landmark model: lite (fastest), full or heavy")
      ->capture_default_str();
  video->add_option("--models", o->video.models,
                    "folder of @mediapipe/pose's models (default: $POSELIFT_MODELS, else models/ beside the program, "
                    "where scripts/setup.sh installs them)");
  video->add_option("--person", o->lifting.infer.person,
                    "person to lift (0: the one seen longest), or 'all': <stem>.track<K><ext>")
      ->capture_default_str();
  video->add_option("--people", o->video.max_people,
                    "people tracked at once (default 1, MediaPipe's single-person mode; 8 when --person is all or "
                    "above 0)");
  video->add_flag("!--no-landmark-smoothing", o->video.smooth_landmarks,
                  "do not smooth the 2D landmarks with MediaPipe's filters");
  video->add_option("--keypoints-out", o->video.keypoints_out,
                    "also write the 2D detections as COCO keypoint results .json (for `infer --input` or other tools)");
  // BlazePose places all 33 landmarks in every frame it tracks, outside the picture too (with a
  // low visibility): by default each one is kept, its visibility passed on as the confidence.
  o->lifting.infer.tracking.min_confidence = 0.0f;
  video->add_option("--render", o->video.render,
                    "also draw the motion over the video's frames to this .mp4 or .gif (needs --out .npz)");
  video->add_option("--html", o->video.html, "also write the offline HTML player of the motion (needs --out .npz)");
  // Without -c, the lifter compiled into poselift: a fresh install needs no download.
  o->lifting.infer.checkpoint.dir = assets::kBuiltinLifter;
  add_lifting_flags(*video, o->lifting);
  return {video, [o, video] {
            settle_lifting_flags(*video, o->lifting);
            if (video->count("--people") == 0 && o->lifting.infer.person != "0") o->video.max_people = 8;
            return run_video(*o);
          }};
}

}  // namespace poselift::cli
