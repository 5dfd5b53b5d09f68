// The CLI's commands: each reads its options, calls the library and prints the result.
#pragma once

#include <string>

#include "engine/infer.hpp"
#include "engine/options.hpp"
#include "engine/train.hpp"

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
  // forward
  std::string checkpoint_file, input, output;
  // prepare
  std::string prepare_out = "data", prepare_name = "synthetic";
  std::vector<std::string> prepare_inputs, prepare_test_subjects, prepare_mappings;
  double synthetic_seconds = 6.0, prepare_fps = 50.0, noise_strength = 1.0;
  std::uint64_t prepare_seed = 0;
  bool random_rigs = false, skip_unreadable = false;
  // bench
  std::string bench_what = "model";
  double bench_seconds = 3.0;
  // infer
  engine::InferOptions infer;
  std::string infer_bones = "median";
};

int run_info(const Options& o);
int run_evaluate(const Options& o);
int run_forward(const Options& o);
int run_train(const Options& o);
int run_prepare_synthetic(const Options& o);
int run_prepare_mocap(const Options& o);
int run_bench(const Options& o);
int run_infer(const Options& o);

}  // namespace poselift::cli
