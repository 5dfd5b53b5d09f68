#include "engine/model_loading.hpp"

#include <fmt/format.h>

#include "io/error.hpp"
#include "report/report.hpp"

namespace poselift::engine {

model::LoadHints flag_hints() { return {" (use --heads to set the head count)", " (--non-strict loads what matches)"}; }

model::ModelRequest model_request(const ModelOptions& options) {
  model::ModelRequest request;
  if (!options.family.empty()) request.family = model::family_from_name(options.family);
  request.num_heads = options.heads;
  request.frames = options.frames;
  request.causal = options.causal;
  request.dense = options.dense;
  request.layer_norm_eps = options.layer_norm_eps;
  request.strict = options.strict_load;
  const model::LoadHints hints = flag_hints();
  request.hints.heads = hints.heads;
  request.hints.strict = hints.strict;
  request.hints.frames = ": give it with -f (the original's -frame), e.g. -f 27";
  request.hints.family = " (leave --model out to use the checkpoint's own family)";
  return request;
}

int heads_for(const model::Checkpoint& checkpoint, int requested) {
  const auto stored = model::stored_heads(checkpoint);
  if (stored && requested > 0 && requested != *stored)
    report::warn(fmt::format("{} was trained with {} attention heads: --heads {} is ignored", checkpoint.source,
                             *stored, requested));
  return model::resolve_heads(checkpoint, requested);
}

void apply_model_config(const io::MotionBERTConfigFile& config, const model::Checkpoint& checkpoint,
                        const ModelOptions& options, model::ModelRequest& request) {
  const auto signature = model::detect_family(checkpoint.model_state);
  if (signature && signature->family != model::Family::MotionBERT)
    throw InputError(fmt::format("--config {}: a MotionBERT configuration, but {} is a {} checkpoint", config.path,
                                 checkpoint.source, model::family_name(signature->family)));
  if (!config.num_heads) return;
  const int heads = *config.num_heads;
  if (options.heads > 0 && options.heads != heads)
    throw InputError(fmt::format("--heads {} contradicts num_heads {} in {}: give one of them", options.heads, heads,
                                 config.path));
  const auto stored = model::stored_heads(checkpoint);
  if (stored && *stored != heads)
    throw InputError(fmt::format("{}: 'num_heads' is {} but {} was trained with {} attention heads", config.path,
                                 heads, checkpoint.source, *stored));
  request.num_heads = heads;
}

void check_checkpoint_fits(const std::string& path, const model::LifterImpl& model, int frames, int num_joints,
                           const std::string& source) {
  if (frames > 0 && model.receptive_field() != frames)
    report::warn(fmt::format("{} takes {} frames per prediction: -f {} is ignored", path, model.receptive_field(),
                             frames));
  if (model.input_joints() != num_joints)
    throw InputError(fmt::format("{}: the checkpoint has {} joints but {} has {}", path, model.input_joints(), source,
                                 num_joints));
}

InferenceModel load_for_inference(const std::string& path, const ModelOptions& options, const torch::Device& device,
                                  const ModelFit& fit) {
  InferenceModel out{model::read_checkpoint(path), {}, std::nullopt};
  model::ModelRequest request = model_request(options);
  request.num_heads = heads_for(out.checkpoint, options.heads);
  if (!options.config.empty()) {
    out.config = io::read_motionbert_yaml(options.config);
    apply_model_config(*out.config, out.checkpoint, options, request);
  }
  out.loaded = model::build_model(out.checkpoint, request);
  if (out.config)
    model::check_motionbert_config_file(std::get<model::MotionBERTConfig>(out.loaded.spec), *out.config, path);
  if (fit.num_joints > 0) check_checkpoint_fits(path, *out.loaded.pose, options.frames, fit.num_joints, fit.source);
  for (const auto& net : {out.loaded.pose, out.loaded.trajectory}) {
    if (!net) continue;
    net->to(device);
    net->eval();
  }
  return out;
}

}  // namespace poselift::engine
