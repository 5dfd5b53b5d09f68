// Training: numpy-compatible shuffling, learning, exact resume, crash safety.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "engine/evaluate.hpp"
#include "engine/numpy_random.hpp"
#include "engine/train.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

TEST(NumpyRandom, PermutationEqualsNumpyRandomState1234) {
  // np.random.RandomState(1234).permutation(10), computed by numpy 1.24.
  engine::NumpyRandomState rng(1234);
  EXPECT_EQ(rng.permutation(10), (std::vector<std::int64_t>{7, 2, 9, 1, 0, 8, 4, 5, 6, 3}));
  // First raw outputs of MT19937 seeded with 5489 (the reference implementation's default).
  engine::NumpyRandomState reference(5489);
  EXPECT_EQ(reference.next_uint32(), 3499211612u);
  EXPECT_EQ(reference.next_uint32(), 581869302u);
}

TEST(NumpyRandom, StateRoundTripsThroughPickleAndNumpy) {
  engine::NumpyRandomState rng(1234);
  rng.permutation(1000);
  auto value = rng.to_value();
  auto restored = engine::NumpyRandomState::from_value(*value, "state");
  EXPECT_TRUE(restored == rng);
  EXPECT_EQ(restored.permutation(50), rng.permutation(50));

  // numpy unpickles the state we write and continues the same stream.
  const std::string python = test::python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "python3 with numpy absent: numpy interop check skipped";
  engine::NumpyRandomState fresh(1234);
  fresh.permutation(1000);
  const std::string dir = test::temp_dir("numpy_random");
  io::NpzMember member;
  member.name = "state";
  member.object = fresh.to_value();
  io::write_npz(dir + "/state.npz", {member});
  const auto expected = fresh.permutation(20);
  std::string out;
  ASSERT_EQ(test::run_command(python + " -c \"import numpy as np; r = np.load('" + dir +
                                  "/state.npz', allow_pickle=True)['state'].item(); "
                                  "print(' '.join(map(str, r.permutation(20))))\"",
                              &out),
            0)
      << out;
  std::string want;
  for (auto v : expected) want += (want.empty() ? "" : " ") + std::to_string(v);
  EXPECT_EQ(out.substr(0, out.find('\n')), want);
}

namespace {

struct TinyData {
  data::MocapDataset dataset;
  data::Keypoints keypoints;
};

TinyData load_tiny(const std::string& keypoints_name = "gt") {
  const std::string dir = test::shared_path("fixtures/poseformer-tiny/data");
  TinyData d{data::load_dataset("h36m", dir, keypoints_name), {}};
  d.keypoints = data::load_keypoints(d.dataset, dir, keypoints_name);
  return d;
}

engine::TrainSetup small_setup(const TinyData& d, const std::string& checkpoint_dir) {
  engine::TrainSetup s;
  s.dataset = &d.dataset;
  s.keypoints = &d.keypoints;
  s.data.subjects_train = "S1,S5";
  s.data.subjects_test = "S9,S11";
  s.model.frames = 9;
  s.model.embed_dim_ratio = 8;
  s.model.depth = 2;
  s.model.heads = 2;  // 4-wide heads: small heads are slow on the CPU
  s.train.checkpoint_dir = checkpoint_dir;
  s.train.batch_size = 128;
  s.train.learning_rate = 1e-3;
  s.train.progress = false;
  s.train.checkpoint_frequency = 1;
  return s;
}

std::vector<torch::Tensor> weights_of(const std::string& path) {
  std::vector<torch::Tensor> out;
  for (const auto& kv : model::read_checkpoint(path).model_state) out.push_back(kv.second);
  return out;
}

}  // namespace

TEST(Training, LearnsOnFixtureData) {
  POSELIFT_REQUIRE_SHARED();
  auto d = load_tiny();
  auto setup = small_setup(d, test::temp_dir("learns"));
  setup.train.epochs = 4;
  setup.train.max_batches_per_epoch = 40;

  // The starting point: the same initial weights (same seed, same construction) before any step.
  torch::manual_seed(0);
  model::PoseFormer untrained(engine::training_model_config(setup.model, d.keypoints.metadata.num_joints));
  data::FetchOptions fetch_options;
  auto valid = data::fetch(d.dataset, d.keypoints, {"S9", "S11"}, fetch_options);
  const double start = engine::sequences_mpjpe(untrained, valid.poses_2d, valid.poses_3d,
                                               engine::flip_symmetry(d.dataset, d.keypoints), {}, torch::kCPU);

  torch::manual_seed(0);
  model::PoseFormer trained{nullptr};
  auto result = engine::train_poseformer(setup, &trained);
  ASSERT_EQ(result.outcome, engine::TrainOutcome::Completed);
  ASSERT_EQ(result.history.size(), 4u);
  const double last_valid = result.history.back().loss_valid;
  std::printf("validation MPJPE: %.1f mm before training, %.1f mm after 4 epochs of 40 steps\n", start * 1000,
              last_valid * 1000);
  EXPECT_LT(last_valid, 0.5 * start);
  EXPECT_TRUE(fs::exists(setup.train.checkpoint_dir + "/best_epoch.bin"));
  EXPECT_TRUE(fs::exists(setup.train.checkpoint_dir + "/epoch_4.bin"));
}

