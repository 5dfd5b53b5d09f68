#include "render/video.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "io/error.hpp"

namespace poselift::render {

namespace {

std::string av_error(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buffer, sizeof buffer);
  return buffer;
}

std::string lower_extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// The GIF palette: a 6x6x6 colour cube, 24 greys and the figure's pink, opaque (so FFmpeg's
// encoder never treats a colour as transparent), with a 32x32x32 lookup of the nearest entry.
// A fixed palette keeps frames consistent and exact for the figure's white, black, red and grey.
struct GifPalette {
  std::array<std::uint32_t, 256> argb{};
  std::vector<std::uint8_t> lookup;  // (r >> 3) << 10 | (g >> 3) << 5 | (b >> 3) -> index

  GifPalette() {
    argb.fill(0xFF000000u);  // unused entries opaque black: no entry may read as transparent
    std::vector<std::array<int, 3>> colours;
    for (int r = 0; r < 6; ++r)
      for (int g = 0; g < 6; ++g)
        for (int b = 0; b < 6; ++b) colours.push_back({r * 51, g * 51, b * 51});
    for (int i = 1; i <= 24; ++i) colours.push_back({i * 255 / 25, i * 255 / 25, i * 255 / 25});
    colours.push_back({255, 191, 204});  // the 2D bones' pink
    colours.push_back({128, 128, 128});  // the blank input image
    colours.push_back({209, 209, 209});  // the ground grid
    for (std::size_t i = 0; i < colours.size(); ++i)
      argb[i] = 0xFF000000u | colours[i][0] << 16 | colours[i][1] << 8 | colours[i][2];
    lookup.resize(32 * 32 * 32);
    for (int r = 0; r < 32; ++r)
      for (int g = 0; g < 32; ++g)
        for (int b = 0; b < 32; ++b) {
          // Bucket centre, with the extremes kept exact (0 and 255 are the figure's colours).
          auto centre = [](int v) { return v == 0 ? 0 : v == 31 ? 255 : v * 8 + 4; };
          const int cr = centre(r), cg = centre(g), cb = centre(b);
          int best = 0, best_distance = 1 << 30;
          for (std::size_t i = 0; i < colours.size(); ++i) {
            const int dr = colours[i][0] - cr, dg = colours[i][1] - cg, db = colours[i][2] - cb;
            const int distance = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
            if (distance < best_distance) best_distance = distance, best = static_cast<int>(i);
          }
          lookup[r << 10 | g << 5 | b] = static_cast<std::uint8_t>(best);
        }
  }
};

const GifPalette& gif_palette() {
  static const GifPalette palette;
  return palette;
}

// FFmpeg logs to stderr by default (x264's statistics, probe notes); errors reach the user
// through InputError messages instead.
void quiet_ffmpeg_logs() {
  static const bool once = [] {
    av_log_set_level(AV_LOG_ERROR);
    return true;
  }();
  (void)once;
}

}  // namespace

VideoFormat video_format_for(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".mp4") return VideoFormat::Mp4;
  if (ext == ".gif") return VideoFormat::Gif;
  throw InputError(fmt::format("{}: unsupported output format '{}' (expected .mp4 or .gif)", path, ext));
}

// ---------------------------------------------------------------------------------------------
// Writer

struct VideoWriter::Impl {
  std::string path, temp_path;
  VideoFormat format = VideoFormat::Mp4;
  int width = 0, height = 0;
  AVFormatContext* muxer = nullptr;
  AVCodecContext* encoder = nullptr;
  AVStream* stream = nullptr;
  SwsContext* scaler = nullptr;
  AVFrame* frame = nullptr;
  AVFrame* source = nullptr;  // BGR0 copy of the Image in a padded buffer (SIMD reads past row ends)
  AVPacket* packet = nullptr;
  std::int64_t next_pts = 0;
  bool finished = false;

  ~Impl() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    av_frame_free(&source);
    sws_freeContext(scaler);
    avcodec_free_context(&encoder);
    if (muxer) {
      if (muxer->pb) avio_closep(&muxer->pb);
      avformat_free_context(muxer);
    }
    if (!finished && !temp_path.empty()) ::unlink(temp_path.c_str());
  }

  [[noreturn]] void fail(const std::string& what, int code) const {
    throw InputError(fmt::format("{}: {} ({})", path, what, av_error(code)));
  }

  // The encoder and the stream of the container (open), at `fps` frames per second.
  void open_encoder(const AVCodec* codec, AVPixelFormat pixel_format, double fps, int bitrate_kbps);
  // The encoder's frame and the BGR0 source frame, and the scaler between them for MP4.
  void allocate_frames(AVPixelFormat pixel_format);

  // Sends one frame (nullptr flushes) and writes every packet the encoder has ready.
  void encode(AVFrame* input) {
    int ret = avcodec_send_frame(encoder, input);
    if (ret < 0) fail("cannot encode a video frame", ret);
    while (true) {
      ret = avcodec_receive_packet(encoder, packet);
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) fail("cannot encode a video frame", ret);
      av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
      packet->stream_index = stream->index;
      ret = av_interleaved_write_frame(muxer, packet);
      if (ret < 0) fail("cannot write video data", ret);
    }
  }
};

