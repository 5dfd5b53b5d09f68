#include "engine/evaluate.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include <sstream>

#include "data/selection.hpp"
#include "engine/model_loading.hpp"
#include "engine/runtime.hpp"
#include "io/file.hpp"
#include "io/error.hpp"
#include "io/output_path.hpp"
#include "io/zip_archive.hpp"
#include "metrics/pose_errors.hpp"
#include "model/checkpoint.hpp"
#include "report/report.hpp"

namespace poselift::engine {

namespace {

io::NdArray float_array(const torch::Tensor& t) { return model::to_ndarray(t.to(torch::kFloat32).contiguous()); }

}  // namespace

std::string python_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "]";
}

std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string text = fmt::format("{}", value);  // shortest round trip, Python's exponent rules
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

std::string python_round(double value, int digits) {
  if (!std::isfinite(value)) return python_float(value);
  return python_float(std::strtod(fmt::format("{:.{}f}", value, digits).c_str(), nullptr));
}

FlipSymmetry flip_symmetry(const data::MocapDataset& dataset, const data::Keypoints& keypoints) {
  FlipSymmetry s;
  const auto& meta = keypoints.metadata;
  s.kps_left.assign(meta.keypoints_left.begin(), meta.keypoints_left.end());
  s.kps_right.assign(meta.keypoints_right.begin(), meta.keypoints_right.end());
  s.joints_left.assign(dataset.skeleton.joints_left().begin(), dataset.skeleton.joints_left().end());
  s.joints_right.assign(dataset.skeleton.joints_right().begin(), dataset.skeleton.joints_right().end());
  return s;
}

Evaluator::Evaluator(model::LifterImpl& model, const data::MocapDataset& dataset, const data::Keypoints& keypoints,
                     FlipSymmetry symmetry, EvaluatorOptions options, torch::Device device)
    : model_(model),
      dataset_(dataset),
      keypoints_(keypoints),
      symmetry_(std::move(symmetry)),
      options_(std::move(options)),
      device_(device) {
  for (const auto& subject : options_.subjects) dataset_.subject(subject);  // clear error when absent
}

std::int64_t Evaluator::test_frames() const {
  data::FetchOptions fetch_options;
  fetch_options.action_filter = options_.action_filter;
  fetch_options.downsample = options_.downsample;
  auto fetched = data::fetch(dataset_, keypoints_, options_.subjects, fetch_options);
  std::int64_t frames = 0;
  for (const auto& seq : fetched.poses_2d) frames += seq.shape.empty() ? 0 : seq.shape[0];
  return frames;
}

