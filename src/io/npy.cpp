#include "io/npy.hpp"

#include <unistd.h>

#include <cctype>
#include <cstring>
#include <string_view>

#include "io/input_limits.hpp"
#include "io/numpy_pickle.hpp"
#include "io/zip_archive.hpp"

namespace poselift::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kArrayAlign = 64;  // NumPy pads headers so the data starts 64-byte aligned

// The header is a Python dict literal; this reads the literal subset NumPy writes (and a little
// more: either quote style, trailing commas, Python 2 'L' suffixes, nested lists for the
// structured dtypes that are then refused with a clear message).
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  ValuePtr parse() {
    ValuePtr value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(source_ + ": .npy header, character " + std::to_string(pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  ValuePtr parse_value(int depth) {
    if (depth > 16) fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end of header");
    const char c = text_[pos_];
    if (c == '{') return parse_dict(depth);
    if (c == '(' || c == '[') return parse_sequence(depth);
    if (c == '\'' || c == '"') return parse_string();
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return parse_int();
    return parse_name();
  }

  ValuePtr parse_dict(int depth) {
    ++pos_;  // '{'
    ValuePtr dict = Value::dict();
    while (!accept('}')) {
      ValuePtr key = parse_value(depth + 1);
      if (!accept(':')) fail("expected ':' after a dict key");
      ValuePtr value = parse_value(depth + 1);
      dict->entries.emplace_back(std::move(key), std::move(value));
      if (!accept(',')) {
        if (!accept('}')) fail("expected ',' or '}' in the dict");
        break;
      }
    }
    return dict;
  }

  ValuePtr parse_sequence(int depth) {
    const char open = text_[pos_++];
    const char close = open == '(' ? ')' : ']';
    std::vector<ValuePtr> items;
    bool saw_comma = false;
    while (!accept(close)) {
      items.push_back(parse_value(depth + 1));
      if (accept(',')) {
        saw_comma = true;
        continue;
      }
      if (!accept(close)) fail(std::string("expected ',' or '") + close + "'");
      break;
    }
    if (open == '[') return Value::list(std::move(items));
    if (items.size() == 1 && !saw_comma) return items[0];  // "(5)" is just 5 in Python
    return Value::tuple(std::move(items));
  }

  ValuePtr parse_string() {
    const char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\\') {
        if (pos_ >= text_.size()) fail("unterminated string");
        const char e = text_[pos_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case '\\': case '\'': case '"': out += e; break;
          default: out += '\\'; out += e;
        }
        continue;
      }
      out += c;
    }
    return Value::from_str(std::move(out));
  }

  ValuePtr parse_int() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-' || text_[pos_] == '+') ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == digits) fail("malformed number");
    if (pos_ - digits > 18) fail("number too large");
    std::int64_t value = 0;
    for (std::size_t i = digits; i < pos_; ++i) value = value * 10 + (text_[i] - '0');
    if (text_[start] == '-') value = -value;
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2 long
    return Value::from_int(value);
  }

  ValuePtr parse_name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    const std::string_view name = text_.substr(start, pos_ - start);
    if (name == "True") return Value::from_bool(true);
    if (name == "False") return Value::from_bool(false);
    if (name == "None") return Value::none();
    pos_ = start;
    fail("unexpected character '" + std::string(1, text_[pos_]) + "'");
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le(const std::uint8_t* p, std::size_t count) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < count; ++i) value |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return value;
}

std::string npy_header(const std::string& descr, const std::string& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Version 1 stores the header length in 2 bytes; larger headers need version 2 (4 bytes).
  for (int version = 1; version <= 2; ++version) {
    const std::size_t prefix = kMagicSize + 2 + (version == 1 ? 2 : 4);
    const std::size_t padding = kArrayAlign - (prefix + dict.size() + 1) % kArrayAlign;
    const std::size_t header_size = dict.size() + padding + 1;
    if (version == 1 && header_size > 0xFFFF) continue;
    std::string out(kMagic, kMagicSize);
    out += static_cast<char>(version);
    out += '\0';
    for (std::size_t i = 0; i < prefix - kMagicSize - 2; ++i) out += static_cast<char>((header_size >> (8 * i)) & 0xFF);
    out += dict;
    out.append(padding, ' ');
    out += '\n';
    return out;
  }
  throw InputError(".npy writer: header too large");
}

}  // namespace

NpyContent parse_npy(const std::uint8_t* data, std::size_t size, const std::string& source) {
  return parse_npy(data, size, source, UnpickleLimits{});
}

