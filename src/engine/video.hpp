// `poselift video`: a video file to 3D motion, with no detector of the user's own. Frames are
// decoded by FFmpeg's libraries (render::VideoReader), the person found and followed by
// MediaPipe's BlazePose (detector/blazepose: its video mode, with its landmark smoothing), the 33
// landmarks reduced to COCO-17 (detector::kCocoFromBlazePose; confidence = the landmark's
// visibility) and lifted exactly as `infer` lifts a COCO file (run_inference on the detections
// in memory: Human3.6M-17 layout rules, gap filling, any lifter, smoothing, the floor, writers).
// One person by default (MediaPipe's own video mode: the one the detector finds first,
// re-detected when BlazePose loses them); with max_people > 1, detector::MultiPoseTracker
// follows several and infer's --person picks one or all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "detector/blazepose.hpp"
#include "engine/infer.hpp"
#include "engine/render.hpp"

namespace poselift::engine {

struct VideoOptions {
  InferOptions infer;       // infer.input: the video file; infer.output: any format infer writes
  std::string models;       // the @mediapipe/pose folder ("": detector::default_models_folder())
  detector::LandmarkModel landmark_model = detector::LandmarkModel::Full;
  bool smooth_landmarks = true;  // MediaPipe's One-Euro filters on the 2D landmarks
  int max_people = 1;            // tracked at once (1: MediaPipe's single-person video mode)
  std::string keypoints_out;     // also write the 2D detections as COCO keypoint results JSON
  // The lifted motion drawn over the video's own frames (render --input OUT --video VIDEO):
  // an .mp4/.gif and/or the HTML player. They read the lifted .npz, so --out must be one.
  std::string render, html;
};

struct VideoResult {
  InferResult lifted;
  std::int64_t frames = 0;              // decoded
  std::int64_t frames_with_person = 0;  // where BlazePose reports a pose
  std::int64_t people = 0;              // distinct people tracked (track numbers given)
  std::int64_t detections = 0;          // frames on which the detector ran (the others were tracked)
  double detection_seconds = 0;         // decoding + BlazePose
  std::string keypoints_written;        // --keypoints-out, when given
  std::string rendered, html;           // --render, --html, when given
};

// The detections of a whole video (COCO-17, pixels), for run_video and `bench video`.
wild::Detections detect_video(const std::string& path, const detector::ModelFiles& files,
                              const detector::MultiTrackerOptions& tracker, bool progress, VideoResult* stats);

// Writes `detections` as COCO keypoint results (image_id = frame index, category_id 1).
void write_coco_keypoints(const wild::Detections& detections, const std::string& path);

VideoResult run_video(const VideoOptions& options);

}  // namespace poselift::engine
