// `poselift infer`: 2D keypoints of a video (detector output) -> 3D joints per person.
// Reading, layout conversion, tracking, filling and writing live in src/wild (no LibTorch);
// this is the model part: any family through engine::predict_sequence (edge padding, flip
// test-time augmentation), in chunks so long videos show progress, and VideoPose3D's trajectory
// model for the root's global position when the checkpoint has one; MotionBERT as its own
// infer_wild.py runs it (lift_motionbert_wild, infer_motionbert.cpp).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "engine/options.hpp"
#include "engine/predict.hpp"
#include "io/motionbert_yaml.hpp"
#include "model/lifter.hpp"
#include "motion/smoothing.hpp"
#include "motion/trajectory.hpp"
#include "motion/world.hpp"
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
  // The floor, foot contacts and contact locking (motion/world.hpp): the world frame that
  // .bvh and .glb are written in and that .npz/.json carry beside the camera-space poses.
  motion::GroundOptions ground;
  // MotionBERT (infer_wild.py's flags): --pixel, --clip-len (0: the configuration's clip_len,
  // else the model's maxlen). Errors with other families.
  bool pixel = false;
  int clip_len = 0;
  // The lifter sees each track's 2D scaled about its centre to a person this fraction of the
  // image width tall (median over frames), centred in the picture: for models trained at one
  // camera distance (a person filling the frame is out of their distribution). The trajectory
  // and the written 2D keep the original pixels. Negative: automatic (kBuiltinLifterHeight for
  // the built-in lifter, else off); 0: off.
  double fit_2d_height = -1.0;
  // The person's standing height, metres (0: the lifter's own scale): the lifted poses are
  // scaled to it (motion::standing_height), and the trajectory with them. A lifter predicts
  // about its training people's size whoever it sees; knowing the size fixes the depth.
  double body_height = 0.0;
};

// How tall the built-in lifter's training cameras saw people: the median over its training set's
// sequences of the 2D extent / image width (5-95%: 0.24-0.39).
inline constexpr double kBuiltinLifterHeight = 0.30;

struct InferResult {
  std::vector<std::string> written;  // output files, one per lifted track
  std::vector<std::string> notes;    // for the user: tracks skipped and why, assumptions, units
  std::size_t tracks = 0;            // tracks found in the input
  std::int64_t frames = 0;           // frames lifted, summed over the written tracks
};

// The Human3.6M-17 flip symmetry (data/h36m.hpp) for keypoints and joints alike.
FlipSymmetry h36m_symmetry();

// One filled track lifted: (T, 17, 3) root-relative camera-space metres and, from a trajectory
// model, the root's (T, 3) camera-space position (undefined without one); float32 on the CPU.
// MotionBERT: see lift_motionbert_wild (its units are not metres).
struct LiftedTrack {
  torch::Tensor positions, trajectory;
};

// How MotionBERT lifts a video (infer_wild.py). The defaults are infer_wild's: its default
// configuration MB_ft_h36m_global_lite.yaml (rootrel false, flip true, no_conf false, gt_2d
// false), clips of the model's maxlen, input normalised to the track's box.
struct MotionBERTWildOptions {
  bool pixel = false;  // --pixel: input relative to the image (wild/motionbert_input.hpp), output in pixels
  int clip_len = 0;    // frames per clip, at most the model's maxlen (0: maxlen)
  bool rootrel = false, flip = true, no_conf = false, gt_2d = false;
};
// The options infer runs with: --config's rootrel, flip, no_conf, gt_2d and clip_len (when
// given) over the defaults, then --pixel and --clip-len (> 0).
MotionBERTWildOptions motionbert_wild_options(const io::MotionBERTConfigFile* config, bool pixel, int clip_len);

// MotionBERT over a track as infer_wild.py runs it: the input of wild/motionbert_input.hpp
// (confidence as the third channel unless no_conf; a 2-channel model takes x, y alone),
// non-overlapping clips of clip_len frames, the last one shorter (the model slices its
// temporal embedding), each averaged with its flipped prediction when options.flip and
// predict.test_time_augmentation, then
//   rootrel: the root set to 0 (the other joints as predicted); positions = that, no trajectory;
//   global (rootrel false): the root depth of each clip's first frame set to 0, the rest as
//     predicted; trajectory = the root, positions = the joints minus the root, so that
//     positions + trajectory is infer_wild's X3D.npy;
//   gt_2d: x, y of every joint replaced by the input's, after the above.
// Units: the model's normalised ones (crop: the track's box has half-size 1; z in the same
// scale) or, with pixel, pixels (z scaled alike); with pixel and rootrel, X3D.npy's root sits
// at the image centre: X3D = positions + (width / 2, height / 2, 0).
LiftedTrack lift_motionbert_wild(model::LifterImpl& model, const wild::Sequence2D& sequence, int width, int height,
                                 const MotionBERTWildOptions& options, const PredictOptions& predict,
                                 const torch::Device& device, bool progress);

// Any family; MotionBERT goes to lift_motionbert_wild with `motionbert` (`trajectory` unused).
LiftedTrack lift_sequence(model::LifterImpl& model, model::LifterImpl* trajectory, const wild::Sequence2D& sequence,
                          int width, int height, const PredictOptions& options, const torch::Device& device,
                          bool progress, const MotionBERTWildOptions& motionbert = {});

// The whole command. Bad input -> InputError before any output file is written.
InferResult run_inference(const InferOptions& options);
// The same on detections already in memory (`poselift video`); options.input names them in
// messages and is never overwritten.
InferResult run_inference(const InferOptions& options, const wild::Detections& detections);

}  // namespace poselift::engine
