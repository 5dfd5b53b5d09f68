// PoseFormer parity with the original PyTorch code and checkpoint round trips.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <algorithm>

#include <filesystem>
#include <fstream>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/poseformer.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Weights away from their initial values, so a load that silently skipped a tensor shows.
void randomise(model::PoseFormer& net, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.copy_(torch::randn_like(p) * 0.2);
}

void expect_fixture_parity(const std::string& name, std::int64_t expected_params) {
  const std::string dir = test::shared_path("fixtures/" + name);
  model::Checkpoint ck;
  auto net = model::load_poseformer(dir + "/checkpoint/model.bin", 8, true, &ck);
  EXPECT_EQ(net->parameter_count(), expected_params);
  EXPECT_EQ(model::count_parameters(net->config()), expected_params);
  net->eval();
  auto input = model::to_tensor(io::read_npy(dir + "/forward_input.npy").array);
  auto expected = model::to_tensor(io::read_npy(dir + "/forward_output.npy").array);
  torch::NoGradGuard no_grad;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    auto output = net->forward(input);
    ASSERT_EQ(output.sizes(), expected.sizes());
    const double err = max_abs_diff(output, expected);
    EXPECT_LE(err, 1e-5) << name << " (" << model::implementation_name(impl) << " path) max abs error " << err;
    std::printf("%s, %s path: max abs error vs the original forward: %.3g\n", name.c_str(),
                model::implementation_name(impl), err);
  }
}

}  // namespace

TEST(PoseFormerParity, Published81FrameModelMatchesOriginalForward) {
  POSELIFT_REQUIRE_SHARED();
  expect_fixture_parity("poseformer-f81", 9602885);
}

TEST(PoseFormerParity, TinyModelMatchesOriginalForward) {
  POSELIFT_REQUIRE_SHARED();
  // 9 frames, width 8, depth 2: parameter count by hand from the layer shapes.
  const std::int64_t C = 8, D = 8 * 17, J = 17, F = 9;
  auto block = [](std::int64_t d) { return 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (2 * d * d + 2 * d) + (2 * d * d + d); };
  const std::int64_t expected = J * C + F * D + (2 * C + C) + 2 * (block(C) + block(D)) + 2 * C + 2 * D + (F + 1) +
                                2 * D + (D * J * 3 + J * 3);
  expect_fixture_parity("poseformer-tiny", expected);
}

TEST(PoseFormerParity, FixtureConfigAndTrainingFieldsAreRead) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(test::shared_path("fixtures/poseformer-tiny/checkpoint/model.bin"));
  auto config = model::infer_config(ck.model_state, 8, ck.source);
  EXPECT_EQ(config.num_frames, 9);
  EXPECT_EQ(config.num_joints, 17);
  EXPECT_EQ(config.embed_dim_ratio, 8);
  EXPECT_EQ(config.depth, 2);
  EXPECT_DOUBLE_EQ(config.mlp_ratio, 2.0);
  ASSERT_TRUE(ck.epoch.has_value());
  ASSERT_TRUE(ck.lr.has_value());
  EXPECT_TRUE(ck.random_state != nullptr);  // numpy RandomState, kept opaque
  ASSERT_TRUE(ck.optimizer != nullptr);

  // The full AdamW state (three real steps) loads into LibTorch's AdamW.
  model::PoseFormer net(config);
  model::load_state_dict(*net, ck.model_state, true, ck.source);
  torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(1e-3));
  model::load_optimizer_state(adamw, *ck.optimizer, ck.source);
  const auto& options = static_cast<const torch::optim::AdamWOptions&>(adamw.param_groups()[0].options());
  EXPECT_NEAR(options.lr(), 2e-4 * 0.98, 1e-12);
  EXPECT_NEAR(options.weight_decay(), 0.1, 1e-12);
  EXPECT_EQ(adamw.state().size(), net->parameters().size());
  for (const auto& [key, state] : adamw.state())
    EXPECT_EQ(static_cast<const torch::optim::AdamWParamState&>(*state).step(), 3) << key;
}

TEST(PoseFormerConfig, StateDictNamesEqualTheOriginalLayout) {
  model::PoseFormerConfig c;
  c.num_frames = 9;
  c.embed_dim_ratio = 8;
  c.depth = 2;
  model::PoseFormer net(c);
  auto state = model::module_state(*net);
  ASSERT_GE(state.size(), 6u);
  // Own parameters first, then sub-modules in registration order, as PyTorch lists them.
  EXPECT_EQ(state[0].first, "Spatial_pos_embed");
  EXPECT_EQ(state[1].first, "Temporal_pos_embed");
  EXPECT_EQ(state[2].first, "Spatial_patch_to_embedding.weight");
  EXPECT_EQ(state[4].first, "Spatial_blocks.0.norm1.weight");
  EXPECT_EQ(state.back().first, "head.1.bias");
  if (!test::shared_dir().empty()) {
    // Exactly the keys (order included) and shapes of the original's checkpoint.
    auto ck = model::read_checkpoint(test::shared_path("fixtures/poseformer-tiny/checkpoint/model.bin"));
    ASSERT_EQ(ck.model_state.size(), state.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      EXPECT_EQ(ck.model_state[i].first, state[i].first);
      EXPECT_EQ(ck.model_state[i].second.sizes(), state[i].second.sizes()) << state[i].first;
    }
  }
}

