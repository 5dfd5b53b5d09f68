#include "io/torch_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "io/error.hpp"
#include "io/input_limits.hpp"
#include "io/numpy_pickle.hpp"
#include "io/zip_archive.hpp"

namespace poselift::io {

namespace {

// Storage reference made by persistent_load, consumed by the tensor rebuild.
struct StorageRef : Extension {
  DType dtype = DType::Float32;
  std::string key;
  std::int64_t numel = 0;
  std::string type_name() const override { return "torch.Storage"; }
};

bool storage_dtype(const std::string& name, DType& out) {
  static const std::pair<const char*, DType> table[] = {
      {"FloatStorage", DType::Float32}, {"DoubleStorage", DType::Float64}, {"HalfStorage", DType::Float16},
      {"LongStorage", DType::Int64},    {"IntStorage", DType::Int32},      {"ShortStorage", DType::Int16},
      {"CharStorage", DType::Int8},     {"ByteStorage", DType::UInt8},     {"BoolStorage", DType::Bool},
      {"UntypedStorage", DType::UInt8},
  };
  for (const auto& [n, d] : table)
    if (name == n) {
      out = d;
      return true;
    }
  return false;
}

const char* storage_class(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "FloatStorage";
    case DType::Float64: return "DoubleStorage";
    case DType::Float16: return "HalfStorage";
    case DType::Int64: return "LongStorage";
    case DType::Int32: return "IntStorage";
    case DType::Int16: return "ShortStorage";
    case DType::Int8: return "CharStorage";
    case DType::UInt8: return "ByteStorage";
    case DType::Bool: return "BoolStorage";
    default: throw InputError("torch.save writer: no PyTorch storage type for dtype " + dtype_name(dtype));
  }
}

std::vector<std::int64_t> int_tuple(const Value& v, const std::string& what) {
  std::vector<std::int64_t> out;
  for (const auto& item : v.as_sequence(what)) out.push_back(item->as_int(what));
  return out;
}

}  // namespace

const TensorRef* as_tensor_ref(const Value& value) {
  if (value.kind != Value::Kind::Extension) return nullptr;
  return dynamic_cast<const TensorRef*>(value.extension.get());
}

