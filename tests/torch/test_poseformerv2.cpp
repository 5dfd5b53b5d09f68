// PoseFormerV2: its DCT, parity with the original PyTorch code's fixture, state dict layout,
// configuration inference and a checkpoint round trip through the original model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"
#include "model/poseformerv2.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

const double kPi = std::acos(-1.0);
constexpr const char* kFixture = "fixtures/zoo/poseformerv2-f27";

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

double max_abs(const torch::Tensor& a) { return a.to(torch::kFloat64).abs().max().item<double>(); }

// The fixture's constructor arguments (config.json): kept frames, coefficients, width and depth
// as the shapes say, 27 frames and 8 heads as run_poseformer.py was told.
model::PoseFormerV2Config fixture_config() {
  model::PoseFormerV2Config c;
  c.num_frames = 27;
  c.frames_kept = 3;
  c.coefficients_kept = 5;
  c.embed_dim_ratio = 16;
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

}  // namespace

// ---------------------------------------------------------------- DCT

TEST(PoseFormerV2Dct, HandComputedValues) {
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  // N = 1: X_0 = 2 x_0.
  auto one = model::dct_ii(torch::tensor({3.5}, opts));
  EXPECT_DOUBLE_EQ(one[0].item<double>(), 7.0);
  // N = 2: X_0 = 2 (x_0 + x_1), X_1 = 2 (x_0 cos(pi/4) + x_1 cos(3pi/4)) = sqrt(2) (x_0 - x_1).
  auto two = model::dct_ii(torch::tensor({1.0, 3.0}, opts));
  EXPECT_NEAR(two[0].item<double>(), 8.0, 1e-14);
  EXPECT_NEAR(two[1].item<double>(), -2.0 * std::sqrt(2.0), 1e-14);
  // N = 4, x = (1, 2, 3, 4), with cos(pi/8) = sqrt(2 + sqrt2) / 2, cos(3pi/8) = sqrt(2 - sqrt2) / 2:
  // X_0 = 20, X_1 = -2 (3 cos(pi/8) + cos(3pi/8)), X_2 = sqrt2 (1 - 2 - 3 + 4) = 0,
  // X_3 = 2 (cos(pi/8) - 3 cos(3pi/8)).
  const double c1 = std::sqrt(2.0 + std::sqrt(2.0)) / 2, c3 = std::sqrt(2.0 - std::sqrt(2.0)) / 2;
  auto four = model::dct_ii(torch::tensor({1.0, 2.0, 3.0, 4.0}, opts));
  EXPECT_NEAR(four[0].item<double>(), 20.0, 1e-13);
  EXPECT_NEAR(four[1].item<double>(), -2.0 * (3 * c1 + c3), 1e-13);
  EXPECT_NEAR(four[2].item<double>(), 0.0, 1e-13);
  EXPECT_NEAR(four[3].item<double>(), 2.0 * (c1 - 3 * c3), 1e-13);
  // The inverse of those values gives the samples back: x_n = (X_0/2 + sum X_k cos(...)) / N.
  // By hand for N = 2: x_0 = (8/2 + (-2 sqrt2) cos(pi/4)) / 2 = (4 - 2) / 2 = 1, x_1 = (4 + 2) / 2 = 3.
  auto back = model::idct_ii(two);
  EXPECT_NEAR(back[0].item<double>(), 1.0, 1e-14);
  EXPECT_NEAR(back[1].item<double>(), 3.0, 1e-14);
  EXPECT_NEAR(model::idct_ii(one)[0].item<double>(), 3.5, 1e-15);
}

