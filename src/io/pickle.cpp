#include "io/pickle.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "io/input_limits.hpp"
#include "io/text.hpp"

namespace poselift::io {

namespace {

// Opcodes of CPython's pickle protocols 0-5 (Lib/pickle.py names).
namespace opcode {
constexpr std::uint8_t kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2';
constexpr std::uint8_t kFloat = 'F', kInt = 'I', kBinInt = 'J', kBinInt1 = 'K', kLong = 'L', kBinInt2 = 'M';
constexpr std::uint8_t kNone = 'N', kPersId = 'P', kBinPersId = 'Q', kReduce = 'R';
constexpr std::uint8_t kString = 'S', kBinString = 'T', kShortBinString = 'U', kUnicode = 'V', kBinUnicode = 'X';
constexpr std::uint8_t kAppend = 'a', kBuild = 'b', kGlobal = 'c', kDict = 'd', kEmptyDict = '}', kAppends = 'e';
constexpr std::uint8_t kGet = 'g', kBinGet = 'h', kInst = 'i', kLongBinGet = 'j', kList = 'l', kEmptyList = ']';
constexpr std::uint8_t kObj = 'o', kPut = 'p', kBinPut = 'q', kLongBinPut = 'r', kSetItem = 's', kTuple = 't';
constexpr std::uint8_t kEmptyTuple = ')', kSetItems = 'u', kBinFloat = 'G';
constexpr std::uint8_t kProto = 0x80, kNewObj = 0x81, kExt1 = 0x82, kExt2 = 0x83, kExt4 = 0x84;
constexpr std::uint8_t kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89;
constexpr std::uint8_t kLong1 = 0x8a, kLong4 = 0x8b, kBinBytes = 'B', kShortBinBytes = 'C';
constexpr std::uint8_t kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f;
constexpr std::uint8_t kAddItems = 0x90, kFrozenSet = 0x91, kNewObjEx = 0x92, kStackGlobal = 0x93;
constexpr std::uint8_t kMemoize = 0x94, kFrame = 0x95, kByteArray8 = 0x96, kNextBuffer = 0x97;
constexpr std::uint8_t kReadonlyBuffer = 0x98;
}  // namespace opcode

std::string opcode_name(std::uint8_t op) {
  using namespace opcode;
  switch (op) {
    case kMark: return "MARK";
    case kStop: return "STOP";
    case kPop: return "POP";
    case kPopMark: return "POP_MARK";
    case kDup: return "DUP";
    case kFloat: return "FLOAT";
    case kInt: return "INT";
    case kBinInt: return "BININT";
    case kBinInt1: return "BININT1";
    case kLong: return "LONG";
    case kBinInt2: return "BININT2";
    case kNone: return "NONE";
    case kPersId: return "PERSID";
    case kBinPersId: return "BINPERSID";
    case kReduce: return "REDUCE";
    case kString: return "STRING";
    case kBinString: return "BINSTRING";
    case kShortBinString: return "SHORT_BINSTRING";
    case kUnicode: return "UNICODE";
    case kBinUnicode: return "BINUNICODE";
    case kAppend: return "APPEND";
    case kBuild: return "BUILD";
    case kGlobal: return "GLOBAL";
    case kDict: return "DICT";
    case kEmptyDict: return "EMPTY_DICT";
    case kAppends: return "APPENDS";
    case kGet: return "GET";
    case kBinGet: return "BINGET";
    case kInst: return "INST";
    case kLongBinGet: return "LONG_BINGET";
    case kList: return "LIST";
    case kEmptyList: return "EMPTY_LIST";
    case kObj: return "OBJ";
    case kPut: return "PUT";
    case kBinPut: return "BINPUT";
    case kLongBinPut: return "LONG_BINPUT";
    case kSetItem: return "SETITEM";
    case kTuple: return "TUPLE";
    case kEmptyTuple: return "EMPTY_TUPLE";
    case kSetItems: return "SETITEMS";
    case kBinFloat: return "BINFLOAT";
    case kProto: return "PROTO";
    case kNewObj: return "NEWOBJ";
    case kExt1: return "EXT1";
    case kExt2: return "EXT2";
    case kExt4: return "EXT4";
    case kTuple1: return "TUPLE1";
    case kTuple2: return "TUPLE2";
    case kTuple3: return "TUPLE3";
    case kNewTrue: return "NEWTRUE";
    case kNewFalse: return "NEWFALSE";
    case kLong1: return "LONG1";
    case kLong4: return "LONG4";
    case kBinBytes: return "BINBYTES";
    case kShortBinBytes: return "SHORT_BINBYTES";
    case kShortBinUnicode: return "SHORT_BINUNICODE";
    case kBinUnicode8: return "BINUNICODE8";
    case kBinBytes8: return "BINBYTES8";
    case kEmptySet: return "EMPTY_SET";
    case kAddItems: return "ADDITEMS";
    case kFrozenSet: return "FROZENSET";
    case kNewObjEx: return "NEWOBJ_EX";
    case kStackGlobal: return "STACK_GLOBAL";
    case kMemoize: return "MEMOIZE";
    case kFrame: return "FRAME";
    case kByteArray8: return "BYTEARRAY8";
    case kNextBuffer: return "NEXT_BUFFER";
    case kReadonlyBuffer: return "READONLY_BUFFER";
    default: break;
  }
  static const char kHex[] = "0123456789abcdef";
  return std::string("unknown opcode 0x") + kHex[op >> 4] + kHex[op & 15];
}

// Integers wider than this are refused: converting them to decimal is quadratic.
constexpr std::size_t kMaxIntBytes = 4096;
constexpr std::size_t kMaxIntDigits = 9000;  // < kMaxIntBytes once written back
// What the text opcodes' arguments may be padded with.
constexpr std::string_view kPickleBlanks = " \t\r";

// ---------------------------------------------------------------------------------------------
// Text helpers

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Integer helpers

// Little-endian unsigned limbs divided by 10^9 repeatedly: binary magnitude -> decimal digits.
std::string magnitude_to_decimal(std::vector<std::uint8_t> magnitude_le) {
  std::vector<std::uint32_t> limbs((magnitude_le.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < magnitude_le.size(); ++i)
    limbs[i / 4] |= static_cast<std::uint32_t>(magnitude_le[i]) << (8 * (i % 4));
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  if (limbs.empty()) return "0";
  std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
  while (!limbs.empty()) {
    std::uint64_t remainder = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t current = (remainder << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(current / 1000000000u);
      remainder = current % 1000000000u;
    }
    chunks.push_back(static_cast<std::uint32_t>(remainder));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  std::string out = std::to_string(chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(chunks[i]);
    out.append(9 - part.size(), '0');
    out += part;
  }
  return out;
}

// LONG1 / LONG4 payload: little-endian two's complement.
ValuePtr int_from_twos_complement(const std::uint8_t* bytes, std::size_t count) {
  if (count == 0) return Value::from_int(0);
  const bool negative = (bytes[count - 1] & 0x80) != 0;
  const std::uint8_t extension = negative ? 0xFF : 0x00;
  bool fits = true;
  for (std::size_t i = 8; i < count; ++i)
    if (bytes[i] != extension) fits = false;
  if (count > 8 && ((bytes[7] & 0x80) != 0) != negative) fits = false;
  if (fits) {
    std::uint64_t bits = negative ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < count && i < 8; ++i) {
      bits &= ~(std::uint64_t{0xFF} << (8 * i));
      bits |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
    }
    std::int64_t value;
    std::memcpy(&value, &bits, sizeof(value));
    return Value::from_int(value);
  }
  std::vector<std::uint8_t> magnitude(bytes, bytes + count);
  if (negative) {  // negate: invert and add one
    unsigned carry = 1;
    for (auto& byte : magnitude) {
      const unsigned sum = static_cast<std::uint8_t>(~byte) + carry;
      byte = static_cast<std::uint8_t>(sum & 0xFF);
      carry = sum >> 8;
    }
  }
  auto out = std::make_shared<Value>();
  out->kind = Value::Kind::BigInt;
  out->text = (negative ? "-" : "") + magnitude_to_decimal(std::move(magnitude));
  return out;
}

// Decimal text (INT / LONG opcodes) -> Int, or BigInt when it does not fit; nullptr if malformed.
ValuePtr int_from_decimal(std::string_view text) {
  text = trim(text, kPickleBlanks);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return nullptr;
  for (char c : text)
    if (c < '0' || c > '9') return nullptr;
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  std::string normalized = (negative && text != "0" ? "-" : "") + std::string(text);
  std::int64_t value = 0;
  const auto result = std::from_chars(normalized.data(), normalized.data() + normalized.size(), value);
  if (result.ec == std::errc() && result.ptr == normalized.data() + normalized.size()) return Value::from_int(value);
  auto out = std::make_shared<Value>();
  out->kind = Value::Kind::BigInt;
  out->text = std::move(normalized);
  return out;
}

std::optional<std::uint64_t> parse_index(std::string_view text) {
  text = trim(text, kPickleBlanks);
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Dict / set keys: a canonical text per hashable value so that equal Python keys (1 == 1.0 ==
// True, equal strings, equal tuples) collapse as they would in a Python dict.
// Keys whose canonical text would exceed this are treated as unhashable (never merged): shared
// tuples nest as a DAG whose text could grow exponentially with the depth.
constexpr std::size_t kMaxCanonicalKeyBytes = 1 << 16;

bool canonical_key(const Value& v, std::string& out, int depth) {
  if (out.size() > kMaxCanonicalKeyBytes) return false;
  switch (v.kind) {
    case Value::Kind::None: out += 'N'; return true;
    case Value::Kind::Bool: out += v.boolean ? "i1;" : "i0;"; return true;
    case Value::Kind::Int: out += 'i' + std::to_string(v.integer) + ';'; return true;
    case Value::Kind::BigInt: out += 'i' + v.text + ';'; return true;
    case Value::Kind::Float: {
      if (std::isnan(v.real)) return false;  // NaN never equals itself
      if (std::floor(v.real) == v.real && v.real >= -9223372036854775808.0 && v.real < 9223372036854775808.0) {
        out += 'i' + std::to_string(static_cast<std::int64_t>(v.real)) + ';';
        return true;
      }
      char buffer[64];
      const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v.real);
      out += 'f';
      out.append(buffer, result.ptr);
      out += ';';
      return true;
    }
    case Value::Kind::Str:
    case Value::Kind::Bytes:
      if (v.text.size() > kMaxCanonicalKeyBytes - out.size()) return false;
      out += v.kind == Value::Kind::Str ? 's' : 'b';
      out += std::to_string(v.text.size()) + ':' + v.text;
      return true;
    case Value::Kind::Global:
      out += 'g' + std::to_string(v.module.size()) + ':' + v.module + std::to_string(v.name.size()) + ':' + v.name;
      return true;
    case Value::Kind::Tuple:
      if (depth > 32) return false;
      out += 't' + std::to_string(v.items.size()) + '(';
      for (const auto& item : v.items)
        if (!item || !canonical_key(*item, out, depth + 1)) return false;
      out += ')';
      return out.size() <= kMaxCanonicalKeyBytes;
    default:
      return false;  // unhashable in Python (or not worth comparing): never merged
  }
}

// ---------------------------------------------------------------------------------------------
// Graph checks. Pickles can describe shared and self-referencing structures (through the memo).
// poselift's consumers walk values recursively, so self-references are refused when they are
// about to be made (nothing cyclic ever exists, so nothing leaks), and the nesting depth of the
// result is bounded.

bool is_container(const Value& v) {
  switch (v.kind) {
    case Value::Kind::List: case Value::Kind::Tuple: case Value::Kind::Set: case Value::Kind::Dict:
      return true;
    case Value::Kind::Object:
      return v.object != nullptr;
    default:
      return false;
  }
}

template <class Visit>
void for_each_child(const Value& v, Visit&& visit) {
  for (const auto& item : v.items) visit(item);
  for (const auto& [key, value] : v.entries) {
    visit(key);
    visit(value);
  }
  if (v.kind == Value::Kind::Object && v.object) {
    const Object& o = *v.object;
    for (const auto& arg : o.args) visit(arg);
    visit(o.state);
    for (const auto& item : o.list_items) visit(item);
    for (const auto& [key, value] : o.dict_items) {
      visit(key);
      visit(value);
    }
    visit(o.kwargs);
  }
}

// True when a cycle of containers is reachable from `roots`: one depth-first walk with the
// usual three colours, each container and edge visited once.
bool has_cycle(const std::vector<ValuePtr>& roots) {
  enum class Colour { Open, Done };
  std::unordered_map<const Value*, Colour> colour;
  struct Frame {
    const Value* node;
    std::vector<const Value*> children;
    std::size_t next;
  };
  auto make_frame = [](const Value* node) {
    Frame frame{node, {}, 0};
    for_each_child(*node, [&frame](const ValuePtr& child) {
      if (child && is_container(*child)) frame.children.push_back(child.get());
    });
    return frame;
  };
  std::vector<Frame> frames;
  for (const ValuePtr& root : roots) {
    if (!root || !is_container(*root) || colour.count(root.get())) continue;
    colour[root.get()] = Colour::Open;
    frames.push_back(make_frame(root.get()));
    while (!frames.empty()) {
      Frame& frame = frames.back();
      if (frame.next == frame.children.size()) {
        colour[frame.node] = Colour::Done;
        frames.pop_back();
        continue;
      }
      const Value* child = frame.children[frame.next++];
      auto [it, inserted] = colour.try_emplace(child, Colour::Open);
      if (!inserted) {
        if (it->second == Colour::Open) return true;  // back to a container still being walked
        continue;
      }
      frames.push_back(make_frame(child));  // `frame` is not used after this
    }
  }
  return false;
}

// Empties every container reachable from `roots`, so cycles among them cannot keep each other
// alive once the unpickler drops its references (the values are being discarded).
void clear_reachable(const std::vector<ValuePtr>& roots) {
  std::vector<ValuePtr> pending(roots.begin(), roots.end());
  while (!pending.empty()) {
    ValuePtr node = std::move(pending.back());
    pending.pop_back();
    if (!node || !is_container(*node)) continue;
    for_each_child(*node, [&pending](const ValuePtr& child) {
      if (child && is_container(*child)) pending.push_back(child);
    });
    node->items.clear();
    node->entries.clear();
    if (node->kind == Value::Kind::Object && node->object) {
      Object& o = *node->object;
      o.args.clear();
      o.list_items.clear();
      o.dict_items.clear();
      o.state.reset();
      o.kwargs.reset();
    }
  }
}

// Longest chain of nested containers under `root` (a DAG: shared nodes are measured once).
std::size_t nesting_height(const ValuePtr& root) {
  if (!root || !is_container(*root)) return 0;
  std::unordered_map<const Value*, std::size_t> height;
  struct Frame {
    const Value* node;
    std::vector<const Value*> children;
    std::size_t next;
    std::size_t height;
  };
  auto make_frame = [](const Value* node) {
    Frame frame{node, {}, 0, 1};
    for_each_child(*node, [&frame](const ValuePtr& child) {
      if (child && is_container(*child)) frame.children.push_back(child.get());
    });
    return frame;
  };
  std::vector<Frame> frames;
  frames.push_back(make_frame(root.get()));
  while (true) {
    Frame& frame = frames.back();
    if (frame.next < frame.children.size()) {
      const Value* child = frame.children[frame.next++];
      auto known = height.find(child);
      if (known != height.end()) frame.height = std::max(frame.height, known->second + 1);
      else frames.push_back(make_frame(child));  // `frame` is not used after this
      continue;
    }
    const std::size_t finished = frame.height;
    height[frame.node] = finished;
    frames.pop_back();
    if (frames.empty()) return finished;
    frames.back().height = std::max(frames.back().height, finished + 1);
  }
}

bool is_builtins_module(const std::string& module) { return module == "builtins" || module == "__builtin__"; }


// ---------------------------------------------------------------------------------------------

class Unpickler final : public UnpickleContext {
 public:
  Unpickler(const std::uint8_t* data, std::size_t size, std::size_t start, const std::string& source,
            const UnpickleHooks& hooks, const UnpickleLimits& limits)
      : data_(data),
        size_(size),
        pos_(start),
        source_(source),
        hooks_(hooks),
        limits_(limits),
        budget_(limits.max_total_bytes ? limits.max_total_bytes : unpickle_budget(size)),
        used_(limits.used ? limits.used : &own_used_) {}

  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  ValuePtr run();
  // The offset just past the STOP opcode once run() has returned.
  std::size_t position() const { return pos_; }
  // After a failure: breaks the cycles an unfinished pickle may have made (they would leak).
  void release() noexcept {
    try {
      if (!dirty_.empty() && has_cycle(dirty_)) clear_reachable(dirty_);
    } catch (...) {  // out of memory while walking: the values leak, nothing worse
    }
  }

 private:
  // ---- errors ----
  std::string location() const override {
    return source_ + ": pickle " + opcode_name(op_) + " at byte " + std::to_string(op_offset_);
  }
  [[noreturn]] void fail(const std::string& message) const { throw InputError(location() + ": " + message); }

  // ---- input ----
  std::size_t remaining() const { return size_ - pos_; }
  const std::uint8_t* take(std::uint64_t count) {
    if (count > remaining())
      fail("needs " + std::to_string(count) + " bytes but only " + std::to_string(remaining()) + " remain");
    const std::uint8_t* p = data_ + pos_;
    pos_ += static_cast<std::size_t>(count);
    return p;
  }
  std::uint8_t read_u8() { return *take(1); }
  std::uint64_t read_le(std::size_t count) {
    const std::uint8_t* p = take(count);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < count; ++i) value |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return value;
  }
  std::int32_t read_i32() {
    const auto bits = static_cast<std::uint32_t>(read_le(4));
    std::int32_t value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }
  std::string_view read_line() {
    const auto* start = data_ + pos_;
    const void* newline = std::memchr(start, '\n', remaining());
    if (!newline) fail("argument is not terminated by a newline");
    const auto length = static_cast<std::size_t>(static_cast<const std::uint8_t*>(newline) - start);
    pos_ += length + 1;
    return std::string_view(reinterpret_cast<const char*>(start), length);
  }
  // A length-prefixed payload, checked against the bytes present before anything is copied.
  std::string_view read_payload(std::uint64_t length) {
    const std::uint8_t* p = take(length);
    charge(length);
    return std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(length));
  }
  void charge(std::uint64_t bytes) override {
    if (bytes > budget_ - std::min(*used_, budget_))
      fail("the rebuilt values would take more than the limit of " + std::to_string(budget_) + " bytes (set " +
           kMaxInputBytesVariable + " to allow more)");
    *used_ += bytes;
  }
  void charge_slots(std::uint64_t count) override { charge(saturating_mul(count, kSlotCost)); }
  std::string utf8_text(std::string_view raw) {
    if (!is_valid_utf8(raw)) fail("text is not valid UTF-8");
    return std::string(raw);
  }

  // ---- stack ----
  std::size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
  ValuePtr pop() {
    if (stack_.size() <= fence()) fail("stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const ValuePtr& top() const {
    if (stack_.size() <= fence()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_to_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  // A value made by this opcode: charged for the memory it takes (its stack slot included).
  void push_new(ValuePtr v) {
    charge(kUnpickleValueCost);
    stack_.push_back(std::move(v));
  }
  // Another reference to an existing value.
  void push_shared(ValuePtr v) {
    charge_slots(1);
    note_shared(v);
    stack_.push_back(std::move(v));
  }

  // ---- memo ----
  void memo_put(std::uint64_t index) {
    auto [it, inserted] = memo_.try_emplace(index);
    if (inserted) charge(kMemoEntryCost);
    it->second = top();
  }
  void memo_get(std::uint64_t index) {
    auto found = memo_.find(index);
    if (found == memo_.end()) fail("memo index " + std::to_string(index) + " was never stored");
    push_shared(found->second);
  }

  // ---- containers ----
  struct KeyIndex {
    ValuePtr owner;  // keeps the container (and so its address) alive while indexed
    std::unordered_map<std::string, std::size_t> positions;
  };
  KeyIndex& key_index(const ValuePtr& container) {
    auto [it, inserted] = key_indexes_.try_emplace(container.get());
    if (inserted) {
      it->second.owner = container;
      const bool is_set = container->kind == Value::Kind::Set;
      const std::size_t count = is_set ? container->items.size() : container->entries.size();
      for (std::size_t i = 0; i < count; ++i) {
        const ValuePtr& key = is_set ? container->items[i] : container->entries[i].first;
        std::string canonical;
        if (key && canonical_key(*key, canonical, 0)) {
          charge(canonical.size() + kKeyEntryCost);
          it->second.positions.emplace(std::move(canonical), i);
        }
      }
    }
    return it->second;
  }
  void dict_set(const ValuePtr& dict, ValuePtr key, ValuePtr value) {
    std::string canonical;
    if (!key || !canonical_key(*key, canonical, 0)) {
      dict->entries.emplace_back(std::move(key), std::move(value));
      return;
    }
    auto& positions = key_index(dict).positions;
    charge(canonical.size() + kKeyEntryCost);
    auto [it, inserted] = positions.emplace(std::move(canonical), dict->entries.size());
    if (inserted) dict->entries.emplace_back(std::move(key), std::move(value));
    else dict->entries[it->second].second = std::move(value);  // Python keeps the first position
  }
  void set_add(const ValuePtr& set, ValuePtr item) {
    std::string canonical;
    if (!item || !canonical_key(*item, canonical, 0)) {
      set->items.push_back(std::move(item));
      return;
    }
    auto& positions = key_index(set).positions;
    charge(canonical.size() + kKeyEntryCost);
    if (positions.emplace(std::move(canonical), set->items.size()).second) set->items.push_back(std::move(item));
  }
  ValuePtr new_dict() { return Value::dict(); }
  void append_items(const ValuePtr& target, std::vector<ValuePtr> items) {
    charge_slots(items.size());
    check_insertion(target);
    if (target->kind == Value::Kind::List) {
      target->items.insert(target->items.end(), std::make_move_iterator(items.begin()),
                           std::make_move_iterator(items.end()));
    } else if (target->kind == Value::Kind::Object && target->object) {
      auto& list = target->object->list_items;
      list.insert(list.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
    } else {
      fail(std::string("cannot append to a ") + Value::kind_name(target->kind));
    }
  }
  void set_items(const ValuePtr& target, std::vector<ValuePtr> items) {
    if (items.size() % 2 != 0) fail("odd number of items for key/value pairs");
    charge_slots(items.size());
    check_insertion(target);
    for (std::size_t i = 0; i < items.size(); i += 2) {
      if (target->kind == Value::Kind::Dict) {
        dict_set(target, std::move(items[i]), std::move(items[i + 1]));
      } else if (target->kind == Value::Kind::Object && target->object) {
        target->object->dict_items.emplace_back(std::move(items[i]), std::move(items[i + 1]));
      } else {
        fail(std::string("cannot set items on a ") + Value::kind_name(target->kind));
      }
    }
  }

  // ---- calls ----
  ValuePtr call(const ValuePtr& callable, std::vector<ValuePtr> args, ValuePtr kwargs);
  ValuePtr call_global(const std::string& module, const std::string& name, std::vector<ValuePtr> args,
                       ValuePtr kwargs, bool allow_indirection);
  ValuePtr call_builtin(const std::string& module, const std::string& name, const std::vector<ValuePtr>& args,
                        const ValuePtr& kwargs, bool allow_indirection);
  ValuePtr dict_from_args(const std::vector<ValuePtr>& args);
  ValuePtr sequence_from_args(Value::Kind kind, const std::vector<ValuePtr>& args);
  ValuePtr bytes_from_args(const std::vector<ValuePtr>& args);
  void build(const ValuePtr& instance, ValuePtr state);

  // ---- text opcodes ----
  std::string decode_string_literal(std::string_view line);
  std::string decode_raw_unicode_escape(std::string_view raw);

  // ---- opcodes, by family (run() dispatches; each returns false for an opcode not its own) ----
  bool stack_opcode();
  bool number_opcode();
  bool text_opcode();
  bool container_opcode();
  bool set_opcode();
  bool object_opcode();
  void push_int_line();
  void push_long_line();
  void push_binary_long();
  void push_decimal_float();
  void push_small_tuple(std::size_t count);
  void push_persistent(ValuePtr pid);

  void finish(const ValuePtr& result);
  // A container whose reference was duplicated (GET, DUP, hook results) may be reachable from
  // the values inserted into it: only those insertions need the (costlier) self-reference check.
  void note_shared(const ValuePtr& v) override {
    if (v && (v->kind == Value::Kind::List || v->kind == Value::Kind::Dict || v->kind == Value::Kind::Set ||
              v->kind == Value::Kind::Object))
      shared_.insert(v.get());
  }
  // Only an insertion into a container referenced from elsewhere can close a cycle. Such
  // containers are remembered and the graph under them is checked once, at STOP: checking at
  // every insertion walks the inserted values each time, quadratic for a long run of APPENDs
  // into a shared list.
  void check_insertion(const ValuePtr& target) {
    if (shared_.count(target.get()) && dirty_seen_.insert(target.get()).second) {
      charge(kKeyEntryCost);
      dirty_.push_back(target);
    }
  }
  // The hooks' errors name the file too (they know only the value they were given).
  template <class Call>
  ValuePtr call_hook(Call&& call) {
    try {
      return call();
    } catch (const InputError& error) {
      // Messages that start with the file ("model.bin: ..." for "model.bin:archive/data.pkl")
      // already name it.
      const std::string message = error.what();
      const std::string file = source_.substr(0, source_.find(':'));
      if (message.compare(0, file.size(), file) == 0) throw;
      fail(message);
    }
  }

  static constexpr std::uint64_t kSlotCost = sizeof(ValuePtr);
  static constexpr std::uint64_t kMemoEntryCost = sizeof(ValuePtr) + 48;  // hash node + bucket
  static constexpr std::uint64_t kKeyEntryCost = 64;

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_;
  const std::string& source_;
  const UnpickleHooks& hooks_;
  const UnpickleLimits& limits_;
  std::uint8_t op_ = 0;
  std::size_t op_offset_ = 0;
  std::uint64_t budget_;
  std::uint64_t own_used_ = 0;
  std::uint64_t* used_;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
  std::unordered_map<const Value*, KeyIndex> key_indexes_;
  std::unordered_set<const Value*> shared_;
  std::vector<ValuePtr> dirty_;  // shared containers that received insertions (see check_insertion)
  std::unordered_set<const Value*> dirty_seen_;
};

void Unpickler::build(const ValuePtr& instance, ValuePtr state) {
  if (instance->kind == Value::Kind::Object && instance->object) {
    check_insertion(instance);
    if (state)
      for (const UnpickleExtension& extension : hooks_.extensions)
        if (extension.build && extension.build(*this, *instance, *state)) return;
    instance->object->state = std::move(state);
    return;
  }
  // BUILD on a dict is an OrderedDict's attributes (e.g. a state dict's _metadata): not data.
  // Other values (hook results, plain containers) have no state to receive: ignored as well.
}

ValuePtr Unpickler::dict_from_args(const std::vector<ValuePtr>& args) {
  ValuePtr dict = new_dict();
  if (args.empty()) return dict;
  if (args.size() != 1 || !args[0]) return nullptr;
  const Value& source = *args[0];
  if (source.kind == Value::Kind::Dict) {
    charge_slots(2 * static_cast<std::uint64_t>(source.entries.size()));
    for (const auto& [key, value] : source.entries) dict_set(dict, key, value);
    return dict;
  }
  if (source.kind != Value::Kind::List && source.kind != Value::Kind::Tuple) return nullptr;
  charge_slots(2 * static_cast<std::uint64_t>(source.items.size()));
  for (const auto& pair : source.items) {  // OrderedDict([[key, value], ...]) as protocols 0/1 write it
    if (!pair || (pair->kind != Value::Kind::List && pair->kind != Value::Kind::Tuple) || pair->items.size() != 2)
      return nullptr;
    dict_set(dict, pair->items[0], pair->items[1]);
  }
  return dict;
}

ValuePtr Unpickler::sequence_from_args(Value::Kind kind, const std::vector<ValuePtr>& args) {
  auto out = std::make_shared<Value>();
  out->kind = kind;
  if (args.empty()) return out;
  if (args.size() != 1 || !args[0]) return nullptr;
  const Value& source = *args[0];
  if (source.kind != Value::Kind::List && source.kind != Value::Kind::Tuple && source.kind != Value::Kind::Set)
    return nullptr;
  charge_slots(source.items.size());
  if (kind == Value::Kind::Set) {
    for (const auto& item : source.items) set_add(out, item);
  } else {
    out->items = source.items;
  }
  return out;
}

ValuePtr Unpickler::bytes_from_args(const std::vector<ValuePtr>& args) {
  if (args.empty()) return Value::from_bytes("");
  if (!args[0]) return nullptr;
  const Value& data = *args[0];
  if (args.size() == 1 && data.kind == Value::Kind::Bytes) {
    charge(data.text.size());
    return Value::from_bytes(data.text);
  }
  if (args.size() == 1 && (data.kind == Value::Kind::List || data.kind == Value::Kind::Tuple)) {
    charge(data.items.size());
    std::string out;
    for (const auto& item : data.items) {
      if (!item || item->kind != Value::Kind::Int || item->integer < 0 || item->integer > 255) return nullptr;
      out += static_cast<char>(item->integer);
    }
    return Value::from_bytes(std::move(out));
  }
  if (args.size() >= 2 && data.kind == Value::Kind::Str && args[1] && args[1]->kind == Value::Kind::Str) {
    // bytes(str, encoding) / _codecs.encode(str, encoding): protocol 2's spelling of bytes.
    const std::string& encoding = args[1]->text;
    charge(data.text.size());
    if (encoding == "latin1" || encoding == "latin-1" || encoding == "iso-8859-1" || encoding == "ISO-8859-1") {
      auto encoded = utf8_to_latin1(data.text);
      if (!encoded) fail("text cannot be encoded as latin-1");
      return Value::from_bytes(std::move(*encoded));
    }
    if (encoding == "utf-8" || encoding == "utf8" || encoding == "UTF-8") return Value::from_bytes(data.text);
    if (encoding == "ascii" || encoding == "ASCII") {
      for (unsigned char c : data.text)
        if (c >= 0x80) fail("text cannot be encoded as ASCII");
      return Value::from_bytes(data.text);
    }
  }
  return nullptr;
}

ValuePtr Unpickler::call_builtin(const std::string& module, const std::string& name, const std::vector<ValuePtr>& args,
                                 const ValuePtr& kwargs, bool allow_indirection) {
  const bool has_kwargs = kwargs && !(kwargs->kind == Value::Kind::Dict && kwargs->entries.empty());
  if (has_kwargs) return nullptr;
  if ((module == "collections" && name == "OrderedDict") || (is_builtins_module(module) && name == "dict"))
    return dict_from_args(args);
  if (is_builtins_module(module)) {
    if (name == "list") return sequence_from_args(Value::Kind::List, args);
    if (name == "tuple") return sequence_from_args(Value::Kind::Tuple, args);
    if (name == "set" || name == "frozenset") return sequence_from_args(Value::Kind::Set, args);
    if (name == "bytes" || name == "bytearray") return bytes_from_args(args);
    return nullptr;
  }
  if (module == "_codecs" && name == "encode") return args.size() >= 2 ? bytes_from_args(args) : nullptr;
  for (const UnpickleExtension& extension : hooks_.extensions)
    if (extension.reduce)
      if (ValuePtr rebuilt = extension.reduce(*this, module, name, args)) return rebuilt;
  if ((module == "copyreg" || module == "copy_reg") && allow_indirection && !args.empty() && args[0] &&
      args[0]->kind == Value::Kind::Global) {
    // Protocols 0/1 make instances through these helpers; unwrap them to the real class, once.
    if (name == "_reconstructor") return call_global(args[0]->module, args[0]->name, {}, nullptr, false);
    if (name == "__newobj__")
      return call_global(args[0]->module, args[0]->name, std::vector<ValuePtr>(args.begin() + 1, args.end()),
                         nullptr, false);
  }
  return nullptr;
}

ValuePtr Unpickler::call_global(const std::string& module, const std::string& name, std::vector<ValuePtr> args,
                                ValuePtr kwargs, bool allow_indirection) {
  if (hooks_.reduce) {
    if (ValuePtr rebuilt = call_hook([&] { return hooks_.reduce(module, name, args); })) {
      note_shared(rebuilt);  // a hook may hand out the same value twice
      return rebuilt;
    }
  }
  if (ValuePtr rebuilt = call_builtin(module, name, args, kwargs, allow_indirection)) return rebuilt;
  // Unknown callables (numpy.dtype and ndarray reconstruction included, until BUILD) stay data.
  charge(sizeof(Object) + 32 + module.size() + name.size());
  ValuePtr object = Value::make_object(module, name, std::move(args));
  object->object->kwargs = std::move(kwargs);
  return object;
}

ValuePtr Unpickler::call(const ValuePtr& callable, std::vector<ValuePtr> args, ValuePtr kwargs) {
  if (callable->kind == Value::Kind::Global)
    return call_global(callable->module, callable->name, std::move(args), std::move(kwargs), true);
  charge(sizeof(Object) + 32 + kSlotCost);
  args.insert(args.begin(), callable);
  ValuePtr object = Value::make_object("", "", std::move(args));
  object->object->kwargs = std::move(kwargs);
  return object;
}

std::string Unpickler::decode_string_literal(std::string_view line) {
  // STRING: a Python 2 repr, quoted, with backslash escapes (codecs.escape_decode).
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.size() < 2 || line.front() != line.back() || (line.front() != '\'' && line.front() != '"'))
    fail("the STRING argument must be quoted");
  line = line.substr(1, line.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c != '\\' || i + 1 == line.size()) {
      out += c;
      continue;
    }
    const char e = line[++i];
    switch (e) {
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\n': break;
      case 'x': {
        if (i + 2 >= line.size()) fail("truncated \\x escape in STRING");
        const int high = hex_digit(line[i + 1]);
        const int low = hex_digit(line[i + 2]);
        if (high < 0 || low < 0) fail("invalid \\x escape in STRING");
        out += static_cast<char>(high * 16 + low);
        i += 2;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int value = e - '0';
          for (int k = 0; k < 2 && i + 1 < line.size() && line[i + 1] >= '0' && line[i + 1] <= '7'; ++k)
            value = value * 8 + (line[++i] - '0');
          out += static_cast<char>(value & 0xFF);
        } else {
          out += '\\';  // unknown escapes are kept literally
          out += e;
        }
    }
  }
  return out;
}

std::string Unpickler::decode_raw_unicode_escape(std::string_view raw) {
  // UNICODE: latin-1 bytes where \uXXXX and \UXXXXXXXX (after an odd run of backslashes) escape.
  std::string out;
  std::size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] != '\\') {
      append_utf8(out, static_cast<unsigned char>(raw[i++]));
      continue;
    }
    std::size_t run = 0;
    while (i < raw.size() && raw[i] == '\\') {
      ++run;
      ++i;
    }
    const bool escape = (run % 2 == 1) && i < raw.size() && (raw[i] == 'u' || raw[i] == 'U');
    out.append(escape ? run - 1 : run, '\\');
    if (!escape) continue;
    const std::size_t digits = raw[i] == 'u' ? 4 : 8;
    ++i;
    if (raw.size() - i < digits) fail("truncated \\u escape in UNICODE");
    std::uint32_t code_point = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const int digit = hex_digit(raw[i + k]);
      if (digit < 0) fail("invalid \\u escape in UNICODE");
      code_point = code_point * 16 + static_cast<std::uint32_t>(digit);
    }
    if (code_point > 0x10FFFF) fail("\\U escape beyond U+10FFFF in UNICODE");
    append_utf8(out, code_point);
    i += digits;
  }
  return out;
}

