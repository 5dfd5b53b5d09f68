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

std::vector<std::string> describe_checkpoint(const std::string& path, int requested_heads) {
  model::Checkpoint ck;
  try {
    ck = model::read_checkpoint(path);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (info reads .npz archives, .npy arrays and PyTorch checkpoints: .bin, .pth, .pt)");
  }
  const auto config = model::infer_config(ck.model_state, heads_for(ck, requested_heads), path,
                                          flag_hints().heads);
  std::vector<std::string> out;
  out.push_back(path + ": PyTorch checkpoint");
  if (ck.epoch) out.push_back(fmt::format("  epoch: {}", *ck.epoch));
  if (ck.lr) out.push_back(fmt::format("  lr: {}", *ck.lr));
  out.push_back(fmt::format("  optimizer state: {}", ck.optimizer ? "yes" : "no"));
  out.push_back(fmt::format("  model: PoseFormer, {}{}", config.describe(),
                            model::stored_heads(ck) ? " (heads as stored in the file)"
                            : requested_heads > 0   ? " (heads from --heads)"
                                                    : " (heads not in the file: PoseFormer's default; --heads sets them)"));
  std::int64_t params = 0;
  for (const auto& kv : ck.model_state) params += kv.second.numel();
  out.push_back(fmt::format("  parameters: {} in {} tensors", params, ck.model_state.size()));
  return out;
}

std::vector<std::string> describe_file(const std::string& path, int requested_heads) {
  if (!fs::exists(path)) throw InputError(path + ": no such file");
  if (io::ends_with(path, ".npz")) return describe_npz(path);
  if (io::ends_with(path, ".npy")) return describe_npy(path);
  for (const char* other : {".bvh", ".bvh.gz", ".asf", ".amc", ".json", ".csv", ".mp4", ".gif", ".html", ".txt"})
    if (io::ends_with(path, other))
      throw InputError(path + ": info reads .npz archives, .npy arrays and PyTorch checkpoints (.bin, .pth, .pt), "
                              "not " + other + " files");
  // Anything else is taken for a torch.save checkpoint.
  return describe_checkpoint(path, requested_heads);
}

}  // namespace

std::vector<std::string> describe(const InfoOptions& o) {
  if (!o.file.empty()) return describe_file(o.file, o.heads);
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  return data::summarize(dataset, &keypoints);
}

}  // namespace poselift::engine
