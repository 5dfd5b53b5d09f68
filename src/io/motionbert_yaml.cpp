#include "io/motionbert_yaml.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "io/error.hpp"
#include "io/file.hpp"

namespace poselift::io {

namespace {

// What a node holds, for "found ..." in errors: scalars quoted and cut short.
std::string describe(const YAML::Node& v) {
  switch (v.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: {
      const std::string& s = v.Scalar();
      return "'" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "'";
    }
    default: return "nothing";
  }
}

class FieldReader {
 public:
  explicit FieldReader(const std::string& path) : path_(path) {}

  [[noreturn]] void fail(const std::string& key, const std::string& expected, const YAML::Node& v) const {
    std::string found = describe(v);
    if (v.IsScalar() && v.Tag() != "?" && v.Tag() != "!") found += " tagged " + v.Tag();
    else if (v.IsScalar() && v.Tag() == "!") found += " (quoted)";
    throw InputError(fmt::format("{}: '{}': expected {}, found {}", path_, key, expected, found));
  }

  // A plain (unquoted, untagged) scalar: numbers and booleans are such in the original's YAML.
  const std::string* plain(const YAML::Node& v) const { return v.IsScalar() && v.Tag() == "?" ? &v.Scalar() : nullptr; }

  int integer(const std::string& key, const YAML::Node& v, long lo, long hi) const {
    const std::string expected = fmt::format("an integer in [{}, {}]", lo, hi);
    const std::string* s = plain(v);
    if (!s || s->empty() || s->size() > 20) fail(key, expected, v);
    std::size_t i = (*s)[0] == '-' || (*s)[0] == '+' ? 1 : 0;
    if (i == s->size()) fail(key, expected, v);
    for (std::size_t k = i; k < s->size(); ++k)
      if ((*s)[k] < '0' || (*s)[k] > '9') fail(key, expected, v);
    errno = 0;
    const long value = std::strtol(s->c_str(), nullptr, 10);
    if (errno == ERANGE || value < lo || value > hi) fail(key, expected, v);
    return static_cast<int>(value);
  }

  // A finite number in the interval from lo to hi, each end open or closed.
  double real(const std::string& key, const YAML::Node& v, double lo, double hi, bool lo_open = false,
              bool hi_open = false) const {
    const std::string expected =
        fmt::format("a number in {}{}, {}{}", lo_open ? "(" : "[", lo, hi, hi_open ? ")" : "]");
    const std::string* s = plain(v);
    if (!s || s->empty() || s->size() > 64) fail(key, expected, v);
    // Decimal notation only (strtod alone would take "inf", "nan" and hexadecimal).
    bool digit = false;
    for (char c : *s) {
      if (c >= '0' && c <= '9') digit = true;
      else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E') fail(key, expected, v);
    }
    char* end = nullptr;
    const double value = std::strtod(s->c_str(), &end);
    if (!digit || end != s->c_str() + s->size() || !std::isfinite(value)) fail(key, expected, v);
    if (lo_open ? !(value > lo) : !(value >= lo)) fail(key, expected, v);
    if (hi_open ? !(value < hi) : !(value <= hi)) fail(key, expected, v);
    return value;
  }

  bool boolean(const std::string& key, const YAML::Node& v) const {
    static const std::set<std::string> yes = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const std::set<std::string> no = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    const std::string* s = plain(v);
    if (s && yes.count(*s)) return true;
    if (s && no.count(*s)) return false;
    fail(key, "true or false", v);
  }

  std::string text(const std::string& key, const YAML::Node& v) const {
    if (!v.IsScalar() || (v.Tag() != "?" && v.Tag() != "!")) fail(key, "a string", v);
    return v.Scalar();
  }

  std::vector<std::string> texts(const std::string& key, const YAML::Node& v) const {
    if (!v.IsSequence()) fail(key, "a list of strings", v);
    std::vector<std::string> out;
    for (const auto& item : v) {
      if (!item.IsScalar() || (item.Tag() != "?" && item.Tag() != "!")) fail(key, "a list of strings", v);
      out.push_back(item.Scalar());
    }
    return out;
  }

