// Importing real motion capture of every skeleton family in ../shared/data/mocap: frame counts,
// rigid bones, standing height, floor contact, left/right, units and frame rates.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "mocap/import.hpp"
#include "mocap/quality.hpp"
#include "mocap/text_file.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

struct Sample {
  std::string file;
  std::string rig;
};

// A few files of each family (all of cmu-misc), including the awkward ones: iClone with and
// without RL_BoneRoot, salsa lead and follow, Bandai walking, running and a long dance.
const std::vector<Sample>& samples() {
  static const std::vector<Sample> list = {
      {"cmu-misc/bvh11_131_01.bvh.gz", "cmu-3dsmax"},
      {"cmu-misc/bvh11_131_03.bvh.gz", "cmu-3dsmax"},
      {"cmu-misc/fairmotion_01_01.bvh.gz", "cmu-motionbuilder"},
      {"cmu-misc/tmoco_02_01.bvh.gz", "cmu-motionbuilder"},
      {"cmu-misc/tmoco_05_06.bvh.gz", "cmu-motionbuilder"},
      {"cmu-misc/fairmotion_01_01.amc.gz", "cmu-asf"},
      {"cmu-misc/fairmotion_11_01.amc.gz", "cmu-asf"},
      {"cmu-misc/motioncapturepy_02_01.amc.gz", "cmu-asf"},
      {"cmu-iclone/001_01.bvh.gz", "iclone-cc-base"},
      {"cmu-iclone/002_01.bvh.gz", "iclone-cc-base"},
      {"cmu-iclone/005_06.bvh.gz", "iclone-cc-base"},
      {"cmu-iclone/006_02.bvh.gz", "iclone-cc-base"},
      {"cmu-iclone/007_12.bvh.gz", "iclone-cc-base"},
      {"cmu-salsa/60_01_scaled.bvh.gz", "daz"},
      {"cmu-salsa/61_10_scaled.bvh.gz", "daz"},
      {"bandai-dataset-1/dataset-1_walk_old_002.bvh.gz", "bandai"},
      {"bandai-dataset-1/dataset-1_bow_normal_001.bvh.gz", "bandai"},
      {"bandai-dataset-1/dataset-1_dash_giant_001.bvh.gz", "bandai"},
      {"bandai-dataset-1/dataset-1_dance-short_normal_001.bvh.gz", "bandai"},
  };
  return list;
}

// The frame count a file declares, read independently of the parsers: BVH "Frames:", AMC
// the number of frame-number lines.
std::int64_t declared_frames(const std::string& path) {
  const std::string text = read_text_file(path);
  const std::size_t at = text.find("Frames:");
  if (at != std::string::npos) return std::stoll(text.substr(at + 7, 32));
  std::int64_t count = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t first = line.find_first_not_of(" \t\r");
    const std::size_t last = line.find_last_not_of(" \t\r");
    if (first != std::string::npos &&
        line.find_first_not_of("0123456789", first) > last)  // only digits: a frame number
      ++count;
  }
  return count;
}

void check_clip(const ImportedClip& clip, const std::string& label) {
  SCOPED_TRACE(label);
  ASSERT_GT(clip.frames, 10);
  ASSERT_EQ(clip.positions.size(), static_cast<std::size_t>(clip.frames) * 17);
  // Bones that are rigid segments of the source rig keep their length (< 1 mm); the limbs
  // (thigh, shin, upper arm, forearm) are rigid in every family.
  for (int bone : {2, 3, 5, 6, 12, 13, 15, 16}) EXPECT_TRUE(clip.rigid_bones[static_cast<std::size_t>(bone)]) << bone;
  const BoneLengthStats stats = bone_length_stats(clip.positions);
  int rigid = 0;
  for (int bone = 1; bone < 17; ++bone) {
    if (!clip.rigid_bones[static_cast<std::size_t>(bone)]) continue;
    ++rigid;
    EXPECT_LT(stats.stddev[static_cast<std::size_t>(bone)], 1e-3) << "bone " << bone;
    EXPECT_GT(stats.mean[static_cast<std::size_t>(bone)], 0.02) << "bone " << bone;
  }
  EXPECT_GE(rigid, 12);
  EXPECT_GE(clip.standing_height, 1.4);
  EXPECT_LE(clip.standing_height, 2.0);
  // Feet: at the floor part of the time (lowest ankle, 5th percentile, 0-20 cm).
  std::vector<double> lowest;
  for (std::int64_t f = 0; f < clip.frames; ++f)
    lowest.push_back(std::min(clip.positions[static_cast<std::size_t>(f) * 17 + 3].z,
                              clip.positions[static_cast<std::size_t>(f) * 17 + 6].z));
  EXPECT_GE(quantile(lowest, 0.05), 0.0);
  EXPECT_LE(quantile(lowest, 0.05), 0.2);
  // Head above thorax above pelvis when upright, on average.
  double head = 0, thorax = 0, pelvis = 0;
  for (std::int64_t f = 0; f < clip.frames; ++f) {
    head += clip.positions[static_cast<std::size_t>(f) * 17 + 10].z;
    thorax += clip.positions[static_cast<std::size_t>(f) * 17 + 8].z;
    pelvis += clip.positions[static_cast<std::size_t>(f) * 17 + 0].z;
  }
  EXPECT_GT(head, thorax);
  EXPECT_GT(thorax, pelvis);
  // Left is left: knees bend forward, and "forward" from the hips' left-right axis (z up) must
  // agree, so a mirrored import would fail here.
  double knee_forward = 0.0;
  for (std::int64_t f = 0; f < clip.frames; ++f) {
    const Vec3* pose = &clip.positions[static_cast<std::size_t>(f) * 17];
    const Vec3 facing = normalized(cross(pose[4] - pose[1], Vec3{0, 0, 1}));
    knee_forward += dot(pose[2] - lerp(pose[1], pose[3], 0.5), facing) + dot(pose[5] - lerp(pose[4], pose[6], 0.5), facing);
  }
  EXPECT_GT(knee_forward / static_cast<double>(clip.frames), 0.005);
}

