#include "test_support.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace poselift::test {

namespace fs = std::filesystem;

std::string shared_dir() {
  const char* env = std::getenv("POSELIFT_SHARED");
  const std::string dir = env && *env ? env : POSELIFT_SHARED_DIR;
  return fs::is_directory(dir + "/fixtures") ? dir : "";
}

std::string shared_path(const std::string& relative) {
  const std::string dir = shared_dir();
  return dir.empty() ? "" : dir + "/" + relative;
}

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::path(POSELIFT_TEST_TMP) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer{};
  std::string text;
  while (std::fgets(buffer.data(), buffer.size(), pipe)) text += buffer.data();
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string python_with_numpy() {
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (run_command(std::string(candidate) + " -c 'import numpy' >/dev/null") == 0) return candidate;
  }
  return "";
}

SignalledRun run_signalled_script(const std::string& script, const std::string& log) {
  SignalledRun r;
  std::string out;
  // The script inside single quotes: each ' becomes '\'' (close, escaped quote, reopen).
  std::string quoted;
  for (const char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  run_command("bash -c '" + quoted + "'", &out);
  r.log = read_text(log);
  // The script's last word: "STATUS <exit status> MS <milliseconds after the signal>".
  const std::size_t at = out.rfind("STATUS ");
  int status = -1;
  long milliseconds = -1;
  if (at != std::string::npos && std::sscanf(out.c_str() + at, "STATUS %d MS %ld", &status, &milliseconds) == 2) {
    r.status = status;
    r.seconds_after_signal = static_cast<double>(milliseconds) / 1000;
  } else {
    ADD_FAILURE() << out << "\n" << r.log;
  }
  return r;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace poselift::test
