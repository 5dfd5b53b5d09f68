#include "data/summary.hpp"

#include <algorithm>
#include <cstdint>
#include <set>
#include <sstream>

namespace poselift::data {

namespace {

std::string join_ints(const std::vector<int>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

std::string join(const std::vector<std::string>& values) {
  std::string text;
  for (std::size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + values[i];
  return text;
}

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string plural(std::int64_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string camera_description(const Camera& camera) {
  std::string text = (camera.id.empty() ? std::string("?") : camera.id) + " " + std::to_string(camera.res_w) + "x" +
                     std::to_string(camera.res_h);
  if (!camera.has_intrinsics) text += " (no intrinsics)";
  if (!camera.has_extrinsics) text += " (no extrinsics)";
  return text;
}

void describe_dataset(const MocapDataset& dataset, std::vector<std::string>& lines) {
  lines.push_back("Dataset " + dataset.name + ": " + dataset.source);
  const Skeleton& skeleton = dataset.skeleton;
  lines.push_back("  skeleton: " + plural(skeleton.num_joints(), "joint") + ", parents " +
                  join_ints(skeleton.parents()));
  lines.push_back("  joints left " + join_ints(skeleton.joints_left()) + ", right " +
                  join_ints(skeleton.joints_right()));
  lines.push_back("  fps: " + (dataset.fps ? number(*dataset.fps) : std::string("unknown")));

  std::int64_t actions = 0, frames = 0;
  for (const Subject& subject : dataset.subjects)
    for (const Action& action : subject.actions) {
      ++actions;
      if (action.has_positions()) frames += action.positions.shape[0];
    }
  lines.push_back("  " + plural(static_cast<std::int64_t>(dataset.subjects.size()), "subject") + " (" +
                  join(dataset.subject_names()) + "), " + plural(actions, "action") + ", " +
                  plural(frames, "mocap frame"));

  for (const Subject& subject : dataset.subjects) {
    std::int64_t subject_frames = 0;
    std::vector<std::string> action_texts;
    for (const Action& action : subject.actions) {
      if (action.has_positions()) {
        subject_frames += action.positions.shape[0];
        action_texts.push_back(action.name + " (" + std::to_string(action.positions.shape[0]) + ")");
      } else {
        action_texts.push_back(action.name + " (no 3D)");
      }
    }
    std::vector<std::string> camera_texts;
    auto cameras = dataset.cameras.find(subject.name);
    if (cameras != dataset.cameras.end())
      for (const Camera& camera : cameras->second) camera_texts.push_back(camera_description(camera));
    lines.push_back("  " + subject.name + ": " + plural(static_cast<std::int64_t>(subject.actions.size()), "action") +
                    ", " + plural(subject_frames, "mocap frame") + ", " +
                    plural(static_cast<std::int64_t>(camera_texts.size()), "camera") +
                    (camera_texts.empty() ? "" : " [" + join(camera_texts) + "]"));
    lines.push_back("    " + join(action_texts));
  }
}

void describe_keypoints(const Keypoints& keypoints, std::vector<std::string>& lines) {
  const KeypointsMetadata& metadata = keypoints.metadata;
  lines.push_back("Keypoints: " + keypoints.source);
  lines.push_back("  " + plural(metadata.num_joints, "joint") + ", layout " +
                  (metadata.layout_name ? *metadata.layout_name : std::string("(unnamed)")) + ", symmetry left " +
                  join_ints(metadata.keypoints_left) + ", right " + join_ints(metadata.keypoints_right));

  std::set<std::int64_t> channels;
  std::int64_t total_frames = 0;
  for (const SubjectKeypoints& subject : keypoints.subjects) {
    std::int64_t frames = 0;
    std::size_t max_cameras = 0;
    for (const ActionKeypoints& action : subject.actions) {
      max_cameras = std::max(max_cameras, action.cameras.size());
      for (const io::NdArray& sequence : action.cameras) {
        frames += sequence.shape[0];
        channels.insert(sequence.shape[2]);
      }
    }
    total_frames += frames;
    lines.push_back("  " + subject.name + ": " + plural(static_cast<std::int64_t>(subject.actions.size()), "action") +
                    ", " + plural(static_cast<std::int64_t>(max_cameras), "camera") + ", " +
                    plural(frames, "frame") + " over all cameras");
  }
  std::vector<int> channel_list(channels.begin(), channels.end());
  lines.push_back("  " + plural(static_cast<std::int64_t>(keypoints.subjects.size()), "subject") + ", " +
                  plural(total_frames, "frame") + ", channels per keypoint " + join_ints(channel_list) +
                  (keypoints.normalized ? " (normalised, trimmed to the mocap)" : " (pixels, as stored)"));
}

}  // namespace

std::vector<std::string> summarize(const MocapDataset& dataset, const Keypoints* keypoints) {
  std::vector<std::string> lines;
  describe_dataset(dataset, lines);
  if (keypoints) describe_keypoints(*keypoints, lines);
  return lines;
}

}  // namespace poselift::data
