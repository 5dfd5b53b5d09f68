#include <gtest/gtest.h>

#include <cmath>

#include "data/array_ops.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "test_data_support.hpp"

namespace poselift::data {
namespace {

using io::Value;
using test_support::random_array;
using test_support::str;

// positions_3d = {subject: {action: array}} in the given order.
io::ValuePtr positions_dict(const std::vector<std::pair<std::string, std::vector<std::pair<std::string, io::NdArray>>>>& data) {
  std::vector<std::pair<io::ValuePtr, io::ValuePtr>> subjects;
  for (const auto& [subject, actions] : data) {
    std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entries;
    for (const auto& [action, array] : actions) entries.emplace_back(str(action), Value::from_array(array));
    subjects.emplace_back(str(subject), Value::dict(std::move(entries)));
  }
  return Value::dict(std::move(subjects));
}

void write_3d(const std::string& path, io::ValuePtr positions, std::vector<io::NpzMember> extra = {}) {
  std::vector<io::NpzMember> members{{"positions_3d", {}, std::move(positions)}};
  for (auto& member : extra) members.push_back(std::move(member));
  io::write_npz(path, members);
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

TEST(DataDataset, LoadsTheHuman36mFixtureInFileOrder) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const MocapDataset dataset = load_dataset("h36m", data_dir, "gt");
  EXPECT_EQ(dataset.name, "h36m");
  EXPECT_EQ(dataset.subject_names(), (std::vector<std::string>{"S1", "S5", "S9", "S11"}));
  ASSERT_TRUE(dataset.fps.has_value());
  EXPECT_EQ(*dataset.fps, 50.0);
  EXPECT_EQ(dataset.skeleton.num_joints(), 17);
  std::vector<std::string> actions;
  for (const Action& action : dataset.subject("S1").actions) actions.push_back(action.name);
  EXPECT_EQ(actions, (std::vector<std::string>{"Walking", "Walking 1", "Sitting", "Greeting", "Eating"}));
  const Action& walking = *dataset.subject("S9").find_action("Walking");
  EXPECT_EQ(walking.positions.shape, (std::vector<std::int64_t>{60, 17, 3}));
  ASSERT_EQ(walking.positions_3d.size(), 4u);
  EXPECT_EQ(walking.positions_3d[3].shape, (std::vector<std::int64_t>{60, 17, 3}));
  EXPECT_THROW(dataset.subject("S7"), InputError);
}

TEST(DataDataset, ReductionKeepsTheNonStaticJointColumns) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const std::string path = dataset_3d_path(data_dir, "h36m");
  const MocapDataset full = load_h36m_dataset(path, false);
  const MocapDataset reduced = load_h36m_dataset(path);
  EXPECT_EQ(full.skeleton.num_joints(), 32);
  const std::vector<int> kept{0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27};
  const io::NdArray expected = select_joints(full.subject("S5").actions[2].positions, kept);
  const io::NdArray& actual = reduced.subject("S5").actions[2].positions;
  EXPECT_EQ(actual.shape, expected.shape);
  EXPECT_EQ(actual.bytes, expected.bytes);
}

TEST(DataDataset, CameraSpacePositionsKeepTheTrajectoryInJointZero) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const MocapDataset dataset = load_dataset("h36m", data_dir, "gt");
  const Action& action = dataset.subject("S11").actions[1];
  for (std::size_t c = 0; c < 4; ++c) {
    const Camera& camera = dataset.cameras_of("S11")[c];
    const io::NdArray local = world_to_camera(action.positions, camera.orientation, camera.translation);
    const float* absolute = local.data<float>();
    const float* prepared = action.positions_3d[c].data<float>();
    for (std::int64_t t = 0; t < local.shape[0]; ++t)
      for (int j = 0; j < 17; ++j)
        for (int k = 0; k < 3; ++k) {
          const std::int64_t i = (t * 17 + j) * 3 + k;
          const float expected = j == 0 ? absolute[i] : absolute[i] - absolute[t * 17 * 3 + k];
          ASSERT_EQ(prepared[i], expected) << "camera " << c << " frame " << t << " joint " << j;
        }
    // The subject stands several metres in front of every camera.
    EXPECT_GT(prepared[2], 2.0f);
  }
}

