#!/usr/bin/env bash
# The main job on built-in data, no downloads: make a synthetic dataset in the VideoPose3D
# layout, train a small PoseFormer on its noisy 2D detections for a few minutes on the CPU,
# then evaluate the best checkpoint with the Human3.6M protocols (MPJPE, P-MPJPE, N-MPJPE,
# velocity error). Run scripts/setup.sh first. Output goes to demo/ (override: DEMO_DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
poselift="$root/${POSELIFT_BUILD_DIR:-build}/poselift"
work="${DEMO_DIR:-$root/demo}"
[[ -x "$poselift" ]] || { echo "demo: $poselift is missing: run scripts/setup.sh first" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

echo "== 1/3 prepare: procedural motion of 7 subjects, 4 virtual Human3.6M cameras, detector noise"
"$poselift" prepare synthetic --out data --seconds 4

# A small configuration (27 frames, width 16, 2 heads, depth 2) so a few epochs fit in minutes
# on two CPU cores; the published one is -f 81 --width 32 --heads 8 --depth 4.
model=(-f 27 --width 16 --heads 2 --depth 2)
echo "== 2/3 train (the seed's training loop; curves in checkpoint/loss_3d.png)"
"$poselift" train -d synthetic -k noisy --data-dir data -c checkpoint "${model[@]}" \
  -lr 0.002 -lrd 0.95 -e 4 --max-batches 15 --subset 0.25 --checkpoint-frequency 2 --export-training-curves

echo "== 3/3 evaluate the best checkpoint (as: python run_poseformer.py -d synthetic -k noisy -f 27 --evaluate best_epoch.bin)"
"$poselift" -d synthetic -k noisy --data-dir data -f 27 --heads 2 -c checkpoint --evaluate best_epoch.bin \
  --json checkpoint/evaluation.json
echo "demo: done; files in $work"
