#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "io/error.hpp"
#include "test_data_support.hpp"

namespace poselift::data {
namespace {

TEST(DataSelection, DeterministicRandomMatchesHandCheckedPythonValues) {
  // Values from VideoPose3D's deterministic_random under CPython's hashlib.
  EXPECT_EQ(deterministic_random(0, 100, "260"), 95);
  EXPECT_EQ(deterministic_random(0, 27, "281"), 0);
  EXPECT_EQ(deterministic_random(0, 1, "60"), 0);
  EXPECT_EQ(deterministic_random(5, 1000, "hello"), 729);
  EXPECT_EQ(deterministic_random(0, 4294967295LL, "x"), 1108767021);
  EXPECT_EQ(deterministic_random(-50, 50, ""), -24);
  EXPECT_EQ(deterministic_random(0, 3, "220"), 2);
  EXPECT_EQ(deterministic_random(0, -100, "abc"), -74);  // int() truncates towards zero
}

TEST(DataSelection, DeterministicRandomMatchesHashlibAtTestTime) {
  if (!test_support::numpy_available()) GTEST_SKIP() << "no /usr/bin/python3; skipping";
  std::vector<std::tuple<int, int, std::string>> cases;
  for (int i = 0; i < 40; ++i) cases.emplace_back(i - 7, 3 * i * i + 1, std::to_string(17 * i + 3));
  std::string script = "import hashlib\n"
                       "def dr(lo, hi, s):\n"
                       "    r = int.from_bytes(hashlib.sha256(s.encode()).digest()[:4], 'little')\n"
                       "    return int(r / (2**32 - 1) * (hi - lo)) + lo\n";
  for (const auto& [lo, hi, seed] : cases)
    script += "print(dr(" + std::to_string(lo) + ", " + std::to_string(hi) + ", '" + seed + "'))\n";
  std::istringstream output(test_support::run_python(script, test_support::scratch_dir()));
  for (const auto& [lo, hi, seed] : cases) {
    std::int64_t expected = 0;
    ASSERT_TRUE(output >> expected);
    EXPECT_EQ(deterministic_random(lo, hi, seed), expected) << lo << " " << hi << " " << seed;
  }
}

TEST(DataSelection, ArgumentLists) {
  EXPECT_EQ(split_comma_list("S9,S11"), (std::vector<std::string>{"S9", "S11"}));
  EXPECT_EQ(split_comma_list("S1"), (std::vector<std::string>{"S1"}));
  EXPECT_EQ(split_comma_list(""), (std::vector<std::string>{""}));
  EXPECT_TRUE(parse_action_filter("*").empty());
  EXPECT_EQ(parse_action_filter("Walk,Sit"), (std::vector<std::string>{"Walk", "Sit"}));
  EXPECT_TRUE(matches_action_filter("Walking 1", {"Walk"}));
  EXPECT_FALSE(matches_action_filter("Sitting", {"Walk", "Eat"}));
  EXPECT_TRUE(matches_action_filter("Sitting", {}));
  EXPECT_EQ(action_group_name("Walking 1"), "Walking");
  EXPECT_EQ(action_group_name("Walking"), "Walking");
  EXPECT_EQ(action_group_name("Walk Dog 2"), "Walk");
}

struct Fixture {
  MocapDataset dataset;
  Keypoints keypoints;
};

Fixture load_fixture(const std::string& data_dir, const std::string& keypoints_name) {
  MocapDataset dataset = load_dataset("h36m", data_dir, keypoints_name);
  Keypoints keypoints = load_keypoints(dataset, data_dir, keypoints_name);
  return {std::move(dataset), std::move(keypoints)};
}

std::int64_t total_frames(const std::vector<io::NdArray>& sequences) {
  std::int64_t frames = 0;
  for (const io::NdArray& s : sequences) frames += s.shape[0];
  return frames;
}

TEST(DataSelection, FetchOfTheTestSubjectsMatchesTheOriginalFrameCount) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  for (const char* keypoints_name : {"gt", "noisy"}) {
    const Fixture f = load_fixture(data_dir, keypoints_name);
    const FetchedSequences test = fetch(f.dataset, f.keypoints, {"S9", "S11"});
    // eval_*.txt: "INFO: Testing on 2256 frames".
    EXPECT_EQ(total_frames(test.poses_2d), 2256) << keypoints_name;
    ASSERT_EQ(test.poses_2d.size(), 32u);
    ASSERT_EQ(test.poses_3d.size(), 32u);
    EXPECT_EQ(test.camera_intrinsics.size(), 32u);
    EXPECT_EQ(test.camera_intrinsics[5], f.dataset.cameras_of("S9")[1].intrinsic());
    EXPECT_EQ(test.origins[5].subject, "S9");
    EXPECT_EQ(test.origins[5].action, "Walking 1");
    EXPECT_EQ(test.origins[5].camera, 1);
    for (std::size_t i = 0; i < test.poses_2d.size(); ++i) {
      EXPECT_EQ(test.poses_2d[i].shape[0], test.poses_3d[i].shape[0]);
      EXPECT_EQ(test.poses_2d[i].shape[2], 2);
    }
  }
}

TEST(DataSelection, DownsampleAndActionFilter) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const Fixture f = load_fixture(data_dir, "gt");
  FetchOptions options;
  options.downsample = 2;
  options.action_filter = {"Walk"};
  const FetchedSequences walk = fetch(f.dataset, f.keypoints, {"S1"}, options);
  ASSERT_EQ(walk.poses_2d.size(), 8u);  // Walking and Walking 1, four cameras each
  EXPECT_EQ(walk.poses_2d[0].shape[0], 130);  // 260 frames, every other one
  EXPECT_EQ(walk.poses_2d[4].shape[0], 134);  // 267 frames -> ceil(267 / 2)
  const io::NdArray& full = f.keypoints.action("S1", "Walking 1").cameras[0];
  const std::size_t frame_bytes = 17 * 2 * sizeof(float);
  EXPECT_TRUE(std::equal(walk.poses_2d[4].bytes.begin() + 3 * frame_bytes, walk.poses_2d[4].bytes.begin() + 4 * frame_bytes,
                         full.bytes.begin() + 6 * frame_bytes));
}

