// One 2D keypoint sequence out of a VideoPose3D 2D file, for inference on it: the
// data_2d_custom layout of VideoPose3D's inference (positions_2d[video]['custom'][0], (T, J, C),
// with metadata `layout_name` and `video_metadata[video]` {'w', 'h'}), or a dataset's file
// (data_2d_<dataset>_<keypoints>.npz, positions_2d[subject][action][camera]) from which a
// selection SUBJECT/ACTION[/CAMERA] picks one. Training reads whole files: data/keypoints.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "io/npy.hpp"

namespace poselift::data {

struct Sequence2d {
  std::string path;
  io::NpzFile npz;        // owns what `keypoints` and `metadata` point at
  bool is_dataset = false;  // a dataset's file rather than data_2d_custom
  std::string name;       // the video, or "SUBJECT/ACTION/CAMERA"
  std::string what;       // how messages name the sequence
  const io::NdArray* keypoints = nullptr;  // (T, J, C >= 2)
  const io::Value* metadata = nullptr;     // the metadata dict
};

// Reads `path` and picks the sequence: `video` names it (empty: the only video of a custom
// file; a dataset's file needs SUBJECT/ACTION[/CAMERA], camera 0 by default). Throws
// InputError naming the file, listing what it holds when the choice is missing or wrong.
Sequence2d read_2d_sequence(const std::string& path, const std::string& video);

// metadata['layout_name'] when present and not None.
std::optional<std::string> metadata_layout_name(const Sequence2d& sequence);
// metadata['video_metadata'][name] as (w, h), unchecked, when the file has it.
std::optional<std::pair<std::int64_t, std::int64_t>> video_size(const Sequence2d& sequence);

// A video_metadata entry {'w': width, 'h': height} (integers or one-element numpy integers).
std::pair<std::int64_t, std::int64_t> read_video_size(const io::Value& resolution, const std::string& what);

}  // namespace poselift::data
