#include "wild/gltf_export.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>

#include "io/error.hpp"
#include "io/file.hpp"
#include "wild/tinygltf.hpp"

namespace poselift::wild {

using mocap::Quat;
using mocap::Vec3;

namespace {

constexpr double kBoxHalfWidth = 0.0175;  // 3.5 cm thick bones: visible, yet thinner than a limb
constexpr int kArrayBuffer = 34962, kElementArrayBuffer = 34963;  // bufferView targets

[[noreturn]] void fail(const std::string& message) { throw InputError("glTF export: " + message); }

bool finite(const Vec3& v) { return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z); }

std::string joint_label(const RigAnimation& animation, std::size_t j) {
  return "joint " + std::to_string(j) + " (" + animation.joints[j].name + ")";
}

void validate(const RigAnimation& a) {
  const std::size_t n = a.joints.size();
  if (n == 0) fail("the rig has no joints");
  // JOINTS_0 holds unsigned shorts.
  if (n > std::numeric_limits<std::uint16_t>::max()) fail(std::to_string(n) + " joints (at most 65535)");
  std::set<std::string> names;
  for (std::size_t j = 0; j < n; ++j) {
    const RigJoint& joint = a.joints[j];
    if (joint.name.empty()) fail("joint " + std::to_string(j) + " has no name");
    if (!names.insert(joint.name).second) fail("two joints are named '" + joint.name + "' (names must be unique)");
    if (j == 0 && joint.parent != -1)
      fail(joint_label(a, j) + ": parent " + std::to_string(joint.parent) + ", expected -1 (the root comes first)");
    if (j > 0 && (joint.parent < 0 || static_cast<std::size_t>(joint.parent) >= j))
      fail(joint_label(a, j) + ": parent " + std::to_string(joint.parent) + ", expected one of the joints before it (0.." +
           std::to_string(j - 1) + ")");
    if (!finite(joint.offset)) fail(joint_label(a, j) + ": rest offset is not finite");
    if (!finite(joint.end_site)) fail(joint_label(a, j) + ": end site is not finite");
  }
  if (!(std::isfinite(a.fps) && a.fps > 0.0)) fail("fps " + std::to_string(a.fps) + ", expected a positive number");
  const std::size_t frames = a.root_positions.size();
  if (frames == 0) fail("the animation has no frames");
  if (a.rotations.size() != frames)
    fail(std::to_string(frames) + " root positions but " + std::to_string(a.rotations.size()) +
         " frames of rotations (expected as many)");
  for (std::size_t t = 0; t < frames; ++t) {
    if (!finite(a.root_positions[t])) fail("frame " + std::to_string(t) + ": root position is not finite");
    if (a.rotations[t].size() != n)
      fail("frame " + std::to_string(t) + ": " + std::to_string(a.rotations[t].size()) + " rotations for " +
           std::to_string(n) + " joints");
    for (std::size_t j = 0; j < n; ++j) {
      const Quat& q = a.rotations[t][j];
      const double norm = std::sqrt(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
      if (!std::isfinite(norm) || std::abs(norm - 1.0) > 1e-3)
        fail("frame " + std::to_string(t) + ", " + joint_label(a, j) + ": rotation is not a unit quaternion (norm " +
             std::to_string(norm) + ")");
    }
  }
}

// Appends data to the single buffer, each bufferView 4-byte aligned as float accessors need.
class BufferWriter {
 public:
  explicit BufferWriter(tinygltf::Model& model) : model_(model) { model_.buffers.emplace_back(); }

  template <typename T>
  int accessor(const std::vector<T>& values, int component_type, int type, int components, int target,
               bool with_bounds) {
    auto& data = model_.buffers[0].data;
    data.resize((data.size() + 3) / 4 * 4, 0);
    tinygltf::BufferView view;
    view.buffer = 0;
    view.byteOffset = data.size();
    view.byteLength = values.size() * sizeof(T);
    view.target = target;
    const std::size_t start = data.size();
    data.resize(start + view.byteLength);
    std::memcpy(data.data() + start, values.data(), view.byteLength);
    model_.bufferViews.push_back(view);

    tinygltf::Accessor accessor;
    accessor.bufferView = static_cast<int>(model_.bufferViews.size()) - 1;
    accessor.componentType = component_type;
    accessor.type = type;
    accessor.count = values.size() / components;
    if (with_bounds) {
      accessor.minValues.assign(components, std::numeric_limits<double>::infinity());
      accessor.maxValues.assign(components, -std::numeric_limits<double>::infinity());
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto c = i % components;
        accessor.minValues[c] = std::min(accessor.minValues[c], static_cast<double>(values[i]));
        accessor.maxValues[c] = std::max(accessor.maxValues[c], static_cast<double>(values[i]));
      }
    }
    model_.accessors.push_back(accessor);
    return static_cast<int>(model_.accessors.size()) - 1;
  }

 private:
  tinygltf::Model& model_;
};

struct Geometry {
  std::vector<float> positions, normals, weights;
  std::vector<std::uint16_t> joints;
  std::vector<std::uint32_t> indices;

