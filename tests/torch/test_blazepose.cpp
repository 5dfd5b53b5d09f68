// The BlazePose pipeline: its geometric steps against values computed by hand from MediaPipe's
// calculator definitions (anchors, decoding, weighted suppression, the alignment ROI, the
// letterbox, rotated crops), then the real models on real photographs (Debian's python3-skimage
// data) with checks a person's anatomy makes independent of any implementation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "detector/blazepose.hpp"
#include "io/error.hpp"
#include "render/video.hpp"
#include "test_support.hpp"

namespace poselift::detector {
namespace {

constexpr float kPi = 3.14159265f;

TEST(BlazePose, AnchorsFollowTheDetectorsGrid) {
  const std::vector<Anchor> anchors = pose_detector_anchors();
  ASSERT_EQ(anchors.size(), 2254u);  // the detector's output rows
  // Stride 8: a 28x28 grid, 2 anchors per cell, row by row.
  EXPECT_FLOAT_EQ(anchors[0].x_center, 0.5f / 28);
  EXPECT_FLOAT_EQ(anchors[1].x_center, 0.5f / 28);
  EXPECT_FLOAT_EQ(anchors[2].x_center, 1.5f / 28);
  EXPECT_FLOAT_EQ(anchors[56].y_center, 1.5f / 28);
  // Stride 16 from 1568 (14x14x2); stride 32 from 1960 with 6 per cell (three layers share it).
  EXPECT_FLOAT_EQ(anchors[1568].x_center, 0.5f / 14);
  EXPECT_FLOAT_EQ(anchors[1570].x_center, 1.5f / 14);
  EXPECT_FLOAT_EQ(anchors[1960].x_center, 0.5f / 7);
  EXPECT_FLOAT_EQ(anchors[1965].x_center, 0.5f / 7);
  EXPECT_FLOAT_EQ(anchors[1966].x_center, 1.5f / 7);
  EXPECT_FLOAT_EQ(anchors[2253].x_center, 6.5f / 7);
  EXPECT_FLOAT_EQ(anchors[2253].y_center, 6.5f / 7);
}

TEST(BlazePose, DecodesBoxesKeypointsAndScores) {
  const std::vector<Anchor> anchors = {{0.25f, 0.5f}, {0.75f, 0.5f}};
  std::vector<float> boxes(24, 0.0f);
  // Anchor 0: centre moved by (22.4, -11.2) input pixels = (0.1, -0.05); size 44.8 x 89.6 px.
  const float raw[12] = {22.4f, -11.2f, 44.8f, 89.6f, 0, 0, 11.2f, 22.4f, -22.4f, 0, 0, -44.8f};
  std::copy(raw, raw + 12, boxes.begin());
  const std::vector<float> scores = {2.0f, -1.0f};  // sigmoid: 0.881, 0.269
  const auto found = decode_detections(boxes.data(), scores.data(), anchors, 0.5f);
  ASSERT_EQ(found.size(), 1u);
  const PersonDetection& d = found[0];
  EXPECT_NEAR(d.score, 1 / (1 + std::exp(-2.0f)), 1e-6);
  EXPECT_NEAR(d.xmin, 0.35f - 0.1f, 1e-6);
  EXPECT_NEAR(d.ymin, 0.45f - 0.2f, 1e-6);
  EXPECT_NEAR(d.width, 0.2f, 1e-6);
  EXPECT_NEAR(d.height, 0.4f, 1e-6);
  EXPECT_NEAR(d.keypoints[0].x, 0.25f, 1e-6);
  EXPECT_NEAR(d.keypoints[1].x, 0.30f, 1e-6);
  EXPECT_NEAR(d.keypoints[1].y, 0.60f, 1e-6);
  EXPECT_NEAR(d.keypoints[2].x, 0.15f, 1e-6);
  EXPECT_NEAR(d.keypoints[3].y, 0.30f, 1e-6);
  EXPECT_EQ(decode_detections(boxes.data(), scores.data(), anchors, 0.2f).size(), 2u - 1u)
      << "the second anchor's box has zero size and is dropped";
}

TEST(BlazePose, WeightedSuppressionAveragesOverlappingBoxes) {
  PersonDetection a, b, c;
  a.score = 0.9f, a.xmin = 0.1f, a.ymin = 0.1f, a.width = 0.4f, a.height = 0.4f;
  b.score = 0.6f, b.xmin = 0.2f, b.ymin = 0.1f, b.width = 0.4f, b.height = 0.4f;  // IoU 0.6 with a
  c.score = 0.7f, c.xmin = 0.6f, c.ymin = 0.6f, c.width = 0.3f, c.height = 0.3f;  // apart
  a.keypoints[0] = {0.3f, 0.3f};
  b.keypoints[0] = {0.4f, 0.3f};
  const auto kept = weighted_non_max_suppression({b, c, a}, 0.3f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_NEAR(kept[0].xmin, (0.9f * 0.1f + 0.6f * 0.2f) / 1.5f, 1e-6);
  EXPECT_NEAR(kept[0].width, 0.4f, 1e-6);
  EXPECT_NEAR(kept[0].keypoints[0].x, (0.9f * 0.3f + 0.6f * 0.4f) / 1.5f, 1e-6);
  EXPECT_FLOAT_EQ(kept[1].score, 0.7f);
  EXPECT_FLOAT_EQ(kept[1].xmin, 0.6f);
}

TEST(BlazePose, AlignmentRoiIsUprightSquareAndScaled) {
  // A 200x100 frame; hips at the centre, the scale point 20 px above: upright, side 2 * 20 * 1.25.
  RotatedRect roi = roi_from_alignment_points({0.5f, 0.5f}, {0.5f, 0.3f}, 200, 100);
  EXPECT_FLOAT_EQ(roi.x_center, 0.5f);
  EXPECT_NEAR(roi.rotation, 0.0f, 1e-6);
  EXPECT_NEAR(roi.width * 200, 50.0f, 1e-4);
  EXPECT_NEAR(roi.height * 100, 50.0f, 1e-4);
  // The scale point to the right (a person lying, head right): rotated a quarter turn.
  roi = roi_from_alignment_points({0.5f, 0.5f}, {0.6f, 0.5f}, 200, 100);
  EXPECT_NEAR(roi.rotation, kPi / 2, 1e-6);
  EXPECT_NEAR(roi.width * 200, 50.0f, 1e-4);
  // Upside down: pi, normalised into [-pi, pi).
  roi = roi_from_alignment_points({0.5f, 0.5f}, {0.5f, 0.7f}, 200, 100);
  EXPECT_NEAR(std::fabs(roi.rotation), kPi, 1e-6);
}

// Regions in a 640x320 frame: a 200-px square at (320, 160) against others, by hand.
TEST(BlazePose, SamePersonComparesCentresAndSizes) {
  auto rect = [](float x, float y, float side) {
    detector::RotatedRect r;
    r.x_center = x / 640;
    r.y_center = y / 320;
    r.width = side / 640;
    r.height = side / 320;
    return r;
  };
  const detector::RotatedRect a = rect(320, 160, 200);
  EXPECT_TRUE(detector::same_person(a, a, 640, 320));
  EXPECT_TRUE(detector::same_person(a, rect(350, 160, 220), 640, 320));   // 30 px < 0.2 x 210
  EXPECT_FALSE(detector::same_person(a, rect(370, 160, 220), 640, 320));  // 50 px > 42
  EXPECT_TRUE(detector::same_person(a, rect(320, 190, 200), 640, 320));   // 30 px < 40, vertical
  EXPECT_FALSE(detector::same_person(a, rect(320, 160, 330), 640, 320));  // sizes 1.65x apart
  EXPECT_TRUE(detector::same_person(a, rect(320, 160, 310), 640, 320));   // 1.55x
  EXPECT_FALSE(detector::same_person(a, rect(320, 160, 0), 640, 320));
}

TEST(BlazePose, LetterboxPadsTheShortSide) {
  std::array<float, 4> pad{};
  RotatedRect roi = letterbox_roi(200, 100, &pad);
  EXPECT_FLOAT_EQ(roi.width, 1.0f);
  EXPECT_FLOAT_EQ(roi.height, 2.0f);
  EXPECT_FLOAT_EQ(pad[1], 0.25f);
  EXPECT_FLOAT_EQ(pad[3], 0.25f);
  EXPECT_FLOAT_EQ(pad[0], 0.0f);
  roi = letterbox_roi(100, 400, &pad);
  EXPECT_FLOAT_EQ(roi.width, 4.0f);
  EXPECT_FLOAT_EQ(pad[0], 0.375f);
}

TEST(BlazePose, CropsRotatedRegions) {
  // An 8x8 frame whose pixel (row, col) holds (row, col, 10 * row + col).
  torch::Tensor rgb = torch::zeros({8, 8, 3}, torch::kByte);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      rgb[r][c][0] = r;
      rgb[r][c][1] = c;
      rgb[r][c][2] = 10 * r + c;
    }
  const Frame frame = make_frame(rgb);
  // The whole frame at its own size: the pixels themselves.
  const torch::Tensor same = crop_region(frame, RotatedRect{}, 8, true);
  EXPECT_TRUE(torch::allclose(same[0], rgb.to(torch::kFloat), 1e-4, 1e-4));
  // A quarter turn: output (i, j) sees frame (row j, col 7 - i).
  RotatedRect turned;
  turned.rotation = kPi / 2;
  const torch::Tensor rotated = crop_region(frame, turned, 8, true);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) ASSERT_NEAR(rotated[0][i][j][2].item<float>(), 10 * j + (7 - i), 1e-3) << i << "," << j;
  // The right half upscaled 2x horizontally: bilinear between columns, edges replicated.
  RotatedRect half;
  half.x_center = 0.75f;
  half.width = 0.5f;
  const torch::Tensor zoomed = crop_region(frame, half, 8, false);
  // Output column j samples x = 4 + (j + 0.5) / 2 (continuous), i.e. pixel coordinate 3.75 + j / 2.
  EXPECT_NEAR(zoomed[0][0][1][1].item<float>(), 4.25f, 1e-4);
  EXPECT_NEAR(zoomed[0][0][7][1].item<float>(), 7.0f, 1e-4);  // 7.25: past the last centre, replicated
  EXPECT_NEAR(zoomed[0][0][0][1].item<float>(), 4.0f - 0.25f, 1e-4);
  // Outside the frame: zeros or the edge.
  RotatedRect outside;
  outside.x_center = 2.0f;
  EXPECT_EQ(crop_region(frame, outside, 4, true).abs().sum().item<float>(), 0.0f);
  EXPECT_GT(crop_region(frame, outside, 4, false).abs().sum().item<float>(), 0.0f);
  EXPECT_THROW(make_frame(torch::zeros({8, 8, 4}, torch::kByte)), InputError);
  EXPECT_THROW(make_frame(torch::zeros({8, 8, 3})), InputError);
}

TEST(BlazePose, NamesMissingModels) {
  try {
    find_model_files("/nonexistent/models", LandmarkModel::Lite);
    ADD_FAILURE() << "a missing folder must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/setup.sh installs them"), std::string::npos) << e.what();
  }
  EXPECT_EQ(landmark_model_from_name("heavy"), LandmarkModel::Heavy);
  EXPECT_THROW(landmark_model_from_name("medium"), InputError);
}

