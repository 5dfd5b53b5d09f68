// `prepare mocap`: dataset files readable by the data layer, subject grouping and split,
// segmenting, cameras keeping the performer in view, determinism; real data when present.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "io/npy.hpp"
#include "mocap/benchmark.hpp"
#include "mocap/prepare.hpp"
#include "mocap/quality.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

using mocap_test::expect_input_error;
using mocap_test::write_file;

std::vector<Vec3> to_positions(const io::NdArray& array) {
  const std::vector<double> values = array.to_doubles();
  std::vector<Vec3> positions;
  for (std::size_t i = 0; i + 2 < values.size(); i += 3) positions.push_back({values[i], values[i + 1], values[i + 2]});
  return positions;
}

// Four CMU-named walking clips of three performers (one gzipped when the tool exists).
std::string write_walking_clips(const std::string& name) {
  const std::string dir = test::temp_dir(name) + "/clips";
  std::filesystem::create_directories(dir + "/more");
  write_file(dir + "/01_01.bvh", mocap_test::walking_bvh(600, 1.0));  // 5 s, 5 m: gets segmented
  write_file(dir + "/01_02.bvh", mocap_test::walking_bvh(240, 0.3, 1.0));
  write_file(dir + "/more/02_01.bvh", mocap_test::walking_bvh(300, 0.5, 2.0));
  write_file(dir + "/more/05_01.bvh", mocap_test::walking_bvh(360, 0.2, 0.5));
  test::run_command("gzip -f '" + dir + "/more/05_01.bvh'");
  write_file(dir + "/README.txt", "not motion");
  return dir;
}

TEST(MocapPrepare, ClipIdentitiesGroupCmuTakesAndBandaiStyles) {
  EXPECT_EQ(identify_clip("x/cmu-iclone/001_01.bvh.gz").performer, "cmu01");
  EXPECT_EQ(identify_clip("x/cmu-misc/fairmotion_01_01.amc.gz").performer, "cmu01");
  EXPECT_EQ(identify_clip("x/cmu-misc/fairmotion_01_01.bvh.gz").take, "cmu01_01");
  EXPECT_EQ(identify_clip("x/cmu-misc/tmoco_05_06.bvh.gz").take, "cmu05_06");
  EXPECT_EQ(identify_clip("x/cmu-misc/bvh11_131_02.bvh.gz").performer, "cmu131");
  EXPECT_EQ(identify_clip("x/cmu-salsa/61_10_scaled.bvh.gz").performer, "cmu61");
  EXPECT_EQ(identify_clip("x/bandai/dataset-1_walk-back_not-confident_001.bvh.gz").performer, "bandai1_not-confident");
  EXPECT_EQ(identify_clip("/data/My Studio/take three.bvh").performer, "My_Studio");
}

TEST(MocapPrepare, SegmentsKeepThePelvisWithinTheWanderSquare) {
  std::vector<Vec3> positions;
  for (int f = 0; f < 400; ++f)
    for (int j = 0; j < 17; ++j) positions.push_back({f / 64.0, 0.0, 1.0});  // 6.2 m along x
  using Range = std::pair<std::int64_t, std::int64_t>;
  const auto segments = wander_segments(positions, 1.0);
  EXPECT_EQ(segments, (std::vector<Range>{{0, 129}, {129, 258}, {258, 387}, {387, 400}}));
  // A short tail grows backwards into its predecessor.
  const auto grown = wander_segments(positions, 1.0, 100);
  ASSERT_EQ(grown.size(), 4u);
  EXPECT_EQ(grown[3], Range(300, 400));
}

