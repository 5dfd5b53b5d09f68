// Training the other families with their originals' recipes: VideoPose3D (Adam with AMSGrad,
// BatchNorm momentum decay, the strided training form, the trajectory model with its weighted
// loss) and PoseFormerV2 learn, resume bit for bit, and write checkpoints in their originals'
// layout that PyTorch's optimizer and model code take back.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "engine/evaluate.hpp"
#include "engine/train.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/registry.hpp"
#include "runtime/threads.hpp"
#include "test_support.hpp"
#include "wild/export.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

// The built-in synthetic data (one second per take), made once per build folder.
std::string synthetic_dir() {
  const fs::path dir = fs::path(POSELIFT_TEST_TMP) / "synthetic_families_1s";
  if (fs::is_directory(dir)) return dir.string();
  const fs::path tmp = dir.string() + ".tmp";
  fs::remove_all(tmp);
  std::string out;
  EXPECT_EQ(test::run_command(fmt::format("{} prepare synthetic --out {} --seconds 1", POSELIFT_CLI, tmp.string()), &out),
            0)
      << out;
  fs::rename(tmp, dir);
  return dir.string();
}

struct Data {
  data::MocapDataset dataset;
  data::Keypoints keypoints;
};

Data load_data() {
  const std::string dir = synthetic_dir();
  Data d{data::load_dataset("synthetic", dir, "gt"), {}};
  d.keypoints = data::load_keypoints(d.dataset, dir, "gt");
  return d;
}

engine::TrainSetup setup_for(const Data& d, const std::string& family, const std::string& dir) {
  engine::TrainSetup s;
  s.dataset = &d.dataset;
  s.keypoints = &d.keypoints;
  s.data.subjects_train = {"S1", "S5"};
  s.data.subjects_test = {"S9", "S11"};
  s.model.family = family;
  s.model.heads = 2;
  const auto recipe = engine::training_recipe(model::family_from_name(family));
  s.train.learning_rate = recipe.learning_rate;
  s.train.lr_decay = recipe.lr_decay;
  s.model.dropout = recipe.dropout;
  if (family == "videopose3d") {
    s.model.architecture = "3,3";
    s.model.channels = 32;
  } else {
    s.model.frames = 9;
    s.model.frames_kept = 3;
    s.model.coefficients_kept = 3;
    s.model.embed_dim_ratio = 8;
    s.model.depth = 1;
    s.train.learning_rate = 1e-3;
  }
  s.train.checkpoint_dir = dir;
  s.train.batch_size = 128;
  s.train.checkpoint_frequency = 1;
  s.progress = false;
  return s;
}

void expect_same_state(const model::StateDict& a, const model::StateDict& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first) << what;
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << what << " " << a[i].first;
  }
}

// Two epochs straight and one plus a resumed one (with another process seed) give the same
// weights, BatchNorm statistics, trajectory model and optimizer step counts.
void expect_exact_resume(const Data& d, const std::string& family, bool trajectory) {
  runtime::CpuThreadScope single(1);
  const std::string straight = test::temp_dir(family + "_straight"), split = test::temp_dir(family + "_split");
  auto run = [&](const std::string& dir, int epochs, const std::string& resume) {
    auto s = setup_for(d, family, dir);
    s.train.epochs = epochs;
    s.train.max_batches_per_epoch = 4;
    s.train.no_eval = true;
    s.train.trajectory = trajectory;
    s.train.resume = resume;
    ASSERT_EQ(engine::train_model(s).outcome, engine::TrainOutcome::Completed);
  };
  torch::manual_seed(3);
  run(straight, 2, "");
  torch::manual_seed(3);
  run(split, 1, "");
  torch::manual_seed(77);  // the resumed run must not depend on the process's generator
  {
    auto s = setup_for(d, family, split);
    s.train.epochs = 2;
    s.train.max_batches_per_epoch = 4;
    s.train.no_eval = true;
    s.train.resume = "epoch_1.bin";
    ASSERT_EQ(engine::train_model(s).outcome, engine::TrainOutcome::Completed);  // model_traj resumes by itself
  }
  const auto a = model::read_checkpoint(straight + "/epoch_2.bin"), b = model::read_checkpoint(split + "/epoch_2.bin");
  expect_same_state(a.model_state, b.model_state, family + " model_pos");
  expect_same_state(a.trajectory_state, b.trajectory_state, family + " model_traj");
  EXPECT_EQ(trajectory, !a.trajectory_state.empty());
  EXPECT_DOUBLE_EQ(*a.lr, *b.lr);
  // Control: the comparison tells different runs apart.
  const auto first = model::read_checkpoint(straight + "/epoch_1.bin");
  double moved = 0;
  for (std::size_t i = 0; i < first.model_state.size(); ++i)
    moved += (first.model_state[i].second.to(torch::kFloat64) - a.model_state[i].second.to(torch::kFloat64))
                 .abs()
                 .sum()
                 .item<double>();
  EXPECT_GT(moved, 0.0);
}

}  // namespace

