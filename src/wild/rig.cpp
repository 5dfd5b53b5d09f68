#include "wild/rig.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "io/error.hpp"

namespace poselift::wild {

using mocap::Quat;
using mocap::Vec3;

BoneLengths parse_bone_lengths(const std::string& name, const std::string& what) {
  if (name == "median") return BoneLengths::Median;
  if (name == "h36m") return BoneLengths::H36mAverage;
  throw InputError(what + ": unknown bone lengths '" + name + "' (expected median or h36m)");
}

Vec3 Axis::vector() const {
  Vec3 v{0, 0, 0};
  (index == 0 ? v.x : index == 1 ? v.y : v.z) = sign;
  return v;
}

Axis parse_axis(const std::string& name, const std::string& what) {
  std::string s = name;
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) sign = s[0] == '-' ? -1 : 1, s = s.substr(1);
  if (s == "x" || s == "X") return {0, sign};
  if (s == "y" || s == "Y") return {1, sign};
  if (s == "z" || s == "Z") return {2, sign};
  throw InputError(what + ": unknown axis '" + name + "' (expected x, y or z, optionally signed: +z, -y)");
}

void validate_axes(const RigOptions& options) {
  for (const Axis* a : {&options.up, &options.forward})
    if (a->index < 0 || a->index > 2 || (a->sign != 1 && a->sign != -1))
      throw std::logic_error("validate_axes: malformed axis");
  if (options.up.index == options.forward.index)
    throw InputError(fmt::format("--forward {}{} lies along --up {}{}: the two must be perpendicular",
                                 options.forward.sign < 0 ? '-' : '+', "xyz"[options.forward.index],
                                 options.up.sign < 0 ? '-' : '+', "xyz"[options.up.index]));
}

const std::array<const char*, h36m::kJoints>& rig_joint_names() {
  static const std::array<const char*, h36m::kJoints> names{
      "Hips",  "RightUpLeg", "RightLeg", "RightFoot",   "LeftUpLeg", "LeftLeg",  "LeftFoot",     "Spine",    "Thorax",
      "Neck",  "Head",       "LeftArm",  "LeftForeArm", "LeftHand",  "RightArm", "RightForeArm", "RightHand"};
  return names;
}

const std::array<double, h36m::kJoints>& h36m_average_bone_lengths() {
  static const std::array<double, h36m::kJoints> lengths{0.0,   0.133, 0.454, 0.451, 0.133, 0.454, 0.451, 0.234, 0.253,
                                                       0.117, 0.115, 0.151, 0.279, 0.250, 0.151, 0.279, 0.250};
  return lengths;
}