void Unpickler::finish(const ValuePtr& result) {
  if (!dirty_.empty() && has_cycle(dirty_)) {
    clear_reachable(dirty_);
    fail("self-referencing structures are not supported");
  }
  if (nesting_height(result) > limits_.max_depth)
    fail("values nest deeper than the limit of " + std::to_string(limits_.max_depth) + " levels");
}

// The opcodes by family. Each handler reports whether the opcode was one of its own; the
// families are disjoint, so the order in which run() asks them changes nothing but speed.

// Framing, the stack and the memo.
bool Unpickler::stack_opcode() {
  using namespace opcode;
  switch (op_) {
    case kProto: {
      const unsigned version = read_u8();
      if (version > 5) fail("unsupported protocol " + std::to_string(version) + " (0-5 are known)");
      return true;
    }
    case kFrame: {
      const std::uint64_t length = read_le(8);
      if (length > remaining())
        fail("frame of " + std::to_string(length) + " bytes but only " + std::to_string(remaining()) + " remain");
      return true;
    }
    case kMark:
      if (marks_.size() >= limits_.max_depth)
        fail("MARKs nest deeper than the limit of " + std::to_string(limits_.max_depth));
      marks_.push_back(stack_.size());
      return true;
    case kPop:
      // CPython pops a MARK when it is on top of the stack.
      if (!marks_.empty() && marks_.back() == stack_.size()) marks_.pop_back();
      else pop();
      return true;
    case kPopMark: pop_to_mark(); return true;
    case kDup: push_shared(top()); return true;

    case kPut: {
      const auto index = parse_index(read_line());
      if (!index) fail("PUT index must be a decimal integer");
      memo_put(*index);
      return true;
    }
    case kBinPut: memo_put(read_u8()); return true;
    case kLongBinPut: memo_put(read_le(4)); return true;
    case kMemoize: memo_put(memo_.size()); return true;
    case kGet: {
      const auto index = parse_index(read_line());
      if (!index) fail("GET index must be a decimal integer");
      memo_get(*index);
      return true;
    }
    case kBinGet: memo_get(read_u8()); return true;
    case kLongBinGet: memo_get(read_le(4)); return true;
    default: return false;
  }
}