TEST(FamilyTraining, VideoPose3DLearnsWithItsRecipe) {
  auto d = load_data();
  auto s = setup_for(d, "videopose3d", test::temp_dir("vp3d_learns"));
  s.train.epochs = 3;
  s.train.max_batches_per_epoch = 30;
  s.train.trajectory = true;
  torch::manual_seed(5);
  model::Lifter trained, trajectory;
  const auto result = engine::train_model(s, &trained, &trajectory);
  ASSERT_EQ(result.outcome, engine::TrainOutcome::Completed);
  ASSERT_EQ(result.history.size(), 3u);
  ASSERT_TRUE(trained && trajectory);
  EXPECT_EQ(trained->family(), model::Family::VideoPose3D);
  EXPECT_EQ(trajectory->output_joints(), 1);
  // The untrained model of the same seed, evaluated as the loop evaluates (no flipping).
  torch::manual_seed(5);
  const auto untrained = model::make_lifter(engine::training_model_spec(s.model, d.keypoints.metadata.num_joints));
  auto valid = data::fetch(d.dataset, d.keypoints, {"S9", "S11"}, {});
  engine::PredictOptions plain;
  plain.test_time_augmentation = false;
  const double start = engine::sequences_mpjpe(*untrained, valid.poses_2d, valid.poses_3d,
                                               engine::flip_symmetry(d.dataset, d.keypoints), plain, torch::kCPU);
  const auto& last = result.history.back();
  std::printf("VideoPose3D: validation MPJPE %.1f mm untrained, %.1f mm after 3 epochs; trajectory %.1f -> %.1f mm\n",
              start * 1000, last.loss_valid * 1000, result.history.front().loss_traj_valid * 1000,
              last.loss_traj_valid * 1000);
  EXPECT_LT(last.loss_valid, 0.6 * start);
  EXPECT_TRUE(last.has_trajectory());
  EXPECT_LT(last.loss_traj_valid, result.history.front().loss_traj_valid);
  // The recipe: AMSGrad state and the decayed learning rate in the original's layout.
  const auto ck = model::read_checkpoint(s.train.checkpoint_dir + "/epoch_3.bin");
  const auto& group = *ck.optimizer->at("param_groups", "optimizer").as_sequence("groups").front();
  EXPECT_TRUE(group.at("amsgrad", "group").boolean);
  EXPECT_NEAR(*ck.lr, 1e-3 * 0.95 * 0.95 * 0.95, 1e-12);
  EXPECT_FALSE(ck.trajectory_state.empty());
}

TEST(FamilyTraining, VideoPose3DResumesBitForBitWithItsTrajectoryModel) { expect_exact_resume(load_data(), "videopose3d", true); }

TEST(FamilyTraining, PoseFormerV2ResumesBitForBit) { expect_exact_resume(load_data(), "poseformerv2", false); }

