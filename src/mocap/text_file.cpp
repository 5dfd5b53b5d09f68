#include "mocap/text_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "io/error.hpp"
#include "io/file.hpp"

namespace poselift::mocap {

namespace {

// Owns a z_stream set up for gzip-only decoding; inflateEnd on every exit path.
class GzipInflater {
 public:
  explicit GzipInflater(const std::string& source) : source_(source) {
    std::memset(&stream_, 0, sizeof stream_);
    // 16 + MAX_WBITS: gzip wrapper only (header, CRC-32 and ISIZE checked by zlib).
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK)
      throw InputError(source_ + ": cannot initialise the gzip decoder");
  }
  ~GzipInflater() { inflateEnd(&stream_); }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  z_stream& stream() { return stream_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(source_ + ": corrupt gzip data: " + what);
  }

 private:
  z_stream stream_;
  const std::string& source_;
};

}  // namespace

bool is_gzip(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

std::string gunzip(const std::uint8_t* data, std::size_t size, const std::string& source, std::size_t max_bytes) {
  std::string out;
  if (size == 0) return out;
  if (!is_gzip(data, size)) throw InputError(source + ": corrupt gzip data: not a gzip stream");
  // Text compresses about 5-10x; reserving a guess avoids most reallocations.
  out.reserve(size <= max_bytes / 6 ? size * 6 : max_bytes);

  GzipInflater inflater(source);
  z_stream& z = inflater.stream();
  std::vector<Bytef> chunk(std::size_t{1} << 16);
  std::size_t pos = 0;  // input bytes handed to zlib so far (avail_in of them not yet consumed)
  std::size_t member_offset = 0;
  for (;;) {
    if (z.avail_in == 0 && pos < size) {  // avail_in is 32-bit: feed huge inputs in pieces
      const std::size_t piece = std::min<std::size_t>(size - pos, UINT_MAX);
      z.next_in = const_cast<Bytef*>(data + pos);
      z.avail_in = static_cast<uInt>(piece);
      pos += piece;
    }
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(chunk.size());
    const int status = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = chunk.size() - z.avail_out;
    if (produced > 0) {
      // Hard bound, checked before the output grows: a small "zip bomb" is refused early.
      if (produced > max_bytes - out.size())
        throw InputError(source + ": decompressed data exceeds the limit of " + std::to_string(max_bytes) +
                         " bytes");
      const std::size_t needed = out.size() + produced;
      if (needed > out.capacity()) out.reserve(std::min(max_bytes, std::max(needed, out.capacity() * 2)));
      out.append(reinterpret_cast<const char*>(chunk.data()), produced);
    }
    if (status == Z_OK) continue;
    // No progress possible: the output space is always fresh, so the input ran out.
    if (status == Z_BUF_ERROR) inflater.fail("the data ends early (truncated file)");
    if (status == Z_DATA_ERROR) {
      const std::string msg = z.msg != nullptr ? z.msg : "invalid compressed data";
      if (msg == "incorrect data check") inflater.fail("CRC-32 mismatch");
      if (msg == "incorrect length check") inflater.fail("length mismatch");
      if (msg == "unknown compression method")
        inflater.fail("compression method " + std::to_string(data[member_offset + 2]) + ", expected 8 (deflate)");
      inflater.fail(msg);
    }
    if (status == Z_MEM_ERROR) throw InputError(source + ": out of memory while decompressing gzip data");
    if (status != Z_STREAM_END) inflater.fail("zlib error " + std::to_string(status));

    // End of one member: another may follow (concatenated gzip files), or zero padding.
    const std::size_t next = pos - z.avail_in;
    if (next == size || std::all_of(data + next, data + size, [](std::uint8_t b) { return b == 0; })) break;
    if (!is_gzip(data + next, size - next))
      inflater.fail("unexpected bytes after member ending at byte " + std::to_string(next));
    member_offset = next;
    if (inflateReset(&z) != Z_OK) inflater.fail("cannot restart the decoder for the next member");
  }
  return out;
}

std::string read_text_file(const std::string& path, std::size_t max_bytes) {
  const std::string raw = io::read_text_file(path, max_bytes);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(raw.data());
  if (is_gzip(bytes, raw.size())) return gunzip(bytes, raw.size(), path, max_bytes);
  return raw;
}

}  // namespace poselift::mocap
