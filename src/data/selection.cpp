#include "data/selection.hpp"

#include <openssl/evp.h>

#include <cmath>

#include "data/array_ops.hpp"
#include "io/error.hpp"

namespace poselift::data {

namespace {

void check_downsample(int downsample) {
  if (downsample < 1) throw InputError("downsample: expected a stride >= 1, got " + std::to_string(downsample));
}

std::string where(const Keypoints& keypoints, const std::string& subject, const std::string& action) {
  return keypoints.source + ": positions_2d['" + subject + "']['" + action + "']";
}

void check_camera_count(const Keypoints& keypoints, const std::string& subject, const std::string& action,
                        std::size_t count_2d, std::size_t count_other, const std::string& other) {
  if (count_2d != count_other)
    throw InputError(where(keypoints, subject, action) + ": " + std::to_string(count_2d) + " camera sequences but " +
                     std::to_string(count_other) + " " + other + " (camera count mismatch)");
}

io::NdArray model_input(const io::NdArray& sequence, bool keep_extra_channels) {
  return keep_extra_channels ? sequence : xy_channels(sequence);
}

const Action& action_with_3d(const MocapDataset& dataset, const std::string& subject, const std::string& action) {
  const Action* found = dataset.subject(subject).find_action(action);
  if (!found)
    throw InputError(dataset.source + ": positions_3d['" + subject + "']: action '" + action +
                     "' of the 2D keypoints is missing from the 3D dataset");
  return *found;
}

}  // namespace

std::vector<std::string> split_comma_list(const std::string& text) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    pieces.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return pieces;
}

std::vector<std::string> parse_action_filter(const std::string& actions_argument) {
  if (actions_argument == "*") return {};
  return split_comma_list(actions_argument);
}

bool matches_action_filter(const std::string& name, const std::vector<std::string>& action_filter) {
  if (action_filter.empty()) return true;
  for (const std::string& prefix : action_filter)
    if (name.compare(0, prefix.size(), prefix) == 0) return true;
  return false;
}

std::int64_t deterministic_random(std::int64_t min_value, std::int64_t max_value, const std::string& seed) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(seed.data(), seed.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1 || digest_size < 4)
    throw std::runtime_error("deterministic_random: SHA-256 failed");
  const std::uint32_t raw = static_cast<std::uint32_t>(digest[0]) | (static_cast<std::uint32_t>(digest[1]) << 8) |
                            (static_cast<std::uint32_t>(digest[2]) << 16) |
                            (static_cast<std::uint32_t>(digest[3]) << 24);
  // Python: int(raw / (2**32 - 1) * (max - min)) + min, in double precision, truncating.
  const double scaled = static_cast<double>(raw) / 4294967295.0 * static_cast<double>(max_value - min_value);
  return static_cast<std::int64_t>(std::trunc(scaled)) + min_value;
}

FetchedSequences fetch(const MocapDataset& dataset, const Keypoints& keypoints,
                       const std::vector<std::string>& subjects, const FetchOptions& options) {
  check_downsample(options.downsample);
  if (!(options.subset > 0.0) || !std::isfinite(options.subset))
    throw InputError("subset: expected a fraction in (0, 1], got " + std::to_string(options.subset));

  FetchedSequences out;
  std::size_t actions_with_3d = 0, actions_without_3d = 0;
  for (const std::string& subject : subjects) {
    for (const ActionKeypoints& action : keypoints.subject(subject).actions) {
      if (!matches_action_filter(action.name, options.action_filter)) continue;

      for (std::size_t c = 0; c < action.cameras.size(); ++c) {
        out.poses_2d.push_back(action.cameras[c]);
        out.origins.push_back({subject, action.name, static_cast<int>(c)});
      }

      auto cameras = dataset.cameras.find(subject);
      if (cameras != dataset.cameras.end()) {
        check_camera_count(keypoints, subject, action.name, action.cameras.size(), cameras->second.size(),
                           "cameras for this subject in dataset '" + dataset.name + "'");
        for (const Camera& camera : cameras->second)
          if (camera.has_intrinsics) out.camera_intrinsics.push_back(camera.intrinsic());
      }

      if (options.parse_3d_poses) {
        const Action& action_3d = action_with_3d(dataset, subject, action.name);
        if (action_3d.positions_3d.empty()) {
          ++actions_without_3d;
        } else {
          ++actions_with_3d;
          check_camera_count(keypoints, subject, action.name, action.cameras.size(), action_3d.positions_3d.size(),
                             "3D camera-space sequences");
          for (const io::NdArray& poses : action_3d.positions_3d) out.poses_3d.push_back(poses);
        }
      }
    }
  }
  if (out.poses_2d.empty() && !options.action_filter.empty()) {
    std::string known;
    for (const std::string& subject : subjects)
      for (const ActionKeypoints& action : keypoints.subject(subject).actions)
        if (known.find("'" + action.name + "'") == std::string::npos)
          known += (known.empty() ? "'" : ", '") + action.name + "'";
    std::string filter;
    for (const auto& f : options.action_filter) filter += (filter.empty() ? "" : ",") + f;
    throw InputError(keypoints.source + ": no action of subjects " + join_names(subjects) + " matches -a " + filter +
                     " (they have " + (known.empty() ? std::string("no actions") : known) + ")");
  }
  // The original pairs 3D and 2D sequences by index, which only works when all or none have 3D.
  if (actions_with_3d > 0 && actions_without_3d > 0)
    throw InputError(dataset.source + ": " + std::to_string(actions_without_3d) +
                     " selected actions have no 3D data while others do; select only labelled or only "
                     "unlabelled actions");

  const std::int64_t stride = options.downsample;
  for (std::size_t i = 0; i < out.poses_2d.size(); ++i) {
    std::int64_t start = 0, stop = out.poses_2d[i].shape[0];
    if (options.subset < 1.0) {
      const std::int64_t length = out.poses_2d[i].shape[0];
      // Python's round() rounds halves to even, as nearbyint does in the default mode.
      const std::int64_t frames =
          static_cast<std::int64_t>(std::nearbyint(static_cast<double>(length / stride) * options.subset)) * stride;
      start = deterministic_random(0, length - frames + 1, std::to_string(length));
      stop = start + frames;
    }
    if (start != 0 || stride != 1 || stop != out.poses_2d[i].shape[0]) {
      out.poses_2d[i] = slice_frames(out.poses_2d[i], start, stop, stride);
      if (!out.poses_3d.empty()) out.poses_3d[i] = slice_frames(out.poses_3d[i], start, stop, stride);
    }
    out.poses_2d[i] = model_input(out.poses_2d[i], options.keep_extra_channels);
  }
  return out;
}

