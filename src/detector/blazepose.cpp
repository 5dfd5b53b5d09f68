#include "detector/blazepose.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "io/error.hpp"

namespace poselift::detector {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kDetectorInput = 224;
constexpr int kLandmarkInput = 256;
constexpr int kAllLandmarks = 39;  // 33 body, 2 auxiliary, 4 unused by the pose pipeline
constexpr int kHeatmapSize = 64;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// MediaPipe's NormalizeRadians: into [-pi, pi).
float normalize_radians(float angle) {
  return static_cast<float>(angle - 2 * kPi * std::floor((angle + kPi) / (2 * kPi)));
}

float iou(const PersonDetection& a, const PersonDetection& b) {
  const float left = std::max(a.xmin, b.xmin), top = std::max(a.ymin, b.ymin);
  const float right = std::min(a.xmin + a.width, b.xmin + b.width);
  const float bottom = std::min(a.ymin + a.height, b.ymin + b.height);
  if (right <= left || bottom <= top) return 0.0f;
  const float intersection = (right - left) * (bottom - top);
  const float unite = a.width * a.height + b.width * b.height - intersection;
  return unite > 0 ? intersection / unite : 0.0f;
}

// Checks that a model's tensors have the shapes this pipeline reads.
void expect_shape(const TfliteInterpreter& model, bool input, std::size_t index, const std::vector<std::int64_t>& shape,
                  const char* what) {
  const std::size_t count = input ? model.model().inputs.size() : model.model().outputs.size();
  if (index >= count || (input ? model.input_shape(index) : model.output_shape(index)) != shape) {
    throw InputError(model.model().source + ": not MediaPipe's BlazePose " + what + " (expected " +
                     (input ? "input " : "output ") + std::to_string(index) + " of shape " +
                     c10::str(c10::IntArrayRef(shape)) + ")");
  }
}

// MediaPipe's LowPassFilter and OneEuroFilter (mediapipe/util/filtering), streaming with the
// frames' own timestamps and a per-call value scale; motion/smoothing filters whole series at a
// fixed rate, which is not what the tracker needs.
class LowPass {
 public:
  double apply(double value, double alpha) {
    stored_ = initialized_ ? alpha * value + (1 - alpha) * stored_ : value;
    raw_ = value;
    initialized_ = true;
    return stored_;
  }
  bool initialized() const { return initialized_; }
  double last_raw() const { return raw_; }

 private:
  bool initialized_ = false;
  double raw_ = 0, stored_ = 0;
};

class OneEuro {
 public:
  OneEuro(double min_cutoff, double beta) : min_cutoff_(min_cutoff), beta_(beta) {}
  double apply(std::int64_t nanoseconds, double value, double value_scale) {
    if (last_time_ >= nanoseconds) return value;  // as MediaPipe: a repeated time is passed through
    if (last_time_ != 0 && nanoseconds != 0) frequency_ = 1e9 / static_cast<double>(nanoseconds - last_time_);
    last_time_ = nanoseconds;
    const double speed = x_.initialized() ? (value - x_.last_raw()) * value_scale * frequency_ : 0.0;
    const double filtered_speed = dx_.apply(speed, alpha(kDerivativeCutoff));
    return x_.apply(value, alpha(min_cutoff_ + beta_ * std::fabs(filtered_speed)));
  }

 private:
  static constexpr double kDerivativeCutoff = 1.0;
  double alpha(double cutoff) const {
    const double te = 1.0 / frequency_, tau = 1.0 / (2 * kPi * cutoff);
    return 1.0 / (1.0 + tau / te);
  }
  double min_cutoff_, beta_;
  double frequency_ = 30.0;
  std::int64_t last_time_ = 0;
  LowPass x_, dx_;
};

// One set of landmarks filtered as LandmarksSmoothingCalculator + VisibilitySmoothingCalculator.
template <std::size_t N>
class LandmarkFilter {
 public:
  LandmarkFilter(double min_cutoff, double beta, bool scale_values)
      : min_cutoff_(min_cutoff), beta_(beta), scale_values_(scale_values) {}
  void reset() {
    axes_.clear();
    visibility_.clear();
  }
  // `scale_x`, `scale_y`: the frame's size for normalised landmarks (1 for metres); `object_scale`
  // in the same units as the scaled values.
  void apply(std::array<Landmark, N>& landmarks, std::int64_t nanoseconds, double scale_x, double scale_y,
             double object_scale) {
    if (axes_.empty()) {
      axes_.assign(3 * N, OneEuro(min_cutoff_, beta_));
      visibility_.assign(N, LowPass());
    }
    for (std::size_t i = 0; i < N; ++i) {
      landmarks[i].visibility = static_cast<float>(visibility_[i].apply(landmarks[i].visibility, 0.1));
    }
    double value_scale = 1.0;
    if (scale_values_) {
      if (object_scale < 1e-6) return;  // MediaPipe leaves the landmarks as they are
      value_scale = 1.0 / object_scale;
    }
    for (std::size_t i = 0; i < N; ++i) {
      Landmark& l = landmarks[i];
      l.x = static_cast<float>(axes_[3 * i].apply(nanoseconds, l.x * scale_x, value_scale) / scale_x);
      l.y = static_cast<float>(axes_[3 * i + 1].apply(nanoseconds, l.y * scale_y, value_scale) / scale_y);
      l.z = static_cast<float>(axes_[3 * i + 2].apply(nanoseconds, l.z * scale_x, value_scale) / scale_x);
    }
  }

