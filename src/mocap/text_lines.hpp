// Line and token scanning shared by the BVH and ASF/AMC parsers (internal to src/mocap).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/error.hpp"

namespace poselift::mocap::detail {

// Walks a text line by line (LF or CRLF), counting lines from 1.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}

  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++line_number_;
    return true;
  }
  std::int64_t line_number() const { return line_number_; }
  std::size_t remaining_bytes() const { return pos_ >= text_.size() ? 0 : text_.size() - pos_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::int64_t line_number_ = 0;
};

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

inline void split_tokens(std::string_view line, std::vector<std::string_view>& tokens) {
  tokens.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) tokens.push_back(line.substr(start, i - start));
  }
}

// A finite decimal number ("-1.5", ".0083", "+2", "1e-3"); false otherwise.
inline bool parse_double(std::string_view token, double& value) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  if (token.empty()) return false;
  const auto result = std::from_chars(token.data(), token.data() + token.size(), value);
  return result.ec == std::errc() && result.ptr == token.data() + token.size() && std::isfinite(value);
}

inline bool parse_int64(std::string_view token, std::int64_t& value) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  if (token.empty()) return false;
  const auto result = std::from_chars(token.data(), token.data() + token.size(), value);
  return result.ec == std::errc() && result.ptr == token.data() + token.size();
}

// Quotes a token for a message, cut short so a binary blob cannot flood the terminal.
inline std::string quote_token(std::string_view token) {
  constexpr std::size_t kMax = 40;
  std::string text(token.substr(0, kMax));
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  return "'" + text + (token.size() > kMax ? "...'" : "'");
}

[[noreturn]] inline void fail_at(const std::string& source, std::int64_t line, const std::string& message) {
  throw InputError(source + ":" + std::to_string(line) + ": " + message);
}

}  // namespace poselift::mocap::detail
