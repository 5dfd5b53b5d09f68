// MixSTE (MixSTE2): parity with the original PyTorch code's fixture, state dict layout,
// configuration inference, input validation, its cost and a checkpoint round trip through the
// original model.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/mixste.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFixture = "fixtures/zoo/mixste-f27";
constexpr std::int64_t kFixtureParameters = 35971;  // config.json "parameters"

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

double max_abs(const torch::Tensor& a) { return a.to(torch::kFloat64).abs().max().item<double>(); }

// The fixture's constructor arguments (config.json; run.py -f 27 -cs 32 -dep 2).
model::MixSTEConfig fixture_config() {
  model::MixSTEConfig c;
  c.num_frames = 27;
  c.embed_dim_ratio = 32;
  c.depth = 2;
  return c;
}

void randomise(torch::nn::Module& net, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : net.parameters()) p.copy_(torch::randn_like(p) * 0.2);
}

std::string expect_input_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

model::Checkpoint fixture_checkpoint() {
  return model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
}

}  // namespace

// ---------------------------------------------------------------- configuration

TEST(MixSTEConfig, DefaultsAreRunPysAndDescribeValidate) {
  // run.py: -cs 512, -dep 8, -f 243 by default; the training model's drop_path_rate 0.1.
  const model::MixSTEConfig defaults;
  EXPECT_EQ(defaults.embed_dim_ratio, 512);
  EXPECT_EQ(defaults.depth, 8);
  EXPECT_EQ(defaults.num_frames, 243);
  EXPECT_DOUBLE_EQ(defaults.drop_path_rate, 0.1);
  EXPECT_NO_THROW(defaults.validate());

  auto c = fixture_config();
  EXPECT_EQ(c.describe(), "27 frames, 17 joints, width 32, depth 2, 8 heads, mlp 2");
  c.in_chans = 3;
  EXPECT_EQ(c.describe(), "27 frames, 17 joints, 3 input channels, width 32, depth 2, 8 heads, mlp 2");
  auto bad = [&](auto change, const std::string& phrase) {
    auto d = fixture_config();
    change(d);
    const std::string message = expect_input_error([&] { d.validate(); });
    EXPECT_TRUE(contains(message, phrase)) << message;
    EXPECT_TRUE(contains(message, "MixSTE configuration")) << message;
  };
  bad([](auto& d) { d.num_frames = 0; }, "frame count");
  bad([](auto& d) { d.num_joints = 0; }, "joint count");
  bad([](auto& d) { d.in_chans = 0; }, "input channel count");
  bad([](auto& d) { d.depth = 0; }, "depth must be at least 1");
  bad([](auto& d) { d.num_heads = 3; }, "not divisible by 3 heads");
  bad([](auto& d) { d.num_heads = 0; }, "heads must be positive");
  bad([](auto& d) { d.mlp_ratio = 0.01; }, "empty hidden layer");
  bad([](auto& d) { d.drop_path_rate = 1.0; }, "drop_path_rate");
  // An even window is fine: the original has no centre frame to find.
  auto even = fixture_config();
  even.num_frames = 26;
  EXPECT_NO_THROW(even.validate());
  auto broken = fixture_config();
  broken.num_heads = 5;
  EXPECT_THROW(model::MixSTE{broken}, InputError);
}

TEST(MixSTEConfig, LayerNormsAsTheOriginal) {
  // norm_layer = partial(nn.LayerNorm, eps=1e-6) for the blocks, Spatial_norm and Temporal_norm;
  // the head's nn.LayerNorm(embed_dim) keeps PyTorch's 1e-5.
  model::MixSTE net(fixture_config());
  EXPECT_DOUBLE_EQ(net->Spatial_norm->options.eps(), 1e-6);
  EXPECT_DOUBLE_EQ(net->Temporal_norm->options.eps(), 1e-6);
  for (auto* list : {&net->STEblocks, &net->TTEblocks})
    for (const auto& module : **list) {
      EXPECT_DOUBLE_EQ(module->as<model::TransformerBlock>()->norm1->options.eps(), 1e-6);
      EXPECT_DOUBLE_EQ(module->as<model::TransformerBlock>()->norm2->options.eps(), 1e-6);
    }
  EXPECT_DOUBLE_EQ(net->head[0]->as<torch::nn::LayerNorm>()->options.eps(), 1e-5);
}

