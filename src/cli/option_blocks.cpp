// Flag blocks shared by several commands.
#include <CLI/CLI.hpp>

#include "cli/command.hpp"

namespace poselift::cli {

namespace {

// A number in (0, 1].
CLI::Validator fraction() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double x = 0;
        if (!CLI::detail::lexical_cast(value, x) || !(x > 0.0 && x <= 1.0))
          return "expected a fraction in (0, 1], found " + value;
        return "";
      },
      "FRACTION in (0, 1]");
}

}  // namespace

void add_data_options(CLI::App& cmd, engine::DataOptions& d) {
  cmd.add_option("-d,--dataset", d.dataset, "dataset name: h36m, humaneva15, custom, or NAME of data_3d_NAME.npz")
      ->capture_default_str();
  cmd.add_option("-k,--keypoints", d.keypoints, "2D detections to use (data_2d_<dataset>_<keypoints>.npz)")
      ->capture_default_str();
  cmd.add_option("--data-dir", d.data_dir, "folder holding the dataset .npz files")->capture_default_str();
  cmd.add_option("--subjects-train", d.subjects_train, "training subjects, comma separated (-str)")
      ->capture_default_str();
  cmd.add_option("--subjects-test", d.subjects_test, "test subjects, comma separated (-ste)")->capture_default_str();
  cmd.add_option("--subjects-unlabeled", d.subjects_unlabeled,
                 "unlabeled subjects (-sun; accepted for compatibility, PoseFormer does not use them)");
  cmd.add_option("-a,--actions", d.actions, "actions to use, comma separated prefixes, or * for all")
      ->capture_default_str();
  cmd.add_option("--subset", d.subset, "reduce the dataset to this fraction (deterministic)")
      ->capture_default_str()
      ->check(fraction());
  cmd.add_option("--downsample", d.downsample, "keep every N-th frame")->capture_default_str()->check(
      CLI::PositiveNumber);
}

const char* heads_help() {
  return "attention heads: poselift's checkpoints store theirs (a warning when --heads disagrees); the original's "
         "files do not, and PoseFormer's 8 is the default";
}

void add_window_option(CLI::App& cmd, engine::ModelOptions& m) {
  cmd.add_option("-f,--number-of-frames", m.frames,
                 "input frames per prediction (odd; -frame); a checkpoint's own count wins (a warning when -f "
                 "disagrees); PoseFormerV2 checkpoints do not store theirs")
      ->capture_default_str();
}

