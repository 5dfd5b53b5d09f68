// libFuzzer target: keypoint CSV through parsing, layout conversion, tracking and filling.
// Only InputError may escape; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/error.hpp"
#include "wild/detections.hpp"
#include "wild/filling.hpp"
#include "wild/tracking.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::wild;
  try {
    const Detections d = parse_csv(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.csv");
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
  return 0;
}