 private:
  double min_cutoff_, beta_;
  bool scale_values_;
  std::vector<OneEuro> axes_;
  std::vector<LowPass> visibility_;
};

}  // namespace

LandmarkModel landmark_model_from_name(const std::string& name) {
  if (name == "lite") return LandmarkModel::Lite;
  if (name == "full") return LandmarkModel::Full;
  if (name == "heavy") return LandmarkModel::Heavy;
  throw InputError("--detector: \"" + name + "\" is not a BlazePose model (expected lite, full or heavy)");
}

const char* landmark_model_name(LandmarkModel model) {
  switch (model) {
    case LandmarkModel::Lite: return "lite";
    case LandmarkModel::Full: return "full";
    case LandmarkModel::Heavy: return "heavy";
  }
  return "?";
}

ModelFiles find_model_files(const std::string& folder, LandmarkModel model) {
  const std::string install =
      " (scripts/setup.sh installs them; or: npm install --prefix DIR @mediapipe/pose@0.5.1675469404 and pass "
      "--models DIR/node_modules/@mediapipe/pose)";
  if (folder.empty() || !std::filesystem::is_directory(folder)) {
    throw InputError("BlazePose models folder \"" + folder + "\" not found" + install);
  }
  ModelFiles files{folder + "/pose_solution_packed_assets.data",
                   folder + "/pose_landmark_" + landmark_model_name(model) + ".tflite"};
  for (const std::string& path : {files.detector, files.landmark}) {
    if (!std::filesystem::is_regular_file(path)) throw InputError(path + ": BlazePose model not found" + install);
  }
  return files;
}

std::string default_models_folder() {
  if (const char* folder = std::getenv("POSELIFT_MODELS"); folder && *folder) return folder;
  std::error_code error;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "models/node_modules/@mediapipe/pose";
  return (executable.parent_path() / "models/node_modules/@mediapipe/pose").string();
}

Frame make_frame(const torch::Tensor& rgb) {
  if (rgb.dim() != 3 || rgb.size(2) != 3 || rgb.scalar_type() != torch::kByte || rgb.size(0) < 1 || rgb.size(1) < 1) {
    throw InputError("a frame must be RGB uint8 of shape [height, width, 3], got " + c10::str(rgb.sizes()));
  }
  Frame frame;
  frame.height = static_cast<int>(rgb.size(0));
  frame.width = static_cast<int>(rgb.size(1));
  frame.pixels = rgb.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat).contiguous();
  return frame;
}

std::vector<Anchor> pose_detector_anchors() {
  // SsdAnchorsCalculator: 5 layers of strides 8, 16, 32, 32, 32; layers of one stride share a
  // grid, and each layer gives 2 anchors per cell (aspect ratio 1 and the interpolated scale).
  // With fixed_anchor_size every anchor is 1 x 1, so only the centres matter.
  const int strides[] = {8, 16, 32, 32, 32};
  std::vector<Anchor> anchors;
  for (int layer = 0; layer < 5;) {
    int last = layer;
    while (last < 5 && strides[last] == strides[layer]) ++last;
    const int per_cell = 2 * (last - layer);
    const int cells = (kDetectorInput + strides[layer] - 1) / strides[layer];
    for (int y = 0; y < cells; ++y) {
      for (int x = 0; x < cells; ++x) {
        for (int k = 0; k < per_cell; ++k) {
          anchors.push_back({(x + 0.5f) / cells, (y + 0.5f) / cells});
        }
      }
    }
    layer = last;
  }
  return anchors;
}

