// MotionBERT's in-the-wild input and clips, as its infer_wild.py makes them through
// WildDetDataset (lib/data/dataset_wild.py) and crop_scale (lib/utils/utils_data.py), on a
// filled track (filling.hpp: confidence 0 where a joint was filled).
//
//   crop (default; infer_wild's scale_range [1, 1]): one square box over every keypoint of the
//     whole track with a non-zero confidence, its larger side -> 2 and its centre -> (0, 0);
//     then every channel, the confidence too, clipped to [-1, 1]. Fewer than 4 such keypoints,
//     or a box of size 0: all zeros, as the original.
//   pixel (--pixel; infer_wild's vid_size): the image centre -> (0, 0), min(width, height) / 2
//     pixels -> 1; no clipping. The output goes back with motionbert_pixels_from_model.
// Clips: consecutive, non-overlapping, clip_len frames each; the last one the rest (shorter).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "wild/filling.hpp"

namespace poselift::wild {

// (T, 17, 3) x, y, confidence, row-major; computed in double as the original's float64
// arrays, then rounded to float (its astype(np.float32)).
std::vector<float> motionbert_wild_input(const Sequence2D& sequence, int width, int height, bool pixel);

// infer_wild's --pixel output conversion of (N, 3) positions in place: everything times
// min(width, height) / 2, then x, y plus the image centre unless `centre` is false (a
// root-relative output keeps its root at the origin).
void motionbert_pixels_from_model(std::vector<float>& xyz, int width, int height, bool centre = true);

// [start, end) of each clip of a `frames`-long sequence; clip_len >= 1.
std::vector<std::pair<std::int64_t, std::int64_t>> motionbert_clips(std::int64_t frames, std::int64_t clip_len);

}  // namespace poselift::wild
