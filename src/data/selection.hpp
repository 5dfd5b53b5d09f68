// Choosing the sequences to train or evaluate on, as run_poseformer.py's fetch() and its
// per-action evaluation grouping do.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/camera.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "io/ndarray.hpp"

namespace poselift::data {

// "S9,S11" -> {"S9", "S11"} (Python's str.split(','): empty pieces are kept).
std::vector<std::string> split_comma_list(const std::string& text);
// The --actions argument: "*" selects everything (an empty filter), else comma-separated
// prefixes.
std::vector<std::string> parse_action_filter(const std::string& actions_argument);
// True when the filter is empty or `name` starts with one of its prefixes.
bool matches_action_filter(const std::string& name, const std::vector<std::string>& action_filter);

// VideoPose3D's deterministic_random: the first 4 bytes of SHA-256(seed) as a little-endian
// unsigned integer r, mapped to int(r / (2^32 - 1) * (max - min)) + min.
std::int64_t deterministic_random(std::int64_t min_value, std::int64_t max_value, const std::string& seed);

struct SequenceOrigin {
  std::string subject;
  std::string action;
  int camera = 0;
};

struct FetchedSequences {
  // Normalised intrinsics of the cameras of every fetched action (one per camera, for
  // cameras that have intrinsics); empty where the original returns None.
  std::vector<Intrinsic> camera_intrinsics;
  // Camera-space 3D targets, aligned with poses_2d; empty where the original returns None.
  std::vector<io::NdArray> poses_3d;
  // 2D inputs (T, J, 2) float32, or (T, J, C) with keep_extra_channels.
  std::vector<io::NdArray> poses_2d;
  std::vector<SequenceOrigin> origins;  // where each poses_2d entry comes from
};

struct FetchOptions {
  std::vector<std::string> action_filter;  // action-name prefixes; empty = every action
  double subset = 1.0;                     // fraction of each sequence (deterministic window)
  int downsample = 1;                      // keep every n-th frame
  bool parse_3d_poses = true;
  bool keep_extra_channels = false;
};

// Sequences of `subjects` (actions in the 2D file's order, cameras in order). With
// subset < 1 each sequence is cut to round(len // downsample * subset) * downsample frames
// starting at deterministic_random(0, len - n + 1, str(len)), then strided by downsample.
FetchedSequences fetch(const MocapDataset& dataset, const Keypoints& keypoints,
                       const std::vector<std::string>& subjects, const FetchOptions& options = {});

// Evaluation groups: actions named alike up to the first space ("Walking 1" joins
// "Walking"), in first-seen order over the subjects and the 3D dataset's action order.
struct ActionGroup {
  std::string name;
  std::vector<std::pair<std::string, std::string>> members;  // (subject, action)
};
struct SubjectActionGroups {
  std::string subject;
  std::vector<ActionGroup> groups;
};

std::string action_group_name(const std::string& action);
// All subjects pooled. Groups whose name does not match the filter are left out.
std::vector<ActionGroup> group_actions(const MocapDataset& dataset, const std::vector<std::string>& subjects,
                                       const std::vector<std::string>& action_filter = {});
// One list per distinct subject (--by-subject), in the given order.
std::vector<SubjectActionGroups> group_actions_by_subject(const MocapDataset& dataset,
                                                          const std::vector<std::string>& subjects,
                                                          const std::vector<std::string>& action_filter = {});

// The 2D inputs and 3D targets of one evaluation group (every camera of every member),
// strided by `downsample`.
FetchedSequences fetch_group(const MocapDataset& dataset, const Keypoints& keypoints, const ActionGroup& group,
                             int downsample = 1, bool keep_extra_channels = false);

}  // namespace poselift::data
