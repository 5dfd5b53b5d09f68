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

}  // namespace poselift::test

#define POSELIFT_REQUIRE_SHARED()                                                              \
  do {                                                                                         \
    if (::poselift::test::shared_dir().empty())                                                \
      GTEST_SKIP() << "../shared (fixtures) is absent: parity test skipped";                   \
  } while (0)
