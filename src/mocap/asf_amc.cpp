#include "mocap/asf_amc.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include "io/error.hpp"
#include "mocap/text_file.hpp"
#include "mocap/text_lines.hpp"
#include "io/text.hpp"

namespace poselift::mocap {

namespace {

using detail::fail_at;
using detail::quote_token;


bool parse_dof(std::string_view token, AsfDof& dof) {
  static const std::pair<const char*, AsfDof> kNames[] = {{"rx", AsfDof::RX}, {"ry", AsfDof::RY}, {"rz", AsfDof::RZ},
                                                          {"tx", AsfDof::TX}, {"ty", AsfDof::TY}, {"tz", AsfDof::TZ}};
  const std::string name = io::to_lower(token);
  for (const auto& [text, value] : kNames)
    if (name == text) {
      dof = value;
      return true;
    }
  return false;
}

bool is_rotation(AsfDof dof) { return dof == AsfDof::RX || dof == AsfDof::RY || dof == AsfDof::RZ; }
int dof_axis(AsfDof dof) { return static_cast<int>(dof) % 3; }

bool valid_axis_order(std::string_view order) {
  if (order.size() != 3) return false;
  std::string upper = io::to_lower(order);
  std::sort(upper.begin(), upper.end());
  return upper == "xyz";
}

// Rotation of Euler angles applied in `order` (first letter first): R = R3 * R2 * R1.
Quat ordered_rotation(const Vec3& angles, std::string_view order, bool degrees) {
  Quat q;
  for (char axis_name : order) {
    const int axis = std::tolower(static_cast<unsigned char>(axis_name)) - 'x';
    const double value = degrees ? angles[axis] : angles[axis] * (180.0 / kPi);
    q = axis_rotation(axis, value) * q;
  }
  return q;
}

class AsfParser {
 public:
  AsfParser(std::string_view text, const std::string& source, const ReadLimits& limits)
      : cursor_(text), source_(source), limits_(limits) {}

