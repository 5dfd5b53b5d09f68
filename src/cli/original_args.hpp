// Compatibility with the original run_poseformer.py's command lines (`python run_poseformer.py ...`).
#pragma once

#include <string>
#include <vector>

namespace poselift::cli {

// Rewrites the originals' single-dash long flags (-str, -ste, -sun, -lr, -lrd, -drop, -no-da,
// -no-tta, -frame; VideoPose3D's -arc, -ch; PoseFormerV2's -frame-kept, -coeff-kept; MixSTE's -cs, -dep) to their double-dash names, which CLI11 understands, and, when the first
// argument is a flag rather than a subcommand, inserts the subcommand the original would run:
// `evaluate` with --evaluate, `render` with --render, else `train`.
std::vector<std::string> translate_original_arguments(const std::vector<std::string>& args,
                                                  const std::vector<std::string>& subcommands);

}  // namespace poselift::cli
