// The legacy torch.save format (PyTorch < 1.6, or _use_new_zipfile_serialization=False): the
// VideoPose3D fixture against torch.load, files Python's torch writes (dtypes, shared storages,
// empty tensors, nesting) against torch.load and against the zip format, and hostile variants of
// a file built here (truncations, corruptions, overflowing counts, missing, duplicated and
// unreferenced keys, views beyond their storage) that must end in an InputError.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "io/npy.hpp"
#include "io/pickle.hpp"
#include "io/torch_file.hpp"
#include "test_io_support.hpp"

namespace poselift::io {
namespace {

using testing::file_bytes;
using testing::kPython;
using testing::run_python;
using testing::scratch_dir;
using testing::shared_fixtures;
using testing::write_bytes;

bool torch_available() {
  static const bool available =
      std::system((std::string(kPython) + " -c 'import numpy, torch' > /dev/null 2>&1").c_str()) == 0;
  return available;
}

#define REQUIRE_TORCH()                                                                                    \
  do {                                                                                                     \
    if (!torch_available()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy and torch (python3-torch)"; \
  } while (0)

const std::string kFixture = "/zoo/videopose3d-f27/checkpoint/model.bin";

TorchFile parse(const std::string& bytes, const std::string& source = "legacy.bin") {
  return parse_torch_file(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), source);
}

// The arrays of a resolved tree by dotted path (dict keys, list and tuple indices), as the
// Python side flattens torch.load's result.
void flatten(const Value& v, const std::string& prefix, std::map<std::string, const NdArray*>& out) {
  const std::string dot = prefix.empty() ? "" : prefix + ".";
  switch (v.kind) {
    case Value::Kind::Array: out[prefix] = v.array.get(); break;
    case Value::Kind::Dict:
      for (const auto& [key, value] : v.entries)
        flatten(*value, dot + (key->kind == Value::Kind::Str ? key->text : key->repr()), out);
      break;
    case Value::Kind::List:
    case Value::Kind::Tuple:
      for (std::size_t i = 0; i < v.items.size(); ++i) flatten(*v.items[i], dot + std::to_string(i), out);
      break;
    default: break;
  }
}

std::map<std::string, const NdArray*> arrays_of(const ValuePtr& resolved) {
  std::map<std::string, const NdArray*> out;
  flatten(*resolved, "", out);
  return out;
}

// Every array of `expected` (an .npz written by Python) equals the one of `actual` by the same
// name, in dtype, shape and bytes; no name is missing on either side.
void expect_same_arrays(const NpzFile& expected, const std::map<std::string, const NdArray*>& actual) {
  EXPECT_EQ(expected.members.size(), actual.size());
  for (const auto& [name, content] : expected.members) {
    auto it = actual.find(name);
    if (it == actual.end()) {
      ADD_FAILURE() << "no array '" << name << "' read";
      continue;
    }
    EXPECT_EQ(dtype_name(it->second->dtype), dtype_name(content.array.dtype)) << name;
    EXPECT_EQ(it->second->shape, content.array.shape) << name;
    EXPECT_TRUE(it->second->bytes == content.array.bytes) << name << ": values differ";
  }
}

// Python flattening torch.load's result the same way, into an .npz of C-ordered arrays.
const char* kFlattenPython = R"PY(
import numpy as np, torch
def flatten(prefix, v, out):
    dot = prefix + '.' if prefix else ''
    if isinstance(v, torch.Tensor):
        out[prefix] = v.detach().contiguous().numpy()
    elif isinstance(v, dict):
        for k, x in v.items():
            flatten(dot + str(k), x, out)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            flatten(dot + str(i), x, out)
    return out
def save_flat(path, value):
    np.savez(path, **flatten('', value, {}))
)PY";

// ---------------------------------------------------------------------------------------------
// The VideoPose3D checkpoint

TEST(IoTorchLegacy, VideoPose3DCheckpointHasTheValuesTorchLoads) {
  const std::string path = shared_fixtures() + kFixture;
  if (!testing::fs::exists(path)) GTEST_SKIP() << "../shared (fixtures) is absent: " << path;
  const TorchFile file = read_torch_file(path);
  const ValuePtr root = resolve_tensor_refs(file, file.root);
  EXPECT_EQ(root->at("epoch", "root").as_int("epoch"), 7);
  EXPECT_DOUBLE_EQ(root->at("lr", "root").as_float("lr"), 0.00018641306958139798);
  EXPECT_TRUE(root->at("optimizer", "root").is_none());
  // numpy's RandomState, kept as the opaque object the checkpoint layer restores.
  const Value& random_state = root->at("random_state", "root");
  ASSERT_TRUE(random_state.is_object_of("numpy.random._pickle", "__randomstate_ctor")) << random_state.repr();
  ASSERT_TRUE(random_state.object->state);
  EXPECT_EQ(random_state.object->state->at("bit_generator", "state").as_str("bit_generator"), "MT19937");

  // Values printed by torch.load (torch 1.13) from this file.
  const auto& model_pos = root->at("model_pos", "root");
  EXPECT_EQ(model_pos.entries.size(), 32u);
  const NdArray& expand = model_pos.at("expand_conv.weight", "model_pos").as_array("expand_conv.weight");
  EXPECT_EQ(expand.dtype, DType::Float32);
  EXPECT_EQ(expand.shape, (std::vector<std::int64_t>{64, 34, 3}));
  EXPECT_FLOAT_EQ(expand.data<float>()[0], 0.013978607952594757f);
  EXPECT_FLOAT_EQ(expand.data<float>()[1], -0.017332475632429123f);
  EXPECT_FLOAT_EQ(expand.data<float>()[2], -0.029227618128061295f);
  EXPECT_FLOAT_EQ(expand.data<float>()[64 * 34 * 3 - 1], 0.07549244910478592f);
  const NdArray& running_var = model_pos.at("layers_bn.3.running_var", "model_pos").as_array("running_var");
  EXPECT_EQ(running_var.shape, (std::vector<std::int64_t>{64}));
  EXPECT_FLOAT_EQ(running_var.data<float>()[0], 1.2055721282958984f);
  EXPECT_FLOAT_EQ(running_var.data<float>()[2], 1.126901626586914f);
  const NdArray& tracked = model_pos.at("layers_bn.3.num_batches_tracked", "model_pos").as_array("tracked");
  EXPECT_EQ(tracked.dtype, DType::Int64);
  EXPECT_TRUE(tracked.shape.empty());
  const NdArray& traj_bias = root->at("model_traj", "root").at("shrink.bias", "model_traj").as_array("shrink.bias");
  ASSERT_EQ(traj_bias.shape, (std::vector<std::int64_t>{3}));
  EXPECT_FLOAT_EQ(traj_bias.data<float>()[1], -0.04349811375141144f);

  // Every tensor, against what torch.load gives.
  if (!torch_available()) GTEST_SKIP() << "needs /usr/bin/python3 with torch for the full comparison";
  const std::string dir = scratch_dir();
  run_python(dir, std::string(kFlattenPython) + "save_flat('expected.npz', torch.load(FIXTURES + '" + kFixture +
                      "', map_location='cpu'))\n");
  const NpzFile expected = read_npz(dir + "/expected.npz");
  EXPECT_EQ(expected.members.size(), 64u);  // 32 tensors in each of model_pos and model_traj
  expect_same_arrays(expected, arrays_of(root));
}

TEST(IoTorchLegacy, VideoPose3DCheckpointTruncatedAnywhereIsRefused) {
  const std::string path = shared_fixtures() + kFixture;
  if (!testing::fs::exists(path)) GTEST_SKIP() << "../shared (fixtures) is absent: " << path;
  const std::vector<std::uint8_t> bytes = file_bytes(path);
  ASSERT_GT(bytes.size(), 100000u);
  int cuts = 0;
  // Every cut in the pickles (the first few KB), then every 997th byte through the storages.
  for (std::size_t cut = 0; cut < bytes.size(); cut += cut < 6000 ? 1 : 997, ++cuts) {
    try {
      parse_torch_file(bytes.data(), cut, "cut.bin");
      ADD_FAILURE() << "a copy cut at byte " << cut << " was accepted";
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).rfind("cut.bin", 0), 0u) << error.what();
    }
  }
  EXPECT_GT(cuts, 6000);
}

