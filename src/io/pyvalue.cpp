#include "io/pyvalue.hpp"

#include <charconv>
#include <cmath>

namespace poselift::io {

namespace {

ValuePtr make(Value::Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

std::string describe_kind(const Value& v) {
  if (v.kind == Value::Kind::Object && v.object) return "object " + v.object->module + "." + v.object->name;
  if (v.kind == Value::Kind::Array && v.array) return "array " + dtype_name(v.array->dtype) + " " + v.array->shape_string();
  return Value::kind_name(v.kind);
}

[[noreturn]] void wrong_kind(const std::string& what, const char* expected, const Value& found) {
  throw InputError(what + ": expected " + expected + ", found " + describe_kind(found));
}

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);  // shortest round-trip form
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";  // Python spells floats with a dot
  return text;
}

void append_escaped(std::string& out, const std::string& text, bool is_bytes) {
  static const char kHex[] = "0123456789abcdef";
  out += is_bytes ? "b'" : "'";
  for (unsigned char c : text) {
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F || (is_bytes && c >= 0x80)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);  // UTF-8 text passes through
    }
  }
  out += '\'';
}

// Renders into `out`, giving up once `budget` characters are exceeded or nesting gets deep: the
// rendering is for messages, so it never needs to walk a whole large structure.
void render(const Value& v, std::string& out, std::size_t budget, int depth) {
  if (out.size() > budget) return;
  if (depth > 32) {
    out += "...";
    return;
  }
  auto render_sequence = [&](const std::vector<ValuePtr>& items, const char* open, const char* close) {
    out += open;
    for (std::size_t i = 0; i < items.size() && out.size() <= budget; ++i) {
      if (i) out += ", ";
      if (items[i]) render(*items[i], out, budget, depth + 1); else out += "?";
    }
    out += close;
  };
  auto render_entries = [&](const std::vector<std::pair<ValuePtr, ValuePtr>>& entries) {
    for (std::size_t i = 0; i < entries.size() && out.size() <= budget; ++i) {
      if (i) out += ", ";
      if (entries[i].first) render(*entries[i].first, out, budget, depth + 1); else out += "?";
      out += ": ";
      if (entries[i].second) render(*entries[i].second, out, budget, depth + 1); else out += "?";
    }
  };
  switch (v.kind) {
    case Value::Kind::None: out += "None"; break;
    case Value::Kind::Bool: out += v.boolean ? "True" : "False"; break;
    case Value::Kind::Int: out += std::to_string(v.integer); break;
    case Value::Kind::BigInt: out += v.text; break;
    case Value::Kind::Float: out += float_repr(v.real); break;
    case Value::Kind::Str: append_escaped(out, v.text.substr(0, budget + 1), false); break;
    case Value::Kind::Bytes: append_escaped(out, v.text.substr(0, budget + 1), true); break;
    case Value::Kind::List: render_sequence(v.items, "[", "]"); break;
    case Value::Kind::Tuple: render_sequence(v.items, "(", v.items.size() == 1 ? ",)" : ")"); break;
    case Value::Kind::Set:
      if (v.items.empty()) out += "set()"; else render_sequence(v.items, "{", "}");
      break;
    case Value::Kind::Dict:
      out += "{";
      render_entries(v.entries);
      out += "}";
      break;
    case Value::Kind::Array:
      if (v.array) out += "array(" + dtype_name(v.array->dtype) + ", " + v.array->shape_string() + ")";
      else out += "array(?)";
      break;
    case Value::Kind::Global: out += v.module + "." + v.name; break;
    case Value::Kind::Object:
      if (!v.object) {
        out += "object(?)";
        break;
      }
      out += v.object->module.empty() && v.object->name.empty() ? std::string("call")
                                                                : v.object->module + "." + v.object->name;
      render_sequence(v.object->args, "(", ")");
      if (!v.object->dict_items.empty()) {
        out += "{";
        render_entries(v.object->dict_items);
        out += "}";
      }
      if (!v.object->list_items.empty()) render_sequence(v.object->list_items, "[", "]");
      break;
    case Value::Kind::Extension:
      out += "<" + (v.extension ? v.extension->type_name() : std::string("extension")) + ">";
      break;
  }
}

}  // namespace

namespace {

// Drops `v`'s references to its children; those it alone kept alive are moved onto `chain`
// instead of dying here (which would recurse). Moving and resetting shared pointers and
// clearing vectors never allocate, so destruction cannot throw, even out of memory.
void unlink_children(Value& v, ValuePtr& chain) noexcept {
  auto take = [&chain](ValuePtr& child) noexcept {
    if (!child) return;
    if (child.use_count() == 1) {
      child->free_next = std::move(chain);
      chain = std::move(child);
    } else {
      child.reset();  // another owner keeps it alive: nothing is freed
    }
  };
  for (auto& item : v.items) take(item);
  v.items.clear();
  for (auto& [key, value] : v.entries) {
    take(key);
    take(value);
  }
  v.entries.clear();
  if (v.object && v.object.use_count() == 1) {
    Object& o = *v.object;
    for (auto& arg : o.args) take(arg);
    o.args.clear();
    for (auto& item : o.list_items) take(item);
    o.list_items.clear();
    for (auto& [key, value] : o.dict_items) {
      take(key);
      take(value);
    }
    o.dict_items.clear();
    take(o.state);
    take(o.kwargs);
  }
  v.object.reset();
}

}  // namespace

