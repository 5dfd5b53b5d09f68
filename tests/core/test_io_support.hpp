// Helpers shared by the I/O tests: per-test scratch folders, the shared fixtures folder and a
// NumPy-capable Python (Debian's /usr/bin/python3) that produces independent ground truth.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "io/error.hpp"

namespace poselift::io::testing {

namespace fs = std::filesystem;

inline const char* kPython = "/usr/bin/python3";

inline std::string shared_fixtures() { return std::string(POSELIFT_SHARED_DIR) + "/fixtures"; }

// A fresh folder named after the running test (tests may run in parallel under ctest).
inline std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(POSELIFT_TEST_TMP) / (std::string("io.") + info->test_suite_name() + "." + info->name());
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  fs::create_directories(dir);
  return dir.string();
}

inline std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline bool numpy_available() {
  static const bool available =
      std::system((std::string(kPython) + " -c 'import numpy' > /dev/null 2>&1").c_str()) == 0;
  return available;
}

// Runs `script` with NumPy's Python inside `dir` (where `sys` and `os` are imported and the
// name FIXTURES holds the fixtures folder); returns its standard output, fails the test on error.
inline std::string run_python(const std::string& dir, const std::string& script) {
  const std::string script_path = dir + "/script.py";
  const std::string out_path = dir + "/script.out";
  const std::string err_path = dir + "/script.err";
  write_text(script_path, "import os, sys\nos.chdir(r'" + dir + "')\nFIXTURES = r'" + shared_fixtures() + "'\n" +
                              script);
  const int status = std::system((std::string(kPython) + " '" + script_path + "' > '" + out_path + "' 2> '" +
                                  err_path + "'").c_str());
  EXPECT_EQ(status, 0) << "python failed:\n" << read_text(out_path) << read_text(err_path);
  return read_text(out_path);
}

#define POSELIFT_REQUIRE_NUMPY()                                                                  \
  do {                                                                                            \
    if (!::poselift::io::testing::numpy_available())                                              \
      GTEST_SKIP() << "needs /usr/bin/python3 with numpy (apt-get install python3-numpy)";        \
  } while (0)

// Expects `statement` to throw InputError whose message contains every fragment.
#define EXPECT_INPUT_ERROR(statement, ...)                                                        \
  do {                                                                                            \
    try {                                                                                         \
      statement;                                                                                  \
      ADD_FAILURE() << "expected InputError from: " #statement;                                   \
    } catch (const ::poselift::InputError& error) {                                               \
      const std::string message = error.what();                                                   \
      for (const std::string& fragment : std::vector<std::string>{__VA_ARGS__})                   \
        EXPECT_NE(message.find(fragment), std::string::npos)                                      \
            << "message lacks '" << fragment << "': " << message;                                 \
      EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message; \
    }                                                                                             \
  } while (0)

}  // namespace poselift::io::testing
