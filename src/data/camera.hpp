// Camera models of the supported datasets and the VideoPose3D camera geometry
// (world <-> camera transforms, distorted projection, screen normalisation).
//
// Everything computes in float32 in the same operation order as VideoPose3D's
// common/camera.py and common/quaternion.py, so results match the original to float rounding.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "io/ndarray.hpp"
#include "io/pyvalue.hpp"

namespace poselift::data {

using Quaternion = std::array<float, 4>;  // (w, x, y, z)
using Vec3f = std::array<float, 3>;
// Normalised intrinsics as the model consumes them:
// (fx, fy, cx, cy, k1, k2, k3, p1, p2), focal and centre in units of half the image width.
using Intrinsic = std::array<float, 9>;

struct Camera {
  std::string id;
  int res_w = 0;  // pixels
  int res_h = 0;
  double azimuth = 0.0;  // degrees; only for visualisation

  // Calibrated intrinsics in pixels. Absent for HumanEva and custom videos.
  bool has_intrinsics = false;
  std::array<float, 2> center{};                 // principal point
  std::array<float, 2> focal_length{};
  std::array<float, 3> radial_distortion{};      // k1, k2, k3
  std::array<float, 2> tangential_distortion{};  // p1, p2

  // Extrinsics: `orientation` rotates camera coordinates into world coordinates and
  // `translation` is the camera centre in world coordinates (metres), so
  // X_camera = inverse(orientation) * (X_world - translation).
  bool has_extrinsics = false;
  Quaternion orientation{1.0f, 0.0f, 0.0f, 0.0f};
  Vec3f translation{};

  // The 9-value vector VideoPose3D stores as cam['intrinsic']: focal / res_w * 2, centre
  // normalised like screen coordinates, then k and p. Throws when has_intrinsics is false.
  Intrinsic intrinsic() const;
};

// subject -> that subject's cameras, in camera-index order.
using CameraTable = std::map<std::string, std::vector<Camera>>;

// The four Human3.6M cameras (54138969, 55011271, 58860488, 60457274) for S1..S11; the
// extrinsics are known for S1, S5, S6, S7, S8, S9 and S11 only (S2-S4 have intrinsics only).
// Built once; copy it to modify.
const CameraTable& h36m_cameras();
// HumanEva-I cameras C1-C3 (640x480, no intrinsics). Extrinsics for S1-S3. Keys carry the
// prefixes of the HumanEva data files: "Train/S1", "Validate/S1", "Unlabeled/Train/S1",
// "Unlabeled/Validate/S1", "Unlabeled/S1", ... for S1-S4. Built once.
const CameraTable& humaneva_cameras();
// A custom video: resolution from its metadata, the placeholder orientation/translation
// VideoPose3D borrows from Human3.6M camera 0 of S1 (only for rendering), no intrinsics.
Camera custom_camera(const std::string& video_name, int res_w, int res_h);

// Camera as a Python dict in the layout of VideoPose3D's camera tables: 'id', 'res_w',
// 'res_h', 'azimuth', optionally 'center', 'focal_length' (pixels), 'radial_distortion',
// 'tangential_distortion', and optionally 'orientation', 'translation' (millimetres).
// Used for the optional `cameras` member of generic data_3d_<name>.npz files.
io::ValuePtr camera_to_value(const Camera& camera);
// Inverse of camera_to_value; numbers may be Python lists/tuples or numeric arrays.
// `what` names the value in error messages (e.g. "data/data_3d_x.npz: cameras['S1'][0]").
Camera camera_from_value(const io::Value& value, const std::string& what);

// ---- quaternions (w, x, y, z) ----
Vec3f quaternion_rotate(const Quaternion& q, const Vec3f& v);
Quaternion quaternion_inverse(const Quaternion& q);  // conjugate: q is assumed unit

// ---- geometry on float32 arrays whose last axis holds the coordinates ----
// (..., 3) world positions -> (..., 3) camera coordinates, and back.
io::NdArray world_to_camera(const io::NdArray& world, const Quaternion& orientation, const Vec3f& translation);
io::NdArray camera_to_world(const io::NdArray& camera_space, const Quaternion& orientation,
                            const Vec3f& translation);
// (..., 3) camera coordinates -> (..., 2) normalised screen coordinates, with radial and
// tangential distortion applied to x/z, y/z (clamped to [-1, 1] as the original does).
io::NdArray project_to_2d(const io::NdArray& camera_space, const Intrinsic& intrinsic);

// Pixels -> [-1, 1] across the width (height keeps the aspect ratio): X / w * 2 - (1, h / w).
// Accepts any numeric (..., C >= 2) array; the first two channels are normalised, the others
// copied. Returns float32 (computed in the input's precision, like the original).
io::NdArray normalize_screen_coordinates(const io::NdArray& pixels, int res_w, int res_h);
// Inverse: (X + (1, h / w)) * w / 2, float32 (..., C >= 2) in, float32 out.
io::NdArray image_coordinates(const io::NdArray& normalized, int res_w, int res_h);

}  // namespace poselift::data
