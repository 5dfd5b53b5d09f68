#include <gtest/gtest.h>

#include <iostream>

#include "data/summary.hpp"
#include "test_data_support.hpp"

namespace poselift::data {
namespace {

bool has_line_containing(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

TEST(DataSummary, DescribesDatasetAndKeypoints) {
  POSELIFT_REQUIRE_FIXTURE(data_dir, "poseformer-f81");
  const MocapDataset dataset = load_dataset("h36m", data_dir, "noisy");
  const Keypoints keypoints = load_keypoints(dataset, data_dir, "noisy");
  const std::vector<std::string> lines = summarize(dataset, &keypoints);
  for (const std::string& line : lines) std::cout << line << "\n";
  EXPECT_TRUE(has_line_containing(lines, "Dataset h36m: "));
  EXPECT_TRUE(has_line_containing(lines, "skeleton: 17 joints, parents [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15]"));
  EXPECT_TRUE(has_line_containing(lines, "fps: 50"));
  EXPECT_TRUE(has_line_containing(lines, "4 subjects (S1, S5, S9, S11), 18 actions"));
  EXPECT_TRUE(has_line_containing(lines, "S9: 4 actions, 282 mocap frames, 4 cameras [54138969 1000x1002"));
  EXPECT_TRUE(has_line_containing(lines, "Walking (60), Walking 1 (67), Sitting (74), Greeting (81)"));
  EXPECT_TRUE(has_line_containing(lines, "17 joints, layout h36m, symmetry left [4, 5, 6, 11, 12, 13], right [1, 2, 3, 14, 15, 16]"));
  EXPECT_TRUE(has_line_containing(lines, "S9: 4 actions, 4 cameras, 1128 frames"));

  const std::vector<std::string> without_keypoints = summarize(dataset);
  EXPECT_FALSE(has_line_containing(without_keypoints, "Keypoints"));
}

}  // namespace
}  // namespace poselift::data