std::vector<PersonDetection> decode_detections(const float* boxes, const float* scores,
                                               const std::vector<Anchor>& anchors, float min_score) {
  std::vector<PersonDetection> out;
  constexpr float scale = kDetectorInput;
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    const float score = sigmoid(std::clamp(scores[i], -100.0f, 100.0f));
    if (score < min_score) continue;
    const float* raw = boxes + 12 * i;
    const Anchor& a = anchors[i];
    // reverse_output_order: x before y.
    const float x_center = raw[0] / scale + a.x_center, y_center = raw[1] / scale + a.y_center;
    const float width = raw[2] / scale, height = raw[3] / scale;
    PersonDetection d;
    d.score = score;
    d.xmin = x_center - width / 2;
    d.ymin = y_center - height / 2;
    d.width = width;
    d.height = height;
    for (int k = 0; k < 4; ++k) {
      d.keypoints[k] = {raw[4 + 2 * k] / scale + a.x_center, raw[5 + 2 * k] / scale + a.y_center};
    }
    // A degenerate box cannot be suppressed or weighted sensibly.
    if (!(width > 0) || !(height > 0) || !std::isfinite(x_center) || !std::isfinite(y_center)) continue;
    out.push_back(d);
  }
  return out;
}

std::vector<PersonDetection> weighted_non_max_suppression(std::vector<PersonDetection> detections,
                                                          float iou_threshold) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const PersonDetection& a, const PersonDetection& b) { return a.score > b.score; });
  std::vector<PersonDetection> kept;
  while (!detections.empty()) {
    const PersonDetection top = detections.front();
    std::vector<PersonDetection> rest;
    double total = 0, xmin = 0, ymin = 0, xmax = 0, ymax = 0;
    std::array<double, 8> points{};
    for (const PersonDetection& d : detections) {
      if (iou(top, d) > iou_threshold || &d == &detections.front()) {
        total += d.score;
        xmin += d.score * d.xmin;
        ymin += d.score * d.ymin;
        xmax += d.score * (d.xmin + d.width);
        ymax += d.score * (d.ymin + d.height);
        for (int k = 0; k < 4; ++k) {
          points[2 * k] += d.score * d.keypoints[k].x;
          points[2 * k + 1] += d.score * d.keypoints[k].y;
        }
      } else {
        rest.push_back(d);
      }
    }
    PersonDetection merged = top;
    merged.xmin = static_cast<float>(xmin / total);
    merged.ymin = static_cast<float>(ymin / total);
    merged.width = static_cast<float>((xmax - xmin) / total);
    merged.height = static_cast<float>((ymax - ymin) / total);
    for (int k = 0; k < 4; ++k) {
      merged.keypoints[k] = {static_cast<float>(points[2 * k] / total), static_cast<float>(points[2 * k + 1] / total)};
    }
    kept.push_back(merged);
    detections = std::move(rest);
  }
  return kept;
}

RotatedRect roi_from_alignment_points(Point2 center, Point2 scale_point, int image_width, int image_height) {
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  const float x0 = center.x * W, y0 = center.y * H, x1 = scale_point.x * W, y1 = scale_point.y * H;
  const float box = 2.0f * std::sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0));
  RotatedRect roi;
  roi.x_center = center.x;
  roi.y_center = center.y;
  roi.rotation = normalize_radians(static_cast<float>(kPi / 2 - std::atan2(-(y1 - y0), x1 - x0)));
  // RectTransformationCalculator: square on the long side (in pixels), then 1.25 larger.
  roi.width = box / W * 1.25f;
  roi.height = box / H * 1.25f;
  return roi;
}

RotatedRect letterbox_roi(int image_width, int image_height, std::array<float, 4>* padding) {
  RotatedRect roi;
  const float aspect = static_cast<float>(image_height) / static_cast<float>(image_width);
  std::array<float, 4> pad{0, 0, 0, 0};
  if (aspect < 1) {  // wide: bands above and below
    roi.height = 1 / aspect;
    pad[1] = pad[3] = (1 - aspect) / 2;
  } else {
    roi.width = aspect;
    pad[0] = pad[2] = (1 - 1 / aspect) / 2;
  }
  if (padding) *padding = pad;
  return roi;
}

