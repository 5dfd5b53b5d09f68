// Mapping a motion-capture rig onto the 17 Human3.6M joints.
//
// Human3.6M-17 order: data/h36m.hpp.
//
// Built-in rig families (detected from joint names, first match wins; trunk/head choices
// explained in mapping.cpp):
//   H36M        CMU ASF    Bandai      iClone CC_Base        DAZ      CMU 3dsMax  CMU MotionBuilder
//   pelvis      root       Hips        CC_Base_Pelvis        hip      Hips        Hips
//   r hip/knee/ankle: rfemur rtibia rfoot | UpperLeg_R LowerLeg_R Foot_R | CC_Base_R_Thigh _Calf _Foot |
//               rThigh rShin rFoot | RightHip RightKnee RightAnkle | RightUpLeg RightLeg RightFoot
//   spine       thorax     Spine       CC_Base_Spine02       abdomen  Chest       Spine
//   thorax      upperneck  Neck        CC_Base_NeckTwist01   neck     Neck        Neck1
//   neck/nose   head       Head        CC_Base_Head          head     Head        Head
//   head top    head.end   estimated   estimated             estimated Head.end   Head.end (estimated
//                                                                                  when its offset is 0)
//   l shoulder/elbow/wrist: lhumerus lradius lwrist | UpperArm_L LowerArm_L Hand_L |
//               CC_Base_L_Upperarm _Forearm _Hand | lShldr lForeArm lHand |
//               LeftShoulder LeftElbow LeftWrist | LeftArm LeftForeArm LeftHand   (right side alike)
// (ASF names are bone starts: "rfemur" = hip centre; "head.end" = the head bone's far end.)
// Other rigs are described by a JSON mapping file (see load_joint_mapping).
//
// Joints a rig lacks are estimated (documented rules, all rigid with the joints they hang on):
//  - head top: the rig's head-top point when it has one with a non-zero offset (CMU ASF
//    `head` end, CMU BVH Head End Site); otherwise the head joint plus `length` x body scale
//    along the head's own "up" axis. That axis is measured per clip as the head-frame
//    direction of world up, averaged over frames with an upright trunk, so the estimate follows
//    nods and tilts. Body scale = mean thigh + shin length / 0.897 m (Human3.6M S1's legs).
//  - thorax (when a JSON mapping omits it): midpoint of the shoulders.
//  - spine (when omitted): midpoint of pelvis and thorax.
//  - neck/nose (when omitted): midpoint of thorax and head top.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "data/h36m.hpp"
#include "mocap/motion.hpp"

namespace poselift::mocap {

// The Human3.6M-17 table (joint names as JSON mappings and messages spell them, parents,
// symmetry): data/h36m.hpp.
namespace h36m = data::h36m;

struct PointRule {
  enum class Kind {
    Point,    // the rig point `a` (a joint or an end site such as "Head.end")
    Between,  // a + t * (b - a)
    HeadTop,  // the point `b` when the rig has it with a non-zero offset, else estimated from joint `a`
  };
  Kind kind = Kind::Point;
  std::string a, b;
  double t = 0.5;        // Between
  double length = 0.15;  // HeadTop: metres above the head joint for a Human3.6M-sized body
};

struct JointMapping {
  std::string name;  // "bandai", "cmu-asf", ... or the JSON file name
  // One rule per Human3.6M joint; nullopt = the default estimate (thorax, spine, neck only).
  std::array<std::optional<PointRule>, h36m::kJoints> rules;
  // Conversion of the rig's length unit to metres when known for the family; otherwise the
  // file's own declaration (ASF) or an assumed standing height is used.
  std::optional<double> metres_per_unit;
  std::optional<double> fps;               // overrides the file's frame rate
  std::optional<double> standing_height;   // metres, for rigs of unknown unit
  int up_axis = 1;                         // 1 = y-up (every family here), 2 = z-up

  // True when every joint the rules name exists in the rig.
  bool matches(const Rig& rig) const;
};

// The built-in families, in detection order.
const std::vector<JointMapping>& builtin_mappings();
// The first of `custom` then the built-ins that matches the rig; nullptr when none does.
const JointMapping* detect_mapping(const Rig& rig, const std::vector<JointMapping>& custom = {});

// Reads a JSON mapping:
//   {
//     "name": "my-rig",                  (optional, default: the file name)
//     "metres_per_unit": 0.01,           (optional)
//     "standing_height": 1.75,           (optional, metres; used when the unit is unknown)
//     "fps": 60,                         (optional, overrides the files' frame rate)
//     "up_axis": "y",                    (optional, "y" or "z")
//     "joints": {                        (H36M joint name -> rule)
//       "pelvis": "Hips",                          a rig joint or end site ("Head.end")
//       "neck": {"between": ["Neck", "Head"], "t": 0.5},
//       "head_top": {"estimate": "Head", "length": 0.18},
//       ...
//     }
//   }
// Joint names: pelvis, r_hip, r_knee, r_ankle, l_hip, l_knee, l_ankle, spine, thorax, neck
// (alias nose), head_top (alias head), l_shoulder, l_elbow, l_wrist, r_shoulder, r_elbow,
// r_wrist. All are required except spine, thorax and neck. Errors name the file and field.
JointMapping load_joint_mapping(const std::string& path);
JointMapping parse_joint_mapping(const std::string& json_text, const std::string& source);

// Human3.6M-17 positions of a rig's motion (frames x 17), from point tracks in metres, z-up
// (see to_metres_z_up). `rig` is the rig the tracks were computed from.
std::vector<Vec3> map_to_h36m(const PointTracks& tracks, const Rig& rig, const JointMapping& mapping);

// Bones (indexed by their child joint, 1..16) whose length the rig keeps constant: both ends
// hang, through the joint hierarchy, on a single rotating segment. Bone 0 is always false.
std::array<bool, h36m::kJoints> rigid_h36m_bones(const SkeletalMotion& motion, const JointMapping& mapping);

}  // namespace poselift::mocap
