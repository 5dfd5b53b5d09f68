// The command line against wrong, hostile or careless use: outputs that would destroy inputs,
// non-finite and out-of-range values, misspelt flags, settings the checkpoint knows, and
// forward's bounded batches. Every case runs on data the project makes itself.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "engine/options.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/zip_archive.hpp"
#include "model/checkpoint.hpp"
#include "test_support.hpp"

using namespace poselift;
namespace fs = std::filesystem;

namespace {

std::string cli() { return POSELIFT_CLI; }

model::PoseFormerConfig small_config(int heads = 2) {
  model::PoseFormerConfig c;
  c.num_frames = 9;
  c.embed_dim_ratio = 8;
  c.depth = 1;
  c.num_heads = heads;
  return c;
}

// A checkpoint in the original's layout; `poselift_extra` adds poselift's entries (the head count).
std::string write_small_checkpoint(const std::string& path, io::ValuePtr poselift_extra = nullptr,
                                   std::int64_t epoch = 3) {
  torch::manual_seed(5);
  model::PoseFormer net(small_config());
  model::CheckpointContents contents;
  contents.model = net.get();
  contents.epoch = epoch;
  contents.lr = 1e-4;
  contents.extra = std::move(poselift_extra);
  model::write_checkpoint(path, contents);
  return path;
}

io::ValuePtr heads_extra(std::int64_t heads) {
  return io::Value::dict({{io::Value::from_str("num_heads"), io::Value::from_int(heads)}});
}

// The synthetic dataset of `poselift prepare synthetic`, made once per test program.
const std::string& synthetic_data() {
  static const std::string dir = [] {
    const std::string d = test::temp_dir("cli_inputs_synthetic");
    std::string out;
    if (test::run_command(cli() + " prepare synthetic --out " + d + " --seconds 1", &out) != 0)
      ADD_FAILURE() << out;
    return d;
  }();
  return dir;
}

// (B, 9, 17, 2) windows of smooth 2D keypoints in [-1, 1].
io::NdArray windows(std::int64_t B) {
  std::vector<float> v;
  for (std::int64_t b = 0; b < B; ++b)
    for (int f = 0; f < 9; ++f)
      for (int j = 0; j < 17; ++j) {
        v.push_back(static_cast<float>(0.4 * std::sin(0.1 * b + 0.3 * j + 0.05 * f)));
        v.push_back(static_cast<float>(0.4 * std::cos(0.2 * b + 0.5 * j - 0.05 * f)));
      }
  return io::NdArray::from_vector<float>({B, 9, 17, 2}, v);
}

std::string file_bytes(const std::string& path) { return test::read_text(path); }

struct CliRun {
  int status;
  std::string output;
};
CliRun run(const std::string& args) {
  CliRun r;
  r.status = test::run_command(cli() + " " + args, &r.output);
  return r;
}

}  // namespace

TEST(CliInputs, OutputsNeverReplaceTheirInputs) {
  const std::string dir = test::temp_dir("cli_same_path");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  io::write_npy(dir + "/x.npy", windows(3));
  const std::string ck_before = file_bytes(ck), x_before = file_bytes(dir + "/x.npy");
  fs::create_symlink("x.npy", dir + "/link_to_x.npy");
  fs::create_hard_link(dir + "/x.npy", dir + "/hard_x.npy");
  const std::string data = synthetic_data();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/x.npy", "x.npy"},
      {"forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/link_to_x.npy", "link_to_x.npy"},
      {"forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/hard_x.npy", "hard_x.npy"},
      {"forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + ck, "model.bin"},
      {"evaluate -d synthetic -k gt --data-dir " + data + " -c " + dir + " --evaluate model.bin --json " + ck,
       "model.bin"},
      {"evaluate -d synthetic -k gt --data-dir " + data + " -c " + dir + " --evaluate model.bin --json " + data +
           "/data_2d_synthetic_gt.npz",
       "data_2d_synthetic_gt.npz"},
  };
  for (const auto& [args, name] : cases) {
    const CliRun r = run(args + " --no-progress");
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("would destroy the input"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(name), std::string::npos) << r.output;
  }
  EXPECT_EQ(file_bytes(ck), ck_before);
  EXPECT_EQ(file_bytes(dir + "/x.npy"), x_before);
  EXPECT_TRUE(fs::is_symlink(dir + "/link_to_x.npy"));

  // An output that is a link to another file: the target is written, the link stays.
  io::write_npy(dir + "/old_result.npy", windows(1));
  fs::create_symlink("old_result.npy", dir + "/result_link.npy");
  const CliRun r = run("forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/result_link.npy");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::is_symlink(dir + "/result_link.npy"));
  EXPECT_EQ(io::read_npy(dir + "/old_result.npy").array.shape, (std::vector<std::int64_t>{3, 1, 17, 3}));

  // infer: the input detections as the output.
  std::ofstream(dir + "/s.csv") << "frame,x0\n";
  const std::string csv_before = file_bytes(dir + "/s.csv");
  const CliRun infer = run("infer --checkpoint " + ck + " --input " + dir + "/s.csv --out " + dir + "/s.csv");
  EXPECT_EQ(infer.status, 2) << infer.output;
  EXPECT_NE(infer.output.find("would destroy the input"), std::string::npos) << infer.output;
  EXPECT_EQ(file_bytes(dir + "/s.csv"), csv_before);
}

