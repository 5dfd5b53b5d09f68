// A self-contained offline HTML page (inline JavaScript, no network) that plays the poses of a
// FigureInput interactively: play/pause, a scrub slider, orbiting by mouse drag, the
// reconstruction and the ground truth (when present) overlaid in 3D beside the 2D input.
// Opened with the URL hash #selftest the page checks itself (JavaScript errors, non-blank
// canvas, frames advancing, orbit changing the view) and writes the result as JSON into
// <pre id="selftest-result">, which headless Chromium's --dump-dom exposes to tests.
#pragma once

#include <string>

#include "render/figure.hpp"

namespace poselift::render {

// The page's HTML text.
std::string html_player(const FigureInput& input, const std::string& title);
// Writes html_player() atomically.
void write_html_player(const std::string& path, const FigureInput& input, const std::string& title);

}  // namespace poselift::render
