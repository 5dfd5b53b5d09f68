#include "engine/predict.hpp"

#include <fmt/format.h>

#include "engine/model_loading.hpp"
#include "engine/runtime.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "report/report.hpp"

namespace poselift::engine {

torch::Tensor flip_poses(const torch::Tensor& poses, const std::vector<std::int64_t>& left,
                         const std::vector<std::int64_t>& right) {
  auto out = poses.clone();
  out.select(-1, 0).neg_();
  if (!left.empty()) {
    std::vector<std::int64_t> from(left), to(right);
    from.insert(from.end(), right.begin(), right.end());
    to.insert(to.end(), left.begin(), left.end());
    auto index_from = torch::tensor(from, torch::kLong).to(poses.device());
    auto index_to = torch::tensor(to, torch::kLong).to(poses.device());
    // out[..., to, :] = out[..., from, :] with `from` = left+right and `to` = right+left.
    out.index_copy_(-2, index_to, out.index_select(-2, index_from));
  }
  return out;
}

torch::Tensor with_model_channels(const model::LifterImpl& model, const torch::Tensor& keypoints) {
  const std::int64_t have = keypoints.size(-1), want = model.input_channels();
  if (have == want) return keypoints;
  if (have == 2 && want == 3) {  // no detector confidence: every keypoint fully confident
    auto ones = torch::ones(keypoints.sizes().vec(), keypoints.options()).narrow(-1, 0, 1);
    return torch::cat({keypoints, ones}, -1);
  }
  throw InputError(fmt::format("the {} model takes {} channels per keypoint; the 2D input has {}",
                               model::family_name(model.family()), want, have));
}

torch::Tensor predict_sequence(model::LifterImpl& model, const torch::Tensor& keypoints,
                               const FlipSymmetry& symmetry, const PredictOptions& options,
                               const torch::Device& device) {
  return predict_sequences(model, {keypoints}, symmetry, options, device).front();
}

namespace {

// Per-frame features of one group of sequences, edge-padded by (F - 1) / 2 frames per sequence
// (the padding of the features equals the features of the edge-padded input): the spatial
// stage runs on the frames of all the group's sequences together, in passes of `chunk` frames.
std::vector<torch::Tensor> padded_frame_features(model::PoseFormerImpl& model, const std::vector<torch::Tensor>& inputs,
                                                 std::int64_t chunk) {
  auto frames = torch::cat(inputs, 0);
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < frames.size(0); start += chunk)
    parts.push_back(model.spatial_features(frames.slice(0, start, std::min(frames.size(0), start + chunk))));
  auto features = torch::cat(parts, 0);
  const std::int64_t pad = (model.config().num_frames - 1) / 2;
  std::vector<torch::Tensor> out;
  std::int64_t offset = 0;
  for (const auto& input : inputs) {
    const std::int64_t T = input.size(0);
    auto index = (torch::arange(-pad, T + pad, torch::kLong).clamp(0, T - 1) + offset).to(features.device());
    out.push_back(features.index_select(0, index));  // (T + 2 pad, J*C)
    offset += T;
  }
  return out;
}

}  // namespace

