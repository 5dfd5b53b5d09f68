// The figure of `poselift render`, drawn with cairo as VideoPose3D's render_animation lays it
// out: the 2D input (keypoints over the video frame, or a grey image of the camera's size) beside
// one 3D panel per pose sequence (reconstruction, ground truth), each seen from the camera's
// azimuth at 15 degrees elevation, centred on the root's trajectory over a ground grid, with
// right-side bones red and the others black.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "render/video.hpp"

namespace poselift::render {

struct PoseTrack {
  std::string title;            // "Reconstruction", "Ground truth"
  std::vector<float> positions;  // (T, J, 3) world coordinates in metres, z up
};

struct FigureInput {
  std::vector<int> parents;       // skeleton of the 3D poses (-1 for the root)
  std::vector<int> joints_right;  // 3D joints drawn red
  std::vector<int> keypoints_right;  // 2D keypoints drawn red
  bool keypoint_bones = true;     // draw 2D bones (the keypoints follow `parents`)
  std::int64_t frames = 0;        // T
  int joints = 0;                 // J of the 3D poses
  int keypoint_count = 0;         // J of the 2D keypoints
  std::vector<float> keypoints;   // (T, keypoint_count, 2) pixels of the viewport
  int viewport_width = 0, viewport_height = 0;  // camera resolution
  std::vector<PoseTrack> tracks;
  double azimuth = 0;             // degrees, matplotlib's convention (view from this direction)
  double elevation = 15;          // degrees
  double radius = 1.7;            // metres shown around the root (the original's axes limits)
  double fps = 50;
  // Video frame index of each pose frame (non-decreasing); empty: pose frame t is video frame t.
  std::vector<std::int64_t> video_frames;

  // Checks sizes, finite values; InputError naming `what` otherwise.
  void validate(const std::string& what) const;
};

class FigureRenderer {
 public:
  // Panels are `panel` pixels square (rounded up to even), laid out left to right.
  FigureRenderer(const FigureInput& input, int panel);
  int width() const { return panel_ * (1 + static_cast<int>(input_.tracks.size())); }
  int height() const { return panel_; }
  int panel() const { return panel_; }

  // Draws frame `t`; `background` (any size) is fitted into the 2D panel, else a grey image.
  void draw(std::int64_t t, const Image* background, Image& out) const;

  // Pixel position of world point `p` in 3D panel `track` at frame `t` (for tests and overlays).
  std::array<double, 2> project(int track, std::int64_t t, const std::array<double, 3>& p) const;
  // Pixel position of image point (x, y) of the viewport in the 2D panel.
  std::array<double, 2> image_to_panel(double x, double y) const;

 private:
  const FigureInput& input_;
  int panel_;
};

// The pose frames a render shows, as the original's --viz-* flags choose them: from the first
// one at or past video frame `video_skip`, every `downsample`-th, at most `limit` (< 1: all).
std::vector<std::int64_t> frames_to_render(const FigureInput& input, std::int64_t video_skip, std::int64_t limit,
                                           int downsample);
// A copy of `input` with only `frames` (valid indices), at fps / downsample.
FigureInput select_frames(const FigureInput& input, const std::vector<std::int64_t>& frames, int downsample);

// Output settings of render_video.
struct VideoSettings {
  std::string output;         // .mp4 or .gif
  std::string video;          // optional background video
  std::int64_t video_skip = 0;  // video frames skipped first (--viz-skip)
  std::int64_t limit = -1;      // frames to render (< 1: all)
  int downsample = 1;           // keep every n-th frame, fps divided accordingly
  int size = 5;                 // figure size in inches of the original (100 px per inch for MP4, 80 for GIF)
  int bitrate_kbps = 3000;
};

// Renders the figure to a video; `on_frame` is called once before the first frame (done = 0)
// and after each written frame (progress).
// Opens the background video before creating the output, so an unreadable video leaves no file.
// Returns the number of frames written.
std::int64_t render_video(const FigureInput& input, const VideoSettings& settings,
                          const std::function<void(std::int64_t done, std::int64_t total)>& on_frame = {});

}  // namespace poselift::render
