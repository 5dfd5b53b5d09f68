// VideoPose3D: parity with the original TemporalModel (fixture and a round trip through the
// original code), its strided training form, state dict names and order, config inference.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/videopose3d.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

const char* const kFixture = "fixtures/zoo/videopose3d-f27";

std::string fixture_checkpoint() { return test::shared_path(std::string(kFixture) + "/checkpoint/model.bin"); }

torch::Tensor fixture_array(const std::string& name) {
  return model::to_tensor(io::read_npy(test::shared_path(std::string(kFixture) + "/" + name)).array);
}

double max_abs(const torch::Tensor& a) { return a.to(torch::kFloat64).abs().max().item<double>(); }
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return max_abs(a - b); }

std::vector<std::string> keys_of(const model::StateDict& state) {
  std::vector<std::string> keys;
  for (const auto& entry : state) keys.push_back(entry.first);
  return keys;
}

model::VideoPose3DConfig small_config(std::vector<int> widths = {3, 3, 3}, int channels = 16) {
  model::VideoPose3DConfig c;
  c.filter_widths = std::move(widths);
  c.channels = channels;
  return c;
}

// Weights and BatchNorm statistics away from their initial values, so a load that silently
// skipped a tensor, or a form that ignored a statistic, shows.
void randomise(model::VideoPose3D& net, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    const bool bn_weight = p.key().find("bn") != std::string::npos && p.key().find("weight") != std::string::npos;
    p.value().copy_(bn_weight ? 1 + 0.2 * torch::randn_like(p.value()) : 0.2 * torch::randn_like(p.value()));
  }
  for (auto& b : net->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().copy_(0.3 * torch::randn_like(b.value()));
    if (b.key().find("running_var") != std::string::npos) b.value().copy_(0.5 + torch::rand_like(b.value()));
    if (b.key().find("num_batches_tracked") != std::string::npos) b.value().fill_(7);
  }
}

model::VideoPose3D load_fixture_model(const model::Checkpoint& ck, const model::StateDict& state) {
  model::VideoPose3D net(model::infer_videopose3d_config(state, ck.source));
  model::load_state_dict(*net, state, true, ck.source);
  net->eval();
  return net;
}

void expect_fixture_parity(bool trajectory) {
  auto ck = model::read_checkpoint(fixture_checkpoint());
  const auto& state = trajectory ? ck.trajectory_state : ck.model_state;
  ASSERT_FALSE(state.empty());
  auto net = load_fixture_model(ck, state);
  auto input = fixture_array("forward_input.npy");
  auto expected = fixture_array(trajectory ? "forward_traj_output.npy" : "forward_output.npy");
  torch::NoGradGuard no_grad;
  auto output = net->forward(input);
  ASSERT_EQ(output.sizes(), expected.sizes());
  const double err = max_abs_diff(output, expected), scale = max_abs(expected);
  EXPECT_LE(err, 1e-5 * scale) << "max abs error " << err << " (max |expected| " << scale << ")";
  std::printf("videopose3d-f27 %s: max abs error %.3g, max |expected| %.3g, ratio %.3g\n",
              trajectory ? "model_traj" : "model_pos", err, scale, err / scale);
}

}  // namespace

// ---------------------------------------------------------------- fixture parity

TEST(VideoPose3DParity, PoseModelMatchesOriginalForward) {
  POSELIFT_REQUIRE_SHARED();
  expect_fixture_parity(false);
}

TEST(VideoPose3DParity, TrajectoryModelMatchesOriginalForward) {
  POSELIFT_REQUIRE_SHARED();
  expect_fixture_parity(true);
}

TEST(VideoPose3DParity, FixtureParameterCountAsTheOriginalReports) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(fixture_checkpoint());
  auto net = load_fixture_model(ck, ck.model_state);
  EXPECT_EQ(net->parameter_count(), 43251);  // config.json "parameters", counted by the original
  EXPECT_EQ(net->receptive_field(), 27);
  EXPECT_EQ(net->describe(), "receptive field 27 frames (filter widths 3,3,3), 64 channels, 17 joints -> 17");
}