  void push(std::vector<float>& out, const Vec3& v) {
    out.push_back(static_cast<float>(v.x));
    out.push_back(static_cast<float>(v.y));
    out.push_back(static_cast<float>(v.z));
  }

  // A box from `a` to `b` (rest pose, world), every vertex bound to `joint`: 6 faces of 4
  // vertices each so that the normals stay flat, triangles counter-clockwise seen from outside.
  void add_bone(const Vec3& a, const Vec3& b, int joint) {
    const Vec3 along = mocap::normalized(b - a);
    // The coordinate axis least aligned with the bone gives a well-conditioned perpendicular.
    const double ax = std::abs(along.x), ay = std::abs(along.y), az = std::abs(along.z);
    const Vec3 helper = ax <= ay && ax <= az ? Vec3{1, 0, 0} : (ay <= az ? Vec3{0, 1, 0} : Vec3{0, 0, 1});
    const Vec3 u = mocap::normalized(mocap::cross(along, helper));
    const Vec3 v = mocap::cross(along, u);  // (along, u, v) right-handed
    const Vec3 axes[3] = {along, u, v};
    const double half[3] = {mocap::norm(b - a) / 2.0, kBoxHalfWidth, kBoxHalfWidth};
    const Vec3 centre = (a + b) * 0.5;
    for (int k = 0; k < 3; ++k)
      for (int sign : {1, -1}) {
        const Vec3 normal = axes[k] * sign;
        // (t1, t2, normal) right-handed: corners in the order below run counter-clockwise.
        int k1 = (k + 1) % 3, k2 = (k + 2) % 3;
        if (sign < 0) std::swap(k1, k2);
        const Vec3 face = centre + normal * half[k];
        const auto first = static_cast<std::uint32_t>(positions.size() / 3);
        for (const auto& [s1, s2] : {std::pair{-1, -1}, std::pair{1, -1}, std::pair{1, 1}, std::pair{-1, 1}}) {
          push(positions, face + axes[k1] * (s1 * half[k1]) + axes[k2] * (s2 * half[k2]));
          push(normals, normal);
          joints.insert(joints.end(), {static_cast<std::uint16_t>(joint), 0, 0, 0});
          weights.insert(weights.end(), {1.0f, 0.0f, 0.0f, 0.0f});
        }
        indices.insert(indices.end(), {first, first + 1, first + 2, first, first + 2, first + 3});
      }
  }
};

}  // namespace