std::string models_folder() {
  return std::filesystem::is_directory(POSELIFT_MODELS_DIR) ? POSELIFT_MODELS_DIR : "";
}

// An RGB uint8 [H, W, 3] tensor of an image file, decoded by FFmpeg.
torch::Tensor read_image(const std::string& path) {
  render::VideoReader reader(path);
  render::Image image;
  if (!reader.next(image)) throw std::runtime_error(path + ": no frame");
  torch::Tensor bgrx = torch::from_blob(image.pixels.data(), {image.height, image.width, 4}, torch::kByte);
  return bgrx.index({torch::indexing::Slice(), torch::indexing::Slice(), torch::tensor({2, 1, 0})}).contiguous();
}

const std::string kPhotos = "/usr/lib/python3/dist-packages/skimage/data/";

TEST(BlazePose, FindsTheAstronaut) {
  const std::string folder = models_folder();
  if (folder.empty()) GTEST_SKIP() << "BlazePose models not installed (scripts/setup.sh installs them with npm)";
  if (!std::filesystem::exists(kPhotos + "astronaut.png")) GTEST_SKIP() << "python3-skimage's photographs absent";
  const Frame frame = make_frame(read_image(kPhotos + "astronaut.png"));
  ASSERT_EQ(frame.width, 512);
  const ModelFiles files = find_model_files(folder, LandmarkModel::Full);
  const PoseDetector detector(files.detector);
  const std::vector<PersonDetection> people = detector.detect(frame);
  ASSERT_GE(people.size(), 1u);
  const PersonDetection& person = people[0];
  // Eileen Collins, upper body, centred horizontally, head near the top.
  EXPECT_GT(person.score, 0.7f);
  const float cx = person.xmin + person.width / 2;
  EXPECT_GT(cx, 0.25f);
  EXPECT_LT(cx, 0.75f);
  // Keypoint 2 (shoulders) above keypoint 0 (hips).
  EXPECT_LT(person.keypoints[2].y, person.keypoints[0].y);

  for (LandmarkModel model : {LandmarkModel::Lite, LandmarkModel::Full, LandmarkModel::Heavy}) {
    const PoseLandmarker landmarker(find_model_files(folder, model).landmark);
    const PoseLandmarks pose = landmarker.run(
        frame, roi_from_alignment_points(person.keypoints[0], person.keypoints[1], frame.width, frame.height));
    const char* name = landmark_model_name(model);
    EXPECT_GT(pose.score, 0.9f) << name;
    const auto& lm = pose.image;
    // Nose above the shoulders, eyes above the nose; the person faces the camera, so her left
    // shoulder (11) is on the image's right of her right shoulder (12).
    EXPECT_LT(lm[0].y, lm[11].y) << name;
    EXPECT_LT(lm[2].y, lm[0].y) << name;
    EXPECT_GT(lm[11].x, lm[12].x) << name;
    EXPECT_GT(lm[0].visibility, 0.9f) << name;
    EXPECT_GT(lm[11].visibility, 0.9f) << name;
    // Shoulder width in the world landmarks: an adult's, 0.25 to 0.5 m.
    const auto& w = pose.world;
    const float shoulders = std::hypot(w[11].x - w[12].x, w[11].y - w[12].y, w[11].z - w[12].z);
    EXPECT_GT(shoulders, 0.25f) << name;
    EXPECT_LT(shoulders, 0.5f) << name;
    for (int i = 0; i < kBodyLandmarks; ++i) {
      EXPECT_TRUE(std::isfinite(lm[i].x) && std::isfinite(lm[i].y) && std::isfinite(lm[i].z)) << name << " " << i;
    }
  }
}

