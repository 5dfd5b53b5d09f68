#include "wild/export.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/error.hpp"
#include "io/npy.hpp"
#include "io/file.hpp"
#include "io/text.hpp"
#include "io/zip_archive.hpp"

namespace poselift::wild {

namespace fs = std::filesystem;

OutputFormat output_format(const std::string& path) {
  const std::string ext = io::to_lower(fs::path(path).extension().string());
  if (ext == ".npz") return OutputFormat::Npz;
  if (ext == ".npy") return OutputFormat::Npy;
  if (ext == ".json") return OutputFormat::Json;
  if (ext == ".csv") return OutputFormat::Csv;
  if (ext == ".bvh") return OutputFormat::Bvh;
  if (ext == ".glb") return OutputFormat::Glb;
  throw InputError(path + ": unknown output format '" + ext + "' (expected .npz, .npy, .json, .csv, .bvh or .glb)");
}

std::string track_path(const std::string& path, std::size_t track) {
  const fs::path p(path);
  return (p.parent_path() / (p.stem().string() + ".track" + std::to_string(track) + p.extension().string())).string();
}

namespace {

io::NdArray positions_array(const LiftedSequence& s) {
  const auto T = static_cast<std::int64_t>(s.input.frames.size());
  return io::NdArray::from_vector<float>({T, h36m::kJoints, 3}, s.positions);
}

// The world-frame poses of `s`, which must have them.
std::vector<Pose3D> world_poses(const LiftedSequence& s) {
  if (s.world.empty()) throw std::logic_error("write_lifted: animation export needs the world-frame motion");
  std::vector<Pose3D> poses(s.world.size() / (h36m::kJoints * 3));
  for (std::size_t t = 0; t < poses.size(); ++t)
    for (std::size_t k = 0; k < h36m::kJoints; ++k) {
      const float* p = &s.world[(t * h36m::kJoints + k) * 3];
      poses[t][k] = mocap::Vec3{p[0], p[1], p[2]};
    }
  return poses;
}

}  // namespace

void write_lifted(const std::string& path, const LiftedSequence& s, const ExportOptions& options) {
  const std::size_t T = s.input.frames.size();
  if (s.positions.size() != T * h36m::kJoints * 3 || s.input.poses.size() != T ||
      (!s.trajectory.empty() && s.trajectory.size() != T * 3) ||
      (!s.world.empty() && s.world.size() != T * h36m::kJoints * 3) || (!s.contacts.empty() && s.contacts.size() != T * 2))
    throw std::logic_error("write_lifted: positions, trajectory, world, contacts and input have different lengths");
  const bool has_world = !s.world.empty(), has_contacts = !s.contacts.empty();
  const bool has_trajectory = !s.trajectory.empty();
  const auto& names = h36m::short_joint_names();
  switch (output_format(path)) {
    case OutputFormat::Npz: {
      std::vector<float> xy, scores;
      for (const auto& pose : s.input.poses)
        for (const auto& k : pose) xy.push_back(k[0]), xy.push_back(k[1]), scores.push_back(k[2]);
      const auto t = static_cast<std::int64_t>(T);
      std::vector<io::NpzMember> members;
      members.push_back({"positions_3d", positions_array(s), nullptr});
      members.push_back({"keypoints_2d", io::NdArray::from_vector<float>({t, h36m::kJoints, 2}, xy), nullptr});
      members.push_back({"scores", io::NdArray::from_vector<float>({t, h36m::kJoints}, scores), nullptr});
      if (has_trajectory) members.push_back({"trajectory", io::NdArray::from_vector<float>({t, 3}, s.trajectory), nullptr});
      members.push_back({"frames", io::NdArray::from_vector<std::int64_t>({t}, s.input.frames), nullptr});
      members.push_back({"image_size",
                         io::NdArray::from_vector<std::int64_t>({2}, std::vector<std::int64_t>{s.width, s.height}),
                         nullptr});
      if (has_world) {
        members.push_back({"positions_world", io::NdArray::from_vector<float>({t, h36m::kJoints, 3}, s.world), nullptr});
        members.push_back({"world_from_camera",
                           io::NdArray::from_vector<double>(
                               {3, 4}, std::vector<double>(s.world_from_camera.begin(), s.world_from_camera.end())),
                           nullptr});
      }
      if (has_contacts) members.push_back({"contacts", io::NdArray::from_vector<std::uint8_t>({t, 2}, s.contacts), nullptr});
      io::write_npz(path, members);
      return;
    }
    case OutputFormat::Npy:
      io::write_npy(path, positions_array(s));
      return;
    case OutputFormat::Json: {
      nlohmann::json j;
      j["format"] = "poselift-infer";
      j["joint_names"] = std::vector<std::string>(names.begin(), names.end());
      j["parents"] = std::vector<int>(h36m::parents().begin(), h36m::parents().end());
      j["fps"] = options.animation.fps;
      j["image_size"] = {s.width, s.height};
      j["units"] = s.units;
      j["coordinates"] = "camera space, root-relative: x right, y down, z away from the camera";
      if (has_world) {
        j["world_coordinates"] = "y up, the floor at y = 0, z towards the camera (level), metres";
        j["world_from_camera"] = nlohmann::json::array();
        for (int r = 0; r < 3; ++r)
          j["world_from_camera"].push_back({s.world_from_camera[static_cast<std::size_t>(4 * r)],
                                            s.world_from_camera[static_cast<std::size_t>(4 * r + 1)],
                                            s.world_from_camera[static_cast<std::size_t>(4 * r + 2)],
                                            s.world_from_camera[static_cast<std::size_t>(4 * r + 3)]});
      }
      auto& frames = j["frames"] = nlohmann::json::array();
      for (std::size_t t = 0; t < T; ++t) {
        nlohmann::json f;
        f["frame"] = s.input.frames[t];
        auto& p3 = f["positions_3d"] = nlohmann::json::array();
        auto& p2 = f["keypoints_2d"] = nlohmann::json::array();
        auto& sc = f["scores"] = nlohmann::json::array();
        for (int k = 0; k < h36m::kJoints; ++k) {
          const float* p = &s.positions[(t * h36m::kJoints + static_cast<std::size_t>(k)) * 3];
          p3.push_back({p[0], p[1], p[2]});
          const auto& kp = s.input.poses[t][static_cast<std::size_t>(k)];
          p2.push_back({kp[0], kp[1]});
          sc.push_back(kp[2]);
        }
        if (has_trajectory) f["trajectory"] = {s.trajectory[3 * t], s.trajectory[3 * t + 1], s.trajectory[3 * t + 2]};
        if (has_world) {
          auto& w = f["positions_world"] = nlohmann::json::array();
          for (std::size_t k = 0; k < h36m::kJoints; ++k) {
            const float* p = &s.world[(t * h36m::kJoints + k) * 3];
            w.push_back({p[0], p[1], p[2]});
          }
        }
        if (has_contacts) f["contacts"] = {s.contacts[2 * t], s.contacts[2 * t + 1]};
        frames.push_back(std::move(f));
      }
      io::write_file_atomic(path, j.dump() + "\n");
      return;
    }
    case OutputFormat::Csv: {
      std::string out = "frame";
      for (const char* n : names) out += fmt::format(",{0}_x,{0}_y,{0}_z", n);
      if (has_trajectory) out += ",trajectory_x,trajectory_y,trajectory_z";
      out += "\n";
      for (std::size_t t = 0; t < T; ++t) {
        out += std::to_string(s.input.frames[t]);
        for (std::size_t k = 0; k < h36m::kJoints * 3; ++k)
          out += fmt::format(",{:.6f}", s.positions[t * h36m::kJoints * 3 + k]);
        if (has_trajectory)
          for (std::size_t c = 0; c < 3; ++c) out += fmt::format(",{:.6f}", s.trajectory[3 * t + c]);
        out += "\n";
      }
      io::write_file_atomic(path, out);
      return;
    }
    case OutputFormat::Bvh:
      io::write_file_atomic(path, bvh_text(animate_rig(world_poses(s), options.animation)));
      return;
    case OutputFormat::Glb: {
      RigOptions gltf = options.animation;  // glTF's own axes: y up, the front facing +z
      gltf.up = Axis{1, 1};
      gltf.forward = Axis{2, 1};
      write_glb(path, animate_rig(world_poses(s), gltf));
      return;
    }
  }
}

}  // namespace poselift::wild