namespace {

// Consecutive sequences predicted together: their frame features are all that is held at a time.
struct SequenceGroup {
  std::vector<std::size_t> members;  // indices into the caller's sequences (empty ones skipped)
  std::vector<torch::Tensor> inputs, features, flipped_features;
};

// The group from `first` with about one spatial pass of frames (at least one sequence); advances
// `first` past it.
SequenceGroup next_group(model::PoseFormerImpl& model, const std::vector<torch::Tensor>& keypoints, std::size_t& first,
                         const FlipSymmetry& symmetry, bool flip, std::int64_t spatial_chunk,
                         const torch::Device& device) {
  std::size_t last = first;
  std::int64_t group_frames = 0;
  while (last < keypoints.size() && (last == first || group_frames + keypoints[last].size(0) <= spatial_chunk)) {
    group_frames += keypoints[last].size(0);
    ++last;
  }
  SequenceGroup group;
  std::vector<torch::Tensor> flipped_inputs;
  for (std::size_t i = first; i < last; ++i) {
    if (keypoints[i].size(0) == 0) continue;
    group.members.push_back(i);
    group.inputs.push_back(keypoints[i].to(device, torch::kFloat32));
    if (flip) flipped_inputs.push_back(flip_poses(group.inputs.back(), symmetry.kps_left, symmetry.kps_right));
  }
  first = last;
  if (group.members.empty()) return group;
  group.features = padded_frame_features(model, group.inputs, spatial_chunk);
  if (flip) group.flipped_features = padded_frame_features(model, flipped_inputs, spatial_chunk);
  return group;
}

// Output frames [start, end) of one member of a group.
struct Run {
  std::size_t member;
  std::int64_t start, end;
};

// The runs of the next pass: up to `positions` output frames from (member, position) on, taken
// across sequences in order; advances member and position.
std::vector<Run> next_runs(const SequenceGroup& group, std::size_t& member, std::int64_t& position,
                           std::int64_t positions) {
  std::vector<Run> runs;
  std::int64_t taken = 0;
  while (member < group.members.size() && taken < positions) {
    const std::int64_t T = group.inputs[member].size(0);
    const std::int64_t end = std::min(T, position + (positions - taken));
    runs.push_back({member, position, end});
    taken += end - position;
    position = end;
    if (position == T) {
      ++member;
      position = 0;
    }
  }
  return runs;
}

// One temporal pass over `runs`: windows of frame features (rows start..end + F - 1 of each padded
// sequence, F frames each), plain and flipped together; returns (windows, J, 3) on the CPU.
torch::Tensor predict_runs(model::PoseFormerImpl& model, const SequenceGroup& group, const std::vector<Run>& runs,
                           const FlipSymmetry& symmetry, bool flip) {
  const std::int64_t frames = model.config().num_frames;
  std::int64_t taken = 0;
  for (const auto& r : runs) taken += r.end - r.start;
  auto windows = [&](const std::vector<torch::Tensor>& padded) {
    std::vector<torch::Tensor> parts;
    for (const auto& r : runs)
      parts.push_back(padded[r.member].slice(0, r.start, r.end + frames - 1).unfold(0, frames, 1).permute({0, 2, 1}));
    return parts;
  };
  auto batch = windows(group.features);
  if (flip) {
    auto flipped = windows(group.flipped_features);
    batch.insert(batch.end(), flipped.begin(), flipped.end());
  }
  auto pred = model.temporal_forward(torch::cat(batch, 0));  // (windows, 1, J, 3)
  if (flip) {
    auto pred_flip = flip_poses(pred.slice(0, taken, 2 * taken), symmetry.joints_left, symmetry.joints_right);
    pred = torch::cat({pred.slice(0, 0, taken), pred_flip}, 1).mean(1, /*keepdim=*/true);
  }
  return pred.squeeze(1).to(torch::kCPU);
}

}  // namespace