 private:
  const std::string& path_;
};

using Setter = std::function<void(MotionBERTConfigFile&, const FieldReader&, const std::string&, const YAML::Node&)>;

Setter integer(std::optional<int> MotionBERTConfigFile::*field, long lo, long hi) {
  return [=](MotionBERTConfigFile& c, const FieldReader& r, const std::string& key, const YAML::Node& v) {
    c.*field = r.integer(key, v, lo, hi);
  };
}
Setter real(std::optional<double> MotionBERTConfigFile::*field, double lo, double hi, bool lo_open = false,
            bool hi_open = false) {
  return [=](MotionBERTConfigFile& c, const FieldReader& r, const std::string& key, const YAML::Node& v) {
    c.*field = r.real(key, v, lo, hi, lo_open, hi_open);
  };
}
Setter boolean(std::optional<bool> MotionBERTConfigFile::*field) {
  return [=](MotionBERTConfigFile& c, const FieldReader& r, const std::string& key, const YAML::Node& v) {
    c.*field = r.boolean(key, v);
  };
}
Setter text(std::optional<std::string> MotionBERTConfigFile::*field) {
  return [=](MotionBERTConfigFile& c, const FieldReader& r, const std::string& key, const YAML::Node& v) {
    c.*field = r.text(key, v);
  };
}
// `nullable`: null reads as absent (partial_train: null, every parameter trains).
Setter texts(std::optional<std::vector<std::string>> MotionBERTConfigFile::*field, bool nullable = false) {
  return [=](MotionBERTConfigFile& c, const FieldReader& r, const std::string& key, const YAML::Node& v) {
    if (nullable && v.IsNull()) {
      c.*field = std::nullopt;
      return;
    }
    c.*field = r.texts(key, v);
  };
}

// The keys poselift reads, with their types and ranges.
const std::map<std::string, Setter>& fields() {
  using C = MotionBERTConfigFile;
  constexpr double kLambdaMax = 1e6;
  static const std::map<std::string, Setter> table = {
      {"backbone", text(&C::backbone)},
      {"maxlen", integer(&C::maxlen, 1, 100000)},
      {"dim_feat", integer(&C::dim_feat, 1, 65536)},
      {"dim_rep", integer(&C::dim_rep, 1, 65536)},
      {"depth", integer(&C::depth, 1, 1000)},
      {"num_heads", integer(&C::num_heads, 1, 65536)},
      {"num_joints", integer(&C::num_joints, 1, 10000)},
      {"mlp_ratio", real(&C::mlp_ratio, 0, 1000, /*lo_open=*/true)},
      {"att_fuse", boolean(&C::att_fuse)},
      {"rootrel", boolean(&C::rootrel)},
      {"flip", boolean(&C::flip)},
      {"no_conf", boolean(&C::no_conf)},
      {"gt_2d", boolean(&C::gt_2d)},
      {"clip_len", integer(&C::clip_len, 1, 100000)},
      {"epochs", integer(&C::epochs, 0, 1000000)},
      {"checkpoint_frequency", integer(&C::checkpoint_frequency, 1, 1000000)},
      {"batch_size", integer(&C::batch_size, 1, 1 << 20)},
      {"data_stride", integer(&C::data_stride, 1, 100000)},
      {"sample_stride", integer(&C::sample_stride, 1, 100000)},
      {"learning_rate", real(&C::learning_rate, 0, 10, /*lo_open=*/true)},
      {"weight_decay", real(&C::weight_decay, 0, 10)},
      {"lr_decay", real(&C::lr_decay, 0, 10, /*lo_open=*/true)},
      {"dropout", real(&C::dropout, 0, 1, false, /*hi_open=*/true)},
      {"lambda_3d_velocity", real(&C::lambda_3d_velocity, 0, kLambdaMax)},
      {"lambda_scale", real(&C::lambda_scale, 0, kLambdaMax)},
      {"lambda_lv", real(&C::lambda_lv, 0, kLambdaMax)},
      {"lambda_lg", real(&C::lambda_lg, 0, kLambdaMax)},
      {"lambda_a", real(&C::lambda_a, 0, kLambdaMax)},
      {"lambda_av", real(&C::lambda_av, 0, kLambdaMax)},
      {"mask_ratio", real(&C::mask_ratio, 0, 1)},
      {"mask_T_ratio", real(&C::mask_T_ratio, 0, 1)},
      {"train_2d", boolean(&C::train_2d)},
      {"no_eval", boolean(&C::no_eval)},
      {"finetune", boolean(&C::finetune)},
      {"synthetic", boolean(&C::synthetic)},
      {"noise", boolean(&C::noise)},
      {"data_root", text(&C::data_root)},
      {"dt_file", text(&C::dt_file)},
      {"subset_list", texts(&C::subset_list)},
      {"partial_train", texts(&C::partial_train, /*nullable=*/true)},
  };
  return table;
}

YAML::Node load(std::string_view text, const std::string& path) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? "" : fmt::format(" at line {}, column {}", e.mark.line + 1, e.mark.column + 1);
    throw InputError(fmt::format("{}: not a valid YAML file{}: {}", path, where, e.msg));
  }
}

}  // namespace

MotionBERTConfigFile parse_motionbert_yaml(std::string_view text, const std::string& path) {
  if (text.size() > kMaxConfigFileBytes)
    throw InputError(fmt::format("{}: {} bytes exceed the {} bytes a MotionBERT configuration may have", path,
                                 text.size(), kMaxConfigFileBytes));
  const YAML::Node root = load(text, path);
  if (!root.IsMap())
    throw InputError(fmt::format("{}: expected a mapping of MotionBERT settings ('maxlen: 243', ...), found {}", path,
                                 describe(root)));
  MotionBERTConfigFile config;
  config.path = path;
  const FieldReader reader(path);
  std::set<std::string> seen;
  try {
    for (const auto& entry : root) {
      if (!entry.first.IsScalar()) continue;  // not a setting name: nothing the original reads either
      const std::string& key = entry.first.Scalar();
      if (!seen.insert(key).second) throw InputError(fmt::format("{}: '{}' is given twice", path, key));
      const auto field = fields().find(key);
      if (field == fields().end()) continue;  // the original's other settings: unused here
      field->second(config, reader, key, entry.second);
    }
  } catch (const YAML::Exception& e) {  // not expected from a loaded document; kept an InputError
    throw InputError(fmt::format("{}: unreadable YAML: {}", path, e.msg));
  }
  return config;
}

MotionBERTConfigFile read_motionbert_yaml(const std::string& path) {
  return parse_motionbert_yaml(read_text_file(path, kMaxConfigFileBytes), path);
}

}  // namespace poselift::io