const SequenceErrors& Evaluator::errors_of(const std::string& subject, const std::string& action) {
  auto key = std::make_pair(subject, action);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;

  data::ActionGroup single;
  single.name = action;
  single.members = {{subject, action}};
  auto fetched = data::fetch_group(dataset_, keypoints_, single, options_.downsample);
  if (fetched.poses_3d.size() != fetched.poses_2d.size())
    throw InputError(fmt::format("{}: subject {} action {}: no 3D ground truth to evaluate against", dataset_.source,
                                 subject, action));
  SequenceErrors sum;
  model_.eval();
  std::vector<torch::Tensor> inputs;
  for (const auto& seq2d : fetched.poses_2d)
    inputs.push_back(seq2d.shape.empty() ? torch::empty({0}) : model::to_tensor(seq2d));
  // Sequence models are scored as MixSTE's run.py scores them: over the frames of their clips,
  // the overlap of the last clip counted again. Window models: every frame once, all cameras of
  // the action in one batched prediction.
  const bool clips = model_.temporal_shape() == model::TemporalShape::Sequence;
  std::vector<torch::Tensor> predictions;
  std::vector<std::vector<std::int64_t>> rows(fetched.poses_2d.size());
  if (clips) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].dim() < 3 || inputs[i].size(0) == 0) {
        predictions.emplace_back();
        continue;
      }
      ClipPrediction c = predict_clips(model_, inputs[i], symmetry_, options_.predict, device_);
      predictions.push_back(c.poses);
      rows[i] = std::move(c.frames);
    }
  } else {
    predictions = predict_sequences(model_, inputs, symmetry_, options_.predict, device_);
  }
  for (std::size_t i = 0; i < fetched.poses_2d.size(); ++i) {
    const auto& seq2d = fetched.poses_2d[i];
    if (seq2d.shape.empty() || seq2d.shape[0] == 0) continue;
    const auto& predicted = predictions[i];  // (T, J, 3), or (K, J, 3) over the clips
    auto target = model::to_tensor(fetched.poses_3d[i]).clone();
    if (clips) target = target.index_select(0, torch::tensor(rows[i], torch::kLong));
    target.select(1, 0).zero_();  // the root joint is the origin of the root-relative targets
    const io::NdArray pred_array = float_array(predicted), target_array = float_array(target);
    const metrics::PoseView p = metrics::pose_view(pred_array), t = metrics::pose_view(target_array);
    const std::int64_t counted = predicted.size(0);
    const auto T = static_cast<double>(counted);
    sum.frames += counted;
    sum.input_frames += seq2d.shape[0];
    sum.mpjpe += T * metrics::mpjpe(p, t);
    sum.p_mpjpe += T * metrics::p_mpjpe(p, t);
    sum.n_mpjpe += T * metrics::n_mpjpe(p, t);
    sum.mpjve += T * metrics::mean_velocity_error(p, t);
  }
  return cache_.emplace(key, sum).first->second;
}

EvaluationBlock Evaluator::block_for(
    const std::string& subject_label,
    const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>& groups) {
  EvaluationBlock block;
  block.subject = subject_label;
  for (const auto& [name, members] : groups) {
    SequenceErrors total;
    for (const auto& [subject, action] : members) {
      const auto& e = errors_of(subject, action);
      total.frames += e.frames;
      total.mpjpe += e.mpjpe;
      total.p_mpjpe += e.p_mpjpe;
      total.n_mpjpe += e.n_mpjpe;
      total.mpjve += e.mpjve;
    }
    ActionErrors a;
    a.action = name;
    a.frames = total.frames;
    const double n = static_cast<double>(total.frames);
    a.mpjpe = total.mpjpe / n * 1000;
    a.p_mpjpe = total.p_mpjpe / n * 1000;
    a.n_mpjpe = total.n_mpjpe / n * 1000;
    a.mpjve = total.mpjve / n * 1000;
    block.actions.push_back(a);
  }
  // np.mean over the action figures: a plain sum, then one division.
  for (const auto& a : block.actions) {
    block.mean_mpjpe += a.mpjpe;
    block.mean_p_mpjpe += a.p_mpjpe;
    block.mean_n_mpjpe += a.n_mpjpe;
    block.mean_mpjve += a.mpjve;
  }
  const double count = static_cast<double>(block.actions.size());
  block.mean_mpjpe /= count;
  block.mean_p_mpjpe /= count;
  block.mean_n_mpjpe /= count;
  block.mean_mpjve /= count;
  return block;
}

std::vector<EvaluationBlock> Evaluator::run(bool by_subject) {
  using Groups = std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>;
  auto convert = [](const std::vector<data::ActionGroup>& groups) {
    Groups out;
    for (const auto& g : groups) out.emplace_back(g.name, g.members);
    return out;
  };
  // Progress over the frames still to predict.
  std::int64_t pending = 0;
  for (const auto& subject : options_.subjects)
    for (const auto& g : data::group_actions(dataset_, {subject}, options_.action_filter))
      for (const auto& [s, a] : g.members)
        if (!cache_.count({s, a}))
          for (const auto& cam : keypoints_.action(s, a).cameras) {
            const std::int64_t length = cam.shape.empty() ? 0 : cam.shape[0];
            const std::int64_t step = std::max(1, options_.downsample);
            pending += (length + step - 1) / step;
          }
  report::Progress progress("Evaluating", pending, "frames", options_.progress && pending > 0);
  auto touch = [&](const Groups& groups) {
    for (const auto& [name, members] : groups)
      for (const auto& [s, a] : members) {
        if (cache_.count({s, a})) continue;
        progress.advance(errors_of(s, a).input_frames, s + " " + a);
      }
  };

  std::vector<EvaluationBlock> blocks;
  if (!by_subject) {
    auto groups = convert(data::group_actions(dataset_, options_.subjects, options_.action_filter));
    touch(groups);
    blocks.push_back(block_for("", groups));
  } else {
    for (const auto& s : data::group_actions_by_subject(dataset_, options_.subjects, options_.action_filter)) {
      auto groups = convert(s.groups);
      touch(groups);
      blocks.push_back(block_for(s.subject, groups));
    }
  }
  if (pending > 0) progress.finish();
  return blocks;
}

