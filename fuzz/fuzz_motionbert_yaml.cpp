// libFuzzer target: MotionBERT's YAML configurations (io/motionbert_yaml.hpp) through yaml-cpp
// and the field reader. Only InputError may escape; anything else (crash, sanitizer report,
// other exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/error.hpp"
#include "io/motionbert_yaml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto config =
        poselift::io::parse_motionbert_yaml(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    (void)config;
  } catch (const poselift::InputError&) {
  }
  return 0;
}