TEST(DataDataset, GenericDatasetWith17JointsUsesItsOwnCamerasAndFps) {
  const std::string dir = test_support::scratch_dir();
  Camera camera = h36m_cameras().at("S9")[1];
  camera.id = "virtual";
  camera.res_w = 640;
  camera.res_h = 480;
  const io::ValuePtr cameras = Value::dict({{str("Mocap1"), Value::list({camera_to_value(camera)})}});
  write_3d(dir + "/data_3d_synth.npz",
           positions_dict({{"Mocap1", {{"Run", random_array({12, 17, 3}, 3)}, {"Jump 2", random_array({5, 17, 3}, 4)}}}}),
           {{"cameras", {}, cameras}, {"fps", io::NdArray::from_vector<double>({}, {30.0}), nullptr}});
  const MocapDataset dataset = load_dataset("synth", dir, "whatever");
  EXPECT_EQ(dataset.name, "synth");
  EXPECT_EQ(dataset.skeleton.parents(), h36m_skeleton_17().parents());
  EXPECT_EQ(*dataset.fps, 30.0);
  ASSERT_EQ(dataset.cameras_of("Mocap1").size(), 1u);
  EXPECT_EQ(dataset.cameras_of("Mocap1")[0].id, "virtual");
  EXPECT_EQ(dataset.cameras_of("Mocap1")[0].res_w, 640);
  const Action& run = dataset.subject("Mocap1").actions[0];
  EXPECT_EQ(run.name, "Run");
  EXPECT_EQ(dataset.subject("Mocap1").actions[1].name, "Jump 2");
  ASSERT_EQ(run.positions_3d.size(), 1u);
  const io::NdArray local = world_to_camera(run.positions, camera.orientation, camera.translation);
  EXPECT_EQ(run.positions_3d[0].data<float>()[2], local.data<float>()[2]);
}

TEST(DataDataset, GenericDatasetWith32JointsIsReducedAndUsesHuman36mCameras) {
  const std::string dir = test_support::scratch_dir();
  write_3d(dir + "/data_3d_h36mcopy.npz", positions_dict({{"S9", {{"Posing", random_array({4, 32, 3}, 5)}}}}));
  const MocapDataset dataset = load_dataset("h36mcopy", dir, "gt");
  EXPECT_EQ(dataset.skeleton.num_joints(), 17);
  EXPECT_EQ(dataset.subject("S9").actions[0].positions.shape, (std::vector<std::int64_t>{4, 17, 3}));
  EXPECT_EQ(dataset.subject("S9").actions[0].positions_3d.size(), 4u);
  EXPECT_EQ(*dataset.fps, 50.0);
}

TEST(DataDataset, RejectsUnknownNamesAndBadShapes) {
  const std::string dir = test_support::scratch_dir();
  const std::string unknown = error_of([&] { load_dataset("nosuch", dir, "gt"); });
  EXPECT_NE(unknown.find("nosuch"), std::string::npos) << unknown;

  write_3d(dir + "/data_3d_odd.npz", positions_dict({{"S1", {{"Walk", random_array({4, 20, 3}, 6)}}}}));
  const std::string odd = error_of([&] { load_dataset("odd", dir, "gt"); });
  EXPECT_NE(odd.find("data_3d_odd.npz"), std::string::npos) << odd;
  EXPECT_NE(odd.find("20"), std::string::npos) << odd;

  write_3d(dir + "/data_3d_h36m.npz", positions_dict({{"S1", {{"Walk", random_array({4, 17, 3}, 7)}}}}));
  const std::string wrong_joints = error_of([&] { load_dataset("h36m", dir, "gt"); });
  EXPECT_NE(wrong_joints.find("positions_3d['S1']['Walk']"), std::string::npos) << wrong_joints;
  EXPECT_NE(wrong_joints.find("32"), std::string::npos) << wrong_joints;
}

TEST(DataDataset, RejectsSubjectsWithoutUsableCameras) {
  const std::string dir = test_support::scratch_dir();
  write_3d(dir + "/data_3d_h36m.npz", positions_dict({{"S12", {{"Walk", random_array({4, 32, 3}, 8)}}}}));
  const std::string unknown_subject = error_of([&] { load_dataset("h36m", dir, "gt"); });
  EXPECT_NE(unknown_subject.find("S12"), std::string::npos) << unknown_subject;

  write_3d(dir + "/data_3d_h36m.npz", positions_dict({{"S2", {{"Walk", random_array({4, 32, 3}, 9)}}}}));
  const std::string no_extrinsics = error_of([&] { load_dataset("h36m", dir, "gt"); });
  EXPECT_NE(no_extrinsics.find("S2"), std::string::npos) << no_extrinsics;
  EXPECT_NE(no_extrinsics.find("extrinsic"), std::string::npos) << no_extrinsics;
}

TEST(DataDataset, HumanEvaUsesItsSkeletonCamerasAndFps) {
  const std::string dir = test_support::scratch_dir();
  write_3d(dir + "/data_3d_humaneva15.npz",
           positions_dict({{"Train/S1", {{"Walking 1 chunk0", random_array({20, 15, 3}, 10)}}},
                           {"Validate/S2", {{"Jog 1 chunk0", random_array({8, 15, 3}, 11)}}}}));
  const MocapDataset dataset = load_dataset("humaneva15", dir, "gt");
  EXPECT_EQ(dataset.name, "humaneva15");
  EXPECT_EQ(*dataset.fps, 60.0);
  EXPECT_EQ(dataset.skeleton.num_joints(), 15);
  EXPECT_EQ(dataset.subject_names(), (std::vector<std::string>{"Train/S1", "Validate/S2"}));
  EXPECT_EQ(dataset.subject("Train/S1").actions[0].positions_3d.size(), 3u);
  EXPECT_EQ(dataset.cameras_of("Validate/S2")[2].id, "C3");
}