ReportStyle report_style(model::Family family, bool augmentation, const std::string& checkpoint,
                         std::optional<std::int64_t> epoch) {
  ReportStyle style;
  if (family == model::Family::VideoPose3D) style.augmentation = augmentation;
  if (family == model::Family::MixSTE) {
    style.augmentation = false;
    style.before_each_action.push_back("Loading evaluate checkpoint " + checkpoint);
    if (epoch) style.before_each_action.push_back(fmt::format("This model was trained for {} epochs", *epoch));
  }
  return style;
}

std::string format_block(const EvaluationBlock& block, const ReportStyle& style) {
  std::string out;
  for (const auto& a : block.actions) {
    for (const auto& line : style.before_each_action) out += line + "\n";
    out += "----" + a.action + "----\n";
    if (style.augmentation) out += std::string("Test time augmentation: ") + (*style.augmentation ? "True" : "False") + "\n";
    out += "Protocol #1 Error (MPJPE): " + python_float(a.mpjpe) + " mm\n";
    out += "Protocol #2 Error (P-MPJPE): " + python_float(a.p_mpjpe) + " mm\n";
    out += "Protocol #3 Error (N-MPJPE): " + python_float(a.n_mpjpe) + " mm\n";
    out += "Velocity Error (MPJVE): " + python_float(a.mpjve) + " mm\n";
    out += "----------\n";
  }
  out += "Protocol #1   (MPJPE) action-wise average: " + python_round(block.mean_mpjpe, 1) + " mm\n";
  out += "Protocol #2 (P-MPJPE) action-wise average: " + python_round(block.mean_p_mpjpe, 1) + " mm\n";
  out += "Protocol #3 (N-MPJPE) action-wise average: " + python_round(block.mean_n_mpjpe, 1) + " mm\n";
  out += "Velocity      (MPJVE) action-wise average: " + python_round(block.mean_mpjve, 2) + " mm\n";
  return out;
}

nlohmann::json blocks_to_json(const std::vector<EvaluationBlock>& blocks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : blocks) {
    nlohmann::json j;
    if (!b.subject.empty()) j["subject"] = b.subject;
    j["actions"] = nlohmann::json::array();
    for (const auto& a : b.actions)
      j["actions"].push_back({{"action", a.action},
                              {"frames", a.frames},
                              {"mpjpe_mm", a.mpjpe},
                              {"p_mpjpe_mm", a.p_mpjpe},
                              {"n_mpjpe_mm", a.n_mpjpe},
                              {"mpjve_mm", a.mpjve}});
    j["average"] = {{"mpjpe_mm", b.mean_mpjpe},
                    {"p_mpjpe_mm", b.mean_p_mpjpe},
                    {"n_mpjpe_mm", b.mean_n_mpjpe},
                    {"mpjve_mm", b.mean_mpjve}};
    out.push_back(j);
  }
  return out;
}

