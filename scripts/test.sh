#!/usr/bin/env bash
# Sets poselift up (scripts/setup.sh) and runs every test: the full CTest suite, the
# tensor-free layers again under AddressSanitizer + UndefinedBehaviorSanitizer, and the
# fuzzers of the untrusted-file parsers for a short fixed time.
#   POSELIFT_FUZZ_SECONDS=N   time per fuzzer (default 20; 0 skips fuzzing)
#   POSELIFT_SKIP_ASAN=1      skip the sanitizer build
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
POSELIFT_WITH_TEST_TOOLS=1 scripts/setup.sh

summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
echo "== tests (build/)"
ctest --test-dir build --output-on-failure -j1 --timeout 1800 | tee -a "$summary"

if [[ "${POSELIFT_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== tensor-free layers under ASan + UBSan (build-asan/)"
  if [[ ! -f build-asan/CMakeCache.txt ]]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSELIFT_TORCH=OFF \
      -DPOSELIFT_SANITIZE=ON -DPOSELIFT_BENCH=OFF
  fi
  cmake --build build-asan -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" | tee -a "$summary"
fi

fuzz_seconds="${POSELIFT_FUZZ_SECONDS:-20}"
if [[ "$fuzz_seconds" != 0 && -x scripts/fuzz.sh ]]; then
  echo "== fuzzing (${fuzz_seconds}s per target)"
  scripts/fuzz.sh "$fuzz_seconds"
fi
# One closing line over both CTest runs (each already failed the script on any failure); skipped
# tests (what needs ../shared, or a tool that is absent) are counted apart from the passed ones.
total=0
while read -r count; do total=$((total + count)); done < <(
  sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$summary")
skipped=$(grep -c '(Skipped)' "$summary" || true)
if ((skipped > 0)); then
  echo "skipped tests:"
  grep '(Skipped)' "$summary" | sed 's/^ */  /'
fi
echo "tests: $((total - skipped)) passed, 0 failed, ${skipped} skipped"
