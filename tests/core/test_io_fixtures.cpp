// The shared parity fixtures (made by the original Python code) load, and what they hold matches
// both known facts and NumPy's own reading of the same files.
#include <cmath>
#include <map>

#include "io/npy.hpp"
#include "test_io_support.hpp"

namespace poselift::io {
namespace {

using namespace testing;

#define REQUIRE_FIXTURES()                                                              \
  if (!fs::is_directory(shared_fixtures()))                                             \
  GTEST_SKIP() << "shared fixtures folder " << shared_fixtures() << " is absent"

std::vector<std::string> fixture_files(const std::string& extension) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(shared_fixtures()))
    if (entry.is_regular_file() && entry.path().extension() == extension) files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// One line per leaf: "path<TAB>description" plus the element sum of arrays, the same way the
// Python script below describes NumPy's view of the file.
struct Leaf {
  std::string description;
  double sum = 0.0;
};

void flatten(const Value& v, const std::string& path, std::map<std::string, Leaf>& out) {
  switch (v.kind) {
    case Value::Kind::Dict:
      for (const auto& [key, value] : v.entries) {
        const std::string name = key->kind == Value::Kind::Str ? key->text : key->repr();
        flatten(*value, path + "/" + name, out);
      }
      break;
    case Value::Kind::List:
    case Value::Kind::Tuple:
      for (std::size_t i = 0; i < v.items.size(); ++i) flatten(*v.items[i], path + "/" + std::to_string(i), out);
      break;
    case Value::Kind::Array: {
      Leaf leaf;
      leaf.description = "array " + dtype_name(v.array->dtype) + " " + v.array->shape_string();
      for (double x : v.array->to_doubles()) leaf.sum += x;
      out[path] = leaf;
      break;
    }
    case Value::Kind::Int: out[path] = Leaf{"int " + std::to_string(v.integer), 0.0}; break;
    case Value::Kind::Str: out[path] = Leaf{"str " + v.text, 0.0}; break;
    default: out[path] = Leaf{std::string("other ") + Value::kind_name(v.kind), 0.0}; break;
  }
}

TEST(IoFixtures, EveryNpzAndNpyLoads) {
  REQUIRE_FIXTURES();
  const auto archives = fixture_files(".npz");
  ASSERT_FALSE(archives.empty()) << "no .npz under " << shared_fixtures();
  for (const auto& path : archives) {
    SCOPED_TRACE(path);
    const NpzFile npz = read_npz(path);
    EXPECT_FALSE(npz.names.empty());
    for (const auto& name : npz.names) {
      const NpyContent& member = npz.at(name, path);
      EXPECT_TRUE(member.is_object()) << name;  // the dataset files hold pickled dicts
    }
  }
  for (const auto& path : fixture_files(".npy")) {
    SCOPED_TRACE(path);
    const NpyContent content = read_npy(path);
    EXPECT_FALSE(content.is_object());
    EXPECT_EQ(content.array.dtype, DType::Float32);
    EXPECT_EQ(content.array.bytes.size(), static_cast<std::size_t>(content.array.numel()) * 4);
  }
}

TEST(IoFixtures, PoseformerF81KnownFacts) {
  REQUIRE_FIXTURES();
  const std::string data = shared_fixtures() + "/poseformer-f81/data/";
  const NpzFile gt = read_npz(data + "data_2d_h36m_gt.npz");
  EXPECT_EQ(gt.names, (std::vector<std::string>{"positions_2d", "metadata"}));

  const Value& positions = *gt.at("positions_2d", "gt").object;
  EXPECT_EQ(positions.str_keys("positions_2d"), (std::vector<std::string>{"S1", "S5", "S9", "S11"}));
  const Value& s1 = positions.at("S1", "positions_2d");
  EXPECT_EQ(s1.str_keys("S1").front(), "Walking");  // insertion order preserved
  const auto& cameras = s1.at("Walking", "S1").as_sequence("S1/Walking");
  ASSERT_EQ(cameras.size(), 4u);
  for (const auto& camera : cameras) {
    const NdArray& array = camera->as_array("camera");
    EXPECT_EQ(array.dtype, DType::Float32);
    ASSERT_EQ(array.shape.size(), 3u);
    EXPECT_EQ(array.shape[0], 260);
    EXPECT_EQ(array.shape[1], 17);
    EXPECT_EQ(array.shape[2], 2);
  }
  EXPECT_FLOAT_EQ(cameras[0]->as_array("camera").data<float>()[0], 340.21347f);
  EXPECT_FLOAT_EQ(cameras[0]->as_array("camera").data<float>()[1], 437.3856f);

  const Value& metadata = *gt.at("metadata", "gt").object;
  EXPECT_EQ(metadata.at("num_joints", "metadata").as_int("num_joints"), 17);
  const auto& symmetry = metadata.at("keypoints_symmetry", "metadata").as_sequence("keypoints_symmetry");
  ASSERT_EQ(symmetry.size(), 2u);
  std::vector<std::vector<std::int64_t>> groups;
  for (const auto& group : symmetry) {
    groups.emplace_back();
    for (const auto& joint : group->as_sequence("group")) groups.back().push_back(joint->as_int("joint"));
  }
  EXPECT_EQ(groups, (std::vector<std::vector<std::int64_t>>{{4, 5, 6, 11, 12, 13}, {1, 2, 3, 14, 15, 16}}));

  const NpzFile noisy = read_npz(data + "data_2d_h36m_noisy.npz");
  EXPECT_EQ(noisy.at("metadata", "noisy").object->at("layout_name", "metadata").as_str("layout_name"), "h36m");

  const NpzFile three_d = read_npz(data + "data_3d_h36m.npz");
  const NdArray& walking = three_d.at("positions_3d", "3d").object->at("S1", "3d").at("Walking", "S1").as_array("w");
  EXPECT_EQ(walking.shape, (std::vector<std::int64_t>{260, 32, 3}));

  const NpyContent input = read_npy(shared_fixtures() + "/poseformer-f81/forward_input.npy");
  EXPECT_EQ(input.array.shape, (std::vector<std::int64_t>{5, 81, 17, 2}));
  EXPECT_EQ(input.array.dtype, DType::Float32);
}

TEST(IoFixtures, EveryArrayMatchesNumpy) {
  REQUIRE_FIXTURES();
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  // NumPy describes every leaf of every fixture; we must see exactly the same.
  const std::string listing = run_python(dir, R"PY(
import glob, numpy as np
def walk(v, path, out):
    if isinstance(v, dict):
        for k, x in v.items(): walk(x, path + '/' + str(k), out)
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v): walk(x, path + '/' + str(i), out)
    elif isinstance(v, np.ndarray) and v.dtype != object:
        out.append('%s\tarray %s (%s)\t%r' % (path, v.dtype, ', '.join(map(str, v.shape)) + (',' if v.ndim == 1 else ''),
                                             float(v.astype(np.float64).sum(dtype=np.float64))))
    elif isinstance(v, np.ndarray):
        walk(v.item() if v.ndim == 0 else list(v), path, out)
    elif isinstance(v, (int, np.integer)):  # numpy scalars are pickled as such
        out.append('%s\tint %d\t0.0' % (path, v))
    elif isinstance(v, str):
        out.append('%s\tstr %s\t0.0' % (path, v))
    else:
        out.append('%s\tother\t0.0' % path)
lines = []
for f in sorted(glob.glob(FIXTURES + '/**/*.npz', recursive=True)):
    z = np.load(f, allow_pickle=True)
    for name in z.files:
        walk(z[name], f + ':' + name, lines)
for f in sorted(glob.glob(FIXTURES + '/**/*.npy', recursive=True)):
    walk(np.load(f), f, lines)
print('\n'.join(lines))
)PY");
  ASSERT_FALSE(::testing::Test::HasFailure());

