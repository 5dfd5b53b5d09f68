#include "model/motionbert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "io/error.hpp"
#include "model/fast_ops.hpp"

namespace poselift::model {

// ---------------------------------------------------------------- configuration

std::string MotionBERTConfig::describe() const {
  std::string text = fmt::format("maxlen {}, {} joints, features {}, representation {}, depth {}, {} heads, mlp {}",
                                 maxlen, num_joints, dim_feat, dim_rep, depth, num_heads, mlp_ratio);
  if (dim_in != 3) text += fmt::format(", {} input channels", dim_in);
  if (dim_out != 3) text += fmt::format(", {} outputs", dim_out);
  if (!att_fuse) text += ", mean fusion";
  if (!qkv_bias) text += ", no qkv bias";
  return text;
}

void MotionBERTConfig::validate() const {
  auto fail = [&](const std::string& why) {
    throw InputError("MotionBERT configuration (" + describe() + "): " + why);
  };
  if (dim_in < 1) fail("the input channel count must be positive");
  // The original's head is Linear(dim_rep, dim_out): without a representation layer (dim_rep 0,
  // an Identity pre_logits) its input width would be 0, and without a head (dim_out 0) the
  // model would not give poses.
  if (dim_out < 1) fail("the output channel count must be positive");
  if (dim_rep < 1) fail("the representation width must be positive");
  if (num_joints < 1) fail("the joint count must be positive");
  if (maxlen < 1) fail("maxlen must be positive");
  if (dim_feat < 1 || depth < 0 || num_heads < 1) fail("features, depth and heads must be positive");
  if (dim_feat % num_heads != 0)
    fail(fmt::format("the feature width {} is not divisible by {} heads", dim_feat, num_heads));
  if (mlp_hidden(dim_feat, mlp_ratio) < 1) fail("the MLP ratio gives an empty hidden layer");
  if (drop_path_rate < 0 || drop_path_rate >= 1) fail("drop_path_rate must be in [0, 1)");
  if (!(norm_eps > 0)) fail("the LayerNorm eps must be positive");
}

// ---------------------------------------------------------------- attention and blocks

DualAttentionImpl::DualAttentionImpl(int dim, int num_heads, bool qkv_bias, AttentionAxis axis)
    : num_heads_(num_heads), scale_(std::pow(static_cast<double>(dim / num_heads), -0.5)), axis_(axis) {
  proj = register_module("proj", torch::nn::Linear(dim, dim));
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, dim * 3).bias(qkv_bias)));
}

torch::Tensor DualAttentionImpl::forward(const torch::Tensor& x, std::int64_t frames) {
  const auto BF = x.size(0), N = x.size(1), C = x.size(2), H = static_cast<std::int64_t>(num_heads_), c = C / H;
  // (3, B*F, H, J, c) as the original's reshape and permute.
  auto heads = qkv(x).reshape({BF, N, 3, H, c}).permute({2, 0, 3, 1, 4});
  auto q = heads[0], k = heads[1], v = heads[2];
  torch::Tensor out;
  if (axis_ == AttentionAxis::Spatial) {
    // Each frame's joints attend to each other.
    auto attn = (torch::matmul(q, k.transpose(-2, -1)) * scale_).softmax(-1);
    out = torch::matmul(attn, v).transpose(1, 2).reshape({BF, N, C});
  } else {
    // Each joint attends across the clip's frames: (B, H, J, F, c).
    auto by_joint = [&](const torch::Tensor& t) { return t.reshape({-1, frames, H, N, c}).permute({0, 2, 3, 1, 4}); };
    auto qt = by_joint(q), kt = by_joint(k), vt = by_joint(v);
    auto attn = (torch::matmul(qt, kt.transpose(-2, -1)) * scale_).softmax(-1);
    out = torch::matmul(attn, vt).permute({0, 3, 2, 1, 4}).reshape({BF, N, C});
  }
  return proj(out);
}

