#include "detector/tflite_interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "io/error.hpp"

namespace poselift::detector {
namespace {

using tflite::Activation;
using tflite::ElementType;
using tflite::OperatorKind;
using tflite::Padding;

torch::ScalarType scalar_type(ElementType type) {
  switch (type) {
    case ElementType::Float32: return torch::kFloat;
    case ElementType::Float16: return torch::kHalf;
    case ElementType::Int32: return torch::kInt;
    case ElementType::Int64: return torch::kLong;
    case ElementType::UInt8: return torch::kByte;
    case ElementType::Int8: return torch::kChar;
  }
  return torch::kFloat;
}

// Type names as TFLite spells them, for messages.
std::string type_name(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat: return "float32";
    case torch::kHalf: return "float16";
    case torch::kInt: return "int32";
    case torch::kLong: return "int64";
    case torch::kByte: return "uint8";
    case torch::kChar: return "int8";
    default: return c10::toString(type);
  }
}

torch::Tensor constant_tensor(const tflite::Tensor& tensor, const std::string& source) {
  const std::vector<std::uint8_t> bytes = tflite::dense_bytes(tensor, source);
  torch::Tensor out = torch::empty(tensor.shape, torch::TensorOptions().dtype(scalar_type(tensor.type)));
  std::memcpy(out.data_ptr(), bytes.data(), bytes.size());  // sizes agree: checked by the reader
  return out;
}

torch::Tensor activate(torch::Tensor x, Activation activation) {
  switch (activation) {
    case Activation::None: return x;
    case Activation::Relu: return x.relu_();
    case Activation::ReluN1To1: return x.clamp_(-1.0, 1.0);
    case Activation::Relu6: return x.clamp_(0.0, 6.0);
    case Activation::Tanh: return x.tanh_();
  }
  return x;
}

// TFLite's SAME padding of one axis: the output is ceil(size / stride) and an odd total padding
// puts the extra element after, where LibTorch's symmetric padding cannot.
std::pair<std::int64_t, std::int64_t> same_padding(std::int64_t size, std::int64_t kernel, std::int64_t stride,
                                                   std::int64_t dilation) {
  const std::int64_t out = (size + stride - 1) / stride;
  const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return {total / 2, total - total / 2};
}

// Pads an NCHW view by (top, bottom, left, right) with `value` when the padding is not
// symmetric; returns the symmetric remainder for LibTorch's own padding argument.
std::pair<torch::Tensor, std::vector<std::int64_t>> pad_spatial(torch::Tensor x, std::int64_t kh, std::int64_t kw,
                                                                const tflite::OperatorOptions& o, double value,
                                                                bool symmetric_allowed) {
  if (o.padding == Padding::Valid) return {x, {0, 0}};
  const auto [top, bottom] = same_padding(x.size(2), kh, o.stride_h, o.dilation_h);
  const auto [left, right] = same_padding(x.size(3), kw, o.stride_w, o.dilation_w);
  if (symmetric_allowed && top == bottom && left == right) return {x, {top, left}};
  if (top == 0 && bottom == 0 && left == 0 && right == 0) return {x, {0, 0}};
  return {torch::constant_pad_nd(x, {left, right, top, bottom}, value), {0, 0}};
}

torch::Tensor to_nchw(const torch::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}); }
torch::Tensor to_nhwc(const torch::Tensor& nchw) { return nchw.permute({0, 2, 3, 1}).contiguous(); }

// Bilinear resizing as TFLite computes it, for the mode LibTorch does not have (neither
// half-pixel centres nor aligned corners: source = destination * in / out).
torch::Tensor resize_axis(const torch::Tensor& x, int axis, std::int64_t out_size, bool align_corners,
                          bool half_pixel) {
  const std::int64_t in_size = x.size(axis);
  const double scale = align_corners && out_size > 1 ? static_cast<double>(in_size - 1) / (out_size - 1)
                                                     : static_cast<double>(in_size) / out_size;
  std::vector<std::int64_t> low(out_size), high(out_size);
  std::vector<float> weight(out_size);
  for (std::int64_t i = 0; i < out_size; ++i) {
    const double source = half_pixel ? (i + 0.5) * scale - 0.5 : i * scale;
    const double floor = std::floor(source);
    low[i] = std::clamp<std::int64_t>(static_cast<std::int64_t>(floor), 0, in_size - 1);
    high[i] = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(source)), 0, in_size - 1);
    weight[i] = static_cast<float>(source - floor);
  }
  std::vector<std::int64_t> shape(x.dim(), 1);
  shape[axis] = out_size;
  const torch::Tensor w = torch::tensor(weight).reshape(shape);
  const torch::Tensor a = x.index_select(axis, torch::tensor(low));
  const torch::Tensor b = x.index_select(axis, torch::tensor(high));
  return a + (b - a) * w;
}

