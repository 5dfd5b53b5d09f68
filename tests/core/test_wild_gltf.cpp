// The .glb export read back with tinygltf's own loader: hierarchy, skin, accessors, the animation
// sampled at every frame (and between frames) and the skinned mesh, all compared to forward
// kinematics of the rig animation computed here; then the same file in three.js in headless
// Chromium, and the Khronos glTF validator.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.hpp"
#include "test_support.hpp"
#include "wild/gltf_export.hpp"
#include "wild/tinygltf.hpp"

using namespace poselift;
using namespace poselift::wild;
using mocap::Quat;
using mocap::Vec3;
namespace fs = std::filesystem;

namespace {

// A small rig with the features of the real one: a zero-length branch joint, end sites,
// several children under one joint.
RigAnimation small_rig(int frames, double fps = 25.0) {
  RigAnimation a;
  a.fps = fps;
  a.joints = {
      {"Hips", -1, 0, Vec3{0, 0, 0}, Vec3{}},
      {"Spine", 0, 7, Vec3{0, 0.25, 0}, Vec3{}},
      {"Head", 1, 10, Vec3{0, 0.2, 0.02}, Vec3{0, 0.1, 0}},
      {"LeftHipJoint", 0, -1, Vec3{0, 0, 0}, Vec3{}},
      {"LeftUpLeg", 3, 4, Vec3{0.1, 0, 0}, Vec3{}},
      {"LeftLeg", 4, 5, Vec3{0, -0.45, 0}, Vec3{}},
      {"LeftFoot", 5, 6, Vec3{0, -0.4, 0}, Vec3{0, 0, 0.1}},
      {"RightArm", 1, 14, Vec3{-0.2, 0.15, 0}, Vec3{-0.25, 0, 0}},
  };
  for (int t = 0; t < frames; ++t) {
    a.root_positions.push_back(Vec3{0.1 * t, 0.9 + 0.05 * std::sin(0.7 * t), -0.03 * t});
    std::vector<Quat> q;
    for (std::size_t j = 0; j < a.joints.size(); ++j) {
      const Vec3 axis = mocap::normalized(Vec3{std::sin(1.0 + j), std::cos(2.0 * j + 0.3 * t), 0.5 + 0.1 * t});
      Quat r = mocap::axis_angle(axis, 1.1 * std::sin(0.35 * t + j));
      // Every other frame of some joints with the opposite sign: the same rotation, which the
      // export must make continuous for LINEAR blending.
      if ((t + j) % 2 == 1) r = {-r.w, -r.x, -r.y, -r.z};
      q.push_back(r);
    }
    a.rotations.push_back(q);
  }
  return a;
}

struct Pose {
  std::vector<Vec3> position;
  std::vector<Quat> rotation;  // world
};

// Forward kinematics of the rig animation, with the local rotations given (a frame's, or a blend).
Pose rig_fk(const RigAnimation& a, const Vec3& root, const std::vector<Quat>& local) {
  Pose p;
  for (std::size_t j = 0; j < a.joints.size(); ++j) {
    const int parent = a.joints[j].parent;
    if (parent < 0) {
      p.position.push_back(root);
      p.rotation.push_back(local[j]);
    } else {
      p.position.push_back(p.position[parent] + mocap::rotate(p.rotation[parent], a.joints[j].offset));
      p.rotation.push_back(p.rotation[parent] * local[j]);
    }
  }
  return p;
}

// Column-major 4x4 matrices in double, as glTF writes them.
using Mat4 = std::array<double, 16>;
Mat4 identity() { return {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}; }
Mat4 multiply(const Mat4& a, const Mat4& b) {
  Mat4 m{};
  for (int c = 0; c < 4; ++c)
    for (int r = 0; r < 4; ++r)
      for (int k = 0; k < 4; ++k) m[c * 4 + r] += a[k * 4 + r] * b[c * 4 + k];
  return m;
}
Vec3 transform(const Mat4& m, const Vec3& v) {
  return {m[0] * v.x + m[4] * v.y + m[8] * v.z + m[12], m[1] * v.x + m[5] * v.y + m[9] * v.z + m[13],
          m[2] * v.x + m[6] * v.y + m[10] * v.z + m[14]};
}
// Translation then rotation (x, y, z, w): the node's local matrix T * R.
Mat4 trs(const std::vector<double>& t, const std::vector<double>& q) {
  Mat4 m = identity();
  if (q.size() == 4) {
    const double x = q[0], y = q[1], z = q[2], w = q[3];
    m = {1 - 2 * (y * y + z * z), 2 * (x * y + z * w),     2 * (x * z - y * w),     0,
         2 * (x * y - z * w),     1 - 2 * (x * x + z * z), 2 * (y * z + x * w),     0,
         2 * (x * z + y * w),     2 * (y * z - x * w),     1 - 2 * (x * x + y * y), 0,
         0,                       0,                       0,                       1};
  }
  if (t.size() == 3) m[12] = t[0], m[13] = t[1], m[14] = t[2];
  return m;
}

template <typename T>
std::vector<T> read_accessor(const tinygltf::Model& model, int index, int component_type, int components) {
  const auto& accessor = model.accessors.at(index);
  EXPECT_EQ(accessor.componentType, component_type);
  const auto& view = model.bufferViews.at(accessor.bufferView);
  const auto& buffer = model.buffers.at(view.buffer);
  const std::size_t stride = view.byteStride ? view.byteStride : sizeof(T) * components;
  std::vector<T> values(accessor.count * components);
  EXPECT_LE(view.byteOffset + accessor.byteOffset + (accessor.count - 1) * stride + sizeof(T) * components,
            buffer.data.size());
  for (std::size_t i = 0; i < accessor.count; ++i)
    std::memcpy(&values[i * components], buffer.data.data() + view.byteOffset + accessor.byteOffset + i * stride,
                sizeof(T) * components);
  return values;
}

// The glTF animation sampled at `time` (LINEAR: lerp for translations, slerp for rotations, the
// spec's plain slerp: a key whose sign flipped would swing the long way), then forward
// kinematics over the node tree: every node's world matrix.
std::vector<Mat4> file_fk(const tinygltf::Model& model, double time) {
  std::vector<std::vector<double>> translation(model.nodes.size()), rotation(model.nodes.size());
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    translation[i] = model.nodes[i].translation;
    rotation[i] = model.nodes[i].rotation;
  }
  for (const auto& channel : model.animations.at(0).channels) {
    const auto& sampler = model.animations[0].samplers.at(channel.sampler);
    const auto times = read_accessor<float>(model, sampler.input, TINYGLTF_COMPONENT_TYPE_FLOAT, 1);
    const int n = channel.target_path == "rotation" ? 4 : 3;
    const auto values = read_accessor<float>(model, sampler.output, TINYGLTF_COMPONENT_TYPE_FLOAT, n);
    std::size_t k = 0;
    while (k + 2 < times.size() && times[k + 1] <= time) ++k;
    const double s = times.size() < 2 ? 0.0 : std::clamp((time - times[k]) / (times[k + 1] - times[k]), 0.0, 1.0);
    const std::size_t k1 = times.size() < 2 ? k : k + 1;
    std::vector<double> v(n);
    if (n == 3) {
      for (int c = 0; c < 3; ++c) v[c] = (1 - s) * values[k * 3 + c] + s * values[k1 * 3 + c];
      translation.at(channel.target_node) = v;
    } else {
      double dot = 0;
      for (int c = 0; c < 4; ++c) dot += double(values[k * 4 + c]) * values[k1 * 4 + c];
      const double angle = std::acos(std::clamp(dot, -1.0, 1.0));
      const double wa = angle < 1e-9 ? 1 - s : std::sin((1 - s) * angle) / std::sin(angle);
      const double wb = angle < 1e-9 ? s : std::sin(s * angle) / std::sin(angle);
      for (int c = 0; c < 4; ++c) v[c] = wa * values[k * 4 + c] + wb * values[k1 * 4 + c];
      const double norm = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]);
      for (double& c : v) c /= norm;
      rotation.at(channel.target_node) = v;
    }
  }
  std::vector<Mat4> world(model.nodes.size(), identity());
  std::vector<int> parent(model.nodes.size(), -1);
  for (std::size_t i = 0; i < model.nodes.size(); ++i)
    for (int c : model.nodes[i].children) parent.at(c) = static_cast<int>(i);
  // Parents come first in the export; assert it rather than sort.
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    EXPECT_LT(parent[i], static_cast<int>(i));
    const Mat4 local = trs(translation[i], rotation[i]);
    world[i] = parent[i] < 0 ? local : multiply(world[parent[i]], local);
  }
  return world;
}

