// .npy reading and writing, checked against files and raw bytes that NumPy itself produced.
#include <cstring>

#include "io/npy.hpp"
#include "io/zip_archive.hpp"
#include "test_io_support.hpp"

namespace poselift::io {
namespace {

using namespace testing;

// A .npy stream with a hand-written header (padded like NumPy's) and payload.
std::vector<std::uint8_t> make_npy(const std::string& header, const std::string& payload, int version = 1) {
  std::string dict = header;
  const std::size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((dict.size() >> (8 * i)) & 0xFF);
  out += dict + payload;
  return std::vector<std::uint8_t>(out.begin(), out.end());
}

NpyContent parse(const std::vector<std::uint8_t>& bytes, const std::string& source = "test.npy") {
  return parse_npy(bytes.data(), bytes.size(), source);
}

TEST(IoNpy, ReadsWhatNumpyWrites) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  // Each case: the .npy as NumPy saved it, plus its expected native (little-endian, C-order)
  // bytes, dtype and shape written independently of the .npy format.
  const std::string cases = run_python(dir, R"PY(
import numpy as np
from numpy.lib import format as fmt
rng = np.random.default_rng(7)
cases = {
    'f4': (np.arange(24, dtype='<f4').reshape(2, 3, 4) * 0.5, {}),
    'f8_big_endian': (np.linspace(-3, 7, 12).astype('>f8').reshape(3, 4), {}),
    'i4_big_endian_fortran': (np.asfortranarray(np.arange(-12, 12, dtype='>i4').reshape(2, 3, 4)), {}),
    'f4_fortran': (np.asfortranarray(rng.standard_normal((3, 5, 2)).astype('<f4')), {}),
    'f8_fortran_2d': (np.asfortranarray(np.arange(6.0).reshape(2, 3)), {}),
    'bool': (rng.random((4, 5)) > 0.5, {}),
    'u1': (np.arange(250, dtype=np.uint8), {}),
    'i1': (np.arange(-100, 100, 7, dtype=np.int8), {}),
    'i2_big_endian': (np.arange(-300, 300, 37, dtype='>i2'), {}),
    'u2': (np.arange(0, 60000, 999, dtype=np.uint16), {}),
    'u4': (np.array([0, 1, 4000000000], dtype=np.uint32), {}),
    'i8': (np.array([-2**62, -1, 0, 2**62], dtype=np.int64), {}),
    'u8_big_endian': (np.array([0, 2**63 + 5], dtype='>u8'), {}),
    'f2': (np.array([0.5, -2.25, 65504, 1e-7], dtype=np.float16), {}),
    'scalar_0d': (np.array(3.25), {}),
    'int_0d_big_endian': (np.array(-77, dtype='>i8'), {}),
    'empty': (np.zeros((0, 3), dtype=np.float32), {}),
    'version2': (np.arange(10, dtype=np.float64), {'version': (2, 0)}),
    'version3': (np.arange(10, dtype=np.int32).reshape(2, 5), {'version': (3, 0)}),
}
for name, (array, options) in cases.items():
    with open(name + '.npy', 'wb') as f:
        fmt.write_array(f, array, allow_pickle=False, **options)
    native = array.astype(array.dtype.newbyteorder('<'))
    with open(name + '.raw', 'wb') as f:
        f.write(native.tobytes(order='C'))
    print(name, native.dtype.name, ' '.join(map(str, array.shape)))
)PY");
  std::istringstream lines(cases);
  int checked = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string name, dtype;
    fields >> name >> dtype;
    std::vector<std::int64_t> shape;
    for (std::int64_t dim; fields >> dim;) shape.push_back(dim);
    SCOPED_TRACE(name);
    const NpyContent content = read_npy(dir + "/" + name + ".npy");
    ASSERT_FALSE(content.is_object());
    EXPECT_EQ(dtype_name(content.array.dtype), dtype);
    EXPECT_EQ(content.array.shape, shape);
    EXPECT_EQ(content.array.bytes, file_bytes(dir + "/" + name + ".raw"));
    ++checked;
  }
  EXPECT_EQ(checked, 19);
}

