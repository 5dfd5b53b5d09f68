// `--nproc N`: poselift starts N copies of its own command line as the ranks of a one-host
// data-parallel job, with the environment torchrun would give them, and supervises them.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace poselift::cli {

struct LaunchOptions {
  int nproc = 1;
  double timeout_seconds = 300;  // after a rank fails, how long the others get to stop by themselves
  int threads_per_worker = 0;    // 0: the machine's cores divided among the workers
  bool verbose = true;           // report each rank's pid on stderr
};

// Re-runs this process's command line (without --nproc) N times with MASTER_ADDR=127.0.0.1, a
// free MASTER_PORT (unless set), RANK, LOCAL_RANK, WORLD_SIZE. Forwards SIGINT/SIGTERM; when a
// rank fails, the others get `timeout_seconds` to end on their own before being terminated.
// Returns 0 when every rank succeeded, else the first failing rank's status (128+signal when
// killed).
int launch_workers(const LaunchOptions& options);

// Runs this program again with `args` (argv[1...]) and `environment` added, and returns what it
// printed on standard output (its standard error passes through). The child is terminated if
// this process dies. Throws std::runtime_error when it cannot start or does not succeed.
std::string run_self_for_output(const std::vector<std::string>& args,
                                const std::vector<std::pair<std::string, std::string>>& environment);

// True inside a rank started by a launcher (torchrun or --nproc).
bool launched_as_rank();

// A TCP port nobody listens on now (bind to port 0 on the loopback and read it back).
int free_tcp_port();

}  // namespace poselift::cli
