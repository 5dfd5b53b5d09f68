#include "mocap/motion.hpp"

#include <algorithm>
#include <cmath>

#include "io/error.hpp"

namespace poselift::mocap {

int Rig::find_joint(const std::string& name) const {
  for (std::size_t j = 0; j < joints.size(); ++j)
    if (joints[j].name == name) return static_cast<int>(j);
  return -1;
}

const std::string& Rig::point_name(int point) const {
  const auto joint_count = static_cast<int>(joints.size());
  return point < joint_count ? joints[static_cast<std::size_t>(point)].name
                             : end_sites[static_cast<std::size_t>(point - joint_count)].name;
}

int Rig::find_point(const std::string& name) const {
  for (int p = 0; p < point_count(); ++p)
    if (point_name(p) == name) return p;
  return -1;
}

int Rig::point_joint(int point) const {
  const auto joint_count = static_cast<int>(joints.size());
  return point < joint_count ? point : end_sites[static_cast<std::size_t>(point - joint_count)].joint;
}

PointTracks forward_kinematics(const SkeletalMotion& motion) {
  const Rig& rig = motion.rig;
  const std::size_t joints = rig.joints.size();
  const std::size_t points = static_cast<std::size_t>(rig.point_count());
  PointTracks tracks;
  tracks.joint_count = static_cast<int>(joints);
  tracks.fps = motion.fps;
  tracks.frames = motion.frames;
  for (int p = 0; p < rig.point_count(); ++p) tracks.names.push_back(rig.point_name(p));
  tracks.positions.resize(static_cast<std::size_t>(motion.frames) * points);
  tracks.joint_rotations.resize(static_cast<std::size_t>(motion.frames) * joints);

  for (std::int64_t t = 0; t < motion.frames; ++t) {
    Vec3* position = &tracks.positions[static_cast<std::size_t>(t) * points];
    Quat* rotation = &tracks.joint_rotations[static_cast<std::size_t>(t) * joints];
    for (std::size_t j = 0; j < joints; ++j) {
      const int parent = rig.joints[j].parent;
      const Quat& local = motion.local_rotations[motion.index(t, static_cast<int>(j))];
      const Vec3& translation = motion.local_translations[motion.index(t, static_cast<int>(j))];
      if (parent < 0) {
        position[j] = translation;
        rotation[j] = local;
      } else {
        const auto p = static_cast<std::size_t>(parent);
        position[j] = position[p] + rotate(rotation[p], translation);
        // Renormalised so rounding cannot accumulate down long chains (iClone: 10+ levels).
        rotation[j] = normalized(rotation[p] * local);
      }
    }
    for (std::size_t e = 0; e < rig.end_sites.size(); ++e) {
      const RigEndSite& site = rig.end_sites[e];
      const auto j = static_cast<std::size_t>(site.joint);
      position[joints + e] = position[j] + rotate(rotation[j], site.offset);
    }
  }
  return tracks;
}

std::int64_t resampled_frame_count(std::int64_t frames, double source_fps, double target_fps) {
  if (frames <= 0) return 0;
  if (!(source_fps > 0.0) || !(target_fps > 0.0))
    throw InputError("resampling needs positive frame rates, found " + std::to_string(source_fps) + " -> " +
                     std::to_string(target_fps));
  const double duration = static_cast<double>(frames - 1) / source_fps;
  // The small tolerance keeps an exact multiple (e.g. 121 frames at 120 fps -> 51 at 50) from
  // losing its last frame to rounding.
  return static_cast<std::int64_t>(std::floor(duration * target_fps + 1e-6)) + 1;
}

SkeletalMotion resample_motion(const SkeletalMotion& motion, double target_fps) {
  SkeletalMotion out;
  out.source = motion.source;
  out.format = motion.format;
  out.rig = motion.rig;
  out.fps = target_fps;
  out.metres_per_unit = motion.metres_per_unit;
  out.frames = resampled_frame_count(motion.frames, motion.fps, target_fps);
  const std::size_t joints = motion.rig.joints.size();
  out.local_rotations.resize(static_cast<std::size_t>(out.frames) * joints);
  out.local_translations.resize(static_cast<std::size_t>(out.frames) * joints);
  for (std::int64_t k = 0; k < out.frames; ++k) {
    const double source_position = static_cast<double>(k) * motion.fps / target_fps;
    auto before = static_cast<std::int64_t>(std::floor(source_position));
    if (before >= motion.frames - 1) before = motion.frames - 1;
    const std::int64_t after = std::min(before + 1, motion.frames - 1);
    const double alpha = after == before ? 0.0 : source_position - static_cast<double>(before);
    for (std::size_t j = 0; j < joints; ++j) {
      const int joint = static_cast<int>(j);
      out.local_rotations[out.index(k, joint)] =
          slerp(motion.local_rotations[motion.index(before, joint)], motion.local_rotations[motion.index(after, joint)],
                alpha);
      out.local_translations[out.index(k, joint)] = lerp(motion.local_translations[motion.index(before, joint)],
                                                         motion.local_translations[motion.index(after, joint)], alpha);
    }
  }
  return out;
}

}  // namespace poselift::mocap
