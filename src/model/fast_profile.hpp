// Where the fast path's time goes (for the benchmark's GEMM share): seconds inside the linear
// layers' matrix products and per step of the transformer blocks, summed while a GemmTallyScope
// is alive. Only calls outside parallel regions are timed. No LibTorch here.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace poselift::model::fast {

struct GemmTally {
  double seconds = 0;
  double flops = 0;
  // Seconds per step of the transformer blocks (layer norms, qkv, attention, ...), in order.
  std::vector<std::pair<std::string, double>> phases;
};

// Starts an empty tally; it stops when the scope ends. One scope at a time.
class GemmTallyScope {
 public:
  GemmTallyScope();
  ~GemmTallyScope();
  GemmTallyScope(const GemmTallyScope&) = delete;
  GemmTallyScope& operator=(const GemmTallyScope&) = delete;
  GemmTally tally() const;  // what was summed so far
};

// For the fast path's own code: true while tallying and outside a parallel region.
bool tally_active();
void tally_gemm(double seconds, double flops);
void tally_phase(const char* phase, double seconds);

// Adds the time since the previous mark to a named phase (only while tallying).
class PhaseClock {
 public:
  PhaseClock() : on_(tally_active()), last_(std::chrono::steady_clock::now()) {}
  void mark(const char* phase) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    tally_phase(phase, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace poselift::model::fast
