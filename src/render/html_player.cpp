#include "render/html_player.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

#include "io/file.hpp"
#include "io/error.hpp"

#include "io/zip_archive.hpp"

namespace poselift::render {

namespace {

// Millimetres / tenths of a pixel as integers keep the embedded data compact.
nlohmann::json rounded(const std::vector<float>& values, double factor) {
  nlohmann::json out = nlohmann::json::array();
  for (float v : values) out.push_back(static_cast<long long>(std::llround(v * factor)));
  return out;
}

const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
body{font-family:sans-serif;margin:8px;background:#fff;color:#000}
#bar{display:flex;gap:10px;align-items:center;margin-bottom:6px}
#scrub{flex:1}
canvas{border:1px solid #ccc;touch-action:none}
#legend span{display:inline-block;margin-right:12px}
</style></head><body>
<div id="bar"><button id="play">Pause</button><input id="scrub" type="range" min="0" value="0" step="1"><span id="label"></span></div>
<div><canvas id="view3d" width="600" height="560" title="drag to orbit"></canvas>
<canvas id="view2d" width="420" height="560"></canvas></div>
<div id="legend"></div>
<script>
"use strict";
var errors = [];
window.addEventListener("error", function (e) { errors.push(String(e.message || e)); });
var DATA = @DATA@;
(function () {
  var T = DATA.frames, J = DATA.joints, K = DATA.keypoint_count, parents = DATA.parents;
  var right = {}, kright = {};
  DATA.joints_right.forEach(function (j) { right[j] = true; });
  DATA.keypoints_right.forEach(function (j) { kright[j] = true; });
  // Per track: [right, left] colours. The reconstruction as the original (red / black).
  var palette = [["#e00000", "#000000"], ["#ff9a40", "#3060ff"], ["#00a000", "#808080"]];
  var view = document.getElementById("view3d"), c3 = view.getContext("2d");
  var flat = document.getElementById("view2d"), c2 = flat.getContext("2d");
  var scrub = document.getElementById("scrub"), label = document.getElementById("label");
  var button = document.getElementById("play");
  var azim = DATA.azimuth, elev = DATA.elevation, frame = 0, playing = true, ticks = 0;
  scrub.max = String(T - 1);
  document.getElementById("legend").innerHTML = DATA.tracks.map(function (t, i) {
    var p = palette[i % palette.length];
    return "<span><b style='color:" + p[0] + "'>right</b> / <b style='color:" + p[1] + "'>left</b>: " +
      t.title.replace(/</g, "&lt;") + "</span>";
  }).join("") + "<span>drag to orbit, space to play/pause</span>";

  function joint(track, t, j) {
    var p = DATA.tracks[track].positions, o = (t * J + j) * 3;
    return [p[o] / 1000, p[o + 1] / 1000, p[o + 2] / 1000];
  }
  function draw3d(t) {
    var w = view.width, h = view.height, r = DATA.radius, half = r / 2;
    c3.fillStyle = "#ffffff"; c3.fillRect(0, 0, w, h);
    var root = joint(0, t, 0), a = azim * Math.PI / 180, e = elev * Math.PI / 180;
    var scale = Math.min(w, h) / (r * 1.5);
    function project(p) {
      var dx = p[0] - root[0], dy = p[1] - root[1], dz = p[2] - half;
      var u = -Math.sin(a) * dx + Math.cos(a) * dy;
      var v = -Math.sin(e) * Math.cos(a) * dx - Math.sin(e) * Math.sin(a) * dy + Math.cos(e) * dz;
      return [w / 2 + scale * u, h / 2 - scale * v];
    }
    function line(p, q) { var s = project(p), d = project(q); c3.moveTo(s[0], s[1]); c3.lineTo(d[0], d[1]); }
    var step = 0.25, g;
    c3.lineWidth = 1; c3.strokeStyle = "#d0d0d0"; c3.beginPath();
    for (g = Math.ceil((root[0] - half) / step) * step; g <= root[0] + half + 1e-9; g += step)
      line([g, root[1] - half, 0], [g, root[1] + half, 0]);
    for (g = Math.ceil((root[1] - half) / step) * step; g <= root[1] + half + 1e-9; g += step)
      line([root[0] - half, g, 0], [root[0] + half, g, 0]);
    c3.stroke();
    c3.lineCap = "round";
    for (var n = DATA.tracks.length - 1; n >= 0; n--) {
      var colours = palette[n % palette.length];
      c3.lineWidth = n === 0 ? 3 : 2;
      for (var j = 0; j < J; j++) {
        if (parents[j] < 0) continue;
        c3.strokeStyle = right[j] ? colours[0] : colours[1];
        c3.beginPath(); line(joint(n, t, j), joint(n, t, parents[j])); c3.stroke();
      }
      for (j = 0; j < J; j++) {
        var s = project(joint(n, t, j));
        c3.fillStyle = right[j] ? colours[0] : colours[1];
        c3.beginPath(); c3.arc(s[0], s[1], 3, 0, 2 * Math.PI); c3.fill();
      }
    }
  }
  function draw2d(t) {
    var w = flat.width, h = flat.height, vw = DATA.viewport[0], vh = DATA.viewport[1];
    var scale = Math.min(w / vw, h / vh), left = (w - scale * vw) / 2, top = (h - scale * vh) / 2;
    c2.fillStyle = "#ffffff"; c2.fillRect(0, 0, w, h);
    c2.fillStyle = "#808080"; c2.fillRect(left, top, scale * vw, scale * vh);
    function at(j) { var o = (t * K + j) * 2; return [left + DATA.keypoints[o] / 10 * scale, top + DATA.keypoints[o + 1] / 10 * scale]; }
    if (DATA.keypoint_bones && K === J) {
      c2.strokeStyle = "#ffc0cb"; c2.lineWidth = 2;
      for (var j = 0; j < J; j++) {
        if (parents[j] < 0) continue;
        var p = at(j), q = at(parents[j]);
        c2.beginPath(); c2.moveTo(p[0], p[1]); c2.lineTo(q[0], q[1]); c2.stroke();
      }
    }
    for (j = 0; j < K; j++) {
      var s = at(j);
      c2.fillStyle = kright[j] ? "#ff0000" : "#000000"; c2.strokeStyle = "#ffffff"; c2.lineWidth = 1;
      c2.beginPath(); c2.arc(s[0], s[1], 3.5, 0, 2 * Math.PI); c2.fill(); c2.stroke();
    }
  }
  function show(t) {
    frame = Math.max(0, Math.min(T - 1, t));
    draw3d(frame); draw2d(frame);
    scrub.value = String(frame);
    label.textContent = "frame " + (frame + 1) + " / " + T + "  azimuth " + Math.round(azim) + "\u00b0 elevation " + Math.round(elev) + "\u00b0";
  }
  function tick() { if (playing) { ticks++; show((frame + 1) % T); } }
  function setPlaying(on) { playing = on; button.textContent = on ? "Pause" : "Play"; }
  button.addEventListener("click", function () { setPlaying(!playing); });
  scrub.addEventListener("input", function () { setPlaying(false); show(parseInt(scrub.value, 10)); });
  document.addEventListener("keydown", function (e) { if (e.key === " ") { e.preventDefault(); setPlaying(!playing); } });
  var drag = null;
  view.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener("pointerup", function () { drag = null; });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    azim -= (e.clientX - drag[0]) * 0.5;
    elev = Math.max(-89, Math.min(89, elev + (e.clientY - drag[1]) * 0.5));
    drag = [e.clientX, e.clientY];
    show(frame);
  });
  setInterval(tick, 1000 / DATA.fps);
  show(0);

  if (location.hash === "#selftest") {
    // Reads the 3D canvas back: pixels that differ from the white background, and a checksum.
    var inspect = function () {
      var d = c3.getImageData(0, 0, view.width, view.height).data, ink = 0, sum = 0;
      for (var i = 0; i < d.length; i += 4) {
        if (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255) ink++;
        sum = (sum * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) % 1000000007;
      }
      return {ink: ink, sum: sum};
    };
    var start = inspect();
    setTimeout(function () {
      setPlaying(false);
      var played = ticks, later = inspect(), azimBefore = azim;
      var opts = function (x, y) { return {clientX: x, clientY: y, bubbles: true, pointerId: 1}; };
      view.dispatchEvent(new PointerEvent("pointerdown", opts(100, 100)));
      window.dispatchEvent(new PointerEvent("pointermove", opts(160, 100)));
      window.dispatchEvent(new PointerEvent("pointerup", opts(160, 100)));
      var orbited = inspect();
      var result = {errors: errors, frames: T, tracks: DATA.tracks.length, ink: start.ink,
        framesAdvanced: played, pixelsChangedByPlaying: later.sum !== start.sum,
        azimuthChange: azim - azimBefore, pixelsChangedByOrbit: orbited.sum !== later.sum};
      result.ok = errors.length === 0 && start.ink > 200 && played > 0 &&
        result.azimuthChange !== 0 && result.pixelsChangedByOrbit;
      var pre = document.createElement("pre");
      pre.id = "selftest-result";
      pre.textContent = JSON.stringify(result);
      document.body.appendChild(pre);
    }, 1000);
  }
})();
</script></body></html>
)HTML";

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string html_player(const FigureInput& input, const std::string& title) {
  input.validate(title);
  nlohmann::json data;
  data["frames"] = input.frames;
  data["joints"] = input.joints;
  data["keypoint_count"] = input.keypoint_count;
  data["parents"] = input.parents;
  data["joints_right"] = input.joints_right;
  data["keypoints_right"] = input.keypoints_right;
  data["keypoint_bones"] = input.keypoint_bones;
  data["viewport"] = {input.viewport_width, input.viewport_height};
  data["azimuth"] = input.azimuth;
  data["elevation"] = input.elevation;
  data["radius"] = input.radius;
  data["fps"] = input.fps;
  data["keypoints"] = rounded(input.keypoints, 10);
  data["tracks"] = nlohmann::json::array();
  for (const auto& track : input.tracks)
    data["tracks"].push_back({{"title", track.title}, {"positions", rounded(track.positions, 1000)}});
  if (input.tracks.empty()) throw InputError(title + ": no 3D poses for the player");
  std::string json = data.dump();
  replace_all(json, "<", "\\u003c");  // no "</script>" inside the script; '<' only occurs in strings
  std::string html_title = title;
  replace_all(html_title, "&", "&amp;");
  replace_all(html_title, "<", "&lt;");
  std::string page = kPage;
  replace_all(page, "@TITLE@", html_title);
  replace_all(page, "@DATA@", json);
  return page;
}

void write_html_player(const std::string& path, const FigureInput& input, const std::string& title) {
  io::write_file_atomic(path, html_player(input, title));
}

}  // namespace poselift::render