  AsfSkeleton parse() {
    skeleton_.source = source_;
    skeleton_.root_order = {AsfDof::TX, AsfDof::TY, AsfDof::TZ, AsfDof::RX, AsfDof::RY, AsfDof::RZ};
    std::string_view line;
    std::string section;
    while (cursor_.next(line)) {
      detail::split_tokens(line, tokens_);
      if (tokens_.empty() || tokens_[0].front() == '#') continue;
      if (tokens_[0].front() == ':') {
        // Sections other than these four (:version, :name, :documentation, :skin...) carry
        // nothing that positions the skeleton and are skipped.
        section = io::to_lower(tokens_[0]);
        continue;
      }
      if (section == ":units") units_line();
      else if (section == ":root") root_line();
      else if (section == ":bonedata") bone_line();
      else if (section == ":hierarchy") hierarchy_line();
    }
    if (in_bone_) fail_at(source_, cursor_.line_number(), "the file ends inside a bone's begin/end block");
    if (!saw_hierarchy_) fail_at(source_, cursor_.line_number(), "no :hierarchy section (expected 'begin ... end')");
    if (in_hierarchy_) fail_at(source_, cursor_.line_number(), "the :hierarchy section is not closed by 'end'");
    order_bones();
    return std::move(skeleton_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { fail_at(source_, cursor_.line_number(), message); }

  double number(std::size_t index, const char* field) const {
    double value = 0.0;
    if (index >= tokens_.size()) fail(std::string(field) + ": expected more numbers");
    if (!detail::parse_double(tokens_[index], value))
      fail(std::string(field) + ": expected a number, found " + quote_token(tokens_[index]));
    return value;
  }

  Vec3 vector3(const char* field) const {
    if (tokens_.size() < 4) fail(std::string(field) + ": expected 3 numbers");
    return {number(1, field), number(2, field), number(3, field)};
  }

  void units_line() {
    const std::string key = io::to_lower(tokens_[0]);
    if (key == "length") {
      const double value = tokens_.size() == 2 ? number(1, "length") : -1.0;
      if (!(value > 0.0)) fail("units: expected 'length <positive number>'");
      skeleton_.length_unit = value;
    } else if (key == "angle") {
      const std::string unit = tokens_.size() == 2 ? io::to_lower(tokens_[1]) : "";
      if (unit == "deg" || unit == "degree" || unit == "degrees") skeleton_.degrees = true;
      else if (unit == "rad" || unit == "radian" || unit == "radians") skeleton_.degrees = false;
      else fail("units: expected 'angle deg' or 'angle rad', found " + quote_token(io::trim(line_of_tokens())));
    }
    // `mass` and unknown unit lines do not affect positions.
  }

  std::string_view line_of_tokens() const {
    return tokens_.empty() ? std::string_view() : std::string_view(tokens_.front().data(),
                                                                   tokens_.back().data() + tokens_.back().size() -
                                                                       tokens_.front().data());
  }

  void root_line() {
    const std::string key = io::to_lower(tokens_[0]);
    if (key == "order") {
      skeleton_.root_order.clear();
      for (std::size_t i = 1; i < tokens_.size(); ++i) {
        AsfDof dof;
        if (!parse_dof(tokens_[i], dof)) fail("root order: unknown channel " + quote_token(tokens_[i]) + " (expected TX..RZ)");
        if (std::find(skeleton_.root_order.begin(), skeleton_.root_order.end(), dof) != skeleton_.root_order.end())
          fail("root order: channel " + quote_token(tokens_[i]) + " listed twice");
        skeleton_.root_order.push_back(dof);
      }
    } else if (key == "axis") {
      if (tokens_.size() != 2 || !valid_axis_order(tokens_[1])) fail("root axis: expected an order such as XYZ");
      skeleton_.root_axis_order = std::string(tokens_[1]);
    } else if (key == "position") {
      skeleton_.root_position = vector3("root position");
    } else if (key == "orientation") {
      skeleton_.root_orientation = vector3("root orientation");
    } else {
      fail("root: expected order, axis, position or orientation, found " + quote_token(tokens_[0]));
    }
  }

  void bone_line() {
    const std::string key = io::to_lower(tokens_[0]);
    if (!in_bone_) {
      if (key != "begin") fail("bonedata: expected 'begin', found " + quote_token(tokens_[0]));
      if (static_cast<int>(skeleton_.bones.size()) >= limits_.max_joints)
        fail("more than " + std::to_string(limits_.max_joints) + " bones");
      in_bone_ = true;
      bone_ = AsfBone{};
      bone_has_name_ = bone_has_direction_ = bone_has_length_ = false;
      in_limits_ = false;
      return;
    }
    if (key == "end") {
      if (!bone_has_name_) fail("bone block without a 'name'");
      if (!bone_has_direction_) fail("bone " + quote_token(bone_.name) + " has no 'direction'");
      if (!bone_has_length_) fail("bone " + quote_token(bone_.name) + " has no 'length'");
      if (skeleton_.find_bone(bone_.name) >= 0 || io::to_lower(bone_.name) == "root")
        fail("bone name " + quote_token(bone_.name) + " is used twice");
      skeleton_.bones.push_back(bone_);
      in_bone_ = false;
      return;
    }
    if (key.front() == '(') {
      // Continuation of a `limits` list.
      if (!in_limits_) fail("unexpected " + quote_token(tokens_[0]) + " outside 'limits'");
      return;
    }
    in_limits_ = false;
    if (key == "id" || key == "bodymass" || key == "cofmass") return;
    if (key == "name") {
      if (tokens_.size() != 2) fail("expected 'name <bone>'");
      bone_.name = std::string(tokens_[1]);
      bone_has_name_ = true;
    } else if (key == "direction") {
      const Vec3 direction = vector3("direction");
      const double length = norm(direction);
      if (!(length > 0.0) || !std::isfinite(length)) fail("direction: expected a finite non-zero vector");
      bone_.direction = normalized(direction);
      bone_has_direction_ = true;
    } else if (key == "length") {
      bone_.length = tokens_.size() == 2 ? number(1, "length") : -1.0;
      if (bone_.length < 0.0) fail("expected 'length <non-negative number>'");
      bone_has_length_ = true;
    } else if (key == "axis") {
      if (tokens_.size() != 5 || !valid_axis_order(tokens_[4])) fail("expected 'axis a b c ORDER' (ORDER like XYZ)");
      bone_.axis_angles = {number(1, "axis"), number(2, "axis"), number(3, "axis")};
      bone_.axis_order = std::string(tokens_[4]);
    } else if (key == "dof") {
      bone_.dofs.clear();
      for (std::size_t i = 1; i < tokens_.size(); ++i) {
        AsfDof dof;
        if (!parse_dof(tokens_[i], dof)) fail("dof: unknown degree of freedom " + quote_token(tokens_[i]));
        if (!is_rotation(dof))
          fail("dof " + quote_token(tokens_[i]) + " on bone " + quote_token(bone_.name) +
               " is not supported (bones may only rotate: rx, ry, rz)");
        if (std::find(bone_.dofs.begin(), bone_.dofs.end(), dof) != bone_.dofs.end())
          fail("dof " + quote_token(tokens_[i]) + " listed twice");
        bone_.dofs.push_back(dof);
      }
    } else if (key == "limits") {
      in_limits_ = true;
    } else {
      fail("bone: unknown field " + quote_token(tokens_[0]));
    }
  }

  void hierarchy_line() {
    const std::string key = io::to_lower(tokens_[0]);
    if (!in_hierarchy_) {
      if (key != "begin") fail("hierarchy: expected 'begin', found " + quote_token(tokens_[0]));
      if (saw_hierarchy_) fail("second hierarchy block");
      in_hierarchy_ = saw_hierarchy_ = true;
      return;
    }
    if (key == "end") {
      in_hierarchy_ = false;
      return;
    }
    int parent = -1;
    if (key != "root") {
      parent = skeleton_.find_bone(std::string(tokens_[0]));
      if (parent < 0) fail("hierarchy: unknown bone " + quote_token(tokens_[0]));
    }
    for (std::size_t i = 1; i < tokens_.size(); ++i) {
      const int child = skeleton_.find_bone(std::string(tokens_[i]));
      if (child < 0) fail("hierarchy: unknown bone " + quote_token(tokens_[i]));
      if (parents_.count(child)) fail("hierarchy: bone " + quote_token(tokens_[i]) + " has two parents");
      parents_[child] = parent;
    }
  }

  // Re-orders bones breadth-first from the root so parents precede children; every bone
  // must hang from the root (cycles and orphans are errors).
  void order_bones() {
    const std::size_t n = skeleton_.bones.size();
    std::vector<int> order;
    std::vector<int> depth(n, 0);
    std::vector<bool> placed(n, false);
    std::vector<int> frontier{-1};
    int level = 0;
    while (!frontier.empty()) {
      if (++level > limits_.max_depth)
        fail_at(source_, cursor_.line_number(), "hierarchy deeper than " + std::to_string(limits_.max_depth) + " levels");
      std::vector<int> next;
      for (int parent : frontier)
        for (std::size_t b = 0; b < n; ++b) {
          auto it = parents_.find(static_cast<int>(b));
          if (it != parents_.end() && it->second == parent && !placed[b]) {
            placed[b] = true;
            order.push_back(static_cast<int>(b));
            next.push_back(static_cast<int>(b));
          }
        }
      frontier = std::move(next);
    }
    for (std::size_t b = 0; b < n; ++b)
      if (!placed[b])
        fail_at(source_, cursor_.line_number(),
                "bone " + quote_token(skeleton_.bones[b].name) + " is not connected to the root in :hierarchy");
    std::vector<int> new_index(n);
    for (std::size_t i = 0; i < order.size(); ++i) new_index[static_cast<std::size_t>(order[i])] = static_cast<int>(i);
    std::vector<AsfBone> sorted;
    for (int b : order) {
      AsfBone bone = skeleton_.bones[static_cast<std::size_t>(b)];
      const int parent = parents_.at(b);
      bone.parent = parent < 0 ? -1 : new_index[static_cast<std::size_t>(parent)];
      sorted.push_back(std::move(bone));
    }
    skeleton_.bones = std::move(sorted);
  }

  detail::LineCursor cursor_;
  const std::string& source_;
  const ReadLimits& limits_;
  AsfSkeleton skeleton_;
  std::vector<std::string_view> tokens_;
  bool in_bone_ = false, in_limits_ = false, in_hierarchy_ = false, saw_hierarchy_ = false;
  bool bone_has_name_ = false, bone_has_direction_ = false, bone_has_length_ = false;
  AsfBone bone_;
  std::map<int, int> parents_;  // bone -> parent bone (-1 = root), by definition index
};

// The rig of an ASF skeleton: joint 0 is the root, joint b + 1 is bone b at its start.
Rig rig_of(const AsfSkeleton& skeleton) {
  Rig rig;
  rig.joints.push_back({"root", -1, skeleton.root_position, true});
  std::vector<bool> has_children(skeleton.bones.size(), false);
  for (const AsfBone& bone : skeleton.bones)
    if (bone.parent >= 0) has_children[static_cast<std::size_t>(bone.parent)] = true;
  for (const AsfBone& bone : skeleton.bones) {
    RigJoint joint;
    joint.name = bone.name;
    joint.parent = bone.parent + 1;
    if (bone.parent >= 0) {
      const AsfBone& parent = skeleton.bones[static_cast<std::size_t>(bone.parent)];
      joint.offset = parent.direction * parent.length;
    }
    rig.joints.push_back(std::move(joint));
  }
  for (std::size_t b = 0; b < skeleton.bones.size(); ++b)
    if (!has_children[b])
      rig.end_sites.push_back({skeleton.bones[b].name + ".end", static_cast<int>(b) + 1,
                               skeleton.bones[b].direction * skeleton.bones[b].length});
  return rig;
}

// The pose of the AMC frame being read: the values of each bone's dof, kept from frame to frame
// so a bone a frame leaves out holds its previous pose, and the rest frames that turn them into
// local rotations.
class AmcPose {
 public:
  explicit AmcPose(const AsfSkeleton& skeleton)
      : skeleton_(skeleton),
        root_frame_(ordered_rotation(skeleton.root_orientation, skeleton.root_axis_order, skeleton.degrees)),
        root_values_(skeleton.root_order.size(), 0.0),
        bone_values_(skeleton.bones.size()) {
    const std::size_t bones = skeleton.bones.size();
    // Per-bone rest frames C and C^-1.
    frame_.resize(bones);
    frame_inverse_.resize(bones);
    for (std::size_t b = 0; b < bones; ++b) {
      frame_[b] = ordered_rotation(skeleton.bones[b].axis_angles, skeleton.bones[b].axis_order, skeleton.degrees);
      frame_inverse_[b] = conjugate(frame_[b]);
    }
    index_of_["root"] = -1;
    for (std::size_t b = 0; b < bones; ++b) index_of_[skeleton.bones[b].name] = static_cast<int>(b);
    for (std::size_t b = 0; b < bones; ++b) bone_values_[b].assign(skeleton.bones[b].dofs.size(), 0.0);
  }

  // The values of "root" or a bone; nullptr for a name the skeleton lacks.
  std::vector<double>* values_of(std::string_view name) {
    auto it = index_of_.find(name);
    if (it == index_of_.end()) return nullptr;
    return it->second < 0 ? &root_values_ : &bone_values_[static_cast<std::size_t>(it->second)];
  }

  // Appends the current pose to the motion as one frame.
  void store(bool degrees, SkeletalMotion& motion) const {
    Vec3 root_translation = skeleton_.root_position;
    Quat root_rotation;
    for (std::size_t i = 0; i < skeleton_.root_order.size(); ++i) {
      const AsfDof dof = skeleton_.root_order[i];
      if (is_rotation(dof)) {
        const double angle = degrees ? root_values_[i] : root_values_[i] * (180.0 / kPi);
        root_rotation = axis_rotation(dof_axis(dof), angle) * root_rotation;
      } else {
        root_translation[dof_axis(dof)] += root_values_[i];
      }
    }
    motion.local_rotations.push_back(normalized(root_frame_ * root_rotation * conjugate(root_frame_)));
    motion.local_translations.push_back(root_translation);
    for (std::size_t b = 0; b < skeleton_.bones.size(); ++b) {
      Quat m;
      for (std::size_t i = 0; i < skeleton_.bones[b].dofs.size(); ++i) {
        const double value = bone_values_[b][i];
        m = axis_rotation(dof_axis(skeleton_.bones[b].dofs[i]), degrees ? value : value * (180.0 / kPi)) * m;
      }
      motion.local_rotations.push_back(normalized(frame_[b] * m * frame_inverse_[b]));
      motion.local_translations.push_back(motion.rig.joints[b + 1].offset);
    }
    ++motion.frames;
  }

 private:
  const AsfSkeleton& skeleton_;
  Quat root_frame_;
  std::vector<Quat> frame_, frame_inverse_;
  std::map<std::string, int, std::less<>> index_of_;  // "root" -> -1, bone -> index
  std::vector<double> root_values_;
  std::vector<std::vector<double>> bone_values_;
};

// A bone line: the bone's name, then one number per dof the ASF gives it.
void read_bone_values(const std::vector<std::string_view>& tokens, AmcPose& pose, const AsfSkeleton& skeleton,
                      const std::string& source, std::int64_t line_number) {
  std::vector<double>* found = pose.values_of(tokens[0]);
  if (!found)
    fail_at(source, line_number, "unknown bone " + quote_token(tokens[0]) + " (not in " + skeleton.source + ")");
  std::vector<double>& values = *found;
  if (tokens.size() - 1 != values.size())
    fail_at(source, line_number,
            quote_token(tokens[0]) + " has " + std::to_string(tokens.size() - 1) + " values, expected " +
                std::to_string(values.size()) + " (its dof in the ASF)");
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!detail::parse_double(tokens[i + 1], values[i]))
      fail_at(source, line_number, quote_token(tokens[0]) + ": expected a number, found " + quote_token(tokens[i + 1]));
}

}  // namespace

int AsfSkeleton::find_bone(const std::string& name) const {
  for (std::size_t b = 0; b < bones.size(); ++b)
    if (bones[b].name == name) return static_cast<int>(b);
  return -1;
}

AsfSkeleton parse_asf(std::string_view text, const std::string& source, const ReadLimits& limits) {
  if (text.size() > limits.max_text_bytes)
    throw InputError(source + ": " + std::to_string(text.size()) + " bytes exceed the limit of " +
                     std::to_string(limits.max_text_bytes));
  return AsfParser(text, source, limits).parse();
}

AsfSkeleton read_asf(const std::string& path, const ReadLimits& limits) {
  return parse_asf(read_text_file(path, limits.max_text_bytes), path, limits);
}

SkeletalMotion parse_amc(std::string_view text, const std::string& source, const AsfSkeleton& skeleton, double fps,
                         const ReadLimits& limits) {
  if (text.size() > limits.max_text_bytes)
    throw InputError(source + ": " + std::to_string(text.size()) + " bytes exceed the limit of " +
                     std::to_string(limits.max_text_bytes));
  if (!(fps > 0.0)) throw InputError(source + ": the frame rate must be positive, found " + std::to_string(fps));
  SkeletalMotion motion;
  motion.source = source;
  motion.format = "asf/amc";
  motion.rig = rig_of(skeleton);
  motion.fps = fps;
  motion.metres_per_unit = skeleton.metres_per_unit();

  const std::size_t joints = skeleton.bones.size() + 1;
  AmcPose pose(skeleton);
  bool degrees = skeleton.degrees;

  detail::LineCursor cursor(text);
  std::string_view line;
  std::vector<std::string_view> tokens;
  std::int64_t expected_frame = -1;  // number of the next frame; -1 before the first
  bool in_frame = false;
  const double budget = joint_frame_budget(text.size(), limits);
  while (cursor.next(line)) {
    detail::split_tokens(line, tokens);
    if (tokens.empty() || tokens[0].front() == '#') continue;
    if (tokens[0].front() == ':') {
      if (in_frame) fail_at(source, cursor.line_number(), "header keyword " + quote_token(tokens[0]) + " after the first frame");
      const std::string keyword = io::to_lower(tokens[0]);
      if (keyword == ":degrees") degrees = true;
      else if (keyword == ":radians") degrees = false;
      continue;  // :FULLY-SPECIFIED and others carry no data we need
    }
    std::int64_t frame_number = 0;
    if (tokens.size() == 1 && detail::parse_int64(tokens[0], frame_number)) {
      if (in_frame) pose.store(degrees, motion);
      if (expected_frame >= 0 && frame_number != expected_frame)
        fail_at(source, cursor.line_number(),
                "expected frame number " + std::to_string(expected_frame) + ", found " + std::to_string(frame_number));
      if (motion.frames >= limits.max_frames ||
          static_cast<double>(motion.frames + 1) * static_cast<double>(joints) > budget)
        fail_at(source, cursor.line_number(),
                "too many frames: " + joint_frame_excess(text.size(), limits));
      expected_frame = frame_number + 1;
      in_frame = true;
      continue;
    }
    if (!in_frame)
      fail_at(source, cursor.line_number(), "expected a frame number before bone values, found " + quote_token(tokens[0]));
    read_bone_values(tokens, pose, skeleton, source, cursor.line_number());
  }
  if (in_frame) pose.store(degrees, motion);
  if (motion.frames == 0) throw InputError(source + ": no frames (expected a frame number followed by bone values)");
  return motion;
}

SkeletalMotion read_amc(const std::string& path, const AsfSkeleton& skeleton, double fps, const ReadLimits& limits) {
  return parse_amc(read_text_file(path, limits.max_text_bytes), path, skeleton, fps, limits);
}

std::string find_asf_for_amc(const std::string& amc_path) {
  namespace fs = std::filesystem;
  const fs::path amc(amc_path);
  std::string stem = amc.filename().string();
  for (const char* suffix : {".gz", ".GZ"})
    if (stem.size() > 3 && stem.compare(stem.size() - 3, 3, suffix) == 0) stem.resize(stem.size() - 3);
  if (stem.size() > 4) stem.resize(stem.size() - 4);  // ".amc"
  const fs::path folder = amc.parent_path().empty() ? fs::path(".") : amc.parent_path();
  const std::size_t underscore = stem.rfind('_');
  if (underscore != std::string::npos) {
    const std::string subject = stem.substr(0, underscore);
    for (const char* extension : {".asf", ".asf.gz", ".ASF", ".ASF.gz"}) {
      const fs::path candidate = folder / (subject + extension);
      if (fs::is_regular_file(candidate)) return candidate.string();
    }
  }
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = io::to_lower(entry.path().filename().string());
    if (name.size() > 4 && (name.compare(name.size() - 4, 4, ".asf") == 0 ||
                            (name.size() > 7 && name.compare(name.size() - 7, 7, ".asf.gz") == 0)))
      found.push_back(entry.path().string());
  }
  return found.size() == 1 ? found.front() : std::string();
}

}  // namespace poselift::mocap
