#include "model/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "io/error.hpp"
#include "report/report.hpp"

namespace poselift::model {

namespace {

struct Signature {
  Family family;
  std::vector<const char*> prefixes;  // every one must start some key
};

// Most specific first: MixSTE also has PoseFormer's Spatial_patch_to_embedding.
const std::vector<Signature>& signatures() {
  static const std::vector<Signature> table = {
      {Family::MixSTE, {"STEblocks.", "TTEblocks."}},
      {Family::MotionBERT, {"joints_embed.", "blocks_st.", "blocks_ts."}},
      {Family::PoseFormerV2, {"Joint_embedding.", "Freq_embedding."}},
      {Family::VideoPose3D, {"expand_conv.", "shrink."}},
      {Family::PoseFormer, {"Spatial_patch_to_embedding.", "blocks."}},
  };
  return table;
}

bool has_prefix(const StateDict& state, const std::string& prefix) {
  return std::any_of(state.begin(), state.end(), [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
}

std::string first_keys(const StateDict& state) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, state.size()); ++i) keys.push_back(state[i].first);
  return keys.empty() ? "it is empty" : fmt::format("its first keys: {}", fmt::join(keys, ", "));
}

int stored_or(const std::optional<int>& stored, int requested) { return stored ? *stored : requested; }

}  // namespace

std::optional<FamilySignature> detect_family(const StateDict& state) {
  for (const auto& signature : signatures()) {
    bool all = true;
    for (const char* prefix : signature.prefixes) all = all && has_prefix(state, prefix);
    if (!all) continue;
    std::vector<std::string> shown;
    for (const char* prefix : signature.prefixes) shown.push_back(std::string(prefix) + "*");
    return FamilySignature{signature.family, fmt::format("{}", fmt::join(shown, ", "))};
  }
  return std::nullopt;
}

Family family_of(const ModelSpec& spec) {
  struct {
    Family operator()(const PoseFormerConfig&) const { return Family::PoseFormer; }
    Family operator()(const VideoPose3DConfig&) const { return Family::VideoPose3D; }
    Family operator()(const PoseFormerV2Config&) const { return Family::PoseFormerV2; }
    Family operator()(const MixSTEConfig&) const { return Family::MixSTE; }
    Family operator()(const MotionBERTConfig&) const { return Family::MotionBERT; }
  } visitor;
  return std::visit(visitor, spec);
}

Lifter make_lifter(const ModelSpec& spec) {
  struct {
    Lifter operator()(const PoseFormerConfig& c) const { return std::make_shared<PoseFormerImpl>(c); }
    Lifter operator()(const VideoPose3DConfig& c) const { return std::make_shared<VideoPose3DImpl>(c); }
    Lifter operator()(const PoseFormerV2Config& c) const { return std::make_shared<PoseFormerV2Impl>(c); }
    Lifter operator()(const MixSTEConfig& c) const { return std::make_shared<MixSTEImpl>(c); }
    Lifter operator()(const MotionBERTConfig& c) const { return std::make_shared<MotionBERTImpl>(c); }
  } visitor;
  return std::visit(visitor, spec);
}

ModelSpec checkpoint_spec(const Checkpoint& ck, const ModelRequest& request) {
  const auto signature = detect_family(ck.model_state);
  if (!signature) {
    std::vector<std::string> known;
    for (const auto& s : signatures()) known.push_back(family_name(s.family));
    throw InputError(fmt::format("{}: not a checkpoint of a model poselift knows ({}): no family's keys in its state "
                                 "dict ({})",
                                 ck.source, fmt::join(known, ", "), first_keys(ck.model_state)));
  }
  const Family family = signature->family;
  if (request.family && *request.family != family)
    throw InputError(fmt::format("{}: this is a {} checkpoint ({}), not {}{}", ck.source, family_name(family),
                                 signature->keys, family_name(*request.family), request.hints.family));
  const TrainingState stored = ck.training.value_or(TrainingState{});
  switch (family) {
    case Family::PoseFormer:
      return infer_config(ck.model_state, resolve_heads(ck, request.num_heads), ck.source, request.hints.heads);
    case Family::VideoPose3D:
      return infer_videopose3d_config(ck.model_state, ck.source, stored.causal.value_or(request.causal),
                                      stored.dense.value_or(request.dense));
    case Family::PoseFormerV2: {
      const int frames = stored_or(stored.num_frames, request.frames);
      if (frames <= 0)
        throw InputError(fmt::format("{}: a PoseFormerV2 checkpoint does not store its window length (its DCT runs "
                                     "over any window){}",
                                     ck.source, request.hints.frames));
      return infer_poseformerv2_config(ck.model_state, frames, resolve_heads(ck, request.num_heads), ck.source);
    }
    case Family::MotionBERT: {
      MotionBERTConfig c = infer_motionbert_config(ck.model_state, resolve_heads(ck, request.num_heads), ck.source);
      c.norm_eps = stored.layer_norm_eps ? *stored.layer_norm_eps
                                         : request.layer_norm_eps > 0 ? request.layer_norm_eps : kMotionBERTScriptNormEps;
      return c;
    }
    case Family::MixSTE: {
      MixSTEConfig c = infer_mixste_config(ck.model_state, resolve_heads(ck, request.num_heads), ck.source);
      c.drop_path_rate = 0.0;  // inference; training sets its own
      return c;
    }
  }
  throw std::logic_error("checkpoint_spec: unknown family");
}

LoadedModel build_model(const Checkpoint& ck, const ModelRequest& request) {
  LoadedModel loaded{Family::PoseFormer, checkpoint_spec(ck, request), nullptr, nullptr};
  loaded.family = family_of(loaded.spec);
  loaded.pose = make_lifter(loaded.spec);
  auto report = load_state_dict(*loaded.pose, ck.model_state, request.strict, ck.source, request.hints.strict);
  if (!report.clean()) report::warn(fmt::format("{}: partial load: {}", ck.source, report.describe()));
  if (loaded.family == Family::VideoPose3D && !ck.trajectory_state.empty()) {
    const auto& pose = std::get<VideoPose3DConfig>(loaded.spec);
    VideoPose3DConfig trajectory = infer_videopose3d_config(ck.trajectory_state, ck.source + " (model_traj)",
                                                            pose.causal, pose.dense);
    loaded.trajectory = make_lifter(trajectory);
    load_state_dict(*loaded.trajectory, ck.trajectory_state, /*strict=*/true, ck.source + " (model_traj)");
  }
  return loaded;
}

TrainingState spec_training_state(const ModelSpec& spec) {
  TrainingState state;
  if (const auto* c = std::get_if<PoseFormerConfig>(&spec)) {
    state.num_heads = c->num_heads;
  } else if (const auto* v = std::get_if<PoseFormerV2Config>(&spec)) {
    state.num_heads = v->num_heads;
    state.num_frames = v->num_frames;
  } else if (const auto* x = std::get_if<MixSTEConfig>(&spec)) {
    state.num_heads = x->num_heads;
  } else if (const auto* m = std::get_if<MotionBERTConfig>(&spec)) {
    state.num_heads = m->num_heads;
    state.layer_norm_eps = m->norm_eps;
  } else if (const auto* t = std::get_if<VideoPose3DConfig>(&spec)) {
    state.causal = t->causal;
    state.dense = t->dense;
  }
  return state;
}

}  // namespace poselift::model
