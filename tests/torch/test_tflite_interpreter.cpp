// The TFLite executor, operator by operator, against plain loops written from TFLite's
// reference semantics (SAME padding with the extra row after, pooling that ignores padding,
// the three bilinear modes, DCR depth-to-space, per-channel dequantization), on one-operator
// models written by FlatBuffers' builder; then MediaPipe's real BlazePose models end to end.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "detector/tflite_interpreter.hpp"
#include "io/error.hpp"
#include "tflite_builder.hpp"

namespace poselift::detector {
namespace {

using poselift::testing::bytes_of;
using poselift::testing::TestModel;
using poselift::testing::TestOperator;
using poselift::testing::TestTensor;
using poselift::testing::write_tflite;

TestTensor activation(const std::string& name, std::vector<std::int32_t> shape) {
  return {name, std::move(shape), 0, {}, {}, {}, 0, {}, {}, {}};
}

TestTensor float_constant(const std::string& name, std::vector<std::int32_t> shape, const torch::Tensor& values) {
  const torch::Tensor flat = values.to(torch::kFloat).contiguous().flatten();
  std::vector<float> data(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  return {name, std::move(shape), 0, bytes_of(data), {}, {}, 0, {}, {}, {}};
}

TestTensor int_constant(const std::string& name, std::vector<std::int32_t> values) {
  return {name, {static_cast<std::int32_t>(values.size())}, 2, bytes_of(values), {}, {}, 0, {}, {}, {}};
}

std::vector<std::int32_t> dims(const torch::Tensor& t) {
  std::vector<std::int32_t> out;
  for (auto d : t.sizes()) out.push_back(static_cast<std::int32_t>(d));
  return out;
}

TfliteInterpreter interpreter_of(const TestModel& model) {
  const std::vector<std::uint8_t> bytes = write_tflite(model);
  return TfliteInterpreter(tflite::parse_model(bytes.data(), bytes.size(), "test.tflite"));
}

torch::Tensor run_one(const TestModel& model, const torch::Tensor& input) {
  return interpreter_of(model).run({input}).at(0);
}

// TFLite's SAME padding before the data: half the total, rounded down.
std::int64_t pad_before(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                        std::int64_t out) {
  return std::max<std::int64_t>((out - 1) * stride + (kernel - 1) * dilation + 1 - in, 0) / 2;
}

// out[n, y, x, o] = bias[o] + sum in[n, y*s - top + ky*d, x*s - left + kx*d, i] * w[...]
torch::Tensor reference_convolution(const torch::Tensor& in, const torch::Tensor& filter, const torch::Tensor& bias,
                                    int stride, int dilation, bool same, bool depthwise, double clamp_max) {
  const auto N = in.size(0), H = in.size(1), W = in.size(2), C = in.size(3);
  const auto kh = filter.size(1), kw = filter.size(2);
  const auto O = depthwise ? filter.size(3) : filter.size(0);
  const auto multiplier = depthwise ? O / C : 1;
  const auto extent_h = (kh - 1) * dilation + 1, extent_w = (kw - 1) * dilation + 1;
  const auto OH = same ? (H + stride - 1) / stride : (H - extent_h) / stride + 1;
  const auto OW = same ? (W + stride - 1) / stride : (W - extent_w) / stride + 1;
  const auto top = same ? pad_before(H, kh, stride, dilation, OH) : 0;
  const auto left = same ? pad_before(W, kw, stride, dilation, OW) : 0;
  auto a = in.accessor<float, 4>();
  auto f = filter.accessor<float, 4>();
  torch::Tensor out = torch::zeros({N, OH, OW, O});
  auto o_acc = out.accessor<float, 4>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t x = 0; x < OW; ++x)
        for (int64_t o = 0; o < O; ++o) {
          double sum = bias.defined() ? bias[o].item<double>() : 0.0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = y * stride - top + ky * dilation, ix = x * stride - left + kx * dilation;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              if (depthwise) {
                sum += a[n][iy][ix][o / multiplier] * f[0][ky][kx][o];
              } else {
                for (int64_t i = 0; i < C; ++i) sum += a[n][iy][ix][i] * f[o][ky][kx][i];
              }
            }
          o_acc[n][y][x][o] = static_cast<float>(std::clamp(sum, 0.0, clamp_max));
        }
  return out;
}

TEST(TfliteInterpreter, ConvolutionWithAsymmetricSamePaddingAndFloat16Weights) {
  torch::manual_seed(1);
  const torch::Tensor input = torch::randn({1, 6, 7, 3});
  const torch::Tensor filter = torch::randn({4, 3, 3, 3}).to(torch::kHalf);
  const torch::Tensor bias = torch::randn({4});
  const torch::Tensor filter_bits = filter.contiguous().view(torch::kShort);
  std::vector<std::int16_t> halves(filter_bits.data_ptr<std::int16_t>(),
                                   filter_bits.data_ptr<std::int16_t>() + filter_bits.numel());
  for (int stride : {1, 2}) {
    const std::int32_t OH = (6 + stride - 1) / stride, OW = (7 + stride - 1) / stride;
    TestModel model;
    model.tensors = {activation("in", {1, 6, 7, 3}),
                     {"filter16", {4, 3, 3, 3}, 1, bytes_of(halves), {}, {}, 0, {}, {}, {}},
                     activation("filter", {4, 3, 3, 3}),
                     float_constant("bias", {4}, bias),
                     activation("out", {1, OH, OW, 4})};
    model.operators = {{6, "", {1}, {2}, 0, {}, {}},
                       {3, "", {0, 2, 3}, {4}, 1, {{0, 1, 0}, {1, 4, stride}, {2, 4, stride}, {3, 1, 3}}, {}}};
    model.inputs = {0};
    model.outputs = {4};
    const TfliteInterpreter interpreter = interpreter_of(model);
    EXPECT_EQ(interpreter.folded_operators(), 1u);  // the DEQUANTIZE of the weights
    const torch::Tensor expected =
        reference_convolution(input, filter.to(torch::kFloat), bias, stride, 1, true, false, 6.0);
    EXPECT_TRUE(torch::allclose(interpreter.run({input})[0], expected, 1e-4, 1e-5)) << "stride " << stride;
  }
}

TEST(TfliteInterpreter, DepthwiseConvolutionWithMultiplierAndDilation) {
  torch::manual_seed(2);
  const torch::Tensor input = torch::randn({1, 8, 8, 3});
  const torch::Tensor filter = torch::randn({1, 3, 3, 6});
  const torch::Tensor bias = torch::randn({6});
  struct Case {
    int stride, dilation;
    bool same;
  };
  for (const Case c : {Case{1, 1, true}, Case{2, 1, true}, Case{1, 2, true}, Case{2, 1, false}}) {
    const torch::Tensor expected =
        reference_convolution(input, filter, bias, c.stride, c.dilation, c.same, true, 1e30);
    TestModel model;
    model.tensors = {activation("in", {1, 8, 8, 3}), float_constant("filter", {1, 3, 3, 6}, filter),
                     float_constant("bias", {6}, bias), activation("out", dims(expected))};
    model.operators = {{4, "", {0, 1, 2}, {3}, 2,
                        {{0, 1, c.same ? 0 : 1}, {1, 4, c.stride}, {2, 4, c.stride}, {3, 4, 2}, {4, 1, 1},
                         {5, 4, c.dilation}, {6, 4, c.dilation}}, {}}};
    model.inputs = {0};
    model.outputs = {3};
    EXPECT_TRUE(torch::allclose(run_one(model, input), expected, 1e-4, 1e-5))
        << "stride " << c.stride << " dilation " << c.dilation << " same " << c.same;
  }
}

TEST(TfliteInterpreter, MaxPoolingIgnoresPadding) {
  torch::manual_seed(3);
  const torch::Tensor input = -torch::rand({1, 5, 6, 2}) - 1.0;  // all negative: zero padding would win
  for (bool same : {false, true}) {
    const int k = same ? 3 : 2, s = 2;
    const std::int64_t OH = same ? 3 : 2, OW = 3;
    const std::int64_t top = same ? pad_before(5, k, s, 1, OH) : 0, left = same ? pad_before(6, k, s, 1, OW) : 0;
    torch::Tensor expected = torch::full({1, OH, OW, 2}, -1e30);
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t x = 0; x < OW; ++x)
        for (int64_t c = 0; c < 2; ++c)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int64_t iy = y * s - top + ky, ix = x * s - left + kx;
              if (iy < 0 || iy >= 5 || ix < 0 || ix >= 6) continue;
              expected[0][y][x][c] = std::max(expected[0][y][x][c].item<float>(), input[0][iy][ix][c].item<float>());
            }
    TestModel model;
    model.tensors = {activation("in", {1, 5, 6, 2}), activation("out", dims(expected))};
    model.operators = {{17, "", {0}, {1}, 5, {{0, 1, same ? 0 : 1}, {1, 4, s}, {2, 4, s}, {3, 4, k}, {4, 4, k}}, {}}};
    model.inputs = {0};
    model.outputs = {1};
    EXPECT_TRUE(torch::equal(run_one(model, input), expected)) << "same " << same;
  }
}

