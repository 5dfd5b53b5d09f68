#include "mocap/dataset_writer.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>

#include "data/dataset.hpp"
#include "io/error.hpp"
#include "io/npy.hpp"
#include "mocap/cameras.hpp"
#include "mocap/quality.hpp"
#include "mocap/random.hpp"

namespace poselift::mocap {

namespace {

using io::Value;
using io::ValuePtr;

ValuePtr int_list(const std::vector<int>& values) {
  std::vector<ValuePtr> items;
  for (int v : values) items.push_back(Value::from_int(v));
  return Value::list(std::move(items));
}

ValuePtr keypoints_metadata() {
  return Value::dict({{Value::from_str("layout_name"), Value::from_str("h36m")},
                      {Value::from_str("num_joints"), Value::from_int(h36m::kJoints)},
                      {Value::from_str("keypoints_symmetry"),
                       Value::list({int_list(h36m::joints_left()), int_list(h36m::joints_right())})}});
}

io::NdArray world_array(const std::vector<Vec3>& positions) {
  std::vector<float> values;
  values.reserve(positions.size() * 3);
  for (const Vec3& p : positions)
    for (int k = 0; k < 3; ++k) values.push_back(static_cast<float>(p[k]));
  return io::NdArray::from_vector<float>({static_cast<std::int64_t>(positions.size() / h36m::kJoints), h36m::kJoints, 3}, values);
}

}  // namespace

void check_dataset_name(const std::string& name, const std::string& what) {
  bool ok = !name.empty() && name.front() != '.';
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  if (!ok)
    throw InputError(what + ": '" + name + "' is not a valid name (use letters, digits, '_', '-', '.'; "
                     "it becomes part of a file name)");
}

namespace {

// Turns a dataset into the dictionaries of VideoPose3D's files, subject by subject, then writes
// the files: positions and cameras (data_3d_NAME.npz), the ground-truth 2D keypoints and one
// 2D file per noisy variant (data_2d_NAME_VARIANT.npz).
class DatasetWriter {
 public:
  DatasetWriter(const PoseDataset& dataset, const std::string& name, const std::vector<NoisyVariant>& variants,
                std::uint64_t seed)
      : dataset_(dataset),
        name_(name),
        variants_(variants),
        seed_(seed),
        positions_noisy_(variants.size()),
        noisy_error_sum_(variants.size(), 0.0) {}

  void add_subject(const PoseSubject& subject);
  WrittenDataset write(const std::string& output_dir);

 private:
  using Entries = std::vector<std::pair<ValuePtr, ValuePtr>>;
  // One action seen by each camera: ground truth, and per variant the noisy keypoints.
  struct Views {
    std::vector<ValuePtr> gt;
    std::vector<std::vector<ValuePtr>> noisy;
  };

  std::string where(const PoseSubject& subject, const PoseAction& action) const {
    return "dataset '" + name_ + "': " + subject.name + " / " + action.name;
  }
  void check_positions(const PoseSubject& subject, const PoseAction& action) const;
  Views project(const PoseSubject& subject, const PoseAction& action);

