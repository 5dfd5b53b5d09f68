// `poselift prepare synthetic|mocap`: datasets in the VideoPose3D layout from built-in motion or
// from motion-capture files.
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "mocap/prepare.hpp"
#include "mocap/synthetic.hpp"

namespace poselift::cli {

namespace {

struct PrepareFlags {
  std::string prepare_out = "data", prepare_name = "synthetic";
  std::vector<std::string> prepare_inputs, prepare_test_subjects, prepare_mappings;
  double synthetic_seconds = 6.0, prepare_fps = 50.0, noise_strength = 1.0;
  std::uint64_t prepare_seed = 0;
  bool random_rigs = false, skip_unreadable = false;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

void print_written(const mocap::WrittenDataset& files, const std::string& name, const std::string& out_dir,
                   const std::vector<std::string>& train, const std::vector<std::string>& test) {
  fmt::print("wrote {}\n      {}\n", files.positions_3d_path, files.keypoints_gt_path);
  for (std::size_t i = 0; i < files.keypoints_noisy_paths.size(); ++i)
    fmt::print("      {} (mean 2D error {:.1f} px)\n", files.keypoints_noisy_paths[i],
               i < files.noisy_mean_error_px.size() ? files.noisy_mean_error_px[i] : 0.0);
  fmt::print("{} frames per camera, {:.2f}% of the 2D joints inside the image\n", files.frames,
             files.fraction_inside_image * 100);
  fmt::print("train with: poselift train -d {} -k gt --data-dir {} -str {} -ste {}\n", name, out_dir, joined(train),
             joined(test));
}

int run_prepare_synthetic(const PrepareFlags& o) {
  mocap::SyntheticOptions options;
  options.name = o.prepare_name;
  options.output_dir = o.prepare_out;
  options.seconds_per_action = o.synthetic_seconds;
  options.seed = o.prepare_seed;
  options.cameras.randomize = o.random_rigs;
  options.noisy.front().noise.strength = o.noise_strength;
  auto report = mocap::prepare_synthetic_dataset(options);
  fmt::print("synthetic dataset '{}': {} train subjects, {} test subjects, made in {:.1f} s\n", options.name,
             report.train_subjects.size(), report.test_subjects.size(), report.seconds);
  print_written(report.files, options.name, options.output_dir, report.train_subjects, report.test_subjects);
  return 0;
}

int run_prepare_mocap(const PrepareFlags& o) {
  mocap::PrepareMocapOptions options;
  options.inputs = o.prepare_inputs;
  options.name = o.prepare_name;
  options.output_dir = o.prepare_out;
  options.seed = o.prepare_seed;
  options.import.target_fps = o.prepare_fps;
  options.mapping_files = o.prepare_mappings;
  options.skip_unreadable = o.skip_unreadable;
  options.test_subjects = o.prepare_test_subjects;
  options.cameras.randomize = o.random_rigs;
  options.noisy.front().noise.strength = o.noise_strength;
  auto report = mocap::prepare_mocap_dataset(options);
  for (const auto& [file, reason] : report.skipped) fmt::print(stderr, "skipped {}: {}\n", file, reason);
  fmt::print("{} clips, {} subjects ({} for training, {} for testing) at {} fps, made in {:.1f} s\n",
             report.clips.size(), report.subjects.size(), report.train_subjects.size(), report.test_subjects.size(),
             report.fps, report.seconds);
  print_written(report.files, options.name, options.output_dir, report.train_subjects, report.test_subjects);
  return 0;
}

}  // namespace

std::vector<Command> add_prepare_commands(CLI::App& app) {
  auto o = std::make_shared<PrepareFlags>();
  auto* prepare = app.add_subcommand("prepare", "Make datasets in the VideoPose3D layout");
  prepare->require_subcommand(1);
  auto* synthetic = prepare->add_subcommand("synthetic", "Procedural human motion (built-in data, no downloads)");
  synthetic->add_option("--out", o->prepare_out, "output folder")->capture_default_str();
  synthetic->add_option("--name", o->prepare_name, "dataset name (-d NAME)")->capture_default_str();
  synthetic->add_option("--seconds", o->synthetic_seconds, "seconds per action and subject")->capture_default_str();
  synthetic->add_option("--seed", o->prepare_seed, "random seed")->capture_default_str();
  synthetic->add_option("--noise", o->noise_strength, "detector-noise strength of the noisy 2D file")
      ->capture_default_str();
  synthetic->add_flag("--random-rigs", o->random_rigs, "randomised camera rigs per subject");
  auto* mocap = prepare->add_subcommand("mocap", "Import BVH / ASF+AMC motion capture with virtual cameras");
  mocap->add_option("--input", o->prepare_inputs, "motion files or folders (scanned recursively)")->required();
  mocap->add_option("--name", o->prepare_name, "dataset name (-d NAME)")->required();
  mocap->add_option("--out", o->prepare_out, "output folder")->capture_default_str();
  mocap->add_option("--fps", o->prepare_fps, "target frame rate (0 keeps the source's)")->capture_default_str();
  mocap->add_option("--seed", o->prepare_seed, "random seed (split, rigs, noise)")->capture_default_str();
  mocap->add_option("--noise", o->noise_strength, "detector-noise strength of the noisy 2D file")
      ->capture_default_str();
  mocap->add_option("--test-subjects", o->prepare_test_subjects, "performers to hold out for testing");
  mocap->add_option("--mapping", o->prepare_mappings, "JSON joint mapping files for other rigs");
  mocap->add_flag("--random-rigs", o->random_rigs, "randomised camera rigs per subject");
  mocap->add_flag("--skip-unreadable", o->skip_unreadable, "report unreadable files instead of failing");

  return {{synthetic, [o] { return run_prepare_synthetic(*o); }}, {mocap, [o] { return run_prepare_mocap(*o); }}};
}

}  // namespace poselift::cli
