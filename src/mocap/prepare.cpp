#include "mocap/prepare.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "io/error.hpp"
#include "mocap/random.hpp"
#include "io/text.hpp"

namespace poselift::mocap {

namespace {

namespace fs = std::filesystem;


// File name without folders and without ".gz" and the format extension.
std::string clip_stem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  const std::string lower = io::to_lower(name);
  for (const char* extension : {".bvh.gz", ".amc.gz", ".bvh", ".amc"}) {
    const std::string ext = extension;
    if (lower.size() > ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0) {
      name.resize(name.size() - ext.size());
      break;
    }
  }
  return name;
}

std::string clip_format(const std::string& path) {
  const std::string lower = io::to_lower(fs::path(path).filename().string());
  return lower.find(".amc") != std::string::npos ? "amc" : "bvh";
}

// Letters, digits, '_' and '-' only, so subject names are safe in flags and file names.
std::string sanitize(const std::string& text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  return out.empty() ? "clips" : out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

struct Segment {
  std::string action;
  std::vector<Vec3> positions;
};

struct PerformerClips {
  std::vector<Segment> segments;
  std::int64_t frames = 0;
};

}  // namespace

std::string PrepareReport::train_subjects_flag() const { return join(train_subjects); }
std::string PrepareReport::test_subjects_flag() const { return join(test_subjects); }

std::vector<std::string> find_motion_files(const std::vector<std::string>& inputs) {
  std::set<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code error;
    if (fs::is_directory(input, error)) {
      for (fs::recursive_directory_iterator it(input, fs::directory_options::skip_permission_denied, error), end;
           !error && it != end; it.increment(error))
        if (it->is_regular_file(error) && is_motion_file(it->path().string())) files.insert(it->path().string());
      if (error) throw InputError(input + ": cannot scan the folder: " + error.message());
    } else if (fs::is_regular_file(input, error)) {
      if (!is_motion_file(input))
        throw InputError(input + ": not a motion file (expected .bvh, .amc, .bvh.gz or .amc.gz)");
      files.insert(input);
    } else {
      throw InputError(input + ": no such file or folder");
    }
  }
  return {files.begin(), files.end()};
}

namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == separator) parts.emplace_back();
    else parts.back() += c;
  }
  return parts;
}

// CMU "<subject>_<trial>" at the end of a name, before an optional "_<word>" suffix
// ("60_01_scaled"): fills subject and trial (1-3 digits each) and returns true.
bool cmu_numbers(const std::string& stem, int& subject, int& trial) {
  std::vector<std::string> parts = split(stem, '_');
  if (parts.size() >= 3 && !parts.back().empty() && std::isalpha(static_cast<unsigned char>(parts.back().front())))
    parts.pop_back();
  if (parts.size() < 2) return false;
  const std::string& trial_text = parts[parts.size() - 1];
  std::string subject_text = parts[parts.size() - 2];
  // The subject number may follow letters in the same part ("bvh11_131_02" has parts
  // "bvh11", "131", "02"; "take3_01" has "take3"): only a whole-digit part counts.
  if (!all_digits(trial_text) || !all_digits(subject_text) || trial_text.size() > 3 || subject_text.size() > 3)
    return false;
  subject = std::stoi(subject_text);
  trial = std::stoi(trial_text);
  return true;
}

}  // namespace

ClipIdentity identify_clip(const std::string& path) {
  const std::string stem = io::to_lower(clip_stem(path));
  // Bandai: dataset-<N>_<motion>_<style>_<id>.
  const std::vector<std::string> parts = split(stem, '_');
  if (parts.size() == 4 && parts[0].rfind("dataset-", 0) == 0 && all_digits(parts[0].substr(8)) && !parts[1].empty() &&
      !parts[2].empty() && all_digits(parts[3]))
    return {"bandai" + parts[0].substr(8) + "_" + sanitize(parts[2]), clip_stem(path)};
  int subject = 0, trial = 0;
  if (cmu_numbers(stem, subject, trial)) {
    char performer[16], take[24];
    std::snprintf(performer, sizeof performer, "cmu%02d", subject);
    std::snprintf(take, sizeof take, "cmu%02d_%02d", subject, trial);
    return {performer, take};
  }
  const fs::path folder = fs::path(path).parent_path().filename();
  return {sanitize(folder.empty() ? "clips" : folder.string()), clip_stem(path)};
}