// The stored 2D truth is the projection of the stored 3D poses through the stored cameras.
void expect_2d_truth_is_projection(const data::MocapDataset& dataset, const std::string& out, const data::Action& walk) {
  const io::NpzFile raw = io::read_npz(out + "/data_2d_walkers_gt.npz");
  const io::Value& stored = raw.at("positions_2d", "gt").object->at("cmu01", "gt").at("01_01", "gt");
  const auto& views = stored.as_sequence("views");
  ASSERT_EQ(views.size(), 4u);
  const std::vector<Vec3> world = to_positions(walk.positions);
  for (std::size_t c = 0; c < 4; ++c) {
    const data::Camera& camera = dataset.cameras_of("cmu01")[c];
    EXPECT_TRUE(camera.has_intrinsics);
    const std::vector<double> expected = project_to_pixels(world, camera).to_doubles();
    const std::vector<double> actual = views[c]->as_array("view").to_doubles();
    ASSERT_EQ(actual.size(), expected.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < actual.size(); ++i) worst = std::max(worst, std::fabs(actual[i] - expected[i]));
    EXPECT_LT(worst, 1e-2) << "camera " << c;
    // Every camera is 4.5-6 m from the performer's area centre.
    const double distance = std::hypot(camera.translation[0], camera.translation[1]);
    EXPECT_GT(distance, 4.4);
    EXPECT_LT(distance, 6.0);
  }
}

// Two runs with the same options wrote the same members (objects compared in full).
void expect_same_dataset_files(const std::string& out, const std::string& again) {
  for (const char* file : {"data_3d_walkers.npz", "data_2d_walkers_gt.npz", "data_2d_walkers_noisy.npz"}) {
    const io::NpzFile a = io::read_npz(out + "/" + file), b = io::read_npz(again + "/" + file);
    EXPECT_EQ(a.names, b.names);
    for (const std::string& name : a.names)
      EXPECT_EQ(a.at(name, file).is_object() ? a.at(name, file).object->repr(100000) : a.at(name, file).array.shape_string(),
                b.at(name, file).is_object() ? b.at(name, file).object->repr(100000) : b.at(name, file).array.shape_string())
          << file;
  }
}

TEST(MocapPrepare, WritesFilesTheDataLayerLoads) {
  const std::string clips = write_walking_clips("mocap_prepare_roundtrip");
  const std::string out = test::temp_dir("mocap_prepare_roundtrip_out");
  PrepareMocapOptions options;
  options.inputs = {clips};
  options.name = "walkers";
  options.output_dir = out;
  options.seed = 3;
  options.noisy = {NoisyVariant{}, NoisyVariant{"cpn-like", DetectorNoiseOptions{}}};
  options.noisy[1].noise.confidence = true;
  const PrepareReport report = prepare_mocap_dataset(options);

  ASSERT_EQ(report.clips.size(), 4u);
  ASSERT_EQ(report.subjects.size(), 3u);
  EXPECT_EQ(report.fps, 50.0);
  EXPECT_FALSE(report.train_subjects.empty());
  EXPECT_FALSE(report.test_subjects.empty());
  std::set<std::string> train(report.train_subjects.begin(), report.train_subjects.end());
  for (const std::string& subject : report.test_subjects) EXPECT_EQ(train.count(subject), 0u) << subject;
  EXPECT_EQ(train.size() + report.test_subjects.size(), 3u);
  // The 5 m walk is cut into pieces that each stay within the 3 m square.
  EXPECT_EQ(report.clips[0].actions, (std::vector<std::string>{"01_01", "01_01 2"}));
  EXPECT_EQ(report.clips[0].dropped_frames, 0);
  EXPECT_GT(report.files.fraction_inside_image, 0.999);
  ASSERT_EQ(report.files.keypoints_noisy_paths.size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(out + "/data_2d_walkers_cpn-like.npz"));

  const data::MocapDataset dataset = data::load_dataset("walkers", out, "gt");
  EXPECT_EQ(dataset.fps.value_or(0.0), 50.0);
  EXPECT_EQ(dataset.skeleton.num_joints(), 17);
  EXPECT_EQ(dataset.subject_names(), (std::vector<std::string>{"cmu01", "cmu02", "cmu05"}));
  const data::Keypoints gt = data::load_keypoints(dataset, out, "gt");
  const data::Keypoints noisy = data::load_keypoints(dataset, out, "noisy");
  const data::Keypoints confident = data::load_keypoints(dataset, out, "cpn-like");
  EXPECT_EQ(gt.metadata.num_joints, 17);
  EXPECT_EQ(gt.metadata.layout_name.value_or(""), "h36m");
  EXPECT_EQ(gt.metadata.keypoints_left, (std::vector<int>{4, 5, 6, 11, 12, 13}));
  EXPECT_EQ(gt.metadata.keypoints_right, (std::vector<int>{1, 2, 3, 14, 15, 16}));

  const data::Subject& subject = dataset.subject("cmu01");
  ASSERT_EQ(subject.actions.size(), 3u);
  const data::Action& walk = subject.actions[0];
  EXPECT_EQ(walk.positions_3d.size(), 4u);  // camera-space targets for 4 cameras
  ASSERT_NO_FATAL_FAILURE(expect_2d_truth_is_projection(dataset, out, walk));
  // Noisy keypoints: same shape, a few pixels off; the variant with confidences has 3 channels.
  const io::NdArray& noisy_view = noisy.action("cmu01", "01_01").cameras[0];
  const io::NdArray& confident_view = confident.action("cmu01", "01_01").cameras[0];
  EXPECT_EQ(noisy_view.shape, (std::vector<std::int64_t>{walk.positions.shape[0], 17, 2}));
  EXPECT_EQ(confident_view.shape, (std::vector<std::int64_t>{walk.positions.shape[0], 17, 3}));
  EXPECT_GT(report.files.noisy_mean_error_px[0], 2.0);
  EXPECT_LT(report.files.noisy_mean_error_px[0], 15.0);

  // Same options, same files.
  const std::string again = test::temp_dir("mocap_prepare_roundtrip_again");
  options.output_dir = again;
  const PrepareReport second = prepare_mocap_dataset(options);
  EXPECT_EQ(second.test_subjects, report.test_subjects);
  expect_same_dataset_files(out, again);
  const data::Keypoints noisy_again = data::load_keypoints(dataset, again, "noisy");
  EXPECT_EQ(noisy_again.action("cmu05", "05_01").cameras[2].bytes, noisy.action("cmu05", "05_01").cameras[2].bytes);
}

