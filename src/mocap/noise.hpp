// A model of 2D keypoint-detector errors, applied to ground-truth projections to make
// "detected" keypoints for training lifting models without a real detector.
//
// Per sequence (one camera view of one action), in pixels, for Human3.6M-17 keypoints:
//  1. Systematic offset: each joint gets a constant offset ~ N(0, bias_sigma) per axis (a
//     detector's joint convention differs from the mocap skeleton's).
//  2. Jitter: per joint and axis, a mix of temporally correlated noise (AR(1), time constant
//     `correlation_seconds`, share `correlated_fraction` of the variance) and white noise;
//     total standard deviation joint_sigma[j] per axis.
//  3. Outliers: per joint and frame, probability `outlier_rate` to start an episode (mean
//     `outlier_frames` frames) during which the joint is displaced by a fixed random vector
//     ~ N(0, outlier_sigma x person height) per axis (the detector latched onto something else).
//  4. Left/right swaps: per frame, probability `swap_rate` to start an episode (mean
//     `swap_frames`) where the left and right knee+ankle, or elbow+wrist, exchange places.
//  5. Misses: per joint and frame, probability `miss_rate` to start an episode (mean
//     `miss_frames`) where the joint is lost: it stays where it was last seen (plus jitter).
// Every pixel quantity is multiplied by `strength` and by (person's size in the image /
// `reference_height_px`), the size being the median over frames of the larger side of the
// keypoints' bounding box, so errors are relative to how big the person appears.
//
// Strength 1 (the defaults) gives a mean 2D error of about 6 px for a Human3.6M-framed person
// (~400 px tall in a 1000 px image; measured 5.7-5.9 px on the synthetic and mocap datasets),
// the range reported for CPN detections on Human3.6M (about 5-10 px); 0.5 gives ~3 px
// (a strong, fine-tuned detector), 2 gives ~12 px and 3 ~19 px (off-the-shelf detectors on
// unfamiliar footage). Strength 0 returns the ground truth unchanged. Event rates scale with
// the strength as well (0.5% outlier, 0.2% swapped and 1% missed points at strength 1).
//
// Confidence (optional third channel): ~U(0.85, 1) reduced with the jitter's size for normal
// joints, U(0.2, 0.6) during outliers, U(0.3, 0.7) during swaps, U(0, 0.1) during misses.
#pragma once

#include <array>
#include <cstdint>

#include "io/ndarray.hpp"

namespace poselift::mocap {

struct DetectorNoiseOptions {
  double strength = 1.0;
  // Per-joint jitter sigma (px per axis) at strength 1: extremities and hips (ambiguous under
  // clothing) worst, head and shoulders best.
  std::array<double, 17> joint_sigma{{4.0, 5.0, 4.5, 5.0, 5.0, 4.5, 5.0, 4.5, 4.0, 3.5, 4.5, 4.0, 4.5, 5.5, 4.0, 4.5, 5.5}};
  double bias_sigma = 2.0;
  double correlation_seconds = 0.12;
  double correlated_fraction = 0.7;
  double outlier_rate = 0.002;
  double outlier_frames = 3.0;
  double outlier_sigma = 0.12;  // fraction of the person's image height
  double swap_rate = 0.002;
  double swap_frames = 5.0;
  double miss_rate = 0.002;
  double miss_frames = 5.0;
  double reference_height_px = 400.0;
  bool confidence = false;  // append a confidence channel: (T, 17, 3)
};

struct NoiseStatistics {
  std::int64_t points = 0;
  std::int64_t outlier_points = 0;
  std::int64_t swapped_points = 0;
  std::int64_t missed_points = 0;
  double mean_error_px = 0.0;  // mean Euclidean distance to the ground truth
};

// `ground_truth`: (T, 17, 2) pixels, any float dtype. Returns (T, 17, 2) float32, or
// (T, 17, 3) with confidences. Deterministic for a given seed. `fps` sets the time scale of
// the correlated jitter.
io::NdArray apply_detector_noise(const io::NdArray& ground_truth, const DetectorNoiseOptions& options, double fps,
                                 std::uint64_t seed, NoiseStatistics* statistics = nullptr);

}  // namespace poselift::mocap
