#include "engine/render.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "data/dataset.hpp"
#include "data/h36m.hpp"
#include "data/keypoints.hpp"
#include "engine/evaluate.hpp"
#include "engine/model_loading.hpp"
#include "engine/options.hpp"
#include "engine/predict.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "render/figure.hpp"
#include "render/html_player.hpp"
#include "render/scene.hpp"
#include "report/report.hpp"
#include "wild/export.hpp"

namespace poselift::engine {

namespace fs = std::filesystem;

namespace {

// The checkpoint: -c DIR with --evaluate FILE (the original's way), or -c FILE; an `infer`
// result needs none.
std::string checkpoint_path(const RenderOptions& o) {
  if (o.evaluate_file.empty() && !fs::is_regular_file(o.checkpoint_dir))
    throw InputError("render: name the checkpoint with -c DIR --evaluate FILE or --checkpoint FILE (or render an "
                     "infer result with --input FILE.npz)");
  return resolve_checkpoint_path({o.checkpoint_dir, o.evaluate_file});
}

// Output paths checked against the inputs (a symbolic link's target is written, the link kept),
// then the cheap checks, so bad flags fail before the prediction runs.
RenderOptions checked_options(const RenderOptions& given) {
  const bool from_result = !given.input.empty();
  RenderOptions o = given;
  std::vector<std::string> inputs = {o.input, o.video, data::dataset_3d_path(o.data.data_dir, o.data.dataset),
                                     data::keypoints_2d_path(o.data.data_dir, o.data.dataset, o.data.keypoints)};
  if (!from_result) inputs.push_back(checkpoint_path(o));
  for (auto [path, flag] : {std::pair{&o.output, "--viz-output"}, std::pair{&o.html, "--html"},
                            std::pair{&o.export_npy, "--viz-export"}})
    if (!path->empty()) *path = io::checked_output_path(*path, inputs, flag);
  if (o.output.empty() && o.html.empty() && (from_result || o.export_npy.empty()))
    throw InputError("render: nothing to write: give --viz-output/--out FILE.mp4|.gif, --html FILE or --viz-export");
  if (from_result && !o.export_npy.empty())
    throw InputError("render: --viz-export writes a dataset prediction; an --input result already holds positions_3d");
  if (!o.output.empty()) render::video_format_for(o.output);
  if (!o.video.empty()) render::VideoReader probe(o.video);
  if (o.size <= 0) throw InputError(fmt::format("--viz-size must be positive, got {}", o.size));
  if (o.downsample <= 0) throw InputError(fmt::format("--viz-downsample must be positive, got {}", o.downsample));
  if (o.skip < 0) throw InputError(fmt::format("--viz-skip must be >= 0, got {}", o.skip));
  if (o.bitrate_kbps <= 0) throw InputError(fmt::format("--viz-bitrate must be positive, got {}", o.bitrate_kbps));
  return o;
}

// An `infer` result: camera-space positions shown upright, seen from the camera.
render::FigureInput figure_from_result(const RenderOptions& o) {
  const wild::LiftedSequence result = wild::read_lifted_npz(o.input);
  render::FigureInput figure;
  figure.parents.assign(data::h36m::parents().begin(), data::h36m::parents().end());
  figure.joints_right = data::h36m::joints_right();
  figure.keypoints_right = data::h36m::joints_right();
  figure.frames = static_cast<std::int64_t>(result.input.frames.size());
  figure.joints = figure.keypoint_count = data::h36m::kJoints;
  for (const auto& pose : result.input.poses)
    for (const auto& k : pose) figure.keypoints.push_back(k[0]), figure.keypoints.push_back(k[1]);
  figure.viewport_width = result.width;
  figure.viewport_height = result.height;
  // With a trajectory model's root positions the figure moves through the scene as it did.
  std::vector<float> positions = result.positions;
  if (!result.trajectory.empty())
    for (std::size_t i = 0; i < positions.size(); ++i) positions[i] += result.trajectory[i / (3 * data::h36m::kJoints) * 3 + i % 3];
  figure.tracks.push_back({"Reconstruction", render::camera_space_upright(positions)});
  figure.azimuth = -90;
  figure.video_frames = result.input.frames;
  figure.fps = o.fps > 0 ? o.fps : 0;
  return figure;
}

std::optional<io::NdArray> ground_truth(const RenderOptions& o, const data::MocapDataset& dataset);

// The chosen sequence of a dataset, its 2D input and its prediction.
struct PredictedSequence {
  data::MocapDataset dataset;
  data::Keypoints keypoints;
  io::NdArray input_2d, prediction;
};

PredictedSequence predict_dataset_sequence(const RenderOptions& o) {
  if (o.subject.empty() || o.action.empty())
    throw InputError("render: --viz-subject and --viz-action are required (or --input FILE.npz for infer results)");
  const std::string path = checkpoint_path(o);
  const torch::Device device = configure_runtime(o.runtime);
  report::line("Loading dataset...");
  PredictedSequence s{data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints), {}, {}, {}};
  report::line("Loading 2D detections...");
  s.keypoints = data::load_keypoints(s.dataset, o.data.data_dir, o.data.keypoints);
  const auto& action_keypoints = s.keypoints.action(o.subject, o.action);
  const auto& cameras = s.dataset.cameras_of(o.subject);
  if (o.camera < 0 || o.camera >= static_cast<int>(action_keypoints.cameras.size()) ||
      o.camera >= static_cast<int>(cameras.size()))
    throw InputError(fmt::format("{}: --viz-camera {} is out of range: {} {} has {} cameras", s.keypoints.source,
                                 o.camera, o.subject, o.action, action_keypoints.cameras.size()));
  s.input_2d = data::xy_channels(action_keypoints.cameras[o.camera]);
  const InferenceModel net =
      load_for_inference(path, o.model, device, {s.keypoints.metadata.num_joints, s.keypoints.source});
  report::line(fmt::format("Rendering {} {} camera {} ({} frames)...", o.subject, o.action, o.camera,
                           s.input_2d.shape[0]));
  PredictOptions predict;
  predict.test_time_augmentation = o.test_time_augmentation;
  predict.max_batch = o.batch;
  const FlipSymmetry symmetry = flip_symmetry(s.dataset, s.keypoints);
  const torch::Tensor input = model::to_tensor(s.input_2d);
  torch::Tensor prediction = predict_sequence(net.pose(), input, symmetry, predict, device);
  // As VideoPose3D's run.py: without a ground truth to take the trajectory from, the trajectory
  // model's root positions are added (and exported).
  if (net.loaded.trajectory && !ground_truth(o, s.dataset)) {
    FlipSymmetry root_only = symmetry;
    root_only.joints_left.clear();
    root_only.joints_right.clear();
    prediction = prediction + predict_sequence(*net.loaded.trajectory, input, root_only, predict, device);
  }
  s.prediction = model::to_ndarray(prediction.contiguous());
  if (!o.export_npy.empty()) {
    report::line(fmt::format("Exporting joint positions to {}", o.export_npy));
    io::write_npy(o.export_npy, s.prediction);  // camera space, as the original
  }
  return s;
}

// The ground truth of the sequence (camera space), if the dataset has it.
std::optional<io::NdArray> ground_truth(const RenderOptions& o, const data::MocapDataset& dataset) {
  if (const data::Subject* subject = dataset.find_subject(o.subject))
    if (const data::Action* action = subject->find_action(o.action))
      if (action->has_positions() && o.camera < static_cast<int>(action->positions_3d.size()))
        return action->positions_3d[o.camera];
  return std::nullopt;
}

render::FigureInput figure_from_dataset(const RenderOptions& o) {
  const PredictedSequence s = predict_dataset_sequence(o);
  const data::Camera& camera = s.dataset.cameras_of(o.subject)[o.camera];
  const std::int64_t T = s.prediction.shape[0];
  const int J = static_cast<int>(s.prediction.shape[1]);
  const std::optional<io::NdArray> truth_array = ground_truth(o, s.dataset);
  if (!truth_array) report::line("INFO: this action is unlabeled. Ground truth will not be rendered.");

  render::FigureInput figure;
  figure.frames = T;
  figure.joints = J;
  figure.parents = s.dataset.skeleton.parents();
  figure.joints_right = s.dataset.skeleton.joints_right();
  figure.keypoints_right = s.keypoints.metadata.keypoints_right;
  figure.keypoint_count = s.keypoints.metadata.num_joints;
  figure.keypoint_bones = s.keypoints.metadata.layout_name.value_or("") != "coco";
  figure.keypoints = data::image_coordinates(s.input_2d, camera.res_w, camera.res_h).to_floats();
  figure.viewport_width = camera.res_w;
  figure.viewport_height = camera.res_h;
  figure.azimuth = camera.azimuth;
  figure.fps = o.fps > 0 ? o.fps : s.dataset.fps.value_or(0);

  render::DatasetScene scene;
  scene.prediction = s.prediction.to_floats();
  scene.frames = T;
  scene.joints = J;
  scene.camera = &camera;
  scene.show_truth = o.show_ground_truth;
  std::vector<float> truth;
  if (truth_array && camera.has_extrinsics) {
    truth = truth_array->to_floats();
    if (static_cast<std::int64_t>(truth.size()) != T * J * 3)
      throw InputError(fmt::format("{}: the ground truth of {} {} has {} frames, the 2D input {}", s.dataset.source,
                                   o.subject, o.action, truth_array->shape[0], T));
    scene.truth = &truth;
  }
  // No trajectory: the rotation of this camera index from any subject.
  scene.rotation_source = camera.has_extrinsics ? &camera : nullptr;
  for (const auto& [name, list] : s.dataset.cameras)
    if (!scene.rotation_source && o.camera < static_cast<int>(list.size()) && list[o.camera].has_extrinsics)
      scene.rotation_source = &list[o.camera];
  render::Placement placement = render::place_dataset_sequence(scene);
  figure.tracks = std::move(placement.tracks);
  if (placement.camera_view) figure.azimuth = -90;
  return figure;
}

std::int64_t write_video(const render::FigureInput& figure, const RenderOptions& o) {
  render::VideoSettings settings;
  settings.output = o.output;
  settings.video = o.video;
  settings.video_skip = o.skip;
  settings.limit = o.limit;
  settings.downsample = o.downsample;
  settings.size = o.size;
  settings.bitrate_kbps = o.bitrate_kbps;
  std::unique_ptr<report::Progress> progress;
  std::int64_t planned = 0;
  const auto frames = render::render_video(figure, settings, [&](std::int64_t done, std::int64_t total) {
    if (!progress) progress = std::make_unique<report::Progress>("render", total, "frames", o.runtime.progress);
    planned = total;
    if (done > 0) progress->advance(1);
  });
  if (progress) progress->finish(frames < planned ? "(the video ended)" : "");
  return frames;
}

}  // namespace

