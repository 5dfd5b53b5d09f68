// Settings of a poselift run, in blocks that the commands share. Defaults follow PoseFormer's
// published configuration; the CLI maps the original run_poseformer.py's flags onto these
// fields. Each setting lives in one block and is validated once, by the block's function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace poselift::engine {

struct DataOptions {
  std::string dataset = "h36m";             // -d
  std::string keypoints = "cpn_ft_h36m_dbb"; // -k
  std::string data_dir = "data";            // --data-dir
  std::string subjects_train = "S1,S5,S6,S7,S8";  // -str
  std::string subjects_test = "S9,S11";          // -ste
  std::string subjects_unlabeled;                // -sun (accepted; semi-supervision is not part of PoseFormer)
  std::string actions = "*";                     // -a
  double subset = 1.0;                           // --subset
  int downsample = 1;                            // --downsample
};

// DataOptions parsed once: the subject lists and the action filter as values.
struct DataSelection {
  std::vector<std::string> subjects_train, subjects_test;
  std::vector<std::string> action_filter;  // prefixes; empty = every action
  double subset = 1.0;
  int downsample = 1;
};
DataSelection parse_data_selection(const DataOptions& options);

struct ModelOptions {
  int frames = 81;            // -f / --number-of-frames (0: the checkpoint's)
  int embed_dim_ratio = 32;   // --width
  int depth = 4;              // --depth
  int heads = 8;              // --heads (0: the checkpoint's, else PoseFormer's default)
  double mlp_ratio = 2.0;     // --mlp-ratio
  int representation = 512;   // --dim-rep: MotionBERT's representation width (dim_rep)
  double drop_path = 0.1;     // stochastic depth of the training model
  double dropout = 0.0;       // -drop: VideoPose3D's dropout (the transformers use stochastic depth)
  bool strict_load = true;    // --non-strict clears it
  // The family: a checkpoint tells its own (a different --model is an error); training builds
  // this one (empty: PoseFormer).
  std::string family;                      // --model poseformer|videopose3d|poseformerv2
  std::string architecture = "3,3,3,3,3";  // -arc: VideoPose3D's filter widths
  int channels = 1024;                     // -ch: VideoPose3D's convolution channels
  bool causal = false, dense = false;      // --causal, --dense: VideoPose3D's convolutions
  int frames_kept = 27;                    // -frame-kept: PoseFormerV2's centre frames
  int coefficients_kept = 0;               // -coeff-kept: PoseFormerV2's DCT coefficients (0: frames_kept)
  double layer_norm_eps = 0;               // --layer-norm-eps: MotionBERT's (0: its scripts' 1e-6)
  // --config: a MotionBERT YAML configuration (io/motionbert_yaml.hpp); its model fields
  // configure the model where the weights cannot tell (heads), checked against them otherwise.
  std::string config;
};

struct RuntimeOptions {
  std::string device = "auto";  // --device cpu|cuda|auto (auto: cuda when available)
  int threads = 0;              // --threads (0: LibTorch's default)
  bool progress = true;         // progress bars on stderr (--no-progress clears it)
  std::string implementation = "fast";  // --impl fast|reference (PoseFormer code path)
  std::string precision = "float32";    // --precision float32|int8|bf16|auto (fast path inference)
};

// How a model predicts whole sequences or windows.
struct PredictOptions {
  bool test_time_augmentation = true;  // --no-test-time-augmentation clears it
  std::int64_t max_batch = 1024;  // -b: windows per temporal forward pass, flipped ones included (bounds memory)
};
// Throws InputError naming `flag` unless the batch is positive.
void validate_predict_options(const PredictOptions& options, const std::string& flag = "--batch-size");

// Which checkpoint a command reads: the same two flags in every command.
//   -c/--checkpoint PATH: the checkpoint folder, or a checkpoint file, or `builtin`;
//   --checkpoint-file/--evaluate FILE: a file in that folder, or FILE as given when only that exists.
struct CheckpointOptions {
  std::string dir = "checkpoint";
  std::string file;
};

// -c DIR joined with FILE (os.path.join), or FILE as given when only that exists.
std::string checkpoint_file_path(const std::string& dir, const std::string& file);
// The checkpoint file `options` names: with FILE as above, without it -c itself when that is a
// file; `-c builtin` names the lifter compiled into the program (assets/builtin_lifter.hpp).
// Throws InputError when there is none.
std::string resolve_checkpoint_path(const CheckpointOptions& options);

}  // namespace poselift::engine
