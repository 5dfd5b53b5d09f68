// Helpers shared by the data-layer and metrics tests: fixture locations, scratch folders,
// small array builders, and running Debian's numpy Python for independent truth.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "io/ndarray.hpp"
#include "io/pyvalue.hpp"

namespace poselift::test_support {

inline std::string shared_dir() { return POSELIFT_SHARED_DIR; }

// "<shared>/fixtures/<name>/data", or "" when the shared folder is absent.
inline std::string fixture_data_dir(const std::string& fixture) {
  const std::filesystem::path dir = std::filesystem::path(shared_dir()) / "fixtures" / fixture / "data";
  return std::filesystem::exists(dir / "data_3d_h36m.npz") ? dir.string() : std::string();
}

#define POSELIFT_REQUIRE_FIXTURE(var, fixture)                                                   \
  const std::string var = ::poselift::test_support::fixture_data_dir(fixture);                  \
  if (var.empty()) GTEST_SKIP() << "shared fixtures not found under " << POSELIFT_SHARED_DIR     \
                                << " (fixture " << fixture << "); skipping"

// A fresh folder under POSELIFT_TEST_TMP named after the running test.
inline std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir = std::filesystem::path(POSELIFT_TEST_TMP) / "data" /
                                    (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline io::NdArray random_array(std::vector<std::int64_t> shape, std::uint32_t seed, float low = -1.0f,
                                float high = 1.0f) {
  std::int64_t count = 1;
  for (std::int64_t s : shape) count *= s;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> values(static_cast<std::size_t>(count));
  for (float& v : values) v = uniform(rng);
  return io::NdArray::from_vector(std::move(shape), values);
}

inline io::ValuePtr str(const std::string& text) { return io::Value::from_str(text); }

// Debian's interpreter with numpy (the `python3` on PATH may lack numpy).
constexpr const char* kNumpyPython = "/usr/bin/python3";

inline bool numpy_available() {
  static const bool available = [] {
    if (!std::filesystem::exists(kNumpyPython)) return false;
    const std::string command = std::string(kNumpyPython) + " -c 'import numpy' >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }();
  return available;
}

// Runs a Python script with Debian's python3 and returns its standard output.
inline std::string run_python(const std::string& script, const std::string& folder) {
  const std::string path = folder + "/script.py";
  std::ofstream(path) << script;
  const std::string command = std::string(kNumpyPython) + " " + path;
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    std::size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    const int status = pclose(pipe);
    EXPECT_EQ(status, 0) << "python failed: " << script;
  } else {
    ADD_FAILURE() << "cannot run " << command;
  }
  return output;
}

}  // namespace poselift::test_support
