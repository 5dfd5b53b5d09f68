// MotionBERT through `poselift infer` as its infer_wild.py runs it: parity with the original's
// steps (tests/reference/motionbert_infer_wild.py: its normalisation, clips, flip, rootrel and
// pixel conversion around its own DSTformer) on the zoo fixture over 300 frames, the clip split
// on a random model built here (no ../shared), and --config's errors.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/infer.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/motionbert.hpp"
#include "model/poseformer.hpp"
#include "test_support.hpp"
#include "wild/export.hpp"
#include "wild/motionbert_input.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// One person walking across a 1280 x 720 image: 17 Human3.6M joints around a moving centre,
// confidences in [0.35, 1] (all above infer's --min-confidence, so nothing is filled).
wild::Sequence2D walking(int frames) {
  static const double dx[17] = {0, -20, -22, -24, 20, 22, 24, 0, 0, 0, 0, 40, 50, 55, -40, -50, -55};
  static const double dy[17] = {0, 0, 90, 180, 0, 90, 180, -60, -120, -150, -170, -120, -60, -10, -120, -60, -10};
  wild::Sequence2D s;
  for (int t = 0; t < frames; ++t) {
    s.frames.push_back(t);
    wild::H36mPose p;
    for (int j = 0; j < 17; ++j)
      p[static_cast<std::size_t>(j)] = {static_cast<float>(300 + 2.5 * t + dx[j] + 6 * std::sin(0.21 * t + j)),
                                        static_cast<float>(380 + dy[j] + 4 * std::cos(0.17 * t + 2 * j)),
                                        static_cast<float>(0.35 + 0.65 * std::fabs(std::sin(0.37 * t + 1.3 * j)))};
    s.poses.push_back(p);
  }
  return s;
}

// frame,person,x0,y0,s0,... (Human3.6M-17 order, --layout h36m).
std::string to_csv(const wild::Sequence2D& s) {
  std::string out = "frame,person";
  for (int j = 0; j < 17; ++j) out += fmt::format(",x{0},y{0},s{0}", j);
  out += "\n";
  for (std::size_t t = 0; t < s.poses.size(); ++t) {
    out += fmt::format("{},0", s.frames[t]);
    for (const auto& k : s.poses[t]) out += fmt::format(",{:.9g},{:.9g},{:.9g}", k[0], k[1], k[2]);
    out += "\n";
  }
  return out;
}

std::string fixture_yaml(bool rootrel) {
  // The zoo fixture's constructor arguments (its config.json) in MotionBERT's configuration layout.
  return fmt::format(
      "# Model\nmaxlen: 27\ndim_feat: 32\nmlp_ratio: 2\ndepth: 2\ndim_rep: 64\nnum_heads: 4\natt_fuse: True\n"
      "# Data\nclip_len: 27\nrootrel: {}\nnum_joints: 17\nno_conf: False\ngt_2d: False\n# Augmentation\nflip: True\n",
      rootrel ? "True" : "False");
}

std::string original_dstformer(const std::string& dir) {
  if (const char* env = std::getenv("POSELIFT_MOTIONBERT_SOURCE"); env && fs::exists(env)) return env;
  const std::string path = dir + "/DSTformer.py";
  if (test::run_command("git -C /work/.mirror/Walter0807+MotionBERT/repo show HEAD:lib/model/DSTformer.py > " + path +
                        " 2>/dev/null") != 0)
    return "";
  return path;
}

model::MotionBERTConfig small_config() {
  model::MotionBERTConfig c;
  c.dim_feat = 16;
  c.dim_rep = 24;
  c.depth = 1;
  c.num_heads = 2;
  c.mlp_ratio = 2.0;
  c.maxlen = 16;
  c.norm_eps = 1e-6;
  return c;
}

model::MotionBERT random_model(int seed) {
  torch::manual_seed(seed);
  model::MotionBERT net(small_config());
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.copy_(torch::randn_like(p) * 0.3);
  net->eval();
  return net;
}