TEST(Training, ResumeContinuesBitForBit) {
  POSELIFT_REQUIRE_SHARED();
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);  // deterministic single-thread mode
  auto d = load_tiny();
  const std::string straight = test::temp_dir("resume_straight"), split = test::temp_dir("resume_split");
  {
    torch::manual_seed(42);
    auto setup = small_setup(d, straight);
    setup.train.epochs = 2;
    setup.train.max_batches_per_epoch = 6;
    setup.train.no_eval = true;
    ASSERT_EQ(engine::train_poseformer(setup).outcome, engine::TrainOutcome::Completed);
  }
  {
    torch::manual_seed(42);
    auto setup = small_setup(d, split);
    setup.train.epochs = 1;
    setup.train.max_batches_per_epoch = 6;
    setup.train.no_eval = true;
    ASSERT_EQ(engine::train_poseformer(setup).outcome, engine::TrainOutcome::Completed);
    torch::manual_seed(999);  // the resumed run must not depend on the process's RNG
    setup.train.epochs = 2;
    setup.train.resume = "epoch_1.bin";
    ASSERT_EQ(engine::train_poseformer(setup).outcome, engine::TrainOutcome::Completed);
  }
  torch::set_num_threads(threads);
  auto a = weights_of(straight + "/epoch_2.bin"), b = weights_of(split + "/epoch_2.bin");
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
  auto ca = model::read_checkpoint(straight + "/epoch_2.bin"), cb = model::read_checkpoint(split + "/epoch_2.bin");
  EXPECT_EQ(ca.epoch, cb.epoch);
  EXPECT_DOUBLE_EQ(ca.lr.value(), cb.lr.value());
}

TEST(Training, NonFiniteLossStopsWithMessage) {
  POSELIFT_REQUIRE_SHARED();
  auto d = load_tiny();
  // Poison one training frame.
  for (auto& subject : d.keypoints.subjects)
    if (subject.name == "S1") subject.actions.front().cameras.front().data<float>()[0] = NAN;
  auto setup = small_setup(d, test::temp_dir("nan"));
  setup.train.epochs = 1;
  setup.train.no_eval = true;
  setup.train.data_augmentation = false;
  auto result = engine::train_poseformer(setup);
  EXPECT_EQ(result.outcome, engine::TrainOutcome::Diverged);
  EXPECT_NE(result.message.find("nan"), std::string::npos) << result.message;
}

TEST(TrainingCli, SignalsDuringMatrixProductsLeaveTheHeapIntact) {
  // oneDNN 2.x's JIT GEMM kernels move the stack pointer into the heap: a signal handled on a
  // computing thread wrote its frame there ("corrupted size vs. prev_size" in 5 to 7 of 10 runs
  // SIGTERMed early). Signals now go to a thread of their own. A burst of SIGTERMs while the
  // step finishes and the checkpoint is written lands many of them inside matrix products.
  POSELIFT_REQUIRE_SHARED();
  const std::string data_dir = test::shared_path("fixtures/poseformer-tiny/data");
  const std::string cli = POSELIFT_CLI;
  for (int run = 0; run < 3; ++run) {
    const std::string dir = test::temp_dir("sigterm_burst" + std::to_string(run));
    const std::string log = dir + "/log.txt";
    const std::string command = cli + " -k gt -f 9 --width 8 --depth 2 --heads 2 -str S1,S5 -ste S9,S11 -b 64 -e 50 "
                                "--no-eval --data-dir " + data_dir + " -c " + dir + " >" + log + " 2>&1";
    // The burst starts 0.3, 0.8 and 1.3 s after the first epoch's progress line (training runs).
    const std::string script =
        "bash -c '" + command + " & pid=$!; for i in $(seq 1200); do grep -q \"epoch 1/\" " + log +
        " && break; sleep 0.05; done; sleep 0." + std::to_string(3 + 5 * (run % 2)) + (run == 2 ? "; sleep 1" : "") +
        "; for i in $(seq 200); do kill -TERM $pid 2>/dev/null || break; sleep 0.002; done; wait $pid; status=$?; "
        "cat " + log + "; exit $status'";
    std::string out;
    EXPECT_EQ(test::run_command(script, &out), 143) << out;
    EXPECT_NE(out.find("interrupted.bin"), std::string::npos) << out;
    EXPECT_NO_THROW(model::read_checkpoint(dir + "/interrupted.bin"));
  }
}

TEST(TrainingCli, SigtermWritesResumableCheckpointAndKillLeavesLoadableFiles) {
  POSELIFT_REQUIRE_SHARED();
  const std::string data_dir = test::shared_path("fixtures/poseformer-tiny/data");
  const std::string dir = test::temp_dir("sigterm");
  const std::string cli = POSELIFT_CLI;
  const std::string args = " -k gt -f 9 --width 8 --depth 2 --heads 2 -str S1,S5 -ste S9,S11 -b 64 -e 50 --no-eval "
                           "--checkpoint-frequency 1 --no-progress --data-dir " + data_dir + " -c " + dir;
  // SIGTERM after a few seconds: finish the step, write interrupted.bin, exit 128+15.
  std::string out;
  // --preserve-status: report the program's own exit status, not timeout's 124.
  const int status = test::run_command("timeout --preserve-status -s TERM 10 " + cli + args, &out);
  EXPECT_EQ(status, 143) << out;
  EXPECT_NE(out.find("interrupted.bin"), std::string::npos) << out;
  auto ck = model::read_checkpoint(dir + "/interrupted.bin");
  EXPECT_TRUE(ck.optimizer != nullptr);

  // kill -9 at an arbitrary moment: every checkpoint on disk stays loadable (atomic writes).
  const std::string dir9 = test::temp_dir("sigkill");
  test::run_command("timeout -s KILL 5 " + cli + args.substr(0, args.find(" -c ")) + " -c " + dir9, &out);
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(dir9)) {
    if (entry.path().extension() != ".bin") continue;  // a write cut short stays a temporary file
    EXPECT_NO_THROW(model::read_checkpoint(entry.path().string())) << entry.path();
    ++loaded;
  }
  std::printf("checkpoints present after kill -9: %d\n", loaded);
}
