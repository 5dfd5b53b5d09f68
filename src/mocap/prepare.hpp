// `poselift prepare mocap`: a training/test dataset in the VideoPose3D layout made from
// motion-capture files (BVH, ASF/AMC, gzipped or not), with virtual cameras and simulated
// detector noise. See dataset_writer.hpp for the files written.
//
// Pipeline: find motion files (folders are scanned recursively; .bvh, .amc, optionally .gz)
// -> import each (import.hpp: rig detection, 17-joint mapping, metres, z up, floor, target
// frame rate) -> group clips by performer -> cut each clip into segments that stay within
// `max_wander` of their centre and move each segment's centre to the origin (the cameras
// are fixed per subject, as in Human3.6M) -> split performers into train and test subjects
// -> one camera rig per subject, pushed back where needed to keep the performer in view ->
// write the 3D file and the ground-truth and noisy 2D files.
//
// Performers (= subjects) come from file names: CMU "<subject>_<trial>" numbers anywhere in
// the name ("001_01", "fairmotion_01_01", "60_01_scaled", "bvh11_131_02") give "cmuNN"
// (so every copy of a CMU take lands in the same subject, on the same side of the split);
// Bandai "dataset-N_<motion>_<style>_<id>" gives "bandaiN_<style>"; any other file is
// grouped by its folder name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mocap/cameras.hpp"
#include "mocap/dataset_writer.hpp"
#include "mocap/import.hpp"

namespace poselift::mocap {

struct PrepareMocapOptions {
  std::vector<std::string> inputs;  // files or folders
  std::string name;                 // dataset name: data_3d_<name>.npz, data_2d_<name>_gt.npz
  std::string output_dir;
  std::uint64_t seed = 0;  // split order, random rigs and noise

  ImportOptions import;                     // frame rate (default 50), units, custom mappings...
  std::vector<std::string> mapping_files;   // JSON joint mappings, added to import.mappings
  bool skip_unreadable = false;             // record bad files in the report instead of failing

  // Segmenting and placement.
  double max_wander = 1.5;          // metres: half-size of the square a segment's pelvis stays in
  double min_segment_seconds = 0.5;  // shorter pieces are dropped (and reported)
  bool random_heading = false;       // rotate each segment about the vertical by a random angle

  // Split: explicit test subjects (performer names as in the report), else about
  // `test_fraction` of the frames, whole performers, chosen in a seeded order.
  std::vector<std::string> test_subjects;
  double test_fraction = 0.2;

  VirtualCameraOptions cameras;
  std::vector<NoisyVariant> noisy{NoisyVariant{}};  // default: data_2d_<name>_noisy.npz at strength 1
};

struct PreparedClip {
  std::string path;
  std::string rig;
  std::string subject;
  std::vector<std::string> actions;  // the segments' action names
  std::int64_t source_frames = 0;
  double source_fps = 0.0;
  std::int64_t frames = 0;          // at the target rate, before segmenting
  std::int64_t dropped_frames = 0;  // in segments shorter than min_segment_seconds
  double standing_height = 0.0;
  std::vector<std::string> notes;
};

struct PreparedSubject {
  std::string name;
  bool test = false;
  std::int64_t actions = 0;
  std::int64_t frames = 0;
  int cameras_moved_back = 0;  // cameras pushed back to keep the performer in view
};

struct PrepareReport {
  WrittenDataset files;
  std::vector<PreparedSubject> subjects;
  std::vector<std::string> train_subjects, test_subjects;
  std::vector<PreparedClip> clips;
  std::vector<std::pair<std::string, std::string>> skipped;  // file, reason
  double fps = 0.0;
  double seconds = 0.0;  // wall time of the whole preparation

  // "S1,S5,..." lists for `poselift train -str ... -ste ...`.
  std::string train_subjects_flag() const;
  std::string test_subjects_flag() const;
};

// The motion files under `inputs` (recursively for folders), sorted; InputError when an
// input does not exist.
std::vector<std::string> find_motion_files(const std::vector<std::string>& inputs);

// The performer (subject name) and take of a motion file, from its name (see header comment).
struct ClipIdentity {
  std::string performer;
  std::string take;
};
ClipIdentity identify_clip(const std::string& path);

PrepareReport prepare_mocap_dataset(const PrepareMocapOptions& options);

// Segments of one clip's poses (frames x 17): [begin, end) frame ranges within which the
// pelvis stays inside a square of half-size `max_wander` (greedy, in time order). A segment
// shorter than `min_frames` is grown backwards into its predecessor as far as the square
// allows (the overlap repeats some frames rather than losing the segment's own).
std::vector<std::pair<std::int64_t, std::int64_t>> wander_segments(const std::vector<Vec3>& positions,
                                                                   double max_wander, std::int64_t min_frames = 1);

}  // namespace poselift::mocap
