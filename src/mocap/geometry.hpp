// Small double-precision 3D math for skeletal motion: vectors, unit quaternions and Euler
// angles. Kept separate from data/camera.hpp, whose float32 routines must stay bit-compatible
// with VideoPose3D, while mocap import wants double precision end to end.
#pragma once

#include <cmath>

namespace poselift::mocap {

constexpr double kPi = 3.14159265358979323846;

struct Vec3 {
  double x = 0.0, y = 0.0, z = 0.0;

  double& operator[](int axis) { return axis == 0 ? x : (axis == 1 ? y : z); }
  double operator[](int axis) const { return axis == 0 ? x : (axis == 1 ? y : z); }
};

inline Vec3 operator+(const Vec3& a, const Vec3& b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(const Vec3& a, const Vec3& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator-(const Vec3& a) { return {-a.x, -a.y, -a.z}; }
inline Vec3 operator*(const Vec3& a, double s) { return {a.x * s, a.y * s, a.z * s}; }
inline Vec3 operator*(double s, const Vec3& a) { return a * s; }
inline Vec3& operator+=(Vec3& a, const Vec3& b) { return a = a + b; }
inline Vec3& operator-=(Vec3& a, const Vec3& b) { return a = a - b; }
inline double dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
inline double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
// The zero vector stays zero (callers decide what a degenerate direction means).
inline Vec3 normalized(const Vec3& a) {
  const double n = norm(a);
  return n > 0.0 ? a * (1.0 / n) : Vec3{};
}
inline Vec3 lerp(const Vec3& a, const Vec3& b, double t) { return a + (b - a) * t; }

// Unit quaternion (w, x, y, z) for rotations; composition q1 * q2 applies q2 first.
struct Quat {
  double w = 1.0, x = 0.0, y = 0.0, z = 0.0;
};

inline Quat operator*(const Quat& a, const Quat& b) {
  return {a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z, a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
          a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x, a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w};
}
inline Quat conjugate(const Quat& q) { return {q.w, -q.x, -q.y, -q.z}; }
inline Quat normalized(const Quat& q) {
  const double n = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
  return n > 0.0 ? Quat{q.w / n, q.x / n, q.y / n, q.z / n} : Quat{};
}
inline Vec3 rotate(const Quat& q, const Vec3& v) {
  // v + 2 u x (u x v + w v), u the vector part: two cross products, no matrix.
  const Vec3 u{q.x, q.y, q.z};
  const Vec3 t = cross(u, v) * 2.0;
  return v + t * q.w + cross(u, t);
}

// Rotation by `degrees` about coordinate axis 0 (x), 1 (y) or 2 (z).
inline Quat axis_rotation(int axis, double degrees) {
  const double half = degrees * (kPi / 360.0);
  Quat q{std::cos(half), 0.0, 0.0, 0.0};
  const double s = std::sin(half);
  if (axis == 0) q.x = s;
  else if (axis == 1) q.y = s;
  else q.z = s;
  return q;
}

inline Quat axis_angle(const Vec3& unit_axis, double radians) {
  const double s = std::sin(radians / 2.0);
  return {std::cos(radians / 2.0), unit_axis.x * s, unit_axis.y * s, unit_axis.z * s};
}

// Spherical interpolation along the shorter arc; nearly equal rotations fall back to a
// normalised linear blend (stable and indistinguishable there).
inline Quat slerp(const Quat& a, Quat b, double t) {
  double c = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z;
  if (c < 0.0) {
    b = {-b.w, -b.x, -b.y, -b.z};
    c = -c;
  }
  double wa = 1.0 - t, wb = t;
  if (c < 0.9995) {
    const double angle = std::acos(c);
    const double s = std::sin(angle);
    wa = std::sin((1.0 - t) * angle) / s;
    wb = std::sin(t * angle) / s;
  }
  return normalized(Quat{wa * a.w + wb * b.w, wa * a.x + wb * b.x, wa * a.y + wb * b.y, wa * a.z + wb * b.z});
}

// Quaternion of the rotation whose matrix has these columns (an orthonormal, right-handed
// basis: the images of the x, y and z axes).
inline Quat quat_from_basis(const Vec3& x_axis, const Vec3& y_axis, const Vec3& z_axis) {
  const double m00 = x_axis.x, m10 = x_axis.y, m20 = x_axis.z;
  const double m01 = y_axis.x, m11 = y_axis.y, m21 = y_axis.z;
  const double m02 = z_axis.x, m12 = z_axis.y, m22 = z_axis.z;
  const double trace = m00 + m11 + m22;
  Quat q;
  if (trace > 0.0) {
    const double s = std::sqrt(trace + 1.0) * 2.0;
    q = {0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s};
  } else if (m00 > m11 && m00 > m22) {
    const double s = std::sqrt(1.0 + m00 - m11 - m22) * 2.0;
    q = {(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s};
  } else if (m11 > m22) {
    const double s = std::sqrt(1.0 + m11 - m00 - m22) * 2.0;
    q = {(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s};
  } else {
    const double s = std::sqrt(1.0 + m22 - m00 - m11) * 2.0;
    q = {(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s};
  }
  return normalized(q);
}

}  // namespace poselift::mocap
