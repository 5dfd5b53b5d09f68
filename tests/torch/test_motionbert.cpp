// MotionBERT (DSTformer): parity with the original PyTorch code's fixture (a full clip and a
// shorter one), state dict layout, configuration inference, the multiply-accumulate count of a
// tiny model by hand, and a checkpoint round trip through the original model.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/fast_profile.hpp"
#include "model/motionbert.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFixture = "fixtures/zoo/motionbert-small";
constexpr std::int64_t kFixtureParameters = 72519;  // config.json "parameters"

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

double max_abs(const torch::Tensor& a) { return a.to(torch::kFloat64).abs().max().item<double>(); }

// The fixture's constructor arguments (config.json).
model::MotionBERTConfig fixture_config() {
  model::MotionBERTConfig c;
  c.dim_feat = 32;
  c.dim_rep = 64;
  c.depth = 2;
  c.num_heads = 4;
  c.mlp_ratio = 2.0;
  c.maxlen = 27;
  c.norm_eps = 1e-5;
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

model::MotionBERT load_fixture_model(const model::MotionBERTConfig& config) {
  auto ck = model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
  model::MotionBERT net(config);
  model::load_state_dict(*net, ck.model_state, true, ck.source);
  net->eval();
  return net;
}

}  // namespace

// ---------------------------------------------------------------- configuration

TEST(MotionBERTConfig, DescribeAndValidate) {
  auto c = fixture_config();
  EXPECT_EQ(c.describe(), "maxlen 27, 17 joints, features 32, representation 64, depth 2, 4 heads, mlp 2");
  EXPECT_NO_THROW(c.validate());
  // The original's defaults (DSTformer's constructor and load_backbone).
  model::MotionBERTConfig defaults;
  EXPECT_EQ(defaults.describe(), "maxlen 243, 17 joints, features 256, representation 512, depth 5, 8 heads, mlp 4");
  EXPECT_DOUBLE_EQ(defaults.drop_path_rate, 0.0);
  EXPECT_DOUBLE_EQ(defaults.norm_eps, 1e-5);
  auto other = c;
  other.dim_in = 2;
  other.att_fuse = false;
  EXPECT_EQ(other.describe(),
            "maxlen 27, 17 joints, features 32, representation 64, depth 2, 4 heads, mlp 2, 2 input channels, "
            "mean fusion");
  auto bad = [&](auto change, const std::string& phrase) {
    auto d = fixture_config();
    change(d);
    const std::string message = expect_input_error([&] { d.validate(); });
    EXPECT_TRUE(contains(message, phrase)) << message;
    EXPECT_TRUE(contains(message, "MotionBERT configuration")) << message;
  };
  bad([](auto& d) { d.num_heads = 3; }, "not divisible by 3 heads");
  bad([](auto& d) { d.maxlen = 0; }, "maxlen");
  bad([](auto& d) { d.dim_rep = 0; }, "representation width");
  bad([](auto& d) { d.dim_out = 0; }, "output channel");
  bad([](auto& d) { d.dim_in = 0; }, "input channel");
  bad([](auto& d) { d.mlp_ratio = 0.01; }, "empty hidden layer");
  bad([](auto& d) { d.drop_path_rate = 1.0; }, "drop_path_rate");
  bad([](auto& d) { d.norm_eps = 0.0; }, "eps");
  auto odd = fixture_config();
  odd.num_heads = 5;
  EXPECT_THROW(model::MotionBERT{odd}, InputError);
}

TEST(MotionBERTConfig, StochasticDepthRisesLinearlyAsTheOriginal) {
  auto c = fixture_config();
  c.depth = 3;
  c.drop_path_rate = 0.2;
  model::MotionBERT net(c);
  // torch.linspace(0, 0.2, 3) = 0, 0.1, 0.2, for both streams.
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(net->blocks_st[i]->as<model::DualStreamBlock>()->drop_path_rate(), 0.1 * i, 1e-15) << i;
    EXPECT_NEAR(net->blocks_ts[i]->as<model::DualStreamBlock>()->drop_path_rate(), 0.1 * i, 1e-15) << i;
    EXPECT_EQ(net->blocks_st[i]->as<model::DualStreamBlock>()->order(), model::StageOrder::SpatialTemporal);
    EXPECT_EQ(net->blocks_ts[i]->as<model::DualStreamBlock>()->order(), model::StageOrder::TemporalSpatial);
  }
}

