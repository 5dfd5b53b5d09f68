#include "model/videopose3d.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "io/error.hpp"

namespace poselift::model {

namespace {
// The original builds every BatchNorm1d with momentum 0.1 (PyTorch's default eps 1e-5).
constexpr double kBatchNormMomentum = 0.1;
// A receptive field beyond this is a typo, not a model (the published ones reach 243 frames).
constexpr long long kMaxReceptiveField = 1 << 20;

std::string join_widths(const std::vector<int>& widths) {
  std::string out;
  for (std::size_t i = 0; i < widths.size(); ++i) out += (i ? "," : "") + std::to_string(widths[i]);
  return out;
}

torch::nn::BatchNorm1d make_batch_norm(int channels) {
  return torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(channels).momentum(kBatchNormMomentum));
}

torch::nn::Conv1d make_conv(int in, int out, int kernel, int dilation) {
  return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, kernel).dilation(dilation).bias(false));
}
}  // namespace

// ---------------------------------------------------------------- configuration

int VideoPose3DConfig::receptive_field() const {
  long long frames = 1;
  for (int w : filter_widths) frames *= w;
  return static_cast<int>(frames);
}

int VideoPose3DConfig::dilation(int block) const {
  int d = 1;
  for (int i = 0; i < block; ++i) d *= filter_widths[i];
  return d;
}

int VideoPose3DConfig::pad(int block) const { return (filter_widths[block] - 1) * dilation(block) / 2; }

int VideoPose3DConfig::causal_shift(int block) const {
  return causal ? filter_widths[block] / 2 * dilation(block) : 0;
}

int VideoPose3DConfig::kernel_width(int block) const {
  return dense && block > 0 ? 2 * pad(block) + 1 : filter_widths[block];
}

std::string VideoPose3DConfig::describe() const {
  std::string out = fmt::format("receptive field {} frames (filter widths {}), {} channels, {} joints -> {}",
                                receptive_field(), join_widths(filter_widths), channels, num_joints_in,
                                num_joints_out);
  if (in_features != 2) out += fmt::format(", {} input channels", in_features);
  if (causal) out += ", causal";
  if (dense) out += ", dense";
  return out;
}

void VideoPose3DConfig::validate() const {
  auto fail = [&](const std::string& why) {
    throw InputError("VideoPose3D configuration (filter widths " + join_widths(filter_widths) + ", " +
                     std::to_string(channels) + " channels, " + std::to_string(num_joints_in) + " joints -> " +
                     std::to_string(num_joints_out) + "): " + why);
  };
  if (num_joints_in < 1 || num_joints_out < 1) fail("the joint counts must be positive");
  if (in_features < 1) fail("the input channel count must be positive");
  if (channels < 1) fail("the channel count must be positive");
  if (filter_widths.empty()) fail("at least one filter width is needed");
  long long frames = 1;
  for (int w : filter_widths) {
    if (w < 1 || w % 2 == 0) fail(fmt::format("filter width {} is not odd and positive (only odd widths work)", w));
    frames *= w;
    if (frames > kMaxReceptiveField) fail(fmt::format("the receptive field exceeds {} frames", kMaxReceptiveField));
  }
  if (!(dropout >= 0 && dropout < 1)) fail(fmt::format("dropout {} is not in [0, 1)", dropout));
}

// ---------------------------------------------------------------- module

