// Writing lifted sequences. The format follows the output file's extension:
//   .npz  positions_3d float32 (T,17,3) metres, root-relative camera space (x right, y down,
//         z away from the camera); keypoints_2d float32 (T,17,2) pixels after layout
//         conversion and filling; scores float32 (T,17) (0 where filled); frames int64 (T,)
//         source frame indices; image_size int64 (2,) [width, height]; with a trajectory,
//         trajectory float32 (T,3): the root's camera-space position; with a world frame
//         (motion/world.hpp), positions_world float32 (T,17,3): y up, floor at 0, metres,
//         world_from_camera float64 (3,4) [R | t], and with contacts, contacts uint8 (T,2)
//         (right ankle, left ankle planted)
//   .npy  positions_3d alone, float32 (T,17,3): the original's --viz-export layout
//   .json {"format": "poselift-infer", "joint_names", "parents", "fps", "image_size", "units",
//          "coordinates", "world_from_camera" (with a world frame), "frames": [{"frame",
//          "positions_3d": [[x,y,z]...], "keypoints_2d", "scores", "trajectory",
//          "positions_world", "contacts": [right, left] (each when present)}]}
//   .csv  one row per frame: frame, then <joint>_x,<joint>_y,<joint>_z for the 17 joints (then
//         trajectory_x,_y,_z with a trajectory)
//   .bvh  the world-frame motion through the rig (rig.hpp, bvh_export.hpp); needs a world frame
//   .glb  the same rig as an animated, skinned glTF 2.0 skeleton (gltf_export.hpp), always y up
//         and +z forward as glTF requires
// Every file is written atomically (temporary file + rename).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "wild/bvh_export.hpp"
#include "wild/gltf_export.hpp"
#include "wild/filling.hpp"

namespace poselift::wild {

enum class OutputFormat { Npz, Npy, Json, Csv, Bvh, Glb };

// From the extension (case-insensitive); InputError naming the path otherwise.
OutputFormat output_format(const std::string& path);

struct LiftedSequence {
  Sequence2D input;
  std::vector<float> positions;  // T * 17 * 3, metres, root-relative camera space
  std::vector<float> trajectory; // T * 3, the root's camera-space position, or empty
  // The motion in its world frame (motion/world.hpp): T * 17 * 3 (empty: none), world = R
  // camera + t with world_from_camera = [R | t] row-major, and the planted ankles (T * 2, or empty).
  std::vector<float> world;
  std::array<double, 12> world_from_camera{};
  std::vector<std::uint8_t> contacts;
  int width = 0, height = 0;
  std::string units = "metres";   // .json's "units" (MotionBERT's are its own, infer.hpp)
};

struct ExportOptions {
  RigOptions animation;  // the BVH's bones and axes; its fps is also written to JSON
};

void write_lifted(const std::string& path, const LiftedSequence& sequence, const ExportOptions& options = {});

// An .npz that write_lifted wrote, read back: positions_3d, keypoints_2d, frames and image_size
// are required (any numeric dtype of the shapes above); scores (0 where absent), trajectory,
// positions_world with world_from_camera, and contacts optional.
// InputError naming the path and the member when the file is missing or a member is wrong.
LiftedSequence read_lifted_npz(const std::string& path);

// "<stem>.track<K><ext>" beside `path` (out/video.npz, 2 -> out/video.track2.npz).
std::string track_path(const std::string& path, std::size_t track);

}  // namespace poselift::wild
