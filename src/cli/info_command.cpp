// `poselift info`: a dataset's summary, or what a .npz, .npy or checkpoint file holds.
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/command.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/summary.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "model/checkpoint.hpp"

namespace poselift::cli {

namespace fs = std::filesystem;

namespace {

struct InfoFlags {
  engine::DataOptions data;
  engine::ModelOptions model;
  std::string file;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void describe_value(const std::string& name, const io::Value& v, int indent, int depth) {
  const std::string pad(indent, ' ');
  if (v.kind == io::Value::Kind::Array) {
    fmt::print("{}{}: {} {}\n", pad, name, io::dtype_name(v.array->dtype), v.array->shape_string());
    return;
  }
  if ((v.kind == io::Value::Kind::Dict) && depth < 3) {
    fmt::print("{}{}: dict with {} entries\n", pad, name, v.entries.size());
    std::size_t shown = 0;
    for (const auto& [key, value] : v.entries) {
      if (++shown > 12) {
        fmt::print("{}  ...\n", pad);
        break;
      }
      describe_value(key->repr(40), *value, indent + 2, depth + 1);
    }
    return;
  }
  if ((v.kind == io::Value::Kind::List || v.kind == io::Value::Kind::Tuple) && depth < 3 && !v.items.empty() &&
      v.items.front()->kind == io::Value::Kind::Array) {
    fmt::print("{}{}: {} of {} arrays, first {} {}\n", pad, name, io::Value::kind_name(v.kind), v.items.size(),
               io::dtype_name(v.items.front()->array->dtype), v.items.front()->array->shape_string());
    return;
  }
  fmt::print("{}{}: {}\n", pad, name, v.repr(100));
}

int info_file(const InfoFlags& o) {
  const std::string& path = o.file;
  if (!fs::exists(path)) throw InputError(path + ": no such file");
  if (ends_with(path, ".npz")) {
    auto npz = io::read_npz(path);
    fmt::print("{}: npz archive with {} members\n", path, npz.names.size());
    for (const auto& name : npz.names) {
      const auto& member = npz.members.at(name);
      if (member.is_object()) describe_value(name, *member.object, 2, 0);
      else fmt::print("  {}: {} {}\n", name, io::dtype_name(member.array.dtype), member.array.shape_string());
    }
    return 0;
  }
  if (ends_with(path, ".npy")) {
    auto npy = io::read_npy(path);
    if (npy.is_object()) describe_value(path, *npy.object, 0, 0);
    else fmt::print("{}: {} {}\n", path, io::dtype_name(npy.array.dtype), npy.array.shape_string());
    return 0;
  }
  for (const char* other : {".bvh", ".bvh.gz", ".asf", ".amc", ".json", ".csv", ".mp4", ".gif", ".html", ".txt"})
    if (ends_with(path, other))
      throw InputError(path + ": info reads .npz archives, .npy arrays and PyTorch checkpoints (.bin, .pth, .pt), "
                              "not " + other + " files");
  // Anything else is taken for a torch.save checkpoint.
  model::Checkpoint ck;
  try {
    ck = model::read_checkpoint(path);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) +
                     " (info reads .npz archives, .npy arrays and PyTorch checkpoints: .bin, .pth, .pt)");
  }
  const int heads = model::resolve_heads(ck, o.model.heads);
  auto config = model::infer_config(ck.model_state, heads, path);
  fmt::print("{}: PyTorch checkpoint\n", path);
  if (ck.epoch) fmt::print("  epoch: {}\n", *ck.epoch);
  if (ck.lr) fmt::print("  lr: {}\n", *ck.lr);
  fmt::print("  optimizer state: {}\n", ck.optimizer ? "yes" : "no");
  fmt::print("  model: PoseFormer, {}{}\n", config.describe(),
             model::stored_heads(ck)      ? " (heads as stored in the file)"
             : o.model.heads > 0          ? " (heads from --heads)"
                                          : " (heads not in the file: PoseFormer's default; --heads sets them)");
  std::int64_t params = 0;
  for (const auto& kv : ck.model_state) params += kv.second.numel();
  fmt::print("  parameters: {} in {} tensors\n", params, ck.model_state.size());
  return 0;
}


int run_info(const InfoFlags& o) {
  if (!o.file.empty()) return info_file(o);
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  for (const auto& line : data::summarize(dataset, &keypoints)) fmt::print("{}\n", line);
  return 0;
}


}  // namespace

Command add_info_command(CLI::App& app) {
  auto o = std::make_shared<InfoFlags>();
  auto* info = app.add_subcommand("info", "Summarise a dataset (-d/-k) or inspect a .npz/.npy/checkpoint file");
  add_data_options(*info, o->data);
  info->add_option("file", o->file, "file to inspect instead of a dataset");
  info->add_option("--heads", o->model.heads, heads_help())->capture_default_str();

  return {info, [o, info] {
            forget_untyped_model_flags(*info, o->model);
            return run_info(*o);
          }};
}

}  // namespace poselift::cli
