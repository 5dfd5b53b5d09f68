// Data-parallel training over c10d (Gloo on loopback): equality with a single process, evaluation
// parity, resume with another world size, and failures that end cleanly.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "engine/distributed.hpp"
#include "engine/evaluate.hpp"
#include "engine/train.hpp"
#include "model/checkpoint.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

// The dataset `poselift prepare synthetic --seconds 1` makes, made once per build folder (the
// training tests share it): nothing from ../shared is needed.
std::string synthetic_data_dir() {
  const fs::path dir = fs::path(POSELIFT_TEST_TMP) / "synthetic_1s";
  if (fs::is_directory(dir)) return dir.string();
  // Made beside it and renamed whole: tests running in parallel never see half a dataset.
  const fs::path tmp = dir.string() + ".tmp" + std::to_string(getpid());
  fs::remove_all(tmp);
  std::string out;
  const int status =
      test::run_command(std::string(POSELIFT_CLI) + " prepare synthetic --out " + tmp.string() + " --seconds 1", &out);
  EXPECT_EQ(status, 0) << out;
  std::error_code ec;
  if (status == 0) fs::rename(tmp, dir, ec);
  if (status != 0 || ec) fs::remove_all(tmp);  // failed, or another test made it first
  return dir.string();
}

// A small model, no stochastic depth (per-rank random masks would make the runs differ),
// deterministic single-thread ranks.
std::string common_args(const std::string& data_dir) {
  return " -d synthetic -k gt -f 9 --width 8 --depth 2 --heads 2 -str S1,S5 -ste S9,S11 --downsample 10 "
         "--drop-path 0 --torch-seed 5 --learning-rate 1e-3 --checkpoint-frequency 1 --no-progress --threads 1 "
         "--data-dir " + data_dir;
}

std::vector<torch::Tensor> weights_of(const std::string& path) {
  std::vector<torch::Tensor> out;
  for (const auto& kv : model::read_checkpoint(path).model_state) out.push_back(kv.second);
  return out;
}

// L2 norm of the difference of all weights. (A maximum would be dominated by the few weights
// whose gradients are near zero: Adam divides by their tiny running RMS, so float rounding in
// the gradient sum moves them by up to a learning rate per step.)
double weights_distance(const std::string& a_path, const std::string& b_path) {
  auto a = weights_of(a_path), b = weights_of(b_path);
  EXPECT_EQ(a.size(), b.size());
  double squares = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    squares += (a[i] - b[i]).to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(squares);
}

std::string run(const std::string& args, int expected_status = 0) {
  std::string out;
  const int status = test::run_command(std::string(POSELIFT_CLI) + " train" + args, &out);
  EXPECT_EQ(status, expected_status) << args << "\n" << out;
  return out;
}

// The "[1] time ... 3d_eval X 3d_valid Y" figures printed for `epoch`.
std::pair<double, double> printed_evaluation(const std::string& out, int epoch) {
  std::smatch m;
  const std::regex line("\\[" + std::to_string(epoch) + "\\] time \\S+ lr \\S+ 3d_train \\S+ 3d_eval (\\S+) 3d_valid (\\S+)");
  if (!std::regex_search(out, m, line)) {
    ADD_FAILURE() << "no epoch line in:\n" << out;
    return {NAN, NAN};
  }
  return {std::stod(m[1]), std::stod(m[2])};
}

}  // namespace

TEST(DataParallel, BalanceItemsIsDeterministicAndCoversAll) {
  // Greedy largest-first: 9 -> r0, 7 -> r1, 5 -> r1 (7+5=12 vs 9? no: r1 has 7 < 9), ...
  const auto owner = engine::balance_items({5, 9, 7, 1, 3}, 2);
  // Loads: 9 (r0), 7 (r1), 5 -> r1 (7 < 9) = 12, 3 -> r0 = 12, 1 -> r0 (tie: lowest rank) = 13.
  EXPECT_EQ(owner, (std::vector<int>{1, 0, 1, 0, 0}));
  EXPECT_EQ(engine::balance_items({4, 4}, 1), (std::vector<int>{0, 0}));
}

