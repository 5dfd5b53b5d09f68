#include "report/report.hpp"

#include <atomic>
#include <mutex>

namespace poselift::report {

namespace {
std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
Sink& installed_sink() {
  static Sink sink;
  return sink;
}
std::atomic<std::uint64_t> g_next_progress_id{1};
}  // namespace

void set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  installed_sink() = std::move(sink);
}

void set_warning_sink(std::function<void(const std::string&)> warning) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  installed_sink().warning = std::move(warning);
}

void warn(const std::string& sentence) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (installed_sink().warning) installed_sink().warning(sentence);
}

void line(const std::string& text) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (installed_sink().line) installed_sink().line(text);
}

Progress::Progress(std::string label, std::int64_t total, std::string unit, bool enabled)
    : enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  state_.id = g_next_progress_id.fetch_add(1);
  state_.label = std::move(label);
  state_.unit = std::move(unit);
  state_.total = total;
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::int64_t n, const std::string& status) {
  state_.done += n;
  if (!status.empty()) state_.status = status;
  send(false);
}

void Progress::finish(const std::string& status) {
  if (!status.empty()) state_.status = status;
  send(true);
}

void Progress::send(bool final) {
  if (!enabled_) return;
  state_.elapsed_seconds = elapsed_seconds();
  state_.final = final;
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (installed_sink().progress) installed_sink().progress(state_);
}

}  // namespace poselift::report