// INT: a decimal line (protocol 0), which also spells the booleans.
void Unpickler::push_int_line() {
  const std::string_view line = trim(read_line(), kPickleBlanks);
  if (line.size() > kMaxIntDigits) fail("integer longer than " + std::to_string(kMaxIntDigits) + " digits");
  if (line == "00" || line == "01") {  // protocol 0 spells booleans this way
    push_new(Value::from_bool(line == "01"));
    return;
  }
  ValuePtr value = int_from_decimal(line);
  if (!value) fail("malformed integer '" + std::string(line.substr(0, 40)) + "'");
  push_new(std::move(value));
}

// LONG: a decimal line with Python 2's optional 'L' suffix.
void Unpickler::push_long_line() {
  std::string_view line = trim(read_line(), kPickleBlanks);
  if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
  if (line.size() > kMaxIntDigits) fail("integer longer than " + std::to_string(kMaxIntDigits) + " digits");
  ValuePtr value = int_from_decimal(line);
  if (!value) fail("malformed integer '" + std::string(line.substr(0, 40)) + "'");
  charge(3 * line.size());
  push_new(std::move(value));
}

// LONG1 and LONG4: a little-endian two's complement integer of a given byte count.
void Unpickler::push_binary_long() {
  std::uint64_t length;
  if (op_ == opcode::kLong1) {
    length = read_u8();
  } else {
    const std::int32_t declared = read_i32();
    if (declared < 0) fail("negative byte count");
    length = static_cast<std::uint64_t>(declared);
  }
  if (length > kMaxIntBytes)
    fail("integer of " + std::to_string(length) + " bytes exceeds the limit of " + std::to_string(kMaxIntBytes));
  const std::uint8_t* bytes = take(length);
  charge(3 * length);  // decimal digits
  push_new(int_from_twos_complement(bytes, static_cast<std::size_t>(length)));
}

