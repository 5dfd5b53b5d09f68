#include "io/numpy_pickle.hpp"

#include <cstring>
#include <limits>
#include <optional>

#include "io/text.hpp"

namespace poselift::io {

namespace {

// numpy.core.<submodule>.<function> (NumPy 1.x) or numpy._core.<submodule>.<function> (NumPy 2.x).
bool is_numpy_function(const std::string& module, const std::string& name, const char* submodule, const char* function) {
  if (name != function) return false;
  return module == std::string("numpy.core.") + submodule || module == std::string("numpy._core.") + submodule;
}

std::optional<NumpyTypeCode> dtype_of_value(const Value& v) {
  if (!v.is_object_of("numpy", "dtype") || v.object->args.empty() || !v.object->args[0] ||
      v.object->args[0]->kind != Value::Kind::Str)
    return std::nullopt;
  auto code = parse_numpy_type_code(v.object->args[0]->text);
  if (!code) return std::nullopt;
  // BUILD state (version, endian, ...): the byte order lives at index 1.
  const ValuePtr& state = v.object->state;
  if (state && state->kind == Value::Kind::Tuple && state->items.size() >= 2 && state->items[1] &&
      state->items[1]->kind == Value::Kind::Str) {
    const std::string& order = state->items[1]->text;
    if (order == ">" || order == "!") code->big_endian = !code->is_object && dtype_itemsize(code->dtype) > 1;
    else if (order == "<" || order == "=" || order == "|") code->big_endian = false;
  }
  return code;
}

std::optional<std::string> raw_bytes_of(const Value& v) {
  if (v.kind == Value::Kind::Bytes) return v.text;
  if (v.kind == Value::Kind::Str) return utf8_to_latin1(v.text);  // Python 2 str read as latin-1
  return std::nullopt;
}

std::vector<std::int64_t> shape_of(const UnpickleContext& ctx, const Value& v) {
  if (v.kind != Value::Kind::Tuple && v.kind != Value::Kind::List) ctx.fail("array shape must be a tuple");
  std::vector<std::int64_t> shape;
  for (const auto& dim : v.items) {
    if (!dim || (dim->kind != Value::Kind::Int && dim->kind != Value::Kind::Bool) || dim->as_int("shape") < 0)
      ctx.fail("array shape must hold non-negative integers");
    shape.push_back(dim->as_int("shape"));
  }
  return shape;
}

ValuePtr numpy_scalar(UnpickleContext& ctx, const std::vector<ValuePtr>& args) {
  if (args.empty() || !args[0]) return nullptr;
  const auto code = dtype_of_value(*args[0]);
  if (!code) return nullptr;  // an unsupported dtype stays an opaque object
  if (code->is_object) {  // the element itself, which other values may also hold
    if (args.size() < 2 || !args[1]) return Value::none();
    ctx.note_shared(args[1]);
    return args[1];
  }
  if (args.size() < 2 || !args[1]) return nullptr;
  const auto raw = raw_bytes_of(*args[1]);
  if (!raw) ctx.fail("numpy scalar data must be bytes");
  const NdArray element = array_from_raw_bytes(code->dtype, {}, reinterpret_cast<const std::uint8_t*>(raw->data()),
                                               raw->size(), code->big_endian, false, ctx.location() + ": numpy scalar");
  switch (element.dtype) {
    case DType::Bool: return Value::from_bool(element.bytes[0] != 0);
    case DType::Float16: case DType::Float32: case DType::Float64: return Value::from_float(element.to_doubles()[0]);
    case DType::UInt64: {
      std::uint64_t value;
      std::memcpy(&value, element.bytes.data(), sizeof(value));
      if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        auto big = std::make_shared<Value>();
        big->kind = Value::Kind::BigInt;
        big->text = std::to_string(value);
        return big;
      }
      return Value::from_int(static_cast<std::int64_t>(value));
    }
    default: {
      const NdArray wide = element.astype(DType::Int64);
      std::int64_t value;
      std::memcpy(&value, wide.bytes.data(), sizeof(value));
      return Value::from_int(value);
    }
  }
}

ValuePtr numpy_frombuffer(UnpickleContext& ctx, const std::vector<ValuePtr>& args) {
  // _frombuffer(buffer, dtype, shape, order): protocol 5 arrays with an in-band buffer.
  if (args.size() != 4 || !args[0] || !args[1] || !args[2] || !args[3]) return nullptr;
  const auto code = dtype_of_value(*args[1]);
  if (!code || code->is_object) return nullptr;
  const auto raw = raw_bytes_of(*args[0]);
  if (!raw) ctx.fail("numpy _frombuffer data must be a bytes-like buffer");
  std::vector<std::int64_t> shape = shape_of(ctx, *args[2]);
  if (args[3]->kind != Value::Kind::Str) ctx.fail("numpy _frombuffer order must be a str");
  const bool fortran = args[3]->text == "F";
  ctx.charge(raw->size());
  return Value::from_array(array_from_raw_bytes(code->dtype, std::move(shape),
                                                reinterpret_cast<const std::uint8_t*>(raw->data()), raw->size(),
                                                code->big_endian, fortran, ctx.location() + ": numpy array"));
}

bool rebuild_ndarray(UnpickleContext& ctx, Value& instance, const Value& state) {
  // ndarray.__setstate__: (version, shape, dtype, is_fortran, rawdata) or the older 4-tuple.
  if (state.kind != Value::Kind::Tuple || (state.items.size() != 5 && state.items.size() != 4))
    ctx.fail("numpy array state must be a 4- or 5-tuple");
  const std::size_t first = state.items.size() - 4;
  for (const auto& item : state.items)
    if (!item) ctx.fail("numpy array state holds a null value");
  const Value& shape_value = *state.items[first];
  const Value& dtype_value = *state.items[first + 1];
  const Value& fortran_value = *state.items[first + 2];
  const Value& raw_value = *state.items[first + 3];
  const auto code = dtype_of_value(dtype_value);
  if (!code) return false;  // unsupported dtype: keep the opaque object with its state
  std::vector<std::int64_t> shape = shape_of(ctx, shape_value);
  const std::int64_t count = checked_numel(shape, ctx.location() + ": numpy array");
  if (code->is_object) {
    // Object arrays pickle their elements as a list in C order.
    if (raw_value.kind != Value::Kind::List) ctx.fail("object array data must be a list");
    if (static_cast<std::uint64_t>(count) != raw_value.items.size())
      ctx.fail("object array of shape with " + std::to_string(count) + " elements holds " +
           std::to_string(raw_value.items.size()));
    ctx.charge_slots(raw_value.items.size());
    std::vector<ValuePtr> elements = raw_value.items;
    instance.object.reset();
    instance.kind = Value::Kind::List;
    instance.items = std::move(elements);
    return true;
  }
  if (fortran_value.kind != Value::Kind::Bool && fortran_value.kind != Value::Kind::Int)
    ctx.fail("numpy array is_fortran flag must be a bool");
  const bool fortran = fortran_value.kind == Value::Kind::Bool ? fortran_value.boolean : fortran_value.integer != 0;
  const auto raw = raw_bytes_of(raw_value);
  if (!raw) ctx.fail("numpy array data must be bytes");
  ctx.charge(raw->size());
  auto array = std::make_shared<NdArray>(
      array_from_raw_bytes(code->dtype, std::move(shape), reinterpret_cast<const std::uint8_t*>(raw->data()),
                           raw->size(), code->big_endian, fortran, ctx.location() + ": numpy array"));
  instance.object.reset();
  instance.kind = Value::Kind::Array;
  instance.array = std::move(array);
  return true;
}

// numpy.core.multiarray._reconstruct(numpy.ndarray or numpy.matrix, ...), waiting for its BUILD.
bool is_pending_ndarray(const Value& instance) {
  const Object& o = *instance.object;
  return is_numpy_function(o.module, o.name, "multiarray", "_reconstruct") && !o.args.empty() && o.args[0] &&
         o.args[0]->kind == Value::Kind::Global && o.args[0]->module == "numpy" &&
         (o.args[0]->name == "ndarray" || o.args[0]->name == "matrix");
}

}  // namespace

UnpickleExtension numpy_unpickle_extension() {
  UnpickleExtension extension;
  extension.reduce = [](UnpickleContext& ctx, const std::string& module, const std::string& name,
                        const std::vector<ValuePtr>& args) -> ValuePtr {
    if (is_numpy_function(module, name, "multiarray", "scalar")) return numpy_scalar(ctx, args);
    if (is_numpy_function(module, name, "numeric", "_frombuffer")) return numpy_frombuffer(ctx, args);
    return nullptr;
  };
  extension.build = [](UnpickleContext& ctx, Value& instance, const Value& state) {
    return is_pending_ndarray(instance) && rebuild_ndarray(ctx, instance, state);
  };
  return extension;
}

UnpickleHooks with_numpy(UnpickleHooks hooks) {
  hooks.extensions.push_back(numpy_unpickle_extension());
  return hooks;
}

}  // namespace poselift::io