// ---------------------------------------------------------------- state dicts

TEST(VideoPose3DState, KeysInTheOriginalsOrderAndStrictLoad) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(fixture_checkpoint());
  for (const auto* state : {&ck.model_state, &ck.trajectory_state}) {
    model::VideoPose3D net(model::infer_videopose3d_config(*state, ck.source));
    const auto fixture_keys = keys_of(*state);
    // PyTorch's state_dict order, BatchNorm statistics beside their weights.
    EXPECT_EQ(keys_of(model::module_state(*net)), fixture_keys);
    // parameters() order (optimizer indices) is the fixture's order without the buffers.
    std::vector<std::string> fixture_params;
    for (const auto& key : fixture_keys)
      if (key.find("running_") == std::string::npos && key.find("num_batches_tracked") == std::string::npos)
        fixture_params.push_back(key);
    std::vector<std::string> params;
    for (const auto& p : net->named_parameters()) params.push_back(p.key());
    EXPECT_EQ(params, fixture_params);
    // module_state (what write_checkpoint saves) has the same keys, parameters first.
    auto saved = keys_of(model::module_state(*net));
    auto sorted_fixture = fixture_keys;
    std::sort(saved.begin(), saved.end());
    std::sort(sorted_fixture.begin(), sorted_fixture.end());
    EXPECT_EQ(saved, sorted_fixture);

    auto report = model::load_state_dict(*net, *state, true, ck.source);
    EXPECT_TRUE(report.clean());
    auto loaded = model::module_state(*net);
    ASSERT_EQ(loaded.size(), state->size());
    for (std::size_t i = 0; i < loaded.size(); ++i)
      EXPECT_TRUE(torch::equal(loaded[i].second, (*state)[i].second)) << loaded[i].first;
  }
}

TEST(VideoPose3DState, RegistrationOrderByHand) {
  model::VideoPose3D net(small_config({3, 5}, 8));
  const std::vector<std::string> expected = {
      "expand_bn.weight", "expand_bn.bias", "expand_bn.running_mean", "expand_bn.running_var",
      "expand_bn.num_batches_tracked", "shrink.weight", "shrink.bias", "expand_conv.weight",
      "layers_conv.0.weight", "layers_conv.1.weight", "layers_bn.0.weight", "layers_bn.0.bias",
      "layers_bn.0.running_mean", "layers_bn.0.running_var", "layers_bn.0.num_batches_tracked",
      "layers_bn.1.weight", "layers_bn.1.bias", "layers_bn.1.running_mean", "layers_bn.1.running_var",
      "layers_bn.1.num_batches_tracked"};
  EXPECT_EQ(keys_of(model::module_state(*net)), expected);
  EXPECT_EQ(net->expand_conv->weight.sizes(), (std::vector<std::int64_t>{8, 34, 3}));
  EXPECT_EQ(net->layers_conv[0]->as<torch::nn::Conv1d>()->weight.sizes(), (std::vector<std::int64_t>{8, 8, 5}));
  EXPECT_EQ(net->layers_conv[0]->as<torch::nn::Conv1d>()->options.dilation()->at(0), 3);
  EXPECT_FALSE(net->expand_conv->options.bias());
  EXPECT_TRUE(net->shrink->options.bias());
}

// ---------------------------------------------------------------- configuration

