#include "wild/bvh_export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "io/error.hpp"

namespace poselift::wild {

using mocap::Quat;
using mocap::Vec3;

BoneLengths parse_bone_lengths(const std::string& name, const std::string& what) {
  if (name == "median") return BoneLengths::Median;
  if (name == "h36m") return BoneLengths::H36mAverage;
  throw InputError(what + ": unknown bone lengths '" + name + "' (expected median or h36m)");
}

const std::array<const char*, h36m::kJoints>& bvh_joint_names() {
  static const std::array<const char*, h36m::kJoints> names{
      "Hips",  "RightUpLeg", "RightLeg", "RightFoot", "LeftUpLeg", "LeftLeg",     "LeftFoot",  "Spine",    "Thorax",
      "Neck",  "Head",       "LeftArm",  "LeftForeArm", "LeftHand", "RightArm", "RightForeArm", "RightHand"};
  return names;
}

const std::array<double, h36m::kJoints>& h36m_average_bone_lengths() {
  static const std::array<double, h36m::kJoints> lengths{0.0,   0.133, 0.454, 0.451, 0.133, 0.454, 0.451, 0.234, 0.253,
                                                       0.117, 0.115, 0.151, 0.279, 0.250, 0.151, 0.279, 0.250};
  return lengths;
}

namespace {

// One BVH joint: the Human3.6M joint it sits at (-1 for the zero-length branch joints, which
// sit at their parent's), its parent, and the Human3.6M joint its single bone points at (-1:
// none, the rotation follows the parent, or a frame joint).
struct BvhJoint {
  const char* name;
  int h36m;
  int parent;
  int target;
  Vec3 rest_direction;  // unit direction of this joint's offset from its parent (zero for branches)
  Vec3 end_site;        // non-zero: an End Site with this offset
};

const Vec3 kUp{0, 1, 0}, kDown{0, -1, 0}, kLeft{1, 0, 0}, kRight{-1, 0, 0}, kZero{0, 0, 0};

const std::vector<BvhJoint>& bvh_joints() {
  static const std::vector<BvhJoint> joints{
      {"Hips", 0, -1, -1, kZero, kZero},                       // 0: frame joint
      {"RightHipJoint", -1, 0, 1, kZero, kZero},               // 1
      {"RightUpLeg", 1, 1, 2, kRight, kZero},                  // 2
      {"RightLeg", 2, 2, 3, kDown, kZero},                     // 3
      {"RightFoot", 3, 3, -1, kDown, Vec3{0, 0, 0.1}},         // 4
      {"LeftHipJoint", -1, 0, 4, kZero, kZero},                // 5
      {"LeftUpLeg", 4, 5, 5, kLeft, kZero},                    // 6
      {"LeftLeg", 5, 6, 6, kDown, kZero},                      // 7
      {"LeftFoot", 6, 7, -1, kDown, Vec3{0, 0, 0.1}},          // 8
      {"Spine", 7, 0, 8, kUp, kZero},                          // 9
      {"Thorax", 8, 9, -1, kUp, kZero},                        // 10: frame joint
      {"Neck", 9, 10, 10, kUp, kZero},                         // 11
      {"Head", 10, 11, -1, kUp, Vec3{0, 0.05, 0}},             // 12
      {"LeftShoulderJoint", -1, 10, 11, kZero, kZero},         // 13
      {"LeftArm", 11, 13, 12, kLeft, kZero},                   // 14
      {"LeftForeArm", 12, 14, 13, kLeft, kZero},               // 15
      {"LeftHand", 13, 15, -1, kLeft, Vec3{0.08, 0, 0}},       // 16
      {"RightShoulderJoint", -1, 10, 14, kZero, kZero},        // 17
      {"RightArm", 14, 17, 15, kRight, kZero},                 // 18
      {"RightForeArm", 15, 18, 16, kRight, kZero},             // 19
      {"RightHand", 16, 19, -1, kRight, Vec3{-0.08, 0, 0}},    // 20
  };
  return joints;
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

// Rotation taking the rest frame (primary up, secondary +x) to the frame of `primary` and
// `secondary` (Gram-Schmidt); the primary axis is matched exactly.
Quat frame_rotation(const Vec3& primary, const Vec3& secondary) {
  const Vec3 e1 = mocap::normalized(primary);
  if (mocap::norm(e1) == 0.0) return Quat{};
  Vec3 e2 = secondary - e1 * mocap::dot(secondary, e1);
  if (mocap::norm(e2) < 1e-9) return swing(kUp, e1);
  e2 = mocap::normalized(e2);
  const Vec3 e3 = mocap::cross(e1, e2);
  // Rest: e1 = y, e2 = x, e3 = y x x = -z. The rotation maps x -> e2, y -> e1, z -> -e3.
  return mocap::normalized(mocap::quat_from_basis(e2, e1, -e3));
}

// Intrinsic Z, X, Y angles (degrees) of R = Rz(a) Rx(b) Ry(c).
Vec3 zxy_degrees(const Quat& q) {
  const double w = q.w, x = q.x, y = q.y, z = q.z;
  const double r00 = 1 - 2 * (y * y + z * z), r01 = 2 * (x * y - w * z);
  const double r10 = 2 * (x * y + w * z), r11 = 1 - 2 * (x * x + z * z);
  const double r20 = 2 * (x * z - w * y), r21 = 2 * (y * z + w * x), r22 = 1 - 2 * (x * x + y * y);
  const double b = std::asin(std::clamp(r21, -1.0, 1.0));
  double a, c;
  if (std::abs(r21) < 1.0 - 1e-9) {
    a = std::atan2(-r01, r11);
    c = std::atan2(-r20, r22);
  } else {  // gimbal lock: only a + c (or a - c) is defined
    a = std::atan2(r10, r00);
    c = 0.0;
  }
  const double k = 180.0 / mocap::kPi;
  return {a * k, b * k, c * k};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Camera space -> y up, root-relative: the poses carry no trajectory the lifting could be
// trusted with.
std::vector<Pose3D> y_up_root_relative(const std::vector<Pose3D>& camera_poses) {
  std::vector<Pose3D> poses(camera_poses.size());
  for (std::size_t t = 0; t < poses.size(); ++t)
    for (int j = 0; j < h36m::kJoints; ++j) {
      const Vec3& p = camera_poses[t][static_cast<std::size_t>(j)];
      if (!std::isfinite(p.x) || !std::isfinite(p.y) || !std::isfinite(p.z))
        throw InputError(fmt::format("BVH export: frame {} joint {} is not finite", t, h36m::short_joint_names()[j]));
      poses[t][static_cast<std::size_t>(j)] = Vec3{p.x, -p.y, -p.z};
    }
  for (auto& p : poses) {
    const Vec3 root = p[0];
    for (auto& q : p) q -= root;
  }
  return poses;
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

// The HIERARCHY section: the joint table with its rest offsets.
std::string hierarchy_text(const std::array<double, h36m::kJoints>& length) {
  const auto& joints = bvh_joints();
  std::string out = "HIERARCHY\n";
  std::vector<int> depth(joints.size(), 0);
  // Depth-first order equals the table's order: each joint's subtree follows it.
  const auto closes_after = [&](std::size_t i) {
    // Number of blocks that end after joint i: until the next joint's parent.
    const int next_parent = i + 1 < joints.size() ? joints[i + 1].parent : -1;
    int n = 0;
    for (int j = static_cast<int>(i); j != next_parent; j = joints[static_cast<std::size_t>(j)].parent) ++n;
    return n;
  };
  for (std::size_t i = 0; i < joints.size(); ++i) {
    const auto& J = joints[i];
    depth[i] = J.parent < 0 ? 0 : depth[static_cast<std::size_t>(J.parent)] + 1;
    const std::string pad(static_cast<std::size_t>(depth[i]) * 2, ' ');
    const Vec3 offset = J.h36m >= 0 ? J.rest_direction * length[static_cast<std::size_t>(J.h36m)] : kZero;
    out += fmt::format("{}{} {}\n{}{{\n", pad, J.parent < 0 ? "ROOT" : "JOINT", J.name, pad);
    out += fmt::format("{}  OFFSET {:.6f} {:.6f} {:.6f}\n", pad, offset.x, offset.y, offset.z);
    out += fmt::format("{}  CHANNELS {}\n", pad,
                       J.parent < 0 ? "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
                                    : "3 Zrotation Xrotation Yrotation");
    if (mocap::norm(J.end_site) > 0.0)
      out += fmt::format("{0}  End Site\n{0}  {{\n{0}    OFFSET {1:.6f} {2:.6f} {3:.6f}\n{0}  }}\n", pad, J.end_site.x,
                         J.end_site.y, J.end_site.z);
    int close = closes_after(i);
    for (int k = 0, d = depth[i]; k < close; ++k, --d) out += std::string(static_cast<std::size_t>(d) * 2, ' ') + "}\n";
  }
  return out;
}

// One MOTION line: the root position, then each joint's rotation relative to its parent.
// `world` holds the joints' world rotations of this frame as they are computed.
void append_motion_line(const Pose3D& p, const Vec3& offset, std::vector<Quat>& world, std::string& line) {
  const auto& joints = bvh_joints();
  const Vec3 root = p[0] + offset;
  line += fmt::format("{:.6f} {:.6f} {:.6f}", root.x, root.y, root.z);
  for (std::size_t i = 0; i < joints.size(); ++i) {
    const auto& J = joints[i];
    const Quat parent = J.parent < 0 ? Quat{} : world[static_cast<std::size_t>(J.parent)];
    Quat w = parent;
    if (i == 0) w = frame_rotation(p[7] - p[0], p[4] - p[1]);
    else if (i == 10) w = frame_rotation(p[9] - p[8], p[11] - p[14]);
    else if (J.target >= 0) {
      const int from = J.h36m >= 0 ? J.h36m : joints[static_cast<std::size_t>(J.parent)].h36m;
      const Vec3 d = mocap::normalized(p[J.target] - p[from]);
      // The child's rest direction, carried by the parent's current rotation.
      Vec3 rest{};
      for (const auto& child : joints)
        if (child.h36m == J.target) rest = child.rest_direction;
      if (mocap::norm(d) > 0.0) w = swing(mocap::rotate(parent, rest), d) * parent;
    }
    world[i] = mocap::normalized(w);
    const Vec3 e = zxy_degrees(mocap::conjugate(parent) * world[i]);
    line += fmt::format(" {:.6f} {:.6f} {:.6f}", e.x, e.y, e.z);
  }
}

}  // namespace

std::string bvh_text(const std::vector<Pose3D>& camera_poses, const BvhOptions& options) {
  if (camera_poses.empty()) throw InputError("BVH export: no frames");
  if (!(options.fps > 0.0) || !std::isfinite(options.fps)) throw InputError("BVH export: the frame rate must be positive");
  const std::vector<Pose3D> poses = y_up_root_relative(camera_poses);
  const std::array<double, h36m::kJoints> length = bone_lengths(poses, options.bones);
  std::vector<double> ankle_heights;
  for (const auto& p : poses) ankle_heights.push_back(-std::min(p[3].y, p[6].y));
  const double lift = median(ankle_heights);
  // The root's translation per frame: the trajectory in the poses' y-up axes, starting at the
  // origin horizontally, its median height at the lift.
  std::vector<Vec3> offsets(poses.size(), Vec3{0, lift, 0});
  if (!options.root_motion.empty()) {
    if (options.root_motion.size() != poses.size())
      throw std::logic_error("bvh_text: root_motion and poses have different lengths");
    std::vector<double> heights;
    for (const auto& r : options.root_motion) {
      if (!std::isfinite(r.x) || !std::isfinite(r.y) || !std::isfinite(r.z))
        throw InputError("BVH export: the root trajectory is not finite");
      heights.push_back(-r.y);
    }
    const double height = median(heights);
    const Vec3& first = options.root_motion.front();
    for (std::size_t t = 0; t < poses.size(); ++t) {
      const Vec3& r = options.root_motion[t];
      offsets[t] = Vec3{r.x - first.x, lift + (-r.y - height), -(r.z - first.z)};
    }
  }

  std::string out = hierarchy_text(length);
  out += fmt::format("MOTION\nFrames: {}\nFrame Time: {:.8f}\n", poses.size(), 1.0 / options.fps);
  std::vector<Quat> world(bvh_joints().size());
  std::string line;
  for (std::size_t t = 0; t < poses.size(); ++t) {
    const Pose3D& p = poses[t];
    line.clear();
    append_motion_line(p, offsets[t], world, line);
    out += line + "\n";
  }
  return out;
}

}  // namespace poselift::wild
