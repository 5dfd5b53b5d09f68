#!/usr/bin/env bash
# Builds poselift's libFuzzer targets (clang, in build-fuzz/) and runs each one for SECONDS
# (default 60) from a seed corpus: small files cut from ../shared/fixtures when present, plus
# files generated here. Exits non-zero when a target crashes (ASan/UBSan finding, uncaught
# exception, leak, timeout or out-of-memory); the reproducer is left in build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS]            e.g. CI: scripts/fuzz.sh 20
# Environment: POSELIFT_SHARED_DIR (default: ../shared beside the checkout), JOBS (default 2),
# FUZZ_TARGETS (default: every target; e.g. FUZZ_TARGETS=torch_checkpoint builds and runs one).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
shared="${POSELIFT_SHARED_DIR:-$root/../shared}"
jobs="${JOBS:-2}"

command -v clang++ > /dev/null || { echo "fuzz.sh: clang++ is required (apt-get install clang libclang-rt-dev)" >&2; exit 1; }

mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOSELIFT_TORCH=OFF -DPOSELIFT_FUZZ=ON -DPOSELIFT_TESTS=OFF -DPOSELIFT_BENCH=OFF > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
targets="npy npz pickle torch_checkpoint"
for extra in bvh asf_amc wild_coco wild_openpose wild_csv motionbert_yaml tflite; do [ -f "$root/fuzz/fuzz_$extra.cpp" ] && targets="$targets $extra"; done
if [ -n "${FUZZ_TARGETS:-}" ]; then
  for t in $FUZZ_TARGETS; do
    case " $targets " in *" $t "*) ;; *) echo "fuzz.sh: unknown target '$t' (known: $targets)" >&2; exit 1 ;; esac
  done
  targets="$FUZZ_TARGETS"
fi
cmake --build "$build" -j "$jobs" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) \
  $(case " $targets " in *" tflite "*) echo make_tflite_seeds ;; esac)

seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$build/corpus" "$build/artifacts"
# The seeds of the first four are made together (npz members are npy files, torch ones zips).
for t in npy npz pickle torch_checkpoint $targets; do mkdir -p "$seeds/$t"; done

# Hand-written seeds: always available, even without Python.
printf '\x93NUMPY\x01\x00\x44\x00{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2,), }          \n\x00\x00\x80\x3f\x00\x00\x00\x40' > "$seeds/npy/hand.npy"
printf '\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01X\x01\x00\x00\x00bq\x02]q\x03(K\x02G@\x04\x00\x00\x00\x00\x00\x00N\x88eu.' > "$seeds/pickle/hand.pkl"

# Generated seeds (Python's standard library only; NumPy adds arrays when it is there).
python=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" > /dev/null 2>&1; then python="$candidate"; break; fi
done
if [ -n "$python" ]; then
  "$python" - "$seeds" "$shared/fixtures" <<'PY'
import collections, io, os, pickle, struct, sys, zipfile
seeds, fixtures = sys.argv[1], sys.argv[2]

def npy(descr, shape, payload, version=1):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    prefix = 10 if version == 1 else 12
    header += ' ' * (64 - (prefix + len(header) + 1) % 64) + '\n'
    size = struct.pack('<H' if version == 1 else '<I', len(header))
    return b'\x93NUMPY' + bytes([version, 0]) + size + header.encode() + payload

def write(folder, name, data):
    with open(os.path.join(seeds, folder, name), 'wb') as f:
        f.write(data)

