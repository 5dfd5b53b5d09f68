// libFuzzer target for the unpickler. Whatever it accepts must also survive repr(), the Pickler,
// and reading the Pickler's output back (a failure there is a writer/reader mismatch: crash).
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/numpy_pickle.hpp"
#include "io/pickle.hpp"

namespace {

poselift::io::UnpickleHooks fuzz_hooks() {
  using poselift::io::Value;
  using poselift::io::ValuePtr;
  poselift::io::UnpickleHooks hooks = poselift::io::with_numpy();
  hooks.persistent_load = [](const ValuePtr& pid) { return Value::from_str("pid:" + pid->repr(20)); };
  hooks.reduce = [](const std::string& module, const std::string& name,
                    const std::vector<ValuePtr>& args) -> ValuePtr {
    // Exercise the hook path the checkpoint reader uses, returning a container of the arguments.
    if (module == "torch._utils" && name == "_rebuild_tensor_v2") return Value::tuple(args);
    return nullptr;
  };
  return hooks;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const poselift::io::UnpickleHooks hooks = fuzz_hooks();
  poselift::io::ValuePtr value;
  try {
    value = poselift::io::unpickle(data, size, "fuzz.pkl", hooks);
  } catch (const poselift::InputError&) {
    return 0;
  }
  (void)value->repr(300);
  for (int protocol : {2, 3}) {
    std::string written;
    try {
      poselift::io::Pickler pickler;
      pickler.protocol = protocol;
      written = pickler.dump(*value);
    } catch (const poselift::InputError&) {
      continue;  // values the writer refuses (e.g. names with newlines) are fine
    }
    // Not caught: our own output must read back.
    (void)poselift::io::unpickle(reinterpret_cast<const std::uint8_t*>(written.data()), written.size(),
                                 "fuzz round trip", hooks);
  }
  return 0;
}