void VideoWriter::Impl::open_encoder(const AVCodec* codec, AVPixelFormat pixel_format, double fps, int bitrate_kbps) {
  stream = avformat_new_stream(muxer, nullptr);
  encoder = avcodec_alloc_context3(codec);
  if (!stream || !encoder) throw std::bad_alloc();
  // GIF delays are whole centiseconds; other rates get a rational close to fps.
  const AVRational rate = av_d2q(fps, 100000);
  encoder->width = width;
  encoder->height = height;
  encoder->pix_fmt = pixel_format;
  encoder->time_base = av_inv_q(rate);
  encoder->framerate = rate;
  if (format == VideoFormat::Mp4) {
    encoder->bit_rate = static_cast<std::int64_t>(bitrate_kbps) * 1000;
    encoder->gop_size = 12 * std::max(1, static_cast<int>(std::lround(fps / 12)));
    av_opt_set(encoder->priv_data, "preset", "veryfast", 0);  // unknown options are ignored
  }
  if (muxer->oformat->flags & AVFMT_GLOBALHEADER) encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int ret = avcodec_open2(encoder, codec, nullptr);
  if (ret < 0) fail(fmt::format("cannot open the {} encoder", codec->name), ret);
  ret = avcodec_parameters_from_context(stream->codecpar, encoder);
  if (ret < 0) fail("cannot set up the video stream", ret);
  stream->time_base = encoder->time_base;
  stream->avg_frame_rate = rate;

  ret = avio_open(&muxer->pb, temp_path.c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) fail("cannot open for writing", ret);
  ret = avformat_write_header(muxer, nullptr);
  if (ret < 0) fail("cannot write the container header", ret);
}

void VideoWriter::Impl::allocate_frames(AVPixelFormat pixel_format) {
  if (format == VideoFormat::Mp4) {
    scaler = sws_getContext(width, height, AV_PIX_FMT_BGR0, width, height, pixel_format, SWS_BILINEAR, nullptr,
                            nullptr, nullptr);
    if (!scaler) throw std::bad_alloc();
  }
  frame = av_frame_alloc();
  source = av_frame_alloc();
  packet = av_packet_alloc();
  if (!frame || !source || !packet) throw std::bad_alloc();
  frame->format = pixel_format;
  frame->width = width;
  frame->height = height;
  int ret = av_frame_get_buffer(frame, 0);
  if (ret < 0) fail("cannot allocate a video frame", ret);
  source->format = AV_PIX_FMT_BGR0;
  source->width = width;
  source->height = height;
  ret = av_frame_get_buffer(source, 0);
  if (ret < 0) fail("cannot allocate a video frame", ret);
}

VideoWriter::VideoWriter(const std::string& path, int width, int height, double fps, int bitrate_kbps)
    : impl_(std::make_unique<Impl>()) {
  quiet_ffmpeg_logs();
  Impl& m = *impl_;
  m.path = path;
  m.format = video_format_for(path);
  m.width = width;
  m.height = height;
  if (width <= 0 || height <= 0 || (m.format == VideoFormat::Mp4 && (width % 2 || height % 2)))
    throw InputError(fmt::format("{}: invalid video size {}x{} (H.264 needs even sizes)", path, width, height));
  if (!(fps > 0) || !std::isfinite(fps)) throw InputError(fmt::format("{}: invalid frame rate {}", path, fps));
  if (bitrate_kbps <= 0) throw InputError(fmt::format("{}: invalid bitrate {} kbit/s", path, bitrate_kbps));

  std::string pattern = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw InputError(fmt::format("{}: cannot create a file beside it ({})", path, std::strerror(errno)));
  ::close(fd);
  m.temp_path = pattern;

  const char* muxer_name = m.format == VideoFormat::Mp4 ? "mp4" : "gif";
  int ret = avformat_alloc_output_context2(&m.muxer, nullptr, muxer_name, m.temp_path.c_str());
  if (ret < 0 || !m.muxer) m.fail("cannot set up the output container", ret);

  const AVCodec* codec = nullptr;
  AVPixelFormat pixel_format;
  if (m.format == VideoFormat::Mp4) {
    codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    pixel_format = AV_PIX_FMT_YUV420P;
  } else {
    codec = avcodec_find_encoder(AV_CODEC_ID_GIF);
    pixel_format = AV_PIX_FMT_PAL8;  // with the fixed GifPalette
  }
  if (!codec)
    throw InputError(fmt::format("{}: this FFmpeg build has no {} encoder", path,
                                 m.format == VideoFormat::Mp4 ? "H.264" : "GIF"));

  m.open_encoder(codec, pixel_format, fps, bitrate_kbps);
  m.allocate_frames(pixel_format);
}

