#include "motion/world.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "io/error.hpp"
#include "mocap/geometry.hpp"

namespace poselift::motion {

using mocap::Vec3;

namespace {

// Human3.6M-17 joints used here.
constexpr std::int64_t kJoints = 17;
constexpr int kRoot = 0, kThorax = 8;
constexpr std::array<int, 2> kHips{1, 4}, kKnees{2, 5}, kAnkles{3, 6};  // right, left

Vec3 joint(const std::vector<float>& v, std::int64_t t, int j) {
  const float* p = &v[static_cast<std::size_t>((t * kJoints + j) * 3)];
  return {p[0], p[1], p[2]};
}
void set_joint(std::vector<float>& v, std::int64_t t, int j, const Vec3& p) {
  float* q = &v[static_cast<std::size_t>((t * kJoints + j) * 3)];
  q[0] = static_cast<float>(p.x), q[1] = static_cast<float>(p.y), q[2] = static_cast<float>(p.z);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double angle_degrees(const Vec3& a, const Vec3& b) {
  return std::acos(std::clamp(mocap::dot(mocap::normalized(a), mocap::normalized(b)), -1.0, 1.0)) * 180.0 / mocap::kPi;
}

// The world axes in camera space and the world origin in camera space.
struct Frame {
  Vec3 x, y, z, origin;
  Vec3 to_world(const Vec3& c) const {
    const Vec3 d = c - origin;
    return {mocap::dot(x, d), mocap::dot(y, d), mocap::dot(z, d)};
  }
  Vec3 to_camera(const Vec3& w) const { return origin + x * w.x + y * w.y + z * w.z; }
};

// The 3D speed (m/s) of joint j at frame t by central differences (one-sided at the ends).
double speed(const std::vector<float>& v, std::int64_t frames, std::int64_t t, int j, double fps, bool horizontal_y_up) {
  if (frames < 2) return 0.0;
  const std::int64_t a = std::max<std::int64_t>(0, t - 1), b = std::min(frames - 1, t + 1);
  Vec3 d = joint(v, b, j) - joint(v, a, j);
  if (horizontal_y_up) d.y = 0.0;
  return mocap::norm(d) * fps / static_cast<double>(b - a);
}

// The height (along `up`) the ankles have while planted: the lower ankle's median height over
// the frames it moves slower than 0.5 m/s (all frames when fewer than a tenth qualify).
double ankle_level(const std::vector<float>& absolute, std::int64_t frames, const Vec3& up, double fps) {
  std::vector<double> slow, all;
  for (std::int64_t t = 0; t < frames; ++t) {
    const double hr = mocap::dot(up, joint(absolute, t, kAnkles[0])), hl = mocap::dot(up, joint(absolute, t, kAnkles[1]));
    const int lower = hr <= hl ? kAnkles[0] : kAnkles[1];
    const double h = std::min(hr, hl);
    all.push_back(h);
    if (speed(absolute, frames, t, lower, fps, false) < 0.5) slow.push_back(h);
  }
  return median(slow.size() * 10 >= all.size() && !slow.empty() ? slow : all);
}

// The world frame for `up` (camera space): z the camera's backward direction made level, the
// origin on the floor below the first frame's root.
Frame frame_for(const Vec3& up_direction, const std::vector<float>& absolute, std::int64_t frames, double fps) {
  Frame f;
  f.y = mocap::normalized(up_direction);
  const Vec3 back{0, 0, -1};
  f.z = mocap::normalized(back - f.y * mocap::dot(back, f.y));
  f.x = mocap::cross(f.y, f.z);
  const double floor_height = ankle_level(absolute, frames, f.y, fps) - kAnkleHeight;
  const Vec3 root = joint(absolute, 0, kRoot);
  f.origin = root - f.y * (mocap::dot(f.y, root) - floor_height);
  return f;
}

std::vector<float> to_world(const Frame& f, const std::vector<float>& absolute) {
  std::vector<float> world(absolute.size());
  for (std::size_t i = 0; i < absolute.size(); i += 3) {
    const Vec3 w = f.to_world(Vec3{absolute[i], absolute[i + 1], absolute[i + 2]});
    world[i] = static_cast<float>(w.x), world[i + 1] = static_cast<float>(w.y), world[i + 2] = static_cast<float>(w.z);
  }
  return world;
}

// Eigen-decomposition of a symmetric 3x3 matrix by Jacobi rotations: eigenvalues ascending,
// eigenvectors as the matching columns' vectors.
void symmetric_eigen(double a[3][3], std::array<double, 3>& values, std::array<Vec3, 3>& vectors) {
  double v[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int sweep = 0; sweep < 50; ++sweep) {
    const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
    if (off < 1e-30) break;
    for (int p = 0; p < 2; ++p)
      for (int q = p + 1; q < 3; ++q) {
        if (std::abs(a[p][q]) < 1e-300) continue;
        const double theta = 0.5 * std::atan2(2 * a[p][q], a[q][q] - a[p][p]);
        const double c = std::cos(theta), s = std::sin(theta);
        for (int k = 0; k < 3; ++k) {  // A <- A J
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq, a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < 3; ++k) {  // A <- J^T A
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk, a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < 3; ++k) {
          const double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq, v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  std::array<int, 3> order{0, 1, 2};
  std::sort(order.begin(), order.end(), [&](int i, int j) { return a[i][i] < a[j][j]; });
  for (int k = 0; k < 3; ++k) {
    values[static_cast<std::size_t>(k)] = a[order[k]][order[k]];
    vectors[static_cast<std::size_t>(k)] = Vec3{v[0][order[k]], v[1][order[k]], v[2][order[k]]};
  }
}

// The up direction from the planted ankles (camera space), or `body` when they do not spread
// enough: a plane for points spread in two directions, a line (the floor contains it) for one.
Vec3 up_from_feet(const std::vector<float>& absolute, const std::vector<std::uint8_t>& contacts, std::int64_t frames,
                  const Vec3& body, std::string& source) {
  std::vector<Vec3> points;
  for (std::int64_t t = 0; t < frames; ++t)
    for (int f = 0; f < 2; ++f)
      if (contacts[static_cast<std::size_t>(2 * t + f)]) points.push_back(joint(absolute, t, kAnkles[f]));
  if (points.size() < 8) return body;
  Vec3 mean{0, 0, 0};
  for (const Vec3& p : points) mean += p;
  mean = mean * (1.0 / static_cast<double>(points.size()));
  double c[3][3] = {};
  for (const Vec3& p : points) {
    const double d[3] = {p.x - mean.x, p.y - mean.y, p.z - mean.z};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) c[i][j] += d[i] * d[j] / static_cast<double>(points.size());
  }
  std::array<double, 3> values;
  std::array<Vec3, 3> vectors;
  symmetric_eigen(c, values, vectors);
  constexpr double kSpread = 0.3;  // metres: the standard deviation the points need along a direction
  Vec3 up = body;
  std::string found;
  if (values[1] >= kSpread * kSpread) {
    up = vectors[0];
    if (mocap::dot(up, body) < 0.0) up = -up;
    found = "feet";
  } else if (values[2] >= kSpread * kSpread) {
    up = mocap::normalized(body - vectors[2] * mocap::dot(body, vectors[2]));
    found = "feet";
  }
  if (found.empty() || angle_degrees(up, body) > 25.0) return body;
  source = found;
  return up;
}

// Boolean runs of `c` (one foot's contacts) cleaned: gaps up to `gap` frames filled, runs
// shorter than `shortest` frames dropped.
void clean_runs(std::vector<std::uint8_t>& c, std::int64_t gap, std::int64_t shortest) {
  const auto n = static_cast<std::int64_t>(c.size());
  for (std::int64_t t = 0; t < n;) {  // fill short gaps between two planted stretches
    if (c[static_cast<std::size_t>(t)]) { ++t; continue; }
    std::int64_t e = t;
    while (e < n && !c[static_cast<std::size_t>(e)]) ++e;
    if (t > 0 && e < n && e - t <= gap) std::fill(c.begin() + t, c.begin() + e, 1);
    t = e;
  }
  for (std::int64_t t = 0; t < n;) {
    if (!c[static_cast<std::size_t>(t)]) { ++t; continue; }
    std::int64_t e = t;
    while (e < n && c[static_cast<std::size_t>(e)]) ++e;
    if (e - t < shortest) std::fill(c.begin() + t, c.begin() + e, 0);
    t = e;
  }
}

// Two-bone inverse kinematics: moves knee and ankle so the ankle reaches `target` (as near as
// the leg reaches) with both bone lengths kept, the knee staying in the plane it bends in.
void place_ankle(const Vec3& hip, Vec3& knee, Vec3& ankle, const Vec3& target) {
  const double l1 = mocap::norm(knee - hip), l2 = mocap::norm(ankle - knee);
  const Vec3 d = target - hip;
  const double distance = mocap::norm(d);
  if (distance < 1e-9 || l1 < 1e-9 || l2 < 1e-9) return;
  const Vec3 dir = d * (1.0 / distance);
  const double reach = std::clamp(distance, std::abs(l1 - l2) + 1e-6, l1 + l2 - 1e-6);
  Vec3 pole = knee - hip;
  pole -= dir * mocap::dot(pole, dir);
  if (mocap::norm(pole) < 1e-9) {  // a straight leg: bend towards the figure's front (+z)
    pole = Vec3{0, 0, 1} - dir * dir.z;
    if (mocap::norm(pole) < 1e-9) return;
  }
  pole = mocap::normalized(pole);
  const double along = (l1 * l1 - l2 * l2 + reach * reach) / (2.0 * reach);
  const double out = std::sqrt(std::max(0.0, l1 * l1 - along * along));
  knee = hip + dir * along + pole * out;
  ankle = hip + dir * reach;
}

struct ContactRun {
  int foot;
  std::int64_t begin, end;  // [begin, end)
  double x = 0.0, z = 0.0;  // the anchor
};

// Locks planted ankles in `world` (y up) in place; see the header.
void lock_contacts(std::vector<float>& world, const std::vector<std::uint8_t>& contacts, std::int64_t frames, double fps) {
  std::vector<ContactRun> runs;
  for (int f = 0; f < 2; ++f)
    for (std::int64_t t = 0; t < frames;) {
      if (!contacts[static_cast<std::size_t>(2 * t + f)]) { ++t; continue; }
      std::int64_t e = t;
      while (e < frames && contacts[static_cast<std::size_t>(2 * e + f)]) ++e;
      runs.push_back({f, t, e});
      t = e;
    }
  if (runs.empty()) return;
  const std::int64_t ease = std::max<std::int64_t>(1, std::llround(0.1 * fps));
  // Per frame and foot: the lock's weight and the run it belongs to.
  std::vector<double> weight(static_cast<std::size_t>(2 * frames), 0.0);
  std::vector<int> owner(static_cast<std::size_t>(2 * frames), -1);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const ContactRun& run = runs[r];
    for (std::int64_t t = std::max<std::int64_t>(0, run.begin - ease); t < std::min(frames, run.end + ease); ++t) {
      const double w = t < run.begin ? 1.0 - static_cast<double>(run.begin - t) / static_cast<double>(ease + 1)
                       : t >= run.end ? 1.0 - static_cast<double>(t - run.end + 1) / static_cast<double>(ease + 1)
                                      : 1.0;
      const auto i = static_cast<std::size_t>(2 * t + run.foot);
      if (w > weight[i]) weight[i] = w, owner[i] = static_cast<int>(r);
    }
  }
  // The root's horizontal correction: anchors and correction refined together (the anchor of a
  // run is where its ankle is on average once corrected).
  std::vector<double> dx(static_cast<std::size_t>(frames), 0.0), dz(dx);
  for (int iteration = 0; iteration < 3; ++iteration) {
    for (ContactRun& run : runs) {
      run.x = run.z = 0.0;
      for (std::int64_t t = run.begin; t < run.end; ++t) {
        const Vec3 a = joint(world, t, kAnkles[run.foot]);
        run.x += a.x + dx[static_cast<std::size_t>(t)], run.z += a.z + dz[static_cast<std::size_t>(t)];
      }
      run.x /= static_cast<double>(run.end - run.begin), run.z /= static_cast<double>(run.end - run.begin);
    }
    std::vector<std::int64_t> known;
    for (std::int64_t t = 0; t < frames; ++t) {
      double sw = 0.0, sx = 0.0, sz = 0.0;
      for (int f = 0; f < 2; ++f) {
        const auto i = static_cast<std::size_t>(2 * t + f);
        if (owner[i] < 0) continue;
        const Vec3 a = joint(world, t, kAnkles[f]);
        const ContactRun& run = runs[static_cast<std::size_t>(owner[i])];
        sw += weight[i], sx += weight[i] * (run.x - a.x), sz += weight[i] * (run.z - a.z);
      }
      if (sw > 0.0) dx[static_cast<std::size_t>(t)] = sx / sw, dz[static_cast<std::size_t>(t)] = sz / sw, known.push_back(t);
    }
    // Frames with no foot planted: linear between their neighbours, held at the ends.
    for (std::int64_t t = 0, k = 0; t < frames; ++t) {
      while (k < static_cast<std::int64_t>(known.size()) && known[static_cast<std::size_t>(k)] < t) ++k;
      if (k < static_cast<std::int64_t>(known.size()) && known[static_cast<std::size_t>(k)] == t) continue;
      const std::int64_t next = k < static_cast<std::int64_t>(known.size()) ? known[static_cast<std::size_t>(k)] : -1;
      const std::int64_t previous = k > 0 ? known[static_cast<std::size_t>(k - 1)] : -1;
      const auto at = [&](std::int64_t i) { return std::make_pair(dx[static_cast<std::size_t>(i)], dz[static_cast<std::size_t>(i)]); };
      std::pair<double, double> v{0.0, 0.0};
      if (previous >= 0 && next >= 0) {
        const double s = static_cast<double>(t - previous) / static_cast<double>(next - previous);
        v = {at(previous).first + s * (at(next).first - at(previous).first),
             at(previous).second + s * (at(next).second - at(previous).second)};
      } else if (previous >= 0) {
        v = at(previous);
      } else if (next >= 0) {
        v = at(next);
      }
      dx[static_cast<std::size_t>(t)] = v.first, dz[static_cast<std::size_t>(t)] = v.second;
    }
  }
  for (std::int64_t t = 0; t < frames; ++t)
    for (int j = 0; j < kJoints; ++j) {
      Vec3 p = joint(world, t, j);
      p.x += dx[static_cast<std::size_t>(t)], p.z += dz[static_cast<std::size_t>(t)];
      set_joint(world, t, j, p);
    }
  // Each planted leg bent to put its ankle on the anchor, at floor level.
  for (std::int64_t t = 0; t < frames; ++t)
    for (int f = 0; f < 2; ++f) {
      const auto i = static_cast<std::size_t>(2 * t + f);
      if (owner[i] < 0) continue;
      const ContactRun& run = runs[static_cast<std::size_t>(owner[i])];
      Vec3 knee = joint(world, t, kKnees[f]), ankle = joint(world, t, kAnkles[f]);
      const double w = weight[i];
      const Vec3 target{ankle.x + w * (run.x - ankle.x), ankle.y + w * (kAnkleHeight - ankle.y), ankle.z + w * (run.z - ankle.z)};
      place_ankle(joint(world, t, kHips[f]), knee, ankle, target);
      set_joint(world, t, kKnees[f], knee);
      set_joint(world, t, kAnkles[f], ankle);
    }
}

// No ankle below its floor level: a leg reaching under the floor is bent up onto it; where the
// hip is too low for that, the whole figure rises.
void keep_above_floor(std::vector<float>& world, std::int64_t frames) {
  for (std::int64_t t = 0; t < frames; ++t)
    for (int f = 0; f < 2; ++f) {
      Vec3 knee = joint(world, t, kKnees[f]), ankle = joint(world, t, kAnkles[f]);
      if (ankle.y >= kAnkleHeight) continue;
      place_ankle(joint(world, t, kHips[f]), knee, ankle, Vec3{ankle.x, kAnkleHeight, ankle.z});
      set_joint(world, t, kKnees[f], knee);
      set_joint(world, t, kAnkles[f], ankle);
      const double short_by = kAnkleHeight - ankle.y;
      if (short_by > 0.0)
        for (int j = 0; j < kJoints; ++j) set_joint(world, t, j, joint(world, t, j) + Vec3{0, short_by, 0});
    }
}

}  // namespace

void validate_ground(const GroundOptions& o) {
  if (!(o.contact_height > 0.0 && o.contact_height <= 1.0))
    throw InputError(fmt::format("--contact-height: expected metres in (0, 1], found {}", o.contact_height));
  if (!(o.contact_speed > 0.0 && o.contact_speed <= 10.0))
    throw InputError(fmt::format("--contact-speed: expected metres per second in (0, 10], found {}", o.contact_speed));
}

std::vector<std::uint8_t> detect_contacts(const std::vector<float>& world, std::int64_t frames, double fps,
                                          const GroundOptions& options) {
  if (frames < 0 || world.size() != static_cast<std::size_t>(frames * kJoints * 3) || !(fps > 0.0))
    throw std::logic_error("detect_contacts: sizes or frame rate");
  std::vector<std::uint8_t> contacts(static_cast<std::size_t>(2 * frames), 0);
  const std::int64_t gap = std::llround(0.05 * fps), shortest = std::max<std::int64_t>(2, std::llround(0.08 * fps));
  for (int f = 0; f < 2; ++f) {
    std::vector<std::uint8_t> c(static_cast<std::size_t>(frames), 0);
    for (std::int64_t t = 0; t < frames; ++t)
      c[static_cast<std::size_t>(t)] = joint(world, t, kAnkles[f]).y < kAnkleHeight + options.contact_height &&
                                       speed(world, frames, t, kAnkles[f], fps, true) < options.contact_speed;
    clean_runs(c, gap, shortest);
    for (std::int64_t t = 0; t < frames; ++t) contacts[static_cast<std::size_t>(2 * t + f)] = c[static_cast<std::size_t>(t)];
  }
  return contacts;
}

double foot_skating(const std::vector<float>& world, const std::vector<std::uint8_t>& contacts, std::int64_t frames) {
  if (world.size() != static_cast<std::size_t>(frames * kJoints * 3) || contacts.size() != static_cast<std::size_t>(2 * frames))
    throw std::logic_error("foot_skating: sizes");
  double sum = 0.0;
  std::int64_t count = 0;
  for (std::int64_t t = 1; t < frames; ++t)
    for (int f = 0; f < 2; ++f)
      if (contacts[static_cast<std::size_t>(2 * t + f)] && contacts[static_cast<std::size_t>(2 * (t - 1) + f)]) {
        Vec3 d = joint(world, t, kAnkles[f]) - joint(world, t - 1, kAnkles[f]);
        d.y = 0.0;
        sum += mocap::norm(d), ++count;
      }
  return count ? sum / static_cast<double>(count) : 0.0;
}

WorldMotion ground_motion(const std::vector<float>& positions, const std::vector<float>& trajectory, std::int64_t frames,
                          double fps, const GroundOptions& options) {
  if (frames < 1 || positions.size() != static_cast<std::size_t>(frames * kJoints * 3) ||
      (!trajectory.empty() && trajectory.size() != static_cast<std::size_t>(frames * 3)) || !(fps > 0.0))
    throw std::logic_error("ground_motion: sizes or frame rate");
  for (float v : positions)
    if (!std::isfinite(v)) throw InputError("ground: the lifted positions are not finite");
  for (float v : trajectory)
    if (!std::isfinite(v)) throw InputError("ground: the trajectory is not finite");
  std::vector<float> absolute = positions;
  if (!trajectory.empty())
    for (std::int64_t t = 0; t < frames; ++t)
      for (int j = 0; j < kJoints; ++j)
        for (int c = 0; c < 3; ++c)
          absolute[static_cast<std::size_t>((t * kJoints + j) * 3 + c)] += trajectory[static_cast<std::size_t>(3 * t + c)];

  WorldMotion out;
  const Vec3 camera_up{0, -1, 0};
  Vec3 up = camera_up;
  out.up_source = "level";
  if (options.ground) {
    Vec3 body{0, 0, 0};
    for (std::int64_t t = 0; t < frames; ++t)
      body += mocap::normalized(joint(absolute, t, kThorax) -
                                (joint(absolute, t, kAnkles[0]) + joint(absolute, t, kAnkles[1])) * 0.5);
    if (mocap::norm(body) > 0.0 && angle_degrees(body, camera_up) <= 45.0) {
      up = mocap::normalized(body);
      out.up_source = "body";
    } else {
      out.up_source = "camera";
    }
    // With the root moving, the planted ankles trace the floor itself.
    if (!trajectory.empty()) {
      const Frame first = frame_for(up, absolute, frames, fps);
      const auto contacts = detect_contacts(to_world(first, absolute), frames, fps, options);
      up = up_from_feet(absolute, contacts, frames, up, out.up_source);
    }
  }
  const Frame frame = frame_for(up, absolute, frames, fps);
  out.camera_tilt_degrees = angle_degrees(up, camera_up);
  out.world = to_world(frame, absolute);
  if (options.ground) {
    out.contacts = detect_contacts(out.world, frames, fps, options);
    if (options.lock_contacts && !trajectory.empty()) lock_contacts(out.world, out.contacts, frames, fps);
    keep_above_floor(out.world, frames);
  }
  const std::array<Vec3, 3> rows{frame.x, frame.y, frame.z};
  for (int r = 0; r < 3; ++r) {
    const Vec3& a = rows[static_cast<std::size_t>(r)];
    out.world_from_camera[static_cast<std::size_t>(4 * r)] = a.x;
    out.world_from_camera[static_cast<std::size_t>(4 * r + 1)] = a.y;
    out.world_from_camera[static_cast<std::size_t>(4 * r + 2)] = a.z;
    out.world_from_camera[static_cast<std::size_t>(4 * r + 3)] = -mocap::dot(a, frame.origin);
  }
  if (!options.ground) {  // nothing moved: the camera-space input as it was, bit for bit
    out.positions = positions;
    out.trajectory = trajectory;
    return out;
  }
  out.positions.resize(positions.size());
  if (!trajectory.empty()) out.trajectory.resize(trajectory.size());
  for (std::int64_t t = 0; t < frames; ++t) {
    const Vec3 root = frame.to_camera(joint(out.world, t, kRoot));
    for (int j = 0; j < kJoints; ++j) set_joint(out.positions, t, j, frame.to_camera(joint(out.world, t, j)) - root);
    if (!trajectory.empty())
      for (int c = 0; c < 3; ++c)
        out.trajectory[static_cast<std::size_t>(3 * t + c)] = static_cast<float>(c == 0 ? root.x : c == 1 ? root.y : root.z);
  }
  return out;
}

}  // namespace poselift::motion
