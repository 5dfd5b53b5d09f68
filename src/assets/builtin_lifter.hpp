// The lifter compiled into the program, so that `poselift video CLIP` needs no download: a
// VideoPose3D (27 frames, with its trajectory model) trained by poselift on CMU motion capture
// (assets/lifter/README.md says how, on which data, under which terms, and how well it does).
// Commands name it as the checkpoint `builtin`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace poselift::assets {

inline constexpr const char* kBuiltinLifter = "builtin";

// True when `path` names the built-in lifter: the word `builtin`, unless a file of that name
// exists (a user's own file wins).
bool is_builtin_lifter(const std::string& path);

// The checkpoint's bytes (a torch.save zip), in the program's read-only data.
const std::uint8_t* builtin_lifter_data();
std::size_t builtin_lifter_size();

}  // namespace poselift::assets
