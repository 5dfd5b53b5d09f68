// Memory budgets for reading untrusted files: compressed members and pickles can describe far
// more data than the file holds, so every reader that expands its input draws on a budget
// derived from the size of the file itself.
//
//   decompression: the bytes all members of one zip (.npz, torch.save) may inflate to in total,
//                  max(1 GiB, 64 x the archive's size). Real data is well inside it: deflate
//                  shrinks float data ~1.1-4x (Human3.6M's 150 MB CPN file inflates to < 1 GB).
//   unpickling:    the bytes the values rebuilt from one pickle may take (payloads plus a fixed
//                  cost per value), max(256 MiB, 4 x the pickle's size, 64 x the file's size).
//
// POSELIFT_MAX_INPUT_BYTES (a byte count, K/M/G/T suffixes allowed: "8G") replaces both
// defaults, for inputs that legitimately exceed them.
#pragma once

#include <cstdint>

namespace poselift::io {

inline constexpr const char* kMaxInputBytesVariable = "POSELIFT_MAX_INPUT_BYTES";

// The override from POSELIFT_MAX_INPUT_BYTES, or 0 when unset. A malformed value throws
// InputError naming the variable.
std::uint64_t max_input_bytes_override();

// Budget for the decompressed members of an archive of `archive_size` bytes.
std::uint64_t decompression_budget(std::uint64_t archive_size);

// Budget for the values unpickled from `pickle_size` bytes read out of a file of `file_size`
// bytes (0 when the pickle is the whole input).
std::uint64_t unpickle_budget(std::uint64_t pickle_size, std::uint64_t file_size = 0);

// a * b and a + b saturated at UINT64_MAX (budgets only grow, so saturation is the safe side).
inline std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out;
  return __builtin_mul_overflow(a, b, &out) ? UINT64_MAX : out;
}
inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out;
  return __builtin_add_overflow(a, b, &out) ? UINT64_MAX : out;
}

}  // namespace poselift::io
