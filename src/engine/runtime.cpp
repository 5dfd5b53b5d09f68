#include "engine/runtime.hpp"

#include <fmt/format.h>
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "io/error.hpp"
#include "io/report.hpp"
#include "model/fast_poseformer.hpp"

namespace poselift::engine {

void keep_freed_memory_in_process() {
  mallopt(M_MMAP_MAX, 0);                 // large blocks from the heap, not fresh mappings
  mallopt(M_TRIM_THRESHOLD, 1 << 30);     // and no shrinking of the heap below 1 GiB free
}

// ---- BLAS kernels ----

namespace {
constexpr const char* kStockBlasCoreVariable = "POSELIFT_STOCK_BLAS_CORE";
}  // namespace

std::string stock_blas_core_name() {
  const char* stock = std::getenv(kStockBlasCoreVariable);
  const std::string current = blas_core_name();
  return stock != nullptr && !current.empty() && current != stock ? stock : "";
}

std::string blas_core_name() {
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core_name != nullptr ? core_name() : nullptr;
  return name != nullptr ? name : "";
}

void use_cpu_specific_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice (or a restart's)
  const std::string core = blas_core_name();
  // OpenBLAS's generic x86-64 fallbacks when it does not recognise the CPU.
  if (core != "Prescott" && core != "Core2" && core != "Penryn" && core != "Nehalem") return;
  const char* wanted = nullptr;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    wanted = "SkylakeX";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    wanted = "Haswell";
  }
#endif
  if (wanted == nullptr) return;
  setenv(kStockBlasCoreVariable, core.c_str(), 1);  // for `bench`, which compares against both
  setenv("OPENBLAS_CORETYPE", wanted, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the slow kernels
}

// ---- signals ----

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

void set_cpu_threads(int threads) {
  torch::set_num_threads(threads);
  using SetThreads = void (*)(int);
  if (auto set_blas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set_blas(threads);
}

int usable_cpu_count() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return 0;
  return CPU_COUNT(&cpus);
}

int default_cpu_threads() {
  if (std::getenv("OMP_NUM_THREADS") != nullptr || std::getenv("MKL_NUM_THREADS") != nullptr) return 0;
  return usable_cpu_count();
}

torch::Device configure_runtime(const RuntimeOptions& options) {
  const auto implementation = model::parse_implementation(options.implementation);
  model::set_default_implementation(implementation);
  const auto precision = model::parse_precision(options.precision);
  if (options.threads < 0) throw InputError(fmt::format("--threads: expected 0 or more, found {}", options.threads));
  int threads = options.threads > 0 ? options.threads : default_cpu_threads();
  // More threads than CPUs only make them wait on each other (and thousands exhaust the system).
  if (const int cpus = usable_cpu_count(); cpus > 0 && threads > cpus) {
    report::warn(fmt::format("--threads {}: this process may use {} CPUs; running {} threads", threads, cpus, cpus));
    threads = cpus;
  }
  if (threads > 0) set_cpu_threads(threads);
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
  if (precision == model::Precision::int8 && (implementation != model::Implementation::fast || !device.is_cpu()))
    throw InputError("--precision int8 is a mode of the CPU fast path: use it with --impl fast on the CPU "
                     "(--device cpu)");
  model::set_inference_precision(precision);
  return device;
}

namespace {
// "batch" for "batches", "frame" for "frames".
std::string singular(const std::string& unit) {
  if (unit.size() > 4 && unit.compare(unit.size() - 4, 4, "ches") == 0) return unit.substr(0, unit.size() - 2);
  if (unit.size() > 1 && unit.back() == 's') return unit.substr(0, unit.size() - 1);
  return unit;
}

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  const auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}
}  // namespace

Progress::Progress(std::string label, std::int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::int64_t n, const std::string& status) {
  done_ += n;
  if (!status.empty()) status_ = status;
  draw(false);
}

void Progress::finish(const std::string& status) {
  if (!status.empty()) status_ = status;
  draw(true);
}

// Below one unit a second the rate reads as seconds per unit ("0.0 batches/s" said nothing).
std::string Progress::rate_text(double elapsed) const {
  if (done_ <= 0 || elapsed <= 0) return "-- " + unit_ + "/s";
  const double rate = done_ / elapsed;
  if (rate >= 1) return fmt::format("{:.1f} {}/s", rate, unit_);
  return fmt::format("{:.1f} s/{}", elapsed / done_, singular(unit_));
}

void Progress::draw(bool final) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done_) / rate : -1.0;
  const double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(done_) / total_) : 1.0;
  if (tty_) {
    if (!final && now - last_draw_ < std::chrono::milliseconds(200)) return;
    const int width = 24, filled = static_cast<int>(fraction * width);
    fmt::print(stderr, "\r{} [{}{}] {}/{} {} | {} | ETA {} {}\x1b[K", label_, std::string(filled, '#'),
               std::string(width - filled, '.'), done_, total_, unit_, rate_text(elapsed), format_duration(eta),
               status_);
    if (final) fmt::print(stderr, "\n");
  } else {
    const int decile = static_cast<int>(fraction * 10);
    if (!final && decile == last_decile_) return;
    // finish() after the advance that printed the 100% line has nothing new to say.
    if (final && done_ == printed_done_ && status_ == printed_status_) return;
    last_decile_ = decile;
    printed_done_ = done_;
    printed_status_ = status_;
    fmt::print(stderr, "{} {:3.0f}% {}/{} {} | {} | elapsed {} ETA {} {}\n", label_, fraction * 100, done_, total_,
               unit_, rate_text(elapsed), format_duration(elapsed), format_duration(final || done_ >= total_ ? 0 : eta),
               status_);
  }
  last_draw_ = now;
}

}  // namespace poselift::engine
