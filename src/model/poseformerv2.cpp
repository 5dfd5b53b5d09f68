#include "model/poseformerv2.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <regex>
#include <tuple>

#include "io/error.hpp"
#include "model/fast_poseformer.hpp"

namespace poselift::model {

namespace {

// ---------------------------------------------------------------- DCT matrices

enum class CosineMatrix { forward, inverse };

torch::Tensor build_cosine_matrix(std::int64_t n, CosineMatrix which) {
  auto m = torch::empty({n, n}, torch::kFloat64);
  auto a = m.accessor<double, 2>();
  const double pi = std::acos(-1.0);
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t i = 0; i < n; ++i) {
      const double c = std::cos(pi * static_cast<double>(k * (2 * i + 1)) / static_cast<double>(2 * n));
      if (which == CosineMatrix::forward) {
        a[k][i] = 2.0 * c;  // row k: coefficient k of samples i
      } else {
        // Column k of the inverse: the DCT-III with the k = 0 term halved, scaled by 1/N.
        a[i][k] = (k == 0 ? 0.5 : 1.0) * c / static_cast<double>(n);
      }
    }
  return m;
}

torch::Tensor cached_cosine_matrix(std::int64_t n, const torch::TensorOptions& options, CosineMatrix which) {
  if (n < 1) throw InputError(fmt::format("DCT: a length of at least 1 expected, got {}", n));
  using Key = std::tuple<std::int64_t, int, int, int, int>;
  static std::mutex mutex;
  static std::map<Key, torch::Tensor> cache;
  const auto device = options.device();
  const Key key{n, static_cast<int>(device.type()), static_cast<int>(device.index()),
                static_cast<int>(c10::typeMetaToScalarType(options.dtype())), static_cast<int>(which)};
  std::lock_guard<std::mutex> lock(mutex);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  // A normal tensor even when first asked for under InferenceMode, so later training passes
  // can save it for backward.
  c10::InferenceMode normal_tensors(false);
  auto m = build_cosine_matrix(n, which).to(options.device(), c10::typeMetaToScalarType(options.dtype()));
  cache.emplace(key, m);
  return m;
}

void check_dct_input(const torch::Tensor& x, const char* what) {
  if (!x.defined() || x.dim() < 1 || x.size(-1) < 1)
    throw InputError(fmt::format("{}: a tensor with a non-empty last dimension expected", what));
  if (!x.is_floating_point())
    throw InputError(fmt::format("{}: a floating-point tensor expected, got {}", what,
                                 c10::toString(x.scalar_type())));
}

}  // namespace

torch::Tensor dct_matrix(std::int64_t n, const torch::TensorOptions& options) {
  return cached_cosine_matrix(n, options, CosineMatrix::forward);
}

torch::Tensor idct_matrix(std::int64_t n, const torch::TensorOptions& options) {
  return cached_cosine_matrix(n, options, CosineMatrix::inverse);
}

torch::Tensor dct_ii(const torch::Tensor& x) {
  check_dct_input(x, "dct_ii");
  return torch::matmul(x, dct_matrix(x.size(-1), x.options()).t());
}

torch::Tensor idct_ii(const torch::Tensor& X) {
  check_dct_input(X, "idct_ii");
  return torch::matmul(X, idct_matrix(X.size(-1), X.options()).t());
}

// ---------------------------------------------------------------- configuration

std::string PoseFormerV2Config::describe() const {
  const std::string channels = in_chans == 2 ? "" : fmt::format(", {} input channels", in_chans);
  return fmt::format("{} frames ({} kept, {} DCT coefficients), {} joints{}, width {}, depth {}, {} heads, mlp {}",
                     num_frames, frames_kept, coefficients_kept, num_joints, channels, embed_dim_ratio, depth,
                     num_heads, mlp_ratio);
}