VideoWriter::~VideoWriter() = default;

std::int64_t VideoWriter::frames_written() const { return impl_->next_pts; }

void VideoWriter::write(const Image& image) {
  Impl& m = *impl_;
  if (image.width != m.width || image.height != m.height)
    throw std::logic_error(fmt::format("VideoWriter: frame of {}x{} for a {}x{} video", image.width, image.height,
                                       m.width, m.height));
  int ret = av_frame_make_writable(m.frame);
  if (ret < 0) m.fail("cannot allocate a video frame", ret);
  if (m.format == VideoFormat::Gif) {
    const GifPalette& palette = gif_palette();
    std::memcpy(m.frame->data[1], palette.argb.data(), sizeof palette.argb);
    for (int y = 0; y < m.height; ++y) {
      const std::uint8_t* in = image.pixels.data() + static_cast<std::size_t>(y) * image.stride();
      std::uint8_t* out = m.frame->data[0] + static_cast<std::ptrdiff_t>(y) * m.frame->linesize[0];
      for (int x = 0; x < m.width; ++x, in += 4) out[x] = palette.lookup[(in[2] >> 3) << 10 | (in[1] >> 3) << 5 | in[0] >> 3];
    }
  } else {
    av_image_copy_plane(m.source->data[0], m.source->linesize[0], image.pixels.data(), image.stride(), image.stride(),
                        m.height);
    sws_scale(m.scaler, m.source->data, m.source->linesize, 0, m.height, m.frame->data, m.frame->linesize);
  }
  m.frame->pts = m.next_pts++;
  m.encode(m.frame);
}

void VideoWriter::finish() {
  Impl& m = *impl_;
  m.encode(nullptr);
  int ret = av_write_trailer(m.muxer);
  if (ret < 0) m.fail("cannot finish the container", ret);
  ret = avio_closep(&m.muxer->pb);
  if (ret < 0) m.fail("cannot close the written file", ret);
  ::chmod(m.temp_path.c_str(), 0644);  // mkstemp makes it private
  if (::rename(m.temp_path.c_str(), m.path.c_str()) != 0)
    throw InputError(fmt::format("{}: cannot move the written video into place ({})", m.path, std::strerror(errno)));
  m.finished = true;
}

// ---------------------------------------------------------------------------------------------
// Reader

struct VideoReader::Impl {
  std::string path;
  AVFormatContext* demuxer = nullptr;
  AVCodecContext* decoder = nullptr;
  SwsContext* scaler = nullptr;
  AVFrame* frame = nullptr;
  AVFrame* converted = nullptr;  // BGR0 in a padded buffer: swscale's SIMD writes past row ends
  AVPacket* packet = nullptr;
  int stream_index = -1;
  bool draining = false, ended = false;
  double fps = 0;
  std::int64_t frame_count = 0;

  ~Impl() {
    av_packet_free(&packet);
    av_frame_free(&frame);
    av_frame_free(&converted);
    sws_freeContext(scaler);
    avcodec_free_context(&decoder);
    avformat_close_input(&demuxer);
  }
  [[noreturn]] void fail(const std::string& what, int code) const {
    throw InputError(fmt::format("{}: {} ({})", path, what, av_error(code)));
  }
};

