// The model zoo through the commands: each family's fixture checkpoint (made by its original
// code) evaluated with the original's own command line reproduces the original's printed
// report within 0.01 mm; forward reproduces its forward outputs; the registry names the family
// of a checkpoint that is not the one asked for.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "io/npy.hpp"
#include "test_support.hpp"

using namespace poselift;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The original's report against ours, line by line: the same lines in the same order, figures
// within `tolerance` mm (averages exactly as printed), the checkpoint's path aside. The
// originals' preambles (argparse's Namespace, MixSTE's banner) have no counterpart.
void expect_same_report(const std::string& ours, const std::string& theirs, const std::string& label,
                        double tolerance = 0.01) {
  std::vector<std::string> mine = lines_of(ours), original = lines_of(theirs);
  // Lines before "Loading dataset..." (MixSTE's banner, its command line, CUDA count, argparse's
  // Namespace) have no counterpart.
  while (!original.empty() && original.front() != "Loading dataset...") original.erase(original.begin());
  ASSERT_EQ(mine.size(), original.size()) << label << "\nours:\n" << ours << "\ntheirs:\n" << theirs;
  const std::regex figure(R"(^((?:Protocol #\d|Velocity) Error \(\S+\): )(\S+) mm$)");
  double worst = 0;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    std::smatch a, b;
    if (std::regex_match(mine[i], a, figure) && std::regex_match(original[i], b, figure)) {
      EXPECT_EQ(a[1].str(), b[1].str()) << label << " line " << i;
      const double difference = std::abs(std::stod(a[2].str()) - std::stod(b[2].str()));
      EXPECT_LE(difference, tolerance) << label << " line " << i << ": " << mine[i] << " vs " << original[i];
      worst = std::max(worst, difference);
    } else if (original[i].rfind("Loading checkpoint ", 0) == 0 ||
               original[i].rfind("Loading evaluate checkpoint ", 0) == 0) {  // the path aside
      const std::string prefix = original[i].substr(0, original[i].rfind(' ') + 1);
      EXPECT_EQ(mine[i].rfind(prefix, 0), 0u) << label << " line " << i << ": " << mine[i];
    } else {
      EXPECT_EQ(mine[i], original[i]) << label << " line " << i;
    }
  }
  std::printf("%s: %zu lines as the original's, largest figure difference %.3g mm\n", label.c_str(), mine.size(),
              worst);
}

std::string zoo(const std::string& name) { return test::shared_path("fixtures/zoo/" + name); }

// The original's evaluation command line of a zoo fixture, run by poselift (stdout only).
std::string evaluate_like_the_original(const std::string& fixture, const std::string& keypoints,
                                       const std::string& model_flags, int* status) {
  const std::string root = zoo(fixture);
  std::string out;
  *status = test::run_command(fmt::format("{} -k {} -c {}/checkpoint --evaluate model.bin {} --data-dir {}/data "
                                          "--no-progress 2>/dev/null",
                                          POSELIFT_CLI, keypoints, root, model_flags, root),
                              &out);
  return out;
}

struct ZooCase {
  const char* fixture;
  const char* model_flags;
};

class ZooEvaluation : public ::testing::TestWithParam<ZooCase> {};

