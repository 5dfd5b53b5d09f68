// Helpers shared by the test executables.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace poselift::test {

// ../shared beside the checkout (or $POSELIFT_SHARED); empty when absent.
std::string shared_dir();
// Path below shared_dir(), or "" when the shared folder is absent.
std::string shared_path(const std::string& relative);
// A fresh empty folder for one test's files.
std::string temp_dir(const std::string& name);
// Runs a shell command, returning its exit status and capturing stdout+stderr.
int run_command(const std::string& command, std::string* output = nullptr);
// Debian's python3 when it has numpy (for independent truth); "" otherwise.
std::string python_with_numpy();
std::string read_text(const std::string& path);

// A command stopped by a signal: its exit status, the seconds from the signal to its end, its log.
struct SignalledRun {
  int status = -1;
  double seconds_after_signal = -1;
  std::string log;
};
// Runs a bash `script` that sends the signal and ends by printing "STATUS <exit status> MS
// <milliseconds from the signal to the end>"; `log` is the file the command wrote. A script that
// prints no such line is a test failure.
SignalledRun run_signalled_script(const std::string& script, const std::string& log);

}  // namespace poselift::test

#define POSELIFT_REQUIRE_SHARED()                                                              \
  do {                                                                                         \
    if (::poselift::test::shared_dir().empty())                                                \
      GTEST_SKIP() << "../shared (fixtures) is absent: parity test skipped";                   \
  } while (0)
