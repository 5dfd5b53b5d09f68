// Human-readable description of a dataset and its 2D keypoints (`poselift info`).
#pragma once

#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"

namespace poselift::data {

// Lines (without newlines) describing the skeleton, fps, subjects, their actions with frame
// counts, cameras, and, when `keypoints` is given, the 2D file's layout and sizes.
std::vector<std::string> summarize(const MocapDataset& dataset, const Keypoints* keypoints = nullptr);

}  // namespace poselift::data