TEST(FamilyTraining, CheckpointsLoadInPyTorchWithTheOriginalsOptimizer) {
  if (test::run_command("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is absent: PyTorch loading check skipped";
  auto d = load_data();
  for (const std::string family : {"videopose3d", "poseformerv2"}) {
    auto s = setup_for(d, family, test::temp_dir(family + "_pytorch"));
    s.train.epochs = 1;
    s.train.max_batches_per_epoch = 2;
    s.train.no_eval = true;
    s.train.trajectory = family == "videopose3d";
    ASSERT_EQ(engine::train_model(s).outcome, engine::TrainOutcome::Completed);
    // PyTorch reads the file, and its Adam (AMSGrad) / AdamW takes the optimizer state over the
    // model's parameters in state-dict order (what the originals' resume does).
    const std::string script = test::temp_dir(family + "_pytorch_script") + "/check.py";
    std::ofstream(script) << R"(import sys, torch
ck = torch.load(sys.argv[1], map_location='cpu')
def params(state):
    return [torch.nn.Parameter(v.clone()) for k, v in state.items()
            if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
p = params(ck['model_pos']) + (params(ck['model_traj']) if ck.get('model_traj') else [])
opt = torch.optim.Adam(p, amsgrad=True) if sys.argv[2] == 'videopose3d' else torch.optim.AdamW(p)
opt.load_state_dict(ck['optimizer'])
state = opt.state_dict()['state']
assert len(state) == len(p), (len(state), len(p))
if sys.argv[2] == 'videopose3d':
    assert all('max_exp_avg_sq' in v for v in state.values())
print('epoch', ck['epoch'], 'params', len(p), 'ok')
)";
    std::string out;
    EXPECT_EQ(test::run_command(fmt::format("/usr/bin/python3 {} {}/epoch_1.bin {} 2>&1", script,
                                            s.train.checkpoint_dir, family),
                                &out),
              0)
        << out;
    EXPECT_NE(out.find(" ok"), std::string::npos) << out;
  }
}

TEST(FamilyTraining, TrainedVideoPose3DInfersTheRootTrajectoryAndRendersIt) {
  // The command end to end: train with the original's flags, lift a video's detections, render.
  const std::string dir = test::temp_dir("vp3d_cli");
  std::string out;
  ASSERT_EQ(test::run_command(fmt::format("{} train --model videopose3d -arc 3,3 -ch 16 --trajectory -d synthetic -k gt "
                                          "-str S1 -ste S9 -e 1 --max-batches 2 --no-progress --data-dir {} -c {}",
                                          POSELIFT_CLI, synthetic_dir(), dir),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("INFO: Receptive field: 9 frames"), std::string::npos) << out;
  EXPECT_NE(out.find("Test time augmentation: True"), std::string::npos) << out;  // VideoPose3D's final report
  EXPECT_NE(out.find("traj_eval"), std::string::npos) << out;
  // A person walking across the image (COCO keypoint results).
  std::string coco = "[";
  for (int t = 0; t < 40; ++t) {
    static const double dx[17] = {0, -5, 5, -10, 10, -40, 40, -50, 50, -55, 55, -20, 20, -22, 22, -24, 24};
    static const double dy[17] = {-160, -168, -168, -164, -164, -120, -120, -60, -60, -10, -10, 0, 0, 90, 90, 180, 180};
    coco += fmt::format("{}{{\"image_id\": {}, \"category_id\": 1, \"score\": 0.9, \"keypoints\": [", t ? "," : "", t);
    for (int k = 0; k < 17; ++k) coco += fmt::format("{}{:.1f},{:.1f},0.9", k ? "," : "", 200 + 8.0 * t + dx[k], 300 + dy[k]);
    coco += "]}";
  }
  std::ofstream(dir + "/walk.json") << coco << "]";
  ASSERT_EQ(test::run_command(fmt::format("{} infer -c {}/epoch_1.bin --input {}/walk.json --width 1000 --height 1000 "
                                          "--out {}/walk.npz --no-progress",
                                          POSELIFT_CLI, dir, dir, dir),
                              &out),
            0)
      << out;
  const wild::LiftedSequence lifted = wild::read_lifted_npz(dir + "/walk.npz");
  ASSERT_EQ(lifted.trajectory.size(), 40u * 3);
  EXPECT_EQ(lifted.positions[0], 0.0f);  // root-relative poses beside the trajectory
  ASSERT_EQ(test::run_command(fmt::format("{} render --input {}/walk.npz --html {}/walk.html --no-progress", POSELIFT_CLI,
                                          dir, dir),
                              &out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(dir + "/walk.html"));
}
