#include "engine/runtime.hpp"

#include <fmt/format.h>

#include "io/error.hpp"
#include "model/fast_poseformer.hpp"
#include "report/report.hpp"
#include "runtime/threads.hpp"

namespace poselift::engine {

torch::Device configure_runtime(const RuntimeOptions& options) {
  const auto implementation = model::parse_implementation(options.implementation);
  model::set_default_implementation(implementation);
  auto precision = model::parse_precision(options.precision);
  if (options.threads < 0) throw InputError(fmt::format("--threads: expected 0 or more, found {}", options.threads));
  int threads = options.threads > 0 ? options.threads : runtime::default_cpu_threads();
  // More threads than CPUs only make them wait on each other (and thousands exhaust the system).
  if (const int cpus = runtime::usable_cpu_count(); cpus > 0 && threads > cpus) {
    report::warn(fmt::format("--threads {}: this process may use {} CPUs; running {} threads", threads, cpus, cpus));
    threads = cpus;
  }
  if (threads > 0) runtime::set_cpu_threads(threads);
  torch::Device device = torch::kCPU;
  if (options.device == "cuda") {
    if (!torch::cuda::is_available())
      throw InputError("--device cuda: this LibTorch build has no usable CUDA device (build against an official "
                       "CUDA LibTorch with CMAKE_PREFIX_PATH)");
    device = torch::kCUDA;
  } else if (options.device == "auto" || options.device.empty()) {
    if (torch::cuda::is_available()) device = torch::kCUDA;
  } else if (options.device != "cpu") {
    throw InputError("--device: expected cpu, cuda or auto, got '" + options.device + "'");
  }
  if (precision != model::Precision::float32 && (implementation != model::Implementation::fast || !device.is_cpu())) {
    if (options.precision != "auto")
      throw InputError(fmt::format("--precision {} is a mode of the CPU fast path: use it with --impl fast on the "
                                   "CPU (--device cpu)",
                                   model::precision_name(precision)));
    precision = model::Precision::float32;  // auto: the best the CPU fast path can do, float32 elsewhere
  }
  model::set_inference_precision(precision);
  return device;
}

}  // namespace poselift::engine