VideoReader::VideoReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  quiet_ffmpeg_logs();
  Impl& m = *impl_;
  m.path = path;
  int ret = avformat_open_input(&m.demuxer, path.c_str(), nullptr, nullptr);
  if (ret < 0) m.fail("cannot open the video", ret);
  ret = avformat_find_stream_info(m.demuxer, nullptr);
  if (ret < 0) m.fail("cannot read the video's stream information", ret);
  const AVCodec* codec = nullptr;
  ret = av_find_best_stream(m.demuxer, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (ret < 0 || !codec) m.fail("no decodable video stream", ret < 0 ? ret : AVERROR_DECODER_NOT_FOUND);
  m.stream_index = ret;
  const AVStream* stream = m.demuxer->streams[m.stream_index];
  m.decoder = avcodec_alloc_context3(codec);
  if (!m.decoder) throw std::bad_alloc();
  ret = avcodec_parameters_to_context(m.decoder, stream->codecpar);
  if (ret < 0) m.fail("cannot set up the decoder", ret);
  ret = avcodec_open2(m.decoder, codec, nullptr);
  if (ret < 0) m.fail(fmt::format("cannot open the {} decoder", codec->name), ret);
  if (m.decoder->width <= 0 || m.decoder->height <= 0)
    m.fail(fmt::format("invalid frame size {}x{}", m.decoder->width, m.decoder->height), AVERROR_INVALIDDATA);
  if (stream->avg_frame_rate.num > 0 && stream->avg_frame_rate.den > 0) m.fps = av_q2d(stream->avg_frame_rate);
  else if (stream->r_frame_rate.num > 0 && stream->r_frame_rate.den > 0) m.fps = av_q2d(stream->r_frame_rate);
  if (stream->nb_frames > 0) {
    m.frame_count = stream->nb_frames;
  } else if (m.demuxer->duration > 0 && m.fps > 0) {
    m.frame_count = static_cast<std::int64_t>(std::llround(m.demuxer->duration / double(AV_TIME_BASE) * m.fps));
  }
  m.frame = av_frame_alloc();
  m.packet = av_packet_alloc();
  if (!m.frame || !m.packet) throw std::bad_alloc();
}

VideoReader::~VideoReader() = default;

int VideoReader::width() const { return impl_->decoder->width; }
int VideoReader::height() const { return impl_->decoder->height; }
double VideoReader::fps() const { return impl_->fps; }
std::int64_t VideoReader::frame_count() const { return impl_->frame_count; }
std::string VideoReader::codec_name() const { return impl_->decoder->codec->name; }

bool VideoReader::next(Image& image) {
  Impl& m = *impl_;
  while (!m.ended) {
    int ret = avcodec_receive_frame(m.decoder, m.frame);
    if (ret == 0) {
      const int w = m.frame->width, h = m.frame->height;
      m.scaler = sws_getCachedContext(m.scaler, w, h, static_cast<AVPixelFormat>(m.frame->format), w, h,
                                      AV_PIX_FMT_BGR0, SWS_BILINEAR, nullptr, nullptr, nullptr);
      if (!m.scaler) m.fail("cannot convert the video's pixel format", AVERROR(EINVAL));
      if (!m.converted || m.converted->width != w || m.converted->height != h) {
        av_frame_free(&m.converted);
        m.converted = av_frame_alloc();
        if (!m.converted) throw std::bad_alloc();
        m.converted->format = AV_PIX_FMT_BGR0;
        m.converted->width = w;
        m.converted->height = h;
        const int error = av_frame_get_buffer(m.converted, 0);
        if (error < 0) m.fail("cannot allocate a video frame", error);
      }
      sws_scale(m.scaler, m.frame->data, m.frame->linesize, 0, h, m.converted->data, m.converted->linesize);
      av_frame_unref(m.frame);
      if (image.width != w || image.height != h) image = Image(w, h);
      av_image_copy_plane(image.pixels.data(), image.stride(), m.converted->data[0], m.converted->linesize[0],
                          image.stride(), h);
      return true;
    }
    if (ret == AVERROR_EOF) {
      m.ended = true;
      break;
    }
    if (ret != AVERROR(EAGAIN)) m.fail("cannot decode a video frame", ret);
    if (m.draining) {
      m.ended = true;
      break;
    }
    // Feed the decoder the next packet of our stream (or flush at the end of the file).
    while (true) {
      ret = av_read_frame(m.demuxer, m.packet);
      if (ret == AVERROR_EOF) {
        m.draining = true;
        ret = avcodec_send_packet(m.decoder, nullptr);
        break;
      }
      if (ret < 0) m.fail("cannot read the video", ret);
      if (m.packet->stream_index != m.stream_index) {
        av_packet_unref(m.packet);
        continue;
      }
      ret = avcodec_send_packet(m.decoder, m.packet);
      av_packet_unref(m.packet);
      break;
    }
    if (ret < 0 && ret != AVERROR_EOF) m.fail("cannot decode the video", ret);
  }
  return false;
}

}  // namespace poselift::render