TEST(BlazePose, NoPersonInAnEmptyScene) {
  const std::string folder = models_folder();
  if (folder.empty()) GTEST_SKIP() << "BlazePose models not installed (scripts/setup.sh installs them with npm)";
  if (!std::filesystem::exists(kPhotos + "coffee.png")) GTEST_SKIP() << "python3-skimage's photographs absent";
  const Frame frame = make_frame(read_image(kPhotos + "coffee.png"));
  const PoseDetector detector(find_model_files(folder, LandmarkModel::Lite).detector);
  EXPECT_TRUE(detector.detect(frame).empty());
  PoseTracker tracker(find_model_files(folder, LandmarkModel::Lite), {LandmarkModel::Lite, true, 0.5f});
  EXPECT_FALSE(tracker.process(frame, 0.0).has_value());
}


// --- Parity with MediaPipe's own implementation (pose.js + wasm in headless Chromium) ---

// Writes the parity images into `folder`: the photographs, and the astronaut turned a quarter,
// mirrored, halved, letterboxed into a wide frame, and a 30-frame clip panning and zooming over
// her. Made with Debian's python3 (numpy, PIL); false when they are absent.
bool write_parity_images(const std::string& folder) {
  const std::string python = test::python_with_numpy();
  if (python.empty()) return false;
  const std::string script = folder + "/make.py";
  std::ofstream(script) << R"PY(
import sys, numpy as np
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
astronaut = Image.open(src + '/astronaut.png').convert('RGB')
astronaut.save(out + '/astronaut.png')
Image.open(src + '/camera.png').convert('RGB').save(out + '/camera.png')
astronaut.transpose(Image.Transpose.ROTATE_90).save(out + '/turned.png')
astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out + '/mirrored.png')
astronaut.resize((256, 256), Image.Resampling.BILINEAR).save(out + '/halved.png')
wide = Image.new('RGB', (900, 512), (40, 60, 80)); wide.paste(astronaut, (300, 0)); wide.save(out + '/wide.png')
for i in range(30):
    t = i / 29.0
    side = int(round(512 - 160 * t))
    x0 = int(round((512 - side) * (0.5 + 0.4 * np.sin(2 * np.pi * t))))
    y0 = int(round((512 - side) * 0.3 * t))
    frame = astronaut.crop((x0, y0, x0 + side, y0 + side)).resize((384, 384), Image.Resampling.BILINEAR)
    frame.save(out + '/clip%02d.png' % i)
)PY";
  return test::run_command(python + " " + script + " " + kPhotos + " " + folder) == 0;
}