NpyContent parse_npy(const std::uint8_t* data, std::size_t size, const std::string& source,
                     const UnpickleLimits& pickle_limits) {
  if (size < kMagicSize + 4 || std::memcmp(data, kMagic, kMagicSize) != 0)
    throw InputError(source + ": not a .npy file (expected the magic \\x93NUMPY at byte 0)");
  const unsigned major = data[6];
  const unsigned minor = data[7];
  if (major < 1 || major > 3 || minor != 0)
    throw InputError(source + ": unsupported .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (1.0, 2.0 and 3.0 are known)");
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = kMagicSize + 2 + length_bytes;
  if (size < prefix) throw InputError(source + ": truncated .npy header (file of " + std::to_string(size) + " bytes)");
  const std::size_t header_size = read_le(data + kMagicSize + 2, length_bytes);
  if (header_size > size - prefix)
    throw InputError(source + ": .npy header declares " + std::to_string(header_size) + " bytes at byte " +
                     std::to_string(prefix) + " but only " + std::to_string(size - prefix) + " follow");
  const std::string_view header_text(reinterpret_cast<const char*>(data + prefix), header_size);
  const ValuePtr header = HeaderParser(header_text, source).parse();
  if (header->kind != Value::Kind::Dict) throw InputError(source + ": .npy header is not a dict");

  const std::string what = source + ": .npy header";
  const ValuePtr descr = header->find("descr", what);
  const ValuePtr fortran = header->find("fortran_order", what);
  const ValuePtr shape_value = header->find("shape", what);
  if (!descr || !fortran || !shape_value)
    throw InputError(what + " lacks one of the keys 'descr', 'fortran_order', 'shape'");
  if (descr->kind != Value::Kind::Str)
    throw InputError(what + ": structured dtypes are not supported (descr " + descr->repr(60) + ")");
  const auto code = parse_numpy_type_code(descr->text);
  if (!code) throw InputError(what + ": unsupported dtype '" + descr->text + "'");
  if (fortran->kind != Value::Kind::Bool) throw InputError(what + ": 'fortran_order' must be True or False");
  if (shape_value->kind != Value::Kind::Tuple) throw InputError(what + ": 'shape' must be a tuple");
  std::vector<std::int64_t> shape;
  for (const auto& dim : shape_value->items) {
    if (!dim || dim->kind != Value::Kind::Int || dim->integer < 0)
      throw InputError(what + ": 'shape' must hold non-negative integers, found " + shape_value->repr(60));
    shape.push_back(dim->integer);
  }

  const std::uint8_t* payload = data + prefix + header_size;
  const std::size_t payload_size = size - prefix - header_size;
  NpyContent content;
  if (code->is_object) {
    // np.save pickles the whole object ndarray; the unpickler rebuilds it as a list (C order).
    const std::int64_t count = checked_numel(shape, what);
    static const UnpickleHooks numpy_hooks = with_numpy();
    const ValuePtr elements = unpickle(payload, payload_size, source, numpy_hooks, pickle_limits);
    if (elements->kind != Value::Kind::List)
      throw InputError(source + ": object array data is not a pickled object ndarray (found " + elements->repr(60) + ")");
    if (static_cast<std::uint64_t>(count) != elements->items.size())
      throw InputError(source + ": .npy header declares shape " + shape_value->repr(60) + " (" + std::to_string(count) +
                       " objects) but the pickle holds " + std::to_string(elements->items.size()));
    if (shape.empty()) content.object = elements->items[0] ? elements->items[0] : Value::none();
    else content.object = elements;
    return content;
  }
  content.array = array_from_raw_bytes(code->dtype, std::move(shape), payload, payload_size, code->big_endian,
                                       fortran->boolean, source + ": .npy data at byte " + std::to_string(prefix + header_size));
  return content;
}

NpyContent read_npy(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path);
  return parse_npy(bytes.data(), bytes.size(), path);
}

std::string serialize_npy(const NdArray& array) {
  const std::size_t expected = checked_byte_size(array.shape, array.dtype, ".npy writer");
  if (array.bytes.size() != expected)
    throw InputError(".npy writer: array " + array.shape_string() + " of " + dtype_name(array.dtype) + " holds " +
                     std::to_string(array.bytes.size()) + " bytes instead of " + std::to_string(expected));
  std::string out = npy_header(numpy_type_code(array.dtype), array.shape_string());
  out.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  return out;
}

