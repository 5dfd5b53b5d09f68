// libFuzzer target: any byte string given to the .npy parser either parses or throws InputError.
#include <cstddef>
#include <cstdint>

#include "io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const poselift::io::NpyContent content = poselift::io::parse_npy(data, size, "fuzz.npy");
    if (content.is_object()) {
      (void)content.object->repr(200);
    } else {
      // Touch the converted data so layout bugs (Fortran order, byte swaps) surface under ASan.
      (void)content.array.to_doubles();
      (void)content.array.shape_string();
    }
  } catch (const poselift::InputError&) {
  }
  return 0;
}