PoseData load_pose_data(const DataOptions& options, bool report_lines) {
  auto say = [&](const std::string& text) {
    if (report_lines) report::line(text);
  };
  PoseData d;
  say("Loading dataset...");
  d.dataset = data::load_dataset(options.dataset, options.data_dir, options.keypoints);
  say("Preparing data...");
  say("Loading 2D detections...");
  d.keypoints = data::load_keypoints(d.dataset, options.data_dir, options.keypoints);
  d.selection = parse_data_selection(options);
  if (!d.selection.action_filter.empty()) say("Selected actions: " + python_list(d.selection.action_filter));
  return d;
}

EvaluatorOptions evaluator_options(const DataSelection& selection, const PredictOptions& predict, bool progress) {
  EvaluatorOptions options;
  options.subjects = selection.subjects_test;
  options.action_filter = selection.action_filter;
  options.downsample = selection.downsample;
  options.predict = predict;
  options.progress = progress;
  return options;
}

std::vector<EvaluationBlock> report_evaluation(Evaluator& evaluator, bool by_subject) {
  report::line("Evaluating...");
  auto blocks = evaluator.run(by_subject);
  for (const auto& block : blocks) {
    if (by_subject) report::line("Evaluating on subject " + block.subject);
    std::istringstream text(format_block(block, evaluator.options().style));
    for (std::string line; std::getline(text, line);) report::line(line);
    if (by_subject) report::line("");
  }
  return blocks;
}

namespace {

void write_evaluation_json(const std::string& path, const EvaluateOptions& o, const std::string& checkpoint,
                           int frames, const std::vector<EvaluationBlock>& blocks) {
  nlohmann::json j;
  j["checkpoint"] = checkpoint;
  j["dataset"] = o.data.dataset;
  j["keypoints"] = o.data.keypoints;
  j["frames"] = frames;
  j["test_time_augmentation"] = o.predict.test_time_augmentation;
  j["blocks"] = blocks_to_json(blocks);
  io::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace

EvaluateResult run_evaluate(const EvaluateOptions& o) {
  validate_predict_options(o.predict);
  const torch::Device device = configure_runtime(o.runtime);
  const PoseData d = load_pose_data(o.data);
  EvaluateResult result;
  result.checkpoint = resolve_checkpoint_path(o.checkpoint);
  const std::string& path = result.checkpoint;
  const std::string json_path =
      o.json_out.empty() ? "" : io::checked_output_path(o.json_out, {path, d.dataset.source, d.keypoints.source}, "--json");
  const InferenceModel net =
      load_for_inference(path, o.model, device, {d.keypoints.metadata.num_joints, d.keypoints.source});
  model::LifterImpl& pose = net.pose();
  report::line(fmt::format("INFO: Receptive field: {} frames", pose.receptive_field()));
  const model::Family family = net.loaded.family;
  // MixSTE's run.py counts its parameters in millions (print(model_params / 1000000, 'Million')).
  report::line(family == model::Family::MixSTE
                   ? fmt::format("INFO: Trainable parameter count: {} Million",
                                 python_float(static_cast<double>(pose.parameter_count()) / 1000000))
                   : fmt::format("INFO: Trainable parameter count: {}", pose.parameter_count()));
  report::line("Loading checkpoint " + path);
  // VideoPose3D's and MixSTE's run.py say how long the model trained.
  if ((family == model::Family::VideoPose3D || family == model::Family::MixSTE) && net.checkpoint.epoch)
    report::line(fmt::format("This model was trained for {} epochs", *net.checkpoint.epoch));
  EvaluatorOptions options = evaluator_options(d.selection, o.predict, o.runtime.progress);
  options.style = report_style(family, o.predict.test_time_augmentation, path, net.checkpoint.epoch);
  Evaluator evaluator(pose, d.dataset, d.keypoints, flip_symmetry(d.dataset, d.keypoints), options, device);
  report::line(fmt::format("INFO: Testing on {} frames", evaluator.test_frames()));
  result.blocks = report_evaluation(evaluator, o.by_subject);
  if (!json_path.empty()) write_evaluation_json(json_path, o, path, pose.receptive_field(), result.blocks);
  return result;
}

}  // namespace poselift::engine
