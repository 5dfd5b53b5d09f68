// Video files through FFmpeg's libraries: frames written as H.264 MP4 or animated GIF (chosen by
// the output's extension, written atomically), and frames read from any video FFmpeg decodes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace poselift::render {

// An 8-bit image in cairo's CAIRO_FORMAT_RGB24 layout: 4 bytes per pixel, B G R x in memory
// (little-endian), rows of width * 4 bytes. The same bytes are FFmpeg's AV_PIX_FMT_BGR0, so
// frames pass between cairo and libav without conversion.
struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 4

  Image() = default;
  Image(int w, int h) : width(w), height(h), pixels(static_cast<std::size_t>(w) * h * 4, 0) {}
  int stride() const { return width * 4; }
  std::array<int, 3> rgb(int x, int y) const {
    const std::uint8_t* p = pixels.data() + (static_cast<std::size_t>(y) * width + x) * 4;
    return {p[2], p[1], p[0]};
  }
};

enum class VideoFormat { Mp4, Gif };
// .mp4 or .gif (case-insensitive); InputError naming the path otherwise.
VideoFormat video_format_for(const std::string& path);

// Encodes frames to `path` through a temporary file beside it, renamed into place by finish();
// a writer destroyed before finish() removes the temporary file, so a failed render leaves no
// partial output. MP4: H.264 (libx264), yuv420p, `bitrate_kbps` kbit/s. GIF: a fixed
// 256-colour palette (colour cube, greys, the figure's colours), frame delays in centiseconds as
// the format stores them.
class VideoWriter {
 public:
  VideoWriter(const std::string& path, int width, int height, double fps, int bitrate_kbps = 3000);
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  void write(const Image& frame);  // frame size must match
  void finish();
  std::int64_t frames_written() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes the best video stream of a file frame by frame into Images (any size/pixel format,
// converted with libswscale). Throws InputError naming the file when it cannot be opened.
class VideoReader {
 public:
  explicit VideoReader(const std::string& path);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  // Next frame; false at the end of the stream.
  bool next(Image& frame);
  int width() const;
  int height() const;
  double fps() const;               // average frame rate from the container (0 when unknown)
  std::int64_t frame_count() const; // frames the container announces or its duration implies (0: unknown)
  std::string codec_name() const;   // e.g. "h264", "gif"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace poselift::render
