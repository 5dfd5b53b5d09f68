#!/usr/bin/env bash
# Compares two folders of scripts/capture_outputs.sh byte for byte, wall-clock times masked
# (the time column of training histories and curves, "time X" and "in X s" on stdout);
# checkpoints are compared tensor by tensor with Debian's python3-torch. Prints the files that
# differ, or that all are identical.
#   scripts/compare_outputs.sh BEFORE AFTER
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); bad=0
cd "$A"
for f in $(find . -type f | sort); do
  case "$f" in
    *.bin) /usr/bin/python3 - "$A/$f" "$B/$f" <<'PY' || { echo "DIFFERS $f"; bad=1; }
import sys, torch, pickle
a=torch.load(sys.argv[1],map_location='cpu'); b=torch.load(sys.argv[2],map_location='cpu')
def eq(x,y):
    if isinstance(x,torch.Tensor): return isinstance(y,torch.Tensor) and x.dtype==y.dtype and torch.equal(x,y)
    if isinstance(x,dict): return isinstance(y,dict) and list(x)==list(y) and all(eq(x[k],y[k]) for k in x)
    if isinstance(x,(list,tuple)): return type(x)==type(y) and len(x)==len(y) and all(eq(p,q) for p,q in zip(x,y))
    if hasattr(x,'get_state'): return pickle.dumps(x.get_state())==pickle.dumps(y.get_state())
    return x==y
for e in (a,b):
    for h in e.get('poselift',{}).get('history',[]): h[1]=0
sys.exit(0 if eq(a,b) else 1)
PY
    ;;
    *training_curves.csv) diff -q <(cut -d, -f1,3- "$f") <(cut -d, -f1,3- "$B/$f") >/dev/null || { echo "DIFFERS $f"; bad=1; } ;;
    *.stdout|*.stderr) diff -q <(sed -E 's/time [0-9.]+/time T/; s/in [0-9.]+ s/in T s/' "$f") <(sed -E 's/time [0-9.]+/time T/; s/in [0-9.]+ s/in T s/' "$B/$f") >/dev/null || { echo "DIFFERS $f"; bad=1; } ;;
    *) cmp -s "$f" "$B/$f" || { echo "DIFFERS $f"; bad=1; } ;;
  esac
done
[ $bad = 0 ] && echo "all $(find . -type f | wc -l) files identical (timings masked)"