  const PoseDataset& dataset_;
  const std::string& name_;
  const std::vector<NoisyVariant>& variants_;
  std::uint64_t seed_;
  WrittenDataset written_;
  Entries positions_3d_, cameras_, positions_gt_;
  std::vector<Entries> positions_noisy_;  // per variant
  std::vector<double> noisy_error_sum_;   // per variant: mean pixel error times points
  std::int64_t inside_ = 0, noisy_points_ = 0;
};

void DatasetWriter::check_positions(const PoseSubject& subject, const PoseAction& action) const {
  if (action.positions.empty() || action.positions.size() % h36m::kJoints != 0)
    throw InputError(where(subject, action) + ": expected a non-empty (frames, 17, 3) sequence");
  for (std::size_t i = 0; i < action.positions.size(); ++i) {
    const Vec3& p = action.positions[i];
    // Written as float32: beyond its range a position would become inf.
    constexpr double kMax = std::numeric_limits<float>::max();
    if (!(std::fabs(p.x) <= kMax && std::fabs(p.y) <= kMax && std::fabs(p.z) <= kMax))
      throw InputError(where(subject, action) + ": frame " + std::to_string(i / h36m::kJoints) + ", joint " +
                       std::to_string(i % h36m::kJoints) + ": position is not a finite float32 number");
  }
}

DatasetWriter::Views DatasetWriter::project(const PoseSubject& subject, const PoseAction& action) {
  Views views;
  views.noisy.resize(variants_.size());
  for (std::size_t c = 0; c < subject.cameras.size(); ++c) {
    const data::Camera& camera = subject.cameras[c];
    io::NdArray pixels = project_to_pixels(action.positions, camera);
    const float* projected = pixels.data<float>();
    for (std::int64_t i = 0; i < pixels.numel(); ++i)
      if (!std::isfinite(projected[i]))
        throw InputError(where(subject, action) + ": camera " + std::to_string(c) + ", frame " +
                         std::to_string(i / 34) +
                         ": the projection is not finite (positions far outside the camera's range)");
    const double fraction = fraction_inside_image(pixels, camera.res_w, camera.res_h);
    const std::int64_t count = pixels.numel() / 2;
    inside_ += static_cast<std::int64_t>(fraction * static_cast<double>(count) + 0.5);
    written_.points_2d += count;
    for (std::size_t v = 0; v < variants_.size(); ++v) {
      NoiseStatistics stats;
      const std::uint64_t sequence_seed =
          derive_seed(seed_, variants_[v].name + "/" + subject.name + "/" + action.name + "/" + std::to_string(c));
      views.noisy[v].push_back(
          Value::from_array(apply_detector_noise(pixels, variants_[v].noise, dataset_.fps, sequence_seed, &stats)));
      noisy_error_sum_[v] += stats.mean_error_px * static_cast<double>(stats.points);
    }
    noisy_points_ += count;
    views.gt.push_back(Value::from_array(std::move(pixels)));
  }
  return views;
}

void DatasetWriter::add_subject(const PoseSubject& subject) {
  if (subject.cameras.empty())
    throw InputError("dataset '" + name_ + "': subject '" + subject.name + "' has no cameras");
  std::vector<ValuePtr> camera_values;
  for (const data::Camera& camera : subject.cameras) camera_values.push_back(data::camera_to_value(camera));
  cameras_.emplace_back(Value::from_str(subject.name), Value::list(std::move(camera_values)));

  Entries actions_3d, actions_gt;
  std::vector<Entries> actions_noisy(variants_.size());
  for (const PoseAction& action : subject.actions) {
    check_positions(subject, action);
    written_.frames += static_cast<std::int64_t>(action.positions.size() / h36m::kJoints);
    actions_3d.emplace_back(Value::from_str(action.name), Value::from_array(world_array(action.positions)));
    Views views = project(subject, action);
    actions_gt.emplace_back(Value::from_str(action.name), Value::list(std::move(views.gt)));
    for (std::size_t v = 0; v < variants_.size(); ++v)
      actions_noisy[v].emplace_back(Value::from_str(action.name), Value::list(std::move(views.noisy[v])));
  }
  positions_3d_.emplace_back(Value::from_str(subject.name), Value::dict(std::move(actions_3d)));
  positions_gt_.emplace_back(Value::from_str(subject.name), Value::dict(std::move(actions_gt)));
  for (std::size_t v = 0; v < variants_.size(); ++v)
    positions_noisy_[v].emplace_back(Value::from_str(subject.name), Value::dict(std::move(actions_noisy[v])));
}

WrittenDataset DatasetWriter::write(const std::string& output_dir) {
  // All files or none: each is written in full beside its final name, then all are renamed.
  io::NpzBatch batch;
  written_.positions_3d_path = data::dataset_3d_path(output_dir, name_);
  io::NpzMember fps_member{"fps", io::NdArray::from_vector<double>({}, {dataset_.fps}), nullptr};
  batch.add(written_.positions_3d_path,
            {{"positions_3d", {}, Value::dict(std::move(positions_3d_))},
             {"cameras", {}, Value::dict(std::move(cameras_))},
             fps_member});
  written_.keypoints_gt_path = data::keypoints_2d_path(output_dir, name_, "gt");
  batch.add(written_.keypoints_gt_path,
            {{"positions_2d", {}, Value::dict(std::move(positions_gt_))}, {"metadata", {}, keypoints_metadata()}});
  for (std::size_t v = 0; v < variants_.size(); ++v) {
    const std::string path = data::keypoints_2d_path(output_dir, name_, variants_[v].name);
    batch.add(path, {{"positions_2d", {}, Value::dict(std::move(positions_noisy_[v]))},
                     {"metadata", {}, keypoints_metadata()}});
    written_.keypoints_noisy_paths.push_back(path);
    written_.noisy_mean_error_px.push_back(noisy_points_ ? noisy_error_sum_[v] / static_cast<double>(noisy_points_)
                                                         : 0.0);
  }
  batch.commit();
  written_.fraction_inside_image =
      written_.points_2d ? static_cast<double>(inside_) / static_cast<double>(written_.points_2d) : 0.0;
  return std::move(written_);
}

}  // namespace

WrittenDataset write_pose_dataset(const PoseDataset& dataset, const std::string& output_dir, const std::string& name,
                                  const std::vector<NoisyVariant>& variants, std::uint64_t seed) {
  check_dataset_name(name, "dataset name");
  for (const NoisyVariant& variant : variants) {
    check_dataset_name(variant.name, "noisy keypoints name");
    if (variant.name == "gt") throw InputError("noisy keypoints name: 'gt' is reserved for the ground truth");
  }
  if (!(dataset.fps > 0.0)) throw InputError("dataset '" + name + "': the frame rate must be positive");
  if (dataset.subjects.empty()) throw InputError("dataset '" + name + "': no subjects to write");
  std::error_code error;
  std::filesystem::create_directories(output_dir, error);
  if (!std::filesystem::is_directory(output_dir))
    throw InputError(output_dir + ": cannot create the output folder");

  DatasetWriter writer(dataset, name, variants, seed);
  for (const PoseSubject& subject : dataset.subjects) writer.add_subject(subject);
  return writer.write(output_dir);
}

}  // namespace poselift::mocap
