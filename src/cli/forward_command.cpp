// `poselift forward`: a checkpoint run on (B, F, J, 2) windows from a .npy file.
#include <fmt/format.h>

#include <memory>

#include "cli/command.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "report/report.hpp"

namespace poselift::cli {

namespace {

struct ForwardFlags {
  engine::ModelOptions model;
  engine::RuntimeOptions runtime;
  std::string checkpoint_file, input, output;
  int eval_batch = 1024;
};

int run_forward(const ForwardFlags& o) {
  const torch::Device device = engine::configure_runtime(o.runtime);
  const std::string out_path = io::checked_output_path(o.output, {o.input, o.checkpoint_file}, "--out");
  auto net = model::load_poseformer(o.checkpoint_file, o.model.heads, o.model.strict_load);
  net->to(device);
  net->eval();
  const auto& c = net->config();
  io::NpyContent input = io::read_npy(o.input);
  if (input.is_object() || input.array.shape.size() != 4 || input.array.shape[1] != c.num_frames ||
      input.array.shape[2] != c.num_joints || input.array.shape[3] != c.in_chans)
    throw InputError(fmt::format("{}: expected a (B, {}, {}, {}) numeric array for this checkpoint, found {}", o.input,
                                 c.num_frames, c.num_joints, c.in_chans,
                                 input.is_object() ? std::string("an object array") : input.array.shape_string()));
  auto x = model::to_tensor(input.array.astype(io::DType::Float32));
  const auto finite = torch::isfinite(x).view({x.size(0), -1}).all(1);
  if (!finite.all().item<bool>()) {
    const auto window = torch::nonzero(finite.logical_not())[0][0].item<std::int64_t>();
    throw InputError(fmt::format("{}: window {} holds a NaN or infinite coordinate; expected finite 2D keypoints",
                                 o.input, window));
  }
  // Chunks of -b windows: memory stays bounded whatever the input's size.
  torch::NoGradGuard no_grad;
  const std::int64_t windows = x.size(0), chunk = o.eval_batch;
  std::vector<torch::Tensor> parts;
  report::Progress bar("forward", windows, "windows", o.runtime.progress && windows > chunk);
  for (std::int64_t s = 0; s < windows; s += chunk) {
    const std::int64_t e = std::min(windows, s + chunk);
    parts.push_back(net->forward(x.slice(0, s, e).to(device)).to(torch::kCPU));
    bar.advance(e - s);
  }
  bar.finish();
  const auto y = windows > 0 ? torch::cat(parts, 0) : torch::zeros({0, 1, c.num_joints, 3});
  const io::NdArray result = model::to_ndarray(y);
  io::write_npy(out_path, result);
  fmt::print("wrote {} {} from {} windows\n", o.output, result.shape_string(), windows);
  return 0;
}

}  // namespace

Command add_forward_command(CLI::App& app) {
  auto o = std::make_shared<ForwardFlags>();
  auto* forward = app.add_subcommand("forward", "Run a checkpoint on (B, F, J, 2) windows from a .npy file");
  forward->add_option("--checkpoint", o->checkpoint_file, "checkpoint (.bin, torch.save format)")->required();
  forward->add_option("--input", o->input, "(B, F, J, 2) float32 .npy")->required();
  forward->add_option("--out", o->output, "(B, 1, J, 3) float32 .npy to write")->required();
  forward->add_option("--heads", o->model.heads, heads_help())->capture_default_str();
  forward->add_option("-b,--batch-size", o->eval_batch, "windows per forward pass (the input runs in such chunks)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  forward->add_flag("!--non-strict", o->model.strict_load, "load the checkpoint partially");
  add_runtime_options(*forward, o->runtime);

  return {forward, [o, forward] {
            forget_untyped_model_flags(*forward, o->model);
            return run_forward(*o);
          }};
}

}  // namespace poselift::cli