// ---------------------------------------------------------------------------------------------
// Files written by Python's torch

TEST(IoTorchLegacy, FilesTorchWritesReadAsTorchLoadsThem) {
  REQUIRE_TORCH();
  const std::string dir = scratch_dir();
  run_python(dir, std::string(kFlattenPython) + R"PY(
import collections
g = torch.Generator().manual_seed(5)
base = torch.arange(24, dtype=torch.float32) * 0.5
obj = {
    'f32': torch.randn(3, 4, generator=g),
    'f64': torch.randn(5, dtype=torch.float64, generator=g),
    'f16': torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
    'i64': torch.tensor([-(2**62), -1, 0, 7, 2**62]),
    'i32': torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32),
    'i16': torch.tensor([-32768, 5], dtype=torch.int16),
    'i8': torch.tensor([-128, 127], dtype=torch.int8),
    'u8': torch.tensor([0, 255], dtype=torch.uint8),
    'bool': torch.tensor([True, False, True]),
    'scalar': torch.tensor(3.25),
    'empty': torch.zeros(0, 3),
    'shared_rows': base[2:14].view(3, 4),
    'shared_strided': base.view(4, 6).t()[1:, ::2],
    'param': torch.nn.Parameter(torch.ones(2, 2)),
    'nested': {'list': [torch.arange(3), {'deep': torch.full((2, 2), 2.0, dtype=torch.float64)}],
               'tuple': (1, 'two', 3.0)},
    'state': collections.OrderedDict([('w', torch.eye(3)), ('b', torch.zeros(3))]),
    'epoch': 7,
    'none': None,
}
torch.save(obj, 'legacy.bin', _use_new_zipfile_serialization=False)
torch.save(obj, 'zip.bin')
save_flat('expected.npz', torch.load('legacy.bin'))
)PY");
  const NpzFile expected = read_npz(dir + "/expected.npz");
  ASSERT_EQ(expected.members.size(), 18u);

  const TorchFile legacy = read_torch_file(dir + "/legacy.bin");
  ASSERT_EQ(file_bytes(dir + "/legacy.bin")[0], 0x80);  // really the legacy stream, not a zip
  const ValuePtr root = resolve_tensor_refs(legacy, legacy.root);
  expect_same_arrays(expected, arrays_of(root));
  EXPECT_EQ(root->at("epoch", "root").as_int("epoch"), 7);
  EXPECT_TRUE(root->at("none", "root").is_none());
  EXPECT_EQ(root->at("nested", "root").at("tuple", "nested").repr(), "(1, 'two', 3.0)");
  EXPECT_NE(as_tensor_ref(legacy.root->at("param", "root")), nullptr);  // _rebuild_parameter: its tensor

  // The two views of `base` share one storage, each with its own offset and strides.
  const TensorRef* rows = as_tensor_ref(legacy.root->at("shared_rows", "root"));
  const TensorRef* strided = as_tensor_ref(legacy.root->at("shared_strided", "root"));
  ASSERT_TRUE(rows && strided);
  EXPECT_EQ(rows->storage_key, strided->storage_key);
  EXPECT_EQ(legacy.storages.at(rows->storage_key).size(), 24u * 4);
  EXPECT_EQ(rows->storage_offset, 2);
  EXPECT_EQ(rows->strides, (std::vector<std::int64_t>{4, 1}));
  EXPECT_EQ(strided->storage_offset, 1);
  EXPECT_EQ(strided->sizes, (std::vector<std::int64_t>{5, 2}));
  EXPECT_EQ(strided->strides, (std::vector<std::int64_t>{1, 12}));

  // The zip format of the same object reads to the same values.
  const TorchFile zip = read_torch_file(dir + "/zip.bin");
  expect_same_arrays(expected, arrays_of(resolve_tensor_refs(zip, zip.root)));
}

