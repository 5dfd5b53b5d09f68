// Where a command may write its output: never over one of its inputs.
#pragma once

#include <string>
#include <vector>

namespace poselift::io {

// Throws InputError when `output` is one of `inputs` (the same file, also through symbolic or
// hard links), or a folder. Returns the path to write: for a symbolic link its final target, so
// that an atomic write (temporary file + rename) replaces the file the link points to and the
// link stays a link. `flag` names the output's option in messages (e.g. "--out").
std::string checked_output_path(const std::string& output, const std::vector<std::string>& inputs,
                                const std::string& flag);

}  // namespace poselift::io