void PoseFormerV2Config::validate() const {
  auto fail = [&](const std::string& why) {
    throw InputError("PoseFormerV2 configuration (" + describe() + "): " + why);
  };
  if (num_frames < 1 || num_frames % 2 == 0) fail("the frame count must be odd and positive");
  // The original takes the frames (F-1)//2 - k//2 .. (F-1)//2 + k//2: k + 1 of them for an even k.
  if (frames_kept < 1 || frames_kept % 2 == 0) fail("the kept frame count must be odd and positive");
  if (frames_kept > num_frames)
    fail(fmt::format("{} kept frames do not fit in a window of {}", frames_kept, num_frames));
  if (coefficients_kept < 1) fail("the kept DCT coefficient count must be positive");
  if (coefficients_kept > num_frames)
    fail(fmt::format("a window of {} frames has only {} DCT coefficients, {} kept", num_frames, num_frames,
                     coefficients_kept));
  if (num_joints < 1) fail("the joint count must be positive");
  if (in_chans < 1) fail("the input channel count must be positive");
  if (embed_dim_ratio < 1 || depth < 0 || num_heads < 1) fail("width, depth and heads must be positive");
  if (embed_dim_ratio % num_heads != 0)
    fail(fmt::format("the spatial width {} is not divisible by {} heads", embed_dim_ratio, num_heads));
  if (temporal_dim() % num_heads != 0)
    fail(fmt::format("the temporal width {} is not divisible by {} heads", temporal_dim(), num_heads));
  if (mlp_hidden(embed_dim_ratio, mlp_ratio) < 1) fail("the MLP ratio gives an empty hidden layer");
  if (drop_path_rate < 0 || drop_path_rate >= 1) fail("drop_path_rate must be in [0, 1)");
}

// ---------------------------------------------------------------- blocks

FrequencyFeedForwardImpl::FrequencyFeedForwardImpl(int dim, int hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
}

torch::Tensor FrequencyFeedForwardImpl::forward(const torch::Tensor& x) {
  // The original transforms x.permute(0, 2, 1) along its last axis: the token axis here, so a
  // left product with the (N, N) matrices does the same without the permutes.
  const auto n = x.size(1);
  auto y = torch::matmul(dct_matrix(n, x.options()), x);
  y = fc2(torch::gelu(fc1(y)));  // exact (erf) GELU, as nn.GELU()
  return torch::matmul(idct_matrix(n, x.options()), y);
}

MixedBlockImpl::MixedBlockImpl(int dim, int num_heads, double mlp_ratio, bool qkv_bias, double drop_path)
    : drop_path_(drop_path) {
  const int hidden = mlp_hidden(dim, mlp_ratio);
  norm1 = register_module("norm1", make_norm(dim, kBlockNormEps));
  attn = register_module("attn", MultiHeadAttention(dim, num_heads, qkv_bias));
  norm2 = register_module("norm2", make_norm(dim, kBlockNormEps));
  mlp1 = register_module("mlp1", FeedForward(dim, hidden));
  norm3 = register_module("norm3", make_norm(dim, kBlockNormEps));
  mlp2 = register_module("mlp2", FrequencyFeedForward(dim, hidden));
}

torch::Tensor MixedBlockImpl::drop_path(const torch::Tensor& branch) const {
  if (!drop_path_active()) return branch;
  // Stochastic depth as timm's DropPath: drop the whole branch per sample, rescale the survivors.
  const double keep = 1.0 - drop_path_;
  std::vector<int64_t> mask_shape(branch.dim(), 1);
  mask_shape[0] = branch.size(0);
  auto mask = torch::floor(keep + torch::rand(mask_shape, branch.options()));
  return branch.div(keep) * mask;
}

torch::Tensor MixedBlockImpl::forward(const torch::Tensor& x) {
  const auto tokens = x.size(1), half = tokens / 2;
  auto y = x + drop_path(attn(norm1(x)));
  auto first = y.narrow(1, 0, half), second = y.narrow(1, half, tokens - half);
  auto out1 = first + drop_path(mlp1(norm2(first)));
  auto out2 = second + drop_path(mlp2(norm3(second)));
  return torch::cat({out1, out2}, 1);
}

torch::Tensor MixedBlockImpl::forward_fast(const torch::Tensor& x, std::int64_t heads) {
  const auto tokens = x.size(1), half = tokens / 2;
  const bool drop = drop_path_active();
  auto h = fast::layer_norm(x, norm1->weight, norm1->bias, norm1->options.eps());
  auto context = fast::attention(fast::linear(h, attn->qkv->weight, attn->qkv->bias), heads);
  // Residual and bias go into the GEMM's output unless stochastic depth must scale the branch.
  auto y = drop ? x + drop_path(fast::linear(context, attn->proj->weight, attn->proj->bias))
                : fast::linear(context, attn->proj->weight, attn->proj->bias, x);
  auto first = y.narrow(1, 0, half), second = y.narrow(1, half, tokens - half);

  auto h1 = fast::layer_norm(first, norm2->weight, norm2->bias, norm2->options.eps());
  auto hidden1 = fast::gelu(fast::linear(h1, mlp1->fc1->weight, mlp1->fc1->bias));
  auto out1 = drop ? first + drop_path(fast::linear(hidden1, mlp1->fc2->weight, mlp1->fc2->bias))
                   : fast::linear(hidden1, mlp1->fc2->weight, mlp1->fc2->bias, first);

  const auto n = second.size(1);
  auto h2 = fast::layer_norm(second, norm3->weight, norm3->bias, norm3->options.eps());
  auto spectrum = torch::matmul(dct_matrix(n, x.options()), h2);
  auto hidden2 = fast::gelu(fast::linear(spectrum, mlp2->fc1->weight, mlp2->fc1->bias));
  auto branch2 = torch::matmul(idct_matrix(n, x.options()),
                               fast::linear(hidden2, mlp2->fc2->weight, mlp2->fc2->bias));
  auto out2 = second + drop_path(branch2);
  return torch::cat({out1, out2}, 1);
}