namespace {

// PoseFormer: the spatial stage once per frame, the temporal stage on windows of its features.
std::vector<torch::Tensor> predict_poseformer(model::PoseFormerImpl& model, const std::vector<torch::Tensor>& keypoints,
                                              const FlipSymmetry& symmetry, const PredictOptions& options,
                                              const torch::Device& device) {
  const bool flip = options.test_time_augmentation;
  // Windows per temporal pass: plain and flipped together count against max_batch.
  const std::int64_t positions_per_pass = std::max<std::int64_t>(1, flip ? options.max_batch / 2 : options.max_batch);
  const std::int64_t spatial_chunk = std::max<std::int64_t>(1, options.max_batch) * 4;
  std::vector<std::vector<torch::Tensor>> outputs(keypoints.size());
  std::size_t first = 0;
  while (first < keypoints.size()) {
    const SequenceGroup group = next_group(model, keypoints, first, symmetry, flip, spatial_chunk, device);
    std::size_t member = 0;
    std::int64_t position = 0;
    while (member < group.members.size()) {
      const auto runs = next_runs(group, member, position, positions_per_pass);
      const auto pred = predict_runs(model, group, runs, symmetry, flip);
      std::int64_t offset = 0;
      for (const auto& r : runs) {
        outputs[group.members[r.member]].push_back(pred.slice(0, offset, offset + (r.end - r.start)));
        offset += r.end - r.start;
      }
    }
  }
  std::vector<torch::Tensor> results;
  for (std::size_t i = 0; i < keypoints.size(); ++i) {
    if (outputs[i].empty()) {
      results.push_back(torch::empty({0, model.output_joints(), 3}));
    } else {
      results.push_back(outputs[i].size() == 1 ? outputs[i].front() : torch::cat(outputs[i], 0));
    }
  }
  return results;
}


// Any centre-frame model: edge-padded windows of the input, in passes of max_batch windows
// taken across the sequences (plain and flipped together).
std::vector<torch::Tensor> predict_windows(model::LifterImpl& model, const std::vector<torch::Tensor>& keypoints,
                                           const FlipSymmetry& symmetry, const PredictOptions& options,
                                           const torch::Device& device) {
  const bool flip = options.test_time_augmentation;
  const std::int64_t frames = model.receptive_field(), pad = (frames - 1) / 2;
  const std::int64_t positions_per_pass = std::max<std::int64_t>(1, flip ? options.max_batch / 2 : options.max_batch);
  std::vector<torch::Tensor> padded, padded_flipped;
  for (const auto& k : keypoints) {
    const std::int64_t T = k.size(0);
    if (T == 0) {
      padded.emplace_back();
      padded_flipped.emplace_back();
      continue;
    }
    auto index = torch::arange(-pad, T + frames - 1 - pad, torch::kLong).clamp(0, T - 1);
    padded.push_back(k.to(device, torch::kFloat32).index_select(0, index.to(device)));
    padded_flipped.push_back(flip ? flip_poses(padded.back(), symmetry.kps_left, symmetry.kps_right) : torch::Tensor());
  }
  std::vector<std::vector<torch::Tensor>> outputs(keypoints.size());
  std::size_t member = 0;
  std::int64_t position = 0;
  auto advance_to_nonempty = [&] {
    while (member < keypoints.size() && position >= keypoints[member].size(0)) {
      ++member;
      position = 0;
    }
  };
  advance_to_nonempty();
  while (member < keypoints.size()) {
    struct Piece {
      std::size_t member;
      std::int64_t start, end;
    };
    std::vector<Piece> pieces;
    std::vector<torch::Tensor> plain, flipped;
    std::int64_t taken = 0;
    while (member < keypoints.size() && taken < positions_per_pass) {
      const std::int64_t end = std::min(keypoints[member].size(0), position + (positions_per_pass - taken));
      pieces.push_back({member, position, end});
      auto windows = [&](const torch::Tensor& p) {
        return p.slice(0, position, end + frames - 1).unfold(0, frames, 1).permute({0, 3, 1, 2});
      };
      plain.push_back(windows(padded[member]));
      if (flip) flipped.push_back(windows(padded_flipped[member]));
      taken += end - position;
      position = end;
      advance_to_nonempty();
    }
    if (flip) plain.insert(plain.end(), flipped.begin(), flipped.end());
    auto pred = model.forward(torch::cat(plain, 0));  // (windows, 1, J, 3)
    if (flip) {
      auto pred_flip = flip_poses(pred.slice(0, taken, 2 * taken), symmetry.joints_left, symmetry.joints_right);
      pred = torch::cat({pred.slice(0, 0, taken), pred_flip}, 1).mean(1, /*keepdim=*/true);
    }
    pred = pred.squeeze(1).to(torch::kCPU);
    std::int64_t offset = 0;
    for (const auto& piece : pieces) {
      outputs[piece.member].push_back(pred.slice(0, offset, offset + (piece.end - piece.start)));
      offset += piece.end - piece.start;
    }
  }
  std::vector<torch::Tensor> results;
  for (auto& parts : outputs)
    results.push_back(parts.empty() ? torch::empty({0, model.output_joints(), 3}) : torch::cat(parts, 0));
  return results;
}

// A temporal convolution (VideoPose3D's run.py): each sequence edge-padded by half the
// receptive field and run through in one pass (in slices of a bounded length, overlapping by
// the receptive field, which gives the same result), the flipped copy beside it.
std::vector<torch::Tensor> predict_convolution(model::LifterImpl& model, const std::vector<torch::Tensor>& keypoints,
                                               const FlipSymmetry& symmetry, const PredictOptions& options,
                                               const torch::Device& device) {
  const bool flip = options.test_time_augmentation;
  const std::int64_t frames = model.receptive_field(), pad = (frames - 1) / 2;
  const std::int64_t causal_shift = model.causal_shift();
  // Output frames per pass: max_batch windows' worth, as for the window models.
  const std::int64_t slice = std::max<std::int64_t>(1, flip ? options.max_batch / 2 : options.max_batch) * 16;
  std::vector<torch::Tensor> results;
  for (const auto& k : keypoints) {
    const std::int64_t T = k.size(0);
    if (T == 0) {
      results.push_back(torch::empty({0, model.output_joints(), 3}));
      continue;
    }
    // UnchunkedGenerator's padding: pad + causal_shift frames before, pad - causal_shift after.
    auto index = torch::arange(-(pad + causal_shift), T + pad - causal_shift, torch::kLong).clamp(0, T - 1);
    auto input = k.to(device, torch::kFloat32).index_select(0, index.to(device));
    std::vector<torch::Tensor> parts;
    for (std::int64_t start = 0; start < T; start += slice) {
      const std::int64_t end = std::min(T, start + slice);
      auto x = input.slice(0, start, end + frames - 1).unsqueeze(0);
      if (flip) x = torch::cat({x, flip_poses(x, symmetry.kps_left, symmetry.kps_right)}, 0);
      auto pred = model.forward(x);  // (1 or 2, end - start, J, 3)
      if (flip)
        pred = torch::stack({pred[0], flip_poses(pred[1], symmetry.joints_left, symmetry.joints_right)}, 0).mean(0);
      else
        pred = pred[0];
      parts.push_back(pred.to(torch::kCPU));
    }
    results.push_back(parts.size() == 1 ? parts.front() : torch::cat(parts, 0));
  }
  return results;
}

// Each frame's prediction from the first clip that covers it.
torch::Tensor frames_from_clips(const ClipPrediction& clips, std::int64_t T) {
  std::vector<std::int64_t> row_of(static_cast<std::size_t>(T), -1);
  for (std::size_t row = 0; row < clips.frames.size(); ++row) {
    auto& chosen = row_of[static_cast<std::size_t>(clips.frames[row])];
    if (chosen < 0) chosen = static_cast<std::int64_t>(row);
  }
  return clips.poses.index_select(0, torch::tensor(row_of, torch::kLong));
}

}  // namespace

