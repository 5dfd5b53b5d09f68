// Transitional: the names render_command.cpp still uses. The helpers live in the library now
// (engine/model_loading.hpp, engine/evaluate.hpp, engine/options.hpp); render should call
// engine::resolve_checkpoint_path and engine::load_for_inference instead, and this header goes.
#pragma once

#include <string>
#include <vector>

#include "engine/evaluate.hpp"
#include "engine/model_loading.hpp"
#include "engine/options.hpp"

namespace poselift::cli {

using engine::check_checkpoint_fits;
using engine::python_list;

inline std::string resolve_checkpoint_path(const std::string& dir, const std::string& file) {
  return engine::checkpoint_file_path(dir, file);
}
inline std::vector<engine::EvaluationBlock> print_evaluation(engine::Evaluator& evaluator, bool by_subject) {
  return engine::report_evaluation(evaluator, by_subject);
}

}  // namespace poselift::cli
