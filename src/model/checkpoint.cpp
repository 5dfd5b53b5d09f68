#include "model/checkpoint.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "assets/builtin_lifter.hpp"
#include "io/error.hpp"
#include "report/report.hpp"

namespace poselift::model {

namespace {

torch::ScalarType scalar_type(io::DType dtype) {
  switch (dtype) {
    case io::DType::Float32: return torch::kFloat32;
    case io::DType::Float64: return torch::kFloat64;
    case io::DType::Float16: return torch::kFloat16;
    case io::DType::Int64: return torch::kInt64;
    case io::DType::Int32: return torch::kInt32;
    case io::DType::Int16: return torch::kInt16;
    case io::DType::Int8: return torch::kInt8;
    case io::DType::UInt8: return torch::kUInt8;
    case io::DType::Bool: return torch::kBool;
    default: throw InputError("no LibTorch type for dtype " + io::dtype_name(dtype));
  }
}

io::DType io_dtype(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return io::DType::Float32;
    case torch::kFloat64: return io::DType::Float64;
    case torch::kFloat16: return io::DType::Float16;
    case torch::kInt64: return io::DType::Int64;
    case torch::kInt32: return io::DType::Int32;
    case torch::kInt16: return io::DType::Int16;
    case torch::kInt8: return io::DType::Int8;
    case torch::kUInt8: return io::DType::UInt8;
    case torch::kBool: return io::DType::Bool;
    default: throw InputError(std::string("cannot save tensors of type ") + c10::toString(type));
  }
}

std::string shape_str(c10::IntArrayRef sizes) { return fmt::format("({})", fmt::join(sizes, ", ")); }

std::string strip_prefix(const std::string& key) {
  const std::string prefix = "module.";
  return key.rfind(prefix, 0) == 0 ? key.substr(prefix.size()) : key;
}

const std::vector<std::pair<io::ValuePtr, io::ValuePtr>>* dict_entries(const io::Value& value) {
  if (value.kind == io::Value::Kind::Dict) return &value.entries;
  if (value.kind == io::Value::Kind::Object) return &value.object->dict_items;  // OrderedDict kept as object
  return nullptr;
}

// Whether the first key of a state dict value carries DataParallel's "module." prefix.
bool has_module_prefix(const io::Value& value) {
  const auto* entries = dict_entries(value);
  return entries && !entries->empty() && entries->front().first->kind == io::Value::Kind::Str &&
         entries->front().first->as_str("key").rfind("module.", 0) == 0;
}

// Tensors of a state dict value, in order.
StateDict state_from_value(const std::string& source, const io::Value& value, const std::string& what) {
  const auto* entries = dict_entries(value);
  if (!entries) throw InputError(fmt::format("{}: {}: expected a state dict, found {}", source, what,
                                             io::Value::kind_name(value.kind)));
  StateDict state;
  for (const auto& [key, tensor] : *entries) {
    const std::string name = key->as_str(source + ": " + what + " key");
    if (tensor->kind != io::Value::Kind::Array)
      throw InputError(fmt::format("{}: {}['{}']: expected a tensor, found {}", source, what, name,
                                   io::Value::kind_name(tensor->kind)));
    state.emplace_back(strip_prefix(name), to_tensor(*tensor->array));
  }
  return state;
}

const torch::Tensor* find_tensor(const StateDict& state, const std::string& name) {
  for (const auto& [key, tensor] : state)
    if (key == name) return &tensor;
  return nullptr;
}

io::ValuePtr tensor_value(const torch::Tensor& t) { return io::make_tensor_value(to_ndarray(t)); }

}  // namespace

torch::Tensor to_tensor(const io::NdArray& array) {
  std::vector<int64_t> sizes(array.shape.begin(), array.shape.end());
  auto out = torch::empty(sizes, torch::TensorOptions().dtype(scalar_type(array.dtype)));
  if (!array.bytes.empty()) std::memcpy(out.data_ptr(), array.bytes.data(), array.bytes.size());
  return out;
}

io::NdArray to_ndarray(const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  io::NdArray out = io::NdArray::zeros(io_dtype(t.scalar_type()), std::vector<std::int64_t>(t.sizes().begin(),
                                                                                             t.sizes().end()));
  if (!out.bytes.empty()) std::memcpy(out.bytes.data(), t.data_ptr(), out.bytes.size());
  return out;
}