// ---------------------------------------------------------------- the fixture

TEST(MotionBERTParity, FixtureMatchesOriginalForwardFullAndShortClip) {
  POSELIFT_REQUIRE_SHARED();
  const std::string dir = test::shared_path(kFixture);
  auto ck = model::read_checkpoint(dir + "/checkpoint/model.bin");
  EXPECT_TRUE(ck.module_prefixed);
  auto net = load_fixture_model(fixture_config());
  EXPECT_EQ(net->parameter_count(), kFixtureParameters);
  EXPECT_EQ(model::count_parameters(fixture_config()), kFixtureParameters);
  torch::NoGradGuard no_grad;
  for (const std::string name : {"forward", "forward_short"}) {
    auto input = model::to_tensor(io::read_npy(dir + "/" + name + "_input.npy").array);
    auto expected = model::to_tensor(io::read_npy(dir + "/" + name + "_output.npy").array);
    ASSERT_EQ(input.size(1), name == "forward" ? 27 : 10);
    ASSERT_EQ(input.sizes(), (std::vector<std::int64_t>{2, input.size(1), 17, 3}));
    const double scale = max_abs(expected);
    ASSERT_GT(scale, 0.0);
    for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
      net->set_implementation(impl);
      auto output = net->forward(input);
      ASSERT_EQ(output.sizes(), expected.sizes());
      const double err = max_abs_diff(output, expected);
      EXPECT_LE(err, 1e-5 * scale) << name << ", " << model::implementation_name(impl);
      std::printf("motionbert-small %s (%lld frames), %s path: max abs error %.3g (max |expected| %.3g, relative "
                  "%.3g)\n",
                  name.c_str(), static_cast<long long>(input.size(1)), model::implementation_name(impl), err, scale,
                  err / scale);
    }
  }
  // The LayerNorm eps is not in the weights but does change the output: load_backbone's 1e-6
  // misses the fixture (made with the constructor's 1e-5) by far more than rounding.
  auto with_small_eps = fixture_config();
  with_small_eps.norm_eps = 1e-6;
  auto other = load_fixture_model(with_small_eps);
  auto input = model::to_tensor(io::read_npy(dir + "/forward_input.npy").array);
  auto expected = model::to_tensor(io::read_npy(dir + "/forward_output.npy").array);
  const double eps_err = max_abs_diff(other->forward(input), expected) / max_abs(expected);
  EXPECT_GT(eps_err, 1e-4);
  std::printf("motionbert-small with LayerNorm eps 1e-6 instead of 1e-5: relative error %.3g\n", eps_err);
}

TEST(MotionBERTParity, KeyOrderAndStrictLoad) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
  model::MotionBERT net(fixture_config());
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
  EXPECT_EQ(params[0].key(), "temp_embed");
  EXPECT_EQ(params[4].key(), "blocks_st.0.norm1_s.weight");
  EXPECT_EQ(params[8].key(), "blocks_st.0.attn_s.proj.weight");  // proj before qkv, as the original

  auto report = model::load_state_dict(*net, ck.model_state, true, ck.source);
  EXPECT_TRUE(report.clean());
  for (const auto& [name, tensor] : ck.model_state) {
    const auto* mine = net->named_parameters(true).find(name);
    ASSERT_NE(mine, nullptr) << name;
    EXPECT_TRUE(torch::equal(*mine, tensor)) << name;
  }
  // A dict missing a key is refused strictly, naming it.
  auto missing = ck.model_state;
  missing.erase(missing.begin() + 2);
  std::string message = expect_input_error([&] { model::load_state_dict(*net, missing, true, "trimmed.bin"); });
  EXPECT_TRUE(contains(message, "joints_embed.weight")) << message;
  // A mean-fusion model has no ts_attn: the fixture's fusion layers are unexpected there.
  auto mean_fusion = fixture_config();
  mean_fusion.att_fuse = false;
  model::MotionBERT plain(mean_fusion);
  message = expect_input_error([&] { model::load_state_dict(*plain, ck.model_state, true, "fused.bin"); });
  EXPECT_TRUE(contains(message, "ts_attn.0.weight")) << message;
}