std::vector<std::pair<std::int64_t, std::int64_t>> wander_segments(const std::vector<Vec3>& positions,
                                                                   double max_wander, std::int64_t min_frames) {
  std::vector<std::pair<std::int64_t, std::int64_t>> segments;
  const auto frames = static_cast<std::int64_t>(positions.size() / h36m::kJoints);
  std::int64_t begin = 0;
  double min_x = 0, max_x = 0, min_y = 0, max_y = 0;
  for (std::int64_t f = 0; f < frames; ++f) {
    const Vec3& pelvis = positions[static_cast<std::size_t>(f) * h36m::kJoints];
    if (f == begin) {
      min_x = max_x = pelvis.x;
      min_y = max_y = pelvis.y;
      continue;
    }
    const double nx0 = std::min(min_x, pelvis.x), nx1 = std::max(max_x, pelvis.x);
    const double ny0 = std::min(min_y, pelvis.y), ny1 = std::max(max_y, pelvis.y);
    if (nx1 - nx0 > 2.0 * max_wander || ny1 - ny0 > 2.0 * max_wander) {
      segments.emplace_back(begin, f);
      begin = f;
      min_x = max_x = pelvis.x;
      min_y = max_y = pelvis.y;
    } else {
      min_x = nx0, max_x = nx1, min_y = ny0, max_y = ny1;
    }
  }
  if (frames > begin) segments.emplace_back(begin, frames);
  for (auto& [first, last] : segments) {
    if (last - first >= min_frames) continue;
    double lo_x = 1e300, hi_x = -1e300, lo_y = 1e300, hi_y = -1e300;
    for (std::int64_t f = first; f < last; ++f) {
      const Vec3& pelvis = positions[static_cast<std::size_t>(f) * h36m::kJoints];
      lo_x = std::min(lo_x, pelvis.x), hi_x = std::max(hi_x, pelvis.x);
      lo_y = std::min(lo_y, pelvis.y), hi_y = std::max(hi_y, pelvis.y);
    }
    while (first > 0 && last - first < min_frames) {
      const Vec3& pelvis = positions[static_cast<std::size_t>(first - 1) * h36m::kJoints];
      const double x0 = std::min(lo_x, pelvis.x), x1 = std::max(hi_x, pelvis.x);
      const double y0 = std::min(lo_y, pelvis.y), y1 = std::max(hi_y, pelvis.y);
      if (x1 - x0 > 2.0 * max_wander || y1 - y0 > 2.0 * max_wander) break;
      lo_x = x0, hi_x = x1, lo_y = y0, hi_y = y1;
      --first;
    }
  }
  return segments;
}

namespace {

using Performers = std::map<std::string, PerformerClips>;

void check_prepare_options(const PrepareMocapOptions& options) {
  if (options.inputs.empty()) throw InputError("prepare mocap: no input files or folders given");
  check_dataset_name(options.name, "prepare mocap: --name");
  if (options.output_dir.empty()) throw InputError("prepare mocap: no output folder given");
  if (!(options.import.target_fps > 0.0))
    throw InputError("prepare mocap: a target frame rate is needed (all clips are resampled to it)");
  if (!(options.max_wander > 0.0)) throw InputError("prepare mocap: max_wander must be positive");
  if (!(options.test_fraction >= 0.0 && options.test_fraction < 1.0))
    throw InputError("prepare mocap: test_fraction must be in [0, 1)");
}

// A unique action name per subject: the file stem, then its format, then a counter.
std::string unique_action_name(const std::string& file, std::set<std::string>& used) {
  std::string base = clip_stem(file);
  if (used.count(base)) base += "-" + clip_format(file);
  for (int k = 2; used.count(base); ++k) base = clip_stem(file) + "-" + std::to_string(k);
  used.insert(base);
  return base;
}

// Frames [begin, end) of a clip, the pelvis track's bounding box centred on the origin
// (optionally turned to a random heading).
Segment centred_segment(const ImportedClip& clip, std::int64_t begin, std::int64_t end, std::string action,
                        const PrepareMocapOptions& options, const std::string& performer) {
  Segment segment;
  segment.action = std::move(action);
  segment.positions.assign(clip.positions.begin() + begin * h36m::kJoints, clip.positions.begin() + end * h36m::kJoints);
  double min_x = 1e300, max_x = -1e300, min_y = 1e300, max_y = -1e300;
  for (std::size_t f = 0; f < segment.positions.size(); f += h36m::kJoints) {
    min_x = std::min(min_x, segment.positions[f].x), max_x = std::max(max_x, segment.positions[f].x);
    min_y = std::min(min_y, segment.positions[f].y), max_y = std::max(max_y, segment.positions[f].y);
  }
  const Vec3 centre{(min_x + max_x) / 2.0, (min_y + max_y) / 2.0, 0.0};
  Quat heading;
  if (options.random_heading) {
    Rng rng(derive_seed(options.seed, "heading/" + performer + "/" + segment.action));
    heading = axis_rotation(2, rng.uniform(-180.0, 180.0));
  }
  for (Vec3& p : segment.positions) p = rotate(heading, p - centre);
  return segment;
}

// Cuts an imported clip into segments where the performer stays in place and files them
// under its performer; returns what the report says of the clip.
PreparedClip add_clip(const std::string& file, const ImportedClip& clip, const PrepareMocapOptions& options,
                      Performers& performers, std::map<std::string, std::set<std::string>>& used_actions) {
  const ClipIdentity identity = identify_clip(file);
  PreparedClip info;
  info.path = file;
  info.rig = clip.rig;
  info.subject = identity.performer;
  info.source_frames = clip.source_frames;
  info.source_fps = clip.source_fps;
  info.frames = clip.frames;
  info.standing_height = clip.standing_height;
  info.notes = clip.notes;
  const std::string base = unique_action_name(file, used_actions[identity.performer]);

  const auto min_frames =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(options.min_segment_seconds * clip.fps)));
  const auto pieces = wander_segments(clip.positions, options.max_wander, min_frames);
  int kept = 0;
  std::vector<bool> covered(static_cast<std::size_t>(clip.frames), false);
  for (const auto& [begin, end] : pieces) {
    if (end - begin < min_frames) continue;
    ++kept;
    std::fill(covered.begin() + begin, covered.begin() + end, true);
    Segment segment = centred_segment(clip, begin, end, kept == 1 ? base : base + " " + std::to_string(kept),
                                      options, identity.performer);
    info.actions.push_back(segment.action);
    PerformerClips& performer = performers[identity.performer];
    performer.frames += end - begin;
    performer.segments.push_back(std::move(segment));
  }
  info.dropped_frames = std::count(covered.begin(), covered.end(), false);
  return info;
}