Vec3 position(const Mat4& m) { return {m[12], m[13], m[14]}; }

tinygltf::Model load(const std::vector<unsigned char>& bytes) {
  tinygltf::Model model;
  tinygltf::TinyGLTF loader;
  std::string error, warning;
  const bool ok = loader.LoadBinaryFromMemory(&model, &error, &warning, bytes.data(),
                                              static_cast<unsigned int>(bytes.size()));
  EXPECT_TRUE(ok) << error;
  EXPECT_TRUE(warning.empty()) << warning;
  return model;
}

// The bones the figure should show, as (start joint, end joint or -1 with the end site).
std::vector<std::pair<int, int>> bones_of(const RigAnimation& a) {
  std::vector<std::pair<int, int>> bones;
  for (std::size_t j = 1; j < a.joints.size(); ++j)
    if (mocap::norm(a.joints[j].offset) > 0) bones.emplace_back(a.joints[j].parent, static_cast<int>(j));
  for (std::size_t j = 0; j < a.joints.size(); ++j)
    if (mocap::norm(a.joints[j].end_site) > 0) bones.emplace_back(static_cast<int>(j), -1);
  return bones;
}

// Checks that every 24-vertex box of `vertices` (world positions at one pose) lies along one
// bone: its extent along the bone runs from the bone's start to its end, its thickness is the
// export's 3.5 cm; every bone is covered by exactly one box.
void expect_boxes_on_bones(const RigAnimation& a, const Pose& pose, const std::vector<Vec3>& vertices,
                           double tolerance, const std::string& where) {
  const auto bones = bones_of(a);
  ASSERT_EQ(vertices.size(), bones.size() * 24) << where;
  std::vector<int> matched(bones.size(), 0);
  for (std::size_t box = 0; box < bones.size(); ++box) {
    Vec3 centroid;
    for (int i = 0; i < 24; ++i) centroid += vertices[box * 24 + i] * (1.0 / 24);
    // The bone whose midpoint is nearest.
    std::size_t best = 0;
    double best_distance = 1e9;
    std::vector<std::pair<Vec3, Vec3>> ends;
    for (std::size_t b = 0; b < bones.size(); ++b) {
      const Vec3 start = pose.position[bones[b].first];
      const Vec3 end = bones[b].second >= 0
                           ? pose.position[bones[b].second]
                           : start + mocap::rotate(pose.rotation[bones[b].first], a.joints[bones[b].first].end_site);
      ends.emplace_back(start, end);
      const double d = mocap::norm((start + end) * 0.5 - centroid);
      if (d < best_distance) best_distance = d, best = b;
    }
    ++matched[best];
    EXPECT_LT(best_distance, tolerance) << where << ": box " << box;
    const auto [start, end] = ends[best];
    const Vec3 axis = mocap::normalized(end - start);
    double lo = 1e9, hi = -1e9, widest = 0;
    for (int i = 0; i < 24; ++i) {
      const Vec3 r = vertices[box * 24 + i] - start;
      const double along = mocap::dot(r, axis);
      lo = std::min(lo, along), hi = std::max(hi, along);
      widest = std::max(widest, mocap::norm(r - axis * along));
    }
    EXPECT_NEAR(lo, 0.0, tolerance) << where << ": box " << box;
    EXPECT_NEAR(hi, mocap::norm(end - start), tolerance) << where << ": box " << box;
    EXPECT_NEAR(widest, 0.0175 * std::sqrt(2.0), tolerance) << where << ": box " << box;
  }
  for (std::size_t b = 0; b < bones.size(); ++b) EXPECT_EQ(matched[b], 1) << where << ": bone " << b;
}

}  // namespace

