#include "mocap/cameras.hpp"

#include <cmath>

#include "data/h36m.hpp"
#include "io/error.hpp"

namespace poselift::mocap {

namespace {

// Extrinsics of a camera at `position` aimed at `target`, z up, no roll: camera x to the
// right, y down the image, z along the optical axis (the convention of project_to_2d).
void aim_camera(data::Camera& camera, const Vec3& position, const Vec3& target) {
  const Vec3 forward = normalized(target - position);
  const Vec3 right = normalized(cross(forward, Vec3{0.0, 0.0, 1.0}));
  const Vec3 down = cross(forward, right);
  const Quat q = quat_from_basis(right, down, forward);
  camera.has_extrinsics = true;
  camera.orientation = {static_cast<float>(q.w), static_cast<float>(q.x), static_cast<float>(q.y),
                        static_cast<float>(q.z)};
  camera.translation = {static_cast<float>(position.x), static_cast<float>(position.y),
                        static_cast<float>(position.z)};
}

Vec3 camera_position(const data::Camera& camera) {
  return {camera.translation[0], camera.translation[1], camera.translation[2]};
}

Vec3 camera_forward(const data::Camera& camera) {
  const Quat q{camera.orientation[0], camera.orientation[1], camera.orientation[2], camera.orientation[3]};
  return rotate(q, Vec3{0.0, 0.0, 1.0});
}

io::NdArray to_array(const std::vector<Vec3>& positions) {
  std::vector<float> values;
  values.reserve(positions.size() * 3);
  for (const Vec3& p : positions) {
    values.push_back(static_cast<float>(p.x));
    values.push_back(static_cast<float>(p.y));
    values.push_back(static_cast<float>(p.z));
  }
  const auto frames = static_cast<std::int64_t>(positions.size() / data::h36m::kJoints);
  return io::NdArray::from_vector<float>({frames, data::h36m::kJoints, 3}, values);
}

// True when every point is in front of the camera, inside the undistorted field where the
// distortion polynomial is monotonic, and `margin_px` inside the image.
bool sequence_in_view(const std::vector<Vec3>& positions, const data::Camera& camera, double margin_px) {
  if (positions.empty()) return true;
  const io::NdArray local = data::world_to_camera(to_array(positions), camera.orientation, camera.translation);
  const float* p = local.data<float>();
  for (std::int64_t i = 0; i < local.numel() / 3; ++i) {
    const float z = p[3 * i + 2];
    if (!(z > 0.5f) || std::fabs(p[3 * i] / z) > 0.7f || std::fabs(p[3 * i + 1] / z) > 0.7f) return false;
  }
  const io::NdArray pixels =
      data::image_coordinates(data::project_to_2d(local, camera.intrinsic()), camera.res_w, camera.res_h);
  const float* xy = pixels.data<float>();
  for (std::int64_t i = 0; i < pixels.numel() / 2; ++i) {
    const double x = xy[2 * i], y = xy[2 * i + 1];
    if (x < margin_px || y < margin_px || x > camera.res_w - margin_px || y > camera.res_h - margin_px) return false;
  }
  return true;
}

}  // namespace

std::vector<data::Camera> make_camera_rig(const VirtualCameraOptions& options, Rng& rng) {
  const data::CameraTable table = data::h36m_cameras();
  const std::vector<data::Camera>& reference = table.at("S1");
  std::vector<data::Camera> cameras;
  for (int i = 0; i < 4; ++i) {
    data::Camera camera = reference[static_cast<std::size_t>(i)];
    camera.id = "virtual-" + camera.id;
    double azimuth = 45.0 + 90.0 * i;
    double distance = options.distances[static_cast<std::size_t>(i)];
    double height = options.heights[static_cast<std::size_t>(i)];
    Vec3 target{0.0, 0.0, options.look_at_height};
    if (options.randomize) {
      azimuth += rng.uniform(-options.azimuth_jitter_degrees, options.azimuth_jitter_degrees);
      distance = rng.uniform(options.distance_min, options.distance_max);
      height = rng.uniform(options.height_min, options.height_max);
      target += Vec3{rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)} * options.look_at_jitter;
      const double focal_scale = rng.uniform(options.focal_scale_min, options.focal_scale_max);
      if (!options.resolutions.empty()) {
        const auto& resolution = options.resolutions[rng.below(options.resolutions.size())];
        if (resolution[0] <= 0 || resolution[1] <= 0) throw InputError("virtual cameras: resolutions must be positive");
        // The focal length keeps its ratio to the image width, so the field of view stays
        // Human3.6M-like whatever the resolution, before the random scale.
        const double width_ratio = static_cast<double>(resolution[0]) / camera.res_w;
        camera.res_w = resolution[0];
        camera.res_h = resolution[1];
        for (float& f : camera.focal_length) f = static_cast<float>(f * width_ratio);
        camera.center = {static_cast<float>(camera.res_w * rng.uniform(0.48, 0.52)),
                         static_cast<float>(camera.res_h * rng.uniform(0.48, 0.52))};
      }
      for (float& f : camera.focal_length) f = static_cast<float>(f * focal_scale);
    }
    camera.azimuth = azimuth;
    const double radians = azimuth * kPi / 180.0;
    const Vec3 position{target.x + distance * std::cos(radians), target.y + distance * std::sin(radians), height};
    aim_camera(camera, position, target);
    cameras.push_back(std::move(camera));
  }
  return cameras;
}

io::NdArray project_to_pixels(const std::vector<Vec3>& positions, const data::Camera& camera) {
  const io::NdArray local = data::world_to_camera(to_array(positions), camera.orientation, camera.translation);
  return data::image_coordinates(data::project_to_2d(local, camera.intrinsic()), camera.res_w, camera.res_h);
}

int fit_cameras_to_sequences(std::vector<data::Camera>& cameras, const std::vector<const std::vector<Vec3>*>& sequences,
                             const VirtualCameraOptions& options) {
  int moved = 0;
  for (data::Camera& camera : cameras) {
    const double margin_px = options.margin * camera.res_w;
    bool was_moved = false;
    for (;;) {
      bool inside = true;
      for (const std::vector<Vec3>* sequence : sequences)
        if (!sequence_in_view(*sequence, camera, margin_px)) {
          inside = false;
          break;
        }
      if (inside) break;
      const Vec3 position = camera_position(camera);
      const double horizontal = std::hypot(position.x, position.y);
      if (horizontal >= options.max_distance) break;
      // Back off along the optical axis: the aim point stays in the image centre.
      const Vec3 backed = position - camera_forward(camera) * (0.04 * std::max(horizontal, 1.0));
      camera.translation = {static_cast<float>(backed.x), static_cast<float>(backed.y), static_cast<float>(backed.z)};
      was_moved = true;
    }
    moved += was_moved;
  }
  return moved;
}

}  // namespace poselift::mocap
