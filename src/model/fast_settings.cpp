#include "model/fast_settings.hpp"

#include <atomic>

#include "io/error.hpp"

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
  throw InputError("--precision: expected 'float32' or 'int8', got '" + name + "'");
}

const char* precision_name(Precision precision) { return precision == Precision::int8 ? "int8" : "float32"; }
void set_inference_precision(Precision precision) { settings().inference_precision = precision; }
Precision inference_precision() { return settings().inference_precision; }

}  // namespace poselift::model
