// Whole files: bounded reads and atomic writes. Errors are InputError naming the file.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace poselift::io {

inline constexpr std::uint64_t kNoSizeLimit = std::numeric_limits<std::uint64_t>::max();

// The whole file. Throws InputError "<path>: cannot open (reason)", "<path>: file of N bytes
// exceeds the limit of M bytes" (checked before anything is allocated) or "<path>: cannot read".
std::vector<std::uint8_t> read_file(const std::string& path, std::uint64_t max_bytes = kNoSizeLimit);
std::string read_text_file(const std::string& path, std::uint64_t max_bytes = kNoSizeLimit);

// Writes `data` to `path` atomically (temporary file in the same folder, fsync, rename).
void write_file_atomic(const std::string& path, const std::string& data);

// strerror-style text of an errno value.
std::string errno_message(int error);

}  // namespace poselift::io
