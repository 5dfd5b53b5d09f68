#include "engine/predict.hpp"

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

torch::Tensor predict_sequence(model::PoseFormer& model, const torch::Tensor& keypoints,
                               const FlipSymmetry& symmetry, const PredictOptions& options,
                               const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const int frames = model->config().num_frames;
  const std::int64_t T = keypoints.size(0);
  auto input = keypoints.to(device, torch::kFloat32);
  // Exact reuse across overlapping windows: the spatial stage runs once per (padded) frame,
  // then the temporal stage runs on windows of those features.
  auto frame_features = [&](const torch::Tensor& sequence) {
    std::vector<torch::Tensor> chunks;
    const std::int64_t step = options.max_batch * 4;
    for (std::int64_t start = 0; start < T; start += step)
      chunks.push_back(model->spatial_features(sequence.slice(0, start, std::min(T, start + step))));
    // Edge padding of the features equals the features of the edge-padded input.
    const std::int64_t pad = (frames - 1) / 2;
    auto index = torch::arange(-pad, T + pad, torch::kLong).clamp(0, T - 1).to(sequence.device());
    return torch::cat(chunks, 0).index_select(0, index);  // (T + 2 pad, J*C)
  };
  auto features = frame_features(input);
  torch::Tensor flipped_features;
  if (options.test_time_augmentation)
    flipped_features = frame_features(flip_poses(input, symmetry.kps_left, symmetry.kps_right));
  std::vector<torch::Tensor> outputs;
  for (std::int64_t start = 0; start < T; start += options.max_batch) {
    const std::int64_t end = std::min(T, start + options.max_batch);
    // Windows of frame features: rows start..end of the padded sequence, F frames each.
    auto windows = [&](const torch::Tensor& f) {
      return f.slice(0, start, end + frames - 1).unfold(0, frames, 1).permute({0, 2, 1}).contiguous();
    };
    auto pred = model->temporal_forward(windows(features));  // (b, 1, J, 3)
    if (flipped_features.defined()) {
      auto pred_flip = model->temporal_forward(windows(flipped_features));
      pred_flip = flip_poses(pred_flip, symmetry.joints_left, symmetry.joints_right);
      pred = torch::cat({pred, pred_flip}, 1).mean(1, /*keepdim=*/true);
    }
    outputs.push_back(pred.squeeze(1).to(torch::kCPU));
  }
  return torch::cat(outputs, 0);
}

}  // namespace poselift::engine