TEST(DataSelection, SubsetTakesADeterministicWindow) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const Fixture f = load_fixture(data_dir, "gt");
  struct Case {
    double subset;
    int downsample;
    std::int64_t expected_frames;  // computed with the original's formula in Python
    std::int64_t expected_start;
  };
  // S1 Walking has 260 frames, Walking 1 has 267 frames.
  for (const Case& c : {Case{0.1, 1, 26, 224}, Case{0.2, 2, 26, 199}}) {
    FetchOptions options;
    options.subset = c.subset;
    options.downsample = c.downsample;
    options.action_filter = {"Walking"};
    const FetchedSequences out = fetch(f.dataset, f.keypoints, {"S1"}, options);
    ASSERT_EQ(out.poses_2d.size(), 8u);
    EXPECT_EQ(out.poses_2d[0].shape[0], c.expected_frames);
    EXPECT_EQ(out.poses_3d[0].shape[0], c.expected_frames);
    const io::NdArray& full_3d = f.dataset.subject("S1").actions[0].positions_3d[0];
    const std::size_t frame_bytes = 17 * 3 * sizeof(float);
    EXPECT_TRUE(std::equal(out.poses_3d[0].bytes.begin(), out.poses_3d[0].bytes.begin() + frame_bytes,
                           full_3d.bytes.begin() + c.expected_start * frame_bytes));
  }
  FetchOptions half;
  half.subset = 0.5;
  // Walking 1 (267 frames): round(133.5) = 134 (half to even).
  const FetchedSequences out = fetch(f.dataset, f.keypoints, {"S1"}, half);
  EXPECT_EQ(out.poses_2d[4].shape[0], 134);
  EXPECT_EQ(out.poses_2d[0].shape[0], 130);

  FetchOptions bad;
  bad.downsample = 0;
  EXPECT_THROW(fetch(f.dataset, f.keypoints, {"S1"}, bad), InputError);
  EXPECT_THROW(fetch(f.dataset, f.keypoints, {"S7"}), InputError);
}

// The "----<action>----" headers of an original evaluation report, in order.
std::vector<std::string> report_actions(const std::string& path, std::vector<std::string>* subjects = nullptr) {
  std::ifstream in(path);
  std::vector<std::string> actions;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 8 && line.rfind("----", 0) == 0 && line.compare(line.size() - 4, 4, "----") == 0 &&
        line.find_first_not_of('-') != std::string::npos)
      actions.push_back(line.substr(4, line.size() - 8));
    if (subjects && line.rfind("Evaluating on subject ", 0) == 0) subjects->push_back(line.substr(22));
  }
  return actions;
}

TEST(DataSelection, EvaluationGroupsFollowTheOriginalReportOrder) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const Fixture f = load_fixture(data_dir, "gt");
  const std::string reports = test_support::shared_dir() + "/fixtures/poseformer-f81/";

  const std::vector<ActionGroup> groups = group_actions(f.dataset, {"S9", "S11"});
  std::vector<std::string> names;
  for (const ActionGroup& g : groups) names.push_back(g.name);
  EXPECT_EQ(names, report_actions(reports + "eval_gt.txt"));
  ASSERT_EQ(groups[0].members.size(), 4u);
  EXPECT_EQ(groups[0].members[1], (std::pair<std::string, std::string>{"S9", "Walking 1"}));
  EXPECT_EQ(groups[0].members[2], (std::pair<std::string, std::string>{"S11", "Walking"}));

  std::vector<std::string> report_subjects;
  const std::vector<std::string> by_subject_names = report_actions(reports + "eval_gt_by_subject.txt", &report_subjects);
  const std::vector<SubjectActionGroups> by_subject = group_actions_by_subject(f.dataset, {"S9", "S11"});
  std::vector<std::string> subjects, flattened;
  for (const SubjectActionGroups& s : by_subject) {
    subjects.push_back(s.subject);
    for (const ActionGroup& g : s.groups) flattened.push_back(g.name);
  }
  EXPECT_EQ(subjects, report_subjects);
  EXPECT_EQ(flattened, by_subject_names);

  const std::vector<ActionGroup> sitting = group_actions(f.dataset, {"S9", "S11"}, {"Sit", "Gre"});
  ASSERT_EQ(sitting.size(), 2u);
  EXPECT_EQ(sitting[1].name, "Greeting");

  const FetchedSequences walking = fetch_group(f.dataset, f.keypoints, groups[0], 2);
  ASSERT_EQ(walking.poses_2d.size(), 16u);
  ASSERT_EQ(walking.poses_3d.size(), 16u);
  EXPECT_TRUE(walking.camera_intrinsics.empty());
  EXPECT_EQ(walking.poses_2d[0].shape[0], 30);  // S9 Walking: 60 frames, stride 2
  EXPECT_EQ(walking.poses_3d[4].shape[0], 34);  // S9 Walking 1: 67 frames
  EXPECT_EQ(walking.origins[15].subject, "S11");
}

}  // namespace
}  // namespace poselift::data
