// Motion-capture datasets in the VideoPose3D layout: subjects -> actions -> world positions,
// the cameras that filmed each subject, and the camera-space targets the model learns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/camera.hpp"
#include "data/skeleton.hpp"
#include "io/ndarray.hpp"

namespace poselift::data {

struct Action {
  std::string name;
  // World positions (T, J, 3) float32 in metres; an empty array (no shape) when the dataset
  // has no 3D data for this action (custom videos).
  io::NdArray positions;
  // One (T, J, 3) float32 array per camera of the subject: the positions in that camera's
  // coordinates, joint 0 keeping its trajectory and joints 1.. relative to joint 0
  // (run_poseformer.py's preparation). Empty when there are no world positions.
  std::vector<io::NdArray> positions_3d;

  bool has_positions() const { return !positions.shape.empty(); }
};

struct Subject {
  std::string name;
  std::vector<Action> actions;  // in file order

  const Action* find_action(const std::string& action) const;  // nullptr when absent
};

struct MocapDataset {
  std::string name;    // "h36m", "humaneva15", "custom", ...
  std::string source;  // the file it was read from
  Skeleton skeleton;
  std::optional<double> fps;      // frames per second; unknown for custom videos
  std::vector<Subject> subjects;  // in file order
  CameraTable cameras;            // subject -> cameras (may list subjects without data)

  const Subject* find_subject(const std::string& subject) const;  // nullptr when absent
  // Throws InputError naming the dataset file when absent.
  const Subject& subject(const std::string& subject) const;
  const std::vector<Camera>& cameras_of(const std::string& subject) const;
  std::vector<std::string> subject_names() const;

  // Removes joints from the skeleton and from every world position array (camera-space
  // positions must be recomputed afterwards with compute_camera_space_positions).
  void remove_joints(const std::vector<int>& joints_to_remove);
};

// Fills Action::positions_3d for every action with world positions. Throws when such a
// subject has no cameras or a camera without extrinsics.
void compute_camera_space_positions(MocapDataset& dataset);

// "<data_dir>/data_3d_<name>.npz" and "<data_dir>/data_2d_<name>_<keypoints>.npz".
std::string dataset_3d_path(const std::string& data_dir, const std::string& name);
std::string keypoints_2d_path(const std::string& data_dir, const std::string& name, const std::string& keypoints);

// Loaders. Each returns a prepared dataset (positions_3d computed).
// Human3.6M: `positions_3d` subject -> action -> (T, 32, 3); reduced to 17 joints unless
// `remove_static_joints` is false. fps 50, the built-in Human3.6M cameras.
MocapDataset load_h36m_dataset(const std::string& path, bool remove_static_joints = true);
// HumanEva-I (15 joints, fps 60, subjects such as "Train/S1").
MocapDataset load_humaneva_dataset(const std::string& path);
// Custom videos: no 3D; one subject per video of the 2D file's metadata['video_metadata']
// (each with a single action "custom" and one camera of that resolution). 17-joint skeleton.
MocapDataset load_custom_dataset(const std::string& detections_path);
// Any other data_3d_<name>.npz in the Human3.6M layout: (T, 32, 3) positions are reduced to
// 17 joints, (T, 17, 3) kept as they are. Optional members: `cameras` (subject -> list of
// camera dicts, see camera_to_value; default: the Human3.6M cameras) and `fps` (default 50).
MocapDataset load_generic_dataset(const std::string& path, const std::string& name);

// Chooses the loader by name as run_poseformer.py does: "h36m", "humaneva*", "custom*"
// (read from the 2D file of `keypoints`), else any name with a data_3d_<name>.npz file.
MocapDataset load_dataset(const std::string& name, const std::string& data_dir, const std::string& keypoints);

// The frame rate of the dataset a 2D file belongs to, known from its name as VideoPose3D
// knows it (h36m_dataset.py, humaneva_dataset.py): data_2d_h36m_* 50, data_2d_humaneva* 60;
// 0 for any other file.
double dataset_fps(const std::string& path_2d);

// The -k names for which data_dir holds data_2d_<name>_<keypoints>.npz, sorted.
std::vector<std::string> available_keypoints(const std::string& data_dir, const std::string& name);
// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

}  // namespace poselift::data
