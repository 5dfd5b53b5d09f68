// `poselift evaluate`: a checkpoint's errors under the Human3.6M protocols, as the original's
// --evaluate prints them (engine::run_evaluate reports the lines).
#include <memory>

#include "cli/command.hpp"
#include "engine/evaluate.hpp"

namespace poselift::cli {

Command add_evaluate_command(CLI::App& app) {
  auto o = std::make_shared<engine::EvaluateOptions>();
  auto* evaluate = app.add_subcommand("evaluate", "Evaluate a checkpoint: MPJPE, P-MPJPE, N-MPJPE, MPJVE per action");
  add_data_options(*evaluate, o->data);
  add_model_options(*evaluate, o->model);
  add_runtime_options(*evaluate, o->runtime);
  add_checkpoint_options(*evaluate, o->checkpoint, /*file_required=*/true);
  evaluate->add_flag("--by-subject", o->by_subject, "break the errors down per subject");
  add_predict_options(*evaluate, o->predict);
  evaluate->add_option("--json", o->json_out, "also write the figures as JSON");

  return {evaluate, [o, evaluate] {
            forget_untyped_model_flags(*evaluate, o->model);
            engine::run_evaluate(*o);
            return 0;
          }};
}

}  // namespace poselift::cli