RenderResult run_render(const RenderOptions& given) {
  const RenderOptions o = checked_options(given);
  const bool from_result = !o.input.empty();
  render::FigureInput figure = from_result ? figure_from_result(o) : figure_from_dataset(o);
  if (!(figure.fps > 0)) {
    // Unknown rate (custom data, infer results): the video's, else 50 fps.
    figure.fps = 50;
    if (!o.video.empty()) {
      render::VideoReader reader(o.video);
      if (reader.fps() > 0) figure.fps = reader.fps();
    }
  }
  const std::string what = from_result ? o.input : o.subject + " " + o.action;
  figure.validate(what);
  RenderResult result;
  if (!o.html.empty()) {
    // The player shows the frames the video would: --viz-skip, --viz-downsample, --viz-limit.
    const auto frames = render::frames_to_render(figure, o.skip, o.limit, o.downsample);
    if (frames.empty())
      throw InputError(fmt::format("{}: nothing to show ({} frames, --viz-skip {})", o.html, figure.frames, o.skip));
    render::write_html_player(o.html, render::select_frames(figure, frames, o.downsample), "poselift: " + what);
    result.html = o.html;
  }
  if (!o.output.empty()) {
    result.video_frames = write_video(figure, o);
    result.video = o.output;
  }
  return result;
}

}  // namespace poselift::engine