// TFLite's reference bilinear kernel, written out.
torch::Tensor reference_resize(const torch::Tensor& in, int64_t OH, int64_t OW, bool align, bool half) {
  const auto H = in.size(1), W = in.size(2), C = in.size(3);
  auto scale = [&](int64_t i, int64_t o) { return align && o > 1 ? (i - 1) / double(o - 1) : i / double(o); };
  torch::Tensor out = torch::zeros({1, OH, OW, C});
  for (int64_t y = 0; y < OH; ++y) {
    const double sy = half ? (y + 0.5) * scale(H, OH) - 0.5 : y * scale(H, OH);
    const int64_t y0 = std::max<int64_t>(int64_t(std::floor(sy)), 0), y1 = std::min<int64_t>(int64_t(std::ceil(sy)), H - 1);
    for (int64_t x = 0; x < OW; ++x) {
      const double sx = half ? (x + 0.5) * scale(W, OW) - 0.5 : x * scale(W, OW);
      const int64_t x0 = std::max<int64_t>(int64_t(std::floor(sx)), 0), x1 = std::min<int64_t>(int64_t(std::ceil(sx)), W - 1);
      for (int64_t c = 0; c < C; ++c) {
        const double v = in[0][y0][x0][c].item<double>() * (1 - (sy - y0)) * (1 - (sx - x0)) +
                         in[0][y1][x0][c].item<double>() * (sy - y0) * (1 - (sx - x0)) +
                         in[0][y0][x1][c].item<double>() * (1 - (sy - y0)) * (sx - x0) +
                         in[0][y1][x1][c].item<double>() * (sy - y0) * (sx - x0);
        out[0][y][x][c] = v;
      }
    }
  }
  return out;
}

