// `poselift infer`: a detector's 2D keypoints of a user's video lifted to 3D.
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "engine/infer.hpp"
#include "io/error.hpp"

namespace poselift::cli {

engine::InferOptions lifting_options(const LiftingFlags& o) {
  engine::InferOptions options = o.infer;
  auto& animation = options.output_options.animation;
  animation.bones = wild::parse_bone_lengths(o.infer_bones, "--bvh-bones");
  animation.up = wild::parse_axis(o.up, "--up");
  if (animation.up.index != 1 && animation.up.index != 2) throw InputError("--up: expected y or z, found '" + o.up + "'");
  // Forward by default: +z with y up (BVH's convention), -y with z up (Blender's).
  animation.forward = o.forward.empty() ? (animation.up.index == 1 ? wild::Axis{2, 1} : wild::Axis{1, -1})
                                        : wild::parse_axis(o.forward, "--forward");
  options.smoothing.filter = motion::filter_from_name(o.smooth);
  return options;
}

namespace {

int run_infer(const LiftingFlags& o) {
  const engine::InferOptions options = lifting_options(o);
  const auto result = engine::run_inference(options);
  for (const auto& note : result.notes) fmt::print(stderr, "poselift infer: {}\n", note);
  fmt::print("{} track{} in {}; lifted {} frames\n", result.tracks, result.tracks == 1 ? "" : "s", options.input,
             result.frames);
  for (const auto& path : result.written) fmt::print("wrote {}\n", path);
  return 0;
}

}  // namespace

void add_lifting_flags(CLI::App& cmd, LiftingFlags& o) {
  CLI::App* infer = &cmd;
  o.smooth = motion::filter_name(motion::default_smoothing().filter);
  {
    auto& i = o.infer;
    add_checkpoint_options(*infer, i.checkpoint);  // a checkpoint of Human3.6M-17 joints, any family
    infer->add_option("--out", i.output, "output .npz, .npy, .json, .csv, .bvh or .glb (format from the extension)")
        ->required();
    infer->add_option("--min-confidence", i.tracking.min_confidence,
                      "keypoints below this confidence are missing and filled by interpolation")
        ->capture_default_str();
    infer->add_option("--min-valid", i.fill.min_valid_fraction,
                      "reject tracks with fewer confident joint observations than this fraction")
        ->capture_default_str();
    infer->add_option("--fps", i.output_options.animation.fps,
                      "frame rate written to .bvh and .json (default: the input's where it says, else 30)");
    infer->add_option("--bvh-bones", o.infer_bones, "BVH bone lengths: median (of the sequence) or h36m (proportions)")
        ->capture_default_str();
    infer->add_option("--up", o.up, "BVH: the up axis, y (BVH's convention) or z (Blender's); a .glb is always y up")
        ->capture_default_str();
    infer->add_option("--forward", o.forward,
                      "BVH: the axis the figure faces at rest, e.g. +z, -y (default +z with y up, -y with z up)");
    infer->add_flag("!--no-twist", i.output_options.animation.hinge_twist,
                    "BVH/GLB: do not turn thighs and upper arms so knees and elbows bend about their hinge");
    infer->add_flag("!--no-ground", i.ground.ground,
                    "do not find the floor and the foot contacts (the camera taken as level, the feet on average on "
                    "the floor)");
    infer->add_flag("!--no-foot-lock", i.ground.lock_contacts,
                    "find the foot contacts but do not lock planted feet in place");
    infer->add_option("--contact-height", i.ground.contact_height,
                      "a foot is planted within this height above the floor, metres")
        ->capture_default_str();
    infer->add_option("--contact-speed", i.ground.contact_speed, "and slower than this, metres per second")
        ->capture_default_str();
    infer->add_option("--smooth", o.smooth,
                      "temporal smoothing of the lifted motion: none, one-euro (Casiez et al.) or savgol "
                      "(Savitzky-Golay), over the whole track")
        ->capture_default_str();
    infer->add_flag("--smooth-causal", i.smoothing.causal,
                    "smooth from past frames only (as a live stream must; default: centred / forward-backward)");
    i.smoothing = motion::default_smoothing();
    infer->add_option("--smooth-window", i.smoothing.window,
                      "savgol: window in frames, odd unless causal (0: 0.4 s at the video's frame rate)")
        ->capture_default_str();
    infer->add_option("--smooth-order", i.smoothing.order, "savgol: polynomial order")->capture_default_str();
    infer->add_option("--one-euro-min-cutoff", i.smoothing.min_cutoff, "one-euro: cutoff at rest, Hz")
        ->capture_default_str();
    infer->add_option("--one-euro-beta", i.smoothing.beta, "one-euro: cutoff increase per m/s of speed")
        ->capture_default_str();
    infer->add_option("--one-euro-derivative-cutoff", i.smoothing.derivative_cutoff,
                      "one-euro: cutoff of its speed estimate, Hz")
        ->capture_default_str();
    infer->add_flag("!--no-trajectory", i.geometric_trajectory,
                    "without a trajectory model, do not estimate the root's camera-space position from the 2D");
    infer->add_option("--focal", i.focal, "the video camera's focal length in pixels (for the trajectory)");
    infer->add_option("--fov", i.fov, "else its field of view across the image's longer side, degrees")
        ->capture_default_str();
    infer->add_flag("--pixel", i.pixel,
                    "MotionBERT: input relative to the image (centre 0, half the shorter side 1) and output in pixels, "
                    "as infer_wild.py --pixel (default: normalised to the track's 2D box)");
    infer->add_option("--clip-len", i.clip_len,
                      "MotionBERT: frames per clip, at most its maxlen (default: --config's clip_len, else maxlen)")
        ->check(CLI::Range(1, 100000));
    infer->add_option("--fit-2d-height", i.fit_2d_height,
                      "scale each track's 2D for the lifter to a person this fraction of the image width tall, "
                      "centred (0: off; default: 0.3 for -c builtin, as its training cameras saw people, else off)");
    infer->add_option("--body-height", i.body_height,
                      "the person's height in metres: the lifted poses, and the trajectory's depth with them, are "
                      "scaled to it (default: the lifter's own, about its training people's)");
    add_window_option(*infer, i.model);
    add_loading_options(*infer, i.model);
    add_predict_options(*infer, i.predict);
    add_runtime_options(*infer, i.runtime);
  }
}

void settle_lifting_flags(CLI::App& cmd, LiftingFlags& o) {
  forget_untyped_model_flags(cmd, o.infer.model);
  if (cmd.count("--fps") == 0) o.infer.output_options.animation.fps = 0;
}

Command add_infer_command(CLI::App& app) {
  auto o = std::make_shared<LiftingFlags>();
  auto* infer = app.add_subcommand("infer", "Lift a detector's 2D keypoints of your own video to 3D");
  auto& i = o->infer;
  infer->add_option("--input", i.input,
                    "COCO keypoint results .json, OpenPose folder or frame .json, VideoPose3D custom .npz, or .csv")
      ->required();
  infer->add_option("--format", i.read.format, "input format: auto, coco, openpose, npz, csv")->capture_default_str();
  infer->add_option("--layout", i.read.layout, "keypoint layout: auto, coco, coco18, body25, h36m")
      ->capture_default_str();
  infer->add_option("--video", i.read.video, "video of a VideoPose3D custom .npz with several, or SUBJECT/ACTION[/CAMERA] of a dataset's data_2d_*.npz");
  infer->add_option("--width", i.width, "image width in pixels (when the input does not say)");
  infer->add_option("--height", i.height, "image height in pixels");
  infer->add_option("--person", i.person, "track to lift (0: the one seen longest), or 'all': <stem>.track<K><ext>")
      ->capture_default_str();
  infer->add_option("--min-detection-score", i.tracking.min_detection_score, "ignore detections scored below")
      ->capture_default_str();
  add_lifting_flags(*infer, *o);
  return {infer, [o, infer] {
            settle_lifting_flags(*infer, *o);
            return run_infer(*o);
          }};
}

}  // namespace poselift::cli