DualStreamBlockImpl::DualStreamBlockImpl(int dim, int num_heads, double mlp_ratio, bool qkv_bias, double drop_path,
                                         double norm_eps, StageOrder order)
    : drop_path_(drop_path), order_(order) {
  const int hidden = mlp_hidden(dim, mlp_ratio);
  norm1_s = register_module("norm1_s", make_norm(dim, norm_eps));
  norm1_t = register_module("norm1_t", make_norm(dim, norm_eps));
  attn_s = register_module("attn_s", DualAttention(dim, num_heads, qkv_bias, AttentionAxis::Spatial));
  attn_t = register_module("attn_t", DualAttention(dim, num_heads, qkv_bias, AttentionAxis::Temporal));
  norm2_s = register_module("norm2_s", make_norm(dim, norm_eps));
  norm2_t = register_module("norm2_t", make_norm(dim, norm_eps));
  // The original's MLP (fc1, GELU, fc2; its dropouts have rate 0) is FeedForward.
  mlp_s = register_module("mlp_s", FeedForward(dim, hidden));
  mlp_t = register_module("mlp_t", FeedForward(dim, hidden));
}

torch::Tensor DualStreamBlockImpl::drop_path(const torch::Tensor& branch) const {
  if (!is_training() || drop_path_ <= 0.0) return branch;
  const double keep = 1.0 - drop_path_;
  std::vector<int64_t> mask_shape(branch.dim(), 1);
  mask_shape[0] = branch.size(0);
  auto mask = torch::floor(keep + torch::rand(mask_shape, branch.options()));
  return branch.div(keep) * mask;
}

torch::Tensor DualStreamBlockImpl::spatial_stage(const torch::Tensor& x, std::int64_t frames) {
  auto y = x + drop_path(attn_s->forward(norm1_s(x), frames));
  return y + drop_path(mlp_s(norm2_s(y)));
}

torch::Tensor DualStreamBlockImpl::temporal_stage(const torch::Tensor& x, std::int64_t frames) {
  auto y = x + drop_path(attn_t->forward(norm1_t(x), frames));
  return y + drop_path(mlp_t(norm2_t(y)));
}

torch::Tensor DualStreamBlockImpl::forward(const torch::Tensor& x, std::int64_t frames) {
  if (order_ == StageOrder::SpatialTemporal) return temporal_stage(spatial_stage(x, frames), frames);
  return spatial_stage(temporal_stage(x, frames), frames);
}

// ---------------------------------------------------------------- the blocks' fast path

namespace {

// (B*F, J, C) rows by frame <-> (B*J, F, C) rows by joint.
torch::Tensor by_joint(const torch::Tensor& x, std::int64_t frames) {
  const auto BF = x.size(0), J = x.size(1), C = x.size(2);
  return x.view({BF / frames, frames, J, C}).permute({0, 2, 1, 3}).reshape({BF / frames * J, frames, C});
}

torch::Tensor by_frame(const torch::Tensor& x, std::int64_t joints) {
  const auto BJ = x.size(0), F = x.size(1), C = x.size(2);
  return x.view({BJ / joints, joints, F, C}).permute({0, 2, 1, 3}).reshape({BJ / joints * F, joints, C});
}

}  // namespace

torch::Tensor DualStreamBlockImpl::drop_path_by_joint(const torch::Tensor& branch, std::int64_t joints) const {
  if (!is_training() || drop_path_ <= 0.0) return branch;
  const double keep = 1.0 - drop_path_;
  const auto batch = branch.size(0) / joints, frames = branch.size(1), C = branch.size(2);
  // drop_path draws one number per (B*F) row, in (batch, frame) order; so does this.
  auto mask = torch::floor(keep + torch::rand({batch * frames, 1, 1}, branch.options()));
  return (branch.div(keep).view({batch, joints, frames, C}) * mask.view({batch, 1, frames, 1})).view(branch.sizes());
}

