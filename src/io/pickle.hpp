// Python pickle, read (protocols 0-5 as emitted by CPython's pickler) and written (protocol 2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/pyvalue.hpp"

namespace poselift::io {

// What the VM lends an extension while it rebuilds a value.
class UnpickleContext {
 public:
  // "<source>: pickle <OPCODE> at byte <offset>": how messages about the current value start.
  virtual std::string location() const = 0;
  // Throws InputError(location() + ": " + message).
  [[noreturn]] void fail(const std::string& message) const;
  // Charges rebuilt bytes (payloads) / container slots to the pickle's budget (UnpickleLimits);
  // throws InputError when the budget would be exceeded.
  virtual void charge(std::uint64_t bytes) = 0;
  virtual void charge_slots(std::uint64_t count) = 0;
  // Declares that `value`, an existing value, is handed out again (it may become shared).
  virtual void note_shared(const ValuePtr& value) = 0;

 protected:
  ~UnpickleContext() = default;
};

// Reconstruction of one family of library types (numpy's: io/numpy_pickle.hpp). Extensions are
// tried in order, after UnpickleHooks::reduce and only for calls without keyword arguments.
// Their errors reach the caller as they are (build them from context.location()).
struct UnpickleExtension {
  // REDUCE / NEWOBJ on a global: the rebuilt value, or nullptr when the call is not this
  // extension's (the next one, then the built-in handling, gets it).
  std::function<ValuePtr(UnpickleContext& context, const std::string& module, const std::string& name,
                         const std::vector<ValuePtr>& args)>
      reduce;
  // BUILD on an opaque Object: true when `instance` was rebuilt in place from `state`; false
  // leaves it an Object that keeps `state`.
  std::function<bool(UnpickleContext& context, Value& instance, const Value& state)> build;
};

struct UnpickleHooks {
  // PERSID / BINPERSID: turns a persistent id into a value. Unset: the pickle is refused.
  std::function<ValuePtr(const ValuePtr& pid)> persistent_load;
  // REDUCE / NEWOBJ on a global: return the rebuilt value, or nullptr to fall back to the
  // extensions and then the built-in handling (dicts, OrderedDict, else an opaque Object).
  std::function<ValuePtr(const std::string& module, const std::string& name,
                         const std::vector<ValuePtr>& args)>
      reduce;
  // Library types (numpy: with_numpy() in io/numpy_pickle.hpp adds it; poselift's readers do).
  std::vector<UnpickleExtension> extensions;
};

struct UnpickleLimits {
  std::size_t max_depth = 512;  // nesting of containers / MARKs
  // Bytes the rebuilt values may take: payloads (strings, array data) plus a fixed cost per value
  // created (kUnpickleValueCost: a Value and its shared_ptr block) and per container slot, so a
  // pickle of many tiny values is measured by the memory it really takes, not by its size.
  // 0: unpickle_budget(size of the pickle) (input_limits.hpp).
  std::uint64_t max_total_bytes = 0;
  // When set, the bytes charged are added to *used and max_total_bytes bounds the sum: one budget
  // shared by several pickles (the members of one .npz).
  std::uint64_t* used = nullptr;
};

// What one rebuilt value costs the budget (the Value and its shared_ptr control block).
inline constexpr std::uint64_t kUnpickleValueCost = sizeof(Value) + 32;

// Rebuilds the object pickled in `data`. `source` names the input in error messages
// ("data/data_2d_h36m_gt.npz:positions_2d.npy"). Built-in reconstruction:
//   dict, list, tuple, set, str, bytes, bytearray, int (incl. LONG1/LONG4 -> BigInt when it
//   does not fit 64 bits), float, bool, None, memo, frames;
//   collections.OrderedDict (with _metadata kept as ignored state) -> Dict;
//   _codecs.encode(str, 'latin1') (protocol 2 bytes), builtins set/frozenset/bytes/bytearray;
//   what hooks.extensions rebuild (numpy arrays, dtypes and scalars with with_numpy());
//   anything else -> Object (opaque, with its BUILD state), never a failure.
// Dict keys equal in Python (1 == 1.0 == True, equal str/tuple) collapse as in a Python dict.
// Malformed input throws InputError naming `source`, the byte offset and the opcode.
// Sizes are checked against the bytes present before anything is allocated, and everything
// rebuilt is charged to limits.max_total_bytes. Self-referencing structures (possible in
// pickles, never in poselift's data) and nesting deeper than limits.max_depth are refused, so
// every returned value is a finite tree or DAG. Shared values stay shared: a consumer that
// copies the result as a tree can take exponentially more memory than the pickle describes.
// Errors raised by the hooks that do not name `source` get it prefixed.
// Calls of a callable that is not a global (rare) become an Object with empty module and name
// whose args[0] is the callable.
ValuePtr unpickle(const std::uint8_t* data, std::size_t size, const std::string& source,
                  const UnpickleHooks& hooks = {}, const UnpickleLimits& limits = {});

// One pickle of an input that holds several one after another (torch.save's legacy format):
// the pickle starting at byte `offset` of `data`, rebuilt as unpickle() does, and the offset
// just past its STOP opcode. Nothing after STOP is read; error messages give offsets in `data`.
// When no limits.max_total_bytes is given, the budget follows `size` (the whole input).
struct PickleAt {
  ValuePtr value;
  std::size_t end = 0;
};
PickleAt unpickle_at(const std::uint8_t* data, std::size_t size, std::size_t offset, const std::string& source,
                     const UnpickleHooks& hooks = {}, const UnpickleLimits& limits = {});

// Writer for the values poselift itself saves (checkpoints, object arrays).
// Protocol 2. Arrays are written as numpy's _reconstruct form so numpy/pickle load them.
class Pickler {
 public:
  // Persistent ids: when set, a value for which this returns non-null is written as
  // BINPERSID of the returned value (used for torch storages).
  std::function<ValuePtr(const Value& v)> persistent_id;
  // 2 (torch.save's default) or 3 (np.save's for object arrays: bytes as BINBYTES instead of
  // protocol 2's `_codecs.encode(str, 'latin1')`).
  int protocol = 2;
  // Nesting deeper than this throws InputError (the writer recurses).
  std::size_t max_depth = 1000;

  // Throws InputError for values it cannot write (Extension without a persistent id, a global
  // name containing a newline, data too large for the protocol, nesting too deep).
  std::string dump(const Value& root);

 private:
  void write(const Value& v);
  void write(const Value& v, std::size_t depth, bool allow_persistent_id);
  void write_global(const std::string& module, const std::string& name);
  void write_int(std::int64_t v);
  void write_big_int(const std::string& decimal);
  void write_str(const std::string& utf8);
  void write_bytes(const char* data, std::size_t size);
  void write_tuple(const std::vector<ValuePtr>& items, std::size_t depth);
  void write_list_items(const std::vector<ValuePtr>& items, std::size_t depth);
  void write_dict_items(const std::vector<std::pair<ValuePtr, ValuePtr>>& entries, std::size_t depth);
  void write_array(const NdArray& array);
  void write_dtype(DType dtype);
  std::string out_;
};

}  // namespace poselift::io