VideoPose3DImpl::VideoPose3DImpl(const VideoPose3DConfig& config) : config_(config) {
  config_.validate();
  const int C = config_.channels;
  drop = register_module("drop", torch::nn::Dropout(config_.dropout));
  relu = register_module("relu", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  expand_bn = register_module("expand_bn", make_batch_norm(C));
  shrink = register_module("shrink", torch::nn::Conv1d(torch::nn::Conv1dOptions(C, config_.num_joints_out * 3, 1)));
  expand_conv = register_module(
      "expand_conv", make_conv(config_.num_joints_in * config_.in_features, C, config_.filter_widths[0], 1));
  layers_conv = register_module("layers_conv", torch::nn::ModuleList());
  layers_bn = register_module("layers_bn", torch::nn::ModuleList());
  for (int block = 1; block < static_cast<int>(config_.filter_widths.size()); ++block) {
    layers_conv->push_back(make_conv(C, C, config_.kernel_width(block), config_.dense ? 1 : config_.dilation(block)));
    layers_bn->push_back(make_batch_norm(C));
    layers_conv->push_back(make_conv(C, C, 1, 1));
    layers_bn->push_back(make_batch_norm(C));
  }
}

torch::nn::Conv1dImpl& VideoPose3DImpl::conv(std::size_t index) { return *layers_conv[index]->as<torch::nn::Conv1dImpl>(); }

torch::nn::BatchNorm1d VideoPose3DImpl::bn(std::size_t index) {
  return torch::nn::BatchNorm1d(layers_bn->ptr<torch::nn::BatchNorm1dImpl>(index));
}

torch::Tensor VideoPose3DImpl::activate(torch::nn::BatchNorm1d& norm, const torch::Tensor& x) {
  return drop(relu(norm(x)));
}

torch::Tensor VideoPose3DImpl::to_channels(const torch::Tensor& x, bool exact_length) const {
  const int F = receptive_field();
  auto shape = [&] { return fmt::format("({})", fmt::join(x.sizes(), ", ")); };
  if (x.dim() != 4)
    throw InputError(fmt::format("VideoPose3D input: expected (batch, frames, {} joints, {} channels), got shape {}",
                                 config_.num_joints_in, config_.in_features, shape()));
  if (x.size(2) != config_.num_joints_in)
    throw InputError(fmt::format("VideoPose3D input: the model takes {} joints, the input has {} (shape {})",
                                 config_.num_joints_in, x.size(2), shape()));
  if (x.size(3) != config_.in_features)
    throw InputError(fmt::format("VideoPose3D input: the model takes {} channels per joint, the input has {} (shape {})",
                                 config_.in_features, x.size(3), shape()));
  if (exact_length ? x.size(1) != F : x.size(1) < F)
    throw InputError(fmt::format("VideoPose3D input: {} frames given, the {} form needs {} {} (the receptive field)",
                                 x.size(1), exact_length ? "strided" : "dilated", exact_length ? "exactly" : "at least",
                                 F));
  // (B, T, J, C) -> (B, J * C, T): joints and their coordinates are the convolution's channels.
  return x.reshape({x.size(0), x.size(1), -1}).permute({0, 2, 1});
}

torch::Tensor VideoPose3DImpl::from_channels(const torch::Tensor& y, std::int64_t batch) const {
  return y.permute({0, 2, 1}).reshape({batch, -1, config_.num_joints_out, 3});
}

bool VideoPose3DImpl::uses_strided_form(const torch::Tensor& x) const {
  return is_training() && strided_training_ && !config_.dense && x.dim() == 4 && x.size(1) == receptive_field();
}

torch::Tensor VideoPose3DImpl::forward(const torch::Tensor& x) {
  return uses_strided_form(x) ? forward_strided(x) : forward_dilated(x);
}

torch::Tensor VideoPose3DImpl::forward_dilated(const torch::Tensor& input) {
  auto x = to_channels(input, false);
  x = activate(expand_bn, expand_conv(x));
  for (int block = 1; block < static_cast<int>(config_.filter_widths.size()); ++block) {
    const int pad = config_.pad(block), shift = config_.causal_shift(block);
    const auto length = x.size(2);
    auto res = x.slice(2, pad + shift, length - pad + shift);
    const std::size_t i = 2 * (block - 1);
    auto bn_wide = bn(i), bn_point = bn(i + 1);
    x = activate(bn_wide, conv(i).forward(x));
    x = res + activate(bn_point, conv(i + 1).forward(x));
  }
  return from_channels(shrink(x), input.size(0));
}

torch::Tensor VideoPose3DImpl::forward_strided(const torch::Tensor& input) {
  if (config_.dense) throw InputError("VideoPose3D: the strided form does not exist for a dense model");
  auto x = to_channels(input, true);
  // TemporalModelOptimized1f: each convolution strides by its width, so only the positions that
  // reach the single output frame are computed (same weights as the dilated form).
  const int w0 = config_.filter_widths[0];
  x = activate(expand_bn, torch::conv1d(x, expand_conv->weight, {}, std::int64_t{w0}));
  for (int block = 1; block < static_cast<int>(config_.filter_widths.size()); ++block) {
    const int w = config_.filter_widths[block];
    // The residual is the centre of each group of w positions, or its last one when causal.
    const int start = (config_.causal ? w / 2 : 0) + w / 2;
    auto res = x.slice(2, start, x.size(2), w);
    const std::size_t i = 2 * (block - 1);
    auto bn_wide = bn(i), bn_point = bn(i + 1);
    x = activate(bn_wide, torch::conv1d(x, conv(i).weight, {}, std::int64_t{w}));
    x = res + activate(bn_point, conv(i + 1).forward(x));
  }
  return from_channels(shrink(x), input.size(0));
}

void VideoPose3DImpl::set_batch_norm_momentum(double momentum) {
  expand_bn->options.momentum(momentum);
  for (std::size_t i = 0; i < layers_bn->size(); ++i) bn(i)->options.momentum(momentum);
}

double VideoPose3DImpl::macs_per_output_frame() const {
  const double C = config_.channels;
  double macs = static_cast<double>(config_.filter_widths[0]) * config_.num_joints_in * config_.in_features * C;
  for (int block = 1; block < static_cast<int>(config_.filter_widths.size()); ++block)
    macs += config_.kernel_width(block) * C * C + C * C;  // wide convolution, then the 1x1 one
  return macs + C * config_.num_joints_out * 3;            // shrink
}

// ---------------------------------------------------------------- state dicts

namespace {

class StateReader {
 public:
  StateReader(const StateDict& state, const std::string& source) : source_(source) {
    for (const auto& [key, tensor] : state) tensors_.emplace(key, tensor);
  }

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw InputError(fmt::format("{}: not a VideoPose3D TemporalModel state dict: `{}` {}", source_, key, why));
  }

  const torch::Tensor& get(const std::string& key) const {
    auto it = tensors_.find(key);
    if (it == tensors_.end()) fail(key, "is missing");
    return it->second;
  }
  bool has(const std::string& key) const { return tensors_.count(key) > 0; }

  // The tensor of `key`, checked to have `dims` dimensions.
  const torch::Tensor& get(const std::string& key, std::int64_t dims) const {
    const auto& t = get(key);
    if (t.dim() != dims) fail(key, fmt::format("has shape ({}), expected {} dimensions", fmt::join(t.sizes(), ", "), dims));
    return t;
  }

  void expect_size(const std::string& key, std::int64_t dim, std::int64_t expected, const std::string& what) const {
    const auto& t = get(key);
    if (t.size(dim) != expected)
      fail(key, fmt::format("has shape ({}): {} {} where {} was expected", fmt::join(t.sizes(), ", "), what,
                            t.size(dim), expected));
  }

  void expect_batch_norm(const std::string& prefix, std::int64_t channels) const {
    for (const char* name : {"weight", "bias", "running_mean", "running_var"}) {
      const std::string key = prefix + "." + name;
      get(key, 1);
      expect_size(key, 0, channels, "channel count");
    }
    // Files saved before PyTorch 0.4.1 have no num_batches_tracked; when present it is a scalar.
    const std::string tracked = prefix + ".num_batches_tracked";
    if (has(tracked) && get(tracked).numel() != 1) fail(tracked, "is not a scalar");
  }

  const std::map<std::string, torch::Tensor>& tensors() const { return tensors_; }

 private:
  std::string source_;
  std::map<std::string, torch::Tensor> tensors_;
};

int odd_width(const StateReader& reader, const std::string& key, std::int64_t width) {
  if (width < 1 || width % 2 == 0) reader.fail(key, fmt::format("has kernel width {}, not odd", width));
  return static_cast<int>(width);
}

}  // namespace