members = {
    'f4.npy': npy('<f4', (2, 3), struct.pack('<6f', *range(6))),
    'be.npy': npy('>i8', (2,), struct.pack('>2q', -1, 7), 2),
    'bool.npy': npy('|b1', (3,), b'\x01\x00\x01', 3),
}
value = {'num_joints': 17, 'keypoints_symmetry': [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
         'names': ('a', 'b'), 7: None, 'f': 2.5, 'big': 2**70, 's': {1, 2}, 'b': b'\x00\xff',
         'od': collections.OrderedDict(x=1)}
try:
    import numpy as np
    value['array'] = np.arange(6, dtype=np.float32).reshape(2, 3)
    value['fortran'] = np.asfortranarray(np.arange(6, dtype='>i4').reshape(2, 3))
    value['scalar'] = np.float64(1.5)
    buffer = io.BytesIO()
    np.save(buffer, np.array(value, dtype=object), allow_pickle=True)
    members['object.npy'] = buffer.getvalue()
except ImportError:
    pass
for protocol in range(6):
    write('pickle', 'p%d.pkl' % protocol, pickle.dumps(value, protocol=protocol))
for name, data in members.items():
    write('npy', name, data)
for method, tag in ((zipfile.ZIP_STORED, 'stored'), (zipfile.ZIP_DEFLATED, 'deflated')):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    write('npz', tag + '.npz', out.getvalue())

# The fixtures' small members: real object arrays and the pickles inside them.
if os.path.isdir(fixtures):
    count = 0
    for folder, _, files in sorted(os.walk(fixtures)):
        for file in sorted(files):
            path = os.path.join(folder, file)
            if file.endswith('.npz'):
                with zipfile.ZipFile(path) as z:
                    for info in z.infolist():
                        if info.file_size > 20000:
                            continue
                        data = z.read(info)
                        count += 1
                        write('npy', 'fixture%d.npy' % count, data)
                        header_len = struct.unpack('<H', data[8:10])[0]
                        write('pickle', 'fixture%d.pkl' % count, data[10 + header_len:])
                        out = io.BytesIO()
                        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as small:
                            small.writestr(info.filename, data)
                        write('npz', 'fixture%d.npz' % count, out.getvalue())
            elif file.endswith('.npy') and os.path.getsize(path) < 20000:
                count += 1
                with open(path, 'rb') as f:
                    write('npy', 'fixture%d.npy' % count, f.read())
PY
else
  echo "fuzz.sh: no python3, using the hand-written seeds only"
fi
# torch.save files: small ones written by Python's torch when present, else zip seeds.
if /usr/bin/python3 -c 'import torch' > /dev/null 2>&1; then
  /usr/bin/python3 - "$seeds/torch_checkpoint" <<'PY'
import collections, sys, torch
out = sys.argv[1]
torch.save({'epoch': 3, 'lr': 1e-4, 'optimizer': None,
            'model_pos': collections.OrderedDict(w=torch.arange(6.).reshape(2, 3), b=torch.zeros(2, dtype=torch.int64))},
           out + '/train.bin')
base = torch.arange(12.)
torch.save({'view': base[2:8].reshape(2, 3).t(), 'half': torch.ones(3, dtype=torch.float16)}, out + '/views.bin')
# The legacy format (torch < 1.6, VideoPose3D's checkpoints): pickles followed by raw storages.
legacy = dict(_use_new_zipfile_serialization=False)
torch.save({'epoch': 3, 'model_pos': collections.OrderedDict(w=torch.arange(6.).reshape(2, 3),
                                                             n=torch.tensor(5))}, out + '/legacy_train.bin', **legacy)
torch.save([base[1:7].view(2, 3), base.view(3, 4).t()[::2], torch.zeros(0, 2)], out + '/legacy_shared.bin', **legacy)
torch.save({'f64': torch.ones(2, dtype=torch.float64), 'i32': torch.tensor([1, -2], dtype=torch.int32),
            'b': torch.tensor([True, False]), 'u8': torch.tensor([7], dtype=torch.uint8),
            'nested': [{'p': torch.nn.Parameter(torch.ones(2))}, (1, 'x')]}, out + '/legacy_dtypes.bin', **legacy)
PY
fi
cp "$seeds/npz/"* "$seeds/torch_checkpoint/" 2> /dev/null || true
# Motion capture text files: small hand-made ones plus short cuts of the shared clips.
if [ -d "$seeds/bvh" ]; then
  printf 'HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n JOINT Spine\n {\n  OFFSET 0 10 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 10 0\n  }\n }\n}\nMOTION\nFrames: 2\nFrame Time: 0.0333333\n0 90 0 0 0 0 10 0 0\n1 90 0 5 0 0 10 0 0\n' > "$seeds/bvh/hand.bvh"
  for f in "$shared"/data/mocap/*/*.bvh.gz; do
    [ -f "$f" ] || continue
    zcat "$f" | head -c 12000 > "$seeds/bvh/$(basename "$f" .gz)" || true
  done 2> /dev/null
fi
if [ -d "$seeds/asf_amc" ]; then
  for f in "$shared"/data/mocap/*/*.asf.gz "$shared"/data/mocap/*/*.amc.gz; do
    [ -f "$f" ] || continue
    zcat "$f" | head -c 12000 > "$seeds/asf_amc/$(basename "$f" .gz)" || true
  done 2> /dev/null
fi

# Detector outputs (poselift infer): small hand-written files of each format.
if [ -d "$seeds/wild_coco" ]; then
  kp=$(for k in $(seq 0 16); do printf '%s%d,%d,0.9' "$([ $k = 0 ] || echo ,)" $((100 + k)) $((50 + 9 * k)); done)
  printf '[{"image_id": 0, "category_id": 1, "keypoints": [%s], "score": 0.9}, {"image_id": 1, "category_id": 1, "keypoints": [%s], "score": 0.8}, {"image_id": "f_2.jpg", "category_id": 1, "keypoints": [%s]}]' "$kp" "$kp" "$kp" > "$seeds/wild_coco/two.json"
fi
if [ -d "$seeds/wild_openpose" ]; then
  kp=$(for k in $(seq 0 24); do printf '%s%d,%d,%s' "$([ $k = 0 ] || echo ,)" $((100 + k)) $((50 + 9 * k)) "$([ $k = 3 ] && echo 0 || echo 0.7)"; done)
  printf '{"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": [%s]}, {"pose_keypoints_2d": [%s]}]}' "$kp" "$kp" > "$seeds/wild_openpose/body25.json"
fi
if [ -d "$seeds/wild_csv" ]; then
  { printf 'frame,person'; for k in $(seq 0 16); do printf ',x%d,y%d,s%d' $k $k $k; done; printf '\n'
    for t in 0 1 2; do printf '%d,0' $t; for k in $(seq 0 16); do printf ',%d,%d,0.9' $((100 + k + t)) $((50 + 9 * k)); done; printf '\n'; done
    printf '3,1'; for k in $(seq 0 16); do printf ',nan,,0'; done; printf '\n'; } > "$seeds/wild_csv/tracks.csv"
fi
# MotionBERT configurations: one like the original's configs/pose3d files (written here, not
# copied), and YAML's other spellings of the same (flow mapping, anchors, quoting, tags).
if [ -d "$seeds/motionbert_yaml" ]; then
  printf '# General\ntrain_2d: False\nfinetune: True\npartial_train: null\n\n# Traning\nepochs: 60\ncheckpoint_frequency: 30\nbatch_size: 32 \ndropout: 0.0\nlearning_rate: 0.0005\nweight_decay: 0.01\nlr_decay: 0.99\n\n# Model\nmaxlen: 243\ndim_feat: 256\nmlp_ratio: 4\ndepth: 5\ndim_rep: 512\nnum_heads: 8\natt_fuse: True\n\n# Data\ndata_root: data/motion3d/MB3D_f243s81/\nsubset_list: [H36M-SH]\nclip_len: 243\ndata_stride: 81\nrootrel: False\nnum_joints: 17\nno_conf: False\ngt_2d: False\n\n# Loss\nlambda_3d_velocity: 20.0\nlambda_scale: 0.5\n\n# Augmentation\nflip: True\nmask_ratio: 0.\nnoise: False\n' > "$seeds/motionbert_yaml/pose3d.yaml"
  printf '{maxlen: 27, dim_feat: 32, num_heads: 4, mlp_ratio: 2.0, att_fuse: yes, subset_list: [a, "b"]}\n' > "$seeds/motionbert_yaml/flow.yaml"
  printf -- '---\nbase: &b 27\nmaxlen: *b\nclip_len: !!int 16\nrootrel: on\ndt_file: "x.pkl"\npartial_train:\n  - head\n  - pre_logits\n? complex\n: 1\nextra: !include other.yaml\n...\n' > "$seeds/motionbert_yaml/anchors.yaml"
fi

# TFLite models: small ones of every supported operator, written with FlatBuffers' builder.
[ -d "$seeds/tflite" ] && "$build/make_tflite_seeds" "$seeds/tflite"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"  # make UB a crash

status=0
for target in $targets; do
  case "$target" in
    npy) max_len=4096 ;;
    npz) max_len=16384 ;;
    pickle) max_len=8192 ;;
    *) max_len=16384 ;;
  esac
  dict=()
  [ -f "$root/fuzz/$target.dict" ] && dict=(-dict="$root/fuzz/$target.dict")
  mkdir -p "$build/corpus/$target"
  echo "== fuzz_$target: ${seconds}s, max_len $max_len"
  if ! "$build/fuzz_$target" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      "${dict[@]}" -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
      "$build/corpus/$target" "$seeds/$target" > "$build/fuzz_$target.log" 2>&1; then
    echo "fuzz_$target FAILED: see $build/fuzz_$target.log and $build/artifacts/" >&2
    tail -n 60 "$build/fuzz_$target.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$build/fuzz_$target.log" || true
  fi
done
exit "$status"