  std::map<std::string, Leaf> expected;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    const auto tab1 = line.find('\t');
    const auto tab2 = line.rfind('\t');
    ASSERT_NE(tab1, tab2) << line;
    expected[line.substr(0, tab1)] = Leaf{line.substr(tab1 + 1, tab2 - tab1 - 1), std::stod(line.substr(tab2 + 1))};
  }
  ASSERT_GT(expected.size(), 50u);

  std::map<std::string, Leaf> actual;
  for (const auto& path : fixture_files(".npz")) {
    const NpzFile npz = read_npz(path);
    for (const auto& name : npz.names) {
      const NpyContent& member = npz.at(name, path);
      if (member.is_object()) flatten(*member.object, path + ":" + name, actual);
      else flatten(*Value::from_array(member.array), path + ":" + name, actual);
    }
  }
  for (const auto& path : fixture_files(".npy")) flatten(*Value::from_array(read_npy(path).array), path, actual);

  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [path, leaf] : expected) {
    auto found = actual.find(path);
    ASSERT_NE(found, actual.end()) << "missing " << path;
    EXPECT_EQ(found->second.description, leaf.description) << path;
    EXPECT_NEAR(found->second.sum, leaf.sum, 1e-9 * std::max(1.0, std::fabs(leaf.sum))) << path;
  }
}

}  // namespace
}  // namespace poselift::io
