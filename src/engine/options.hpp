// Settings of a poselift run. Defaults follow the seed's published configuration; the CLI
// maps the seed's flags (run_poseformer.py) onto these fields.
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

struct ModelOptions {
  int frames = 81;            // -f / --number-of-frames
  int embed_dim_ratio = 32;   // --width
  int depth = 4;              // --depth
  int heads = 8;              // --heads (not stored in checkpoints)
  double mlp_ratio = 2.0;
  double drop_path = 0.1;     // stochastic depth of the training model
  bool strict_load = true;    // --non-strict clears it
};

struct RuntimeOptions {
  std::string device = "auto";  // --device cpu|cuda|auto (auto: cuda when available)
  int threads = 0;              // --threads (0: LibTorch's default)
  bool progress = true;         // progress bars on stderr
  std::string implementation = "fast";  // --impl fast|reference (PoseFormer code path)
  std::string precision = "float32";    // --precision float32|int8 (fast path inference)
};

}  // namespace poselift::engine