// The train/test split is by performer: the ones named, or a seeded choice whose frames come
// closest to the test fraction (never all performers).
std::set<std::string> choose_test_subjects(Performers& performers, const PrepareMocapOptions& options) {
  std::set<std::string> test;
  if (!options.test_subjects.empty()) {
    for (const std::string& subject : options.test_subjects) {
      if (!performers.count(subject)) {
        std::vector<std::string> known;
        for (const auto& entry : performers) known.push_back(entry.first);
        throw InputError("prepare mocap: test subject '" + subject + "' is not among the subjects found (" +
                         join(known) + ")");
      }
      test.insert(subject);
    }
  } else if (options.test_fraction > 0.0 && performers.size() > 1) {
    std::int64_t total = 0;
    std::vector<std::pair<std::uint64_t, std::string>> order;
    for (const auto& [performer, clips] : performers) {
      total += clips.frames;
      order.emplace_back(derive_seed(options.seed, "split/" + performer), performer);
    }
    std::sort(order.begin(), order.end());
    const double target = options.test_fraction * static_cast<double>(total);
    double test_frames = 0.0;
    for (const auto& entry : order) {
      const double frames = static_cast<double>(performers[entry.second].frames);
      // Take a performer when it brings the test share closer to the target.
      if (std::fabs(test_frames + frames - target) < std::fabs(test_frames - target) && test.size() + 1 < performers.size()) {
        test.insert(entry.second);
        test_frames += frames;
      }
    }
    if (test.empty()) test.insert(order.front().second);
  }
  return test;
}

// One subject per performer with its own seeded camera rig, fitted to see all its segments.
PoseDataset build_dataset(Performers& performers, const std::set<std::string>& test,
                          const PrepareMocapOptions& options, PrepareReport& report) {
  PoseDataset dataset;
  dataset.fps = report.fps;
  for (auto& [performer, clips] : performers) {
    PoseSubject subject;
    subject.name = performer;
    Rng rng(derive_seed(options.seed, "cameras/" + performer));
    subject.cameras = make_camera_rig(options.cameras, rng);
    std::vector<const std::vector<Vec3>*> sequences;
    for (const Segment& segment : clips.segments) sequences.push_back(&segment.positions);
    PreparedSubject summary;
    summary.name = performer;
    summary.test = test.count(performer) != 0;
    summary.actions = static_cast<std::int64_t>(clips.segments.size());
    summary.frames = clips.frames;
    summary.cameras_moved_back = fit_cameras_to_sequences(subject.cameras, sequences, options.cameras);
    for (Segment& segment : clips.segments) subject.actions.push_back({segment.action, std::move(segment.positions)});
    (summary.test ? report.test_subjects : report.train_subjects).push_back(performer);
    report.subjects.push_back(summary);
    dataset.subjects.push_back(std::move(subject));
  }
  return dataset;
}

}  // namespace

PrepareReport prepare_mocap_dataset(const PrepareMocapOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  check_prepare_options(options);
  ImportOptions import = options.import;
  for (const std::string& file : options.mapping_files) import.mappings.push_back(load_joint_mapping(file));
  const std::vector<std::string> files = find_motion_files(options.inputs);
  if (files.empty()) throw InputError("prepare mocap: no .bvh or .amc files found in " + join(options.inputs));

  PrepareReport report;
  Performers performers;
  std::map<std::string, std::set<std::string>> used_actions;
  for (const std::string& file : files) {
    ImportedClip clip;
    try {
      clip = import_mocap_file(file, import);
    } catch (const InputError& error) {
      if (!options.skip_unreadable) throw;
      report.skipped.emplace_back(file, error.what());
      continue;
    }
    report.fps = clip.fps;
    report.clips.push_back(add_clip(file, clip, options, performers, used_actions));
  }
  if (performers.empty()) throw InputError("prepare mocap: no usable motion in " + join(options.inputs));

  const std::set<std::string> test = choose_test_subjects(performers, options);
  const PoseDataset dataset = build_dataset(performers, test, options, report);
  report.files = write_pose_dataset(dataset, options.output_dir, options.name, options.noisy, options.seed);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace poselift::mocap
