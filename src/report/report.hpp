// How the library tells the user what it does: warnings, the lines of a run's report (the
// original run_poseformer.py's printed lines) and progress of long work all go to one sink that
// the program installs (the CLI: lines on stdout, warnings and progress bars on stderr). The
// library itself never prints; without a sink everything is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace poselift::report {

// One state of a piece of long work, sent on every step and once more at its end.
struct ProgressUpdate {
  std::uint64_t id = 0;  // distinguishes concurrent pieces of work
  std::string label, unit, status;
  std::int64_t done = 0, total = 0;
  double elapsed_seconds = 0;
  bool final = false;  // the last update of this piece of work
};

struct Sink {
  std::function<void(const std::string& sentence)> warning;  // a sentence without "WARNING:"
  std::function<void(const std::string& line)> line;         // a line of the run's report, no newline
  std::function<void(const ProgressUpdate& update)> progress;
};

// Installs the sink (thread-safe; replaces the previous one).
void set_sink(Sink sink);
// Installs only the warning part, keeping the rest.
void set_warning_sink(std::function<void(const std::string&)> warning);

void warn(const std::string& sentence);
void line(const std::string& text);

// Progress of one piece of work: counts what is done and sends each step to the sink, which
// decides what to draw. Disabled, it sends nothing.
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit, bool enabled = true);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::int64_t n, const std::string& status = "");
  // Sends the final update.
  void finish(const std::string& status = "");
  double elapsed_seconds() const;

 private:
  void send(bool final);
  ProgressUpdate state_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace poselift::report
