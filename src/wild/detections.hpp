// 2D keypoint detections of a video, as detectors write them, read into one in-memory form:
// frames -> people -> keypoints (x, y, confidence) in the detector's own joint layout.
//
// Formats (all pixels, origin top-left):
//  - COCO keypoint results JSON: a list of {image_id, category_id, keypoints[3K], score}, as
//    MMPose, Detectron2, YOLO-pose and AlphaPose write (AlphaPose's "image_id" may be a file
//    name: the last run of digits in it is the frame index). Several entries per image_id are
//    several people. K = 17 (COCO), 18 (OpenPose COCO-18) or 25 (OpenPose BODY_25).
//  - OpenPose: a folder of per-frame JSON files ({"people": [{"pose_keypoints_2d": [...]}]}),
//    or one such file; the frame index is the last run of digits of the file name
//    (video_000000000012_keypoints.json -> 12). BODY_25 or COCO-18 by keypoint count.
//  - VideoPose3D custom .npz (prepare_data_2d_custom.py's data_2d_custom layout): one person
//    per frame, layout from metadata['layout_name'] ("coco" or "h36m"), image size from
//    metadata['video_metadata'][video]. Frames without a detection (NaN) count as missing.
//    A dataset's 2D file (data_2d_<dataset>_<keypoints>.npz) too: --video SUBJECT/ACTION[/CAMERA]
//    picks the sequence; Human3.6M's frame rate (50) and HumanEva's (60) come from its name.
//  - CSV with a header: `frame[,person],<K x (x,y[,score]) columns>`; empty or "nan" cells are
//    missing keypoints; K (17/18/25) from the column count.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace poselift::wild {

enum class Layout { Coco17, Coco18, Body25, H36m17 };

const char* layout_name(Layout layout);           // "coco", "coco18", "body25", "h36m"
int layout_joint_count(Layout layout);            // 17, 18, 25, 17
// Parses "coco", "coco17", "coco18", "body25", "h36m"; InputError naming `what` otherwise.
Layout parse_layout(const std::string& name, const std::string& what);

using Keypoint = std::array<float, 3>;  // x, y (pixels), confidence (0 = missing)

struct Person {
  std::vector<Keypoint> keypoints;  // layout_joint_count(layout) entries
  float score = 1.0f;               // detection score (1 when the file has none)
  int id = -1;                      // the file's person/track id when it has one (CSV), else -1
};

struct Frame {
  std::int64_t index = 0;  // source frame index
  std::vector<Person> people;
};

struct Detections {
  std::string source;
  Layout layout = Layout::Coco17;
  int width = 0, height = 0;  // 0 = unknown (take them from flags)
  double fps = 0;             // 0 = unknown
  std::vector<Frame> frames;  // sorted by index, unique indices
};

struct ReadOptions {
  std::string format = "auto";  // auto (from the name / content), coco, openpose, npz, csv
  std::string layout = "auto";  // auto, or a parse_layout name (needed for 17-point CSV of h36m)
  std::string video;            // VideoPose3D .npz: which video (default: the only one), or a dataset
                                // file's SUBJECT/ACTION[/CAMERA]
  int category_id = 1;          // COCO: entries of other categories are skipped (1 = person)
};

// Parsers of in-memory text (used by the fuzzers too). `source` names the input in errors.
Detections parse_coco_json(std::string_view text, const std::string& source, const ReadOptions& options = {});
// One OpenPose frame file: appends its people to `out` as frame `frame` (layout checked
// against out.layout unless out.frames is empty).
void parse_openpose_frame(std::string_view text, const std::string& source, std::int64_t frame, Detections& out);
Detections parse_csv(std::string_view text, const std::string& source, const ReadOptions& options = {});

// Reads a file or an OpenPose folder; every error is an InputError naming the file, the
// field and what was expected. Empty inputs (no frame with a person) are errors.
Detections read_detections(const std::string& path, const ReadOptions& options = {});

// The last run of decimal digits in a name ("frame_0012.jpg" -> 12); -1 when there is none.
std::int64_t trailing_number(std::string_view name);

}  // namespace poselift::wild
