#!/usr/bin/env bash
# Rebuilds tests/data/wild/poseformer_mocap_f27.bin, the small PoseFormer the real-motion
# test of `poselift infer` (tests/torch/test_infer.cpp) lifts with. Trained by poselift on
# ../shared/data/mocap, performers bandai1_proud and cmu60 held out (the test lifts
# bandai1_proud clips). About 25 minutes on two busy CPU cores. The committed file is
# epoch_1.bin of the same run started with -e 5 (stopped early: the learning-rate decay only
# acts between epochs, so the first epoch is the same).
#   tests/data/wild/make_checkpoint.sh [WORK_DIR]      (default /tmp/poselift-wild-checkpoint)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
poselift="$root/${POSELIFT_BUILD_DIR:-build}/poselift"
shared="${POSELIFT_SHARED_DIR:-$root/../shared}"
work="${1:-/tmp/poselift-wild-checkpoint}"
epoch="${EPOCH:-1}"
mkdir -p "$work"
cd "$work"
"$poselift" prepare mocap --input "$shared/data/mocap" --name mocap --out data --seed 1
train=bandai1_active,bandai1_angry,bandai1_childish,bandai1_chimpira,bandai1_feminine,bandai1_giant,bandai1_happy
train+=,bandai1_masculinity,bandai1_musical,bandai1_normal,bandai1_not-confident,bandai1_old,bandai1_sad,bandai1_tired
train+=,cmu01,cmu02,cmu03,cmu05,cmu06,cmu07,cmu11,cmu131,cmu61
"$poselift" train -d mocap -k noisy --data-dir data -c ck -f 27 --width 8 --heads 2 --depth 2 \
  -lr 0.002 -lrd 0.8 -e "$epoch" --max-batches 180 --no-eval --checkpoint-frequency 1 --threads 1 \
  -str "$train" -ste bandai1_proud,cmu60
# The optimizer state (2/3 of the file) is not needed for inference: dropped to stay < 2 MB.
/usr/bin/python3 - "ck/epoch_$epoch.bin" "$root/tests/data/wild/poseformer_mocap_f27.bin" <<'PY'
import sys, torch
checkpoint = torch.load(sys.argv[1], map_location='cpu')
checkpoint['optimizer'] = None
torch.save(checkpoint, sys.argv[2])
PY
echo "wrote $root/tests/data/wild/poseformer_mocap_f27.bin from epoch $epoch"
