#include "engine/inspect.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/summary.hpp"
#include "engine/model_loading.hpp"
#include "io/error.hpp"
#include "io/text.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"

namespace poselift::engine {

namespace fs = std::filesystem;

namespace {

void describe_value(std::vector<std::string>& out, const std::string& name, const io::Value& v, int indent,
                    int depth) {
  const std::string pad(indent, ' ');
  if (v.kind == io::Value::Kind::Array) {
    out.push_back(fmt::format("{}{}: {} {}", pad, name, io::dtype_name(v.array->dtype), v.array->shape_string()));
    return;
  }
  if ((v.kind == io::Value::Kind::Dict) && depth < 3) {
    out.push_back(fmt::format("{}{}: dict with {} entries", pad, name, v.entries.size()));
    std::size_t shown = 0;
    for (const auto& [key, value] : v.entries) {
      if (++shown > 12) {
        out.push_back(pad + "  ...");
        break;
      }
      describe_value(out, key->repr(40), *value, indent + 2, depth + 1);
    }
    return;
  }
  if ((v.kind == io::Value::Kind::List || v.kind == io::Value::Kind::Tuple) && depth < 3 && !v.items.empty() &&
      v.items.front()->kind == io::Value::Kind::Array) {
    out.push_back(fmt::format("{}{}: {} of {} arrays, first {} {}", pad, name, io::Value::kind_name(v.kind),
                              v.items.size(), io::dtype_name(v.items.front()->array->dtype),
                              v.items.front()->array->shape_string()));
    return;
  }
  out.push_back(fmt::format("{}{}: {}", pad, name, v.repr(100)));
}

std::vector<std::string> describe_npz(const std::string& path) {
  std::vector<std::string> out;
  auto npz = io::read_npz(path);
  out.push_back(fmt::format("{}: npz archive with {} members", path, npz.names.size()));
  for (const auto& name : npz.names) {
    const auto& member = npz.members.at(name);
    if (member.is_object()) describe_value(out, name, *member.object, 2, 0);
    else out.push_back(fmt::format("  {}: {} {}", name, io::dtype_name(member.array.dtype), member.array.shape_string()));
  }
  return out;
}

std::vector<std::string> describe_npy(const std::string& path) {
  std::vector<std::string> out;
  auto npy = io::read_npy(path);
  if (npy.is_object()) describe_value(out, path, *npy.object, 0, 0);
  else out.push_back(fmt::format("{}: {} {}", path, io::dtype_name(npy.array.dtype), npy.array.shape_string()));
  return out;
}

std::vector<std::string> describe_checkpoint(const std::string& path, int requested_heads, int requested_frames) {
  model::Checkpoint ck;
  try {
    ck = model::read_checkpoint(path);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (info reads .npz archives, .npy arrays and PyTorch checkpoints: .bin, .pth, .pt)");
  }
  std::vector<std::string> out;
  out.push_back(path + ": PyTorch checkpoint");
  if (ck.epoch) out.push_back(fmt::format("  epoch: {}", *ck.epoch));
  if (ck.lr) out.push_back(fmt::format("  lr: {}", *ck.lr));
  out.push_back(fmt::format("  optimizer state: {}", ck.optimizer ? "yes" : "no"));
  const auto signature = model::detect_family(ck.model_state);
  ModelOptions options;
  options.heads = requested_heads;
  options.frames = requested_frames;
  model::ModelRequest request = model_request(options);
  request.num_heads = heads_for(ck, requested_heads);
  const bool has_heads = signature && signature->family != model::Family::VideoPose3D;
  const bool window_unknown = signature && signature->family == model::Family::PoseFormerV2 && requested_frames <= 0 &&
                              !(ck.training && ck.training->num_frames);
  if (window_unknown) {
    out.push_back(fmt::format("  model: PoseFormerV2 ({}); its window length is not in the file: give -f to describe "
                              "it",
                              signature->keys));
  } else {
    const model::ModelSpec spec = model::checkpoint_spec(ck, request);
    const std::string heads_note = !has_heads                    ? ""
                                   : model::stored_heads(ck)     ? " (heads as stored in the file)"
                                   : requested_heads > 0         ? " (heads from --heads)"
                                                                 : " (heads not in the file: the original's 8; --heads sets them)";
    const model::Lifter net = model::make_lifter(spec);
    out.push_back(fmt::format("  model: {}, {}{}", model::family_name(model::family_of(spec)), net->describe(),
                              heads_note));
    out.push_back(fmt::format("  multiply-accumulates per output frame: {:.3g}", net->macs_per_output_frame()));
    if (!ck.trajectory_state.empty()) out.push_back("  trajectory model: yes (model_traj)");
  }
  // Trainable values only: BatchNorm's running statistics are state, not parameters.
  std::int64_t params = 0;
  for (const auto& [key, tensor] : ck.model_state)
    if (!io::ends_with(key, ".running_mean") && !io::ends_with(key, ".running_var") &&
        !io::ends_with(key, ".num_batches_tracked"))
      params += tensor.numel();
  out.push_back(fmt::format("  parameters: {} in {} tensors", params, ck.model_state.size()));
  return out;
}

std::vector<std::string> describe_file(const std::string& path, int requested_heads, int requested_frames) {
  if (!fs::exists(path)) throw InputError(path + ": no such file");
  if (io::ends_with(path, ".npz")) return describe_npz(path);
  if (io::ends_with(path, ".npy")) return describe_npy(path);
  for (const char* other : {".bvh", ".bvh.gz", ".asf", ".amc", ".json", ".csv", ".mp4", ".gif", ".html", ".txt"})
    if (io::ends_with(path, other))
      throw InputError(path + ": info reads .npz archives, .npy arrays and PyTorch checkpoints (.bin, .pth, .pt), "
                              "not " + other + " files");
  // Anything else is taken for a torch.save checkpoint.
  return describe_checkpoint(path, requested_heads, requested_frames);
}

}  // namespace

std::vector<std::string> describe(const InfoOptions& o) {
  if (!o.file.empty()) return describe_file(o.file, o.heads, o.frames);
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  return data::summarize(dataset, &keypoints);
}

}  // namespace poselift::engine
