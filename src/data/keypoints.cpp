#include "data/keypoints.hpp"

#include <filesystem>

#include "data/array_ops.hpp"
#include "data/dataset.hpp"
#include "data/camera.hpp"
#include "data/value_access.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"

namespace poselift::data {

namespace {

using detail::subscript;

bool is_numeric(io::DType dtype) { return dtype != io::DType::Bool; }

const io::Value& object_member(const io::NpzFile& npz, const std::string& member, const std::string& path) {
  const io::NpyContent& content = npz.at(member, path);
  if (!content.is_object())
    throw InputError(path + ": member '" + member + "' should be a pickled Python object (np.savez of a dict), "
                     "found a numeric array of shape " + content.array.shape_string());
  return *content.object;
}

KeypointsMetadata read_metadata(const io::NpzFile& npz, const std::string& path) {
  const io::NpyContent& content = npz.at("metadata", path);
  if (!content.is_object()) throw InputError(path + ": member 'metadata' should be a pickled dict");
  const io::Value& metadata = *content.object;
  const std::string what = path + ": metadata";
  KeypointsMetadata result;
  result.raw = content.object;

  const std::int64_t num_joints = detail::integer_of(metadata.at("num_joints", what), what + "['num_joints']");
  if (num_joints <= 0 || num_joints > 10000)
    throw InputError(what + "['num_joints']: expected a positive joint count, found " + std::to_string(num_joints));
  result.num_joints = static_cast<int>(num_joints);

  const std::string symmetry_what = what + "['keypoints_symmetry']";
  const auto& symmetry = metadata.at("keypoints_symmetry", what).as_sequence(symmetry_what);
  if (symmetry.size() != 2)
    throw InputError(symmetry_what + ": expected [left joints, right joints], found " +
                     std::to_string(symmetry.size()) + " entries");
  result.keypoints_left = detail::integers_of(*symmetry[0], symmetry_what + "[0]");
  result.keypoints_right = detail::integers_of(*symmetry[1], symmetry_what + "[1]");
  if (result.keypoints_left.size() != result.keypoints_right.size())
    throw InputError(symmetry_what + ": " + std::to_string(result.keypoints_left.size()) + " left joints but " +
                     std::to_string(result.keypoints_right.size()) + " right joints (they must pair up)");
  for (const std::vector<int>* side : {&result.keypoints_left, &result.keypoints_right})
    for (int joint : *side)
      if (joint < 0 || joint >= result.num_joints)
        throw InputError(symmetry_what + ": joint " + std::to_string(joint) + " is outside 0.." +
                         std::to_string(result.num_joints - 1));

  if (io::ValuePtr layout = metadata.find("layout_name", what))
    if (!layout->is_none()) result.layout_name = layout->as_str(what + "['layout_name']");
  return result;
}

std::string action_what(const Keypoints& keypoints, const std::string& subject, const std::string& action) {
  return keypoints.source + ": positions_2d" + subscript(subject) + subscript(action);
}

}  // namespace

const ActionKeypoints* SubjectKeypoints::find_action(const std::string& action) const {
  for (const ActionKeypoints& a : actions)
    if (a.name == action) return &a;
  return nullptr;
}

const SubjectKeypoints* Keypoints::find_subject(const std::string& subject) const {
  for (const SubjectKeypoints& s : subjects)
    if (s.name == subject) return &s;
  return nullptr;
}

const SubjectKeypoints& Keypoints::subject(const std::string& subject) const {
  if (const SubjectKeypoints* found = find_subject(subject)) return *found;
  std::string known;
  for (const SubjectKeypoints& s : subjects) known += (known.empty() ? "" : ", ") + s.name;
  throw InputError(source + ": positions_2d: subject '" + subject + "' is missing from the 2D keypoints (they have " +
                   (known.empty() ? std::string("no subjects") : known) + ")");
}

const ActionKeypoints& Keypoints::action(const std::string& subject, const std::string& action) const {
  if (const ActionKeypoints* found = this->subject(subject).find_action(action)) return *found;
  std::string known;
  for (const ActionKeypoints& a : this->subject(subject).actions) known += (known.empty() ? "'" : ", '") + a.name + "'";
  throw InputError(source + ": positions_2d" + subscript(subject) + ": action '" + action +
                   "' is missing from the 2D keypoints (the subject has " +
                   (known.empty() ? std::string("no actions") : known) + ")");
}

Keypoints read_keypoints(const std::string& path) {
  const io::NpzFile npz = io::read_npz(path);
  Keypoints keypoints;
  keypoints.source = path;
  keypoints.metadata = read_metadata(npz, path);

  const std::string root_what = path + ": positions_2d";
  const io::Value& root = object_member(npz, "positions_2d", path);
  detail::CopyBudget budget(path);
  for (const auto& [subject_name, actions] : detail::str_items(root, root_what)) {
    SubjectKeypoints subject{subject_name, {}};
    const std::string subject_what = root_what + subscript(subject_name);
    for (const auto& [action_name, cameras] : detail::str_items(*actions, subject_what)) {
      ActionKeypoints action{action_name, {}};
      const std::string what = subject_what + subscript(action_name);
      const auto& sequences = cameras->as_sequence(what);
      for (std::size_t c = 0; c < sequences.size(); ++c) {
        const std::string camera_what = what + "[" + std::to_string(c) + "]";
        const io::NdArray& array = sequences[c]->as_array(camera_what);
        if (array.shape.size() != 3 || array.shape[1] != keypoints.metadata.num_joints || array.shape[2] < 2)
          throw InputError(camera_what + ": expected keypoints of shape (frames, " +
                           std::to_string(keypoints.metadata.num_joints) + ", 2 or more), found " +
                           array.shape_string());
        if (!is_numeric(array.dtype))
          throw InputError(camera_what + ": expected numeric keypoints, found " + io::dtype_name(array.dtype));
        if (const std::int64_t bad = first_non_finite(array); bad >= 0) {
          const std::int64_t per_frame = array.shape[1] * array.shape[2];
          throw InputError(camera_what + ": frame " + std::to_string(bad / per_frame) + ", joint " +
                           std::to_string(bad % per_frame / array.shape[2]) +
                           ": expected finite keypoints, found NaN or an infinite value");
        }
        budget.take(array.bytes.size(), camera_what);
        action.cameras.push_back(array);
      }
      subject.actions.push_back(std::move(action));
    }
    keypoints.subjects.push_back(std::move(subject));
  }
  return keypoints;
}

void prepare_keypoints(Keypoints& keypoints, const MocapDataset& dataset) {
  if (keypoints.normalized) throw InputError(keypoints.source + ": keypoints were already prepared");

  // Every 3D subject/action needs 2D input; trim the extra video frames past the mocap.
  for (const Subject& subject : dataset.subjects) {
    SubjectKeypoints* subject_2d = nullptr;
    for (SubjectKeypoints& s : keypoints.subjects)
      if (s.name == subject.name) subject_2d = &s;
    if (!subject_2d)
      throw InputError(keypoints.source + ": positions_2d: subject '" + subject.name + "' of the 3D dataset " +
                       dataset.source + " is missing from the 2D keypoints");
    for (const Action& action : subject.actions) {
      ActionKeypoints* action_2d = nullptr;
      for (ActionKeypoints& a : subject_2d->actions)
        if (a.name == action.name) action_2d = &a;
      if (!action_2d)
        throw InputError(keypoints.source + ": positions_2d" + subscript(subject.name) + ": action '" + action.name +
                         "' of the 3D dataset " + dataset.source + " is missing from the 2D keypoints");
      if (action.positions_3d.empty()) continue;

      const std::string what = action_what(keypoints, subject.name, action.name);
      if (action_2d->cameras.size() != action.positions_3d.size())
        throw InputError(what + ": " + std::to_string(action_2d->cameras.size()) + " camera sequences but the 3D " +
                         "dataset has " + std::to_string(action.positions_3d.size()) +
                         " cameras for this subject (camera count mismatch)");
      for (std::size_t c = 0; c < action_2d->cameras.size(); ++c) {
        io::NdArray& sequence = action_2d->cameras[c];
        const std::int64_t mocap_length = action.positions_3d[c].shape[0];
        if (sequence.shape[0] < mocap_length)
          throw InputError(what + "[" + std::to_string(c) + "]: " + std::to_string(sequence.shape[0]) +
                           " frames, fewer than the " + std::to_string(mocap_length) + " frames of the 3D data");
        if (sequence.shape[0] > mocap_length) sequence = slice_frames(sequence, 0, mocap_length);
      }
    }
  }

  // Normalise every 2D sequence with its camera's resolution.
  for (SubjectKeypoints& subject : keypoints.subjects) {
    auto cameras = dataset.cameras.find(subject.name);
    for (ActionKeypoints& action : subject.actions) {
      const std::string what = action_what(keypoints, subject.name, action.name);
      for (std::size_t c = 0; c < action.cameras.size(); ++c) {
        if (cameras == dataset.cameras.end() || c >= cameras->second.size())
          throw InputError(what + "[" + std::to_string(c) + "]: dataset '" + dataset.name + "' has " +
                           (cameras == dataset.cameras.end() ? std::string("no camera")
                                                             : std::to_string(cameras->second.size()) + " cameras") +
                           " for subject '" + subject.name + "', so the resolution to normalise with is unknown");
        const Camera& camera = cameras->second[c];
        action.cameras[c] = normalize_screen_coordinates(action.cameras[c], camera.res_w, camera.res_h);
      }
    }
  }
  keypoints.normalized = true;
}

Keypoints load_keypoints(const MocapDataset& dataset, const std::string& data_dir, const std::string& keypoints_name) {
  const std::string path = keypoints_2d_path(data_dir, dataset.name, keypoints_name);
  if (!std::filesystem::exists(path)) {
    const auto available = available_keypoints(data_dir, dataset.name);
    throw InputError(path + ": no such file (-k " + keypoints_name + "); " +
                     (available.empty() ? "the folder has no data_2d_" + dataset.name + "_*.npz"
                                        : "-k can be: " + join_names(available)));
  }
  Keypoints keypoints = read_keypoints(path);
  prepare_keypoints(keypoints, dataset);
  return keypoints;
}

io::NdArray xy_channels(const io::NdArray& sequence) { return leading_channels(sequence, 2); }

}  // namespace poselift::data
