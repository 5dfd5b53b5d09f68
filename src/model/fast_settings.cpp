#include "model/fast_settings.hpp"

#include <atomic>

#include "io/error.hpp"
#include "model/fast_bf16.hpp"

namespace poselift::model {

namespace {

// The settings of the model module (see the header); atomics because data-parallel ranks and
// LibTorch's worker threads read them while a command runs.
struct FastPathSettings {
  std::atomic<Implementation> default_implementation{Implementation::fast};
  std::atomic<Precision> inference_precision{Precision::float32};
};

FastPathSettings& settings() {
  static FastPathSettings state;
  return state;
}

}  // namespace

Implementation parse_implementation(const std::string& name) {
  if (name == "fast") return Implementation::fast;
  if (name == "reference") return Implementation::reference;
  throw InputError("--impl: expected 'fast' or 'reference', got '" + name + "'");
}

const char* implementation_name(Implementation implementation) {
  return implementation == Implementation::fast ? "fast" : "reference";
}

void set_default_implementation(Implementation implementation) { settings().default_implementation = implementation; }
Implementation default_implementation() { return settings().default_implementation; }

Precision parse_precision(const std::string& name) {
  if (name == "float32") return Precision::float32;
  if (name == "int8") {
#ifndef POSELIFT_HAVE_DNNL
    throw InputError("--precision int8 needs oneDNN's integer GEMM: rebuild with oneDNN (Debian: libdnnl-dev)");
#endif
    return Precision::int8;
  }
  if (name == "bf16" || name == "auto") {
#ifndef POSELIFT_HAVE_DNNL
    if (name == "auto") return Precision::float32;
    throw InputError("--precision bf16 needs oneDNN's bfloat16 matmul: rebuild with oneDNN (Debian: libdnnl-dev)");
#endif
    if (!bf16_isa().empty()) return Precision::bf16;
    if (name == "auto") return Precision::float32;
    throw InputError(
        "--precision bf16 needs a CPU with bfloat16 arithmetic (AVX512-BF16 or AMX); this one has neither "
        "(or DNNL_MAX_CPU_ISA excludes them): use --precision float32 or auto");
  }
  throw InputError("--precision: expected 'float32', 'int8', 'bf16' or 'auto', got '" + name + "'");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::int8: return "int8";
    case Precision::bf16: return "bf16";
    case Precision::float32: break;
  }
  return "float32";
}
void set_inference_precision(Precision precision) { settings().inference_precision = precision; }
Precision inference_precision() { return settings().inference_precision; }

}  // namespace poselift::model
