#include "engine/benchmark.hpp"

#include <sys/resource.h>

#include <chrono>

namespace poselift::engine {

std::vector<ThroughputFigure> measure_inference(const model::PoseFormerConfig& config,
                                                const std::vector<int>& thread_counts,
                                                const std::vector<int>& batches, double seconds) {
  torch::manual_seed(0);
  model::PoseFormer net(config);
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<ThroughputFigure> out;
  const int saved_threads = torch::get_num_threads();
  for (int threads : thread_counts) {
    torch::set_num_threads(threads);
    for (int batch : batches) {
      auto input = torch::randn({batch, config.num_frames, config.num_joints, config.in_chans});
      net->forward(input);  // warm-up: allocator and BLAS buffers
      int passes = 0;
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      do {
        net->forward(input);
        ++passes;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (elapsed < seconds || passes < 2);
      ThroughputFigure f;
      f.threads = threads;
      f.batch = batch;
      f.frames_per_second = passes * batch / elapsed;
      f.ms_per_batch = 1000.0 * elapsed / passes;
      out.push_back(f);
    }
  }
  torch::set_num_threads(saved_threads);
  return out;
}

double peak_memory_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace poselift::engine
