// MotionBERT on a video as its infer_wild.py runs it (engine/infer.hpp: lift_motionbert_wild).
#include <fmt/format.h>

#include <algorithm>

#include "engine/infer.hpp"
#include "io/error.hpp"
#include "report/report.hpp"
#include "wild/motionbert_input.hpp"

namespace poselift::engine {

MotionBERTWildOptions motionbert_wild_options(const io::MotionBERTConfigFile* config, bool pixel, int clip_len) {
  MotionBERTWildOptions o;
  if (config) {
    o.rootrel = config->rootrel.value_or(o.rootrel);
    o.flip = config->flip.value_or(o.flip);
    o.no_conf = config->no_conf.value_or(o.no_conf);
    o.gt_2d = config->gt_2d.value_or(o.gt_2d);
    o.clip_len = config->clip_len.value_or(o.clip_len);
  }
  o.pixel = pixel;
  if (clip_len > 0) o.clip_len = clip_len;
  return o;
}

LiftedTrack lift_motionbert_wild(model::LifterImpl& model, const wild::Sequence2D& sequence, int width, int height,
                                 const MotionBERTWildOptions& options, const PredictOptions& predict,
                                 const torch::Device& device, bool progress) {
  const std::int64_t T = static_cast<std::int64_t>(sequence.poses.size()), J = data::h36m::kJoints;
  const std::int64_t maxlen = model.receptive_field();
  const std::int64_t clip_len = options.clip_len > 0 ? options.clip_len : maxlen;
  if (clip_len > maxlen)
    throw InputError(fmt::format("clip_len {} exceeds the {} frames of the model's temporal embedding (maxlen)",
                                 clip_len, maxlen));
  const int channels = model.input_channels();
  if (options.no_conf && channels != 2)
    throw InputError(fmt::format("no_conf drops the confidence channel, but the model takes {} input channels",
                                 channels));
  std::vector<float> values = wild::motionbert_wild_input(sequence, width, height, options.pixel);
  const torch::Tensor input =
      torch::from_blob(values.data(), {T, J, 3}, torch::kFloat32).slice(2, 0, channels == 2 ? 2 : 3).clone();

  const bool flip = options.flip && predict.test_time_augmentation;
  const FlipSymmetry symmetry = h36m_symmetry();
  // Clips of one length run together, as many per pass as -b allows (flipped ones counted).
  const std::int64_t per_pass = std::max<std::int64_t>(1, predict.max_batch / (flip ? 2 : 1));
  const auto clips = wild::motionbert_clips(T, clip_len);
  torch::Tensor out = torch::empty({T, J, 3}, torch::kFloat32);
  report::Progress bar("lifting", T, "frames", progress);
  torch::NoGradGuard no_grad;
  for (std::size_t first = 0; first < clips.size();) {
    const std::int64_t length = clips[first].second - clips[first].first;
    std::size_t last = first;
    std::vector<torch::Tensor> batch;
    while (last < clips.size() && clips[last].second - clips[last].first == length &&
           static_cast<std::int64_t>(batch.size()) < per_pass) {
      batch.push_back(input.slice(0, clips[last].first, clips[last].second));
      ++last;
    }
    const torch::Tensor x = torch::stack(batch).to(device);  // (N, length, J, C)
    torch::Tensor pred = model.forward(x);
    if (flip) {
      const torch::Tensor mirrored = model.forward(flip_poses(x, symmetry.kps_left, symmetry.kps_right));
      pred = (pred + flip_poses(mirrored, symmetry.joints_left, symmetry.joints_right)) / 2.0;
    }
    if (options.rootrel)
      pred.select(2, 0).zero_();
    else
      pred.select(1, 0).select(1, 0).select(1, 2).zero_();  // predicted[:, 0, 0, 2] = 0
    if (options.gt_2d) pred.slice(3, 0, 2).copy_(x.slice(3, 0, 2));
    pred = pred.to(torch::kCPU, torch::kFloat32).reshape({-1, J, 3});
    out.slice(0, clips[first].first, clips[last - 1].second).copy_(pred);
    bar.advance(clips[last - 1].second - clips[first].first);
    first = last;
  }
  bar.finish();

  if (options.pixel) {
    std::vector<float> xyz(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    wild::motionbert_pixels_from_model(xyz, width, height, /*centre=*/!options.rootrel);
    out = torch::from_blob(xyz.data(), {T, J, 3}, torch::kFloat32).clone();
  }
  LiftedTrack track;
  if (options.rootrel) {
    track.positions = out;
  } else {
    track.trajectory = out.select(1, 0).contiguous();
    track.positions = (out - out.slice(1, 0, 1)).contiguous();
  }
  return track;
}

}  // namespace poselift::engine
