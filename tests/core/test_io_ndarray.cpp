// NdArray basics, dtype codes, conversions and half precision (checked against NumPy).
#include <cmath>
#include <cstring>
#include <limits>

#include "io/ndarray.hpp"
#include "io/pyvalue.hpp"
#include "test_io_support.hpp"

namespace poselift::io {
namespace {

using namespace testing;

TEST(IoNdArray, ShapesAndSizes) {
  NdArray a = NdArray::zeros(DType::Float32, {5, 81, 17, 2});
  EXPECT_EQ(a.numel(), 5 * 81 * 17 * 2);
  EXPECT_EQ(a.bytes.size(), static_cast<std::size_t>(a.numel()) * 4);
  EXPECT_EQ(a.shape_string(), "(5, 81, 17, 2)");
  EXPECT_EQ(NdArray::zeros(DType::Int8, {3}).shape_string(), "(3,)");
  NdArray scalar = NdArray::zeros(DType::Float64, {});
  EXPECT_EQ(scalar.shape_string(), "()");
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(NdArray::zeros(DType::Int64, {0, 4}).bytes.size(), 0u);
  EXPECT_THROW(NdArray::zeros(DType::Float32, {-1}), InputError);
  EXPECT_THROW(NdArray::zeros(DType::Float64, {1ll << 40, 1ll << 40}), InputError);
  EXPECT_THROW(NdArray::from_vector<float>({2, 2}, {1.f, 2.f}), InputError);
}

TEST(IoNdArray, TypedAccessChecksTheDtype) {
  NdArray a = NdArray::from_vector<std::int32_t>({2}, {7, -8});
  EXPECT_EQ(a.data<std::int32_t>()[1], -8);
  try {
    a.data<float>();
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("float32"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("int32"), std::string::npos) << error.what();
  }
}

TEST(IoNdArray, Conversions) {
  const NdArray floats = NdArray::from_vector<double>(
      {6}, {1.9, -1.9, std::nan(""), 1e300, -1e300, 300.5});
  const NdArray ints = floats.astype(DType::Int32);
  const std::int32_t* i = ints.data<std::int32_t>();
  EXPECT_EQ(i[0], 1);
  EXPECT_EQ(i[1], -1);
  EXPECT_EQ(i[2], 0);  // NaN: no undefined behaviour
  EXPECT_EQ(i[3], std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(i[4], std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(i[5], 300);
  const NdArray bytes = floats.astype(DType::UInt8);
  EXPECT_EQ(bytes.data<std::uint8_t>()[5], 255);  // saturated
  const NdArray truth = floats.astype(DType::Bool);
  EXPECT_EQ(std::vector<std::uint8_t>(truth.bytes.begin(), truth.bytes.end()),
            (std::vector<std::uint8_t>{1, 1, 1, 1, 1, 1}));
  const NdArray wide = NdArray::from_vector<std::int64_t>({2}, {(1ll << 53) + 1, -3}).astype(DType::UInt64);
  EXPECT_EQ(wide.data<std::uint64_t>()[0], (1ull << 53) + 1);  // integers never pass through double
  EXPECT_EQ(NdArray::from_vector<std::uint8_t>({3}, {0, 2, 255}).to_doubles(), (std::vector<double>{0, 2, 255}));
  EXPECT_EQ(NdArray::from_vector<std::int16_t>({2}, {-5, 9}).to_floats(), (std::vector<float>{-5.f, 9.f}));
  EXPECT_EQ(floats.astype(DType::Float64).bytes, floats.bytes);
}

TEST(IoNdArray, NumpyTypeCodes) {
  auto code = parse_numpy_type_code("<f4");
  ASSERT_TRUE(code);
  EXPECT_EQ(code->dtype, DType::Float32);
  EXPECT_FALSE(code->big_endian);
  code = parse_numpy_type_code(">i8");
  ASSERT_TRUE(code);
  EXPECT_EQ(code->dtype, DType::Int64);
  EXPECT_TRUE(code->big_endian);
  code = parse_numpy_type_code(">u1");  // byte order of single bytes is irrelevant
  ASSERT_TRUE(code);
  EXPECT_FALSE(code->big_endian);
  EXPECT_TRUE(parse_numpy_type_code("|O")->is_object);
  EXPECT_TRUE(parse_numpy_type_code("O8")->is_object);
  EXPECT_EQ(parse_numpy_type_code("|b1")->dtype, DType::Bool);
  EXPECT_EQ(parse_numpy_type_code("float64")->dtype, DType::Float64);
  EXPECT_FALSE(parse_numpy_type_code("<U5"));
  EXPECT_FALSE(parse_numpy_type_code("<c16"));
  EXPECT_FALSE(parse_numpy_type_code(""));
  for (DType d : {DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::UInt16, DType::Int32, DType::UInt32,
                  DType::Int64, DType::UInt64, DType::Float16, DType::Float32, DType::Float64})
    EXPECT_EQ(parse_numpy_type_code(numpy_type_code(d))->dtype, d) << dtype_name(d);
}

TEST(IoNdArray, RawBytesInFortranOrderAndBigEndian) {
  // 2x3 int16 matrix [[1,2,3],[4,5,6]] stored column-major, big-endian.
  const std::uint8_t fortran_be[] = {0, 1, 0, 4, 0, 2, 0, 5, 0, 3, 0, 6};
  const NdArray a = array_from_raw_bytes(DType::Int16, {2, 3}, fortran_be, sizeof(fortran_be), true, true, "t");
  const std::int16_t* v = a.data<std::int16_t>();
  EXPECT_EQ(std::vector<std::int16_t>(v, v + 6), (std::vector<std::int16_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(array_from_raw_bytes(DType::Int16, {2, 3}, fortran_be, 11, false, false, "t"), InputError);
}

TEST(IoNdArray, HalfPrecisionMatchesNumpy) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  run_python(dir, R"PY(
import numpy as np
halves = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
with open('half_to_float.bin', 'wb') as f: f.write(halves.astype(np.float32).tobytes())
rng = np.random.default_rng(3)
samples = np.concatenate([rng.standard_normal(20000).astype(np.float32) * 10.0 ** rng.integers(-9, 6, 20000),
                          np.array([0.0, -0.0, 65504, 65520, 65519.99, 1e9, -1e9, 5.96e-8, 2.98e-8, 2.99e-8,
                                    np.inf, -np.inf, 6.1e-5, 6.09e-5], dtype=np.float32)]).astype(np.float32)
with open('samples.bin', 'wb') as f: f.write(samples.tobytes())
with open('float_to_half.bin', 'wb') as f: f.write(samples.astype(np.float16).tobytes())
)PY");
  const auto expected_floats = file_bytes(dir + "/half_to_float.bin");
  ASSERT_EQ(expected_floats.size(), 65536u * 4);
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    float expected;
    std::memcpy(&expected, expected_floats.data() + 4 * bits, 4);
    const float actual = half_to_float(static_cast<std::uint16_t>(bits));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(actual)) << bits;
    } else {
      ASSERT_EQ(std::memcmp(&actual, &expected, 4), 0) << "half bits " << bits << ": " << actual << " vs " << expected;
    }
  }
  const auto samples = file_bytes(dir + "/samples.bin");
  const auto halves = file_bytes(dir + "/float_to_half.bin");
  ASSERT_EQ(samples.size(), halves.size() * 2);
  for (std::size_t i = 0; i < halves.size() / 2; ++i) {
    float sample;
    std::uint16_t expected;
    std::memcpy(&sample, samples.data() + 4 * i, 4);
    std::memcpy(&expected, halves.data() + 2 * i, 2);
    ASSERT_EQ(float_to_half(sample), expected) << "float " << sample;
  }
}

TEST(IoPyValue, QueriesNameTheValue) {
  auto dict = Value::dict({{Value::from_str("n"), Value::from_int(3)},
                           {Value::from_int(5), Value::from_str("five")},
                           {Value::from_str("x"), Value::from_float(2.5)}});
  EXPECT_EQ(dict->at("n", "meta").as_int("n"), 3);
  EXPECT_DOUBLE_EQ(dict->at("n", "meta").as_float("n"), 3.0);
  EXPECT_EQ(dict->str_keys("meta"), (std::vector<std::string>{"n", "x"}));
  EXPECT_EQ(dict->find("absent", "meta"), nullptr);
  EXPECT_INPUT_ERROR(dict->at("absent", "positions_2d['S1']"), "positions_2d['S1']", "missing key 'absent'");
  EXPECT_INPUT_ERROR(dict->at("x", "meta").as_int("meta['x']"), "meta['x']", "expected int", "found float");
  EXPECT_INPUT_ERROR(Value::from_int(1)->find("a", "thing"), "thing", "expected dict");
  EXPECT_INPUT_ERROR(Value::none()->as_array("arr"), "arr", "expected array", "found None");
  EXPECT_INPUT_ERROR(Value::make_object("m", "C")->as_str("s"), "found object m.C");
  auto ordered = Value::ordered_dict({{Value::from_str("k"), Value::from_int(1)}});
  EXPECT_EQ(ordered->at("k", "od").as_int("k"), 1);
  EXPECT_TRUE(ordered->is_object_of("collections", "OrderedDict"));
}

TEST(IoPyValue, ReprIsShortAndPythonLike) {
  auto value = Value::dict({{Value::from_str("a"), Value::list({Value::from_int(1), Value::from_float(2.0),
                                                                Value::none(), Value::from_bool(true)})},
                            {Value::from_str("t"), Value::tuple({Value::from_str("x")})},
                            {Value::from_str("b"), Value::from_bytes(std::string("\x00\xff", 2))},
                            {Value::from_str("arr"), Value::from_array(NdArray::zeros(DType::Float32, {2, 3}))}});
  EXPECT_EQ(value->repr(200),
            "{'a': [1, 2.0, None, True], 't': ('x',), 'b': b'\\x00\\xff', 'arr': array(float32, (2, 3))}");
  const std::string truncated = value->repr(20);
  EXPECT_EQ(truncated.size(), 20u);
  EXPECT_EQ(truncated.substr(17), "...");
  // Deep nesting renders without recursing without bound.
  ValuePtr deep = Value::none();
  for (int i = 0; i < 100000; ++i) deep = Value::list({deep});
  EXPECT_LE(deep->repr(1000).size(), 1000u);
}

TEST(IoPyValue, DeepStructuresAreDestroyedWithoutRecursion) {
  // A million nested lists and objects: a recursive destructor would overflow the stack.
  ValuePtr deep = Value::none();
  for (int i = 0; i < 1000000; ++i) {
    if (i % 2) deep = Value::list({deep});
    else deep = Value::make_object("m", "C", {deep});
  }
  deep.reset();
  SUCCEED();
}

}  // namespace
}  // namespace poselift::io