TEST(WildGltf, HierarchySkinAndAccessors) {
  const auto a = small_rig(12);
  const auto model = load(glb_bytes(a));
  EXPECT_EQ(model.asset.version, "2.0");
  EXPECT_EQ(model.asset.generator, "poselift");
  const std::size_t n = a.joints.size();
  ASSERT_EQ(model.nodes.size(), n + 1);  // the joints, then the mesh node
  for (std::size_t j = 0; j < n; ++j) {
    EXPECT_EQ(model.nodes[j].name, a.joints[j].name);
    std::vector<int> children;
    for (std::size_t c = 0; c < n; ++c)
      if (a.joints[c].parent == static_cast<int>(j)) children.push_back(static_cast<int>(c));
    EXPECT_EQ(model.nodes[j].children, children) << a.joints[j].name;
    ASSERT_EQ(model.nodes[j].translation.size(), 3u);
    EXPECT_EQ(model.nodes[j].translation[1], a.joints[j].offset.y);
    EXPECT_TRUE(model.nodes[j].rotation.empty());  // rest = identity
  }
  ASSERT_EQ(model.scenes.size(), 1u);
  EXPECT_EQ(model.defaultScene, 0);
  EXPECT_EQ(model.scenes[0].nodes, (std::vector<int>{0, static_cast<int>(n)}));
  const auto& figure = model.nodes[n];
  EXPECT_EQ(figure.mesh, 0);
  EXPECT_EQ(figure.skin, 0);
  EXPECT_TRUE(figure.translation.empty() && figure.rotation.empty() && figure.matrix.empty());

  ASSERT_EQ(model.skins.size(), 1u);
  const auto& skin = model.skins[0];
  EXPECT_EQ(skin.joints.size(), n);
  for (std::size_t j = 0; j < n; ++j) EXPECT_EQ(skin.joints[j], static_cast<int>(j));
  EXPECT_EQ(skin.skeleton, 0);
  const auto inverse_bind = read_accessor<float>(model, skin.inverseBindMatrices, TINYGLTF_COMPONENT_TYPE_FLOAT, 16);
  ASSERT_EQ(inverse_bind.size(), 16 * n);
  EXPECT_EQ(model.accessors[skin.inverseBindMatrices].type, TINYGLTF_TYPE_MAT4);
  // Each inverse bind matrix times the joint's rest world matrix (node tree, no animation) is the identity.
  std::vector<Mat4> rest(n);
  for (std::size_t j = 0; j < n; ++j) {
    const Mat4 local = trs(model.nodes[j].translation, model.nodes[j].rotation);
    rest[j] = a.joints[j].parent < 0 ? local : multiply(rest[a.joints[j].parent], local);
    Mat4 ibm;
    for (int k = 0; k < 16; ++k) ibm[k] = inverse_bind[16 * j + k];
    const Mat4 product = multiply(ibm, rest[j]);
    for (int k = 0; k < 16; ++k) EXPECT_NEAR(product[k], identity()[k], 1e-6) << a.joints[j].name << " " << k;
  }

  ASSERT_EQ(model.meshes.size(), 1u);
  ASSERT_EQ(model.meshes[0].primitives.size(), 1u);
  const auto& primitive = model.meshes[0].primitives[0];
  EXPECT_EQ(primitive.mode, TINYGLTF_MODE_TRIANGLES);
  ASSERT_EQ(model.materials.size(), 1u);
  EXPECT_EQ(primitive.material, 0);
  const std::size_t bones = bones_of(a).size();  // 6 bones between joints + 3 end sites
  ASSERT_EQ(bones, 9u);
  for (const char* attribute : {"POSITION", "NORMAL", "JOINTS_0", "WEIGHTS_0"}) {
    ASSERT_TRUE(primitive.attributes.count(attribute)) << attribute;
    EXPECT_EQ(model.accessors[primitive.attributes.at(attribute)].count, bones * 24) << attribute;
  }
  EXPECT_EQ(model.accessors[primitive.indices].count, bones * 36);
  const auto& position_accessor = model.accessors[primitive.attributes.at("POSITION")];
  const auto positions = read_accessor<float>(model, primitive.attributes.at("POSITION"), TINYGLTF_COMPONENT_TYPE_FLOAT, 3);
  const auto normals = read_accessor<float>(model, primitive.attributes.at("NORMAL"), TINYGLTF_COMPONENT_TYPE_FLOAT, 3);
  const auto joints = read_accessor<std::uint16_t>(model, primitive.attributes.at("JOINTS_0"),
                                                   TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT, 4);
  const auto weights = read_accessor<float>(model, primitive.attributes.at("WEIGHTS_0"), TINYGLTF_COMPONENT_TYPE_FLOAT, 4);
  const auto indices = read_accessor<std::uint32_t>(model, primitive.indices, TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT, 1);
  // The spec requires POSITION's bounds: exactly the data's.
  ASSERT_EQ(position_accessor.minValues.size(), 3u);
  ASSERT_EQ(position_accessor.maxValues.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    float lo = 1e9f, hi = -1e9f;
    for (std::size_t i = c; i < positions.size(); i += 3) lo = std::min(lo, positions[i]), hi = std::max(hi, positions[i]);
    EXPECT_EQ(position_accessor.minValues[c], lo);
    EXPECT_EQ(position_accessor.maxValues[c], hi);
  }
  for (std::size_t v = 0; v < bones * 24; ++v) {
    EXPECT_EQ(weights[4 * v], 1.0f);
    EXPECT_EQ(weights[4 * v + 1] + weights[4 * v + 2] + weights[4 * v + 3], 0.0f);
    EXPECT_LT(joints[4 * v], n);
    const Vec3 normal{normals[3 * v], normals[3 * v + 1], normals[3 * v + 2]};
    EXPECT_NEAR(mocap::norm(normal), 1.0, 1e-6);
  }
  // Triangles wind counter-clockwise seen from outside: their geometric normal is the vertices'
  // normal, which points away from the box's centre.
  for (std::size_t i = 0; i < indices.size(); i += 3) {
    Vec3 p[3];
    for (int k = 0; k < 3; ++k) {
      ASSERT_LT(indices[i + k], bones * 24);
      p[k] = {positions[3 * indices[i + k]], positions[3 * indices[i + k] + 1], positions[3 * indices[i + k] + 2]};
    }
    const Vec3 face = mocap::normalized(mocap::cross(p[1] - p[0], p[2] - p[0]));
    const std::size_t v = indices[i];
    const Vec3 normal{normals[3 * v], normals[3 * v + 1], normals[3 * v + 2]};
    EXPECT_GT(mocap::dot(face, normal), 0.999) << "triangle " << i / 3;
    Vec3 centre;
    for (std::size_t k = v / 24 * 24; k < v / 24 * 24 + 24; ++k)
      centre += Vec3{positions[3 * k], positions[3 * k + 1], positions[3 * k + 2]} * (1.0 / 24);
    EXPECT_GT(mocap::dot(p[0] - centre, normal), 0.0) << "triangle " << i / 3;
  }
  // The rest pose's boxes lie on the rest skeleton.
  std::vector<Vec3> rest_vertices;
  for (std::size_t v = 0; v < bones * 24; ++v) rest_vertices.push_back({positions[3 * v], positions[3 * v + 1], positions[3 * v + 2]});
  Pose rest_pose;
  for (std::size_t j = 0; j < n; ++j) rest_pose.position.push_back(position(rest[j])), rest_pose.rotation.push_back(Quat{});
  expect_boxes_on_bones(a, rest_pose, rest_vertices, 1e-6, "rest");

  ASSERT_EQ(model.animations.size(), 1u);
  const auto& motion = model.animations[0];
  EXPECT_EQ(motion.channels.size(), n + 1);  // the root's translation, every joint's rotation
  std::map<std::string, int> paths;
  for (const auto& channel : motion.channels) {
    ++paths[channel.target_path];
    const auto& sampler = motion.samplers.at(channel.sampler);
    EXPECT_EQ(sampler.interpolation, "LINEAR");
    EXPECT_EQ(model.accessors[sampler.input].count, 12u);
    EXPECT_EQ(model.accessors[sampler.output].count, 12u);
    if (channel.target_path == "translation") {
      EXPECT_EQ(channel.target_node, 0);
    }
    if (channel.target_path == "rotation") {
      // Consecutive keys on the same hemisphere.
      const auto q = read_accessor<float>(model, sampler.output, TINYGLTF_COMPONENT_TYPE_FLOAT, 4);
      for (std::size_t t = 1; t < 12; ++t) {
        double dot = 0;
        for (int c = 0; c < 4; ++c) dot += double(q[4 * t + c]) * q[4 * (t - 1) + c];
        EXPECT_GT(dot, 0.0) << model.nodes[channel.target_node].name << " frame " << t;
      }
    }
  }
  EXPECT_EQ(paths["translation"], 1);
  EXPECT_EQ(paths["rotation"], static_cast<int>(n));
  const auto& times = model.accessors[motion.samplers[0].input];
  ASSERT_EQ(times.minValues.size(), 1u);
  ASSERT_EQ(times.maxValues.size(), 1u);
  EXPECT_EQ(times.minValues[0], 0.0);
  EXPECT_EQ(times.maxValues[0], static_cast<double>(static_cast<float>(11 / 25.0)));
}