// ---------------------------------------------------------------------------------------------
// Hostile variants of a legacy file built here

std::string le64(std::uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

// A storage as the object pickle references it: ('storage', torch.<type>, key, 'cpu', numel, view).
struct StorageStub : Extension {
  std::string type, key;
  std::int64_t numel = 0;
  ValuePtr view = Value::none();
  std::string type_name() const override { return "StorageStub"; }
};

ValuePtr tensor(const std::string& key, const std::string& type, std::int64_t numel, std::int64_t offset,
                const std::vector<std::int64_t>& sizes, const std::vector<std::int64_t>& strides,
                ValuePtr view = Value::none()) {
  auto stub = std::make_shared<StorageStub>();
  stub->type = type;
  stub->key = key;
  stub->numel = numel;
  stub->view = std::move(view);
  std::vector<ValuePtr> size_items, stride_items;
  for (auto s : sizes) size_items.push_back(Value::from_int(s));
  for (auto s : strides) stride_items.push_back(Value::from_int(s));
  return Value::make_object("torch._utils", "_rebuild_tensor_v2",
                            {Value::from_extension(stub), Value::from_int(offset), Value::tuple(size_items),
                             Value::tuple(stride_items), Value::from_bool(false), Value::ordered_dict({})});
}

// The pickles of a legacy file (magic, version, sys_info, `root`, `keys`); its storage records follow.
std::string legacy_pickles(const ValuePtr& root, const std::vector<std::string>& keys, std::int64_t version = 1001,
                           const std::string& magic = "119547037146038801333356") {
  auto big = std::make_shared<Value>();
  big->kind = Value::Kind::BigInt;
  big->text = magic;
  const ValuePtr sys_info = Value::dict(
      {{Value::from_str("protocol_version"), Value::from_int(1001)},
       {Value::from_str("little_endian"), Value::from_bool(true)},
       {Value::from_str("type_sizes"), Value::dict({{Value::from_str("short"), Value::from_int(2)},
                                                    {Value::from_str("int"), Value::from_int(4)},
                                                    {Value::from_str("long"), Value::from_int(4)}})}});
  Pickler plain;
  std::string out = plain.dump(*big) + plain.dump(*Value::from_int(version)) + plain.dump(*sys_info);
  Pickler object;
  object.persistent_id = [](const Value& v) -> ValuePtr {
    const auto* stub = v.kind == Value::Kind::Extension ? dynamic_cast<const StorageStub*>(v.extension.get()) : nullptr;
    if (!stub) return nullptr;
    return Value::tuple({Value::from_str("storage"), Value::global("torch", stub->type), Value::from_str(stub->key),
                         Value::from_str("cpu"), Value::from_int(stub->numel), stub->view});
  };
  out += object.dump(*root);
  std::vector<ValuePtr> key_items;
  for (const auto& key : keys) key_items.push_back(Value::from_str(key));
  return out + plain.dump(*Value::list(key_items));
}

std::string floats(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}
std::string longs(const std::vector<std::int64_t>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(std::int64_t));
}

