// `poselift info`: a dataset's summary, or what a .npz, .npy or checkpoint file holds.
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "engine/inspect.hpp"

namespace poselift::cli {

Command add_info_command(CLI::App& app) {
  auto o = std::make_shared<engine::InfoOptions>();
  auto* info = app.add_subcommand("info", "Summarise a dataset (-d/-k) or inspect a .npz/.npy/checkpoint file");
  add_data_options(*info, o->data);
  info->add_option("file", o->file, "file to inspect instead of a dataset");
  info->add_option("--heads", o->heads, heads_help());
  info->add_option("-f,--number-of-frames", o->frames, "PoseFormerV2's window (its checkpoints do not store it)");

  return {info, [o] {
            for (const auto& line : engine::describe(*o)) fmt::print("{}\n", line);
            return 0;
          }};
}

}  // namespace poselift::cli
