// Python values as rebuilt from a pickle: the object model shared by the .npz reader
// (object arrays) and the PyTorch checkpoint reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/ndarray.hpp"

namespace poselift::io {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// Payload a client of the unpickler attaches to a value (e.g. a tensor reference made by the
// checkpoint reader's hooks).
struct Extension {
  virtual ~Extension() = default;
  virtual std::string type_name() const = 0;
};

// An instance of a class the unpickler does not rebuild: kept as data, never a failure.
struct Object {
  std::string module, name;           // class (or callable) that made it
  std::vector<ValuePtr> args;         // REDUCE / NEWOBJ arguments
  ValuePtr state;                     // BUILD state (nullptr when none)
  std::vector<ValuePtr> list_items;   // APPEND(S) on an object
  std::vector<std::pair<ValuePtr, ValuePtr>> dict_items;  // SETITEM(S) on an object
  ValuePtr kwargs;                    // NEWOBJ_EX keyword arguments (a Dict; nullptr when none)
};

struct Value {
  enum class Kind { None, Bool, Int, BigInt, Float, Str, Bytes, List, Tuple, Set, Dict, Array, Global, Object, Extension };

  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;  // Str (UTF-8), Bytes (raw), BigInt (decimal digits, '-' first when negative)
  std::vector<ValuePtr> items;                          // List, Tuple, Set
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;   // Dict, in insertion order
  std::shared_ptr<NdArray> array;                       // Array
  std::string module, name;                             // Global
  std::shared_ptr<io::Object> object;                   // Object
  std::shared_ptr<const io::Extension> extension;       // Extension

  Value() = default;
  Value(const Value&) = default;
  Value(Value&&) noexcept = default;
  Value& operator=(const Value&) = default;
  Value& operator=(Value&&) noexcept = default;
  // Unlinks children this value alone keeps alive before they die, so destroying a deeply
  // nested structure is a loop, not a recursion as deep as the nesting (no stack overflow).
  // Never allocates: the values waiting to be freed are chained through `free_next`.
  ~Value();

  // Internal to ~Value (always null otherwise).
  ValuePtr free_next;

  // Constructors.
  static ValuePtr none();
  static ValuePtr from_bool(bool v);
  static ValuePtr from_int(std::int64_t v);
  static ValuePtr from_float(double v);
  static ValuePtr from_str(std::string v);
  static ValuePtr from_bytes(std::string v);
  static ValuePtr list(std::vector<ValuePtr> items = {});
  static ValuePtr tuple(std::vector<ValuePtr> items = {});
  static ValuePtr dict(std::vector<std::pair<ValuePtr, ValuePtr>> entries = {});
  static ValuePtr from_array(NdArray array);
  static ValuePtr global(std::string module, std::string name);
  static ValuePtr from_object(std::shared_ptr<io::Object> object);
  static ValuePtr from_extension(std::shared_ptr<const io::Extension> extension);
  static ValuePtr set(std::vector<ValuePtr> items = {});
  // An instance of `module.name` built from `args` (written by the Pickler as GLOBAL + REDUCE).
  static ValuePtr make_object(std::string module, std::string name, std::vector<ValuePtr> args = {});
  // collections.OrderedDict with these entries, pickled as CPython does (REDUCE of an empty tuple
  // then SETITEMS): what torch.save writes for state dicts. Unpickles back to a plain Dict.
  static ValuePtr ordered_dict(std::vector<std::pair<ValuePtr, ValuePtr>> entries = {});

  // Queries. `what` names the value in error messages ("positions_2d['S1']"); a wrong kind
  // throws InputError "<what>: expected <kind>, found <kind>".
  bool is_none() const { return kind == Kind::None; }
  std::int64_t as_int(const std::string& what) const;    // Int or Bool
  double as_float(const std::string& what) const;        // Float, Int or Bool
  const std::string& as_str(const std::string& what) const;
  const std::vector<ValuePtr>& as_sequence(const std::string& what) const;  // List or Tuple
  const NdArray& as_array(const std::string& what) const;
  // Dict lookup by string key; nullptr when absent (throws when this is not a dict).
  ValuePtr find(const std::string& key, const std::string& what) const;
  // Dict lookup by string key; throws "<what>: missing key '<key>'" when absent.
  const Value& at(const std::string& key, const std::string& what) const;
  // Dict keys that are strings, in insertion order.
  std::vector<std::string> str_keys(const std::string& what) const;
  // Dict entries (also those of an Object, e.g. an OrderedDict built with ordered_dict()).
  const std::vector<std::pair<ValuePtr, ValuePtr>>& dict_entries(const std::string& what) const;
  // True for an Object made by `module.name`.
  bool is_object_of(const std::string& module, const std::string& name) const;

  static const char* kind_name(Kind kind);
  // Short human-readable rendering for messages and `poselift info` (truncated; nesting deeper
  // than a few dozen levels is shown as "...").
  std::string repr(std::size_t max_len = 80) const;
};

}  // namespace poselift::io
