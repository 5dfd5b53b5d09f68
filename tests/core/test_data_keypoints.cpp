#include <gtest/gtest.h>

#include <cmath>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "test_data_support.hpp"

namespace poselift::data {
namespace {

using io::Value;
using test_support::random_array;
using test_support::str;

io::ValuePtr default_metadata(int joints = 17) {
  return Value::dict({{str("num_joints"), Value::from_int(joints)},
                      {str("keypoints_symmetry"),
                       Value::list({Value::list({Value::from_int(4), Value::from_int(5)}),
                                    Value::list({Value::from_int(1), Value::from_int(2)})})}});
}

using CameraLists = std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::vector<io::NdArray>>>>>;

void write_2d(const std::string& path, const CameraLists& data, io::ValuePtr metadata = default_metadata()) {
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> subjects;
  for (const auto& [subject, actions] : data) {
    std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entries;
    for (const auto& [action, cameras] : actions) {
      std::vector<io::ValuePtr> list;
      for (const io::NdArray& array : cameras) list.push_back(Value::from_array(array));
      entries.emplace_back(str(action), Value::list(std::move(list)));
    }
    subjects.emplace_back(str(subject), Value::dict(std::move(entries)));
  }
  io::write_npz(path, {{"positions_2d", {}, Value::dict(std::move(subjects))}, {"metadata", {}, std::move(metadata)}});
}

// A 3D Human3.6M file with S1 doing "Walk" (10 frames) and "Sit" (8 frames).
MocapDataset small_h36m(const std::string& dir) {
  const io::ValuePtr positions = Value::dict(
      {{str("S1"), Value::dict({{str("Walk"), Value::from_array(random_array({10, 32, 3}, 1))},
                                {str("Sit"), Value::from_array(random_array({8, 32, 3}, 2))}})}});
  io::write_npz(dir + "/data_3d_h36m.npz", {{"positions_3d", {}, positions}});
  return load_dataset("h36m", dir, "bad");
}

std::vector<io::NdArray> cameras_of_length(std::int64_t frames, int count = 4, std::int64_t joints = 17) {
  std::vector<io::NdArray> cameras;
  for (int c = 0; c < count; ++c) cameras.push_back(random_array({frames, joints, 2}, 100 + c, 0.0f, 1000.0f));
  return cameras;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return {};
}

void expect_mentions(const std::string& message, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST(DataKeypoints, ReadsTheFixtureMetadataAndOrder) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const Keypoints gt = read_keypoints(keypoints_2d_path(data_dir, "h36m", "gt"));
  EXPECT_EQ(gt.metadata.num_joints, 17);
  EXPECT_EQ(gt.metadata.keypoints_left, (std::vector<int>{4, 5, 6, 11, 12, 13}));
  EXPECT_EQ(gt.metadata.keypoints_right, (std::vector<int>{1, 2, 3, 14, 15, 16}));
  EXPECT_FALSE(gt.metadata.layout_name.has_value());
  ASSERT_EQ(gt.subjects.size(), 4u);
  EXPECT_EQ(gt.subjects[3].name, "S11");
  EXPECT_EQ(gt.subjects[0].actions[1].name, "Walking 1");
  EXPECT_FALSE(gt.normalized);

  const Keypoints noisy = read_keypoints(keypoints_2d_path(data_dir, "h36m", "noisy"));
  ASSERT_TRUE(noisy.metadata.layout_name.has_value());
  EXPECT_EQ(*noisy.metadata.layout_name, "h36m");
}

TEST(DataKeypoints, PreparationTrimsToTheMocapAndNormalises) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const MocapDataset dataset = load_dataset("h36m", data_dir, "noisy");
  const Keypoints raw = read_keypoints(keypoints_2d_path(data_dir, "h36m", "noisy"));
  const Keypoints prepared = load_keypoints(dataset, data_dir, "noisy");
  EXPECT_TRUE(prepared.normalized);
  bool some_trimmed = false;
  for (const Subject& subject : dataset.subjects)
    for (const Action& action : subject.actions)
      for (std::size_t c = 0; c < 4; ++c) {
        const io::NdArray& before = raw.action(subject.name, action.name).cameras[c];
        const io::NdArray& after = prepared.action(subject.name, action.name).cameras[c];
        ASSERT_EQ(after.shape[0], action.positions.shape[0]) << subject.name << " " << action.name;
        some_trimmed |= before.shape[0] > after.shape[0];
        const Camera& camera = dataset.cameras_of(subject.name)[c];
        const std::vector<double> pixels = before.to_doubles();
        for (std::int64_t i = 0; i < after.numel(); i += 2) {
          ASSERT_NEAR(after.data<float>()[i], pixels[i] / camera.res_w * 2 - 1, 1e-6);
          ASSERT_NEAR(after.data<float>()[i + 1], pixels[i + 1] / camera.res_w * 2 - double(camera.res_h) / camera.res_w,
                      1e-6);
        }
      }
  EXPECT_TRUE(some_trimmed);
}

TEST(DataKeypoints, NormalisationMatchesNumpyBitForBit) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  if (!test_support::numpy_available()) GTEST_SKIP() << "no numpy at /usr/bin/python3; skipping";
  const std::string scratch = test_support::scratch_dir();
  const std::string script = "import numpy as np\n"
                             "k = np.load('" + keypoints_2d_path(data_dir, "h36m", "noisy") +
                             "', allow_pickle=True)['positions_2d'].item()['S9']['Sitting'][3][:74]\n"
                             "k[..., :2] = k[..., :2] / 1000 * 2 - [1, 1002 / 1000]\n"
                             "np.save('" + scratch + "/expected.npy', k)\n";
  test_support::run_python(script, scratch);
  const io::NdArray expected = io::read_npy(scratch + "/expected.npy").array;
  const MocapDataset dataset = load_dataset("h36m", data_dir, "noisy");
  const Keypoints prepared = load_keypoints(dataset, data_dir, "noisy");
  const io::NdArray& actual = prepared.action("S9", "Sitting").cameras[3];
  ASSERT_EQ(actual.shape, expected.shape);
  EXPECT_EQ(actual.bytes, expected.bytes);
}

