// Runs a TFLite model (tflite/model) on LibTorch CPU tensors, float32 throughout.
//
// Tensors keep TFLite's layouts (NHWC activations, OHWI / 1HWO filters); convolutions and pooling
// see them through a channels-last NCHW view, so no activation is copied to change layout.
// At construction every operator whose inputs are all constant (DENSIFY, DEQUANTIZE of float16
// weights) is evaluated once, and filters are rearranged for LibTorch; `run` then executes the
// remaining operators in the file's order. TFLite's semantics are kept exactly where they differ
// from LibTorch's: SAME padding split with the extra row and column after, max pooling ignoring
// padding, bilinear resizing with or without half-pixel centres and corner alignment.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tflite/model.hpp"

namespace poselift::detector {

class TfliteInterpreter {
 public:
  // Throws InputError "<file>: operator K (KIND): ..." when a model cannot run: a filter that is
  // not constant, shapes that do not fit together, a type the operator does not take.
  explicit TfliteInterpreter(tflite::Model model);

  // Inputs in the order of the model's input list, each float32 of the declared shape; returns
  // the outputs in the order of the output list. Bad shapes throw InputError naming the input.
  std::vector<torch::Tensor> run(const std::vector<torch::Tensor>& inputs) const;

  const tflite::Model& model() const { return model_; }
  std::vector<std::int64_t> input_shape(std::size_t index) const;
  std::vector<std::int64_t> output_shape(std::size_t index) const;
  const std::string& output_name(std::size_t index) const;
  std::size_t folded_operators() const { return folded_; }

 private:
  struct Step {
    std::size_t op;        // index into model_.operators
    torch::Tensor weight;  // convolutions: LibTorch's [O, I/groups, kh, kw]
    torch::Tensor bias;
    std::int64_t groups = 1;
    std::vector<std::int32_t> release;  // tensors read for the last time by this step
  };
  torch::Tensor evaluate(const Step& step, const std::vector<torch::Tensor>& values) const;
  [[noreturn]] void fail(std::size_t op, const std::string& what) const;

  tflite::Model model_;
  std::vector<torch::Tensor> constants_;  // per tensor; undefined for tensors computed by `run`
  std::vector<Step> steps_;
  std::size_t folded_ = 0;
};

}  // namespace poselift::detector
