#include "wild/bvh_export.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace poselift::wild {

using mocap::Quat;
using mocap::Vec3;

namespace {

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

// The HIERARCHY section: the joint table with its rest offsets.
std::string hierarchy_text(const std::vector<RigJoint>& joints) {
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
    const RigJoint& J = joints[i];
    depth[i] = J.parent < 0 ? 0 : depth[static_cast<std::size_t>(J.parent)] + 1;
    const std::string pad(static_cast<std::size_t>(depth[i]) * 2, ' ');
    out += fmt::format("{}{} {}\n{}{{\n", pad, J.parent < 0 ? "ROOT" : "JOINT", J.name, pad);
    out += fmt::format("{}  OFFSET {:.6f} {:.6f} {:.6f}\n", pad, J.offset.x, J.offset.y, J.offset.z);
    out += fmt::format("{}  CHANNELS {}\n", pad,
                       J.parent < 0 ? "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
                                    : "3 Zrotation Xrotation Yrotation");
    if (mocap::norm(J.end_site) > 0.0)
      out += fmt::format("{0}  End Site\n{0}  {{\n{0}    OFFSET {1:.6f} {2:.6f} {3:.6f}\n{0}  }}\n", pad, J.end_site.x,
                         J.end_site.y, J.end_site.z);
    const int close = closes_after(i);
    for (int k = 0, d = depth[i]; k < close; ++k, --d) out += std::string(static_cast<std::size_t>(d) * 2, ' ') + "}\n";
  }
  return out;
}

}  // namespace

std::string bvh_text(const RigAnimation& animation) {
  const std::size_t T = animation.rotations.size();
  if (T == 0 || animation.root_positions.size() != T) throw std::logic_error("bvh_text: no frames, or sizes differ");
  std::string out = hierarchy_text(animation.joints);
  out += fmt::format("MOTION\nFrames: {}\nFrame Time: {:.8f}\n", T, 1.0 / animation.fps);
  for (std::size_t t = 0; t < T; ++t) {
    const Vec3& root = animation.root_positions[t];
    out += fmt::format("{:.6f} {:.6f} {:.6f}", root.x, root.y, root.z);
    for (const Quat& q : animation.rotations[t]) {
      const Vec3 e = zxy_degrees(q);
      out += fmt::format(" {:.6f} {:.6f} {:.6f}", e.x, e.y, e.z);
    }
    out += "\n";
  }
  return out;
}

}  // namespace poselift::wild
