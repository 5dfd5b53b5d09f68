// OpenBLAS's choice of kernels (the reference path's matrix products run on them).
#pragma once

#include <string>

namespace poselift::runtime {

// OpenBLAS picks its kernels for the CPU when it loads, from a table fixed at its release:
// Debian 12's 0.3.21 does not know newer CPUs (e.g. Intel Emerald Rapids) and falls back to its
// SSE3 "Prescott" kernels, which run LibTorch's matrix products several times slower. The
// choice can only be made by OPENBLAS_CORETYPE before the library loads, so when OpenBLAS
// reports such a fallback on a CPU with AVX-512 (or AVX2) and OPENBLAS_CORETYPE is unset,
// this restarts the program once (execv) with OPENBLAS_CORETYPE=SkylakeX (Haswell). Call first
// thing in main(); returns when nothing needs to change or the restart fails.
void use_cpu_specific_blas_kernels(char** argv);
// OpenBLAS's kernel set ("SkylakeX", ...), "" when the BLAS is not OpenBLAS.
std::string blas_core_name();
// The kernel set OpenBLAS picked by itself before that restart ("Prescott", ...), or "" when
// poselift did not change it. `bench` measures the reference path on those too.
std::string stock_blas_core_name();
// Sets OpenBLAS's own thread pool size (no effect with another BLAS).
void set_blas_threads(int threads);

}  // namespace poselift::runtime