// FLOAT: a decimal line, read as Python's float() reads it.
void Unpickler::push_decimal_float() {
  const std::string_view line = trim(read_line(), kPickleBlanks);
  double value = 0.0;
  const auto result = std::from_chars(line.data(), line.data() + line.size(), value);
  if (line.empty() || result.ptr != line.data() + line.size() ||
      (result.ec != std::errc() && result.ec != std::errc::result_out_of_range))
    fail("malformed float '" + std::string(line.substr(0, 40)) + "'");
  if (result.ec == std::errc::result_out_of_range) {
    // from_chars leaves the value untouched on overflow; Python gives inf / 0.
    const bool negative = line.front() == '-';
    const auto exponent = line.find_first_of("eE");
    const bool tiny = exponent != std::string_view::npos && exponent + 1 < line.size() && line[exponent + 1] == '-';
    value = tiny ? (negative ? -0.0 : 0.0) : (negative ? -HUGE_VAL : HUGE_VAL);
  }
  push_new(Value::from_float(value));
}

// None, booleans, integers and floats.
bool Unpickler::number_opcode() {
  using namespace opcode;
  switch (op_) {
    case kNone: push_new(Value::none()); return true;
    case kNewTrue: push_new(Value::from_bool(true)); return true;
    case kNewFalse: push_new(Value::from_bool(false)); return true;
    case kInt: push_int_line(); return true;
    case kLong: push_long_line(); return true;
    case kBinInt: push_new(Value::from_int(read_i32())); return true;
    case kBinInt1: push_new(Value::from_int(read_u8())); return true;
    case kBinInt2: push_new(Value::from_int(static_cast<std::int64_t>(read_le(2)))); return true;
    case kLong1:
    case kLong4: push_binary_long(); return true;
    case kFloat: push_decimal_float(); return true;
    case kBinFloat: {
      const std::uint8_t* p = take(8);
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
      double value;
      std::memcpy(&value, &bits, sizeof(value));
      push_new(Value::from_float(value));
      return true;
    }
    default: return false;
  }
}