std::vector<std::int64_t> int_values(const torch::Tensor& t) {
  const torch::Tensor flat = t.to(torch::kLong).contiguous().flatten();
  return std::vector<std::int64_t>(flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel());
}

}  // namespace

void TfliteInterpreter::fail(std::size_t op, const std::string& what) const {
  throw InputError(model_.source + ": operator " + std::to_string(op) + " (" +
                   tflite::operator_name(model_.operators[op].kind) + "): " + what);
}

TfliteInterpreter::TfliteInterpreter(tflite::Model model) : model_(std::move(model)) {
  torch::NoGradGuard no_grad;
  constants_.resize(model_.tensors.size());
  for (std::size_t i = 0; i < model_.tensors.size(); ++i) {
    if (model_.tensors[i].constant) constants_[i] = constant_tensor(model_.tensors[i], model_.source);
  }
  for (std::size_t k = 0; k < model_.operators.size(); ++k) {
    const tflite::Operator& op = model_.operators[k];
    Step step;
    step.op = k;
    const bool convolution = op.kind == OperatorKind::Conv2d || op.kind == OperatorKind::DepthwiseConv2d;
    const bool all_constant = std::all_of(op.inputs.begin(), op.inputs.end(),
                                          [&](std::int32_t i) { return i < 0 || constants_[i].defined(); });
    if (all_constant && !convolution) {
      constants_[op.outputs[0]] = evaluate(step, constants_);
      ++folded_;
      continue;
    }
    if (op.kind == OperatorKind::Densify) fail(k, "the sparse input is not a constant");
    if (convolution) {
      const torch::Tensor& filter = constants_[op.inputs[1]];
      if (!filter.defined() || filter.scalar_type() != torch::kFloat || filter.dim() != 4) {
        fail(k, "the filter must be a constant float32 tensor of rank 4");
      }
      const auto& input_shape = model_.tensors[op.inputs[0]].shape;
      if (input_shape.size() != 4) fail(k, "the input must have rank 4 (NHWC)");
      if (op.kind == OperatorKind::Conv2d) {
        // TFLite's [O, kh, kw, I] to LibTorch's [O, I, kh, kw]; a filter with fewer input
        // channels than the input is a grouped convolution.
        step.weight = filter.permute({0, 3, 1, 2}).contiguous();
        const std::int64_t per_group = filter.size(3);
        if (per_group < 1 || input_shape[3] % per_group != 0 || filter.size(0) % (input_shape[3] / per_group) != 0) {
          fail(k, "filter of " + std::to_string(per_group) + " input channels for an input of " +
                      std::to_string(input_shape[3]));
        }
        step.groups = input_shape[3] / per_group;
      } else {
        // [1, kh, kw, C * multiplier] to [C * multiplier, 1, kh, kw], one group per input channel.
        if (filter.size(0) != 1 || input_shape[3] < 1 || filter.size(3) % input_shape[3] != 0) {
          fail(k, "depthwise filter of shape [" + std::to_string(filter.size(0)) + ", ..., " +
                      std::to_string(filter.size(3)) + "] for an input of " + std::to_string(input_shape[3]) +
                      " channels");
        }
        step.weight = filter.permute({3, 0, 1, 2}).contiguous();
        step.groups = input_shape[3];
      }
      if (op.inputs.size() == 3 && op.inputs[2] >= 0) {
        const torch::Tensor& bias = constants_[op.inputs[2]];
        if (!bias.defined() || bias.scalar_type() != torch::kFloat || bias.numel() != step.weight.size(0)) {
          fail(k, "the bias must be a constant float32 vector of " + std::to_string(step.weight.size(0)) + " values");
        }
        step.bias = bias.flatten();
      }
    }
    steps_.push_back(std::move(step));
  }
  // Each computed tensor is released after the last step that reads it (graph outputs are kept).
  std::vector<std::ptrdiff_t> last_use(model_.tensors.size(), -1);
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    for (std::int32_t i : model_.operators[steps_[s].op].inputs) {
      if (i >= 0 && !constants_[i].defined()) last_use[i] = static_cast<std::ptrdiff_t>(s);
    }
  }
  for (std::int32_t i : model_.outputs) last_use[i] = -1;
  for (std::size_t i = 0; i < last_use.size(); ++i) {
    if (last_use[i] >= 0) steps_[last_use[i]].release.push_back(static_cast<std::int32_t>(i));
  }
}

std::vector<std::int64_t> TfliteInterpreter::input_shape(std::size_t index) const {
  return model_.tensors.at(model_.inputs.at(index)).shape;
}
std::vector<std::int64_t> TfliteInterpreter::output_shape(std::size_t index) const {
  return model_.tensors.at(model_.outputs.at(index)).shape;
}
const std::string& TfliteInterpreter::output_name(std::size_t index) const {
  return model_.tensors.at(model_.outputs.at(index)).name;
}

