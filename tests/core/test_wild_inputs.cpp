// In-the-wild inputs: detector file formats, layout conversion, tracking and gap filling,
// checked against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "test_support.hpp"
#include "wild/detections.hpp"
#include "wild/filling.hpp"
#include "wild/layouts.hpp"
#include "wild/tracking.hpp"

using namespace poselift;
using namespace poselift::wild;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// 51 COCO values: keypoint k at (x0 + k, y0 + 2k) with confidence 0.9.
std::string coco_keypoints(double x0, double y0, double conf = 0.9) {
  std::string s = "[";
  for (int k = 0; k < 17; ++k) s += (k ? "," : "") + std::to_string(x0 + k) + "," + std::to_string(y0 + 2 * k) + "," + std::to_string(conf);
  return s + "]";
}

std::vector<Keypoint> points(int count, float conf = 1.0f) {
  std::vector<Keypoint> k(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) k[static_cast<std::size_t>(i)] = {float(10 * i), float(100 + 3 * i), conf};
  return k;
}

}  // namespace

TEST(WildInputs, CocoResultsGroupPeopleByImageAndSkipOtherCategories) {
  const std::string text = "[{\"image_id\": 3, \"category_id\": 1, \"keypoints\": " + coco_keypoints(100, 50) +
                           ", \"score\": 0.8},"
                           "{\"image_id\": \"frame_0001.jpg\", \"category_id\": 1, \"keypoints\": " +
                           coco_keypoints(10, 20) +
                           "},"
                           "{\"image_id\": 3, \"category_id\": 1, \"keypoints\": " + coco_keypoints(300, 50) +
                           ", \"score\": 0.7},"
                           "{\"image_id\": 2, \"category_id\": 2, \"keypoints\": " + coco_keypoints(0, 0) + "}]";
  const Detections d = parse_coco_json(text, "r.json");
  EXPECT_EQ(d.layout, Layout::Coco17);
  ASSERT_EQ(d.frames.size(), 2u);  // category 2 skipped
  EXPECT_EQ(d.frames[0].index, 1);
  EXPECT_EQ(d.frames[1].index, 3);
  ASSERT_EQ(d.frames[1].people.size(), 2u);
  EXPECT_FLOAT_EQ(d.frames[1].people[1].score, 0.7f);
  EXPECT_FLOAT_EQ(d.frames[1].people[1].keypoints[5][0], 305.0f);
  EXPECT_FLOAT_EQ(d.frames[1].people[1].keypoints[5][1], 60.0f);
  EXPECT_FLOAT_EQ(d.frames[0].people[0].score, 1.0f);
}

TEST(WildInputs, BadInputsNameTheProblem) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { parse_coco_json("[{\"image_id\": 1, \"keypoints\": [1,2", "a.json"); }).find("a.json: not valid JSON"),
            std::string::npos);
  EXPECT_NE(message([] { parse_coco_json("[{\"image_id\": 1, \"keypoints\": [1,2,3,4,5,6]}]", "a.json"); })
                .find("2 keypoints per person; expected 17"),
            std::string::npos);
  EXPECT_NE(message([] { parse_coco_json("[{\"image_id\": 1, \"keypoints\": [1,2,3,4]}]", "a.json"); })
                .find("4 values; expected x, y, score triples"),
            std::string::npos);
  EXPECT_NE(message([] { parse_coco_json("{\"x\": 1}", "a.json"); }).find("expected a COCO keypoint results list"),
            std::string::npos);
  EXPECT_NE(message([] { parse_coco_json("[{\"keypoints\": []}]", "a.json"); }).find("entry 0: missing 'image_id'"),
            std::string::npos);
  EXPECT_NE(message([] { parse_layout("mpii", "--layout"); }).find("unknown keypoint layout 'mpii'"), std::string::npos);
  EXPECT_NE(message([] { parse_csv("frame,a,b\n1,2,3\n", "k.csv"); }).find("header has 2 keypoint columns"),
            std::string::npos);
  const std::string dir = test::temp_dir("wild_bad_inputs");
  write(dir + "/empty.json", "[]");
  EXPECT_NE(message([&] { read_detections(dir + "/empty.json"); }).find("no person detected in any frame"),
            std::string::npos);
  EXPECT_NE(message([&] { read_detections(dir + "/missing.json"); }).find("no such file"), std::string::npos);
  ReadOptions forced;
  forced.layout = "body25";
  write(dir + "/one.json", "[{\"image_id\": 1, \"keypoints\": " + coco_keypoints(0, 0) + "}]");
  EXPECT_NE(message([&] { read_detections(dir + "/one.json", forced); }).find("17 keypoints, but layout body25 has 25"),
            std::string::npos);
}