TEST_P(ZooEvaluation, OriginalCommandLinePrintsTheOriginalsReport) {
  POSELIFT_REQUIRE_SHARED();
  const ZooCase c = GetParam();
  for (const char* keypoints : {"gt", "noisy"}) {
    int status = 0;
    const std::string ours = evaluate_like_the_original(c.fixture, keypoints, c.model_flags, &status);
    ASSERT_EQ(status, 0) << ours;
    const std::string theirs = test::read_text(zoo(c.fixture) + "/eval_" + keypoints + ".txt");
    expect_same_report(ours, theirs, std::string(c.fixture) + " -k " + keypoints);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ZooEvaluation,
                         ::testing::Values(ZooCase{"videopose3d-f27", "-arc 3,3,3 -ch 64"},
                                           ZooCase{"poseformerv2-f27",
                                                   "-frame 27 -frame-kept 3 -coeff-kept 5 --depth 2 "
                                                   "--embed-dim-ratio 16"},
                                           ZooCase{"mixste-f27", "-f 27 -cs 32 -dep 2"}),
                         [](const auto& info) {
                           std::string name = info.param.fixture;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

// max |a - b| relative to max |b|.
double relative_difference(const io::NdArray& a, const io::NdArray& b) {
  const auto x = a.to_doubles(), y = b.to_doubles();
  EXPECT_EQ(a.shape, b.shape);
  if (x.size() != y.size()) return INFINITY;
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

TEST(ZooForward, EveryFamilyReproducesItsOriginalsOutputsThroughTheCommand) {
  POSELIFT_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("zoo_forward");
  for (const char* fixture : {"videopose3d-f27", "poseformerv2-f27", "mixste-f27"}) {
    const std::string root = zoo(fixture);
    const bool trajectory = std::string(fixture) == "videopose3d-f27";
    const std::string out = dir + "/" + fixture + ".npy", traj = dir + "/" + fixture + "_traj.npy";
    std::string log;
    ASSERT_EQ(test::run_command(fmt::format("{} forward -c {}/checkpoint/model.bin --input {}/forward_input.npy --out "
                                            "{}{} --no-progress",
                                            POSELIFT_CLI, root, root, out, trajectory ? " --trajectory-out " + traj : ""),
                                &log),
              0)
        << log;
    const double pose = relative_difference(io::read_npy(out).array, io::read_npy(root + "/forward_output.npy").array);
    EXPECT_LE(pose, 1e-5) << fixture;
    std::printf("%s: forward output within %.2g of the original's (relative to its scale)\n", fixture, pose);
    if (trajectory) {
      const double root_error =
          relative_difference(io::read_npy(traj).array, io::read_npy(root + "/forward_traj_output.npy").array);
      EXPECT_LE(root_error, 1e-5);
      std::printf("%s: trajectory output within %.2g\n", fixture, root_error);
    }
  }
}

TEST(ZooForward, MotionBERTWithConfidencesAndShortClips) {
  POSELIFT_REQUIRE_SHARED();
  const std::string root = zoo("motionbert-small"), dir = test::temp_dir("zoo_motionbert");
  // The fixture was built with DSTformer's own LayerNorm eps (1e-5), not its scripts' 1e-6, and
  // 4 heads: neither is in the file.
  for (const char* clip : {"forward", "forward_short"}) {
    std::string log;
    const std::string out = fmt::format("{}/{}.npy", dir, clip);
    ASSERT_EQ(test::run_command(fmt::format("{} forward -c {}/checkpoint/model.bin --heads 4 --layer-norm-eps 1e-5 "
                                            "--input {}/{}_input.npy --out {} --no-progress",
                                            POSELIFT_CLI, root, root, clip, out),
                                &log),
              0)
        << log;
    const double error = relative_difference(io::read_npy(out).array, io::read_npy(root + "/" + clip + "_output.npy").array);
    EXPECT_LE(error, 1e-5) << clip;
    std::printf("motionbert-small %s: within %.2g of the original's\n", clip, error);
  }
  // Its scripts' eps (the default) gives another output: the flag is what makes the fixture match.
  std::string log;
  ASSERT_EQ(test::run_command(fmt::format("{} forward -c {}/checkpoint/model.bin --heads 4 --input "
                                          "{}/forward_input.npy --out {}/default_eps.npy --no-progress",
                                          POSELIFT_CLI, root, root, dir),
                              &log),
            0)
      << log;
  EXPECT_GT(relative_difference(io::read_npy(dir + "/default_eps.npy").array,
                                io::read_npy(root + "/forward_output.npy").array),
            1e-5);
}

TEST(ZooRegistry, ACheckpointOfAnotherFamilyGetsOneSentence) {
  POSELIFT_REQUIRE_SHARED();
  std::string out;
  // A MixSTE checkpoint for a PoseFormer (MixSTE shares PoseFormer's Spatial_patch_to_embedding).
  const std::string mixste = zoo("mixste-f27");
  EXPECT_EQ(test::run_command(fmt::format("{} forward --model poseformer -c {}/checkpoint/model.bin --input "
                                          "{}/forward_input.npy --out {}/x.npy",
                                          POSELIFT_CLI, mixste, mixste, test::temp_dir("zoo_mixste")),
                              &out),
            2)
      << out;
  EXPECT_NE(out.find("this is a MixSTE checkpoint (STEblocks.*, TTEblocks.*), not PoseFormer"), std::string::npos) << out;
  EXPECT_LT(out.size(), 600u) << "one sentence, not a list of keys: " << out;
  // A family asked for that the file is not.
  const std::string v2 = zoo("poseformerv2-f27");
  EXPECT_EQ(test::run_command(fmt::format("{} forward --model videopose3d -c {}/checkpoint/model.bin --input "
                                          "{}/forward_input.npy --out {}/y.npy",
                                          POSELIFT_CLI, v2, v2, test::temp_dir("zoo_v2_as_vp3d")),
                              &out),
            2)
      << out;
  EXPECT_NE(out.find("this is a PoseFormerV2 checkpoint (Joint_embedding.*, Freq_embedding.*), not VideoPose3D"),
            std::string::npos)
      << out;
  // PoseFormerV2's window is not in its file: without -f, evaluate says so and names the flag.
  int status = 0;
  out = evaluate_like_the_original("poseformerv2-f27", "gt", "--no-progress 2>&1", &status);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("does not store its window length"), std::string::npos) << out;
  EXPECT_NE(out.find("-f"), std::string::npos) << out;
}

TEST(ZooInfo, DescribesEachFamily) {
  POSELIFT_REQUIRE_SHARED();
  std::string out;
  ASSERT_EQ(test::run_command(fmt::format("{} info {}/checkpoint/model.bin", POSELIFT_CLI, zoo("videopose3d-f27")), &out),
            0)
      << out;
  EXPECT_NE(out.find("model: VideoPose3D, receptive field 27 frames"), std::string::npos) << out;
  EXPECT_NE(out.find("trajectory model: yes"), std::string::npos) << out;
  EXPECT_NE(out.find("parameters: 43251"), std::string::npos) << out;
  ASSERT_EQ(test::run_command(fmt::format("{} info -f 27 {}/checkpoint/model.bin", POSELIFT_CLI, zoo("poseformerv2-f27")),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("model: PoseFormerV2, 27 frames (3 kept, 5 DCT coefficients)"), std::string::npos) << out;
}

}  // namespace