torch::Tensor TfliteInterpreter::evaluate(const Step& step, const std::vector<torch::Tensor>& values) const {
  const tflite::Operator& op = model_.operators[step.op];
  const tflite::OperatorOptions& o = op.options;
  auto input = [&](std::size_t i) -> const torch::Tensor& { return values[op.inputs[i]]; };
  auto float_input = [&](std::size_t i) -> const torch::Tensor& {
    const torch::Tensor& t = input(i);
    if (t.scalar_type() != torch::kFloat) {
      fail(step.op, "input " + std::to_string(i) + " is " + type_name(t.scalar_type()) +
                        ", expected float32");
    }
    return t;
  };
  auto constant_input = [&](std::size_t i, const char* what) -> const torch::Tensor& {
    const torch::Tensor& t = constants_[op.inputs[i]];
    if (!t.defined()) fail(step.op, std::string(what) + " must be a constant");
    return t;
  };
  auto image_input = [&]() -> const torch::Tensor& {
    const torch::Tensor& x = float_input(0);
    if (x.dim() != 4) fail(step.op, "the input has rank " + std::to_string(x.dim()) + ", expected 4 (NHWC)");
    return x;
  };
  try {
    switch (op.kind) {
      case OperatorKind::Conv2d:
      case OperatorKind::DepthwiseConv2d: {
        const torch::Tensor& x = image_input();
        if (x.size(3) != step.weight.size(1) * step.groups) {
          fail(step.op, "input of " + std::to_string(x.size(3)) + " channels, the filter expects " +
                            std::to_string(step.weight.size(1) * step.groups));
        }
        auto [padded, padding] = pad_spatial(to_nchw(x), step.weight.size(2), step.weight.size(3), o, 0.0, true);
        torch::Tensor y = torch::conv2d(padded, step.weight, step.bias, {o.stride_h, o.stride_w}, padding,
                                        {o.dilation_h, o.dilation_w}, step.groups);
        return to_nhwc(activate(y, o.activation));
      }
      case OperatorKind::MaxPool2d: {
        const torch::Tensor& x = image_input();
        auto [padded, padding] = pad_spatial(to_nchw(x), o.filter_h, o.filter_w, o,
                                             -std::numeric_limits<double>::infinity(), false);
        if (padded.size(2) < o.filter_h || padded.size(3) < o.filter_w) fail(step.op, "window larger than the input");
        torch::Tensor y = torch::max_pool2d(padded, {o.filter_h, o.filter_w}, {o.stride_h, o.stride_w});
        return to_nhwc(activate(y, o.activation));
      }
      case OperatorKind::Add:
        return activate(float_input(0) + float_input(1), o.activation);
      case OperatorKind::Concatenation: {
        std::vector<torch::Tensor> parts;
        for (std::size_t i = 0; i < op.inputs.size(); ++i) parts.push_back(float_input(i));
        const std::int64_t rank = parts[0].dim();
        const std::int64_t axis = o.axis < 0 ? o.axis + rank : o.axis;
        if (axis < 0 || axis >= rank) fail(step.op, "axis " + std::to_string(o.axis) + " for rank " + std::to_string(rank));
        return activate(torch::cat(parts, axis), o.activation);
      }
      case OperatorKind::Pad: {
        const torch::Tensor& x = float_input(0);
        const torch::Tensor& paddings = constant_input(1, "the paddings");
        if (paddings.dim() != 2 || paddings.size(0) != x.dim() || paddings.size(1) != 2) {
          fail(step.op, "paddings must have shape [" + std::to_string(x.dim()) + ", 2]");
        }
        const std::vector<std::int64_t> p = int_values(paddings);
        std::vector<std::int64_t> pads;  // LibTorch lists the last dimension first
        for (std::int64_t d = x.dim() - 1; d >= 0; --d) {
          if (p[2 * d] < 0 || p[2 * d + 1] < 0 || p[2 * d] > 65536 || p[2 * d + 1] > 65536) {
            fail(step.op, "paddings must be between 0 and 65536");
          }
          pads.push_back(p[2 * d]);
          pads.push_back(p[2 * d + 1]);
        }
        return torch::constant_pad_nd(x, pads, 0.0);
      }
      case OperatorKind::Reshape: {
        const torch::Tensor& x = input(0);
        std::vector<std::int64_t> shape;
        if (op.inputs.size() == 2 && op.inputs[1] >= 0) {
          shape = int_values(constant_input(1, "the new shape"));
        } else {
          shape.assign(o.new_shape.begin(), o.new_shape.end());
        }
        return x.reshape(shape).contiguous();
      }
      case OperatorKind::ResizeBilinear: {
        const torch::Tensor& x = image_input();
        const std::vector<std::int64_t> size = int_values(constant_input(1, "the output size"));
        if (size.size() != 2 || size[0] < 1 || size[1] < 1 || size[0] > 16384 || size[1] > 16384) {
          fail(step.op, "the output size must be two values between 1 and 16384");
        }
        if (o.align_corners || o.half_pixel_centers) {
          // LibTorch's align_corners=false is TFLite's half-pixel mode; true is aligned corners.
          return to_nhwc(torch::upsample_bilinear2d(to_nchw(x), {size[0], size[1]}, o.align_corners));
        }
        return resize_axis(resize_axis(x, 1, size[0], false, false), 2, size[1], false, false).contiguous();
      }
      case OperatorKind::Logistic:
        return torch::sigmoid(float_input(0));
      case OperatorKind::DepthToSpace: {
        const torch::Tensor& x = image_input();
        const std::int64_t b = o.block_size;
        if (x.size(3) % (b * b) != 0) {
          fail(step.op, std::to_string(x.size(3)) + " channels are not a multiple of block_size^2 = " +
                            std::to_string(b * b));
        }
        const std::int64_t c = x.size(3) / (b * b);
        return x.reshape({x.size(0), x.size(1), x.size(2), b, b, c})
            .permute({0, 1, 3, 2, 4, 5})
            .reshape({x.size(0), x.size(1) * b, x.size(2) * b, c});
      }
      case OperatorKind::Dequantize: {
        const torch::Tensor& x = input(0);
        if (x.scalar_type() == torch::kHalf) return x.to(torch::kFloat);
        if (x.scalar_type() != torch::kChar && x.scalar_type() != torch::kByte) {
          fail(step.op, "input of type " + type_name(x.scalar_type()) +
                            " (expected float16, int8 or uint8)");
        }
        const auto& quantization = model_.tensors[op.inputs[0]].quantization;
        if (!quantization) fail(step.op, "a quantized input without scale");
        const std::int64_t channels = static_cast<std::int64_t>(quantization->scale.size());
        torch::Tensor scale = torch::tensor(quantization->scale);
        std::vector<float> zero(quantization->zero_point.begin(), quantization->zero_point.end());
        if (zero.empty()) zero.assign(channels, 0.0f);
        if (static_cast<std::int64_t>(zero.size()) != channels) fail(step.op, "scale and zero_point differ in length");
        torch::Tensor zero_point = torch::tensor(zero);
        if (channels > 1) {
          const std::int64_t axis = quantization->dimension;
          if (axis < 0 || axis >= x.dim() || x.size(axis) != channels) {
            fail(step.op, "per-channel quantization along dimension " + std::to_string(axis) + " does not fit the shape");
          }
          std::vector<std::int64_t> shape(x.dim(), 1);
          shape[axis] = channels;
          scale = scale.reshape(shape);
          zero_point = zero_point.reshape(shape);
        }
        return (x.to(torch::kFloat) - zero_point) * scale;
      }
      case OperatorKind::Densify:
        return input(0).clone();  // constants are stored dense already
    }
  } catch (const c10::Error& error) {
    fail(step.op, error.what_without_backtrace());
  }
  fail(step.op, "unknown operator");
}