torch::Tensor crop_region(const Frame& frame, const RotatedRect& roi, int size, bool zero_border) {
  // Output pixel (i, j) samples the frame where the rectangle's normalised point ((j + 0.5) / size,
  // (i + 0.5) / size) lies: texture coordinates at pixel centres, as MediaPipe's GPU converter
  // (the one its web solution runs) samples them.
  const double W = frame.width, H = frame.height;
  const double c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  const double rw = roi.width * W, rh = roi.height * H;
  const torch::Tensor t = (torch::arange(size, torch::kDouble) + 0.5) / size - 0.5;
  const torch::Tensor u = t.view({1, size}).expand({size, size});  // column offset
  const torch::Tensor v = t.view({size, 1}).expand({size, size});  // row offset
  const torch::Tensor px = roi.x_center * W + c * u * rw - s * v * rh;
  const torch::Tensor py = roi.y_center * H + s * u * rw + c * v * rh;
  const torch::Tensor grid = torch::stack({px * (2 / W) - 1, py * (2 / H) - 1}, 2).unsqueeze(0).to(torch::kFloat);
  namespace F = torch::nn::functional;
  auto options = F::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(false);
  if (zero_border) {
    options.padding_mode(torch::kZeros);
  } else {
    options.padding_mode(torch::kBorder);
  }
  const torch::Tensor sampled = F::grid_sample(frame.pixels, grid, options);
  return sampled.permute({0, 2, 3, 1}).contiguous();
}

PoseDetector::PoseDetector(const std::string& model_path)
    : model_(tflite::load_model(model_path)), anchors_(pose_detector_anchors()) {
  expect_shape(model_, true, 0, {1, kDetectorInput, kDetectorInput, 3}, "detector");
  expect_shape(model_, false, 0, {1, static_cast<std::int64_t>(anchors_.size()), 12}, "detector");
  expect_shape(model_, false, 1, {1, static_cast<std::int64_t>(anchors_.size()), 1}, "detector");
}

std::vector<PersonDetection> PoseDetector::detect(const Frame& frame) const {
  torch::NoGradGuard no_grad;
  std::array<float, 4> pad{};
  const RotatedRect whole = letterbox_roi(frame.width, frame.height, &pad);
  // The range [-1, 1]; the letterbox bands are black, so -1.
  const torch::Tensor input = crop_region(frame, whole, kDetectorInput, true) / 127.5 - 1.0;
  const std::vector<torch::Tensor> outputs = model_.run({input});
  const torch::Tensor boxes = outputs[0].contiguous(), scores = outputs[1].contiguous();
  std::vector<PersonDetection> found = weighted_non_max_suppression(
      decode_detections(boxes.data_ptr<float>(), scores.data_ptr<float>(), anchors_, 0.5f), 0.3f);
  // DetectionLetterboxRemovalCalculator: from the square input back to the frame.
  const float sx = 1 - pad[0] - pad[2], sy = 1 - pad[1] - pad[3];
  for (PersonDetection& d : found) {
    d.xmin = (d.xmin - pad[0]) / sx;
    d.ymin = (d.ymin - pad[1]) / sy;
    d.width /= sx;
    d.height /= sy;
    for (Point2& p : d.keypoints) p = {(p.x - pad[0]) / sx, (p.y - pad[1]) / sy};
  }
  return found;
}

PoseLandmarker::PoseLandmarker(const std::string& model_path) : model_(tflite::load_model(model_path)) {
  expect_shape(model_, true, 0, {1, kLandmarkInput, kLandmarkInput, 3}, "landmark model");
  expect_shape(model_, false, 0, {1, kAllLandmarks * 5}, "landmark model");
  expect_shape(model_, false, 1, {1, 1}, "landmark model");
  expect_shape(model_, false, 3, {1, kHeatmapSize, kHeatmapSize, kAllLandmarks}, "landmark model");
  expect_shape(model_, false, 4, {1, kAllLandmarks * 3}, "landmark model");
}

