#include "model/fast_int8.hpp"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

#ifdef POSELIFT_HAVE_DNNL
#include <dnnl.h>
#endif

namespace poselift::model {

int int8_activation_levels() {
  static const int levels = __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni") ? 127 : 63;
  return levels;
}

namespace fast {

QuantizedWeight quantize_weight(const float* w, std::int64_t N, std::int64_t K) {
  QuantizedWeight q{std::vector<std::int8_t>(N * K), std::vector<float>(N)};
  for (std::int64_t n = 0; n < N; ++n) {
    float top = 0.0f;
    for (std::int64_t k = 0; k < K; ++k) top = std::max(top, std::fabs(w[n * K + k]));
    const float scale = top > 0.0f ? top / 127.0f : 1.0f;
    q.scales[n] = scale;
    for (std::int64_t k = 0; k < K; ++k)
      q.values[n * K + k] = static_cast<std::int8_t>(std::lround(w[n * K + k] / scale));
  }
  return q;
}

namespace {

// Rows of x quantised symmetrically (scale per row, stored with an offset of levels + 1 as
// unsigned, which the GEMM's A offset removes).
void quantize_rows(const float* x, std::int64_t M, std::int64_t K, int levels, std::uint8_t* xq, float* row_scale) {
  const float inv_levels = 1.0f / static_cast<float>(levels);
  at::parallel_for(0, M, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = begin; m < end; ++m) {
      const float* row = x + m * K;
      float top = 0.0f;
      for (std::int64_t k = 0; k < K; ++k) top = std::max(top, std::fabs(row[k]));
      const float scale = top > 0.0f ? top * inv_levels : 1.0f, inv = 1.0f / scale;
      row_scale[m] = scale;
      std::uint8_t* out = xq + m * K;
      for (std::int64_t k = 0; k < K; ++k) {
        const float v = row[k] * inv;  // in [-levels, levels]: round half away from zero, shift by levels + 1
        out[k] = static_cast<std::uint8_t>(static_cast<std::int32_t>(v + (v >= 0.0f ? 0.5f : -0.5f)) + levels + 1);
      }
    }
  });
}

}  // namespace

void int8_linear(const float* x, std::int64_t M, std::int64_t K, const QuantizedWeight& qw, std::int64_t N,
                 const float* b, const float* r, float* o) {
#ifdef POSELIFT_HAVE_DNNL
  std::vector<std::uint8_t> xq(M * K);
  std::vector<float> row_scale(M);
  const int levels = int8_activation_levels();
  quantize_rows(x, M, K, levels, xq.data(), row_scale.data());
  std::vector<std::int32_t> products(static_cast<std::size_t>(M * N));
  const std::int32_t no_offset = 0;
  const auto a_offset = static_cast<std::uint8_t>(levels + 1);
  const auto status = dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1.0f, xq.data(), K, a_offset, qw.values.data(), K, 0,
                                        0.0f, products.data(), N, &no_offset);
  TORCH_CHECK(status == dnnl_success, "oneDNN u8s8s32 GEMM failed with status ", static_cast<int>(status));
  const std::int32_t* p = products.data();
  at::parallel_for(0, M, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t m = begin; m < end; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        float v = static_cast<float>(p[m * N + n]) * (row_scale[m] * qw.scales[n]);
        if (b != nullptr) v += b[n];
        if (r != nullptr) v += r[m * N + n];
        o[m * N + n] = v;
      }
  });
#else
  (void)x, (void)M, (void)K, (void)qw, (void)N, (void)b, (void)r, (void)o;
  (void)quantize_rows;
  TORCH_CHECK(false, "int8 inference needs oneDNN");
#endif
}

}  // namespace fast
}  // namespace poselift::model
