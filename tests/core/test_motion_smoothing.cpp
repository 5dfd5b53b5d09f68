// The smoothing filters against hand-computed responses: Savitzky-Golay's classic weights,
// exact polynomials, its edge fits and causality; One-Euro's exponential response when beta is
// 0, its faster response to fast motion, zero phase when run both ways.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "io/error.hpp"
#include "motion/smoothing.hpp"

using namespace poselift;
using motion::Filter;

namespace {

motion::Smoothing savgol(int window, int order, bool causal = false) {
  motion::Smoothing s;
  s.filter = Filter::SavitzkyGolay;
  s.window = window;
  s.order = order;
  s.causal = causal;
  return s;
}

motion::Smoothing one_euro(double min_cutoff, double beta, bool causal) {
  motion::Smoothing s;
  s.filter = Filter::OneEuro;
  s.min_cutoff = min_cutoff;
  s.beta = beta;
  s.causal = causal;
  return s;
}

}  // namespace

TEST(Smoothing, SavitzkyGolayWeightsAreTheClassicOnes) {
  const auto w5 = motion::polynomial_fit_weights(-2, 5, 2, 0.0);
  const double e5[] = {-3, 12, 17, 12, -3};
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(w5[k], e5[k] / 35.0, 1e-12);
  const auto w7 = motion::polynomial_fit_weights(-3, 7, 3, 0.0);  // order 3 has order 2's centre weights
  const double e7[] = {-2, 3, 6, 7, 6, 3, -2};
  for (int k = 0; k < 7; ++k) EXPECT_NEAR(w7[k], e7[k] / 21.0, 1e-12);
  // A straight line through (0,0,0,0,10): mean 2, slope 2 per frame.
  const auto end = motion::polynomial_fit_weights(0, 5, 1, 0.0);
  EXPECT_NEAR(end[4] * 10, -2.0, 1e-12);
  EXPECT_THROW(motion::polynomial_fit_weights(0, 3, 3, 0.0), std::invalid_argument);
}

TEST(Smoothing, SavitzkyGolayKeepsPolynomialsOfItsOrderEverywhere) {
  const std::int64_t T = 40;
  std::vector<float> x(T * 2);
  for (std::int64_t t = 0; t < T; ++t) {
    const double u = (t - 20) / 10.0;
    x[t * 2] = static_cast<float>(0.5 + u - 2 * u * u + 0.7 * u * u * u);
    x[t * 2 + 1] = static_cast<float>(3.0 - u);
  }
  for (bool causal : {false, true}) {
    const auto y = motion::smooth(x, T, 2, savgol(9, 3, causal), 50.0);
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], 2e-5) << i << (causal ? " causal" : "");
  }
  // A window longer than the sequence fits the whole of it.
  const std::vector<float> line{1, 3, 5};
  const auto y = motion::smooth(line, 3, 1, savgol(9, 1), 50.0);
  for (int t = 0; t < 3; ++t) EXPECT_NEAR(y[t], line[t], 1e-6);
}

TEST(Smoothing, SavitzkyGolayEdgesUseTheFirstAndLastWindowsFit) {
  const std::vector<float> x{0, 0, 0, 0, 10, 0, 0};
  const auto y = motion::smooth(x, 7, 1, savgol(5, 1), 50.0);
  // Frames 0 and 1: the line fit through frames 0-4 (mean 2 at frame 2, slope 2).
  EXPECT_NEAR(y[0], -2.0, 1e-5);
  EXPECT_NEAR(y[1], 0.0, 1e-5);
  EXPECT_NEAR(y[2], 2.0, 1e-5);  // centred: the mean of frames 0-4
  EXPECT_NEAR(y[3], 2.0, 1e-5);
  // Frames 5 and 6: the fit through frames 2-6 (mean 2 at frame 4, slope 0).
  EXPECT_NEAR(y[5], 2.0, 1e-5);
  EXPECT_NEAR(y[6], 2.0, 1e-5);
}

TEST(Smoothing, CausalFiltersIgnoreTheFuture) {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const std::int64_t T = 60;
  std::vector<float> a(T);
  for (auto& v : a) v = noise(rng);
  std::vector<float> b = a;
  for (std::int64_t t = 30; t < T; ++t) b[t] += 5.0f;  // a different future from frame 30 on
  for (const auto& s : {savgol(7, 2, true), one_euro(1.5, 0.3, true)}) {
    const auto ya = motion::smooth(a, T, 1, s, 30.0), yb = motion::smooth(b, T, 1, s, 30.0);
    for (std::int64_t t = 0; t < 30; ++t) EXPECT_EQ(ya[t], yb[t]) << motion::filter_name(s.filter) << " frame " << t;
    EXPECT_NE(ya[30], yb[30]);
  }
  // The centred ones do look ahead.
  const auto ya = motion::smooth(a, T, 1, savgol(7, 2), 30.0), yb = motion::smooth(b, T, 1, savgol(7, 2), 30.0);
  EXPECT_NE(ya[28], yb[28]);
}

