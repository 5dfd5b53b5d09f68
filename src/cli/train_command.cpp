// `poselift train`: training from scratch or resumed, single- or multi-process, then the final
// evaluation, as the original's default mode.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/command.hpp"
#include "cli/evaluation_output.hpp"
#include "cli/launch.hpp"
#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "engine/distributed.hpp"
#include "engine/evaluate.hpp"
#include "engine/runtime.hpp"
#include "engine/train.hpp"
#include "runtime/signals.hpp"

namespace poselift::cli {

namespace {

struct TrainFlags {
  engine::DataOptions data;
  engine::ModelOptions model;
  engine::RuntimeOptions runtime;
  engine::TrainOptions train;
  bool by_subject = false;
  double dropout = 0.0;
  std::int64_t torch_seed = -1;  // --torch-seed: LibTorch's generator (weight init, stochastic depth); -1 random
  int nproc = 0;              // --nproc N: start N local ranks (0: single process or torchrun's)
  double dist_timeout = 300;  // --dist-timeout: seconds before a silent peer counts as failed
};

int run_train(const TrainFlags& o) {
  if (o.nproc > 0) {
    LaunchOptions launch;
    launch.nproc = o.nproc;
    launch.timeout_seconds = o.dist_timeout;
    launch.threads_per_worker = o.runtime.threads;
    return launch_workers(launch);
  }
  const engine::WorldInfo world = engine::world_from_environment();
  // Only rank 0 prints the run's lines; the others keep stderr for their errors.
  if (world.rank > 0 && !std::freopen("/dev/null", "w", stdout)) throw std::runtime_error("cannot silence stdout");
  torch::Device device = engine::configure_runtime(o.runtime);
  if (world.distributed() && device.is_cuda())
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank % torch::cuda::device_count()));
  std::unique_ptr<engine::Communicator> comm;
  try {
    if (world.distributed()) {
      engine::CommunicatorOptions comm_options;
      comm_options.timeout_seconds = o.dist_timeout;
      comm = std::make_unique<engine::Communicator>(world, device, comm_options);
    }
  } catch (const engine::DistributedError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 4;
  }
  if (o.dropout != 0.0)
    fmt::print(stderr, "WARNING: -drop/--dropout is accepted for compatibility; PoseFormer trains with stochastic "
                       "depth (--drop-path) and no dropout\n");
  std::printf("Loading dataset...\n");
  auto dataset = data::load_dataset(o.data.dataset, o.data.data_dir, o.data.keypoints);
  std::printf("Preparing data...\n");
  std::printf("Loading 2D detections...\n");
  auto keypoints = data::load_keypoints(dataset, o.data.data_dir, o.data.keypoints);
  const auto action_filter = data::parse_action_filter(o.data.actions);
  if (!action_filter.empty()) std::printf("Selected actions: %s\n", python_list(action_filter).c_str());