// Two storages: a 2x2 float tensor and two views of three int64 (one of them offset).
ValuePtr good_root() {
  return Value::dict({{Value::from_str("w"), tensor("94001", "FloatStorage", 4, 0, {2, 2}, {2, 1})},
                      {Value::from_str("ids"), tensor("94002", "LongStorage", 3, 0, {3}, {1})},
                      {Value::from_str("tail"), tensor("94002", "LongStorage", 3, 1, {2}, {1})}});
}
const std::vector<std::string> kGoodKeys = {"94001", "94002"};
std::string good_records() { return le64(4) + floats({1, 2, 3, 4}) + le64(3) + longs({-5, 6, 1ll << 40}); }
std::string good_file() { return legacy_pickles(good_root(), kGoodKeys) + good_records(); }

TEST(IoTorchLegacy, FileBuiltHereReads) {
  const TorchFile file = parse(good_file());
  EXPECT_EQ(file.storages.size(), 2u);
  const ValuePtr root = resolve_tensor_refs(file, file.root);
  const NdArray& w = root->at("w", "root").as_array("w");
  EXPECT_EQ(w.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(std::vector<float>(w.data<float>(), w.data<float>() + 4), (std::vector<float>{1, 2, 3, 4}));
  const NdArray& tail = root->at("tail", "root").as_array("tail");
  ASSERT_EQ(tail.numel(), 2);
  EXPECT_EQ(tail.data<std::int64_t>()[0], 6);
  EXPECT_EQ(tail.data<std::int64_t>()[1], 1ll << 40);

  // Python's torch reads it to the same values: the builder writes the real format.
  if (!torch_available()) GTEST_SKIP() << "needs /usr/bin/python3 with torch to cross-check the builder";
  const std::string dir = scratch_dir();
  const std::string bytes = good_file();
  write_bytes(dir + "/built.bin", std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  EXPECT_EQ(run_python(dir, "import torch\nd = torch.load('built.bin')\n"
                            "print(d['w'].tolist(), d['ids'].tolist(), d['tail'].tolist(), d['w'].dtype)\n"),
            "[[1.0, 2.0], [3.0, 4.0]] [-5, 6, 1099511627776] [6, 1099511627776] torch.float32\n");
}

TEST(IoTorchLegacy, TruncatedOrCorruptedCopiesNeverCrash) {
  const std::string bytes = good_file();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    try {
      parse(bytes.substr(0, cut), "cut.bin");
      ADD_FAILURE() << "a copy cut at byte " << cut << " of " << bytes.size() << " was accepted";
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()).rfind("cut.bin", 0), 0u) << error.what();
    }
  }
  // Each byte replaced in turn: accepted (then every tensor materializes or is refused) or refused.
  int refused = 0;
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    for (const char replacement : {'\xff', '\x00', '\x7f'}) {
      std::string corrupt = bytes;
      if (corrupt[at] == replacement) continue;
      corrupt[at] = replacement;
      try {
        const TorchFile file = parse(corrupt, "corrupt.bin");
        (void)resolve_tensor_refs(file, file.root);
      } catch (const InputError& error) {
        ++refused;
        EXPECT_EQ(std::string(error.what()).rfind("corrupt.bin", 0), 0u) << error.what();
      }
    }
  }
  EXPECT_GT(refused, 100);
}

