#include "motion/smoothing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "io/error.hpp"

namespace poselift::motion {

Filter filter_from_name(const std::string& name) {
  if (name == "none") return Filter::None;
  if (name == "one-euro") return Filter::OneEuro;
  if (name == "savgol") return Filter::SavitzkyGolay;
  throw InputError(fmt::format("--smooth: expected none, one-euro or savgol, found '{}'", name));
}

const char* filter_name(Filter filter) {
  switch (filter) {
    case Filter::None: return "none";
    case Filter::OneEuro: return "one-euro";
    case Filter::SavitzkyGolay: return "savgol";
  }
  return "none";
}

Smoothing default_smoothing() {
  Smoothing s;
  s.filter = Filter::SavitzkyGolay;
  s.window = 0;
  s.order = 3;
  return s;
}

int savgol_window(const Smoothing& s, double fps) {
  if (s.window != 0) return s.window;
  if (!(std::isfinite(fps) && fps > 0.0 && fps <= 1e4))
    throw InputError(fmt::format("--smooth savgol: a window of 0 (0.4 s) needs the frame rate (--fps), found {}", fps));
  const int half = static_cast<int>(std::lround(0.2 * fps));
  return std::max(2 * half + 1, 5);
}

void validate_smoothing(const Smoothing& s) {
  const auto positive = [](double v) { return std::isfinite(v) && v > 0.0; };
  if (s.filter == Filter::OneEuro) {
    if (!positive(s.min_cutoff) || s.min_cutoff > 1e6)
      throw InputError(fmt::format("--one-euro-min-cutoff: expected a cutoff in Hz above 0, found {}", s.min_cutoff));
    if (!(std::isfinite(s.beta) && s.beta >= 0.0 && s.beta <= 1e9))
      throw InputError(fmt::format("--one-euro-beta: expected a non-negative number, found {}", s.beta));
    if (!positive(s.derivative_cutoff) || s.derivative_cutoff > 1e6)
      throw InputError(
          fmt::format("--one-euro-derivative-cutoff: expected a cutoff in Hz above 0, found {}", s.derivative_cutoff));
  }
  if (s.filter == Filter::SavitzkyGolay) {
    if (s.window != 0 && (s.window < 2 || s.window > 1001))
      throw InputError(fmt::format("--smooth-window: expected 2 to 1001 frames (0: 0.4 s), found {}", s.window));
    if (!s.causal && s.window % 2 == 0 && s.window != 0)
      throw InputError(fmt::format("--smooth-window: a centred window needs an odd number of frames, found {}", s.window));
    if (s.order < 0 || s.order > 10 || (s.window != 0 && s.order >= s.window))
      throw InputError(fmt::format("--smooth-order: expected 0 to {}, found {}",
                                   s.window != 0 ? std::min(10, s.window - 1) : 10, s.order));
  }
}

std::vector<double> polynomial_fit_weights(int first, int count, int order, double at) {
  if (count < 1 || order < 0 || order >= count)
    throw std::invalid_argument("polynomial_fit_weights: need 0 <= order < count");
  const int n = order + 1;
  // Offsets from the evaluation point, scaled to about [-1, 1] so that the normal equations
  // stay well conditioned; the fit's value at `at` is then its constant coefficient.
  const double scale = std::max(1.0, count / 2.0);
  std::vector<double> design(static_cast<std::size_t>(count) * n);
  for (int k = 0; k < count; ++k) {
    const double u = (first + k - at) / scale;
    double p = 1.0;
    for (int i = 0; i < n; ++i, p *= u) design[static_cast<std::size_t>(k) * n + i] = p;
  }
  // (A^T A) y = e0, by Gaussian elimination with partial pivoting; the weights are A y.
  std::vector<double> gram(static_cast<std::size_t>(n) * (n + 1), 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < count; ++k)
        gram[i * (n + 1) + j] += design[static_cast<std::size_t>(k) * n + i] * design[static_cast<std::size_t>(k) * n + j];
    gram[i * (n + 1) + n] = i == 0 ? 1.0 : 0.0;
  }
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(gram[r * (n + 1) + c]) > std::abs(gram[pivot * (n + 1) + c])) pivot = r;
    for (int j = 0; j <= n; ++j) std::swap(gram[c * (n + 1) + j], gram[pivot * (n + 1) + j]);
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = gram[r * (n + 1) + c] / gram[c * (n + 1) + c];
      for (int j = c; j <= n; ++j) gram[r * (n + 1) + j] -= f * gram[c * (n + 1) + j];
    }
  }
  std::vector<double> weights(static_cast<std::size_t>(count), 0.0);
  for (int k = 0; k < count; ++k)
    for (int i = 0; i < n; ++i)
      weights[k] += design[static_cast<std::size_t>(k) * n + i] * gram[i * (n + 1) + n] / gram[i * (n + 1) + i];
  return weights;
}