TEST(MixSTEConfig, StochasticDepthRisesLinearlyOverTheRounds) {
  auto c = fixture_config();
  c.depth = 4;
  model::MixSTE net(c);
  // torch.linspace(0, 0.1, 4) = 0, 1/30, 2/30, 0.1, the same rate for both blocks of a round:
  // in training, every block but the first round's drops its branches.
  net->train();
  EXPECT_FALSE(net->STEblocks[0]->as<model::TransformerBlock>()->drop_path_active());
  EXPECT_FALSE(net->TTEblocks[0]->as<model::TransformerBlock>()->drop_path_active());
  for (int i = 1; i < 4; ++i) {
    EXPECT_TRUE(net->STEblocks[i]->as<model::TransformerBlock>()->drop_path_active()) << i;
    EXPECT_TRUE(net->TTEblocks[i]->as<model::TransformerBlock>()->drop_path_active()) << i;
  }
  net->eval();
  EXPECT_FALSE(net->TTEblocks[3]->as<model::TransformerBlock>()->drop_path_active());
}

// ---------------------------------------------------------------- the fixture

TEST(MixSTEParity, FixtureMatchesOriginalForward) {
  POSELIFT_REQUIRE_SHARED();
  const std::string dir = test::shared_path(kFixture);
  auto ck = fixture_checkpoint();
  EXPECT_TRUE(ck.module_prefixed);
  auto config = model::infer_mixste_config(ck.model_state, 8, ck.source);
  model::MixSTE net(config);
  EXPECT_EQ(net->parameter_count(), kFixtureParameters);
  EXPECT_EQ(model::count_parameters(config), kFixtureParameters);
  model::load_state_dict(*net, ck.model_state, true, ck.source);
  net->eval();
  auto input = model::to_tensor(io::read_npy(dir + "/forward_input.npy").array);
  auto expected = model::to_tensor(io::read_npy(dir + "/forward_output.npy").array);
  ASSERT_EQ(input.sizes(), (std::vector<std::int64_t>{3, 27, 17, 2}));
  ASSERT_EQ(expected.sizes(), (std::vector<std::int64_t>{3, 27, 17, 3}));
  const double scale = max_abs(expected);
  ASSERT_GT(scale, 0.0);
  torch::NoGradGuard no_grad;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    auto output = net->forward(input);
    ASSERT_EQ(output.sizes(), expected.sizes());
    const double err = max_abs_diff(output, expected);
    EXPECT_LE(err, 1e-5 * scale) << model::implementation_name(impl);
    std::printf("mixste-f27, %s path: max abs error %.3g (max |expected| %.3g, relative %.3g)\n",
                model::implementation_name(impl), err, scale, err / scale);
  }
  // LibTorch's reference path runs the original's operations in its order: far closer than the
  // bound above (a head LayerNorm with the blocks' eps 1e-6 instead of nn.LayerNorm's 1e-5 moves
  // the output by 2e-6 of its scale, within 1e-5).
  net->set_implementation(model::Implementation::reference);
  EXPECT_LE(max_abs_diff(net->forward(input), expected), 1e-6 * scale);
  // Every frame's pose is its own: the output is not one pose repeated along the window.
  EXPECT_GT(max_abs_diff(expected.select(1, 0), expected.select(1, 26)), 1e-3 * scale);
}