TEST(MotionBERTParity, InferConfigFromFixture) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
  auto c = model::infer_motionbert_config(ck.model_state, 4, ck.source);
  EXPECT_EQ(c.dim_in, 3);
  EXPECT_EQ(c.dim_out, 3);
  EXPECT_EQ(c.dim_feat, 32);
  EXPECT_EQ(c.dim_rep, 64);
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_DOUBLE_EQ(c.mlp_ratio, 2.0);
  EXPECT_EQ(c.num_joints, 17);
  EXPECT_EQ(c.maxlen, 27);
  EXPECT_TRUE(c.att_fuse);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_DOUBLE_EQ(c.drop_path_rate, 0.0);
  EXPECT_EQ(c.describe(), fixture_config().describe());
  EXPECT_EQ(model::infer_motionbert_config(ck.model_state, 0, ck.source).num_heads, 8);  // MotionBERT's configs
  // The inferred configuration builds the model that loads the file strictly and reproduces the
  // fixture (the default eps is the fixture's).
  model::MotionBERT net(c);
  model::load_state_dict(*net, ck.model_state, true, ck.source);
  net->eval();
  torch::NoGradGuard no_grad;
  const std::string dir = test::shared_path(kFixture);
  auto expected = model::to_tensor(io::read_npy(dir + "/forward_output.npy").array);
  auto output = net->forward(model::to_tensor(io::read_npy(dir + "/forward_input.npy").array));
  EXPECT_LE(max_abs_diff(output, expected), 1e-5 * max_abs(expected));
}

TEST(MotionBERTParity, InferConfigRejectsMalformedDicts) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
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
  auto check = [&](const model::StateDict& state, const std::string& phrase, int heads = 4) {
    const std::string message = expect_input_error([&] { model::infer_motionbert_config(state, heads, "bad.bin"); });
    EXPECT_TRUE(contains(message, "bad.bin")) << message;
    EXPECT_TRUE(contains(message, phrase)) << message;
  };
  check(without("temp_embed"), "not a MotionBERT checkpoint: 'temp_embed' is missing");
  check(without("pre_logits."), "'pre_logits.fc.weight' is missing");
  check(without("blocks_ts.1."), "2 spatial-temporal blocks");
  check(without("ts_attn.1."), "1 fusion layers");
  check(replaced("temp_embed", torch::zeros({27, 32})), "rank-4");
  check(replaced("pos_embed", torch::zeros({1, 17, 16})), "'pos_embed' has shape (1, 17, 16)");
  check(replaced("head.weight", torch::zeros({3, 60})), "'head.weight' has shape (3, 60)");
  check(replaced("ts_attn.0.weight", torch::zeros({2, 32})), "'ts_attn.0.weight'");
  check(replaced("blocks_ts.0.mlp_t.fc1.weight", torch::zeros({48, 32})), "'blocks_ts.0.mlp_t.fc1.weight'");
  check(ck.model_state, "5 heads", 5);  // 32 / 5
  auto far = ck.model_state;
  far.emplace_back("blocks_st.123456.norm1_s.weight", torch::zeros({32}));
  check(far, "block index below");
  // Without the fusion layers the dict is a mean-fusion model's, and loads strictly into it.
  auto unfused = without("ts_attn.");
  auto c = model::infer_motionbert_config(unfused, 4, "unfused.bin");
  EXPECT_FALSE(c.att_fuse);
  model::MotionBERT plain(c);
  EXPECT_TRUE(model::load_state_dict(*plain, unfused, true, "unfused.bin").clean());
  // Another family's dict is not a MotionBERT one.
  auto v2 = model::read_checkpoint(test::shared_path("fixtures/zoo/poseformerv2-f27/checkpoint/model.bin"));
  const std::string message = expect_input_error([&] { model::infer_motionbert_config(v2.model_state, 8, v2.source); });
  EXPECT_TRUE(contains(message, "not a MotionBERT checkpoint")) << message;
}

