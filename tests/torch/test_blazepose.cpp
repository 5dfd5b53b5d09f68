// The BlazePose pipeline: its geometric steps against values computed by hand from MediaPipe's
// calculator definitions (anchors, decoding, weighted suppression, the alignment ROI, the
// letterbox, rotated crops), then the real models on real photographs (Debian's python3-skimage
// data) with checks a person's anatomy makes independent of any implementation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "detector/blazepose.hpp"
#include "io/error.hpp"
#include "render/video.hpp"

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

}  // namespace
}  // namespace poselift::detector
