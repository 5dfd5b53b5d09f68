// The CLI's commands: each reads its options, calls the library and prints the result.
#pragma once

#include <string>

#include "engine/infer.hpp"
#include "engine/options.hpp"
#include "engine/train.hpp"
#include "model/poseformer.hpp"

namespace poselift::cli {

struct Options {
  engine::DataOptions data;
  engine::ModelOptions model;
  engine::RuntimeOptions runtime;
  std::string file;  // info FILE
  // evaluate
  std::string checkpoint_dir = "checkpoint";
  std::string evaluate_file;
  bool by_subject = false;
  bool test_time_augmentation = true;
  std::string json_out;
  int eval_batch = 1024;
  // train
  engine::TrainOptions train;
  double dropout = 0.0;
  std::int64_t torch_seed = -1;  // --torch-seed: LibTorch's generator (weight init, stochastic depth); -1 random
  int nproc = 0;              // --nproc N: start N local ranks (0: single process or torchrun's)
  double dist_timeout = 300;  // --dist-timeout: seconds before a silent peer counts as failed
  // forward
  std::string checkpoint_file, input, output;
  // prepare
  std::string prepare_out = "data", prepare_name = "synthetic";
  std::vector<std::string> prepare_inputs, prepare_test_subjects, prepare_mappings;
  double synthetic_seconds = 6.0, prepare_fps = 50.0, noise_strength = 1.0;
  std::uint64_t prepare_seed = 0;
  bool random_rigs = false, skip_unreadable = false;
  // render (the seed's --viz-* flags; --input/--out/--video for infer results)
  std::string viz_subject, viz_action, viz_video, viz_output, viz_export, render_input, html_out;
  int viz_camera = 0, viz_bitrate = 3000, viz_size = 5, viz_downsample = 1;
  std::int64_t viz_limit = -1, viz_skip = 0;
  bool viz_no_ground_truth = false, render_flag = false;
  double render_fps = 0;
  // bench
  std::string bench_what = "all";
  double bench_seconds = 3.0;
  int bench_train_batch = 256, bench_train_steps = 2;
  int bench_batch = 32;       // bench dist: frames per step over all processes
  std::vector<int> bench_processes = {1, 2};
  bool bench_emit_figures = false;  // internal: a child measuring for its parent prints bare figures
  // infer
  engine::InferOptions infer;
  std::string infer_bones = "median";
};

// Throws InputError unless a loaded checkpoint takes `frames` frames of `num_joints` joints
// (`source` names the 2D keypoints file).
void check_checkpoint_fits(const std::string& path, const model::PoseFormerConfig& config, int frames,
                           int num_joints, const std::string& source);

int run_info(const Options& o);
int run_evaluate(const Options& o);
int run_forward(const Options& o);
int run_train(const Options& o);
int run_prepare_synthetic(const Options& o);
int run_prepare_mocap(const Options& o);
int run_bench(const Options& o);
int run_render(const Options& o);
int run_bench_dist(const Options& o);
int run_infer(const Options& o);

}  // namespace poselift::cli