// ---------------------------------------------------------------- behaviour

TEST(MotionBERTModel, InputValidation) {
  model::MotionBERT net(fixture_config());
  net->eval();
  torch::NoGradGuard no_grad;
  auto message = expect_input_error([&] { net->forward(torch::zeros({2, 28, 17, 3})); });
  EXPECT_TRUE(contains(message, "clip of 28 frames")) << message;
  EXPECT_TRUE(contains(message, "1 to 27 frames")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({2, 27, 17, 2})); });
  EXPECT_TRUE(contains(message, "got 2 channels")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({2, 27, 16, 3})); });
  EXPECT_TRUE(contains(message, "got 16 joints")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({27, 17, 3})); });
  EXPECT_TRUE(contains(message, "shape (27, 17, 3)")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({2, 0, 17, 3})); });
  EXPECT_TRUE(contains(message, "clip of 0 frames")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({2, 5, 17, 3}, torch::kInt64)); });
  EXPECT_TRUE(contains(message, "Long")) << message;
  // Any clip up to maxlen runs, one pose per frame; the representation is dim_rep wide, in tanh's range.
  EXPECT_EQ(net->forward(torch::zeros({1, 1, 17, 3})).sizes(), (std::vector<std::int64_t>{1, 1, 17, 3}));
  auto rep = net->representation(torch::randn({2, 27, 17, 3}));
  EXPECT_EQ(rep.sizes(), (std::vector<std::int64_t>{2, 27, 17, 64}));
  EXPECT_LE(max_abs(rep), 1.0);
}

TEST(MotionBERTModel, InitialisationAsTheOriginal) {
  torch::manual_seed(5);
  model::MotionBERT net(fixture_config());
  // ts_attn: weight 0, bias 0.5 (equal stream weights at the start).
  for (const auto& module : *net->ts_attn) {
    auto* fuse = module->as<torch::nn::Linear>();
    EXPECT_EQ(max_abs(fuse->weight), 0.0);
    EXPECT_TRUE(torch::equal(fuse->bias, torch::full({2}, 0.5)));
  }
  EXPECT_TRUE(torch::equal(net->norm->weight, torch::ones({32})));
  EXPECT_EQ(max_abs(net->norm->bias), 0.0);
  EXPECT_EQ(max_abs(net->head->bias), 0.0);
  // Truncated normal, std 0.02: the 27 x 32 temporal embedding's spread and the qkv weights'.
  const double spread = net->temp_embed.std().item<double>();
  EXPECT_GT(spread, 0.017);
  EXPECT_LT(spread, 0.023);
  auto& qkv = net->blocks_st[0]->as<model::DualStreamBlock>()->attn_s->qkv->weight;
  EXPECT_NEAR(qkv.std().item<double>(), 0.02, 0.002);
}

TEST(MotionBERTModel, EveryParameterLearnsAndStochasticDepthActsInTraining) {
  auto c = fixture_config();
  c.maxlen = 9;
  c.drop_path_rate = 0.5;
  model::MotionBERT net(c);
  randomise(*net, 7);
  torch::manual_seed(8);
  auto input = torch::randn({2, 9, 17, 3});
  net->eval();
  auto output = net->forward(input);
  output.square().mean().backward();
  for (const auto& p : net->named_parameters(true)) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(max_abs(p.value().grad()), 0.0) << p.key();
  }
  // Eval mode is deterministic; training drops branches per row, so passes differ.
  torch::NoGradGuard no_grad;
  EXPECT_EQ(max_abs_diff(net->forward(input), output), 0.0);
  net->train();
  bool differs = false;
  for (int attempt = 0; attempt < 5 && !differs; ++attempt) differs = max_abs_diff(net->forward(input), output) > 1e-4;
  EXPECT_TRUE(differs) << "stochastic depth never changed the output in training";
}

// ---------------------------------------------------------------- the fast path