TEST(WildGltf, AnimationAndSkinFollowTheRig) {
  const auto a = small_rig(12);
  const auto model = load(glb_bytes(a));
  const std::size_t n = a.joints.size();
  const auto& primitive = model.meshes.at(0).primitives.at(0);
  const auto positions = read_accessor<float>(model, primitive.attributes.at("POSITION"), TINYGLTF_COMPONENT_TYPE_FLOAT, 3);
  const auto joints = read_accessor<std::uint16_t>(model, primitive.attributes.at("JOINTS_0"),
                                                   TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT, 4);
  const auto ibm = read_accessor<float>(model, model.skins.at(0).inverseBindMatrices, TINYGLTF_COMPONENT_TYPE_FLOAT, 16);
  double worst_joint = 0;
  for (std::size_t t = 0; t < a.rotations.size(); ++t) {
    const Pose expected = rig_fk(a, a.root_positions[t], a.rotations[t]);
    const auto world = file_fk(model, static_cast<double>(t) / a.fps);
    for (std::size_t j = 0; j < n; ++j) {
      const double d = mocap::norm(position(world[j]) - expected.position[j]);
      worst_joint = std::max(worst_joint, d);
      EXPECT_LT(d, 1e-5) << "frame " << t << " " << a.joints[j].name;
    }
    // Skinning by the file's own joint matrices: world(joint) * inverseBind(joint) * vertex.
    std::vector<Vec3> skinned;
    for (std::size_t v = 0; v < positions.size() / 3; ++v) {
      const int j = model.skins[0].joints.at(joints[4 * v]);
      Mat4 inverse;
      for (int k = 0; k < 16; ++k) inverse[k] = ibm[16 * joints[4 * v] + k];
      skinned.push_back(transform(multiply(world[j], inverse), {positions[3 * v], positions[3 * v + 1], positions[3 * v + 2]}));
    }
    expect_boxes_on_bones(a, expected, skinned, 1e-5, "frame " + std::to_string(t));
  }
  // Halfway between frames a viewer blends: slerp of the rig's rotations along the shorter arc,
  // which the file's keys give only when their signs are continuous.
  for (std::size_t t = 0; t + 1 < a.rotations.size(); ++t) {
    std::vector<Quat> local;
    for (std::size_t j = 0; j < n; ++j) local.push_back(mocap::slerp(a.rotations[t][j], a.rotations[t + 1][j], 0.5));
    const Pose expected = rig_fk(a, mocap::lerp(a.root_positions[t], a.root_positions[t + 1], 0.5), local);
    const auto world = file_fk(model, (t + 0.5) / a.fps);
    for (std::size_t j = 0; j < n; ++j)
      EXPECT_LT(mocap::norm(position(world[j]) - expected.position[j]), 1e-5) << "frame " << t << ".5 " << a.joints[j].name;
  }
  RecordProperty("worst_joint_error_m", std::to_string(worst_joint));
}

