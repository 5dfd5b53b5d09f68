#include "mocap/synthetic.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>

#include "io/error.hpp"
#include "mocap/mapping.hpp"

namespace poselift::mocap {

namespace {

// ---- a 17-joint kinematic body ----
// Body frame: x forward, y to the body's left, z up. Angles in degrees; flexion is a forward
// swing (of a limb, or a forward bend of the trunk), abduction moves a limb away from the
// midline, knee/elbow flexion bends the joint the natural way.

struct LegAngles {
  double hip_flex = 0.0, hip_abd = 3.0, hip_rot = 0.0, knee = 3.0;
};
struct ArmAngles {
  double flex = 0.0, abd = 8.0, twist = 0.0, elbow = 12.0;
};
struct BodyPose {
  double heading = 0.0;  // about z; 0 = facing +x
  double lean = 0.0;     // pelvis tilted forward (the whole trunk with it; hips flex relative to it)
  double roll = 0.0;     // pelvis raised on the left side
  double lumbar_flex = 0.0, lumbar_bend = 0.0, lumbar_twist = 0.0;
  double chest_flex = 0.0;
  double neck_flex = 0.0, neck_turn = 0.0, neck_tilt = 0.0;
  LegAngles right_leg, left_leg;
  ArmAngles right_arm, left_arm;
};

Quat rx(double degrees) { return axis_rotation(0, degrees); }
Quat ry(double degrees) { return axis_rotation(1, degrees); }
Quat rz(double degrees) { return axis_rotation(2, degrees); }
double radians(double degrees) { return degrees * kPi / 180.0; }

// Joint positions with the pelvis at the origin. Every bone is a fixed vector in the frame of
// the segment it belongs to, so bone lengths are exact.
std::array<Vec3, h36m::kJoints> pose_joints(const BodyProportions& body, const BodyPose& pose) {
  std::array<Vec3, h36m::kJoints> joint{};
  const Quat pelvis = rz(pose.heading) * ry(pose.lean) * rx(pose.roll);
  auto leg = [&](const LegAngles& angles, double side, int hip, int knee, int ankle) {
    joint[static_cast<std::size_t>(hip)] = rotate(pelvis, Vec3{0.0, side * body.hip_width, -0.01});
    const Quat thigh = pelvis * ry(-angles.hip_flex) * rx(side * angles.hip_abd) * rz(side * angles.hip_rot);
    joint[static_cast<std::size_t>(knee)] = joint[static_cast<std::size_t>(hip)] + rotate(thigh, Vec3{0.0, 0.0, -body.thigh});
    const Quat shin = thigh * ry(angles.knee);
    joint[static_cast<std::size_t>(ankle)] = joint[static_cast<std::size_t>(knee)] + rotate(shin, Vec3{0.0, 0.0, -body.shin});
  };
  leg(pose.right_leg, -1.0, 1, 2, 3);
  leg(pose.left_leg, 1.0, 4, 5, 6);

  const Quat lumbar = pelvis * rz(pose.lumbar_twist) * ry(pose.lumbar_flex) * rx(pose.lumbar_bend);
  joint[7] = rotate(lumbar, Vec3{0.0, 0.0, body.lower_spine});
  const Quat chest = lumbar * ry(pose.chest_flex);
  joint[8] = joint[7] + rotate(chest, Vec3{0.0, 0.0, body.upper_spine});
  const Quat neck = chest * rz(pose.neck_turn) * ry(pose.neck_flex) * rx(pose.neck_tilt);
  // Human3.6M's neck/nose joint sits forward of the neck; the head top a little behind it.
  joint[9] = joint[8] + rotate(neck, Vec3{body.neck * std::sin(radians(20)), 0.0, body.neck * std::cos(radians(20))});
  joint[10] = joint[9] + rotate(neck, Vec3{-body.head * std::sin(radians(10)), 0.0, body.head * std::cos(radians(10))});

  auto arm = [&](const ArmAngles& angles, double side, int shoulder, int elbow, int wrist) {
    joint[static_cast<std::size_t>(shoulder)] =
        joint[8] + rotate(chest, Vec3{0.0, side * body.shoulder_width * std::cos(radians(8)),
                                      -body.shoulder_width * std::sin(radians(8))});
    const Quat upper = chest * ry(-angles.flex) * rx(side * angles.abd) * rz(side * angles.twist);
    joint[static_cast<std::size_t>(elbow)] =
        joint[static_cast<std::size_t>(shoulder)] + rotate(upper, Vec3{0.0, 0.0, -body.upper_arm});
    const Quat fore = upper * ry(-angles.elbow);
    joint[static_cast<std::size_t>(wrist)] =
        joint[static_cast<std::size_t>(elbow)] + rotate(fore, Vec3{0.0, 0.0, -body.forearm});
  };
  arm(pose.left_arm, 1.0, 11, 12, 13);
  arm(pose.right_arm, -1.0, 14, 15, 16);
  return joint;
}

// ---- smooth time functions ----

double smoothstep(double edge0, double edge1, double x) {
  const double t = std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

// 0 outside [start, end], rising to 1 over `ramp` seconds and falling back.
double envelope(double t, double start, double end, double ramp) {
  return smoothstep(start, start + ramp, t) * (1.0 - smoothstep(end - ramp, end, t));
}

// A smooth random signal in about [-1, 1]: three sinusoids of random frequency and phase.
class Wobble {
 public:
  Wobble() = default;
  Wobble(Rng& rng, double low_hz, double high_hz) {
    for (auto& term : terms_) term = {rng.uniform(low_hz, high_hz), rng.uniform(0.0, 2.0 * kPi), rng.uniform(0.5, 1.0)};
    for (const auto& term : terms_) sum_ += term[2];
  }
  double operator()(double t) const {
    double value = 0.0;
    for (const auto& term : terms_) value += term[2] * std::sin(2.0 * kPi * term[0] * t + term[1]);
    return sum_ > 0.0 ? value / sum_ : 0.0;
  }

 private:
  std::array<std::array<double, 3>, 3> terms_{};
  double sum_ = 0.0;
};

// One frame of an action: the pose, where the body is, and how it meets the floor.
struct Frame {
  BodyPose pose;
  Vec3 root;            // pelvis x, y (z is set by the floor contact)
  double flight = 0.0;  // metres above floor contact (jumps, running)
  bool feet_anchored = false;  // in-place actions: x, y move the feet midpoint, not the pelvis
};
using ActionFunction = std::function<Frame(double)>;

// Arms hanging with a little life in them.
void relaxed_arms(BodyPose& pose, const Wobble& wobble, double t) {
  pose.right_arm = {4.0 + 4.0 * wobble(t), 8.0, 0.0, 14.0 + 6.0 * wobble(t + 3.0)};
  pose.left_arm = {4.0 - 4.0 * wobble(t + 1.0), 8.0, 0.0, 14.0 + 6.0 * wobble(t + 5.0)};
}

// Gait along an ellipse around the capture area centre. `run` switches to running style.
ActionFunction gait(Rng& rng, bool run) {
  const double speed = run ? rng.uniform(2.2, 3.2) : rng.uniform(0.9, 1.5);
  const double cadence = run ? rng.uniform(2.6, 3.0) : 1.0 + 0.75 * speed;  // steps per second
  const double amplitude = run ? rng.uniform(30.0, 40.0) : 16.0 + 8.0 * (speed - 0.9) / 0.6;
  const double a = rng.uniform(0.9, 1.5), b = rng.uniform(0.9, 1.5);
  const double direction = rng.chance(0.5) ? 1.0 : -1.0;
  const double theta0 = rng.uniform(0.0, 2.0 * kPi), phase0 = rng.uniform(0.0, 2.0 * kPi);
  const double lean = run ? rng.uniform(8.0, 14.0) : rng.uniform(2.0, 6.0);
  Wobble head(rng, 0.1, 0.4);
  // The path angle advances so the speed along the ellipse stays constant; integrated in
  // small steps on demand (frames are requested in increasing time order).
  auto theta = std::make_shared<std::pair<double, double>>(0.0, theta0);  // (time, angle)
  return [=](double t) {
    const double dt = 0.002;
    while (theta->first < t) {
      const double th = theta->second;
      theta->second += direction * speed * dt / std::hypot(a * std::sin(th), b * std::cos(th));
      theta->first += dt;
    }
    const double th = theta->second;
    const double phase = 2.0 * kPi * (cadence / 2.0) * t + phase0;
    Frame frame;
    frame.root = {a * std::cos(th), b * std::sin(th), 0.0};
    const double dx = -a * std::sin(th) * direction, dy = b * std::cos(th) * direction;
    BodyPose& pose = frame.pose;
    pose.heading = std::atan2(dy, dx) * 180.0 / kPi;
    pose.lean = lean;
    pose.roll = (run ? 2.0 : 3.0) * std::sin(phase);
    pose.lumbar_twist = (run ? 8.0 : 4.0) * std::sin(phase);
    pose.neck_flex = 5.0 + 4.0 * head(t) - lean * 0.5;
    pose.neck_turn = 10.0 * head(t + 7.0);
    for (int side = 0; side < 2; ++side) {
      const double p = phase + side * kPi;  // right leg, then left half a cycle later
      LegAngles leg;
      leg.hip_flex = lean + (run ? 10.0 : 4.0) + amplitude * std::sin(p);
      const double swing = std::max(0.0, std::cos(p - 0.4));
      leg.knee = run ? 15.0 + 85.0 * swing * swing : 6.0 + 52.0 * swing * swing;
      leg.hip_abd = 3.0;
      ArmAngles arm;
      arm.flex = -(run ? 0.8 : 0.6) * amplitude * std::sin(p) + (run ? 10.0 : 0.0);
      arm.abd = run ? 12.0 : 7.0;
      arm.elbow = run ? 85.0 + 10.0 * std::sin(p) : 15.0 + 10.0 * std::max(0.0, -std::sin(p));
      (side == 0 ? pose.right_leg : pose.left_leg) = leg;
      // The arm opposite a leg swings with it.
      (side == 0 ? pose.left_arm : pose.right_arm) = arm;
    }
    if (run) frame.flight = 0.05 * std::max(0.0, std::sin(2.0 * phase));
    return frame;
  };
}

ActionFunction turning(Rng& rng) {
  const double heading0 = rng.uniform(-180.0, 180.0);
  const double turn = (rng.chance(0.5) ? 1.0 : -1.0) * rng.uniform(120.0, 200.0);
  const double step_rate = rng.uniform(1.4, 2.0);
  Wobble arms(rng, 0.2, 0.6);
  return [=](double t) {
    Frame frame;
    frame.feet_anchored = true;
    // Turn away and back, two turns per 6 s.
    const double progress = smoothstep(0.5, 2.5, std::fmod(t, 6.0)) - smoothstep(3.5, 5.5, std::fmod(t, 6.0));
    BodyPose& pose = frame.pose;
    pose.heading = heading0 + turn * progress;
    const double stepping = envelope(std::fmod(t, 6.0), 0.3, 2.7, 0.3) + envelope(std::fmod(t, 6.0), 3.3, 5.7, 0.3);
    const double phase = 2.0 * kPi * step_rate / 2.0 * t;
    pose.right_leg.hip_flex = 12.0 * stepping * std::max(0.0, std::sin(phase));
    pose.right_leg.knee = 3.0 + 25.0 * stepping * std::max(0.0, std::sin(phase));
    pose.left_leg.hip_flex = 12.0 * stepping * std::max(0.0, -std::sin(phase));
    pose.left_leg.knee = 3.0 + 25.0 * stepping * std::max(0.0, -std::sin(phase));
    pose.neck_turn = 20.0 * (turn > 0 ? 1.0 : -1.0) * stepping;
    relaxed_arms(pose, arms, t);
    return frame;
  };
}

// Sitting: `always` keeps the performer seated with gestures; otherwise sit down and stand up.
ActionFunction sitting(Rng& rng, bool always, double seconds) {
  const double heading = rng.uniform(-180.0, 180.0);
  const double down_start = rng.uniform(0.6, 1.2), transition = rng.uniform(1.3, 1.9);
  const double up_start = std::max(down_start + transition + 1.0, seconds * rng.uniform(0.55, 0.7));
  const double thigh_angle = rng.uniform(80.0, 95.0), shin_angle = rng.uniform(-5.0, 15.0);
  const bool right_hand = rng.chance(0.5);
  const double gesture_period = rng.uniform(2.5, 4.0);
  Wobble wobble(rng, 0.1, 0.5);
  return [=](double t) {
    Frame frame;
    frame.feet_anchored = true;
    double seated = 1.0, transit = 0.0;
    if (!always) {
      seated = smoothstep(down_start, down_start + transition, t) * (1.0 - smoothstep(up_start, up_start + transition, t));
      transit = std::sin(kPi * seated);  // leaning forward while getting down or up
    }
    BodyPose& pose = frame.pose;
    pose.heading = heading + 10.0 * wobble(t + 11.0);
    pose.lean = 15.0 * transit;
    const double thigh = thigh_angle * seated;
    pose.right_leg.hip_flex = pose.left_leg.hip_flex = thigh + pose.lean;
    pose.right_leg.knee = pose.left_leg.knee = std::max(3.0, thigh - shin_angle * seated);
    pose.right_leg.hip_abd = pose.left_leg.hip_abd = 3.0 + 6.0 * seated;
    pose.lumbar_flex = 30.0 * transit + 5.0 * seated + 4.0 * wobble(t);
    pose.neck_flex = -0.4 * pose.lumbar_flex + 8.0 * wobble(t + 2.0);
    pose.neck_turn = 25.0 * wobble(t + 4.0);
    relaxed_arms(pose, wobble, t);
    // Hands rest on the thighs when seated.
    for (ArmAngles* arm : {&pose.right_arm, &pose.left_arm}) {
      arm->flex = 4.0 + 30.0 * seated;
      arm->elbow = 14.0 + 40.0 * seated;
    }
    if (always) {
      // A hand to the face now and then (eating, phoning).
      const double gesture = envelope(std::fmod(t, gesture_period), 0.3, gesture_period * 0.7, 0.5);
      ArmAngles& arm = right_hand ? pose.right_arm : pose.left_arm;
      arm.flex = 34.0 + 20.0 * gesture;
      arm.elbow = 54.0 + 85.0 * gesture;
      arm.abd = 8.0 + 15.0 * gesture;
    }
    return frame;
  };
}

ActionFunction greeting(Rng& rng) {
  const double heading = rng.uniform(-180.0, 180.0);
  const bool right = rng.chance(0.7);
  const double wave_hz = rng.uniform(1.6, 2.6), period = rng.uniform(3.5, 5.0);
  const double raise = rng.uniform(100.0, 150.0);
  Wobble wobble(rng, 0.1, 0.5);
  return [=](double t) {
    Frame frame;
    frame.feet_anchored = true;
    BodyPose& pose = frame.pose;
    pose.heading = heading + 15.0 * wobble(t);
    const double cycle = std::fmod(t, period);
    const double wave = envelope(cycle, 0.2, period * 0.7, 0.5);
    const double bow = envelope(cycle, period * 0.72, period * 0.98, 0.3);
    pose.lumbar_flex = 20.0 * bow;
    pose.neck_flex = 10.0 * bow + 5.0 * wobble(t + 3.0);
    relaxed_arms(pose, wobble, t);
    ArmAngles& arm = right ? pose.right_arm : pose.left_arm;
    const double oscillation = std::sin(2.0 * kPi * wave_hz * t);
    arm.abd = 8.0 + (raise - 8.0) * wave;
    arm.flex = 4.0 + 20.0 * wave;
    arm.elbow = 14.0 + wave * (55.0 + 25.0 * oscillation);
    arm.twist = 25.0 * wave * std::sin(2.0 * kPi * wave_hz * t + 1.0);
    return frame;
  };
}

ActionFunction bending(Rng& rng) {
  const double heading = rng.uniform(-180.0, 180.0);
  const double period = rng.uniform(3.0, 4.5), depth = rng.uniform(0.7, 1.0), knees = rng.uniform(5.0, 40.0);
  Wobble wobble(rng, 0.1, 0.4);
  return [=](double t) {
    Frame frame;
    frame.feet_anchored = true;
    const double bend = depth * envelope(std::fmod(t, period), 0.3, period - 0.3, 1.1);
    BodyPose& pose = frame.pose;
    pose.heading = heading + 8.0 * wobble(t);
    pose.lean = 45.0 * bend;
    pose.lumbar_flex = 35.0 * bend;
    pose.chest_flex = 10.0 * bend;
    for (LegAngles* leg : {&pose.right_leg, &pose.left_leg}) {
      leg->knee = 3.0 + knees * bend;
      leg->hip_flex = pose.lean + 0.5 * knees * bend;
    }
    pose.neck_flex = -25.0 * bend;
    relaxed_arms(pose, wobble, t);
    // Arms hang towards the floor.
    const double trunk = pose.lean + pose.lumbar_flex + pose.chest_flex;
    pose.right_arm.flex = pose.left_arm.flex = 0.9 * trunk;
    return frame;
  };
}

ActionFunction jumping(Rng& rng) {
  const double heading = rng.uniform(-180.0, 180.0);
  const double period = rng.uniform(1.7, 2.3), flight_time = rng.uniform(0.3, 0.45), squat_depth = rng.uniform(0.6, 1.0);
  return [=](double t) {
    Frame frame;
    frame.feet_anchored = true;
    const double cycle = std::fmod(t, period);
    const double takeoff = 0.55, landing = takeoff + flight_time;
    double squat = 0.0;
    if (cycle < 0.4) squat = smoothstep(0.0, 0.4, cycle);
    else if (cycle < takeoff) squat = 1.0 - smoothstep(0.4, takeoff, cycle);
    else if (cycle >= landing) squat = 0.7 * envelope(cycle, landing, std::min(period, landing + 0.6), 0.2);
    squat *= squat_depth;
    const double airborne = cycle >= takeoff && cycle < landing ? 1.0 : 0.0;
    if (airborne > 0.0) {
      const double tau = cycle - takeoff, v0 = 9.81 * flight_time / 2.0;
      frame.flight = v0 * tau - 0.5 * 9.81 * tau * tau;
    }
    BodyPose& pose = frame.pose;
    pose.heading = heading;
    pose.lean = 25.0 * squat;
    pose.lumbar_flex = 10.0 * squat;
    pose.neck_flex = -15.0 * squat;
    for (LegAngles* leg : {&pose.right_leg, &pose.left_leg}) {
      leg->knee = 5.0 + 85.0 * squat + 10.0 * airborne;
      leg->hip_flex = pose.lean + 10.0 + 50.0 * squat + 5.0 * airborne;
    }
    const double arms_up = envelope(cycle, takeoff - 0.1, landing + 0.1, 0.12);
    for (ArmAngles* arm : {&pose.right_arm, &pose.left_arm}) {
      arm->flex = -35.0 * squat + 150.0 * arms_up;
      arm->abd = 10.0 + 15.0 * arms_up;
      arm->elbow = 20.0 + 10.0 * squat;
    }
    return frame;
  };
}

// Standing actions that differ by their arm activity: pointing, talking, idling.
ActionFunction standing(Rng& rng, int style) {
  const double heading = rng.uniform(-180.0, 180.0);
  const bool right = rng.chance(0.6);
  const double period = rng.uniform(3.0, 5.0);
  Wobble body(rng, 0.05, 0.3), right_hand(rng, 0.2, 0.8), left_hand(rng, 0.2, 0.8);
  return [=](double t) {
    Frame frame;
    frame.feet_anchored = true;
    BodyPose& pose = frame.pose;
    pose.heading = heading + (style == 0 ? 50.0 : 25.0) * body(t);
    pose.roll = 3.0 * body(t + 5.0);  // weight shift
    pose.lumbar_bend = -2.0 * body(t + 5.0);
    pose.right_leg.knee = 3.0 + 6.0 * std::max(0.0, body(t + 5.0));
    pose.left_leg.knee = 3.0 + 6.0 * std::max(0.0, -body(t + 5.0));
    pose.neck_turn = 30.0 * body(t + 9.0);
    pose.neck_flex = 6.0 * body(t + 13.0);
    relaxed_arms(pose, body, t);
    if (style == 0) {  // Directions: pointing with one arm
      const double point = envelope(std::fmod(t, period), 0.4, period * 0.6, 0.5);
      ArmAngles& arm = right ? pose.right_arm : pose.left_arm;
      arm.flex = 4.0 + 80.0 * point + 10.0 * right_hand(t) * point;
      arm.abd = 8.0 + 25.0 * point * (1.0 + right_hand(t + 2.0));
      arm.elbow = 14.0 - 8.0 * point;
    } else if (style == 1) {  // Discussion: both hands gesturing in front of the body
      pose.right_arm = {25.0 + 20.0 * right_hand(t), 12.0 + 8.0 * right_hand(t + 1.0), 10.0, 70.0 + 30.0 * right_hand(t + 2.0)};
      pose.left_arm = {25.0 + 20.0 * left_hand(t), 12.0 + 8.0 * left_hand(t + 1.0), 10.0, 70.0 + 30.0 * left_hand(t + 2.0)};
    } else {  // Waiting: hands together in front now and then
      const double clasp = envelope(std::fmod(t, period * 2.0), 0.5, period * 1.2, 0.8);
      for (ArmAngles* arm : {&pose.right_arm, &pose.left_arm}) {
        arm->flex += 20.0 * clasp;
        arm->elbow += 60.0 * clasp;
        arm->twist = 30.0 * clasp;
      }
    }
    return frame;
  };
}

std::string action_kind(const std::string& action) {
  std::string kind = action;
  const std::size_t space = kind.find_last_of(' ');
  if (space != std::string::npos && space + 1 < kind.size() &&
      std::all_of(kind.begin() + static_cast<std::ptrdiff_t>(space) + 1, kind.end(), [](char c) { return c >= '0' && c <= '9'; }))
    kind.resize(space);
  return kind;
}

ActionFunction make_action(const std::string& kind, Rng& rng, double seconds) {
  if (kind == "Walking") return gait(rng, false);
  if (kind == "Running") return gait(rng, true);
  if (kind == "Turning") return turning(rng);
  if (kind == "SittingDown") return sitting(rng, false, seconds);
  if (kind == "Sitting") return sitting(rng, true, seconds);
  if (kind == "Greeting") return greeting(rng);
  if (kind == "Bending") return bending(rng);
  if (kind == "Jumping") return jumping(rng);
  if (kind == "Directions") return standing(rng, 0);
  if (kind == "Discussion") return standing(rng, 1);
  if (kind == "Waiting") return standing(rng, 2);
  std::string known;
  for (const std::string& name : synthetic_action_kinds()) known += (known.empty() ? "" : ", ") + name;
  throw InputError("synthetic action '" + kind + "': unknown kind (expected " + known +
                   ", optionally followed by a take number)");
}

}  // namespace

BodyProportions random_body(Rng& rng) {
  BodyProportions body;
  const double stature = rng.uniform(0.91, 1.09);  // about 1.55-1.85 m
  auto vary = [&](double& length) { length *= stature * std::clamp(1.0 + 0.04 * rng.normal(), 0.9, 1.1); };
  for (double* length : {&body.hip_width, &body.thigh, &body.shin, &body.lower_spine, &body.upper_spine, &body.neck,
                         &body.head, &body.shoulder_width, &body.upper_arm, &body.forearm})
    vary(*length);
  body.ankle_height *= stature;
  return body;
}

const std::vector<std::string>& synthetic_action_kinds() {
  static const std::vector<std::string> kinds{"Walking",  "Running",  "Turning", "SittingDown", "Sitting",   "Greeting",
                                              "Bending",  "Jumping",  "Directions", "Discussion", "Waiting"};
  return kinds;
}

std::vector<Vec3> generate_synthetic_action(const std::string& action, const BodyProportions& body, double seconds,
                                            double fps, std::uint64_t seed) {
  if (!(fps > 0.0) || !(seconds > 0.0))
    throw InputError("synthetic action '" + action + "': duration and frame rate must be positive");
  Rng rng(seed);
  const ActionFunction function = make_action(action_kind(action), rng, seconds);
  // In-place actions stand somewhere near the middle of the capture area.
  const Vec3 anchor{rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 0.0};
  const auto frames = static_cast<std::int64_t>(std::floor(seconds * fps + 1e-9)) + 1;
  std::vector<Vec3> positions;
  positions.reserve(static_cast<std::size_t>(frames) * h36m::kJoints);
  for (std::int64_t f = 0; f < frames; ++f) {
    const Frame frame = function(static_cast<double>(f) / fps);
    const std::array<Vec3, h36m::kJoints> joints = pose_joints(body, frame.pose);
    // Floor contact: the lower ankle at ankle height, plus any flight.
    const double lowest = std::min(joints[3].z, joints[6].z);
    Vec3 root{frame.root.x, frame.root.y, body.ankle_height - lowest + frame.flight};
    if (frame.feet_anchored) {
      root.x = anchor.x - 0.5 * (joints[3].x + joints[6].x);
      root.y = anchor.y - 0.5 * (joints[3].y + joints[6].y);
    }
    for (const Vec3& joint : joints) positions.push_back(joint + root);
  }
  return positions;
}

SyntheticReport prepare_synthetic_dataset(const SyntheticOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  check_dataset_name(options.name, "prepare synthetic: --name");
  if (options.output_dir.empty()) throw InputError("prepare synthetic: no output folder given");
  if (options.actions.empty()) throw InputError("prepare synthetic: no actions given");
  if (options.train_subjects.empty() && options.test_subjects.empty())
    throw InputError("prepare synthetic: no subjects given");
  if (!(options.seconds_per_action > 0.0) || options.seconds_per_action > 3600.0)
    throw InputError("prepare synthetic: seconds per action must be in (0, 3600]");
  std::vector<std::string> subjects = options.train_subjects;
  subjects.insert(subjects.end(), options.test_subjects.begin(), options.test_subjects.end());
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    check_dataset_name(subjects[i], "prepare synthetic: subject");
    if (std::find(subjects.begin(), subjects.begin() + static_cast<std::ptrdiff_t>(i), subjects[i]) !=
        subjects.begin() + static_cast<std::ptrdiff_t>(i))
      throw InputError("prepare synthetic: subject '" + subjects[i] + "' is listed twice");
  }
  for (std::size_t i = 0; i < options.actions.size(); ++i) {
    Rng probe(0);
    make_action(action_kind(options.actions[i]), probe, options.seconds_per_action);  // throws for unknown kinds
    if (std::find(options.actions.begin(), options.actions.begin() + static_cast<std::ptrdiff_t>(i),
                  options.actions[i]) != options.actions.begin() + static_cast<std::ptrdiff_t>(i))
      throw InputError("prepare synthetic: action '" + options.actions[i] + "' is listed twice");
  }

