#!/usr/bin/env bash
# Installs poselift's build dependencies (Debian packages, no prompts) and builds it into
# ./build. Idempotent: packages already present are not reinstalled, the build is incremental.
#   scripts/setup.sh            install + build (Release)
#   POSELIFT_NO_APT=1 ...       skip the package step (e.g. an official LibTorch through
#                               CMAKE_PREFIX_PATH=/path/to/libtorch on another distribution)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libtorch-dev libopenblas0-pthread   # LibTorch; OpenBLAS threads (else matrix products ~15x slower)
  libdnnl-dev                         # oneDNN GEMM for the fast CPU path (libdnnl is already a LibTorch dependency)
  libgloo-dev                          # c10d Gloo headers: multi-process training
  libzip-dev zlib1g-dev libssl-dev nlohmann-json3-dev libfmt-dev libcli11-dev libcairo2-dev
  libyaml-cpp-dev                     # MotionBERT's YAML configurations (--config)
  libtinygltf-dev                     # .glb export (header only tiny_gltf.h)
  libflatbuffers-dev                  # TFLite models (header-only FlatBuffers verifier)
  libavcodec-dev libavformat-dev libswscale-dev libavutil-dev   # render: MP4/GIF through FFmpeg
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Sanitizer and fuzzing builds (scripts/test.sh) use clang's runtimes.
[[ "${POSELIFT_WITH_TEST_TOOLS:-0}" == 1 ]] && packages+=(clang libclang-rt-14-dev python3-numpy python3-torch
  chromium   # headless check of the render --html player
  python3-skimage   # real photographs (astronaut.png, camera.png) for the BlazePose tests
  blender)   # Blender's own BVH importer reads the export back (WildBvhBlender.*) (and of .glb files, with three.js below)
if [[ "${POSELIFT_NO_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo_cmd=(); [[ $(id -u) != 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# ccache keyed on paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
build_dir="${POSELIFT_BUILD_DIR:-build}"
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CMAKE_PREFIX_PATH:+-DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH"}
fi
cmake --build "$build_dir" -j"$(nproc)"
# three.js and the Khronos glTF validator for the checks of the .glb export (WildGltf.ThreeJs*,
# WildGltf.KhronosValidator*), in the build folder (not tracked). npm is not in the package list:
# Debian's conflicts with NodeSource's nodejs, which brings its own. Offline or without npm the
# checks just skip.
viewer="$build_dir/gltf-viewer/node_modules"
if [[ "${POSELIFT_WITH_TEST_TOOLS:-0}" == 1 &&
      ! ( -f "$viewer/three/build/three.module.js" && -f "$viewer/gltf-validator/module.mjs" ) ]]; then
  if command -v npm >/dev/null; then
    npm install --prefix "$build_dir/gltf-viewer" --no-save --no-package-lock --no-audit --no-fund three@0.187.0 \
      gltf-validator@2.0.0-dev.3.10 >/dev/null 2>&1 ||
      echo "setup: npm could not install three / gltf-validator (their checks of .glb files will skip)"
  else
    echo "setup: no npm (the three.js and validator checks of .glb files will skip)"
  fi
fi
# MediaPipe's BlazePose models (the npm package @mediapipe/pose, Apache-2.0) for 2D detection,
# into the build folder's models/ (never tracked). Offline, the tests that need them skip.
pose_models="$build_dir/models/node_modules/@mediapipe/pose"
if [[ ! -f "$pose_models/pose_landmark_lite.tflite" ]]; then
  if command -v npm >/dev/null; then
    npm install --prefix "$build_dir/models" --no-save --no-package-lock --no-audit --no-fund \
      @mediapipe/pose@0.5.1675469404 >/dev/null 2>&1 ||
      echo "setup: npm could not install @mediapipe/pose (the BlazePose models; their tests will skip)"
  else
    echo "setup: no npm (the BlazePose models are not installed; their tests will skip)"
  fi
fi
echo "setup: built $build_dir/poselift"
