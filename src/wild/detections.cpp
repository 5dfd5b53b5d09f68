#include "wild/detections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/dataset.hpp"
#include "data/h36m.hpp"
#include "data/video_keypoints.hpp"
#include "io/error.hpp"
#include "io/json_text.hpp"
#include "io/npy.hpp"
#include "io/file.hpp"
#include "io/text.hpp"

namespace poselift::wild {

namespace fs = std::filesystem;
using nlohmann::json;

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Coco17: return "coco";
    case Layout::Coco18: return "coco18";
    case Layout::Body25: return "body25";
    case Layout::H36m17: return "h36m";
  }
  return "?";
}

int layout_joint_count(Layout layout) {
  switch (layout) {
    case Layout::Coco17: return 17;
    case Layout::Coco18: return 18;
    case Layout::Body25: return 25;
    case Layout::H36m17: return 17;
  }
  return 0;
}

Layout parse_layout(const std::string& name, const std::string& what) {
  const std::string n = io::to_lower(name);
  if (n == "coco" || n == "coco17") return Layout::Coco17;
  if (n == "coco18" || n == "openpose-coco") return Layout::Coco18;
  if (n == "body25" || n == "body_25") return Layout::Body25;
  if (n == "h36m" || n == "h36m17" || n == "human36m") return Layout::H36m17;
  throw InputError(fmt::format("{}: unknown keypoint layout '{}' (expected coco, coco18, body25 or h36m)", what, name));
}

std::int64_t trailing_number(std::string_view name) {
  std::size_t end = name.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(name[end - 1]))) --end;
  if (end == 0) return -1;
  std::size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(name[begin - 1]))) --begin;
  // Frame numbers beyond 18 digits are not frame numbers.
  if (end - begin > 18) return -1;
  return std::stoll(std::string(name.substr(begin, end - begin)));
}

namespace {

// The layout a keypoint count implies; 17 is COCO unless the user says h36m.
Layout layout_for_count(std::size_t count, const ReadOptions& options, const std::string& what) {
  if (options.layout != "auto") {
    const Layout forced = parse_layout(options.layout, "--layout");
    if (static_cast<std::size_t>(layout_joint_count(forced)) != count)
      throw InputError(fmt::format("{}: {} keypoints, but layout {} has {}", what, count, layout_name(forced),
                                   layout_joint_count(forced)));
    return forced;
  }
  if (count == 17) return Layout::Coco17;
  if (count == 18) return Layout::Coco18;
  if (count == 25) return Layout::Body25;
  throw InputError(fmt::format("{}: {} keypoints per person; expected 17 (COCO), 18 (OpenPose COCO-18) or 25 "
                               "(OpenPose BODY_25)",
                               what, count));
}

// Beyond float range (or NaN/inf) counts as missing: the conversion itself would be undefined.
float finite_or_missing(double v) {
  return std::isfinite(v) && std::abs(v) < 1e30 ? static_cast<float>(v) : std::numeric_limits<float>::quiet_NaN();
}

// x, y, c triples -> keypoints. Non-finite coordinates and OpenPose's (0, 0, 0) are missing.
std::vector<Keypoint> triples(const std::vector<double>& flat) {
  std::vector<Keypoint> out(flat.size() / 3);
  for (std::size_t k = 0; k < out.size(); ++k) {
    const float x = finite_or_missing(flat[3 * k]), y = finite_or_missing(flat[3 * k + 1]);
    float c = finite_or_missing(flat[3 * k + 2]);
    if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(c) || c < 0.0f) c = 0.0f;
    out[k] = {std::isfinite(x) ? x : 0.0f, std::isfinite(y) ? y : 0.0f, c};
  }
  return out;
}

std::vector<double> json_numbers(const json& value, const std::string& what) {
  if (!value.is_array()) throw InputError(what + ": expected a list of numbers, found " + std::string(value.type_name()));
  std::vector<double> out;
  out.reserve(value.size());
  for (const auto& v : value) {
    if (v.is_number()) out.push_back(v.get<double>());
    else if (v.is_null()) out.push_back(std::numeric_limits<double>::quiet_NaN());
    else throw InputError(what + ": expected numbers, found " + std::string(v.type_name()));
  }
  return out;
}

json parse_json(std::string_view text, const std::string& source) {
  try {
    return io::parse_json_bounded(text, source);
  } catch (const json::exception& e) {  // syntax errors, and numbers out of range (out_of_range 406)
    throw InputError(fmt::format("{}: not valid JSON ({})", source, e.what()));
  }
}

void sort_frames(Detections& d) {
  std::sort(d.frames.begin(), d.frames.end(), [](const Frame& a, const Frame& b) { return a.index < b.index; });
}