Checkpoint read_checkpoint(const io::TorchFile& file) {
  Checkpoint ck;
  ck.source = file.source;
  const io::ValuePtr resolved = io::resolve_tensor_refs(file, file.root);
  const io::Value& root = *resolved;
  bool is_training_dict = false;
  if (root.kind == io::Value::Kind::Dict) {
    for (const char* key : {"model_pos", "model", "state_dict"}) {
      auto v = root.find(key, file.source);
      if (!v || v->is_none()) continue;
      ck.model_state = state_from_value(file.source, *v, key);
      ck.module_prefixed = has_module_prefix(*v);
      is_training_dict = true;
      break;
    }
    if (is_training_dict) {
      if (auto v = root.find("model_traj", file.source); v && !v->is_none())
        ck.trajectory_state = state_from_value(file.source, *v, "model_traj");
      if (auto v = root.find("epoch", file.source); v && !v->is_none()) {
        ck.epoch = v->as_int(file.source + ": epoch");
        if (*ck.epoch < 0 || *ck.epoch > 1'000'000)
          throw InputError(fmt::format("{}: epoch: expected the count of completed epochs (0 or more), found {}",
                                       file.source, *ck.epoch));
      }
      if (auto v = root.find("lr", file.source); v && !v->is_none()) {
        ck.lr = v->as_float(file.source + ": lr");
        if (!std::isfinite(*ck.lr) || *ck.lr < 0)
          throw InputError(fmt::format("{}: lr: expected a finite learning rate >= 0, found {}", file.source, *ck.lr));
      }
      if (auto v = root.find("optimizer", file.source); v && !v->is_none()) ck.optimizer = v;
      if (auto v = root.find("random_state", file.source); v && !v->is_none()) ck.random_state = v;
      if (auto v = root.find("poselift", file.source); v && !v->is_none())
        ck.training = decode_training_state(*v, file.source);
    }
  }
  if (!is_training_dict) {
    // A bare state dict (torch.save(model.state_dict())): every value a tensor.
    const auto* entries = dict_entries(root);
    bool all_tensors = entries && !entries->empty();
    if (entries)
      for (const auto& kv : *entries) all_tensors = all_tensors && kv.second->kind == io::Value::Kind::Array;
    if (!all_tensors)
      throw InputError(file.source + ": expected a checkpoint dict with 'model_pos' (as run_poseformer.py writes) "
                                     "or a bare state dict");
    ck.model_state = state_from_value(file.source, root, "state dict");
    ck.module_prefixed = has_module_prefix(root);
  }
  return ck;
}

Checkpoint read_checkpoint(const std::string& path) {
  if (assets::is_builtin_lifter(path))
    return read_checkpoint(
        io::parse_torch_file(assets::builtin_lifter_data(), assets::builtin_lifter_size(), assets::kBuiltinLifter));
  return read_checkpoint(io::read_torch_file(path));
}

PoseFormerConfig infer_config(const StateDict& state, int num_heads, const std::string& source,
                              const std::string& heads_hint) {
  auto need = [&](const std::string& name, std::size_t rank) -> const torch::Tensor& {
    const torch::Tensor* t = find_tensor(state, name);
    if (!t)
      throw InputError(fmt::format("{}: not a PoseFormer checkpoint: '{}' is missing from the state dict", source,
                                   name));
    if (static_cast<std::size_t>(t->dim()) != rank)
      throw InputError(fmt::format("{}: '{}' has shape {}, a rank-{} tensor expected", source, name,
                                   shape_str(t->sizes()), rank));
    return *t;
  };
  PoseFormerConfig c;
  const auto& spatial_pos = need("Spatial_pos_embed", 3);
  const auto& temporal_pos = need("Temporal_pos_embed", 3);
  const auto& embed = need("Spatial_patch_to_embedding.weight", 2);
  c.num_joints = static_cast<int>(spatial_pos.size(1));
  c.embed_dim_ratio = static_cast<int>(spatial_pos.size(2));
  c.num_frames = static_cast<int>(temporal_pos.size(1));
  c.in_chans = static_cast<int>(embed.size(1));
  const int depth = StateDictShapes(state, source, "PoseFormer").block_count("Spatial_blocks");
  c.depth = depth;
  if (depth > 0) {
    const auto& fc1 = need("Spatial_blocks.0.mlp.fc1.weight", 2);
    c.mlp_ratio = static_cast<double>(fc1.size(0)) / c.embed_dim_ratio;
    c.qkv_bias = find_tensor(state, "Spatial_blocks.0.attn.qkv.bias") != nullptr;
  }
  c.num_heads = num_heads > 0 ? num_heads : kDefaultHeads;
  c.drop_path_rate = 0.0;
  try {
    c.validate();
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what() + heads_hint);
  }
  return c;
}

