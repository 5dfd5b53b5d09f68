#include "model/fast_bf16.hpp"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "model/fast_gemm.hpp"

#ifdef POSELIFT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace poselift::model {

namespace {

#ifdef POSELIFT_HAVE_DNNL
bool cpu_has_bf16() {
  // The ISA values are nested bit masks: AMX contains AVX512-BF16's bits.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::matmul::primitive_desc matmul_desc(std::int64_t M, std::int64_t N, std::int64_t K, bool bias, bool residual) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  const dnnl::memory::desc src({M, K}, dt::bf16, tag::ab);
  const dnnl::memory::desc weights({K, N}, dt::bf16, tag::ba);  // W stored N x K: its transpose
  const dnnl::memory::desc dst({M, N}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  if (residual) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const auto desc = bias ? dnnl::matmul::desc(src, weights, dnnl::memory::desc({1, N}, dt::f32, tag::ab), dst)
                         : dnnl::matmul::desc(src, weights, dst);
  return dnnl::matmul::primitive_desc(desc, attr, cpu_engine());
}

// Built primitives by shape: oneDNN's own cache would also find them, but only after building
// a primitive descriptor per call, which costs as much as a small window's product.
const dnnl::matmul& matmul_for(std::int64_t M, std::int64_t N, std::int64_t K, bool bias, bool residual) {
  static std::mutex mutex;
  static std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, bool, bool>, dnnl::matmul> built;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(M, N, K, bias, residual);
  auto it = built.find(key);
  if (it != built.end()) return it->second;
  if (built.size() >= 256) built.clear();  // many shapes (varying batch sizes): start over, bounded
  return built.emplace(key, dnnl::matmul(matmul_desc(M, N, K, bias, residual))).first->second;
}
#endif

}  // namespace

std::string bf16_isa() {
#ifdef POSELIFT_HAVE_DNNL
  if (!cpu_has_bf16()) return "";
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  return (isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx ? "avx512_core_amx" : "avx512_core_bf16";
#else
  return "";
#endif
}

std::string bf16_matmul_implementation(std::int64_t m, std::int64_t n, std::int64_t k) {
#ifdef POSELIFT_HAVE_DNNL
  if (!cpu_has_bf16()) return "";
  return matmul_desc(m, n, k, true, false).impl_info_str();
#else
  (void)m, (void)n, (void)k;
  return "";
#endif
}

namespace fast {

std::uint16_t to_bf16(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

float from_bf16(std::uint16_t value) {
  const std::uint32_t bits = static_cast<std::uint32_t>(value) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

namespace {

void convert_rows(const float* x, std::int64_t count, std::uint16_t* out) {
  at::parallel_for(0, count, 1 << 14, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) out[i] = to_bf16(x[i]);
  });
}

}  // namespace

Bf16Weight bf16_weight(const float* weight, std::int64_t N, std::int64_t K) {
  Bf16Weight w{std::vector<std::uint16_t>(static_cast<std::size_t>(N * K))};
  convert_rows(weight, N * K, w.values.data());
  return w;
}

void bf16_linear(const float* x, std::int64_t M, std::int64_t K, const Bf16Weight& weight, std::int64_t N,
                 const float* bias, const float* residual, float* out) {
#ifdef POSELIFT_HAVE_DNNL
  TORCH_CHECK(cpu_has_bf16(), "bfloat16 inference needs a CPU with AVX512-BF16 or AMX");
  TORCH_CHECK(weight.values.size() == static_cast<std::size_t>(N * K), "bf16_linear: weight of ",
              weight.values.size(), " values for ", N, " x ", K);
  if (M == 0 || N == 0) return;
  std::vector<std::uint16_t> xb(static_cast<std::size_t>(M * K));
  convert_rows(x, M * K, xb.data());
  if (residual != nullptr) std::memcpy(out, residual, static_cast<std::size_t>(M * N) * sizeof(float));
  const auto& primitive = matmul_for(M, N, K, bias != nullptr, residual != nullptr);
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  const auto& engine = cpu_engine();
  dnnl::memory src({{M, K}, dt::bf16, tag::ab}, engine, xb.data());
  dnnl::memory weights({{K, N}, dt::bf16, tag::ba}, engine, const_cast<std::uint16_t*>(weight.values.data()));
  dnnl::memory dst({{M, N}, dt::f32, tag::ab}, engine, out);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (bias != nullptr)
    args.emplace(DNNL_ARG_BIAS, dnnl::memory({{1, N}, dt::f32, tag::ab}, engine, const_cast<float*>(bias)));
  dnnl::stream stream(engine);
  primitive.execute(stream, args);
  stream.wait();
#else
  (void)x, (void)M, (void)K, (void)weight, (void)N, (void)bias, (void)residual, (void)out;
  TORCH_CHECK(false, "bfloat16 inference needs oneDNN");
#endif
}

double measure_bf16_gflops(std::int64_t m, std::int64_t n, std::int64_t k, double seconds) {
  const GemmOperands operands(m, n, k);
  const Bf16Weight weight = bf16_weight(operands.b.data(), n, k);
  std::vector<float> c(static_cast<std::size_t>(m * n));
  return measure_gflops([&] { bf16_linear(operands.a.data(), m, k, weight, n, nullptr, nullptr, c.data()); },
                        2.0 * m * n * k, seconds);
}

}  // namespace fast
}  // namespace poselift::model