PoseLandmarks PoseLandmarker::run(const Frame& frame, const RotatedRect& roi) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = crop_region(frame, roi, kLandmarkInput, false) / 255.0;
  const std::vector<torch::Tensor> outputs = model_.run({input});
  const torch::Tensor raw = outputs[0].contiguous(), heatmap = outputs[3].contiguous(), world = outputs[4].contiguous();
  const float* r = raw.data_ptr<float>();
  const float* h = heatmap.data_ptr<float>();
  const float* w = world.data_ptr<float>();

  PoseLandmarks out;
  out.score = outputs[1].item<float>();
  out.roi = roi;
  const float c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  for (int i = 0; i < kBodyLandmarks + 2; ++i) {
    // TensorsToLandmarksCalculator: 256-pixel units to [0, 1] of the crop; z on x's scale.
    Landmark l{r[5 * i] / kLandmarkInput, r[5 * i + 1] / kLandmarkInput, r[5 * i + 2] / kLandmarkInput,
               sigmoid(r[5 * i + 3]), sigmoid(r[5 * i + 4])};
    // RefineLandmarksFromHeatmapCalculator: the sigmoid-weighted mean position in a 7x7 window
    // of the landmark's heatmap, when its peak is at least 0.5.
    const int col = static_cast<int>(l.x * kHeatmapSize), row = static_cast<int>(l.y * kHeatmapSize);
    if (col >= 0 && col < kHeatmapSize && row >= 0 && row < kHeatmapSize) {
      float sum = 0, weighted_col = 0, weighted_row = 0, peak = 0;
      for (int y = std::max(0, row - 3); y < std::min(kHeatmapSize, row + 4); ++y) {
        for (int x = std::max(0, col - 3); x < std::min(kHeatmapSize, col + 4); ++x) {
          const float confidence = sigmoid(h[(y * kHeatmapSize + x) * kAllLandmarks + i]);
          sum += confidence;
          peak = std::max(peak, confidence);
          weighted_col += x * confidence;
          weighted_row += y * confidence;
        }
      }
      if (peak >= 0.5f && sum > 0) {
        l.x = weighted_col / kHeatmapSize / sum;
        l.y = weighted_row / kHeatmapSize / sum;
      }
    }
    // LandmarkProjectionCalculator: from the rotated crop into the frame.
    const float x = l.x - 0.5f, y = l.y - 0.5f;
    Landmark projected{(c * x - s * y) * roi.width + roi.x_center, (s * x + c * y) * roi.height + roi.y_center,
                       l.z * roi.width, l.visibility, l.presence};
    if (i < kBodyLandmarks) {
      out.image[i] = projected;
      // WorldLandmarkProjectionCalculator: rotated about z by the ROI; visibility copied.
      const float wx = w[3 * i], wy = w[3 * i + 1];
      out.world[i] = {c * wx - s * wy, s * wx + c * wy, w[3 * i + 2], l.visibility, l.presence};
    } else {
      out.auxiliary[i - kBodyLandmarks] = projected;
    }
  }
  return out;
}

struct PoseFilters {
  LandmarkFilter<kBodyLandmarks> image{0.05, 80.0, true};
  LandmarkFilter<kBodyLandmarks> world{0.1, 40.0, false};
  LandmarkFilter<2> auxiliary{0.01, 10.0, true};
  void reset() {
    image.reset();
    world.reset();
    auxiliary.reset();
  }
};

namespace {

// Smooths `pose` with `filters` (when `smooth`) and returns the region the next frame tracks it in.
RotatedRect finish_pose(PoseLandmarks& pose, PoseFilters& filters, bool smooth, const Frame& frame, double seconds);

}  // namespace

PoseTracker::PoseTracker(const ModelFiles& files, const TrackerOptions& options)
    : options_(options),
      detector_(files.detector),
      landmarker_(files.landmark),
      filters_(std::make_unique<PoseFilters>()) {}

PoseTracker::~PoseTracker() = default;

void PoseTracker::reset() {
  next_roi_.reset();
  filters_->reset();
  last_detections_.clear();
}

std::optional<PoseLandmarks> PoseTracker::process(const Frame& frame, double seconds) {
  last_detections_.clear();
  RotatedRect roi;
  if (next_roi_) {
    roi = *next_roi_;
  } else {
    last_detections_ = detector_.detect(frame);
    if (last_detections_.empty()) {
      filters_->reset();
      return std::nullopt;
    }
    const PersonDetection& best = last_detections_.front();
    roi = roi_from_alignment_points(best.keypoints[0], best.keypoints[1], frame.width, frame.height);
  }
  PoseLandmarks pose = landmarker_.run(frame, roi);
  if (!(pose.score >= options_.min_pose_score)) {
    // Lost: the next frame starts with a detection, as MediaPipe's loop does.
    next_roi_.reset();
    filters_->reset();
    return std::nullopt;
  }
  next_roi_ = finish_pose(pose, *filters_, options_.smooth, frame, seconds);
  return pose;
}