TEST(MocapPrepare, ExplicitTestSubjectsAndOptionErrors) {
  const std::string clips = write_walking_clips("mocap_prepare_options");
  PrepareMocapOptions options;
  options.inputs = {clips};
  options.name = "walkers";
  options.output_dir = test::temp_dir("mocap_prepare_options_out");
  options.test_subjects = {"cmu02"};
  options.cameras.randomize = true;
  const PrepareReport report = prepare_mocap_dataset(options);
  EXPECT_EQ(report.test_subjects_flag(), "cmu02");
  EXPECT_EQ(report.train_subjects_flag(), "cmu01,cmu05");
  EXPECT_GT(report.files.fraction_inside_image, 0.999);

  PrepareMocapOptions bad = options;
  bad.test_subjects = {"S9"};
  expect_input_error([&] { prepare_mocap_dataset(bad); }, {"test subject 'S9'", "cmu01"});
  bad = options;
  bad.name = "../evil";
  expect_input_error([&] { prepare_mocap_dataset(bad); }, {"'../evil'", "not a valid name"});
  bad = options;
  bad.inputs = {clips + "/nothing-here"};
  expect_input_error([&] { prepare_mocap_dataset(bad); }, {"nothing-here", "no such file"});
  bad = options;
  bad.inputs = {clips + "/README.txt"};
  expect_input_error([&] { prepare_mocap_dataset(bad); }, {"README.txt", "not a motion file"});
  // A broken file fails the run, or is reported when skipping is allowed.
  write_file(clips + "/07_01.bvh", "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0\n");
  bad = options;
  bad.test_subjects = {};
  expect_input_error([&] { prepare_mocap_dataset(bad); }, {"07_01.bvh:4:", "OFFSET"});
  bad.skip_unreadable = true;
  const PrepareReport skipped = prepare_mocap_dataset(bad);
  ASSERT_EQ(skipped.skipped.size(), 1u);
  EXPECT_NE(skipped.skipped[0].first.find("07_01.bvh"), std::string::npos);
}

