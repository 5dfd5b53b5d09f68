// Writing pose datasets in the VideoPose3D layout, readable by the data layer
// (data::load_dataset(name, dir, "gt") and data::load_keypoints):
//   data_3d_<name>.npz:       positions_3d  {subject: {action: (T, 17, 3) float32, world metres, z up}}
//                             cameras       {subject: [camera dict, ...]} (data::camera_to_value)
//                             fps           0-d float64
//   data_2d_<name>_gt.npz:    positions_2d  {subject: {action: [(T, 17, 2) float32 pixels per camera]}}
//                             metadata      {'layout_name': 'h36m', 'num_joints': 17,
//                                            'keypoints_symmetry': [[4,5,6,11,12,13],[1,2,3,14,15,16]]}
//   data_2d_<name>_<variant>.npz: the same with detector noise (see noise.hpp).
// Files are written atomically by the io layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/camera.hpp"
#include "mocap/geometry.hpp"
#include "mocap/noise.hpp"

namespace poselift::mocap {

struct PoseAction {
  std::string name;
  std::vector<Vec3> positions;  // frames x 17, world metres, z up
};

struct PoseSubject {
  std::string name;
  std::vector<PoseAction> actions;
  std::vector<data::Camera> cameras;  // with intrinsics and extrinsics
};

struct PoseDataset {
  double fps = 50.0;
  std::vector<PoseSubject> subjects;
};

// A noisy 2D file: data_2d_<dataset>_<name>.npz.
struct NoisyVariant {
  std::string name = "noisy";
  DetectorNoiseOptions noise;
};

struct WrittenDataset {
  std::string positions_3d_path;
  std::string keypoints_gt_path;
  std::vector<std::string> keypoints_noisy_paths;  // one per variant
  std::vector<double> noisy_mean_error_px;         // one per variant
  std::int64_t frames = 0;                         // summed over actions (one camera)
  std::int64_t points_2d = 0;                      // ground-truth 2D joints written (all cameras)
  double fraction_inside_image = 0.0;              // of those
};

// Checks names (non-empty, no path separators) and writes the files into `output_dir`
// (created if needed). Noise seeds derive from `seed` and each sequence's subject, action,
// camera and variant, so the output does not depend on the order of subjects or actions.
WrittenDataset write_pose_dataset(const PoseDataset& dataset, const std::string& output_dir, const std::string& name,
                                  const std::vector<NoisyVariant>& variants, std::uint64_t seed);

// Checks a name used in file names: letters, digits, '_', '-', '.', not starting with '.'.
void check_dataset_name(const std::string& name, const std::string& what);

}  // namespace poselift::mocap
