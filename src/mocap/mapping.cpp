#include "mocap/mapping.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "io/error.hpp"
#include "io/json_text.hpp"
#include "mocap/text_file.hpp"

namespace poselift::mocap {

namespace {

// Human3.6M S1's thigh + shin (0.443 m + 0.454 m): the body the estimate lengths refer to.
constexpr double kReferenceLegLength = 0.897;
constexpr double kCmuMetresPerUnit = 0.0254 / 0.45;  // CMU BVH exports keep the ASF unit (1/0.45 inch)

using h36m::kHeadTop, h36m::kLAnkle, h36m::kLElbow, h36m::kLHip, h36m::kLKnee, h36m::kLShoulder, h36m::kLWrist,
    h36m::kNeck, h36m::kPelvis, h36m::kRAnkle, h36m::kRElbow, h36m::kRHip, h36m::kRKnee, h36m::kRShoulder,
    h36m::kRWrist, h36m::kSpine, h36m::kThorax;

PointRule point(const char* name) { return {PointRule::Kind::Point, name, "", 0.5, 0.0}; }
PointRule head_top(const char* head_joint, const char* explicit_point, double length) {
  return {PointRule::Kind::HeadTop, head_joint, explicit_point, 0.5, length};
}

// Limbs + trunk given as rig names in Human3.6M order; `head` is the head-top rule.
JointMapping family(const char* name, std::optional<double> metres_per_unit,
                    const std::array<const char*, h36m::kJoints>& names, PointRule head) {
  JointMapping mapping;
  mapping.name = name;
  mapping.metres_per_unit = metres_per_unit;
  for (int j = 0; j < h36m::kJoints; ++j)
    if (j != kHeadTop) mapping.rules[static_cast<std::size_t>(j)] = point(names[static_cast<std::size_t>(j)]);
  mapping.rules[kHeadTop] = std::move(head);
  return mapping;
}

std::vector<JointMapping> make_builtin_mappings() {
  std::vector<JointMapping> list;
  // Trunk and head joints are chosen by measurement, not by name, so that every family puts
  // them at the same heights relative to the shoulder joints (medians over whole clips, in
  // metres for a Human3.6M-sized body, i.e. divided by leg length / 0.897 m): thorax at the
  // neck base, +0.01..+0.06; neck/nose at face level, +0.09..+0.13; head top at the vertex,
  // about +0.24 (where CMU's own head end lies). This departs from the README's suggested table
  // for the CMU BVH/ASF thorax and nose (their `lowerneck`/`Neck` sit 8 cm below the shoulders)
  // and the iClone nose. The spine joint is the rig joint that best splits pelvis-thorax like
  // Human3.6M's (0.48). Head-top lengths: what is left from the nose joint up to +0.24.
  list.push_back(family("cmu-asf", std::nullopt,
                        {"root", "rfemur", "rtibia", "rfoot", "lfemur", "ltibia", "lfoot", "thorax", "upperneck",
                         "head", "", "lhumerus", "lradius", "lwrist", "rhumerus", "rradius", "rwrist"},
                        head_top("head", "head.end", 0.10)));
  list.push_back(family("bandai", 0.01,
                        {"Hips", "UpperLeg_R", "LowerLeg_R", "Foot_R", "UpperLeg_L", "LowerLeg_L", "Foot_L", "Spine",
                         "Neck", "Head", "", "UpperArm_L", "LowerArm_L", "Hand_L", "UpperArm_R", "LowerArm_R",
                         "Hand_R"},
                        head_top("Head", "", 0.13)));
  list.push_back(family("iclone-cc-base", 0.01,
                        {"CC_Base_Pelvis", "CC_Base_R_Thigh", "CC_Base_R_Calf", "CC_Base_R_Foot", "CC_Base_L_Thigh",
                         "CC_Base_L_Calf", "CC_Base_L_Foot", "CC_Base_Spine02", "CC_Base_NeckTwist01", "CC_Base_Head",
                         "", "CC_Base_L_Upperarm", "CC_Base_L_Forearm", "CC_Base_L_Hand", "CC_Base_R_Upperarm",
                         "CC_Base_R_Forearm", "CC_Base_R_Hand"},
                        head_top("CC_Base_Head", "", 0.12)));
  list.push_back(family("daz", std::nullopt,
                        {"hip", "rThigh", "rShin", "rFoot", "lThigh", "lShin", "lFoot", "abdomen", "neck", "head", "",
                         "lShldr", "lForeArm", "lHand", "rShldr", "rForeArm", "rHand"},
                        head_top("head", "", 0.12)));
  list.push_back(family("cmu-3dsmax", kCmuMetresPerUnit,
                        {"Hips", "RightHip", "RightKnee", "RightAnkle", "LeftHip", "LeftKnee", "LeftAnkle", "Chest",
                         "Neck", "Head", "", "LeftShoulder", "LeftElbow", "LeftWrist", "RightShoulder", "RightElbow",
                         "RightWrist"},
                        head_top("Head", "Head.end", 0.10)));
  list.push_back(family("cmu-motionbuilder", kCmuMetresPerUnit,
                        {"Hips", "RightUpLeg", "RightLeg", "RightFoot", "LeftUpLeg", "LeftLeg", "LeftFoot", "Spine",
                         "Neck1", "Head", "", "LeftArm", "LeftForeArm", "LeftHand", "RightArm", "RightForeArm",
                         "RightHand"},
                        head_top("Head", "Head.end", 0.10)));
  return list;
}

// The rig point a rule names, or -1.
int find_point(const Rig& rig, const std::string& name) { return name.empty() ? -1 : rig.find_point(name); }

// True when the point is an end site or joint whose offset from its joint/parent is non-zero.
bool point_has_extent(const Rig& rig, int point) {
  const auto joints = static_cast<int>(rig.joints.size());
  const Vec3 offset = point < joints ? rig.joints[static_cast<std::size_t>(point)].offset
                                     : rig.end_sites[static_cast<std::size_t>(point - joints)].offset;
  return norm(offset) > 0.0;
}

// HeadTop uses the explicit point only when it really is away from the head joint.
int explicit_head_top(const Rig& rig, const PointRule& rule) {
  const int p = find_point(rig, rule.b);
  return p >= 0 && point_has_extent(rig, p) ? p : -1;
}

std::string json_type(const nlohmann::json& value) { return value.type_name(); }

// One JSON mapping rule for `joint` (a rig name, {"between": [a, b], "t": t} or {"estimate": head, "length": m}).
PointRule parse_rule(const nlohmann::json& value, int joint, const std::string& what) {
  PointRule rule;
  if (value.is_string()) {
    rule = PointRule{PointRule::Kind::Point, value.get<std::string>(), "", 0.5, 0.0};
  } else if (value.is_object() && value.contains("between")) {
    const nlohmann::json& pair = value.at("between");
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
      throw InputError(what + ".between: expected two rig joint names");
    rule = PointRule{PointRule::Kind::Between, pair[0].get<std::string>(), pair[1].get<std::string>(), 0.5, 0.0};
    if (value.contains("t")) {
      if (!value.at("t").is_number()) throw InputError(what + ".t: expected a number");
      rule.t = value.at("t").get<double>();
    }
  } else if (value.is_object() && value.contains("estimate")) {
    if (!value.at("estimate").is_string()) throw InputError(what + ".estimate: expected the head joint's name");
    if (joint != kHeadTop) throw InputError(what + ": 'estimate' is only available for head_top");
    rule = PointRule{PointRule::Kind::HeadTop, value.at("estimate").get<std::string>(), "", 0.5, 0.15};
    if (value.contains("length")) {
      if (!value.at("length").is_number() || !(value.at("length").get<double>() > 0.0))
        throw InputError(what + ".length: expected a positive number (metres)");
      rule.length = value.at("length").get<double>();
    }
  } else {
    throw InputError(what + ": expected a rig joint name, {\"between\": [a, b], \"t\": 0.5} or "
                            "{\"estimate\": head joint, \"length\": metres}, found " + io::json_excerpt(value));
  }
  return rule;
}

}  // namespace

bool JointMapping::matches(const Rig& rig) const {
  for (const auto& rule : rules) {
    if (!rule) continue;
    if (find_point(rig, rule->a) < 0) return false;
    if (rule->kind == PointRule::Kind::Between && find_point(rig, rule->b) < 0) return false;
    if (rule->kind == PointRule::Kind::HeadTop && rig.find_joint(rule->a) < 0 && explicit_head_top(rig, *rule) < 0)
      return false;
  }
  return true;
}

const std::vector<JointMapping>& builtin_mappings() {
  static const std::vector<JointMapping> list = make_builtin_mappings();
  return list;
}

const JointMapping* detect_mapping(const Rig& rig, const std::vector<JointMapping>& custom) {
  for (const JointMapping& mapping : custom)
    if (mapping.matches(rig)) return &mapping;
  for (const JointMapping& mapping : builtin_mappings())
    if (mapping.matches(rig)) return &mapping;
  return nullptr;
}

JointMapping parse_joint_mapping(const std::string& json_text, const std::string& source) {
  nlohmann::json root;
  try {
    root = io::parse_json_bounded(json_text, source);
  } catch (const nlohmann::json::exception& error) {  // syntax, and numbers out of range
    throw InputError(source + ": invalid JSON: " + std::string(error.what()));
  }
  if (!root.is_object()) throw InputError(source + ": expected a JSON object at the top level, found " + json_type(root));
  JointMapping mapping;
  mapping.name = std::filesystem::path(source).stem().string();
  auto positive = [&](const char* key) -> std::optional<double> {
    if (!root.contains(key)) return std::nullopt;
    const nlohmann::json& value = root.at(key);
    if (!value.is_number() || !(value.get<double>() > 0.0))
      throw InputError(source + ": '" + key + "': expected a positive number, found " + io::json_excerpt(value));
    return value.get<double>();
  };
  if (root.contains("name")) {
    if (!root.at("name").is_string()) throw InputError(source + ": 'name': expected a string");
    mapping.name = root.at("name").get<std::string>();
  }
  mapping.metres_per_unit = positive("metres_per_unit");
  mapping.standing_height = positive("standing_height");
  mapping.fps = positive("fps");
  if (root.contains("up_axis")) {
    const nlohmann::json& up = root.at("up_axis");
    if (up == "y" || up == "Y") mapping.up_axis = 1;
    else if (up == "z" || up == "Z") mapping.up_axis = 2;
    else throw InputError(source + ": 'up_axis': expected \"y\" or \"z\", found " + io::json_excerpt(up));
  }
  for (auto it = root.begin(); it != root.end(); ++it)
    if (it.key() != "name" && it.key() != "metres_per_unit" && it.key() != "standing_height" && it.key() != "fps" &&
        it.key() != "up_axis" && it.key() != "joints")
      throw InputError(source + ": unknown key '" + it.key() +
                       "' (expected name, metres_per_unit, standing_height, fps, up_axis, joints)");
  if (!root.contains("joints") || !root.at("joints").is_object())
    throw InputError(source + ": 'joints': expected an object mapping Human3.6M joint names to rig joints");

  for (const auto& [key, value] : root.at("joints").items()) {
    const std::optional<int> joint = h36m::find_joint(key);
    if (!joint)
      throw InputError(source + ": joints: unknown Human3.6M joint '" + key +
                       "' (expected pelvis, r_hip, r_knee, r_ankle, l_hip, l_knee, l_ankle, spine, thorax, neck, "
                       "head_top, l_shoulder, l_elbow, l_wrist, r_shoulder, r_elbow, r_wrist)");
    const std::string what = source + ": joints." + key;
    PointRule rule = parse_rule(value, *joint, what);
    if (rule.a.empty()) throw InputError(what + ": empty joint name");
    mapping.rules[static_cast<std::size_t>(*joint)] = std::move(rule);
  }
  for (int j = 0; j < h36m::kJoints; ++j) {
    if (j == kSpine || j == kThorax || j == kNeck) continue;
    if (!mapping.rules[static_cast<std::size_t>(j)])
      throw InputError(source + ": joints: missing '" + h36m::joint_names()[static_cast<std::size_t>(j)] +
                       "' (only spine, thorax and neck may be left out)");
  }
  return mapping;
}

JointMapping load_joint_mapping(const std::string& path) {
  if (!std::ifstream(path)) throw InputError(path + ": cannot open the joint mapping file");
  // A mapping is a few hundred bytes: 1 MiB is plenty and keeps a wrong file from filling memory.
  return parse_joint_mapping(read_text_file(path, std::size_t{1} << 20), path);
}

std::vector<Vec3> map_to_h36m(const PointTracks& tracks, const Rig& rig, const JointMapping& mapping) {
  const std::int64_t frames = tracks.frames;
  std::vector<Vec3> out(static_cast<std::size_t>(frames) * h36m::kJoints);
  auto at = [&](std::int64_t t, int j) -> Vec3& { return out[static_cast<std::size_t>(t) * h36m::kJoints + j]; };
  auto require = [&](const std::string& name, int joint) {
    const int p = find_point(rig, name);
    if (p < 0)
      throw InputError(tracks.names.empty() ? "map_to_h36m: empty rig"
                                            : "mapping '" + mapping.name + "': " +
                                                  h36m::joint_names()[static_cast<std::size_t>(joint)] +
                                                  ": the rig has no joint '" + name + "'");
    return p;
  };

  // 1. Rig points and blends.
  for (int j = 0; j < h36m::kJoints; ++j) {
    const auto& rule = mapping.rules[static_cast<std::size_t>(j)];
    if (!rule) continue;
    int a = -1, b = -1;
    double t = 0.0;
    if (rule->kind == PointRule::Kind::Point) {
      a = b = require(rule->a, j);
    } else if (rule->kind == PointRule::Kind::Between) {
      a = require(rule->a, j);
      b = require(rule->b, j);
      t = rule->t;
    } else {
      a = b = explicit_head_top(rig, *rule);
      if (a < 0) continue;  // estimated below
    }
    for (std::int64_t f = 0; f < frames; ++f) at(f, j) = lerp(tracks.position(f, a), tracks.position(f, b), t);
  }
  // 2. Default trunk joints.
  if (!mapping.rules[kThorax])
    for (std::int64_t f = 0; f < frames; ++f) at(f, kThorax) = lerp(at(f, kLShoulder), at(f, kRShoulder), 0.5);
  if (!mapping.rules[kSpine])
    for (std::int64_t f = 0; f < frames; ++f) at(f, kSpine) = lerp(at(f, kPelvis), at(f, kThorax), 0.5);

  // 3. Estimated head top.
  const PointRule& head = *mapping.rules[kHeadTop];
  if (head.kind == PointRule::Kind::HeadTop && explicit_head_top(rig, head) < 0 && frames > 0) {
    const int head_joint = rig.find_joint(head.a);
    if (head_joint < 0) throw InputError("mapping '" + mapping.name + "': head_top: the rig has no joint '" + head.a + "'");
    double leg_sum = 0.0;
    for (std::int64_t f = 0; f < frames; ++f)
      leg_sum += norm(at(f, kRHip) - at(f, kRKnee)) + norm(at(f, kRKnee) - at(f, kRAnkle)) +
                 norm(at(f, kLHip) - at(f, kLKnee)) + norm(at(f, kLKnee) - at(f, kLAnkle));
    const double body_scale = leg_sum / (2.0 * static_cast<double>(frames)) / kReferenceLegLength;
    // World up seen from the head, averaged over frames with an upright trunk (all frames
    // when there are none): the head's own "up" axis, robust to rigs whose rest pose is not
    // upright (Bandai).
    const Vec3 world_up{0.0, 0.0, 1.0};
    Vec3 upright_sum, all_sum;
    for (std::int64_t f = 0; f < frames; ++f) {
      const Vec3 local_up = rotate(conjugate(tracks.rotation(f, head_joint)), world_up);
      all_sum += local_up;
      if (normalized(at(f, kThorax) - at(f, kPelvis)).z > 0.8) upright_sum += local_up;
    }
    Vec3 head_up = normalized(norm(upright_sum) > 0.0 ? upright_sum : all_sum);
    if (norm(head_up) == 0.0) head_up = rotate(conjugate(tracks.rotation(0, head_joint)), world_up);
    const Vec3 offset = head_up * (head.length * body_scale);
    for (std::int64_t f = 0; f < frames; ++f)
      at(f, kHeadTop) = tracks.position(f, head_joint) + rotate(tracks.rotation(f, head_joint), offset);
  }
  // 4. Default neck/nose.
  if (!mapping.rules[kNeck])
    for (std::int64_t f = 0; f < frames; ++f) at(f, kNeck) = lerp(at(f, kThorax), at(f, kHeadTop), 0.5);
  return out;
}

namespace {

// Which rig joints move relative to their parent during the clip.
struct JointMotion {
  std::vector<bool> rotates, translates;
};

JointMotion moving_joints(const SkeletalMotion& motion) {
  const std::size_t joints = motion.rig.joints.size();
  JointMotion moving{std::vector<bool>(joints, false), std::vector<bool>(joints, false)};
  for (std::size_t j = 0; j < joints; ++j) {
    const Quat& q0 = motion.local_rotations[motion.index(0, static_cast<int>(j))];
    const Vec3& t0 = motion.local_translations[motion.index(0, static_cast<int>(j))];
    const double tolerance = 1e-9 * std::max(1.0, norm(t0));
    for (std::int64_t f = 1; f < motion.frames && !(moving.rotates[j] && moving.translates[j]); ++f) {
      const Quat& q = motion.local_rotations[motion.index(f, static_cast<int>(j))];
      if (std::fabs(q.w * q0.w + q.x * q0.x + q.y * q0.y + q.z * q0.z) < 1.0 - 1e-12) moving.rotates[j] = true;
      if (norm(motion.local_translations[motion.index(f, static_cast<int>(j))] - t0) > tolerance)
        moving.translates[j] = true;
    }
  }
  return moving;
}

// A mapped joint as (rig joint, has an offset from it).
struct Anchor {
  int joint;
  bool offset;
};

// nullopt when the Human3.6M joint is not a rigid rig point (unmapped, or a blend of points).
std::optional<Anchor> anchor_of(const Rig& rig, const JointMapping& mapping, int h36m_joint) {
  const auto& rule = mapping.rules[static_cast<std::size_t>(h36m_joint)];
  if (!rule) return std::nullopt;
  int p = -1;
  if (rule->kind == PointRule::Kind::Point) p = find_point(rig, rule->a);
  else if (rule->kind == PointRule::Kind::HeadTop) {
    p = explicit_head_top(rig, *rule);
    if (p < 0) {
      const int j = rig.find_joint(rule->a);
      return j < 0 ? std::nullopt : std::optional<Anchor>(Anchor{j, true});
    }
  }
  if (p < 0) return std::nullopt;
  if (p < static_cast<int>(rig.joints.size())) return Anchor{p, false};
  return Anchor{rig.point_joint(p), true};
}

std::vector<int> ancestors(const Rig& rig, int j) {
  std::vector<int> chain;
  for (; j >= 0; j = rig.joints[static_cast<std::size_t>(j)].parent) chain.push_back(j);
  return chain;  // j, parent, ..., root
}

// The deepest joint two chains share; -1 for joints of separate roots.
int common_ancestor(const std::vector<int>& chain_a, const std::vector<int>& chain_b) {
  const std::set<int> set_a(chain_a.begin(), chain_a.end());
  for (int j : chain_b)
    if (set_a.count(j)) return j;
  return -1;
}

// Whether the distance between two anchors stays fixed through the clip.
bool rigid_between(const SkeletalMotion& motion, const JointMotion& moving, const Anchor& a, const Anchor& b) {
  const int common = common_ancestor(ancestors(motion.rig, a.joint), ancestors(motion.rig, b.joint));
  if (common < 0) return false;
  // Each non-zero translation on the way from the common ancestor to either end turns with
  // the frame of its parent joint; name that frame by the deepest rotating joint between the
  // common ancestor (exclusive) and it, or -1 for the common ancestor's own frame.
  std::set<int> frames_used;
  bool varying = false;
  for (const Anchor* side : {&a, &b}) {
    const std::vector<int> chain = ancestors(motion.rig, side->joint);
    std::vector<int> path;  // from just below `common` down to the anchor joint
    for (int j : chain) {
      if (j == common) break;
      path.insert(path.begin(), j);
    }
    int frame = -1;
    for (int j : path) {
      const auto u = static_cast<std::size_t>(j);
      if (moving.translates[u]) varying = true;
      if (norm(motion.local_translations[motion.index(0, j)]) > 0.0 || moving.translates[u]) frames_used.insert(frame);
      if (moving.rotates[u]) frame = j;
    }
    if (side->offset) frames_used.insert(frame);
  }
  return !varying && frames_used.size() <= 1;
}

}  // namespace

std::array<bool, h36m::kJoints> rigid_h36m_bones(const SkeletalMotion& motion, const JointMapping& mapping) {
  const JointMotion moving = moving_joints(motion);
  std::array<bool, h36m::kJoints> rigid{};
  for (int child = 1; child < h36m::kJoints; ++child) {
    const auto a = anchor_of(motion.rig, mapping, h36m::parents()[static_cast<std::size_t>(child)]);
    const auto b = anchor_of(motion.rig, mapping, child);
    if (a && b) rigid[static_cast<std::size_t>(child)] = rigid_between(motion, moving, *a, *b);
  }
  return rigid;
}

}  // namespace poselift::mocap
