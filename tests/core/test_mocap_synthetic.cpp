// `prepare synthetic`: plausibility of the procedural motion, the written files, speed and
// determinism.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "mocap/quality.hpp"
#include "mocap/synthetic.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

std::vector<Vec3> to_positions(const io::NdArray& array) {
  const std::vector<double> values = array.to_doubles();
  std::vector<Vec3> positions;
  for (std::size_t i = 0; i + 2 < values.size(); i += 3) positions.push_back({values[i], values[i + 1], values[i + 2]});
  return positions;
}

void check_plausible(const std::vector<Vec3>& poses, const std::string& label) {
  SCOPED_TRACE(label);
  const BoneLengthStats stats = bone_length_stats(poses);
  for (int bone = 1; bone < 17; ++bone) {
    EXPECT_LT(stats.stddev[static_cast<std::size_t>(bone)], 1e-3) << "bone " << bone;  // every bone is rigid
    EXPECT_GT(stats.mean[static_cast<std::size_t>(bone)], 0.08) << "bone " << bone;
  }
  EXPECT_GE(standing_height(poses), 1.4);
  EXPECT_LE(standing_height(poses), 2.0);
  std::vector<double> lowest;
  double knee_forward = 0.0;
  const std::size_t frames = poses.size() / 17;
  for (std::size_t f = 0; f < frames; ++f) {
    const Vec3* pose = &poses[f * 17];
    lowest.push_back(std::min(pose[3].z, pose[6].z));
    const Vec3 facing = normalized(cross(pose[4] - pose[1], Vec3{0, 0, 1}));
    knee_forward += dot(pose[2] - lerp(pose[1], pose[3], 0.5), facing) + dot(pose[5] - lerp(pose[4], pose[6], 0.5), facing);
  }
  EXPECT_GT(quantile(lowest, 0.05), 0.05);  // ankles 8 cm x stature above the floor
  EXPECT_LT(quantile(lowest, 0.05), 0.1);
  EXPECT_LT(quantile(lowest, 0.5), 0.25);
  EXPECT_GE(knee_forward / static_cast<double>(frames), 0.0);  // knees never bend backwards on average
}

TEST(MocapSynthetic, EveryActionKindIsPlausible) {
  Rng rng(11);
  const BodyProportions body = random_body(rng);
  for (const std::string& kind : synthetic_action_kinds()) {
    const std::vector<Vec3> poses = generate_synthetic_action(kind, body, 6.0, 50.0, 5);
    ASSERT_EQ(poses.size(), 301u * 17) << kind;
    check_plausible(poses, kind);
  }
  // Jumps leave the floor; sitting lowers the pelvis to chair height.
  auto pelvis_range = [&](const std::string& kind) {
    const std::vector<Vec3> poses = generate_synthetic_action(kind, body, 6.0, 50.0, 5);
    double low = 1e9, high = -1e9;
    for (std::size_t f = 0; f < poses.size(); f += 17) low = std::min(low, poses[f].z), high = std::max(high, poses[f].z);
    return std::make_pair(low, high);
  };
  EXPECT_GT(pelvis_range("Jumping").second, body.thigh + body.shin + 0.15);
  EXPECT_LT(pelvis_range("Sitting").second, 0.7);
  const auto sitting_down = pelvis_range("SittingDown");
  EXPECT_LT(sitting_down.first, 0.7);
  EXPECT_GT(sitting_down.second, 0.8);
  mocap_test::expect_input_error([&] { generate_synthetic_action("Flying", body, 1.0, 50.0, 1); },
                                 {"'Flying'", "Walking"});
}

TEST(MocapSynthetic, BodiesVaryAroundHuman36mProportions) {
  Rng rng(2);
  std::set<double> thighs;
  for (int i = 0; i < 50; ++i) {
    const BodyProportions body = random_body(rng);
    thighs.insert(body.thigh);
    EXPECT_GT(body.thigh, 0.443 * 0.8);
    EXPECT_LT(body.thigh, 0.443 * 1.2);
  }
  EXPECT_EQ(thighs.size(), 50u);
}