// ---------------------------------------------------------------- the model

PoseFormerV2Impl::PoseFormerV2Impl(const PoseFormerV2Config& config) : config_(config) {
  config_.validate();
  const int C = config_.embed_dim_ratio, D = config_.temporal_dim(), J = config_.num_joints;
  Spatial_pos_embed = register_parameter("Spatial_pos_embed", torch::zeros({1, J, C}));
  Temporal_pos_embed = register_parameter("Temporal_pos_embed", torch::zeros({1, config_.frames_kept, D}));
  Temporal_pos_embed_ = register_parameter("Temporal_pos_embed_", torch::zeros({1, config_.coefficients_kept, D}));
  Joint_embedding = register_module("Joint_embedding", torch::nn::Linear(config_.in_chans, C));
  Freq_embedding = register_module("Freq_embedding", torch::nn::Linear(config_.in_chans * J, D));
  // (pos_drop, a Dropout of rate 0 in the original, holds no parameters and changes nothing.)

  Spatial_blocks = register_module("Spatial_blocks", torch::nn::ModuleList());
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config_.depth; ++i) {
    // torch.linspace(0, drop_path_rate, depth): the i-th block's rate (0 for a single block).
    const double rate = config_.depth > 1 ? config_.drop_path_rate * i / (config_.depth - 1) : 0.0;
    Spatial_blocks->push_back(TransformerBlock(C, config_.num_heads, config_.mlp_ratio, config_.qkv_bias, rate));
  }
  for (int i = 0; i < config_.depth; ++i) {
    const double rate = config_.depth > 1 ? config_.drop_path_rate * i / (config_.depth - 1) : 0.0;
    blocks->push_back(MixedBlock(D, config_.num_heads, config_.mlp_ratio, config_.qkv_bias, rate));
  }
  Spatial_norm = register_module("Spatial_norm", make_norm(C, kBlockNormEps));
  Temporal_norm = register_module("Temporal_norm", make_norm(D, kBlockNormEps));
  weighted_mean = register_module(
      "weighted_mean", torch::nn::Conv1d(torch::nn::Conv1dOptions(config_.coefficients_kept, 1, 1)));
  weighted_mean_ = register_module(
      "weighted_mean_", torch::nn::Conv1d(torch::nn::Conv1dOptions(config_.frames_kept, 1, 1)));
  head = register_module("head", torch::nn::Sequential(make_norm(2 * D, kHeadNormEps),
                                                       torch::nn::Linear(2 * D, J * 3)));
}

void PoseFormerV2Impl::check_input(const torch::Tensor& x) const {
  const int shortest = std::max(config_.frames_kept, config_.coefficients_kept);
  auto shape = [&] {
    std::string s = "(";
    for (std::int64_t i = 0; i < x.dim(); ++i) s += (i ? ", " : "") + std::to_string(x.size(i));
    return s + ")";
  };
  const std::string expected =
      fmt::format("PoseFormerV2 ({}) expects (batch, frames, {}, {}) keypoints with at least {} frames", describe(),
                  config_.num_joints, config_.in_chans, shortest);
  if (!x.defined() || x.dim() != 4) throw InputError(expected + ", got a tensor of shape " + (x.defined() ? shape() : "none"));
  if (x.size(2) != config_.num_joints)
    throw InputError(fmt::format("{}, got {} joints (shape {})", expected, x.size(2), shape()));
  if (x.size(3) != config_.in_chans)
    throw InputError(fmt::format("{}, got {} channels (shape {})", expected, x.size(3), shape()));
  if (x.size(1) < shortest)
    throw InputError(fmt::format("{}, got a window of {} frames (shape {})", expected, x.size(1), shape()));
  if (!x.is_floating_point())
    throw InputError(fmt::format("{}, got {} values", expected, c10::toString(x.scalar_type())));
}

