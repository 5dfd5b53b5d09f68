#include "cli/launch.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "runtime/signals.hpp"

namespace poselift::cli {

namespace {


// This process's own arguments, read back from the kernel so the workers run exactly the same
// command (the original's single-dash flags included).
std::vector<std::string> own_arguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string current;
  for (char c : all) {
    if (c == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) args.push_back(current);
  return args;
}

std::vector<std::string> without_nproc(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") {
      ++i;  // its value
      continue;
    }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

}  // namespace

bool launched_as_rank() { return std::getenv("RANK") != nullptr && std::getenv("WORLD_SIZE") != nullptr; }

int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("--nproc: cannot open a socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error(fmt::format("--nproc: cannot find a free port: {}", std::strerror(errno)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string run_self_for_output(const std::vector<std::string>& args,
                                const std::vector<std::pair<std::string, std::string>>& environment) {
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) throw std::runtime_error(fmt::format("pipe failed: {}", std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<std::string> full{"poselift"};
  full.insert(full.end(), args.begin(), args.end());
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
    dup2(pipe_ends[1], STDOUT_FILENO);
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    for (const auto& [name, value] : environment) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : full) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "poselift: cannot start a child process: %s\n", std::strerror(errno));
    _exit(127);
  }
  close(pipe_ends[1]);
  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(pipe_ends[0], buffer, sizeof buffer);
    if (n > 0) {
      output.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(pipe_ends[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(
        fmt::format("child process `poselift {}` {}", fmt::join(args, " "), describe_status(status)));
  return output;
}

int launch_workers(const LaunchOptions& options) {
  if (options.nproc < 1) throw InputError(fmt::format("--nproc {}: expected at least 1", options.nproc));
  if (launched_as_rank())
    throw InputError("--nproc inside a rank (RANK and WORLD_SIZE are set): launch with either torchrun-style "
                     "variables or --nproc, not both");
  const auto args = without_nproc(own_arguments());
  if (args.empty()) throw std::runtime_error("--nproc: cannot read this process's command line");
  const std::string port = std::getenv("MASTER_PORT") ? std::getenv("MASTER_PORT") : std::to_string(free_tcp_port());
  const std::string addr = std::getenv("MASTER_ADDR") ? std::getenv("MASTER_ADDR") : "127.0.0.1";
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = options.threads_per_worker > 0 ? options.threads_per_worker
                                                     : std::max(1, static_cast<int>(cores) / options.nproc);

  // Ctrl-C and SIGTERM are forwarded to the ranks (main() routed them to a waiting thread).
  runtime::enable_stop_requests();

  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids(options.nproc, -1);
  for (int rank = 0; rank < options.nproc; ++rank) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(fmt::format("--nproc: fork failed: {}", std::strerror(errno)));
    if (pid == 0) {
      // The rank starts with SIGINT/SIGTERM blocked (inherited), so none is lost before its
      // main() routes them again.
      setenv("MASTER_ADDR", addr.c_str(), 1);
      setenv("MASTER_PORT", port.c_str(), 1);
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(options.nproc).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(options.nproc).c_str(), 1);
      // Share the cores instead of oversubscribing them (torchrun sets OMP_NUM_THREADS=1).
      setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 0);
      setenv("OPENBLAS_NUM_THREADS", std::to_string(threads).c_str(), 0);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "poselift: --nproc: cannot start rank %d: %s\n", rank, std::strerror(errno));
      _exit(127);
    }
    pids[rank] = pid;
    if (options.verbose)
      std::fprintf(stderr, "poselift: started rank %d of %d as pid %d (MASTER_ADDR=%s MASTER_PORT=%s)\n", rank,
                   options.nproc, static_cast<int>(pid), addr.c_str(), port.c_str());
  }

  using clock = std::chrono::steady_clock;
  int running = options.nproc, first_failure = 0, forwarded = 0;
  // Deadlines; time_point::max() while not armed.
  clock::time_point terminate_at = clock::time_point::max(), kill_at = clock::time_point::max();
  while (running > 0) {
    if (const int sig = runtime::stop_request().load(); sig != 0 && sig != forwarded) {
      forwarded = sig;
      for (pid_t pid : pids)
        if (pid > 0) kill(pid, sig);
    }
    int status = 0;
    const pid_t done = waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      for (int rank = 0; rank < options.nproc; ++rank) {
        if (pids[rank] != done) continue;
        pids[rank] = -1;
        --running;
        const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (failed) {
          // After a forwarded Ctrl-C/SIGTERM the ranks' own interruption messages say it all.
          if (forwarded == 0) std::fprintf(stderr, "poselift: rank %d %s\n", rank, describe_status(status).c_str());
          if (first_failure == 0) {
            first_failure = exit_code(status);
            if (forwarded != 0) terminate_at = clock::now() + std::chrono::seconds(60) +
                                               std::chrono::milliseconds(static_cast<std::int64_t>(options.timeout_seconds * 1000));
            if (running > 0 && forwarded == 0) {
              std::fprintf(stderr, "poselift: waiting up to %.0f s for the other ranks to stop\n",
                           options.timeout_seconds);
              terminate_at = clock::now() + std::chrono::milliseconds(
                                                static_cast<std::int64_t>(options.timeout_seconds * 1000) + 5000);
            }
          }
        }
      }
      continue;
    }
    const auto now = clock::now();
    if (now > terminate_at) {
      std::fprintf(stderr, "poselift: terminating the remaining ranks\n");
      for (pid_t pid : pids)
        if (pid > 0) {
          kill(pid, SIGTERM);
          kill(pid, SIGCONT);  // a stopped rank acts on SIGTERM only once it runs
        }
      terminate_at = clock::time_point::max();
      kill_at = now + std::chrono::seconds(10);
    }
    if (now > kill_at) {
      for (pid_t pid : pids)
        if (pid > 0) kill(pid, SIGKILL);
      kill_at = clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return first_failure;
}

}  // namespace poselift::cli
