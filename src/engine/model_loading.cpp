#include "engine/model_loading.hpp"

#include <fmt/format.h>

#include "io/error.hpp"
#include "report/report.hpp"

namespace poselift::engine {

model::LoadHints flag_hints() { return {" (use --heads to set the head count)", " (--non-strict loads what matches)"}; }

int heads_for(const model::Checkpoint& checkpoint, int requested) {
  const auto stored = model::stored_heads(checkpoint);
  if (stored && requested > 0 && requested != *stored)
    report::warn(fmt::format("{} was trained with {} attention heads: --heads {} is ignored", checkpoint.source,
                             *stored, requested));
  return model::resolve_heads(checkpoint, requested);
}

void check_checkpoint_fits(const std::string& path, const model::PoseFormerConfig& config, int frames,
                           int num_joints, const std::string& source) {
  if (frames > 0 && config.num_frames != frames)
    report::warn(fmt::format("{} takes {} frames per prediction: -f {} is ignored", path, config.num_frames, frames));
  if (config.num_joints != num_joints)
    throw InputError(fmt::format("{}: the checkpoint has {} joints but {} has {}", path, config.num_joints, source,
                                 num_joints));
}

model::PoseFormer load_for_inference(const std::string& path, const ModelOptions& options,
                                     const torch::Device& device, const ModelFit& fit) {
  const model::Checkpoint checkpoint = model::read_checkpoint(path);
  auto net = model::build_poseformer(checkpoint, heads_for(checkpoint, options.heads), options.strict_load,
                                     flag_hints());
  if (fit.num_joints > 0) check_checkpoint_fits(path, net->config(), options.frames, fit.num_joints, fit.source);
  net->to(device);
  net->eval();
  return net;
}

}  // namespace poselift::engine