TEST(VideoPose3DConfig, InferredFromTheFixture) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(fixture_checkpoint());
  auto pos = model::infer_videopose3d_config(ck.model_state, ck.source);
  EXPECT_EQ(pos.filter_widths, (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(pos.channels, 64);
  EXPECT_EQ(pos.num_joints_in, 17);
  EXPECT_EQ(pos.in_features, 2);
  EXPECT_EQ(pos.num_joints_out, 17);
  EXPECT_FALSE(pos.causal);
  EXPECT_FALSE(pos.dense);
  auto traj = model::infer_videopose3d_config(ck.trajectory_state, ck.source, true);
  EXPECT_EQ(traj.filter_widths, (std::vector<int>{3, 3, 3}));
  EXPECT_EQ(traj.channels, 64);
  EXPECT_EQ(traj.num_joints_in, 17);
  EXPECT_EQ(traj.in_features, 2);
  EXPECT_EQ(traj.num_joints_out, 1);
  EXPECT_TRUE(traj.causal);  // from the caller
}

TEST(VideoPose3DConfig, InferredFromOwnModels) {
  struct Case {
    std::vector<int> widths;
    int joints_in, features, joints_out;
    bool dense;
  };
  for (const Case& c : {Case{{3, 3, 3, 3, 3}, 17, 2, 17, false}, Case{{5, 3}, 15, 3, 15, false},
                        Case{{3, 3, 3}, 17, 2, 1, true}, Case{{1, 5, 3}, 16, 2, 16, true}, Case{{7}, 17, 3, 1, false}}) {
    auto config = small_config(c.widths, 8);
    config.num_joints_in = c.joints_in;
    config.in_features = c.features;
    config.num_joints_out = c.joints_out;
    config.dense = c.dense;
    model::VideoPose3D net(config);
    auto inferred = model::infer_videopose3d_config(model::module_state(*net), "own", false, c.dense);
    EXPECT_EQ(inferred.filter_widths, c.widths) << config.describe();
    EXPECT_EQ(inferred.channels, 8);
    EXPECT_EQ(inferred.num_joints_in, c.joints_in) << config.describe();
    EXPECT_EQ(inferred.in_features, c.features) << config.describe();
    EXPECT_EQ(inferred.num_joints_out, c.joints_out);
    EXPECT_EQ(inferred.dense, c.dense);
  }
}

TEST(VideoPose3DConfig, MalformedStateDictsAreRejectedNamingTheKey) {
  model::VideoPose3D net(small_config({3, 3, 3}, 8));
  const auto good = model::module_state(*net);
  auto expect_rejected = [&](const model::StateDict& state, const std::string& key, const std::string& what) {
    try {
      model::infer_videopose3d_config(state, "bad.bin");
      ADD_FAILURE() << what << ": accepted";
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("bad.bin"), std::string::npos) << message;
      EXPECT_NE(message.find(key), std::string::npos) << what << ": " << message;
    }
  };
  auto without = [&](const std::string& key) {
    model::StateDict state;
    for (const auto& entry : good)
      if (entry.first != key) state.push_back(entry);
    return state;
  };
  auto replaced = [&](const std::string& key, torch::Tensor tensor) {
    auto state = good;
    for (auto& entry : state)
      if (entry.first == key) entry.second = tensor;
    return state;
  };
  EXPECT_NO_THROW(model::infer_videopose3d_config(good, "good.bin"));
  expect_rejected(without("layers_bn.1.running_var"), "layers_bn.1.running_var", "missing statistic");
  expect_rejected(without("expand_conv.weight"), "expand_conv.weight", "missing input layer");
  expect_rejected(without("shrink.bias"), "shrink.bias", "missing bias");
  expect_rejected(without("layers_conv.3.weight"), "layers_conv.3.weight", "unpaired layer");
  expect_rejected(replaced("layers_conv.2.weight", torch::zeros({6, 8, 3})), "layers_conv.2.weight",
                  "inconsistent channels");
  expect_rejected(replaced("layers_bn.2.bias", torch::zeros({6})), "layers_bn.2.bias", "inconsistent channels");
  expect_rejected(replaced("shrink.weight", torch::zeros({51, 6, 1})), "shrink.weight", "inconsistent channels");
  expect_rejected(replaced("layers_conv.0.weight", torch::zeros({8, 8, 4})), "layers_conv.0.weight", "even width");
  expect_rejected(replaced("shrink.weight", torch::zeros({50, 8, 1})), "shrink.weight", "not 3 per joint");
  expect_rejected(replaced("expand_conv.weight", torch::zeros({8, 34})), "expand_conv.weight", "wrong rank");
  auto extra = good;
  extra.emplace_back("layers_conv.4.weight", torch::zeros({8, 8, 3}));
  expect_rejected(extra, "layers_conv.5.weight", "odd layer count");
  auto stray = good;
  stray.emplace_back("layers_conv.x.bias", torch::zeros({8}));
  expect_rejected(stray, "layers_conv.x.bias", "stray key");
  expect_rejected({}, "expand_conv.weight", "empty dict");
}