TEST(IoNpy, NumpyReadsWhatWeWrite) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  write_npy(dir + "/f4.npy", NdArray::from_vector<float>({2, 3}, {0.5f, -1.f, 2.f, 3.5f, 1e30f, -0.f}));
  write_npy(dir + "/f8.npy", NdArray::from_vector<double>({4}, {1.0 / 3, -2.5, 1e-300, 7}));
  write_npy(dir + "/i8.npy", NdArray::from_vector<std::int64_t>({2, 1}, {-(std::int64_t{1} << 60), 42}));
  write_npy(dir + "/i4.npy", NdArray::from_vector<std::int32_t>({}, {-5}));
  write_npy(dir + "/u1.npy", NdArray::from_vector<std::uint8_t>({3}, {0, 128, 255}));
  NdArray flags = NdArray::zeros(DType::Bool, {2, 2});
  flags.bytes = {1, 0, 0, 1};
  write_npy(dir + "/bool.npy", flags);
  write_npy(dir + "/empty.npy", NdArray::zeros(DType::Float32, {0, 17, 2}));
  NdArray half = NdArray::zeros(DType::Float16, {2});
  half.bytes = {0x00, 0x3C, 0x00, 0xC0};  // 1.0, -2.0
  write_npy(dir + "/f2.npy", half);
  const std::string out = run_python(dir, R"PY(
import numpy as np
expect = {
    'f4': np.array([[0.5, -1, 2], [3.5, 1e30, -0.0]], dtype=np.float32),
    'f8': np.array([1 / 3, -2.5, 1e-300, 7]),
    'i8': np.array([[-2**60], [42]], dtype=np.int64),
    'i4': np.array(-5, dtype=np.int32),
    'u1': np.array([0, 128, 255], dtype=np.uint8),
    'bool': np.array([[True, False], [False, True]]),
    'empty': np.zeros((0, 17, 2), dtype=np.float32),
    'f2': np.array([1, -2], dtype=np.float16),
}
for name, want in expect.items():
    got = np.load(name + '.npy')
    assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), (name, got)
    with open(name + '.npy', 'rb') as f:
        major, minor = np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        assert (major, minor) == (1, 0) and f.tell() % 64 == 0, (name, f.tell())
print('ok', len(expect))
)PY");
  EXPECT_EQ(out, "ok 8\n");
}

TEST(IoNpy, RoundTripsEveryDtype) {
  const std::string dir = scratch_dir();
  for (DType dtype : {DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::UInt16, DType::Int32,
                      DType::UInt32, DType::Int64, DType::UInt64, DType::Float16, DType::Float32, DType::Float64}) {
    SCOPED_TRACE(dtype_name(dtype));
    NdArray array = NdArray::zeros(dtype, {3, 1, 4});
    for (std::size_t i = 0; i < array.bytes.size(); ++i) array.bytes[i] = static_cast<std::uint8_t>(i * 37 % 251);
    if (dtype == DType::Bool)
      for (auto& b : array.bytes) b &= 1;
    const std::string path = dir + "/" + dtype_name(dtype) + ".npy";
    write_npy(path, array);
    const NpyContent back = read_npy(path);
    EXPECT_EQ(back.array.dtype, dtype);
    EXPECT_EQ(back.array.shape, array.shape);
    EXPECT_EQ(back.array.bytes, array.bytes);
    const std::string serialized = serialize_npy(array);
    const NpyContent parsed =
        parse_npy(reinterpret_cast<const std::uint8_t*>(serialized.data()), serialized.size(), "memory");
    EXPECT_EQ(parsed.array.bytes, array.bytes);
  }
}

TEST(IoNpy, LongShapeUsesVersionTwoHeader) {
  // 25000 dimensions of size 1 make a header longer than version 1's 65535 bytes.
  NdArray array = NdArray::zeros(DType::Float32, std::vector<std::int64_t>(25000, 1));
  const std::string bytes = serialize_npy(array);
  EXPECT_EQ(bytes[6], 2);
  const NpyContent back = parse_npy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "long");
  EXPECT_EQ(back.array.shape.size(), 25000u);
  EXPECT_EQ(back.array.numel(), 1);
}

