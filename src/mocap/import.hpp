// One motion-capture file -> a Human3.6M-17 pose sequence in Human3.6M's world convention:
// metres, z up, floor at z = 0, resampled to the target frame rate.
//
// Steps: read (BVH, or AMC with the ASF beside it) -> resample the joint-local motion
// (slerp, so bones stay rigid) -> forward kinematics -> y-up to z-up (rotation of +90 deg
// about x: (x, y, z) -> (x, -z, y)) and unit scale -> map to the 17 joints -> floor at the 5th
// percentile of the per-frame lowest rig point (toes, heels...).
//
// Unit scale, by priority: ImportOptions::metres_per_unit, the mapping's/family's unit
// (Bandai, iClone: cm; CMU BVH: 1/0.45 inch), the ASF's `length`, else the scale that makes
// standing_height() equal the mapping's or ImportOptions' assumed standing height (DAZ salsa).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mocap/mapping.hpp"
#include "mocap/motion.hpp"

namespace poselift::mocap {

struct ImportOptions {
  double target_fps = 50.0;                // 0 keeps the source frame rate
  std::optional<double> source_fps;        // overrides the file's frame rate
  std::optional<double> metres_per_unit;   // overrides every other unit source
  double assumed_standing_height = 1.70;   // metres, for rigs of unknown unit
  double amc_fps = 120.0;                  // AMC files carry no rate; CMU captured at 120
  // Known defects of public files, fixed when recognised: the CMU salsa BVHs (DAZ rig,
  // "NN_NN_scaled.bvh") say 120 fps but were captured at 60.
  bool apply_known_quirks = true;
  bool ground_to_floor = true;
  std::vector<JointMapping> mappings;  // tried before the built-in families
  ReadLimits limits;
};

struct ImportedClip {
  std::string path;
  std::string asf_path;  // the skeleton file, for AMC motions
  std::string format;    // "bvh" or "asf/amc"
  std::string rig;       // the mapping used
  std::int64_t source_frames = 0;
  double header_fps = 0.0;  // as the file says (AMC: amc_fps)
  double source_fps = 0.0;  // as used (after overrides and quirks)
  double fps = 0.0;
  std::int64_t frames = 0;
  double metres_per_unit = 0.0;
  std::vector<Vec3> positions;  // frames x 17, metres, z-up
  double standing_height = 0.0;
  std::array<bool, h36m::kJoints> rigid_bones{};  // see rigid_h36m_bones
  std::vector<std::string> notes;              // overrides and quirks applied

  double duration_seconds() const { return frames > 1 ? static_cast<double>(frames - 1) / fps : 0.0; }
};

// True for names the importer reads: .bvh and .amc, optionally .gz (case-insensitive).
bool is_motion_file(const std::string& path);

// The joint-local motion of a .bvh or .amc file (the .asf found with find_asf_for_amc).
SkeletalMotion read_motion_file(const std::string& path, const ImportOptions& options = {},
                                std::string* asf_path = nullptr);

ImportedClip import_mocap_file(const std::string& path, const ImportOptions& options = {});
// The same from an already-read motion (e.g. parsed from memory).
ImportedClip import_motion(const SkeletalMotion& motion, const ImportOptions& options = {});

}  // namespace poselift::mocap