NdArray TorchFile::materialize(const TensorRef& ref, const std::string& what) const {
  auto it = storages.find(ref.storage_key);
  if (it == storages.end())
    throw InputError(fmt::format("{}: {}: storage '{}' is missing", source, what, ref.storage_key));
  const auto& bytes = it->second;
  const std::size_t item = dtype_itemsize(ref.dtype);
  const std::int64_t storage_numel = static_cast<std::int64_t>(bytes.size() / item);
  if (ref.sizes.size() != ref.strides.size())
    throw InputError(fmt::format("{}: {}: tensor size and stride have different lengths", source, what));
  auto view_error = [&]() {
    return InputError(fmt::format("{}: {}: view (offset {}, sizes {}, strides {}) reaches past storage '{}' of {} "
                                  "elements",
                                  source, what, ref.storage_offset, fmt::join(ref.sizes, "x"),
                                  fmt::join(ref.strides, ","), ref.storage_key, storage_numel));
  };
  NdArray out;
  out.dtype = ref.dtype;
  out.shape = ref.sizes;
  bool empty = false;
  for (std::size_t d = 0; d < ref.sizes.size(); ++d) {
    if (ref.sizes[d] < 0 || ref.strides[d] < 0)
      throw InputError(fmt::format("{}: {}: negative size or stride", source, what));
    if (ref.sizes[d] == 0) empty = true;
  }
  if (ref.storage_offset < 0) throw view_error();
  // Every product and sum below comes from the file: checked, so none can wrap around and let a
  // view that reaches far outside the storage pass.
  std::int64_t numel = empty ? 0 : 1, max_index = ref.storage_offset;
  if (!empty) {
    for (std::size_t d = 0; d < ref.sizes.size(); ++d) {
      std::int64_t span;
      if (__builtin_mul_overflow(numel, ref.sizes[d], &numel) || numel > storage_numel)
        throw InputError(fmt::format("{}: {}: shape {} needs more elements than storage '{}' holds ({})", source,
                                     what, fmt::join(ref.sizes, "x"), ref.storage_key, storage_numel));
      if (__builtin_mul_overflow(ref.sizes[d] - 1, ref.strides[d], &span) ||
          __builtin_add_overflow(max_index, span, &max_index))
        throw view_error();
    }
    if (max_index >= storage_numel) throw view_error();
  }
  out.bytes.resize(static_cast<std::size_t>(numel) * item);
  if (numel == 0) return out;
  // Walk the strided view in C order.
  const std::size_t rank = ref.sizes.size();
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t n = 0; n < numel; ++n) {
    std::int64_t src = ref.storage_offset;
    for (std::size_t d = 0; d < rank; ++d) src += index[d] * ref.strides[d];
    std::memcpy(out.bytes.data() + n * item, bytes.data() + src * item, item);
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < ref.sizes[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

namespace {

// The archive's pickle: "data.pkl" at the top or one folder down ("archive/data.pkl").
std::string find_pickle_record(const ZipReader& zip, const std::string& source) {
  const std::string suffix = "data.pkl";
  for (const auto& name : zip.names()) {
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        (name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '/'))
      return name;
  }
  throw InputError(source + ": zip holds no data.pkl: not a torch.save file");
}

// persistent_load: ('storage', type, key, location, numel) names a record of the archive,
// read (checked against the size it must have) the first time a key is seen.
ValuePtr load_storage(const ZipReader& zip, const std::string& prefix, const ValuePtr& pid, TorchFile& file) {
  const std::string& source = file.source;
  const std::string what = source + ": data.pkl: persistent id";
  const auto& parts = pid->as_sequence(what);
  if (parts.size() < 5 || parts[0]->kind != Value::Kind::Str || parts[0]->text != "storage" ||
      parts[1]->kind != Value::Kind::Global)
    throw InputError(source + ": data.pkl: persistent id is not a ('storage', type, key, location, numel) tuple");
  auto ref = std::make_shared<StorageRef>();
  if (!storage_dtype(parts[1]->name, ref->dtype))
    throw InputError(source + ": data.pkl: unsupported storage type " + parts[1]->module + "." + parts[1]->name);
  ref->key = parts[2]->as_str(what + ": storage key");
  ref->numel = parts[4]->as_int(what + ": storage size");
  if (!file.storages.count(ref->key)) {
    const std::string record = prefix + "data/" + ref->key;
    if (!zip.contains(record)) throw InputError(source + ": storage record '" + record + "' is missing");
    if (ref->numel < 0)
      throw InputError(fmt::format("{}: storage record '{}': negative element count {}", source, record, ref->numel));
    std::uint64_t expected;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(ref->numel), dtype_itemsize(ref->dtype), &expected))
      throw InputError(fmt::format("{}: storage record '{}': {} elements of {} bytes overflow", source, record,
                                   ref->numel, dtype_itemsize(ref->dtype)));
    if (zip.size_of(record) < expected)
      throw InputError(fmt::format("{}: storage record '{}' holds {} bytes, {} expected", source, record,
                                   zip.size_of(record), expected));
    file.storages[ref->key] = zip.read(record, saturating_add(expected, 64));
  }
  return Value::from_extension(ref);
}

// torch._utils._rebuild_tensor(_v2)(storage, offset, size, stride[, requires_grad, ...]).
// `where` names the pickle in messages ("model.bin: data.pkl").
ValuePtr rebuild_tensor(const std::string& where, const std::string& name, const std::vector<ValuePtr>& args) {
  if (args.size() < 4) throw InputError(where + ": " + name + " with too few arguments");
  const auto* storage =
      args[0]->kind == Value::Kind::Extension ? dynamic_cast<const StorageRef*>(args[0]->extension.get()) : nullptr;
  if (!storage) throw InputError(where + ": " + name + " argument 0 is not a storage");
  auto ref = std::make_shared<TensorRef>();
  ref->dtype = storage->dtype;
  ref->storage_key = storage->key;
  const std::string what = where + ": " + name;
  ref->storage_offset = args[1]->as_int(what + ": storage offset");
  ref->sizes = int_tuple(*args[2], what + ": size");
  ref->strides = int_tuple(*args[3], what + ": stride");
  if (ref->sizes.size() != ref->strides.size())
    throw InputError(where + ": tensor size and stride have different lengths");
  if (args.size() > 4 && args[4]->kind == Value::Kind::Bool) ref->requires_grad = args[4]->boolean;
  return Value::from_extension(ref);
}

