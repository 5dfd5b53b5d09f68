#include "io/text.hpp"

namespace poselift::io {

namespace {

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

bool iends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

std::string_view trim(std::string_view text, std::string_view chars) {
  const std::size_t first = text.find_first_not_of(chars);
  if (first == std::string_view::npos) return text.substr(text.size());
  return text.substr(first, text.find_last_not_of(chars) - first + 1);
}

bool next_code_point(std::string_view text, std::size_t& i, std::uint32_t& code_point) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) {
    code_point = lead;
    ++i;
    return true;
  }
  std::size_t length;
  std::uint32_t value;
  if ((lead & 0xE0) == 0xC0) { length = 2; value = lead & 0x1Fu; }
  else if ((lead & 0xF0) == 0xE0) { length = 3; value = lead & 0x0Fu; }
  else if ((lead & 0xF8) == 0xF0) { length = 4; value = lead & 0x07u; }
  else return false;
  if (length > text.size() - i) return false;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return false;
    value = (value << 6) | (next & 0x3Fu);
  }
  if ((length == 2 && value < 0x80) || (length == 3 && value < 0x800) ||
      (length == 4 && (value < 0x10000 || value > 0x10FFFF)))
    return false;  // overlong or out of range
  code_point = value;
  i += length;
  return true;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  std::uint32_t code_point;
  while (i < text.size())
    if (!next_code_point(text, i, code_point)) return false;
  return true;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) append_utf8(out, c);
  return out;
}

std::optional<std::string> utf8_to_latin1(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  std::uint32_t code_point;
  while (i < text.size()) {
    if (!next_code_point(text, i, code_point) || code_point > 0xFF) return std::nullopt;
    out += static_cast<char>(code_point);
  }
  return out;
}

}  // namespace poselift::io
