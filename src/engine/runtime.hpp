// The device and thread count a command runs with, and the PoseFormer code path it takes.
#pragma once

#include <torch/torch.h>

#include "engine/options.hpp"

namespace poselift::engine {

// Resolves "auto" / "cpu" / "cuda" (error when CUDA is requested but absent), applies the
// thread count (options.threads, else runtime::default_cpu_threads(); at most
// runtime::usable_cpu_count(), with a warning through report::warn) and the implementation and
// precision of the model's CPU path.
torch::Device configure_runtime(const RuntimeOptions& options);

}  // namespace poselift::engine