std::string LoadReport::describe() const {
  std::string out;
  // A few names per kind: a checkpoint of another model would otherwise list every key.
  constexpr std::size_t kShown = 4;
  auto add = [&](const char* label, const std::vector<std::string>& items) {
    if (items.empty()) return;
    const std::size_t shown = std::min(items.size(), kShown);
    out += fmt::format("{}{} ({}): {}{}", out.empty() ? "" : "; ", label, items.size(),
                       fmt::join(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
                       items.size() > shown ? fmt::format(" and {} more", items.size() - shown) : "");
  };
  add("missing keys", missing);
  add("unexpected keys", unexpected);
  add("shape mismatches", mismatched);
  return out;
}

std::string shape_text(const torch::Tensor& t) {
  std::string s = "(";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + (t.dim() == 1 ? ",)" : ")");
}

const torch::Tensor* StateDictShapes::find(const std::string& name) const {
  for (const auto& kv : state_)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

const torch::Tensor& StateDictShapes::need(const std::string& name, std::size_t rank) const {
  const torch::Tensor* t = find(name);
  if (!t)
    throw InputError(
        fmt::format("{}: not a {} checkpoint: '{}' is missing from the state dict", source_, family_, name));
  if (static_cast<std::size_t>(t->dim()) != rank)
    throw InputError(
        fmt::format("{}: '{}' has shape {}, a rank-{} tensor expected", source_, name, shape_text(*t), rank));
  return *t;
}

void StateDictShapes::expect_shape(const std::string& name, const std::vector<std::int64_t>& shape,
                                   const std::string& why) const {
  const torch::Tensor& t = need(name, shape.size());
  if (t.sizes() != c10::IntArrayRef(shape))
    throw InputError(fmt::format("{}: '{}' has shape {}, ({}) expected ({})", source_, name, shape_text(t),
                                 fmt::join(shape, ", "), why));
}

int StateDictShapes::block_count(const std::string& prefix) const {
  constexpr int kMaxDepth = 1000;
  int count = 0;
  for (const auto& kv : state_) {
    const std::string& key = kv.first;
    if (key.compare(0, prefix.size() + 1, prefix + ".") != 0) continue;
    const std::size_t start = prefix.size() + 1, dot = key.find('.', start);
    const std::string index = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos || index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (index.size() > 4 || std::stoi(index) >= kMaxDepth)
      throw InputError(fmt::format("{}: key '{}': expected a block index below {}", source_, key, kMaxDepth));
    count = std::max(count, std::stoi(index) + 1);
  }
  return count;
}

LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state, bool strict,
                           const std::string& source, const std::string& strict_hint) {
  LoadReport report;
  auto params = model.named_parameters(true);
  auto buffers = model.named_buffers(true);
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : params) targets[p.key()] = p.value();
  for (const auto& b : buffers) targets[b.key()] = b.value();

  std::set<std::string> seen;
  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  for (const auto& [key, tensor] : state) {
    auto it = targets.find(key);
    if (it == targets.end()) {
      report.unexpected.push_back(key);
      continue;
    }
    seen.insert(key);
    if (it->second.sizes() != tensor.sizes()) {
      report.mismatched.push_back(fmt::format("{} {} in the file vs {} in the model", key, shape_str(tensor.sizes()),
                                              shape_str(it->second.sizes())));
      continue;
    }
    copies.emplace_back(it->second, &tensor);
  }
  for (const auto& [key, tensor] : targets)
    if (!seen.count(key)) report.missing.push_back(key);
  if (strict && !report.clean())
    throw InputError(source + ": checkpoint does not match the model: " + report.describe() + strict_hint);
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(*value);
  return report;
}

namespace {

// PyTorch's state_dict order: a module's own parameters, then its own buffers, then each child
// in registration order (BatchNorm's running statistics sit beside its weight and bias).
void append_module_state(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& p : module.named_parameters(false)) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : module.named_buffers(false)) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& child : module.named_children()) append_module_state(*child.value(), prefix + child.key() + ".", out);
}

}  // namespace

