#include "render/figure.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "io/error.hpp"

namespace poselift::render {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Layout of a square panel: a title band on top, the drawing area below.
struct PanelLayout {
  double title, area_top, area_height;
  explicit PanelLayout(int panel) : title(std::round(panel * 0.08)), area_top(title), area_height(panel - title) {}
};

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

SurfacePtr surface_for(const Image& image) {
  // cairo draws straight into the Image's bytes (same layout, see Image).
  return SurfacePtr(cairo_image_surface_create_for_data(const_cast<std::uint8_t*>(image.pixels.data()),
                                                        CAIRO_FORMAT_RGB24, image.width, image.height,
                                                        image.stride()),
                    cairo_surface_destroy);
}

void centred_text(cairo_t* c, const std::string& text, double x, double y, double size) {
  cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(c, size);
  cairo_text_extents_t extents;
  cairo_text_extents(c, text.c_str(), &extents);
  cairo_move_to(c, x - extents.width / 2 - extents.x_bearing, y);
  cairo_set_source_rgb(c, 0, 0, 0);
  cairo_show_text(c, text.c_str());
}

bool contains(const std::vector<int>& list, int value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

void FigureInput::validate(const std::string& what) const {
  if (frames <= 0) throw InputError(what + ": no frames to render");
  if (joints <= 0 || static_cast<int>(parents.size()) != joints)
    throw InputError(fmt::format("{}: the skeleton has {} joints but the poses have {}", what, parents.size(), joints));
  if (keypoint_count <= 0 || keypoints.size() != static_cast<std::size_t>(frames * keypoint_count * 2))
    throw InputError(fmt::format("{}: expected ({}, J, 2) 2D keypoints", what, frames));
  if (viewport_width <= 0 || viewport_height <= 0)
    throw InputError(fmt::format("{}: invalid image size {}x{}", what, viewport_width, viewport_height));
  for (const auto& track : tracks)
    if (track.positions.size() != static_cast<std::size_t>(frames * joints * 3))
      throw InputError(fmt::format("{}: '{}' must hold ({}, {}, 3) positions", what, track.title, frames, joints));
  auto finite = [](const std::vector<float>& values) {
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
  };
  if (!finite(keypoints)) throw InputError(what + ": the 2D keypoints contain NaN or infinite values");
  for (const auto& track : tracks)
    if (!finite(track.positions))
      throw InputError(fmt::format("{}: '{}' contains NaN or infinite positions", what, track.title));
  for (int j = 0; j < joints; ++j)
    if (parents[j] >= joints || parents[j] < -1) throw InputError(what + ": invalid skeleton parents");
  if (!(fps > 0)) throw InputError(fmt::format("{}: invalid frame rate {}", what, fps));
  if (!video_frames.empty()) {
    if (video_frames.size() != static_cast<std::size_t>(frames))
      throw InputError(fmt::format("{}: expected {} video frame indices, got {}", what, frames, video_frames.size()));
    for (std::size_t i = 0; i < video_frames.size(); ++i)
      if (video_frames[i] < 0 || (i && video_frames[i] < video_frames[i - 1]))
        throw InputError(fmt::format("{}: video frame indices must be >= 0 and non-decreasing (index {})", what, i));
  }
}

FigureRenderer::FigureRenderer(const FigureInput& input, int panel) : input_(input), panel_(panel + panel % 2) {
  if (panel_ < 64) throw InputError(fmt::format("figure panels of {} px are too small (at least 64)", panel));
}

std::array<double, 2> FigureRenderer::project(int track, std::int64_t t, const std::array<double, 3>& p) const {
  const float* root = input_.tracks[track].positions.data() + t * input_.joints * 3;
  const double a = input_.azimuth * kPi / 180, e = input_.elevation * kPi / 180;
  // matplotlib's view: the eye lies along (cos e cos a, cos e sin a, sin e); screen right and up
  // are the directions perpendicular to it.
  const double dx = p[0] - root[0], dy = p[1] - root[1], dz = p[2] - input_.radius / 2;
  const double u = -std::sin(a) * dx + std::cos(a) * dy;
  const double v = -std::sin(e) * std::cos(a) * dx - std::sin(e) * std::sin(a) * dy + std::cos(e) * dz;
  const PanelLayout layout(panel_);
  const double scale = layout.area_height / (input_.radius * 1.5);  // the rotated cube fits the panel
  return {panel_ * (track + 1) + panel_ / 2.0 + scale * u, layout.area_top + layout.area_height / 2 - scale * v};
}

std::array<double, 2> FigureRenderer::image_to_panel(double x, double y) const {
  const PanelLayout layout(panel_);
  const double scale = std::min(panel_ / static_cast<double>(input_.viewport_width),
                                layout.area_height / input_.viewport_height);
  const double left = (panel_ - scale * input_.viewport_width) / 2;
  const double top = layout.area_top + (layout.area_height - scale * input_.viewport_height) / 2;
  return {left + x * scale, top + y * scale};
}

namespace {

// What the panels of one frame share.
struct FrameStyle {
  PanelLayout layout;
  double line, title_size;
};

// The 2D input panel: the background (or grey), the keypoints and, for skeleton layouts, bones.
void draw_input_panel(cairo_t* c, const FigureRenderer& figure, const FigureInput& input, std::int64_t t,
                      const Image* background, const FrameStyle& style) {
  const int panel = figure.panel();
  const PanelLayout& layout = style.layout;
  const double line = style.line, title_size = style.title_size;
  centred_text(c, "Input", panel / 2.0, layout.title * 0.75, title_size);
  const auto top_left = figure.image_to_panel(0, 0);
  const auto bottom_right = figure.image_to_panel(input.viewport_width, input.viewport_height);
  cairo_save(c);
  cairo_rectangle(c, top_left[0], top_left[1], bottom_right[0] - top_left[0], bottom_right[1] - top_left[1]);
  cairo_clip(c);
  if (background && background->width > 0) {
    auto image = surface_for(*background);
    cairo_translate(c, top_left[0], top_left[1]);
    cairo_scale(c, (bottom_right[0] - top_left[0]) / background->width,
                (bottom_right[1] - top_left[1]) / background->height);
    cairo_set_source_surface(c, image.get(), 0, 0);
    cairo_pattern_set_filter(cairo_get_source(c), CAIRO_FILTER_BILINEAR);
    cairo_paint(c);
  } else {
    cairo_set_source_rgb(c, 0.5, 0.5, 0.5);
    cairo_paint(c);
  }
  cairo_restore(c);
  const float* kp = input.keypoints.data() + t * input.keypoint_count * 2;
  if (input.keypoint_bones && input.keypoint_count == input.joints) {
    cairo_set_source_rgb(c, 1.0, 0.75, 0.8);  // pink, as the original
    cairo_set_line_width(c, line * 0.8);
    for (int j = 0; j < input.joints; ++j) {
      const int parent = input.parents[j];
      if (parent < 0) continue;
      const auto a = figure.image_to_panel(kp[j * 2], kp[j * 2 + 1]);
      const auto b = figure.image_to_panel(kp[parent * 2], kp[parent * 2 + 1]);
      cairo_move_to(c, a[0], a[1]);
      cairo_line_to(c, b[0], b[1]);
      cairo_stroke(c);
    }
  }
  for (int j = 0; j < input.keypoint_count; ++j) {
    const auto p = figure.image_to_panel(kp[j * 2], kp[j * 2 + 1]);
    cairo_arc(c, p[0], p[1], line * 1.4, 0, 2 * kPi);
    if (contains(input.keypoints_right, j)) cairo_set_source_rgb(c, 1, 0, 0);
    else cairo_set_source_rgb(c, 0, 0, 0);
    cairo_fill_preserve(c);
    cairo_set_source_rgb(c, 1, 1, 1);
    cairo_set_line_width(c, 1);
    cairo_stroke(c);
  }
}

// 3D panel `n`: the ground grid around the root and the skeleton.
void draw_pose_panel(cairo_t* c, const FigureRenderer& figure, const FigureInput& input, int n, std::int64_t t,
                     const FrameStyle& style) {
  const int panel = figure.panel();
  const PanelLayout& layout = style.layout;
  const double line = style.line, title_size = style.title_size;
  const double half = input.radius / 2;
  const double x0 = panel * (n + 1);
  centred_text(c, input.tracks[n].title, x0 + panel / 2.0, layout.title * 0.75, title_size);
  cairo_save(c);
  cairo_rectangle(c, x0, layout.area_top, panel, layout.area_height);
  cairo_clip(c);
  const float* pose = input.tracks[n].positions.data() + t * input.joints * 3;
  const double cx = pose[0], cy = pose[1];
  auto segment = [&](std::array<double, 3> a, std::array<double, 3> b) {
    const auto pa = figure.project(n, t, a), pb = figure.project(n, t, b);
    cairo_move_to(c, pa[0], pa[1]);
    cairo_line_to(c, pb[0], pb[1]);
  };
  // Ground grid at z = 0: lines on fixed world coordinates, so it slides as the body travels.
  const double step = 0.25;
  cairo_set_line_width(c, 1);
  cairo_set_source_rgb(c, 0.82, 0.82, 0.82);
  for (double g = std::ceil((cx - half) / step) * step; g <= cx + half + 1e-9; g += step)
    segment({g, cy - half, 0}, {g, cy + half, 0});
  for (double g = std::ceil((cy - half) / step) * step; g <= cy + half + 1e-9; g += step)
    segment({cx - half, g, 0}, {cx + half, g, 0});
  cairo_stroke(c);
  cairo_set_source_rgb(c, 0.6, 0.6, 0.6);
  segment({cx - half, cy - half, 0}, {cx + half, cy - half, 0});
  segment({cx + half, cy - half, 0}, {cx + half, cy + half, 0});
  segment({cx + half, cy + half, 0}, {cx - half, cy + half, 0});
  segment({cx - half, cy + half, 0}, {cx - half, cy - half, 0});
  cairo_stroke(c);

  cairo_set_line_width(c, line);
  for (int j = 0; j < input.joints; ++j) {
    const int parent = input.parents[j];
    if (parent < 0) continue;
    if (contains(input.joints_right, j)) cairo_set_source_rgb(c, 1, 0, 0);
    else cairo_set_source_rgb(c, 0, 0, 0);
    segment({pose[j * 3], pose[j * 3 + 1], pose[j * 3 + 2]},
            {pose[parent * 3], pose[parent * 3 + 1], pose[parent * 3 + 2]});
    cairo_stroke(c);
  }
  for (int j = 0; j < input.joints; ++j) {
    const auto p = figure.project(n, t, {pose[j * 3], pose[j * 3 + 1], pose[j * 3 + 2]});
    if (contains(input.joints_right, j)) cairo_set_source_rgb(c, 1, 0, 0);
    else cairo_set_source_rgb(c, 0, 0, 0);
    cairo_arc(c, p[0], p[1], line * 1.1, 0, 2 * kPi);
    cairo_fill(c);
  }
  cairo_restore(c);
}

}  // namespace

void FigureRenderer::draw(std::int64_t t, const Image* background, Image& out) const {
  if (out.width != width() || out.height != height()) out = Image(width(), height());
  auto surface = surface_for(out);
  ContextPtr context(cairo_create(surface.get()), cairo_destroy);
  cairo_t* c = context.get();
  cairo_set_source_rgb(c, 1, 1, 1);
  cairo_paint(c);
  const FrameStyle style{PanelLayout(panel_), std::max(1.5, panel_ / 180.0), panel_ * 0.045};
  cairo_set_line_cap(c, CAIRO_LINE_CAP_ROUND);

  draw_input_panel(c, *this, input_, t, background, style);
  for (int n = 0; n < static_cast<int>(input_.tracks.size()); ++n) draw_pose_panel(c, *this, input_, n, t, style);
  cairo_surface_flush(surface.get());
}

std::vector<std::int64_t> frames_to_render(const FigureInput& input, std::int64_t video_skip, std::int64_t limit,
                                           int downsample) {
  auto video_frame = [&](std::int64_t t) { return input.video_frames.empty() ? t : input.video_frames[t]; };
  std::int64_t first = 0;
  while (first < input.frames && video_frame(first) < video_skip) ++first;
  std::vector<std::int64_t> chosen;
  for (std::int64_t t = first; t < input.frames; t += std::max(1, downsample)) {
    if (limit >= 1 && static_cast<std::int64_t>(chosen.size()) >= limit) break;
    chosen.push_back(t);
  }
  return chosen;
}

FigureInput select_frames(const FigureInput& input, const std::vector<std::int64_t>& frames, int downsample) {
  FigureInput out = input;
  const auto T = static_cast<std::int64_t>(frames.size());
  out.frames = T;
  out.fps = input.fps / std::max(1, downsample);
  auto pick = [&](const std::vector<float>& values, std::int64_t per_frame) {
    std::vector<float> picked;
    picked.reserve(static_cast<std::size_t>(T * per_frame));
    for (std::int64_t t : frames)
      picked.insert(picked.end(), values.begin() + t * per_frame, values.begin() + (t + 1) * per_frame);
    return picked;
  };
  if (!input.keypoints.empty()) out.keypoints = pick(input.keypoints, std::int64_t{input.keypoint_count} * 2);
  for (auto& track : out.tracks) track.positions = pick(track.positions, std::int64_t{input.joints} * 3);
  if (!input.video_frames.empty()) {
    out.video_frames.clear();
    for (std::int64_t t : frames) out.video_frames.push_back(input.video_frames[t]);
  }
  return out;
}

std::int64_t render_video(const FigureInput& input, const VideoSettings& settings,
                          const std::function<void(std::int64_t, std::int64_t)>& on_frame) {
  input.validate(settings.output);
  const VideoFormat format = video_format_for(settings.output);
  if (settings.size <= 0) throw InputError(fmt::format("--viz-size must be positive, got {}", settings.size));
  if (settings.downsample <= 0)
    throw InputError(fmt::format("--viz-downsample must be positive, got {}", settings.downsample));
  if (settings.video_skip < 0) throw InputError(fmt::format("--viz-skip must be >= 0, got {}", settings.video_skip));

  // The original's dpi: 100 for MP4 (matplotlib's default), 80 for GIF.
  FigureRenderer renderer(input, settings.size * (format == VideoFormat::Mp4 ? 100 : 80));
  std::unique_ptr<VideoReader> reader;
  if (!settings.video.empty()) reader = std::make_unique<VideoReader>(settings.video);

  // Pose frame t is shown over video frame video_frame(t); poses of the first `video_skip` video
  // frames are dropped with them, as the original does.
  auto video_frame = [&](std::int64_t t) { return input.video_frames.empty() ? t : input.video_frames[t]; };
  const std::vector<std::int64_t> chosen =
      frames_to_render(input, settings.video_skip, settings.limit, settings.downsample);
  if (chosen.empty())
    throw InputError(fmt::format("{}: nothing to render ({} frames, --viz-skip {})", settings.output, input.frames,
                                 settings.video_skip));

  VideoWriter writer(settings.output, renderer.width(), renderer.height(), input.fps / settings.downsample,
                     settings.bitrate_kbps);
  if (on_frame) on_frame(0, static_cast<std::int64_t>(chosen.size()));
  Image background, figure;
  std::int64_t video_position = -1;  // index of the frame held in `background`
  for (std::int64_t t : chosen) {
    if (reader) {
      const std::int64_t wanted = video_frame(t);
      bool have = video_position == wanted;
      while (video_position < wanted && (have = reader->next(background))) ++video_position;
      if (!have || video_position != wanted) break;  // the video is shorter: stop there, as the original
    }
    renderer.draw(t, reader ? &background : nullptr, figure);
    writer.write(figure);
    if (on_frame) on_frame(writer.frames_written(), static_cast<std::int64_t>(chosen.size()));
  }
  if (writer.frames_written() == 0)
    throw InputError(fmt::format("{}: has no frame beyond --viz-skip {}", settings.video, settings.video_skip));
  writer.finish();
  return writer.frames_written();
}

}  // namespace poselift::render