VideoPose3DConfig infer_videopose3d_config(const StateDict& state, const std::string& source, bool causal,
                                           bool dense) {
  StateReader reader(state, source);
  VideoPose3DConfig config;
  config.causal = causal;
  config.dense = dense;

  const auto& expand = reader.get("expand_conv.weight", 3);
  const std::int64_t channels = expand.size(0), input_width = expand.size(1);
  config.channels = static_cast<int>(channels);
  config.filter_widths = {odd_width(reader, "expand_conv.weight", expand.size(2))};
  if (reader.has("expand_conv.bias")) reader.fail("expand_conv.bias", "is unexpected (the original's has no bias)");
  reader.expect_batch_norm("expand_bn", channels);

  const auto& shrink = reader.get("shrink.weight", 3);
  reader.expect_size("shrink.weight", 1, channels, "input channel count");
  reader.expect_size("shrink.weight", 2, 1, "kernel width");
  if (shrink.size(0) % 3 != 0 || shrink.size(0) == 0)
    reader.fail("shrink.weight", fmt::format("has {} output channels, not 3 per joint", shrink.size(0)));
  reader.get("shrink.bias", 1);
  reader.expect_size("shrink.bias", 0, shrink.size(0), "length");
  config.num_joints_out = static_cast<int>(shrink.size(0) / 3);

  // layers_conv.{2i} is block i + 1's wide convolution, layers_conv.{2i + 1} its 1x1 one.
  int conv_count = 0;
  for (const auto& [key, tensor] : reader.tensors()) {
    const std::string prefix = "layers_conv.";
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    const auto dot = key.find('.', prefix.size());
    const std::string index = key.substr(prefix.size(), dot == std::string::npos ? std::string::npos : dot - prefix.size());
    if (index.empty() || index.size() > 6 || !std::all_of(index.begin(), index.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) ||
        key.substr(dot == std::string::npos ? key.size() : dot) != ".weight")
      reader.fail(key, "is not a layer weight of the original's (layers_conv.N.weight)");
    conv_count = std::max(conv_count, std::stoi(index) + 1);
  }
  if (conv_count % 2 != 0)
    reader.fail(fmt::format("layers_conv.{}.weight", conv_count), "is missing (the layers come in pairs)");
  int dilation = config.filter_widths[0];
  for (int i = 0; i < conv_count; i += 2) {
    const std::string wide = fmt::format("layers_conv.{}.weight", i), point = fmt::format("layers_conv.{}.weight", i + 1);
    const auto& w = reader.get(wide, 3);
    reader.expect_size(wide, 0, channels, "output channel count");
    reader.expect_size(wide, 1, channels, "input channel count");
    int width = 0;
    if (dense) {
      // A dense block's kernel spans (width - 1) * dilation + 1 frames.
      const std::int64_t span = w.size(2);
      if (span < 1 || (span - 1) % dilation != 0 || ((span - 1) / dilation) % 2 != 0)
        reader.fail(wide, fmt::format("has kernel width {}, which no odd filter width spans at dilation {} (dense)",
                                      span, dilation));
      width = static_cast<int>((span - 1) / dilation + 1);
    } else {
      width = odd_width(reader, wide, w.size(2));
    }
    reader.get(point, 3);
    reader.expect_size(point, 0, channels, "output channel count");
    reader.expect_size(point, 1, channels, "input channel count");
    reader.expect_size(point, 2, 1, "kernel width");
    reader.expect_batch_norm(fmt::format("layers_bn.{}", i), channels);
    reader.expect_batch_norm(fmt::format("layers_bn.{}", i + 1), channels);
    config.filter_widths.push_back(width);
    if (static_cast<long long>(dilation) * width > kMaxReceptiveField)
      reader.fail(wide, fmt::format("makes the receptive field exceed {} frames", kMaxReceptiveField));
    dilation *= width;
  }
  const std::string extra_bn = fmt::format("layers_bn.{}.weight", conv_count);
  if (reader.has(extra_bn)) reader.fail(extra_bn, "has no convolution layer to follow");

  // The input width is joints x features (see the header for how it is split).
  if (input_width % config.num_joints_out == 0 &&
      (input_width / config.num_joints_out == 2 || input_width / config.num_joints_out == 3))
    config.in_features = static_cast<int>(input_width / config.num_joints_out);
  else if (input_width % 2 == 0)
    config.in_features = 2;
  else if (input_width % 3 == 0)
    config.in_features = 3;
  else
    reader.fail("expand_conv.weight",
                fmt::format("has {} input channels, not 2 or 3 coordinates per joint", input_width));
  config.num_joints_in = static_cast<int>(input_width / config.in_features);
  config.validate();
  return config;
}


}  // namespace poselift::model
