// What `evaluate`, `train` and `render` share: the checkpoint a command names, the check that it
// fits the 2D keypoints, and the printed evaluation report.
#pragma once

#include <string>
#include <vector>

#include "engine/evaluate.hpp"
#include "model/poseformer.hpp"

namespace poselift::cli {

// Throws InputError unless a loaded checkpoint takes `frames` frames of `num_joints` joints
// (`source` names the 2D keypoints file).
void check_checkpoint_fits(const std::string& path, const model::PoseFormerConfig& config, int frames,
                           int num_joints, const std::string& source);

// Python's repr() of a list of strings.
std::string python_list(const std::vector<std::string>& items);
// -c DIR joined with --evaluate FILE (os.path.join), or FILE as given when only that exists.
std::string resolve_checkpoint_path(const std::string& dir, const std::string& file);
// Prints "Evaluating..." and every block as the original does.
std::vector<engine::EvaluationBlock> print_evaluation(engine::Evaluator& evaluator, bool by_subject);

}  // namespace poselift::cli