StateDict module_state(const torch::nn::Module& model, bool with_module_prefix) {
  StateDict out;
  append_module_state(model, with_module_prefix ? "module." : "", out);
  return out;
}

std::optional<int> stored_heads(const Checkpoint& ck) {
  return ck.training ? ck.training->num_heads : std::nullopt;
}

int resolve_heads(const Checkpoint& ck, int requested) {
  if (const auto stored = stored_heads(ck)) return *stored;
  return requested > 0 ? requested : kDefaultHeads;
}

PoseFormer build_poseformer(const Checkpoint& ck, int num_heads, bool strict, const LoadHints& hints) {
  PoseFormer model(infer_config(ck.model_state, resolve_heads(ck, num_heads), ck.source, hints.heads));
  auto report = load_state_dict(*model, ck.model_state, strict, ck.source, hints.strict);
  if (!report.clean()) report::warn(fmt::format("{}: partial load: {}", ck.source, report.describe()));
  return model;
}

PoseFormer load_poseformer(const std::string& path, int num_heads, bool strict, Checkpoint* checkpoint_out) {
  Checkpoint ck = read_checkpoint(path);
  PoseFormer model = build_poseformer(ck, num_heads, strict);
  if (checkpoint_out) *checkpoint_out = std::move(ck);
  return model;
}

// ---------------------------------------------------------------- poselift's own entries

