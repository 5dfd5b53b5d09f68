// BlazePose as MediaPipe's pose pipeline runs it (mediapipe/modules/pose_detection and
// pose_landmark, CPU graphs), on the models of the npm package @mediapipe/pose:
//   1. the person detector: the frame letterboxed to 224x224 in [-1, 1], 2254 SSD anchors,
//      boxes and 4 alignment keypoints decoded, scores >= 0.5, weighted non-maximum suppression
//      (IoU 0.3), the letterbox removed;
//   2. the region of interest: centred on keypoint 0 (hips), side twice its distance to
//      keypoint 1, rotated so that 0 -> 1 points up, squared on the long side and scaled 1.25;
//   3. the landmark model (lite / full / heavy) on the ROI cropped to 256x256 in [0, 1] (border
//      replicated): 39 landmarks (33 of the body, 2 auxiliary for the next ROI) refined by their
//      heatmaps (7x7 kernel), projected back into the frame; 33 world landmarks (metres, origin
//      between the hips) rotated by the ROI; the pose score;
//   4. on video, the next frame's ROI from this frame's auxiliary landmarks, a new detection
//      only when the pose score drops under 0.5, and MediaPipe's smoothing: One-Euro filters
//      (landmarks 0.05 Hz / beta 80 scaled by the person's size, world 0.1 / 40, auxiliary 0.01 /
//      10) and a 0.1 low-pass on visibility.
// Image coordinates are normalised to the frame (x / width, y / height); z is on x's scale,
// relative to the hips, negative towards the camera, as MediaPipe gives it.
#pragma once

#include <torch/torch.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "detector/tflite_interpreter.hpp"

namespace poselift::detector {

enum class LandmarkModel { Lite, Full, Heavy };
// "lite", "full", "heavy"; InputError naming --detector otherwise.
LandmarkModel landmark_model_from_name(const std::string& name);
const char* landmark_model_name(LandmarkModel model);

// The model files in `folder` (where scripts/setup.sh installs @mediapipe/pose). A missing
// folder or file is an InputError that says how to install them.
struct ModelFiles {
  std::string detector;  // pose_solution_packed_assets.data: the detector model itself
  std::string landmark;  // pose_landmark_<lite|full|heavy>.tflite
};
ModelFiles find_model_files(const std::string& folder, LandmarkModel model);
// Where to look when no folder is given: $POSELIFT_MODELS, else models/node_modules/@mediapipe/pose
// beside the running executable (what scripts/setup.sh installs next to build/poselift).
std::string default_models_folder();

struct Point2 {
  float x = 0, y = 0;
};

// MediaPipe's NormalizedRect: centre and size normalised to the frame, rotated by `rotation`
// radians (clockwise in image coordinates, y down) about its centre.
struct RotatedRect {
  float x_center = 0.5f, y_center = 0.5f, width = 1, height = 1, rotation = 0;
};

// A person found by the detector, normalised to the frame. Keypoints: 0 hips centre, 1 a point
// on the circle around the whole body, 2 shoulders centre, 3 a point on the upper body's circle.
struct PersonDetection {
  float score = 0;
  float xmin = 0, ymin = 0, width = 0, height = 0;
  std::array<Point2, 4> keypoints{};
};

struct Landmark {
  float x = 0, y = 0, z = 0;
  float visibility = 0, presence = 0;  // probabilities in [0, 1]
};

constexpr int kBodyLandmarks = 33;

// COCO-17's keypoints among BlazePose's 33, in COCO's order: nose, eyes (left, right), ears,
// shoulders, elbows, wrists, hips, knees, ankles. BlazePose names the same anatomical points
// (its 2 and 5 are the eye centres, 7 and 8 the ears); the person's left is BlazePose's left too.
constexpr std::array<int, 17> kCocoFromBlazePose = {0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28};

struct PoseLandmarks {
  float score = 0;                                    // the model's pose presence
  std::array<Landmark, kBodyLandmarks> image{};       // normalised to the frame
  std::array<Landmark, kBodyLandmarks> world{};       // metres, origin between the hips
  std::array<Landmark, 2> auxiliary{};                // hips centre and body-scale point
  RotatedRect roi;                                    // the region the model saw
};

// A frame ready for cropping: RGB float [1, 3, H, W] with values 0..255.
struct Frame {
  torch::Tensor pixels;
  int width = 0, height = 0;
};
// From an RGB uint8 tensor [H, W, 3]; InputError for any other shape or type.
Frame make_frame(const torch::Tensor& rgb);

// --- The pipeline's steps, public for tests ---

struct Anchor {
  float x_center = 0, y_center = 0;  // normalised; the detector's anchors all have size 1
};
// SsdAnchorsCalculator with the pose detector's options: 2254 anchors (28x28x2, 14x14x2, 7x7x6).
std::vector<Anchor> pose_detector_anchors();

// TensorsToDetectionsCalculator: `boxes` [anchors x 12] raw regressors, `scores` [anchors] raw
// logits; keeps sigmoid(score) >= min_score. Coordinates normalised to the detector's input.
std::vector<PersonDetection> decode_detections(const float* boxes, const float* scores,
                                               const std::vector<Anchor>& anchors, float min_score);

// NonMaxSuppressionCalculator, WEIGHTED: each kept detection is the score-weighted mean of the
// detections overlapping it by IoU > threshold (itself included), with its own score.
std::vector<PersonDetection> weighted_non_max_suppression(std::vector<PersonDetection> detections,
                                                          float iou_threshold);

// AlignmentPointsRectsCalculator + RectTransformationCalculator (scale 1.25, square long side).
RotatedRect roi_from_alignment_points(Point2 center, Point2 scale_point, int image_width, int image_height);

// The rotated rectangle `roi` of `frame` sampled bilinearly to [1, size, size, 3] (NHWC) with
// values 0..255; outside the frame: zeros (`zero_border`) or the nearest edge pixel.
torch::Tensor crop_region(const Frame& frame, const RotatedRect& roi, int size, bool zero_border);

// The ROI that letterboxes the whole frame into a square (keep_aspect_ratio), and the padding it
// adds on each side as fractions of the square: {left, top, right, bottom}.
RotatedRect letterbox_roi(int image_width, int image_height, std::array<float, 4>* padding);

// --- The models ---

class PoseDetector {
 public:
  explicit PoseDetector(const std::string& model_path);
  // Every person found, best first, normalised to the frame.
  std::vector<PersonDetection> detect(const Frame& frame) const;

