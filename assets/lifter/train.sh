#!/usr/bin/env bash
# Rebuilds assets/lifter/cmu_videopose3d_f27.bin, the lifter compiled into poselift (`-c builtin`,
# the default of `poselift video`): a VideoPose3D of 27 frames (-arc 3,3,3, 384 channels),
# trained by poselift on the CMU motion capture in ../shared/data/mocap only
# (Bandai Namco's is non-commercial: it is used for testing, never for these weights). Every
# subject is seen through randomised camera rigs (--random-rigs) with detector-like 2D noise.
# Held out: CMU subject 6 and four Bandai styles (the final report of the run).
#   assets/lifter/train.sh [WORK_DIR]      (default /tmp/poselift-builtin-lifter)
# EPOCHS (default 40, the shipped weights) and THREADS (default 1) as environment variables; about 2.6 minutes
# per epoch with THREADS=2 on an Intel Xeon with AMX, about 25 minutes per epoch on one core of a 2-core AMD EPYC.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
poselift="$root/${POSELIFT_BUILD_DIR:-build}/poselift"
shared="${POSELIFT_SHARED_DIR:-$root/../shared}"
work="${1:-/tmp/poselift-builtin-lifter}"
epochs="${EPOCHS:-40}"
mkdir -p "$work"
cd "$work"
"$poselift" prepare mocap --input "$shared/data/mocap" --name mocap --out data --seed 7 --random-rigs
"$poselift" train --model videopose3d -d mocap -k noisy --data-dir data -c ck -f 27 --architecture 3,3,3 \
  --channels 384 -lr 0.001 -lrd 0.95 -e "$epochs" -b 1024 --no-eval --checkpoint-frequency 1 \
  --threads "${THREADS:-1}" --torch-seed 7 \
  -str cmu01,cmu02,cmu03,cmu05,cmu07,cmu11,cmu131,cmu60,cmu61 -ste cmu06,bandai1_normal,bandai1_proud,bandai1_sad
# The optimizer state is not needed for inference: dropped, a quarter of the file remains. (No
# trajectory model is trained: infer's geometric trajectory is used.)
/usr/bin/python3 - "ck/epoch_$epochs.bin" "$root/assets/lifter/cmu_videopose3d_f27.bin" <<'PY'
import sys, torch
checkpoint = torch.load(sys.argv[1], map_location='cpu')
checkpoint['optimizer'] = None
checkpoint.pop('model_traj', None)
torch.save(checkpoint, sys.argv[2])
PY
echo "wrote $root/assets/lifter/cmu_videopose3d_f27.bin from epoch $epochs"
