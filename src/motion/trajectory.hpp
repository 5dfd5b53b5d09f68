// The root's camera-space position (metres) of a lifted track, geometrically: the lifters
// predict root-relative poses in metres, so the translation that makes the 3D skeleton project
// onto the detector's 2D keypoints through a pinhole camera gives the root's position,
// depth included (a person twice as far looks half as big). Each frame is one linear
// least-squares problem in the translation t: for joint j at X_j with normalised image point
// (x, y) = ((u - cx) / f, (v - cy) / f), (X_j + t)_x - x (X_j + t)_z = 0 and the same for y,
// weighted by the keypoint's confidence. Used when a checkpoint has no trajectory model.
#pragma once

#include <cstdint>
#include <vector>

namespace poselift::motion {

// A pinhole camera in pixels.
struct PinholeCamera {
  double focal = 0.0;  // pixels, the same for x and y
  double cx = 0.0, cy = 0.0;
};

// What a video's camera is taken to be: `focal_px` when positive, else a horizontal field of
// view `fov_degrees` over the image's longer side; the principal point at the image centre.
// InputError naming --focal / --fov for values out of range.
PinholeCamera camera_for_image(int width, int height, double focal_px, double fov_degrees);
// The default field of view (degrees, across the longer side) for an unknown camera: between
// webcams (about 60-78) and phones' main cameras (about 65-75 for a 24-28 mm equivalent lens).
constexpr double kDefaultFieldOfView = 65.0;

// (T, 3) root positions for T frames of `joints` root-relative 3D joints (T, J, 3, metres,
// camera axes: x right, y down, z forward), their 2D keypoints (T, J, 2, pixels) and
// confidences (T, J; a floor keeps filled keypoints, scored 0, in the fit at a small weight).
// A frame whose fit is degenerate (all points on one ray) or puts the person behind the camera
// takes the previous frame's position (the first good frame's for those before it).
std::vector<float> root_trajectory(const std::vector<float>& positions, const std::vector<float>& keypoints,
                                   const std::vector<float>& scores, std::int64_t frames, std::int64_t joints,
                                   const PinholeCamera& camera);

// A lifted person's standing height (metres) for T frames of Human3.6M-17 joints (T, 17, 3):
// the median over frames of the ankle-to-head length along the bones (shin and thigh averaged
// over both legs, pelvis-spine, spine-thorax, thorax-head top) plus kAnkleAboveFloor. A
// monocular lifter cannot see a person's size (a smaller person nearer looks the same) and
// predicts about its training people's; scaling its poses to a known height scales the
// geometric trajectory's depth with them. 0 for no frames.
double standing_height(const std::vector<float>& positions, std::int64_t frames);
// The height of the ankle joint above the floor, metres (about 4-5% of a 1.7 m adult's stature).
constexpr double kAnkleAboveFloor = 0.08;

}  // namespace poselift::motion