TEST(CliInputs, ForwardRunsLargeInputsInBoundedBatches) {
  const std::string dir = test::temp_dir("cli_forward_chunks");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  io::write_npy(dir + "/x.npy", windows(10));
  ASSERT_EQ(run("forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/whole.npy").status, 0);
  const CliRun chunked =
      run("forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/chunked.npy -b 3");
  ASSERT_EQ(chunked.status, 0) << chunked.output;
  // Independent truth: the reference module on all windows at once.
  auto net = model::load_poseformer(ck, 0);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto expected = net->forward(model::to_tensor(windows(10)));
  for (const char* name : {"whole.npy", "chunked.npy"}) {
    const auto got = model::to_tensor(io::read_npy(dir + "/" + name).array);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT((got - expected).abs().max().item<float>(), 1e-5) << name;
  }
}

TEST(CliInputs, NonFiniteKeypointsAreInputErrors) {
  const std::string dir = test::temp_dir("cli_nan");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  auto x = windows(4);
  x.data<float>()[2 * 9 * 17 * 2 + 5] = std::numeric_limits<float>::quiet_NaN();  // window 2
  io::write_npy(dir + "/nan.npy", x);
  const CliRun r = run("forward --checkpoint " + ck + " --input " + dir + "/nan.npy --out " + dir + "/out.npy");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("nan.npy: window 2"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/out.npy"));
}

TEST(CliInputs, OutOfRangeValuesAreRefusedWithTheFlagNamed) {
  const std::string dir = test::temp_dir("cli_ranges");
  const std::string data = synthetic_data();
  write_small_checkpoint(dir + "/model.bin");
  const std::string eval = "evaluate -d synthetic -k gt --data-dir " + data + " -c " + dir + " --evaluate model.bin ";
  const std::string train = "train -d synthetic -k gt --data-dir " + data + " -c " + dir + "/ck -f 9 --width 8 ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {eval + "-b 0", "--batch-size"},
      {eval + "-b -5", "--batch-size"},
      {eval + "--subset 0", "--subset"},
      {eval + "--subset -1", "--subset"},
      {eval + "--threads -1", "--threads"},
      {eval + "-a Nothing", "matches -a Nothing"},
      {train + "-e 0", "--epochs"},
      {train + "-e -2", "--epochs"},
      {train + "-b 0", "--batch-size"},
  };
  for (const auto& [args, expected] : cases) {
    const CliRun r = run(args + " --no-progress");
    EXPECT_EQ(r.status, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("poselift: error:"), std::string::npos) << r.output;
  }
  // -a with no match lists the actions there are.
  const CliRun r = run(eval + "-a Nothing --no-progress");
  EXPECT_NE(r.output.find("'Walking'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/ck/epoch_1.bin"));
}

TEST(CliInputs, ThreadCountIsCappedAtTheUsableCpus) {
  const std::string dir = test::temp_dir("cli_threads");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  io::write_npy(dir + "/x.npy", windows(2));
  const CliRun r =
      run("forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/y.npy --threads 100000");
  ASSERT_EQ(r.status, 0) << r.output;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  ASSERT_EQ(sched_getaffinity(0, sizeof cpus, &cpus), 0);
  EXPECT_NE(r.output.find("may use " + std::to_string(CPU_COUNT(&cpus)) + " CPUs"), std::string::npos) << r.output;
}