torch::Tensor DualStreamBlockImpl::fast_stage(const torch::Tensor& x, AttentionAxis axis, std::int64_t joints) {
  const bool spatial = axis == AttentionAxis::Spatial;
  auto& norm1 = spatial ? *norm1_s : *norm1_t;
  auto& norm2 = spatial ? *norm2_s : *norm2_t;
  auto& attn = spatial ? *attn_s : *attn_t;
  auto& mlp = spatial ? *mlp_s : *mlp_t;
  const bool drop = is_training() && drop_path_ > 0.0;
  auto drop_branch = [&](const torch::Tensor& branch) {
    return spatial ? drop_path(branch) : drop_path_by_joint(branch, joints);
  };
  auto h = fast::layer_norm(x, norm1.weight, norm1.bias, norm1.options.eps());
  auto context = fast::attention(fast::linear(h, attn.qkv->weight, attn.qkv->bias), attn.heads());
  // Residual and bias go into the GEMM's output unless stochastic depth must scale the branch.
  auto y = drop ? x + drop_branch(fast::linear(context, attn.proj->weight, attn.proj->bias))
                : fast::linear(context, attn.proj->weight, attn.proj->bias, x);
  auto hidden = fast::gelu(fast::linear(fast::layer_norm(y, norm2.weight, norm2.bias, norm2.options.eps()),
                                        mlp.fc1->weight, mlp.fc1->bias));
  return drop ? y + drop_branch(fast::linear(hidden, mlp.fc2->weight, mlp.fc2->bias))
              : fast::linear(hidden, mlp.fc2->weight, mlp.fc2->bias, y);
}

torch::Tensor DualStreamBlockImpl::forward_fast(const torch::Tensor& x, std::int64_t frames) {
  const auto J = x.size(1);
  auto temporal = [&](const torch::Tensor& t) {
    return by_frame(fast_stage(by_joint(t, frames), AttentionAxis::Temporal, J), J);
  };
  if (order_ == StageOrder::SpatialTemporal) return temporal(fast_stage(x, AttentionAxis::Spatial, J));
  return fast_stage(temporal(x), AttentionAxis::Spatial, J);
}

// ---------------------------------------------------------------- the model

MotionBERTImpl::MotionBERTImpl(const MotionBERTConfig& config) : config_(config) {
  config_.validate();
  const auto& c = config_;
  const int C = c.dim_feat;
  temp_embed = register_parameter("temp_embed", torch::zeros({1, c.maxlen, 1, C}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, c.num_joints, C}));
  joints_embed = register_module("joints_embed", torch::nn::Linear(c.dim_in, C));
  // (pos_drop, a Dropout of the original's rate 0, holds no parameters and changes nothing.)
  blocks_st = register_module("blocks_st", torch::nn::ModuleList());
  blocks_ts = register_module("blocks_ts", torch::nn::ModuleList());
  auto rate = [&](int i) {  // torch.linspace(0, drop_path_rate, depth)[i]
    return c.depth > 1 ? c.drop_path_rate * i / (c.depth - 1) : 0.0;
  };
  for (int i = 0; i < c.depth; ++i)
    blocks_st->push_back(DualStreamBlock(C, c.num_heads, c.mlp_ratio, c.qkv_bias, rate(i), c.norm_eps,
                                         StageOrder::SpatialTemporal));
  for (int i = 0; i < c.depth; ++i)
    blocks_ts->push_back(DualStreamBlock(C, c.num_heads, c.mlp_ratio, c.qkv_bias, rate(i), c.norm_eps,
                                         StageOrder::TemporalSpatial));
  norm = register_module("norm", make_norm(C, c.norm_eps));
  pre_logits = register_module(
      "pre_logits", torch::nn::Sequential({{"fc", torch::nn::AnyModule(torch::nn::Linear(C, c.dim_rep))},
                                           {"act", torch::nn::AnyModule(torch::nn::Tanh())}}));
  head = register_module("head", torch::nn::Linear(c.dim_rep, c.dim_out));
  if (c.att_fuse) {
    ts_attn = register_module("ts_attn", torch::nn::ModuleList());
    for (int i = 0; i < c.depth; ++i) ts_attn->push_back(torch::nn::Linear(2 * C, 2));
  }
  initialise();
}

void MotionBERTImpl::initialise() {
  torch::NoGradGuard no_grad;
  // trunc_normal_(std=0.02, a=-2, b=2) by the original's inverse-CDF method.
  auto truncated_normal = [](torch::Tensor& t, double std) {
    const double a = -2.0, b = 2.0;
    auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
    const double low = cdf(a / std), high = cdf(b / std);
    t.uniform_(2 * low - 1, 2 * high - 1).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(a, b);
  };
  truncated_normal(temp_embed, 0.02);
  truncated_normal(pos_embed, 0.02);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      truncated_normal(linear->weight, 0.02);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* layer_norm = module->as<torch::nn::LayerNorm>()) {
      layer_norm->weight.fill_(1.0);
      layer_norm->bias.zero_();
    }
  }
  if (config_.att_fuse)
    for (const auto& module : *ts_attn) {
      auto* fuse = module->as<torch::nn::Linear>();
      fuse->weight.zero_();
      fuse->bias.fill_(0.5);
    }
}