namespace {

io::ValuePtr str(const std::string& s) { return io::Value::from_str(s); }

io::ValuePtr history_value(const std::vector<EpochRecord>& history) {
  std::vector<io::ValuePtr> rows;
  for (const auto& r : history) {
    rows.push_back(io::Value::list({io::Value::from_int(r.epoch), io::Value::from_float(r.minutes),
                                    io::Value::from_float(r.lr), io::Value::from_float(r.loss_train),
                                    io::Value::from_float(r.loss_train_eval), io::Value::from_float(r.loss_valid)}));
    if (r.has_trajectory()) {
      rows.back()->items.push_back(io::Value::from_float(r.loss_traj_train_eval));
      rows.back()->items.push_back(io::Value::from_float(r.loss_traj_valid));
    }
  }
  return io::Value::list(std::move(rows));
}

std::vector<EpochRecord> history_from_value(const io::Value& v, const std::string& what) {
  std::vector<EpochRecord> out;
  for (const auto& row : v.as_sequence(what)) {
    const auto& cells = row->as_sequence(what);
    if (cells.size() != 6 && cells.size() != 8)
      throw InputError(what + ": expected rows of 6 values (8 with a trajectory model)");
    EpochRecord r;
    r.epoch = static_cast<int>(cells[0]->as_int(what));
    r.minutes = cells[1]->as_float(what);
    r.lr = cells[2]->as_float(what);
    r.loss_train = cells[3]->as_float(what);
    r.loss_train_eval = cells[4]->as_float(what);
    r.loss_valid = cells[5]->as_float(what);
    if (cells.size() == 8) {
      r.loss_traj_train_eval = cells[6]->as_float(what);
      r.loss_traj_valid = cells[7]->as_float(what);
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace

io::ValuePtr encode_training_state(const TrainingState& t) {
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entries = {{str("format"),
                                                                 io::Value::from_int(kTrainingStateFormat)}};
  auto add = [&](const char* key, io::ValuePtr value) { entries.emplace_back(str(key), std::move(value)); };
  if (t.num_heads) add("num_heads", io::Value::from_int(*t.num_heads));
  if (t.drop_path_rate) add("drop_path_rate", io::Value::from_float(*t.drop_path_rate));
  if (t.num_frames) add("num_frames", io::Value::from_int(*t.num_frames));
  if (t.causal) add("causal", io::Value::from_bool(*t.causal));
  if (t.dense) add("dense", io::Value::from_bool(*t.dense));
  if (t.layer_norm_eps) add("layer_norm_eps", io::Value::from_float(*t.layer_norm_eps));
  if (t.torch_rng_state.defined()) add("torch_rng_state", io::make_tensor_value(to_ndarray(t.torch_rng_state)));
  if (t.min_loss) add("min_loss", io::Value::from_float(*t.min_loss));
  if (t.history) add("history", history_value(*t.history));
  if (t.batch_index) add("batch_index", io::Value::from_int(*t.batch_index));
  if (t.epoch_chunk_index) add("epoch_chunk_index", io::Value::from_int(*t.epoch_chunk_index));
  if (t.epoch_loss_sum) add("epoch_loss_sum", io::Value::from_float(*t.epoch_loss_sum));
  if (t.epoch_frames) add("epoch_frames", io::Value::from_int(*t.epoch_frames));
  add("epoch_random_state", t.epoch_random_state ? t.epoch_random_state : io::Value::none());
  return io::Value::dict(std::move(entries));
}

TrainingState decode_training_state(const io::Value& value, const std::string& source) {
  const std::string what = source + ": poselift";
  if (value.kind != io::Value::Kind::Dict && value.kind != io::Value::Kind::Object)
    throw InputError(fmt::format("{}: expected a dict, found {}", what, io::Value::kind_name(value.kind)));
  if (auto v = value.find("format", what)) {
    if (v->kind != io::Value::Kind::Int || v->integer != kTrainingStateFormat)
      throw InputError(fmt::format("{}['format'] is {}: this build reads training state of format {} only (a newer "
                                   "poselift wrote this file?)",
                                   what, v->repr(40), kTrainingStateFormat));
  }
  TrainingState t;
  if (auto v = value.find("num_heads", what)) {
    if (v->kind != io::Value::Kind::Int || v->integer < 1 || v->integer > 4096)
      throw InputError(fmt::format("{}: poselift.num_heads: expected a head count from 1 to 4096, found {}", source,
                                   v->repr(40)));
    t.num_heads = static_cast<int>(v->integer);
  }
  if (auto v = value.find("drop_path_rate", what)) t.drop_path_rate = v->as_float("drop_path_rate");
  if (auto v = value.find("num_frames", what)) {
    if (v->kind != io::Value::Kind::Int || v->integer < 1 || v->integer > 100000)
      throw InputError(fmt::format("{}: poselift.num_frames: expected a frame count from 1 to 100000, found {}", source,
                                   v->repr(40)));
    t.num_frames = static_cast<int>(v->integer);
  }
  if (auto v = value.find("layer_norm_eps", what)) {
    const double eps = v->as_float(what + "['layer_norm_eps']");
    if (!(eps > 0 && eps < 1))
      throw InputError(fmt::format("{}: poselift.layer_norm_eps: expected a small positive number, found {}", source, eps));
    t.layer_norm_eps = eps;
  }
  for (const char* key : {"causal", "dense"}) {
    auto v = value.find(key, what);
    if (!v) continue;
    if (v->kind != io::Value::Kind::Bool)
      throw InputError(fmt::format("{}: poselift.{}: expected True or False, found {}", source, key, v->repr(40)));
    (std::string(key) == "causal" ? t.causal : t.dense) = v->boolean;
  }
  if (auto v = value.find("torch_rng_state", what); v && v->kind == io::Value::Kind::Array)
    t.torch_rng_state = to_tensor(*v->array);
  if (auto v = value.find("min_loss", what)) t.min_loss = v->as_float(what + "['min_loss']");
  if (auto v = value.find("history", what)) t.history = history_from_value(*v, what + "['history']");
  if (auto v = value.find("batch_index", what)) t.batch_index = v->as_int(what + "['batch_index']");
  if (auto v = value.find("epoch_chunk_index", what)) t.epoch_chunk_index = v->as_int(what + "['epoch_chunk_index']");
  if (auto v = value.find("epoch_loss_sum", what)) t.epoch_loss_sum = v->as_float(what);
  if (auto v = value.find("epoch_frames", what)) t.epoch_frames = v->as_int(what);
  if (auto v = value.find("epoch_random_state", what); v && !v->is_none()) t.epoch_random_state = v;
  return t;
}

namespace {

// PyTorch's Adam and AdamW keep the same per-parameter state and group options; one codec
// serves both (Options/ParamState: LibTorch's types of the one or the other).
template <class Options, class ParamState>
io::ValuePtr adam_state_value(torch::optim::Optimizer& optimizer, bool decoupled) {
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> state_entries;
  std::vector<io::ValuePtr> groups;
  std::int64_t index = 0;
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const Options&>(group.options());
    std::vector<io::ValuePtr> param_ids;
    for (auto& p : group.params()) {
      auto it = optimizer.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it != optimizer.state().end()) {
        const auto& s = static_cast<const ParamState&>(*it->second);
        std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entry = {
            {io::Value::from_str("step"), tensor_value(torch::tensor(static_cast<float>(s.step())))},
            {io::Value::from_str("exp_avg"), tensor_value(s.exp_avg())},
            {io::Value::from_str("exp_avg_sq"), tensor_value(s.exp_avg_sq())}};
        if (o.amsgrad() && s.max_exp_avg_sq().defined())
          entry.emplace_back(io::Value::from_str("max_exp_avg_sq"), tensor_value(s.max_exp_avg_sq()));
        state_entries.emplace_back(io::Value::from_int(index), io::Value::dict(std::move(entry)));
      }
      param_ids.push_back(io::Value::from_int(index++));
    }
    std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entries = {
        {io::Value::from_str("lr"), io::Value::from_float(o.lr())},
        {io::Value::from_str("betas"), io::Value::tuple({io::Value::from_float(std::get<0>(o.betas())),
                                                         io::Value::from_float(std::get<1>(o.betas()))})},
        {io::Value::from_str("eps"), io::Value::from_float(o.eps())},
        {io::Value::from_str("weight_decay"), io::Value::from_float(o.weight_decay())},
        {io::Value::from_str("amsgrad"), io::Value::from_bool(o.amsgrad())},
        {io::Value::from_str("foreach"), io::Value::none()},
        {io::Value::from_str("maximize"), io::Value::from_bool(false)},
        {io::Value::from_str("capturable"), io::Value::from_bool(false)},
    };
    if (!decoupled) {  // PyTorch 1.13's Adam groups also carry these two
      entries.emplace_back(io::Value::from_str("differentiable"), io::Value::from_bool(false));
      entries.emplace_back(io::Value::from_str("fused"), io::Value::from_bool(false));
    }
    entries.emplace_back(io::Value::from_str("params"), io::Value::list(std::move(param_ids)));
    groups.push_back(io::Value::dict(std::move(entries)));
  }
  return io::Value::dict({{io::Value::from_str("state"), io::Value::dict(std::move(state_entries))},
                          {io::Value::from_str("param_groups"), io::Value::list(std::move(groups))}});
}

template <class Options, class ParamState>
void load_adam_state(torch::optim::Optimizer& optimizer, const io::Value& value, const std::string& source) {
  const std::string what = source + ": optimizer";
  const auto& groups = value.at("param_groups", what).as_sequence(what + "['param_groups']");
  const io::Value& state = value.at("state", what);
  if (groups.size() != optimizer.param_groups().size())
    throw InputError(fmt::format("{}: {} parameter groups, the optimizer has {}", what, groups.size(),
                                 optimizer.param_groups().size()));
  // Index -> per-parameter state dict.
  std::map<std::int64_t, io::ValuePtr> per_param;
  if (state.kind != io::Value::Kind::Dict) throw InputError(what + "['state']: expected a dict");
  for (const auto& [key, entry] : state.entries) per_param[key->as_int(what + "['state'] key")] = entry;

  for (std::size_t g = 0; g < groups.size(); ++g) {
    auto& group = optimizer.param_groups()[g];
    auto& options = static_cast<Options&>(group.options());
    const io::Value& saved = *groups[g];
    const std::string gwhat = fmt::format("{}['param_groups'][{}]", what, g);
    options.lr(saved.at("lr", gwhat).as_float(gwhat + "['lr']"));
    options.weight_decay(saved.at("weight_decay", gwhat).as_float(gwhat + "['weight_decay']"));
    options.eps(saved.at("eps", gwhat).as_float(gwhat + "['eps']"));
    if (auto amsgrad = saved.find("amsgrad", gwhat); amsgrad && amsgrad->kind == io::Value::Kind::Bool)
      options.amsgrad(amsgrad->boolean);
    const auto& betas = saved.at("betas", gwhat).as_sequence(gwhat + "['betas']");
    if (betas.size() != 2) throw InputError(gwhat + "['betas']: expected two values");
    options.betas({betas[0]->as_float("beta1"), betas[1]->as_float("beta2")});
    const auto& ids = saved.at("params", gwhat).as_sequence(gwhat + "['params']");
    if (ids.size() != group.params().size())
      throw InputError(fmt::format("{}: {} parameters, the model has {}", gwhat, ids.size(), group.params().size()));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::int64_t id = ids[i]->as_int(gwhat + "['params']");
      auto it = per_param.find(id);
      if (it == per_param.end()) continue;  // no step taken for this parameter yet
      auto& p = group.params()[i];
      const std::string pwhat = fmt::format("{}['state'][{}]", what, id);
      auto tensor_of = [&](const char* key) {
        const io::Value& v = it->second->at(key, pwhat);
        if (v.kind == io::Value::Kind::Array) return to_tensor(*v.array);
        throw InputError(pwhat + "['" + key + "']: expected a tensor");
      };
      auto s = std::make_unique<ParamState>();
      const io::Value& step = it->second->at("step", pwhat);
      s->step(step.kind == io::Value::Kind::Array ? static_cast<std::int64_t>(tensor_of("step").template item<double>())
                                                  : step.as_int(pwhat + "['step']"));
      s->exp_avg(tensor_of("exp_avg").to(p.options()));
      s->exp_avg_sq(tensor_of("exp_avg_sq").to(p.options()));
      if (s->exp_avg().sizes() != p.sizes() || s->exp_avg_sq().sizes() != p.sizes())
        throw InputError(fmt::format("{}: moment shapes {} do not match parameter shape {}", pwhat,
                                     shape_str(s->exp_avg().sizes()), shape_str(p.sizes())));
      if (options.amsgrad()) {
        // AMSGrad's running maximum (VideoPose3D trains with amsgrad=True).
        s->max_exp_avg_sq(tensor_of("max_exp_avg_sq").to(p.options()));
        if (s->max_exp_avg_sq().sizes() != p.sizes())
          throw InputError(fmt::format("{}: max_exp_avg_sq shape {} does not match parameter shape {}", pwhat,
                                       shape_str(s->max_exp_avg_sq().sizes()), shape_str(p.sizes())));
      }
      optimizer.state()[c10::guts::to_string(p.unsafeGetTensorImpl())] = std::move(s);
    }
  }
}

}  // namespace

io::ValuePtr optimizer_state_value(torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer))
    return adam_state_value<torch::optim::AdamWOptions, torch::optim::AdamWParamState>(optimizer, true);
  if (dynamic_cast<torch::optim::Adam*>(&optimizer))
    return adam_state_value<torch::optim::AdamOptions, torch::optim::AdamParamState>(optimizer, false);
  throw std::logic_error("optimizer_state_value: only Adam and AdamW are written");
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const io::Value& state, const std::string& source) {
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer))
    return load_adam_state<torch::optim::AdamWOptions, torch::optim::AdamWParamState>(optimizer, state, source);
  if (dynamic_cast<torch::optim::Adam*>(&optimizer))
    return load_adam_state<torch::optim::AdamOptions, torch::optim::AdamParamState>(optimizer, state, source);
  throw std::logic_error("load_optimizer_state: only Adam and AdamW are read");
}

