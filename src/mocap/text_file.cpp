#include "mocap/text_file.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>

#include "io/error.hpp"

namespace poselift::mocap {

namespace {

// ---- CRC-32 (IEEE 802.3, reflected), as gzip stores it ----
std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

std::uint32_t crc32_of(const char* data, std::size_t size) {
  static const std::array<std::uint32_t, 256> table = make_crc_table();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i)
    crc = table[(crc ^ static_cast<std::uint8_t>(data[i])) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// ---- DEFLATE decoding ----

// LSB-first bit reader over a byte range. Peeking past the end yields zero bits; consuming
// them is an error (truncated stream).
class BitReader {
 public:
  BitReader(const std::uint8_t* data, std::size_t size, std::size_t pos, const std::string& source)
      : data_(data), size_(size), pos_(pos), source_(source) {}

  std::uint32_t peek(int count) {
    refill();
    return static_cast<std::uint32_t>(buffer_ & ((std::uint64_t{1} << count) - 1));
  }
  void consume(int count) {
    if (count > bits_) fail("the compressed data ends early");
    buffer_ >>= count;
    bits_ -= count;
  }
  std::uint32_t read(int count) {
    const std::uint32_t value = peek(count);
    consume(count);
    return value;
  }
  // Drops the bits up to the next byte boundary (stored blocks start byte-aligned).
  void align_to_byte() { consume(bits_ % 8); }
  // Byte position after everything consumed (only meaningful when byte-aligned).
  std::size_t byte_position() const { return pos_ - static_cast<std::size_t>(bits_ / 8); }
  void skip_to(std::size_t pos) {
    buffer_ = 0;
    bits_ = 0;
    pos_ = pos;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(source_ + ": corrupt gzip data: " + what);
  }

 private:
  void refill() {
    while (bits_ <= 56 && pos_ < size_) {
      buffer_ |= std::uint64_t{data_[pos_++]} << bits_;
      bits_ += 8;
    }
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_;
  const std::string& source_;
  std::uint64_t buffer_ = 0;
  int bits_ = 0;
};

constexpr int kMaxCodeBits = 15;
constexpr int kFastBits = 9;

// Canonical Huffman code: a direct table for codes up to kFastBits long, and the per-length
// counts + sorted symbols for walking longer codes one bit at a time.
struct HuffmanCode {
  std::array<std::uint16_t, kMaxCodeBits + 1> count{};
  std::array<std::uint16_t, 288> symbols{};
  std::array<std::uint16_t, 1 << kFastBits> fast{};  // (length << 9) | symbol; 0 = not a fast code

  void build(const std::uint8_t* lengths, int n, BitReader& in) {
    count.fill(0);
    fast.fill(0);
    for (int s = 0; s < n; ++s) ++count[lengths[s]];
    count[0] = 0;
    int left = 1;  // codes still available at the current length
    for (int len = 1; len <= kMaxCodeBits; ++len) {
      left = left * 2 - count[len];
      if (left < 0) in.fail("over-subscribed Huffman code");
    }
    std::array<std::uint16_t, kMaxCodeBits + 2> offset{};
    for (int len = 1; len <= kMaxCodeBits; ++len) offset[len + 1] = offset[len] + count[len];
    for (int s = 0; s < n; ++s)
      if (lengths[s] != 0) symbols[offset[lengths[s]]++] = static_cast<std::uint16_t>(s);
    // Fast table: codes are assigned in canonical order and stored bit-reversed (LSB first).
    int code = 0, index = 0;
    for (int len = 1; len <= kMaxCodeBits; ++len) {
      for (int k = 0; k < count[len]; ++k, ++index, ++code) {
        if (len > kFastBits) continue;
        int reversed = 0;
        for (int b = 0; b < len; ++b) reversed |= ((code >> b) & 1) << (len - 1 - b);
        for (int fill = reversed; fill < (1 << kFastBits); fill += 1 << len)
          fast[fill] = static_cast<std::uint16_t>((len << 9) | symbols[index]);
      }
      code <<= 1;
    }
  }

  int decode(BitReader& in) const {
    const std::uint32_t bits = in.peek(kMaxCodeBits);
    const std::uint16_t entry = fast[bits & ((1u << kFastBits) - 1)];
    if (entry != 0) {
      in.consume(entry >> 9);
      return entry & 0x1FF;
    }
    // Slow path: canonical decoding, one bit at a time.
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= kMaxCodeBits; ++len) {
      code |= static_cast<int>((bits >> (len - 1)) & 1u);
      const int n = count[len];
      if (code - n < first) {
        in.consume(len);
        return symbols[index + (code - first)];
      }
      index += n;
      first = (first + n) << 1;
      code <<= 1;
    }
    in.fail("invalid Huffman code");
  }
};

constexpr std::uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                           31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::uint16_t kDistBase[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                         33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                         1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                         6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

class Inflater {
 public:
  Inflater(BitReader& in, std::string& out, std::size_t max_bytes, const std::string& source)
      : in_(in), out_(out), max_bytes_(max_bytes), source_(source) {}

  // Decodes one complete DEFLATE stream, appending to `out`.
  void run() {
    member_start_ = out_.size();
    bool last = false;
    while (!last) {
      last = in_.read(1) != 0;
      const std::uint32_t type = in_.read(2);
      if (type == 0) stored_block();
      else if (type == 1) fixed_block();
      else if (type == 2) dynamic_block();
      else in_.fail("reserved block type 3");
    }
  }

 private:
  void reserve_output(std::size_t extra) {
    if (out_.size() + extra > max_bytes_)
      throw InputError(source_ + ": decompressed data exceeds the limit of " + std::to_string(max_bytes_) +
                       " bytes");
  }

  void stored_block() {
    in_.align_to_byte();
    const std::uint32_t len = in_.read(16);
    const std::uint32_t nlen = in_.read(16);
    if ((len ^ 0xFFFFu) != nlen) in_.fail("stored block length check failed");
    reserve_output(len);
    for (std::uint32_t i = 0; i < len; ++i) out_.push_back(static_cast<char>(in_.read(8)));
  }

  void fixed_block() {
    std::uint8_t lengths[288 + 30];
    for (int s = 0; s < 144; ++s) lengths[s] = 8;
    for (int s = 144; s < 256; ++s) lengths[s] = 9;
    for (int s = 256; s < 280; ++s) lengths[s] = 7;
    for (int s = 280; s < 288; ++s) lengths[s] = 8;
    for (int s = 0; s < 30; ++s) lengths[288 + s] = 5;
    literal_.build(lengths, 288, in_);
    distance_.build(lengths + 288, 30, in_);
    codes();
  }

  void dynamic_block() {
    const int nlen = static_cast<int>(in_.read(5)) + 257;
    const int ndist = static_cast<int>(in_.read(5)) + 1;
    const int ncode = static_cast<int>(in_.read(4)) + 4;
    if (nlen > 286 || ndist > 30) in_.fail("too many length or distance codes");
    static constexpr std::uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    std::uint8_t code_lengths[19] = {};
    for (int i = 0; i < ncode; ++i) code_lengths[kOrder[i]] = static_cast<std::uint8_t>(in_.read(3));
    HuffmanCode length_code;
    length_code.build(code_lengths, 19, in_);

    std::uint8_t lengths[286 + 30] = {};
    int index = 0;
    while (index < nlen + ndist) {
      const int symbol = length_code.decode(in_);
      if (symbol < 16) {
        lengths[index++] = static_cast<std::uint8_t>(symbol);
        continue;
      }
      std::uint8_t value = 0;
      int repeat = 0;
      if (symbol == 16) {
        if (index == 0) in_.fail("length repeat with no previous length");
        value = lengths[index - 1];
        repeat = 3 + static_cast<int>(in_.read(2));
      } else if (symbol == 17) {
        repeat = 3 + static_cast<int>(in_.read(3));
      } else {
        repeat = 11 + static_cast<int>(in_.read(7));
      }
      if (index + repeat > nlen + ndist) in_.fail("code lengths overflow the table");
      while (repeat-- > 0) lengths[index++] = value;
    }
    if (lengths[256] == 0) in_.fail("no end-of-block code");
    literal_.build(lengths, nlen, in_);
    distance_.build(lengths + nlen, ndist, in_);
    codes();
  }

  void codes() {
    for (;;) {
      const int symbol = literal_.decode(in_);
      if (symbol < 256) {
        reserve_output(1);
        out_.push_back(static_cast<char>(symbol));
        continue;
      }
      if (symbol == 256) return;
      const int length_index = symbol - 257;
      if (length_index >= 29) in_.fail("invalid length symbol");
      const std::size_t length = kLengthBase[length_index] + in_.read(kLengthExtra[length_index]);
      const int distance_symbol = distance_.decode(in_);
      if (distance_symbol >= 30) in_.fail("invalid distance symbol");
      const std::size_t distance = kDistBase[distance_symbol] + in_.read(kDistExtra[distance_symbol]);
      if (distance > out_.size() - member_start_) in_.fail("distance reaches before the start of the data");
      reserve_output(length);
      // Byte by byte: the source may overlap the bytes being written (run-length copies).
      std::size_t from = out_.size() - distance;
      for (std::size_t i = 0; i < length; ++i) out_.push_back(out_[from + i]);
    }
  }

  BitReader& in_;
  std::string& out_;
  std::size_t max_bytes_;
  const std::string& source_;
  std::size_t member_start_ = 0;
  HuffmanCode literal_, distance_;
};

std::uint32_t little_endian_32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

}  // namespace

bool is_gzip(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

std::string gunzip(const std::uint8_t* data, std::size_t size, const std::string& source, std::size_t max_bytes) {
  std::string out;
  // Text compresses about 5-10x; reserving a guess avoids most reallocations.
  out.reserve(std::min(max_bytes, size * 6));
  std::size_t pos = 0;
  BitReader bits(data, size, 0, source);
  while (pos < size) {
    if (pos > 0) {
      // Some tools pad gzip files with zeros after the last member.
      bool all_zero = true;
      for (std::size_t i = pos; i < size && all_zero; ++i) all_zero = data[i] == 0;
      if (all_zero) break;
    }
    if (size - pos < 18 || !is_gzip(data + pos, size - pos))
      throw InputError(source + ": corrupt gzip data: " +
                       (pos == 0 ? "not a gzip stream" : "unexpected bytes after member ending at byte " +
                                                             std::to_string(pos)));
    const std::uint8_t method = data[pos + 2], flags = data[pos + 3];
    if (method != 8) throw InputError(source + ": corrupt gzip data: compression method " +
                                      std::to_string(method) + ", expected 8 (deflate)");
    if (flags & 0xE0) throw InputError(source + ": corrupt gzip data: reserved header flags set");
    std::size_t p = pos + 10;
    auto need = [&](std::size_t n) {
      if (size - p < n) throw InputError(source + ": corrupt gzip data: header ends early");
    };
    if (flags & 0x04) {  // FEXTRA
      need(2);
      const std::size_t extra = data[p] | (std::size_t{data[p + 1]} << 8);
      p += 2;
      need(extra);
      p += extra;
    }
    for (std::uint8_t flag : {std::uint8_t{0x08}, std::uint8_t{0x10}}) {  // FNAME, FCOMMENT: zero-terminated
      if (!(flags & flag)) continue;
      while (p < size && data[p] != 0) ++p;
      need(1);
      ++p;
    }
    if (flags & 0x02) {  // FHCRC
      need(2);
      p += 2;
    }
    const std::size_t member_start = out.size();
    bits.skip_to(p);
    Inflater(bits, out, max_bytes, source).run();
    bits.align_to_byte();
    p = bits.byte_position();
    if (size - p < 8) throw InputError(source + ": corrupt gzip data: the stream ends before its CRC-32 trailer");
    const std::uint32_t expected_crc = little_endian_32(data + p);
    const std::uint32_t expected_size = little_endian_32(data + p + 4);
    const std::size_t produced = out.size() - member_start;
    if (crc32_of(out.data() + member_start, produced) != expected_crc)
      throw InputError(source + ": corrupt gzip data: CRC-32 mismatch");
    if (static_cast<std::uint32_t>(produced) != expected_size)
      throw InputError(source + ": corrupt gzip data: length mismatch");
    pos = p + 8;
  }
  return out;
}

std::string read_text_file(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff length = in.tellg();
  if (length < 0) throw InputError(path + ": cannot determine the file size");
  if (static_cast<std::uint64_t>(length) > max_bytes)
    throw InputError(path + ": file of " + std::to_string(length) + " bytes exceeds the limit of " +
                     std::to_string(max_bytes) + " bytes");
  in.seekg(0, std::ios::beg);
  std::string raw(static_cast<std::size_t>(length), '\0');
  if (length > 0 && !in.read(raw.data(), length)) throw InputError(path + ": read error");
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(raw.data());
  if (is_gzip(bytes, raw.size())) return gunzip(bytes, raw.size(), path, max_bytes);
  return raw;
}

}  // namespace poselift::mocap