TEST(VideoPose3DConfig, DescribeValidateAndDerivedFigures) {
  model::VideoPose3DConfig c = small_config({3, 3, 3}, 64);
  EXPECT_EQ(c.receptive_field(), 27);
  EXPECT_EQ(c.describe(), "receptive field 27 frames (filter widths 3,3,3), 64 channels, 17 joints -> 17");
  // The original's pad and causal_shift lists for widths 3,3,3: [1, 3, 9] and [1, 3, 9] when causal.
  EXPECT_EQ(c.pad(0), 1);
  EXPECT_EQ(c.pad(1), 3);
  EXPECT_EQ(c.pad(2), 9);
  EXPECT_EQ(c.causal_shift(2), 0);
  c.causal = true;
  EXPECT_EQ(c.causal_shift(0), 1);
  EXPECT_EQ(c.causal_shift(1), 3);
  EXPECT_EQ(c.causal_shift(2), 9);
  c.dense = true;
  c.num_joints_out = 1;
  EXPECT_EQ(c.kernel_width(1), 7);
  EXPECT_EQ(c.kernel_width(2), 19);
  EXPECT_EQ(c.describe(), "receptive field 27 frames (filter widths 3,3,3), 64 channels, 17 joints -> 1, causal, dense");
  EXPECT_EQ(small_config({3, 3, 3, 3, 3}).receptive_field(), 243);

  for (auto widths : {std::vector<int>{}, std::vector<int>{3, 4}, std::vector<int>{0}, std::vector<int>{-3}}) {
    auto bad = small_config(widths);
    EXPECT_THROW(bad.validate(), InputError);
    EXPECT_THROW(model::VideoPose3D{bad}, InputError);
  }
  auto bad = small_config();
  bad.dropout = 1.0;
  EXPECT_THROW(bad.validate(), InputError);
  bad = small_config();
  bad.channels = 0;
  EXPECT_THROW(bad.validate(), InputError);
  bad = small_config();
  bad.num_joints_out = 0;
  EXPECT_THROW(bad.validate(), InputError);
}

TEST(VideoPose3DConfig, MacsPerOutputFrameByHand) {
  model::VideoPose3D net(small_config({3, 3, 3}, 64));
  // expand 3 x 34 x 64, two blocks of (3 x 64 x 64 + 64 x 64), shrink 64 x 51.
  EXPECT_DOUBLE_EQ(net->macs_per_output_frame(), 3 * 34 * 64 + 2 * (3 * 64 * 64 + 64 * 64) + 64 * 51);
  auto dense = small_config({3, 3, 3}, 64);
  dense.dense = true;
  dense.num_joints_out = 1;
  // Dense kernels 7 and 19 frames wide.
  EXPECT_DOUBLE_EQ(model::VideoPose3D(dense)->macs_per_output_frame(),
                   3 * 34 * 64 + (7 * 64 * 64 + 64 * 64) + (19 * 64 * 64 + 64 * 64) + 64 * 3);
  // The same figure counted from the module's own weights.
  double from_weights = 0;
  for (const auto& p : net->named_parameters())
    if (p.key().find("conv") != std::string::npos || p.key() == "shrink.weight") from_weights += p.value().numel();
  EXPECT_DOUBLE_EQ(net->macs_per_output_frame(), from_weights);
}

// ---------------------------------------------------------------- forward