Frame& frame_at(std::map<std::int64_t, Frame>& frames, std::int64_t index) {
  auto& f = frames[index];
  f.index = index;
  return f;
}

bool has_person(const Detections& d) {
  for (const auto& f : d.frames)
    if (!f.people.empty()) return true;
  return false;
}

}  // namespace

Detections parse_coco_json(std::string_view text, const std::string& source, const ReadOptions& options) {
  const json doc = parse_json(text, source);
  // Some tools wrap the list: {"annotations": [...]}.
  const json* list = &doc;
  if (doc.is_object() && doc.contains("annotations")) list = &doc.at("annotations");
  if (!list->is_array())
    throw InputError(source + ": expected a COCO keypoint results list [{image_id, category_id, keypoints, score}, ...]");
  Detections d;
  d.source = source;
  std::map<std::int64_t, Frame> frames;
  bool have_layout = false;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string what = fmt::format("{}: entry {}", source, i);
    if (!entry.is_object()) throw InputError(what + ": expected an object");
    if (!entry.contains("image_id")) throw InputError(what + ": missing 'image_id'");
    const json& id = entry.at("image_id");
    std::int64_t frame = -1;
    if (id.is_number_integer()) frame = id.get<std::int64_t>();
    else if (id.is_string()) frame = trailing_number(id.get_ref<const std::string&>());
    if (frame < 0)
      throw InputError(what + ": 'image_id' must be a frame number or a name containing one, found " + io::json_excerpt(id));
    if (entry.contains("category_id") && entry.at("category_id").is_number_integer() &&
        entry.at("category_id").get<std::int64_t>() != options.category_id)
      continue;
    if (!entry.contains("keypoints")) throw InputError(what + ": missing 'keypoints'");
    const auto flat = json_numbers(entry.at("keypoints"), what + ".keypoints");
    if (flat.size() % 3 != 0 || flat.empty())
      throw InputError(fmt::format("{}.keypoints: {} values; expected x, y, score triples (51 for COCO's 17 keypoints)",
                                   what, flat.size()));
    const Layout layout = layout_for_count(flat.size() / 3, options, what + ".keypoints");
    if (!have_layout) d.layout = layout;
    else if (layout != d.layout)
      throw InputError(fmt::format("{}.keypoints: {} keypoints, but earlier entries have {}", what, flat.size() / 3,
                                   layout_joint_count(d.layout)));
    have_layout = true;
    Person p;
    p.keypoints = triples(flat);
    if (entry.contains("score")) {
      if (!entry.at("score").is_number()) throw InputError(what + ".score: expected a number");
      const double score = entry.at("score").get<double>();
      p.score = std::isfinite(score) ? static_cast<float>(std::clamp(score, -1e30, 1e30)) : 0.0f;
    }
    frame_at(frames, frame).people.push_back(std::move(p));
  }
  for (auto& [index, f] : frames) d.frames.push_back(std::move(f));
  return d;
}

void parse_openpose_frame(std::string_view text, const std::string& source, std::int64_t frame, Detections& out) {
  const json doc = parse_json(text, source);
  if (!doc.is_object() || !doc.contains("people") || !doc.at("people").is_array())
    throw InputError(source + ": expected an OpenPose frame {\"people\": [{\"pose_keypoints_2d\": [...]}, ...]}");
  Frame f;
  f.index = frame;
  const json& people = doc.at("people");
  for (std::size_t i = 0; i < people.size(); ++i) {
    const std::string what = fmt::format("{}: people[{}]", source, i);
    if (!people[i].is_object() || !people[i].contains("pose_keypoints_2d"))
      throw InputError(what + ": missing 'pose_keypoints_2d'");
    const auto flat = json_numbers(people[i].at("pose_keypoints_2d"), what + ".pose_keypoints_2d");
    if (flat.empty()) continue;  // OpenPose writes empty lists when the body model was off
    if (flat.size() % 3 != 0)
      throw InputError(fmt::format("{}.pose_keypoints_2d: {} values; expected x, y, confidence triples", what,
                                   flat.size()));
    const std::size_t count = flat.size() / 3;
    if (count != 18 && count != 25)
      throw InputError(fmt::format("{}.pose_keypoints_2d: {} keypoints; expected 25 (BODY_25) or 18 (COCO-18)", what,
                                   count));
    const Layout layout = count == 25 ? Layout::Body25 : Layout::Coco18;
    const bool first = f.people.empty() && !has_person(out);
    if (first) out.layout = layout;
    else if (layout != out.layout)
      throw InputError(fmt::format("{}.pose_keypoints_2d: {} keypoints, but earlier people have {}", what, count,
                                   layout_joint_count(out.layout)));
    Person p;
    p.keypoints = triples(flat);
    f.people.push_back(std::move(p));
  }
  out.frames.push_back(std::move(f));
}

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (char c : line) {
    if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (c != '\r' && c != '"') {
      cell += c;
    }
  }
  cells.push_back(cell);
  for (auto& s : cells) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  }
  return cells;
}


