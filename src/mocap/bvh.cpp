#include "mocap/bvh.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "io/error.hpp"
#include "mocap/text_file.hpp"
#include "mocap/text_lines.hpp"
#include "io/text.hpp"

namespace poselift::mocap {

namespace {

using detail::fail_at;
using detail::quote_token;

// One channel of a joint: a translation or a rotation about axis 0/1/2.
struct Channel {
  bool rotation = false;
  int axis = 0;
};

struct JointChannels {
  std::vector<Channel> channels;
  bool has_position = false;
  std::array<bool, 3> position_axes{};
};


bool parse_channel(std::string_view token, Channel& channel) {
  static constexpr const char* kNames[6] = {"Xposition", "Yposition", "Zposition",
                                            "Xrotation", "Yrotation", "Zrotation"};
  for (int i = 0; i < 6; ++i) {
    if (io::iequals(token, kNames[i])) {
      channel.rotation = i >= 3;
      channel.axis = i % 3;
      return true;
    }
  }
  return false;
}

// Frame rates stored as rounded frame times (".0083333") snap back to the integer rate they
// stand for, so that resampling ratios stay exact.
double fps_from_frame_time(double frame_time) {
  const double fps = 1.0 / frame_time;
  const double nearest = std::round(fps);
  return nearest > 0.0 && std::fabs(fps - nearest) < 1e-3 * nearest ? nearest : fps;
}

class BvhParser {
 public:
  BvhParser(std::string_view text, const std::string& source, const ReadLimits& limits)
      : cursor_(text), source_(source), limits_(limits), text_size_(text.size()) {}

  SkeletalMotion parse() {
    motion_.source = source_;
    motion_.format = "bvh";
    parse_hierarchy();
    parse_motion();
    return std::move(motion_);
  }

 private:
  // A block being read: a joint, or an End Site of the joint on the stack below it.
  struct Block {
    int joint = -1;       // joint index, or the owning joint for an end site
    int end_site = -1;    // end-site index when this block is an End Site
    bool has_offset = false;
  };

  [[noreturn]] void fail(const std::string& message) const { fail_at(source_, cursor_.line_number(), message); }

  // Next line with content, split into tokens; false at the end of the text.
  bool next_tokens() {
    std::string_view line;
    while (cursor_.next(line)) {
      detail::split_tokens(line, tokens_);
      if (!tokens_.empty()) {
        line_ = line;
        return true;
      }
    }
    return false;
  }

  // The joint name is the rest of the line (names may contain spaces); a trailing "{" opens
  // the block on the same line.
  std::string joint_name(std::string_view keyword, bool& opens_block) {
    std::string_view rest = io::trim(line_.substr(line_.find(keyword) + keyword.size()));
    opens_block = !rest.empty() && rest.back() == '{';
    if (opens_block) rest = io::trim(rest.substr(0, rest.size() - 1));
    if (rest.empty()) fail("expected a joint name after " + std::string(keyword));
    return std::string(rest);
  }

  void begin_joint(std::string name, int parent, bool opened) {
    if (static_cast<int>(motion_.rig.joints.size()) >= limits_.max_joints)
      fail("more than " + std::to_string(limits_.max_joints) + " joints");
    RigJoint joint;
    joint.name = std::move(name);
    joint.parent = parent;
    motion_.rig.joints.push_back(std::move(joint));
    channels_.emplace_back();
    pending_ = Block{static_cast<int>(motion_.rig.joints.size()) - 1, -1, false};
    has_pending_ = true;
    if (opened) open_pending();
  }

  void begin_end_site(int joint, bool opened) {
    const std::string& owner = motion_.rig.joints[static_cast<std::size_t>(joint)].name;
    int siblings = 0;
    for (const RigEndSite& site : motion_.rig.end_sites) siblings += site.joint == joint;
    if (static_cast<int>(motion_.rig.end_sites.size()) >= limits_.max_joints)
      fail("more than " + std::to_string(limits_.max_joints) + " end sites");
    motion_.rig.end_sites.push_back({owner + ".end" + (siblings ? std::to_string(siblings + 1) : ""), joint, {}});
    pending_ = Block{joint, static_cast<int>(motion_.rig.end_sites.size()) - 1, false};
    has_pending_ = true;
    if (opened) open_pending();
  }

