// wild/export reads the .npz it writes: a lifted sequence comes back as written.
#include <gtest/gtest.h>

#include <string>

#include "data/h36m.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "test_support.hpp"
#include "wild/export.hpp"

using namespace poselift;

namespace {

wild::LiftedSequence example_sequence(int frames) {
  wild::LiftedSequence s;
  s.width = 1000;
  s.height = 1002;
  for (int t = 0; t < frames; ++t) {
    s.input.frames.push_back(3 + 2 * t);
    wild::H36mPose pose;
    for (int k = 0; k < data::h36m::kJoints; ++k) {
      pose[static_cast<std::size_t>(k)] = {10.5f * k + t, 20.25f * k - t, (k % 3 == 0) ? 0.0f : 0.1f * (k % 10)};
      for (int c = 0; c < 3; ++c) s.positions.push_back(0.01f * (t * 51 + k * 3 + c) - 0.2f);
    }
    s.input.poses.push_back(pose);
  }
  return s;
}

}  // namespace

TEST(WildLiftedNpz, ReadsBackWhatItWrites) {
  const auto dir = test::temp_dir("wild_lifted_npz");
  const wild::LiftedSequence written = example_sequence(5);
  wild::write_lifted(dir + "/result.npz", written);
  const wild::LiftedSequence read = wild::read_lifted_npz(dir + "/result.npz");
  EXPECT_EQ(read.width, written.width);
  EXPECT_EQ(read.height, written.height);
  EXPECT_EQ(read.input.frames, written.input.frames);
  EXPECT_EQ(read.positions, written.positions);
  ASSERT_EQ(read.input.poses.size(), written.input.poses.size());
  for (std::size_t t = 0; t < read.input.poses.size(); ++t) EXPECT_EQ(read.input.poses[t], written.input.poses[t]);
}

TEST(WildLiftedNpz, ScoresAreOptionalTheRestRequired) {
  const auto dir = test::temp_dir("wild_lifted_npz_members");
  const wild::LiftedSequence s = example_sequence(2);
  wild::write_lifted(dir + "/full.npz", s);
  const io::NpzFile full = io::read_npz(dir + "/full.npz");
  auto rewrite_without = [&](const std::string& left_out) {
    std::vector<io::NpzMember> members;
    for (const char* name : {"positions_3d", "keypoints_2d", "scores", "frames", "image_size"})
      if (name != left_out) members.push_back({name, full.at(name, "full.npz").array, nullptr});
    const std::string path = dir + "/without_" + left_out + ".npz";
    io::write_npz(path, members);
    return path;
  };
  const auto no_scores = wild::read_lifted_npz(rewrite_without("scores"));
  EXPECT_EQ(no_scores.positions, s.positions);
  EXPECT_EQ(no_scores.input.poses[1][4][0], s.input.poses[1][4][0]);
  EXPECT_EQ(no_scores.input.poses[1][4][2], 0.0f);
  try {
    wild::read_lifted_npz(rewrite_without("frames"));
    FAIL() << "a result without frames was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing member 'frames'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(wild::read_lifted_npz(dir + "/absent.npz"), InputError);
}

TEST(WildLiftedNpz, TrajectoryTravelsThroughEveryTextFormat) {
  const auto dir = test::temp_dir("wild_lifted_trajectory");
  wild::LiftedSequence s = example_sequence(3);
  wild::write_lifted(dir + "/plain.npz", s);
  EXPECT_FALSE(io::read_npz(dir + "/plain.npz").contains("trajectory"));
  EXPECT_TRUE(wild::read_lifted_npz(dir + "/plain.npz").trajectory.empty());

  s.trajectory = {0.1f, -0.2f, 4.5f, 0.15f, -0.2f, 4.25f, 0.2f, -0.25f, 4.0f};
  wild::write_lifted(dir + "/moving.npz", s);
  EXPECT_EQ(wild::read_lifted_npz(dir + "/moving.npz").trajectory, s.trajectory);

  wild::write_lifted(dir + "/moving.csv", s);
  const std::string csv = test::read_text(dir + "/moving.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_NE(header.find(",trajectory_x,trajectory_y,trajectory_z"), std::string::npos) << header;
  const std::string second = csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n') - 1);
  EXPECT_NE(second.find(",0.100000,-0.200000,4.500000"), std::string::npos) << second;
  EXPECT_EQ(second.rfind(",4.500000"), second.size() - 9) << second;  // the trajectory closes the row

  wild::write_lifted(dir + "/moving.json", s);
  const std::string json = test::read_text(dir + "/moving.json");
  EXPECT_NE(json.find("\"trajectory\":[0.15"), std::string::npos);

  s.trajectory.pop_back();  // one value short: a programming error, not a file problem
  EXPECT_THROW(wild::write_lifted(dir + "/short.npz", s), std::logic_error);
}
