// MotionBERT's YAML configurations: every field of a file written here as the original's
// configs/pose3d/MB_ft_h36m_global_lite.yaml is (values typed from that file), and the errors
// for wrong types, ranges, duplicate keys, non-mappings, malformed YAML and oversized files.
#include <gtest/gtest.h>

#include <string>

#include "io/error.hpp"
#include "io/motionbert_yaml.hpp"
#include "test_io_support.hpp"

using namespace poselift;
using namespace poselift::io;

namespace {

// The original's MB_ft_h36m_global_lite.yaml, comments and spacing included ("batch_size: 32 "
// has a trailing blank there).
const char* kGlobalLite = R"(# General  
train_2d: False
no_eval: False
finetune: True
partial_train: null

# Traning 
epochs: 60
checkpoint_frequency: 30
batch_size: 32 
dropout: 0.0
learning_rate: 0.0005
weight_decay: 0.01
lr_decay: 0.99

# Model
maxlen: 243
dim_feat: 256
mlp_ratio: 4
depth: 5
dim_rep: 512
num_heads: 8
att_fuse: True

# Data
data_root: data/motion3d/MB3D_f243s81/
subset_list: [H36M-SH]
dt_file: h36m_sh_conf_cam_source_final.pkl
clip_len: 243
data_stride: 81
rootrel: False
sample_stride: 1
num_joints: 17
no_conf: False
gt_2d: False

# Loss
lambda_3d_velocity: 20.0
lambda_scale: 0.5
lambda_lv: 0.0
lambda_lg: 0.0
lambda_a: 0.0
lambda_av: 0.0

# Augmentation
synthetic: False
flip: True
mask_ratio: 0.
mask_T_ratio: 0.
noise: False)";

std::string error_of(const std::string& text, const std::string& path = "cfg.yaml") {
  try {
    parse_motionbert_yaml(text, path);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError for: " << text;
  return "";
}

}  // namespace

TEST(MotionBERTYaml, ReadsEveryFieldOfTheGlobalLiteConfiguration) {
  const std::string path = io::testing::scratch_dir() + "/MB_ft_h36m_global_lite.yaml";
  io::testing::write_text(path, kGlobalLite);
  const MotionBERTConfigFile c = read_motionbert_yaml(path);
  EXPECT_EQ(c.path, path);
  // Model.
  EXPECT_FALSE(c.backbone);
  EXPECT_EQ(c.maxlen, 243);
  EXPECT_EQ(c.dim_feat, 256);
  EXPECT_EQ(c.mlp_ratio, 4.0);
  EXPECT_EQ(c.depth, 5);
  EXPECT_EQ(c.dim_rep, 512);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.att_fuse, true);
  EXPECT_EQ(c.num_joints, 17);
  // Evaluation and inference.
  EXPECT_EQ(c.rootrel, false);
  EXPECT_EQ(c.flip, true);
  EXPECT_EQ(c.no_conf, false);
  EXPECT_EQ(c.gt_2d, false);
  EXPECT_EQ(c.clip_len, 243);
  // Training.
  EXPECT_EQ(c.train_2d, false);
  EXPECT_EQ(c.no_eval, false);
  EXPECT_EQ(c.finetune, true);
  EXPECT_FALSE(c.partial_train);  // null: every parameter trains
  EXPECT_EQ(c.epochs, 60);
  EXPECT_EQ(c.checkpoint_frequency, 30);
  EXPECT_EQ(c.batch_size, 32);
  EXPECT_EQ(c.dropout, 0.0);
  EXPECT_EQ(c.learning_rate, 0.0005);
  EXPECT_EQ(c.weight_decay, 0.01);
  EXPECT_EQ(c.lr_decay, 0.99);
  EXPECT_EQ(c.data_root, "data/motion3d/MB3D_f243s81/");
  ASSERT_TRUE(c.subset_list);
  EXPECT_EQ(*c.subset_list, std::vector<std::string>{"H36M-SH"});
  EXPECT_EQ(c.dt_file, "h36m_sh_conf_cam_source_final.pkl");
  EXPECT_EQ(c.data_stride, 81);
  EXPECT_EQ(c.sample_stride, 1);
  EXPECT_EQ(c.lambda_3d_velocity, 20.0);
  EXPECT_EQ(c.lambda_scale, 0.5);
  EXPECT_EQ(c.lambda_lv, 0.0);
  EXPECT_EQ(c.lambda_lg, 0.0);
  EXPECT_EQ(c.lambda_a, 0.0);
  EXPECT_EQ(c.lambda_av, 0.0);
  EXPECT_EQ(c.synthetic, false);
  EXPECT_EQ(c.mask_ratio, 0.0);
  EXPECT_EQ(c.mask_T_ratio, 0.0);
  EXPECT_EQ(c.noise, false);
}

