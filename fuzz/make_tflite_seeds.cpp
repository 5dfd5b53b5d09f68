// Writes the seed corpus of fuzz_tflite (scripts/fuzz.sh): small models of every supported
// operator, with float16 weights, quantization and each kind of sparse storage.
#include <fstream>
#include <iostream>
#include <string>

#include "tflite_builder.hpp"

namespace {

using namespace poselift::testing;

TestTensor activation(const std::string& name, std::vector<std::int32_t> shape) {
  return {name, std::move(shape), 0, {}, {}, {}, 0, {}, {}, {}};
}

void write(const std::string& folder, const std::string& name, const TestModel& model) {
  const std::vector<std::uint8_t> bytes = write_tflite(model);
  std::ofstream(folder + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                             static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_tflite_seeds FOLDER\n";
    return 2;
  }
  const std::string folder = argv[1];
  {
    TestModel model;  // DEQUANTIZE float16 -> CONV_2D -> DEPTHWISE -> MAX_POOL -> ADD
    model.tensors = {activation("in", {1, 4, 4, 2}),
                     {"w16", {2, 3, 3, 2}, 1, std::vector<std::uint8_t>(72, 0x3c), {}, {}, 0, {}, {}, {}},
                     activation("w", {2, 3, 3, 2}),
                     {"b", {2}, 0, bytes_of(std::vector<float>{1, 2}), {}, {}, 0, {}, {}, {}},
                     activation("conv", {1, 4, 4, 2}),
                     {"dw", {1, 3, 3, 4}, 0, bytes_of(std::vector<float>(36, 0.5f)), {}, {}, 0, {}, {}, {}},
                     activation("depthwise", {1, 2, 2, 4}),
                     activation("pool", {1, 1, 1, 4}),
                     activation("out", {1, 1, 1, 4})};
    model.operators = {{6, "", {1}, {2}, 0, {}, {}},
                       {3, "", {0, 2, 3}, {4}, 1, {{0, 1, 0}, {1, 4, 1}, {2, 4, 1}, {3, 1, 3}}, {}},
                       {4, "", {4, 5, -1}, {6}, 2, {{0, 1, 0}, {1, 4, 2}, {2, 4, 2}, {3, 4, 2}}, {}},
                       {17, "", {6}, {7}, 5, {{0, 1, 1}, {1, 4, 2}, {2, 4, 2}, {3, 4, 2}, {4, 4, 2}}, {}},
                       {0, "", {7, 7}, {8}, 11, {{0, 1, 1}}, {}}};
    model.inputs = {0};
    model.outputs = {8};
    write(folder, "conv.tflite", model);
  }
  {
    TestModel model;  // PAD -> DEPTH_TO_SPACE -> RESIZE_BILINEAR -> RESHAPE -> CONCATENATION -> LOGISTIC
    model.tensors = {activation("in", {1, 2, 2, 4}),
                     {"pads", {4, 2}, 2, bytes_of(std::vector<std::int32_t>{0, 0, 1, 1, 1, 1, 0, 0}), {}, {}, 0, {}, {}, {}},
                     activation("padded", {1, 4, 4, 4}),
                     activation("space", {1, 8, 8, 1}),
                     {"size", {2}, 2, bytes_of(std::vector<std::int32_t>{4, 4}), {}, {}, 0, {}, {}, {}},
                     activation("small", {1, 4, 4, 1}),
                     activation("flat", {1, 16}),
                     activation("joined", {1, 32}),
                     activation("out", {1, 32})};
    model.operators = {{34, "", {0, 1}, {2}, 22, {}, {}},
                       {5, "", {2}, {3}, 94, {{0, 4, 2}}, {}},
                       {23, "", {3, 4}, {5}, 15, {{3, 1, 1}}, {}},
                       {22, "", {5}, {6}, 17, {}, {1, 16}},
                       {2, "", {6, 6}, {7}, 10, {{0, 4, 1}}, {}},
                       {14, "", {7}, {8}, 0, {}, {}}};
    model.inputs = {0};
    model.outputs = {8};
    write(folder, "shapes.tflite", model);
  }
  {
    TestModel model;  // DENSIFY of a blocked CSR tensor and DEQUANTIZE of per-channel int8
    TestTensor sparse{"s", {2, 4}, 0, bytes_of(std::vector<float>{5, 6, 7, 8}), {}, {}, 0, {0, 1, 2}, {1}, {}};
    sparse.dimensions = {{false, 2, {}, {}, 1}, {true, 0, {0, 1, 2}, {1, 0}, 3}, {false, 2, {}, {}, 1}};
    model.tensors = {sparse, activation("dense", {2, 4}),
                     {"q", {2, 4}, 9, {1, 2, 3, 4, 5, 6, 7, 8}, {0.5f, 2.f}, {0, 1}, 0, {}, {}, {}},
                     activation("deq", {2, 4}), activation("out", {2, 4})};
    model.operators = {{124, "", {0}, {1}, 0, {}, {}}, {6, "", {2}, {3}, 0, {}, {}}, {0, "", {1, 3}, {4}, 11, {}, {}}};
    model.outputs = {4};
    write(folder, "sparse.tflite", model);
  }
  return 0;
}
