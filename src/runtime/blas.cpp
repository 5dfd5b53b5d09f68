#include "runtime/blas.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace poselift::runtime {

namespace {
constexpr const char* kStockBlasCoreVariable = "POSELIFT_STOCK_BLAS_CORE";
}  // namespace

std::string stock_blas_core_name() {
  const char* stock = std::getenv(kStockBlasCoreVariable);
  const std::string current = blas_core_name();
  return stock != nullptr && !current.empty() && current != stock ? stock : "";
}

std::string blas_core_name() {
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core_name != nullptr ? core_name() : nullptr;
  return name != nullptr ? name : "";
}

void use_cpu_specific_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice (or a restart's)
  const std::string core = blas_core_name();
  // OpenBLAS's generic x86-64 fallbacks when it does not recognise the CPU.
  if (core != "Prescott" && core != "Core2" && core != "Penryn" && core != "Nehalem") return;
  const char* wanted = nullptr;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    wanted = "SkylakeX";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    wanted = "Haswell";
  }
#endif
  if (wanted == nullptr) return;
  setenv(kStockBlasCoreVariable, core.c_str(), 1);  // for `bench`, which compares against both
  setenv("OPENBLAS_CORETYPE", wanted, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the slow kernels
}

void set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto set_blas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set_blas(threads);
}

}  // namespace poselift::runtime
