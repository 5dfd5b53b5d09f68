// Helpers shared by the motion-capture tests: locating the shared mocap files, writing small
// files, checking error messages, and a procedural BVH in the CMU MotionBuilder layout so the
// dataset tests also run without the shared folder.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "io/error.hpp"
#include "test_support.hpp"

namespace poselift::mocap_test {

// <shared>/data/mocap, or "" when the shared folder (or that subfolder) is absent.
inline std::string mocap_dir() {
  const std::string dir = test::shared_path("data/mocap");
  return !dir.empty() && std::filesystem::is_directory(dir) ? dir : std::string();
}

#define POSELIFT_REQUIRE_MOCAP(var)                                                                  \
  const std::string var = ::poselift::mocap_test::mocap_dir();                                      \
  if (var.empty()) GTEST_SKIP() << "../shared/data/mocap is absent: real motion-capture test skipped"

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Runs `action`, expecting an InputError whose message contains every fragment.
inline void expect_input_error(const std::function<void()>& action, const std::vector<std::string>& fragments) {
  try {
    action();
    ADD_FAILURE() << "expected an InputError mentioning '" << (fragments.empty() ? "" : fragments.front()) << "'";
  } catch (const InputError& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos) << "message: " << message << "\nmissing: " << fragment;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "messages are one line: " << message;
  }
}

// A CMU MotionBuilder-style BVH (units of 1/0.45 inch, 120 fps) of someone walking forward
// along +z at `speed` m/s for `frames` frames, arms down, legs and arms swinging.
inline std::string walking_bvh(int frames, double speed = 1.0, double phase = 0.0) {
  std::ostringstream text;
  text << "HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0 0\n  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation\n";
  auto leg = [&](const char* side, double x) {
    text << "  JOINT " << side << "UpLeg\n  {\n    OFFSET " << x << " -1.0 0\n    CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "    JOINT " << side << "Leg\n    {\n      OFFSET 0 -7.4 0\n      CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "      JOINT " << side << "Foot\n      {\n        OFFSET 0 -7.6 0\n        CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "        End Site\n        {\n          OFFSET 0 -1.2 2.4\n        }\n      }\n    }\n  }\n";
  };
  leg("Left", 1.5);
  leg("Right", -1.5);
  text << "  JOINT Spine\n  {\n    OFFSET 0 2.0 0\n    CHANNELS 3 Zrotation Yrotation Xrotation\n"
       << "    JOINT Spine1\n    {\n      OFFSET 0 2.0 0\n      CHANNELS 3 Zrotation Yrotation Xrotation\n"
       << "      JOINT Neck\n      {\n        OFFSET 0 0.2 0\n        CHANNELS 3 Zrotation Yrotation Xrotation\n"
       << "        JOINT Neck1\n        {\n          OFFSET 0 1.7 0.1\n          CHANNELS 3 Zrotation Yrotation Xrotation\n"
       << "          JOINT Head\n          {\n            OFFSET 0 1.7 0\n            CHANNELS 3 Zrotation Yrotation Xrotation\n"
       << "            End Site\n            {\n              OFFSET 0 1.8 0\n            }\n          }\n        }\n      }\n";
  auto arm = [&](const char* side, double x) {
    text << "      JOINT " << side << "Shoulder\n      {\n        OFFSET 0 0 0\n        CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "        JOINT " << side << "Arm\n        {\n          OFFSET " << x << " 0.3 0\n          CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "          JOINT " << side << "ForeArm\n          {\n            OFFSET " << (x > 0 ? 5.0 : -5.0) << " 0 0\n"
         << "            CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "            JOINT " << side << "Hand\n            {\n              OFFSET " << (x > 0 ? 4.4 : -4.4) << " 0 0\n"
         << "              CHANNELS 3 Zrotation Yrotation Xrotation\n"
         << "              End Site\n              {\n                OFFSET " << (x > 0 ? 1.5 : -1.5) << " 0 0\n              }\n"
         << "            }\n          }\n        }\n      }\n";
  };
  arm("Left", 3.0);
  arm("Right", -3.0);
  text << "    }\n  }\n}\nMOTION\nFrames: " << frames << "\nFrame Time: .0083333\n";
  const double units_per_metre = 0.45 / 0.0254;
  for (int f = 0; f < frames; ++f) {
    const double t = f / 120.0;
    const double swing = 25.0 * std::sin(2.0 * 3.14159265358979 * 0.9 * t + phase);
    const double knee = 20.0 + 20.0 * std::sin(2.0 * 3.14159265358979 * 0.9 * t + phase + 1.0);
    // Root, legs (left, right: UpLeg, Leg, Foot), Spine, Spine1, Neck, Neck1, Head, arms.
    text << 0.0 << ' ' << 17.2 << ' ' << speed * t * units_per_metre << " 0 0 0";
    text << " 0 0 " << -swing << " 0 0 " << knee << " 0 0 0";
    text << " 0 0 " << swing << " 0 0 " << 40.0 - knee << " 0 0 0";
    text << " 0 0 3 0 0 " << 2.0 + 0.1 * swing << " 0 0 0 0 0 5 0 0 -3";  // Spine1 sways
    // Arms: left hangs by rotating -80 deg about z, right +80 deg; swing opposite to the legs.
    text << " 0 0 0 " << -80.0 << " 0 " << swing * 0.5 << " 0 0 -15 0 0 0";
    text << " 0 0 0 " << 80.0 << " 0 " << -swing * 0.5 << " 0 0 -15 0 0 0";
    text << '\n';
  }
  return text.str();
}

}  // namespace poselift::mocap_test
