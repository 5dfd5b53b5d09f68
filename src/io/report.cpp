#include "io/report.hpp"

#include <mutex>

namespace poselift::report {

namespace {
std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
Sink& warning_sink() {
  static Sink sink;
  return sink;
}
}  // namespace

void set_warning_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  warning_sink() = std::move(sink);
}

void warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (warning_sink()) warning_sink()(message);
}

}  // namespace poselift::report
