#include "render/scene.hpp"

#include <algorithm>

namespace poselift::render {

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

void rest_on_ground(std::vector<float>& world) {
  float lowest = world.empty() ? 0 : world[2];
  for (std::size_t i = 2; i < world.size(); i += 3) lowest = std::min(lowest, world[i]);
  for (std::size_t i = 2; i < world.size(); i += 3) world[i] -= lowest;
}

void reapply_trajectory(std::vector<float>& predicted, std::vector<float>& truth, std::int64_t T, int J) {
  for (std::int64_t t = 0; t < T; ++t)
    for (int j = 0; j < J; ++j)
      for (int k = 0; k < 3; ++k) {
        const float root = truth[t * J * 3 + k];
        predicted[(t * J + j) * 3 + k] += root;
        if (j > 0) truth[(t * J + j) * 3 + k] += root;
      }
}

std::vector<float> camera_to_world(const std::vector<float>& positions, std::int64_t frames, int joints,
                                   const data::Camera& camera, bool translate) {
  const data::Vec3f no_translation{0, 0, 0};
  return data::camera_to_world(io::NdArray::from_vector({frames, joints, 3}, positions), camera.orientation,
                               translate ? camera.translation : no_translation)
      .to_floats();
}

Placement place_dataset_sequence(const DatasetScene& s) {
  Placement placement;
  if (s.truth != nullptr && s.camera != nullptr && s.camera->has_extrinsics) {
    std::vector<float> predicted = s.prediction, truth = *s.truth;
    reapply_trajectory(predicted, truth, s.frames, s.joints);
    placement.tracks.push_back({"Reconstruction", camera_to_world(predicted, s.frames, s.joints, *s.camera)});
    if (s.show_truth) placement.tracks.push_back({"Ground truth", camera_to_world(truth, s.frames, s.joints, *s.camera)});
  } else if (s.rotation_source != nullptr) {
    auto world = camera_to_world(s.prediction, s.frames, s.joints, *s.rotation_source, /*translate=*/false);
    rest_on_ground(world);
    placement.tracks.push_back({"Reconstruction", std::move(world)});
  } else {
    placement.tracks.push_back({"Reconstruction", camera_space_upright(s.prediction)});
    placement.camera_view = true;
  }
  return placement;
}

}  // namespace poselift::render