// MediaPipe's results for `images` of `folder`, cached there (the Chromium runs take minutes; the
// cache is remade when the harness is newer).
nlohmann::json mediapipe_reference(const std::string& folder, int complexity, bool still,
                                   const std::vector<std::string>& images) {
  const std::string harness = std::string(POSELIFT_SOURCE_DIR) + "/tests/blazepose_parity/";
  std::string command = "/usr/bin/python3 " + harness + "run_mediapipe.py " + models_folder() + " " + folder + " " +
                        std::to_string(complexity) + " " + (still ? "1" : "0");
  for (const std::string& image : images) command += " " + image;
  const std::string json_path = folder + "/mediapipe_" + std::to_string(complexity) + (still ? "s" : "v") + "_" +
                                std::to_string(images.size()) + ".json";
  namespace fs = std::filesystem;
  const bool fresh = fs::exists(json_path) &&
                     fs::last_write_time(json_path) > fs::last_write_time(harness + "run_mediapipe.py") &&
                     fs::last_write_time(json_path) > fs::last_write_time(harness + "page.html");
  if (!fresh) {
    std::string output;
    if (test::run_command(command + " > " + json_path + ".part", &output) != 0) {
      ADD_FAILURE() << "MediaPipe in Chromium failed: " << output;
      return {};
    }
    fs::rename(json_path + ".part", json_path);
  }
  return nlohmann::json::parse(test::read_text(json_path));
}

