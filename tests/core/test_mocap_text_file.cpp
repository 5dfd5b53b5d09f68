// gzip decoding of the zlib-based gzip reader, checked against the system's gzip tool.
#include <gtest/gtest.h>

#include <random>

#include "mocap/text_file.hpp"
#include "test_mocap_support.hpp"

namespace poselift::mocap {
namespace {

using mocap_test::expect_input_error;
using mocap_test::write_file;

std::string gzip_with_tool(const std::string& folder, const std::string& name, const std::string& content,
                           const std::string& flags = "") {
  const std::string path = folder + "/" + name;
  write_file(path, content);
  std::string output;
  if (test::run_command("gzip -f " + flags + " '" + path + "'", &output) != 0) return "";
  return path + ".gz";
}

std::string read_bytes(const std::string& path) { return test::read_text(path); }

std::string sample_text() {
  std::string text;
  std::mt19937 rng(7);
  for (int line = 0; line < 4000; ++line) {
    for (int v = 0; v < 30; ++v) text += std::to_string(static_cast<int>(rng() % 20000) - 10000) + ".25 ";
    text += "\n";
  }
  return text;
}

TEST(MocapTextFile, PlainFilesAreReturnedAsIs) {
  const std::string dir = test::temp_dir("mocap_text_plain");
  write_file(dir + "/a.bvh", "HIERARCHY\nROOT x\n");
  EXPECT_EQ(read_text_file(dir + "/a.bvh"), "HIERARCHY\nROOT x\n");
}

TEST(MocapTextFile, DecodesWhatGzipWritesAtEveryLevel) {
  const std::string dir = test::temp_dir("mocap_text_gzip");
  const std::string text = sample_text();
  for (const char* level : {"-1", "-6", "-9"}) {
    const std::string gz = gzip_with_tool(dir, std::string("sample") + level + ".txt", text, level);
    if (gz.empty()) GTEST_SKIP() << "gzip tool not available";
    EXPECT_EQ(read_text_file(gz), text) << level;
  }
}

TEST(MocapTextFile, DecodesStoredBlocksAndConcatenatedMembers) {
  const std::string dir = test::temp_dir("mocap_text_members");
  // Random bytes do not compress: gzip stores them in stored blocks.
  std::string noise(100000, '\0');
  std::mt19937 rng(3);
  for (char& c : noise) c = static_cast<char>(rng() & 0xFF);
  const std::string first = gzip_with_tool(dir, "noise.bin", noise);
  const std::string second = gzip_with_tool(dir, "text.txt", "second member\n");
  if (first.empty() || second.empty()) GTEST_SKIP() << "gzip tool not available";
  EXPECT_EQ(read_text_file(first), noise);
  const std::string joined = read_bytes(first) + read_bytes(second) + std::string(16, '\0');  // zero padding is tolerated
  EXPECT_EQ(gunzip(reinterpret_cast<const std::uint8_t*>(joined.data()), joined.size(), "joined.gz"),
            noise + "second member\n");
}

TEST(MocapTextFile, CorruptOrTruncatedDataIsAnInputError) {
  const std::string dir = test::temp_dir("mocap_text_corrupt");
  const std::string gz = gzip_with_tool(dir, "sample.txt", sample_text());
  if (gz.empty()) GTEST_SKIP() << "gzip tool not available";
  const std::string good = read_bytes(gz);
  auto decode = [](const std::string& bytes) {
    return [bytes] { gunzip(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "x.bvh.gz"); };
  };
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 6] ^= 0x55;
  expect_input_error(decode(bad_crc), {"x.bvh.gz", "CRC-32"});
  expect_input_error(decode(good.substr(0, good.size() / 2)), {"x.bvh.gz", "corrupt gzip data"});
  expect_input_error(decode(good.substr(0, 12)), {"x.bvh.gz"});
  std::string bad_method = good;
  bad_method[2] = 7;
  expect_input_error(decode(bad_method), {"compression method"});
  expect_input_error(decode(good + "garbage after the end"), {"unexpected bytes"});
  // Flipping bits inside the compressed body must never crash (errors or different text).
  for (std::size_t i = 20; i < good.size() - 8; i += good.size() / 50) {
    std::string flipped = good;
    flipped[i] ^= 0x10;
    try {
      decode(flipped)();
    } catch (const InputError&) {
    }
  }
}

TEST(MocapTextFile, DecompressionIsBoundedSoABombCannotAllocateGigabytes) {
  const std::string dir = test::temp_dir("mocap_text_bomb");
  const std::string gz = gzip_with_tool(dir, "zeros.txt", std::string(20u << 20, '0'), "-9");
  if (gz.empty()) GTEST_SKIP() << "gzip tool not available";
  EXPECT_LT(read_bytes(gz).size(), 100000u);  // ~20 KB on disk for 20 MB of text
  expect_input_error([&] { read_text_file(gz, 1u << 20); }, {gz, "exceeds the limit of 1048576 bytes"});
  EXPECT_EQ(read_text_file(gz).size(), 20u << 20);
}

TEST(MocapTextFile, MissingFileIsAnInputError) {
  expect_input_error([] { read_text_file("/nonexistent/walk.bvh.gz"); }, {"/nonexistent/walk.bvh.gz", "cannot open"});
}

}  // namespace
}  // namespace poselift::mocap
