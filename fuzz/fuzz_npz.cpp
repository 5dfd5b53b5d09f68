// libFuzzer target: any byte string given to the .npz reader (libzip + .npy + pickle) either
// parses or throws InputError.
#include <cstddef>
#include <cstdint>

#include "io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const poselift::io::NpzFile npz = poselift::io::parse_npz(data, size, "fuzz.npz");
    for (const auto& name : npz.names) {
      const auto& member = npz.at(name, "fuzz.npz");
      if (member.is_object()) (void)member.object->repr(100);
      else (void)member.array.to_doubles();
    }
  } catch (const poselift::InputError&) {
  }
  return 0;
}