TEST(IoTorchLegacy, ElementCountsAreChecked) {
  const std::string pickles = legacy_pickles(good_root(), kGoodKeys);
  const std::string second = le64(3) + longs({1, 2, 3});
  // The example of the format's description: far more elements than the file holds.
  EXPECT_INPUT_ERROR(parse(pickles + le64(1000000) + floats({1, 2, 3})),
                     "legacy.bin: legacy torch.save: storage '94001' declares 1000000 elements (4000000 bytes) but "
                     "12 bytes remain");
  // count x 4 wraps around 2^64; a count beyond int64.
  EXPECT_INPUT_ERROR(parse(pickles + le64((1ull << 62) + 1) + floats({1, 2, 3, 4}) + second), "legacy.bin",
                     "'94001'", "overflows");
  EXPECT_INPUT_ERROR(parse(pickles + le64(~0ull) + floats({1, 2, 3, 4}) + second), "legacy.bin", "overflows");
  // A count other than the persistent id's numel.
  EXPECT_INPUT_ERROR(parse(pickles + le64(3) + floats({1, 2, 3, 4}) + second), "legacy.bin",
                     "storage '94001' holds 3 elements but its tensors declare 4");
  // The file ends inside the second count.
  EXPECT_INPUT_ERROR(parse(pickles + le64(4) + floats({1, 2, 3, 4}) + "\x03\x00"), "legacy.bin", "'94002'",
                     "before its element count");
  // numel x itemsize overflowing in the persistent id itself.
  EXPECT_INPUT_ERROR(
      parse(legacy_pickles(tensor("1", "DoubleStorage", std::int64_t{1} << 61, 0, {1}, {1}), {"1"}) + le64(0)),
      "legacy.bin", "storage '1'", "overflow");
  EXPECT_INPUT_ERROR(parse(legacy_pickles(tensor("1", "FloatStorage", -1, 0, {1}, {1}), {"1"}) + le64(0)),
                     "legacy.bin", "negative element count");
}

TEST(IoTorchLegacy, StorageKeysAreCheckedAgainstTheObject) {
  const std::string records = good_records();
  EXPECT_INPUT_ERROR(parse(legacy_pickles(good_root(), {"94001"}) + records), "legacy.bin",
                     "storage '94002' is referenced by a tensor but the key list (1 keys) has no data for it");
  EXPECT_INPUT_ERROR(parse(legacy_pickles(good_root(), {"94001", "94001", "94002"}) + records), "legacy.bin",
                     "names '94001' twice");
  EXPECT_INPUT_ERROR(parse(legacy_pickles(good_root(), {"94001", "94003", "94002"}) + records), "legacy.bin",
                     "'94003', which no tensor references");
  // One key declared with two types or two sizes.
  const ValuePtr mixed = Value::list({tensor("7", "FloatStorage", 2, 0, {2}, {1}), tensor("7", "IntStorage", 2, 0, {2}, {1})});
  EXPECT_INPUT_ERROR(parse(legacy_pickles(mixed, {"7"}) + le64(2) + floats({1, 2})), "legacy.bin", "storage '7'",
                     "float32", "int32");
  const ValuePtr resized = Value::list({tensor("7", "FloatStorage", 2, 0, {2}, {1}), tensor("7", "FloatStorage", 3, 0, {2}, {1})});
  EXPECT_INPUT_ERROR(parse(legacy_pickles(resized, {"7"}) + le64(2) + floats({1, 2})), "legacy.bin",
                     "declared as 2 elements", "as 3 elements");
}

