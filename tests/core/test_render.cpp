// Rendering without LibTorch: figure pixels against hand-computed projections, MP4/GIF written
// and decoded back with libav*, bad outputs and videos, the HTML player in headless Chromium.
#include <cairo.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "io/error.hpp"
#include "io/zip_archive.hpp"
#include "render/figure.hpp"
#include "render/html_player.hpp"
#include "render/video.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

// cairo's text drawing caches fonts in fontconfig for the process's lifetime; releasing them at
// the end keeps LeakSanitizer (the ASan run) quiet. FcFini comes in through cairo, so it is
// looked up rather than linked.
class ReleaseFontCaches : public ::testing::Environment {
 public:
  void TearDown() override {
    cairo_debug_reset_static_data();
    if (auto fini = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "FcFini"))) fini();
  }
};
const auto* const kReleaseFontCaches = ::testing::AddGlobalTestEnvironment(new ReleaseFontCaches);

// Three joints: root, a right "arm" reaching +x, a left one reaching -x; they stand still
// (root at height 0.85 m) for T frames, except that the right joint rises 1 cm per frame.
render::FigureInput tee_pose(std::int64_t T) {
  render::FigureInput in;
  in.parents = {-1, 0, 0};
  in.joints_right = {1};
  in.keypoints_right = {1};
  in.frames = T;
  in.joints = in.keypoint_count = 3;
  in.viewport_width = 1000;
  in.viewport_height = 500;
  in.azimuth = -90;
  in.elevation = 0;
  in.fps = 50;
  std::vector<float> pose;
  for (std::int64_t t = 0; t < T; ++t) {
    const float lift = 0.01f * t;
    const float p[9] = {0, 0, 0.85f, 0.5f, 0, 0.85f + lift, -0.5f, 0, 0.85f};
    pose.insert(pose.end(), p, p + 9);
    const float k[6] = {500, 250, 700, 250, 300, 250};
    in.keypoints.insert(in.keypoints.end(), k, k + 6);
  }
  in.tracks.push_back({"Reconstruction", pose});
  return in;
}

bool is_red(const std::array<int, 3>& c) { return c[0] > 170 && c[1] < 90 && c[2] < 90; }
bool is_black(const std::array<int, 3>& c) { return c[0] < 80 && c[1] < 80 && c[2] < 80; }
bool is_white(const std::array<int, 3>& c) { return c[0] > 245 && c[1] > 245 && c[2] > 245; }

}  // namespace

TEST(RenderFigure, ProjectionMatchesHandComputedView) {
  auto in = tee_pose(1);
  render::FigureRenderer r(in, 200);
  ASSERT_EQ(r.width(), 400);
  ASSERT_EQ(r.height(), 200);
  // Panel 200: title band round(0.08 * 200) = 16 px, drawing area 184 px, scale 184 / (1.7 * 1.5)
  // px per metre; the root (0, 0) at height radius / 2 = 0.85 is the centre of panel 1.
  const double scale = 184 / 2.55;
  auto centre = r.project(0, 0, {0, 0, 0.85});
  EXPECT_NEAR(centre[0], 300, 1e-9);
  EXPECT_NEAR(centre[1], 16 + 92, 1e-9);
  // Azimuth -90, elevation 0: looking along +y, so +x is screen right and z is screen up.
  auto p = r.project(0, 0, {0.5, 0.3, 1.35});
  EXPECT_NEAR(p[0], 300 + 0.5 * scale, 1e-9);
  EXPECT_NEAR(p[1], 108 - 0.5 * scale, 1e-9);
  // Azimuth 0, elevation 90: seen from above with the eye's horizontal direction +x (the eye
  // comes from +x), so +y is screen right and +x, towards the viewer, screen down.
  in.azimuth = 0;
  in.elevation = 90;
  auto q = r.project(0, 0, {0.2, 0.4, 0.0});
  EXPECT_NEAR(q[0], 300 + 0.4 * scale, 1e-9);
  EXPECT_NEAR(q[1], 108 + 0.2 * scale, 1e-9);
  // 2D panel: the 1000x500 image scaled by 0.2 into 200 x 100 px, centred in the area.
  auto k = r.image_to_panel(500, 250);
  EXPECT_NEAR(k[0], 100, 1e-9);
  EXPECT_NEAR(k[1], 16 + 42 + 50, 1e-9);
}

