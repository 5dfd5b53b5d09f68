// JSON read from untrusted files (COCO / OpenPose detections, joint mappings). nlohmann's
// parser is iterative, but dump(), comparison and copying recurse as deep as a value nests,
// so the nesting is bounded while parsing and messages show values through a cut excerpt.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace poselift::io {

// Real inputs nest 3-4 levels; this leaves room for any sane producer.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses `text`. Nesting deeper than `max_depth` throws InputError naming `source`; syntax
// errors (and numbers out of double range) propagate as nlohmann::json::exception, for the
// caller to word.
nlohmann::json parse_json_bounded(std::string_view text, const std::string& source,
                                  std::size_t max_depth = kMaxJsonDepth);

// `value` as JSON text for a message, cut to about `max_chars` characters.
std::string json_excerpt(const nlohmann::json& value, std::size_t max_chars = 60);

}  // namespace poselift::io
