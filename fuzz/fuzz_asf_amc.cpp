// libFuzzer target: an ASF skeleton and an AMC motion through parsing, forward kinematics and
// import. The input is split at its first NUL byte: ASF before, AMC after (no NUL: ASF only).
// Only InputError may escape the library.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/error.hpp"
#include "mocap/asf_amc.hpp"
#include "mocap/import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::mocap;
  ImportOptions options;
  options.limits.max_text_bytes = std::size_t{8} << 20;
  options.limits.max_frames = 200000;
  options.limits.max_joints = 512;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  try {
    const AsfSkeleton skeleton = parse_asf(input.substr(0, split), "fuzz.asf", options.limits);
    if (split == std::string::npos) return 0;
    const SkeletalMotion motion = parse_amc(input.substr(split + 1), "fuzz.amc", skeleton, 120.0, options.limits);
    const PointTracks tracks = forward_kinematics(motion);
    (void)tracks;
    import_motion(motion, options);
  } catch (const poselift::InputError&) {
  }
  return 0;
}
