// Axis slicing of pose arrays (frames on axis 0, joints on axis 1, coordinates last), any dtype.
#pragma once

#include <cstdint>
#include <vector>

#include "io/ndarray.hpp"

namespace poselift::data {

// array[start:stop:step] along axis 0 with Python's semantics for non-negative bounds
// (`stop` is clamped to the length; an empty range gives zero frames).
io::NdArray slice_frames(const io::NdArray& array, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
// array[:, joints] for a (T, J, ...) array.
io::NdArray select_joints(const io::NdArray& array, const std::vector<int>& joints);
// array[..., :count] (e.g. the x, y channels of keypoints that also carry a confidence).
io::NdArray leading_channels(const io::NdArray& array, std::int64_t count);
// Index (C order) of the first NaN or infinite element; -1 when every element is finite
// (integer and bool arrays always are).
std::int64_t first_non_finite(const io::NdArray& array);

}  // namespace poselift::data