TEST(PoseFormerV2Dct, AgreesWithDirectSumAndFftAlongLastAxis) {
  torch::manual_seed(3);
  for (std::int64_t n : {1, 2, 3, 5, 8, 27}) {
    auto x = torch::randn({4, 3, n}, torch::kFloat64);
    auto X = model::dct_ii(x);
    ASSERT_EQ(X.sizes(), x.sizes());
    // A direct double-precision sum of the definition.
    auto direct = torch::zeros_like(x);
    auto xa = x.accessor<double, 3>();
    auto da = direct.accessor<double, 3>();
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 3; ++b)
        for (std::int64_t k = 0; k < n; ++k) {
          double sum = 0;
          for (std::int64_t i = 0; i < n; ++i) sum += xa[a][b][i] * std::cos(kPi * k * (2 * i + 1) / (2.0 * n));
          da[a][b][k] = 2 * sum;
        }
    EXPECT_LT(max_abs_diff(X, direct), 1e-12) << "N = " << n;
    // torch_dct's own route: an FFT of the even samples followed by the reversed odd ones,
    // turned by exp(-i pi k / 2N).
    auto v = torch::cat({x.slice(-1, 0, n, 2), x.slice(-1, 1, n, 2).flip({-1})}, -1);
    auto spectrum = torch::fft::fft(v, c10::nullopt, -1);
    auto k = torch::arange(n, torch::kFloat64) * (-kPi / (2.0 * n));
    auto fft_route = 2 * (torch::real(spectrum) * torch::cos(k) - torch::imag(spectrum) * torch::sin(k));
    EXPECT_LT(max_abs_diff(X, fft_route), 1e-12) << "N = " << n;
  }
}

TEST(PoseFormerV2Dct, InverseIsExact) {
  torch::manual_seed(4);
  for (std::int64_t n : {1, 2, 4, 7, 8, 27, 81}) {
    auto x = torch::randn({5, n}, torch::kFloat64);
    EXPECT_LT(max_abs_diff(model::idct_ii(model::dct_ii(x)), x), 1e-12) << "N = " << n;
    EXPECT_LT(max_abs_diff(model::dct_ii(model::idct_ii(x)), x), 1e-12) << "N = " << n;
    auto xf = x.to(torch::kFloat32);
    EXPECT_LT(max_abs_diff(model::idct_ii(model::dct_ii(xf)), xf), 2e-5) << "float32, N = " << n;
    auto product = torch::matmul(model::idct_matrix(n, torch::kFloat64), model::dct_matrix(n, torch::kFloat64));
    EXPECT_LT(max_abs_diff(product, torch::eye(n, torch::kFloat64)), 1e-13) << "N = " << n;
  }
  EXPECT_THROW(model::dct_ii(torch::zeros({3, 0})), InputError);
  EXPECT_THROW(model::idct_ii(torch::zeros({3, 4}, torch::kInt64)), InputError);
}

TEST(PoseFormerV2Dct, CachedMatrixWorksUnderInferenceModeAndThenWithGradients) {
  // The first use of a size under InferenceMode must not leave an inference tensor in the cache.
  {
    c10::InferenceMode guard;
    model::dct_ii(torch::randn({2, 13}));
  }
  auto x = torch::randn({2, 13}, torch::requires_grad());
  model::idct_ii(model::dct_ii(x)).sum().backward();
  // d/dx of sum(idct(dct(x))) = 1 everywhere.
  EXPECT_LT(max_abs_diff(x.grad(), torch::ones_like(x)), 1e-5);
}

// ---------------------------------------------------------------- configuration

TEST(PoseFormerV2Config, DescribeAndValidate) {
  auto c = fixture_config();
  EXPECT_EQ(c.describe(), "27 frames (3 kept, 5 DCT coefficients), 17 joints, width 16, depth 2, 8 heads, mlp 2");
  EXPECT_NO_THROW(c.validate());
  auto bad = [&](auto change, const std::string& phrase) {
    auto d = fixture_config();
    change(d);
    const std::string message = expect_input_error([&] { d.validate(); });
    EXPECT_TRUE(contains(message, phrase)) << message;
  };
  bad([](auto& d) { d.frames_kept = 29; }, "do not fit");
  bad([](auto& d) { d.frames_kept = 2; }, "odd");
  bad([](auto& d) { d.coefficients_kept = 28; }, "DCT coefficients");
  bad([](auto& d) { d.coefficients_kept = 0; }, "positive");
  bad([](auto& d) { d.num_heads = 3; }, "not divisible by 3 heads");
  bad([](auto& d) { d.num_frames = 26; }, "odd");
  bad([](auto& d) { d.mlp_ratio = 0.01; }, "empty hidden layer");
  bad([](auto& d) { d.drop_path_rate = 1.0; }, "drop_path_rate");
  auto even = fixture_config();
  even.frames_kept = 4;
  EXPECT_THROW(model::PoseFormerV2{even}, InputError);
}

