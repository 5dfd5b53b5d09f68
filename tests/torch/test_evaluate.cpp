// Evaluation parity: every figure the original run_poseformer.py printed for the fixture
// checkpoint (eval_*.txt) is reproduced within 0.01 mm.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "data/selection.hpp"
#include "engine/evaluate.hpp"
#include "model/checkpoint.hpp"
#include "test_support.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace poselift;
namespace fs = std::filesystem;

namespace {

struct PrintedBlock {
  std::string subject;
  std::vector<std::pair<std::string, std::array<double, 4>>> actions;
  std::array<double, 4> averages{};
};

// Parses the original's report (plain or --by-subject).
std::vector<PrintedBlock> parse_report(const std::string& text) {
  std::vector<PrintedBlock> blocks;
  std::istringstream in(text);
  std::string line;
  std::regex action_re(R"(^----(.+)----$)"), error_re(R"(^(?:Protocol #\d|Velocity) Error \(\S+\): (\S+) mm$)"),
      average_re(R"(action-wise average: (\S+) mm$)"), subject_re(R"(^Evaluating on subject (\S+)$)");
  std::smatch m;
  int error_index = 0, average_index = 0;
  auto current = [&]() -> PrintedBlock& {
    if (blocks.empty()) blocks.emplace_back();
    return blocks.back();
  };
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, subject_re)) {
      blocks.emplace_back();
      blocks.back().subject = m[1];
    } else if (std::regex_match(line, m, action_re)) {
      if (m[1].str().find_first_not_of('-') != std::string::npos) {  // "----------" closes a block
        current().actions.emplace_back(m[1], std::array<double, 4>{});
        error_index = 0;
      }
    } else if (std::regex_match(line, m, error_re)) {
      current().actions.back().second[error_index++] = std::stod(m[1]);
    } else if (std::regex_search(line, m, average_re)) {
      current().averages[average_index++ % 4] = std::stod(m[1]);
    }
  }
  return blocks;
}

void expect_blocks_match(const std::vector<engine::EvaluationBlock>& ours, const std::vector<PrintedBlock>& theirs,
                         const std::string& label) {
  ASSERT_EQ(ours.size(), theirs.size()) << label;
  double worst = 0;
  for (std::size_t b = 0; b < ours.size(); ++b) {
    EXPECT_EQ(ours[b].subject, theirs[b].subject) << label;
    ASSERT_EQ(ours[b].actions.size(), theirs[b].actions.size()) << label;
    for (std::size_t a = 0; a < ours[b].actions.size(); ++a) {
      const auto& mine = ours[b].actions[a];
      const auto& [name, figures] = theirs[b].actions[a];
      EXPECT_EQ(mine.action, name) << label;
      const double values[4] = {mine.mpjpe, mine.p_mpjpe, mine.n_mpjpe, mine.mpjve};
      for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(values[k], figures[k], 0.01) << label << " " << name << " figure " << k;
        worst = std::max(worst, std::abs(values[k] - figures[k]));
      }
    }
    // Averages are printed rounded (0.1 mm, velocity 0.01 mm): the same rounding must agree.
    EXPECT_EQ(engine::python_round(ours[b].mean_mpjpe, 1), engine::python_float(theirs[b].averages[0])) << label;
    EXPECT_EQ(engine::python_round(ours[b].mean_p_mpjpe, 1), engine::python_float(theirs[b].averages[1])) << label;
    EXPECT_EQ(engine::python_round(ours[b].mean_n_mpjpe, 1), engine::python_float(theirs[b].averages[2])) << label;
    EXPECT_EQ(engine::python_round(ours[b].mean_mpjve, 2), engine::python_float(theirs[b].averages[3])) << label;
  }
  std::printf("%s: largest difference from the original's figures: %.3g mm\n", label.c_str(), worst);
}

std::vector<PrintedBlock> blocks_from_json(const nlohmann::json& j) {
  std::vector<PrintedBlock> out;
  for (const auto& b : j) {
    PrintedBlock block;
    block.subject = b["subject"].get<std::string>();
    for (const auto& a : b["actions"])
      block.actions.emplace_back(a["action"].get<std::string>(),
                                 std::array<double, 4>{a["mpjpe"].get<double>(), a["p_mpjpe"].get<double>(),
                                                       a["n_mpjpe"].get<double>(), a["mpjve"].get<double>()});
    out.push_back(block);
  }
  return out;
}