TEST(DataKeypoints, MissingSubjectIsReported) {
  const std::string dir = test_support::scratch_dir();
  const MocapDataset dataset = small_h36m(dir);
  const std::string path = dir + "/data_2d_h36m_bad.npz";
  write_2d(path, {{"S5", {{"Walk", cameras_of_length(10)}, {"Sit", cameras_of_length(8)}}}});
  expect_mentions(error_of([&] { load_keypoints(dataset, dir, "bad"); }), {path, "S1", "missing"});
}

TEST(DataKeypoints, MissingActionIsReported) {
  const std::string dir = test_support::scratch_dir();
  const MocapDataset dataset = small_h36m(dir);
  const std::string path = dir + "/data_2d_h36m_bad.npz";
  write_2d(path, {{"S1", {{"Walk", cameras_of_length(10)}}}});
  expect_mentions(error_of([&] { load_keypoints(dataset, dir, "bad"); }), {path, "['S1']", "'Sit'", "missing"});
}

TEST(DataKeypoints, CameraCountMismatchIsReported) {
  const std::string dir = test_support::scratch_dir();
  const MocapDataset dataset = small_h36m(dir);
  const std::string path = dir + "/data_2d_h36m_bad.npz";
  write_2d(path, {{"S1", {{"Walk", cameras_of_length(10, 3)}, {"Sit", cameras_of_length(8)}}}});
  expect_mentions(error_of([&] { load_keypoints(dataset, dir, "bad"); }),
                  {path, "['S1']['Walk']", "3 camera", "4", "camera count mismatch"});
}

TEST(DataKeypoints, TooShortSequenceIsReported) {
  const std::string dir = test_support::scratch_dir();
  const MocapDataset dataset = small_h36m(dir);
  const std::string path = dir + "/data_2d_h36m_bad.npz";
  std::vector<io::NdArray> sit = cameras_of_length(8);
  sit[2] = random_array({7, 17, 2}, 5);
  write_2d(path, {{"S1", {{"Walk", cameras_of_length(12)}, {"Sit", sit}}}});
  expect_mentions(error_of([&] { load_keypoints(dataset, dir, "bad"); }),
                  {path, "['S1']['Sit'][2]", "7 frames", "8 frames"});
}

TEST(DataKeypoints, ExtraSubjectWithoutCamerasIsReported) {
  const std::string dir = test_support::scratch_dir();
  const MocapDataset dataset = small_h36m(dir);
  const std::string path = dir + "/data_2d_h36m_bad.npz";
  write_2d(path, {{"S1", {{"Walk", cameras_of_length(10)}, {"Sit", cameras_of_length(8)}}},
                  {"S99", {{"Walk", cameras_of_length(10)}}}});
  expect_mentions(error_of([&] { load_keypoints(dataset, dir, "bad"); }), {path, "['S99']['Walk']", "camera"});
}

TEST(DataKeypoints, StructuralProblemsAreReported) {
  const std::string dir = test_support::scratch_dir();
  const std::string path = dir + "/data_2d_h36m_bad.npz";

  write_2d(path, {{"S1", {{"Walk", cameras_of_length(10, 4, 16)}}}});
  expect_mentions(error_of([&] { read_keypoints(path); }), {path, "['S1']['Walk'][0]", "17", "(10, 16, 2)"});

  write_2d(path, {{"S1", {{"Walk", cameras_of_length(10)}}}},
           Value::dict({{str("num_joints"), Value::from_int(17)}}));
  expect_mentions(error_of([&] { read_keypoints(path); }), {path, "metadata", "keypoints_symmetry"});

  write_2d(path, {{"S1", {{"Walk", cameras_of_length(10)}}}},
           Value::dict({{str("num_joints"), Value::from_int(17)},
                        {str("keypoints_symmetry"),
                         Value::list({Value::list({Value::from_int(40)}), Value::list({Value::from_int(1)})})}}));
  expect_mentions(error_of([&] { read_keypoints(path); }), {path, "keypoints_symmetry", "40"});
}

TEST(DataKeypoints, ExtraChannelsAreKeptAndCanBeDropped) {
  const std::string dir = test_support::scratch_dir();
  const MocapDataset dataset = small_h36m(dir);
  std::vector<io::NdArray> walk;
  for (int c = 0; c < 4; ++c) walk.push_back(random_array({10, 17, 3}, 200 + c, 0.0f, 900.0f));
  write_2d(dir + "/data_2d_h36m_conf.npz", {{"S1", {{"Walk", walk}, {"Sit", cameras_of_length(9)}}}});
  const Keypoints keypoints = load_keypoints(dataset, dir, "conf");
  const io::NdArray& with_confidence = keypoints.action("S1", "Walk").cameras[1];
  ASSERT_EQ(with_confidence.shape, (std::vector<std::int64_t>{10, 17, 3}));
  EXPECT_EQ(with_confidence.data<float>()[2], walk[1].data<float>()[2]);
  const io::NdArray xy = xy_channels(with_confidence);
  ASSERT_EQ(xy.shape, (std::vector<std::int64_t>{10, 17, 2}));
  EXPECT_EQ(xy.data<float>()[2], with_confidence.data<float>()[3]);
  EXPECT_EQ(keypoints.action("S1", "Sit").cameras[0].shape[0], 8);  // trimmed from 9
}

}  // namespace
}  // namespace poselift::data
