// libFuzzer target: TFLite model files through the reader and the expansion of every sparse
// tensor (tflite/model). Only InputError may escape; anything else is a bug.
#include <cstddef>
#include <cstdint>

#include "io/error.hpp"
#include "tflite/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace poselift::tflite;
  // Small limits keep each run fast; the code paths are those of the defaults.
  ReadLimits limits;
  limits.max_file_bytes = std::uint64_t{1} << 20;
  limits.max_tensor_elements = std::int64_t{1} << 20;
  try {
    const Model model = parse_model(data, size, "fuzz.tflite", limits);
    for (const Tensor& tensor : model.tensors) {
      if (tensor.sparsity) (void)dense_bytes(tensor, model.source);
    }
  } catch (const poselift::InputError&) {
  }
  return 0;
}
