#include "wild/filling.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "io/error.hpp"

namespace poselift::wild {

Sequence2D fill_track(const Track& track, const std::vector<std::int64_t>& all_frames, const FillOptions& options,
                      const std::string& what) {
  if (track.frames.empty()) throw InputError(what + ": empty track");
  const auto begin = std::lower_bound(all_frames.begin(), all_frames.end(), track.frames.front());
  const auto end = std::upper_bound(all_frames.begin(), all_frames.end(), track.frames.back());
  Sequence2D s;
  s.frames.assign(begin, end);
  if (s.frames.empty()) throw InputError(what + ": its frames are not among the input's frames");
  const std::size_t T = s.frames.size();
  s.poses.assign(T, H36mPose{});
  // Place the observations on the regular frame list (everything else starts missing).
  std::size_t k = 0;
  for (std::size_t t = 0; t < T && k < track.frames.size(); ++t) {
    if (s.frames[t] != track.frames[k]) continue;
    for (int j = 0; j < h36m::kJoints; ++j) {
      Keypoint p = track.poses[k][static_cast<std::size_t>(j)];
      if (p[2] < options.min_confidence || p[2] <= 0.0f) p = {0.0f, 0.0f, 0.0f};
      s.poses[t][static_cast<std::size_t>(j)] = p;
    }
    ++k;
  }
  std::size_t valid = 0;
  for (const auto& pose : s.poses)
    for (const auto& p : pose) valid += p[2] > 0.0f;
  s.valid_fraction = double(valid) / double(T * h36m::kJoints);
  if (s.valid_fraction < options.min_valid_fraction)
    throw InputError(fmt::format("{}: only {:.0f}% of its joints over {} frames are detected with confidence >= {} "
                                 "(at least {:.0f}% needed): the person is mostly hidden or outside the image",
                                 what, 100 * s.valid_fraction, T, options.min_confidence,
                                 100 * options.min_valid_fraction));
  for (int j = 0; j < h36m::kJoints; ++j) {
    const auto J = static_cast<std::size_t>(j);
    std::vector<std::size_t> seen;
    for (std::size_t t = 0; t < T; ++t)
      if (s.poses[t][J][2] > 0.0f) seen.push_back(t);
    if (seen.empty())
      throw InputError(fmt::format("{}: joint {} is never detected with confidence >= {} in its {} frames", what,
                                   h36m::short_joint_names()[J], options.min_confidence, T));
    for (std::size_t t = 0; t < T; ++t) {
      if (s.poses[t][J][2] > 0.0f) continue;
      const auto next = std::lower_bound(seen.begin(), seen.end(), t);
      Keypoint v;
      if (next == seen.begin()) v = s.poses[*next][J];
      else if (next == seen.end()) v = s.poses[seen.back()][J];
      else {
        const std::size_t a = *(next - 1), b = *next;
        const float w = float(t - a) / float(b - a);
        v = {s.poses[a][J][0] + w * (s.poses[b][J][0] - s.poses[a][J][0]),
             s.poses[a][J][1] + w * (s.poses[b][J][1] - s.poses[a][J][1]), 0.0f};
      }
      s.poses[t][J] = {v[0], v[1], 0.0f};
    }
  }
  return s;
}

}  // namespace poselift::wild