std::vector<unsigned char> glb_bytes(const RigAnimation& animation) {
  validate(animation);
  const auto& joints = animation.joints;
  const std::size_t n = joints.size(), frames = animation.root_positions.size();

  tinygltf::Model model;
  model.asset.version = "2.0";
  model.asset.generator = "poselift";
  BufferWriter buffer(model);

  // Rest pose: identity rotations, so a joint's rest world transform is a translation.
  std::vector<Vec3> rest(n);
  for (std::size_t j = 0; j < n; ++j) {
    rest[j] = joints[j].parent < 0 ? joints[j].offset : rest[joints[j].parent] + joints[j].offset;
    tinygltf::Node node;
    node.name = joints[j].name;
    node.translation = {joints[j].offset.x, joints[j].offset.y, joints[j].offset.z};
    model.nodes.push_back(node);
    if (joints[j].parent >= 0) model.nodes[joints[j].parent].children.push_back(static_cast<int>(j));
  }

  tinygltf::Scene scene;
  scene.nodes.push_back(0);

  // Skin: joint i of the skin is node i.
  tinygltf::Skin skin;
  skin.name = "skeleton";
  skin.skeleton = 0;
  std::vector<float> inverse_bind;
  for (std::size_t j = 0; j < n; ++j) {
    skin.joints.push_back(static_cast<int>(j));
    // Column-major 4x4: identity with the translation -rest in the last column.
    const float m[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, static_cast<float>(-rest[j].x),
                         static_cast<float>(-rest[j].y), static_cast<float>(-rest[j].z), 1};
    inverse_bind.insert(inverse_bind.end(), m, m + 16);
  }
  skin.inverseBindMatrices =
      buffer.accessor(inverse_bind, TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_MAT4, 16, 0, false);
  model.skins.push_back(skin);

  Geometry geometry;
  for (std::size_t j = 1; j < n; ++j)
    if (mocap::norm(joints[j].offset) > 1e-9) geometry.add_bone(rest[joints[j].parent], rest[j], joints[j].parent);
  for (std::size_t j = 0; j < n; ++j)
    if (mocap::norm(joints[j].end_site) > 1e-9)
      geometry.add_bone(rest[j], rest[j] + joints[j].end_site, static_cast<int>(j));
  if (!geometry.indices.empty()) {
    tinygltf::Material material;
    material.name = "poselift";
    material.pbrMetallicRoughness.baseColorFactor = {0.72, 0.76, 0.82, 1.0};
    material.pbrMetallicRoughness.metallicFactor = 0.0;
    material.pbrMetallicRoughness.roughnessFactor = 0.7;
    model.materials.push_back(material);

    tinygltf::Primitive primitive;
    primitive.mode = TINYGLTF_MODE_TRIANGLES;
    primitive.material = 0;
    primitive.attributes["POSITION"] = buffer.accessor(geometry.positions, TINYGLTF_COMPONENT_TYPE_FLOAT,
                                                       TINYGLTF_TYPE_VEC3, 3, kArrayBuffer, true);
    primitive.attributes["NORMAL"] = buffer.accessor(geometry.normals, TINYGLTF_COMPONENT_TYPE_FLOAT,
                                                     TINYGLTF_TYPE_VEC3, 3, kArrayBuffer, false);
    primitive.attributes["JOINTS_0"] = buffer.accessor(geometry.joints, TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT,
                                                       TINYGLTF_TYPE_VEC4, 4, kArrayBuffer, false);
    primitive.attributes["WEIGHTS_0"] = buffer.accessor(geometry.weights, TINYGLTF_COMPONENT_TYPE_FLOAT,
                                                        TINYGLTF_TYPE_VEC4, 4, kArrayBuffer, false);
    primitive.indices = buffer.accessor(geometry.indices, TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT,
                                        TINYGLTF_TYPE_SCALAR, 1, kElementArrayBuffer, false);
    tinygltf::Mesh mesh;
    mesh.name = "figure";
    mesh.primitives.push_back(primitive);
    model.meshes.push_back(mesh);

    // A skinned mesh's own node transform is ignored by viewers: the mesh node sits at the scene root.
    tinygltf::Node node;
    node.name = "figure";
    node.mesh = 0;
    node.skin = 0;
    model.nodes.push_back(node);
    scene.nodes.push_back(static_cast<int>(model.nodes.size()) - 1);
  }
  model.scenes.push_back(scene);
  model.defaultScene = 0;

  tinygltf::Animation motion;
  motion.name = "motion";
  std::vector<float> times(frames);
  for (std::size_t t = 0; t < frames; ++t) {
    times[t] = static_cast<float>(static_cast<double>(t) / animation.fps);
    if (t > 0 && !(times[t] > times[t - 1]))
      fail(std::to_string(frames) + " frames at " + std::to_string(animation.fps) +
           " fps: key times no longer increase in float32");
  }
  const int input = buffer.accessor(times, TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_SCALAR, 1, 0, true);
  const auto add_channel = [&](int node, const char* path, int output) {
    tinygltf::AnimationSampler sampler;
    sampler.input = input;
    sampler.output = output;
    sampler.interpolation = "LINEAR";
    motion.samplers.push_back(sampler);
    tinygltf::AnimationChannel channel;
    channel.sampler = static_cast<int>(motion.samplers.size()) - 1;
    channel.target_node = node;
    channel.target_path = path;
    motion.channels.push_back(channel);
  };
  std::vector<float> root(frames * 3);
  for (std::size_t t = 0; t < frames; ++t) {
    root[3 * t] = static_cast<float>(animation.root_positions[t].x);
    root[3 * t + 1] = static_cast<float>(animation.root_positions[t].y);
    root[3 * t + 2] = static_cast<float>(animation.root_positions[t].z);
  }
  add_channel(0, "translation",
              buffer.accessor(root, TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, 3, 0, true));
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<float> rotation(frames * 4);
    Quat previous;
    for (std::size_t t = 0; t < frames; ++t) {
      Quat q = mocap::normalized(animation.rotations[t][j]);
      // q and -q are the same rotation, but LINEAR blends the components: a sign flip between
      // two keys would swing the joint through the long way round.
      if (t > 0 && q.w * previous.w + q.x * previous.x + q.y * previous.y + q.z * previous.z < 0.0)
        q = {-q.w, -q.x, -q.y, -q.z};
      previous = q;
      rotation[4 * t] = static_cast<float>(q.x);
      rotation[4 * t + 1] = static_cast<float>(q.y);
      rotation[4 * t + 2] = static_cast<float>(q.z);
      rotation[4 * t + 3] = static_cast<float>(q.w);
    }
    add_channel(static_cast<int>(j), "rotation",
                buffer.accessor(rotation, TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC4, 4, 0, false));
  }
  model.animations.push_back(motion);

  auto& data = model.buffers[0].data;
  data.resize((data.size() + 3) / 4 * 4, 0);
  // A .glb's lengths are 32-bit; leave room for the JSON chunk.
  if (data.size() > 0xF0000000u) fail(std::to_string(data.size()) + " bytes of binary data exceed the .glb's 4 GiB");
  std::ostringstream out;
  tinygltf::TinyGLTF writer;
  if (!writer.WriteGltfSceneToStream(&model, out, false, true)) fail("tinygltf could not serialise the model");
  const std::string bytes = out.str();
  return {bytes.begin(), bytes.end()};
}

void write_glb(const std::string& path, const RigAnimation& animation) {
  std::vector<unsigned char> bytes;
  try {
    bytes = glb_bytes(animation);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  io::write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace poselift::wild
