#include "data/video_keypoints.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "data/value_access.hpp"
#include "io/error.hpp"

namespace poselift::data {

namespace {

using detail::str_items;

// A dataset's 2D file (data_2d_<dataset>_<keypoints>.npz: subject -> action -> camera arrays)
// holds no video names: --video SUBJECT/ACTION[/CAMERA] picks one sequence. Returns the chosen
// (T, J, C) array and sets `name` to "SUBJECT/ACTION/CAMERA".
const io::NdArray& dataset_sequence(const std::vector<std::pair<std::string, const io::Value*>>& subjects,
                                    const std::string& path, const std::string& selection, std::string& name) {
  std::string known;
  for (const auto& s : subjects) known += (known.empty() ? "" : ", ") + s.first;
  const auto first = selection.find('/');
  if (selection.empty() || first == std::string::npos)
    throw InputError(fmt::format("{}: a dataset's 2D keypoints (subjects {}): choose one sequence with --video "
                                 "SUBJECT/ACTION[/CAMERA], e.g. --video {}/<action>/0",
                                 path, known, subjects.front().first));
  const auto second = selection.find('/', first + 1);
  const std::string subject = selection.substr(0, first);
  const std::string action =
      selection.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  const std::string camera_text = second == std::string::npos ? "0" : selection.substr(second + 1);
  const io::Value* actions = nullptr;
  for (const auto& s : subjects)
    if (s.first == subject) actions = s.second;
  if (!actions) throw InputError(fmt::format("{}: --video {}: no subject '{}' (the file has {})", path, selection, subject, known));
  const std::string what = fmt::format("{}: positions_2d['{}']", path, subject);
  const auto action_items = str_items(*actions, what);
  const io::Value* cameras = nullptr;
  std::string action_names;
  for (const auto& a : action_items) {
    action_names += (action_names.empty() ? "'" : ", '") + a.first + "'";
    if (a.first == action) cameras = a.second;
  }
  if (!cameras)
    throw InputError(fmt::format("{}: --video {}: no action '{}' (subject {} has {})", path, selection, action,
                                 subject, action_names));
  const auto& sequences = cameras->as_sequence(fmt::format("{}['{}']", what, action));
  if (camera_text.empty() || camera_text.size() > 3 ||
      !std::all_of(camera_text.begin(), camera_text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(camera_text) >= sequences.size())
    throw InputError(fmt::format("{}: --video {}: expected a camera index from 0 to {}", path, selection,
                                 sequences.size() - 1));
  const std::size_t camera = std::stoul(camera_text);
  name = fmt::format("{}/{}/{}", subject, action, camera);
  return sequences[camera]->as_array(fmt::format("{}['{}'][{}]", what, action, camera));
}

// A data_2d_custom file's video: the one named, or the only one.
const io::Value& custom_video(const std::vector<std::pair<std::string, const io::Value*>>& videos,
                              const std::string& path, const std::string& selection, std::string& name) {
  if (selection.empty()) {
    if (videos.size() > 1) {
      std::string names;
      for (const auto& v : videos) names += (names.empty() ? "" : ", ") + v.first;
      throw InputError(fmt::format("{}: {} videos ({}): choose one with --video", path, videos.size(), names));
    }
    name = videos.front().first;
    return *videos.front().second;
  }
  const io::Value* video = nullptr;
  for (const auto& v : videos)
    if (v.first == selection) name = v.first, video = v.second;
  if (!video) throw InputError(fmt::format("{}: positions_2d has no video '{}'", path, selection));
  return *video;
}

}  // namespace

Sequence2d read_2d_sequence(const std::string& path, const std::string& video) {
  Sequence2d s;
  s.path = path;
  s.npz = io::read_npz(path);
  const auto& positions = s.npz.at("positions_2d", path);
  const auto& metadata = s.npz.at("metadata", path);
  if (!positions.is_object() || !metadata.is_object())
    throw InputError(path + ": positions_2d and metadata must be pickled dicts (VideoPose3D data_2d_custom layout)");
  s.metadata = metadata.object.get();
  const auto videos = str_items(*positions.object, path + ": positions_2d");
  if (videos.empty()) throw InputError(path + ": positions_2d has no video");
  s.is_dataset = videos.front().second->kind == io::Value::Kind::Dict &&
                 !videos.front().second->find("custom", path + ": positions_2d");
  if (s.is_dataset) {
    s.keypoints = &dataset_sequence(videos, path, video, s.name);
    s.what = fmt::format("{}: --video {}", path, s.name);
  } else {
    const io::Value& chosen = custom_video(videos, path, video, s.name);
    s.what = fmt::format("{}: positions_2d['{}']", path, s.name);
    const auto& seqs = chosen.at("custom", s.what).as_sequence(s.what + "['custom']");
    if (seqs.empty()) throw InputError(s.what + "['custom']: empty list");
    s.keypoints = &seqs.front()->as_array(s.what + "['custom'][0]");
  }
  const io::NdArray& a = *s.keypoints;
  if (a.shape.size() != 3 || a.shape[2] < 2)
    throw InputError(fmt::format("{}: expected a (T, J, 2) array, found {}", s.what, a.shape_string()));
  return s;
}

std::optional<std::string> metadata_layout_name(const Sequence2d& s) {
  if (auto ln = s.metadata->find("layout_name", s.path + ": metadata"); ln && !ln->is_none())
    return ln->as_str(s.path + ": metadata['layout_name']");
  return std::nullopt;
}

std::optional<std::pair<std::int64_t, std::int64_t>> video_size(const Sequence2d& s) {
  if (auto vm = s.metadata->find("video_metadata", s.path + ": metadata"); vm && !vm->is_none()) {
    if (auto info = vm->find(s.name, s.path + ": metadata['video_metadata']"))
      return read_video_size(*info, fmt::format("{}: metadata['video_metadata']['{}']", s.path, s.name));
  }
  return std::nullopt;
}

std::pair<std::int64_t, std::int64_t> read_video_size(const io::Value& resolution, const std::string& what) {
  const std::int64_t w = detail::integer_of(resolution.at("w", what), what + "['w']");
  const std::int64_t h = detail::integer_of(resolution.at("h", what), what + "['h']");
  return {w, h};
}

}  // namespace poselift::data
