#include "data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/array_ops.hpp"
#include "data/value_access.hpp"
#include "data/video_keypoints.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"

namespace poselift::data {

namespace {

using detail::subscript;

constexpr double kH36mFps = 50.0;
constexpr double kHumanEvaFps = 60.0;

const io::Value& object_member(const io::NpzFile& npz, const std::string& member, const std::string& path) {
  const io::NpyContent& content = npz.at(member, path);
  if (!content.is_object())
    throw InputError(path + ": member '" + member + "' should be a pickled Python object (np.savez of a dict), "
                     "found a numeric array of shape " + content.array.shape_string());
  return *content.object;
}

// Reads `positions_3d` (subject -> action -> (T, J, 3)) as float32. When `expected_joints`
// is set, every array must have that many joints; otherwise all arrays must agree.
std::vector<Subject> read_world_positions(const io::NpzFile& npz, const std::string& path,
                                          std::optional<std::int64_t> expected_joints) {
  const io::Value& root = object_member(npz, "positions_3d", path);
  const std::string root_what = path + ": positions_3d";
  detail::CopyBudget budget(path);
  std::vector<Subject> subjects;
  for (const auto& [subject_name, actions] : detail::str_items(root, root_what)) {
    Subject subject{subject_name, {}};
    const std::string subject_what = root_what + subscript(subject_name);
    for (const auto& [action_name, positions] : detail::str_items(*actions, subject_what)) {
      const std::string what = subject_what + subscript(action_name);
      const io::NdArray& array = positions->as_array(what);
      if (array.shape.size() != 3 || array.shape[2] != 3 ||
          (expected_joints && array.shape[1] != *expected_joints))
        throw InputError(what + ": expected world positions of shape (frames, " +
                         (expected_joints ? std::to_string(*expected_joints) : std::string("joints")) +
                         ", 3), found " + array.shape_string());
      if (array.dtype != io::DType::Float32 && array.dtype != io::DType::Float64)
        throw InputError(what + ": expected float32 positions, found " + io::dtype_name(array.dtype));
      if (!expected_joints) expected_joints = array.shape[1];
      budget.take(array.bytes.size(), what);
      io::NdArray positions_f32 = array.astype(io::DType::Float32);
      // Checked after the conversion: a float64 beyond float32's range becomes inf there.
      if (const std::int64_t bad = first_non_finite(positions_f32); bad >= 0) {
        const std::int64_t per_frame = array.shape[1] * 3;
        throw InputError(what + ": frame " + std::to_string(bad / per_frame) + ", joint " +
                         std::to_string(bad % per_frame / 3) + ": expected finite positions, found " +
                         (std::isnan(positions_f32.data<float>()[bad]) ? "NaN" : "an infinite value or one beyond float32"));
      }
      subject.actions.push_back({action_name, std::move(positions_f32), {}});
    }
    subjects.push_back(std::move(subject));
  }
  return subjects;
}

void reduce_to_h36m_17(MocapDataset& dataset) {
  dataset.remove_joints(h36m_static_joints());
  // Same rewiring as reduce_h36m_skeleton, on the dataset's own skeleton.
  dataset.skeleton.set_parent(11, 8);
  dataset.skeleton.set_parent(14, 8);
}

CameraTable read_camera_member(const io::NpzFile& npz, const std::string& path) {
  const io::Value& root = object_member(npz, "cameras", path);
  CameraTable table;
  const std::string root_what = path + ": cameras";
  for (const auto& [subject, cameras] : detail::str_items(root, root_what)) {
    const std::string subject_what = root_what + subscript(subject);
    const auto& items = cameras->as_sequence(subject_what);
    std::vector<Camera>& list = table[subject];
    for (std::size_t i = 0; i < items.size(); ++i)
      list.push_back(camera_from_value(*items[i], subject_what + "[" + std::to_string(i) + "]"));
  }
  return table;
}

}  // namespace

const Action* Subject::find_action(const std::string& action) const {
  for (const Action& a : actions)
    if (a.name == action) return &a;
  return nullptr;
}

const Subject* MocapDataset::find_subject(const std::string& subject) const {
  for (const Subject& s : subjects)
    if (s.name == subject) return &s;
  return nullptr;
}

const Subject& MocapDataset::subject(const std::string& subject) const {
  if (const Subject* found = find_subject(subject)) return *found;
  std::string known;
  for (const Subject& s : subjects) known += (known.empty() ? "" : ", ") + s.name;
  throw InputError(source + ": subject '" + subject + "' is not in the dataset (it has " + known + ")");
}

const std::vector<Camera>& MocapDataset::cameras_of(const std::string& subject) const {
  auto it = cameras.find(subject);
  if (it == cameras.end())
    throw InputError(source + ": subject '" + subject + "' has no cameras in dataset '" + name + "'");
  return it->second;
}

std::vector<std::string> MocapDataset::subject_names() const {
  std::vector<std::string> names;
  for (const Subject& s : subjects) names.push_back(s.name);
  return names;
}

void MocapDataset::remove_joints(const std::vector<int>& joints_to_remove) {
  const std::vector<int> kept = skeleton.remove_joints(joints_to_remove);
  for (Subject& s : subjects)
    for (Action& a : s.actions)
      if (a.has_positions()) a.positions = select_joints(a.positions, kept);
}

void compute_camera_space_positions(MocapDataset& dataset) {
  for (Subject& subject : dataset.subjects) {
    for (Action& action : subject.actions) {
      action.positions_3d.clear();
      if (!action.has_positions()) continue;
      auto it = dataset.cameras.find(subject.name);
      if (it == dataset.cameras.end() || it->second.empty())
        throw InputError(dataset.source + ": positions_3d" + subscript(subject.name) +
                         ": no camera is known for this subject in dataset '" + dataset.name + "'");
      for (std::size_t c = 0; c < it->second.size(); ++c) {
        const Camera& camera = it->second[c];
        if (!camera.has_extrinsics)
          throw InputError(dataset.source + ": positions_3d" + subscript(subject.name) + ": camera " +
                           std::to_string(c) + " ('" + camera.id + "') has no extrinsic parameters");
        io::NdArray local = world_to_camera(action.positions, camera.orientation, camera.translation);
        // Keep the root trajectory in joint 0 and express the other joints relative to it.
        const std::int64_t frames = local.shape[0], joints = local.shape[1];
        float* p = local.data<float>();
        for (std::int64_t t = 0; t < frames; ++t) {
          float* frame = p + t * joints * 3;
          for (std::int64_t j = 1; j < joints; ++j)
            for (int k = 0; k < 3; ++k) frame[j * 3 + k] -= frame[k];
        }
        action.positions_3d.push_back(std::move(local));
      }
    }
  }
}

std::string dataset_3d_path(const std::string& data_dir, const std::string& name) {
  return (std::filesystem::path(data_dir) / ("data_3d_" + name + ".npz")).string();
}

std::string keypoints_2d_path(const std::string& data_dir, const std::string& name, const std::string& keypoints) {
  return (std::filesystem::path(data_dir) / ("data_2d_" + name + "_" + keypoints + ".npz")).string();
}

MocapDataset load_h36m_dataset(const std::string& path, bool remove_static_joints) {
  MocapDataset dataset;
  dataset.name = "h36m";
  dataset.source = path;
  dataset.skeleton = h36m_skeleton();
  dataset.fps = kH36mFps;
  dataset.cameras = h36m_cameras();
  const io::NpzFile npz = io::read_npz(path);
  dataset.subjects = read_world_positions(npz, path, dataset.skeleton.num_joints());
  if (remove_static_joints) reduce_to_h36m_17(dataset);
  compute_camera_space_positions(dataset);
  return dataset;
}

MocapDataset load_humaneva_dataset(const std::string& path) {
  MocapDataset dataset;
  dataset.name = "humaneva";
  dataset.source = path;
  dataset.skeleton = humaneva_skeleton();
  dataset.fps = kHumanEvaFps;
  dataset.cameras = humaneva_cameras();
  const io::NpzFile npz = io::read_npz(path);
  dataset.subjects = read_world_positions(npz, path, dataset.skeleton.num_joints());
  compute_camera_space_positions(dataset);
  return dataset;
}

MocapDataset load_custom_dataset(const std::string& detections_path) {
  MocapDataset dataset;
  dataset.name = "custom";
  dataset.source = detections_path;
  dataset.skeleton = h36m_skeleton_17();
  const io::NpzFile npz = io::read_npz(detections_path);
  const io::Value& metadata = object_member(npz, "metadata", detections_path);
  const std::string what = detections_path + ": metadata['video_metadata']";
  const io::Value& videos = metadata.at("video_metadata", detections_path + ": metadata");
  for (const auto& [video, resolution] : detail::str_items(videos, what)) {
    const std::string video_what = what + subscript(video);
    const auto [width, height] = read_video_size(*resolution, video_what);
    const int w = static_cast<int>(width), h = static_cast<int>(height);
    if (w <= 0 || h <= 0)
      throw InputError(video_what + ": expected a positive width and height, found " + std::to_string(w) + "x" +
                       std::to_string(h));
    dataset.cameras[video] = {custom_camera(video, w, h)};
    Subject subject{video, {}};
    subject.actions.push_back({"custom", {}, {}});
    dataset.subjects.push_back(std::move(subject));
  }
  return dataset;
}

MocapDataset load_generic_dataset(const std::string& path, const std::string& name) {
  MocapDataset dataset;
  dataset.name = name;
  dataset.source = path;
  dataset.fps = kH36mFps;
  const io::NpzFile npz = io::read_npz(path);
  dataset.subjects = read_world_positions(npz, path, std::nullopt);

  std::int64_t joints = 17;
  for (const Subject& s : dataset.subjects)
    if (!s.actions.empty()) joints = s.actions.front().positions.shape[1];
  if (joints == 32) {
    dataset.skeleton = h36m_skeleton();
    reduce_to_h36m_17(dataset);
  } else if (joints == 17) {
    dataset.skeleton = h36m_skeleton_17();
  } else {
    throw InputError(path + ": positions_3d: expected Human3.6M poses with 32 or 17 joints, found " +
                     std::to_string(joints));
  }

  dataset.cameras = npz.contains("cameras") ? read_camera_member(npz, path) : h36m_cameras();
  if (npz.contains("fps")) {
    const io::NpyContent& fps = npz.at("fps", path);
    if (fps.is_object() || fps.array.numel() != 1)
      throw InputError(path + ": member 'fps' should hold a single number");
    dataset.fps = fps.array.to_doubles()[0];
    if (!(*dataset.fps > 0.0)) throw InputError(path + ": member 'fps' should be positive");
  }
  compute_camera_space_positions(dataset);
  return dataset;
}

std::vector<std::string> available_keypoints(const std::string& data_dir, const std::string& name) {
  std::vector<std::string> names;
  const std::string prefix = "data_2d_" + name + "_", suffix = ".npz";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > prefix.size() + suffix.size() && file.compare(0, prefix.size(), prefix) == 0 &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(file.substr(prefix.size(), file.size() - prefix.size() - suffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

double dataset_fps(const std::string& path_2d) {
  const std::string file = std::filesystem::path(path_2d).filename().string();
  if (file.rfind("data_2d_h36m_", 0) == 0) return kH36mFps;
  if (file.rfind("data_2d_humaneva", 0) == 0) return kHumanEvaFps;
  return 0;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

MocapDataset load_dataset(const std::string& name, const std::string& data_dir, const std::string& keypoints) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec))
    throw InputError("data folder '" + data_dir + "' does not exist (--data-dir names the folder holding data_3d_" +
                     name + ".npz and data_2d_" + name + "_<keypoints>.npz)");
  if (name == "h36m") return load_h36m_dataset(dataset_3d_path(data_dir, name));
  if (name.rfind("humaneva", 0) == 0) {
    MocapDataset dataset = load_humaneva_dataset(dataset_3d_path(data_dir, name));
    dataset.name = name;
    return dataset;
  }
  if (name.rfind("custom", 0) == 0) {
    MocapDataset dataset = load_custom_dataset(keypoints_2d_path(data_dir, name, keypoints));
    dataset.name = name;
    return dataset;
  }
  const std::string path = dataset_3d_path(data_dir, name);
  if (!std::filesystem::exists(path))
    throw InputError("dataset '" + name + "': expected h36m, humaneva*, custom* or an existing file " + path);
  return load_generic_dataset(path, name);
}

}  // namespace poselift::data