struct Agreement {
  double mean_px = 0;       // landmark distance, in pixels of a 256-pixel tall person
  double max_visibility = 0;
  int frames = 0;
};

// Compares 33 landmarks with MediaPipe's, scaling distances to a 256-pixel person height (the
// vertical extent of MediaPipe's landmarks).
void accumulate(Agreement& agreement, const PoseLandmarks& ours, const nlohmann::json& theirs, int width, int height) {
  double top = 1e9, bottom = -1e9, sum = 0;
  for (int i = 0; i < kBodyLandmarks; ++i) {
    const double y = theirs[i]["y"].get<double>() * height;
    top = std::min(top, y);
    bottom = std::max(bottom, y);
  }
  const double scale = 256.0 / std::max(bottom - top, 1.0);
  for (int i = 0; i < kBodyLandmarks; ++i) {
    const double dx = (ours.image[i].x - theirs[i]["x"].get<double>()) * width;
    const double dy = (ours.image[i].y - theirs[i]["y"].get<double>()) * height;
    sum += std::hypot(dx, dy) * scale;
    agreement.max_visibility = std::max(
        agreement.max_visibility, std::fabs(ours.image[i].visibility - theirs[i]["visibility"].get<double>()));
  }
  agreement.mean_px = (agreement.mean_px * agreement.frames + sum / kBodyLandmarks) / (agreement.frames + 1);
  ++agreement.frames;
}

bool chromium_available() {
  return test::run_command("command -v chromium || command -v chromium-browser || command -v google-chrome") == 0;
}

// MediaPipe's NormalizedRect from its protobuf bytes (the harness exposes the graph's ROI
// streams): fields 1-5 are x_center, y_center, height, width, rotation (fixed32 floats).
std::optional<RotatedRect> rect_from_proto(const nlohmann::json& bytes) {
  if (!bytes.is_array()) return std::nullopt;
  std::vector<std::uint8_t> b = bytes.get<std::vector<std::uint8_t>>();
  RotatedRect rect;
  for (std::size_t i = 0; i < b.size();) {
    const int field = b[i] >> 3, wire = b[i] & 7;
    ++i;
    if (wire == 5 && i + 4 <= b.size()) {
      float value;
      std::memcpy(&value, &b[i], 4);
      i += 4;
      if (field == 1) rect.x_center = value;
      if (field == 2) rect.y_center = value;
      if (field == 3) rect.height = value;
      if (field == 4) rect.width = value;
      if (field == 5) rect.rotation = value;
    } else if (wire == 0) {
      while (i < b.size() && (b[i++] & 0x80)) {
      }
    } else {
      return std::nullopt;
    }
  }
  return rect;
}