  SyntheticReport report;
  report.train_subjects = options.train_subjects;
  report.test_subjects = options.test_subjects;
  PoseDataset dataset;
  dataset.fps = options.fps;
  for (const std::string& name : subjects) {
    PoseSubject subject;
    subject.name = name;
    Rng body_rng(derive_seed(options.seed, "synthetic-body/" + name));
    const BodyProportions body = random_body(body_rng);
    for (const std::string& action : options.actions) {
      PoseAction pose_action;
      pose_action.name = action;
      pose_action.positions = generate_synthetic_action(action, body, options.seconds_per_action, options.fps,
                                                        derive_seed(options.seed, "synthetic/" + name + "/" + action));
      report.frames += static_cast<std::int64_t>(pose_action.positions.size() / h36m::kJoints);
      subject.actions.push_back(std::move(pose_action));
    }
    Rng camera_rng(derive_seed(options.seed, "cameras/" + name));
    subject.cameras = make_camera_rig(options.cameras, camera_rng);
    std::vector<const std::vector<Vec3>*> sequences;
    for (const PoseAction& action : subject.actions) sequences.push_back(&action.positions);
    report.cameras_moved_back += fit_cameras_to_sequences(subject.cameras, sequences, options.cameras);
    dataset.subjects.push_back(std::move(subject));
  }
  report.files = write_pose_dataset(dataset, options.output_dir, options.name, options.noisy, options.seed);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace poselift::mocap
