// .npz archives: what np.savez / np.savez_compressed write, what NumPy reads back from us, and
// corrupt archives refused with messages naming the file and member.
#include <cstring>

#include "io/npy.hpp"
#include "io/zip_archive.hpp"
#include "test_io_support.hpp"

namespace poselift::io {
namespace {

using namespace testing;

TEST(IoNpz, ReadsSavezAndSavezCompressed) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  run_python(dir, R"PY(
import numpy as np
arrays = {
    'positions': np.arange(2 * 17 * 2, dtype=np.float32).reshape(2, 17, 2) / 3,
    'big_endian': np.arange(5, dtype='>i8'),
    'fortran': np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    'mask': np.array([True, False]),
    'scalar': np.array(1.25),
}
meta = {'num_joints': 17, 'keypoints_symmetry': [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
np.savez('plain.npz', metadata=meta, **arrays)
np.savez_compressed('compressed.npz', metadata=meta, **arrays)
for name, array in arrays.items():
    with open(name + '.raw', 'wb') as f:
        f.write(array.astype(array.dtype.newbyteorder('<')).tobytes(order='C'))
)PY");
  for (const char* archive : {"plain.npz", "compressed.npz"}) {
    SCOPED_TRACE(archive);
    const NpzFile npz = read_npz(dir + "/" + archive);
    EXPECT_EQ(npz.names, (std::vector<std::string>{"metadata", "positions", "big_endian", "fortran", "mask", "scalar"}));
    for (const char* name : {"positions", "big_endian", "fortran", "mask", "scalar"}) {
      const NpyContent& member = npz.at(name, archive);
      ASSERT_FALSE(member.is_object()) << name;
      EXPECT_EQ(member.array.bytes, file_bytes(dir + "/" + name + ".raw")) << name;
    }
    EXPECT_EQ(npz.at("fortran", archive).array.shape, (std::vector<std::int64_t>{3, 4}));
    EXPECT_EQ(npz.at("big_endian", archive).array.dtype, DType::Int64);
    const Value& meta = *npz.at("metadata", archive).object;
    EXPECT_EQ(meta.at("num_joints", "metadata").as_int("num_joints"), 17);
    EXPECT_EQ(meta.at("keypoints_symmetry", "metadata").as_sequence("s")[1]->as_sequence("s")[5]->as_int("j"), 16);
    // The in-memory parser sees the same.
    const auto bytes = file_bytes(dir + "/" + archive);
    EXPECT_EQ(parse_npz(bytes.data(), bytes.size(), archive).names, npz.names);
  }
}

TEST(IoNpz, ReadsZip64Archives) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  // More than 65535 members forces the zip64 end-of-central-directory records.
  run_python(dir, R"PY(
import io, zipfile, numpy as np
member = io.BytesIO()
np.save(member, np.arange(3, dtype=np.int16))
data = member.getvalue()
with zipfile.ZipFile('many.npz', 'w', zipfile.ZIP_STORED, allowZip64=True) as z:
    for i in range(65540):
        z.writestr('a%d.npy' % i, data)
with open('many.npz', 'rb') as f:
    assert b'PK\x06\x06' in f.read()[-200:]  # zip64 end of central directory
)PY");
  const NpzFile npz = read_npz(dir + "/many.npz");
  ASSERT_EQ(npz.names.size(), 65540u);
  EXPECT_EQ(npz.names.back(), "a65539");
  const NdArray& last = npz.at("a65539", "many").array;
  EXPECT_EQ(last.data<std::int16_t>()[2], 2);
}

ValuePtr dataset_value() {
  // The VideoPose3D layout: subject -> action -> list of per-camera arrays.
  auto cameras = Value::list({Value::from_array(NdArray::from_vector<float>({2, 1, 2}, {1, 2, 3, 4})),
                              Value::from_array(NdArray::from_vector<float>({1, 1, 2}, {5, 6}))});
  auto s1 = Value::dict({{Value::from_str("Walking 1"), cameras},
                         {Value::from_str("Eating"), Value::list({Value::from_array(NdArray::from_vector<float>(
                                                         {1, 1, 2}, {7, 8}))})}});
  return Value::dict({{Value::from_str("S1"), s1}, {Value::from_str("S11"), Value::dict()}});
}

TEST(IoNpz, NumpyReadsWhatWeWrite) {
  const std::string dir = scratch_dir();
  std::vector<NpzMember> members;
  members.push_back({"positions_2d", {}, dataset_value()});
  members.push_back({"metadata", {}, Value::dict({{Value::from_str("num_joints"), Value::from_int(17)},
                                                 {Value::from_str("layout_name"), Value::from_str("h36m")}})});
  members.push_back({"matrix", NdArray::from_vector<double>({2, 2}, {1, 2, 3, 4.5}), nullptr});
  write_npz(dir + "/compressed.npz", members, true);
  write_npz(dir + "/stored.npz", members, false);
  write_npz(dir + "/empty.npz", {}, true);
  EXPECT_LT(fs::file_size(dir + "/compressed.npz"), fs::file_size(dir + "/stored.npz"));

  for (const char* name : {"compressed.npz", "stored.npz"}) {
    SCOPED_TRACE(name);
    const NpzFile back = read_npz(dir + "/" + name);
    EXPECT_EQ(back.names, (std::vector<std::string>{"positions_2d", "metadata", "matrix"}));
    const Value& positions = *back.at("positions_2d", name).object;
    EXPECT_EQ(positions.str_keys("p"), (std::vector<std::string>{"S1", "S11"}));
    EXPECT_EQ(positions.at("S1", "p").str_keys("S1"), (std::vector<std::string>{"Walking 1", "Eating"}));
    const auto& cameras = positions.at("S1", "p").at("Walking 1", "S1").as_sequence("cams");
    EXPECT_EQ(cameras[1]->as_array("cam").to_floats(), (std::vector<float>{5, 6}));
    EXPECT_EQ(back.at("matrix", name).array.to_doubles(), (std::vector<double>{1, 2, 3, 4.5}));
  }
  EXPECT_TRUE(read_npz(dir + "/empty.npz").names.empty());

  if (!numpy_available()) GTEST_SKIP() << "needs /usr/bin/python3 with numpy to check NumPy reads our files";
  const std::string out = run_python(dir, R"PY(
import numpy as np, zipfile
for name in ['compressed.npz', 'stored.npz']:
    z = np.load(name, allow_pickle=True)
    assert z.files == ['positions_2d', 'metadata', 'matrix'], z.files
    positions = z['positions_2d'].item()
    assert list(positions) == ['S1', 'S11'] and list(positions['S1']) == ['Walking 1', 'Eating']
    cams = positions['S1']['Walking 1']
    assert isinstance(cams, list) and cams[0].dtype == np.float32 and cams[0].shape == (2, 1, 2)
    assert np.array_equal(cams[0].ravel(), [1, 2, 3, 4]) and np.array_equal(cams[1].ravel(), [5, 6])
    assert positions['S11'] == {}
    assert z['metadata'].item() == {'num_joints': 17, 'layout_name': 'h36m'}
    assert np.array_equal(z['matrix'], [[1, 2], [3, 4.5]])
    method = {i.compress_type for i in zipfile.ZipFile(name).infolist()}
    assert method == ({zipfile.ZIP_DEFLATED} if name == 'compressed.npz' else {zipfile.ZIP_STORED}), method
assert len(np.load('empty.npz').files) == 0
print('ok')
)PY");
  EXPECT_EQ(out, "ok\n");
}

TEST(IoNpz, WritesAtomically) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/out.npz";
  write_npz(path, {{"a", NdArray::from_vector<float>({1}, {1.f}), nullptr}});
  NdArray broken = NdArray::zeros(DType::Float32, {4});
  broken.bytes.resize(2);
  EXPECT_INPUT_ERROR(write_npz(path, {{"a", NdArray::zeros(DType::Float32, {2}), nullptr}, {"b", broken, nullptr}}),
                     "holds 2 bytes");
  EXPECT_INPUT_ERROR(write_npz(path, {{"a", {}, Value::none()}, {"a", {}, Value::none()}}), "out.npz", "duplicate");
  EXPECT_EQ(read_npz(path).at("a", path).array.numel(), 1);  // previous content intact
  EXPECT_INPUT_ERROR(write_npz(dir + "/missing/x.npz", {{"a", NdArray::zeros(DType::Float32, {1}), nullptr}}),
                     "missing/x.npz");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "temporary files left behind";
}

// Offsets of the first local header's fields in a zip written by our writer.
std::vector<std::uint8_t> one_member_zip(const std::string& dir, bool compress) {
  const std::string path = dir + (compress ? "/deflated.npz" : "/stored.npz");
  write_npz(path, {{"x", NdArray::from_vector<std::int32_t>({64}, std::vector<std::int32_t>(64, 5)), nullptr}},
            compress);
  return file_bytes(path);
}

TEST(IoNpz, CorruptArchivesAreRefused) {
  const std::string dir = scratch_dir();
  const auto stored = one_member_zip(dir, false);
  const auto deflated = one_member_zip(dir, true);
  auto parse = [](const std::vector<std::uint8_t>& bytes, const std::string& source) {
    return parse_npz(bytes.data(), bytes.size(), source);
  };
  EXPECT_EQ(parse(stored, "ok.npz").at("x", "ok").array.numel(), 64);

  // A flipped byte in the stored member's data: only the CRC can tell.
  auto flipped = stored;
  // Local header (30 bytes + name + extra field), then the .npy header (128 bytes here).
  const std::size_t data_start = 30 + (stored[26] | stored[27] << 8) + (stored[28] | stored[29] << 8) + 128;
  flipped[data_start + 10] ^= 0x01;
  EXPECT_INPUT_ERROR(parse(flipped, "data/flip.npz"), "data/flip.npz:x.npy", "CRC");
  auto flipped_deflate = deflated;
  flipped_deflate[30 + (deflated[26] | deflated[27] << 8) + (deflated[28] | deflated[29] << 8) + 3] ^= 0x20;
  try {
    parse(flipped_deflate, "data/flip2.npz");
    ADD_FAILURE() << "corrupt deflate stream accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("data/flip2.npz"), std::string::npos) << error.what();
  }

  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, stored.size() / 2, stored.size() - 10}) {
    SCOPED_TRACE(cut);
    const std::vector<std::uint8_t> truncated(stored.begin(), stored.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_INPUT_ERROR(parse(truncated, "data/cut.npz"), "data/cut.npz");
  }
  EXPECT_INPUT_ERROR(parse(std::vector<std::uint8_t>(100, 'z'), "junk.npz"), "junk.npz", "zip");

  // Sizes that lie: the central directory claims a 4 GB member.
  auto liar = stored;
  bool patched = false;
  for (std::size_t i = 0; i + 46 < liar.size(); ++i) {
    if (std::memcmp(&liar[i], "PK\x01\x02", 4) == 0) {
      for (int k = 0; k < 4; ++k) liar[i + 24 + k] = 0xF0;  // uncompressed size
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  EXPECT_INPUT_ERROR(parse(liar, "liar.npz"), "liar.npz");

  // A member whose .npy content is broken names both the archive and the member.
  const std::string path = dir + "/bad_member.npz";
  {
    ZipWriter writer(path);
    writer.add("good.npy", serialize_npy(NdArray::zeros(DType::Float32, {2})), true);
    writer.add("bad.npy", std::string("\x93NUMPY\x01\x00\x04\x00{}  ", 14), true);
    writer.commit();
  }
  EXPECT_INPUT_ERROR(read_npz(path), "bad_member.npz:bad.npy", "'shape'");
  EXPECT_INPUT_ERROR(read_npz(dir + "/absent.npz"), "absent.npz", "cannot open");
  const NpzFile good = parse(stored, "data/s.npz");
  EXPECT_INPUT_ERROR(good.at("positions_2d", "data/s.npz"), "data/s.npz", "missing array 'positions_2d'", "x");
}

TEST(IoZip, ReaderAndWriter) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/archive.zip";
  {
    ZipWriter writer(path);
    writer.add("folder/a.bin", std::vector<std::uint8_t>{1, 2, 3}, false);
    writer.add("b.txt", std::string(10000, 'b'), true);
    writer.add("empty", std::string(), false);
    writer.commit();
  }
  {
    ZipWriter abandoned(dir + "/never.zip");
    abandoned.add("x", std::string("x"), false);
  }  // destroyed without commit: nothing written
  EXPECT_FALSE(fs::exists(dir + "/never.zip"));
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_read, fs::perms::others_read);

  const ZipReader reader = ZipReader::open_file(path);
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"folder/a.bin", "b.txt", "empty"}));
  EXPECT_TRUE(reader.contains("b.txt"));
  EXPECT_FALSE(reader.contains("c"));
  EXPECT_EQ(reader.size_of("b.txt"), 10000u);
  EXPECT_EQ(reader.read("folder/a.bin"), (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(reader.read("b.txt").size(), 10000u);
  EXPECT_TRUE(reader.read("empty").empty());
  EXPECT_INPUT_ERROR(reader.read("b.txt", 100), "archive.zip:b.txt", "exceeds the limit of 100");
  EXPECT_INPUT_ERROR(reader.read("nope"), "archive.zip", "no member 'nope'");

  write_file_atomic(dir + "/plain.txt", "hello");
  EXPECT_EQ(read_file(dir + "/plain.txt"), (std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_INPUT_ERROR(read_file(dir + "/missing.txt"), "missing.txt");
}

}  // namespace
}  // namespace poselift::io
