// 2D keypoint files (data_2d_<dataset>_<keypoints>.npz): per subject, action and camera a
// (T, J, C >= 2) sequence of pixel coordinates (extra channels, e.g. confidences, are kept),
// and the metadata describing the joint layout.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "io/ndarray.hpp"
#include "io/pyvalue.hpp"

namespace poselift::data {

struct KeypointsMetadata {
  int num_joints = 0;
  std::vector<int> keypoints_left;   // keypoints_symmetry[0]
  std::vector<int> keypoints_right;  // keypoints_symmetry[1]
  std::optional<std::string> layout_name;
  io::ValuePtr raw;  // the whole metadata dict (e.g. `video_metadata` of custom files)
};

struct ActionKeypoints {
  std::string name;
  // One sequence per camera, (T, J, C >= 2). As read: the file's dtype and pixels; after
  // prepare_keypoints: float32 with channels 0-1 in normalised screen coordinates.
  std::vector<io::NdArray> cameras;
};

struct SubjectKeypoints {
  std::string name;
  std::vector<ActionKeypoints> actions;  // in file order

  const ActionKeypoints* find_action(const std::string& action) const;  // nullptr when absent
};

struct Keypoints {
  std::string source;  // the file it was read from
  KeypointsMetadata metadata;
  std::vector<SubjectKeypoints> subjects;  // in file order
  bool normalized = false;                 // set by prepare_keypoints

  const SubjectKeypoints* find_subject(const std::string& subject) const;  // nullptr when absent
  // Throw InputError naming the file, subject and action when absent.
  const SubjectKeypoints& subject(const std::string& subject) const;
  const ActionKeypoints& action(const std::string& subject, const std::string& action) const;
};

// Reads `positions_2d` and `metadata` as stored (pixels). Checks the structure: every
// sequence is a numeric (T, num_joints, C >= 2) array and the symmetry indices are joints.
Keypoints read_keypoints(const std::string& path);

// What run_poseformer.py does after loading both files:
//  - every subject and action of the 3D dataset must be in the 2D file;
//  - for actions with 3D data, the 2D file must have one sequence per camera, each at least
//    as long as the mocap (longer ones are trimmed to the mocap length, as some Human3.6M
//    videos have extra frames);
//  - every sequence is normalised to screen coordinates with its camera's resolution (so
//    every 2D subject needs cameras in the dataset) and converted to float32.
// Violations throw InputError naming the 2D file, the subject and the action.
void prepare_keypoints(Keypoints& keypoints, const MocapDataset& dataset);

// read_keypoints(keypoints_2d_path(data_dir, dataset.name, keypoints_name)) + prepare_keypoints.
Keypoints load_keypoints(const MocapDataset& dataset, const std::string& data_dir, const std::string& keypoints_name);

// The (x, y) channels of a keypoint sequence: what the model takes as input.
io::NdArray xy_channels(const io::NdArray& sequence);

}  // namespace poselift::data