namespace {

// Floating-point operations of the blocks' linear layers for `tokens` tokens (what the fast
// path's GEMM tally sums): per block, both stages' qkv (3C x C), proj (C x C) and MLP (2 C hidden).
double block_gemm_flops(const model::MotionBERTConfig& c, double tokens) {
  const double C = c.dim_feat, hidden = model::mlp_hidden(c.dim_feat, c.mlp_ratio);
  return 2.0 * tokens * c.depth * 2 * 2 * (4 * C * C + 2 * C * hidden);
}

}  // namespace

TEST(MotionBERTModel, FastPathMatchesReferenceFullAndShortClips) {
  // Wide heads (32 channels: the per-head GEMM attention) with attention fusion; narrow heads
  // (6 channels: the SIMD-lane loop kernels) with mean fusion, no qkv bias and an MLP ratio
  // whose hidden width is rounded down.
  model::MotionBERTConfig wide;
  wide.dim_feat = 64;
  wide.num_heads = 2;
  wide.dim_rep = 48;
  wide.depth = 2;
  wide.mlp_ratio = 2.0;
  wide.maxlen = 27;
  wide.norm_eps = 1e-6;
  model::MotionBERTConfig narrow = wide;
  narrow.dim_feat = 24;
  narrow.num_heads = 4;
  narrow.depth = 3;
  narrow.mlp_ratio = 1.7;
  narrow.att_fuse = false;
  narrow.qkv_bias = false;
  narrow.num_joints = 5;
  narrow.maxlen = 16;
  int seed = 50;
  for (const auto& c : {wide, narrow}) {
    model::MotionBERT net(c);
    randomise(*net, ++seed);
    net->eval();
    torch::NoGradGuard no_grad;
    // The full clip at batch 3, a short clip (< maxlen) at batch 2, one frame at batch 1.
    for (const auto& [batch, frames] : std::vector<std::pair<int, int>>{{3, c.maxlen}, {2, 10}, {1, 1}}) {
      torch::manual_seed(++seed);
      auto input = torch::randn({batch, frames, c.num_joints, 3}) * 0.5;
      net->set_implementation(model::Implementation::reference);
      const auto expected = net->forward(input);
      double reference_flops = 0, fast_flops = 0;
      {
        model::fast::GemmTallyScope tally;
        net->forward(input);
        reference_flops = tally.tally().flops;
      }
      net->set_implementation(model::Implementation::fast);
      torch::Tensor output;
      {
        model::fast::GemmTallyScope tally;
        output = net->forward(input);
        fast_flops = tally.tally().flops;
      }
      ASSERT_EQ(output.sizes(), expected.sizes());
      const double scale = max_abs(expected), err = max_abs_diff(output, expected);
      ASSERT_GT(scale, 0.0);
      EXPECT_LE(err, 1e-5 * scale) << c.describe() << ", batch " << batch << ", " << frames << " frames";
      // Every block's linear layers ran through the fast path's GEMMs, none in the reference.
      EXPECT_EQ(reference_flops, 0.0);
      EXPECT_DOUBLE_EQ(fast_flops, block_gemm_flops(c, static_cast<double>(batch) * frames * c.num_joints))
          << c.describe();
      std::printf("fast vs reference (%s), batch %d, %d frames: relative error %.3g\n", c.describe().c_str(), batch,
                  frames, err / scale);
    }
    // Both paths take the same configuration's representation.
    torch::manual_seed(++seed);
    auto input = torch::randn({2, 10, c.num_joints, 3});
    net->set_implementation(model::Implementation::reference);
    const auto expected = net->representation(input);
    net->set_implementation(model::Implementation::fast);
    EXPECT_LE(max_abs_diff(net->representation(input), expected), 1e-5 * max_abs(expected));
  }
}