TEST(VideoPose3DForward, ShapesAndInputErrors) {
  model::VideoPose3D net(small_config({3, 3}, 8));
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::randn({2, 9, 17, 2})).sizes(), (std::vector<std::int64_t>{2, 1, 17, 3}));
  EXPECT_EQ(net->forward(torch::randn({1, 20, 17, 2})).sizes(), (std::vector<std::int64_t>{1, 12, 17, 3}));
  auto expect_error = [&](const torch::Tensor& x, const std::string& fragment) {
    try {
      net->forward(x);
      ADD_FAILURE() << "accepted " << x.sizes();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(torch::randn({2, 9, 16, 2}), "17 joints");
  expect_error(torch::randn({2, 9, 17, 3}), "2 channels");
  expect_error(torch::randn({2, 8, 17, 2}), "at least 9");
  expect_error(torch::randn({9, 17, 2}), "shape (9, 17, 2)");
  EXPECT_THROW(net->forward_strided(torch::randn({2, 10, 17, 2})), InputError);
  auto dense = small_config({3, 3}, 8);
  dense.dense = true;
  EXPECT_THROW(model::VideoPose3D(dense)->forward_strided(torch::randn({2, 9, 17, 2})), InputError);
}

TEST(VideoPose3DForward, TrajectoryModelHasOneJoint) {
  auto config = small_config({3, 3}, 8);
  config.num_joints_out = 1;
  model::VideoPose3D net(config);
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::randn({2, 11, 17, 2})).sizes(), (std::vector<std::int64_t>{2, 3, 1, 3}));
  EXPECT_EQ(net->output_joints(), 1);
}

// A long sequence through the dilated form equals each receptive-field window on its own: the
// convolution's outputs are independent windows (causal or not).
TEST(VideoPose3DForward, LongSequenceEqualsItsWindows) {
  for (bool causal : {false, true}) {
    auto config = small_config({3, 3, 3}, 16);
    config.causal = causal;
    model::VideoPose3D net(config);
    randomise(net, 3);
    net->eval();
    torch::NoGradGuard no_grad;
    auto x = torch::randn({2, 35, 17, 2});
    auto whole = net->forward(x);
    ASSERT_EQ(whole.size(1), 9);
    for (int t = 0; t < 9; ++t) {
      auto window = net->forward(x.slice(1, t, t + 27));
      EXPECT_LE(max_abs_diff(window.squeeze(1), whole.select(1, t)), 1e-5) << "causal " << causal << " frame " << t;
    }
  }
}

// The strided form computes only the positions that reach the one output frame: with BatchNorm
// on its running statistics (BatchNorm modules in eval while the model trains, dropout 0) it
// must equal the dilated form; with batch statistics it must differ, because the dilated form's
// statistics include the unused positions.
TEST(VideoPose3DStrided, EqualsTheDilatedFormOnReceptiveFieldWindows) {
  for (bool causal : {false, true}) {
    for (auto widths : {std::vector<int>{3, 3, 3}, std::vector<int>{5, 3}, std::vector<int>{3, 1, 5}}) {
      auto config = small_config(widths, 16);
      config.causal = causal;
      config.dropout = 0.0;
      model::VideoPose3D net(config);
      randomise(net, 11);
      const int F = net->receptive_field();
      torch::manual_seed(12);
      auto x = torch::randn({4, F, 17, 2});
      torch::NoGradGuard no_grad;

      net->eval();
      auto reference = net->forward(x);  // dilated, running statistics
      EXPECT_FALSE(net->uses_strided_form(x));

      net->train();
      EXPECT_TRUE(net->uses_strided_form(x));
      EXPECT_FALSE(net->uses_strided_form(torch::randn({4, F + 2, 17, 2})));
      net->expand_bn->eval();
      for (const auto& bn : *net->layers_bn) bn->eval();
      auto strided = net->forward(x);
      ASSERT_EQ(strided.sizes(), reference.sizes());
      const double err = max_abs_diff(strided, reference);
      EXPECT_LE(err, 1e-5 * max_abs(reference)) << config.describe() << ": " << err;
      EXPECT_LE(max_abs_diff(net->forward_strided(x), net->forward_dilated(x)), 1e-5 * max_abs(reference));

      // Batch statistics: forward is the strided computation, not the dilated one.
      net->train();
      auto train_forward = net->forward(x);
      EXPECT_TRUE(torch::equal(train_forward, net->forward_strided(x)));
      EXPECT_GT(max_abs_diff(train_forward, net->forward_dilated(x)), 1e-3) << config.describe();
      net->set_strided_training(false);
      EXPECT_FALSE(net->uses_strided_form(x));
      EXPECT_TRUE(torch::equal(net->forward(x), net->forward_dilated(x)));
    }
  }
}