std::vector<torch::Tensor> TfliteInterpreter::run(const std::vector<torch::Tensor>& inputs) const {
  torch::NoGradGuard no_grad;
  if (inputs.size() != model_.inputs.size()) {
    throw InputError(model_.source + ": " + std::to_string(inputs.size()) + " inputs given, the model takes " +
                     std::to_string(model_.inputs.size()));
  }
  std::vector<torch::Tensor> values = constants_;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const tflite::Tensor& declared = model_.tensors[model_.inputs[i]];
    if (inputs[i].scalar_type() != torch::kFloat || inputs[i].sizes().vec() != declared.shape) {
      throw InputError(model_.source + ": input \"" + declared.name + "\" must be float32 of shape " +
                       c10::str(c10::IntArrayRef(declared.shape)) + ", got " +
                       type_name(inputs[i].scalar_type()) + " " + c10::str(inputs[i].sizes()));
    }
    values[model_.inputs[i]] = inputs[i].contiguous();
  }
  for (const Step& step : steps_) {
    values[model_.operators[step.op].outputs[0]] = evaluate(step, values);
    for (std::int32_t i : step.release) values[i] = torch::Tensor();
  }
  std::vector<torch::Tensor> outputs;
  for (std::int32_t index : model_.outputs) outputs.push_back(values[index]);
  return outputs;
}

}  // namespace poselift::detector
