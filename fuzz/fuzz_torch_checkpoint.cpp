// libFuzzer target for the torch.save reader: both formats (the zip container, and the legacy
// stream of pickles followed by raw storages that scripts/fuzz.sh's legacy seeds reach), pickle
// with persistent ids, tensor rebuilds, materialising every tensor it references (bounds
// checks), and the shared resolution the model layer uses (resolve_tensor_refs).
#include <cstddef>
#include <cstdint>
#include <functional>

#include "io/error.hpp"
#include "io/torch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::io;
  try {
    TorchFile file = parse_torch_file(data, size, "fuzz.bin");
    std::function<void(const Value&, int)> visit = [&](const Value& v, int depth) {
      if (depth > 64) return;
      if (const TensorRef* ref = as_tensor_ref(v)) {
        try {
          file.materialize(*ref, "tensor");
        } catch (const poselift::InputError&) {
        }
      }
      for (const auto& item : v.items) visit(*item, depth + 1);
      for (const auto& [key, value] : v.entries) visit(*value, depth + 1);
      if (v.object)
        for (const auto& [key, value] : v.object->dict_items) visit(*value, depth + 1);
    };
    visit(*file.root, 0);
    (void)resolve_tensor_refs(file, file.root);
  } catch (const poselift::InputError&) {
  }
  return 0;
}