double csv_number(const std::string& cell, const std::string& what) {
  const std::string l = io::to_lower(cell);
  if (cell.empty() || l == "nan" || l == "na" || l == "null") return std::numeric_limits<double>::quiet_NaN();
  const char* begin = cell.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || *end != '\0') throw InputError(what + ": expected a number, found '" + cell + "'");
  return v;
}

std::int64_t csv_integer(const std::string& cell, const std::string& what) {
  const double v = csv_number(cell, what);
  if (!std::isfinite(v) || v != std::floor(v) || v < 0 || v > 1e15)
    throw InputError(what + ": expected a non-negative integer, found '" + cell + "'");
  return static_cast<std::int64_t>(v);
}

}  // namespace

Detections parse_csv(std::string_view text, const std::string& source, const ReadOptions& options) {
  std::istringstream in{std::string(text)};
  std::string line;
  std::int64_t line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      header = split_csv_line(line);
      break;
    }
  }
  if (header.empty() || io::to_lower(header[0]) != "frame")
    throw InputError(source + ": expected a CSV header starting with 'frame' (frame[,person],x0,y0[,score0],...)");
  const bool has_person = header.size() > 1 && (io::to_lower(header[1]) == "person" || io::to_lower(header[1]) == "track");
  const std::size_t first = has_person ? 2 : 1;
  const std::size_t values = header.size() - first;
  std::size_t per = 0, count = 0;
  for (std::size_t k : {17, 18, 25}) {
    if (values == 3 * k) per = 3, count = k;
    else if (values == 2 * k) per = 2, count = k;
  }
  if (per == 0)
    throw InputError(fmt::format("{}: header has {} keypoint columns; expected 2 or 3 per keypoint (x, y[, score]) "
                                 "for 17, 18 or 25 keypoints",
                                 source, values));
  Detections d;
  d.source = source;
  d.layout = layout_for_count(count, options, source + ": header");
  std::map<std::int64_t, Frame> frames;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", source, line_no);
    const auto cells = split_csv_line(line);
    if (cells.size() != header.size())
      throw InputError(fmt::format("{}: {} columns, the header has {}", where, cells.size(), header.size()));
    Person p;
    const std::int64_t frame = csv_integer(cells[0], where + ": frame");
    if (has_person) {
      const std::int64_t id = csv_integer(cells[1], where + ": person");
      if (id > std::numeric_limits<int>::max()) throw InputError(where + ": person id too large");
      p.id = static_cast<int>(id);
    }
    std::vector<double> flat;
    for (std::size_t k = 0; k < count; ++k) {
      for (std::size_t c = 0; c < per; ++c)
        flat.push_back(csv_number(cells[first + k * per + c], fmt::format("{}: column '{}'", where,
                                                                          header[first + k * per + c])));
      if (per == 2) flat.push_back(std::isfinite(flat[flat.size() - 1]) && std::isfinite(flat[flat.size() - 2]) ? 1.0 : 0.0);
    }
    p.keypoints = triples(flat);
    frame_at(frames, frame).people.push_back(std::move(p));
  }
  for (auto& [index, f] : frames) d.frames.push_back(std::move(f));
  return d;
}

namespace {

Detections read_openpose_folder(const std::string& folder) {
  std::vector<std::pair<std::int64_t, std::string>> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file() || !io::iends_with(entry.path().string(), ".json")) continue;
    const std::int64_t frame = trailing_number(entry.path().stem().string());
    if (frame < 0)
      throw InputError(entry.path().string() + ": OpenPose frame file without a frame number in its name");
    files.emplace_back(frame, entry.path().string());
  }
  if (files.empty()) throw InputError(folder + ": no .json files (expected OpenPose per-frame output)");
  std::sort(files.begin(), files.end());
  for (std::size_t i = 1; i < files.size(); ++i)
    if (files[i].first == files[i - 1].first)
      throw InputError(fmt::format("{} and {}: the same frame number {}", files[i - 1].second, files[i].second,
                                   files[i].first));
  Detections d;
  d.source = folder;
  for (const auto& [frame, path] : files) parse_openpose_frame(io::read_text_file(path), path, frame, d);
  return d;
}

