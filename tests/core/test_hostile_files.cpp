// Regression tests for issue #15: hostile inputs (made here, never stored) must end in a clear
// InputError naming the file, with bounded time and memory: checkpoints whose views overflow
// int64, shared pickle structures, deep JSON, decompression bombs, non-finite values, and a
// dataset written all or nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/keypoints.hpp"
#include "io/input_limits.hpp"
#include "io/npy.hpp"
#include "io/pickle.hpp"
#include "io/torch_file.hpp"
#include "io/zip_archive.hpp"
#include "mocap/bvh.hpp"
#include "mocap/cameras.hpp"
#include "mocap/dataset_writer.hpp"
#include "mocap/import.hpp"
#include "mocap/mapping.hpp"
#include "mocap/random.hpp"
#include "mocap/text_file.hpp"
#include "test_io_support.hpp"
#include "test_mocap_support.hpp"
#include "wild/detections.hpp"

namespace poselift {
namespace {

using io::testing::scratch_dir;
using namespace std::string_literals;

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_.c_str(), old_.c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// ---- pickle building blocks (protocol 2 opcodes) ----

std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}
std::string str_op(const std::string& text) { return "X" + le(text.size(), 4) + text; }
std::string long_op(std::int64_t value) { return "\x8a\x08" + le(static_cast<std::uint64_t>(value), 8); }
std::string put(std::uint32_t index) { return "r" + le(index, 4); }
std::string get(std::uint32_t index) { return "j" + le(index, 4); }

// _rebuild_tensor_v2(('storage', torch.<type>, <key>, 'cpu', numel), offset, sizes, strides, False)
std::string tensor_pickle(const std::string& key_op, std::int64_t numel, std::int64_t offset,
                          const std::vector<std::int64_t>& sizes, const std::vector<std::int64_t>& strides,
                          const std::string& storage_type = "FloatStorage") {
  std::string p = "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(";
  p += "(" + str_op("storage") + "ctorch\n" + storage_type + "\n" + key_op + str_op("cpu") + long_op(numel) + "tQ";
  p += long_op(offset);
  p += "(";
  for (auto s : sizes) p += long_op(s);
  p += "t(";
  for (auto s : strides) p += long_op(s);
  p += "t\x89tR.";
  return p;
}

// A torch.save-style zip: archive/data.pkl (deflated when asked) and archive/data/0.
std::string write_checkpoint(const std::string& dir, const std::string& pickle, const std::string& storage,
                             bool deflate_pickle = false) {
  const std::string path = dir + "/model.bin";
  io::ZipWriter zip(path);
  zip.add("archive/data.pkl", pickle, deflate_pickle);
  zip.add("archive/data/0", storage, false);
  zip.add("archive/byteorder", std::string("little"), false);
  zip.commit();
  return path;
}

const io::TensorRef& only_tensor(const io::TorchFile& file) {
  const io::TensorRef* ref = io::as_tensor_ref(*file.root);
  if (!ref) throw std::runtime_error("the checkpoint's root is not a tensor");
  return *ref;
}

// ---------------------------------------------------------------------------------------------
// 1. Views whose extent overflows int64

TEST(HostileCheckpoint, ViewOverflowingInt64IsRefused) {
  const std::string dir = scratch_dir();
  // The tester's case: offset 2^63 - 2^39, size (2,), stride (2^40,): offset + stride wraps
  // negative, so an unchecked bound passes and the copy reads 2^42 bytes past the storage.
  const std::int64_t offset = std::numeric_limits<std::int64_t>::max() - (std::int64_t{1} << 39) + 1;
  const std::string path = write_checkpoint(
      dir, tensor_pickle(str_op("0"), 2, offset, {2}, {std::int64_t{1} << 40}), std::string(8, '\0'));
  const io::TorchFile file = io::read_torch_file(path);
  EXPECT_INPUT_ERROR(file.materialize(only_tensor(file), "weight"), path, "weight", "reaches past storage");
  EXPECT_INPUT_ERROR(io::resolve_tensor_refs(file, file.root), path, "reaches past storage");

  // numel = 2^40 * 2^40 wraps to 0 in int64 arithmetic, which would pass as an empty tensor.
  const std::string wrap = write_checkpoint(
      dir, tensor_pickle(str_op("0"), 2, 0, {std::int64_t{1} << 40, std::int64_t{1} << 40, 1 << 20}, {0, 0, 0}),
      std::string(8, '\0'));
  const io::TorchFile wrapped = io::read_torch_file(wrap);
  EXPECT_INPUT_ERROR(wrapped.materialize(only_tensor(wrapped), "weight"), wrap, "needs more elements");

  // A well-formed strided view still reads: elements 1 and 3 of a 4-float storage.
  const float values[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  const std::string good = write_checkpoint(dir, tensor_pickle(str_op("0"), 4, 1, {2}, {2}),
                                            std::string(reinterpret_cast<const char*>(values), sizeof values));
  const io::TorchFile ok = io::read_torch_file(good);
  const io::NdArray out = ok.materialize(only_tensor(ok), "weight");
  ASSERT_EQ(out.numel(), 2);
  EXPECT_EQ(out.data<float>()[0], 2.0f);
  EXPECT_EQ(out.data<float>()[1], 4.0f);
}

TEST(HostileCheckpoint, StorageByteCountOverflowIsRefused) {
  const std::string dir = scratch_dir();
  // 2^62 doubles: numel * 8 wraps to 0, which no record is smaller than.
  const std::string path = write_checkpoint(
      dir, tensor_pickle(str_op("0"), std::int64_t{1} << 62, 0, {1}, {1}, "DoubleStorage"), std::string(8, '\0'));
  EXPECT_INPUT_ERROR(io::read_torch_file(path), path, "archive/data/0", "overflow");
}

// 12. Errors raised while reading a checkpoint name the file.
TEST(HostileCheckpoint, PickleErrorsNameTheFile) {
  const std::string dir = scratch_dir();
  const std::string path = write_checkpoint(dir, tensor_pickle("K\x05", 2, 0, {2}, {1}), std::string(8, '\0'));
  EXPECT_INPUT_ERROR(io::read_torch_file(path), path, "storage key", "expected str, found int");
  const std::string sizes = write_checkpoint(
      dir, "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n((" + str_op("storage") + "ctorch\nFloatStorage\n" +
               str_op("0") + str_op("cpu") + "K\x02tQ" + "K\x00"s + str_op("two") + "(K\x01t" + "K\x00tR."s,
      std::string(8, '\0'));
  EXPECT_INPUT_ERROR(io::read_torch_file(sizes), sizes, "size", "expected list or tuple");
}

// ---------------------------------------------------------------------------------------------
// 2. "Billion laughs": a structure that references itself many times

// Lists L0 = [], L(k+1) = [Lk, Lk]: 2^depth paths through a pickle of a few hundred bytes.
std::string doubling_lists(int depth, const std::string& leaf = "]") {
  std::string p = "\x80\x02" + leaf + put(0);
  for (int k = 1; k <= depth; ++k) p += "(" + get(static_cast<std::uint32_t>(k - 1)) + get(static_cast<std::uint32_t>(k - 1)) + "l" + put(static_cast<std::uint32_t>(k));
  return p + ".";
}

TEST(HostilePickle, SharedStructuresStaySharedWhenTensorsAreResolved) {
  const std::string dir = scratch_dir();
  // 60 doublings over a tensor: 2^60 tensor references if copied as a tree.
  std::string tensor = tensor_pickle(str_op("0"), 2, 0, {2}, {1});
  tensor = tensor.substr(2, tensor.size() - 3);  // without PROTO and STOP
  const std::string path = write_checkpoint(dir, doubling_lists(60, tensor), std::string(8, '\0'));
  const io::TorchFile file = io::read_torch_file(path);
  const io::ValuePtr resolved = io::resolve_tensor_refs(file, file.root);
  ASSERT_EQ(resolved->kind, io::Value::Kind::List);
  ASSERT_EQ(resolved->items.size(), 2u);
  EXPECT_EQ(resolved->items[0].get(), resolved->items[1].get()) << "shared values must stay shared";
  const io::Value* node = resolved.get();
  for (int k = 0; k < 60; ++k) node = node->items[0].get();
  EXPECT_EQ(node->kind, io::Value::Kind::Array);
  EXPECT_EQ(node->array->numel(), 2);
}

TEST(HostilePickle, EveryValueIsChargedToTheBudget) {
  // 5000 empty tuples take ~1.3 MB as values although the pickle holds no string or array.
  auto tuples = [](int count) {
    std::string p = "\x80\x02]";
    for (int i = 0; i < count; ++i) p += ")a";
    return p + ".";
  };
  io::UnpickleLimits limits;
  limits.max_total_bytes = 1 << 20;
  const std::string big = tuples(5000), small = tuples(1000);
  EXPECT_INPUT_ERROR(io::unpickle(reinterpret_cast<const std::uint8_t*>(big.data()), big.size(), "many.pkl", {},
                                  limits),
                     "many.pkl", "limit of 1048576 bytes", io::kMaxInputBytesVariable);
  EXPECT_EQ(io::unpickle(reinterpret_cast<const std::uint8_t*>(small.data()), small.size(), "few.pkl", {}, limits)
                ->items.size(),
            1000u);
}

TEST(HostilePickle, DeflatedPickleInACheckpointIsBoundedByTheOverride) {
  const std::string dir = scratch_dir();
  std::string p = "\x80\x02]";
  for (int i = 0; i < 100000; ++i) p += ")a";  // 200 KB that deflates to a few hundred bytes
  p += ".";
  const std::string path = write_checkpoint(dir, p, std::string(8, '\0'), /*deflate_pickle=*/true);
  {
    ScopedEnv limit(io::kMaxInputBytesVariable, "4M");
    EXPECT_INPUT_ERROR(io::read_torch_file(path), path, "data.pkl", "limit of 4194304 bytes");
  }
  EXPECT_EQ(io::read_torch_file(path).root->items.size(), 100000u);  // the default budget holds it
}

TEST(HostilePickle, BudgetsFollowTheFileSize) {
  EXPECT_EQ(io::decompression_budget(3'100'000), std::uint64_t{1} << 30);
  EXPECT_EQ(io::decompression_budget(150'000'000), std::uint64_t{64} * 150'000'000);
  EXPECT_EQ(io::unpickle_budget(16'000'000, 15'700), std::uint64_t{256} << 20);
  EXPECT_EQ(io::unpickle_budget(600'000'000, 150'000'000), std::uint64_t{64} * 150'000'000);
  {
    ScopedEnv limit(io::kMaxInputBytesVariable, "8G");
    EXPECT_EQ(io::decompression_budget(10), std::uint64_t{8} << 30);
    EXPECT_EQ(io::unpickle_budget(10), std::uint64_t{8} << 30);
  }
  ScopedEnv bad(io::kMaxInputBytesVariable, "lots");
  EXPECT_INPUT_ERROR(io::decompression_budget(10), io::kMaxInputBytesVariable, "'lots'");
}

// 6. APPENDs into a shared list of values that reach a large shared graph: each insertion used
// to walk the whole graph again (quadratic: minutes); the graph is now checked once.
TEST(HostilePickle, InsertionsIntoSharedContainersTakeLinearTime) {
  const int n = 20000;
  std::string p = "\x80\x02]" + put(0) + "(";  // S: a list of n empty lists
  for (int i = 0; i < n; ++i) p += "]";
  p += "e]" + put(1) + "0";  // T, shared through the memo
  for (int i = 0; i < n; ++i) p += get(1) + get(0) + "a0";
  p += get(1) + ".";
  const auto start = std::chrono::steady_clock::now();
  const io::ValuePtr v = io::unpickle(reinterpret_cast<const std::uint8_t*>(p.data()), p.size(), "shared.pkl");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(v->items.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(v->items.front().get(), v->items.back().get());
  EXPECT_LT(seconds, 10.0) << "self-reference checks are quadratic again";
}

TEST(HostilePickle, CyclesAreStillRefusedWithoutLeaking) {
  // L = []; L.append(L), and a dict holding itself through a list.
  const std::string list_loop = "\x80\x02]" + put(0) + get(0) + "a.";
  EXPECT_INPUT_ERROR(io::unpickle(reinterpret_cast<const std::uint8_t*>(list_loop.data()), list_loop.size(), "l.pkl"),
                     "l.pkl", "self-referencing");
  const std::string dict_loop = "\x80\x02}" + put(0) + str_op("k") + "]" + get(0) + "as.";
  EXPECT_INPUT_ERROR(io::unpickle(reinterpret_cast<const std::uint8_t*>(dict_loop.data()), dict_loop.size(), "d.pkl"),
                     "d.pkl", "self-referencing");
  // A cycle followed by a malformed opcode: the error is the opcode's, and LeakSanitizer checks
  // that the cycle was broken.
  const std::string broken = "\x80\x02]" + put(0) + get(0) + "a\xff";
  EXPECT_INPUT_ERROR(io::unpickle(reinterpret_cast<const std::uint8_t*>(broken.data()), broken.size(), "b.pkl"),
                     "b.pkl", "not a pickle opcode");
}

// ---------------------------------------------------------------------------------------------
// 3. JSON nested far deeper than any real input

std::string nested(int depth, const std::string& leaf = "1") {
  return std::string(static_cast<std::size_t>(depth), '[') + leaf + std::string(static_cast<std::size_t>(depth), ']');
}

TEST(HostileJson, DeepCocoImageIdIsRefused) {
  const std::string coco = "[{\"image_id\": " + nested(200000) + ", \"keypoints\": [1, 2, 1], \"score\": 1}]";
  EXPECT_INPUT_ERROR(wild::parse_coco_json(coco, "deep.json"), "deep.json", "nests deeper than 64");
  // Shallow but wrong: the message shows a cut excerpt of the value.
  const std::string wrong = "[{\"image_id\": " + nested(10) + ", \"keypoints\": [1, 2, 1], \"score\": 1}]";
  EXPECT_INPUT_ERROR(wild::parse_coco_json(wrong, "wrong.json"), "wrong.json", "image_id", "[[[[[[[[[[1]]]]]]]]]]");
}

TEST(HostileJson, DeepJointMappingIsRefused) {
  EXPECT_INPUT_ERROR(mocap::parse_joint_mapping("{\"fps\": " + nested(200000) + "}", "deep_mapping.json"),
                     "deep_mapping.json", "nests deeper than 64");
  EXPECT_INPUT_ERROR(mocap::parse_joint_mapping("{\"fps\": " + nested(3) + "}", "m.json"), "m.json",
                     "'fps': expected a positive number, found [[[1]]]");
}

TEST(HostileJson, OversizedJointMappingFileIsRefused) {
  const std::string path = scratch_dir() + "/huge_mapping.json";
  io::testing::write_text(path, "{\"name\": \"" + std::string(2 << 20, 'x') + "\"}");
  EXPECT_INPUT_ERROR(mocap::load_joint_mapping(path), path, "exceeds the limit of 1048576 bytes");
}

// ---------------------------------------------------------------------------------------------
// 5. The members of one .npz share one decompression budget

TEST(HostileNpz, MembersInflatingPastTheBudgetAreRefused) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/bomb.npz";
  std::vector<io::NpzMember> members;
  for (const char* name : {"a", "b", "c"})
    members.push_back({name, io::NdArray::zeros(io::DType::Float32, {256, 1024}), nullptr});  // 1 MiB each
  io::write_npz(path, members, /*compress=*/true);
  ASSERT_LT(std::filesystem::file_size(path), 64u << 10);  // ~1000:1

  EXPECT_INPUT_ERROR(io::read_npz(path, 5u << 19), path + ":c.npy", "limit of 2621440 bytes",
                     io::kMaxInputBytesVariable);
  EXPECT_EQ(io::read_npz(path, 4u << 20).names.size(), 3u);
  EXPECT_EQ(io::read_npz(path).names.size(), 3u);  // default: max(1 GiB, 64 x file)
  {
    ScopedEnv limit(io::kMaxInputBytesVariable, "2M");
    EXPECT_INPUT_ERROR(io::read_npz(path), path + ":b.npy", "limit of 2097152 bytes");
  }
}

// ---------------------------------------------------------------------------------------------
// 7. Motion-capture sizes have fixed caps, whatever the text size

std::string chain_bvh(int joints, int frames) {
  std::string text = "HIERARCHY\nROOT j0\n{\n  OFFSET 0 0 0\n  CHANNELS 1 Xrotation\n";
  for (int j = 1; j < joints; ++j) text += "JOINT j" + std::to_string(j) + "\n{\n  OFFSET 0 1 0\n";
  text += "End Site\n{\n  OFFSET 0 1 0\n}\n";
  for (int j = 1; j < joints; ++j) text += "}\n";
  text += "}\nMOTION\nFrames: " + std::to_string(frames) + "\nFrame Time: 0.01\n";
  for (int f = 0; f < frames; ++f) text += "0\n";
  return text;
}

TEST(HostileMocap, JointFramesHaveAFixedCap) {
  mocap::ReadLimits limits;
  limits.max_joint_frames = 10000;
  // 100 joints without channels take storage in every frame: 200 frames are 20000 joint-frames.
  mocap_test::expect_input_error([&] { (void)mocap::parse_bvh(chain_bvh(100, 200), "wide.bvh", limits); },
                                 {"wide.bvh", "more than 10000 joint-frames"});
  EXPECT_EQ(mocap::parse_bvh(chain_bvh(100, 50), "ok.bvh", limits).frames, 50);
  EXPECT_EQ(mocap::ReadLimits{}.max_joint_frames, std::int64_t{1} << 23);
}

TEST(HostileMocap, GunzipOutputHasAFixedCap) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/bomb.bvh";
  {
    std::ofstream out(path, std::ios::binary);
    const std::string block(1 << 20, '0');
    for (int i = 0; i < 65; ++i) out << block;  // 65 MiB of text
  }
  ASSERT_EQ(test::run_command("gzip -f '" + path + "'"), 0);
  mocap_test::expect_input_error([&] { (void)mocap::read_text_file(path + ".gz"); },
                                 {path + ".gz", "exceeds the limit of 67108864 bytes"});
}

// ---------------------------------------------------------------------------------------------
// 11. Non-finite and absurd values

TEST(HostileMocap, AbsurdBoneLengthIsAnInputError) {
  const std::string dir = test::temp_dir("hostile_bone_length");
  std::string bvh = mocap_test::walking_bvh(60);
  const std::string leg = "OFFSET 0 -7.4 0";
  bvh.replace(bvh.find(leg), leg.size(), "OFFSET 0 -1e308 0");
  mocap_test::write_file(dir + "/01_01.bvh", bvh);
  mocap_test::expect_input_error([&] { (void)mocap::import_mocap_file(dir + "/01_01.bvh"); },
                                 {dir + "/01_01.bvh", "frame 0", "is not within"});
}

TEST(HostileData, NonFinitePositionsNameFileSubjectActionAndFrame) {
  const std::string dir = scratch_dir();
  io::NdArray poses = io::NdArray::zeros(io::DType::Float32, {5, 17, 3});
  poses.data<float>()[3 * 17 * 3 + 2 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();  // frame 3, joint 2
  const std::string path = dir + "/data_3d_bad.npz";
  auto dict = [](const std::string& key, io::ValuePtr value) { return io::Value::dict({{io::Value::from_str(key), value}}); };
  io::write_npz(path, {{"positions_3d", {}, dict("S1", dict("Walking", io::Value::from_array(poses)))}});
  EXPECT_INPUT_ERROR(data::load_generic_dataset(path, "bad"), path, "['S1']['Walking']", "frame 3", "joint 2",
                     "NaN");

  // float64 beyond float32's range.
  io::NdArray wide = io::NdArray::zeros(io::DType::Float64, {2, 17, 3});
  wide.data<double>()[17 * 3] = 1e300;
  io::write_npz(path, {{"positions_3d", {}, dict("S1", dict("Walking", io::Value::from_array(wide)))}});
  EXPECT_INPUT_ERROR(data::load_generic_dataset(path, "bad"), path, "frame 1", "joint 0");
}

TEST(HostileData, NonFiniteKeypointsNameFileSubjectActionCameraAndFrame) {
  const std::string dir = scratch_dir();
  io::NdArray good = io::NdArray::zeros(io::DType::Float32, {4, 17, 2});
  io::NdArray bad = good;
  bad.data<float>()[2 * 17 * 2 + 5 * 2] = std::numeric_limits<float>::infinity();  // frame 2, joint 5
  auto ints = [](std::vector<int> values) {
    std::vector<io::ValuePtr> items;
    for (int v : values) items.push_back(io::Value::from_int(v));
    return io::Value::list(std::move(items));
  };
  const io::ValuePtr metadata = io::Value::dict(
      {{io::Value::from_str("num_joints"), io::Value::from_int(17)},
       {io::Value::from_str("keypoints_symmetry"), io::Value::list({ints({4, 5, 6}), ints({1, 2, 3})})}});
  const io::ValuePtr positions = io::Value::dict(
      {{io::Value::from_str("S9"),
        io::Value::dict({{io::Value::from_str("Sitting"),
                          io::Value::list({io::Value::from_array(good), io::Value::from_array(bad)})}})}});
  const std::string path = dir + "/data_2d_bad_gt.npz";
  io::write_npz(path, {{"positions_2d", {}, positions}, {"metadata", {}, metadata}});
  EXPECT_INPUT_ERROR(data::read_keypoints(path), path, "['S9']['Sitting'][1]", "frame 2", "joint 5",
                     "finite keypoints");
}

TEST(HostileData, ArraysReferencedManyTimesAreBounded) {
  const std::string dir = scratch_dir();
  // positions_2d {'S1': {'Walk': [a, a, a, ...]}} with one 13.6 KB array referenced 100000 times
  // through the memo: 600 KB of pickle that would be copied into 1.36 GB of keypoints.
  io::Pickler pickler;
  pickler.protocol = 3;
  std::string array = pickler.dump(*io::Value::from_array(io::NdArray::zeros(io::DType::Float32, {100, 17, 2})));
  array = array.substr(2, array.size() - 3);  // without PROTO and STOP
  std::string positions = "}" + str_op("S1") + "}" + str_op("Walk") + "]" + array + put(0) + "a";
  for (int i = 0; i < 100000; ++i) positions += get(0) + "a";
  positions += "ss";
  // np.save's 0-d object array around it (the writer's own, with the dict spliced in).
  std::string npy = io::serialize_npy_object(*io::Value::from_str("PLACEHOLDER"));
  const std::string placeholder = str_op("PLACEHOLDER");
  npy.replace(npy.find(placeholder), placeholder.size(), positions);
  auto ints = [](std::vector<int> values) {
    std::vector<io::ValuePtr> items;
    for (int v : values) items.push_back(io::Value::from_int(v));
    return io::Value::list(std::move(items));
  };
  const io::ValuePtr metadata = io::Value::dict(
      {{io::Value::from_str("num_joints"), io::Value::from_int(17)},
       {io::Value::from_str("keypoints_symmetry"), io::Value::list({ints({4, 5, 6}), ints({1, 2, 3})})}});
  const std::string path = dir + "/data_2d_shared_gt.npz";
  {
    io::ZipWriter zip(path);
    zip.add("positions_2d.npy", std::move(npy), true);
    zip.add("metadata.npy", io::serialize_npy_object(*metadata), true);
    zip.commit();
  }
  ScopedEnv limit(io::kMaxInputBytesVariable, "8M");
  EXPECT_INPUT_ERROR(data::read_keypoints(path), path, "['S1']['Walk'][", "add up to more than 8388608 bytes");
}

// ---------------------------------------------------------------------------------------------
// 13. A dataset's files are written all or none

mocap::PoseDataset small_dataset() {
  mocap::PoseDataset dataset;
  mocap::PoseSubject subject;
  subject.name = "S1";
  mocap::Rng rng(3);
  subject.cameras = mocap::make_camera_rig(mocap::VirtualCameraOptions{}, rng);
  mocap::PoseAction action;
  action.name = "Walk";
  for (int f = 0; f < 10; ++f)
    for (int j = 0; j < 17; ++j) action.positions.push_back({0.01 * f, 0.02 * j, 1.0 + 0.03 * j});
  subject.actions.push_back(action);
  dataset.subjects.push_back(subject);
  return dataset;
}

std::vector<std::string> folder_entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  return names;
}

TEST(HostileOutput, FailedRenameLeavesNoDatasetFiles) {
  const std::string dir = scratch_dir();
  // A folder where the third file goes: its rename fails after the first two would be in place.
  std::filesystem::create_directories(dir + "/data_2d_walk_noisy.npz/occupied");
  EXPECT_THROW(mocap::write_pose_dataset(small_dataset(), dir, "walk", {mocap::NoisyVariant{}}, 1), InputError);
  EXPECT_EQ(folder_entries(dir), std::vector<std::string>{"data_2d_walk_noisy.npz"});
}

TEST(HostileOutput, FailedThirdWriteLeavesNoDatasetFiles) {
  const std::string dir = scratch_dir();
  // A variant name too long for a file name: the third file cannot even be created.
  mocap::NoisyVariant variant;
  variant.name = std::string(300, 'n');
  EXPECT_THROW(mocap::write_pose_dataset(small_dataset(), dir, "walk", {variant}, 1), InputError);
  EXPECT_TRUE(folder_entries(dir).empty()) << "left: " << folder_entries(dir).front();

  // And with nothing in the way all three appear.
  const mocap::WrittenDataset written = mocap::write_pose_dataset(small_dataset(), dir, "walk", {mocap::NoisyVariant{}}, 1);
  EXPECT_EQ(folder_entries(dir).size(), 3u);
  EXPECT_TRUE(std::filesystem::exists(written.positions_3d_path));
  EXPECT_TRUE(std::filesystem::exists(written.keypoints_gt_path));
}

}  // namespace
}  // namespace poselift