 private:
  TfliteInterpreter model_;
  std::vector<Anchor> anchors_;
};

class PoseLandmarker {
 public:
  explicit PoseLandmarker(const std::string& model_path);
  // The landmarks of the person in `roi` (its score may be low: the caller decides).
  PoseLandmarks run(const Frame& frame, const RotatedRect& roi) const;

 private:
  TfliteInterpreter model_;
};

struct TrackerOptions {
  LandmarkModel model = LandmarkModel::Full;  // MediaPipe's default complexity (1)
  bool smooth = true;
  float min_pose_score = 0.5f;                // below: the person is lost, detect again
};

struct PoseFilters;  // a person's landmark filters (blazepose.cpp)

// MediaPipe's video mode for one person: detection when no person is tracked, then tracking by
// the previous frame's landmarks. Frames must come in increasing time.
class PoseTracker {
 public:
  PoseTracker(const ModelFiles& files, const TrackerOptions& options);
  ~PoseTracker();
  // Landmarks of the tracked person in this frame, or nothing when none is found.
  std::optional<PoseLandmarks> process(const Frame& frame, double seconds);
  // Forget the tracked person and the filters' state (e.g. at a cut).
  void reset();
  // Detections (0 or more) made for the last frame; empty when it was tracked.
  const std::vector<PersonDetection>& last_detections() const { return last_detections_; }

 private:
  TrackerOptions options_;
  PoseDetector detector_;
  PoseLandmarker landmarker_;
  std::optional<RotatedRect> next_roi_;
  std::unique_ptr<PoseFilters> filters_;
  std::vector<PersonDetection> last_detections_;
};

struct MultiTrackerOptions {
  TrackerOptions tracker;
  int max_people = 4;          // tracked at once; the detector looks for more only while fewer
  int redetect_interval = 10;  // frames between those looks (the first frame always looks)
};

struct TrackedPose {
  int id = 0;  // the track's number, in the order people were first found
  PoseLandmarks pose;
};

// Several people, each tracked as PoseTracker tracks one: a region of its own, followed from
// the previous frame's landmarks, with its own filters. MediaPipe's pose solution is single
// person; this extends its video mode: while fewer than max_people are tracked the detector
// runs every redetect_interval frames, and a detection starts a track unless an existing one
// already covers that person (same_person). Tracks that drift onto one person are merged
// (the older kept). Limits: a person hidden behind another loses the track and gets a new
// number when seen again; the detector's non-maximum suppression merges people whose faces
// overlap.
class MultiPoseTracker {
 public:
  MultiPoseTracker(const ModelFiles& files, const MultiTrackerOptions& options);
  ~MultiPoseTracker();
  // The people tracked in this frame, by increasing id.
  std::vector<TrackedPose> process(const Frame& frame, double seconds);
  // Whether the detector ran on the last frame.
  bool detected_last_frame() const { return detected_; }

 private:
  struct Track;
  MultiTrackerOptions options_;
  PoseDetector detector_;
  PoseLandmarker landmarker_;
  std::vector<std::unique_ptr<Track>> tracks_;
  int next_id_ = 0;
  int frames_since_detection_ = 0;
  bool detected_ = false;
};

// Whether two regions (normalised to a frame of `width` x `height` pixels) frame the same
// person: centres closer than a fifth of their mean size, sizes within a factor of 1.6.
bool same_person(const RotatedRect& a, const RotatedRect& b, int width, int height);

}  // namespace poselift::detector