ClipPrediction predict_clips(model::LifterImpl& model, const torch::Tensor& keypoints, const FlipSymmetry& symmetry,
                             const PredictOptions& options, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const std::int64_t T = keypoints.size(0), F = model.receptive_field();
  ClipPrediction out;
  if (T == 0) {
    out.poses = torch::empty({0, model.output_joints(), 3});
    return out;
  }
  const torch::Tensor source = with_model_channels(model, keypoints);
  const std::int64_t clips = (T + F - 1) / F;
  for (std::int64_t c = 0; c < clips; ++c) {
    const std::int64_t start = c + 1 < clips ? c * F : std::max<std::int64_t>(0, T - F);
    for (std::int64_t k = 0; k < F; ++k) out.frames.push_back(std::min(T - 1, start + k));
  }
  const auto index = torch::tensor(out.frames, torch::kLong);
  const auto input = source.to(torch::kFloat32).index_select(0, index).view({clips, F, source.size(1), source.size(2)});
  const bool flip = options.test_time_augmentation;
  // Clips per pass: max_batch windows' worth of frames.
  const std::int64_t per_pass = std::max<std::int64_t>(1, options.max_batch / (flip ? 2 : 1) / F + 1);
  std::vector<torch::Tensor> parts;
  for (std::int64_t s = 0; s < clips; s += per_pass) {
    auto x = input.slice(0, s, std::min(clips, s + per_pass)).to(device);
    const std::int64_t n = x.size(0);
    if (flip) x = torch::cat({x, flip_poses(x, symmetry.kps_left, symmetry.kps_right)}, 0);
    auto pred = model.forward(x);  // (n or 2n, F, J', 3)
    if (flip)
      pred = (pred.slice(0, 0, n) + flip_poses(pred.slice(0, n, 2 * n), symmetry.joints_left, symmetry.joints_right)) / 2;
    parts.push_back(pred.to(torch::kCPU));
  }
  out.poses = torch::cat(parts, 0).reshape({clips * F, model.output_joints(), 3});
  return out;
}