bool PoseFormerV2Impl::fast_path(const torch::Tensor& x) const {
  return implementation_ == Implementation::fast && x.device().is_cpu() && x.scalar_type() == torch::kFloat32;
}

torch::Tensor PoseFormerV2Impl::spatial_features(const torch::Tensor& x) {
  const auto B = x.size(0), F = x.size(1), J = x.size(2);
  const int kept = config_.frames_kept;
  // The original's index arange((F-1)//2 - kept//2, (F-1)//2 + kept//2 + 1).
  const auto first = (F - 1) / 2 - kept / 2;
  auto frames = x.narrow(1, first, kept).reshape({B * kept, J, x.size(3)});
  auto h = Joint_embedding(frames) + Spatial_pos_embed;  // every frame's joints are one sequence
  const bool fast = fast_path(h);
  for (const auto& module : *Spatial_blocks) {
    auto& block = *module->as<TransformerBlock>();
    h = fast ? fast::block_forward(block, h, config_.num_heads) : block.forward(h);
  }
  // rearrange '(b f) p c -> b f (p c)'
  return Spatial_norm(h).reshape({B, kept, J * config_.embed_dim_ratio});
}

torch::Tensor PoseFormerV2Impl::frequency_features(const torch::Tensor& x) {
  const auto B = x.size(0), F = x.size(1);
  // dct(x.permute(0, 2, 3, 1))[..., :K] then (B, K, J * in_chans): only the kept rows of the
  // window's DCT matrix are needed.
  auto rows = dct_matrix(F, x.options()).narrow(0, 0, config_.coefficients_kept);
  auto coefficients = torch::matmul(rows, x.reshape({B, F, -1}));
  return Freq_embedding(coefficients) + Temporal_pos_embed_;
}

torch::Tensor PoseFormerV2Impl::forward(const torch::Tensor& x) {
  check_input(x);
  const auto B = x.size(0);
  auto frame_tokens = spatial_features(x) + Temporal_pos_embed;
  auto tokens = torch::cat({frequency_features(x), frame_tokens}, 1);
  const bool fast = fast_path(tokens);
  for (const auto& module : *blocks) {
    auto& block = *module->as<MixedBlock>();
    tokens = fast ? block.forward_fast(tokens, config_.num_heads) : block.forward(tokens);
  }
  tokens = Temporal_norm(tokens);
  const int K = config_.coefficients_kept;
  auto pooled = torch::cat({weighted_mean(tokens.narrow(1, 0, K)),
                            weighted_mean_(tokens.narrow(1, K, config_.frames_kept))},
                           -1);  // (B, 1, 2D)
  return head->forward(pooled).view({B, 1, config_.num_joints, -1});
}

double PoseFormerV2Impl::macs_per_output_frame() const {
  const auto& c = config_;
  const double C = c.embed_dim_ratio, D = c.temporal_dim(), J = c.num_joints, Cin = c.in_chans;
  const double F = c.num_frames, kept = c.frames_kept, K = c.coefficients_kept, T = c.temporal_tokens();
  auto attention = [](double tokens, double dim) {
    return tokens * (3 * dim * dim + dim * dim)  // qkv and proj
           + 2 * tokens * tokens * dim;          // QK^T and AV
  };
  auto mlp = [&](double tokens, double dim) { return tokens * 2 * dim * mlp_hidden(static_cast<int>(dim), c.mlp_ratio); };
  const double spatial = kept * (J * Cin * C + c.depth * (attention(J, C) + mlp(J, C)));
  const double half = std::floor(T / 2), rest = T - half;
  const double mixed = attention(T, D) + mlp(half, D) + mlp(rest, D) + 2 * rest * rest * D;  // + DCT, inverse
  const double embedding = K * F * J * Cin + K * J * Cin * D;  // kept DCT rows, Freq_embedding
  const double pooling = K * D + kept * D;
  return spatial + embedding + c.depth * mixed + pooling + 2 * D * J * 3;
}

