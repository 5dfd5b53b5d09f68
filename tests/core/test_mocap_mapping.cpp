// Rig detection, JSON joint mappings, head-top estimation and the rigid-bone analysis.
#include <gtest/gtest.h>

#include "mocap/bvh.hpp"
#include "mocap/import.hpp"
#include "mocap/mapping.hpp"
#include "mocap/quality.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

using mocap_test::expect_input_error;

Rig rig_with(const std::vector<std::string>& names) {
  Rig rig;
  for (const std::string& name : names) rig.joints.push_back({name, rig.joints.empty() ? -1 : 0, {}, false});
  return rig;
}

TEST(MocapMapping, DetectsEachBuiltInFamilyFromJointNames) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> families = {
      {"bandai", {"Hips", "UpperLeg_R", "LowerLeg_R", "Foot_R", "UpperLeg_L", "LowerLeg_L", "Foot_L", "Spine", "Neck",
                  "Head", "UpperArm_L", "LowerArm_L", "Hand_L", "UpperArm_R", "LowerArm_R", "Hand_R"}},
      {"daz", {"hip", "rThigh", "rShin", "rFoot", "lThigh", "lShin", "lFoot", "abdomen", "neck", "head", "lShldr",
               "lForeArm", "lHand", "rShldr", "rForeArm", "rHand"}},
      {"cmu-3dsmax", {"Hips", "RightHip", "RightKnee", "RightAnkle", "LeftHip", "LeftKnee", "LeftAnkle", "Chest",
                      "lowerneck", "Neck", "Head", "LeftShoulder", "LeftElbow", "LeftWrist", "RightShoulder",
                      "RightElbow", "RightWrist"}},
      {"cmu-motionbuilder", {"Hips", "RightUpLeg", "RightLeg", "RightFoot", "LeftUpLeg", "LeftLeg", "LeftFoot", "Spine",
                             "Neck", "Neck1", "Head", "LeftArm", "LeftForeArm", "LeftHand", "RightArm",
                             "RightForeArm", "RightHand"}},
  };
  for (const auto& [family, names] : families) {
    const JointMapping* mapping = detect_mapping(rig_with(names));
    ASSERT_NE(mapping, nullptr) << family;
    EXPECT_EQ(mapping->name, family);
  }
  EXPECT_EQ(detect_mapping(rig_with({"Hips", "Chest", "Head"})), nullptr);
  EXPECT_EQ(h36m::parents()[10], 9);
  EXPECT_STREQ(h36m::joint_names()[13], "l_wrist");
}

const char* kJsonMapping = R"({
  "name": "robot",
  "metres_per_unit": 0.01,
  "fps": 25,
  "joints": {
    "pelvis": "root", "r_hip": "rh", "r_knee": "rk", "r_ankle": "ra", "l_hip": "lh", "l_knee": "lk",
    "l_ankle": "la", "l_shoulder": "ls", "l_elbow": "le", "l_wrist": "lw", "r_shoulder": "rs",
    "r_elbow": "re", "r_wrist": "rw",
    "nose": {"between": ["rs", "ls"], "t": 0.5},
    "head": {"estimate": "ls", "length": 0.2}
  }
})";

TEST(MocapMapping, JsonMappingsAreParsedAndTriedFirst) {
  const JointMapping mapping = parse_joint_mapping(kJsonMapping, "robot.json");
  EXPECT_EQ(mapping.name, "robot");
  EXPECT_EQ(*mapping.metres_per_unit, 0.01);
  EXPECT_EQ(*mapping.fps, 25.0);
  EXPECT_FALSE(mapping.rules[7].has_value());  // spine: default estimate
  ASSERT_TRUE(mapping.rules[9].has_value());
  EXPECT_EQ(mapping.rules[9]->kind, PointRule::Kind::Between);
  EXPECT_EQ(mapping.rules[10]->kind, PointRule::Kind::HeadTop);
  EXPECT_EQ(mapping.rules[10]->length, 0.2);
  const Rig rig = rig_with({"root", "rh", "rk", "ra", "lh", "lk", "la", "ls", "le", "lw", "rs", "re", "rw"});
  EXPECT_TRUE(mapping.matches(rig));
  EXPECT_EQ(detect_mapping(rig, {mapping})->name, "robot");
  EXPECT_FALSE(mapping.matches(rig_with({"root", "rh"})));
}

TEST(MocapMapping, JsonErrorsNameTheFileAndField) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"{", {"m.json", "invalid JSON"}},
      {"[]", {"m.json", "expected a JSON object"}},
      {R"({"joints": {}, "colour": 1})", {"m.json", "unknown key 'colour'"}},
      {R"({"metres_per_unit": -1, "joints": {}})", {"m.json", "'metres_per_unit'", "positive"}},
      {R"({"up_axis": "x", "joints": {}})", {"m.json", "'up_axis'"}},
      {R"({"joints": {"elbow": "e"}})", {"m.json", "unknown Human3.6M joint 'elbow'"}},
      {R"({"joints": {"pelvis": 3}})", {"m.json", "joints.pelvis", "expected a rig joint name"}},
      {R"({"joints": {"pelvis": {"between": ["a"]}}})", {"m.json", "joints.pelvis.between"}},
      {R"({"joints": {"spine": {"estimate": "a"}}})", {"m.json", "only available for head_top"}},
      {R"({"joints": {"pelvis": "p"}})", {"m.json", "missing 'r_hip'"}},
  };
  for (const auto& [text, fragments] : cases) expect_input_error([&] { parse_joint_mapping(text, "m.json"); }, fragments);
  expect_input_error([] { load_joint_mapping("/nonexistent/m.json"); }, {"/nonexistent/m.json", "cannot open"});
}