// str, bytes and buffers.
bool Unpickler::text_opcode() {
  using namespace opcode;
  switch (op_) {
    case kString: {
      const std::string decoded = decode_string_literal(read_line());
      charge(2 * decoded.size());  // latin-1 takes up to two bytes per character in UTF-8
      push_new(Value::from_str(latin1_to_utf8(decoded)));
      return true;
    }
    case kBinString: {
      const std::int32_t length = read_i32();
      if (length < 0) fail("negative byte count");
      const std::string_view raw = read_payload(static_cast<std::uint64_t>(length));
      charge(raw.size());  // latin-1 takes up to two bytes per character in UTF-8
      push_new(Value::from_str(latin1_to_utf8(raw)));
      return true;
    }
    case kShortBinString: {
      const std::string_view raw = read_payload(read_u8());
      charge(raw.size());
      push_new(Value::from_str(latin1_to_utf8(raw)));
      return true;
    }
    case kUnicode: {
      const std::string_view raw = read_line();
      charge(2 * raw.size());
      push_new(Value::from_str(decode_raw_unicode_escape(raw)));
      return true;
    }
    case kShortBinUnicode: push_new(Value::from_str(utf8_text(read_payload(read_u8())))); return true;
    case kBinUnicode: push_new(Value::from_str(utf8_text(read_payload(read_le(4))))); return true;
    case kBinUnicode8: push_new(Value::from_str(utf8_text(read_payload(read_le(8))))); return true;
    case kShortBinBytes: push_new(Value::from_bytes(std::string(read_payload(read_u8())))); return true;
    case kBinBytes: push_new(Value::from_bytes(std::string(read_payload(read_le(4))))); return true;
    case kBinBytes8:
    case kByteArray8: push_new(Value::from_bytes(std::string(read_payload(read_le(8))))); return true;
    case kNextBuffer: fail("out-of-band buffers are not available (pickle the data with in-band buffers)");
    case kReadonlyBuffer: top(); return true;  // a read-only view of the buffer on top: same data
    default: return false;
  }
}