std::string action_group_name(const std::string& action) { return action.substr(0, action.find(' ')); }

namespace {

void add_to_group(std::vector<ActionGroup>& groups, const std::string& subject, const std::string& action) {
  const std::string name = action_group_name(action);
  for (ActionGroup& group : groups)
    if (group.name == name) {
      group.members.emplace_back(subject, action);
      return;
    }
  groups.push_back({name, {{subject, action}}});
}

std::vector<ActionGroup> filtered(std::vector<ActionGroup> groups, const std::vector<std::string>& action_filter) {
  std::vector<ActionGroup> kept;
  for (ActionGroup& group : groups)
    if (matches_action_filter(group.name, action_filter)) kept.push_back(std::move(group));
  return kept;
}

}  // namespace

std::vector<ActionGroup> group_actions(const MocapDataset& dataset, const std::vector<std::string>& subjects,
                                       const std::vector<std::string>& action_filter) {
  std::vector<ActionGroup> groups;
  for (const std::string& subject : subjects)
    for (const Action& action : dataset.subject(subject).actions) add_to_group(groups, subject, action.name);
  return filtered(std::move(groups), action_filter);
}

std::vector<SubjectActionGroups> group_actions_by_subject(const MocapDataset& dataset,
                                                          const std::vector<std::string>& subjects,
                                                          const std::vector<std::string>& action_filter) {
  std::vector<SubjectActionGroups> result;
  for (const std::string& subject : subjects) {
    SubjectActionGroups* entry = nullptr;
    for (SubjectActionGroups& existing : result)
      if (existing.subject == subject) entry = &existing;
    if (!entry) entry = &result.emplace_back(SubjectActionGroups{subject, {}});
    // A repeated subject adds its actions again, as the original's loop does.
    for (const Action& action : dataset.subject(subject).actions) add_to_group(entry->groups, subject, action.name);
  }
  for (SubjectActionGroups& entry : result) entry.groups = filtered(std::move(entry.groups), action_filter);
  return result;
}

FetchedSequences fetch_group(const MocapDataset& dataset, const Keypoints& keypoints, const ActionGroup& group,
                             int downsample, bool keep_extra_channels) {
  check_downsample(downsample);
  FetchedSequences out;
  for (const auto& [subject, action] : group.members) {
    const ActionKeypoints& action_2d = keypoints.action(subject, action);
    const Action& action_3d = action_with_3d(dataset, subject, action);
    if (action_3d.positions_3d.empty())
      throw InputError(dataset.source + ": positions_3d['" + subject + "']['" + action +
                       "']: no 3D data to evaluate against");
    check_camera_count(keypoints, subject, action, action_2d.cameras.size(), action_3d.positions_3d.size(),
                       "3D camera-space sequences");
    for (std::size_t c = 0; c < action_2d.cameras.size(); ++c) {
      const std::int64_t length_2d = action_2d.cameras[c].shape[0];
      out.poses_2d.push_back(
          model_input(slice_frames(action_2d.cameras[c], 0, length_2d, downsample), keep_extra_channels));
      const std::int64_t length_3d = action_3d.positions_3d[c].shape[0];
      out.poses_3d.push_back(slice_frames(action_3d.positions_3d[c], 0, length_3d, downsample));
      out.origins.push_back({subject, action, static_cast<int>(c)});
    }
  }
  return out;
}

}  // namespace poselift::data