TEST(MixSTEParity, KeyOrderAndStrictLoad) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = fixture_checkpoint();
  model::MixSTE net(fixture_config());
  const auto own = model::module_state(*net);
  ASSERT_EQ(own.size(), ck.model_state.size());
  for (std::size_t i = 0; i < own.size(); ++i) {
    EXPECT_EQ(own[i].first, ck.model_state[i].first) << "position " << i;
    EXPECT_EQ(own[i].second.sizes(), ck.model_state[i].second.sizes()) << own[i].first;
  }
  // parameters() (the optimizer's indices) in the same order: every entry is a parameter.
  const auto params = net->named_parameters(true);
  ASSERT_EQ(params.size(), ck.model_state.size());
  for (std::size_t i = 0; i < params.size(); ++i) EXPECT_EQ(params[i].key(), ck.model_state[i].first) << i;
  // With the prefix, as the original's DataParallel model saves it.
  EXPECT_EQ(model::module_state(*net, true).front().first, "module.Spatial_pos_embed");

  auto report = model::load_state_dict(*net, ck.model_state, true, ck.source);
  EXPECT_TRUE(report.clean());
  for (const auto& [name, tensor] : ck.model_state) {
    const auto* mine = net->named_parameters(true).find(name);
    ASSERT_NE(mine, nullptr) << name;
    EXPECT_TRUE(torch::equal(*mine, tensor)) << name;
  }
  // A dict missing a key is refused strictly, naming it; a wrong shape likewise.
  auto missing = ck.model_state;
  missing.erase(missing.begin() + 2);
  std::string message = expect_input_error([&] { model::load_state_dict(*net, missing, true, "trimmed.bin"); });
  EXPECT_TRUE(contains(message, "Spatial_patch_to_embedding.weight")) << message;
  model::MixSTE longer([] {
    auto c = fixture_config();
    c.num_frames = 81;
    return c;
  }());
  message = expect_input_error([&] { model::load_state_dict(*longer, ck.model_state, true, ck.source); });
  EXPECT_TRUE(contains(message, "Temporal_pos_embed")) << message;
}

TEST(MixSTEParity, InferConfigFromFixture) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = fixture_checkpoint();
  auto c = model::infer_mixste_config(ck.model_state, 8, ck.source);
  EXPECT_EQ(c.num_frames, 27);
  EXPECT_EQ(c.embed_dim_ratio, 32);
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.num_joints, 17);
  EXPECT_EQ(c.in_chans, 2);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_DOUBLE_EQ(c.mlp_ratio, 2.0);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_EQ(c.describe(), "27 frames, 17 joints, width 32, depth 2, 8 heads, mlp 2");
  EXPECT_EQ(model::infer_mixste_config(ck.model_state, 0, ck.source).num_heads, 8);
  EXPECT_EQ(model::infer_mixste_config(ck.model_state, 4, ck.source).num_heads, 4);
  // Without the qkv biases (qkv_bias=False in the original's constructor).
  model::StateDict no_bias;
  for (const auto& kv : ck.model_state)
    if (kv.first.find("attn.qkv.bias") == std::string::npos) no_bias.push_back(kv);
  EXPECT_FALSE(model::infer_mixste_config(no_bias, 8, "no_bias.bin").qkv_bias);
}