TEST(MocapPrepare, RealMotionCaptureBecomesAPlausibleDataset) {
  POSELIFT_REQUIRE_MOCAP(dir);
  const std::string out = test::temp_dir("mocap_prepare_real");
  PrepareMocapOptions options;
  options.inputs = {dir + "/cmu-misc", dir + "/cmu-iclone/001_01.bvh.gz", dir + "/cmu-iclone/002_01.bvh.gz",
                    dir + "/cmu-iclone/005_06.bvh.gz", dir + "/cmu-salsa/61_02_scaled.bvh.gz",
                    dir + "/bandai-dataset-1/dataset-1_walk_happy_001.bvh.gz",
                    dir + "/bandai-dataset-1/dataset-1_bye_sad_001.bvh.gz"};
  options.name = "realmix";
  options.output_dir = out;
  const PrepareReport report = prepare_mocap_dataset(options);
  EXPECT_EQ(report.clips.size(), 15u);
  // Copies of a CMU take share a subject, hence a side of the split.
  for (const PreparedClip& clip : report.clips) {
    const std::string name = std::filesystem::path(clip.path).filename().string();
    for (const char* take : {"01_01", "02_01", "05_06"}) {
      if (name.find(take) == std::string::npos) continue;
      EXPECT_EQ(clip.subject, "cmu0" + std::string(1, take[1])) << name;
    }
  }
  std::set<std::string> train(report.train_subjects.begin(), report.train_subjects.end());
  for (const std::string& subject : report.test_subjects) EXPECT_EQ(train.count(subject), 0u);
  EXPECT_FALSE(report.test_subjects.empty());

  const data::MocapDataset dataset = data::load_dataset("realmix", out, "gt");
  const data::Keypoints keypoints = data::load_keypoints(dataset, out, "gt");
  std::int64_t inside = 0, total = 0;
  for (const data::Subject& subject : dataset.subjects) {
    for (const data::Action& action : subject.actions) {
      SCOPED_TRACE(subject.name + " / " + action.name);
      const std::vector<Vec3> poses = to_positions(action.positions);
      const BoneLengthStats stats = bone_length_stats(poses);
      for (int bone : {2, 3, 5, 6, 12, 13, 15, 16}) EXPECT_LT(stats.stddev[static_cast<std::size_t>(bone)], 1e-3) << bone;
      EXPECT_GE(standing_height(poses), 1.4);
      EXPECT_LE(standing_height(poses), 2.0);
      const data::ActionKeypoints& views = keypoints.action(subject.name, action.name);
      for (std::size_t c = 0; c < views.cameras.size(); ++c) {
        // Normalised screen coordinates after loading: inside the image is x in [-1, 1],
        // y in [-h/w, h/w].
        const data::Camera& camera = dataset.cameras_of(subject.name)[c];
        const double aspect = static_cast<double>(camera.res_h) / camera.res_w;
        const std::vector<double> xy = views.cameras[c].to_doubles();
        for (std::size_t i = 0; i + 1 < xy.size(); i += 2, ++total)
          inside += std::fabs(xy[i]) <= 1.0 && std::fabs(xy[i + 1]) <= aspect;
      }
    }
  }
  EXPECT_GT(static_cast<double>(inside) / static_cast<double>(total), 0.99);
}

TEST(MocapPrepare, BenchmarkCountsFramesAndTimesEachStage) {
  const std::string clips = write_walking_clips("mocap_prepare_bench");
  MocapBenchmarkOptions options;
  options.build_dir = test::temp_dir("mocap_prepare_bench_out");
  const MocapBenchmark bench = benchmark_mocap_import({clips}, options);
  EXPECT_EQ(bench.files, 4);
  EXPECT_EQ(bench.failed, 0);
  EXPECT_EQ(bench.source_frames, 600 + 240 + 300 + 360);
  EXPECT_GT(bench.text_bytes, bench.file_bytes / 2);
  EXPECT_GT(bench.frames_per_second(), 0.0);
  EXPECT_GT(bench.build_seconds, 0.0);
  EXPECT_GT(bench.build_frames, 0);
}

}  // namespace
}  // namespace poselift::mocap
