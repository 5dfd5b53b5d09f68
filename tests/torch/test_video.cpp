// `poselift video` end to end: an MP4 made here from a real photograph (pans and zooms over
// python3-skimage's astronaut, written by poselift's own FFmpeg writer), detected by BlazePose,
// lifted by the repository's small mocap-trained PoseFormer and written as BVH, with the 2D
// saved as COCO JSON that `infer` reads back; the built-in lifter as the default; two people
// side by side; and the errors a user meets.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "detector/blazepose.hpp"
#include "io/npy.hpp"
#include "render/video.hpp"
#include "test_support.hpp"

namespace poselift {
namespace {

namespace fs = std::filesystem;
const std::string kPhotos = "/usr/lib/python3/dist-packages/skimage/data/";
std::string cli() { return POSELIFT_CLI; }
std::string checkpoint() { return std::string(POSELIFT_SOURCE_DIR) + "/tests/data/wild/poseformer_mocap_f27.bin"; }
std::string models() { return fs::is_directory(POSELIFT_MODELS_DIR) ? POSELIFT_MODELS_DIR : ""; }

render::Image to_image(const torch::Tensor& nhwc) {
  const torch::Tensor rgb = nhwc[0].clamp(0, 255).round().to(torch::kByte).contiguous();
  render::Image image(static_cast<int>(rgb.size(1)), static_cast<int>(rgb.size(0)));
  const std::uint8_t* p = rgb.data_ptr<std::uint8_t>();
  for (std::size_t i = 0; i < static_cast<std::size_t>(image.width) * image.height; ++i) {
    image.pixels[4 * i] = p[3 * i + 2];
    image.pixels[4 * i + 1] = p[3 * i + 1];
    image.pixels[4 * i + 2] = p[3 * i];
  }
  return image;
}

// python3-skimage's photograph as a detector frame.
detector::Frame astronaut() {
  render::VideoReader reader(kPhotos + "astronaut.png");
  render::Image photo;
  reader.next(photo);
  const torch::Tensor bgrx = torch::from_blob(photo.pixels.data(), {photo.height, photo.width, 4}, torch::kByte);
  return detector::make_frame(torch::stack({bgrx.select(2, 2), bgrx.select(2, 1), bgrx.select(2, 0)}, 2).clone());
}

// 40 frames at 25 fps: the camera pans across the astronaut and zooms in.
std::string make_clip(const std::string& dir) {
  const detector::Frame frame = astronaut();
  const std::string path = dir + "/astronaut.mp4";
  render::VideoWriter writer(path, 320, 320, 25.0);
  for (int i = 0; i < 40; ++i) {
    const float t = i / 39.0f;
    detector::RotatedRect view;
    view.width = view.height = 1.0f - 0.25f * t;
    view.x_center = 0.5f + 0.1f * std::sin(6.2832f * t);
    view.y_center = 0.5f - 0.05f * t;
    writer.write(to_image(detector::crop_region(frame, view, 320, false)));
  }
  writer.finish();
  return path;
}

// 20 frames at 25 fps, 640x320: two astronauts side by side (the photograph's two crops), the
// right one drifting and growing.
std::string make_two_people_clip(const std::string& dir) {
  const detector::Frame frame = astronaut();
  const std::string path = dir + "/two.mp4";
  render::VideoWriter writer(path, 640, 320, 25.0);
  for (int i = 0; i < 20; ++i) {
    detector::RotatedRect left, right;
    right.width = right.height = 1.0f - 0.01f * i;
    right.x_center = 0.5f + 0.004f * i;
    const torch::Tensor both =
        torch::cat({detector::crop_region(frame, left, 320, false), detector::crop_region(frame, right, 320, false)}, 2);
    writer.write(to_image(both));
  }
  writer.finish();
  return path;
}

#define POSELIFT_REQUIRE_VIDEO_TOOLS()                                                                 \
  if (models().empty()) GTEST_SKIP() << "BlazePose models not installed (scripts/setup.sh installs them)"; \
  if (!fs::exists(kPhotos + "astronaut.png")) GTEST_SKIP() << "python3-skimage's photographs absent"

TEST(Video, ClipToBvhAndCocoKeypoints) {
  POSELIFT_REQUIRE_VIDEO_TOOLS();
  const std::string dir = test::temp_dir("video_clip");
  const std::string clip = make_clip(dir);
  std::string out;
  ASSERT_EQ(test::run_command(cli() + " video " + clip + " --no-progress --detector lite --models " + models() +
                                  " --checkpoint " + checkpoint() + " --out " + dir + "/motion.bvh --keypoints-out " +
                                  dir + "/keypoints.json",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("40 frames, a person in 40 (1 detector run)"), std::string::npos) << out;
  const std::string bvh = test::read_text(dir + "/motion.bvh");
  EXPECT_NE(bvh.find("Frames: 40"), std::string::npos);
  EXPECT_NE(bvh.find("Frame Time: 0.04"), std::string::npos) << "the video's 25 fps";
  const nlohmann::json keypoints = nlohmann::json::parse(test::read_text(dir + "/keypoints.json"));
  ASSERT_EQ(keypoints.size(), 40u);
  ASSERT_EQ(keypoints[0]["keypoints"].size(), 51u);
  // COCO's nose above its shoulders, the person's left shoulder on the image's right.
  const auto& k = keypoints[10]["keypoints"];
  EXPECT_LT(k[1].get<double>(), k[5 * 3 + 1].get<double>());
  EXPECT_GT(k[5 * 3].get<double>(), k[6 * 3].get<double>());
  // Drawn over the video's own frames, and the HTML player.
  ASSERT_EQ(test::run_command(cli() + " video " + clip + " --no-progress --detector lite --models " + models() +
                                  " --checkpoint " + checkpoint() + " --out " + dir + "/motion.npz --render " + dir +
                                  "/drawn.mp4 --html " + dir + "/player.html",
                              &out),
            0)
      << out;
  render::VideoReader drawn(dir + "/drawn.mp4");
  render::Image image;
  int frames = 0;
  while (drawn.next(image)) ++frames;
  EXPECT_EQ(frames, 40);
  EXPECT_TRUE(fs::exists(dir + "/player.html"));
  // The saved 2D is a COCO file infer reads.
  ASSERT_EQ(test::run_command(cli() + " infer --no-progress --checkpoint " + checkpoint() + " --input " + dir +
                                  "/keypoints.json --min-confidence 0 --width 320 --height 320 --out " + dir + "/again.npz",
                              &out),
            0)
      << out;
}

// A numbered image sequence is a video (FFmpeg's image2 pattern); it may start at 1.
TEST(Video, NumberedImagesAreAVideo) {
  POSELIFT_REQUIRE_VIDEO_TOOLS();
  const std::string dir = test::temp_dir("video_images");
  for (int i = 1; i <= 12; ++i) fs::copy_file(kPhotos + "astronaut.png", fmt::format("{}/frame{:02d}.png", dir, i));
  std::string out;
  const std::string base = cli() + " video --no-progress --detector lite --models " + models() + " --checkpoint " +
                           checkpoint() + " --out " + dir + "/motion.npz ";
  ASSERT_EQ(test::run_command(base + dir + "/frame%02d.png", &out), 0) << out;
  EXPECT_NE(out.find("12 frames, a person in 12"), std::string::npos) << out;
  EXPECT_EQ(io::read_npz(dir + "/motion.npz").at("positions_3d", "motion").array.shape[0], 12);
  for (const char* missing : {"/frame%03d.png", "/other%02d.png"}) {
    EXPECT_EQ(test::run_command(base + dir + missing, &out), 2) << out;
    EXPECT_NE(out.find("no image of this sequence found"), std::string::npos) << out;
  }
  EXPECT_EQ(test::run_command(base + dir + "/frame%s.png", &out), 2) << out;
  EXPECT_NE(out.find("video not found"), std::string::npos) << out;
}

// Without --checkpoint the lifter compiled into poselift lifts the clip (a fresh install).
TEST(Video, BuiltinLifterIsTheDefault) {
  POSELIFT_REQUIRE_VIDEO_TOOLS();
  const std::string dir = test::temp_dir("video_builtin");
  const std::string clip = make_clip(dir);
  std::string out;
  ASSERT_EQ(test::run_command(cli() + " video " + clip + " --no-progress --detector lite --models " + models() +
                                  " --out " + dir + "/motion.npz",
                              &out),
            0)
      << out;
  const auto npz = io::read_npz(dir + "/motion.npz");
  const auto pose = npz.at("positions_3d", "motion.npz").array;
  ASSERT_EQ(pose.shape, (std::vector<std::int64_t>{40, 17, 3}));
  // An adult's upper body (the photograph shows no legs): in camera space (y down) the head
  // (joint 10) 0.4-0.8 m above the pelvis, shoulders (11, 14) 0.2-0.5 m apart.
  const auto p = pose.to_floats();
  EXPECT_GT(-p[10 * 3 + 1], 0.4) << out;
  EXPECT_LT(-p[10 * 3 + 1], 0.8) << out;
  const double shoulders = std::hypot(p[11 * 3] - p[14 * 3], p[11 * 3 + 1] - p[14 * 3 + 1], p[11 * 3 + 2] - p[14 * 3 + 2]);
  EXPECT_GT(shoulders, 0.2) << out;
  EXPECT_LT(shoulders, 0.5) << out;
}

// Two people: --people 2 tracks both, --person all writes one file per track; the default
// follows one person only.
TEST(Video, SeveralPeopleAreTrackedAndLiftedEach) {
  POSELIFT_REQUIRE_VIDEO_TOOLS();
  const std::string dir = test::temp_dir("video_two");
  const std::string clip = make_two_people_clip(dir);
  std::string out;
  ASSERT_EQ(test::run_command(cli() + " video " + clip + " --no-progress --detector lite --models " + models() +
                                  " --person all --out " + dir + "/motion.npz --keypoints-out " + dir + "/k.json",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("2 people tracked"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir + "/motion.track0.npz")) << out;
  EXPECT_TRUE(fs::exists(dir + "/motion.track1.npz")) << out;
  EXPECT_FALSE(fs::exists(dir + "/motion.track2.npz")) << out;
  // Each frame: one person in each half of the picture.
  const nlohmann::json keypoints = nlohmann::json::parse(test::read_text(dir + "/k.json"));
  ASSERT_EQ(keypoints.size(), 40u) << out;
  // The nose (COCO 0) tells which half a person is in.
  int left = 0, right = 0;
  for (const auto& result : keypoints) (result["keypoints"][0].get<double>() < 320 ? left : right)++;
  EXPECT_EQ(left, 20);
  EXPECT_EQ(right, 20);
  ASSERT_EQ(test::run_command(cli() + " video " + clip + " --no-progress --detector lite --models " + models() +
                                  " --out " + dir + "/one.npz --keypoints-out " + dir + "/one.json",
                              &out),
            0)
      << out;
  EXPECT_EQ(nlohmann::json::parse(test::read_text(dir + "/one.json")).size(), 20u);
  EXPECT_EQ(test::run_command(cli() + " video " + clip + " --no-progress --models " + models() + " --people 0 --out " +
                                  dir + "/x.npz",
                              &out),
            2);
  EXPECT_NE(out.find("--people: expected 1 to 64, found 0"), std::string::npos) << out;
}

TEST(Video, ClearErrors) {
  const std::string dir = test::temp_dir("video_errors");
  std::string out;
  const std::string base = cli() + " video --no-progress --checkpoint " + checkpoint() + " --out " + dir + "/m.bvh ";
  EXPECT_EQ(test::run_command(base + dir + "/absent.mp4", &out), 2) << out;
  EXPECT_NE(out.find("absent.mp4: video not found"), std::string::npos) << out;
  std::ofstream(dir + "/text.mp4") << "not a video\n";
  EXPECT_EQ(test::run_command(base + "--models /nonexistent " + dir + "/text.mp4", &out), 2) << out;
  EXPECT_NE(out.find("scripts/setup.sh installs them"), std::string::npos) << out;
  if (models().empty()) return;
  EXPECT_EQ(test::run_command(base + "--models " + models() + " " + dir + "/text.mp4", &out), 2) << out;
  EXPECT_NE(out.find("text.mp4"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(base + "--models " + models() + " --keypoints-out " + dir + "/k.txt " + dir + "/text.mp4", &out), 2);
  EXPECT_NE(out.find("--keypoints-out"), std::string::npos) << out;
  EXPECT_EQ(test::run_command(base + "--models " + models() + " --detector medium " + dir + "/text.mp4", &out), 2);
  EXPECT_NE(out.find("--detector"), std::string::npos) << out;
  if (fs::exists(kPhotos + "coffee.png")) {
    // A still of a cup decodes as a one-frame video without a person.
    EXPECT_EQ(test::run_command(base + "--models " + models() + " --detector lite " + kPhotos + "coffee.png", &out), 2);
    EXPECT_NE(out.find("BlazePose found no person in any of its 1 frames"), std::string::npos) << out;
  }
  EXPECT_EQ(test::run_command(base + "--render " + dir + "/r.mp4 " + dir + "/text.mp4", &out), 2);
  EXPECT_NE(out.find("give --out a .npz file"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir + "/m.bvh")) << "no output after an error";
}

}  // namespace
}  // namespace poselift
