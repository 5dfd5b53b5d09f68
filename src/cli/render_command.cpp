// `poselift render`: the seed's --render (predict one subject/action/camera sequence of a dataset
// with a checkpoint, optionally export it, render it) and the rendering of `infer` results.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/command.hpp"
#include "cli/evaluation_output.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "engine/evaluate.hpp"
#include "engine/predict.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "render/figure.hpp"
#include "render/html_player.hpp"
#include "report/report.hpp"

namespace poselift::cli {

namespace fs = std::filesystem;

namespace {

struct RenderFlags {
  engine::DataOptions data;
  engine::ModelOptions model;
  engine::RuntimeOptions runtime;
  std::string checkpoint_dir = "checkpoint";
  std::string evaluate_file;
  bool test_time_augmentation = true;
  int eval_batch = 1024;
  // the original's --viz-* flags; --input/--out/--video for infer results
  std::string viz_subject, viz_action, viz_video, viz_output, viz_export, render_input, html_out;
  int viz_camera = 0, viz_bitrate = 3000, viz_size = 5, viz_downsample = 1;
  std::int64_t viz_limit = -1, viz_skip = 0;
  bool viz_no_ground_truth = false, render_flag = false;
  double render_fps = 0;
};

std::vector<float> floats_of(const io::NdArray& array) { return array.to_floats(); }

// Camera space (x right, y down, z forward) -> display space with z up and the camera looking
// along +y, feet on the ground; shown from azimuth -90 the view is the camera's.
std::vector<float> camera_space_upright(const std::vector<float>& positions) {
  std::vector<float> out(positions.size());
  float lowest = 0;
  for (std::size_t i = 0; i < positions.size(); i += 3) {
    out[i] = positions[i];
    out[i + 1] = positions[i + 2];
    out[i + 2] = -positions[i + 1];
    lowest = i == 0 ? out[i + 2] : std::min(lowest, out[i + 2]);
  }
  for (std::size_t i = 2; i < out.size(); i += 3) out[i] -= lowest;
  return out;
}

// The checkpoint: -c DIR with --evaluate FILE (the seed's way), or --checkpoint FILE.
std::string checkpoint_path(const RenderFlags& o) {
  if (o.evaluate_file.empty()) {
    if (fs::is_regular_file(o.checkpoint_dir)) return o.checkpoint_dir;
    throw InputError("render: name the checkpoint with -c DIR --evaluate FILE or --checkpoint FILE (or render an "
                     "infer result with --input FILE.npz)");
  }
  const std::string joined = (fs::path(o.checkpoint_dir) / o.evaluate_file).string();
  if (fs::exists(joined) || !fs::exists(o.evaluate_file)) {
    if (!fs::exists(joined)) throw InputError(joined + ": checkpoint not found (--evaluate is relative to -c)");
    return joined;
  }
  return o.evaluate_file;
}

const io::NdArray& numeric_member(const io::NpzFile& npz, const std::string& path, const std::string& name,
                                  const std::vector<std::int64_t>& shape, const std::string& expected) {
  if (!npz.contains(name))
    throw InputError(fmt::format("{}: missing member '{}' (expected {})", path, name, expected));
  const io::NpyContent& content = npz.at(name, path);
  bool ok = !content.is_object() && content.array.shape.size() == shape.size();
  for (std::size_t i = 0; ok && i < shape.size(); ++i)
    ok = shape[i] < 0 || content.array.shape[i] == shape[i];
  if (!ok || content.array.dtype == io::DType::Bool)
    throw InputError(fmt::format("{}: member '{}' should be {}, found {}", path, name, expected,
                                 content.is_object() ? std::string("an object array")
                                                     : io::dtype_name(content.array.dtype) + " " +
                                                           content.array.shape_string()));
  return content.array;
}

// An `infer` result (.npz): positions_3d (T,17,3) camera space, keypoints_2d (T,17,2) pixels,
// frames (T,) video frame indices, image_size (2,) [width, height].
render::FigureInput figure_from_result(const std::string& path, const RenderFlags& o) {
  if (!fs::exists(path)) throw InputError(path + ": no such file");
  const io::NpzFile npz = io::read_npz(path);
  const auto& positions = numeric_member(npz, path, "positions_3d", {-1, 17, 3}, "float32 (T, 17, 3)");
  const std::int64_t T = positions.shape[0];
  const auto& keypoints = numeric_member(npz, path, "keypoints_2d", {T, 17, 2}, fmt::format("({}, 17, 2)", T));
  const auto& frames = numeric_member(npz, path, "frames", {T}, fmt::format("int64 ({},)", T));
  const auto& image_size = numeric_member(npz, path, "image_size", {2}, "int64 (2,) [width, height]");
  const auto size = image_size.to_doubles();
  if (!(size[0] >= 1 && size[1] >= 1 && size[0] < 1e5 && size[1] < 1e5))
    throw InputError(fmt::format("{}: member 'image_size' should be a positive [width, height], found [{}, {}]", path,
                                 size[0], size[1]));
  const auto skeleton = data::h36m_skeleton_17();
  render::FigureInput figure;
  figure.parents = skeleton.parents();
  figure.joints_right = skeleton.joints_right();
  figure.keypoints_right = skeleton.joints_right();
  figure.frames = T;
  figure.joints = figure.keypoint_count = 17;
  figure.keypoints = floats_of(keypoints);
  figure.viewport_width = static_cast<int>(size[0]);
  figure.viewport_height = static_cast<int>(size[1]);
  figure.tracks.push_back({"Reconstruction", camera_space_upright(floats_of(positions))});
  figure.azimuth = -90;
  for (double f : frames.to_doubles()) figure.video_frames.push_back(static_cast<std::int64_t>(f));
  figure.fps = o.render_fps > 0 ? o.render_fps : 0;
  return figure;
}

// The seed's --render: predicts the chosen sequence and places it (and the ground truth) in the
// world as run_poseformer.py does.
render::FigureInput figure_from_dataset(const RenderFlags& o) {
  if (o.viz_subject.empty() || o.viz_action.empty())
    throw InputError("render: --viz-subject and --viz-action are required (or --input FILE.npz for infer results)");
  const std::string path = checkpoint_path(o);
  const torch::Device device = engine::configure_runtime(o.runtime);
  fmt::print("Loading dataset...\n");
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  fmt::print("Loading 2D detections...\n");
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  const auto& action_keypoints = keypoints.action(o.viz_subject, o.viz_action);
  const auto& cameras = dataset.cameras_of(o.viz_subject);
  if (o.viz_camera < 0 || o.viz_camera >= static_cast<int>(action_keypoints.cameras.size()) ||
      o.viz_camera >= static_cast<int>(cameras.size()))
    throw InputError(fmt::format("{}: --viz-camera {} is out of range: {} {} has {} cameras", keypoints.source,
                                 o.viz_camera, o.viz_subject, o.viz_action, action_keypoints.cameras.size()));
  const data::Camera& camera = cameras[o.viz_camera];
  const io::NdArray input_2d = data::xy_channels(action_keypoints.cameras[o.viz_camera]);

  auto net = model::load_poseformer(path, o.model.heads, o.model.strict_load);
  check_checkpoint_fits(path, net->config(), o.model.frames, keypoints.metadata.num_joints, keypoints.source);
  net->to(device);
  net->eval();
  fmt::print("Rendering {} {} camera {} ({} frames)...\n", o.viz_subject, o.viz_action, o.viz_camera,
             input_2d.shape[0]);
  engine::PredictOptions predict;
  predict.test_time_augmentation = o.test_time_augmentation;
  predict.max_batch = o.eval_batch;
  const torch::Tensor prediction_tensor = engine::predict_sequence(
      net, model::to_tensor(input_2d), engine::flip_symmetry(dataset, keypoints), predict, device);
  io::NdArray prediction = model::to_ndarray(prediction_tensor.contiguous());
  if (!o.viz_export.empty()) {
    fmt::print("Exporting joint positions to {}\n", o.viz_export);
    io::write_npy(o.viz_export, prediction);  // camera space, as the original
  }

  const std::int64_t T = prediction.shape[0];
  const int J = static_cast<int>(prediction.shape[1]);
  std::optional<io::NdArray> ground_truth;
  if (const data::Subject* subject = dataset.find_subject(o.viz_subject))
    if (const data::Action* action = subject->find_action(o.viz_action))
      if (action->has_positions() && o.viz_camera < static_cast<int>(action->positions_3d.size()))
        ground_truth = action->positions_3d[o.viz_camera];
  if (!ground_truth) fmt::print("INFO: this action is unlabeled. Ground truth will not be rendered.\n");

  render::FigureInput figure;
  figure.frames = T;
  figure.joints = J;
  figure.parents = dataset.skeleton.parents();
  figure.joints_right = dataset.skeleton.joints_right();
  figure.keypoints_right = keypoints.metadata.keypoints_right;
  figure.keypoint_count = keypoints.metadata.num_joints;
  figure.keypoint_bones = keypoints.metadata.layout_name.value_or("") != "coco";
  figure.keypoints = floats_of(data::image_coordinates(input_2d, camera.res_w, camera.res_h));
  figure.viewport_width = camera.res_w;
  figure.viewport_height = camera.res_h;
  figure.azimuth = camera.azimuth;
  figure.fps = o.render_fps > 0 ? o.render_fps : dataset.fps.value_or(0);

  std::vector<float> predicted = floats_of(prediction);
  if (ground_truth && camera.has_extrinsics) {
    // Reapply the ground truth's trajectory, then camera -> world.
    std::vector<float> truth = floats_of(*ground_truth);
    if (static_cast<std::int64_t>(truth.size()) != T * J * 3)
      throw InputError(fmt::format("{}: the ground truth of {} {} has {} frames, the 2D input {}", dataset.source,
                                   o.viz_subject, o.viz_action, ground_truth->shape[0], T));
    for (std::int64_t t = 0; t < T; ++t)
      for (int j = 0; j < J; ++j)
        for (int k = 0; k < 3; ++k) {
          const float root = truth[t * J * 3 + k];
          predicted[(t * J + j) * 3 + k] += root;
          if (j > 0) truth[(t * J + j) * 3 + k] += root;
        }
    auto to_world = [&](const std::vector<float>& values) {
      return data::camera_to_world(io::NdArray::from_vector({T, J, 3}, values), camera.orientation, camera.translation)
          .to_floats();
    };
    figure.tracks.push_back({"Reconstruction", to_world(predicted)});
    if (!o.viz_no_ground_truth) figure.tracks.push_back({"Ground truth", to_world(truth)});
  } else {
    // No trajectory: the rotation of this camera index from any subject, height rebased.
    const data::Camera* rotation_source = camera.has_extrinsics ? &camera : nullptr;
    for (const auto& [name, list] : dataset.cameras)
      if (!rotation_source && o.viz_camera < static_cast<int>(list.size()) && list[o.viz_camera].has_extrinsics)
        rotation_source = &list[o.viz_camera];
    if (rotation_source) {
      auto world = data::camera_to_world(io::NdArray::from_vector({T, J, 3}, predicted), rotation_source->orientation,
                                         {0, 0, 0})
                       .to_floats();
      float lowest = world.empty() ? 0 : world[2];
      for (std::size_t i = 2; i < world.size(); i += 3) lowest = std::min(lowest, world[i]);
      for (std::size_t i = 2; i < world.size(); i += 3) world[i] -= lowest;
      figure.tracks.push_back({"Reconstruction", std::move(world)});
    } else {
      figure.tracks.push_back({"Reconstruction", camera_space_upright(predicted)});
      figure.azimuth = -90;
    }
  }
  return figure;
}

int run_render(const RenderFlags& given) {
  const bool from_result = !given.render_input.empty();
  // Outputs never replace an input (a symbolic link's target is written, the link kept).
  RenderFlags o = given;
  {
    std::vector<std::string> inputs = {o.render_input, o.viz_video,
                                       data::dataset_3d_path(o.data.data_dir, o.data.dataset),
                                       data::keypoints_2d_path(o.data.data_dir, o.data.dataset, o.data.keypoints)};
    if (!from_result) inputs.push_back(checkpoint_path(o));
    for (auto [path, flag] : {std::pair{&o.viz_output, "--viz-output"}, std::pair{&o.html_out, "--html"},
                              std::pair{&o.viz_export, "--viz-export"}})
      if (!path->empty()) *path = io::checked_output_path(*path, inputs, flag);
  }
  if (o.viz_output.empty() && o.html_out.empty() && (from_result || o.viz_export.empty()))
    throw InputError("render: nothing to write: give --viz-output/--out FILE.mp4|.gif, --html FILE or --viz-export");
  if (from_result && !o.viz_export.empty())
    throw InputError("render: --viz-export writes a dataset prediction; an --input result already holds positions_3d");
  // Cheap checks first, so bad flags fail before the prediction runs.
  if (!o.viz_output.empty()) render::video_format_for(o.viz_output);
  if (!o.viz_video.empty()) render::VideoReader probe(o.viz_video);
  if (o.viz_size <= 0) throw InputError(fmt::format("--viz-size must be positive, got {}", o.viz_size));
  if (o.viz_downsample <= 0) throw InputError(fmt::format("--viz-downsample must be positive, got {}", o.viz_downsample));
  if (o.viz_skip < 0) throw InputError(fmt::format("--viz-skip must be >= 0, got {}", o.viz_skip));
  if (o.viz_bitrate <= 0) throw InputError(fmt::format("--viz-bitrate must be positive, got {}", o.viz_bitrate));

  render::FigureInput figure = from_result ? figure_from_result(o.render_input, o) : figure_from_dataset(o);
  if (!(figure.fps > 0)) {
    // Unknown rate (custom data, infer results): the video's, else 50 fps.
    figure.fps = 50;
    if (!o.viz_video.empty()) {
      render::VideoReader reader(o.viz_video);
      if (reader.fps() > 0) figure.fps = reader.fps();
    }
  }
  const std::string what = from_result ? o.render_input : o.viz_subject + " " + o.viz_action;
  figure.validate(what);

  if (!o.html_out.empty()) {
    // The player shows the frames the video would: --viz-skip, --viz-downsample, --viz-limit.
    const auto frames = render::frames_to_render(figure, o.viz_skip, o.viz_limit, o.viz_downsample);
    if (frames.empty())
      throw InputError(fmt::format("{}: nothing to show ({} frames, --viz-skip {})", o.html_out, figure.frames,
                                   o.viz_skip));
    render::write_html_player(o.html_out, render::select_frames(figure, frames, o.viz_downsample),
                              "poselift: " + what);
    fmt::print("wrote {}\n", o.html_out);
  }
  if (!o.viz_output.empty()) {
    render::VideoSettings settings;
    settings.output = o.viz_output;
    settings.video = o.viz_video;
    settings.video_skip = o.viz_skip;
    settings.limit = o.viz_limit;
    settings.downsample = o.viz_downsample;
    settings.size = o.viz_size;
    settings.bitrate_kbps = o.viz_bitrate;
    std::unique_ptr<report::Progress> progress;
    std::int64_t planned = 0;
    const auto frames = render::render_video(figure, settings, [&](std::int64_t done, std::int64_t total) {
      if (!progress) progress = std::make_unique<report::Progress>("render", total, "frames", o.runtime.progress);
      planned = total;
      if (done > 0) progress->advance(1);
    });
    if (progress) progress->finish(frames < planned ? "(the video ended)" : "");
    fmt::print("wrote {} ({} frames)\n", o.viz_output, frames);
  }
  return 0;
}

}  // namespace

Command add_render_command(CLI::App& app) {
  auto o = std::make_shared<RenderFlags>();
  auto* render = app.add_subcommand("render", "Render 2D input and 3D reconstruction as MP4/GIF or an HTML player");
  add_data_options(*render, o->data);
  add_model_options(*render, o->model);
  add_runtime_options(*render, o->runtime);
  render->add_flag("--render", o->render_flag, "accepted for the seed's command lines (implied)");
  render->add_option("-c,--checkpoint", o->checkpoint_dir, "checkpoint folder (with --evaluate), or checkpoint file")
      ->capture_default_str();
  render->add_option("--evaluate,--checkpoint-file", o->evaluate_file, "checkpoint file name, relative to -c");
  render->add_flag("!--no-test-time-augmentation", o->test_time_augmentation, "disable flip augmentation (-no-tta)");
  render->add_option("-b,--batch-size", o->eval_batch, "windows per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  render->add_option("--viz-subject", o->viz_subject, "subject to render");
  render->add_option("--viz-action", o->viz_action, "action to render");
  render->add_option("--viz-camera", o->viz_camera, "camera to render")->capture_default_str();
  render->add_option("--viz-video,--video", o->viz_video, "video drawn under the 2D input");
  render->add_option("--viz-skip", o->viz_skip, "skip the first N frames of the video (and their poses)")
      ->capture_default_str();
  render->add_option("--viz-output,--out", o->viz_output, "output video (.mp4 H.264 or .gif)");
  render->add_option("--viz-export", o->viz_export, "also write the prediction as (T, J, 3) float32 .npy (camera space)");
  render->add_option("--viz-bitrate", o->viz_bitrate, "MP4 bitrate in kbit/s")->capture_default_str();
  render->add_flag("--viz-no-ground-truth", o->viz_no_ground_truth, "do not show the ground truth");
  render->add_option("--viz-limit", o->viz_limit, "render at most N frames (-1: all)")->capture_default_str();
  render->add_option("--viz-downsample", o->viz_downsample, "keep every N-th frame (fps divided by N)")
      ->capture_default_str();
  render->add_option("--viz-size", o->viz_size, "panel size in inches of the original (100 px each for MP4, 80 for GIF)")
      ->capture_default_str();
  render->add_option("--input", o->render_input, "an `infer` result (.npz) to render instead of predicting");
  render->add_option("--fps", o->render_fps, "frame rate (default: the dataset's, else the video's, else 50)");
  render->add_option("--html", o->html_out, "also write a self-contained interactive HTML player");

  return {render, [o, render] {
            forget_untyped_model_flags(*render, o->model);
            return run_render(*o);
          }};
}

}  // namespace poselift::cli
