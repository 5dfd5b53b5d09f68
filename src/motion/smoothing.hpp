// Temporal smoothing of lifted motion: every channel (a joint's x, y or z, a trajectory
// coordinate) of a (T, C) series filtered on its own. Two well-known filters:
//   One-Euro (Casiez, Roussel, Vogel, CHI 2012): a first-order low-pass whose cutoff rises with
//     the filtered speed, min_cutoff + beta * |dx/dt| (Hz; beta in Hz per unit/s), so slow
//     motion is smoothed hard and fast motion lags little. Causal by construction; non-causal
//     runs it forward and then backward over the result (zero phase when beta is 0).
//   Savitzky-Golay: the least-squares polynomial of `order` over a window of `window` frames,
//     evaluated at the frame. Non-causal centres the window; near the ends the polynomial of
//     the first / last whole window is evaluated there (scipy's mode="interp"). Causal fits the
//     `window` frames that end at the frame (fewer at the start, the order capped to fit).
// Both run on the whole stitched sequence, so clip and window boundaries of the models leave
// no seam of their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace poselift::motion {

enum class Filter { None, OneEuro, SavitzkyGolay };

// "none", "one-euro", "savgol"; InputError naming --smooth otherwise.
Filter filter_from_name(const std::string& name);
const char* filter_name(Filter filter);

struct Smoothing {
  Filter filter = Filter::None;
  bool causal = false;
  // One-Euro: minimum cutoff (Hz), speed coefficient, cutoff of the speed estimate (Hz).
  double min_cutoff = 1.0, beta = 0.0, derivative_cutoff = 1.0;
  // Savitzky-Golay: window in frames (odd when centred; 0: 0.4 s of frames at the series' rate,
  // 2 * round(0.2 * fps) + 1, e.g. 21 at 50 fps, 13 at 30) and polynomial order (< window).
  int window = 9, order = 2;
};

// What infer applies unless told otherwise: the filter that, measured on held-out real motion
// capture at 50 fps (tests/torch/test_infer.cpp, README "Smoothing"), lowers the acceleration
// error by half without raising MPJPE: Savitzky-Golay of order 3 over 0.4 s (window 0).
Smoothing default_smoothing();

// The Savitzky-Golay window `smoothing` uses at `fps` (its own, or the 0.4 s rule for 0).
int savgol_window(const Smoothing& smoothing, double fps);

// InputError naming the flag (--smooth-window, --one-euro-min-cutoff, ...) for settings out of range.
void validate_smoothing(const Smoothing& smoothing);

// `values` holds `frames` rows of `channels` floats (C order) sampled at `fps`; returns the
// smoothed copy. Filter::None returns it unchanged.
std::vector<float> smooth(const std::vector<float>& values, std::int64_t frames, std::int64_t channels,
                          const Smoothing& smoothing, double fps);

// The weights w_k of a least-squares polynomial fit of `order` through samples at integer
// offsets first, first + 1, ..., first + count - 1, evaluated at offset `at`: the fit's value
// there is sum_k w_k * x_k. (window 5, order 2, centred: (-3, 12, 17, 12, -3) / 35.)
std::vector<double> polynomial_fit_weights(int first, int count, int order, double at);

}  // namespace poselift::motion
