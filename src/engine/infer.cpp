#include "engine/infer.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "assets/builtin_lifter.hpp"
#include "data/camera.hpp"
#include "data/h36m.hpp"
#include "engine/model_loading.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "report/report.hpp"

namespace poselift::engine {

FlipSymmetry h36m_symmetry() {
  FlipSymmetry s;
  const auto& left = data::h36m::joints_left();
  const auto& right = data::h36m::joints_right();
  s.kps_left = s.joints_left = {left.begin(), left.end()};
  s.kps_right = s.joints_right = {right.begin(), right.end()};
  return s;
}

namespace {

// The model input of one filled track: VideoPose3D's screen normalisation (x in [-1, 1], aspect kept).
torch::Tensor normalized_track(const wild::Sequence2D& sequence, int width, int height) {
  const auto T = static_cast<std::int64_t>(sequence.frames.size());
  std::vector<float> pixels;
  pixels.reserve(static_cast<std::size_t>(T) * data::h36m::kJoints * 2);
  for (const auto& pose : sequence.poses)
    for (const auto& k : pose) pixels.push_back(k[0]), pixels.push_back(k[1]);
  const io::NdArray normalized = data::normalize_screen_coordinates(
      io::NdArray::from_vector<float>({T, data::h36m::kJoints, 2}, pixels), width, height);
  return torch::from_blob(const_cast<float*>(normalized.data<float>()), {T, data::h36m::kJoints, 2}, torch::kFloat32)
      .clone();
}

// `model` over a whole track in chunks, so long videos show progress. Chunks with the receptive
// field's context on each side give exactly the whole-sequence result: every output frame of a
// chunk sees the same frames, and the sequence's own edges are padded by predict_sequence.
torch::Tensor lift_in_chunks(model::LifterImpl& model, const torch::Tensor& input, const FlipSymmetry& symmetry,
                             const PredictOptions& options, const torch::Device& device, report::Progress& bar) {
  const std::int64_t T = input.size(0);
  const std::int64_t pad = (model.receptive_field() - 1) / 2, shift = model.causal_shift();
  const std::int64_t chunk = std::max<std::int64_t>({256, options.max_batch, 4 * model.receptive_field()});
  std::vector<torch::Tensor> parts;
  for (std::int64_t s = 0; s < T; s += chunk) {
    const std::int64_t e = std::min(T, s + chunk);
    const std::int64_t a = std::max<std::int64_t>(0, s - pad - shift), b = std::min(T, e + pad);
    auto out = predict_sequence(model, input.slice(0, a, b), symmetry, options, device);
    parts.push_back(out.slice(0, s - a, e - a));
    bar.advance(e - s);
  }
  return torch::cat(parts, 0).to(torch::kFloat32).contiguous();
}

}  // namespace

LiftedTrack lift_sequence(model::LifterImpl& model, model::LifterImpl* trajectory, const wild::Sequence2D& sequence,
                          int width, int height, const PredictOptions& options, const torch::Device& device,
                          bool progress, const MotionBERTWildOptions& motionbert) {
  if (model.family() == model::Family::MotionBERT)
    return lift_motionbert_wild(model, sequence, width, height, motionbert, options, device, progress);
  torch::Tensor input = normalized_track(sequence, width, height);
  if (model.input_channels() == 3) {  // MotionBERT: the detector's confidence as the third channel
    std::vector<float> scores;
    for (const auto& pose : sequence.poses)
      for (const auto& k : pose) scores.push_back(k[2]);
    input = torch::cat({input, torch::tensor(scores).view({input.size(0), input.size(1), 1})}, -1);
  }
  const std::int64_t T = input.size(0);
  report::Progress bar("lifting", trajectory ? 2 * T : T, "frames", progress);
  LiftedTrack out;
  const auto positions = lift_in_chunks(model, input, h36m_symmetry(), options, device, bar);
  // Root-relative: the model is trained with the pelvis at the origin; make it exact.
  out.positions = (positions - positions.slice(1, 0, 1)).contiguous();
  if (trajectory) {
    // The root's camera-space position: flipped with the keypoints, no joints to swap.
    FlipSymmetry root_only = h36m_symmetry();
    root_only.joints_left.clear();
    root_only.joints_right.clear();
    out.trajectory = lift_in_chunks(*trajectory, input, root_only, options, device, bar).select(1, 0).contiguous();
  }
  bar.finish();
  return out;
}

namespace {

std::vector<std::int64_t> frame_list(const wild::Detections& d) {
  std::vector<std::int64_t> frames;
  for (const auto& f : d.frames) frames.push_back(f.index);
  return frames;
}

// The settings checked before any file is read (the flags named).
void validate_infer_options(const InferOptions& o) {
  if (o.width < 0 || o.height < 0 || o.width > 1'000'000 || o.height > 1'000'000)
    throw InputError(fmt::format("--width/--height: expected a size in pixels, found {}x{}", o.width, o.height));
  const double fps = o.output_options.animation.fps;
  if (!(fps >= 0.0) || fps > 1e6)  // 0: not given
    throw InputError(fmt::format("--fps: expected a positive frame rate, found {}", fps));
  if (!(o.fill.min_valid_fraction >= 0.0 && o.fill.min_valid_fraction <= 1.0))
    throw InputError(fmt::format("--min-valid: expected a fraction in [0, 1], found {}", o.fill.min_valid_fraction));
  if (!(o.tracking.min_confidence >= 0.0f))
    throw InputError(fmt::format("--min-confidence: expected a non-negative number, found {}", o.tracking.min_confidence));
  if (!(o.fit_2d_height < 10.0))
    throw InputError(fmt::format("--fit-2d-height: expected a fraction of the image width (0: off), found {}",
                                 o.fit_2d_height));
  if (!(o.body_height == 0.0 || (o.body_height >= 0.5 && o.body_height <= 2.5)))
    throw InputError(fmt::format("--body-height: expected a person's height in metres (0.5-2.5; 0: off), found {}",
                                 o.body_height));
  if (o.clip_len < 0 || o.clip_len > 100000)
    throw InputError(fmt::format("--clip-len: expected a frame count (at most the model's maxlen), found {}",
                                 o.clip_len));
  if (o.person != "all") {
    const std::string& p = o.person;
    if (p.empty() || p.size() > 6 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw InputError("--person: expected a track number (0, 1, ...) or 'all', found '" + p + "'");
  }
}

}  // namespace

// `sequence` scaled about its centre so that the median vertical extent of its poses is
// `fraction` x `width` pixels, moved to the image's centre (see InferOptions::fit_2d_height).
static wild::Sequence2D fit_2d_height(const wild::Sequence2D& sequence, int width, int height, double fraction) {
  std::vector<double> extents;
  double cx = 0.0, cy = 0.0, count = 0.0;
  for (const auto& pose : sequence.poses) {
    double lo = pose[0][1], hi = pose[0][1];
    for (const auto& k : pose) {
      lo = std::min<double>(lo, k[1]), hi = std::max<double>(hi, k[1]);
      cx += k[0], cy += k[1], count += 1.0;
    }
    extents.push_back(hi - lo);
  }
  if (extents.empty()) return sequence;
  std::nth_element(extents.begin(), extents.begin() + extents.size() / 2, extents.end());
  const double extent = extents[extents.size() / 2];
  if (!(extent > 1e-6)) return sequence;
  const double scale = fraction * width / extent;
  cx /= count, cy /= count;
  wild::Sequence2D out = sequence;
  for (auto& pose : out.poses)
    for (auto& k : pose) {
      k[0] = static_cast<float>(0.5 * width + scale * (k[0] - cx));
      k[1] = static_cast<float>(0.5 * height + scale * (k[1] - cy));
    }
  return out;
}

InferResult run_inference(const InferOptions& o) {
  // The paths and flags are checked before the detections are read.
  wild::output_format(o.output);
  io::checked_output_path(o.output, {o.input, resolve_checkpoint_path(o.checkpoint)}, "--out");
  return run_inference(o, wild::read_detections(o.input, o.read));
}

InferResult run_inference(const InferOptions& o, const wild::Detections& detections) {
  validate_predict_options(o.predict);
  const torch::Device device = configure_runtime(o.runtime);
  // Everything that can be checked cheaply is checked before the model runs.
  const wild::OutputFormat format = wild::output_format(o.output);
  const std::string checkpoint = resolve_checkpoint_path(o.checkpoint);
  const std::string output = io::checked_output_path(o.output, {o.input, checkpoint}, "--out");
  validate_infer_options(o);
  motion::validate_smoothing(o.smoothing);
  motion::validate_ground(o.ground);
  wild::validate_axes(o.output_options.animation);
  const bool all = o.person == "all";
  const std::size_t person = all ? 0 : std::stoul(o.person);
  const int width = o.width > 0 ? o.width : detections.width;
  const int height = o.height > 0 ? o.height : detections.height;
  if (width <= 0 || height <= 0)
    throw InputError(fmt::format("{}: the image size is not in the file: pass --width and --height (pixels)", o.input));
  if ((o.width > 0) != (o.height > 0)) throw InputError("--width and --height go together");
  const motion::PinholeCamera camera = motion::camera_for_image(width, height, o.focal, o.fov);

  const auto tracks = wild::track_people(detections, o.tracking);
  InferResult result;
  wild::ExportOptions export_options = o.output_options;
  if (!(export_options.animation.fps > 0.0) && detections.fps > 0.0) export_options.animation.fps = detections.fps;
  if (!(export_options.animation.fps > 0.0)) {
    export_options.animation.fps = kAssumedVideoFps;
    if (format == wild::OutputFormat::Bvh || format == wild::OutputFormat::Glb || format == wild::OutputFormat::Json)
      result.notes.push_back(fmt::format("{} does not state its frame rate: {} fps assumed in the output (--fps sets it)",
                                       o.input, kAssumedVideoFps));
  }
  result.tracks = tracks.size();
  if (tracks.empty()) throw InputError(o.input + ": no person with a keypoint above --min-confidence");
  if (!all && person >= tracks.size())
    throw InputError(fmt::format("--person {}: {} has {} track{} (0..{})", person, o.input, tracks.size(),
                                 tracks.size() == 1 ? "" : "s", tracks.size() - 1));
  const auto frames = frame_list(detections);
  wild::FillOptions fill = o.fill;
  fill.min_confidence = o.tracking.min_confidence;
  std::vector<std::pair<std::size_t, wild::Sequence2D>> sequences;
  for (std::size_t k = 0; k < tracks.size(); ++k) {
    if (!all && k != person) continue;
    const std::string what = fmt::format("{}: track {}", o.input, k);
    try {
      sequences.emplace_back(k, wild::fill_track(tracks[k], frames, fill, what));
    } catch (const InputError& e) {
      if (!all) throw;
      result.notes.push_back(fmt::format("skipped {}", e.what()));
    }
  }
  if (sequences.empty()) {
    std::string reasons;
    for (const auto& note : result.notes) reasons += "\n  " + note;
    throw InputError(o.input + ": no track can be lifted:" + reasons);
  }

  const InferenceModel net = load_for_inference(checkpoint, o.model, device);
  model::LifterImpl& pose = net.pose();
  if (pose.input_joints() != data::h36m::kJoints || pose.output_joints() != data::h36m::kJoints ||
      pose.input_channels() < 2 || pose.input_channels() > 3)
    throw InputError(fmt::format("{}: the model takes {} joints x {} channels; infer needs a Human3.6M-17 model "
                                 "on 2D input (with or without confidences)",
                                 checkpoint, pose.input_joints(), pose.input_channels()));
  const bool motionbert = pose.family() == model::Family::MotionBERT;
  if (!motionbert && (o.pixel || o.clip_len > 0))
    throw InputError(fmt::format("--pixel and --clip-len are MotionBERT's (its infer_wild.py); {} is a {} checkpoint",
                                 checkpoint, model::family_name(pose.family())));
  const MotionBERTWildOptions wild_options =
      motionbert_wild_options(net.config ? &*net.config : nullptr, o.pixel, o.clip_len);
  std::string units = "metres";
  if (motionbert) {
    if (wild_options.clip_len > pose.receptive_field())
      throw InputError(fmt::format("{}: clip_len {} exceeds the {} frames of the model's temporal embedding (maxlen)",
                                   o.clip_len > 0 ? "--clip-len" : net.config->path, wild_options.clip_len,
                                   pose.receptive_field()));
    units = wild_options.pixel ? "pixels (MotionBERT --pixel; depth at the same scale)"
                               : "MotionBERT's normalised units (1 = half the larger side of the track's 2D box)";
    result.notes.push_back(fmt::format(
        "MotionBERT's output is in {}, not metres{}", units,
        wild_options.rootrel ? ""
                             : "; its configuration is global (rootrel false): the trajectory is the root, its depth 0 "
                               "at the first frame of every clip"));
  }

  const double fit_height =
      o.fit_2d_height >= 0.0 ? o.fit_2d_height : (assets::is_builtin_lifter(checkpoint) ? kBuiltinLifterHeight : 0.0);
  if (fit_height > 0.0 && motionbert)
    throw InputError("--fit-2d-height: MotionBERT normalises its input to the track's box itself");
  if (o.body_height > 0.0 && motionbert) throw InputError("--body-height: MotionBERT's output is not in metres");
  std::vector<std::pair<std::string, wild::LiftedSequence>> outputs;
  for (auto& [k, seq] : sequences) {
    wild::LiftedSequence lifted;
    LiftedTrack track =
        lift_sequence(pose, net.loaded.trajectory.get(), fit_height > 0.0 ? fit_2d_height(seq, width, height, fit_height) : seq,
                      width, height, o.predict, device, o.runtime.progress, wild_options);
    lifted.units = units;
    const torch::Tensor& positions = track.positions;
    const auto T = static_cast<std::int64_t>(seq.frames.size());
    if (o.body_height > 0.0 && T > 0) {
      const double lifted_height = motion::standing_height(
          {positions.data_ptr<float>(), positions.data_ptr<float>() + positions.numel()}, T);
      if (lifted_height > motion::kAnkleAboveFloor) {
        const double scale = (o.body_height - motion::kAnkleAboveFloor) / (lifted_height - motion::kAnkleAboveFloor);
        positions.mul_(scale);
        if (track.trajectory.defined()) track.trajectory.mul_(scale);
        result.notes.push_back(fmt::format("{}: the lifted person stood {:.2f} m tall, scaled by {:.3f} to {:.2f} m",
                                           k, lifted_height, scale, o.body_height));
      }
    }
    // Smoothed over the whole stitched track (the root stays at the origin: constants are kept).
    lifted.positions = motion::smooth({positions.data_ptr<float>(), positions.data_ptr<float>() + positions.numel()}, T,
                                      positions.numel() / std::max<std::int64_t>(1, T), o.smoothing, export_options.animation.fps);
    std::vector<float> trajectory;
    if (track.trajectory.defined()) {
      trajectory.assign(track.trajectory.data_ptr<float>(), track.trajectory.data_ptr<float>() + track.trajectory.numel());
    } else if (o.geometric_trajectory && !motionbert) {  // MotionBERT's units are not metres
      std::vector<float> pixels, scores;
      for (const auto& pose : seq.poses)
        for (const auto& k : pose) pixels.push_back(k[0]), pixels.push_back(k[1]), scores.push_back(k[2]);
      trajectory = motion::root_trajectory({positions.data_ptr<float>(), positions.data_ptr<float>() + positions.numel()},
                                           pixels, scores, T, data::h36m::kJoints, camera);
    }
    if (!trajectory.empty()) lifted.trajectory = motion::smooth(trajectory, T, 3, o.smoothing, export_options.animation.fps);
    // MotionBERT's units are not metres: its world is the level camera's, with no contacts.
    motion::GroundOptions ground = o.ground;
    if (motionbert) ground.ground = false;
    motion::WorldMotion world =
        motion::ground_motion(lifted.positions, lifted.trajectory, T, export_options.animation.fps, ground);
    lifted.positions = std::move(world.positions);
    if (!lifted.trajectory.empty()) lifted.trajectory = std::move(world.trajectory);
    lifted.world = std::move(world.world);
    lifted.world_from_camera = world.world_from_camera;
    lifted.contacts = std::move(world.contacts);
    if (ground.ground) {
      std::size_t planted = 0;
      for (std::size_t t = 0; t + 1 < lifted.contacts.size(); t += 2) planted += lifted.contacts[t] || lifted.contacts[t + 1];
      result.notes.push_back(fmt::format(
          "track {}: the floor from the {} (the camera {:.1f} degrees off level); a foot planted in {:.0f}% of the "
          "frames{}",
          k, world.up_source == "feet" ? "planted feet" : world.up_source == "body" ? "body's up direction" : "camera",
          world.camera_tilt_degrees, 100.0 * static_cast<double>(planted) / static_cast<double>(std::max<std::int64_t>(1, T)),
          o.ground.lock_contacts && !lifted.trajectory.empty() ? ", locked in place" : ""));
    }
    lifted.input = std::move(seq);
    lifted.width = width;
    lifted.height = height;
    result.frames += static_cast<std::int64_t>(lifted.input.frames.size());
    outputs.emplace_back(all ? wild::track_path(output, k) : output, std::move(lifted));
  }
  for (const auto& [path, lifted] : outputs) {
    wild::write_lifted(path, lifted, export_options);
    result.written.push_back(path);
  }
  return result;
}

}  // namespace poselift::engine
