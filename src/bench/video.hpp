// `poselift bench video`: frames/s of `poselift video`'s stages on 2D-from-pixels work:
// decoding + BlazePose (detector once, then landmark tracking) for each landmark model, and the
// whole command (BlazePose lite + the built-in lifter + writing). The clip is --video, or one
// made from python3-skimage's astronaut photograph (a pan and zoom, as the tests make).
#pragma once

#include "bench/suite.hpp"

namespace poselift::bench {

// The table (report::line); returns the exit status. InputError without models or a clip.
int run_video_benchmark(const BenchOptions& options);

}  // namespace poselift::bench