namespace {

RotatedRect finish_pose(PoseLandmarks& pose, PoseFilters& filters, bool smooth, const Frame& frame, double seconds) {
  if (smooth) {
    const auto nanoseconds = static_cast<std::int64_t>(std::llround(seconds * 1e9));
    const double W = frame.width, H = frame.height;
    // The person's size for the filters' value scale: the unscaled alignment box of the raw
    // auxiliary landmarks (PoseLandmarkFiltering's ROI), (width + height) / 2 in pixels.
    const float dx = (pose.auxiliary[1].x - pose.auxiliary[0].x) * frame.width;
    const float dy = (pose.auxiliary[1].y - pose.auxiliary[0].y) * frame.height;
    const double object_scale = 2.0 * std::sqrt(dx * dx + dy * dy);
    filters.image.apply(pose.image, nanoseconds, W, H, object_scale);
    filters.world.apply(pose.world, nanoseconds, 1.0, 1.0, 1.0);
    filters.auxiliary.apply(pose.auxiliary, nanoseconds, W, H, object_scale);
  }
  return roi_from_alignment_points({pose.auxiliary[0].x, pose.auxiliary[0].y},
                                   {pose.auxiliary[1].x, pose.auxiliary[1].y}, frame.width, frame.height);
}

}  // namespace

bool same_person(const RotatedRect& a, const RotatedRect& b, int width, int height) {
  const double dx = (a.x_center - b.x_center) * width, dy = (a.y_center - b.y_center) * height;
  const double size_a = std::max(a.width * width, a.height * height);
  const double size_b = std::max(b.width * width, b.height * height);
  if (!(size_a > 0) || !(size_b > 0)) return false;
  const double ratio = size_a > size_b ? size_a / size_b : size_b / size_a;
  return std::sqrt(dx * dx + dy * dy) < 0.2 * 0.5 * (size_a + size_b) && ratio < 1.6;
}

struct MultiPoseTracker::Track {
  int id = 0;
  RotatedRect roi;
  PoseFilters filters;
};

MultiPoseTracker::MultiPoseTracker(const ModelFiles& files, const MultiTrackerOptions& options)
    : options_(options), detector_(files.detector), landmarker_(files.landmark) {
  if (options_.max_people < 1) throw InputError("at most 0 people to track: expected 1 or more");
  if (options_.redetect_interval < 1) options_.redetect_interval = 1;
}

MultiPoseTracker::~MultiPoseTracker() = default;

std::vector<TrackedPose> MultiPoseTracker::process(const Frame& frame, double seconds) {
  const TrackerOptions& o = options_.tracker;
  std::vector<TrackedPose> out;
  std::vector<std::unique_ptr<Track>> kept;
  for (auto& track : tracks_) {
    PoseLandmarks pose = landmarker_.run(frame, track->roi);
    if (!(pose.score >= o.min_pose_score)) continue;  // lost
    const RotatedRect next = finish_pose(pose, track->filters, o.smooth, frame, seconds);
    // Two tracks drifted onto one person: the older one (seen first) stays.
    const bool duplicate = std::any_of(kept.begin(), kept.end(), [&](const std::unique_ptr<Track>& other) {
      return same_person(other->roi, next, frame.width, frame.height);
    });
    if (duplicate) continue;
    track->roi = next;
    out.push_back({track->id, std::move(pose)});
    kept.push_back(std::move(track));
  }
  tracks_ = std::move(kept);
  detected_ = false;
  ++frames_since_detection_;
  const bool room = static_cast<int>(tracks_.size()) < options_.max_people;
  if (room && (tracks_.empty() || frames_since_detection_ >= options_.redetect_interval)) {
    detected_ = true;
    frames_since_detection_ = 0;
    for (const PersonDetection& found : detector_.detect(frame)) {
      if (static_cast<int>(tracks_.size()) >= options_.max_people) break;
      const RotatedRect roi = roi_from_alignment_points(found.keypoints[0], found.keypoints[1], frame.width,
                                                        frame.height);
      const bool known = std::any_of(tracks_.begin(), tracks_.end(), [&](const std::unique_ptr<Track>& track) {
        return same_person(track->roi, roi, frame.width, frame.height);
      });
      if (known) continue;
      auto track = std::make_unique<Track>();
      PoseLandmarks pose = landmarker_.run(frame, roi);
      if (!(pose.score >= o.min_pose_score)) continue;
      track->roi = finish_pose(pose, track->filters, o.smooth, frame, seconds);
      if (std::any_of(tracks_.begin(), tracks_.end(), [&](const std::unique_ptr<Track>& other) {
            return same_person(other->roi, track->roi, frame.width, frame.height);
          }))
        continue;
      track->id = next_id_++;
      out.push_back({track->id, std::move(pose)});
      tracks_.push_back(std::move(track));
    }
  }
  return out;
}

}  // namespace poselift::detector