// Figures of one fixture from the literal Python reference (tests/reference), pooled block
// first, then one block per subject. Empty when Debian's python3-torch is absent.
std::vector<PrintedBlock> reference_figures(const std::string& fixture, const std::string& keypoints_name,
                                            const std::string& subjects, const std::string& actions) {
  if (test::run_command("/usr/bin/python3 -c 'import torch, numpy' >/dev/null") != 0) return {};
  const std::string dir = test::temp_dir("reference_" + fixture + "_" + keypoints_name);
  nlohmann::json cameras;
  for (const auto& [subject, list] : data::h36m_cameras()) {
    for (const auto& camera : list) {
      if (!camera.has_extrinsics) continue;
      cameras[subject].push_back({{"orientation", camera.orientation},
                                  {"translation", camera.translation},
                                  {"res_w", camera.res_w},
                                  {"res_h", camera.res_h}});
    }
  }
  std::ofstream(dir + "/cameras.json") << cameras.dump();
  const std::string root = test::shared_path("fixtures/" + fixture);
  std::string out;
  const int status = test::run_command("/usr/bin/python3 " + std::string(POSELIFT_SOURCE_DIR) +
                                           "/tests/reference/poseformer_reference.py --data-dir " + root +
                                           "/data --checkpoint " + root + "/checkpoint/model.bin --cameras " + dir +
                                           "/cameras.json --keypoints " + keypoints_name + " --subjects " + subjects +
                                           " --actions '" + actions + "' 2>/dev/null",
                                       &out);
  EXPECT_EQ(status, 0) << out;
  return blocks_from_json(nlohmann::json::parse(out));
}

std::vector<engine::EvaluationBlock> poselift_figures(const std::string& fixture, const std::string& keypoints_name,
                                                      const std::vector<std::string>& subjects,
                                                      const std::vector<std::string>& actions) {
  const std::string root = test::shared_path("fixtures/" + fixture);
  auto dataset = data::load_dataset("h36m", root + "/data", keypoints_name);
  auto keypoints = data::load_keypoints(dataset, root + "/data", keypoints_name);
  auto net = model::load_poseformer(root + "/checkpoint/model.bin", 8);
  engine::EvaluatorOptions options;
  options.subjects = subjects;
  options.action_filter = actions;
  options.progress = false;
  engine::Evaluator evaluator(*net, dataset, keypoints, engine::flip_symmetry(dataset, keypoints), options,
                              torch::kCPU);
  // One prediction pass serves both reports (the evaluator caches per-sequence errors).
  auto blocks = evaluator.run(false);
  for (auto& b : evaluator.run(true)) blocks.push_back(b);
  return blocks;
}

void expect_reference_parity(const std::string& fixture, const std::string& keypoints_name,
                             const std::vector<std::string>& subjects, const std::vector<std::string>& actions) {
  std::string subject_list, action_list = actions.empty() ? "*" : "";
  for (const auto& s : subjects) subject_list += (subject_list.empty() ? "" : ",") + s;
  for (const auto& a : actions) action_list += (action_list.empty() ? "" : ",") + a;
  auto theirs = reference_figures(fixture, keypoints_name, subject_list, action_list);
  if (theirs.empty()) GTEST_SKIP() << "Debian's python3-torch is absent: reference comparison skipped";
  auto ours = poselift_figures(fixture, keypoints_name, subjects, actions);
  // The reference prints unrounded averages only through its actions: compare per action.
  ASSERT_EQ(ours.size(), theirs.size());
  double worst = 0;
  for (std::size_t b = 0; b < ours.size(); ++b) {
    EXPECT_EQ(ours[b].subject, theirs[b].subject);
    ASSERT_EQ(ours[b].actions.size(), theirs[b].actions.size());
    for (std::size_t a = 0; a < ours[b].actions.size(); ++a) {
      const auto& mine = ours[b].actions[a];
      EXPECT_EQ(mine.action, theirs[b].actions[a].first);
      const double values[4] = {mine.mpjpe, mine.p_mpjpe, mine.n_mpjpe, mine.mpjve};
      for (int k = 0; k < 4; ++k) {
        EXPECT_NEAR(values[k], theirs[b].actions[a].second[k], 0.01) << mine.action << " figure " << k;
        worst = std::max(worst, std::abs(values[k] - theirs[b].actions[a].second[k]));
      }
    }
  }
  std::printf("%s/%s: largest difference from the literal reference: %.3g mm\n", fixture.c_str(),
              keypoints_name.c_str(), worst);
}

// Frames per (subject, action group) of the fixture's test subjects, all cameras.
std::map<std::pair<std::string, std::string>, double> group_frames(const std::string& keypoints_name) {
  const std::string root = test::shared_path("fixtures/poseformer-f81");
  auto dataset = data::load_dataset("h36m", root + "/data", keypoints_name);
  std::map<std::pair<std::string, std::string>, double> frames;
  for (const char* subject : {"S9", "S11"})
    for (const auto& action : dataset.subject(subject).actions)
      frames[{subject, data::action_group_name(action.name)}] +=
          static_cast<double>(action.positions.shape[0] * action.positions_3d.size());
  return frames;
}

// Whether the original's pooled report is the frame-weighted mean of its per-subject
// report, as it must be when both runs evaluated the same weights.
bool reports_are_consistent(const std::string& keypoints_name, std::string* why) {
  const std::string root = test::shared_path("fixtures/poseformer-f81");
  auto pooled = parse_report(test::read_text(root + "/eval_" + keypoints_name + ".txt"));
  auto by_subject = parse_report(test::read_text(root + "/eval_" + keypoints_name + "_by_subject.txt"));
  auto frames = group_frames(keypoints_name);
  for (const auto& [action, figures] : pooled.at(0).actions) {
    double weighted = 0, total = 0;
    for (const auto& block : by_subject)
      for (const auto& [name, f] : block.actions)
        if (name == action) {
          weighted += f[0] * frames[{block.subject, name}];
          total += frames[{block.subject, name}];
        }
    if (std::abs(weighted / total - figures[0]) > 0.01) {
      *why = fmt::format("{}: pooled MPJPE {:.4f} mm, but the frame-weighted mean of its per-subject figures is "
                         "{:.4f} mm",
                         action, figures[0], weighted / total);
      return false;
    }
  }
  return true;
}