TEST(MixSTEParity, InferConfigRejectsMalformedDicts) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = fixture_checkpoint();
  auto without = [&](const std::string& prefix) {
    model::StateDict out;
    for (const auto& kv : ck.model_state)
      if (kv.first.rfind(prefix, 0) != 0) out.push_back(kv);
    return out;
  };
  auto replaced = [&](const std::string& key, const torch::Tensor& value) {
    auto out = ck.model_state;
    for (auto& kv : out)
      if (kv.first == key) kv.second = value;
    return out;
  };
  auto check = [&](const model::StateDict& state, const std::string& phrase, int heads = 8) {
    const std::string message = expect_input_error([&] { model::infer_mixste_config(state, heads, "bad.bin"); });
    EXPECT_TRUE(contains(message, "bad.bin")) << message;
    EXPECT_TRUE(contains(message, phrase)) << message;
  };
  check(without("Temporal_pos_embed"), "'Temporal_pos_embed' is missing");
  check(without("Spatial_patch_to_embedding"), "'Spatial_patch_to_embedding.weight' is missing");
  check(without("TTEblocks.1."), "2 spatial blocks ('STEblocks.N.') but 1 temporal");
  check(without("STEblocks."), "2 temporal blocks");
  check(without("head."), "'head.1.weight' is missing");
  check(replaced("Temporal_pos_embed", torch::zeros({27, 32})), "rank-3");
  check(replaced("Temporal_pos_embed", torch::zeros({1, 27, 16})), "'Temporal_pos_embed' has shape (1, 27, 16)");
  check(replaced("Spatial_patch_to_embedding.weight", torch::zeros({16, 2})),
        "'Spatial_patch_to_embedding.weight' has shape (16, 2)");
  check(replaced("head.1.weight", torch::zeros({51, 32})), "'head.1.weight' has shape (51, 32)");
  check(replaced("TTEblocks.1.mlp.fc1.weight", torch::zeros({128, 32})), "'TTEblocks.1.mlp.fc1.weight'");
  check(ck.model_state, "7 heads", 7);  // 32 / 7
  auto huge = ck.model_state;
  huge.emplace_back("STEblocks.99999.norm1.weight", torch::zeros({32}));
  check(huge, "block index below");
  // Other families' dicts are not MixSTE ones.
  auto v1 = model::read_checkpoint(test::shared_path("fixtures/poseformer-tiny/checkpoint/model.bin"));
  std::string message = expect_input_error([&] { model::infer_mixste_config(v1.model_state, 8, v1.source); });
  EXPECT_TRUE(contains(message, "not a MixSTE checkpoint")) << message;
  auto v2 = model::read_checkpoint(test::shared_path("fixtures/zoo/poseformerv2-f27/checkpoint/model.bin"));
  message = expect_input_error([&] { model::infer_mixste_config(v2.model_state, 8, v2.source); });
  EXPECT_TRUE(contains(message, "not a MixSTE checkpoint")) << message;
}

// ---------------------------------------------------------------- behaviour

TEST(MixSTEModel, InputValidation) {
  model::MixSTE net(fixture_config());
  net->eval();
  torch::NoGradGuard no_grad;
  auto message = expect_input_error([&] { net->forward(torch::zeros({2, 27, 16, 2})); });
  EXPECT_TRUE(contains(message, "got 16 joints")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({2, 27, 17, 3})); });
  EXPECT_TRUE(contains(message, "got 3 channels")) << message;
  // The original adds its whole temporal embedding in place: only num_frames frames run, shorter
  // or longer clips (1 frame included, which would broadcast) are refused.
  for (std::int64_t frames : {1, 9, 26, 28, 243}) {
    message = expect_input_error([&] { net->forward(torch::zeros({2, frames, 17, 2})); });
    EXPECT_TRUE(contains(message, fmt::format("got {} frames", frames))) << message;
    EXPECT_TRUE(contains(message, "exactly 27 frames")) << message;
  }
  message = expect_input_error([&] { net->forward(torch::zeros({27, 17, 2})); });
  EXPECT_TRUE(contains(message, "shape (27, 17, 2)")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({0, 27, 17, 2})); });
  EXPECT_TRUE(contains(message, "empty batch")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({1, 27, 17, 2}, torch::kInt64)); });
  EXPECT_TRUE(contains(message, "Long")) << message;
  message = expect_input_error([&] { net->forward(torch::Tensor()); });
  EXPECT_TRUE(contains(message, "none")) << message;
  EXPECT_EQ(net->forward(torch::zeros({1, 27, 17, 2})).sizes(), (std::vector<std::int64_t>{1, 27, 17, 3}));
}

