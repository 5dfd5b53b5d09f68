// `poselift infer`: 2D keypoints of a video (detector output) -> 3D joints per person.
// Reading, layout conversion, tracking, filling and writing live in src/wild (no LibTorch);
// this is the model part: any family through engine::predict_sequence (edge padding, flip
// test-time augmentation), in chunks so long videos show progress, and VideoPose3D's trajectory
// model for the root's global position when the checkpoint has one.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "engine/options.hpp"
#include "engine/predict.hpp"
#include "model/lifter.hpp"
#include "motion/smoothing.hpp"
#include "motion/trajectory.hpp"
#include "wild/detections.hpp"
#include "wild/export.hpp"
#include "wild/filling.hpp"
#include "wild/tracking.hpp"

namespace poselift::engine {

// The frame rate written when neither the input nor --fps gives one (phones and webcams).
constexpr double kAssumedVideoFps = 30.0;

struct InferOptions {
  CheckpointOptions checkpoint;  // a Human3.6M-17 checkpoint of any family
  ModelOptions model;            // what the file cannot tell (heads, PoseFormerV2's window), strictness
  RuntimeOptions runtime;
  std::string input, output;
  int width = 0, height = 0;  // image size; 0 = from the input file
  std::string person = "0";   // track index, or "all"
  wild::ReadOptions read;
  wild::TrackingOptions tracking;
  wild::FillOptions fill;
  wild::ExportOptions output_options;
  PredictOptions predict;
  motion::Smoothing smoothing;  // --smooth: applied to the lifted poses and the trajectory
  // The root's camera-space position without a trajectory model: geometric, through a pinhole
  // camera of --focal pixels or --fov degrees (motion/trajectory.hpp); --no-trajectory skips it.
  bool geometric_trajectory = true;
  double focal = 0.0, fov = motion::kDefaultFieldOfView;
};

struct InferResult {
  std::vector<std::string> written;  // output files, one per lifted track
  std::vector<std::string> notes;    // tracks skipped and why
  std::size_t tracks = 0;            // tracks found in the input
  std::int64_t frames = 0;           // frames lifted, summed over the written tracks
};

// The Human3.6M-17 flip symmetry (data/h36m.hpp) for keypoints and joints alike.
FlipSymmetry h36m_symmetry();

// One filled track lifted: (T, 17, 3) root-relative camera-space metres and, from a trajectory
// model, the root's (T, 3) camera-space position (undefined without one); float32 on the CPU.
struct LiftedTrack {
  torch::Tensor positions, trajectory;
};
LiftedTrack lift_sequence(model::LifterImpl& model, model::LifterImpl* trajectory, const wild::Sequence2D& sequence,
                          int width, int height, const PredictOptions& options, const torch::Device& device,
                          bool progress);

// The whole command. Bad input -> InputError before any output file is written.
InferResult run_inference(const InferOptions& options);

}  // namespace poselift::engine