// TUPLE1-3: the top one to three values of the stack, above the MARK fence.
void Unpickler::push_small_tuple(std::size_t count) {
  if (stack_.size() < fence() + count) fail("stack underflow");
  std::vector<ValuePtr> items(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(count)),
                              std::make_move_iterator(stack_.end()));
  stack_.resize(stack_.size() - count);
  charge_slots(count);
  push_new(Value::tuple(std::move(items)));
}

// Sets: EMPTY_SET, ADDITEMS and FROZENSET.
bool Unpickler::set_opcode() {
  using namespace opcode;
  switch (op_) {
    case kEmptySet: push_new(Value::set()); return true;
    case kAddItems: {
      std::vector<ValuePtr> items = pop_to_mark();
      const ValuePtr& target = top();
      if (target->kind != Value::Kind::Set) fail(std::string("cannot add items to a ") + Value::kind_name(target->kind));
      charge_slots(items.size());
      check_insertion(target);
      for (auto& item : items) set_add(target, std::move(item));
      return true;
    }
    case kFrozenSet: {
      std::vector<ValuePtr> items = pop_to_mark();
      ValuePtr set = Value::set();
      push_new(set);
      charge_slots(items.size());
      for (auto& item : items) set_add(set, std::move(item));
      return true;
    }
    default: return false;
  }
}

// Tuples, lists and dicts (sets in set_opcode).
bool Unpickler::container_opcode() {
  using namespace opcode;
  switch (op_) {
    case kEmptyTuple: push_new(Value::tuple()); return true;
    case kTuple1: push_small_tuple(1); return true;
    case kTuple2: push_small_tuple(2); return true;
    case kTuple3: push_small_tuple(3); return true;
    case kTuple: {
      std::vector<ValuePtr> items = pop_to_mark();
      charge_slots(items.size());
      push_new(Value::tuple(std::move(items)));
      return true;
    }
    case kEmptyList: push_new(Value::list()); return true;
    case kList: {
      std::vector<ValuePtr> items = pop_to_mark();
      charge_slots(items.size());
      push_new(Value::list(std::move(items)));
      return true;
    }
    case kAppend: {
      ValuePtr value = pop();
      append_items(top(), {std::move(value)});
      return true;
    }
    case kAppends: {
      std::vector<ValuePtr> items = pop_to_mark();
      append_items(top(), std::move(items));
      return true;
    }
    case kEmptyDict: push_new(new_dict()); return true;
    case kDict: {
      std::vector<ValuePtr> items = pop_to_mark();
      ValuePtr dict = new_dict();
      push_new(dict);
      set_items(dict, std::move(items));
      return true;
    }
    case kSetItem: {
      ValuePtr value = pop();
      ValuePtr key = pop();
      set_items(top(), {std::move(key), std::move(value)});
      return true;
    }
    case kSetItems: {
      std::vector<ValuePtr> items = pop_to_mark();
      set_items(top(), std::move(items));
      return true;
    }
    default: return set_opcode();
  }
}

// PERSID and BINPERSID: a reference the caller's hook resolves (torch's storages).
void Unpickler::push_persistent(ValuePtr pid) {
  if (!hooks_.persistent_load) fail("persistent ids are not supported for this input");
  ValuePtr loaded = call_hook([&] { return hooks_.persistent_load(pid); });
  if (!loaded) fail("persistent id " + pid->repr(60) + " could not be resolved");
  note_shared(loaded);
  push_new(std::move(loaded));
}

