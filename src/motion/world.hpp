// A lifted track put on the ground: the world frame, foot contacts, and contact locking.
//
// World frame: y up, the floor at y = 0, x to the camera's right and z towards the camera
// (both level), the origin on the floor below the first frame's root; metres. A figure facing
// the camera faces +z. world = R (camera - origin), R's rows the world axes in camera space.
//
// The up direction, over the whole sequence (not per frame):
//   body:  the mean direction from the ankles' midpoint to the thorax, when within 45 degrees
//          of the camera's up (-y); else the camera's up (a level camera);
//   feet:  the normal of the plane through the ankles while in contact, when those points
//          spread over at least 0.3 m in two directions and the plane is within 25 degrees of
//          the body's up (people who walk around); refined once with its own contacts.
// The floor lies kAnkleHeight below the ankles' height while in contact (the median height of
// the lower ankle over the frames it moves slowly).
//
// Contacts, per ankle and frame: within contact_height of its floor level and slower than
// contact_speed (horizontal); runs shorter than 0.08 s are dropped, gaps shorter than 0.05 s
// filled. Feet that the lifted motion makes slide faster than contact_speed while planted
// (running, measured in tests/torch/test_infer.cpp) are not found, and so not locked.
//
// Locking (with a trajectory): each contact run gets one anchor (where the ankle is on average
// during it); the root moves horizontally so the planted ankles stay on their anchors (the
// trajectory refined: a single planted foot is met exactly, two are met on average), then each
// planted leg is bent by two-bone inverse kinematics (thigh and shin lengths kept, the knee in
// its own plane) to put the ankle on its anchor at floor level. The locks ease in and out over
// 0.1 s before and after each run. Finally no ankle is left below its floor level.
// Without a trajectory the root stays where the lifter put it: the ground and contacts are
// found, nothing is locked.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace poselift::motion {

// How high the ankle joint (Human3.6M's "foot") sits above the sole (metres, an adult average).
constexpr double kAnkleHeight = 0.08;

struct GroundOptions {
  bool ground = true;          // false: a level camera, the lower ankle's median on the floor, no contacts
  bool lock_contacts = true;   // with ground: lock planted feet (needs a trajectory)
  double contact_height = 0.05;  // metres above the ankle's floor level
  double contact_speed = 0.4;    // metres per second, horizontal
};

// InputError naming --contact-height / --contact-speed for values out of range.
void validate_ground(const GroundOptions& options);

struct WorldMotion {
  std::vector<float> world;                 // T * 17 * 3, world frame
  std::vector<std::uint8_t> contacts;       // T * 2: right ankle, left ankle (1: planted); empty without ground
  std::array<double, 12> world_from_camera{};  // 3x4 row-major [R | t]: world = R camera + t
  // Camera space again after locking: root-relative positions (T * 17 * 3) and the root's
  // position (T * 3; empty when the input had no trajectory).
  std::vector<float> positions, trajectory;
  std::string up_source;                    // "feet", "body", "camera" or "level" (ground off)
  double camera_tilt_degrees = 0.0;         // between the up direction and the camera's (-y)
};

// `positions`: T * 17 * 3 root-relative camera-space metres (x right, y down, z forward);
// `trajectory`: T * 3 camera-space root positions, or empty.
WorldMotion ground_motion(const std::vector<float>& positions, const std::vector<float>& trajectory, std::int64_t frames,
                          double fps, const GroundOptions& options);

// Foot skating: the mean horizontal distance (metres) an ankle travels between consecutive
// frames that both have it planted in `contacts` (T * 2), over both ankles of `world`
// (T * 17 * 3, y up). 0 when no such pair exists.
double foot_skating(const std::vector<float>& world, const std::vector<std::uint8_t>& contacts, std::int64_t frames);

// Contacts found in world-frame motion (T * 17 * 3, y up, floor at 0) by the rule above.
std::vector<std::uint8_t> detect_contacts(const std::vector<float>& world, std::int64_t frames, double fps,
                                          const GroundOptions& options);

}  // namespace poselift::motion
