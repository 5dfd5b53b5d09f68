// Small text helpers shared by the readers and writers: ASCII case folding, prefixes and
// suffixes, trimming, and UTF-8 / latin-1 conversion (Python str and bytes in pickles).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace poselift::io {

bool starts_with(std::string_view text, std::string_view prefix);
bool ends_with(std::string_view text, std::string_view suffix);
// ASCII case-insensitive comparisons ("walk.AMC" ends with ".amc").
bool iequals(std::string_view a, std::string_view b);
bool iends_with(std::string_view text, std::string_view suffix);
// ASCII lower case (other bytes, UTF-8 included, unchanged).
std::string to_lower(std::string_view text);

// Blanks as the text formats here mean them (no newline: input is already split in lines).
inline constexpr std::string_view kBlanks = " \t\r\f\v";
// `text` without leading and trailing characters of `chars`.
std::string_view trim(std::string_view text, std::string_view chars = kBlanks);

// Reads one UTF-8 code point at `i` (advancing it); false on malformed input. Surrogate code
// points are accepted, as CPython's "surrogatepass" does for pickled str.
bool next_code_point(std::string_view text, std::size_t& i, std::uint32_t& code_point);
bool is_valid_utf8(std::string_view text);
void append_utf8(std::string& out, std::uint32_t code_point);
std::string latin1_to_utf8(std::string_view bytes);
// The bytes of `text` encoded as latin-1; nullopt when a character does not fit.
std::optional<std::string> utf8_to_latin1(std::string_view text);

}  // namespace poselift::io