// Globals, calls (REDUCE, NEWOBJ, INST, OBJ), BUILD and persistent ids.
bool Unpickler::object_opcode() {
  using namespace opcode;
  switch (op_) {
    case kGlobal: {
      std::string module = utf8_text(read_line());
      std::string name = utf8_text(read_line());
      charge(module.size() + name.size());
      push_new(Value::global(std::move(module), std::move(name)));
      return true;
    }
    case kStackGlobal: {
      ValuePtr name = pop();
      ValuePtr module = pop();
      if (name->kind != Value::Kind::Str || module->kind != Value::Kind::Str) fail("module and name must be str");
      charge(module->text.size() + name->text.size());
      push_new(Value::global(module->text, name->text));
      return true;
    }
    case kReduce:
    case kNewObj: {
      ValuePtr args = pop();
      ValuePtr callable = pop();
      if (args->kind != Value::Kind::Tuple) fail("arguments must be a tuple");
      push_new(call(callable, args->items, nullptr));
      return true;
    }
    case kNewObjEx: {
      ValuePtr kwargs = pop();
      ValuePtr args = pop();
      ValuePtr cls = pop();
      if (args->kind != Value::Kind::Tuple) fail("arguments must be a tuple");
      if (kwargs->kind != Value::Kind::Dict) fail("keyword arguments must be a dict");
      push_new(call(cls, args->items, std::move(kwargs)));
      return true;
    }
    case kInst: {
      std::string module = utf8_text(read_line());
      std::string name = utf8_text(read_line());
      std::vector<ValuePtr> args = pop_to_mark();
      push_new(call_global(module, name, std::move(args), nullptr, true));
      return true;
    }
    case kObj: {
      std::vector<ValuePtr> items = pop_to_mark();
      if (items.empty()) fail("OBJ needs a class");
      ValuePtr cls = items.front();
      push_new(call(cls, std::vector<ValuePtr>(items.begin() + 1, items.end()), nullptr));
      return true;
    }
    case kBuild: {
      ValuePtr state = pop();
      build(top(), std::move(state));
      return true;
    }
    case kPersId: {
      std::string text = utf8_text(read_line());
      charge(kUnpickleValueCost + text.size());
      push_persistent(Value::from_str(std::move(text)));
      return true;
    }
    case kBinPersId: push_persistent(pop()); return true;
    case kExt1:
    case kExt2:
    case kExt4: fail("extension registry codes are not supported");
    default: return false;
  }
}

ValuePtr Unpickler::run() {
  while (true) {
    if (pos_ >= size_) {
      op_offset_ = pos_;
      throw InputError(source_ + ": pickle data truncated at byte " + std::to_string(pos_) + " (no STOP opcode)");
    }
    op_offset_ = pos_;
    op_ = data_[pos_++];
    if (op_ == opcode::kStop) {
      ValuePtr result = pop();
      finish(result);
      return result;
    }
    if (!stack_opcode() && !container_opcode() && !text_opcode() && !number_opcode() && !object_opcode())
      fail("not a pickle opcode (corrupt or not a pickle)");
  }
}

}  // namespace

void UnpickleContext::fail(const std::string& message) const { throw InputError(location() + ": " + message); }

ValuePtr unpickle(const std::uint8_t* data, std::size_t size, const std::string& source, const UnpickleHooks& hooks,
                  const UnpickleLimits& limits) {
  return unpickle_at(data, size, 0, source, hooks, limits).value;
}

PickleAt unpickle_at(const std::uint8_t* data, std::size_t size, std::size_t offset, const std::string& source,
                     const UnpickleHooks& hooks, const UnpickleLimits& limits) {
  if (!data && size != 0) throw InputError(source + ": no pickle data");
  if (offset > size)
    throw InputError(source + ": pickle offset " + std::to_string(offset) + " is past the end of " +
                     std::to_string(size) + " bytes");
  static const std::uint8_t kEmpty = 0;
  Unpickler unpickler(data ? data : &kEmpty, size, offset, source, hooks, limits);
  try {
    ValuePtr value = unpickler.run();
    return {std::move(value), unpickler.position()};
  } catch (...) {
    unpickler.release();
    throw;
  }
}

// =============================================================================================
// Pickler

namespace {

void append_le(std::string& out, std::uint64_t value, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

// Minimal little-endian two's complement bytes of an integer given as decimal text.
std::string decimal_to_twos_complement(const std::string& decimal) {
  std::string_view digits = decimal;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative || (!digits.empty() && digits.front() == '+')) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > kMaxIntDigits) throw InputError("pickle writer: malformed big integer");
  std::vector<std::uint32_t> limbs;  // magnitude, base 2^32, least significant first
  for (char c : digits) {
    if (c < '0' || c > '9') throw InputError("pickle writer: malformed big integer '" + decimal.substr(0, 40) + "'");
    std::uint64_t carry = static_cast<std::uint64_t>(c - '0');
    for (auto& limb : limbs) {
      const std::uint64_t product = static_cast<std::uint64_t>(limb) * 10 + carry;
      limb = static_cast<std::uint32_t>(product);
      carry = product >> 32;
    }
    if (carry) limbs.push_back(static_cast<std::uint32_t>(carry));
  }
  std::vector<std::uint8_t> bytes;
  for (std::uint32_t limb : limbs)
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(limb >> (8 * i)));
  while (!bytes.empty() && bytes.back() == 0) bytes.pop_back();
  if (bytes.empty()) return std::string();  // zero: LONG1 with no bytes
  if (negative) {
    unsigned carry = 1;
    for (auto& byte : bytes) {
      const unsigned sum = static_cast<std::uint8_t>(~byte) + carry;
      byte = static_cast<std::uint8_t>(sum & 0xFF);
      carry = sum >> 8;
    }
    if ((bytes.back() & 0x80) == 0) bytes.push_back(0xFF);
  } else if (bytes.back() & 0x80) {
    bytes.push_back(0x00);
  }
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

std::string Pickler::dump(const Value& root) {
  if (protocol != 2 && protocol != 3) throw InputError("pickle writer: protocol " + std::to_string(protocol) +
                                                       " is not supported (2 or 3)");
  out_.clear();
  out_ += '\x80';
  out_ += static_cast<char>(protocol);
  write(root);
  out_ += '.';
  std::string result;
  result.swap(out_);
  return result;
}

void Pickler::write(const Value& v) { write(v, 0, true); }

void Pickler::write_global(const std::string& module, const std::string& name) {
  if (module.find('\n') != std::string::npos || name.find('\n') != std::string::npos)
    throw InputError("pickle writer: global name " + Value::from_str(module + "." + name)->repr() +
                     " contains a newline");
  out_ += 'c';
  out_ += module;
  out_ += '\n';
  out_ += name;
  out_ += '\n';
}

void Pickler::write_int(std::int64_t v) {
  if (v >= 0 && v < 256) {
    out_ += 'K';
    out_ += static_cast<char>(v);
  } else if (v >= 0 && v < 65536) {
    out_ += 'M';
    append_le(out_, static_cast<std::uint64_t>(v), 2);
  } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
    out_ += 'J';
    append_le(out_, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)), 4);
  } else {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    std::uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(bits >> (8 * i));
    std::size_t count = 8;  // drop redundant sign-extension bytes
    while (count > 1 && ((bytes[count - 1] == 0x00 && !(bytes[count - 2] & 0x80)) ||
                         (bytes[count - 1] == 0xFF && (bytes[count - 2] & 0x80))))
      --count;
    out_ += '\x8a';
    out_ += static_cast<char>(count);
    out_.append(reinterpret_cast<const char*>(bytes), count);
  }
}

void Pickler::write_big_int(const std::string& decimal) {
  const std::string bytes = decimal_to_twos_complement(decimal);
  if (bytes.size() < 256) {
    out_ += '\x8a';
    out_ += static_cast<char>(bytes.size());
  } else {
    out_ += '\x8b';
    append_le(out_, bytes.size(), 4);
  }
  out_ += bytes;
}

void Pickler::write_str(const std::string& utf8) {
  if (utf8.size() > 0xFFFFFFFFull) throw InputError("pickle writer: str of " + std::to_string(utf8.size()) +
                                                    " bytes is too large for protocol " + std::to_string(protocol));
  out_ += 'X';
  append_le(out_, utf8.size(), 4);
  out_ += utf8;
}

