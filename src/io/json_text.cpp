#include "io/json_text.hpp"

#include "io/error.hpp"

namespace poselift::io {

nlohmann::json parse_json_bounded(std::string_view text, const std::string& source, std::size_t max_depth) {
  using json = nlohmann::json;
  // The callback sees each container as it opens, with the number of containers around it.
  const json::parser_callback_t bound = [&](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        static_cast<std::size_t>(depth) >= max_depth)
      throw InputError(source + ": JSON nests deeper than " + std::to_string(max_depth) + " levels");
    return true;
  };
  return json::parse(text.begin(), text.end(), bound);
}

std::string json_excerpt(const nlohmann::json& value, std::size_t max_chars) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > max_chars) return nlohmann::json(text.substr(0, max_chars)).dump() + "...";
  }
  // Containers are cut to their first few elements before rendering, so a huge array costs
  // nothing; the parse bound keeps the recursion of dump() shallow.
  std::string out;
  if (value.is_array() && value.size() > 8) {
    nlohmann::json head = nlohmann::json::array();
    for (std::size_t i = 0; i < 8; ++i) head.push_back(value[i]);
    out = head.dump();
    out.insert(out.size() - 1, ", ...");
  } else {
    out = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (out.size() > max_chars) {
    std::size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    out = out.substr(0, cut) + "...";
  }
  return out;
}

}  // namespace poselift::io
