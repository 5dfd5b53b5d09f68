// The render command: infer results to GIF + HTML, bad input (exit 2, no partial output), and
// the original's --render on data the project makes (prepare synthetic) with --viz-export.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "engine/evaluate.hpp"
#include "engine/predict.hpp"
#include "io/npy.hpp"
#include "io/zip_archive.hpp"
#include "model/checkpoint.hpp"
#include "render/video.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {
std::string cli() { return POSELIFT_CLI; }
}  // namespace

namespace {

// An infer result in the documented layout: a standing person 1 m in front of the camera.
void write_infer_result(const std::string& path, std::int64_t T, bool with_frames = true) {
  std::vector<float> positions, keypoints, scores;
  std::vector<std::int64_t> frames;
  for (std::int64_t t = 0; t < T; ++t) {
    for (int j = 0; j < 17; ++j) {
      // Camera space: y down, so joints above the root have negative y.
      const float y = j == 0 ? 0.f : (j <= 6 ? 0.4f : -0.5f) - 0.02f * j;
      const float x = (j % 3 - 1) * 0.15f;
      positions.insert(positions.end(), {x, y, 0.f});
      keypoints.insert(keypoints.end(), {320 + x * 400, 240 + y * 400});
      scores.push_back(0.9f);
    }
    frames.push_back(t);
  }
  std::vector<io::NpzMember> members = {
      {"positions_3d", io::NdArray::from_vector<float>({T, 17, 3}, positions), nullptr},
      {"keypoints_2d", io::NdArray::from_vector<float>({T, 17, 2}, keypoints), nullptr},
      {"scores", io::NdArray::from_vector<float>({T, 17}, scores), nullptr},
      {"image_size", io::NdArray::from_vector<std::int64_t>({2}, {640, 480}), nullptr}};
  if (with_frames) members.push_back({"frames", io::NdArray::from_vector<std::int64_t>({T}, frames), nullptr});
  io::write_npz(path, members);
}

}  // namespace

TEST(RenderCli, InferResultToGifAndHtml) {
  const auto dir = test::temp_dir("render_cli_ok");
  write_infer_result(dir + "/result.npz", 8);
  std::string out;
  ASSERT_EQ(test::run_command(cli() + " render --input " + dir + "/result.npz --out " + dir + "/out.gif --viz-size 2 --html " +
                                  dir + "/player.html",
                              &out),
            0)
      << out;
  render::VideoReader reader(dir + "/out.gif");
  EXPECT_EQ(reader.width(), 320);  // 2 panels of 2 * 80 px
  render::Image frame;
  int frames = 0;
  while (reader.next(frame)) ++frames;
  EXPECT_EQ(frames, 8);
  const std::string html = test::read_text(dir + "/player.html");
  EXPECT_NE(html.find("\"frames\":8"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "the page must not reference the network";
  // The player shows the frames the video would: every 2nd, at most 3.
  ASSERT_EQ(test::run_command(cli() + " render --input " + dir + "/result.npz --html " + dir +
                                  "/short.html --viz-downsample 2 --viz-limit 3",
                              &out),
            0)
      << out;
  EXPECT_NE(test::read_text(dir + "/short.html").find("\"frames\":3"), std::string::npos);
}

TEST(RenderCli, BadInputExitsTwoWithoutOutput) {
  const auto dir = test::temp_dir("render_cli_bad");
  write_infer_result(dir + "/result.npz", 4);
  write_infer_result(dir + "/no_frames.npz", 4, /*with_frames=*/false);
  io::write_file_atomic(dir + "/broken.mp4", "not a video");
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"--input " + dir + "/no_frames.npz --out " + dir + "/out.mp4", "missing member 'frames'"},
      {"--input " + dir + "/result.npz --out " + dir + "/out.mp4 --video " + dir + "/broken.mp4", "broken.mp4"},
      {"--input " + dir + "/result.npz --video " + dir + "/absent.mp4 --out " + dir + "/out.mp4", "absent.mp4"},
      {"--input " + dir + "/result.npz --out " + dir + "/out.avi", "unsupported output format '.avi'"},
      {"--input " + dir + "/absent.npz --out " + dir + "/out.mp4", "absent.npz: no such file"},
  };
  for (const auto& c : cases) {
    std::string out;
    EXPECT_EQ(test::run_command(cli() + " render " + c.args, &out), 2) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename());
    EXPECT_EQ(files.size(), 3u) << "partial output left by: " << c.args;
  }
}

TEST(RenderCli, OriginalRenderOnProjectDataExportsThePrediction) {
  // Data and checkpoint the project makes itself: `prepare synthetic` and a 9-frame PoseFormer.
  const auto dir = test::temp_dir("render_original");
  const std::string data = dir + "/data";
  std::string out;
  ASSERT_EQ(test::run_command(cli() + " prepare synthetic --out " + data + " --seconds 2", &out), 0) << out;
  fs::create_directories(dir + "/checkpoint");
  {
    model::PoseFormerConfig config;
    config.num_frames = 9;
    config.embed_dim_ratio = 8;
    config.depth = 1;
    config.num_heads = 2;
    torch::manual_seed(3);
    model::PoseFormer net(config);
    model::CheckpointContents contents;
    contents.model = net.get();
    model::write_checkpoint(dir + "/checkpoint/model.bin", contents);
  }
  ASSERT_EQ(test::run_command("cd " + dir + " && " + cli() + " -d synthetic -k gt --data-dir " + data +
                                  " -c checkpoint --evaluate model.bin --heads 2 --render "
                                  "--viz-subject S11 --viz-action Walking --viz-camera 1 --viz-output out.mp4 "
                                  "--viz-limit 20 --viz-size 3 --viz-export pred.npy --threads 1",
                              &out),
            0)
      << out;
  // The export equals the prediction of the same sequence computed here.
  auto dataset = data::load_dataset("synthetic", data, "gt");
  auto keypoints = data::load_keypoints(dataset, data, "gt");
  auto net = model::load_poseformer(dir + "/checkpoint/model.bin", 2, true);
  net->eval();
  const auto input = data::xy_channels(keypoints.action("S11", "Walking").cameras[1]);
  auto expected = engine::predict_sequence(*net, model::to_tensor(input), engine::flip_symmetry(dataset, keypoints),
                                           {}, torch::kCPU);
  const auto exported = io::read_npy(dir + "/pred.npy").array;
  ASSERT_EQ(exported.dtype, io::DType::Float32);
  ASSERT_EQ(exported.shape, (std::vector<std::int64_t>{input.shape[0], 17, 3}));
  auto got = model::to_tensor(exported);
  EXPECT_LT((got - expected).abs().max().item<float>(), 1e-5);

  render::VideoReader reader(dir + "/out.mp4");
  EXPECT_EQ(reader.codec_name(), "h264");
  EXPECT_EQ(reader.width(), 900);  // input, reconstruction, ground truth: 3 panels of 300 px
  EXPECT_EQ(reader.height(), 300);
  render::Image frame;
  int frames = 0;
  while (reader.next(frame)) ++frames;
  EXPECT_EQ(frames, 20);
}