std::int64_t count_parameters(const PoseFormerV2Config& c) {
  auto attention_block = [&](std::int64_t dim) {
    const std::int64_t hidden = mlp_hidden(static_cast<int>(dim), c.mlp_ratio);
    return 2 * 2 * dim                                    // two LayerNorms
           + dim * 3 * dim + (c.qkv_bias ? 3 * dim : 0)   // qkv
           + dim * dim + dim                              // proj
           + dim * hidden + hidden + hidden * dim + dim;  // MLP
  };
  auto mixed_block = [&](std::int64_t dim) {
    const std::int64_t hidden = mlp_hidden(static_cast<int>(dim), c.mlp_ratio);
    return attention_block(dim) + 2 * dim + dim * hidden + hidden + hidden * dim + dim;  // norm3, mlp2
  };
  const std::int64_t C = c.embed_dim_ratio, D = c.temporal_dim(), J = c.num_joints, Cin = c.in_chans;
  const std::int64_t kept = c.frames_kept, K = c.coefficients_kept;
  return J * C + kept * D + K * D + (Cin * C + C) + (Cin * J * D + D) +
         c.depth * (attention_block(C) + mixed_block(D)) + 2 * C + 2 * D + (K + 1) + (kept + 1) + 2 * 2 * D +
         (2 * D * J * 3 + J * 3);
}

// ---------------------------------------------------------------- configuration from a state dict

PoseFormerV2Config infer_poseformerv2_config(const StateDict& state, int num_frames, int num_heads,
                                             const std::string& source) {
  const StateDictShapes shapes(state, source, "PoseFormerV2");
  auto need = [&](const std::string& key, std::size_t rank) -> const torch::Tensor& { return shapes.need(key, rank); };
  auto expect_shape = [&](const std::string& key, const std::vector<std::int64_t>& shape, const std::string& why) {
    shapes.expect_shape(key, shape, why);
  };

  PoseFormerV2Config c;
  const auto& spatial_pos = need("Spatial_pos_embed", 3);
  const auto& temporal_pos = need("Temporal_pos_embed", 3);
  const auto& frequency_pos = need("Temporal_pos_embed_", 3);
  const auto& joint_embedding = need("Joint_embedding.weight", 2);
  c.num_joints = static_cast<int>(spatial_pos.size(1));
  c.embed_dim_ratio = static_cast<int>(spatial_pos.size(2));
  c.frames_kept = static_cast<int>(temporal_pos.size(1));
  c.coefficients_kept = static_cast<int>(frequency_pos.size(1));
  c.in_chans = static_cast<int>(joint_embedding.size(1));
  const std::int64_t C = c.embed_dim_ratio, J = c.num_joints, D = C * J;
  expect_shape("Spatial_pos_embed", {1, J, C}, "one row per joint");
  expect_shape("Joint_embedding.weight", {C, c.in_chans}, "the spatial width of Spatial_pos_embed");
  expect_shape("Temporal_pos_embed", {1, c.frames_kept, D}, "temporal width = joints x spatial width");
  expect_shape("Temporal_pos_embed_", {1, c.coefficients_kept, D}, "temporal width = joints x spatial width");
  expect_shape("Freq_embedding.weight", {D, c.in_chans * J}, "all joints' channels in, the temporal width out");
  expect_shape("weighted_mean.weight", {1, c.coefficients_kept, 1}, "one weight per kept coefficient");
  expect_shape("weighted_mean_.weight", {1, c.frames_kept, 1}, "one weight per kept frame");
  expect_shape("head.1.weight", {J * 3, 2 * D}, "3 coordinates per joint from both weighted means");

  const int spatial_depth = shapes.block_count("Spatial_blocks");
  const int mixed_depth = shapes.block_count("blocks");
  if (spatial_depth != mixed_depth)
    throw InputError(fmt::format("{}: {} spatial blocks ('Spatial_blocks.N.') but {} mixed blocks ('blocks.N.'): "
                                 "PoseTransformerV2 has as many of each",
                                 source, spatial_depth, mixed_depth));
  c.depth = spatial_depth;
  if (c.depth > 0) {
    const auto& fc1 = need("Spatial_blocks.0.mlp.fc1.weight", 2);
    c.mlp_ratio = static_cast<double>(fc1.size(0)) / c.embed_dim_ratio;
    c.qkv_bias = shapes.find("Spatial_blocks.0.attn.qkv.bias") != nullptr;
    const std::int64_t hidden = mlp_hidden(static_cast<int>(D), c.mlp_ratio);
    expect_shape("blocks.0.mlp1.fc1.weight", {hidden, D}, "the spatial blocks' MLP ratio at the temporal width");
    expect_shape("blocks.0.mlp2.fc1.weight", {hidden, D}, "the spatial blocks' MLP ratio at the temporal width");
  }
  c.num_frames = num_frames;
  c.num_heads = num_heads > 0 ? num_heads : kDefaultHeads;  // the original always builds 8
  try {
    c.validate();
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  return c;
}

}  // namespace poselift::model