  engine::TrainSetup setup;
  setup.dataset = &dataset;
  setup.keypoints = &keypoints;
  setup.data = o.data;
  setup.model = o.model;
  setup.train = o.train;
  setup.train.progress = o.runtime.progress && world.rank == 0;
  setup.device = device;
  setup.comm = comm.get();
  if (o.torch_seed >= 0) torch::manual_seed(static_cast<std::uint64_t>(o.torch_seed));
  runtime::enable_stop_requests();
  model::PoseFormer trained{nullptr};
  engine::TrainResult result;
  try {
    result = engine::train_poseformer(setup, &trained);
  } catch (const engine::DistributedError& e) {
    fmt::print(stderr, "poselift: error: {}\n", e.what());
    return 4;
  }
  if (result.outcome == engine::TrainOutcome::Interrupted) {
    if (world.rank == 0) fmt::print(stderr, "poselift: {}\n", result.message);
    return 128 + runtime::stop_request().load();
  }
  if (result.outcome == engine::TrainOutcome::Diverged) {
    fmt::print(stderr, "poselift: {}\n", result.message);
    return 3;
  }
  if (world.rank > 0) return 0;  // rank 0 alone runs the final evaluation
  // From here a signal ends the process at once, as in `evaluate`.
  runtime::disable_stop_requests();
  if (const int sig = runtime::stop_request().load()) {
    fmt::print(stderr, "poselift: interrupted by signal {} before the final evaluation; the trained weights are in {}\n",
               sig, result.last_checkpoint);
    return 128 + sig;
  }
  // As the original, the final evaluation follows the last epoch.
  engine::EvaluateOptions options;
  options.subjects = data::split_comma_list(o.data.subjects_test);
  options.action_filter = action_filter;
  options.downsample = o.data.downsample;
  options.predict.test_time_augmentation = o.train.test_time_augmentation;
  options.progress = o.runtime.progress;
  engine::Evaluator evaluator(trained, dataset, keypoints, engine::flip_symmetry(dataset, keypoints), options,
                              device);
  print_evaluation(evaluator, o.by_subject);
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainFlags>();
  auto* train = app.add_subcommand("train", "Train PoseFormer from scratch or resume (the seed's default mode)");
  add_data_options(*train, o->data);
  add_model_options(*train, o->model);
  add_runtime_options(*train, o->runtime);
  train->add_option("-c,--checkpoint", o->train.checkpoint_dir, "checkpoint folder")->capture_default_str();
  train->add_option("--checkpoint-frequency", o->train.checkpoint_frequency, "write epoch_N.bin every N epochs")
      ->capture_default_str();
  train->add_option("-r,--resume", o->train.resume, "checkpoint to resume (file name in -c, or a path)");
  train->add_option("-e,--epochs", o->train.epochs, "training epochs")->capture_default_str()->check(
      CLI::Range(1, 1'000'000));
  train->add_option("-b,--batch-size", o->train.batch_size, "batch size in predicted frames")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  train->add_option("-s,--stride", o->train.stride, "consecutive target frames per shuffled chunk")
      ->capture_default_str();
  train->add_option("--dropout", o->dropout, "dropout probability (-drop; PoseFormer uses stochastic depth instead)");
  train->add_option("--learning-rate", o->train.learning_rate, "initial learning rate (-lr)")->capture_default_str();
  train->add_option("--lr-decay", o->train.lr_decay, "learning rate factor per epoch (-lrd)")->capture_default_str();
  train->add_option("--weight-decay", o->train.weight_decay, "AdamW weight decay")->capture_default_str();
  train->add_option("--drop-path", o->model.drop_path, "stochastic depth rate of the last block")
      ->capture_default_str();
  train->add_option("--width", o->model.embed_dim_ratio, "spatial embedding width per joint")->capture_default_str();
  train->add_option("--depth", o->model.depth, "transformer blocks per stage")->capture_default_str();
  train->add_flag("!--no-data-augmentation", o->train.data_augmentation, "disable flip augmentation (-no-da)");
  train->add_flag("!--no-test-time-augmentation", o->train.test_time_augmentation,
                  "disable flip augmentation at evaluation (-no-tta)");
  train->add_flag("--no-eval", o->train.no_eval, "skip the per-epoch evaluation");
  train->add_flag("--export-training-curves", o->train.export_training_curves,
                  "write training_curves.csv and loss_3d.png into -c after every epoch");
  train->add_flag("--by-subject", o->by_subject, "final evaluation broken down per subject");
  train->add_option("--seed", o->train.seed, "seed of the example shuffling (the original's is 1234)")
      ->capture_default_str();
  train->add_option("--max-batches", o->train.max_batches_per_epoch, "cap on batches per epoch (0: all)")
      ->capture_default_str();
  train->add_option("--torch-seed", o->torch_seed,
                    "seed LibTorch's generator (initial weights, stochastic depth) for reproducible runs; default: "
                    "random, as PyTorch")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--nproc", o->nproc,
                    "data-parallel on this host: start N ranks (-b is per rank); torchrun-style variables "
                    "(MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) start one rank instead")
      ->check(CLI::Range(1, 1024));
  train->add_option("--dist-timeout", o->dist_timeout,
                    "multi-process: seconds to wait for the other ranks before failing")
      ->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--check-every", o->train.check_every,
                    "multi-process: steps between checks that all ranks hold identical weights (0: epoch ends only)")
      ->capture_default_str();

  return {train, [o] { return run_train(*o); }};
}

}  // namespace poselift::cli
