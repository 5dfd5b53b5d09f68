// The fast path's settings: which implementation new PoseFormer modules start with, and the
// arithmetic of its inference matrix products. They are the model module's state, read by the
// fast path at every call; a command sets them once at start (engine::configure_runtime), a
// measurement that changes them for a while holds a PrecisionScope so they come back as they were.
// No LibTorch here.
#pragma once

#include <cstdint>
#include <string>

namespace poselift::model {

enum class Implementation { reference, fast };

// "reference" | "fast"; throws InputError otherwise.
Implementation parse_implementation(const std::string& name);
const char* implementation_name(Implementation implementation);

// The implementation new PoseFormer modules start with (fast unless changed).
void set_default_implementation(Implementation implementation);
Implementation default_implementation();

// Arithmetic of the fast path's inference matrix products. The reduced precisions apply to the
// linear layers with at least kReducedPrecisionMinInputs inputs (the temporal stage's, ~95% of
// the FLOPs; the 2-input patch embedding and the small spatial layers stay float32).
// int8: 8-bit integers (oneDNN's u8s8s32 GEMM, VNNI where the CPU has it): weights quantised
// symmetrically per output channel (once, then cached until the weights change), activations per
// row at every call. Needs oneDNN; elsewhere int8 is refused.
// bf16: weights (cached likewise) and activations rounded to bfloat16, oneDNN's matmul with
// float32 accumulation (fast_bf16.hpp). Needs oneDNN and a CPU with AVX512-BF16 or AMX.
// Gradient passes always use float32.
enum class Precision { float32, int8, bf16 };
// "float32" | "int8" | "bf16" | "auto" (bf16 where the CPU has it, float32 elsewhere); InputError
// otherwise, or where the build or the CPU lacks what the precision needs.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision precision);
void set_inference_precision(Precision precision);
Precision inference_precision();
constexpr std::int64_t kReducedPrecisionMinInputs = 128;

// Sets the inference precision for its lifetime, then restores the one before it.
class PrecisionScope {
 public:
  explicit PrecisionScope(Precision precision) : saved_(inference_precision()) { set_inference_precision(precision); }
  ~PrecisionScope() { set_inference_precision(saved_); }
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision saved_;
};

}  // namespace poselift::model