TEST(MotionBERTYaml, AbsentFieldsStayUnsetAndUnknownKeysAreIgnored) {
  const auto c = parse_motionbert_yaml(
      "maxlen: 27\nsomething_new: [1, {a: 2}]\nbackbone: DSTformer\npartial_train: [head, pre_logits]\n"
      "subset_list:\n  - H36M-SH\n  - 'AMASS'\n? [a, b]\n: 3\n",
      "small.yaml");
  EXPECT_EQ(c.maxlen, 27);
  EXPECT_EQ(c.backbone, "DSTformer");
  ASSERT_TRUE(c.partial_train);
  EXPECT_EQ(*c.partial_train, (std::vector<std::string>{"head", "pre_logits"}));
  ASSERT_TRUE(c.subset_list);
  EXPECT_EQ(*c.subset_list, (std::vector<std::string>{"H36M-SH", "AMASS"}));
  EXPECT_FALSE(c.dim_feat);
  EXPECT_FALSE(c.rootrel);
  EXPECT_FALSE(c.learning_rate);
  // YAML 1.1 booleans, as the original's PyYAML reads them; signs and exponents in reals.
  const auto b = parse_motionbert_yaml("flip: yes\nrootrel: off\nno_conf: ON\nlearning_rate: 5e-4\nlr_decay: +0.5\n",
                                       "b.yaml");
  EXPECT_EQ(b.flip, true);
  EXPECT_EQ(b.rootrel, false);
  EXPECT_EQ(b.no_conf, true);
  EXPECT_EQ(b.learning_rate, 5e-4);
  EXPECT_EQ(b.lr_decay, 0.5);
}

TEST(MotionBERTYaml, WrongTypesAndRangesNameTheFileAndTheKey) {
  EXPECT_EQ(error_of("maxlen: 24.5\n"), "cfg.yaml: 'maxlen': expected an integer in [1, 100000], found '24.5'");
  EXPECT_EQ(error_of("depth: 0\n"), "cfg.yaml: 'depth': expected an integer in [1, 1000], found '0'");
  EXPECT_EQ(error_of("dim_feat: 99999999999999999999\n"),
            "cfg.yaml: 'dim_feat': expected an integer in [1, 65536], found '99999999999999999999'");
  EXPECT_EQ(error_of("num_heads: '8'\n"), "cfg.yaml: 'num_heads': expected an integer in [1, 65536], found '8' (quoted)");
  EXPECT_EQ(error_of("num_heads: [8]\n"), "cfg.yaml: 'num_heads': expected an integer in [1, 65536], found a list");
  EXPECT_EQ(error_of("clip_len:\n"), "cfg.yaml: 'clip_len': expected an integer in [1, 100000], found null");
  EXPECT_EQ(error_of("mlp_ratio: 0\n"), "cfg.yaml: 'mlp_ratio': expected a number in (0, 1000], found '0'");
  EXPECT_EQ(error_of("mlp_ratio: .inf\n"), "cfg.yaml: 'mlp_ratio': expected a number in (0, 1000], found '.inf'");
  EXPECT_EQ(error_of("learning_rate: nan\n"), "cfg.yaml: 'learning_rate': expected a number in (0, 10], found 'nan'");
  EXPECT_EQ(error_of("dropout: 1.0\n"), "cfg.yaml: 'dropout': expected a number in [0, 1), found '1.0'");
  EXPECT_EQ(error_of("lambda_scale: -1\n"), "cfg.yaml: 'lambda_scale': expected a number in [0, 1000000], found '-1'");
  EXPECT_EQ(error_of("rootrel: 1\n"), "cfg.yaml: 'rootrel': expected true or false, found '1'");
  EXPECT_EQ(error_of("flip: {a: 1}\n"), "cfg.yaml: 'flip': expected true or false, found a mapping");
  EXPECT_EQ(error_of("subset_list: H36M-SH\n"), "cfg.yaml: 'subset_list': expected a list of strings, found 'H36M-SH'");
  EXPECT_EQ(error_of("subset_list: [[a]]\n"), "cfg.yaml: 'subset_list': expected a list of strings, found a list");
  EXPECT_EQ(error_of("dt_file: [a]\n"), "cfg.yaml: 'dt_file': expected a string, found a list");
  EXPECT_EQ(error_of("maxlen: !include other.yaml\n"),
            "cfg.yaml: 'maxlen': expected an integer in [1, 100000], found 'other.yaml' tagged !include");
}

TEST(MotionBERTYaml, MalformedFilesAreInputErrors) {
  EXPECT_EQ(error_of("maxlen: 27\nmaxlen: 81\n"), "cfg.yaml: 'maxlen' is given twice");
  EXPECT_EQ(error_of(""), "cfg.yaml: expected a mapping of MotionBERT settings ('maxlen: 243', ...), found null");
  EXPECT_EQ(error_of("- maxlen: 27\n"),
            "cfg.yaml: expected a mapping of MotionBERT settings ('maxlen: 243', ...), found a list");
  EXPECT_EQ(error_of("243\n"), "cfg.yaml: expected a mapping of MotionBERT settings ('maxlen: 243', ...), found '243'");
  const std::string bad = error_of("maxlen: [27\n");
  EXPECT_EQ(bad.rfind("cfg.yaml: not a valid YAML file at line ", 0), 0u) << bad;
  // Deep nesting stops in the parser's depth guard, not in a stack overflow.
  const std::string deep = error_of("a: " + std::string(100000, '[') + "\n");
  EXPECT_EQ(deep.rfind("cfg.yaml: not a valid YAML file", 0), 0u) << deep;
  // Bounded before parsing.
  std::string big = "maxlen: 27\n";
  big += "# " + std::string(kMaxConfigFileBytes, 'x') + "\n";
  EXPECT_EQ(error_of(big), "cfg.yaml: " + std::to_string(big.size()) + " bytes exceed the 1048576 bytes a MotionBERT "
                           "configuration may have");
  const std::string path = io::testing::scratch_dir() + "/big.yaml";
  io::testing::write_text(path, big);
  try {
    read_motionbert_yaml(path);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_motionbert_yaml(io::testing::scratch_dir() + "/missing.yaml"), InputError);
}