TEST(VideoPose3DStrided, DenseModelsTrainDilated) {
  auto config = small_config({3, 3}, 8);
  config.dense = true;
  model::VideoPose3D net(config);
  net->train();
  EXPECT_FALSE(net->uses_strided_form(torch::randn({2, 9, 17, 2})));
  EXPECT_EQ(net->forward(torch::randn({2, 9, 17, 2})).sizes(), (std::vector<std::int64_t>{2, 1, 17, 3}));
}

TEST(VideoPose3DTraining, BatchNormMomentumReachesEveryLayer) {
  auto config = small_config({3, 3, 3}, 8);
  config.dropout = 0.0;
  model::VideoPose3D net(config);
  net->set_batch_norm_momentum(0.0);
  EXPECT_DOUBLE_EQ(net->expand_bn->options.momentum().value(), 0.0);
  for (const auto& bn : *net->layers_bn) EXPECT_DOUBLE_EQ(bn->as<torch::nn::BatchNorm1d>()->options.momentum().value(), 0.0);
  const auto before = model::module_state(*net);
  std::vector<torch::Tensor> stats;
  for (const auto& [key, t] : before) stats.push_back(t.clone());
  net->train();
  torch::NoGradGuard no_grad;
  net->forward(torch::randn({4, 27, 17, 2}));
  // Momentum 0: the running statistics stay.
  const auto after = model::module_state(*net);
  for (std::size_t i = 0; i < after.size(); ++i)
    if (after[i].first.find("running_") != std::string::npos) {
      EXPECT_TRUE(torch::equal(after[i].second, stats[i])) << after[i].first;
    }
  // Momentum 1: the running mean becomes the batch mean of the layer's input.
  net->set_batch_norm_momentum(1.0);
  auto x = torch::randn({4, 27, 17, 2});
  net->forward(x);
  auto expanded = torch::conv1d(x.reshape({4, 27, 34}).permute({0, 2, 1}), net->expand_conv->weight, {}, 3);
  EXPECT_LE(max_abs_diff(net->expand_bn->running_mean, expanded.mean(std::vector<std::int64_t>{0, 2})), 1e-5);
}

// ---------------------------------------------------------------- the original code

namespace {
std::string original_model_py(const std::string& dir, std::string* why) {
  const char* env = std::getenv("POSELIFT_VIDEOPOSE3D_REPO");
  const std::string repo = env && *env ? env : "/work/.mirror/facebookresearch+VideoPose3D/repo";
  if (test::run_command("/usr/bin/python3 -c 'import torch, numpy' >/dev/null") != 0) {
    *why = "Debian's python3 with torch and numpy is absent";
    return "";
  }
  const std::string path = dir + "/model.py";
  std::string out;
  if (!fs::exists(repo) || test::run_command("git -C '" + repo + "' show HEAD:common/model.py > '" + path + "'", &out) != 0) {
    *why = "the original VideoPose3D repository (" + repo + ", or $POSELIFT_VIDEOPOSE3D_REPO) is absent";
    return "";
  }
  return path;
}
}  // namespace

