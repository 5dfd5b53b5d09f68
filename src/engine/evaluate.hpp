// Evaluation under the standard Human3.6M protocols, as run_poseformer.py --evaluate does:
// per action group (name up to the first space) over all its subjects and cameras, MPJPE
// (protocol #1), P-MPJPE (#2), N-MPJPE (#3) and velocity error, then action-wise averages.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "engine/predict.hpp"
#include "model/lifter.hpp"

namespace poselift::engine {

struct ActionErrors {
  std::string action;
  std::int64_t frames = 0;
  double mpjpe = 0, p_mpjpe = 0, n_mpjpe = 0, mpjve = 0;  // millimetres
};

// One printed block: every action group, then the action-wise averages.
struct EvaluationBlock {
  std::string subject;  // empty when subjects are pooled
  std::vector<ActionErrors> actions;
  double mean_mpjpe = 0, mean_p_mpjpe = 0, mean_n_mpjpe = 0, mean_mpjve = 0;
};

// What each original prints around an action's figures, beyond PoseFormer's lines.
struct ReportStyle {
  // VideoPose3D and MixSTE print "Test time augmentation: <value>" under each heading (MixSTE
  // always prints False, its generator's flag, although its evaluation flips).
  std::optional<bool> augmentation;
  std::vector<std::string> before_each_action;  // MixSTE reloads the checkpoint for every action
};
// The style of `family`'s original: `augmentation` the run's setting, `checkpoint` and `epoch`
// what MixSTE's per-action reload prints.
ReportStyle report_style(model::Family family, bool augmentation, const std::string& checkpoint,
                         std::optional<std::int64_t> epoch);

struct EvaluatorOptions {
  std::vector<std::string> subjects;       // test subjects
  std::vector<std::string> action_filter;  // prefixes; empty = all
  int downsample = 1;
  PredictOptions predict;
  bool progress = true;
  ReportStyle style;  // the family's original's lines around each action
};

// Per-sequence error sums, computed once and grouped either way.
struct SequenceErrors {
  std::int64_t frames = 0;        // the frames scored (a sequence model's clip rows, overlaps again)
  std::int64_t input_frames = 0;  // the 2D frames predicted
  double mpjpe = 0, p_mpjpe = 0, n_mpjpe = 0, mpjve = 0;  // metres, already multiplied by frames
};

class Evaluator {
 public:
  Evaluator(model::LifterImpl& model, const data::MocapDataset& dataset, const data::Keypoints& keypoints,
            FlipSymmetry symmetry, EvaluatorOptions options, torch::Device device);

  // Frames of the test sequences (the original's "Testing on N frames").
  std::int64_t test_frames() const;
  // Action groups pooled over the subjects (one block) or per subject (one block each).
  std::vector<EvaluationBlock> run(bool by_subject);
  const EvaluatorOptions& options() const { return options_; }

 private:
  const SequenceErrors& errors_of(const std::string& subject, const std::string& action);
  EvaluationBlock block_for(const std::string& subject_label,
                            const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>&
                                groups);

  model::LifterImpl& model_;
  const data::MocapDataset& dataset_;
  const data::Keypoints& keypoints_;
  FlipSymmetry symmetry_;
  EvaluatorOptions options_;
  torch::Device device_;
  std::map<std::pair<std::string, std::string>, SequenceErrors> cache_;  // (subject, action)
};

// Left/right keypoints from the 2D file's metadata, left/right joints from the skeleton.
FlipSymmetry flip_symmetry(const data::MocapDataset& dataset, const data::Keypoints& keypoints);

// The dataset and 2D keypoints a command works on, loaded once, with its parsed selection.
struct PoseData {
  data::MocapDataset dataset;
  data::Keypoints keypoints;
  DataSelection selection;
};
// Loads -d/-k from --data-dir, reporting the original's lines ("Loading dataset...", ...,
// "Selected actions: [...]") through report::line when `report_lines`.
PoseData load_pose_data(const DataOptions& options, bool report_lines = true);

// The evaluation of the test subjects of `selection`.
EvaluatorOptions evaluator_options(const DataSelection& selection, const PredictOptions& predict, bool progress);

// Runs the evaluation, reporting "Evaluating..." and every block as the original prints them
// (report::line).
std::vector<EvaluationBlock> report_evaluation(Evaluator& evaluator, bool by_subject);

// `poselift evaluate`: a checkpoint's errors under the Human3.6M protocols.
struct EvaluateOptions {
  DataOptions data;
  ModelOptions model;
  RuntimeOptions runtime;
  PredictOptions predict;
  CheckpointOptions checkpoint;
  bool by_subject = false;
  std::string json_out;  // also write the figures as JSON (empty: no)
};

struct EvaluateResult {
  std::string checkpoint;  // the file evaluated
  std::vector<EvaluationBlock> blocks;
};

// The whole command, reporting the original's lines through report::line. Bad input ->
// InputError before any output file is written.
EvaluateResult run_evaluate(const EvaluateOptions& options);

// The original's printed lines for one block ("----Walking----", "Protocol #1 Error (MPJPE): ..."),
// with the lines some originals print around each action (ReportStyle).
std::string format_block(const EvaluationBlock& block, const ReportStyle& style = {});
nlohmann::json blocks_to_json(const std::vector<EvaluationBlock>& blocks);

// Python's repr() of a list of strings.
std::string python_list(const std::vector<std::string>& items);
// Python's repr() of a float (shortest round trip, ".0" kept), and print(round(x, digits)).
std::string python_float(double value);
std::string python_round(double value, int digits);

}  // namespace poselift::engine