std::vector<torch::Tensor> predict_sequences(model::LifterImpl& model, const std::vector<torch::Tensor>& keypoints,
                                             const FlipSymmetry& symmetry, const PredictOptions& options,
                                             const torch::Device& device) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> adapted;
  for (const auto& k : keypoints) adapted.push_back(k.dim() == 3 ? with_model_channels(model, k) : k);
  const std::vector<torch::Tensor>& keypoints_in = adapted;
  if (auto* poseformer = dynamic_cast<model::PoseFormerImpl*>(&model))
    return predict_poseformer(*poseformer, keypoints_in, symmetry, options, device);
  switch (model.temporal_shape()) {
    case model::TemporalShape::CentreFrame: return predict_windows(model, keypoints_in, symmetry, options, device);
    case model::TemporalShape::Convolution: return predict_convolution(model, keypoints_in, symmetry, options, device);
    case model::TemporalShape::Sequence: {
      std::vector<torch::Tensor> results;
      for (const auto& k : keypoints_in)
        results.push_back(k.size(0) == 0 ? torch::empty({0, model.output_joints(), 3})
                                         : frames_from_clips(predict_clips(model, k, symmetry, options, device), k.size(0)));
      return results;
    }
  }
  throw std::logic_error("predict_sequences: unknown temporal shape");
}

