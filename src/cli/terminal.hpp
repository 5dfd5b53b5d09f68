// The CLI's report sink: report lines on stdout, warnings and progress bars on stderr (stdout
// flushed first, so that a log of both keeps their order).
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "report/report.hpp"

namespace poselift::cli {

// A progress bar per piece of work, with rate (seconds per unit below one unit a second) and
// ETA: redrawn in place at most five times a second on a terminal, otherwise one plain line
// per 10% and none repeated.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool terminal);
  void operator()(const report::ProgressUpdate& update);

 private:
  struct Shown;
  bool terminal_;
  std::shared_ptr<std::map<std::uint64_t, Shown>> shown_;
};

// Installs that sink (stderr counts as a terminal when isatty says so).
void install_terminal_sink();

}  // namespace poselift::cli