namespace poselift::wild {

namespace {

// Member `name` of `npz`, numeric, of `shape` (-1: any length); `expected` describes it in errors.
const io::NdArray& numeric_member(const io::NpzFile& npz, const std::string& path, const std::string& name,
                                  const std::vector<std::int64_t>& shape, const std::string& expected) {
  if (!npz.contains(name))
    throw InputError(fmt::format("{}: missing member '{}' (expected {})", path, name, expected));
  const io::NpyContent& content = npz.at(name, path);
  bool ok = !content.is_object() && content.array.shape.size() == shape.size();
  for (std::size_t i = 0; ok && i < shape.size(); ++i)
    ok = shape[i] < 0 || content.array.shape[i] == shape[i];
  if (!ok || content.array.dtype == io::DType::Bool)
    throw InputError(fmt::format("{}: member '{}' should be {}, found {}", path, name, expected,
                                 content.is_object() ? std::string("an object array")
                                                     : io::dtype_name(content.array.dtype) + " " +
                                                           content.array.shape_string()));
  return content.array;
}

}  // namespace

LiftedSequence read_lifted_npz(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path + ": no such file");
  const io::NpzFile npz = io::read_npz(path);
  const auto& positions = numeric_member(npz, path, "positions_3d", {-1, h36m::kJoints, 3}, "float32 (T, 17, 3)");
  const std::int64_t T = positions.shape[0];
  const auto& keypoints =
      numeric_member(npz, path, "keypoints_2d", {T, h36m::kJoints, 2}, fmt::format("({}, 17, 2)", T));
  const auto& frames = numeric_member(npz, path, "frames", {T}, fmt::format("int64 ({},)", T));
  const auto& image_size = numeric_member(npz, path, "image_size", {2}, "int64 (2,) [width, height]");
  const auto size = image_size.to_doubles();
  if (!(size[0] >= 1 && size[1] >= 1 && size[0] < 1e5 && size[1] < 1e5))
    throw InputError(fmt::format("{}: member 'image_size' should be a positive [width, height], found [{}, {}]", path,
                                 size[0], size[1]));
  std::vector<float> scores;
  if (npz.contains("scores"))
    scores = numeric_member(npz, path, "scores", {T, h36m::kJoints}, fmt::format("float32 ({}, 17)", T)).to_floats();
  LiftedSequence s;
  s.positions = positions.to_floats();
  if (npz.contains("trajectory"))
    s.trajectory = numeric_member(npz, path, "trajectory", {T, 3}, fmt::format("float32 ({}, 3)", T)).to_floats();
  if (npz.contains("positions_world")) {
    s.world = numeric_member(npz, path, "positions_world", {T, h36m::kJoints, 3}, fmt::format("float32 ({}, 17, 3)", T))
                  .to_floats();
    const auto rt = numeric_member(npz, path, "world_from_camera", {3, 4}, "float64 (3, 4) [R | t]").to_doubles();
    std::copy(rt.begin(), rt.end(), s.world_from_camera.begin());
  }
  if (npz.contains("contacts"))
    for (double c : numeric_member(npz, path, "contacts", {T, 2}, fmt::format("uint8 ({}, 2)", T)).to_doubles())
      s.contacts.push_back(c != 0.0);
  s.width = static_cast<int>(size[0]);
  s.height = static_cast<int>(size[1]);
  for (double f : frames.to_doubles()) s.input.frames.push_back(static_cast<std::int64_t>(f));
  const std::vector<float> xy = keypoints.to_floats();
  s.input.poses.resize(static_cast<std::size_t>(T));
  for (std::size_t t = 0; t < s.input.poses.size(); ++t)
    for (std::size_t k = 0; k < h36m::kJoints; ++k) {
      const std::size_t i = t * h36m::kJoints + k;
      s.input.poses[t][k] = {xy[2 * i], xy[2 * i + 1], scores.empty() ? 0.0f : scores[i]};
    }
  return s;
}

}  // namespace poselift::wild