// The reduce hook: tensors and parameters; anything else goes to the default rebuilds.
ValuePtr rebuild_torch(const std::string& where, const std::string& module, const std::string& name,
                       const std::vector<ValuePtr>& args) {
  if (module != "torch._utils") return nullptr;
  if (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor") return rebuild_tensor(where, name, args);
  if (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state") {
    if (args.empty() || !as_tensor_ref(*args[0])) throw InputError(where + ": " + name + " argument 0 is not a tensor");
    return args[0];
  }
  return nullptr;
}

// ---- the legacy format (torch.save before 1.6, or _use_new_zipfile_serialization=False) ----
//
// One stream of pickles and raw bytes, as torch/serialization.py's _legacy_save writes it:
//   pickle: the magic number 0x1950a86a20f9469cfc6c
//   pickle: the protocol version, 1001
//   pickle: sys_info {'protocol_version', 'little_endian', 'type_sizes'}
//   pickle: the object, its storages as persistent ids
//           ('storage', torch.<Type>Storage, key, location, numel, view_metadata)
//   pickle: the list of storage keys
//   per key, in that order: int64 little-endian element count, then count x element size bytes.
// Storage bytes are little-endian whatever sys_info says: PyTorch's storage writer converts
// them on big-endian machines (and _legacy_load reads no field of sys_info).

constexpr const char* kLegacyMagicNumber = "119547037146038801333356";  // 0x1950a86a20f9469cfc6c
constexpr std::int64_t kLegacyProtocolVersion = 1001;

bool is_zip(const std::uint8_t* data, std::size_t size) { return size >= 4 && data[0] == 'P' && data[1] == 'K'; }

// A pickle's first opcode: PROTO (protocol 2+, torch.save's default) or, for protocols 0 and 1,
// the LONG text opcode that the 80-bit magic number needs.
bool starts_like_pickle(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && (data[0] == 0x80 || data[0] == 'L');
}

// The tar container of the earliest PyTorch releases ("ustar" in the first header).
bool is_tar(const std::uint8_t* data, std::size_t size) {
  return size >= 262 && std::memcmp(data + 257, "ustar", 5) == 0;
}

const std::string* text_field(const Value& v) {
  // Python 2 pickles may give byte strings where Python 3 writes str (torch's _maybe_decode_ascii).
  return v.kind == Value::Kind::Str || v.kind == Value::Kind::Bytes ? &v.text : nullptr;
}

struct DeclaredStorage {
  DType dtype;
  std::int64_t numel;
};

class LegacyReader {
 public:
  LegacyReader(const std::uint8_t* data, std::size_t size, const std::string& source)
      : data_(data), size_(size), where_(source + ": legacy torch.save") {
    file_.source = source;
    // One budget for the five pickles, following the size of the whole file.
    limits_.max_total_bytes = unpickle_budget(size);
    limits_.used = &budget_used_;
  }

  TorchFile read() {
    const ValuePtr magic = next_pickle("magic number", {});
    if (magic->kind != Value::Kind::BigInt || magic->text != kLegacyMagicNumber)
      fail("the first pickle is " + magic->repr(40) + ", not the magic number 0x1950a86a20f9469cfc6c");
    const ValuePtr version = next_pickle("protocol version", {});
    if (version->kind != Value::Kind::Int || version->integer != kLegacyProtocolVersion)
      fail(fmt::format("protocol version {} (only {} exists)", version->repr(40), kLegacyProtocolVersion));
    const ValuePtr sys_info = next_pickle("sys_info", {});
    if (sys_info->kind != Value::Kind::Dict) fail("sys_info is " + sys_info->repr(40) + ", not a dict");

    UnpickleHooks hooks = with_numpy();
    hooks.persistent_load = [this](const ValuePtr& pid) { return load_storage(pid); };
    hooks.reduce = [this](const std::string& module, const std::string& name, const std::vector<ValuePtr>& args) {
      return rebuild_torch(where_, module, name, args);
    };
    file_.root = next_pickle("object", hooks);

    const ValuePtr keys = next_pickle("storage keys", {});
    if (keys->kind != Value::Kind::List) fail("the storage key list is " + keys->repr(40) + ", not a list");
    for (const ValuePtr& key : keys->items) read_storage(*key);
    for (const auto& [key, declared] : declared_)
      if (!file_.storages.count(key))
        fail(fmt::format("storage '{}' is referenced by a tensor but the key list ({} keys) has no data for it",
                         key, keys->items.size()));
    // Bytes after the last storage are not read, as torch.load does not read them.
    return std::move(file_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw InputError(where_ + ": " + message); }

  ValuePtr next_pickle(const std::string& part, const UnpickleHooks& hooks) {
    if (pos_ >= size_) fail(fmt::format("the file ends at byte {} where the {} pickle should start", pos_, part));
    PickleAt pickle = unpickle_at(data_, size_, pos_, where_ + " " + part, hooks, limits_);
    pos_ = pickle.end;
    return std::move(pickle.value);
  }

  // persistent_load: storages are only declared here; their bytes follow the key list.
  ValuePtr load_storage(const ValuePtr& pid) {
    const std::string* type_name = pid->kind == Value::Kind::Tuple && !pid->items.empty() ? text_field(*pid->items[0])
                                                                                          : nullptr;
    // ('module', class, source file, source): a whole nn.Module was pickled; the class stands
    // for itself (torch.load only compares the saved source with the current one).
    if (type_name && *type_name == "module" && pid->items.size() == 4) return pid->items[1];
    const auto& parts = pid->items;
    if (!type_name || *type_name != "storage" || parts.size() != 6 || parts[1]->kind != Value::Kind::Global)
      fail("persistent id " + pid->repr(80) +
           " is not a ('storage', type, key, location, numel, view_metadata) tuple");
    auto ref = std::make_shared<StorageRef>();
    if (!storage_dtype(parts[1]->name, ref->dtype))
      fail("unsupported storage type " + parts[1]->module + "." + parts[1]->name);
    const std::string* key = text_field(*parts[2]);
    if (!key) fail("storage key " + parts[2]->repr(40) + " is not a string");
    ref->key = *key;
    ref->numel = parts[4]->as_int(where_ + ": storage '" + ref->key + "': element count");
    if (ref->numel < 0) fail(fmt::format("storage '{}': negative element count {}", ref->key, ref->numel));
    std::uint64_t bytes;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(ref->numel), dtype_itemsize(ref->dtype), &bytes))
      fail(fmt::format("storage '{}': {} elements of {} bytes overflow", ref->key, ref->numel,
                       dtype_itemsize(ref->dtype)));
    if (!parts[5]->is_none())
      fail(fmt::format("storage '{}' is a view into another storage (view_metadata {}), written by PyTorch "
                       "before 0.4: not supported; load and save it again with a newer PyTorch",
                       ref->key, parts[5]->repr(40)));
    auto [known, inserted] = declared_.try_emplace(ref->key, DeclaredStorage{ref->dtype, ref->numel});
    if (!inserted && (known->second.dtype != ref->dtype || known->second.numel != ref->numel))
      fail(fmt::format("storage '{}' is declared as {} elements of {} and as {} elements of {}", ref->key,
                       known->second.numel, dtype_name(known->second.dtype), ref->numel, dtype_name(ref->dtype)));
    return Value::from_extension(ref);
  }

  // One storage after the key list: an int64 element count, then its bytes.
  void read_storage(const Value& key_value) {
    const std::string* key = text_field(key_value);
    if (!key) fail("storage key list holds " + key_value.repr(40) + ", not a string");
    auto declared = declared_.find(*key);
    if (declared == declared_.end()) fail("storage key list names '" + *key + "', which no tensor references");
    if (file_.storages.count(*key)) fail("storage key list names '" + *key + "' twice");
    if (size_ - pos_ < 8)
      fail(fmt::format("storage '{}': the file ends at byte {} before its element count", *key, size_));
    std::uint64_t raw_count = 0;
    for (int i = 0; i < 8; ++i) raw_count |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += 8;
    const std::size_t item = dtype_itemsize(declared->second.dtype);
    const std::size_t remaining = size_ - pos_;
    std::uint64_t bytes;
    if (raw_count > static_cast<std::uint64_t>(INT64_MAX) || __builtin_mul_overflow(raw_count, item, &bytes))
      fail(fmt::format("storage '{}' declares {} elements of {} bytes: the byte count overflows", *key, raw_count,
                       item));
    if (bytes > remaining)
      fail(fmt::format("storage '{}' declares {} elements ({} bytes) but {} bytes remain", *key, raw_count, bytes,
                       remaining));
    if (static_cast<std::int64_t>(raw_count) != declared->second.numel)
      fail(fmt::format("storage '{}' holds {} elements but its tensors declare {}", *key, raw_count,
                       declared->second.numel));
    file_.storages.emplace(*key, std::vector<std::uint8_t>(data_ + pos_, data_ + pos_ + bytes));
    pos_ += static_cast<std::size_t>(bytes);
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::string where_;
  TorchFile file_;
  UnpickleLimits limits_;
  std::uint64_t budget_used_ = 0;
  std::map<std::string, DeclaredStorage> declared_;
};

TorchFile parse_zip_torch_file(const std::uint8_t* data, std::size_t size, const std::string& source) {
  ZipReader zip = ZipReader::open_memory(data, size, source);
  const std::string pickle_name = find_pickle_record(zip, source);
  const std::string prefix = pickle_name.substr(0, pickle_name.size() - 8);
  if (zip.contains(prefix + "byteorder")) {
    auto order = zip.read(prefix + "byteorder", 16);
    if (std::string(order.begin(), order.end()) != "little")
      throw InputError(source + ": byteorder: only little-endian checkpoints are supported");
  }

  TorchFile file;
  file.source = source;
  UnpickleHooks hooks = with_numpy();
  hooks.persistent_load = [&](const ValuePtr& pid) { return load_storage(zip, prefix, pid, file); };
  hooks.reduce = [&](const std::string& module, const std::string& name, const std::vector<ValuePtr>& args) {
    return rebuild_torch(source + ": data.pkl", module, name, args);
  };
  auto pickle_bytes = zip.read(pickle_name);
  UnpickleLimits limits;
  // data.pkl may be deflated: its budget follows the file's size, not only its own.
  limits.max_total_bytes = unpickle_budget(pickle_bytes.size(), size);
  file.root = unpickle(pickle_bytes.data(), pickle_bytes.size(), source + ":" + pickle_name, hooks, limits);
  return file;
}

}  // namespace

