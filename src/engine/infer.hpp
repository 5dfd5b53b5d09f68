// `poselift infer`: 2D keypoints of a video (detector output) -> 3D joints per person.
// Reading, layout conversion, tracking, filling and writing live in src/wild (no LibTorch);
// this is the model part: sliding windows with edge padding and flip test-time augmentation
// (engine::predict_sequence), in chunks so long videos show progress.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "engine/options.hpp"
#include "engine/predict.hpp"
#include "model/poseformer.hpp"
#include "wild/detections.hpp"
#include "wild/export.hpp"
#include "wild/filling.hpp"
#include "wild/tracking.hpp"

namespace poselift::engine {

// The frame rate written when neither the input nor --fps gives one (phones and webcams).
constexpr double kAssumedVideoFps = 30.0;

struct InferOptions {
  CheckpointOptions checkpoint;  // a Human3.6M-17 PoseFormer checkpoint
  ModelOptions model;            // heads (for checkpoints that do not record them; 0: PoseFormer's default), strictness
  RuntimeOptions runtime;
  std::string input, output;
  int width = 0, height = 0;  // image size; 0 = from the input file
  std::string person = "0";   // track index, or "all"
  wild::ReadOptions read;
  wild::TrackingOptions tracking;
  wild::FillOptions fill;
  wild::ExportOptions output_options;
  PredictOptions predict;
};

struct InferResult {
  std::vector<std::string> written;  // output files, one per lifted track
  std::vector<std::string> notes;    // tracks skipped and why
  std::size_t tracks = 0;            // tracks found in the input
  std::int64_t frames = 0;           // frames lifted, summed over the written tracks
};

// The Human3.6M-17 flip symmetry (data/h36m.hpp) for keypoints and joints alike.
FlipSymmetry h36m_symmetry();

// One filled track -> (T, 17, 3) root-relative camera-space metres, float32 on the CPU.
torch::Tensor lift_sequence(model::PoseFormer& model, const wild::Sequence2D& sequence, int width, int height,
                            const PredictOptions& options, const torch::Device& device, bool progress);

// The whole command. Bad input -> InputError before any output file is written.
InferResult run_inference(const InferOptions& options);

}  // namespace poselift::engine
