#!/usr/bin/env bash
# The main job on built-in data, no downloads, ~5 minutes on 2 CPU cores:
#  1. make a synthetic dataset in the VideoPose3D layout (procedural motion of 7 subjects seen by
#     4 virtual Human3.6M cameras, with detector-like noise on the 2D keypoints);
#  2. train a small PoseFormer on the noisy 2D of subjects S1, S5, S6, S7, S8; as the original,
#     training ends with the evaluation of the test subjects S9 and S11 under the Human3.6M
#     protocols (MPJPE, P-MPJPE, N-MPJPE, velocity error);
#  3. render one test sequence to MP4 and to the interactive HTML player.
# Run scripts/setup.sh first. Output goes to demo/ (override: DEMO_DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
poselift="$root/${POSELIFT_BUILD_DIR:-build}/poselift"
work="${DEMO_DIR:-$root/demo}"
[[ -x "$poselift" ]] || { echo "demo: $poselift is missing: run scripts/setup.sh first" >&2; exit 2; }
mkdir -p "$work"
cd "$work"
rm -rf checkpoint

echo "== 1/3 prepare: procedural motion of 7 subjects, 4 virtual Human3.6M cameras, detector noise"
"$poselift" prepare synthetic --out data --seconds 4

# A small configuration (9 frames, width 16, 2 heads, depth 2) and a higher learning rate than
# the published one (-f 81 --width 32 --heads 8 --depth 4 -lr 0.0002), so that 480 steps of 256
# frames reach a good error in minutes on two cores; the per-epoch evaluation is skipped for time.
echo "== 2/3 train on the noisy 2D, then evaluate S9 and S11 (curves in checkpoint/loss_3d.png)"
"$poselift" train -d synthetic -k noisy --data-dir data -c checkpoint -f 9 --width 16 --heads 2 --depth 2 \
  -lr 0.002 -lrd 0.9 -e 8 --max-batches 60 --no-eval --export-training-curves

echo "== 3/3 render S9 Walking, camera 0 (as: python run_poseformer.py ... --render --viz-subject S9 ...)"
"$poselift" -d synthetic -k noisy --data-dir data -c checkpoint --evaluate epoch_8.bin --render \
  --viz-subject S9 --viz-action Walking --viz-camera 0 --viz-output demo.mp4 --viz-size 4 --html demo.html
echo "demo: done; files in $work: checkpoint/epoch_8.bin, checkpoint/loss_3d.png, demo.mp4, demo.html"
