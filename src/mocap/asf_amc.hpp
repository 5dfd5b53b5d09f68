// Acclaim skeleton (.asf) and motion (.amc) files, as in the original CMU motion-capture
// database (also gzipped).
//
// Semantics (the Acclaim convention CMU's own tools use):
//  - `:units length L`: lengths are in units of 1/L inch (CMU: L = 0.45), so one unit is
//    0.0254 / L metres. `angle deg|rad` applies to the ASF; the AMC may say :DEGREES/:RADIANS.
//  - Each bone has a global rest `direction` and `length`, and an `axis a b c ORDER` frame C.
//    Rotations compose with the first-named axis applied first (column vectors: "XYZ" means
//    Rz * Ry * Rx); the dof values of a frame form M the same way in `dof` order. The bone's
//    rotation relative to its parent is C * M * C^-1, and it starts where its parent ends.
//  - The root's frame comes from `orientation` + `axis`, its translation is `position` plus
//    the AMC's TX TY TZ values, its rotation the AMC's RX RY RZ values in `order` order.
//
// In the resulting SkeletalMotion, joint "root" is the root and every bone is a joint placed
// at the bone's START (e.g. "rfemur" = hip centre); leaf bones also get an end site
// "<bone>.end" (e.g. "head.end" = top of the head).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mocap/motion.hpp"

namespace poselift::mocap {

enum class AsfDof { RX, RY, RZ, TX, TY, TZ };

struct AsfBone {
  std::string name;
  Vec3 direction;        // unit vector, global rest frame
  double length = 0.0;   // file units
  Vec3 axis_angles;      // file angle unit, as written
  std::string axis_order = "XYZ";
  std::vector<AsfDof> dofs;  // rotation dofs only for bones (translations are root-only)
  int parent = -1;           // bone index; -1 = the root
};

struct AsfSkeleton {
  std::string source;
  double length_unit = 1.0;         // `:units length` value
  bool degrees = true;              // `:units angle`
  std::vector<AsfDof> root_order;   // `:root order`
  std::string root_axis_order = "XYZ";
  Vec3 root_position;
  Vec3 root_orientation;
  std::vector<AsfBone> bones;  // parents precede children

  int find_bone(const std::string& name) const;  // -1 when absent
  double metres_per_unit() const { return 0.0254 / length_unit; }
};

AsfSkeleton parse_asf(std::string_view text, const std::string& source, const ReadLimits& limits = {});
AsfSkeleton read_asf(const std::string& path, const ReadLimits& limits = {});

// Parses AMC frames for `skeleton`. AMC files carry no frame rate: `fps` (CMU: 120) is used.
SkeletalMotion parse_amc(std::string_view text, const std::string& source, const AsfSkeleton& skeleton,
                         double fps = 120.0, const ReadLimits& limits = {});
SkeletalMotion read_amc(const std::string& path, const AsfSkeleton& skeleton, double fps = 120.0,
                        const ReadLimits& limits = {});

// The .asf beside an .amc file: "<stem minus _NN>.asf" (CMU naming, "02_01.amc" ->
// "02.asf", gzipped or not), else the only .asf in the folder; "" when none is found.
std::string find_asf_for_amc(const std::string& amc_path);

}  // namespace poselift::mocap
