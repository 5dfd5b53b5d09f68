// `poselift forward`: a checkpoint run on (B, F, J, 2) windows from a .npy file.
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "engine/predict.hpp"

namespace poselift::cli {

Command add_forward_command(CLI::App& app) {
  auto o = std::make_shared<engine::ForwardOptions>();
  auto* forward = app.add_subcommand("forward", "Run a checkpoint on (B, F, J, 2) windows from a .npy file");
  add_checkpoint_options(*forward, o->checkpoint);
  forward->add_option("--input", o->input, "(B, F, J, C) float32 .npy")->required();
  forward->add_option("--out", o->output,
                      "float32 .npy to write: (B, 1, J, 3); a VideoPose3D convolution (B, F - receptive field + 1, J, 3)")
      ->required();
  forward->add_option("--trajectory-out", o->trajectory_output,
                      "also write the trajectory model's output (VideoPose3D checkpoints with model_traj)");
  add_window_option(*forward, o->model);
  add_loading_options(*forward, o->model);
  add_predict_options(*forward, o->predict);
  add_runtime_options(*forward, o->runtime);

  return {forward, [o, forward] {
            forget_untyped_model_flags(*forward, o->model);
            const auto result = engine::run_forward(*o);
            fmt::print("wrote {} {} from {} windows\n", o->output, result.output_shape, result.windows);
            return 0;
          }};
}

}  // namespace poselift::cli
