#include "runtime/signals.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

namespace poselift::runtime {

namespace {

std::atomic<bool> g_stop_requests_enabled{false};

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The default action, from any thread (only async-signal-safe calls: also used in a handler).
void end_process_by(int sig) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(sig);  // thread-directed, unblocked, default action: the process ends here
  _exit(128 + sig);
}

void on_signal(int sig) {
  if (g_stop_requests_enabled.load()) {
    stop_request().store(sig);
  } else {
    end_process_by(sig);
  }
}

// Threads that existed before main() (OpenBLAS starts its pool when loaded) still accept the
// signals; they never run oneDNN kernels, so a handler may run there.
extern "C" void on_stop_signal_handler(int sig) { on_signal(sig); }

}  // namespace

std::atomic<int>& stop_request() {
  static std::atomic<int> signal_number{0};
  return signal_number;
}

void route_stop_signals() {
  const sigset_t set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  struct sigaction action {};
  action.sa_handler = on_stop_signal_handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::thread([set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) == 0) on_signal(sig);
    }
  }).detach();
}

void enable_stop_requests() { g_stop_requests_enabled.store(true); }
void disable_stop_requests() { g_stop_requests_enabled.store(false); }

}  // namespace poselift::runtime
