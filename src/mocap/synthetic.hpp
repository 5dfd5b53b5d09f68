// `poselift prepare synthetic`: procedural human motion generated in code, written in the
// same layout as `prepare mocap` (dataset_writer.hpp), for training without any capture data.
//
// Each subject gets its own body (Human3.6M S1's bone lengths x an overall scale for statures
// of about 1.55-1.85 m, each segment varied by a few percent, left/right symmetric); each
// action is a time-parameterised pose on a 17-joint kinematic skeleton (so every bone keeps
// its length exactly), with seeded variations of speed, amplitude, heading and path:
//   Walking, Running      gait cycles along an elliptic path around the capture area
//   Turning               stepping on the spot while turning
//   SittingDown, Sitting  sitting down on / standing up from a chair; seated gestures
//   Greeting              waving one arm above the head, slight bow
//   Bending               bending down to the floor and back up
//   Jumping               squat, jump (ballistic flight), land
//   Directions, Discussion, Waiting
//                         standing with pointing / conversational / idle movements
// A name with a trailing number ("Walking 1") is another take of the same kind. Feet stay on
// the floor (the lower ankle is kept 8 cm x body scale above z = 0) except in flight phases.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mocap/cameras.hpp"
#include "mocap/dataset_writer.hpp"
#include "mocap/random.hpp"

namespace poselift::mocap {

// Segment lengths in metres.
struct BodyProportions {
  double hip_width = 0.133;      // pelvis -> hip
  double thigh = 0.443, shin = 0.454;
  double lower_spine = 0.233;    // pelvis -> spine
  double upper_spine = 0.257;    // spine -> thorax
  double neck = 0.121;           // thorax -> neck/nose
  double head = 0.115;           // neck/nose -> head top
  double shoulder_width = 0.151;  // thorax -> shoulder
  double upper_arm = 0.279, forearm = 0.252;
  double ankle_height = 0.08;    // ankle joint above the sole
};

// Human3.6M S1-like proportions scaled by a random stature factor and per-segment variation.
BodyProportions random_body(Rng& rng);

// The action kinds, in the order listed in the header comment.
const std::vector<std::string>& synthetic_action_kinds();

// Generates one action (frames x 17 world positions, metres, z up). `action` is a kind,
// optionally followed by a take number ("Walking 1"). Throws InputError for unknown kinds.
std::vector<Vec3> generate_synthetic_action(const std::string& action, const BodyProportions& body, double seconds,
                                            double fps, std::uint64_t seed);

struct SyntheticOptions {
  std::string name = "synthetic";
  std::string output_dir;
  std::vector<std::string> train_subjects{"S1", "S5", "S6", "S7", "S8"};
  std::vector<std::string> test_subjects{"S9", "S11"};
  std::vector<std::string> actions{"Walking", "Walking 1", "Running", "Turning",
                                   "SittingDown", "Greeting", "Bending", "Jumping"};
  double seconds_per_action = 6.0;
  double fps = 50.0;
  std::uint64_t seed = 0;
  VirtualCameraOptions cameras;
  std::vector<NoisyVariant> noisy{NoisyVariant{}};
};

struct SyntheticReport {
  WrittenDataset files;
  std::vector<std::string> train_subjects, test_subjects;
  std::int64_t frames = 0;  // per camera
  int cameras_moved_back = 0;
  double seconds = 0.0;
};

// Generates the subjects and actions and writes data_3d_<name>.npz, data_2d_<name>_gt.npz and
// the noisy variants into options.output_dir.
SyntheticReport prepare_synthetic_dataset(const SyntheticOptions& options);

}  // namespace poselift::mocap