void MotionBERTImpl::check_input(const torch::Tensor& x) const {
  auto shape = [&] {
    std::string s = "(";
    for (std::int64_t i = 0; i < x.dim(); ++i) s += (i ? ", " : "") + std::to_string(x.size(i));
    return s + ")";
  };
  const std::string expected =
      fmt::format("MotionBERT ({}) expects (batch, frames, {}, {}) keypoints with 1 to {} frames", describe(),
                  config_.num_joints, config_.dim_in, config_.maxlen);
  if (!x.defined() || x.dim() != 4)
    throw InputError(expected + ", got a tensor of shape " + (x.defined() ? shape() : "none"));
  if (x.size(2) != config_.num_joints)
    throw InputError(fmt::format("{}, got {} joints (shape {})", expected, x.size(2), shape()));
  if (x.size(3) != config_.dim_in)
    throw InputError(fmt::format("{}, got {} channels (shape {})", expected, x.size(3), shape()));
  if (x.size(1) < 1 || x.size(1) > config_.maxlen)
    throw InputError(fmt::format("{}, got a clip of {} frames (shape {}); split longer sequences into clips",
                                 expected, x.size(1), shape()));
  if (x.size(0) < 1) throw InputError(fmt::format("{}, got an empty batch (shape {})", expected, shape()));
  if (!x.is_floating_point())
    throw InputError(fmt::format("{}, got {} values", expected, c10::toString(x.scalar_type())));
}

torch::Tensor MotionBERTImpl::representation(const torch::Tensor& input) {
  check_input(input);
  const auto B = input.size(0), F = input.size(1), J = input.size(2);
  const int C = config_.dim_feat;
  auto x = joints_embed(input.reshape({B * F, J, input.size(3)})) + pos_embed;
  // The temporal embedding's first F rows: shorter clips use a prefix of it.
  x = (x.reshape({B, F, J, C}) + temp_embed.narrow(1, 0, F)).reshape({B * F, J, C});
  const bool fast =
      implementation_ == Implementation::fast && x.device().is_cpu() && x.scalar_type() == torch::kFloat32;
  auto run_block = [&](torch::nn::ModuleList& list, int index) {
    auto& block = *list[index]->as<DualStreamBlock>();
    return fast ? block.forward_fast(x, F) : block.forward(x, F);
  };
  for (int i = 0; i < config_.depth; ++i) {
    auto x_st = run_block(blocks_st, i);
    auto x_ts = run_block(blocks_ts, i);
    if (config_.att_fuse) {
      // Per token, softmax weights for the two streams from both streams' features.
      auto alpha = ts_attn[i]->as<torch::nn::Linear>()->forward(torch::cat({x_st, x_ts}, -1)).softmax(-1);
      x = x_st * alpha.narrow(-1, 0, 1) + x_ts * alpha.narrow(-1, 1, 1);
    } else {
      x = (x_st + x_ts) * 0.5;
    }
  }
  x = norm(x).reshape({B, F, J, C});
  return pre_logits->forward(x);
}

torch::Tensor MotionBERTImpl::forward(const torch::Tensor& x) { return head(representation(x)); }

double MotionBERTImpl::macs_per_output_frame() const {
  const auto& c = config_;
  const double F = c.maxlen, J = c.num_joints, C = c.dim_feat, R = c.dim_rep;
  const double hidden = mlp_hidden(c.dim_feat, c.mlp_ratio);
  const double tokens = F * J;
  // One block: qkv and proj of two attentions, two MLPs; spatial scores and context over the J
  // joints of each frame, temporal ones over the F frames of each joint.
  const double linear = tokens * (2 * (3 * C * C + C * C) + 2 * (2 * C * hidden));
  const double block = linear + 2 * F * J * J * C + 2 * J * F * F * C;
  const double fusion = c.att_fuse ? tokens * (2 * C * 2 + 2 * C) : 0.0;  // ts_attn, weighted sum
  const double clip = tokens * c.dim_in * C + c.depth * (2 * block + fusion) + tokens * (C * R + R * c.dim_out);
  return clip / F;
}