TEST(PoseFormerV2Config, StochasticDepthRisesLinearlyAsTheOriginal) {
  model::PoseFormerV2Config c = fixture_config();
  c.depth = 4;
  EXPECT_DOUBLE_EQ(model::PoseFormerV2Config{}.drop_path_rate, 0.1);  // run_poseformer.py's training value
  model::PoseFormerV2 net(c);
  // torch.linspace(0, 0.1, 4) = 0, 1/30, 2/30, 0.1.
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(net->blocks[i]->as<model::MixedBlock>()->drop_path_rate(), 0.1 * i / 3, 1e-15) << i;
}

// ---------------------------------------------------------------- the fixture

TEST(PoseFormerV2Parity, FixtureMatchesOriginalForward) {
  POSELIFT_REQUIRE_SHARED();
  const std::string dir = test::shared_path(kFixture);
  auto ck = model::read_checkpoint(dir + "/checkpoint/model.bin");
  EXPECT_TRUE(ck.module_prefixed);
  auto config = model::infer_poseformerv2_config(ck.model_state, 27, 8, ck.source);
  model::PoseFormerV2 net(config);
  EXPECT_EQ(net->parameter_count(), 1830253);  // config.json "parameters"
  EXPECT_EQ(model::count_parameters(config), 1830253);
  model::load_state_dict(*net, ck.model_state, true, ck.source);
  net->eval();
  auto input = model::to_tensor(io::read_npy(dir + "/forward_input.npy").array);
  auto expected = model::to_tensor(io::read_npy(dir + "/forward_output.npy").array);
  ASSERT_EQ(input.sizes(), (std::vector<std::int64_t>{4, 27, 17, 2}));
  const double scale = max_abs(expected);
  ASSERT_GT(scale, 0.0);
  torch::NoGradGuard no_grad;
  for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
    net->set_implementation(impl);
    auto output = net->forward(input);
    ASSERT_EQ(output.sizes(), expected.sizes());
    const double err = max_abs_diff(output, expected);
    EXPECT_LE(err, 1e-5 * scale) << model::implementation_name(impl);
    std::printf("poseformerv2-f27, %s path: max abs error %.3g (max |expected| %.3g, relative %.3g)\n",
                model::implementation_name(impl), err, scale, err / scale);
  }
}

TEST(PoseFormerV2Parity, KeyOrderAndStrictLoad) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
  model::PoseFormerV2 net(fixture_config());
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

  auto report = model::load_state_dict(*net, ck.model_state, true, ck.source);
  EXPECT_TRUE(report.clean());
  for (const auto& [name, tensor] : ck.model_state) {
    const auto* mine = net->named_parameters(true).find(name);
    ASSERT_NE(mine, nullptr) << name;
    EXPECT_TRUE(torch::equal(*mine, tensor)) << name;
  }
  // A dict missing a key is refused strictly, naming it.
  auto missing = ck.model_state;
  missing.erase(missing.begin() + 3);
  const std::string message =
      expect_input_error([&] { model::load_state_dict(*net, missing, true, "trimmed.bin"); });
  EXPECT_TRUE(contains(message, "Joint_embedding.weight")) << message;
}

TEST(PoseFormerV2Parity, InferConfigFromFixture) {
  POSELIFT_REQUIRE_SHARED();
  auto ck = model::read_checkpoint(test::shared_path(kFixture) + "/checkpoint/model.bin");
  auto c = model::infer_poseformerv2_config(ck.model_state, 27, 8, ck.source);
  EXPECT_EQ(c.num_frames, 27);
  EXPECT_EQ(c.frames_kept, 3);
  EXPECT_EQ(c.coefficients_kept, 5);
  EXPECT_EQ(c.embed_dim_ratio, 16);
  EXPECT_EQ(c.depth, 2);
  EXPECT_EQ(c.num_joints, 17);
  EXPECT_EQ(c.in_chans, 2);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_DOUBLE_EQ(c.mlp_ratio, 2.0);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_EQ(model::infer_poseformerv2_config(ck.model_state, 27, 0, ck.source).num_heads, 8);
}

