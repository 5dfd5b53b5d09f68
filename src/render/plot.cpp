#include "render/plot.hpp"

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "io/error.hpp"

namespace poselift::render {

namespace {

// "Nice" tick step covering `span` with about `target` intervals.
double tick_step(double span, int target) {
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

// The data's range (padded 5% in y) mapped onto the plot's frame in pixels.
struct PlotArea {
  double x0, x1, y0, y1;
  double left, right, top, bottom;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

PlotArea plot_area(const std::vector<PlotSeries>& series, int width, int height) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x1 = x0 + 1;
  if (y1 - y0 < 1e-12) y1 = y0 + 1;
  const double pad_y = 0.05 * (y1 - y0);
  y0 -= pad_y;
  y1 += pad_y;
  return {x0, x1, y0, y1, 80, width - 20.0, 20, height - 60.0};
}

// Grid, tick labels, frame and axis labels.
void draw_axes(cairo_t* c, const PlotArea& a, const std::string& x_label, const std::string& y_label, int height) {
  cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(c, 13);
  cairo_set_line_width(c, 1);
  const double ys = tick_step(a.y1 - a.y0, 6), xs = tick_step(a.x1 - a.x0, 8);
  for (double y = std::ceil(a.y0 / ys) * ys; y <= a.y1; y += ys) {
    cairo_set_source_rgb(c, 0.9, 0.9, 0.9);
    cairo_move_to(c, a.left, a.py(y));
    cairo_line_to(c, a.right, a.py(y));
    cairo_stroke(c);
    cairo_set_source_rgb(c, 0.2, 0.2, 0.2);
    const std::string label = fmt::format("{:g}", y);
    cairo_move_to(c, 8, a.py(y) + 4);
    cairo_show_text(c, label.c_str());
  }
  for (double x = std::ceil(a.x0 / xs) * xs; x <= a.x1; x += xs) {
    cairo_set_source_rgb(c, 0.9, 0.9, 0.9);
    cairo_move_to(c, a.px(x), a.top);
    cairo_line_to(c, a.px(x), a.bottom);
    cairo_stroke(c);
    cairo_set_source_rgb(c, 0.2, 0.2, 0.2);
    const std::string label = fmt::format("{:g}", x);
    cairo_move_to(c, a.px(x) - 6, a.bottom + 18);
    cairo_show_text(c, label.c_str());
  }
  cairo_set_source_rgb(c, 0, 0, 0);
  cairo_rectangle(c, a.left, a.top, a.right - a.left, a.bottom - a.top);
  cairo_stroke(c);
  cairo_move_to(c, (a.left + a.right) / 2 - 20, height - 15);
  cairo_show_text(c, x_label.c_str());
  cairo_move_to(c, a.left + 6, a.top + 16);
  cairo_show_text(c, y_label.c_str());
}

// The series (gaps at non-finite values) and their legend.
void draw_series(cairo_t* c, const PlotArea& a, const std::vector<PlotSeries>& series) {
  cairo_set_line_width(c, 2);
  double legend_y = a.top + 36;
  for (const auto& s : series) {
    cairo_set_source_rgb(c, s.r, s.g, s.b);
    const double dash[] = {6.0, 4.0};
    cairo_set_dash(c, dash, s.dashed ? 2 : 0, 0);
    bool pen_down = false;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      if (pen_down) cairo_line_to(c, a.px(s.x[i]), a.py(s.y[i]));
      else cairo_move_to(c, a.px(s.x[i]), a.py(s.y[i]));
      pen_down = true;
    }
    cairo_stroke(c);
    cairo_move_to(c, a.right - 190, legend_y);
    cairo_line_to(c, a.right - 160, legend_y);
    cairo_stroke(c);
    cairo_set_dash(c, nullptr, 0, 0);
    cairo_move_to(c, a.right - 152, legend_y + 4);
    cairo_show_text(c, s.label.c_str());
    legend_y += 18;
  }
}

}  // namespace

void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const std::string& x_label,
                     const std::string& y_label, int width, int height) {
  const PlotArea area = plot_area(series, width, height);
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height), cairo_surface_destroy);
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()), cairo_destroy);
  cairo_t* c = cr.get();
  cairo_set_source_rgb(c, 1, 1, 1);
  cairo_paint(c);
  draw_axes(c, area, x_label, y_label, height);
  draw_series(c, area, series);

  const std::string temp = path + ".tmp";
  if (cairo_surface_write_to_png(surface.get(), temp.c_str()) != CAIRO_STATUS_SUCCESS) {
    std::remove(temp.c_str());
    throw InputError(path + ": cannot write the PNG plot");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw InputError(path + ": cannot move the PNG plot into place");
  }
}

}  // namespace poselift::render
