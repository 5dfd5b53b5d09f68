// libFuzzer target: one OpenPose frame JSON through parsing, layout conversion and tracking.
// Only InputError may escape; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/error.hpp"
#include "wild/detections.hpp"
#include "wild/tracking.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::wild;
  try {
    Detections d;
    parse_openpose_frame(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json", 0, d);
    (void)track_people(d, {});
  } catch (const poselift::InputError&) {
  }
  return 0;
}
