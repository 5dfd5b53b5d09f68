// Turning a track into a regular sequence the model can take: one pose per frame of the
// input from the track's first to its last frame, every joint present.
//
// Joints below the confidence threshold and frames where the person was not detected are
// filled per joint by linear interpolation in time between the nearest confident
// observations (held constant before the first and after the last); filled joints get
// confidence 0. A track in which fewer than `min_valid_fraction` of the joint observations
// are confident, or a joint is never confident, is rejected with an InputError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wild/tracking.hpp"

namespace poselift::wild {

struct FillOptions {
  float min_confidence = 0.3f;
  double min_valid_fraction = 0.5;
};

struct Sequence2D {
  std::vector<std::int64_t> frames;  // source frame indices
  std::vector<H36mPose> poses;       // pixels; confidence 0 where filled
  double valid_fraction = 0.0;       // confident joint observations / all
};

// `all_frames`: the input's frame indices, ascending (the track's are a subset). `what` names
// the track in errors ("video.json: track 0").
Sequence2D fill_track(const Track& track, const std::vector<std::int64_t>& all_frames, const FillOptions& options,
                      const std::string& what);

}  // namespace poselift::wild