TEST(PoseFormerV2Parity, InferConfigRejectsMalformedDicts) {
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
  auto check = [&](const model::StateDict& state, const std::string& phrase, int frames = 27, int heads = 8) {
    const std::string message =
        expect_input_error([&] { model::infer_poseformerv2_config(state, frames, heads, "bad.bin"); });
    EXPECT_TRUE(contains(message, "bad.bin")) << message;
    EXPECT_TRUE(contains(message, phrase)) << message;
  };
  check(without("Temporal_pos_embed_"), "'Temporal_pos_embed_' is missing");
  check(without("Freq_embedding"), "'Freq_embedding.weight' is missing");
  check(without("blocks.1."), "2 spatial blocks");
  check(replaced("Freq_embedding.weight", torch::zeros({272, 30})), "'Freq_embedding.weight' has shape (272, 30)");
  check(replaced("Temporal_pos_embed", torch::zeros({3, 272})), "rank-3");
  check(replaced("weighted_mean_.weight", torch::zeros({1, 4, 1})), "'weighted_mean_.weight'");
  check(replaced("blocks.0.mlp2.fc1.weight", torch::zeros({500, 272})), "'blocks.0.mlp2.fc1.weight'");
  check(ck.model_state, "do not fit", 1);   // 3 kept frames in a 1-frame window
  check(ck.model_state, "7 heads", 27, 7);  // 16 / 7
  // A PoseFormer (V1) dict is not a PoseFormerV2 one.
  auto v1 = model::read_checkpoint(test::shared_path("fixtures/poseformer-tiny/checkpoint/model.bin"));
  const std::string message =
      expect_input_error([&] { model::infer_poseformerv2_config(v1.model_state, 9, 8, v1.source); });
  EXPECT_TRUE(contains(message, "not a PoseFormerV2 checkpoint")) << message;
}

// ---------------------------------------------------------------- behaviour

TEST(PoseFormerV2Model, InputValidation) {
  model::PoseFormerV2 net(fixture_config());
  net->eval();
  torch::NoGradGuard no_grad;
  auto message = expect_input_error([&] { net->forward(torch::zeros({2, 27, 16, 2})); });
  EXPECT_TRUE(contains(message, "got 16 joints")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({2, 27, 17, 3})); });
  EXPECT_TRUE(contains(message, "got 3 channels")) << message;
  // Five coefficients need five frames; three kept frames need three.
  message = expect_input_error([&] { net->forward(torch::zeros({2, 4, 17, 2})); });
  EXPECT_TRUE(contains(message, "window of 4 frames")) << message;
  EXPECT_TRUE(contains(message, "at least 5 frames")) << message;
  message = expect_input_error([&] { net->forward(torch::zeros({27, 17, 2})); });
  EXPECT_TRUE(contains(message, "shape (27, 17, 2)")) << message;
  auto small = fixture_config();
  small.coefficients_kept = 1;
  model::PoseFormerV2 few(small);
  message = expect_input_error([&] { few->forward(torch::zeros({1, 2, 17, 2})); });
  EXPECT_TRUE(contains(message, "at least 3 frames")) << message;
  // A window other than num_frames runs as in the original (the DCT spans the given window).
  EXPECT_EQ(net->forward(torch::zeros({1, 9, 17, 2})).sizes(), (std::vector<std::int64_t>{1, 1, 17, 3}));
}

TEST(PoseFormerV2Model, InterfaceFigures) {
  model::PoseFormerV2 net(fixture_config());
  const model::LifterImpl& lifter = *net;
  EXPECT_EQ(lifter.family(), model::Family::PoseFormerV2);
  EXPECT_EQ(lifter.temporal_shape(), model::TemporalShape::CentreFrame);
  EXPECT_EQ(lifter.receptive_field(), 27);
  EXPECT_EQ(lifter.input_joints(), 17);
  EXPECT_EQ(lifter.input_channels(), 2);
  EXPECT_EQ(lifter.output_joints(), 17);
  EXPECT_EQ(lifter.parameter_count(), 1830253);

  // Multiply-accumulates by hand for a tiny model: 3 frames, 1 kept, 1 coefficient, 1 joint,
  // 2 channels, width 2, depth 1, 1 head, MLP hidden 4 (T = 2 temporal tokens, split 1 + 1).
  model::PoseFormerV2Config tiny;
  tiny.num_frames = 3;
  tiny.frames_kept = 1;
  tiny.coefficients_kept = 1;
  tiny.num_joints = 1;
  tiny.embed_dim_ratio = 2;
  tiny.depth = 1;
  tiny.num_heads = 1;
  // Spatial (1 frame, 1 token of width 2): embedding 2*2 = 4; qkv 2*6 = 12, proj 4, QK^T 2,
  // AV 2, MLP 8 + 8: total 40.
  // Embedding: the kept DCT row over 3 frames x 2 channels = 6, Freq_embedding 2*2 = 4: 10.
  // Mixed block (2 tokens, width 2): qkv 2*12 = 24, proj 2*4 = 8, QK^T 2*2*2 = 8, AV 8,
  // mlp1 (1 token) 16, mlp2 (1 token) 16 + DCT 1*1*2 + inverse 2: 84.
  // Weighted means 2 + 2, head 4 * 3 = 12: total 40 + 10 + 84 + 4 + 12 = 150.
  EXPECT_DOUBLE_EQ(model::PoseFormerV2(tiny)->macs_per_output_frame(), 150.0);
  // The fixture's model: positive and dominated by the mixed blocks' linear layers
  // (2 blocks x 8 tokens x (4 + 4) x 272^2 multiply-adds ~ 9.5M).
  EXPECT_GT(net->macs_per_output_frame(), 9.4e6);
  EXPECT_LT(net->macs_per_output_frame(), 1.2e7);
}