TorchFile parse_torch_file(const std::uint8_t* data, std::size_t size, const std::string& source) {
  if (!data) size = 0;
  if (is_zip(data, size)) return parse_zip_torch_file(data, size, source);
  if (starts_like_pickle(data, size)) return LegacyReader(data, size, source).read();
  if (is_tar(data, size))
    throw InputError(source + ": the tar-based torch.save format of the earliest PyTorch releases is not "
                              "supported; load and save it again with a newer PyTorch");
  throw InputError(source + ": not a PyTorch checkpoint (expected a torch.save file: a zip archive starting "
                            "with 'PK', or the legacy format starting with a pickled magic number)");
}

ValuePtr resolve_tensor_refs(const TorchFile& file, const ValuePtr& root, std::uint64_t max_bytes) {
  if (!max_bytes) {
    std::uint64_t stored = 0;
    for (const auto& [key, bytes] : file.storages) stored = saturating_add(stored, bytes.size());
    max_bytes = saturating_add(saturating_mul(stored, 2), std::uint64_t{64} << 20);
  }
  struct Resolver {
    const TorchFile& file;
    std::uint64_t max_bytes;
    std::uint64_t materialized = 0;
    std::unordered_map<const Value*, ValuePtr> done;  // each distinct value resolved once

    ValuePtr resolve(const ValuePtr& v, const std::string& what, int depth) {
      if (!v) return v;
      // Deeper than the unpickler lets values nest: not a value read from a file.
      if (depth > 1024) throw InputError(file.source + ": checkpoint values nest too deeply");
      auto known = done.find(v.get());
      if (known != done.end()) return known->second;
      ValuePtr out = v;
      switch (v->kind) {
        case Value::Kind::Extension:
          if (const auto* ref = as_tensor_ref(*v)) {
            NdArray values = file.materialize(*ref, what);
            if (values.bytes.size() > max_bytes - std::min(materialized, max_bytes))
              throw InputError(fmt::format("{}: {}: tensors sharing storages add up to more than {} bytes", file.source,
                                           what, max_bytes));
            materialized += values.bytes.size();
            out = Value::from_array(std::move(values));
          }
          break;
        case Value::Kind::List:
        case Value::Kind::Tuple: {
          auto copy = std::make_shared<Value>(*v);
          for (auto& item : copy->items) item = resolve(item, what, depth + 1);
          out = std::move(copy);
          break;
        }
        case Value::Kind::Dict: {
          auto copy = std::make_shared<Value>(*v);
          for (auto& [key, value] : copy->entries)
            value = resolve(value, key && key->kind == Value::Kind::Str ? key->text : what, depth + 1);
          out = std::move(copy);
          break;
        }
        case Value::Kind::Object: {
          if (!v->object || v->object->dict_items.empty()) break;  // opaque objects (RandomState) stay as they are
          auto object = std::make_shared<Object>(*v->object);
          for (auto& [key, value] : object->dict_items)
            value = resolve(value, key && key->kind == Value::Kind::Str ? key->text : what, depth + 1);
          out = Value::from_object(std::move(object));
          break;
        }
        default: break;
      }
      done.emplace(v.get(), out);
      return out;
    }
  };
  Resolver resolver{file, max_bytes, 0, {}};
  return resolver.resolve(root, "checkpoint", 0);
}

