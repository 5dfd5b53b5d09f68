// Writing lifted sequences. The format follows the output file's extension:
//   .npz  positions_3d float32 (T,17,3) metres, root-relative camera space (x right, y down,
//         z away from the camera); keypoints_2d float32 (T,17,2) pixels after layout
//         conversion and filling; scores float32 (T,17) (0 where filled); frames int64 (T,)
//         source frame indices; image_size int64 (2,) [width, height]; with a trajectory
//         model (VideoPose3D), trajectory float32 (T,3): the root's camera-space position
//   .npy  positions_3d alone, float32 (T,17,3): the original's --viz-export layout
//   .json {"format": "poselift-infer", "joint_names", "parents", "fps", "image_size", "units",
//          "coordinates", "frames": [{"frame", "positions_3d": [[x,y,z]...], "keypoints_2d",
//          "scores", "trajectory" (with a trajectory model)}]}
//   .csv  one row per frame: frame, then <joint>_x,<joint>_y,<joint>_z for the 17 joints (then
//         trajectory_x,_y,_z with a trajectory model)
//   .bvh  see bvh_export.hpp
// Every file is written atomically (temporary file + rename).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wild/bvh_export.hpp"
#include "wild/filling.hpp"

namespace poselift::wild {

enum class OutputFormat { Npz, Npy, Json, Csv, Bvh };

// From the extension (case-insensitive); InputError naming the path otherwise.
OutputFormat output_format(const std::string& path);

struct LiftedSequence {
  Sequence2D input;
  std::vector<float> positions;  // T * 17 * 3, metres, root-relative camera space
  std::vector<float> trajectory; // T * 3, the root's camera-space position (a trajectory model's), or empty
  int width = 0, height = 0;
  std::string units = "metres";   // .json's "units" (MotionBERT's are its own, infer.hpp)
};

struct ExportOptions {
  BvhOptions bvh;  // fps is also written to JSON
};

void write_lifted(const std::string& path, const LiftedSequence& sequence, const ExportOptions& options = {});

// An .npz that write_lifted wrote, read back: positions_3d, keypoints_2d, frames and image_size
// are required (any numeric dtype of the shapes above), scores (0 where absent) and trajectory
// optional.
// InputError naming the path and the member when the file is missing or a member is wrong.
LiftedSequence read_lifted_npz(const std::string& path);

// "<stem>.track<K><ext>" beside `path` (out/video.npz, 2 -> out/video.track2.npz).
std::string track_path(const std::string& path, std::size_t track);

}  // namespace poselift::wild
