// Where the 3D panels of `render` stand: the transforms from a prediction in camera space
// (x right, y down, z forward, metres) to the z-up world the panels draw, as the original
// run_poseformer.py places a dataset sequence. Poses are flat (T, J, 3) float arrays.
#pragma once

#include <cstdint>
#include <vector>

#include "data/camera.hpp"
#include "render/figure.hpp"

namespace poselift::render {

// Camera space -> display space with z up and the camera looking along +y: (x, y, z) becomes
// (x, z, -y), then every height drops by the lowest one so the feet stand on the ground. Seen
// from azimuth -90 the view is the camera's.
std::vector<float> camera_space_upright(const std::vector<float>& positions);

// Moves the lowest point of z-up poses to height 0.
void rest_on_ground(std::vector<float>& positions);

// Reapplies the ground truth's trajectory: the truth's root (joint 0) of each frame is added to
// every joint of `prediction` (root-relative) and to the joints after the root of `truth`
// (whose non-root joints are relative to it, as the original keeps them).
void reapply_trajectory(std::vector<float>& prediction, std::vector<float>& truth, std::int64_t frames, int joints);

// Camera space -> world through the camera's extrinsics; without translation, only its rotation.
std::vector<float> camera_to_world(const std::vector<float>& positions, std::int64_t frames, int joints,
                                   const data::Camera& camera, bool translate = true);

// A predicted dataset sequence and what places it.
struct DatasetScene {
  std::vector<float> prediction;              // (T, J, 3) camera space, root-relative
  const std::vector<float>* truth = nullptr;  // (T, J, 3) ground truth in camera space, or null
  std::int64_t frames = 0;
  int joints = 0;
  const data::Camera* camera = nullptr;  // the sequence's camera
  // Without a trajectory: a camera of the same index with extrinsics (the sequence's own, else
  // another subject's), whose rotation stands the poses up; null: camera_space_upright.
  const data::Camera* rotation_source = nullptr;
  bool show_truth = true;
};

struct Placement {
  std::vector<PoseTrack> tracks;  // "Reconstruction", then "Ground truth" when shown
  bool camera_view = false;       // placed by camera_space_upright: view from azimuth -90
};

// With a ground truth and camera extrinsics: both tracks at the truth's trajectory in the world;
// else the reconstruction alone, rotated by `rotation_source` and rested on the ground, or
// upright in camera space.
Placement place_dataset_sequence(const DatasetScene& scene);

}  // namespace poselift::render