struct VariedConfig {
  int frames, joints, width, depth, heads;
  double mlp;
};

class CheckpointRoundTrip : public ::testing::TestWithParam<VariedConfig> {};

TEST_P(CheckpointRoundTrip, WrittenCheckpointReloadsToTheSameFunction) {
  const auto p = GetParam();
  model::PoseFormerConfig c;
  c.num_frames = p.frames;
  c.num_joints = p.joints;
  c.embed_dim_ratio = p.width;
  c.depth = p.depth;
  c.num_heads = p.heads;
  c.mlp_ratio = p.mlp;
  model::PoseFormer net(c);
  randomise(net, p.frames * 31 + p.depth);
  net->eval();

  const std::string dir = test::temp_dir("roundtrip_" + std::to_string(p.frames) + "_" + std::to_string(p.joints) +
                                         "_" + std::to_string(p.width) + "_" + std::to_string(p.depth));
  const std::string path = dir + "/model.bin";
  torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(3e-4).weight_decay(0.1));
  {
    // One real step so the optimizer has moments to save.
    auto loss = net->forward(torch::randn({2, p.frames, p.joints, 2})).pow(2).mean();
    loss.backward();
    adamw.step();
  }
  model::CheckpointContents contents;
  contents.epoch = 7;
  contents.lr = 3e-4;
  contents.model = net.get();
  contents.optimizer = &adamw;
  model::write_checkpoint(path, contents);

  model::Checkpoint ck;
  auto loaded = model::load_poseformer(path, p.heads, true, &ck);
  EXPECT_EQ(loaded->config().num_frames, p.frames);
  EXPECT_EQ(loaded->config().num_joints, p.joints);
  EXPECT_EQ(loaded->config().embed_dim_ratio, p.width);
  EXPECT_EQ(loaded->config().depth, p.depth);
  EXPECT_DOUBLE_EQ(loaded->config().mlp_ratio, p.mlp);
  EXPECT_EQ(ck.epoch.value_or(-1), 7);
  EXPECT_DOUBLE_EQ(ck.lr.value_or(0), 3e-4);
  loaded->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, p.frames, p.joints, 2});
  EXPECT_EQ(max_abs_diff(net->forward(x), loaded->forward(x)), 0.0);

  // Optimizer moments survive bit for bit.
  torch::optim::AdamW reloaded(loaded->parameters(), torch::optim::AdamWOptions(1.0));
  model::load_optimizer_state(reloaded, *ck.optimizer, path);
  auto params_a = net->parameters(), params_b = loaded->parameters();
  for (std::size_t i = 0; i < params_a.size(); ++i) {
    const auto& sa = static_cast<const torch::optim::AdamWParamState&>(
        *adamw.state().at(c10::guts::to_string(params_a[i].unsafeGetTensorImpl())));
    const auto& sb = static_cast<const torch::optim::AdamWParamState&>(
        *reloaded.state().at(c10::guts::to_string(params_b[i].unsafeGetTensorImpl())));
    EXPECT_EQ(sa.step(), sb.step());
    EXPECT_TRUE(torch::equal(sa.exp_avg(), sb.exp_avg()));
    EXPECT_TRUE(torch::equal(sa.exp_avg_sq(), sb.exp_avg_sq()));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, CheckpointRoundTrip,
                         ::testing::Values(VariedConfig{9, 17, 8, 2, 8, 2.0}, VariedConfig{27, 17, 16, 1, 4, 2.0},
                                           VariedConfig{3, 15, 8, 3, 2, 4.0}, VariedConfig{1, 17, 8, 0, 8, 2.0}));

TEST(CheckpointErrors, ArchitectureMismatchSummarisesEveryKindOfProblem) {
  model::PoseFormerConfig small;
  small.num_frames = 9;
  small.embed_dim_ratio = 8;
  small.depth = 1;
  model::PoseFormer net(small);
  const std::string path = test::temp_dir("mismatch") + "/small.bin";
  model::CheckpointContents contents;
  contents.model = net.get();
  model::write_checkpoint(path, contents);
  auto ck = model::read_checkpoint(path);

  model::PoseFormerConfig other = small;
  other.num_frames = 27;
  other.depth = 2;
  model::PoseFormer target(other);
  try {
    model::load_state_dict(*target, ck.model_state, true, path);
    FAIL() << "strict load of a mismatched checkpoint succeeded";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("Temporal_pos_embed"), std::string::npos) << msg;        // shape mismatch
    // Missing keys are counted and a few named, not all listed (a foreign model has dozens).
    auto report = model::load_state_dict(*target, ck.model_state, false, path);
    EXPECT_NE(msg.find(fmt::format("missing keys ({})", report.missing.size())), std::string::npos) << msg;
    EXPECT_NE(msg.find(report.missing.front()), std::string::npos) << msg;
    EXPECT_GT(report.missing.size(), 4u);
    EXPECT_NE(msg.find(fmt::format("and {} more", report.missing.size() - 4)), std::string::npos) << msg;
    EXPECT_EQ(msg.find(report.missing.back()), std::string::npos) << msg;
  }
  auto report = model::load_state_dict(*target, ck.model_state, false, path);
  EXPECT_FALSE(report.clean());
  EXPECT_FALSE(report.missing.empty());
  EXPECT_FALSE(report.mismatched.empty());
  EXPECT_NE(std::find(report.missing.begin(), report.missing.end(), "Spatial_blocks.1.norm1.weight"),
            report.missing.end());  // the report itself keeps every key
}