TEST(DataDataset, CustomDatasetComesFromTheVideoMetadata) {
  const std::string dir = test_support::scratch_dir();
  const io::ValuePtr metadata = Value::dict(
      {{str("layout_name"), str("coco")},
       {str("num_joints"), Value::from_int(17)},
       {str("keypoints_symmetry"), Value::list({Value::list({Value::from_int(1)}), Value::list({Value::from_int(2)})})},
       {str("video_metadata"),
        Value::dict({{str("b.mp4"), Value::dict({{str("w"), Value::from_int(1920)}, {str("h"), Value::from_int(1080)}})},
                     {str("a.mp4"), Value::dict({{str("w"), Value::from_int(640)}, {str("h"), Value::from_int(360)}})}})}});
  const io::ValuePtr positions = Value::dict(
      {{str("b.mp4"), Value::dict({{str("custom"), Value::list({Value::from_array(random_array({6, 17, 2}, 12))})}})},
       {str("a.mp4"), Value::dict({{str("custom"), Value::list({Value::from_array(random_array({3, 17, 2}, 13))})}})}});
  io::write_npz(dir + "/data_2d_custom_myvideos.npz", {{"positions_2d", {}, positions}, {"metadata", {}, metadata}});
  const MocapDataset dataset = load_dataset("custom", dir, "myvideos");
  EXPECT_EQ(dataset.subject_names(), (std::vector<std::string>{"b.mp4", "a.mp4"}));
  EXPECT_FALSE(dataset.fps.has_value());
  EXPECT_EQ(dataset.skeleton.num_joints(), 17);
  const Subject& video = dataset.subject("a.mp4");
  ASSERT_EQ(video.actions.size(), 1u);
  EXPECT_EQ(video.actions[0].name, "custom");
  EXPECT_FALSE(video.actions[0].has_positions());
  EXPECT_TRUE(video.actions[0].positions_3d.empty());
  EXPECT_EQ(dataset.cameras_of("a.mp4")[0].res_w, 640);
  EXPECT_EQ(dataset.cameras_of("a.mp4")[0].res_h, 360);

  // The same file provides the keypoints; there is nothing 3D to fetch.
  const Keypoints keypoints = load_keypoints(dataset, dir, "myvideos");
  EXPECT_EQ(*keypoints.metadata.layout_name, "coco");
  const io::NdArray raw = random_array({6, 17, 2}, 12);
  EXPECT_NEAR(keypoints.action("b.mp4", "custom").cameras[0].data<float>()[1], raw.data<float>()[1] / 1920.0 * 2 - 1080.0 / 1920,
              1e-6);
  const FetchedSequences fetched = fetch(dataset, keypoints, {"b.mp4", "a.mp4"});
  ASSERT_EQ(fetched.poses_2d.size(), 2u);
  EXPECT_EQ(fetched.poses_2d[1].shape[0], 3);
  EXPECT_TRUE(fetched.poses_3d.empty());
  EXPECT_TRUE(fetched.camera_intrinsics.empty());
}

TEST(DataDataset, GenericDatasetPairsWithItsOwnKeypointsFile) {
  const std::string dir = test_support::scratch_dir();
  Camera camera = h36m_cameras().at("S1")[0];
  camera.res_w = 800;
  camera.res_h = 600;
  write_3d(dir + "/data_3d_synth.npz", positions_dict({{"M1", {{"Run", random_array({9, 17, 3}, 30)}}}}),
           {{"cameras", {}, Value::dict({{str("M1"), Value::list({camera_to_value(camera)})}})}});
  const io::ValuePtr positions = Value::dict(
      {{str("M1"), Value::dict({{str("Run"), Value::list({Value::from_array(random_array({11, 17, 2}, 31))})}})}});
  const io::ValuePtr metadata = Value::dict(
      {{str("num_joints"), Value::from_int(17)},
       {str("keypoints_symmetry"), Value::list({Value::list({Value::from_int(4)}), Value::list({Value::from_int(1)})})}});
  io::write_npz(dir + "/data_2d_synth_gt.npz", {{"positions_2d", {}, positions}, {"metadata", {}, metadata}});
  const MocapDataset dataset = load_dataset("synth", dir, "gt");
  const Keypoints keypoints = load_keypoints(dataset, dir, "gt");
  const FetchedSequences fetched = fetch(dataset, keypoints, {"M1"});
  ASSERT_EQ(fetched.poses_2d.size(), 1u);
  EXPECT_EQ(fetched.poses_2d[0].shape[0], 9);  // trimmed to the mocap
  ASSERT_EQ(fetched.camera_intrinsics.size(), 1u);
  EXPECT_EQ(fetched.camera_intrinsics[0], camera.intrinsic());
  EXPECT_NEAR(fetched.camera_intrinsics[0][0], 1145.0494384765625 / 800 * 2, 1e-6);
}

}  // namespace
}  // namespace poselift::data