TEST(RenderFigure, BonesJointsAndBackgroundWhereExpected) {
  auto in = tee_pose(1);
  render::FigureRenderer r(in, 200);
  render::Image out;
  r.draw(0, nullptr, out);
  const double scale = 184 / 2.55;
  // Right bone from the root (300, 108) to (300 + 0.5 scale, 108): red; left bone black.
  EXPECT_TRUE(is_red(out.rgb(300 + static_cast<int>(0.25 * scale), 108)));
  EXPECT_TRUE(is_black(out.rgb(300 - static_cast<int>(0.25 * scale), 108)));
  EXPECT_TRUE(is_red(out.rgb(300 + static_cast<int>(std::round(0.5 * scale)), 108)));  // joint dot
  // Above and below the arms: background (the ground grid is the horizon line at z = 0).
  EXPECT_TRUE(is_white(out.rgb(300 + static_cast<int>(0.25 * scale), 60)));
  EXPECT_TRUE(is_white(out.rgb(250, 150)));
  // 2D panel: grey image over y 58..158, the right keypoint (700, 250) -> (140, 108) red,
  // the left (300, 250) -> (60, 108) black, white outside the image.
  EXPECT_TRUE(is_red(out.rgb(140, 108)));
  EXPECT_TRUE(is_black(out.rgb(60, 108)));
  const auto grey = out.rgb(20, 70);
  EXPECT_NEAR(grey[0], 128, 2);
  EXPECT_NEAR(grey[2], 128, 2);
  EXPECT_TRUE(is_white(out.rgb(20, 180)));
}

TEST(RenderVideo, Mp4IsH264WithEveryFrameAndTheDrawing) {
  const auto dir = test::temp_dir("render_mp4");
  auto in = tee_pose(12);
  render::VideoSettings s;
  s.output = dir + "/out.mp4";
  s.size = 2;  // 200 px panels
  std::int64_t calls = 0;
  EXPECT_EQ(render::render_video(in, s, [&](std::int64_t, std::int64_t total) {
              EXPECT_EQ(total, 12);
              ++calls;
            }),
            12);
  EXPECT_EQ(calls, 13);  // once before the first frame, once per frame
  render::VideoReader reader(s.output);
  EXPECT_EQ(reader.codec_name(), "h264");
  EXPECT_EQ(reader.width(), 400);
  EXPECT_EQ(reader.height(), 200);
  EXPECT_NEAR(reader.fps(), 50, 1e-6);
  render::Image frame;
  int frames = 0;
  const double scale = 184 / 2.55;
  while (reader.next(frame)) {
    // The right arm rises 1 cm per frame: its tip follows (lossy codec: loose colour bounds).
    const int tip_x = static_cast<int>(std::lround(300 + 0.5 * scale));
    const int tip_y = static_cast<int>(std::lround(108 - 0.01 * frames * scale));
    bool red = false, red_elsewhere = false;
    for (int dy = -2; dy <= 2; ++dy)
      for (int dx = -2; dx <= 2; ++dx) {
        const auto c = frame.rgb(tip_x + dx, tip_y + dy);
        red = red || (c[0] > 150 && c[1] < 110 && c[2] < 110);
        const auto far = frame.rgb(tip_x + dx, tip_y + dy - 20);  // where the tip is not
        red_elsewhere = red_elsewhere || (far[0] > 150 && far[1] < 110);
      }
    EXPECT_TRUE(red) << "frame " << frames;
    EXPECT_FALSE(red_elsewhere) << "frame " << frames;
    ++frames;
  }
  EXPECT_EQ(frames, 12);
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "out.mp4") << "left behind: " << entry.path();
}

