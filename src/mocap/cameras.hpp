// Virtual camera rigs for datasets made from motion capture: Human3.6M's four intrinsic
// calibrations, placed at the four corners around the capture area looking at the performer.
#pragma once

#include <array>
#include <vector>

#include "data/camera.hpp"
#include "mocap/geometry.hpp"
#include "mocap/random.hpp"

namespace poselift::mocap {

struct VirtualCameraOptions {
  // Fixed layout (default): camera i of Human3.6M (intrinsics, resolution, distortion) at
  // azimuth 45 + 90 i degrees, distance / height from the tables below, aimed at the point
  // `look_at_height` above the centre of the capture area.
  std::array<double, 4> distances{{5.0, 4.7, 5.3, 4.8}};  // metres, horizontal
  std::array<double, 4> heights{{1.55, 1.35, 1.75, 1.25}};  // metres above the floor
  double look_at_height = 0.95;

  // Randomised rigs (one per subject, seeded): azimuth 45 + 90 i +- jitter, distance and
  // height uniform in the ranges, focal length scaled by a uniform factor, a resolution drawn
  // from `resolutions` (principal point near its centre).
  bool randomize = false;
  double distance_min = 4.5, distance_max = 5.5;
  double height_min = 1.2, height_max = 1.8;
  double azimuth_jitter_degrees = 20.0;
  double look_at_jitter = 0.15;  // metres, each axis
  double focal_scale_min = 0.8, focal_scale_max = 1.25;
  std::vector<std::array<int, 2>> resolutions{{{1000, 1002}, {1000, 1000}, {1920, 1080}, {1280, 720}, {1080, 1920}}};

  // Keeping the performer in view: cameras are moved back along their viewing direction (in
  // 4% steps, at most to `max_distance`) until every joint of every frame lies at least
  // `margin` (fraction of the image width) inside the image.
  double margin = 0.02;
  double max_distance = 15.0;
};

// The four cameras of one subject. `rng` is used only when options.randomize is set.
std::vector<data::Camera> make_camera_rig(const VirtualCameraOptions& options, Rng& rng);

// Pixel coordinates of world positions (frames x 17, metres) seen by `camera`, (T, 17, 2)
// float32, computed exactly as the data layer does (world_to_camera, project_to_2d with
// distortion, image_coordinates).
io::NdArray project_to_pixels(const std::vector<Vec3>& positions, const data::Camera& camera);

// Moves cameras back until every sequence is inside every image (see VirtualCameraOptions);
// returns how many cameras were moved. Cameras that cannot be fitted stay at max_distance.
int fit_cameras_to_sequences(std::vector<data::Camera>& cameras, const std::vector<const std::vector<Vec3>*>& sequences,
                             const VirtualCameraOptions& options);

}  // namespace poselift::mocap