// x negated, left and right joints swapped: flip_data of the original, written out here.
torch::Tensor mirrored(const torch::Tensor& x) {
  static const int swap[17] = {0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13};
  auto out = x.clone();
  for (int j = 0; j < 17; ++j) out.select(-2, j).copy_(x.select(-2, swap[j]));
  out.select(-1, 0).neg_();
  return out;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const auto d = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
  return d / b.to(torch::kFloat64).abs().max().item<double>();
}

}  // namespace

TEST(MotionBERTWild, InferMatchesInferWildOnTheZooFixture) {
  POSELIFT_REQUIRE_SHARED();
  if (test::run_command("/usr/bin/python3 -c 'import numpy, torch, yaml' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with numpy, torch and yaml is absent: parity with infer_wild.py skipped";
  const std::string dir = test::temp_dir("motionbert_wild_parity");
  const std::string original = original_dstformer(dir);
  if (original.empty()) GTEST_SKIP() << "the original MotionBERT code is absent (set POSELIFT_MOTIONBERT_SOURCE)";
  const std::string checkpoint = test::shared_path("fixtures/zoo/motionbert-small") + "/checkpoint/model.bin";
  const int T = 300;  // 11 clips of the fixture's maxlen 27 and a short one of 3 frames
  write(dir + "/walk.csv", to_csv(walking(T)));
  write(dir + "/global.yaml", fixture_yaml(false));
  write(dir + "/rootrel.yaml", fixture_yaml(true));
  struct Case {
    std::string name, config, flags, reference_flags;
  } cases[] = {
      {"global", "global", "", ""},
      {"rootrel_pixel_noflip", "rootrel", " --pixel --no-test-time-augmentation", " --pixel --no-flip"},
      {"global_pixel_clip16", "global", " --pixel --clip-len 16", " --pixel --clip-len 16"},
      {"rootrel_clip20", "rootrel", " --clip-len 20", " --clip-len 20"},
  };
  for (const auto& c : cases) {
    const std::string cfg = dir + "/" + c.config + ".yaml", out = dir + "/" + c.name + ".npz";
    std::string log;
    ASSERT_EQ(test::run_command(std::string(POSELIFT_CLI) + " infer --no-progress --checkpoint " + checkpoint +
                                    " --config " + cfg + " --input " + dir +
                                    "/walk.csv --layout h36m --width 1280 --height 720 --smooth none --out " + out + c.flags +
                                    " 2>&1",
                                &log),
              0)
        << log;
    EXPECT_NE(log.find("not metres"), std::string::npos) << log;
    const std::string reference = dir + "/" + c.name + "_x3d.npy";
    ASSERT_EQ(test::run_command("/usr/bin/python3 " + std::string(POSELIFT_SOURCE_DIR) +
                                    "/tests/reference/motionbert_infer_wild.py --original " + original +
                                    " --checkpoint " + checkpoint + " --config " + cfg + " --csv " + dir +
                                    "/walk.csv --width 1280 --height 720 --output " + reference +
                                    c.reference_flags + " 2>&1",
                                &log),
              0)
        << log;
    const auto expected = model::to_tensor(io::read_npy(reference).array).to(torch::kFloat64);
    ASSERT_EQ(expected.sizes(), (std::vector<std::int64_t>{T, 17, 3}));
    const wild::LiftedSequence lifted = wild::read_lifted_npz(out);
    auto positions = torch::tensor(lifted.positions, torch::kFloat64).view({T, 17, 3});
    const bool rootrel = c.config == "rootrel";
    ASSERT_EQ(lifted.trajectory.empty(), rootrel) << c.name;
    torch::Tensor x3d = positions;
    if (!rootrel) {
      x3d = positions + torch::tensor(lifted.trajectory, torch::kFloat64).view({T, 1, 3});
    } else if (c.flags.find("--pixel") != std::string::npos) {
      x3d = positions + torch::tensor({640.0, 360.0, 0.0}, torch::kFloat64);  // the original's root at the centre
    }
    const double error = relative_error(x3d, expected);
    EXPECT_LE(error, 1e-4) << c.name;
    std::printf("motionbert-small infer (%s) vs infer_wild.py's steps: max error %.3g of the output's range\n",
                c.name.c_str(), error);
    if (rootrel) {
      EXPECT_EQ(positions.select(1, 0).abs().max().item<double>(), 0.0) << c.name;
    }
  }
}

TEST(MotionBERTWild, ClipsRunAsShortClipsWithFlipAndRootHandling) {
  auto net = random_model(21);
  const wild::Sequence2D s = walking(40);  // clip_len 16: [0, 16), [16, 32), [32, 40)
  const auto values = wild::motionbert_wild_input(s, 1280, 720, false);
  const auto input = torch::tensor(values).view({40, 17, 3});
  torch::NoGradGuard no_grad;
  // The prediction of one clip as infer_wild.py makes it, spelt out.
  auto clip = [&](std::int64_t a, std::int64_t b) {
    const auto x = input.slice(0, a, b).unsqueeze(0);
    return ((net->forward(x) + mirrored(net->forward(mirrored(x)))) / 2.0).squeeze(0);
  };
  const auto expected = torch::cat({clip(0, 16), clip(16, 32), clip(32, 40)}, 0);
  engine::PredictOptions predict;
  engine::MotionBERTWildOptions options;  // infer_wild's defaults: global, flip
  for (const std::int64_t batch : {1, 1024}) {
    predict.max_batch = batch;
    const auto track = engine::lift_motionbert_wild(*net, s, 1280, 720, options, predict, torch::kCPU, false);
    ASSERT_EQ(track.trajectory.sizes(), (std::vector<std::int64_t>{40, 3}));
    const auto x3d = track.positions + track.trajectory.unsqueeze(1);
    // Every frame but the first of each clip as predicted; those have their root depth at 0.
    auto want = expected.clone();
    for (int first : {0, 16, 32}) {
      EXPECT_EQ(track.trajectory[first][2].item<float>(), 0.0f) << first;
      want[first][0][2] = 0.0f;
    }
    EXPECT_NE(track.trajectory[1][2].item<float>(), 0.0f);
    EXPECT_LT((x3d - want).abs().max().item<float>(), 1e-5f) << "-b " << batch;
    EXPECT_LT(track.positions.select(1, 0).abs().max().item<float>(), 1e-6f);
  }
  // The last clip is a real 8-frame clip: not the last frames of a 16-frame one.
  const auto overlapping = clip(24, 40).slice(0, 8, 16);
  EXPECT_GT((overlapping - expected.slice(0, 32, 40)).abs().max().item<float>(), 1e-3f);
  // rootrel without flip: the root zeroed, the other joints the plain prediction.
  options.rootrel = true;
  options.clip_len = 16;
  predict.test_time_augmentation = false;
  const auto track = engine::lift_motionbert_wild(*net, s, 1280, 720, options, predict, torch::kCPU, false);
  EXPECT_FALSE(track.trajectory.defined());
  auto plain = net->forward(input.slice(0, 32, 40).unsqueeze(0)).squeeze(0);
  plain.select(1, 0).zero_();
  EXPECT_LT((track.positions.slice(0, 32, 40) - plain).abs().max().item<float>(), 1e-5f);
  // A clip longer than maxlen is refused.
  options.clip_len = 17;
  EXPECT_THROW(engine::lift_motionbert_wild(*net, s, 1280, 720, options, predict, torch::kCPU, false), InputError);
}

TEST(MotionBERTWild, ConfigAndFlagErrorsExitWith2) {
  const std::string dir = test::temp_dir("motionbert_wild_errors");
  auto net = random_model(5);
  model::CheckpointContents contents;
  contents.model = net.get();
  model::TrainingState state;  // as poselift's training writes: the heads and eps beside the weights
  state.num_heads = 2;
  state.layer_norm_eps = 1e-6;
  contents.extra = model::encode_training_state(state);
  model::write_checkpoint(dir + "/mb.bin", contents);
  contents.extra = nullptr;
  torch::manual_seed(3);
  model::PoseFormerConfig pf;
  pf.num_frames = 9;
  pf.embed_dim_ratio = 8;
  pf.depth = 1;
  pf.num_heads = 2;
  model::PoseFormer poseformer(pf);
  contents.model = poseformer.get();
  model::write_checkpoint(dir + "/pf.bin", contents);
  write(dir + "/walk.csv", to_csv(walking(30)));
  write(dir + "/good.yaml", "maxlen: 16\ndim_feat: 16\ndim_rep: 24\ndepth: 1\nnum_heads: 2\nmlp_ratio: 2\nrootrel: True\n");
  write(dir + "/wide.yaml", "maxlen: 16\ndim_feat: 256\nnum_heads: 2\n");
  write(dir + "/heads.yaml", "num_heads: 4\n");
  write(dir + "/clip.yaml", "clip_len: 243\n");
  write(dir + "/typo.yaml", "depth: five\n");
  const std::string common = " --input " + dir + "/walk.csv --layout h36m --width 1280 --height 720 --out " + dir +
                             "/out.npz --no-progress";
  struct Case {
    std::string args, expected;
  } cases[] = {
      {"--checkpoint " + dir + "/mb.bin --config " + dir + "/wide.yaml",
       "'dim_feat' is 256 but the weights of " + dir + "/mb.bin have 16"},
      {"--checkpoint " + dir + "/mb.bin --config " + dir + "/heads.yaml",
       "was trained with 2 attention heads"},  // poselift's checkpoints store their heads
      {"--checkpoint " + dir + "/mb.bin --config " + dir + "/good.yaml --heads 4",
       "--heads 4 contradicts num_heads 2 in " + dir + "/good.yaml"},
      {"--checkpoint " + dir + "/mb.bin --config " + dir + "/clip.yaml",
       dir + "/clip.yaml: clip_len 243 exceeds the 16 frames"},
      {"--checkpoint " + dir + "/mb.bin --clip-len 17", "--clip-len: clip_len 17 exceeds the 16 frames"},
      {"--checkpoint " + dir + "/mb.bin --config " + dir + "/typo.yaml",
       dir + "/typo.yaml: 'depth': expected an integer in [1, 1000], found 'five'"},
      {"--checkpoint " + dir + "/mb.bin --config " + dir + "/missing.yaml", dir + "/missing.yaml"},
      {"--checkpoint " + dir + "/pf.bin --config " + dir + "/good.yaml",
       "a MotionBERT configuration, but " + dir + "/pf.bin is a PoseFormer checkpoint"},
      {"--checkpoint " + dir + "/pf.bin --pixel", "--pixel and --clip-len are MotionBERT's"},
  };
  for (const auto& c : cases) {
    std::string out;
    EXPECT_EQ(test::run_command(std::string(POSELIFT_CLI) + " infer " + c.args + common + " 2>&1", &out), 2)
        << c.args << "\n" << out;
    EXPECT_NE(out.find(c.expected), std::string::npos) << c.args << "\n" << out;
    EXPECT_FALSE(fs::exists(dir + "/out.npz")) << c.args;
  }
  // The good configuration: rootrel, so no trajectory; the units in the JSON and the note.
  std::string out;
  ASSERT_EQ(test::run_command(std::string(POSELIFT_CLI) + " infer --checkpoint " + dir + "/mb.bin --config " + dir +
                                  "/good.yaml --input " + dir + "/walk.csv --layout h36m --width 1280 --height 720 "
                                  "--out " + dir + "/out.json --no-progress 2>&1",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("MotionBERT's output is in MotionBERT's normalised units"), std::string::npos) << out;
  const std::string json = test::read_text(dir + "/out.json");
  EXPECT_NE(json.find("\"units\":\"MotionBERT's normalised units"), std::string::npos);
  EXPECT_EQ(json.find("\"trajectory\""), std::string::npos);
}
