#include "wild/tracking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace poselift::wild {

namespace {

// Bounding-box diagonal of the confident joints (at least 1 px).
double pose_size(const H36mPose& pose) {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto& k : pose) {
    if (k[2] <= 0.0f) continue;
    x0 = std::min(x0, double(k[0]));
    y0 = std::min(y0, double(k[1]));
    x1 = std::max(x1, double(k[0]));
    y1 = std::max(y1, double(k[1]));
  }
  if (x1 < x0) return 1.0;
  return std::max(1.0, std::hypot(x1 - x0, y1 - y0));
}

double pose_cost(const H36mPose& track_pose, const H36mPose& detection) {
  double sum = 0.0;
  int n = 0;
  for (int j = 0; j < h36m::kJoints; ++j) {
    const auto& a = track_pose[static_cast<std::size_t>(j)];
    const auto& b = detection[static_cast<std::size_t>(j)];
    if (a[2] <= 0.0f || b[2] <= 0.0f) continue;
    sum += std::hypot(double(a[0]) - b[0], double(a[1]) - b[1]);
    ++n;
  }
  if (n == 0) return std::numeric_limits<double>::infinity();
  return sum / n / pose_size(track_pose);
}

bool any_confident(const H36mPose& pose) {
  for (const auto& k : pose)
    if (k[2] > 0.0f) return true;
  return false;
}

}  // namespace

std::vector<Track> track_people(const Detections& detections, const TrackingOptions& options) {
  std::vector<Track> tracks;
  bool ids = true, any = false;
  for (const auto& f : detections.frames)
    for (const auto& p : f.people) ids = ids && p.id >= 0, any = true;
  if (ids && any) {
    std::map<int, Track> by_id;
    for (const auto& f : detections.frames)
      for (const auto& p : f.people) {
        if (p.score < options.min_detection_score) continue;
        const H36mPose pose = to_h36m(p.keypoints, detections.layout, options.min_confidence);
        if (!any_confident(pose)) continue;
        Track& t = by_id[p.id];
        if (!t.frames.empty() && t.frames.back() == f.index) continue;  // duplicate id in a frame: first wins
        t.frames.push_back(f.index);
        t.poses.push_back(pose);
      }
    for (auto& [id, t] : by_id) tracks.push_back(std::move(t));
  } else {
    std::vector<std::size_t> last_seen;  // per track: position in detections.frames
    for (std::size_t fi = 0; fi < detections.frames.size(); ++fi) {
      const Frame& f = detections.frames[fi];
      std::vector<H36mPose> poses;
      for (const auto& p : f.people) {
        if (p.score < options.min_detection_score) continue;
        H36mPose pose = to_h36m(p.keypoints, detections.layout, options.min_confidence);
        if (any_confident(pose)) poses.push_back(pose);
      }
      std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;  // cost, track, detection
      for (std::size_t t = 0; t < tracks.size(); ++t) {
        if (fi - last_seen[t] > static_cast<std::size_t>(std::max(0, options.max_gap)) + 1) continue;
        for (std::size_t d = 0; d < poses.size(); ++d) {
          const double c = pose_cost(tracks[t].poses.back(), poses[d]);
          if (c < options.max_distance) pairs.emplace_back(c, t, d);
        }
      }
      std::sort(pairs.begin(), pairs.end());
      std::vector<bool> track_used(tracks.size(), false), det_used(poses.size(), false);
      for (const auto& [c, t, d] : pairs) {
        if (track_used[t] || det_used[d]) continue;
        track_used[t] = det_used[d] = true;
        tracks[t].frames.push_back(f.index);
        tracks[t].poses.push_back(poses[d]);
        last_seen[t] = fi;
      }
      for (std::size_t d = 0; d < poses.size(); ++d) {
        if (det_used[d]) continue;
        tracks.push_back(Track{{f.index}, {poses[d]}});
        last_seen.push_back(fi);
      }
    }
  }
  std::stable_sort(tracks.begin(), tracks.end(), [](const Track& a, const Track& b) {
    if (a.frames.size() != b.frames.size()) return a.frames.size() > b.frames.size();
    return a.frames.front() < b.frames.front();
  });
  return tracks;
}

}  // namespace poselift::wild
