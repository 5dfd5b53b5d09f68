// libFuzzer target: COCO keypoint results JSON through parsing, layout conversion, tracking
// and gap filling; the same bytes as a `prepare mocap --mapping` JSON joint mapping. Only
// InputError may escape; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/error.hpp"
#include "mocap/mapping.hpp"
#include "wild/detections.hpp"
#include "wild/filling.hpp"
#include "wild/tracking.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::wild;
  try {
    const Detections d = parse_coco_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    std::vector<std::int64_t> frames;
    for (const auto& f : d.frames) frames.push_back(f.index);
    for (const auto& track : track_people(d, {})) {
      try {
        (void)fill_track(track, frames, {}, "fuzz");
      } catch (const poselift::InputError&) {
      }
    }
  } catch (const poselift::InputError&) {
  }
  try {
    (void)poselift::mocap::parse_joint_mapping(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
  } catch (const poselift::InputError&) {
  }
  return 0;
}
