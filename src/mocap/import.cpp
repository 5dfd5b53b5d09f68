#include "mocap/import.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "io/error.hpp"
#include "mocap/asf_amc.hpp"
#include "mocap/bvh.hpp"
#include "mocap/quality.hpp"
#include "io/text.hpp"

namespace poselift::mocap {

namespace {

std::string lowercase_name(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return io::to_lower(name);
}

// Maps the rig's up axis to z and scales to metres: y-up (x, y, z) -> (x, -z, y), a proper
// rotation (+90 deg about x), so handedness and left/right are kept.
void to_metres_z_up(PointTracks& tracks, double scale, int up_axis) {
  const Quat to_z_up = up_axis == 1 ? axis_rotation(0, 90.0) : Quat{};
  for (Vec3& p : tracks.positions) p = rotate(to_z_up, p) * scale;
  for (Quat& q : tracks.joint_rotations) q = to_z_up * q;
}

// Ground level: the 5th percentile of each frame's lowest rig point, so brief dips (a toe
// end site through the floor) and jumps do not move it.
double floor_level(const PointTracks& tracks) {
  std::vector<double> lowest(static_cast<std::size_t>(tracks.frames));
  for (std::int64_t f = 0; f < tracks.frames; ++f) {
    double z = std::numeric_limits<double>::infinity();
    for (int p = 0; p < tracks.point_count(); ++p) z = std::min(z, tracks.position(f, p).z);
    lowest[static_cast<std::size_t>(f)] = z;
  }
  return quantile(std::move(lowest), 0.05);
}

// "60_01_scaled..." : the CMU salsa naming (digits, '_', digits, "_scaled").
bool is_salsa_name(const std::string& name) {
  std::size_t i = 0;
  for (int group = 0; group < 2; ++group) {
    const std::size_t start = i;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
    if (i == start || i >= name.size() || name[i] != '_') return false;
    ++i;
  }
  return name.compare(i, 6, "scaled") == 0;
}

// Beyond this distance from the origin (metres) a position is corrupt data, not a performer.
constexpr double kMaxPositionMetres = 1e5;

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

}  // namespace

bool is_motion_file(const std::string& path) {
  const std::string name = lowercase_name(path);
  for (const char* extension : {".bvh", ".bvh.gz", ".amc", ".amc.gz"})
    if (io::ends_with(name, extension)) return true;
  return false;
}

SkeletalMotion read_motion_file(const std::string& path, const ImportOptions& options, std::string* asf_path) {
  const std::string name = lowercase_name(path);
  if (io::ends_with(name, ".amc") || io::ends_with(name, ".amc.gz")) {
    const std::string asf = find_asf_for_amc(path);
    if (asf.empty())
      throw InputError(path + ": no skeleton file for this AMC motion (expected '<subject>.asf' beside it, e.g. "
                              "02.asf for 02_01.amc, or a single .asf in the folder)");
    if (asf_path) *asf_path = asf;
    const AsfSkeleton skeleton = read_asf(asf, options.limits);
    return read_amc(path, skeleton, options.amc_fps, options.limits);
  }
  return read_bvh(path, options.limits);
}

ImportedClip import_mocap_file(const std::string& path, const ImportOptions& options) {
  std::string asf_path;
  const SkeletalMotion motion = read_motion_file(path, options, &asf_path);
  ImportedClip clip = import_motion(motion, options);
  clip.path = path;
  clip.asf_path = asf_path;
  return clip;
}

namespace {

const JointMapping& find_mapping(const SkeletalMotion& motion, const ImportOptions& options) {
  const JointMapping* mapping = detect_mapping(motion.rig, options.mappings);
  if (!mapping) {
    std::string names;
    for (std::size_t j = 0; j < motion.rig.joints.size() && j < 8; ++j) names += (j ? ", " : "") + motion.rig.joints[j].name;
    throw InputError(motion.source + ": unknown skeleton (joints " + names + (motion.rig.joints.size() > 8 ? ", ..." : "") +
                     "): not a built-in rig family (CMU ASF/BVH, Bandai, iClone CC_Base, DAZ); give a JSON joint "
                     "mapping");
  }
  return *mapping;
}

// The rate the motion was captured at: the file's, unless a known quirk, the mapping or the
// options say otherwise (the later wins); a change is noted on the clip.
double choose_source_fps(const SkeletalMotion& motion, const JointMapping& mapping, const ImportOptions& options,
                         ImportedClip& clip) {
  double source_fps = motion.fps;
  std::string fps_reason;
  if (options.apply_known_quirks && mapping.name == "daz" && std::fabs(motion.fps - 120.0) < 0.5 &&
      is_salsa_name(lowercase_name(motion.source))) {
    source_fps = 60.0;
    fps_reason = "CMU salsa file (captured at 60 fps)";
  }
  if (mapping.fps) {
    source_fps = *mapping.fps;
    fps_reason = "set by mapping '" + mapping.name + "'";
  }
  if (options.source_fps) {
    source_fps = *options.source_fps;
    fps_reason = "set by the import options";
  }
  if (!(source_fps > 0.0)) throw InputError(motion.source + ": the frame rate must be positive");
  if (!fps_reason.empty() && source_fps != motion.fps)
    clip.notes.push_back("frame rate " + format_number(source_fps) + " fps instead of the file's " +
                         format_number(motion.fps) + ": " + fps_reason);
  return source_fps;
}

// Resamples the joint-local motion to the target rate, then forward kinematics.
PointTracks resampled_tracks(const SkeletalMotion& motion, double source_fps, double target_fps,
                             const ImportOptions& options) {
  SkeletalMotion timed = motion;
  timed.fps = source_fps;
  // A tiny frame rate resampled to 50 fps would multiply the frames without bound.
  const double output_frames = static_cast<double>(motion.frames - 1) / source_fps * target_fps + 1.0;
  if (output_frames > static_cast<double>(options.limits.max_frames) ||
      output_frames * static_cast<double>(motion.rig.joints.size()) > static_cast<double>(options.limits.max_joint_frames) ||
      output_frames > 100.0 * static_cast<double>(motion.frames) + 1000.0)
    throw InputError(motion.source + ": " + std::to_string(motion.frames) + " frames at " + format_number(source_fps) +
                     " fps would become " + format_number(output_frames) + " frames at " + format_number(target_fps) +
                     " fps (check the frame time)");
  const SkeletalMotion resampled =
      std::fabs(target_fps - source_fps) < 1e-9 ? std::move(timed) : resample_motion(timed, target_fps);
  PointTracks tracks = forward_kinematics(resampled);
  for (const Vec3& p : tracks.positions)
    if (!std::isfinite(p.x) || !std::isfinite(p.y) || !std::isfinite(p.z))
      throw InputError(motion.source + ": positions overflow (offsets or channel values far too large)");
  return tracks;
}

// Unknown unit: scale to the assumed standing height (linear in the scale, ankle allowance
// aside, so one division settles it).
void scale_to_standing_height(ImportedClip& clip, const JointMapping& mapping, const ImportOptions& options,
                              const std::string& source) {
  const double target = mapping.standing_height.value_or(options.assumed_standing_height);
  if (!(target > kAnkleHeight && target < 3.0))
    throw InputError(source + ": the assumed standing height must be between " + format_number(kAnkleHeight) +
                     " and 3 m, found " + format_number(target));
  const double measured = standing_height(clip.positions) - kAnkleHeight;
  if (!(measured > 0.0)) throw InputError(source + ": cannot measure the performer's height to set the scale");
  const double scale = (target - kAnkleHeight) / measured;
  for (Vec3& p : clip.positions) p = p * scale;
  clip.metres_per_unit = scale;
  clip.notes.push_back("unit unknown: scaled to a standing height of " + format_number(target) + " m (" +
                       format_number(scale) + " m per unit)");
}

// Finite source values can still make absurd positions (a bone 1e308 units long) that turn
// into inf/NaN in the cameras' projections: refuse what no motion capture can be.
void check_position_range(const std::vector<Vec3>& positions, const std::string& source) {
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const Vec3& p = positions[i];
    if (!(std::fabs(p.x) <= kMaxPositionMetres && std::fabs(p.y) <= kMaxPositionMetres &&
          std::fabs(p.z) <= kMaxPositionMetres))
      throw InputError(source + ": frame " + std::to_string(i / h36m::kJoints) + ", joint " +
                       h36m::joint_names()[i % h36m::kJoints] + ": position (" + format_number(p.x) + ", " +
                       format_number(p.y) + ", " + format_number(p.z) + ") m is not within " +
                       format_number(kMaxPositionMetres) + " m of the origin (offsets, lengths or units far too large)");
  }
}

}  // namespace