TEST(MotionBERTModel, FastPathMatchesReferenceWithGradientsAndInTraining) {
  auto c = fixture_config();
  c.maxlen = 12;
  c.drop_path_rate = 0.5;
  model::MotionBERT net(c);
  randomise(*net, 61);
  torch::manual_seed(62);
  auto input = torch::randn({2, 9, 17, 3}) * 0.5;
  auto target = torch::randn({2, 9, 17, 3});
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
  // Training: stochastic depth drops branches per (batch, frame) row; with the same random
  // stream both paths drop the same rows, the temporal stage's included.
  net->train();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> trained;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    torch::manual_seed(99);
    trained.push_back(net->forward(input));
  }
  EXPECT_LE(max_abs_diff(trained[0], trained[1]), 1e-5 * max_abs(trained[0]));
  torch::manual_seed(100);
  bool differs = false;
  for (int attempt = 0; attempt < 5 && !differs; ++attempt)
    differs = max_abs_diff(net->forward(input), trained[1]) > 1e-4;
  EXPECT_TRUE(differs) << "stochastic depth never changed the fast path's output in training";
}

TEST(MotionBERTModel, InterfaceFigures) {
  model::MotionBERT net(fixture_config());
  const model::LifterImpl& lifter = *net;
  EXPECT_EQ(lifter.family(), model::Family::MotionBERT);
  EXPECT_EQ(lifter.temporal_shape(), model::TemporalShape::Sequence);
  EXPECT_EQ(lifter.receptive_field(), 27);
  EXPECT_EQ(lifter.input_joints(), 17);
  EXPECT_EQ(lifter.input_channels(), 3);
  EXPECT_EQ(lifter.output_joints(), 17);
  EXPECT_EQ(lifter.causal_shift(), 0);
  EXPECT_EQ(lifter.parameter_count(), kFixtureParameters);

  // Multiply-accumulates by hand for a tiny model: maxlen 3 frames, 2 joints (6 tokens), 3 input
  // channels, features 2, representation 3, 3 outputs, depth 1, 1 head, MLP hidden 4.
  model::MotionBERTConfig tiny;
  tiny.maxlen = 3;
  tiny.num_joints = 2;
  tiny.dim_feat = 2;
  tiny.dim_rep = 3;
  tiny.depth = 1;
  tiny.num_heads = 1;
  tiny.mlp_ratio = 2.0;
  // joints_embed: 6 tokens x 3 x 2 = 36.
  // One block: per token qkv 2*6 + proj 2*2 for two attentions = 32, two MLPs 2 * (2*4 + 4*2) = 32:
  // 6 x 64 = 384; spatial QK^T + AV per frame 2 * (2*2*2) = 16, x 3 frames = 48; temporal per
  // joint 2 * (3*3*2) = 36, x 2 joints = 72: 504. Both streams: 1008.
  // Fusion: ts_attn 6 x 4 x 2 = 48, weighted sum 6 x 2 x 2 = 24: 72.
  // pre_logits 6 x 2 x 3 = 36, head 6 x 3 x 3 = 54.
  // Clip: 36 + 1008 + 72 + 36 + 54 = 1206, per frame 402.
  EXPECT_DOUBLE_EQ(model::MotionBERT(tiny)->macs_per_output_frame(), 402.0);
  tiny.att_fuse = false;  // the mean of the streams: no products counted
  EXPECT_DOUBLE_EQ(model::MotionBERT(tiny)->macs_per_output_frame(), 378.0);
  // The fixture's model: 27 frames x 17 joints = 459 tokens; its block linear layers alone are
  // 2 x 2 x 459 x (8 x 32^2 + 4 x 32 x 64) = 30.1M per clip, i.e. ~1.1M per frame.
  EXPECT_GT(net->macs_per_output_frame(), 1.1e6);
  EXPECT_LT(net->macs_per_output_frame(), 1.4e6);
  // The parameter count of a configuration without building it.
  for (auto change : std::vector<std::function<void(model::MotionBERTConfig&)>>{
           [](auto& d) { d.att_fuse = false; }, [](auto& d) { d.qkv_bias = false; },
           [](auto& d) { d.dim_in = 2; d.dim_out = 5; d.mlp_ratio = 1.5; }}) {
    auto d = fixture_config();
    change(d);
    EXPECT_EQ(model::count_parameters(d), model::MotionBERT(d)->parameter_count()) << d.describe();
  }
}

// ---------------------------------------------------------------- the original code

