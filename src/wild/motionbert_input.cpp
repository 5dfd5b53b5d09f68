#include "wild/motionbert_input.hpp"

#include <algorithm>
#include <stdexcept>

namespace poselift::wild {

std::vector<float> motionbert_wild_input(const Sequence2D& sequence, int width, int height, bool pixel) {
  const std::size_t T = sequence.poses.size();
  std::vector<double> motion;
  motion.reserve(T * kH36mJoints * 3);
  for (const auto& pose : sequence.poses)
    for (const auto& k : pose) motion.insert(motion.end(), {k[0], k[1], k[2]});
  if (pixel) {
    const double scale = std::min(width, height) / 2.0;
    for (std::size_t i = 0; i < motion.size(); i += 3) {
      motion[i] = (motion[i] - width / 2.0) / scale;
      motion[i + 1] = (motion[i + 1] - height / 2.0) / scale;
    }
  } else {
    std::size_t valid = 0;
    double xmin = 0, xmax = 0, ymin = 0, ymax = 0;
    for (std::size_t i = 0; i < motion.size(); i += 3) {
      if (motion[i + 2] == 0) continue;
      const double x = motion[i], y = motion[i + 1];
      xmin = valid ? std::min(xmin, x) : x, xmax = valid ? std::max(xmax, x) : x;
      ymin = valid ? std::min(ymin, y) : y, ymax = valid ? std::max(ymax, y) : y;
      ++valid;
    }
    const double scale = std::max(xmax - xmin, ymax - ymin);  // times the ratio 1 of scale_range [1, 1]
    if (valid < 4 || scale == 0) return std::vector<float>(motion.size(), 0.0f);
    const double xs = (xmin + xmax - scale) / 2, ys = (ymin + ymax - scale) / 2;
    for (std::size_t i = 0; i < motion.size(); i += 3) {
      motion[i] = ((motion[i] - xs) / scale - 0.5) * 2;
      motion[i + 1] = ((motion[i + 1] - ys) / scale - 0.5) * 2;
    }
    for (double& v : motion) v = std::clamp(v, -1.0, 1.0);
  }
  return std::vector<float>(motion.begin(), motion.end());
}

void motionbert_pixels_from_model(std::vector<float>& xyz, int width, int height, bool centre) {
  const float scale = static_cast<float>(std::min(width, height) / 2.0);
  for (std::size_t i = 0; i + 2 < xyz.size(); i += 3) {
    for (std::size_t c = 0; c < 3; ++c) xyz[i + c] *= scale;
    if (centre) {
      xyz[i] = static_cast<float>(xyz[i] + width / 2.0);
      xyz[i + 1] = static_cast<float>(xyz[i + 1] + height / 2.0);
    }
  }
}

std::vector<std::pair<std::int64_t, std::int64_t>> motionbert_clips(std::int64_t frames, std::int64_t clip_len) {
  if (clip_len < 1) throw std::invalid_argument("motionbert_clips: clip_len < 1");
  std::vector<std::pair<std::int64_t, std::int64_t>> clips;
  for (std::int64_t s = 0; s < frames; s += clip_len) clips.emplace_back(s, std::min(frames, s + clip_len));
  return clips;
}

}  // namespace poselift::wild
