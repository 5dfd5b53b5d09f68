#include "assets/builtin_lifter.hpp"

#include <filesystem>

// Bounds of the checkpoint that builtin_lifter_data.S includes.
extern "C" const std::uint8_t poselift_builtin_lifter_begin[];
extern "C" const std::uint8_t poselift_builtin_lifter_end[];

namespace poselift::assets {

bool is_builtin_lifter(const std::string& path) {
  std::error_code ignored;
  return path == kBuiltinLifter && !std::filesystem::exists(path, ignored);
}

const std::uint8_t* builtin_lifter_data() { return poselift_builtin_lifter_begin; }

std::size_t builtin_lifter_size() {
  return static_cast<std::size_t>(poselift_builtin_lifter_end - poselift_builtin_lifter_begin);
}

}  // namespace poselift::assets