TEST(CliInputs, HostileCheckpointFieldsAreInputErrors) {
  const std::string dir = test::temp_dir("cli_hostile_ck");
  io::write_npy(dir + "/x.npy", windows(1));
  write_small_checkpoint(dir + "/heads.bin", heads_extra((std::int64_t{1} << 32) + 8));
  write_small_checkpoint(dir + "/epoch.bin", nullptr, -5);
  {
    // A state dict whose block index does not fit an int.
    torch::manual_seed(5);
    model::PoseFormer net(small_config());
    model::StateDict state = model::module_state(*net);
    auto renamed = state;
    for (auto& [key, tensor] : renamed)
      if (key.rfind("Spatial_blocks.0.", 0) == 0) key = "Spatial_blocks.99999999999." + key.substr(17);
    std::vector<std::pair<io::ValuePtr, io::ValuePtr>> entries;
    for (const auto& [key, tensor] : renamed)
      entries.emplace_back(io::Value::from_str(key), io::make_tensor_value(model::to_ndarray(tensor)));
    io::write_torch_file(dir + "/blocks.bin", *io::Value::ordered_dict(entries));
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"heads.bin", "num_heads: expected a head count"},
      {"epoch.bin", "epoch: expected the count of completed epochs"},
      {"blocks.bin", "expected a block index below"},
  };
  for (const auto& [file, expected] : cases) {
    for (const std::string& command : std::vector<std::string>{"info " + dir + "/" + file, "forward --checkpoint " + dir + "/" + file +
                                                                     " --input " + dir + "/x.npy --out " + dir +
                                                                     "/y.npy"}) {
      const CliRun r = run(command);
      EXPECT_EQ(r.status, 2) << command << "\n" << r.output;
      EXPECT_NE(r.output.find(dir + "/" + file), std::string::npos) << r.output;
      EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
    }
  }
}

TEST(CliInputs, MisspeltAndMisplacedFlagsGetAHint) {
  const std::string dir = test::temp_dir("cli_flags");
  const std::string data = synthetic_data();
  write_small_checkpoint(dir + "/model.bin");
  const std::string seed = "-d synthetic -k gt --data-dir " + data + " -c " + dir + " --evaluate model.bin ";
  CliRun r = run(seed + "--viz-outptu x.mp4");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("poselift: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unknown option --viz-outptu"), std::string::npos) << r.output;
  r = run("render --input x.npz --viz-outptu x.mp4");
  EXPECT_NE(r.output.find("did you mean --viz-output?"), std::string::npos) << r.output;
  r = run(seed + "--viz-output x.mp4");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--viz-output is an option of `poselift render`"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("add --render"), std::string::npos) << r.output;
  r = run("evaluate --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("poselift evaluate"), std::string::npos) << r.output;
  std::ofstream(dir + "/walk.bvh") << "HIERARCHY\n";
  r = run("info " + dir + "/walk.bvh");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("info reads .npz archives, .npy arrays and PyTorch checkpoints"), std::string::npos)
      << r.output;
}

TEST(CliInputs, DataErrorsListWhatExists) {
  const std::string dir = test::temp_dir("cli_data_errors");
  const std::string data = synthetic_data();
  write_small_checkpoint(dir + "/model.bin");
  const std::string tail = " -c " + dir + " --evaluate model.bin --no-progress";
  CliRun r = run("evaluate -d synthetic -k cpn --data-dir " + data + tail);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("-k can be: gt, noisy"), std::string::npos) << r.output;
  r = run("evaluate -d synthetic -k gt --data-dir " + dir + "/absent" + tail);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--data-dir"), std::string::npos) << r.output;
  r = run("evaluate -d synthetic -k gt --data-dir " + data + " -ste S9,S42" + tail);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("S42"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("S11"), std::string::npos) << "the subjects there are: " << r.output;
}