TEST(WildGltf, SingleFrameAndFileWrite) {
  const auto a = small_rig(1);
  const auto dir = test::temp_dir("wild_gltf");
  const std::string path = dir + "/pose.glb";
  write_glb(path, a);
  tinygltf::Model model;
  tinygltf::TinyGLTF loader;
  std::string error, warning;
  ASSERT_TRUE(loader.LoadBinaryFromFile(&model, &error, &warning, path)) << error;
  EXPECT_EQ(model.accessors[model.animations.at(0).samplers.at(0).input].count, 1u);
  const Pose expected = rig_fk(a, a.root_positions[0], a.rotations[0]);
  const auto world = file_fk(model, 0.0);
  for (std::size_t j = 0; j < a.joints.size(); ++j)
    EXPECT_LT(mocap::norm(position(world[j]) - expected.position[j]), 1e-5) << a.joints[j].name;
  // The file is glb_bytes, and nothing else is left in the folder.
  const auto bytes = glb_bytes(a);
  EXPECT_EQ(test::read_text(path), std::string(bytes.begin(), bytes.end()));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(WildGltf, BadInputThrows) {
  const auto expect_error = [](const RigAnimation& a, const std::string& fragment) {
    try {
      glb_bytes(a);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(RigAnimation{}, "no joints");
  auto a = small_rig(3);
  a.root_positions.clear();
  a.rotations.clear();
  expect_error(a, "no frames");
  a = small_rig(3);
  a.rotations.pop_back();
  expect_error(a, "3 root positions but 2 frames of rotations");
  a = small_rig(3);
  a.rotations[1].pop_back();
  expect_error(a, "frame 1: 7 rotations for 8 joints");
  a = small_rig(3);
  a.rotations[2][4].x = std::nan("");
  expect_error(a, "frame 2, joint 4 (LeftUpLeg): rotation is not a unit quaternion");
  a = small_rig(3);
  a.rotations[0][1] = Quat{2, 0, 0, 0};
  expect_error(a, "rotation is not a unit quaternion (norm 2");
  a = small_rig(3);
  a.root_positions[1].y = INFINITY;
  expect_error(a, "frame 1: root position is not finite");
  a = small_rig(3);
  a.joints[5].offset.z = std::nan("");
  expect_error(a, "joint 5 (LeftLeg): rest offset is not finite");
  a = small_rig(3);
  a.joints[2].parent = 6;
  expect_error(a, "joint 2 (Head): parent 6, expected one of the joints before it");
  a = small_rig(3);
  a.joints[0].parent = 1;
  expect_error(a, "expected -1");
  a = small_rig(3);
  a.joints[3].name = "Spine";
  expect_error(a, "two joints are named 'Spine'");
  a = small_rig(3);
  a.fps = 0;
  expect_error(a, "fps");
  // write_glb names the file and writes nothing.
  const auto dir = test::temp_dir("wild_gltf_bad");
  a = small_rig(3);
  a.rotations.clear();
  try {
    write_glb(dir + "/bad.glb", a);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/bad.glb: glTF export:"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

// The node_modules folder of the .glb checks: $POSELIFT_THREE_MODULES, else where setup.sh puts it.
static std::string viewer_modules() {
  const char* env = std::getenv("POSELIFT_THREE_MODULES");
  return env && *env ? env : POSELIFT_GLTF_VIEWER_DIR "/node_modules";
}

// The Khronos glTF validator (npm's gltf-validator, under node) finds nothing to report in the
// export: neither errors nor warnings, infos or hints (accessor bounds, alignment, skin, animation).
TEST(WildGltf, KhronosValidatorFindsNoIssue) {
  const std::string modules = viewer_modules();
  if (test::run_command("command -v node >/dev/null") != 0) GTEST_SKIP() << "no node to run the glTF validator";
  if (!fs::exists(modules + "/gltf-validator/module.mjs"))
    GTEST_SKIP() << "no gltf-validator in " << modules
                 << " (npm install --prefix <build>/gltf-viewer gltf-validator, or POSELIFT_THREE_MODULES)";
  const auto dir = test::temp_dir("wild_gltf_validator");
  write_glb(dir + "/anim.glb", small_rig(12));
  write_glb(dir + "/pose.glb", small_rig(1));
  std::string out;
  ASSERT_EQ(test::run_command("node '" POSELIFT_SOURCE_DIR "/tests/core/gltf_viewer/validate.mjs' '" + modules + "' '" +
                                  dir + "/anim.glb' '" + dir + "/pose.glb'",
                              &out),
            0)
      << out;
  std::istringstream lines(out);
  std::string line;
  int files = 0;
  while (std::getline(lines, line)) {
    const auto report = nlohmann::json::parse(line);
    ++files;
    EXPECT_EQ(report["errors"], 0) << report.dump();
    EXPECT_EQ(report["warnings"], 0) << report.dump();
    EXPECT_EQ(report["infos"], 0) << report.dump();
    EXPECT_EQ(report["hints"], 0) << report.dump();
    RecordProperty("validator", report["validator"].get<std::string>());
  }
  EXPECT_EQ(files, 2) << out;
}

// three.js (a viewer that many tools build on) loads the file, plays the animation with its
// AnimationMixer and skins the mesh on the CPU (SkinnedMesh.getVertexPosition), in headless
// Chromium: joints and every box must land on the rig's bones within 1 mm, keys and halfway
// between them, and a render must cover pixels. three comes from npm into
// <build>/gltf-viewer/node_modules (scripts/setup.sh with POSELIFT_WITH_TEST_TOOLS=1) or
// $POSELIFT_THREE_MODULES (a node_modules folder holding three).
TEST(WildGltf, ThreeJsInHeadlessChromiumPlaysIt) {
  std::string chromium;
  for (const char* candidate : {"chromium", "chromium-browser", "google-chrome"})
    if (test::run_command(std::string("command -v ") + candidate + " >/dev/null") == 0) {
      chromium = candidate;
      break;
    }
  if (chromium.empty()) GTEST_SKIP() << "no chromium: the three.js check of the .glb needs a headless browser";
  const std::string modules = viewer_modules();
  if (!fs::exists(modules + "/three/build/three.module.js") ||
      !fs::exists(modules + "/three/examples/jsm/loaders/GLTFLoader.js"))
    GTEST_SKIP() << "no three.js in " << modules
                 << " (npm install --prefix <build>/gltf-viewer three, or POSELIFT_THREE_MODULES)";
  if (test::run_command("command -v python3 >/dev/null") != 0) GTEST_SKIP() << "no python3 to serve the page";

  const auto a = small_rig(12);
  const auto dir = test::temp_dir("wild_gltf_three");
  write_glb(dir + "/anim.glb", a);
  fs::create_directory_symlink(fs::absolute(modules), dir + "/node_modules");
  fs::copy_file(POSELIFT_SOURCE_DIR "/tests/core/gltf_viewer/check.html", dir + "/check.html");
  // Keys, and halfway between them (where three's slerp and the rig's blend must agree).
  std::vector<double> times;
  for (std::size_t t = 0; t < a.rotations.size(); ++t) {
    times.push_back(t / a.fps);
    if (t + 1 < a.rotations.size()) times.push_back((t + 0.5) / a.fps);
  }
  std::ostringstream list;
  for (std::size_t i = 0; i < times.size(); ++i) list << (i ? "," : "") << times[i];
  // Module scripts and fetches need http (file:// forbids them): a server on a free port,
  // stopped by its own pid.
  {
    std::ofstream script(dir + "/run.sh");
    script << "cd '" << dir << "'\n"
           << "python3 -u -m http.server 0 --bind 127.0.0.1 > server.log 2>&1 &\n"
           << "server=$!\n"
           << "for i in $(seq 100); do\n"
           << "  port=$(sed -n 's/.*port \\([0-9]*\\).*/\\1/p' server.log | head -n 1)\n"
           << "  [ -n \"$port\" ] && break; sleep 0.1\n"
           << "done\n"
           << "timeout 120 " << chromium
           << " --headless=new --no-sandbox --use-gl=swiftshader --enable-unsafe-swiftshader"
              " --virtual-time-budget=20000 --dump-dom"
              " \"http://127.0.0.1:$port/check.html?glb=anim.glb&times="
           << list.str() << "\" 2>/dev/null\n"
           << "status=$?\nkill $server\nexit $status\n";
  }
  std::string out;
  const int status = test::run_command("bash '" + dir + "/run.sh'", &out);
  ASSERT_EQ(status, 0) << out.substr(0, 2000);
  const std::string open = "<pre id=\"result\">";
  const auto begin = out.find(open);
  ASSERT_NE(begin, std::string::npos) << "no result in the DOM:\n" << out.substr(0, 2000);
  const auto end = out.find("</pre>", begin);
  const auto result = nlohmann::json::parse(out.substr(begin + open.size(), end - begin - open.size()));
  ASSERT_TRUE(result["ok"].get<bool>()) << result.dump();
  EXPECT_EQ(result["animations"], 1);
  EXPECT_EQ(result["tracks"], a.joints.size() + 1);
  for (std::size_t j = 0; j < a.joints.size(); ++j) EXPECT_EQ(result["names"][j], a.joints[j].name);
  ASSERT_EQ(result["frames"].size(), times.size());
  // The file's bind pose, and the rig's rest positions.
  const auto model = load(glb_bytes(a));
  const auto& primitive = model.meshes.at(0).primitives.at(0);
  const auto bind_positions =
      read_accessor<float>(model, primitive.attributes.at("POSITION"), TINYGLTF_COMPONENT_TYPE_FLOAT, 3);
  const auto bind_joints = read_accessor<std::uint16_t>(model, primitive.attributes.at("JOINTS_0"),
                                                        TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT, 4);
  std::vector<Vec3> rest;
  for (const auto& joint : a.joints) rest.push_back(joint.parent < 0 ? joint.offset : rest[joint.parent] + joint.offset);
  double worst_joint = 0, worst_vertex = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    const std::size_t t = i / 2;
    const bool halfway = i % 2 == 1;
    std::vector<Quat> local;
    for (std::size_t j = 0; j < a.joints.size(); ++j)
      local.push_back(halfway ? mocap::slerp(a.rotations[t][j], a.rotations[t + 1][j], 0.5) : a.rotations[t][j]);
    const Vec3 root = halfway ? mocap::lerp(a.root_positions[t], a.root_positions[t + 1], 0.5) : a.root_positions[t];
    const Pose expected = rig_fk(a, root, local);
    const auto& frame = result["frames"][i];
    const std::string where = "time " + std::to_string(times[i]);
    for (std::size_t j = 0; j < a.joints.size(); ++j) {
      const auto& p = frame["joints"][j];
      const double d = mocap::norm(Vec3{p[0], p[1], p[2]} - expected.position[j]);
      worst_joint = std::max(worst_joint, d);
      EXPECT_LT(d, 1e-3) << where << " " << a.joints[j].name;
    }
    std::vector<Vec3> vertices;
    for (const auto& v : frame["vertices"]) vertices.push_back({v[0], v[1], v[2]});
    expect_boxes_on_bones(a, expected, vertices, 1e-3, "three.js " + where);
    // Each vertex where its joint's pose carries it from the rest pose.
    for (std::size_t v = 0; v < vertices.size() && v < bind_joints.size() / 4; ++v) {
      const int j = bind_joints[4 * v];
      const Vec3 bind{bind_positions[3 * v], bind_positions[3 * v + 1], bind_positions[3 * v + 2]};
      const Vec3 want = expected.position[j] + mocap::rotate(expected.rotation[j], bind - rest[j]);
      worst_vertex = std::max(worst_vertex, mocap::norm(vertices[v] - want));
    }
  }
  EXPECT_LT(worst_vertex, 1e-3);
  EXPECT_GT(result.value("ink", 0), 100) << result.dump().substr(0, 300);  // the figure was drawn
  RecordProperty("three_revision", result["three"].get<std::string>());
  RecordProperty("worst_joint_error_m", std::to_string(worst_joint));
  RecordProperty("worst_vertex_error_m", std::to_string(worst_vertex));
  std::cout << "three.js r" << result["three"].get<std::string>() << ": " << times.size()
            << " times, worst joint error " << worst_joint << " m, worst vertex error " << worst_vertex
            << " m, render ink " << result.value("ink", 0) << " of "
            << result.value("pixels", 0) << " pixels\n";
}