void expect_fixture_report_parity(const std::string& keypoints_name) {
  std::string why;
  // The reports were remade with the original evaluating the checkpoint's real weights
  // (fixtures/README.md): pooled and per-subject figures must agree, or the fixture is stale.
  ASSERT_TRUE(reports_are_consistent(keypoints_name, &why))
      << "eval_" << keypoints_name << ".txt and eval_" << keypoints_name << "_by_subject.txt contradict each other ("
      << why << "): they cannot both come from one set of weights";
  const std::string root = test::shared_path("fixtures/poseformer-f81");
  auto ours = poselift_figures("poseformer-f81", keypoints_name, {"S9", "S11"}, {});
  std::vector<engine::EvaluationBlock> pooled(ours.begin(), ours.begin() + 1), split(ours.begin() + 1, ours.end());
  expect_blocks_match(pooled, parse_report(test::read_text(root + "/eval_" + keypoints_name + ".txt")),
                      "eval_" + keypoints_name);
  expect_blocks_match(split, parse_report(test::read_text(root + "/eval_" + keypoints_name + "_by_subject.txt")),
                      "eval_" + keypoints_name + "_by_subject");
}

}  // namespace

TEST(EvaluationParity, TinyFixtureMatchesLiteralReferenceGt) {
  POSELIFT_REQUIRE_SHARED();
  expect_reference_parity("poseformer-tiny", "gt", {"S9", "S11"}, {});
}

TEST(EvaluationParity, TinyFixtureMatchesLiteralReferenceNoisy) {
  POSELIFT_REQUIRE_SHARED();
  expect_reference_parity("poseformer-tiny", "noisy", {"S9", "S11"}, {});
}

TEST(EvaluationParity, Published81FrameModelMatchesLiteralReference) {
  POSELIFT_REQUIRE_SHARED();
  expect_reference_parity("poseformer-f81", "noisy", {"S11"}, {"Walking"});
}

TEST(EvaluationParity, OriginalReportsGt) {
  POSELIFT_REQUIRE_SHARED();
  expect_fixture_report_parity("gt");
}

TEST(EvaluationParity, OriginalReportsNoisy) {
  POSELIFT_REQUIRE_SHARED();
  expect_fixture_report_parity("noisy");
}

TEST(EvaluationReport, CliPrintsTheOriginalsLines) {
  POSELIFT_REQUIRE_SHARED();
  // The original's command line, run in a folder laid out like the original's (data/ and
  // checkpoint/), with the small 9-frame checkpoint so the test stays quick: the lines must
  // be the original's, numbers aside.
  const std::string root = test::temp_dir("cli_report");
  fs::create_directories(root + "/checkpoint");
  fs::create_symlink(test::shared_path("fixtures/poseformer-f81/data"), root + "/data");
  fs::create_symlink(test::shared_path("fixtures/poseformer-tiny/checkpoint/model.bin"),
                     root + "/checkpoint/model.bin");
  const std::regex number(R"(-?\d+(\.\d+)?(e[-+]\d+)?)");
  auto normalise = [&](const std::string& text) {
    std::string t = std::regex_replace(text, number, "#");
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
  };
  for (const std::string mode : {"", " --by-subject"}) {
    std::string out;
    ASSERT_EQ(test::run_command("cd " + root + " && " + POSELIFT_CLI +
                                    " -k gt -f 9 -c checkpoint --evaluate model.bin --no-progress --json report.json" +
                                    mode + " 2>/dev/null",
                                &out),
              0)
        << out;
    const std::string expected = test::read_text(test::shared_path("fixtures/poseformer-f81/eval_gt") +
                                                 (mode.empty() ? "" : "_by_subject") + ".txt");
    EXPECT_EQ(normalise(out), normalise(expected));
    auto j = nlohmann::json::parse(test::read_text(root + "/report.json"));
    EXPECT_EQ(j["blocks"].size(), mode.empty() ? 1u : 2u);
  }
}

TEST(EvaluationFormat, PythonFloatFormatting) {
  EXPECT_EQ(engine::python_float(765.949000289121), "765.949000289121");
  EXPECT_EQ(engine::python_float(10.0), "10.0");
  EXPECT_EQ(engine::python_float(1e-05), "1e-05");
  EXPECT_EQ(engine::python_float(1e16), "1e+16");
  EXPECT_EQ(engine::python_round(10.6049, 2), "10.6");
  EXPECT_EQ(engine::python_round(774.3049, 1), "774.3");
  EXPECT_EQ(engine::python_round(12.0, 1), "12.0");
}