TEST(TfliteInterpreter, BilinearResizingInAllThreeModes) {
  torch::manual_seed(4);
  const torch::Tensor input = torch::randn({1, 4, 5, 2});
  struct Mode {
    bool align, half;
  };
  for (const Mode m : {Mode{false, true}, Mode{true, false}, Mode{false, false}}) {
    for (auto [OH, OW] : {std::pair<int, int>{8, 10}, {7, 3}}) {
      TestModel model;
      model.tensors = {activation("in", {1, 4, 5, 2}), int_constant("size", {OH, OW}), activation("out", {1, OH, OW, 2})};
      model.operators = {{23, "", {0, 1}, {2}, 15, {{2, 1, m.align ? 1 : 0}, {3, 1, m.half ? 1 : 0}}, {}}};
      model.inputs = {0};
      model.outputs = {2};
      EXPECT_TRUE(torch::allclose(run_one(model, input), reference_resize(input, OH, OW, m.align, m.half), 1e-5, 1e-5))
          << "align " << m.align << " half " << m.half << " " << OH << "x" << OW;
    }
  }
}

TEST(TfliteInterpreter, DepthToSpaceIsDepthColumnRow) {
  const torch::Tensor input = torch::arange(2 * 3 * 12, torch::kFloat).reshape({1, 2, 3, 12});
  TestModel model;
  model.tensors = {activation("in", {1, 2, 3, 12}), activation("out", {1, 4, 6, 3})};
  model.operators = {{5, "", {0}, {1}, 94, {{0, 4, 2}}, {}}};
  model.inputs = {0};
  model.outputs = {1};
  const torch::Tensor out = run_one(model, input);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 6; ++x)
      for (int64_t c = 0; c < 3; ++c)
        ASSERT_EQ(out[0][y][x][c].item<float>(), input[0][y / 2][x / 2][((y % 2) * 2 + x % 2) * 3 + c].item<float>());
}

TEST(TfliteInterpreter, PadReshapeConcatenateAddLogistic) {
  torch::manual_seed(5);
  const torch::Tensor input = torch::randn({1, 2, 2, 3});
  TestModel model;
  model.tensors = {activation("in", {1, 2, 2, 3}),
                   {"paddings", {4, 2}, 2, bytes_of(std::vector<std::int32_t>{0, 0, 1, 0, 0, 2, 0, 1}), {}, {}, 0, {}, {}, {}},
                   activation("padded", {1, 3, 4, 4}),
                   int_constant("shape", {1, -1}),
                   activation("flat", {1, 48}),
                   activation("joined", {1, 96}),
                   float_constant("offset", {96}, torch::arange(96)),
                   activation("sum", {1, 96}),
                   activation("out", {1, 96})};
  model.operators = {{34, "", {0, 1}, {2}, 22, {}, {}},
                     {22, "", {2, 3}, {4}, 17, {}, {}},
                     {2, "", {4, 4}, {5}, 10, {{0, 4, -1}}, {}},
                     {0, "", {5, 6}, {7}, 11, {{0, 1, 1}}, {}},
                     {14, "", {7}, {8}, 0, {}, {}}};
  model.inputs = {0};
  model.outputs = {8};
  const torch::Tensor padded = torch::zeros({1, 3, 4, 4});
  padded.slice(1, 1, 3).slice(2, 0, 2).slice(3, 0, 3).copy_(input);
  const torch::Tensor flat = padded.reshape({1, 48});
  const torch::Tensor expected = torch::sigmoid(torch::relu(torch::cat({flat, flat}, 1) + torch::arange(96)));
  EXPECT_TRUE(torch::allclose(run_one(model, input), expected, 1e-6, 1e-6));
}