TEST(CliInputs, FramesAndHeadsComeFromTheCheckpoint) {
  const std::string dir = test::temp_dir("cli_from_checkpoint");
  const std::string data = synthetic_data();
  write_small_checkpoint(dir + "/stored.bin", heads_extra(2));
  write_small_checkpoint(dir + "/plain.bin");
  // info: the stored head count, not PoseFormer's default.
  CliRun r = run("info " + dir + "/stored.bin");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 heads"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("heads as stored in the file"), std::string::npos) << r.output;
  r = run("info " + dir + "/plain.bin");
  EXPECT_NE(r.output.find("8 heads"), std::string::npos) << r.output;
  // evaluate without -f takes the checkpoint's 9 frames; a disagreeing -f or --heads is a warning.
  const std::string eval = "evaluate -d synthetic -k gt --data-dir " + data + " -c " + dir + " --no-progress ";
  r = run(eval + "--evaluate stored.bin");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("INFO: Receptive field: 9 frames"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
  r = run(eval + "--evaluate stored.bin -f 27 --heads 4");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("takes 9 frames per prediction: -f 27 is ignored"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("trained with 2 attention heads: --heads 4 is ignored"), std::string::npos) << r.output;
  // Progress and warnings go to stderr, results to stdout, in order in a combined log.
  const std::size_t loading = r.output.find("Loading dataset..."), warning = r.output.find("WARNING");
  EXPECT_LT(loading, warning) << r.output;
}

TEST(CliInputs, InferSaysWhichFrameRateItAssumed) {
  const std::string dir = test::temp_dir("cli_infer_fps");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  std::string csv = "frame";
  for (int k = 0; k < 17; ++k) csv += ",x" + std::to_string(k) + ",y" + std::to_string(k);
  csv += "\n";
  for (int t = 0; t < 12; ++t) {
    csv += std::to_string(t);
    for (int k = 0; k < 17; ++k)
      csv += "," + std::to_string(300 + 10 * (k % 5) + t) + "," + std::to_string(100 + 20 * k);
    csv += "\n";
  }
  std::ofstream(dir + "/walk.csv") << csv;
  CliRun r = run("infer --no-progress --checkpoint " + ck + " --input " + dir + "/walk.csv --width 640 --height 480 "
              "--layout coco --out " + dir + "/walk.bvh");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("30 fps assumed"), std::string::npos) << r.output;
  EXPECT_NE(test::read_text(dir + "/walk.bvh").find("Frame Time: 0.0333333"), std::string::npos);
  r = run("infer --no-progress --checkpoint " + ck + " --input " + dir + "/walk.csv --width 640 --height 480 "
          "--layout coco --fps 50 --out " + dir + "/walk50.bvh");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("assumed"), std::string::npos) << r.output;
  EXPECT_NE(test::read_text(dir + "/walk50.bvh").find("Frame Time: 0.02"), std::string::npos);
  // glTF binary, and the BVH in Blender's axes: both from the same world-frame motion.
  r = run("infer --no-progress --checkpoint " + ck + " --input " + dir + "/walk.csv --width 640 --height 480 "
          "--layout coco --fps 50 --out " + dir + "/walk.glb");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(test::read_text(dir + "/walk.glb").substr(0, 4), "glTF");
  r = run("infer --no-progress --checkpoint " + ck + " --input " + dir + "/walk.csv --width 640 --height 480 "
          "--layout coco --fps 50 --up z --out " + dir + "/walk_z.bvh");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("infer --no-progress --checkpoint " + ck + " --input " + dir + "/walk.csv --width 640 --height 480 "
          "--layout coco --up z --forward z --out " + dir + "/bad.bvh");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--forward"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/bad.bvh"));
  r = run("infer --no-progress --checkpoint " + ck + " --input " + dir + "/walk.csv --width 640 --height 480 "
          "--layout coco --contact-speed 0 --out " + dir + "/bad.bvh");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--contact-speed"), std::string::npos) << r.output;
}