TorchFile read_torch_file(const std::string& path) {
  auto bytes = read_file(path);
  return parse_torch_file(bytes.data(), bytes.size(), path);
}

ValuePtr make_tensor_value(NdArray values) {
  auto data = std::make_shared<TensorData>();
  data->values = std::move(values);
  return Value::from_extension(data);
}

ValuePtr make_ordered_dict(std::vector<std::pair<ValuePtr, ValuePtr>> entries) {
  auto object = std::make_shared<Object>();
  object->module = "collections";
  object->name = "OrderedDict";
  object->dict_items = std::move(entries);
  return Value::from_object(object);
}

namespace {

struct StorageToWrite : Extension {
  DType dtype;
  std::string key;
  std::int64_t numel;
  std::string type_name() const override { return "torch.Storage"; }
};

class TorchWriter {
 public:
  // Rebuilds the tree with every TensorData turned into torch's tensor-rebuild call.
  ValuePtr lower(const ValuePtr& v, int depth) {
    if (depth > 200) throw InputError("torch.save writer: value nested too deeply");
    switch (v->kind) {
      case Value::Kind::Extension: {
        const auto* tensor = dynamic_cast<const TensorData*>(v->extension.get());
        if (!tensor) throw InputError("torch.save writer: cannot write " + v->extension->type_name());
        return lower_tensor(tensor->values);
      }
      case Value::Kind::List:
      case Value::Kind::Tuple:
      case Value::Kind::Set: {
        auto copy = std::make_shared<Value>(*v);
        for (auto& item : copy->items) item = lower(item, depth + 1);
        return copy;
      }
      case Value::Kind::Dict: {
        auto copy = std::make_shared<Value>(*v);
        for (auto& [key, value] : copy->entries) value = lower(value, depth + 1);
        return copy;
      }
      case Value::Kind::Object: {
        auto object = std::make_shared<Object>(*v->object);
        for (auto& arg : object->args) arg = lower(arg, depth + 1);
        for (auto& item : object->list_items) item = lower(item, depth + 1);
        for (auto& [key, value] : object->dict_items) value = lower(value, depth + 1);
        if (object->state) object->state = lower(object->state, depth + 1);
        return Value::from_object(object);
      }
      default: return v;
    }
  }

