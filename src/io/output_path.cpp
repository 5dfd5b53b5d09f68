#include "io/output_path.hpp"

#include <filesystem>
#include <system_error>

#include "io/error.hpp"

namespace poselift::io {

namespace fs = std::filesystem;

namespace {

// Follows a chain of symbolic links (also a dangling one) to the path it finally names.
fs::path final_target(fs::path path, const std::string& flag) {
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(path, ec))) return path;
    fs::path next = fs::read_symlink(path, ec);
    if (ec) throw InputError(path.string() + " (" + flag + "): cannot read the symbolic link: " + ec.message());
    path = next.is_absolute() ? next : path.parent_path() / next;
  }
  throw InputError(path.string() + " (" + flag + "): too many levels of symbolic links");
}

}  // namespace

std::string checked_output_path(const std::string& output, const std::vector<std::string>& inputs,
                                const std::string& flag) {
  if (output.empty()) throw InputError(flag + ": expected a file path");
  const fs::path target = final_target(output, flag);
  std::error_code ec;
  if (fs::is_directory(target, ec))
    throw InputError(output + " (" + flag + "): is a folder; expected a file path");
  if (fs::exists(target, ec)) {
    for (const auto& input : inputs) {
      if (input.empty()) continue;
      std::error_code eq_ec;
      if (fs::equivalent(target, input, eq_ec))
        throw InputError(output + " (" + flag + "): is also the input " + input +
                         "; writing it would destroy the input: choose another output path");
    }
  }
  return target.string();
}

}  // namespace poselift::io