TEST(WildInputs, NumbersBeyondDoubleAreInputErrors) {
  // Found by fuzz_wild_coco / fuzz_wild_openpose: nlohmann::json throws out_of_range (not
  // parse_error) for a number like 1e999; it must still be a clear InputError.
  EXPECT_THROW(parse_coco_json("[{\"image_id\": 1, \"keypoints\": [1e999]}]", "big.json"), InputError);
  Detections out;
  EXPECT_THROW(parse_openpose_frame("{\"people\": 4e5252}", "big_keypoints.json", 0, out), InputError);
}

TEST(WildInputs, OpenPoseFolderBody25AndCoco18) {
  const std::string dir = test::temp_dir("wild_openpose");
  auto person = [](int count, double x0) {
    std::string s = "{\"person_id\": [-1], \"pose_keypoints_2d\": [";
    for (int k = 0; k < count; ++k) s += (k ? "," : "") + std::to_string(x0 + k) + ",7," + (k == 3 ? "0" : "0.5");
    return s + "]}";
  };
  write(dir + "/clip_000000000002_keypoints.json", "{\"version\": 1.3, \"people\": [" + person(25, 0) + "," + person(25, 50) + "]}");
  write(dir + "/clip_000000000000_keypoints.json", "{\"version\": 1.3, \"people\": []}");
  write(dir + "/clip_000000000001_keypoints.json", "{\"version\": 1.3, \"people\": [" + person(25, 5) + "]}");
  write(dir + "/notes.txt", "not a frame");
  const Detections d = read_detections(dir);
  EXPECT_EQ(d.layout, Layout::Body25);
  ASSERT_EQ(d.frames.size(), 3u);
  EXPECT_EQ(d.frames[0].index, 0);
  EXPECT_TRUE(d.frames[0].people.empty());
  EXPECT_EQ(d.frames[2].people.size(), 2u);
  EXPECT_FLOAT_EQ(d.frames[2].people[1].keypoints[8][0], 58.0f);
  EXPECT_FLOAT_EQ(d.frames[2].people[1].keypoints[3][2], 0.0f);

  const std::string dir18 = test::temp_dir("wild_openpose18");
  write(dir18 + "/f_0007.json", "{\"people\": [" + person(18, 0) + "]}");
  const Detections d18 = read_detections(dir18);
  EXPECT_EQ(d18.layout, Layout::Coco18);
  EXPECT_EQ(d18.frames[0].index, 7);
  // Mixed layouts are an error naming the file.
  write(dir18 + "/f_0008.json", "{\"people\": [" + person(25, 0) + "]}");
  EXPECT_THROW(read_detections(dir18), InputError);
}

TEST(WildInputs, CsvWithPersonIdsAndMissingCells) {
  std::string header = "frame,person";
  for (int k = 0; k < 17; ++k) header += ",x" + std::to_string(k) + ",y" + std::to_string(k);
  std::string row0 = "0,4", row1 = "1,4";
  for (int k = 0; k < 17; ++k) {
    row0 += "," + std::to_string(k) + "," + std::to_string(2 * k);
    row1 += k == 5 ? ",," : ",nan," + std::to_string(k);
  }
  const Detections d = parse_csv(header + "\r\n" + row0 + "\n\n" + row1 + "\n", "k.csv");
  ASSERT_EQ(d.frames.size(), 2u);
  EXPECT_EQ(d.frames[0].people[0].id, 4);
  EXPECT_FLOAT_EQ(d.frames[0].people[0].keypoints[16][1], 32.0f);
  EXPECT_FLOAT_EQ(d.frames[0].people[0].keypoints[16][2], 1.0f);
  EXPECT_FLOAT_EQ(d.frames[1].people[0].keypoints[5][2], 0.0f);  // empty cells: missing
  EXPECT_FLOAT_EQ(d.frames[1].people[0].keypoints[6][2], 0.0f);  // nan: missing
  ReadOptions h36m;
  h36m.layout = "h36m";
  EXPECT_EQ(parse_csv(header + "\n" + row0 + "\n", "k.csv", h36m).layout, Layout::H36m17);
  EXPECT_THROW(parse_csv(header + "\n0,1,2\n", "k.csv"), InputError);             // column count
  EXPECT_THROW(parse_csv(header + "\n" + row0 + "x\n", "k.csv"), InputError);     // not a number
}

