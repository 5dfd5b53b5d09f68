// `poselift info`: what a dataset, a .npz archive, a .npy array or a checkpoint holds, as lines
// of text (the CLI prints them).
#pragma once

#include <string>
#include <vector>

#include "engine/options.hpp"

namespace poselift::engine {

struct InfoOptions {
  DataOptions data;  // the dataset summarised when `file` is empty
  std::string file;  // a .npz, .npy or torch.save checkpoint
  int heads = 0;     // --heads for checkpoints that do not store theirs (0: not given)
  int frames = 0;    // -f: PoseFormerV2's window, which its checkpoints do not store (0: not given)
};

// Throws InputError for a missing file or one of another kind.
std::vector<std::string> describe(const InfoOptions& options);

}  // namespace poselift::engine
