#!/usr/bin/env bash
# Runs a fixed set of poselift commands (evaluate, forward, info, prepare, train and resume,
# render, infer in every format, the original's command line, bad input) and keeps their outputs,
# stdout and stderr in OUTDIR: run it with the binary before and after a refactor, then compare
# the two folders with scripts/compare_outputs.sh. Needs ../shared/fixtures.
#   scripts/capture_outputs.sh BIN OUTDIR
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=$(realpath "$1"); OUT=$2
F=$(cd "${POSELIFT_SHARED_DIR:-$root/../shared}/fixtures" && pwd) || { echo "capture_outputs.sh: no ../shared/fixtures" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
run() { local name=$1; shift; "$BIN" "$@" --no-progress >"$name.stdout" 2>"$name.stderr"; echo "$name rc=$?" >> rc.txt; }
runnp() { local name=$1; shift; "$BIN" "$@" >"$name.stdout" 2>"$name.stderr"; echo "$name rc=$?" >> rc.txt; }
export OMP_NUM_THREADS=2
run eval_f81_gt evaluate -k gt -c $F/poseformer-f81/checkpoint --evaluate model.bin --data-dir $F/poseformer-f81/data --json eval_f81_gt.json
run eval_tiny_noisy_bysub evaluate -k noisy -c $F/poseformer-tiny/checkpoint --evaluate model.bin --data-dir $F/poseformer-tiny/data --by-subject --heads 2 --json eval_tiny.json
run eval_tiny_ref evaluate -k gt -c $F/poseformer-tiny/checkpoint --evaluate model.bin --data-dir $F/poseformer-tiny/data --impl reference -a Walk --heads 2
run forward_tiny forward --checkpoint $F/poseformer-tiny/checkpoint/model.bin --input $F/poseformer-tiny/forward_input.npy --out forward_tiny.npy --heads 2
runnp info_ck info $F/poseformer-f81/checkpoint/model.bin
runnp info_ds info -d h36m -k noisy --data-dir $F/poseformer-tiny/data
runnp info_npz info $F/poseformer-tiny/data/data_2d_h36m_noisy.npz
runnp prep prepare synthetic --out data --seconds 1.0
run train train -d synthetic -k noisy --data-dir data -c ck -f 9 --width 8 --heads 2 --depth 1 -e 2 --max-batches 5 -lr 0.002 --torch-seed 7 --threads 1 --export-training-curves
run train_resume train -d synthetic -k noisy --data-dir data -c ck -f 9 --width 8 --heads 2 --depth 1 -e 3 --max-batches 5 -lr 0.002 -r epoch_2.bin --torch-seed 7 --threads 1
run render render -d synthetic -k noisy --data-dir data -c ck --evaluate epoch_3.bin --viz-subject S9 --viz-action Walking --viz-camera 0 --viz-output render.mp4 --viz-export render.npy --html render.html --viz-limit 20
for ext in npz json csv bvh npy; do run infer_$ext infer --checkpoint ck/epoch_3.bin --input data/data_2d_synthetic_noisy.npz --video S9/Walking/0 --width 1000 --height 1002 --out infer.$ext; done
run render_infer render --input infer.npz --viz-output render_infer.gif --html render_infer.html --viz-limit 10
run seed_eval -k noisy -d synthetic --data-dir data -c ck --evaluate epoch_3.bin
runnp bad_flag evaluate --evalute x
runnp bad_file evaluate -c /nonexistent --evaluate x.bin