TEST(IoTorchLegacy, ViewsBeyondTheirStorageAreRefused) {
  // Offset 3 with 2 elements in a storage of 4; a stride that steps past it; an offset that
  // overflows with the stride.
  for (const ValuePtr& bad : {tensor("5", "FloatStorage", 4, 3, {2}, {1}), tensor("5", "FloatStorage", 4, 0, {2, 2}, {3, 1}),
                              tensor("5", "FloatStorage", 4, INT64_MAX - 1, {2}, {INT64_MAX})}) {
    const TorchFile file = parse(legacy_pickles(Value::dict({{Value::from_str("w"), bad}}), {"5"}) + le64(4) +
                                 floats({1, 2, 3, 4}));
    EXPECT_INPUT_ERROR(resolve_tensor_refs(file, file.root), "legacy.bin: w: view", "reaches past storage '5'");
  }
  const TorchFile big = parse(legacy_pickles(tensor("5", "FloatStorage", 4, 0, {5}, {1}), {"5"}) + le64(4) +
                              floats({1, 2, 3, 4}));
  EXPECT_INPUT_ERROR(resolve_tensor_refs(big, big.root), "legacy.bin", "needs more elements");
}

TEST(IoTorchLegacy, HeaderAndPersistentIdsAreChecked) {
  const std::string records = good_records();
  EXPECT_INPUT_ERROR(parse(legacy_pickles(good_root(), kGoodKeys, 1001, "1234") + records), "legacy.bin",
                     "not the magic number");
  EXPECT_INPUT_ERROR(parse(legacy_pickles(good_root(), kGoodKeys, 1000) + records), "legacy.bin",
                     "protocol version 1000");
  // A storage view (view_metadata set, PyTorch < 0.4).
  const ValuePtr view = Value::tuple({Value::from_str("8"), Value::from_int(1), Value::from_int(2)});
  EXPECT_INPUT_ERROR(parse(legacy_pickles(tensor("5", "FloatStorage", 4, 0, {2}, {1}, view), {"5"}) + le64(4) +
                           floats({1, 2, 3, 4})),
                     "legacy.bin", "storage '5' is a view", "not supported");
  EXPECT_INPUT_ERROR(parse(legacy_pickles(tensor("5", "ComplexFloatStorage", 4, 0, {2}, {1}), {"5"}) + le64(4) +
                           floats({1, 2, 3, 4})),
                     "legacy.bin", "unsupported storage type torch.ComplexFloatStorage");
  // The object pickle's end cut off: the unpickler names the part and the file offset.
  const std::string header = legacy_pickles(Value::none(), {});
  EXPECT_INPUT_ERROR(parse(header.substr(0, header.size() - 6)), "legacy.bin: legacy torch.save", "truncated");
}

TEST(IoTorchLegacy, NeitherFormatGetsOneClearMessage) {
  for (const std::string& bytes : {std::string(), std::string("hello, world"), std::string("\x80"),
                                  std::string("{\"epoch\": 3}")}) {
    EXPECT_INPUT_ERROR(parse(bytes, "notes.txt"), "notes.txt: not a PyTorch checkpoint", "zip archive",
                       "legacy format starting with a pickled magic number");
  }
  // A plain pickle is taken for the legacy format and refused at its first value.
  const std::string pickle = Pickler().dump(*Value::dict({{Value::from_str("a"), Value::from_int(1)}}));
  EXPECT_INPUT_ERROR(parse(pickle, "plain.pkl"), "plain.pkl: legacy torch.save", "not the magic number");
  // The tar container of the first releases.
  std::string tar(1024, '\0');
  std::memcpy(&tar[0], "sys_info", 8);
  std::memcpy(&tar[257], "ustar", 5);
  EXPECT_INPUT_ERROR(parse(tar, "old.tar"), "old.tar", "tar-based torch.save format");
}

}  // namespace
}  // namespace poselift::io