TEST(PoseFormerV2Model, FastPathMatchesReferenceWithGradientsAndInTraining) {
  auto config = fixture_config();
  model::PoseFormerV2 net(config);
  randomise(*net, 11);
  torch::manual_seed(12);
  auto input = torch::randn({3, 27, 17, 2}) * 0.5;
  auto target = torch::randn({3, 1, 17, 3});
  // Eval mode with gradients: the fast path's custom backward against LibTorch's autograd.
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
  // Training: stochastic depth drops whole branches per sample, so two passes differ; with the
  // same random stream the two implementations agree.
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

TEST(PoseFormerV2Original, CheckpointWrittenByPoseliftLoadsStrictlyIntoOriginal) {
  const std::string python = test::python_with_numpy();
  if (python.empty() || test::run_command(python + " -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with numpy and torch is absent: round trip through the original skipped";
  const std::string dir = test::temp_dir("poseformerv2_original");
  // The original file: $POSELIFT_POSEFORMERV2_SOURCE (its model_poseformer.py), else the local
  // mirror of QitaoZhao/PoseFormerV2.
  std::string original;
  if (const char* env = std::getenv("POSELIFT_POSEFORMERV2_SOURCE"); env && fs::exists(env)) {
    original = env;
  } else {
    original = dir + "/model_poseformer.py";
    if (test::run_command("git -C /work/.mirror/QitaoZhao+PoseFormerV2/repo show HEAD:common/model_poseformer.py > " +
                          original + " 2>/dev/null") != 0)
      GTEST_SKIP() << "the original PoseFormerV2 code is absent (set POSELIFT_POSEFORMERV2_SOURCE): skipped";
  }
  // A configuration unlike the fixture's: 9 frames, 1 kept frame, 4 coefficients (an even token
  // count of 5 splits 2 + 3), width 8, depth 3.
  model::PoseFormerV2Config c;
  c.num_frames = 9;
  c.frames_kept = 1;
  c.coefficients_kept = 4;
  c.embed_dim_ratio = 8;
  c.depth = 3;
  model::PoseFormerV2 net(c);
  randomise(*net, 21);
  net->eval();
  model::CheckpointContents contents;
  contents.epoch = 1;
  contents.model = net.get();
  model::write_checkpoint(dir + "/v2.bin", contents);
  torch::manual_seed(22);
  auto input = torch::randn({3, 9, 17, 2}) * 0.5;
  io::write_npy(dir + "/input.npy", model::to_ndarray(input));

  std::string out;
  const int status = test::run_command(
      python + " " + std::string(POSELIFT_SOURCE_DIR) + "/tests/reference/poseformerv2_original.py --original " +
          original + " --checkpoint " + dir + "/v2.bin --input " + dir + "/input.npy --output " + dir +
          "/output.npy --frames 9 --kept-frames 1 --kept-coeffs 4 --embed-dim-ratio 8 --depth 3 2>&1",
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
    std::printf("original PoseTransformerV2 on poselift's checkpoint, %s path: max abs error %.3g (relative %.3g)\n",
                model::implementation_name(impl), err, err / scale);
  }
}