// VideoPose3D's data_2d_custom layout, or a dataset's 2D file (one sequence chosen by --video).
// One person per frame from a (T, J, C) array; non-finite points are missing.
std::vector<Frame> sequence_frames(const io::NdArray& a) {
  std::vector<Frame> frames;
  const auto values = a.to_doubles();
  const std::int64_t T = a.shape[0], J = a.shape[1], C = a.shape[2];
  for (std::int64_t t = 0; t < T; ++t) {
    Frame f;
    f.index = t;
    Person p;
    p.keypoints.resize(static_cast<std::size_t>(J));
    bool any = false;
    for (std::int64_t j = 0; j < J; ++j) {
      const double x = values[static_cast<std::size_t>((t * J + j) * C)];
      const double y = values[static_cast<std::size_t>((t * J + j) * C + 1)];
      const double c = C > 2 ? values[static_cast<std::size_t>((t * J + j) * C + 2)] : 1.0;
      const bool ok = std::isfinite(finite_or_missing(x)) && std::isfinite(finite_or_missing(y)) &&
                      std::isfinite(finite_or_missing(c));
      p.keypoints[static_cast<std::size_t>(j)] = {ok ? finite_or_missing(x) : 0.0f, ok ? finite_or_missing(y) : 0.0f,
                                                  ok ? finite_or_missing(std::max(0.0, c)) : 0.0f};
      any = any || ok;
    }
    if (any) f.people.push_back(std::move(p));
    frames.push_back(std::move(f));
  }
  return frames;
}


Detections read_custom_npz(const std::string& path, const ReadOptions& options) {
  const data::Sequence2d sequence = data::read_2d_sequence(path, options.video);
  const io::NdArray& a = *sequence.keypoints;
  const std::string& what = sequence.what;
  // A dataset's own joints are Human3.6M's when it has 17 (VideoPose3D's h36m files).
  Layout layout = sequence.is_dataset && a.shape[1] == data::h36m::kJoints ? Layout::H36m17 : Layout::Coco17;
  if (const auto name = data::metadata_layout_name(sequence)) layout = parse_layout(*name, path + ": metadata['layout_name']");
  if (options.layout != "auto") layout = parse_layout(options.layout, "--layout");
  if (a.shape[1] != layout_joint_count(layout))
    throw InputError(fmt::format("{}: {} joints, but layout {} has {}", what, a.shape[1], layout_name(layout),
                                 layout_joint_count(layout)));
  Detections d;
  d.source = path;
  d.layout = layout;
  if (sequence.is_dataset) d.fps = data::dataset_fps(path);
  if (const auto size = data::video_size(sequence)) {
    const auto [width, height] = *size;
    if (width <= 0 || height <= 0 || width > 1'000'000 || height > 1'000'000)
      throw InputError(fmt::format("{}: metadata['video_metadata']['{}']: implausible image size {}x{}", path,
                                   sequence.name, width, height));
    d.width = static_cast<int>(width);
    d.height = static_cast<int>(height);
  }
  d.frames = sequence_frames(a);
  return d;
}
}  // namespace

Detections read_detections(const std::string& path, const ReadOptions& options) {
  if (!fs::exists(path)) throw InputError(path + ": no such file or folder");
  std::string format = options.format;
  if (format == "auto") {
    if (fs::is_directory(path)) format = "openpose";
    else if (io::iends_with(path, ".npz")) format = "npz";
    else if (io::iends_with(path, ".csv")) format = "csv";
    else if (io::iends_with(path, ".json")) {
      // An OpenPose frame is an object with "people"; COCO results are a list.
      const std::string text = io::read_text_file(path);
      const auto p = text.find_first_not_of(" \t\r\n");
      format = (p != std::string::npos && text[p] == '{' && text.find("\"people\"") != std::string::npos) ? "openpose"
                                                                                                         : "coco";
    } else {
      throw InputError(path + ": cannot tell the format from the name (expected .json, .csv, .npz or an OpenPose "
                              "folder); pass --format coco|openpose|npz|csv");
    }
  }
  Detections d;
  if (format == "coco") d = parse_coco_json(io::read_text_file(path), path, options);
  else if (format == "csv") d = parse_csv(io::read_text_file(path), path, options);
  else if (format == "npz") d = read_custom_npz(path, options);
  else if (format == "openpose") {
    if (fs::is_directory(path)) d = read_openpose_folder(path);
    else {
      d.source = path;
      const std::int64_t frame = trailing_number(fs::path(path).stem().string());
      parse_openpose_frame(io::read_text_file(path), path, frame < 0 ? 0 : frame, d);
    }
    if (options.layout != "auto") {
      const Layout forced = parse_layout(options.layout, "--layout");
      if (layout_joint_count(forced) != layout_joint_count(d.layout))
        throw InputError(fmt::format("{}: {} keypoints, but --layout {} has {}", path, layout_joint_count(d.layout),
                                     layout_name(forced), layout_joint_count(forced)));
    }
  } else {
    throw InputError("--format: unknown format '" + format + "' (expected auto, coco, openpose, npz or csv)");
  }
  sort_frames(d);
  if (!has_person(d)) throw InputError(path + ": no person detected in any frame");
  return d;
}

}  // namespace poselift::wild
