// Ctrl-C and SIGTERM: stop requests for work that can stop part-way, the default action otherwise.
#pragma once

#include <atomic>

namespace poselift::runtime {

// oneDNN's JIT GEMM kernels (the fast path's matrix products; fixed only in oneDNN 3.11, Debian
// has 2.x) point the stack pointer into the heap while they run, so a signal handled on a
// computing thread writes its frame over heap memory (oneDNN issue #4845: "corrupted size vs.
// prev_size" after an early SIGTERM in training). Call this first thing in main(), before any
// thread starts: it blocks SIGINT and SIGTERM in this thread and so in every thread created
// later (OpenMP's, oneDNN's), and starts one thread that waits for them. A signal then becomes a
// stop request when the program asked for those (training), otherwise it ends the process as
// the default action would.
void route_stop_signals();

// From now on SIGINT/SIGTERM set stop_request() instead of ending the process; the work polls it
// (training finishes its step, writes a resumable checkpoint and returns; the launcher forwards it).
void enable_stop_requests();
// Back to ending the process on those signals (work that cannot stop part-way, e.g. train's final
// evaluation); a request already received stays in stop_request().
void disable_stop_requests();
// The signal number received since enable_stop_requests(), 0 if none.
std::atomic<int>& stop_request();

}  // namespace poselift::runtime