TEST(RenderVideo, GifWithVideoBackgroundSkipLimitAndDownsample) {
  const auto dir = test::temp_dir("render_gif");
  // A 10-frame "camera video": frame i is solid blue with i in the red channel.
  {
    render::VideoWriter video(dir + "/input.mp4", 1000, 500, 25);
    render::Image frame(1000, 500);
    for (int i = 0; i < 10; ++i) {
      for (std::size_t p = 0; p < frame.pixels.size(); p += 4) {
        frame.pixels[p] = 230;
        frame.pixels[p + 1] = 0;
        frame.pixels[p + 2] = static_cast<std::uint8_t>(i * 20);
      }
      video.write(frame);
    }
    video.finish();
  }
  auto in = tee_pose(12);
  render::VideoSettings s;
  s.output = dir + "/out.GIF";
  s.video = dir + "/input.mp4";
  s.size = 3;  // 240 px panels at the GIF's 80 px per inch
  s.video_skip = 3;
  // Poses 3..11 against video frames 3..9: the video ends first, 7 frames.
  EXPECT_EQ(render::render_video(in, s), 7);
  render::VideoReader reader(s.output);
  EXPECT_EQ(reader.codec_name(), "gif");
  EXPECT_EQ(reader.width(), 480);
  EXPECT_EQ(reader.height(), 240);
  render::Image frame;
  int frames = 0;
  while (reader.next(frame)) {
    // Inside the 2D panel's image, away from the keypoints: the video's blue.
    const auto c = frame.rgb(30, 100);
    EXPECT_GT(c[2], 200) << "frame " << frames;
    EXPECT_LT(c[1], 60);
    // 3D panel (240 px: title 19 px, scale 221 / 2.55 px/m, root at (360, 129.5)): the left
    // bone black, the background white, on every frame (no colour drift between frames).
    const double scale = 221 / 2.55;
    EXPECT_TRUE(is_black(frame.rgb(static_cast<int>(360 - 0.25 * scale), 129))) << "frame " << frames;
    EXPECT_TRUE(is_white(frame.rgb(360, 60))) << "frame " << frames;
    EXPECT_TRUE(is_white(frame.rgb(300, 170))) << "frame " << frames;
    ++frames;
  }
  EXPECT_EQ(frames, 7);

  s.limit = 2;
  EXPECT_EQ(render::render_video(in, s), 2);
  s.limit = -1;
  s.video.clear();
  s.video_skip = 0;
  s.downsample = 5;  // poses 0, 5, 10 at 10 fps
  EXPECT_EQ(render::render_video(in, s), 3);
  EXPECT_EQ(render::VideoReader(s.output).fps(), 10);
}

TEST(RenderVideo, BadOutputsAndVideosAreInputErrors) {
  const auto dir = test::temp_dir("render_bad");
  auto in = tee_pose(3);
  render::VideoSettings s;
  s.output = dir + "/out.avi";
  EXPECT_THROW(render::render_video(in, s), InputError);
  s.output = dir + "/out.mp4";
  io::write_file_atomic(dir + "/broken.mp4", "this is not a video");
  s.video = dir + "/broken.mp4";
  try {
    render::render_video(in, s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.mp4"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(s.output));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // only broken.mp4
  in.tracks[0].positions[4] = std::nanf("");
  s.video.clear();
  EXPECT_THROW(render::render_video(in, s), InputError);
}

TEST(RenderHtml, PlayerRunsInHeadlessChromium) {
  std::string chromium;
  for (const char* candidate : {"chromium", "chromium-browser", "google-chrome"})
    if (test::run_command(std::string("command -v ") + candidate + " >/dev/null") == 0) {
      chromium = candidate;
      break;
    }
  if (chromium.empty()) GTEST_SKIP() << "no chromium: the HTML player's self-test needs a headless browser";
  const auto dir = test::temp_dir("render_html");
  auto in = tee_pose(30);
  auto truth = in.tracks[0];
  truth.title = "Ground truth </script> <b>";
  in.tracks.push_back(truth);
  render::write_html_player(dir + "/player.html", in, "test <player>");
  std::string out;
  const int status = test::run_command("timeout 120 " + chromium +
                                           " --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 "
                                           "--dump-dom 'file://" + dir + "/player.html#selftest' 2>/dev/null",
                                       &out);
  ASSERT_EQ(status, 0) << out;
  const std::string open = "<pre id=\"selftest-result\">";
  const auto begin = out.find(open);
  ASSERT_NE(begin, std::string::npos) << "no self-test result in the DOM:\n" << out.substr(0, 2000);
  const auto end = out.find("</pre>", begin);
  const auto result = nlohmann::json::parse(out.substr(begin + open.size(), end - begin - open.size()));
  EXPECT_TRUE(result["errors"].empty()) << result.dump();
  EXPECT_EQ(result["frames"], 30);
  EXPECT_EQ(result["tracks"], 2);
  EXPECT_GT(result["ink"].get<int>(), 200) << "blank canvas";
  EXPECT_GT(result["framesAdvanced"].get<int>(), 0);
  EXPECT_TRUE(result["pixelsChangedByPlaying"].get<bool>());  // the right arm moves
  EXPECT_TRUE(result["pixelsChangedByOrbit"].get<bool>());
  EXPECT_TRUE(result["ok"].get<bool>()) << result.dump();
}