struct StillsFixture {
  std::string folder, images;
  std::vector<std::string> names = {"astronaut.png", "camera.png", "turned.png", "mirrored.png",
                                    "halved.png", "wide.png", "clip00.png", "clip10.png", "clip20.png"};
};

// Skips (returns false) when the models, Chromium or the photographs are absent.
bool prepare_stills(StillsFixture& fixture, const std::string& name) {
  fixture.folder = models_folder();
  if (fixture.folder.empty() || !chromium_available() || !std::filesystem::exists(kPhotos + "astronaut.png")) {
    return false;
  }
  // One folder for the three tests (images and MediaPipe's results are reused), made once.
  (void)name;
  fixture.images = std::string(POSELIFT_TEST_TMP) + "/blazepose_parity";
  if (std::filesystem::exists(fixture.images + "/clip29.png")) return true;
  std::filesystem::create_directories(fixture.images);
  return write_parity_images(fixture.images);
}

#define POSELIFT_REQUIRE_PARITY_TOOLS(fixture, name)                                                      \
  if (!prepare_stills(fixture, name))                                                                      \
  GTEST_SKIP() << "needs the BlazePose models (scripts/setup.sh), chromium, python3-skimage's photographs " \
                  "and Debian's python3 with numpy and PIL"

// The landmark stage alone: our crop, model, heatmap refinement and projection on the very region
// MediaPipe cropped, for each model and still.
TEST(BlazePoseParity, LandmarksOnMediaPipesRegionMatch) {
  StillsFixture fixture;
  POSELIFT_REQUIRE_PARITY_TOOLS(fixture, "blazepose_parity_landmarks");
  for (LandmarkModel model : {LandmarkModel::Lite, LandmarkModel::Full, LandmarkModel::Heavy}) {
    const nlohmann::json reference = mediapipe_reference(fixture.images, static_cast<int>(model), true, fixture.names);
    ASSERT_TRUE(reference.contains("frames"));
    const PoseLandmarker landmarker(find_model_files(fixture.folder, model).landmark);
    Agreement agreement;
    for (std::size_t k = 0; k < fixture.names.size(); ++k) {
      const nlohmann::json& theirs = reference["frames"][k];
      const std::optional<RotatedRect> roi = rect_from_proto(theirs["detection_roi"]);
      if (!roi || theirs["landmarks"].is_null()) continue;
      const Frame frame = make_frame(read_image(fixture.images + "/" + fixture.names[k]));
      accumulate(agreement, landmarker.run(frame, *roi), theirs["landmarks"], frame.width, frame.height);
    }
    std::cout << "[parity] " << landmark_model_name(model) << ", MediaPipe's regions, " << agreement.frames
              << " stills: mean " << agreement.mean_px << " px (256-px person), visibility within "
              << agreement.max_visibility << "\n";
    EXPECT_GE(agreement.frames, 6) << landmark_model_name(model);
    EXPECT_LE(agreement.mean_px, 2.0) << landmark_model_name(model);
    EXPECT_LE(agreement.max_visibility, 0.05) << landmark_model_name(model);
  }
}