TEST(MocapMapping, JsonMappingDrivesTheImportOfAnUnknownRig) {
  // The walking BVH with its joints renamed, described by a mapping file instead.
  std::string text = mocap_test::walking_bvh(121);
  const std::vector<std::pair<std::string, std::string>> renames = {
      {"ROOT Hips", "ROOT Base"}, {"LeftUpLeg", "L1"},   {"LeftLeg", "L2"},       {"LeftFoot", "L3"},
      {"RightUpLeg", "R1"},       {"RightLeg", "R2"},   {"RightFoot", "R3"},     {"LeftArm", "LA1"},
      {"LeftForeArm", "LA2"},     {"LeftHand", "LA3"},  {"RightArm", "RA1"},     {"RightForeArm", "RA2"},
      {"RightHand", "RA3"}};
  for (const auto& [from, to] : renames)
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  const SkeletalMotion motion = parse_bvh(text, "robot.bvh");
  EXPECT_THROW(import_motion(motion), InputError);
  ImportOptions options;
  options.mappings.push_back(parse_joint_mapping(R"({
    "name": "renamed", "metres_per_unit": 0.056444,
    "joints": {"pelvis": "Base", "r_hip": "R1", "r_knee": "R2", "r_ankle": "R3", "l_hip": "L1", "l_knee": "L2",
               "l_ankle": "L3", "l_shoulder": "LA1", "l_elbow": "LA2", "l_wrist": "LA3", "r_shoulder": "RA1",
               "r_elbow": "RA2", "r_wrist": "RA3", "head_top": {"estimate": "Head", "length": 0.1}}})",
                                                 "renamed.json"));
  const ImportedClip clip = import_motion(motion, options);
  EXPECT_EQ(clip.rig, "renamed");
  EXPECT_EQ(clip.frames, 51);
  // Defaults: thorax between the shoulders, spine between pelvis and thorax, neck between
  // thorax and head top.
  const Vec3* pose = &clip.positions[0];
  EXPECT_NEAR(norm(pose[8] - lerp(pose[11], pose[14], 0.5)), 0.0, 1e-12);
  EXPECT_NEAR(norm(pose[7] - lerp(pose[0], pose[8], 0.5)), 0.0, 1e-12);
  EXPECT_NEAR(norm(pose[9] - lerp(pose[8], pose[10], 0.5)), 0.0, 1e-12);
}

TEST(MocapMapping, EstimatedHeadTopIsRigidWithTheHeadAndAboveIt) {
  // The MotionBuilder walker without its head End Site offset: the head top is estimated.
  std::string text = mocap_test::walking_bvh(240);
  text.replace(text.find("OFFSET 0 1.8 0"), 14, "OFFSET 0 0.0 0");
  const SkeletalMotion motion = parse_bvh(text, "walk.bvh");
  const ImportedClip clip = import_motion(motion);
  EXPECT_EQ(clip.rig, "cmu-motionbuilder");
  const BoneLengthStats stats = bone_length_stats(clip.positions);
  // The neck/nose joint is the Head joint itself in this family, so bone 10 is the estimate:
  // `length` 0.10 m x body scale (legs of 15 units = 0.847 m vs Human3.6M's 0.897 m), rigid.
  EXPECT_TRUE(clip.rigid_bones[10]);
  EXPECT_LT(stats.stddev[10], 1e-6);
  const double scale = (7.4 + 7.6) * 0.0254 / 0.45 / 0.897;
  EXPECT_NEAR(stats.mean[10], 0.10 * scale, 1e-6);
  // Along the head's own up axis, which stays close to world up in this upright walk.
  for (std::int64_t f = 0; f < clip.frames; f += 10) {
    const Vec3* pose = &clip.positions[static_cast<std::size_t>(f) * 17];
    EXPECT_GT(pose[10].z - pose[9].z, 0.09 * scale);
  }
}

TEST(MocapMapping, RigidBoneAnalysisFollowsTheHierarchy) {
  const SkeletalMotion motion = parse_bvh(mocap_test::walking_bvh(60), "walk.bvh");
  const JointMapping* mapping = detect_mapping(motion.rig);
  ASSERT_NE(mapping, nullptr);
  const std::array<bool, 17> rigid = rigid_h36m_bones(motion, *mapping);
  EXPECT_FALSE(rigid[0]);
  for (int bone : {1, 2, 3, 4, 5, 6, 7, 12, 13, 15, 16}) EXPECT_TRUE(rigid[static_cast<std::size_t>(bone)]) << bone;
  // Thorax (Neck) -> shoulder (LeftArm) hang on Spine1 through LeftShoulder, whose rotation
  // channels stay constant here -> rigid; spine -> thorax crosses the swaying Spine1 -> not rigid.
  EXPECT_TRUE(rigid[11]);
  EXPECT_FALSE(rigid[8]);
}

}  // namespace
}  // namespace poselift::mocap
