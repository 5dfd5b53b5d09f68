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

namespace {

// What every rank's environment says about the job.
struct RankEnvironment {
  std::string addr, port;
  int world_size = 1, threads = 1;
};

// Starts rank `rank` as a copy of this program with `args` and the torchrun-style variables.
pid_t start_rank(const std::vector<std::string>& args, const RankEnvironment& env, int rank) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("--nproc: fork failed: {}", std::strerror(errno)));
  if (pid > 0) return pid;
  // The rank starts with SIGINT/SIGTERM blocked (inherited), so none is lost before its main()
  // routes them again.
  setenv("MASTER_ADDR", env.addr.c_str(), 1);
  setenv("MASTER_PORT", env.port.c_str(), 1);
  setenv("RANK", std::to_string(rank).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(env.world_size).c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", std::to_string(env.world_size).c_str(), 1);
  // Share the cores instead of oversubscribing them (torchrun sets OMP_NUM_THREADS=1).
  setenv("OMP_NUM_THREADS", std::to_string(env.threads).c_str(), 0);
  setenv("OPENBLAS_NUM_THREADS", std::to_string(env.threads).c_str(), 0);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "poselift: --nproc: cannot start rank %d: %s\n", rank, std::strerror(errno));
  _exit(127);
}

// Waits for the ranks: forwards Ctrl-C/SIGTERM to them, and once one fails gives the others the
// communication timeout to notice, then terminates and finally kills what is left.
class RankSupervisor {
 public:
  RankSupervisor(std::vector<pid_t> pids, double timeout_seconds)
      : pids_(std::move(pids)), running_(static_cast<int>(pids_.size())), timeout_seconds_(timeout_seconds) {}

  int wait() {
    while (running_ > 0) {
      forward_stop_request();
      int status = 0;
      const pid_t done = waitpid(-1, &status, WNOHANG);
      if (done > 0) {
        on_exit(done, status);
        continue;
      }
      enforce_deadlines();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return first_failure_;
  }

 private:
  using clock = std::chrono::steady_clock;

  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<std::int64_t>(timeout_seconds_ * 1000));
  }

  void signal_all(int sig) {
    for (pid_t pid : pids_)
      if (pid > 0) kill(pid, sig);
  }

  void forward_stop_request() {
    if (const int sig = runtime::stop_request().load(); sig != 0 && sig != forwarded_) {
      forwarded_ = sig;
      signal_all(sig);
    }
  }

  void on_exit(pid_t done, int status) {
    for (std::size_t rank = 0; rank < pids_.size(); ++rank) {
      if (pids_[rank] != done) continue;
      pids_[rank] = -1;
      --running_;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
      // After a forwarded Ctrl-C/SIGTERM the ranks' own interruption messages say it all.
      if (forwarded_ == 0)
        std::fprintf(stderr, "poselift: rank %d %s\n", static_cast<int>(rank), describe_status(status).c_str());
      if (first_failure_ != 0) continue;
      first_failure_ = exit_code(status);
      if (forwarded_ != 0) terminate_at_ = clock::now() + std::chrono::seconds(60) + timeout();
      if (running_ > 0 && forwarded_ == 0) {
        std::fprintf(stderr, "poselift: waiting up to %.0f s for the other ranks to stop\n", timeout_seconds_);
        terminate_at_ = clock::now() + timeout() + std::chrono::milliseconds(5000);
      }
    }
  }

  void enforce_deadlines() {
    const auto now = clock::now();
    if (now > terminate_at_) {
      std::fprintf(stderr, "poselift: terminating the remaining ranks\n");
      signal_all(SIGTERM);
      signal_all(SIGCONT);  // a stopped rank acts on SIGTERM only once it runs
      terminate_at_ = clock::time_point::max();
      kill_at_ = now + std::chrono::seconds(10);
    }
    if (now > kill_at_) {
      signal_all(SIGKILL);
      kill_at_ = clock::time_point::max();
    }
  }

  std::vector<pid_t> pids_;
  int running_, first_failure_ = 0, forwarded_ = 0;
  double timeout_seconds_;
  // Deadlines; time_point::max() while not armed.
  clock::time_point terminate_at_ = clock::time_point::max(), kill_at_ = clock::time_point::max();
};

}  // namespace

int launch_workers(const LaunchOptions& options) {
  if (options.nproc < 1) throw InputError(fmt::format("--nproc {}: expected at least 1", options.nproc));
  if (launched_as_rank())
    throw InputError("--nproc inside a rank (RANK and WORLD_SIZE are set): launch with either torchrun-style "
                     "variables or --nproc, not both");
  const auto args = without_nproc(own_arguments());
  if (args.empty()) throw std::runtime_error("--nproc: cannot read this process's command line");
  RankEnvironment env;
  env.port = std::getenv("MASTER_PORT") ? std::getenv("MASTER_PORT") : std::to_string(free_tcp_port());
  env.addr = std::getenv("MASTER_ADDR") ? std::getenv("MASTER_ADDR") : "127.0.0.1";
  env.world_size = options.nproc;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  env.threads = options.threads_per_worker > 0 ? options.threads_per_worker
                                               : std::max(1, static_cast<int>(cores) / options.nproc);

  // Ctrl-C and SIGTERM are forwarded to the ranks (main() routed them to a waiting thread).
  runtime::enable_stop_requests();
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids(options.nproc, -1);
  for (int rank = 0; rank < options.nproc; ++rank) {
    pids[rank] = start_rank(args, env, rank);
    if (options.verbose)
      std::fprintf(stderr, "poselift: started rank %d of %d as pid %d (MASTER_ADDR=%s MASTER_PORT=%s)\n", rank,
                   options.nproc, static_cast<int>(pids[rank]), env.addr.c_str(), env.port.c_str());
  }
  return RankSupervisor(std::move(pids), options.timeout_seconds).wait();
}

}  // namespace poselift::cli
