// Association of the people detected in each frame into tracks across frames.
//
// Files that carry person ids (CSV `person` column) are grouped by id. Otherwise tracks are
// built greedily frame by frame: the cost of giving a detection to a track is the mean
// distance between their joints confident in both, divided by the size (bounding-box
// diagonal) of the track's last pose; the cheapest pairs are matched first while the cost is
// below `max_distance`; a track not seen for more than `max_gap` frames ends; detections left
// over start new tracks.
#pragma once

#include <cstdint>
#include <vector>

#include "wild/detections.hpp"
#include "wild/layouts.hpp"

namespace poselift::wild {

struct Track {
  std::vector<std::int64_t> frames;  // source frame indices where the person was detected, ascending
  std::vector<H36mPose> poses;       // converted to Human3.6M-17, one per entry of `frames`
};

struct TrackingOptions {
  float min_confidence = 0.3f;        // keypoints below it count as missing
  float min_detection_score = 0.0f;   // detections below it are ignored
  double max_distance = 0.5;          // in units of the person's size
  int max_gap = 15;                   // frames (of the file's frame list) a track may be unseen
};

// Tracks ordered by the number of frames they cover (most first), then by first frame.
std::vector<Track> track_people(const Detections& detections, const TrackingOptions& options);

}  // namespace poselift::wild
