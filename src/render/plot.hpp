// Small line plots as PNG (training curves), drawn with cairo.
#pragma once

#include <string>
#include <vector>

namespace poselift::render {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  double r = 0, g = 0, b = 0;  // colour, 0..1
  bool dashed = false;
};

// Writes a width x height PNG atomically (temporary file + rename). Axes are fitted to the
// data; NaN points are skipped.
void write_line_plot(const std::string& path, const std::vector<PlotSeries>& series, const std::string& x_label,
                     const std::string& y_label, int width = 800, int height = 500);

}  // namespace poselift::render