TEST(Smoothing, OneEuroWithoutBetaIsTheExponentialFilterOfItsCutoff) {
  // A unit step at frame 1, 30 fps, 1 Hz: alpha = r / (1 + r), r = 2 pi / 30 -> 0.1731708.
  const double alpha = 0.17317083;
  std::vector<float> x(20, 1.0f);
  x[0] = 0.0f;
  const auto y = motion::smooth(x, 20, 1, one_euro(1.0, 0.0, true), 30.0);
  EXPECT_EQ(y[0], 0.0f);
  for (int n = 1; n < 20; ++n) EXPECT_NEAR(y[n], 1.0 - std::pow(1.0 - alpha, n), 1e-6) << n;
  // Beta raises the cutoff while the signal moves: the step is followed faster.
  const auto fast = motion::smooth(x, 20, 1, one_euro(1.0, 5.0, true), 30.0);
  for (int n = 1; n < 20; ++n) EXPECT_GT(fast[n], y[n]) << n;
  // Run both ways it has zero phase: an impulse's response is symmetric about it.
  std::vector<float> impulse(41, 0.0f);
  impulse[20] = 1.0f;
  const auto both = motion::smooth(impulse, 41, 1, one_euro(2.0, 0.0, false), 30.0);
  for (int k = 1; k <= 12; ++k) EXPECT_NEAR(both[20 - k], both[20 + k], 1e-3 * both[20]) << k;
}

TEST(Smoothing, FiltersKeepConstantsAndReduceNoise) {
  const std::int64_t T = 200, C = 3;
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(0.0, 0.02);
  std::vector<float> clean(T * C), noisy(T * C), constant(T * C, 0.25f);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = 0; c < C; ++c) {
      clean[t * C + c] = static_cast<float>(0.3 * std::sin(2 * M_PI * 0.5 * t / 50.0 + c));
      noisy[t * C + c] = clean[t * C + c] + static_cast<float>(noise(rng));
    }
  const auto rms = [&](const std::vector<float>& y) {
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += (y[i] - clean[i]) * (y[i] - clean[i]);
    return std::sqrt(s / y.size());
  };
  for (const auto& s : {savgol(9, 2), savgol(9, 2, true), one_euro(1.0, 0.5, false), one_euro(1.0, 0.5, true)}) {
    const auto kept = motion::smooth(constant, T, C, s, 50.0);
    for (float v : kept) ASSERT_NEAR(v, 0.25f, 1e-6) << motion::filter_name(s.filter);
  }
  // The centred filters and a causal line fit lower the error; causal filters of higher order
  // (the end of a parabola) or low cutoff (lag) trade noise for other error, so not here.
  for (const auto& s : {savgol(9, 2), savgol(9, 1, true), one_euro(1.0, 0.5, false)})
    EXPECT_LT(rms(motion::smooth(noisy, T, C, s, 50.0)), 0.8 * rms(noisy)) << motion::filter_name(s.filter) << s.causal;
  EXPECT_EQ(motion::smooth(noisy, T, C, motion::Smoothing{}, 50.0), noisy);  // none
}

TEST(Smoothing, BadSettingsNameTheirFlag) {
  const auto message = [](const motion::Smoothing& s, double fps = 30.0) {
    try {
      motion::smooth(std::vector<float>(4, 0.0f), 4, 1, s, fps);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(savgol(8, 2)).find("--smooth-window"), std::string::npos);
  EXPECT_NE(message(savgol(5, 5)).find("--smooth-order"), std::string::npos);
  EXPECT_NE(message(one_euro(0.0, 0.0, true)).find("--one-euro-min-cutoff"), std::string::npos);
  EXPECT_NE(message(one_euro(1.0, -1.0, true)).find("--one-euro-beta"), std::string::npos);
  EXPECT_NE(message(one_euro(1.0, 0.0, true), 0.0).find("--fps"), std::string::npos);
  EXPECT_EQ(message(savgol(8, 2, true)), "no error");  // a causal window may be even
  EXPECT_THROW(motion::filter_from_name("kalman"), InputError);
  EXPECT_NE(message(savgol(0, 3), 0.0).find("--fps"), std::string::npos);  // 0.4 s needs the rate
  EXPECT_EQ(motion::savgol_window(savgol(0, 3), 50.0), 21);
  EXPECT_EQ(motion::savgol_window(savgol(0, 3), 30.0), 13);
  EXPECT_EQ(motion::savgol_window(savgol(0, 3), 5.0), 5);
  EXPECT_EQ(motion::savgol_window(savgol(7, 3), 50.0), 7);
  EXPECT_EQ(motion::filter_from_name("savgol"), Filter::SavitzkyGolay);
}