namespace {

using Series = std::vector<float>;

// Savitzky-Golay over every channel: each frame's fit window (start, count) and evaluation
// offset give one weight vector, shared by every frame that has the same ones.
Series savitzky_golay(const Series& x, std::int64_t T, std::int64_t C, const Smoothing& s) {
  Series out(x.size());
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<double>> cache;  // (count, offset) -> weights
  const std::int64_t window = std::min<std::int64_t>(s.window, T);
  for (std::int64_t t = 0; t < T; ++t) {
    std::int64_t start, count;
    if (s.causal) {
      start = std::max<std::int64_t>(0, t - s.window + 1);
      count = t - start + 1;
    } else {
      count = window;
      start = std::clamp<std::int64_t>(t - window / 2, 0, T - window);
    }
    const std::int64_t offset = t - start;
    auto& w = cache[{count, offset}];
    if (w.empty())
      w = polynomial_fit_weights(0, static_cast<int>(count), std::min<int>(s.order, static_cast<int>(count) - 1),
                                 static_cast<double>(offset));
    for (std::int64_t c = 0; c < C; ++c) {
      double v = 0.0;
      for (std::int64_t k = 0; k < count; ++k) v += w[static_cast<std::size_t>(k)] * x[(start + k) * C + c];
      out[t * C + c] = static_cast<float>(v);
    }
  }
  return out;
}

// The smoothing factor of a first-order low-pass of `cutoff` Hz sampled every `period` s.
double smoothing_factor(double cutoff, double period) {
  const double r = 2.0 * M_PI * cutoff * period;
  return r / (r + 1.0);
}

// One-Euro over every channel, frames in the order `forward` says.
Series one_euro(const Series& x, std::int64_t T, std::int64_t C, const Smoothing& s, double fps, bool forward) {
  Series out(x.size());
  const double period = 1.0 / fps, derivative_alpha = smoothing_factor(s.derivative_cutoff, period);
  for (std::int64_t c = 0; c < C; ++c) {
    double value = 0.0, speed = 0.0;
    for (std::int64_t i = 0; i < T; ++i) {
      const std::int64_t t = forward ? i : T - 1 - i;
      const double sample = x[t * C + c];
      if (i == 0) {
        value = sample;
      } else {
        speed = derivative_alpha * (sample - value) * fps + (1.0 - derivative_alpha) * speed;
        const double alpha = smoothing_factor(s.min_cutoff + s.beta * std::abs(speed), period);
        value = alpha * sample + (1.0 - alpha) * value;
      }
      out[t * C + c] = static_cast<float>(value);
    }
  }
  return out;
}

}  // namespace

std::vector<float> smooth(const std::vector<float>& values, std::int64_t frames, std::int64_t channels,
                          const Smoothing& smoothing, double fps) {
  if (frames < 0 || channels < 0 || static_cast<std::uint64_t>(frames) * static_cast<std::uint64_t>(channels) != values.size())
    throw std::invalid_argument("smooth: values do not hold frames x channels floats");
  validate_smoothing(smoothing);
  if (smoothing.filter == Filter::None || frames < 2) return values;
  if (smoothing.filter == Filter::SavitzkyGolay) {
    Smoothing sized = smoothing;
    sized.window = savgol_window(smoothing, fps);
    sized.order = std::min(sized.order, sized.window - 1);
    return savitzky_golay(values, frames, channels, sized);
  }
  if (!(std::isfinite(fps) && fps > 0.0 && fps <= 1e6))
    throw InputError(fmt::format("--smooth one-euro: needs the frame rate (--fps), found {}", fps));
  Series out = one_euro(values, frames, channels, smoothing, fps, true);
  if (!smoothing.causal) out = one_euro(out, frames, channels, smoothing, fps, false);
  return out;
}

}  // namespace poselift::motion
