#include "model/fast_profile.hpp"

#include <ATen/Parallel.h>

#include <atomic>

namespace poselift::model::fast {

namespace {

struct TallyState {
  std::atomic<bool> enabled{false};
  GemmTally tally;  // written only outside parallel regions
};

TallyState& state() {
  static TallyState s;
  return s;
}

}  // namespace

GemmTallyScope::GemmTallyScope() {
  state().tally = GemmTally{};
  state().enabled = true;
}

GemmTallyScope::~GemmTallyScope() { state().enabled = false; }

GemmTally GemmTallyScope::tally() const { return state().tally; }

bool tally_active() { return state().enabled && !at::in_parallel_region(); }

void tally_gemm(double seconds, double flops) {
  state().tally.seconds += seconds;
  state().tally.flops += flops;
}

void tally_phase(const char* phase, double seconds) {
  for (auto& [name, total] : state().tally.phases)
    if (name == phase) {
      total += seconds;
      return;
    }
  state().tally.phases.emplace_back(phase, seconds);
}

}  // namespace poselift::model::fast
