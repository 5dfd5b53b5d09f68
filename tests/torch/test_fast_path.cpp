// The fast CPU path against the reference module (forward and gradients) and its attention
// kernels against a direct double-precision computation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "engine/predict.hpp"
#include "model/attention_kernels.hpp"
#include "model/fast_bf16.hpp"
#include "model/fast_poseformer.hpp"
#include "model/poseformer.hpp"
#include "test_support.hpp"

using namespace poselift;

namespace {

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Every parameter away from its initial value (LayerNorm weights 1, embeddings 0 would hide
// mistakes in those terms), outputs still of the order of a real pose in metres.
model::PoseFormer random_model(const model::PoseFormerConfig& config, int seed) {
  torch::manual_seed(seed);
  model::PoseFormer net(config);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.add_(torch::randn_like(p) * 0.02);
  return net;
}

model::PoseFormerConfig config(int frames, int width, int depth, int heads) {
  model::PoseFormerConfig c;
  c.num_frames = frames;
  c.embed_dim_ratio = width;
  c.depth = depth;
  c.num_heads = heads;
  return c;
}

torch::Tensor forward_with(model::PoseFormer& net, model::Implementation impl, const torch::Tensor& input) {
  net->set_implementation(impl);
  return net->forward(input);
}

}  // namespace

TEST(FastPath, PublishedModelForwardMatchesReference) {
  auto net = random_model(config(81, 32, 4, 8), 3);
  net->eval();
  torch::NoGradGuard no_grad;
  for (int batch : {1, 5}) {
    torch::manual_seed(10 + batch);
    auto input = torch::randn({batch, 81, 17, 2});
    auto ref = forward_with(net, model::Implementation::reference, input);
    auto fast = forward_with(net, model::Implementation::fast, input);
    ASSERT_EQ(ref.sizes(), fast.sizes());
    const double err = max_abs_diff(ref, fast);
    EXPECT_LE(err, 1e-5) << "batch " << batch;
    std::printf("f81 batch %d: max abs difference fast vs reference %.3g (output scale %.3g)\n", batch, err,
                ref.abs().max().item<double>());
    // The two stages separately, as sliding-window evaluation calls them.
    auto frames = input.reshape({-1, 17, 2});
    auto fr = forward_with(net, model::Implementation::reference, input);
    net->set_implementation(model::Implementation::reference);
    auto sr = net->spatial_features(frames);
    net->set_implementation(model::Implementation::fast);
    auto sf = net->spatial_features(frames);
    EXPECT_LE(max_abs_diff(sr, sf), 1e-5);
  }
}

TEST(FastPath, SpatialStageInLanesMatchesReferenceForOtherShapes) {
  // Head width 6 (the kernel's run-time width), no qkv bias, an MLP width that is no multiple of
  // 8, 3 input channels, and frame counts around the 16-lane groups.
  auto c = config(9, 24, 2, 4);
  c.qkv_bias = false;
  c.mlp_ratio = 1.5;
  c.in_chans = 3;
  c.num_joints = 5;
  auto net = random_model(c, 4);
  net->eval();
  torch::NoGradGuard no_grad;
  for (int frames : {1, 16, 17, 40}) {
    auto input = torch::randn({frames, 5, 3});
    net->set_implementation(model::Implementation::reference);
    auto expected = net->spatial_features(input);
    net->set_implementation(model::Implementation::fast);
    auto got = net->spatial_features(input);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LE(max_abs_diff(got, expected), 1e-5) << frames << " frames";
  }
}

TEST(FastPath, GradientsMatchReference) {
  // Head width 8 in the spatial stage (loop kernels) and 68 in the temporal stage (GEMM per
  // head): both attention backward paths run.
  for (double drop_path : {0.0, 0.2}) {
    auto c = config(9, 16, 2, 2);
    c.drop_path_rate = drop_path;
    auto net = random_model(c, 5);
    net->train();
    torch::manual_seed(7);
    auto input = torch::randn({6, 9, 17, 2});
    auto target = torch::randn({6, 1, 17, 3});
    std::vector<std::vector<torch::Tensor>> grads;
    std::vector<double> losses;
    for (auto impl : {model::Implementation::reference, model::Implementation::fast}) {
      net->zero_grad();
      torch::manual_seed(99);  // identical stochastic-depth masks on both paths
      auto out = forward_with(net, impl, input);
      auto loss = (out - target).norm(2, -1).mean();
      loss.backward();
      losses.push_back(loss.item<double>());
      std::vector<torch::Tensor> g;
      for (auto& p : net->parameters()) g.push_back(p.grad().clone());
      grads.push_back(g);
    }
    EXPECT_NEAR(losses[0], losses[1], 1e-5);
    const auto names = net->named_parameters().keys();
    for (std::size_t i = 0; i < grads[0].size(); ++i) {
      const double scale = std::max(1e-3, grads[0][i].abs().max().item<double>());
      // float32 sums in another order: ~1e-5 relative; a wrong term would be O(1).
      EXPECT_LE(max_abs_diff(grads[0][i], grads[1][i]) / scale, 1e-3)
          << names[i] << " (drop_path " << drop_path << ")";
    }
  }
}

TEST(FastPath, LaneAttentionKernelMatchesDirectComputation) {
  // Three sequences (a partial group: the other lanes repeat the last one and must not be
  // written), two heads of width 4 over 5 tokens, read inside rows of 3 * 8 values, written
  // into rows of 8.
  const int S = 3, N = 5, d = 4, heads = 2, C = heads * d;
  const model::kernels::SequenceView view{N, heads, d, 0.5f};
  std::vector<float> qkv(S * N * 3 * C), out(S * N * C + 7, -1.0f), probs(model::kernels::lanes_probs_floats(view)),
      scratch(model::kernels::lanes_scratch_floats(view));
  for (std::size_t i = 0; i < qkv.size(); ++i) qkv[i] = static_cast<float>(std::sin(0.7 * i) * 2.0);
  model::kernels::attention_lanes_forward(view, qkv.data(), S, probs.data(), out.data(), scratch.data());
  for (std::size_t x = S * N * C; x < out.size(); ++x) EXPECT_EQ(out[x], -1.0f) << "written past the last sequence";
  // Backward of the loss sum(out * w) for fixed weights w, against central differences.
  std::vector<float> w(S * N * C), dqkv(S * N * 3 * C + 7, -1.0f);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(std::cos(1.3 * i));
  model::kernels::attention_lanes_backward(view, qkv.data(), S, probs.data(), w.data(), dqkv.data(), scratch.data());
  for (std::size_t x = S * N * 3 * C; x < dqkv.size(); ++x) EXPECT_EQ(dqkv[x], -1.0f) << "written past the last sequence";
  // The direct double-precision output of (sequence q, token i, head h, channel c).
  auto direct = [&](const std::vector<double>& in, int q, int i, int h, int c) {
    const double* seq = in.data() + q * N * 3 * C;
    std::vector<double> s(N);
    double top = -1e300, sum = 0, o = 0;
    for (int j = 0; j < N; ++j) {
      double dot = 0;
      for (int e = 0; e < d; ++e) dot += seq[i * 3 * C + h * d + e] * seq[j * 3 * C + C + h * d + e];
      s[j] = dot * view.scale;
      top = std::max(top, s[j]);
    }
    for (int j = 0; j < N; ++j) sum += (s[j] = std::exp(s[j] - top));
    for (int j = 0; j < N; ++j) o += s[j] / sum * seq[j * 3 * C + 2 * C + h * d + c];
    return o;
  };
  auto loss = [&](const std::vector<double>& in) {
    double total = 0;
    for (int q = 0; q < S; ++q)
      for (int i = 0; i < N; ++i)
        for (int h = 0; h < heads; ++h)
          for (int c = 0; c < d; ++c) total += w[(q * N + i) * C + h * d + c] * direct(in, q, i, h, c);
    return total;
  };
  std::vector<double> in(qkv.begin(), qkv.end());
  for (int q = 0; q < S; ++q)
    for (int i = 0; i < N; ++i)
      for (int h = 0; h < heads; ++h)
        for (int c = 0; c < d; ++c)
          EXPECT_NEAR(out[(q * N + i) * C + h * d + c], direct(in, q, i, h, c), 2e-6)
              << "sequence " << q << " head " << h << " token " << i << " channel " << c;
  for (std::size_t x = 0; x < in.size(); ++x) {
    auto plus = in, minus = in;
    plus[x] += 1e-5;
    minus[x] -= 1e-5;
    EXPECT_NEAR(dqkv[x], (loss(plus) - loss(minus)) / 2e-5, 1e-4) << "qkv element " << x;
  }
}

TEST(FastPath, SoftmaxHandlesExtremeScores) {
  // Large gaps underflow to exactly 0 instead of NaN; rows still sum to 1.
  std::vector<float> row = {0.0f, -50.0f, 200.0f, -1e30f, 199.0f};
  model::kernels::softmax_rows(row.data(), 1, 5, 1.0f);
  EXPECT_FLOAT_EQ(row[0] + row[1] + row[2] + row[3] + row[4], 1.0f);
  EXPECT_NEAR(row[2], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_LT(row[3], 1e-30f);
  EXPECT_FALSE(std::isnan(row[1]));
}

TEST(Prediction, BatchedAcrossSequencesEqualsWindowByWindow) {
  // Sequences shorter than a window, one frame long, and longer than a pass; 16 windows per pass
  // (8 positions and their flips), so passes mix sequences. Truth: every window built by hand
  // (edge padding), run through the whole reference model, averaged with its flipped twin.
  auto net = random_model(config(9, 16, 2, 2), 11);
  net->eval();
  torch::NoGradGuard no_grad;
  const engine::FlipSymmetry symmetry{{4, 5, 6, 11, 12, 13}, {1, 2, 3, 14, 15, 16}, {4, 5, 6, 11, 12, 13},
                                      {1, 2, 3, 14, 15, 16}};
  std::vector<torch::Tensor> sequences;
  torch::manual_seed(21);
  for (int length : {3, 1, 20, 7, 0, 40}) sequences.push_back(torch::rand({length, 17, 2}) * 2 - 1);
  engine::PredictOptions options;
  options.max_batch = 16;
  net->set_implementation(model::Implementation::fast);
  const auto batched = engine::predict_sequences(*net, sequences, symmetry, options, torch::kCPU);
  ASSERT_EQ(batched.size(), sequences.size());
  net->set_implementation(model::Implementation::reference);
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    const auto& seq = sequences[s];
    const std::int64_t T = seq.size(0);
    ASSERT_EQ(batched[s].size(0), T) << "sequence " << s;
    for (std::int64_t t = 0; t < T; ++t) {
      auto index = torch::arange(t - 4, t + 5, torch::kLong).clamp(0, T - 1);
      auto window = seq.index_select(0, index).unsqueeze(0);
      auto plain = net->forward(window);
      auto flipped = engine::flip_poses(
          net->forward(engine::flip_poses(window, symmetry.kps_left, symmetry.kps_right)), symmetry.joints_left,
          symmetry.joints_right);
      auto expected = ((plain + flipped) / 2).squeeze(0).squeeze(0);
      EXPECT_LE(max_abs_diff(batched[s][t], expected), 1e-5) << "sequence " << s << " frame " << t;
    }
  }
  // One sequence alone gives the same as in the batch.
  const auto alone = engine::predict_sequence(*net, sequences[2], symmetry, options, torch::kCPU);
  EXPECT_LE(max_abs_diff(alone, batched[2]), 1e-5);
}

namespace {

// A random linear layer (x: M x K, weight N x K, bias, residual) run through the fast path at a
// given inference precision, in float64 for comparisons.
struct LinearCase {
  torch::Tensor x, weight, bias, residual;
  LinearCase(std::uint64_t seed, std::int64_t M, std::int64_t K, std::int64_t N) {
    torch::manual_seed(seed);
    x = torch::randn({M, K});
    weight = torch::randn({N, K}) * 0.1;
    bias = torch::randn({N});
    residual = torch::randn({M, N});
  }
  torch::Tensor in(model::Precision precision) const {
    model::PrecisionScope scope(precision);
    return model::fast::linear(x, weight, bias, residual).to(torch::kFloat64);
  }
};

}  // namespace

TEST(Int8, LinearStaysWithinTheQuantisationBound) {
  if (model::fast_gemm_backend() != "oneDNN") GTEST_SKIP() << "int8 needs oneDNN";
  torch::NoGradGuard no_grad;
  const std::int64_t M = 37, K = 200, N = 50;
  LinearCase layer(31, M, K, N);
  auto &x = layer.x, &weight = layer.weight, &bias = layer.bias, &residual = layer.residual;
  x[3].zero_();  // an all-zero row
  auto check = [&](const char* what) {
    const auto exact = layer.in(model::Precision::float32);
    const auto quantised = layer.in(model::Precision::int8);
    // Rounding to the grids of step sx (row of x) and sw (row of W) moves each term x_k w_k by at
    // most |x_k| sw/2 + |w_k| sx/2 + sx sw/4.
    const auto xd = x.to(torch::kFloat64), wd = weight.to(torch::kFloat64);
    const auto sx = xd.abs().amax(1, true) / model::int8_activation_levels(),  // (M,1)
        sw = wd.abs().amax(1, true) / 127;                                      // (N,1)
    const auto bound = torch::mm(xd.abs(), sw.t().expand({K, N})) / 2 + torch::mm(sx.expand({M, K}), wd.abs().t()) / 2 +
                       sx * sw.t() * (K / 4.0) + 1e-5;
    const auto excess = ((quantised - exact).abs() - bound).max().item<double>();
    EXPECT_LE(excess, 0.0) << what;
    const double relative = ((quantised - exact).abs().mean() / (exact - residual.to(torch::kFloat64)).abs().mean())
                                .item<double>();
    EXPECT_GT(relative, 1e-6) << what << ": int8 should not be exact (was it used?)";
    EXPECT_LT(relative, 0.02) << what;
    EXPECT_EQ(quantised[3].sub((bias + residual[3]).to(torch::kFloat64)).abs().max().item<double>(), 0.0)
        << what << ": a zero row gives bias + residual";
  };
  check("first call");
  // The quantised weights are cached; changing the weights in place must not reuse them.
  weight.mul_(-2.0);
  check("after an in-place update of the weights");
}

TEST(Bf16, RoundsToNearestEven) {
  using model::fast::from_bf16;
  using model::fast::to_bf16;
  EXPECT_EQ(to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(to_bf16(3.0f), 0x4040);
  EXPECT_EQ(to_bf16(-2.0f), 0xC000);
  // bfloat16 steps are 2^-7 in [1, 2): halfway cases go to the even neighbour.
  EXPECT_EQ(to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // 1 + 0.5 step -> 1
  EXPECT_EQ(to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // 1 + 1.5 steps -> 1 + 2 steps
  EXPECT_EQ(to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);  // just above halfway
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(from_bf16(to_bf16(std::numeric_limits<float>::infinity()))));
  EXPECT_EQ(from_bf16(0x4049), 3.140625f);
}

TEST(Bf16, LinearStaysWithinTheRoundingBound) {
  if (model::bf16_isa().empty()) GTEST_SKIP() << "this CPU (or build) has no bfloat16 arithmetic";
  torch::NoGradGuard no_grad;
  const std::int64_t M = 41, K = 160, N = 48;
  LinearCase layer(37, M, K, N);
  auto &x = layer.x, &weight = layer.weight, &bias = layer.bias, &residual = layer.residual;
  auto check = [&](const char* what) {
    const auto exact = layer.in(model::Precision::float32);
    const auto reduced = layer.in(model::Precision::bf16);
    // Each factor rounded to 8 significant bits moves x_k w_k by at most (2u + u^2)|x_k w_k|,
    // u = 2^-8; float32 sums add at most K 2^-24 of the same (plus the bias and residual adds).
    const auto magnitude = torch::mm(x.to(torch::kFloat64).abs(), weight.to(torch::kFloat64).abs().t());
    const double u = std::ldexp(1.0, -8);
    const auto bound = magnitude * (2 * u + u * u + K * std::ldexp(1.0, -24)) +
                       (exact.abs() + 1) * std::ldexp(1.0, -22);
    EXPECT_LE(((reduced - exact).abs() - bound).max().item<double>(), 0.0) << what;
    const double relative =
        ((reduced - exact).abs().mean() / (exact - residual.to(torch::kFloat64)).abs().mean()).item<double>();
    EXPECT_GT(relative, 1e-6) << what << ": bfloat16 should not be exact (was it used?)";
    EXPECT_LT(relative, 0.01) << what;
  };
  check("first call");
  // The rounded weights are cached; changing the weights in place must not reuse them.
  weight.mul_(-2.0);
  check("after an in-place update of the weights");
  // Below kReducedPrecisionMinInputs inputs a layer stays float32.
  auto narrow_x = torch::randn({M, model::kReducedPrecisionMinInputs - 1});
  auto narrow_w = torch::randn({N, model::kReducedPrecisionMinInputs - 1});
  model::PrecisionScope scope(model::Precision::bf16);
  const auto narrow = model::fast::linear(narrow_x, narrow_w, bias, {});
  EXPECT_LE(max_abs_diff(narrow, torch::addmm(bias, narrow_x, narrow_w.t())), 1e-4);
}

namespace {

// Rows of a bench inference table: "threads batch reference fast speedup GFLOP/s [target]".
std::vector<std::vector<double>> inference_rows(const std::string& table) {
  std::vector<std::vector<double>> rows;
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    double threads = 0, batch = 0, reference = 0, fast = 0;
    std::string speedup;
    if (fields >> threads >> batch >> reference >> fast >> speedup && speedup.back() == 'x')
      rows.push_back({threads, batch, reference, fast, std::stod(speedup)});
  }
  return rows;
}

TEST(BenchCli, ComparesBothPathsAndAgainstTheStockBlasKernels) {
  const std::string cli = POSELIFT_CLI;
  std::string out;
  ASSERT_EQ(test::run_command("env -u OPENBLAS_CORETYPE " + cli + " bench model -f 9 --seconds 0.05 2>&1", &out), 0)
      << out;
  const auto split = out.find("OpenBLAS's own pick");
  const auto gemm = out.find("GEMM share");
  ASSERT_NE(gemm, std::string::npos) << out;
  const auto first = inference_rows(out.substr(0, std::min(split, gemm)));
  ASSERT_EQ(first.size(), 4u) << out;
  for (const auto& row : first) {
    EXPECT_GT(row[2], 0) << out;
    EXPECT_GT(row[3], 0) << out;
    EXPECT_NEAR(row[4], row[3] / row[2], 0.01 + 0.01 * row[4]) << out;  // speedup = fast / reference
  }
  EXPECT_NE(out.find("4.0x, "), std::string::npos) << "the batch-64 2-thread target is shown\n" << out;
  // Where OpenBLAS falls back to generic kernels (poselift then picks better ones), the same
  // comparison runs again on the stock kernels in a child process.
  if (out.find("OpenBLAS picks") != std::string::npos) {
    ASSERT_NE(split, std::string::npos) << out;
    EXPECT_EQ(inference_rows(out.substr(split, gemm - split)).size(), 4u) << out;
  }
  // The child's own output: bare figure lines.
  ASSERT_EQ(test::run_command(cli + " bench model --emit-figures -f 9 --seconds 0.01", &out), 0) << out;
  std::istringstream lines(out);
  std::string kind;
  int threads = 0, batch = 0, count = 0;
  double reference = 0, fast = 0;
  while (lines >> kind >> threads >> batch >> reference >> fast) {
    EXPECT_EQ(kind, "inference");
    EXPECT_GT(reference, 0);
    EXPECT_GT(fast, 0);
    ++count;
  }
  EXPECT_EQ(count, 4) << out;
}

// `bench int8` prints float32 against int8, and against bf16 where the CPU has it (with the
// GEMM rates at the temporal qkv shape), or says why not.
TEST(BenchCli, ComparesReducedPrecisionsWithFloat32) {
  const std::string cli = POSELIFT_CLI;
  std::string out;
  ASSERT_EQ(test::run_command(cli + " bench int8 -f 9 --seconds 0.02 2>&1", &out), 0) << out;
  if (model::fast_gemm_backend() != "oneDNN") {
    EXPECT_NE(out.find("needs oneDNN"), std::string::npos) << out;
    return;
  }
  // Rows "threads float32 reduced speedup": the speedup is the ratio of the two rates.
  auto precision_rows = [&](std::size_t from, std::size_t to) {
    std::vector<std::vector<double>> rows;
    std::istringstream lines(out.substr(from, to == std::string::npos ? to : to - from));
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      double threads = 0, float32 = 0, reduced = 0;
      std::string speedup;
      if (fields >> threads >> float32 >> reduced >> speedup && speedup.size() > 1 && speedup.back() == 'x')
        rows.push_back({threads, float32, reduced, std::stod(speedup.substr(0, speedup.size() - 1))});
    }
    for (const auto& row : rows) EXPECT_NEAR(row[3], row[2] / row[1], 0.01 + 0.01 * row[3]) << out;
    return rows.size();
  };
  const auto int8 = out.find("int8 fr/s"), bf16 = out.find("bf16 fr/s");
  ASSERT_NE(int8, std::string::npos) << out;
  EXPECT_EQ(precision_rows(int8, bf16), 2u) << out;
  if (model::bf16_isa().empty()) {
    EXPECT_NE(out.find("no bfloat16 arithmetic"), std::string::npos) << out;
    return;
  }
  ASSERT_NE(bf16, std::string::npos) << out;
  EXPECT_EQ(precision_rows(bf16, std::string::npos), 2u) << out;
  EXPECT_NE(out.find("bf16 on " + model::bf16_isa()), std::string::npos) << out;
  std::size_t gemm_lines = 0;
  for (auto at = out.find("temporal qkv GEMM"); at != std::string::npos; at = out.find("temporal qkv GEMM", at + 1))
    ++gemm_lines;
  EXPECT_EQ(gemm_lines, 2u) << out;
}

}  // namespace

TEST(FastPath, LayerNormAndGeluMatchLibTorchForwardAndBackward) {
  torch::manual_seed(3);
  // Spatial (32) and temporal (544) widths, rows far from zero and one constant row (variance 0).
  for (const std::int64_t width : {32, 544}) {
    auto x = (torch::randn({300, width}) * 3 + 50).contiguous();
    x[7].fill_(2.5f);
    auto weight = torch::randn({width}), bias = torch::randn({width}), grad = torch::randn({300, width});
    auto x64 = x.to(torch::kFloat64).requires_grad_();
    auto w64 = weight.to(torch::kFloat64).requires_grad_(), b64 = bias.to(torch::kFloat64).requires_grad_();
    auto expected = torch::layer_norm(x64, {width}, w64, b64, 1e-6);
    expected.backward(grad.to(torch::kFloat64));
    auto xf = x.clone().requires_grad_(), wf = weight.clone().requires_grad_(), bf = bias.clone().requires_grad_();
    auto got = model::fast::layer_norm(xf, wf, bf, 1e-6);
    got.backward(grad);
    EXPECT_LT(max_abs_diff(got, expected), 2e-5) << width;
    // Relative to the largest gradient (the constant row's are ~1000x the others: rstd = 1/sqrt(eps)).
    auto relative = [](const torch::Tensor& a, const torch::Tensor& b) {
      return max_abs_diff(a, b) / b.abs().max().item<double>();
    };
    EXPECT_LT(relative(xf.grad(), x64.grad()), 1e-6) << width;
    EXPECT_LT(relative(wf.grad(), w64.grad()), 1e-5) << width;  // sums over 300 rows
    EXPECT_LT(relative(bf.grad(), b64.grad()), 1e-5) << width;
    torch::NoGradGuard no_grad;
    EXPECT_LT(max_abs_diff(model::fast::layer_norm(x, weight, bias, 1e-6), expected.detach()), 2e-5) << width;
  }
  // GELU from deep in the tails to far out, against the double-precision erf form.
  auto x = torch::linspace(-12, 12, 48001);
  auto x64 = x.to(torch::kFloat64).requires_grad_();
  auto expected = torch::gelu(x64);
  auto grad = torch::randn({48001});
  expected.backward(grad.to(torch::kFloat64));
  auto xf = x.clone().requires_grad_();
  auto got = model::fast::gelu(xf);
  got.backward(grad);
  const auto tolerance = 1e-6 * torch::clamp_min(x.abs(), 1).to(torch::kFloat64);
  EXPECT_TRUE(((got.to(torch::kFloat64) - expected).abs() <= tolerance).all().item<bool>())
      << max_abs_diff(got, expected);
  EXPECT_LT(max_abs_diff(xf.grad(), x64.grad()), 1e-5 * grad.abs().max().item<double>());
  EXPECT_EQ(got[0].item<float>(), got[0].item<float>()) << "finite far in the tail";
}

TEST(FastPath, SpatialFeaturesOfAFrameDoNotDependOnItsBatch) {
  // The lane kernels compute every frame alone with the same instructions, wherever it sits in
  // a batch or lane group: bit-identical features. (The temporal stage's GEMMs round a row
  // differently with the other rows of the pass, ~1e-7 relative.)
  auto net = random_model(config(27, 32, 2, 8), 5);
  net->eval();
  torch::NoGradGuard no_grad;
  auto frames = torch::randn({100, 17, 2});
  auto all = net->spatial_features(frames);
  for (auto [first, count] : {std::pair{0, 21}, {3, 21}, {40, 21}, {99, 1}}) {
    auto part = net->spatial_features(frames.slice(0, first, first + count));
    EXPECT_TRUE(torch::equal(part, all.slice(0, first, first + count)))
        << count << " from frame " << first << ": " << max_abs_diff(part, all.slice(0, first, first + count));
  }
}

TEST(FastSettings, ScopesRestoreThePrecisionAndStopTheTally) {
  ASSERT_EQ(model::inference_precision(), model::Precision::float32);
  {
    model::PrecisionScope outer(model::Precision::int8);
    EXPECT_EQ(model::inference_precision(), model::Precision::int8);
    {
      model::PrecisionScope inner(model::Precision::float32);
      EXPECT_EQ(model::inference_precision(), model::Precision::float32);
    }
    EXPECT_EQ(model::inference_precision(), model::Precision::int8);
  }
  EXPECT_EQ(model::inference_precision(), model::Precision::float32);

  torch::NoGradGuard no_grad;
  const auto x = torch::randn({8, 16}), weight = torch::randn({4, 16}), bias = torch::randn({4});
  model::fast::GemmTally tally;
  {
    model::fast::GemmTallyScope tallying;
    model::fast::linear(x, weight, bias);
    tally = tallying.tally();
  }
  EXPECT_DOUBLE_EQ(tally.flops, 2.0 * 8 * 4 * 16);
  model::fast::linear(x, weight, bias);  // not counted: no scope
  model::fast::GemmTallyScope fresh;
  EXPECT_EQ(fresh.tally().flops, 0.0);
}
