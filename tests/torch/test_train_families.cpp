// Training the other families with their originals' recipes: VideoPose3D (Adam with AMSGrad,
// BatchNorm momentum decay, the strided training form, the trajectory model with its weighted
// loss), PoseFormerV2, and the sequence models MixSTE and MotionBERT (clips, their losses) learn,
// resume bit for bit, and write checkpoints in their originals' layout that PyTorch's optimizer
// and model code take back.
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
    s.model.representation = 16;
    s.train.learning_rate = 1e-3;
  }
  if (family == "mixste") s.train.stride = 9;  // its published -s = -f: whole clips, -b / -s per step
  if (family == "motionbert") {
    s.train.stride = 8;  // 16 clips per step
    s.train.clip_step = 3;
    s.train.weight_decay = recipe.weight_decay;
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

TEST(FamilyTraining, MixSTEResumesBitForBit) { expect_exact_resume(load_data(), "mixste", false); }

TEST(FamilyTraining, MotionBERTResumesBitForBit) { expect_exact_resume(load_data(), "motionbert", false); }

// Both sequence models learn from clips with their own losses, and the per-epoch validation
// counts the rows of their clips.
TEST(FamilyTraining, SequenceModelsLearnWithTheirRecipes) {
  auto d = load_data();
  for (const std::string family : {"mixste", "motionbert"}) {
    auto s = setup_for(d, family, test::temp_dir(family + "_learns"));
    s.train.epochs = 3;
    s.train.max_batches_per_epoch = 25;
    s.train.learning_rate = 2e-3;
    torch::manual_seed(5);
    model::Lifter trained;
    const auto result = engine::train_model(s, &trained);
    ASSERT_EQ(result.outcome, engine::TrainOutcome::Completed) << family;
    ASSERT_EQ(result.history.size(), 3u);
    EXPECT_EQ(trained->temporal_shape(), model::TemporalShape::Sequence);
    torch::manual_seed(5);
    const auto untrained = model::make_lifter(engine::training_model_spec(s.model, d.keypoints.metadata.num_joints));
    auto valid = data::fetch(d.dataset, d.keypoints, {"S9", "S11"}, {});
    const auto symmetry = engine::flip_symmetry(d.dataset, d.keypoints);
    const double start =
        engine::sequences_mpjpe(*untrained, valid.poses_2d, valid.poses_3d, symmetry, engine::PredictOptions{}, torch::kCPU);
    const auto& last = result.history.back();
    std::printf("%s: validation MPJPE %.1f mm untrained, %.1f mm after 3 epochs (train loss %.1f -> %.1f)\n",
                family.c_str(), start * 1000, last.loss_valid * 1000, result.history.front().loss_train * 1000,
                last.loss_train * 1000);
    EXPECT_LT(last.loss_valid, 0.6 * start) << family;
    // The history's validation figure is the loop's own evaluation of the trained weights.
    EXPECT_NEAR(engine::sequences_mpjpe(*trained, valid.poses_2d, valid.poses_3d, symmetry, engine::PredictOptions{},
                                        torch::kCPU),
                last.loss_valid, 1e-6)
        << family;
  }
}

// Clips as MixSTE's ChunkedGenerator_Seq and MotionBERT's split_clips cut them, checked on a
// hand-made sequence whose frame t holds the value t.
TEST(FamilyTraining, ClipsAreCutAsTheOriginalsCutThem) {
  const int T = 10, F = 4;
  std::vector<float> two(T * 2 * 2), three(T * 2 * 3);
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < 2; ++j) {
      for (int c = 0; c < 2; ++c) two[(t * 2 + j) * 2 + c] = static_cast<float>(t);
      // As the datasets hand them over: the root's position, the other joints relative to it.
      for (int c = 0; c < 3; ++c) three[(t * 2 + j) * 3 + c] = j == 1 ? 100.0f + c : static_cast<float>(t);
    }
  }
  const std::vector<io::NdArray> p2{io::NdArray::from_vector<float>({T, 2, 2}, two)};
  const std::vector<io::NdArray> p3{io::NdArray::from_vector<float>({T, 2, 3}, three)};
  auto first_frames = [&](engine::ExampleCut cut) {
    engine::TrainingExamples ex(p2, p3, F, F, /*augment=*/false, {}, cut);
    std::vector<std::int64_t> order(static_cast<std::size_t>(ex.num_chunks()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    const auto b = ex.batch(order, 0, ex.num_chunks());
    EXPECT_EQ(b.inputs.sizes(), (std::vector<std::int64_t>{ex.num_chunks(), F, 2, 2}));
    EXPECT_EQ(b.targets.sizes(), (std::vector<std::int64_t>{ex.num_chunks(), F, 2, 3}));
    // Targets: the root zeroed, the other joints as given; the roots are the same frames' as the inputs.
    EXPECT_TRUE(torch::equal(b.targets.select(2, 0), torch::zeros({ex.num_chunks(), F, 3})));
    EXPECT_TRUE(torch::equal(b.targets.select(2, 1).select(-1, 2), torch::full({ex.num_chunks(), F}, 102.0f)));
    EXPECT_TRUE(torch::equal(b.roots.squeeze(2).select(-1, 0), b.inputs.select(2, 0).select(-1, 0)));
    std::vector<std::vector<int>> clips;
    for (std::int64_t c = 0; c < ex.num_chunks(); ++c) {
      clips.emplace_back();
      for (int f = 0; f < F; ++f) clips.back().push_back(b.inputs[c][f][0][0].item<int>());
    }
    return clips;
  };
  // MixSTE: ceil(10 / 4) = 3 clips centred over the sequence (starts -1, 3, 7), edges repeated.
  engine::ExampleCut centred;
  centred.clips = true;
  EXPECT_EQ(first_frames(centred), (std::vector<std::vector<int>>{{0, 0, 1, 2}, {3, 4, 5, 6}, {7, 8, 9, 9}}));
  // MotionBERT, data stride 3: clips at 0, 3, 6; the tail after the last whole clip is left out.
  engine::ExampleCut strided = centred;
  strided.step = 3;
  EXPECT_EQ(first_frames(strided), (std::vector<std::vector<int>>{{0, 1, 2, 3}, {3, 4, 5, 6}, {6, 7, 8, 9}}));
}

// The sequence losses against the originals' formulas, restated in PyTorch by Debian's
// python3-torch: values, and the gradients (MixSTE's scaled by its loss, as its backward call).
TEST(FamilyTraining, SequenceLossesMatchTheOriginalsFormulas) {
  if (test::run_command("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is absent: loss check skipped";
  const std::string dir = test::temp_dir("sequence_losses");
  torch::manual_seed(11);
  const auto predicted = torch::randn({3, 6, 17, 3}, torch::kFloat64) * 0.2;
  const auto target = torch::randn({3, 6, 17, 3}, torch::kFloat64) * 0.2;
  io::write_npy(dir + "/p.npy", io::NdArray::from_vector<double>({3, 6, 17, 3},
                std::vector<double>(predicted.data_ptr<double>(), predicted.data_ptr<double>() + predicted.numel())));
  io::write_npy(dir + "/t.npy", io::NdArray::from_vector<double>({3, 6, 17, 3},
                std::vector<double>(target.data_ptr<double>(), target.data_ptr<double>() + target.numel())));
  std::ofstream(dir + "/losses.py") << R"(import sys, numpy as np, torch
p = torch.tensor(np.load(sys.argv[1] + '/p.npy'), requires_grad=True)
t = torch.tensor(np.load(sys.argv[1] + '/t.npy'))
def vel(a, b):
    return torch.mean(torch.norm(torch.diff(a, dim=1) - torch.diff(b, dim=1), dim=-1))
# MixSTE run.py: weighted MPJPE, 0.5 x weighted squared motion, 2 x velocity; backward(loss).
w = torch.tensor([1, 1, 2.5, 2.5, 1, 2.5, 2.5, 1, 1, 1, 1.5, 1.5, 4, 4, 1.5, 4, 4], dtype=torch.float64)
dif = p[:, 1:] - p[:, :-1]
wj = torch.mul(torch.ones_like(dif).permute(0, 1, 3, 2), w).permute(0, 1, 3, 2)
mix = torch.mean(w * torch.norm(p - t, dim=-1)) + 0.5 * torch.mean(wj * dif ** 2) + 2.0 * vel(p, t)
mix.backward(mix.clone().detach())
g_mix = p.grad.clone(); p.grad = None
# MotionBERT train.py: MPJPE + 0.5 x N-MPJPE + 20 x velocity.
npred = torch.mean(torch.sum(p ** 2, dim=3, keepdim=True), dim=2, keepdim=True)
ntgt = torch.mean(torch.sum(t * p, dim=3, keepdim=True), dim=2, keepdim=True)
mpjpe = torch.mean(torch.norm(p - t, dim=-1))
mb = mpjpe + 0.5 * torch.mean(torch.norm(ntgt / npred * p - t, dim=-1)) + 20.0 * vel(p, t)
mb.backward()
print(repr(mix.item()), repr(mpjpe.item()), repr(mb.item()))
np.save(sys.argv[1] + '/g_mix.npy', g_mix.numpy()); np.save(sys.argv[1] + '/g_mb.npy', p.grad.numpy())
)";
  std::string out;
  ASSERT_EQ(test::run_command(fmt::format("/usr/bin/python3 {}/losses.py {} 2>&1", dir, dir), &out), 0) << out;
  double mix = 0, mpjpe = 0, mb = 0;
  ASSERT_EQ(std::sscanf(out.c_str(), "%lf %lf %lf", &mix, &mpjpe, &mb), 3) << out;
  auto grad_of = [&](const std::string& name) {
    const auto a = io::read_npy(dir + "/" + name).array;
    return model::to_tensor(a).to(torch::kFloat64);
  };
  engine::TrainOptions options;  // MotionBERT's lambdas by default: 20 and 0.5
  {
    const auto p = predicted.clone().requires_grad_(true);
    const auto l = engine::sequence_loss(model::Family::MixSTE, p, target, options);
    EXPECT_NEAR(l.reported, mix, 1e-12);
    l.total.backward(l.total.detach().clone());  // as the training step does for MixSTE
    EXPECT_TRUE(torch::allclose(p.grad(), grad_of("g_mix.npy"), 1e-9, 1e-12));
  }
  {
    const auto p = predicted.clone().requires_grad_(true);
    const auto l = engine::sequence_loss(model::Family::MotionBERT, p, target, options);
    EXPECT_NEAR(l.reported, mpjpe, 1e-12);  // its 3d_train: the MPJPE term alone
    EXPECT_NEAR(l.total.item<double>(), mb, 1e-12);
    l.total.backward();
    EXPECT_TRUE(torch::allclose(p.grad(), grad_of("g_mb.npy"), 1e-9, 1e-12));
  }
}

TEST(FamilyTraining, CheckpointsLoadInPyTorchWithTheOriginalsOptimizer) {
  if (test::run_command("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is absent: PyTorch loading check skipped";
  auto d = load_data();
  for (const std::string family : {"videopose3d", "poseformerv2", "mixste", "motionbert"}) {
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

// The commands end to end for the sequence models: MixSTE with its original's flags (-cs, -dep,
// -s = -f by default), MotionBERT with its recipe's loss weights; the trained checkpoints
// evaluate, infer a video's detections (MotionBERT with the detector's confidences) and render.
TEST(FamilyTraining, TrainedSequenceModelsEvaluateInferAndRender) {
  const std::string dir = test::temp_dir("sequence_cli");
  std::string out;
  ASSERT_EQ(test::run_command(fmt::format("{} train --model mixste -f 9 -cs 8 -dep 1 --heads 2 -d synthetic -k gt "
                                          "-str S1 -ste S9 -e 1 -b 36 --max-batches 2 --no-progress --data-dir {} -c {}/mixste",
                                          POSELIFT_CLI, synthetic_dir(), dir),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("INFO: Receptive field: 9 frames"), std::string::npos) << out;
  EXPECT_NE(out.find("Protocol #1"), std::string::npos) << out;
  ASSERT_EQ(test::run_command(fmt::format("{} train --model motionbert -f 9 --width 8 --depth 1 --heads 2 --dim-rep 16 "
                                          "--lambda-3d-velocity 10 -d synthetic -k gt -str S1 -ste S9 -e 1 -b 4 "
                                          "--max-batches 2 --no-progress --data-dir {} -c {}/motionbert",
                                          POSELIFT_CLI, synthetic_dir(), dir),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("Protocol #1"), std::string::npos) << out;
  // The same recipe from a MotionBERT YAML configuration (its configs/pose3d layout); a flag
  // typed on the command line still wins over the file.
  std::ofstream(dir + "/mb.yaml") << "# MB_train_h36m, scaled down\nepochs: 3\nbatch_size: 4\nlearning_rate: 0.0005\n"
                                     "weight_decay: 0.01\nlr_decay: 0.99\nlambda_3d_velocity: 10.0\nlambda_scale: 0.5\n"
                                     "data_stride: 3\nclip_len: 9\nmaxlen: 9\ndim_feat: 8\ndim_rep: 12\ndepth: 1\n"
                                     "num_heads: 2\nmlp_ratio: 2\natt_fuse: True\nrootrel: True\n";
  ASSERT_EQ(test::run_command(fmt::format("{} train --model motionbert --config {}/mb.yaml -e 1 -d synthetic -k gt "
                                          "-str S1 -ste S9 --max-batches 2 --no-progress --data-dir {} -c {}/mb_yaml",
                                          POSELIFT_CLI, dir, synthetic_dir(), dir),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("INFO: Receptive field: 9 frames"), std::string::npos) << out;
  EXPECT_NE(out.find("lr 0.000500"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir + "/mb_yaml/epoch_1.bin"));
  EXPECT_FALSE(fs::exists(dir + "/mb_yaml/epoch_2.bin"));  // -e 1 over the file's epochs: 3
  {
    const auto yaml_ck = model::read_checkpoint(dir + "/mb_yaml/epoch_1.bin");
    const auto c = model::infer_motionbert_config(yaml_ck.model_state, 2, yaml_ck.source);
    EXPECT_EQ(c.dim_feat, 8);
    EXPECT_EQ(c.dim_rep, 12);
    EXPECT_EQ(c.depth, 1);
    EXPECT_EQ(c.maxlen, 9);
  }
  EXPECT_EQ(test::run_command(fmt::format("{} train --model mixste --config {}/mb.yaml -d synthetic -k gt --data-dir {} "
                                          "-c {}/bad 2>&1",
                                          POSELIFT_CLI, dir, synthetic_dir(), dir),
                              &out),
            2)
      << out;
  EXPECT_NE(out.find("a MotionBERT configuration"), std::string::npos) << out;
  const auto ck = model::read_checkpoint(dir + "/motionbert/epoch_1.bin");
  ASSERT_TRUE(ck.training && ck.training->layer_norm_eps);
  EXPECT_DOUBLE_EQ(*ck.training->layer_norm_eps, model::kMotionBERTScriptNormEps);  // as its scripts build it
  std::string coco = "[";
  for (int t = 0; t < 30; ++t) {
    static const double dx[17] = {0, -5, 5, -10, 10, -40, 40, -50, 50, -55, 55, -20, 20, -22, 22, -24, 24};
    static const double dy[17] = {-160, -168, -168, -164, -164, -120, -120, -60, -60, -10, -10, 0, 0, 90, 90, 180, 180};
    coco += fmt::format("{}{{\"image_id\": {}, \"category_id\": 1, \"score\": 0.9, \"keypoints\": [", t ? "," : "", t);
    for (int k = 0; k < 17; ++k) coco += fmt::format("{}{:.1f},{:.1f},0.8", k ? "," : "", 200 + 8.0 * t + dx[k], 300 + dy[k]);
    coco += "]}";
  }
  std::ofstream(dir + "/walk.json") << coco << "]";
  for (const std::string family : {"mixste", "motionbert"}) {
    ASSERT_EQ(test::run_command(fmt::format("{} infer -c {}/{}/epoch_1.bin --input {}/walk.json --width 1000 --height 1000 "
                                            "--out {}/{}.npz --no-progress",
                                            POSELIFT_CLI, dir, family, dir, dir, family),
                                &out),
              0)
        << out;
    const wild::LiftedSequence lifted = wild::read_lifted_npz(dir + "/" + family + ".npz");
    EXPECT_EQ(lifted.positions.size(), 30u * 17 * 3) << family;
    ASSERT_EQ(test::run_command(fmt::format("{} render --input {}/{}.npz --html {}/{}.html --no-progress", POSELIFT_CLI,
                                            dir, family, dir, family),
                                &out),
              0)
        << out;
    EXPECT_TRUE(fs::exists(dir + "/" + family + ".html"));
  }
}
