#include "bench/families.hpp"
#include "bench/projection.hpp"
#include "bench/tables.hpp"
#include "bench/timing.hpp"

#include <fmt/format.h>

#include <chrono>
#include <functional>

#include "data/h36m.hpp"
#include "engine/infer.hpp"
#include "engine/predict.hpp"
#include "model/registry.hpp"
#include "report/report.hpp"
#include "runtime/memory.hpp"
#include "runtime/threads.hpp"

namespace poselift::bench {

namespace {

// The published configurations (the papers' Human3.6M models).
model::ModelSpec published(model::Family family) {
  switch (family) {
    case model::Family::PoseFormer: {
      model::PoseFormerConfig c;  // 81 frames, width 32, depth 4, 8 heads
      return c;
    }
    case model::Family::VideoPose3D: {
      model::VideoPose3DConfig c;  // 243 frames: widths 3,3,3,3,3, 1024 channels
      return c;
    }
    case model::Family::PoseFormerV2: {
      model::PoseFormerV2Config c;
      c.num_frames = 243;
      c.frames_kept = 27;
      c.coefficients_kept = 27;
      c.embed_dim_ratio = 32;
      c.depth = 4;
      return c;
    }
    case model::Family::MixSTE: {
      model::MixSTEConfig c;  // run.py's defaults: 243 frames, width 512, depth 8, 8 heads, mlp 2
      return c;
    }
    default: break;
  }
  throw std::logic_error("no published configuration");
}

// MotionBERT's Human3.6M models (configs/pose3d/MB_ft_h36m.yaml and its _global_lite form) as
// load_backbone builds them.
model::MotionBERTConfig published_motionbert(bool lite) {
  model::MotionBERTConfig c;
  c.dim_feat = lite ? 256 : 512;
  c.mlp_ratio = lite ? 4.0 : 2.0;
  c.dim_rep = 512;
  c.depth = 5;
  c.num_heads = 8;
  c.maxlen = 243;
  c.norm_eps = model::kMotionBERTScriptNormEps;
  return c;
}

// Sets the code path of the families that have two.
void use_fast_path(model::LifterImpl& net, bool fast) {
  const auto impl = fast ? model::Implementation::fast : model::Implementation::reference;
  if (auto* p = dynamic_cast<model::PoseFormerImpl*>(&net)) p->set_implementation(impl);
  if (auto* v = dynamic_cast<model::PoseFormerV2Impl*>(&net)) v->set_implementation(impl);
  if (auto* m = dynamic_cast<model::MixSTEImpl*>(&net)) m->set_implementation(impl);
  if (auto* b = dynamic_cast<model::MotionBERTImpl*>(&net)) b->set_implementation(impl);
}

// Inference rate (output frames/s) of `outputs` frames, plain form against poselift's.
PathFigures inference(model::LifterImpl& net, int threads, int outputs, double seconds) {
  torch::NoGradGuard no_grad;
  const int F = net.receptive_field();
  const auto J = net.input_joints(), C = net.input_channels();
  PathFigures figures{threads, outputs, 0, 0};
  if (net.temporal_shape() == model::TemporalShape::Convolution) {
    // One window per output frame (what a caller feeding windows does) against the sequence
    // of those frames through the convolution in one pass.
    const auto windows = torch::randn({outputs, F, J, C});
    const auto sequence = torch::randn({1, outputs + F - 1, J, C});
    const auto [plain, poselift] =
        alternate([&] { net.forward(windows); }, [&] { net.forward(sequence); }, seconds);
    figures.reference = outputs / plain;
    figures.fast = outputs / poselift;
  } else {
    const auto windows = torch::randn({outputs, F, J, C});
    auto run = [&](bool fast) {
      return [&, fast] {
        use_fast_path(net, fast);
        net.forward(windows);
      };
    };
    const auto [plain, poselift] = alternate(run(false), run(true), seconds);
    figures.reference = outputs / plain;
    figures.fast = outputs / poselift;
  }
  return figures;
}

// Training steps/s (forward + MPJPE + backward + optimizer step on `batch` windows).
PathFigures training(model::LifterImpl& net, int threads, int batch, int steps) {
  const int F = net.receptive_field();
  net.train();
  torch::optim::Adam optimizer(net.parameters(), torch::optim::AdamOptions(1e-4));
  const auto input = torch::randn({batch, F, net.input_joints(), net.input_channels()});
  const auto target = torch::randn({batch, 1, net.output_joints(), 3});
  auto* convolution = dynamic_cast<model::VideoPose3DImpl*>(&net);
  auto step = [&](bool fast) {
    return [&, fast] {
      if (convolution) convolution->set_strided_training(fast);
      use_fast_path(net, fast);
      optimizer.zero_grad();
      auto loss = (net.forward(input) - target).norm(2, -1).mean();
      loss.backward();
      optimizer.step();
    };
  };
  const auto [plain, poselift] = alternate(step(false), step(true), 0.0, steps);
  net.eval();
  return {threads, batch, 1 / plain, 1 / poselift};
}

// The sequence-to-sequence families' thread count: the 2 cores MotionBERT-size models must run on.
constexpr int kSequenceThreads = 2;

std::string rate(double value) { return value >= 100 ? fmt::format("{:.0f}", value) : fmt::format("{:.1f}", value); }

std::string pair_cell(const PathFigures& f) {
  return fmt::format("{} / {} ({:.1f}x)", rate(f.reference), rate(f.fast), f.ratio());
}

// Training steps are long: seconds per step reads better than steps per second.
std::string step_cell(const PathFigures& f) {
  return fmt::format("{:.2f} / {:.2f} ({:.1f}x)", 1 / f.reference, 1 / f.fast, f.ratio());
}

}  // namespace

std::vector<FamilyFigures> measure_families(int threads, double seconds, int train_batch, int train_steps) {
  runtime::CpuThreadScope scope(threads);
  std::vector<FamilyFigures> out;
  for (auto family : {model::Family::PoseFormer, model::Family::PoseFormerV2, model::Family::VideoPose3D}) {
    torch::manual_seed(0);
    const model::ModelSpec spec = published(family);
    const model::Lifter net = model::make_lifter(spec);
    net->eval();
    FamilyFigures f;
    f.family = model::family_name(family);
    f.configuration = net->describe();
    f.parameters = static_cast<double>(net->parameter_count());
    f.macs_per_frame = net->macs_per_output_frame();
    f.batch64 = inference(*net, threads, 64, seconds);
    f.single_window = inference(*net, threads, 1, seconds / 2);
    f.training = training(*net, threads, train_batch, train_steps);
    out.push_back(f);
  }
  return out;
}

std::vector<SequenceFamilyFigures> measure_sequence_families(int threads, int passes) {
  runtime::CpuThreadScope scope(threads);
  torch::NoGradGuard no_grad;
  std::vector<model::ModelSpec> specs = {published(model::Family::MixSTE), published_motionbert(false),
                                         published_motionbert(true)};
  std::vector<SequenceFamilyFigures> out;
  for (const auto& spec : specs) {
    torch::manual_seed(0);
    const model::Lifter net = model::make_lifter(spec);
    net->eval();
    SequenceFamilyFigures f;
    f.family = model::family_name(model::family_of(spec));
    f.configuration = net->describe();
    f.parameters = static_cast<double>(net->parameter_count());
    f.macs_per_frame = net->macs_per_output_frame();
    f.window = net->receptive_field();
    const auto clip = torch::randn({1, f.window, net->input_joints(), net->input_channels()});
    auto run = [&](bool fast) {
      return [&, fast] {
        use_fast_path(*net, fast);
        net->forward(clip);
      };
    };
    const auto [plain, poselift] = alternate(run(false), run(true), 0.0, std::max(1, passes));
    f.clip = {threads, 1, f.window / plain, f.window / poselift};
    out.push_back(f);
  }
  return out;
}

int run_family_benchmark(const BenchOptions& o) {
  report::line("model families in their published Human3.6M configurations, random weights");
  report::line("each cell: the straightforward LibTorch form / poselift's (ratio), alternated in one run");
  report::line("  PoseFormer, PoseFormerV2: reference modules / fast path");
  report::line("  VideoPose3D inference: one window per output frame / the sequence through the convolution");
  report::line("  VideoPose3D training: dilated convolutions / the original's strided training form");
  report::line("  MixSTE, MotionBERT: reference modules / fast path");
  FamilyFigures poseformer;  // its batch-64 rate at kSequenceThreads, for the projection
  for (int threads : {1, 2}) {
    report::line("");
    report::line(fmt::format("{} thread{}; training step: batch {}", threads, threads == 1 ? "" : "s", o.train_batch));
    report::line("| family | configuration | parameters | MACs per frame | frames/s, batch 64 | frames/s, one window | "
                 "training step, s |");
    report::line("|---|---|---|---|---|---|---|");
    for (const auto& f : measure_families(threads, o.seconds, o.train_batch, o.train_steps)) {
      report::line(fmt::format("| {} | {} | {:.2f} M | {:.1f} M | {} | {} | {} |", f.family, f.configuration,
                               f.parameters / 1e6, f.macs_per_frame / 1e6, pair_cell(f.batch64),
                               pair_cell(f.single_window), step_cell(f.training)));
      if (threads == kSequenceThreads && f.family == model::family_name(model::Family::PoseFormer))
        poseformer = f;
    }
  }

  // The sequence-to-sequence families, one clip of their full length per forward.
  const auto lengths = h36m_test_sequence_lengths();
  auto hours_cell = [&](std::int64_t window, bool per_clip, double reference_rate, double fast_rate, int items) {
    // Seconds per forward from frames/s: a clip of `window` output frames, or one window.
    return fmt::format("{:.2f} / {:.2f}", projected_hours(lengths, window, per_clip, items / reference_rate),
                       projected_hours(lengths, window, per_clip, items / fast_rate));
  };
  report::line("");
  report::line(fmt::format("sequence-to-sequence families, {} threads: one clip per forward (batch 1), each form run "
                           "{} time{} after a warm-up (--clip-passes)",
                           kSequenceThreads, o.clip_passes, o.clip_passes == 1 ? "" : "s"));
  report::line(fmt::format("Human3.6M test set ({:.0f} frames), flip test-time augmentation: ceil(T/F) clips per "
                           "sequence, 2 forwards each; PoseFormer one window per output frame, x2 (batch 64 rate)",
                           kH36mTestWindows));
  report::line("| family | configuration | parameters | MACs per frame | frames/s, one clip | "
               "Human3.6M test with flip, h |");
  report::line("|---|---|---|---|---|---|");
  for (const auto& f : measure_sequence_families(kSequenceThreads, o.clip_passes))
    report::line(fmt::format("| {} | {} | {:.2f} M | {:.1f} M | {} | {} |", f.family, f.configuration,
                             f.parameters / 1e6, f.macs_per_frame / 1e6, pair_cell(f.clip),
                             hours_cell(f.window, true, f.clip.reference, f.clip.fast, f.window)));
  if (poseformer.parameters > 0)
    report::line(fmt::format("| {} | {} | {:.2f} M | {:.1f} M | {} (batch 64) | {} |", poseformer.family,
                             poseformer.configuration, poseformer.parameters / 1e6,
                             poseformer.macs_per_frame / 1e6, pair_cell(poseformer.batch64),
                             hours_cell(1, false, poseformer.batch64.reference, poseformer.batch64.fast, 1)));
  report::line("");
  report::line(fmt::format("peak memory: {:.0f} MiB", runtime::peak_memory_mib()));
  return 0;
}

}  // namespace poselift::bench