void add_model_options(CLI::App& cmd, engine::ModelOptions& m) {
  add_window_option(cmd, m);
  // The architecture: what training builds; a checkpoint's shapes win over them when loading.
  cmd.add_option("--width,--embed-dim-ratio", m.embed_dim_ratio,
                 "PoseFormer/PoseFormerV2/MixSTE: spatial embedding width per joint (MixSTE's -cs); MotionBERT: dim_feat")
      ->capture_default_str();
  cmd.add_option("--depth", m.depth,
                 "PoseFormer/PoseFormerV2/MixSTE/MotionBERT: transformer blocks per stage (MixSTE's -dep)")
      ->capture_default_str();
  cmd.add_option("--mlp-ratio", m.mlp_ratio, "transformers: MLP width as a multiple of the block width")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 64.0));
  cmd.add_option("--dim-rep", m.representation, "MotionBERT: representation width (dim_rep)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd.add_option("--architecture", m.architecture, "VideoPose3D: filter widths, comma separated (-arc)")
      ->capture_default_str();
  cmd.add_option("--channels", m.channels, "VideoPose3D: convolution channels (-ch)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd.add_option("--frames-kept", m.frames_kept, "PoseFormerV2: centre frames through the spatial stage (-frame-kept)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--coefficients-kept", m.coefficients_kept,
                 "PoseFormerV2: low-frequency DCT coefficients (-coeff-kept; 0: as many as --frames-kept)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  add_loading_options(cmd, m);
}

void add_loading_options(CLI::App& cmd, engine::ModelOptions& m) {
  cmd.add_option("--model", m.family,
                 "model family: poseformer, videopose3d, poseformerv2, mixste or motionbert (a checkpoint tells its own; training "
                 "default: poseformer)")
      ->check(CLI::IsMember({"poseformer", "videopose3d", "poseformerv2", "mixste", "motionbert"}, CLI::ignore_case));
  cmd.add_option("--heads", m.heads, heads_help())->capture_default_str();
  cmd.add_flag("--causal", m.causal, "VideoPose3D: causal convolutions (not in its checkpoints)");
  cmd.add_flag("--dense", m.dense, "VideoPose3D: dense instead of dilated convolutions (not in its checkpoints)");
  cmd.add_option("--layer-norm-eps", m.layer_norm_eps,
                 "MotionBERT: LayerNorm eps, not in its checkpoints (default: 1e-6, as its scripts build its models)")
      ->check(CLI::Range(0.0, 0.1));
  cmd.add_option("--config", m.config,
                 "MotionBERT: its YAML configuration (configs/pose3d/*.yaml): num_heads for the model, the other model "
                 "fields checked against the checkpoint; infer also takes rootrel, flip, no_conf, gt_2d, clip_len "
                 "from it");
  cmd.add_flag("!--non-strict", m.strict_load,
               "load checkpoints partially, warning about skipped keys (default: strict)");
}

void add_predict_options(CLI::App& cmd, engine::PredictOptions& p, bool batch) {
  cmd.add_flag("!--no-test-time-augmentation", p.test_time_augmentation,
               "disable flip test-time augmentation (-no-tta)");
  if (batch)
    cmd.add_option("-b,--batch-size", p.max_batch, "windows per forward pass (bounds memory; the input runs in such chunks)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
}

void add_checkpoint_options(CLI::App& cmd, engine::CheckpointOptions& c, bool file_required) {
  cmd.add_option("-c,--checkpoint", c.dir,
                 file_required ? "checkpoint folder"
                               : "checkpoint folder, or a checkpoint file itself (then --checkpoint-file is not needed), "
                                 "or builtin: the lifter inside poselift (trained on CMU motion capture)")
      ->capture_default_str();
  auto* file = cmd.add_option("--evaluate,--checkpoint-file", c.file,
                              "checkpoint file in the -c folder, or a path used as given when only that exists");
  if (file_required) file->required();
}

void add_runtime_options(CLI::App& cmd, engine::RuntimeOptions& r) {
  cmd.add_option("--device", r.device, "cpu, cuda or auto (cuda when available)")->capture_default_str();
  cmd.add_option("--threads", r.threads,
                 "CPU threads (0: all CPUs this process may use, or what OMP_NUM_THREADS says; more than that is "
                 "capped)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd.add_option("--precision", r.precision,
                 "inference arithmetic of the fast path's wide linear layers (the temporal stage's): float32; int8 "
                 "(8-bit integers); bf16 (bfloat16 with float32 sums, on CPUs with AVX512-BF16 or AMX); auto (bf16 "
                 "where the CPU has it, else float32). float32 is the default because it reproduces the original "
                 "code's reports digit for digit; bf16 moves a trained model's predictions by ~1 mm per joint")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "int8", "bf16", "auto"}));
  cmd.add_option("--impl", r.implementation, "PoseFormer code path: fast (CPU fast path) or reference")
      ->capture_default_str()
      ->check(CLI::IsMember({"fast", "reference"}));
  cmd.add_flag("!--no-progress", r.progress, "no progress bars");
}

void forget_untyped_model_flags(CLI::App& cmd, engine::ModelOptions& model) {
  if (cmd.count("--heads") == 0) model.heads = 0;
  if (cmd.get_option_no_throw("-f") == nullptr || cmd.count("-f") == 0) model.frames = 0;
}

}  // namespace poselift::cli