TEST(MixSTEModel, BatchItemsAndFramesAreSeparateSequences) {
  // Each clip of the batch is computed alone, and changing one frame moves every frame's pose
  // (temporal attention) but no other clip's.
  model::MixSTE net(fixture_config());
  randomise(*net, 5);
  net->eval();
  torch::NoGradGuard no_grad;
  torch::manual_seed(6);
  auto input = torch::randn({3, 27, 17, 2}) * 0.5;
  auto whole = net->forward(input);
  for (int b = 0; b < 3; ++b)
    EXPECT_LE(max_abs_diff(whole[b], net->forward(input.narrow(0, b, 1))[0]), 1e-5 * max_abs(whole)) << b;
  auto changed = input.clone();
  changed[1][13] += 1.0;
  auto moved = net->forward(changed);
  EXPECT_TRUE(torch::equal(moved[0], whole[0]));
  EXPECT_TRUE(torch::equal(moved[2], whole[2]));
  EXPECT_GT(max_abs_diff(moved[1][0], whole[1][0]), 1e-6);
  EXPECT_GT(max_abs_diff(moved[1][26], whole[1][26]), 1e-6);
}

TEST(MixSTEModel, InterfaceFiguresAndHandCountedMacs) {
  model::MixSTE net(fixture_config());
  const model::LifterImpl& lifter = *net;
  EXPECT_EQ(lifter.family(), model::Family::MixSTE);
  EXPECT_EQ(lifter.temporal_shape(), model::TemporalShape::Sequence);
  EXPECT_EQ(lifter.receptive_field(), 27);
  EXPECT_EQ(lifter.input_joints(), 17);
  EXPECT_EQ(lifter.input_channels(), 2);
  EXPECT_EQ(lifter.output_joints(), 17);
  EXPECT_EQ(lifter.causal_shift(), 0);
  EXPECT_EQ(lifter.parameter_count(), kFixtureParameters);
  EXPECT_EQ(lifter.describe(), "27 frames, 17 joints, width 32, depth 2, 8 heads, mlp 2");

  // A tiny model by hand: 3 frames, 2 joints, 2 channels, width 2, depth 1, 1 head, MLP hidden 4.
  model::MixSTEConfig tiny;
  tiny.num_frames = 3;
  tiny.num_joints = 2;
  tiny.embed_dim_ratio = 2;
  tiny.depth = 1;
  tiny.num_heads = 1;
  // Per token of width 2: qkv 2*6 = 12, proj 4, MLP 2*4 + 4*2 = 16: 32.
  // Embedding: 3 frames x 2 joints x 2 channels x width 2 = 24.
  // Spatial block: 3 sequences of 2 tokens: 3 x (2 x 32 + QK^T 2*2*2 + AV 8) = 3 x 80 = 240.
  // Temporal block: 2 sequences of 3 tokens: 2 x (3 x 32 + QK^T 3*3*2 + AV 18) = 2 x 132 = 264.
  // Head: 6 tokens x 2 x 3 = 36. Clip: 24 + 240 + 264 + 36 = 564, over 3 output frames: 188.
  model::MixSTE small(tiny);
  EXPECT_DOUBLE_EQ(small->macs_per_output_frame(), 188.0);
  EXPECT_EQ(small->parameter_count(), model::count_parameters(tiny));
  // qkv bias absent: 3 x width fewer parameters per block, the same products.
  tiny.qkv_bias = false;
  model::MixSTE unbiased(tiny);
  EXPECT_EQ(unbiased->parameter_count(), small->parameter_count() - 2 * 3 * 2);
  EXPECT_EQ(unbiased->parameter_count(), model::count_parameters(tiny));
  EXPECT_DOUBLE_EQ(unbiased->macs_per_output_frame(), 188.0);
  // The published configuration (243 frames, width 512, depth 8) as run.py builds it: its
  // parameter count from the formula agrees with the module.
  model::MixSTEConfig published;
  EXPECT_EQ(model::count_parameters(published), model::MixSTE(published)->parameter_count());
}