  std::vector<std::pair<std::string, const NdArray*>> storages;

 private:
  ValuePtr lower_tensor(const NdArray& values) {
    auto storage = std::make_shared<StorageToWrite>();
    storage->dtype = values.dtype;
    storage->key = std::to_string(storages.size());
    storage->numel = values.numel();
    storages.emplace_back(storage->key, &values);

    std::vector<ValuePtr> size, stride;
    std::int64_t step = 1;
    for (std::size_t d = values.shape.size(); d-- > 0;) {
      stride.insert(stride.begin(), Value::from_int(step));
      step *= values.shape[d];
    }
    for (auto s : values.shape) size.push_back(Value::from_int(s));

    auto call = std::make_shared<Object>();
    call->module = "torch._utils";
    call->name = "_rebuild_tensor_v2";
    call->args = {Value::from_extension(storage), Value::from_int(0), Value::tuple(size), Value::tuple(stride),
                  Value::from_bool(false), make_ordered_dict({})};
    return Value::from_object(call);
  }
};

}  // namespace

void write_torch_file(const std::string& path, const Value& root) {
  TorchWriter writer;
  auto lowered = writer.lower(std::make_shared<Value>(root), 0);
  Pickler pickler;
  pickler.persistent_id = [](const Value& v) -> ValuePtr {
    if (v.kind != Value::Kind::Extension) return nullptr;
    const auto* storage = dynamic_cast<const StorageToWrite*>(v.extension.get());
    if (!storage) return nullptr;
    return Value::tuple({Value::from_str("storage"), Value::global("torch", storage_class(storage->dtype)),
                         Value::from_str(storage->key), Value::from_str("cpu"), Value::from_int(storage->numel)});
  };
  const std::string pickled = pickler.dump(*lowered);

  ZipWriter zip(path);
  const std::string folder = "archive/";
  zip.add(folder + "data.pkl", pickled, false);
  for (const auto& [key, values] : writer.storages) zip.add(folder + "data/" + key, values->bytes, false);
  zip.add(folder + "version", std::string("3\n"), false);
  zip.add(folder + "byteorder", std::string("little"), false);
  zip.commit();
}

}  // namespace poselift::io