  void open_pending() {
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      fail("hierarchy nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    stack_.push_back(pending_);
    has_pending_ = false;
  }

  void parse_hierarchy() {
    if (!next_tokens() || tokens_[0] != "HIERARCHY")
      fail(tokens_.empty() ? "expected 'HIERARCHY', found an empty file"
                           : "expected 'HIERARCHY', found " + quote_token(tokens_[0]));
    for (;;) {
      if (!next_tokens()) fail("the file ends inside the HIERARCHY section (missing 'MOTION')");
      const std::string_view keyword = tokens_[0];
      if (has_pending_ && keyword != "{") fail("expected '{' after the joint or End Site line, found " + quote_token(keyword));
      if (keyword == "ROOT") {
        if (!stack_.empty()) fail("ROOT inside another joint (expected JOINT)");
        bool opened = false;
        std::string name = joint_name("ROOT", opened);
        begin_joint(std::move(name), -1, opened);
      } else if (keyword == "JOINT") {
        if (stack_.empty() || stack_.back().end_site >= 0) fail("JOINT outside a ROOT or JOINT block");
        bool opened = false;
        std::string name = joint_name("JOINT", opened);
        begin_joint(std::move(name), stack_.back().joint, opened);
      } else if (keyword == "End" || keyword == "End{") {
        const bool site = keyword == "End" && tokens_.size() >= 2 &&
                          (tokens_[1] == "Site" || tokens_[1] == "Site{");
        if (!site) fail("expected 'End Site', found " + quote_token(io::trim(line_)));
        if (stack_.empty() || stack_.back().end_site >= 0) fail("End Site outside a joint block");
        const bool opened = tokens_.back().back() == '{';
        begin_end_site(stack_.back().joint, opened);
      } else if (keyword == "{") {
        if (!has_pending_) fail("unexpected '{' (expected ROOT, JOINT, End Site, OFFSET, CHANNELS or '}')");
        open_pending();
      } else if (keyword == "}") {
        if (stack_.empty()) fail("unexpected '}' (no open block)");
        if (!stack_.back().has_offset) fail("block closed without an OFFSET line");
        stack_.pop_back();
      } else if (keyword == "OFFSET") {
        read_offset();
      } else if (keyword == "CHANNELS") {
        read_channels();
      } else if (keyword == "MOTION") {
        if (!stack_.empty()) fail("MOTION inside an open block (missing '}')");
        if (motion_.rig.joints.empty()) fail("MOTION before any ROOT joint");
        return;
      } else {
        fail("expected ROOT, JOINT, End Site, OFFSET, CHANNELS, '{', '}' or MOTION, found " + quote_token(keyword));
      }
    }
  }

  void read_offset() {
    if (stack_.empty()) fail("OFFSET outside a joint block");
    Block& block = stack_.back();
    if (block.has_offset) fail("second OFFSET in the same block");
    if (tokens_.size() != 4) fail("expected 'OFFSET x y z' (3 numbers), found " + std::to_string(tokens_.size() - 1) +
                                  " values");
    Vec3 offset;
    for (int k = 0; k < 3; ++k)
      if (!detail::parse_double(tokens_[static_cast<std::size_t>(k) + 1], offset[k]))
        fail("OFFSET: expected a number, found " + quote_token(tokens_[static_cast<std::size_t>(k) + 1]));
    if (block.end_site >= 0) motion_.rig.end_sites[static_cast<std::size_t>(block.end_site)].offset = offset;
    else motion_.rig.joints[static_cast<std::size_t>(block.joint)].offset = offset;
    block.has_offset = true;
  }

  void read_channels() {
    if (stack_.empty() || stack_.back().end_site >= 0) fail("CHANNELS outside a joint block");
    const std::size_t joint = static_cast<std::size_t>(stack_.back().joint);
    JointChannels& info = channels_[joint];
    if (!info.channels.empty()) fail("second CHANNELS line for joint " + quote_token(motion_.rig.joints[joint].name));
    std::int64_t count = -1;
    if (tokens_.size() < 2 || !detail::parse_int64(tokens_[1], count) || count < 0 || count > 6)
      fail("expected 'CHANNELS n' with n from 0 to 6, found " + quote_token(io::trim(line_)));
    if (static_cast<std::int64_t>(tokens_.size()) - 2 != count)
      fail("CHANNELS declares " + std::to_string(count) + " channels but names " +
           std::to_string(tokens_.size() - 2));
    std::array<bool, 6> seen{};
    for (std::size_t i = 2; i < tokens_.size(); ++i) {
      Channel channel;
      if (!parse_channel(tokens_[i], channel))
        fail("unknown channel " + quote_token(tokens_[i]) + " (expected Xposition, Yposition, Zposition, Xrotation, "
             "Yrotation or Zrotation)");
      const int slot = (channel.rotation ? 3 : 0) + channel.axis;
      if (seen[static_cast<std::size_t>(slot)]) fail("channel " + quote_token(tokens_[i]) + " listed twice");
      seen[static_cast<std::size_t>(slot)] = true;
      if (!channel.rotation) {
        info.has_position = true;
        info.position_axes[static_cast<std::size_t>(channel.axis)] = true;
      }
      info.channels.push_back(channel);
    }
    motion_.rig.joints[joint].animated_translation = info.has_position;
    total_channels_ += static_cast<std::int64_t>(info.channels.size());
  }

  void parse_motion() {
    std::int64_t frames = -1;
    double frame_time = 0.0;
    // "Frames: N" (also "Frames:N").
    if (!next_tokens()) fail("the file ends after MOTION (expected 'Frames: N')");
    {
      std::string_view value;
      if (tokens_[0] == "Frames:" && tokens_.size() == 2) value = tokens_[1];
      else if (tokens_.size() == 1 && tokens_[0].rfind("Frames:", 0) == 0) value = tokens_[0].substr(7);
      if (!detail::parse_int64(value, frames) || frames < 0)
        fail("expected 'Frames: N' with a non-negative integer, found " + quote_token(io::trim(line_)));
      if (frames > limits_.max_frames)
        fail("Frames: " + std::to_string(frames) + " exceeds the limit of " + std::to_string(limits_.max_frames));
    }
    if (!next_tokens()) fail("the file ends after 'Frames:' (expected 'Frame Time: seconds')");
    {
      std::string_view value;
      if (tokens_.size() == 3 && tokens_[0] == "Frame" && tokens_[1] == "Time:") value = tokens_[2];
      else if (tokens_.size() == 2 && tokens_[0] == "Frame" && tokens_[1].rfind("Time:", 0) == 0)
        value = tokens_[1].substr(5);
      if (!detail::parse_double(value, frame_time) || !(frame_time > 0.0))
        fail("expected 'Frame Time: seconds' with a positive number, found " + quote_token(io::trim(line_)));
    }
    motion_.fps = fps_from_frame_time(frame_time);
    motion_.frames = frames;
    if (total_channels_ == 0 && frames > 0) fail("the hierarchy has no CHANNELS, so its frames cannot hold motion");

    // Storage grows frame by frame, so a large "Frames:" over a short file costs nothing: memory
    // is reserved only for the frames the remaining text can hold (each value takes at least a
    // digit and a separator), and joints without channels, which still take storage in every
    // frame, are bounded by the file size.
    const std::size_t joints = motion_.rig.joints.size();
    const auto can_fit = static_cast<std::int64_t>(cursor_.remaining_bytes() / static_cast<std::size_t>(2 * total_channels_ + 1)) + 1;
    const double budget = joint_frame_budget(text_size_, limits_);
    const auto reserved = static_cast<std::size_t>(std::min(frames, can_fit)) * joints;
    if (static_cast<double>(reserved) <= budget) {
      motion_.local_rotations.reserve(reserved);
      motion_.local_translations.reserve(reserved);
    }
    std::vector<double> values(static_cast<std::size_t>(total_channels_));
    for (std::int64_t f = 0; f < frames; ++f) {
      std::string_view line;
      // Blank lines between frames are tolerated; a frame is one line.
      do {
        if (!cursor_.next(line))
          fail_at(source_, cursor_.line_number(),
                  "the file ends after " + std::to_string(f) + " of the " + std::to_string(frames) +
                      " frames declared by 'Frames:'");
      } while (io::trim(line).empty());
      detail::split_tokens(line, tokens_);
      if (static_cast<std::int64_t>(tokens_.size()) != total_channels_)
        fail("frame " + std::to_string(f + 1) + " has " + std::to_string(tokens_.size()) + " values, expected " +
             std::to_string(total_channels_) + " (the sum of the CHANNELS counts)");
      for (std::size_t i = 0; i < tokens_.size(); ++i)
        if (!detail::parse_double(tokens_[i], values[i]))
          fail("frame " + std::to_string(f + 1) + ", value " + std::to_string(i + 1) + ": expected a number, found " +
               quote_token(tokens_[i]));
      if (static_cast<double>(f + 1) * static_cast<double>(joints) > budget)
        fail("frame " + std::to_string(f + 1) + " of " + std::to_string(joints) +
             " joints: " + joint_frame_excess(text_size_, limits_));
      apply_frame(values);
    }
    std::string_view line;
    while (cursor_.next(line))
      if (!io::trim(line).empty())
        fail("unexpected content after the " + std::to_string(frames) + " frames declared by 'Frames:'");
  }

  void apply_frame(const std::vector<double>& values) {
    std::size_t v = 0;
    for (std::size_t j = 0; j < motion_.rig.joints.size(); ++j) {
      const RigJoint& joint = motion_.rig.joints[j];
      const JointChannels& info = channels_[j];
      Quat rotation;
      Vec3 translation = joint.offset;
      for (const Channel& channel : info.channels) {
        const double value = values[v++];
        if (channel.rotation) {
          // Intrinsic order: each later channel rotates about the already-rotated axes.
          rotation = rotation * axis_rotation(channel.axis, value);
        } else if (joint.parent < 0) {
          translation[channel.axis] = joint.offset[channel.axis] + value;
        } else {
          translation[channel.axis] = value;
        }
      }
      motion_.local_rotations.push_back(normalized(rotation));
      motion_.local_translations.push_back(translation);
    }
  }

  detail::LineCursor cursor_;
  const std::string& source_;
  const ReadLimits& limits_;
  SkeletalMotion motion_;
  std::vector<JointChannels> channels_;
  std::vector<Block> stack_;
  Block pending_;
  bool has_pending_ = false;
  std::int64_t total_channels_ = 0;
  std::size_t text_size_ = 0;
  std::vector<std::string_view> tokens_;
  std::string_view line_;
};

}  // namespace

SkeletalMotion parse_bvh(std::string_view text, const std::string& source, const ReadLimits& limits) {
  if (text.size() > limits.max_text_bytes)
    throw InputError(source + ": " + std::to_string(text.size()) + " bytes exceed the limit of " +
                     std::to_string(limits.max_text_bytes));
  return BvhParser(text, source, limits).parse();
}

SkeletalMotion read_bvh(const std::string& path, const ReadLimits& limits) {
  const std::string text = read_text_file(path, limits.max_text_bytes);
  return parse_bvh(text, path, limits);
}

}  // namespace poselift::mocap