TEST(WildInputs, VideoPose3DCustomNpz) {
  const std::string dir = test::temp_dir("wild_custom_npz");
  // Two frames of 17 COCO points, the second frame without detection (NaN).
  std::vector<float> values(2 * 17 * 2);
  for (int j = 0; j < 17; ++j) values[static_cast<std::size_t>(2 * j)] = float(j), values[static_cast<std::size_t>(2 * j + 1)] = float(2 * j);
  for (int j = 0; j < 34; ++j) values[static_cast<std::size_t>(34 + j)] = std::nanf("");
  auto array = io::Value::from_array(io::NdArray::from_vector<float>({2, 17, 2}, values));
  auto str = [](const char* s) { return io::Value::from_str(s); };
  auto positions = io::Value::dict({{str("walk.mp4"), io::Value::dict({{str("custom"), io::Value::list({array})}})}});
  auto metadata = io::Value::dict(
      {{str("layout_name"), str("coco")},
       {str("num_joints"), io::Value::from_int(17)},
       {str("keypoints_symmetry"), io::Value::list({io::Value::list(), io::Value::list()})},
       {str("video_metadata"),
        io::Value::dict({{str("walk.mp4"), io::Value::dict({{str("w"), io::Value::from_int(1920)},
                                                             {str("h"), io::Value::from_int(1080)}})}})}});
  io::write_npz(dir + "/data_2d_custom_x.npz", {{"positions_2d", {}, positions}, {"metadata", {}, metadata}});
  const Detections d = read_detections(dir + "/data_2d_custom_x.npz");
  EXPECT_EQ(d.width, 1920);
  EXPECT_EQ(d.height, 1080);
  EXPECT_EQ(d.layout, Layout::Coco17);
  ASSERT_EQ(d.frames.size(), 2u);
  ASSERT_EQ(d.frames[0].people.size(), 1u);
  EXPECT_FLOAT_EQ(d.frames[0].people[0].keypoints[16][1], 32.0f);
  EXPECT_TRUE(d.frames[1].people.empty());
  ReadOptions other;
  other.video = "run.mp4";
  EXPECT_THROW(read_detections(dir + "/data_2d_custom_x.npz", other), InputError);
}

TEST(WildLayouts, CocoToHuman36mByTheDocumentedRules) {
  std::vector<Keypoint> k = points(17);
  const H36mPose p = to_h36m(k, Layout::Coco17, 0.3f);
  auto mid = [&](int a, int b, int axis) { return 0.5f * (k[a][axis] + k[b][axis]); };
  EXPECT_FLOAT_EQ(p[0][0], mid(11, 12, 0));  // pelvis
  EXPECT_FLOAT_EQ(p[1][0], k[12][0]);         // r_hip
  EXPECT_FLOAT_EQ(p[3][1], k[16][1]);         // r_ankle
  EXPECT_FLOAT_EQ(p[6][1], k[15][1]);         // l_ankle
  EXPECT_FLOAT_EQ(p[8][1], mid(5, 6, 1));     // thorax
  EXPECT_FLOAT_EQ(p[7][0], 0.5f * (p[0][0] + p[8][0]));  // spine
  EXPECT_FLOAT_EQ(p[9][0], k[0][0]);          // nose
  // head = ears' midpoint + 0.9 (ears' midpoint - thorax)
  EXPECT_FLOAT_EQ(p[10][1], mid(3, 4, 1) + 0.9f * (mid(3, 4, 1) - mid(5, 6, 1)));
  EXPECT_FLOAT_EQ(p[13][0], k[9][0]);   // l_wrist
  EXPECT_FLOAT_EQ(p[16][0], k[10][0]);  // r_wrist
  // Without ears the eyes stand in; a low-confidence hip makes pelvis and spine missing.
  k[3][2] = 0.1f;
  k[11][2] = 0.2f;
  const H36mPose q = to_h36m(k, Layout::Coco17, 0.3f);
  EXPECT_FLOAT_EQ(q[10][0], mid(1, 2, 0) + 0.9f * (mid(1, 2, 0) - mid(5, 6, 0)));
  EXPECT_EQ(q[0][2], 0.0f);
  EXPECT_EQ(q[7][2], 0.0f);
  EXPECT_EQ(q[4][2], 0.0f);
  EXPECT_EQ(q[1][2], 1.0f);
}