Value::~Value() {
  if (items.empty() && entries.empty() && !object) return;
  ValuePtr chain;
  unlink_children(*this, chain);
  while (chain) {
    ValuePtr node = std::move(chain);
    chain = std::move(node->free_next);
    unlink_children(*node, chain);
  }  // each node dies childless, so its own destructor returns at once
}

ValuePtr Value::none() { return make(Kind::None); }

ValuePtr Value::from_bool(bool v) {
  auto out = make(Kind::Bool);
  out->boolean = v;
  return out;
}

ValuePtr Value::from_int(std::int64_t v) {
  auto out = make(Kind::Int);
  out->integer = v;
  return out;
}

ValuePtr Value::from_float(double v) {
  auto out = make(Kind::Float);
  out->real = v;
  return out;
}

ValuePtr Value::from_str(std::string v) {
  auto out = make(Kind::Str);
  out->text = std::move(v);
  return out;
}

ValuePtr Value::from_bytes(std::string v) {
  auto out = make(Kind::Bytes);
  out->text = std::move(v);
  return out;
}

ValuePtr Value::list(std::vector<ValuePtr> items) {
  auto out = make(Kind::List);
  out->items = std::move(items);
  return out;
}

ValuePtr Value::tuple(std::vector<ValuePtr> items) {
  auto out = make(Kind::Tuple);
  out->items = std::move(items);
  return out;
}

ValuePtr Value::set(std::vector<ValuePtr> items) {
  auto out = make(Kind::Set);
  out->items = std::move(items);
  return out;
}

ValuePtr Value::dict(std::vector<std::pair<ValuePtr, ValuePtr>> entries) {
  auto out = make(Kind::Dict);
  out->entries = std::move(entries);
  return out;
}

ValuePtr Value::from_array(NdArray array) {
  auto out = make(Kind::Array);
  out->array = std::make_shared<NdArray>(std::move(array));
  return out;
}

ValuePtr Value::global(std::string module, std::string name) {
  auto out = make(Kind::Global);
  out->module = std::move(module);
  out->name = std::move(name);
  return out;
}

ValuePtr Value::from_object(std::shared_ptr<io::Object> object) {
  auto out = make(Kind::Object);
  out->object = std::move(object);
  return out;
}

ValuePtr Value::from_extension(std::shared_ptr<const io::Extension> extension) {
  auto out = make(Kind::Extension);
  out->extension = std::move(extension);
  return out;
}

ValuePtr Value::make_object(std::string module, std::string name, std::vector<ValuePtr> args) {
  auto object = std::make_shared<io::Object>();
  object->module = std::move(module);
  object->name = std::move(name);
  object->args = std::move(args);
  return from_object(std::move(object));
}

ValuePtr Value::ordered_dict(std::vector<std::pair<ValuePtr, ValuePtr>> entries) {
  auto out = make_object("collections", "OrderedDict");
  out->object->dict_items = std::move(entries);
  return out;
}

std::int64_t Value::as_int(const std::string& what) const {
  if (kind == Kind::Int) return integer;
  if (kind == Kind::Bool) return boolean ? 1 : 0;
  wrong_kind(what, "int", *this);
}

double Value::as_float(const std::string& what) const {
  if (kind == Kind::Float) return real;
  if (kind == Kind::Int) return static_cast<double>(integer);
  if (kind == Kind::Bool) return boolean ? 1.0 : 0.0;
  wrong_kind(what, "float", *this);
}

const std::string& Value::as_str(const std::string& what) const {
  if (kind != Kind::Str) wrong_kind(what, "str", *this);
  return text;
}

const std::vector<ValuePtr>& Value::as_sequence(const std::string& what) const {
  if (kind != Kind::List && kind != Kind::Tuple) wrong_kind(what, "list or tuple", *this);
  return items;
}

const NdArray& Value::as_array(const std::string& what) const {
  if (kind != Kind::Array || !array) wrong_kind(what, "array", *this);
  return *array;
}

const std::vector<std::pair<ValuePtr, ValuePtr>>& Value::dict_entries(const std::string& what) const {
  if (kind == Kind::Dict) return entries;
  if (kind == Kind::Object && object) return object->dict_items;
  wrong_kind(what, "dict", *this);
}

bool Value::is_object_of(const std::string& module_name, const std::string& class_name) const {
  return kind == Kind::Object && object && object->module == module_name && object->name == class_name;
}

ValuePtr Value::find(const std::string& key, const std::string& what) const {
  for (const auto& [k, v] : dict_entries(what))
    if (k && k->kind == Kind::Str && k->text == key) return v;
  return nullptr;
}

const Value& Value::at(const std::string& key, const std::string& what) const {
  ValuePtr found = find(key, what);
  if (!found) throw InputError(what + ": missing key '" + key + "'");
  return *found;
}

std::vector<std::string> Value::str_keys(const std::string& what) const {
  std::vector<std::string> keys;
  for (const auto& entry : dict_entries(what))
    if (entry.first && entry.first->kind == Kind::Str) keys.push_back(entry.first->text);
  return keys;
}

const char* Value::kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "big int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Set: return "set";
    case Kind::Dict: return "dict";
    case Kind::Array: return "array";
    case Kind::Global: return "global";
    case Kind::Object: return "object";
    case Kind::Extension: return "extension";
  }
  return "unknown";
}

std::string Value::repr(std::size_t max_len) const {
  if (max_len < 4) max_len = 4;
  std::string out;
  render(*this, out, max_len, 0);
  if (out.size() > max_len) {
    std::size_t cut = max_len - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    out.resize(cut);
    out += "...";
  }
  return out;
}

}  // namespace poselift::io