void Pickler::write_bytes(const char* data, std::size_t size) {
  if (protocol >= 3) {
    if (size > 0xFFFFFFFFull) throw InputError("pickle writer: bytes of " + std::to_string(size) +
                                               " bytes are too large for protocol 3");
    if (size < 256) {
      out_ += 'C';
      out_ += static_cast<char>(size);
    } else {
      out_ += 'B';
      append_le(out_, size, 4);
    }
    out_.append(data, size);
    return;
  }
  // Protocol 2 has no bytes opcode: CPython writes _codecs.encode(<latin-1 text>, 'latin1').
  write_global("_codecs", "encode");
  write_str(latin1_to_utf8(std::string_view(data, size)));
  write_str("latin1");
  out_ += '\x86';  // TUPLE2
  out_ += 'R';
}

void Pickler::write_tuple(const std::vector<ValuePtr>& items, std::size_t depth) {
  if (items.empty()) {
    out_ += ')';
    return;
  }
  if (items.size() > 3) out_ += '(';
  for (const auto& item : items) {
    if (item) write(*item, depth + 1, true); else out_ += 'N';
  }
  if (items.size() == 1) out_ += '\x85';
  else if (items.size() == 2) out_ += '\x86';
  else if (items.size() == 3) out_ += '\x87';
  else out_ += 't';
}

void Pickler::write_list_items(const std::vector<ValuePtr>& items, std::size_t depth) {
  // Batches of 1000, as CPython does, keep the reader's stack small.
  for (std::size_t start = 0; start < items.size(); start += 1000) {
    const std::size_t end = std::min(items.size(), start + 1000);
    if (end - start > 1) out_ += '(';
    for (std::size_t i = start; i < end; ++i) {
      if (items[i]) write(*items[i], depth + 1, true); else out_ += 'N';
    }
    out_ += end - start > 1 ? 'e' : 'a';
  }
}

void Pickler::write_dict_items(const std::vector<std::pair<ValuePtr, ValuePtr>>& entries, std::size_t depth) {
  for (std::size_t start = 0; start < entries.size(); start += 1000) {
    const std::size_t end = std::min(entries.size(), start + 1000);
    if (end - start > 1) out_ += '(';
    for (std::size_t i = start; i < end; ++i) {
      if (entries[i].first) write(*entries[i].first, depth + 1, true); else out_ += 'N';
      if (entries[i].second) write(*entries[i].second, depth + 1, true); else out_ += 'N';
    }
    out_ += end - start > 1 ? 'u' : 's';
  }
}

void Pickler::write_dtype(DType dtype) {
  // numpy.dtype('f4', False, True) then BUILD (3, '<', None, None, None, -1, -1, 0).
  const std::string code = numpy_type_code(dtype);
  write_global("numpy", "dtype");
  write_str(code.substr(1));
  out_ += '\x89';  // NEWFALSE
  out_ += '\x88';  // NEWTRUE
  out_ += '\x87';  // TUPLE3
  out_ += 'R';
  out_ += '(';
  write_int(3);
  write_str(code.substr(0, 1));
  out_ += "NNN";
  write_int(-1);
  write_int(-1);
  write_int(0);
  out_ += 't';
  out_ += 'b';
}

void Pickler::write_array(const NdArray& array) {
  const std::size_t expected = checked_byte_size(array.shape, array.dtype, "pickle writer: array");
  if (array.bytes.size() != expected)
    throw InputError("pickle writer: array " + array.shape_string() + " holds " + std::to_string(array.bytes.size()) +
                     " bytes instead of " + std::to_string(expected));
  // numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b') then BUILD with
  // (1, shape, dtype, is_fortran=False, raw bytes): what ndarray.__reduce__ produces.
  write_global("numpy.core.multiarray", "_reconstruct");
  write_global("numpy", "ndarray");
  write_int(0);
  out_ += '\x85';  // TUPLE1
  write_bytes("b", 1);
  out_ += '\x87';  // TUPLE3
  out_ += 'R';
  out_ += '(';
  write_int(1);
  if (array.shape.size() > 3) out_ += '(';
  for (std::int64_t dim : array.shape) write_int(dim);
  if (array.shape.empty()) out_ += ')';
  else if (array.shape.size() == 1) out_ += '\x85';
  else if (array.shape.size() == 2) out_ += '\x86';
  else if (array.shape.size() == 3) out_ += '\x87';
  else out_ += 't';
  write_dtype(array.dtype);
  out_ += '\x89';  // NEWFALSE: C order
  write_bytes(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  out_ += 't';
  out_ += 'b';
}

void Pickler::write(const Value& v, std::size_t depth, bool allow_persistent_id) {
  if (depth > max_depth)
    throw InputError("pickle writer: values nest deeper than " + std::to_string(max_depth) + " levels");
  if (allow_persistent_id && persistent_id) {
    if (ValuePtr pid = persistent_id(v)) {
      write(*pid, depth + 1, false);
      out_ += 'Q';  // BINPERSID
      return;
    }
  }
  switch (v.kind) {
    case Value::Kind::None: out_ += 'N'; break;
    case Value::Kind::Bool: out_ += v.boolean ? '\x88' : '\x89'; break;
    case Value::Kind::Int: write_int(v.integer); break;
    case Value::Kind::BigInt: write_big_int(v.text); break;
    case Value::Kind::Float: {
      std::uint64_t bits;
      std::memcpy(&bits, &v.real, sizeof(bits));
      out_ += 'G';
      for (int i = 7; i >= 0; --i) out_ += static_cast<char>((bits >> (8 * i)) & 0xFF);  // big-endian
      break;
    }
    case Value::Kind::Str: write_str(v.text); break;
    case Value::Kind::Bytes: write_bytes(v.text.data(), v.text.size()); break;
    case Value::Kind::List:
      out_ += ']';
      write_list_items(v.items, depth);
      break;
    case Value::Kind::Tuple: write_tuple(v.items, depth); break;
    case Value::Kind::Set:
      // Protocol 2/3 spelling: set([items]).
      write_global(protocol < 3 ? "__builtin__" : "builtins", "set");  // CPython's spelling per protocol
      out_ += ']';
      write_list_items(v.items, depth + 1);
      out_ += '\x85';
      out_ += 'R';
      break;
    case Value::Kind::Dict:
      out_ += '}';
      write_dict_items(v.entries, depth);
      break;
    case Value::Kind::Array:
      if (!v.array) throw InputError("pickle writer: array value without data");
      write_array(*v.array);
      break;
    case Value::Kind::Global: write_global(v.module, v.name); break;
    case Value::Kind::Object: {
      if (!v.object) throw InputError("pickle writer: object value without data");
      const Object& o = *v.object;
      if (o.kwargs && !(o.kwargs->kind == Value::Kind::Dict && o.kwargs->entries.empty()))
        throw InputError("pickle writer: keyword arguments of " + o.module + "." + o.name +
                         " cannot be written in protocol " + std::to_string(protocol));
      if (o.module.empty() && o.name.empty()) {
        // A call of a non-global callable (args[0]), as the unpickler represents it.
        if (o.args.empty() || !o.args[0]) throw InputError("pickle writer: call object without a callable");
        write(*o.args[0], depth + 1, true);
        write_tuple(std::vector<ValuePtr>(o.args.begin() + 1, o.args.end()), depth);
      } else {
        write_global(o.module, o.name);
        write_tuple(o.args, depth);
      }
      out_ += 'R';
      write_list_items(o.list_items, depth);
      write_dict_items(o.dict_items, depth);
      if (o.state) {
        write(*o.state, depth + 1, true);
        out_ += 'b';
      }
      break;
    }
    case Value::Kind::Extension:
      throw InputError("pickle writer: cannot write " +
                       (v.extension ? v.extension->type_name() : std::string("extension")) +
                       " values without a persistent_id for them");
  }
}

}  // namespace poselift::io