TEST(CliInputs, InferLiftsOneSequenceOfADatasetFile) {
  const std::string dir = test::temp_dir("cli_infer_dataset");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  // Named as VideoPose3D's Human3.6M files are, so its frame rate (50) is known.
  fs::copy_file(synthetic_data() + "/data_2d_synthetic_gt.npz", dir + "/data_2d_h36m_gt.npz");
  const std::string base = "infer --no-progress --checkpoint " + ck + " --input " + dir + "/data_2d_h36m_gt.npz ";
  CliRun r = run(base + "--out " + dir + "/x.bvh");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("choose one sequence with --video SUBJECT/ACTION[/CAMERA]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("S9"), std::string::npos) << r.output;
  r = run(base + "--video S9/Flying --out " + dir + "/x.bvh");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("no action 'Flying'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'Walking'"), std::string::npos) << r.output;
  r = run(base + "--video S9/Walking/7 --width 1000 --height 1000 --out " + dir + "/x.bvh");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("camera index from 0 to 3"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/x.bvh"));
  r = run(base + "--video S9/Walking/1 --width 1000 --height 1000 --out " + dir + "/x.bvh");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string bvh = test::read_text(dir + "/x.bvh");
  EXPECT_NE(bvh.find("Frame Time: 0.02"), std::string::npos);
  const auto frames_line = bvh.find("Frames: ");
  ASSERT_NE(frames_line, std::string::npos);
  const auto npz = io::read_npz(dir + "/data_2d_h36m_gt.npz");
  const auto& sequence =
      npz.at("positions_2d", "test").object->at("S9", "S9").at("Walking", "Walking").as_sequence("cams")[1];
  EXPECT_EQ(std::stoll(bvh.substr(frames_line + 8)), sequence->as_array("cam 1").shape[0]);
}

TEST(CliInputs, CheckpointReferencingOneListManyTimesLoads) {
  // torch.save memoises shared objects: 64 levels of [l, l] are a few hundred bytes on disk
  // and 2^64 paths when unfolded. Made by PyTorch itself from a checkpoint poselift wrote.
  const std::string python = test::python_with_numpy();
  if (python.empty() || test::run_command(python + " -c 'import torch'") != 0)
    GTEST_SKIP() << "needs Debian's python3-torch to write the checkpoint";
  const std::string dir = test::temp_dir("cli_shared_lists");
  write_small_checkpoint(dir + "/plain.bin");
  std::ofstream(dir + "/laughs.py") << "import sys, torch\n"
                                       "ck = torch.load(sys.argv[1])\n"
                                       "l = []\n"
                                       "for _ in range(64): l = [l, l]\n"
                                       "ck['laughs'] = l\n"
                                       "torch.save(ck, sys.argv[2])\n";
  std::string out;
  ASSERT_EQ(test::run_command(python + " " + dir + "/laughs.py " + dir + "/plain.bin " + dir + "/laughs.bin", &out), 0)
      << out;
  ASSERT_LT(fs::file_size(dir + "/laughs.bin"), fs::file_size(dir + "/plain.bin") + 4096);
  const CliRun r = run("info " + dir + "/laughs.bin");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("model: PoseFormer"), std::string::npos) << r.output;
}