TEST(MotionBERTOriginal, CheckpointWrittenByPoseliftRunsInOriginal) {
  const std::string python = test::python_with_numpy();
  if (python.empty() || test::run_command(python + " -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with numpy and torch is absent: round trip through the original skipped";
  const std::string dir = test::temp_dir("motionbert_original");
  // The original file: $POSELIFT_MOTIONBERT_SOURCE (its DSTformer.py), else the local mirror of
  // Walter0807/MotionBERT.
  std::string original;
  if (const char* env = std::getenv("POSELIFT_MOTIONBERT_SOURCE"); env && fs::exists(env)) {
    original = env;
  } else {
    original = dir + "/DSTformer.py";
    if (test::run_command("git -C /work/.mirror/Walter0807+MotionBERT/repo show HEAD:lib/model/DSTformer.py > " +
                          original + " 2>/dev/null") != 0)
      GTEST_SKIP() << "the original MotionBERT code is absent (set POSELIFT_MOTIONBERT_SOURCE): skipped";
  }
  // Configurations unlike the fixture's: 2 input channels, 5 joints, maxlen 16, width 24 in 2
  // heads, representation 20, depth 3, mlp 1.5, load_backbone's eps; then mean fusion without
  // qkv bias and 4 outputs.
  model::MotionBERTConfig fused;
  fused.dim_in = 2;
  fused.num_joints = 5;
  fused.maxlen = 16;
  fused.dim_feat = 24;
  fused.num_heads = 2;
  fused.dim_rep = 20;
  fused.depth = 3;
  fused.mlp_ratio = 1.5;
  fused.norm_eps = 1e-6;
  auto mean = fused;
  mean.att_fuse = false;
  mean.qkv_bias = false;
  mean.dim_out = 4;
  mean.norm_eps = 1e-5;
  int seed = 30;
  for (const auto& c : {fused, mean}) {
    model::MotionBERT net(c);
    randomise(*net, ++seed);
    net->eval();
    model::CheckpointContents contents;
    contents.epoch = 1;
    contents.model = net.get();
    model::write_checkpoint(dir + "/mb.bin", contents);
    torch::manual_seed(++seed);
    auto input = torch::randn({3, 16, 5, 2}) * 0.5;
    io::write_npy(dir + "/input.npy", model::to_ndarray(input));
    std::string out;
    const std::string flags = fmt::format(
        " --dim-in 2 --joints 5 --maxlen 16 --dim-feat 24 --heads 2 --dim-rep 20 --depth 3 --mlp-ratio 1.5"
        " --dim-out {} --norm-eps {}{}{}",
        c.dim_out, c.norm_eps, c.att_fuse ? "" : " --no-att-fuse", c.qkv_bias ? "" : " --no-qkv-bias");
    const int status = test::run_command(
        python + " " + std::string(POSELIFT_SOURCE_DIR) + "/tests/reference/motionbert_original.py --original " +
            original + " --checkpoint " + dir + "/mb.bin --input " + dir + "/input.npy --output " + dir +
            "/output.npy --short 7 --short-output " + dir + "/short.npy" + flags + " 2>&1",
        &out);
    ASSERT_EQ(status, 0) << out;
    EXPECT_TRUE(contains(out, "keys in order")) << out;
    torch::NoGradGuard no_grad;
    for (const std::string which : {"output", "short"})
      for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
        net->set_implementation(impl);
        auto expected = model::to_tensor(io::read_npy(dir + "/" + which + ".npy").array);
        auto output = net->forward(which == "output" ? input : input.narrow(1, 0, 7));
        ASSERT_EQ(output.sizes(), expected.sizes());
        const double err = max_abs_diff(output, expected), scale = max_abs(expected);
        EXPECT_LE(err, 1e-5 * scale) << c.describe() << " " << which << ", " << model::implementation_name(impl);
        std::printf("original DSTformer on poselift's checkpoint (%s), %s, %s path: max abs error %.3g (relative "
                    "%.3g)\n",
                    c.describe().c_str(), which.c_str(), model::implementation_name(impl), err, err / scale);
      }
  }
}