void write_checkpoint(const std::string& path, const CheckpointContents& c) {
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> model_entries;
  for (const auto& [key, tensor] : module_state(*c.model)) model_entries.emplace_back(io::Value::from_str(key),
                                                                                      tensor_value(tensor));
  io::Value root = *io::Value::dict({
      {io::Value::from_str("epoch"), io::Value::from_int(c.epoch)},
      {io::Value::from_str("lr"), io::Value::from_float(c.lr)},
      {io::Value::from_str("random_state"), c.random_state ? c.random_state : io::Value::none()},
      {io::Value::from_str("optimizer"), c.optimizer ? optimizer_state_value(*c.optimizer) : io::Value::none()},
      {io::Value::from_str("model_pos"), io::make_ordered_dict(std::move(model_entries))},
  });
  if (c.trajectory) {
    std::vector<std::pair<io::ValuePtr, io::ValuePtr>> trajectory_entries;
    for (const auto& [key, tensor] : module_state(*c.trajectory))
      trajectory_entries.emplace_back(io::Value::from_str(key), tensor_value(tensor));
    root.entries.emplace_back(io::Value::from_str("model_traj"), io::make_ordered_dict(std::move(trajectory_entries)));
  }
  if (c.extra) root.entries.emplace_back(io::Value::from_str("poselift"), c.extra);
  io::write_torch_file(path, root);
}

}  // namespace poselift::model