TEST(WildLayouts, OpenPoseLayoutsUseMidHipAndNeck) {
  std::vector<Keypoint> b = points(25);
  const H36mPose p = to_h36m(b, Layout::Body25, 0.3f);
  EXPECT_FLOAT_EQ(p[0][0], b[8][0]);                             // MidHip
  EXPECT_FLOAT_EQ(p[1][0], b[9][0]);                             // RHip
  EXPECT_FLOAT_EQ(p[4][1], b[12][1]);                            // LHip
  EXPECT_FLOAT_EQ(p[8][0], 0.5f * (b[2][0] + b[5][0]));          // thorax: shoulders
  EXPECT_FLOAT_EQ(p[11][0], b[5][0]);                            // LShoulder
  EXPECT_FLOAT_EQ(p[16][0], b[4][0]);                            // RWrist
  b[2][2] = 0.0f;  // right shoulder lost: thorax falls back to Neck
  EXPECT_FLOAT_EQ(to_h36m(b, Layout::Body25, 0.3f)[8][0], b[1][0]);
  std::vector<Keypoint> c = points(18);
  const H36mPose q = to_h36m(c, Layout::Coco18, 0.3f);
  EXPECT_FLOAT_EQ(q[0][0], 0.5f * (c[8][0] + c[11][0]));
  EXPECT_FLOAT_EQ(q[3][0], c[10][0]);
  EXPECT_FLOAT_EQ(q[13][0], c[7][0]);
  EXPECT_FLOAT_EQ(q[10][0], 0.5f * (c[16][0] + c[17][0]) + 0.9f * (0.5f * (c[16][0] + c[17][0]) - 0.5f * (c[2][0] + c[5][0])));
}

namespace {

Person person_at(double x, double y, float conf = 0.9f) {
  Person p;
  for (int k = 0; k < 17; ++k) p.keypoints.push_back({float(x + 3 * (k % 4)), float(y + 10 * k), conf});
  return p;
}

}  // namespace

TEST(WildTracking, PeopleKeepTheirTracksWhenTheFileReordersThem) {
  Detections d;
  d.layout = Layout::Coco17;
  // Person A walks right from x=100, person B stands at x=600; B appears from frame 2 on and
  // the detector lists them in alternating order. A third detection at frame 5 is noise.
  for (int t = 0; t < 10; ++t) {
    Frame f;
    f.index = 100 + t;
    Person a = person_at(100 + 8 * t, 50), b = person_at(600, 60);
    if (t >= 2 && t % 2) f.people = {b, a};
    else if (t >= 2) f.people = {a, b};
    else f.people = {a};
    if (t == 5) f.people.push_back(person_at(1500, 500));
    d.frames.push_back(f);
  }
  const auto tracks = track_people(d, {});
  ASSERT_EQ(tracks.size(), 3u);
  EXPECT_EQ(tracks[0].frames.size(), 10u);  // A: the longest first
  EXPECT_EQ(tracks[1].frames.size(), 8u);
  EXPECT_EQ(tracks[2].frames.size(), 1u);
  for (std::size_t i = 0; i < tracks[0].poses.size(); ++i)
    EXPECT_NEAR(tracks[0].poses[i][16][0], 106 + 8 * i, 1.0) << i;  // r_wrist (COCO 10) stays with A
  for (const auto& pose : tracks[1].poses) EXPECT_NEAR(pose[16][0], 606, 1.0);
}

TEST(WildFilling, InterpolatesMissingJointsAndFramesAndRejectsEmptyTracks) {
  Track track;
  H36mPose pose;
  for (int j = 0; j < 17; ++j) pose[static_cast<std::size_t>(j)] = {float(j), 0.0f, 0.8f};
  // Frames 10, 11, (12 not detected), 13; joint 5 low-confidence at frame 11.
  for (std::int64_t f : {10, 11, 13}) {
    H36mPose p = pose;
    for (auto& k : p) k[1] = float(f);
    if (f == 11) p[5][2] = 0.1f;
    track.frames.push_back(f);
    track.poses.push_back(p);
  }
  const std::vector<std::int64_t> all{8, 10, 11, 12, 13, 20};
  const Sequence2D s = fill_track(track, all, {}, "t");
  ASSERT_EQ(s.frames, (std::vector<std::int64_t>{10, 11, 12, 13}));
  EXPECT_FLOAT_EQ(s.poses[2][0][1], 12.0f);  // frame 12: between 11 and 13
  EXPECT_EQ(s.poses[2][0][2], 0.0f);
  EXPECT_FLOAT_EQ(s.poses[1][5][1], 11.0f);  // joint 5 at frame 11: between 10 and 12 (13)
  EXPECT_EQ(s.poses[1][5][2], 0.0f);
  EXPECT_FLOAT_EQ(s.poses[1][4][2], 0.8f);
  EXPECT_NEAR(s.valid_fraction, (3 * 17 - 1) / 68.0, 1e-9);

  FillOptions strict;
  strict.min_valid_fraction = 0.9;
  try {
    fill_track(track, all, strict, "v.json: track 0");
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("v.json: track 0: only 74% of its joints"), std::string::npos) << e.what();
  }
  Track blind = track;
  for (auto& p : blind.poses) p[10][2] = 0.0f;
  EXPECT_THROW(fill_track(blind, all, {}, "t"), InputError);  // head never seen
}