TEST(MixSTEModel, FastPathMatchesReferenceWithGradientsAndInTraining) {
  auto config = fixture_config();
  config.depth = 3;
  model::MixSTE net(config);
  randomise(*net, 11);
  torch::manual_seed(12);
  auto input = torch::randn({2, 27, 17, 2}) * 0.5;
  auto target = torch::randn({2, 27, 17, 3});
  net->eval();
  std::vector<torch::Tensor> outputs, grads;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    net->zero_grad();
    auto output = net->forward(input);
    (output - target).square().mean().backward();
    outputs.push_back(output.detach());
    std::vector<torch::Tensor> g;
    for (auto& p : net->parameters()) g.push_back(p.grad().flatten().clone());
    grads.push_back(torch::cat(g));
  }
  EXPECT_LE(max_abs_diff(outputs[0], outputs[1]), 1e-5 * max_abs(outputs[0]));
  EXPECT_LE(max_abs_diff(grads[0], grads[1]), 1e-4 * max_abs(grads[0]));
  EXPECT_GT(max_abs(grads[0]), 0.0);
  // Training: stochastic depth drops whole branches per sequence, so two passes differ; with
  // the same random stream the two implementations agree.
  net->train();
  std::vector<torch::Tensor> trained;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    torch::manual_seed(99);
    trained.push_back(net->forward(input).detach());
  }
  EXPECT_LE(max_abs_diff(trained[0], trained[1]), 1e-5 * max_abs(trained[0]));
  torch::manual_seed(100);
  bool differs = false;
  for (int attempt = 0; attempt < 5 && !differs; ++attempt)
    differs = max_abs_diff(net->forward(input).detach(), trained[1]) > 1e-4;
  EXPECT_TRUE(differs) << "stochastic depth never changed the output in training";
}

// ---------------------------------------------------------------- the original code

TEST(MixSTEOriginal, CheckpointWrittenByPoseliftLoadsStrictlyIntoOriginal) {
  const std::string python = test::python_with_numpy();
  if (python.empty() || test::run_command(python + " -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with numpy and torch is absent: round trip through the original skipped";
  const std::string dir = test::temp_dir("mixste_original");
  // The original file: $POSELIFT_MIXSTE_SOURCE (its common/model_cross.py), else the local
  // mirror of JinluZhang1126/MixSTE.
  std::string original;
  if (const char* env = std::getenv("POSELIFT_MIXSTE_SOURCE"); env && fs::exists(env)) {
    original = env;
  } else {
    original = dir + "/model_cross.py";
    if (test::run_command("git -C /work/.mirror/JinluZhang1126+MixSTE/repo show HEAD:common/model_cross.py > " +
                          original + " 2>/dev/null") != 0)
      GTEST_SKIP() << "the original MixSTE code is absent (set POSELIFT_MIXSTE_SOURCE): skipped";
  }
  // A configuration unlike the fixture's: 10 frames (even), width 16, depth 3.
  model::MixSTEConfig c;
  c.num_frames = 10;
  c.embed_dim_ratio = 16;
  c.depth = 3;
  model::MixSTE net(c);
  randomise(*net, 21);
  net->eval();
  model::CheckpointContents contents;
  contents.epoch = 1;
  contents.model = net.get();
  model::write_checkpoint(dir + "/mixste.bin", contents);
  torch::manual_seed(22);
  auto input = torch::randn({3, 10, 17, 2}) * 0.5;
  io::write_npy(dir + "/input.npy", model::to_ndarray(input));

  std::string out;
  const int status = test::run_command(
      python + " " + std::string(POSELIFT_SOURCE_DIR) + "/tests/reference/mixste_original.py --original " + original +
          " --checkpoint " + dir + "/mixste.bin --input " + dir + "/input.npy --output " + dir +
          "/output.npy --frames 10 --cs 16 --dep 3 2>&1",
      &out);
  ASSERT_EQ(status, 0) << out;
  EXPECT_TRUE(contains(out, "keys in order")) << out;
  auto expected = model::to_tensor(io::read_npy(dir + "/output.npy").array);
  torch::NoGradGuard no_grad;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    auto output = net->forward(input);
    ASSERT_EQ(output.sizes(), expected.sizes());
    const double err = max_abs_diff(output, expected), scale = max_abs(expected);
    EXPECT_LE(err, 1e-5 * scale) << model::implementation_name(impl);
    std::printf("original MixSTE2 on poselift's checkpoint, %s path: max abs error %.3g (relative %.3g)\n",
                model::implementation_name(impl), err, err / scale);
  }
}
