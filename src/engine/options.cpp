#include "engine/options.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "assets/builtin_lifter.hpp"
#include "data/selection.hpp"
#include "io/error.hpp"

namespace poselift::engine {

namespace fs = std::filesystem;

DataSelection parse_data_selection(const DataOptions& options) {
  DataSelection s;
  s.subjects_train = data::split_comma_list(options.subjects_train);
  s.subjects_test = data::split_comma_list(options.subjects_test);
  s.action_filter = data::parse_action_filter(options.actions);
  s.subset = options.subset;
  s.downsample = options.downsample;
  return s;
}

void validate_predict_options(const PredictOptions& options, const std::string& flag) {
  if (options.max_batch <= 0)
    throw InputError(fmt::format("{}: expected a positive number, found {}", flag, options.max_batch));
}

std::string checkpoint_file_path(const std::string& dir, const std::string& file) {
  const std::string joined = (fs::path(dir) / file).string();  // os.path.join semantics
  if (fs::exists(joined) || !fs::exists(file)) return joined;
  return file;
}

std::string resolve_checkpoint_path(const CheckpointOptions& options) {
  if (options.file.empty() && assets::is_builtin_lifter(options.dir)) return options.dir;
  if (options.file.empty()) {
    if (fs::is_regular_file(options.dir)) return options.dir;
    if (!fs::exists(options.dir)) throw InputError(options.dir + ": checkpoint not found");
    throw InputError(options.dir + ": is a folder: name the checkpoint in it with --checkpoint-file FILE (or "
                     "--evaluate FILE)");
  }
  const std::string path = checkpoint_file_path(options.dir, options.file);
  if (!fs::exists(path)) throw InputError(path + ": checkpoint not found (--evaluate is relative to -c)");
  return path;
}

}  // namespace poselift::engine
