// The TFLite model reader: files written by FlatBuffers' own builder (tests/tflite_builder.hpp)
// read back field by field, sparse tensors expanded against hand-computed matrices, hostile
// files (truncations, every byte flipped, wrong indices) ending in InputError, and MediaPipe's
// real BlazePose models against operator counts measured independently with Python's flatbuffers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "io/error.hpp"
#include "test_support.hpp"
#include "tflite/model.hpp"
#include "tflite_builder.hpp"

namespace poselift::tflite {
namespace {

using poselift::testing::bytes_of;
using poselift::testing::TestField;
using poselift::testing::TestModel;
using poselift::testing::TestOperator;
using poselift::testing::TestSparseDimension;
using poselift::testing::TestTensor;
using poselift::testing::write_tflite;

Model parse(const std::vector<std::uint8_t>& bytes, const ReadLimits& limits = {}) {
  return parse_model(bytes.data(), bytes.size(), "test.tflite", limits);
}

std::string parse_error(const std::vector<std::uint8_t>& bytes) {
  try {
    parse(bytes);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<float> floats_of(const std::vector<std::uint8_t>& bytes) {
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

// input [1,4,4,2] -> CONV_2D (3x3, stride 2, SAME, RELU6, float16 weights through DEQUANTIZE)
// -> ADD with a constant -> output.
TestModel conv_model() {
  TestModel model;
  model.tensors = {
      {"input", {1, 4, 4, 2}, 0, {}, {}, {}, 0, {}, {}, {}},
      {"filter_f16", {3, 3, 3, 2}, 1, std::vector<std::uint8_t>(3 * 3 * 3 * 2 * 2, 0x3c), {}, {}, 0, {}, {}, {}},
      {"filter", {3, 3, 3, 2}, 0, {}, {}, {}, 0, {}, {}, {}},
      {"bias", {3}, 0, bytes_of(std::vector<float>{0.5f, -1.f, 2.f}), {}, {}, 0, {}, {}, {}},
      {"conv", {1, 2, 2, 3}, 0, {}, {}, {}, 0, {}, {}, {}},
      {"offset", {3}, 0, bytes_of(std::vector<float>{1.f, 2.f, 3.f}), {}, {}, 0, {}, {}, {}},
      {"output", {1, 2, 2, 3}, 0, {}, {}, {}, 0, {}, {}, {}},
  };
  TestOperator dequantize{6, "", {1}, {2}, 0, {}, {}};
  TestOperator conv{3, "", {0, 2, 3}, {4}, 1, {{0, 1, 0}, {1, 4, 2}, {2, 4, 2}, {3, 1, 3}}, {}};
  TestOperator add{0, "", {4, 5}, {6}, 11, {{0, 1, 0}}, {}};
  model.operators = {dequantize, conv, add};
  model.inputs = {0};
  model.outputs = {6};
  return model;
}

TEST(TfliteModel, ReadsTensorsOperatorsAndOptionsBack) {
  const Model model = parse(write_tflite(conv_model()));
  EXPECT_EQ(model.description, "poselift test model");
  ASSERT_EQ(model.tensors.size(), 7u);
  EXPECT_EQ(model.tensors[0].name, "input");
  EXPECT_EQ(model.tensors[0].shape, (std::vector<std::int64_t>{1, 4, 4, 2}));
  EXPECT_FALSE(model.tensors[0].constant);
  EXPECT_EQ(model.tensors[1].type, ElementType::Float16);
  EXPECT_TRUE(model.tensors[1].constant);
  EXPECT_EQ(model.tensors[1].data.size(), 108u);
  EXPECT_EQ(floats_of(model.tensors[3].data), (std::vector<float>{0.5f, -1.f, 2.f}));
  EXPECT_EQ(model.inputs, (std::vector<std::int32_t>{0}));
  EXPECT_EQ(model.outputs, (std::vector<std::int32_t>{6}));
  ASSERT_EQ(model.operators.size(), 3u);
  EXPECT_EQ(model.operators[0].kind, OperatorKind::Dequantize);
  const Operator& conv = model.operators[1];
  EXPECT_EQ(conv.kind, OperatorKind::Conv2d);
  EXPECT_EQ(conv.inputs, (std::vector<std::int32_t>{0, 2, 3}));
  EXPECT_EQ(conv.outputs, (std::vector<std::int32_t>{4}));
  EXPECT_EQ(conv.options.padding, Padding::Same);
  EXPECT_EQ(conv.options.stride_w, 2);
  EXPECT_EQ(conv.options.stride_h, 2);
  EXPECT_EQ(conv.options.activation, Activation::Relu6);
  EXPECT_EQ(conv.options.dilation_w, 1);  // absent: the schema's default
  EXPECT_EQ(model.operators[2].kind, OperatorKind::Add);
}

TEST(TfliteModel, ReadsEveryOptionsTable) {
  TestModel model;
  model.tensors = {{"in", {1, 4, 4, 4}, 0, {}, {}, {}, 0, {}, {}, {}},
                   {"pool", {1, 2, 2, 4}, 0, {}, {}, {}, 0, {}, {}, {}},
                   {"space", {1, 4, 4, 1}, 0, {}, {}, {}, 0, {}, {}, {}},
                   {"size", {2}, 2, bytes_of(std::vector<std::int32_t>{8, 8}), {}, {}, 0, {}, {}, {}},
                   {"resized", {1, 8, 8, 1}, 0, {}, {}, {}, 0, {}, {}, {}},
                   {"flat", {1, 64}, 0, {}, {}, {}, 0, {}, {}, {}},
                   {"joined", {1, 128}, 0, {}, {}, {}, 0, {}, {}, {}}};
  model.operators = {
      {17, "", {0}, {1}, 5, {{0, 1, 1}, {1, 4, 2}, {2, 4, 2}, {3, 4, 2}, {4, 4, 2}}, {}},
      {5, "", {1}, {2}, 94, {{0, 4, 2}}, {}},
      {23, "", {2, 3}, {4}, 15, {{2, 1, 0}, {3, 1, 1}}, {}},
      {22, "", {4}, {5}, 17, {}, {1, 64}},
      {2, "", {5, 5}, {6}, 10, {{0, 4, 1}}, {}},
  };
  model.inputs = {0};
  model.outputs = {6};
  const Model read = parse(write_tflite(model));
  ASSERT_EQ(read.operators.size(), 5u);
  const OperatorOptions& pool = read.operators[0].options;
  EXPECT_EQ(read.operators[0].kind, OperatorKind::MaxPool2d);
  EXPECT_EQ(pool.padding, Padding::Valid);
  EXPECT_EQ(pool.filter_w, 2);
  EXPECT_EQ(pool.filter_h, 2);
  EXPECT_EQ(read.operators[1].kind, OperatorKind::DepthToSpace);
  EXPECT_EQ(read.operators[1].options.block_size, 2);
  EXPECT_EQ(read.operators[2].kind, OperatorKind::ResizeBilinear);
  EXPECT_FALSE(read.operators[2].options.align_corners);
  EXPECT_TRUE(read.operators[2].options.half_pixel_centers);
  EXPECT_EQ(read.operators[3].kind, OperatorKind::Reshape);
  EXPECT_EQ(read.operators[3].options.new_shape, (std::vector<std::int32_t>{1, 64}));
  EXPECT_EQ(read.operators[4].kind, OperatorKind::Concatenation);
  EXPECT_EQ(read.operators[4].options.axis, 1);
}

TEST(TfliteModel, ReadsQuantization) {
  TestModel model;
  model.tensors = {{"q", {2, 2}, 9, {1, 2, 3, 4}, {0.5f, 0.25f}, {0, 1}, 0, {}, {}, {}},
                   {"out", {2, 2}, 0, {}, {}, {}, 0, {}, {}, {}}};
  model.operators = {{6, "", {0}, {1}, 0, {}, {}}};
  model.outputs = {1};
  const Model read = parse(write_tflite(model));
  ASSERT_TRUE(read.tensors[0].quantization.has_value());
  EXPECT_EQ(read.tensors[0].quantization->scale, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_EQ(read.tensors[0].quantization->zero_point, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(read.tensors[0].type, ElementType::Int8);
}

// A sparse constant densified by DENSIFY.
TestModel sparse_model(TestTensor sparse) {
  TestModel model;
  TestTensor dense{"dense", sparse.shape, sparse.type, {}, {}, {}, 0, {}, {}, {}};
  model.tensors = {std::move(sparse), dense};
  model.operators = {{124, "", {0}, {1}, 0, {}, {}}};
  model.outputs = {1};
  return model;
}

std::vector<float> densified(const TestTensor& sparse) {
  const Model model = parse(write_tflite(sparse_model(sparse)));
  EXPECT_TRUE(model.tensors[0].sparsity.has_value());
  return floats_of(dense_bytes(model.tensors[0], model.source));
}

TEST(TfliteModel, DensifiesCsrRows) {
  // [[0, 1, 0], [2, 0, 3]]: rows dense, columns compressed.
  for (std::uint8_t index_type : {1, 2, 3}) {
    TestTensor sparse{"w", {2, 3}, 0, bytes_of(std::vector<float>{1, 2, 3}), {}, {}, 0, {0, 1}, {}, {}};
    sparse.dimensions = {{false, 2, {}, {}, 1}, {true, 0, {0, 1, 3}, {1, 0, 2}, index_type}};
    EXPECT_EQ(densified(sparse), (std::vector<float>{0, 1, 0, 2, 0, 3})) << "index type " << int(index_type);
  }
}

TEST(TfliteModel, DensifiesInTraversalOrder) {
  // The same matrix stored column by column (traversal order [1, 0]).
  TestTensor sparse{"w", {2, 3}, 0, bytes_of(std::vector<float>{2, 1, 3}), {}, {}, 0, {1, 0}, {}, {}};
  sparse.dimensions = {{false, 3, {}, {}, 1}, {true, 0, {0, 1, 2, 3}, {1, 0, 1}, 1}};
  EXPECT_EQ(densified(sparse), (std::vector<float>{0, 1, 0, 2, 0, 3}));
}

TEST(TfliteModel, DensifiesBlocks) {
  // [[0, 0, 5, 6], [7, 8, 0, 0]] in 1x2 blocks: block column 1 in row 0, block column 0 in row 1.
  TestTensor sparse{"w", {2, 4}, 0, bytes_of(std::vector<float>{5, 6, 7, 8}), {}, {}, 0, {0, 1, 2}, {1}, {}};
  sparse.dimensions = {{false, 2, {}, {}, 1}, {true, 0, {0, 1, 2}, {1, 0}, 1}, {false, 2, {}, {}, 1}};
  EXPECT_EQ(densified(sparse), (std::vector<float>{0, 0, 5, 6, 7, 8, 0, 0}));
}

TEST(TfliteModel, DensifiesFloat16AsBytes) {
  // MediaPipe's detector: float16 values, four dense levels and a final CSR level of uint8 indices.
  const std::vector<std::uint16_t> halves = {0x3c00, 0x4000};  // 1.0, 2.0
  TestTensor sparse{"w", {1, 1, 2, 4}, 1, bytes_of(halves), {}, {}, 0, {0, 1, 2, 3}, {}, {}};
  sparse.dimensions = {{false, 1, {}, {}, 1}, {false, 1, {}, {}, 1}, {false, 2, {}, {}, 1},
                       {true, 0, {0, 1, 2}, {3, 0}, 3}};
  const Model model = parse(write_tflite(sparse_model(sparse)));
  const std::vector<std::uint8_t> dense = dense_bytes(model.tensors[0], model.source);
  std::vector<std::uint16_t> values(8);
  ASSERT_EQ(dense.size(), 16u);
  std::memcpy(values.data(), dense.data(), 16);
  EXPECT_EQ(values, (std::vector<std::uint16_t>{0, 0, 0, 0x3c00, 0x4000, 0, 0, 0}));
}

std::string densify_error(const TestTensor& sparse) {
  try {
    densified(sparse);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TfliteModel, InconsistentSparsityIsAnInputError) {
  TestTensor sparse{"w", {2, 3}, 0, bytes_of(std::vector<float>{1, 2, 3}), {}, {}, 0, {0, 1}, {}, {}};
  sparse.dimensions = {{false, 2, {}, {}, 1}, {true, 0, {0, 1, 3}, {1, 0, 3}, 1}};
  EXPECT_NE(densify_error(sparse).find("array_indices entry 3 outside 0..2"), std::string::npos);
  sparse.dimensions[1].indices = {1, 0, 2};
  sparse.dimensions[1].segments = {0, 3, 1};
  EXPECT_NE(densify_error(sparse).find("array_segments decrease"), std::string::npos);
  sparse.dimensions[1].segments = {0, 1, 2};
  EXPECT_NE(densify_error(sparse).find("array_segments end at 2"), std::string::npos);
  sparse.dimensions[1].segments = {0, 1, 3};
  sparse.traversal_order = {0, 0};
  EXPECT_NE(densify_error(sparse).find("traversal_order is not a valid permutation"), std::string::npos);
  sparse.traversal_order = {0, 1};
  sparse.dimensions[0].dense_size = 3;
  EXPECT_NE(densify_error(sparse).find("dense_size 3, expected 2"), std::string::npos);
  sparse.dimensions[0].dense_size = 2;
  sparse.data = bytes_of(std::vector<float>{1, 2});
  EXPECT_NE(densify_error(sparse).find("describes 3 stored values, the data holds 2"), std::string::npos);
}

TEST(TfliteModel, NamesUnsupportedOperators) {
  TestModel model = conv_model();
  model.operators[2].builtin = 9;
  EXPECT_NE(parse_error(write_tflite(model)).find(
                "test.tflite: unsupported operator FULLY_CONNECTED (builtin code 9), operator 2"),
            std::string::npos);
  model.operators[2].builtin = 32;
  model.operators[2].custom = "Convolution2DTransposeBias";
  EXPECT_NE(parse_error(write_tflite(model)).find("unsupported operator CUSTOM \"Convolution2DTransposeBias\""),
            std::string::npos);
  model.operators[2].builtin = 250;
  model.operators[2].custom.clear();
  EXPECT_NE(parse_error(write_tflite(model)).find("unsupported operator unknown (builtin code 250)"),
            std::string::npos);
}

TEST(TfliteModel, RejectsInconsistentGraphs) {
  {
    TestModel model = conv_model();
    model.operators[1].inputs[0] = 40;
    EXPECT_NE(parse_error(write_tflite(model)).find("tensor index 40 out of range (7 tensors)"), std::string::npos);
  }
  {
    TestModel model = conv_model();
    std::swap(model.operators[0], model.operators[1]);
    EXPECT_NE(parse_error(write_tflite(model)).find("input tensor 2 is used before any operator computes it"),
              std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.tensors[3].data.pop_back();
    EXPECT_NE(parse_error(write_tflite(model)).find("data of 11 bytes, expected 12 for 3 float32 values"),
              std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.operators[1].options.clear();
    model.operators[1].options_type = 0;
    EXPECT_NE(parse_error(write_tflite(model)).find("(CONV_2D): builtin_options missing"), std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.operators[1].options_type = 2;
    EXPECT_NE(parse_error(write_tflite(model)).find("builtin_options of union type 2 (expected 1)"),
              std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.operators[1].options[1].value = 0;
    EXPECT_NE(parse_error(write_tflite(model)).find("stride_w = 0 (expected 1 to 4096)"), std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.version = 2;
    EXPECT_NE(parse_error(write_tflite(model)).find("schema version 2 (expected 3)"), std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.tensors[0].shape = {1, 1 << 20, 1 << 20, 2};
    EXPECT_NE(parse_error(write_tflite(model)).find("shape holds more than"), std::string::npos);
  }
  {
    TestModel model = conv_model();
    model.operators.pop_back();
    EXPECT_NE(parse_error(write_tflite(model)).find("subgraph output 6 is never computed"), std::string::npos);
  }
}

TEST(TfliteModel, RejectsFilesThatAreNotModels) {
  EXPECT_NE(parse_error({}).find("not a TensorFlow Lite model"), std::string::npos);
  std::vector<std::uint8_t> bytes = write_tflite(conv_model());
  bytes[5] = 'X';
  EXPECT_NE(parse_error(bytes).find("expected the FlatBuffers identifier \"TFL3\" at byte 4"), std::string::npos);
  EXPECT_THROW(load_model(poselift::test::temp_dir("tflite_missing") + "/absent.tflite"), InputError);
}

// Every prefix of a valid file and every single-byte corruption of it: parsing either succeeds
// (and then expanding its sparse tensors is safe) or throws InputError; nothing else escapes.
TEST(TfliteModel, HostileBytesEndInInputError) {
  TestTensor sparse{"w", {2, 4}, 0, bytes_of(std::vector<float>{5, 6, 7, 8}), {}, {}, 0, {0, 1, 2}, {1}, {}};
  sparse.dimensions = {{false, 2, {}, {}, 1}, {true, 0, {0, 1, 2}, {1, 0}, 3}, {false, 2, {}, {}, 1}};
  for (const TestModel& model : {conv_model(), sparse_model(sparse)}) {
    const std::vector<std::uint8_t> good = write_tflite(model);
    ReadLimits limits;
    limits.max_tensor_elements = 1 << 20;
    auto survive = [&](const std::vector<std::uint8_t>& bytes) {
      try {
        const Model read = parse(bytes, limits);
        for (const Tensor& tensor : read.tensors) {
          if (tensor.sparsity) dense_bytes(tensor, read.source);
        }
      } catch (const InputError&) {
      }
    };
    for (std::size_t size = 0; size < good.size(); ++size) {
      survive(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
    }
    std::size_t rejected = 0;
    for (std::size_t at = 0; at < good.size(); ++at) {
      for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
        std::vector<std::uint8_t> bytes = good;
        bytes[at] ^= flip;
        try {
          survive(bytes);
          parse(bytes, limits);
        } catch (const InputError&) {
          ++rejected;
        }
      }
    }
    EXPECT_GT(rejected, good.size() / 4) << "most corruptions of the structure must be detected";
  }
}

// MediaPipe's BlazePose models, installed by scripts/setup.sh (npm @mediapipe/pose).
std::string pose_model(const std::string& name) {
  const std::string path = std::string(POSELIFT_MODELS_DIR) + "/" + name;
  return std::filesystem::exists(path) ? path : "";
}

std::map<OperatorKind, int> census(const Model& model) {
  std::map<OperatorKind, int> counts;
  for (const Operator& op : model.operators) ++counts[op.kind];
  return counts;
}

// Counts measured with Python's flatbuffers module on the same files (independently of this
// reader): tensors, operators by kind, inputs and outputs.
TEST(TfliteModel, ReadsMediaPipePoseDetector) {
  const std::string path = pose_model("pose_solution_packed_assets.data");
  if (path.empty()) GTEST_SKIP() << "BlazePose models not installed (scripts/setup.sh installs them with npm)";
  // The packed assets file is the detector model itself (its loader maps it from offset 0).
  const Model model = load_model(path);
  EXPECT_EQ(model.tensors.size(), 442u);
  EXPECT_EQ(model.operators.size(), 291u);
  const auto counts = census(model);
  EXPECT_EQ(counts.at(OperatorKind::Dequantize), 144);
  EXPECT_EQ(counts.at(OperatorKind::Conv2d), 45);
  EXPECT_EQ(counts.at(OperatorKind::Densify), 38);
  EXPECT_EQ(counts.at(OperatorKind::DepthwiseConv2d), 28);
  EXPECT_EQ(counts.at(OperatorKind::Add), 15);
  EXPECT_EQ(counts.at(OperatorKind::Pad), 8);
  EXPECT_EQ(counts.at(OperatorKind::Reshape), 6);
  EXPECT_EQ(counts.at(OperatorKind::DepthToSpace), 3);
  EXPECT_EQ(counts.at(OperatorKind::ResizeBilinear), 2);
  EXPECT_EQ(counts.at(OperatorKind::Concatenation), 2);
  ASSERT_EQ(model.inputs.size(), 1u);
  EXPECT_EQ(model.tensors[model.inputs[0]].name, "input_1");
  EXPECT_EQ(model.tensors[model.inputs[0]].shape, (std::vector<std::int64_t>{1, 224, 224, 3}));
  ASSERT_EQ(model.outputs, (std::vector<std::int32_t>{441, 429}));
  EXPECT_EQ(model.tensors[441].shape, (std::vector<std::int64_t>{1, 2254, 12}));
  EXPECT_EQ(model.tensors[429].shape, (std::vector<std::int64_t>{1, 2254, 1}));
  int sparse = 0;
  for (const Tensor& tensor : model.tensors) {
    if (!tensor.sparsity) continue;
    ++sparse;
    EXPECT_EQ(tensor.type, ElementType::Float16);
    const std::vector<std::uint8_t> dense = dense_bytes(tensor, model.source);
    EXPECT_EQ(dense.size(), static_cast<std::size_t>(tensor.element_count()) * 2);
  }
  EXPECT_EQ(sparse, 38);
}

TEST(TfliteModel, ReadsMediaPipePoseLandmarkModels) {
  struct Expected {
    const char* file;
    std::size_t tensors, operators;
  };
  int found = 0;
  for (const Expected& expected : {Expected{"pose_landmark_lite.tflite", 492, 305},
                                   Expected{"pose_landmark_full.tflite", 535, 332},
                                   Expected{"pose_landmark_heavy.tflite", 1098, 689}}) {
    const std::string path = pose_model(expected.file);
    if (path.empty()) continue;
    ++found;
    const Model model = load_model(path);
    EXPECT_EQ(model.tensors.size(), expected.tensors) << expected.file;
    EXPECT_EQ(model.operators.size(), expected.operators) << expected.file;
    ASSERT_EQ(model.inputs.size(), 1u);
    EXPECT_EQ(model.tensors[model.inputs[0]].shape, (std::vector<std::int64_t>{1, 256, 256, 3}));
    ASSERT_EQ(model.outputs.size(), 5u);
    const std::vector<std::vector<std::int64_t>> shapes = {
        {1, 195}, {1, 1}, {1, 256, 256, 1}, {1, 64, 64, 39}, {1, 117}};
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(model.tensors[model.outputs[i]].shape, shapes[i]) << expected.file << " output " << i;
      EXPECT_EQ(model.tensors[model.outputs[i]].name, "Identity" + (i ? "_" + std::to_string(i) : ""));
    }
    if (std::string(expected.file) == "pose_landmark_lite.tflite") {
      const auto counts = census(model);
      EXPECT_EQ(counts.at(OperatorKind::Dequantize), 176);
      EXPECT_EQ(counts.at(OperatorKind::Conv2d), 54);
      EXPECT_EQ(counts.at(OperatorKind::DepthwiseConv2d), 34);
      EXPECT_EQ(counts.at(OperatorKind::Add), 25);
      EXPECT_EQ(counts.at(OperatorKind::MaxPool2d), 2);
      EXPECT_EQ(counts.at(OperatorKind::Logistic), 1);
    }
  }
  if (found == 0) GTEST_SKIP() << "BlazePose models not installed (scripts/setup.sh installs them with npm)";
}

}  // namespace
}  // namespace poselift::tflite