TEST(MocapImport, EverySkeletonFamilyImportsPlausibly) {
  POSELIFT_REQUIRE_MOCAP(dir);
  for (const Sample& sample : samples()) {
    const std::string path = dir + "/" + sample.file;
    const ImportedClip clip = import_mocap_file(path);
    EXPECT_EQ(clip.rig, sample.rig) << sample.file;
    EXPECT_EQ(clip.source_frames, declared_frames(path)) << sample.file;
    EXPECT_EQ(clip.fps, 50.0);
    EXPECT_EQ(clip.frames, resampled_frame_count(clip.source_frames, clip.source_fps, 50.0)) << sample.file;
    check_clip(clip, sample.file);
  }
}

TEST(MocapImport, UnitsAndFrameRatesPerFamily) {
  POSELIFT_REQUIRE_MOCAP(dir);
  const ImportedClip bandai = import_mocap_file(dir + "/bandai-dataset-1/dataset-1_bow_normal_001.bvh.gz");
  EXPECT_EQ(bandai.metres_per_unit, 0.01);
  EXPECT_EQ(bandai.source_fps, 30.0);
  const ImportedClip asf = import_mocap_file(dir + "/cmu-misc/fairmotion_01_01.amc.gz");
  EXPECT_NEAR(asf.metres_per_unit, 0.0254 / 0.45, 1e-12);
  EXPECT_NE(asf.asf_path.find("fairmotion_01.asf.gz"), std::string::npos);
  // Salsa: 60 fps despite the header's 120, scaled to the assumed 1.70 m.
  const ImportedClip salsa = import_mocap_file(dir + "/cmu-salsa/60_01_scaled.bvh.gz");
  EXPECT_EQ(salsa.header_fps, 120.0);
  EXPECT_EQ(salsa.source_fps, 60.0);
  EXPECT_NEAR(salsa.standing_height, 1.70, 1e-9);
  ASSERT_GE(salsa.notes.size(), 2u);
  EXPECT_NE(salsa.notes[0].find("60 fps"), std::string::npos);
  ImportOptions options;
  options.assumed_standing_height = 1.60;
  options.apply_known_quirks = false;
  const ImportedClip raw = import_mocap_file(dir + "/cmu-salsa/60_01_scaled.bvh.gz", options);
  EXPECT_EQ(raw.source_fps, 120.0);
  EXPECT_NEAR(raw.standing_height, 1.60, 1e-9);
  // The same CMU take in three files lasts the same time once each file's rate is honoured.
  const ImportedClip iclone = import_mocap_file(dir + "/cmu-iclone/001_01.bvh.gz");
  EXPECT_NEAR(iclone.duration_seconds(), asf.duration_seconds(), 0.05);
  // Keeping the source rate.
  options = ImportOptions{};
  options.target_fps = 0;
  const ImportedClip native = import_mocap_file(dir + "/cmu-iclone/002_01.bvh.gz", options);
  EXPECT_EQ(native.frames, native.source_frames);
  EXPECT_EQ(native.fps, 60.0);
}

TEST(MocapImport, UnknownRigsAndMissingSkeletonsAreClearErrors) {
  const std::string folder = test::temp_dir("mocap_import_errors");
  mocap_test::write_file(folder + "/thing.bvh",
                         "HIERARCHY\nROOT Base\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n"
                         "End Site\n{\nOFFSET 0 1 0\n}\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n");
  mocap_test::expect_input_error([&] { import_mocap_file(folder + "/thing.bvh"); },
                                 {"thing.bvh", "unknown skeleton", "Base", "JSON joint mapping"});
  mocap_test::write_file(folder + "/09_01.amc", "1\nroot 0 0 0 0 0 0\n");
  mocap_test::expect_input_error([&] { import_mocap_file(folder + "/09_01.amc"); }, {"09_01.amc", "no skeleton file"});
  EXPECT_TRUE(is_motion_file("a/B.BVH.GZ"));
  EXPECT_TRUE(is_motion_file("x.amc"));
  EXPECT_FALSE(is_motion_file("x.asf.gz"));
  EXPECT_FALSE(is_motion_file("README.md"));
}

}  // namespace
}  // namespace poselift::mocap