namespace {

// The input windows as a float32 tensor, checked against the model: (B, F, J, C) windows of
// the receptive field, or for a convolution any F of at least the receptive field.
torch::Tensor forward_input(const std::string& path, const model::LifterImpl& m) {
  io::NpyContent input = io::read_npy(path);
  const bool convolution = m.temporal_shape() == model::TemporalShape::Convolution;
  const bool clip = m.temporal_shape() == model::TemporalShape::Sequence;  // any clip up to its length
  const auto& shape = input.array.shape;
  const bool fits = !input.is_object() && shape.size() == 4 && shape[2] == m.input_joints() &&
                    shape[3] == m.input_channels() &&
                    (convolution ? shape[1] >= m.receptive_field()
                     : clip      ? shape[1] >= 1 && shape[1] <= m.receptive_field()
                                 : shape[1] == m.receptive_field());
  if (!fits)
    throw InputError(fmt::format("{}: expected a (B, {}{}, {}, {}) numeric array for this checkpoint, found {}", path,
                                 convolution ? ">= " : clip ? "<= " : "", m.receptive_field(), m.input_joints(),
                                 m.input_channels(),
                                 input.is_object() ? std::string("an object array") : input.array.shape_string()));
  auto x = model::to_tensor(input.array.astype(io::DType::Float32));
  const auto finite = torch::isfinite(x).view({x.size(0), -1}).all(1);
  if (!finite.all().item<bool>()) {
    const auto window = torch::nonzero(finite.logical_not())[0][0].item<std::int64_t>();
    throw InputError(fmt::format("{}: window {} holds a NaN or infinite coordinate; expected finite 2D keypoints",
                                 path, window));
  }
  return x;
}

// Output frames per input window.
std::int64_t output_frames(const model::LifterImpl& m, std::int64_t input_frames) {
  switch (m.temporal_shape()) {
    case model::TemporalShape::CentreFrame: return 1;
    case model::TemporalShape::Convolution: return input_frames - m.receptive_field() + 1;
    case model::TemporalShape::Sequence: return input_frames;
  }
  return 1;
}

}  // namespace

ForwardResult run_forward(const ForwardOptions& o) {
  validate_predict_options(o.predict);
  const torch::Device device = configure_runtime(o.runtime);
  const std::string checkpoint = resolve_checkpoint_path(o.checkpoint);
  const std::string out_path = io::checked_output_path(o.output, {o.input, checkpoint}, "--out");
  const std::string trajectory_path =
      o.trajectory_output.empty() ? ""
                                  : io::checked_output_path(o.trajectory_output, {o.input, checkpoint}, "--trajectory-out");
  // A window model's frame count is the input's when -f does not say (PoseFormerV2 files lack it).
  ModelOptions model_options = o.model;
  if (model_options.frames <= 0) {
    const io::NpyContent peek = io::read_npy(o.input);
    if (!peek.is_object() && peek.array.shape.size() == 4 && peek.array.shape[1] > 0 && peek.array.shape[1] <= 100000)
      model_options.frames = static_cast<int>(peek.array.shape[1]);
  }
  const InferenceModel loaded = load_for_inference(checkpoint, model_options, device);
  model::LifterImpl& net = loaded.pose();
  if (!trajectory_path.empty() && !loaded.loaded.trajectory)
    throw InputError(checkpoint + ": --trajectory-out: this checkpoint has no trajectory model (model_traj)");
  const torch::Tensor x = forward_input(o.input, net);
  // Chunks of -b windows: memory stays bounded whatever the input's size.
  torch::NoGradGuard no_grad;
  const std::int64_t windows = x.size(0), chunk = o.predict.max_batch;
  std::vector<torch::Tensor> parts;
  report::Progress bar("forward", windows, "windows", o.runtime.progress && windows > chunk);
  for (std::int64_t s = 0; s < windows; s += chunk) {
    const std::int64_t e = std::min(windows, s + chunk);
    parts.push_back(net.forward(x.slice(0, s, e).to(device)).to(torch::kCPU));
    bar.advance(e - s);
  }
  bar.finish();
  const auto y = windows > 0 ? torch::cat(parts, 0)
                             : torch::zeros({0, output_frames(net, x.size(1)), net.output_joints(), 3});
  const io::NdArray result = model::to_ndarray(y);
  io::write_npy(out_path, result);
  if (!trajectory_path.empty()) {
    std::vector<torch::Tensor> traj;
    for (std::int64_t s = 0; s < windows; s += chunk)
      traj.push_back(loaded.loaded.trajectory->forward(x.slice(0, s, std::min(windows, s + chunk)).to(device)).to(torch::kCPU));
    io::write_npy(trajectory_path, model::to_ndarray(windows > 0 ? torch::cat(traj, 0) : torch::zeros({0, 1, 1, 3})));
  }
  return {result.shape_string(), windows};
}

}  // namespace poselift::engine