ImportedClip import_motion(const SkeletalMotion& motion, const ImportOptions& options) {
  ImportedClip clip;
  clip.path = motion.source;
  clip.format = motion.format;
  clip.source_frames = motion.frames;
  clip.header_fps = motion.fps;
  if (motion.frames < 1) throw InputError(motion.source + ": the motion has no frames");

  const JointMapping& mapping = find_mapping(motion, options);
  clip.rig = mapping.name;
  const double source_fps = choose_source_fps(motion, mapping, options, clip);
  clip.source_fps = source_fps;

  const double target_fps = options.target_fps > 0.0 ? options.target_fps : source_fps;
  PointTracks tracks = resampled_tracks(motion, source_fps, target_fps, options);
  clip.fps = target_fps;
  clip.frames = tracks.frames;

  std::optional<double> unit = options.metres_per_unit;
  if (!unit) unit = mapping.metres_per_unit;
  if (!unit) unit = motion.metres_per_unit;
  to_metres_z_up(tracks, unit.value_or(1.0), mapping.up_axis);
  const double floor = options.ground_to_floor ? floor_level(tracks) : 0.0;
  clip.positions = map_to_h36m(tracks, motion.rig, mapping);
  for (Vec3& p : clip.positions) p.z -= floor;

  if (unit) clip.metres_per_unit = *unit;
  else scale_to_standing_height(clip, mapping, options, motion.source);
  check_position_range(clip.positions, motion.source);
  clip.standing_height = standing_height(clip.positions);
  clip.rigid_bones = rigid_h36m_bones(motion, mapping);
  return clip;
}

}  // namespace poselift::mocap
