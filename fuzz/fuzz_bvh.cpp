// libFuzzer target: BVH text (or gzip-compressed BVH) through parsing, forward kinematics and
// the whole import (rig detection, resampling, mapping). Only InputError may escape the
// library; anything else (crash, sanitizer report, other exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/error.hpp"
#include "mocap/bvh.hpp"
#include "mocap/import.hpp"
#include "mocap/text_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::mocap;
  ImportOptions options;
  // Small limits keep each run fast; the code paths are the same as with the defaults.
  options.limits.max_text_bytes = std::size_t{8} << 20;
  options.limits.max_frames = 200000;
  options.limits.max_joints = 512;
  try {
    const std::string text = is_gzip(data, size)
                                 ? gunzip(data, size, "fuzz.bvh.gz", options.limits.max_text_bytes)
                                 : std::string(reinterpret_cast<const char*>(data), size);
    const SkeletalMotion motion = parse_bvh(text, "fuzz.bvh", options.limits);
    const PointTracks tracks = forward_kinematics(motion);
    (void)tracks;
    if (motion.frames > 0) import_motion(motion, options);
  } catch (const poselift::InputError&) {
  }
  return 0;
}