TEST(DataParallel, TwoRanksEqualOneProcessWithDoubleBatchAndResumeOnOneProcess) {
  ASSERT_TRUE(engine::distributed_available()) << "built without c10d";
  const std::string data_dir = synthetic_data_dir();
  const std::string one = test::temp_dir("dp_one"), two = test::temp_dir("dp_two"), half = test::temp_dir("dp_half"),
                    resumed = test::temp_dir("dp_resumed");
  const auto t0 = std::chrono::steady_clock::now();
  // -b 100 over a 2-rank job is 200 frames per step; 640 examples (64 sequences of 5 frames,
  // flipped too): the epoch's last step has 40 for rank 0 and none for rank 1.
  const std::string args = common_args(data_dir);
  const std::string out_one = run(args + " -b 200 -e 2 -c " + one);
  const std::string out_two = run(args + " -b 100 -e 1 --nproc 2 --check-every 3 -c " + two);
  EXPECT_NE(out_two.find("data-parallel training on 2 processes (gloo)"), std::string::npos) << out_two;

  // Same weights as one process with the doubled batch, within float rounding (the model's
  // weights have an L2 norm of about 40; an epoch moves them by about 1; measured: 5.6e-5; the
  // control below: 0.71).
  const double tolerance = 1e-2;
  const double diff = weights_distance(one + "/epoch_1.bin", two + "/epoch_1.bin");
  std::printf("|w(2 ranks x 100) - w(1 process x 200)| after 1 epoch: %.3g\n", diff);
  EXPECT_LT(diff, tolerance);
  // Control: a single process with the per-rank batch trains differently, far beyond the tolerance.
  run(args + " -b 100 -e 1 --no-eval -c " + half);
  const double control = weights_distance(half + "/epoch_1.bin", two + "/epoch_1.bin");
  std::printf("control, 1 process x 100 vs 2 ranks x 100: %.3g\n", control);
  EXPECT_GT(control, 30 * tolerance);

  // Sharded evaluation prints what one process computes for those weights.
  const auto [train_eval, valid] = printed_evaluation(out_two, 1);
  {
    // The ranks ran with one thread, OpenBLAS's included (its threads split products differently).
    const int threads = torch::get_num_threads();
    torch::set_num_threads(1);
    auto set_blas_threads = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    auto get_blas_threads = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    const int blas_threads = get_blas_threads ? get_blas_threads() : 0;
    if (set_blas_threads) set_blas_threads(1);
    auto dataset = data::load_dataset("synthetic", data_dir, "gt");
    auto keypoints = data::load_keypoints(dataset, data_dir, "gt");
    auto net = model::load_poseformer(two + "/epoch_1.bin", 2, true);
    data::FetchOptions fetch;
    fetch.downsample = 10;
    const auto symmetry = engine::flip_symmetry(dataset, keypoints);
    auto v = data::fetch(dataset, keypoints, {"S9", "S11"}, fetch);
    auto t = data::fetch(dataset, keypoints, {"S1", "S5"}, fetch);
    engine::PredictOptions with_tta, without_tta;
    without_tta.test_time_augmentation = false;
    const double want_valid = engine::sequences_mpjpe(*net, v.poses_2d, v.poses_3d, symmetry, with_tta, torch::kCPU);
    const double want_train = engine::sequences_mpjpe(*net, t.poses_2d, t.poses_3d, symmetry, without_tta, torch::kCPU);
    torch::set_num_threads(threads);
    if (set_blas_threads && blas_threads > 0) set_blas_threads(blas_threads);
    // Within float rounding: each rank batches other windows together than one process does,
    // and oneDNN's GEMM rounds a row differently with the rows around it (~1e-7 relative per
    // pose; measured: up to 5e-6 mm on these means of ~250 mm). The per-sequence errors are
    // reduced so that their sum is bit-identical to one process's (see sequences_mpjpe).
    EXPECT_NEAR(valid, want_valid * 1000, 1e-7 * want_valid * 1000 + 1.5e-6);
    EXPECT_NEAR(train_eval, want_train * 1000, 1e-7 * want_train * 1000 + 1.5e-6);
    std::printf("printed 3d_eval %.6f / 3d_valid %.6f, one process: %.9f / %.9f\n", train_eval, valid,
                want_train * 1000, want_valid * 1000);
  }

  // Resume the 2-rank checkpoint on one process (batch 200): same as the straight run.
  fs::copy_file(two + "/epoch_1.bin", resumed + "/epoch_1.bin");
  run(args + " -b 200 -e 2 -r epoch_1.bin -c " + resumed);
  const double resumed_diff = weights_distance(one + "/epoch_2.bin", resumed + "/epoch_2.bin");
  std::printf("|w| difference after resuming on 1 process: %.3g\n", resumed_diff);
  EXPECT_LT(resumed_diff, 2 * tolerance);
  std::printf("test took %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

namespace {

// Starts a 2-rank run in the background, waits for its first checkpoint, sends `signal` to rank
// 1 and measures how long the job takes to end.
test::SignalledRun fail_rank_one(const std::string& dir, const std::string& signal, int timeout_seconds) {
  const std::string data_dir = synthetic_data_dir();
  const std::string log = dir + "/log.txt";
  const std::string script =
      std::string(POSELIFT_CLI) + " train" + common_args(data_dir) + " -b 64 -e 100000 --max-batches 4 --no-eval " +
      "--nproc 2 --dist-timeout " + std::to_string(timeout_seconds) + " -c " + dir + " > " + log + " 2>&1 & job=$!; " +
      "for i in $(seq 1200); do [ -f " + dir + "/epoch_1.bin ] && break; sleep 0.05; done; " +
      "pid=$(sed -n 's/.*started rank 1 of 2 as pid \\([0-9]*\\).*/\\1/p' " + log + "); " +
      "start=$(date +%s%N); kill -" + signal + " $pid; wait $job; status=$?; end=$(date +%s%N); " +
      "echo \"STATUS $status MS $(( (end - start) / 1000000 ))\"";
  return test::run_signalled_script(script, log);
}

void expect_checkpoints_loadable(const std::string& dir) {
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin") continue;
    EXPECT_NO_THROW(model::read_checkpoint(entry.path().string())) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 1);
}

}  // namespace

TEST(DataParallel, KilledRankEndsTheJobWithClearErrorAndLoadableCheckpoints) {
  ASSERT_TRUE(engine::distributed_available()) << "built without c10d";
  const std::string dir = test::temp_dir("dp_kill");
  const auto r = fail_rank_one(dir, "KILL", 60);
  std::printf("rank 1 killed: job ended %.2f s later with status %d\n", r.seconds_after_signal, r.status);
  EXPECT_NE(r.status, 0) << r.log;
  // A dead peer closes its sockets: rank 0 notices at once, far inside --dist-timeout.
  EXPECT_LT(r.seconds_after_signal, 30) << r.log;
  EXPECT_NE(r.log.find("rank 1 was killed by signal 9"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("rank 0 of 2:"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("the last checkpoint written is"), std::string::npos) << r.log;
  expect_checkpoints_loadable(dir);
}

TEST(DataParallel, HungRankTimesOutWithinDistTimeout) {
  ASSERT_TRUE(engine::distributed_available()) << "built without c10d";
  const std::string dir = test::temp_dir("dp_hang");
  const int timeout = 4;
  const auto r = fail_rank_one(dir, "STOP", timeout);  // alive but silent: only the timeout can tell
  std::printf("rank 1 stopped: job ended %.2f s later with status %d\n", r.seconds_after_signal, r.status);
  EXPECT_NE(r.status, 0) << r.log;
  // Rank 0 fails after --dist-timeout; the launcher then gives rank 1 timeout + 5 s and terminates it.
  EXPECT_GT(r.seconds_after_signal, timeout - 1) << r.log;
  EXPECT_LT(r.seconds_after_signal, 2 * timeout + 5 + 12) << r.log;
  EXPECT_NE(r.log.find("rank 0 of 2:"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("--dist-timeout"), std::string::npos) << r.log;
  expect_checkpoints_loadable(dir);
}