// A checkpoint poselift wrote loads strictly into the original TemporalModel (and
// TemporalModelOptimized1f), whose outputs and updated BatchNorm statistics equal poselift's.
TEST(VideoPose3DOriginal, WrittenCheckpointRunsInTheOriginalCode) {
  const std::string dir = test::temp_dir("videopose3d_original");
  std::string why;
  const std::string model_py = original_model_py(dir, &why);
  if (model_py.empty()) GTEST_SKIP() << why << ": round trip through the original code skipped";
  const std::string script = std::string(POSELIFT_SOURCE_DIR) + "/tests/reference/videopose3d_reference.py";

  struct Case {
    std::vector<int> widths;
    bool causal, dense, train;
  };
  int index = 0;
  for (const Case& c : {Case{{3, 3, 3}, false, false, false}, Case{{3, 3, 3}, true, false, false},
                        Case{{3, 5}, false, true, false}, Case{{3, 3, 3}, false, false, true},
                        Case{{5, 3}, true, false, true}, Case{{3, 3}, false, true, true}}) {
    auto config = small_config(c.widths, 16);
    config.causal = c.causal;
    config.dense = c.dense;
    config.dropout = c.train ? 0.0 : 0.25;
    auto traj_config = config;
    traj_config.num_joints_out = 1;
    model::VideoPose3D pos(config), traj(traj_config);
    randomise(pos, 21 + index);
    randomise(traj, 41 + index);
    const std::string ck = dir + "/ours_" + std::to_string(index) + ".bin";
    model::CheckpointContents contents;
    contents.epoch = 2;
    contents.lr = 1e-3;
    contents.model = pos.get();
    contents.trajectory = traj.get();
    model::write_checkpoint(ck, contents);

    // Training: one receptive-field window per sample (the strided form where it applies).
    const int F = pos->receptive_field();
    torch::manual_seed(100 + index);
    auto x = torch::randn({5, c.train ? F : F + 6, 17, 2});
    const std::string input = dir + "/input_" + std::to_string(index) + ".npy";
    io::write_npy(input, model::to_ndarray(x));
    std::string widths;
    for (int w : c.widths) widths += (widths.empty() ? "" : ",") + std::to_string(w);

    for (auto [net, key] : {std::pair{&pos, "model_pos"}, std::pair{&traj, "model_traj"}}) {
      const std::string result = dir + "/" + key + "_" + std::to_string(index) + ".npz";
      const bool optimized = c.train && !c.dense;
      std::string out;
      const std::string command =
          "/usr/bin/python3 " + script + " " + model_py + " " + ck + " " + key + " " + input + " " + result +
          " --widths " + widths + " --channels 16 --joints-in 17 --features 2 --joints-out " +
          std::to_string((*net)->output_joints()) + (c.causal ? " --causal" : "") + (c.dense ? " --dense" : "") +
          (optimized ? " --optimized" : "") + (c.train ? " --train" : "");
      ASSERT_EQ(test::run_command(command, &out), 0) << command << "\n" << out;

      (*net)->train(c.train);
      EXPECT_EQ((*net)->uses_strided_form(x), optimized);
      torch::Tensor ours;
      {
        torch::NoGradGuard no_grad;
        ours = (*net)->forward(x);
      }
      auto reference = io::read_npz(result);
      auto expected = model::to_tensor(reference.at("output", result).array);
      ASSERT_EQ(ours.sizes(), expected.sizes()) << key;
      const double err = max_abs_diff(ours, expected), scale = max_abs(expected);
      EXPECT_LE(err, 1e-5 * scale) << key << " " << (*net)->describe() << (c.train ? " training" : " eval");
      std::printf("%s, %s, %s: max abs error vs the original %.3g (max |expected| %.3g)\n", key,
                  (*net)->describe().c_str(), c.train ? (optimized ? "training, strided" : "training") : "eval", err,
                  scale);
      // The training forward updated the running statistics as the original's did.
      for (const auto& [name, tensor] : model::module_state(**net)) {
        if (name.find("running_") == std::string::npos) continue;
        auto theirs = model::to_tensor(reference.at(name, result).array);
        EXPECT_LE(max_abs_diff(tensor, theirs), 1e-5 * std::max(1.0, max_abs(theirs))) << key << " " << name;
      }
    }
    ++index;
  }
}