std::string serialize_npy_object(const Value& value) {
  // What np.save writes for a 0-d object array: pickle protocol 3 of the ndarray itself,
  // _reconstruct(ndarray, (0,), b'b') + BUILD (1, (), dtype('O8'), False, [value]).
  ValuePtr dtype = Value::make_object("numpy", "dtype", {Value::from_str("O8"), Value::from_bool(false),
                                                         Value::from_bool(true)});
  dtype->object->state = Value::tuple({Value::from_int(3), Value::from_str("|"), Value::none(), Value::none(),
                                       Value::none(), Value::from_int(-1), Value::from_int(-1), Value::from_int(63)});
  ValuePtr array = Value::make_object("numpy.core.multiarray", "_reconstruct",
                                      {Value::global("numpy", "ndarray"), Value::tuple({Value::from_int(0)}),
                                       Value::from_bytes("b")});
  array->object->state = Value::tuple({Value::from_int(1), Value::tuple(), dtype, Value::from_bool(false),
                                       Value::list({std::make_shared<Value>(value)})});
  Pickler pickler;
  pickler.protocol = 3;
  return npy_header("|O", "()") + pickler.dump(*array);
}

void write_npy(const std::string& path, const NdArray& array) { write_file_atomic(path, serialize_npy(array)); }

const NpyContent& NpzFile::at(const std::string& name, const std::string& source) const {
  auto found = members.find(name);
  if (found == members.end()) {
    std::string available;
    for (const auto& member : names) available += (available.empty() ? "" : ", ") + member;
    throw InputError(source + ": missing array '" + name + "' (the archive holds: " +
                     (available.empty() ? std::string("nothing") : available) + ")");
  }
  return found->second;
}

namespace {

NpzFile parse_members(ZipReader&& reader, std::uint64_t max_decompressed_bytes) {
  if (max_decompressed_bytes) reader.set_budget(max_decompressed_bytes);
  // One pickle budget for all object members (they are all kept), growing with each member's
  // size as a lone pickle's would.
  std::uint64_t pickle_used = 0;
  UnpickleLimits pickle_limits;
  pickle_limits.used = &pickle_used;
  pickle_limits.max_total_bytes = unpickle_budget(0, reader.archive_size());
  const bool forced = max_input_bytes_override() != 0;
  NpzFile npz;
  for (const std::string& member : reader.names()) {
    if (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0) continue;  // not an array
    const std::string key = member.substr(0, member.size() - 4);
    if (npz.members.count(key)) throw InputError(reader.source() + ": duplicate member '" + member + "'");
    const std::vector<std::uint8_t> bytes = reader.read(member);
    if (!forced)
      pickle_limits.max_total_bytes = saturating_add(pickle_limits.max_total_bytes, saturating_mul(bytes.size(), 4));
    npz.members.emplace(key, parse_npy(bytes.data(), bytes.size(), reader.source() + ":" + member, pickle_limits));
    npz.names.push_back(key);
  }
  return npz;
}

}  // namespace

NpzFile read_npz(const std::string& path, std::uint64_t max_decompressed_bytes) {
  return parse_members(ZipReader::open_file(path), max_decompressed_bytes);
}

NpzFile parse_npz(const std::uint8_t* data, std::size_t size, const std::string& source,
                  std::uint64_t max_decompressed_bytes) {
  return parse_members(ZipReader::open_memory(data, size, source), max_decompressed_bytes);
}

namespace {

void check_member_names(const std::string& path, const std::vector<NpzMember>& members) {
  std::vector<std::string> seen;
  for (const auto& member : members) {
    if (member.name.empty()) throw InputError(path + ": an .npz member needs a name");
    for (const auto& name : seen)
      if (name == member.name) throw InputError(path + ": duplicate .npz member '" + member.name + "'");
    seen.push_back(member.name);
  }
}

void add_members(ZipWriter& writer, const std::vector<NpzMember>& members, bool compress) {
  for (const auto& member : members) {
    std::string bytes = member.object ? serialize_npy_object(*member.object) : serialize_npy(member.array);
    writer.add(member.name + ".npy", std::move(bytes), compress);
  }
}

}  // namespace

void write_npz(const std::string& path, const std::vector<NpzMember>& members, bool compress) {
  check_member_names(path, members);
  ZipWriter writer(path);
  add_members(writer, members, compress);
  writer.commit();
}

NpzBatch::NpzBatch() = default;
NpzBatch::~NpzBatch() = default;  // each uncommitted ZipWriter removes its temporary file

void NpzBatch::add(const std::string& path, const std::vector<NpzMember>& members, bool compress) {
  check_member_names(path, members);
  auto writer = std::make_unique<ZipWriter>(path);
  add_members(*writer, members, compress);
  writer->finish();
  writers_.push_back(std::move(writer));
}

void NpzBatch::commit() {
  for (std::size_t i = 0; i < writers_.size(); ++i) {
    try {
      writers_[i]->publish();
    } catch (...) {
      for (std::size_t k = 0; k < i; ++k) ::unlink(writers_[k]->path().c_str());
      writers_.clear();  // removes the remaining temporary files
      throw;
    }
  }
  writers_.clear();
}

}  // namespace poselift::io