TEST(TfliteInterpreter, DequantizesInt8PerChannel) {
  TestModel model;
  TestTensor q{"q", {2, 3}, 9, {1, 2, 3, 0xff, 0xfe, 0x80}, {0.5f, 2.f}, {1, -2}, 0, {}, {}, {}};
  model.tensors = {activation("in", {2, 3}), q, activation("deq", {2, 3}), activation("out", {2, 3})};
  model.operators = {{6, "", {1}, {2}, 0, {}, {}}, {0, "", {0, 2}, {3}, 11, {}, {}}};
  model.inputs = {0};
  model.outputs = {3};
  const torch::Tensor out = run_one(model, torch::zeros({2, 3}));
  // (q - zero_point) * scale per row: row 0 scale 0.5 zero 1, row 1 scale 2 zero -2 (q = -1, -2, -128).
  const torch::Tensor expected = torch::tensor({0.f, 0.5f, 1.f, 2.f, 0.f, -252.f}).reshape({2, 3});
  EXPECT_TRUE(torch::equal(out, expected)) << out;
}

TEST(TfliteInterpreter, ClearErrors) {
  TestModel model;
  model.tensors = {activation("in", {1, 4, 4, 1}), activation("filter", {1, 1, 1, 1}), activation("out", {1, 4, 4, 1})};
  model.operators = {{3, "", {1, 1}, {2}, 1, {{0, 1, 0}, {1, 4, 1}, {2, 4, 1}}, {}}};
  model.inputs = {0, 1};
  model.outputs = {2};
  try {
    interpreter_of(model);
    ADD_FAILURE() << "a convolution with a computed filter must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("test.tflite: operator 0 (CONV_2D): the filter must be a constant"),
              std::string::npos)
        << e.what();
  }
  TestModel sigmoid;
  sigmoid.tensors = {activation("image", {1, 4, 4, 3}), activation("out", {1, 4, 4, 3})};
  sigmoid.operators = {{14, "", {0}, {1}, 0, {}, {}}};
  sigmoid.inputs = {0};
  sigmoid.outputs = {1};
  const TfliteInterpreter interpreter = interpreter_of(sigmoid);
  try {
    interpreter.run({torch::zeros({1, 5, 4, 3})});
    ADD_FAILURE() << "a wrong input shape must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("input \"image\" must be float32 of shape [1, 4, 4, 3], got float32 [1, 5, 4, 3]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(interpreter.run({}), InputError);
}

std::string pose_model(const std::string& name) {
  const std::string path = std::string(POSELIFT_MODELS_DIR) + "/" + name;
  return std::filesystem::exists(path) ? path : "";
}

TEST(TfliteInterpreter, RunsMediaPipeModels) {
  int found = 0;
  for (const char* file : {"pose_solution_packed_assets.data", "pose_landmark_lite.tflite", "pose_landmark_full.tflite"}) {
    const std::string path = pose_model(file);
    if (path.empty()) continue;
    ++found;
    const TfliteInterpreter interpreter(tflite::load_model(path));
    const std::vector<std::int64_t> shape = interpreter.input_shape(0);
    const torch::Tensor image = torch::rand(shape) * 2 - 1;
    const std::vector<torch::Tensor> outputs = interpreter.run({image});
    ASSERT_EQ(outputs.size(), interpreter.model().outputs.size()) << file;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      EXPECT_EQ(outputs[i].sizes().vec(), interpreter.output_shape(i)) << file << " output " << i;
      EXPECT_TRUE(torch::isfinite(outputs[i]).all().item<bool>()) << file << " output " << i;
    }
    // Deterministic: the same image gives the same result.
    EXPECT_TRUE(torch::equal(interpreter.run({image})[0], outputs[0])) << file;
  }
  if (found == 0) GTEST_SKIP() << "BlazePose models not installed (scripts/setup.sh installs them with npm)";
}

}  // namespace
}  // namespace poselift::detector