TEST(CliInputs, UnknownTrainingStateFormatIsRefusedNamingTheFile) {
  const std::string dir = test::temp_dir("cli_state_format");
  io::write_npy(dir + "/x.npy", windows(1));
  const std::string ck = write_small_checkpoint(
      dir + "/future.bin", io::Value::dict({{io::Value::from_str("format"), io::Value::from_int(2)},
                                            {io::Value::from_str("num_heads"), io::Value::from_int(2)}}));
  try {
    model::read_checkpoint(ck);
    ADD_FAILURE() << "format 2 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(ck), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("format"), std::string::npos) << e.what();
  }
  for (const std::string& command :
       {"info " + ck, "forward --checkpoint " + ck + " --input " + dir + "/x.npy --out " + dir + "/y.npy"}) {
    const CliRun r = run(command);
    EXPECT_EQ(r.status, 2) << command << "\n" << r.output;
    EXPECT_NE(r.output.find(ck), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("['format'] is 2"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(dir + "/y.npy"));
  // Format 1 (what poselift writes) and files without a format are read.
  write_small_checkpoint(dir + "/one.bin", io::Value::dict({{io::Value::from_str("format"), io::Value::from_int(1)}}));
  EXPECT_NO_THROW(model::read_checkpoint(dir + "/one.bin"));
  EXPECT_EQ(model::read_checkpoint(write_small_checkpoint(dir + "/heads.bin", heads_extra(2))).training->num_heads, 2);
}

TEST(CliInputs, TrainingStateRoundTrips) {
  model::TrainingState t;
  t.num_heads = 4;
  t.drop_path_rate = 0.25;
  t.torch_rng_state = torch::arange(16, torch::kUInt8);
  t.min_loss = 12.5;
  t.history = std::vector<model::EpochRecord>{{1, 0.5, 1e-3, 0.2, 0.3, 0.4}, {2, 0.25, 9e-4, 0.1, 0.2, 0.3}};
  t.batch_index = 7;
  t.epoch_chunk_index = 21;
  t.epoch_loss_sum = 3.5;
  t.epoch_frames = 99;
  const auto value = model::encode_training_state(t);
  EXPECT_EQ(value->at("format", "test").as_int("format"), model::kTrainingStateFormat);
  // Through a file, as training writes and resuming reads it.
  const std::string path = write_small_checkpoint(test::temp_dir("cli_state_round_trip") + "/state.bin", value);
  const auto ck = model::read_checkpoint(path);
  ASSERT_TRUE(ck.training);
  const model::TrainingState& back = *ck.training;
  EXPECT_EQ(back.num_heads, 4);
  EXPECT_EQ(back.drop_path_rate, 0.25);
  EXPECT_TRUE(torch::equal(back.torch_rng_state, t.torch_rng_state));
  EXPECT_EQ(back.min_loss, 12.5);
  ASSERT_TRUE(back.history);
  ASSERT_EQ(back.history->size(), 2u);
  EXPECT_EQ((*back.history)[1].epoch, 2);
  EXPECT_EQ((*back.history)[1].loss_valid, 0.3);
  EXPECT_EQ(back.batch_index, 7);
  EXPECT_EQ(back.epoch_chunk_index, 21);
  EXPECT_EQ(back.epoch_loss_sum, 3.5);
  EXPECT_EQ(back.epoch_frames, 99);
  EXPECT_FALSE(back.epoch_random_state);
}

TEST(CliInputs, CheckpointFlagsMeanTheSameInEveryCommand) {
  const std::string dir = test::temp_dir("cli_checkpoint_flags");
  const std::string ck = write_small_checkpoint(dir + "/model.bin");
  io::write_npy(dir + "/x.npy", windows(2));
  // The library's rule: FILE in -c DIR, FILE as given when only that exists, -c FILE alone.
  EXPECT_EQ(engine::resolve_checkpoint_path({dir, "model.bin"}), dir + "/model.bin");
  EXPECT_EQ(engine::resolve_checkpoint_path({"/nonexistent", ck}), ck);
  EXPECT_EQ(engine::resolve_checkpoint_path({ck, ""}), ck);
  EXPECT_THROW(engine::resolve_checkpoint_path({dir, ""}), InputError);
  EXPECT_THROW(engine::resolve_checkpoint_path({dir, "missing.bin"}), InputError);
  // forward: --checkpoint FILE (as before), -c DIR --checkpoint-file FILE, -c DIR --evaluate FILE.
  const std::string tail = " --input " + dir + "/x.npy --heads 2 --no-progress --out ";
  ASSERT_EQ(run("forward --checkpoint " + ck + tail + dir + "/a.npy").status, 0);
  CliRun r = run("forward -c " + dir + " --checkpoint-file model.bin" + tail + dir + "/b.npy");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("forward -c " + dir + " --evaluate model.bin" + tail + dir + "/c.npy");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(file_bytes(dir + "/a.npy"), file_bytes(dir + "/b.npy"));
  EXPECT_EQ(file_bytes(dir + "/a.npy"), file_bytes(dir + "/c.npy"));
  // A folder without a file name says which flag names the file.
  r = run("forward -c " + dir + tail + dir + "/d.npy");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--checkpoint-file"), std::string::npos) << r.output;
  // evaluate: --checkpoint-file is --evaluate.
  const std::string data = synthetic_data();
  const std::string eval = "evaluate -d synthetic -k gt --data-dir " + data + " --heads 2 --no-progress -c " + dir;
  const CliRun by_evaluate = run(eval + " --evaluate model.bin");
  const CliRun by_file = run(eval + " --checkpoint-file model.bin");
  ASSERT_EQ(by_evaluate.status, 0) << by_evaluate.output;
  ASSERT_EQ(by_file.status, 0) << by_file.output;
  EXPECT_EQ(by_evaluate.output, by_file.output);
}