TEST(MocapSynthetic, DefaultDatasetIsFastLoadableAndPlausible) {
  const std::string out = test::temp_dir("mocap_synthetic_default");
  SyntheticOptions options;
  options.output_dir = out;
  const auto start = std::chrono::steady_clock::now();
  const SyntheticReport report = prepare_synthetic_dataset(options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 120.0);  // ~2 s in a release build on one core
  EXPECT_EQ(report.frames, 7 * 8 * 301);
  EXPECT_GT(report.files.fraction_inside_image, 0.99);

  const data::MocapDataset dataset = data::load_dataset("synthetic", out, "gt");
  EXPECT_EQ(dataset.subject_names(), (std::vector<std::string>{"S1", "S5", "S6", "S7", "S8", "S9", "S11"}));
  const data::Keypoints gt = data::load_keypoints(dataset, out, "gt");
  const data::Keypoints noisy = data::load_keypoints(dataset, out, "noisy");
  const data::Subject& s9 = dataset.subject("S9");
  ASSERT_EQ(s9.actions.size(), 8u);
  EXPECT_NE(s9.find_action("Walking 1"), nullptr);
  EXPECT_NE(s9.find_action("SittingDown"), nullptr);
  for (const data::Subject& subject : dataset.subjects)
    for (const data::Action& action : subject.actions) check_plausible(to_positions(action.positions), subject.name + "/" + action.name);
  EXPECT_EQ(gt.action("S11", "Greeting").cameras.size(), 4u);
  EXPECT_GT(report.files.noisy_mean_error_px[0], 3.0);
  EXPECT_LT(report.files.noisy_mean_error_px[0], 10.0);
}

TEST(MocapSynthetic, SeedsMakeItDeterministic) {
  SyntheticOptions options;
  options.train_subjects = {"A"};
  options.test_subjects = {"B"};
  options.actions = {"Walking", "Jumping 2"};
  options.seconds_per_action = 2.0;
  options.cameras.randomize = true;
  const std::string first = test::temp_dir("mocap_synthetic_seed_a");
  const std::string repeat = test::temp_dir("mocap_synthetic_seed_b");
  const std::string reseeded = test::temp_dir("mocap_synthetic_seed_c");
  options.output_dir = first;
  prepare_synthetic_dataset(options);
  options.output_dir = repeat;
  prepare_synthetic_dataset(options);
  options.output_dir = reseeded;
  options.seed = 99;
  prepare_synthetic_dataset(options);

  const data::MocapDataset a = data::load_dataset("synthetic", first, "gt");
  const data::MocapDataset same = data::load_dataset("synthetic", repeat, "gt");
  const data::MocapDataset other = data::load_dataset("synthetic", reseeded, "gt");
  EXPECT_EQ(a.subject("A").actions[1].name, "Jumping 2");
  EXPECT_EQ(a.subject("B").actions[0].positions.bytes, same.subject("B").actions[0].positions.bytes);
  EXPECT_NE(a.subject("B").actions[0].positions.bytes, other.subject("B").actions[0].positions.bytes);
  const data::Keypoints noisy_a = data::load_keypoints(a, first, "noisy");
  const data::Keypoints noisy_same = data::load_keypoints(same, repeat, "noisy");
  EXPECT_EQ(noisy_a.action("A", "Walking").cameras[1].bytes, noisy_same.action("A", "Walking").cameras[1].bytes);
  EXPECT_EQ(a.cameras_of("A")[0].res_w, same.cameras_of("A")[0].res_w);
  EXPECT_EQ(a.cameras_of("A")[0].translation, same.cameras_of("A")[0].translation);
}

TEST(MocapSynthetic, OptionErrors) {
  SyntheticOptions options;
  options.output_dir = test::temp_dir("mocap_synthetic_errors");
  options.actions = {"Walking", "Dancing"};
  mocap_test::expect_input_error([&] { prepare_synthetic_dataset(options); }, {"'Dancing'"});
  options.actions = {"Walking", "Walking"};
  mocap_test::expect_input_error([&] { prepare_synthetic_dataset(options); }, {"'Walking' is listed twice"});
  options.actions = {"Walking"};
  options.test_subjects = {"S1"};
  mocap_test::expect_input_error([&] { prepare_synthetic_dataset(options); }, {"'S1' is listed twice"});
  options.test_subjects = {"S/9"};
  mocap_test::expect_input_error([&] { prepare_synthetic_dataset(options); }, {"'S/9'"});
}

}  // namespace
}  // namespace poselift::mocap
