// `poselift train`: training from scratch or resumed, single- or multi-process, then the final
// evaluation, as the original's default mode (engine::run_train).
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "cli/launch.hpp"
#include "engine/distributed.hpp"
#include "engine/train.hpp"

namespace poselift::cli {

namespace {

struct TrainFlags {
  engine::TrainRunOptions run;
  int nproc = 0;  // --nproc N: start N local ranks (0: single process or torchrun's)
};

int run_train(const TrainFlags& o) {
  if (o.nproc > 0) {
    LaunchOptions launch;
    launch.nproc = o.nproc;
    launch.timeout_seconds = o.run.dist_timeout;
    launch.threads_per_worker = o.run.runtime.threads;
    return launch_workers(launch);
  }
  engine::TrainRunResult result;
  try {
    result = engine::run_train(o.run);
  } catch (const engine::DistributedError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 4;
  }
  if (!result.message.empty()) fmt::print(stderr, "poselift: {}\n", result.message);
  if (result.outcome == engine::TrainOutcome::Interrupted) return 128 + result.signal;
  return result.outcome == engine::TrainOutcome::Diverged ? 3 : 0;
}

// The family's original defaults for the training flags a user did not type.
void apply_recipe_defaults(const CLI::App& cmd, engine::TrainRunOptions& r) {
  if (r.model.family.empty()) return;
  const auto family = model::family_from_name(r.model.family);
  auto recipe = engine::training_recipe(family);
  if (!r.model.config.empty()) {
    if (family != model::Family::MotionBERT)
      throw InputError(fmt::format("--config {}: a MotionBERT configuration; --model is {}", r.model.config, r.model.family));
    recipe = engine::motionbert_recipe_from_config(r.model.config, recipe);
  }
  auto untyped = [&](const char* flag) { return cmd.count(flag) == 0; };
  if (untyped("--epochs")) r.train.epochs = recipe.epochs;
  if (untyped("--batch-size")) r.train.batch_size = recipe.batch_size;
  if (untyped("--learning-rate")) r.train.learning_rate = recipe.learning_rate;
  if (untyped("--lr-decay")) r.train.lr_decay = recipe.lr_decay;
  if (untyped("--checkpoint-frequency")) r.train.checkpoint_frequency = recipe.checkpoint_frequency;
  if (untyped("--weight-decay")) r.train.weight_decay = recipe.weight_decay;
  if (untyped("--dropout")) r.model.dropout = recipe.dropout;
  if (recipe.frames > 0 && untyped("-f")) r.model.frames = recipe.frames;
  if (recipe.width > 0 && untyped("--width")) r.model.embed_dim_ratio = recipe.width;
  if (recipe.depth > 0 && untyped("--depth")) r.model.depth = recipe.depth;
  if (recipe.mlp_ratio > 0 && untyped("--mlp-ratio")) r.model.mlp_ratio = recipe.mlp_ratio;
  if (recipe.representation > 0 && untyped("--dim-rep")) r.model.representation = recipe.representation;
  if (untyped("--stride")) r.train.stride = recipe.stride > 0 ? recipe.stride : r.model.frames;
  if (untyped("--data-stride")) r.train.clip_step = recipe.clip_step;
  if (recipe.heads > 0 && untyped("--heads")) r.model.heads = recipe.heads;
  if (untyped("--lambda-3d-velocity")) r.train.velocity_weight = recipe.velocity_weight;
  if (untyped("--lambda-scale")) r.train.scale_weight = recipe.scale_weight;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainFlags>();
  auto* train = app.add_subcommand("train",
                                   "Train a model from scratch or resume (the originals' default mode); --model picks the "
                                   "family");
  auto& r = o->run;
  add_data_options(*train, r.data);
  add_model_options(*train, r.model);
  add_runtime_options(*train, r.runtime);
  train->add_option("-c,--checkpoint", r.train.checkpoint_dir, "checkpoint folder (written; -r reads from it)")
      ->capture_default_str();
  train->add_option("--checkpoint-frequency", r.train.checkpoint_frequency, "write epoch_N.bin every N epochs")
      ->capture_default_str();
  train->add_option("-r,--resume", r.train.resume, "checkpoint to resume (file name in -c, or a path)");
  train->add_option("-e,--epochs", r.train.epochs, "training epochs")->capture_default_str()->check(
      CLI::Range(1, 1'000'000));
  train->add_option("-b,--batch-size", r.train.batch_size, "batch size in predicted frames")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  train->add_option("-s,--stride", r.train.stride,
                    "consecutive target frames per shuffled chunk; sequence models take -b/-s clips per step "
                    "(MixSTE's default: -f, MotionBERT's: 1)")
      ->capture_default_str();
  train->add_option("--dropout", r.model.dropout,
                    "dropout probability (-drop): VideoPose3D's (default 0.25); the transformers use stochastic depth");
  train->add_option("--data-stride", r.train.clip_step,
                    "MotionBERT: frames between the starts of its training clips (its YAML's data_stride; default 81)")
      ->check(CLI::Range(1, 1 << 20));
  train->add_option("--lambda-3d-velocity", r.train.velocity_weight, "MotionBERT: weight of the velocity loss")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  train->add_option("--lambda-scale", r.train.scale_weight, "MotionBERT: weight of the scale-normalised (N-MPJPE) loss")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  train->add_flag("--trajectory", r.train.trajectory,
                  "VideoPose3D: also train the trajectory model (the root's global position), as model_traj");
  train->add_option("--learning-rate", r.train.learning_rate, "initial learning rate (-lr)")->capture_default_str();
  train->add_option("--lr-decay", r.train.lr_decay, "learning rate factor per epoch (-lrd)")->capture_default_str();
  train->add_option("--weight-decay", r.train.weight_decay, "AdamW weight decay")->capture_default_str();
  train->add_option("--drop-path", r.model.drop_path, "stochastic depth rate of the last block")
      ->capture_default_str();
  train->add_flag("!--no-data-augmentation", r.train.data_augmentation, "disable flip augmentation (-no-da)");
  add_predict_options(*train, r.evaluation, /*batch=*/false);
  train->add_flag("--no-eval", r.train.no_eval, "skip the per-epoch evaluation");
  train->add_flag("--export-training-curves", r.train.export_training_curves,
                  "write training_curves.csv and loss_3d.png into -c after every epoch");
  train->add_flag("--by-subject", r.by_subject, "final evaluation broken down per subject");
  train->add_option("--seed", r.train.seed, "seed of the example shuffling (the original's is 1234)")
      ->capture_default_str();
  train->add_option("--max-batches", r.train.max_batches_per_epoch, "cap on batches per epoch (0: all)")
      ->capture_default_str();
  train->add_option("--torch-seed", r.torch_seed,
                    "seed of LibTorch's generator (initial weights, stochastic depth) for reproducible runs; default: "
                    "random, as PyTorch")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--nproc", o->nproc,
                    "data-parallel on this host: start N ranks (-b is per rank); torchrun-style variables "
                    "(MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) start one rank instead")
      ->check(CLI::Range(1, 1024));
  train->add_option("--dist-timeout", r.dist_timeout,
                    "multi-process: seconds to wait for the other ranks before failing")
      ->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--check-every", r.train.check_every,
                    "multi-process: steps between checks that all ranks hold identical weights (0: epoch ends only)")
      ->capture_default_str();

  return {train, [o, train] {
            apply_recipe_defaults(*train, o->run);
            return run_train(*o);
          }};
}

}  // namespace poselift::cli