std::int64_t count_parameters(const MotionBERTConfig& c) {
  const std::int64_t C = c.dim_feat, J = c.num_joints, R = c.dim_rep;
  const std::int64_t hidden = mlp_hidden(c.dim_feat, c.mlp_ratio);
  const std::int64_t attention = (3 * C * C + (c.qkv_bias ? 3 * C : 0)) + (C * C + C);
  const std::int64_t mlp = C * hidden + hidden + hidden * C + C;
  const std::int64_t block = 4 * 2 * C + 2 * attention + 2 * mlp;
  return static_cast<std::int64_t>(c.maxlen) * C + J * C + (c.dim_in * C + C) + 2 * c.depth * block + 2 * C +
         (C * R + R) + (R * c.dim_out + c.dim_out) + (c.att_fuse ? c.depth * (2 * C * 2 + 2) : 0);
}

// ---------------------------------------------------------------- configuration from a state dict

MotionBERTConfig infer_motionbert_config(const StateDict& state, int num_heads, const std::string& source) {
  const StateDictShapes shapes(state, source, "MotionBERT");
  auto need = [&](const std::string& key, std::size_t rank) -> const torch::Tensor& { return shapes.need(key, rank); };
  auto expect_shape = [&](const std::string& key, const std::vector<std::int64_t>& shape, const std::string& why) {
    shapes.expect_shape(key, shape, why);
  };

  MotionBERTConfig c;
  const auto& temporal = need("temp_embed", 4);
  const auto& joints = need("pos_embed", 3);
  const auto& embedding = need("joints_embed.weight", 2);
  const auto& representation = need("pre_logits.fc.weight", 2);
  const auto& head = need("head.weight", 2);
  c.maxlen = static_cast<int>(temporal.size(1));
  c.dim_feat = static_cast<int>(temporal.size(3));
  c.num_joints = static_cast<int>(joints.size(1));
  c.dim_in = static_cast<int>(embedding.size(1));
  c.dim_rep = static_cast<int>(representation.size(0));
  c.dim_out = static_cast<int>(head.size(0));
  const std::int64_t C = c.dim_feat;
  expect_shape("temp_embed", {1, c.maxlen, 1, C}, "one row per frame up to maxlen");
  expect_shape("pos_embed", {1, c.num_joints, C}, "one row per joint at the width of temp_embed");
  expect_shape("joints_embed.weight", {C, c.dim_in}, "the feature width of temp_embed");
  expect_shape("norm.weight", {C}, "the feature width of temp_embed");
  expect_shape("pre_logits.fc.weight", {c.dim_rep, C}, "the feature width in");
  expect_shape("head.weight", {c.dim_out, c.dim_rep}, "the representation width in");

  const int st_depth = shapes.block_count("blocks_st");
  const int ts_depth = shapes.block_count("blocks_ts");
  if (st_depth != ts_depth)
    throw InputError(fmt::format("{}: {} spatial-temporal blocks ('blocks_st.N.') but {} temporal-spatial blocks "
                                 "('blocks_ts.N.'): DSTformer has as many of each",
                                 source, st_depth, ts_depth));
  c.depth = st_depth;
  if (c.depth > 0) {
    const auto& fc1 = need("blocks_st.0.mlp_s.fc1.weight", 2);
    const std::int64_t hidden = fc1.size(0);
    c.mlp_ratio = static_cast<double>(hidden) / static_cast<double>(C);
    // int(dim * ratio) must give the hidden width back; hidden / C can round just below it.
    if (mlp_hidden(c.dim_feat, c.mlp_ratio) < hidden) c.mlp_ratio = std::nextafter(c.mlp_ratio, 1e9);
    expect_shape("blocks_st.0.mlp_s.fc1.weight", {hidden, C}, "the feature width in");
    expect_shape("blocks_ts.0.mlp_t.fc1.weight", {hidden, C}, "the MLP width of blocks_st.0.mlp_s");
    expect_shape("blocks_st.0.attn_s.qkv.weight", {3 * C, C}, "queries, keys and values at the feature width");
    c.qkv_bias = shapes.find("blocks_st.0.attn_s.qkv.bias") != nullptr;
  }
  // ts_attn: the attention fusion (att_fuse); without it the original averages the streams.
  const int fusion_depth = shapes.block_count("ts_attn");
  c.att_fuse = fusion_depth > 0 || c.depth == 0;
  if (fusion_depth > 0) {
    if (fusion_depth != c.depth)
      throw InputError(fmt::format("{}: {} fusion layers ('ts_attn.N.') for {} block levels: att_fuse has one per "
                                   "level",
                                   source, fusion_depth, c.depth));
    for (int i = 0; i < c.depth; ++i)
      expect_shape(fmt::format("ts_attn.{}.weight", i), {2, 2 * C}, "two stream weights from both streams' features");
  }
  c.num_heads = num_heads > 0 ? num_heads : kDefaultHeads;  // MotionBERT's configs use 8
  try {
    c.validate();
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  return c;
}

namespace {

void check_backbone(const io::MotionBERTConfigFile& file) {
  if (file.backbone && *file.backbone != "DSTformer")
    throw InputError(fmt::format("{}: 'backbone': poselift reads MotionBERT's DSTformer configurations, found '{}'",
                                 file.path, *file.backbone));
}

}  // namespace

MotionBERTConfig motionbert_config_from_file(const io::MotionBERTConfigFile& file, MotionBERTConfig c) {
  check_backbone(file);
  if (file.maxlen) c.maxlen = *file.maxlen;
  if (file.dim_feat) c.dim_feat = *file.dim_feat;
  if (file.dim_rep) c.dim_rep = *file.dim_rep;
  if (file.depth) c.depth = *file.depth;
  if (file.num_heads) c.num_heads = *file.num_heads;
  if (file.mlp_ratio) c.mlp_ratio = *file.mlp_ratio;
  if (file.att_fuse) c.att_fuse = *file.att_fuse;
  if (file.num_joints) c.num_joints = *file.num_joints;
  c.norm_eps = kMotionBERTScriptNormEps;
  try {
    c.validate();
  } catch (const InputError& e) {
    throw InputError(file.path + ": " + e.what());
  }
  return c;
}

void check_motionbert_config_file(const MotionBERTConfig& shapes, const io::MotionBERTConfigFile& file,
                                  const std::string& checkpoint) {
  check_backbone(file);
  auto differ = [&](const char* key, const std::string& in_file, const std::string& in_weights) {
    throw InputError(fmt::format("{}: '{}' is {} but the weights of {} have {} (the checkpoint's shapes decide: "
                                 "give its own configuration, or leave --config out)",
                                 file.path, key, in_file, checkpoint, in_weights));
  };
  auto integer = [&](const char* key, const std::optional<int>& value, int actual) {
    if (value && *value != actual) differ(key, std::to_string(*value), std::to_string(actual));
  };
  integer("maxlen", file.maxlen, shapes.maxlen);
  integer("dim_feat", file.dim_feat, shapes.dim_feat);
  integer("dim_rep", file.dim_rep, shapes.dim_rep);
  integer("depth", file.depth, shapes.depth);
  integer("num_joints", file.num_joints, shapes.num_joints);
  // The same hidden width is the same model (int(dim_feat * mlp_ratio), as the original).
  if (file.mlp_ratio && shapes.depth > 0 &&
      mlp_hidden(shapes.dim_feat, *file.mlp_ratio) != mlp_hidden(shapes.dim_feat, shapes.mlp_ratio))
    differ("mlp_ratio", fmt::format("{}", *file.mlp_ratio),
           fmt::format("MLPs of {} for {} features (mlp_ratio {:.4g})", mlp_hidden(shapes.dim_feat, shapes.mlp_ratio),
                       shapes.dim_feat, shapes.mlp_ratio));
  if (file.att_fuse && *file.att_fuse != shapes.att_fuse)
    differ("att_fuse", *file.att_fuse ? "true" : "false",
           shapes.att_fuse ? "fusion layers (ts_attn, att_fuse true)" : "no fusion layers (ts_attn, att_fuse false)");
  if (file.num_heads && shapes.dim_feat % *file.num_heads != 0)
    throw InputError(fmt::format("{}: 'num_heads' {} does not divide the {} features of {}", file.path,
                                 *file.num_heads, shapes.dim_feat, checkpoint));
}

}  // namespace poselift::model