// The detector stage and the whole still-image pipeline.
TEST(BlazePoseParity, DetectorRegionsAndStillsAgreeWithMediaPipe) {
  StillsFixture fixture;
  POSELIFT_REQUIRE_PARITY_TOOLS(fixture, "blazepose_parity_detector");
  const nlohmann::json reference = mediapipe_reference(fixture.images, 1, true, fixture.names);
  ASSERT_TRUE(reference.contains("frames"));
  const ModelFiles files = find_model_files(fixture.folder, LandmarkModel::Full);
  const PoseDetector detector(files.detector);
  const PoseLandmarker landmarker(files.landmark);
  double worst_center = 0, worst_size = 0, worst_rotation = 0;
  Agreement agreement;
  int compared = 0;
  for (std::size_t k = 0; k < fixture.names.size(); ++k) {
    const nlohmann::json& theirs = reference["frames"][k];
    const std::optional<RotatedRect> expected = rect_from_proto(theirs["detection_roi"]);
    const Frame frame = make_frame(read_image(fixture.images + "/" + fixture.names[k]));
    const std::vector<PersonDetection> people = detector.detect(frame);
    ASSERT_EQ(!people.empty(), expected.has_value()) << fixture.names[k] << ": a person found by one side only";
    if (!expected) continue;
    ++compared;
    const RotatedRect roi =
        roi_from_alignment_points(people[0].keypoints[0], people[0].keypoints[1], frame.width, frame.height);
    const double side = expected->width * frame.width;  // pixels
    const double center = std::hypot((roi.x_center - expected->x_center) * frame.width,
                                     (roi.y_center - expected->y_center) * frame.height) / side;
    const double size = std::fabs(roi.width / expected->width - 1);
    const double rotation = std::fabs(std::remainder(roi.rotation - expected->rotation, 2 * kPi));
    std::cout << "[parity] detector " << fixture.names[k] << ": centre off by " << 100 * center << "% of the side, size "
              << 100 * size << "%, rotation " << rotation << " rad\n";
    worst_center = std::max(worst_center, center);
    worst_size = std::max(worst_size, size);
    worst_rotation = std::max(worst_rotation, rotation);
    const PoseLandmarks pose = landmarker.run(frame, roi);
    if (pose.score >= 0.5f && !theirs["landmarks"].is_null()) {
      accumulate(agreement, pose, theirs["landmarks"], frame.width, frame.height);
    }
  }
  std::cout << "[parity] whole pipeline (full), " << agreement.frames << " stills: mean " << agreement.mean_px
            << " px (256-px person), visibility within " << agreement.max_visibility << "\n";
  EXPECT_GE(compared, 6);
  // Measured against MediaPipe's web build (its detector runs on WebGL): regions within 2% of
  // their side in position, 7% in size, 0.03 rad; the limits leave a little room.
  EXPECT_LE(worst_center, 0.03);
  EXPECT_LE(worst_size, 0.08);
  EXPECT_LE(worst_rotation, 0.03);
  EXPECT_EQ(agreement.frames, compared);
  // Measured: 9.0 px, from the regions' differences on these upper-body photographs (half the
  // body is outside the frame, where the model extrapolates).
  EXPECT_LE(agreement.mean_px, 12.0);
}

TEST(BlazePoseParity, TrackedClipAgreesWithMediaPipe) {
  StillsFixture fixture;
  POSELIFT_REQUIRE_PARITY_TOOLS(fixture, "blazepose_parity_clip");
  std::vector<std::string> names;
  for (int i = 0; i < 30; ++i) names.push_back((i < 10 ? "clip0" : "clip") + std::to_string(i) + ".png");
  const nlohmann::json reference = mediapipe_reference(fixture.images, 0, false, names);
  ASSERT_TRUE(reference.contains("frames"));
  PoseTracker tracker(find_model_files(fixture.folder, LandmarkModel::Lite), {LandmarkModel::Lite, true, 0.5f});
  Agreement agreement;
  int detections = 0, mediapipe_detections = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const Frame frame = make_frame(read_image(fixture.images + "/" + names[k]));
    const std::optional<PoseLandmarks> ours = tracker.process(frame, static_cast<double>(k) / 30.0);
    if (!tracker.last_detections().empty()) ++detections;
    const nlohmann::json& theirs = reference["frames"][k];
    if (rect_from_proto(theirs["detection_roi"])) ++mediapipe_detections;
    ASSERT_EQ(ours.has_value(), !theirs["landmarks"].is_null()) << names[k];
    if (ours) accumulate(agreement, *ours, theirs["landmarks"], frame.width, frame.height);
  }
  std::cout << "[parity] lite clip of " << agreement.frames << " frames: mean " << agreement.mean_px
            << " px (256-px person), visibility within " << agreement.max_visibility << "; detections: ours "
            << detections << ", MediaPipe's " << mediapipe_detections << "\n";
  EXPECT_EQ(agreement.frames, 30);
  EXPECT_EQ(detections, mediapipe_detections) << "both track from the first frame's detection on";
  EXPECT_EQ(detections, 1);
  // Measured: 9.4 px, the detector's first region (see above) carried through the smoothed track.
  EXPECT_LE(agreement.mean_px, 12.0);
}

}  // namespace
}  // namespace poselift::detector
