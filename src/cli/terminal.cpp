#include "cli/terminal.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace poselift::cli {

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

// Below one unit a second the rate reads as seconds per unit (a rate of "0.0 batches/s" says nothing).
std::string rate_text(const report::ProgressUpdate& u) {
  if (u.done <= 0 || u.elapsed_seconds <= 0) return "-- " + u.unit + "/s";
  const double rate = u.done / u.elapsed_seconds;
  if (rate >= 1) return fmt::format("{:.1f} {}/s", rate, u.unit);
  return fmt::format("{:.1f} s/{}", u.elapsed_seconds / u.done, singular(u.unit));
}

}  // namespace

struct ProgressPrinter::Shown {
  double last_draw_seconds = 0;
  int last_decile = -1;
  std::int64_t printed_done = -1;
  std::string printed_status;
};

ProgressPrinter::ProgressPrinter(bool terminal)
    : terminal_(terminal), shown_(std::make_shared<std::map<std::uint64_t, Shown>>()) {}

void ProgressPrinter::operator()(const report::ProgressUpdate& u) {
  Shown& shown = (*shown_)[u.id];
  const double rate = u.elapsed_seconds > 0 ? u.done / u.elapsed_seconds : 0.0;
  const double eta = rate > 0 ? (u.total - u.done) / rate : -1.0;
  const double fraction = u.total > 0 ? std::min(1.0, static_cast<double>(u.done) / u.total) : 1.0;
  std::fflush(stdout);
  if (terminal_) {
    if (!u.final && u.elapsed_seconds - shown.last_draw_seconds < 0.2) return;
    const int width = 24, filled = static_cast<int>(fraction * width);
    fmt::print(stderr, "\r{} [{}{}] {}/{} {} | {} | ETA {} {}\x1b[K", u.label, std::string(filled, '#'),
               std::string(width - filled, '.'), u.done, u.total, u.unit, rate_text(u), format_duration(eta),
               u.status);
    if (u.final) fmt::print(stderr, "\n");
  } else {
    const int decile = static_cast<int>(fraction * 10);
    if (!u.final && decile == shown.last_decile) return;
    // The final update after the step that printed the 100% line has nothing new to say.
    if (u.final && u.done == shown.printed_done && u.status == shown.printed_status) return;
    shown.last_decile = decile;
    shown.printed_done = u.done;
    shown.printed_status = u.status;
    fmt::print(stderr, "{} {:3.0f}% {}/{} {} | {} | elapsed {} ETA {} {}\n", u.label, fraction * 100, u.done, u.total,
               u.unit, rate_text(u), format_duration(u.elapsed_seconds),
               format_duration(u.final || u.done >= u.total ? 0 : eta), u.status);
  }
  shown.last_draw_seconds = u.elapsed_seconds;
  if (u.final) shown_->erase(u.id);
}

void install_terminal_sink() {
  report::Sink sink;
  sink.warning = [](const std::string& sentence) {
    std::fflush(stdout);
    fmt::print(stderr, "WARNING: {}\n", sentence);
  };
  sink.line = [](const std::string& text) { fmt::print("{}\n", text); };
  sink.progress = ProgressPrinter(isatty(fileno(stderr)) != 0);
  report::set_sink(std::move(sink));
}

}  // namespace poselift::cli