namespace {

// One rig joint in the canonical axes (y up, +z forward): the Human3.6M joint it sits at (-1
// for the zero-length branch joints, which sit at their parent's), its parent, the Human3.6M
// joint its single bone points at (-1: none, the rotation follows the parent, or a frame
// joint), and for the thighs and upper arms the hinge of the joint below.
struct JointSpec {
  const char* name;
  int h36m;
  int parent;
  int target;
  Vec3 rest_direction;  // unit direction of this joint's offset from its parent (zero for branches)
  Vec3 end_site;        // non-zero: an End Site with this offset
};

const Vec3 kUp{0, 1, 0}, kDown{0, -1, 0}, kLeft{1, 0, 0}, kRight{-1, 0, 0}, kZero{0, 0, 0};

const std::vector<JointSpec>& joint_specs() {
  static const std::vector<JointSpec> joints{
      {"Hips", 0, -1, -1, kZero, kZero},                                       // 0: frame joint
      {"RightHipJoint", -1, 0, 1, kZero, kZero},                               // 1
      {"RightUpLeg", 1, 1, 2, kRight, kZero},                                  // 2
      {"RightLeg", 2, 2, 3, kDown, kZero},                                     // 3
      {"RightFoot", 3, 3, -1, kDown, Vec3{0, 0, 0.1}},                         // 4
      {"LeftHipJoint", -1, 0, 4, kZero, kZero},                                // 5
      {"LeftUpLeg", 4, 5, 5, kLeft, kZero},                                    // 6
      {"LeftLeg", 5, 6, 6, kDown, kZero},                                      // 7
      {"LeftFoot", 6, 7, -1, kDown, Vec3{0, 0, 0.1}},                          // 8
      {"Spine", 7, 0, 8, kUp, kZero},                                          // 9
      {"Thorax", 8, 9, -1, kUp, kZero},                                        // 10: frame joint
      {"Neck", 9, 10, 10, kUp, kZero},                                         // 11
      {"Head", 10, 11, -1, kUp, Vec3{0, 0.05, 0}},                             // 12
      {"LeftShoulderJoint", -1, 10, 11, kZero, kZero},                         // 13
      {"LeftArm", 11, 13, 12, kLeft, kZero},                                   // 14
      {"LeftForeArm", 12, 14, 13, kLeft, kZero},                               // 15
      {"LeftHand", 13, 15, -1, kLeft, Vec3{0.08, 0, 0}},                       // 16
      {"RightShoulderJoint", -1, 10, 14, kZero, kZero},                        // 17
      {"RightArm", 14, 17, 15, kRight, kZero},                                 // 18
      {"RightForeArm", 15, 18, 16, kRight, kZero},                             // 19
      {"RightHand", 16, 19, -1, kRight, Vec3{-0.08, 0, 0}},                    // 20
  };
  return joints;
}

// A knee or an elbow (by its Human3.6M joint): the joint after it (ankle, wrist) and the hinge
// axis at rest for a positive bend, cross(bone into the hinge, bone out of it). Knees fold the
// shin backwards (-z): +x for both legs. Elbows fold the forearm forwards (+z): -y for the left
// arm (along +x), +y for the right (along -x). The twist goes to the joint whose bone ends at
// the hinge (the thigh's, the upper arm's).
struct Hinge {
  int next;
  Vec3 rest_axis;
};
const Hinge* hinge_at(int h36m_joint) {
  static const Hinge right_knee{3, {1, 0, 0}}, left_knee{6, {1, 0, 0}}, left_elbow{13, {0, -1, 0}},
      right_elbow{16, {0, 1, 0}};
  switch (h36m_joint) {
    case 2: return &right_knee;
    case 5: return &left_knee;
    case 12: return &left_elbow;
    case 15: return &right_elbow;
    default: return nullptr;
  }
}

// The shortest-arc rotation taking unit vector a to unit vector b.
Quat swing(const Vec3& a, const Vec3& b) {
  const double c = mocap::dot(a, b);
  if (c < -1.0 + 1e-12) {
    // Opposite: half a turn about any axis perpendicular to a.
    Vec3 axis = mocap::cross(a, Vec3{1, 0, 0});
    if (mocap::norm(axis) < 1e-6) axis = mocap::cross(a, Vec3{0, 1, 0});
    return mocap::axis_angle(mocap::normalized(axis), mocap::kPi);
  }
  const Vec3 axis = mocap::cross(a, b);
  return mocap::normalized(Quat{1.0 + c, axis.x, axis.y, axis.z});
}

// The rotation taking the rest pair (rest_primary, rest_secondary), orthonormal, to the pair
// (primary, secondary) made orthonormal by Gram-Schmidt: the primary is matched exactly.
// Returns false when the secondary is (nearly) along the primary.
bool aligned_frame(const Vec3& rest_primary, const Vec3& rest_secondary, const Vec3& primary, const Vec3& secondary,
                   Quat& out) {
  const Vec3 e1 = mocap::normalized(primary);
  if (mocap::norm(e1) == 0.0) return false;
  Vec3 e2 = secondary - e1 * mocap::dot(secondary, e1);
  if (mocap::norm(e2) < 1e-9) return false;
  e2 = mocap::normalized(e2);
  const Vec3 e3 = mocap::cross(e1, e2);
  const Vec3 a3 = mocap::cross(rest_primary, rest_secondary);
  // R = [e1 e2 e3] [a1 a2 a3]^T: the image of axis k is sum_i a_i[k] e_i.
  const auto image = [&](double a1, double a2, double a3k) { return e1 * a1 + e2 * a2 + e3 * a3k; };
  out = mocap::normalized(mocap::quat_from_basis(image(rest_primary.x, rest_secondary.x, a3.x),
                                                 image(rest_primary.y, rest_secondary.y, a3.y),
                                                 image(rest_primary.z, rest_secondary.z, a3.z)));
  return true;
}

// Rotation taking the rest frame (primary up, secondary +x) to the frame of `primary` and
// `secondary`.
Quat frame_rotation(const Vec3& primary, const Vec3& secondary) {
  Quat q;
  if (aligned_frame(kUp, kLeft, primary, secondary, q)) return q;
  if (mocap::norm(primary) == 0.0) return Quat{};
  return swing(kUp, mocap::normalized(primary));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Bone lengths, indexed by child joint: the median over frames, or the Human3.6M average
// proportions scaled to the same total.
std::array<double, h36m::kJoints> bone_lengths(const std::vector<Pose3D>& poses, BoneLengths bones) {
  const auto& parents = h36m::parents();
  std::array<double, h36m::kJoints> length{};
  for (int j = 1; j < h36m::kJoints; ++j) {
    std::vector<double> l;
    for (const auto& p : poses) l.push_back(mocap::norm(p[j] - p[parents[j]]));
    length[j] = median(std::move(l));
  }
  if (bones == BoneLengths::H36mAverage) {
    double total = 0.0, reference = 0.0;
    for (int j = 1; j < h36m::kJoints; ++j) total += length[j], reference += h36m_average_bone_lengths()[j];
    for (int j = 1; j < h36m::kJoints; ++j) length[j] = h36m_average_bone_lengths()[j] * total / reference;
  }
  return length;
}

// The twist that turns the thigh or upper arm about its bone so the joint below bends about
// its hinge: full from a 25-degree bend, none below 10 degrees, where the hinge is noise.
double hinge_weight(const Vec3& bone, const Vec3& next) {
  const double c = std::clamp(mocap::dot(mocap::normalized(bone), mocap::normalized(next)), -1.0, 1.0);
  const double bend = std::acos(c) * 180.0 / mocap::kPi;
  const double s = std::clamp((bend - 10.0) / 15.0, 0.0, 1.0);
  return s * s * (3.0 - 2.0 * s);
}

// The world rotations (canonical axes) of every rig joint for one pose.
void solve_frame(const Pose3D& p, bool hinge_twist, std::vector<Quat>& world) {
  const auto& joints = joint_specs();
  for (std::size_t i = 0; i < joints.size(); ++i) {
    const JointSpec& J = joints[i];
    const Quat parent = J.parent < 0 ? Quat{} : world[static_cast<std::size_t>(J.parent)];
    Quat w = parent;
    if (i == 0) {
      w = frame_rotation(p[7] - p[0], p[4] - p[1]);
    } else if (i == 10) {
      w = frame_rotation(p[9] - p[8], p[11] - p[14]);
    } else if (J.target >= 0) {
      const int from = J.h36m >= 0 ? J.h36m : joints[static_cast<std::size_t>(J.parent)].h36m;
      const Vec3 d = mocap::normalized(p[J.target] - p[from]);
      const JointSpec* child = nullptr;
      for (const auto& c : joints)
        if (c.h36m == J.target) child = &c;
      if (mocap::norm(d) > 0.0) {
        // The child's rest direction, carried by the parent's current rotation.
        w = swing(mocap::rotate(parent, child->rest_direction), d) * parent;
        const Hinge* hinge_joint = hinge_at(J.target);
        if (hinge_twist && hinge_joint) {
          const Vec3 next = p[hinge_joint->next] - p[J.target];
          const double weight = hinge_weight(d, next);
          Quat hinge;
          if (weight > 0.0 &&
              aligned_frame(child->rest_direction, hinge_joint->rest_axis, d, mocap::cross(d, mocap::normalized(next)), hinge)) {
            // Both rotations point the bone along d: they differ by a turn about d.
            const Quat difference = mocap::normalized(hinge * mocap::conjugate(w));
            const double angle = 2.0 * std::atan2(mocap::dot(Vec3{difference.x, difference.y, difference.z}, d),
                                                  difference.w);
            w = mocap::axis_angle(d, weight * angle) * w;
          }
        }
      }
    }
    world[i] = mocap::normalized(w);
  }
}

// Rotation taking the canonical axes (y up, +z forward) to the output's.
Quat output_rotation(const RigOptions& options) {
  const Vec3 up = options.up.vector(), forward = options.forward.vector();
  return mocap::normalized(mocap::quat_from_basis(mocap::cross(up, forward), up, forward));
}

// Keeps consecutive quaternions on the same hemisphere, so players interpolate the short way.
Quat continuous(const Quat& q, const Quat& previous) {
  const double c = q.w * previous.w + q.x * previous.x + q.y * previous.y + q.z * previous.z;
  return c < 0.0 ? Quat{-q.w, -q.x, -q.y, -q.z} : q;
}

}  // namespace

RigAnimation animate_rig(const std::vector<Pose3D>& poses, const RigOptions& options) {
  if (poses.empty()) throw InputError("animation export: no frames");
  if (!(options.fps > 0.0) || !std::isfinite(options.fps))
    throw InputError("animation export: the frame rate must be positive");
  validate_axes(options);
  for (std::size_t t = 0; t < poses.size(); ++t)
    for (int j = 0; j < h36m::kJoints; ++j) {
      const Vec3& p = poses[t][static_cast<std::size_t>(j)];
      if (!std::isfinite(p.x) || !std::isfinite(p.y) || !std::isfinite(p.z))
        throw InputError(fmt::format("animation export: frame {} joint {} is not finite", t, h36m::short_joint_names()[j]));
    }
  const std::array<double, h36m::kJoints> length = bone_lengths(poses, options.bones);
  const Quat out = output_rotation(options), out_inverse = mocap::conjugate(out);
  const auto& specs = joint_specs();

  RigAnimation animation;
  animation.fps = options.fps;
  for (const JointSpec& J : specs) {
    RigJoint joint;
    joint.name = J.name;
    joint.parent = J.parent;
    joint.h36m = J.h36m;
    joint.offset = mocap::rotate(out, J.h36m >= 0 ? J.rest_direction * length[static_cast<std::size_t>(J.h36m)] : kZero);
    joint.end_site = mocap::rotate(out, J.end_site);
    animation.joints.push_back(std::move(joint));
  }
  std::vector<Quat> world(specs.size());
  animation.rotations.reserve(poses.size());
  for (std::size_t t = 0; t < poses.size(); ++t) {
    solve_frame(poses[t], options.hinge_twist, world);
    std::vector<Quat> local(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const Quat parent = specs[i].parent < 0 ? Quat{} : world[static_cast<std::size_t>(specs[i].parent)];
      // In the output axes a rotation q reads out * q * out^-1.
      local[i] = mocap::normalized(out * (mocap::conjugate(parent) * world[i]) * out_inverse);
      if (t > 0) local[i] = continuous(local[i], animation.rotations.back()[i]);
    }
    animation.root_positions.push_back(mocap::rotate(out, poses[t][0]));
    animation.rotations.push_back(std::move(local));
  }
  return animation;
}

std::vector<Vec3> rig_positions(const RigAnimation& animation, std::size_t t) {
  if (t >= animation.rotations.size() || t >= animation.root_positions.size())
    throw std::logic_error("rig_positions: frame out of range");
  const auto& joints = animation.joints;
  std::vector<Vec3> position(joints.size());
  std::vector<Quat> world(joints.size());
  for (std::size_t i = 0; i < joints.size(); ++i) {
    const int parent = joints[i].parent;
    if (parent < 0) {
      position[i] = animation.root_positions[t];
      world[i] = animation.rotations[t][i];
    } else {
      const auto p = static_cast<std::size_t>(parent);
      position[i] = position[p] + mocap::rotate(world[p], joints[i].offset);
      world[i] = world[p] * animation.rotations[t][i];
    }
  }
  return position;
}

}  // namespace poselift::wild
