#include "cli/evaluation_output.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "io/error.hpp"
#include "report/report.hpp"

namespace poselift::cli {

namespace fs = std::filesystem;

void check_checkpoint_fits(const std::string& path, const model::PoseFormerConfig& config, int frames,
                           int num_joints, const std::string& source) {
  if (frames > 0 && config.num_frames != frames)
    report::warn(fmt::format("{} takes {} frames per prediction: -f {} is ignored", path, config.num_frames, frames));
  if (config.num_joints != num_joints)
    throw InputError(fmt::format("{}: the checkpoint has {} joints but {} has {}", path, config.num_joints, source,
                                 num_joints));
}

std::string python_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "]";
}

std::string resolve_checkpoint_path(const std::string& dir, const std::string& file) {
  const std::string joined = (fs::path(dir) / file).string();  // os.path.join semantics
  if (fs::exists(joined) || !fs::exists(file)) return joined;
  return file;
}

std::vector<engine::EvaluationBlock> print_evaluation(engine::Evaluator& evaluator, bool by_subject) {
  fmt::print("Evaluating...\n");
  std::fflush(stdout);
  auto blocks = evaluator.run(by_subject);
  for (const auto& block : blocks) {
    if (by_subject) fmt::print("Evaluating on subject {}\n", block.subject);
    fmt::print("{}", engine::format_block(block));
    if (by_subject) fmt::print("\n");
  }
  std::fflush(stdout);
  return blocks;
}

}  // namespace poselift::cli
