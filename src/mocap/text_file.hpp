// Whole-file text reading for the motion-capture importers, with transparent gzip support.
//
// gzip is decoded with zlib (CRC-32 and length checked, concatenated members supported). The
// decompressed size has a hard bound, checked before the output grows, so a tiny "zip bomb"
// cannot allocate gigabytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace poselift::mocap {

// 64 MiB: far above any real BVH/AMC file (the largest CMU/iClone clips are ~5 MB of text),
// and a fixed bound: reading (gunzip's growing buffer) peaks at about twice this.
constexpr std::size_t kDefaultMaxTextBytes = std::size_t{64} << 20;

// True when the bytes start with the gzip magic number (1f 8b).
bool is_gzip(const std::uint8_t* data, std::size_t size);

// Decompresses a gzip stream (one or more members, CRC-32 and length checked). Throws
// InputError naming `source` on corrupt data or when the output would exceed `max_bytes`.
std::string gunzip(const std::uint8_t* data, std::size_t size, const std::string& source,
                   std::size_t max_bytes = kDefaultMaxTextBytes);

// The file's content, gunzipped when it is gzip data (detected from the content, not the
// name). Throws InputError when the file cannot be read or is larger than `max_bytes`.
std::string read_text_file(const std::string& path, std::size_t max_bytes = kDefaultMaxTextBytes);

}  // namespace poselift::mocap