TEST(IoNpy, HeaderParsingIsTolerant) {
  const std::string payload(8, '\x01');
  // Keys in any order, double quotes, Python 2 long suffixes, no trailing comma.
  auto content = parse(make_npy("{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<i4\"}", payload));
  EXPECT_EQ(content.array.shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(content.array.dtype, DType::Int32);
  content = parse(make_npy("{'descr':'|u1','fortran_order':True,'shape':(2,4),}", payload));
  EXPECT_EQ(content.array.shape, (std::vector<std::int64_t>{2, 4}));
  EXPECT_EQ(content.array.bytes, std::vector<std::uint8_t>(8, 1));
  content = parse(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", payload, 3));
  EXPECT_TRUE(content.array.shape.empty());
}

TEST(IoNpy, BadInputsNameTheSource) {
  const std::string good_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string eight(8, '\0');
  EXPECT_INPUT_ERROR(parse({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}, "data/x.npy"), "data/x.npy", "magic");
  EXPECT_INPUT_ERROR(parse({}, "empty.npy"), "empty.npy", "not a .npy");
  auto wrong_version = make_npy(good_header, eight);
  wrong_version[6] = 4;
  EXPECT_INPUT_ERROR(parse(wrong_version, "v4.npy"), "v4.npy", "version 4.0");
  auto truncated_header = make_npy(good_header, eight);
  truncated_header.resize(40);
  EXPECT_INPUT_ERROR(parse(truncated_header, "cut.npy"), "cut.npy", "header declares");
  EXPECT_INPUT_ERROR(parse(make_npy(good_header, std::string(4, '\0')), "short.npy"), "short.npy", "needs 8 bytes",
                     "4 are present");
  EXPECT_INPUT_ERROR(parse(make_npy(good_header, std::string(12, '\0')), "long.npy"), "long.npy", "12 are present");
  // A 20-byte payload claiming a terabyte array: refused before any allocation.
  EXPECT_INPUT_ERROR(
      parse(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }", std::string(20, 'x')),
            "liar.npy"),
      "liar.npy", "8000000000000 bytes");
  EXPECT_INPUT_ERROR(
      parse(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", ""),
            "overflow.npy"),
      "overflow.npy", "too large");
  EXPECT_INPUT_ERROR(parse(make_npy("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", eight), "u.npy"),
                     "u.npy", "unsupported dtype '<U5'");
  EXPECT_INPUT_ERROR(
      parse(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", eight), "rec.npy"),
      "rec.npy", "structured");
  EXPECT_INPUT_ERROR(parse(make_npy("{'descr': '<f4', 'fortran_order': False}", eight), "keys.npy"), "keys.npy",
                     "'shape'");
  EXPECT_INPUT_ERROR(parse(make_npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", eight), "f.npy"),
                     "f.npy", "fortran_order");
  EXPECT_INPUT_ERROR(parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", eight), "neg.npy"),
                     "neg.npy", "non-negative");
  EXPECT_INPUT_ERROR(parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) @", eight), "junk.npy"),
                     "junk.npy", "header");
  EXPECT_INPUT_ERROR(parse(make_npy("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", eight), "deep.npy"), "deep.npy",
                     "nesting");
  // An object array whose payload is not a pickle.
  EXPECT_INPUT_ERROR(parse(make_npy("{'descr': '|O', 'fortran_order': False, 'shape': (), }", "garbage"),
                           "obj.npy"),
                     "obj.npy", "pickle");
  EXPECT_INPUT_ERROR(read_npy(scratch_dir() + "/missing.npy"), "missing.npy", "cannot open");
}

TEST(IoNpy, ObjectArraysComeBackAsValues) {
  auto dict = Value::dict({{Value::from_str("a"), Value::from_int(1)}});
  const std::string bytes = serialize_npy_object(*dict);
  const NpyContent content = parse_npy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "obj");
  ASSERT_TRUE(content.is_object());
  EXPECT_EQ(content.object->at("a", "obj").as_int("a"), 1);
}

TEST(IoNpy, ObjectArraysFromNumpy) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  run_python(dir, R"PY(
import numpy as np
one = np.empty((2, 2), dtype=object)
one[0, 0] = {'x': 1}; one[0, 1] = None; one[1, 0] = 'text'; one[1, 1] = np.arange(3)
np.save('grid.npy', one)
np.save('fortran.npy', np.asfortranarray(one))
np.save('dict.npy', np.array({'k': [1, 2]}, dtype=object))
)PY");
  for (const char* name : {"grid", "fortran"}) {
    SCOPED_TRACE(name);
    const NpyContent grid = read_npy(dir + "/" + name + ".npy");
    ASSERT_TRUE(grid.is_object());
    const auto& items = grid.object->as_sequence("grid");  // C order, whatever the memory order
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[0]->at("x", "grid").as_int("x"), 1);
    EXPECT_TRUE(items[1]->is_none());
    EXPECT_EQ(items[2]->as_str("grid"), "text");
    EXPECT_EQ(items[3]->as_array("grid").shape, (std::vector<std::int64_t>{3}));
  }
  const NpyContent dict = read_npy(dir + "/dict.npy");
  ASSERT_TRUE(dict.is_object());
  EXPECT_EQ(dict.object->at("k", "dict").as_sequence("k").size(), 2u);
}

TEST(IoNpy, AtomicWriteLeavesNoTemporaryFiles) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/a.npy";
  write_npy(path, NdArray::from_vector<float>({1}, {1.f}));
  write_npy(path, NdArray::from_vector<float>({2}, {2.f, 3.f}));  // replaces
  EXPECT_EQ(read_npy(path).array.numel(), 2);
  NdArray inconsistent = NdArray::zeros(DType::Float32, {4});
  inconsistent.bytes.resize(3);
  EXPECT_INPUT_ERROR(write_npy(path, inconsistent), "holds 3 bytes");
  EXPECT_EQ(read_npy(path).array.numel(), 2);  // old content intact
  EXPECT_INPUT_ERROR(write_npy(dir + "/no/such/dir/b.npy", NdArray::zeros(DType::Float32, {1})), "no/such/dir/b.npy");
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace poselift::io