TEST(CheckpointErrors, TruncatedAndForeignFilesAreRefused) {
  const std::string dir = test::temp_dir("bad_checkpoints");
  model::PoseFormerConfig c;
  c.num_frames = 3;
  c.embed_dim_ratio = 8;
  c.depth = 1;
  model::PoseFormer net(c);
  model::CheckpointContents contents;
  contents.model = net.get();
  model::write_checkpoint(dir + "/good.bin", contents);
  std::ifstream in(dir + "/good.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, bytes.size() / 2, bytes.size() - 30}) {
    const std::string path = dir + "/truncated_" + std::to_string(keep) + ".bin";
    std::ofstream(path, std::ios::binary) << bytes.substr(0, keep);
    EXPECT_THROW(model::read_checkpoint(path), InputError) << keep;
  }
  // A .npz is a zip, but not a checkpoint.
  io::write_npz(dir + "/arrays.npz", {{"x", io::NdArray::zeros(io::DType::Float32, {2, 2}), nullptr}});
  EXPECT_THROW(model::read_checkpoint(dir + "/arrays.npz"), InputError);
  EXPECT_THROW(model::read_checkpoint(dir + "/missing.bin"), InputError);
}

TEST(CheckpointPython, WrittenCheckpointLoadsWithPythonTorch) {
  std::string out;
  if (test::run_command("/usr/bin/python3 -c 'import torch' >/dev/null", &out) != 0)
    GTEST_SKIP() << "Debian's python3-torch is absent: Python interop check skipped";
  model::PoseFormerConfig c;
  c.num_frames = 9;
  c.embed_dim_ratio = 8;
  c.depth = 2;
  model::PoseFormer net(c);
  randomise(net, 5);
  torch::optim::AdamW adamw(net->parameters(), torch::optim::AdamWOptions(2e-4).weight_decay(0.1));
  net->forward(torch::randn({2, 9, 17, 2})).sum().backward();
  adamw.step();
  const std::string dir = test::temp_dir("python_load");
  model::CheckpointContents contents;
  contents.epoch = 3;
  contents.lr = 1.5e-4;
  contents.model = net.get();
  contents.optimizer = &adamw;
  model::write_checkpoint(dir + "/ours.bin", contents);
  double total = 0;
  for (const auto& p : net->parameters()) total += p.to(torch::kFloat64).sum().item<double>();

  const std::string fixture = test::shared_path("fixtures/poseformer-tiny/checkpoint/model.bin");
  const std::string script = dir + "/check.py";
  std::ofstream(script) << "import sys, torch\n"
                           "ck = torch.load(sys.argv[1], map_location='cpu')\n"
                           "assert ck['epoch'] == 3 and abs(ck['lr'] - 1.5e-4) < 1e-15\n"
                           "sd = ck['model_pos']\n"
                           "assert type(sd).__name__ == 'OrderedDict'\n"
                           "total = sum(float(t.double().sum()) for t in sd.values())\n"
                           "assert abs(total - float(sys.argv[2])) < 1e-6 * max(1, abs(total)), total\n"
                           "opt = ck['optimizer']\n"
                           "assert len(opt['state']) == len(sd) and float(opt['state'][0]['step']) == 1.0\n"
                           "if len(sys.argv) > 3 and sys.argv[3]:\n"
                           "    ref = torch.load(sys.argv[3], map_location='cpu')['model_pos']\n"
                           "    ref = {k[len('module.'):]: v for k, v in ref.items()}\n"
                           "    assert list(ref.keys()) == list(sd.keys())\n"
                           "    assert all(ref[k].shape == sd[k].shape for k in sd)\n"
                           "    # The optimizer state loads into PyTorch's own AdamW.\n"
                           "    params = [torch.nn.Parameter(t.clone()) for t in sd.values()]\n"
                           "    o = torch.optim.AdamW(params, lr=1.0)\n"
                           "    o.load_state_dict(opt)\n"
                           "print('ok')\n";
  const int status = test::run_command(
      "/usr/bin/python3 " + script + " " + dir + "/ours.bin " + std::to_string(total) + " '" + fixture + "'", &out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("ok"), std::string::npos) << out;
}
