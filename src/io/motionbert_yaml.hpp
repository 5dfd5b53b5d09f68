// MotionBERT's YAML configurations (Walter0807/MotionBERT configs/pose3d/*.yaml, read by its
// get_config into the `args` of train.py and infer_wild.py): one flat mapping of settings.
// Every field is optional (absent: the caller's default); keys poselift does not use are
// ignored, as the original's EasyDict keeps them unread. A known key of the wrong type or out
// of range, a duplicate key, a top level that is not a mapping, malformed YAML or a file over
// kMaxConfigFileBytes is an InputError naming the file and the key.
//
// Types follow the original's YAML 1.1 reading: integers where the original uses a count
// (a float such as 5.0 is rejected), reals accept integers (mlp_ratio: 4), booleans
// true/false/yes/no/on/off, strings as written, lists as flow or block sequences of strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poselift::io {

// Configurations are a few hundred bytes; 1 MiB bounds what an untrusted file makes the parser do.
inline constexpr std::uint64_t kMaxConfigFileBytes = std::uint64_t{1} << 20;

struct MotionBERTConfigFile {
  std::string path;  // as given; named in errors

  // Model: the arguments load_backbone (lib/utils/learning.py) builds the DSTformer with.
  std::optional<std::string> backbone;  // "DSTformer" (the default when absent)
  std::optional<int> maxlen, dim_feat, dim_rep, depth, num_heads, num_joints;
  std::optional<double> mlp_ratio;
  std::optional<bool> att_fuse;

  // Evaluation and inference (train.py's evaluate, infer_wild.py): rootrel zeroes the root,
  // else the clip's first-frame root depth is the origin ("global"); flip averages with the
  // mirrored input; no_conf drops the confidence channel; gt_2d replaces x, y by the input's.
  std::optional<bool> rootrel, flip, no_conf, gt_2d;
  std::optional<int> clip_len;  // frames per clip (training data and evaluation)

  // Training (train.py).
  std::optional<int> epochs, checkpoint_frequency, batch_size, data_stride, sample_stride;
  std::optional<double> learning_rate, weight_decay, lr_decay, dropout;
  std::optional<double> lambda_3d_velocity, lambda_scale, lambda_lv, lambda_lg, lambda_a, lambda_av;
  std::optional<double> mask_ratio, mask_T_ratio;
  std::optional<bool> train_2d, no_eval, finetune, synthetic, noise;
  std::optional<std::string> data_root, dt_file;
  std::optional<std::vector<std::string>> subset_list;
  // null in the published configs (every parameter trains), else name fragments of the
  // parameters that train (partial_train_layers).
  std::optional<std::vector<std::string>> partial_train;
};

// `text` is the file's content; `path` names it in errors.
MotionBERTConfigFile parse_motionbert_yaml(std::string_view text, const std::string& path);
// Reads and parses `path` (at most kMaxConfigFileBytes).
MotionBERTConfigFile read_motionbert_yaml(const std::string& path);

}  // namespace poselift::io
