#!/usr/bin/python3
"""poselift's BlazePose beside MediaPipe's own (the npm package's pose.js + wasm in headless
Chromium) on the same frames: frames/s of each landmark model in video (tracking) mode.

  scripts/bench_mediapipe.py [--frames N] [--build DIR] [--models DIR]

Makes N frames (default 100, 384x384) of a camera panning over and zooming into python3-skimage's
astronaut photograph as PNG files, runs `poselift bench video` on them as an image sequence, then
tests/blazepose_parity/run_mediapipe.py once per model, and prints both figures side by side.
MediaPipe's figure times `pose.send` alone (the images are decoded before); poselift's includes
PNG decoding. Chromium on these machines runs MediaPipe's WebGL stages on SwiftShader, a software
renderer: its figure is MediaPipe-on-this-CPU as the web build runs here, not MediaPipe's best."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
parser.add_argument('--frames', type=int, default=100, help='frames of the clip (default 100)')
parser.add_argument('--build', default=os.path.join(root, 'build'), help='build folder with poselift')
parser.add_argument('--models', default='', help='the @mediapipe/pose package folder (default: BUILD/models/...)')
args = parser.parse_args()
if args.frames < 10 or args.frames > 10000:
    sys.exit('bench_mediapipe.py: --frames: expected 10 to 10000')
models = args.models or os.path.join(args.build, 'models/node_modules/@mediapipe/pose')
photo = '/usr/lib/python3/dist-packages/skimage/data/astronaut.png'
for path, what in ((os.path.join(args.build, 'poselift'), 'poselift (build it first)'),
                   (os.path.join(models, 'pose.js'), 'the @mediapipe/pose package (scripts/setup.sh installs it)'),
                   (photo, "python3-skimage's photograph")):
    if not os.path.exists(path):
        sys.exit('bench_mediapipe.py: %s not found: %s' % (path, what))

work = tempfile.mkdtemp(prefix='poselift-bench-mediapipe-')
try:
    astronaut = Image.open(photo).convert('RGB')
    names = []
    for i in range(args.frames):
        t = i / (args.frames - 1.0)
        side = int(round(512 - 160 * t))
        x0 = int(round((512 - side) * (0.5 + 0.4 * np.sin(2 * np.pi * t))))
        y0 = int(round((512 - side) * 0.3 * t))
        names.append('frame%04d.png' % i)
        astronaut.crop((x0, y0, x0 + side, y0 + side)).resize((384, 384), Image.Resampling.BILINEAR).save(
            os.path.join(work, names[-1]))
    print('%d frames of 384x384 in %s' % (args.frames, work), flush=True)

    ours = {}
    bench = subprocess.run([os.path.join(args.build, 'poselift'), 'bench', 'video', '--models', models, '--video',
                            os.path.join(work, 'frame%04d.png')], capture_output=True, text=True)
    if bench.returncode != 0:
        sys.exit('bench_mediapipe.py: poselift bench video failed:\n' + bench.stdout + bench.stderr)
    print(bench.stdout, end='', flush=True)
    for line in bench.stdout.splitlines():
        m = re.match(r'BlazePose (lite|full|heavy)\s+\d+\s+[\d.]+\s+([\d.]+)', line)
        if m:
            ours[m.group(1)] = float(m.group(2))

    theirs = {}
    harness = os.path.join(root, 'tests/blazepose_parity/run_mediapipe.py')
    for complexity, name in enumerate(('lite', 'full', 'heavy')):
        run = subprocess.run(['/usr/bin/python3', harness, models, work, str(complexity), '0'] + names,
                             capture_output=True, text=True, env=dict(os.environ, MEDIAPIPE_TIMEOUT='1800'))
        if run.returncode != 0:
            sys.exit('bench_mediapipe.py: MediaPipe in Chromium failed: ' + run.stderr)
        ms = [frame['ms'] for frame in json.loads(run.stdout)['frames']]
        steady = ms[5:]  # the first frames load the models and compile the shaders
        theirs[name] = 1000.0 * len(steady) / sum(steady)
        print('MediaPipe %s: %.1f frames/s (first frame %.0f ms)' % (name, theirs[name], ms[0]), flush=True)

    print('\n%-10s %14s %22s %8s' % ('model', 'poselift fps', 'MediaPipe wasm fps', 'ratio'))
    for name in ('lite', 'full', 'heavy'):
        print('%-10s %14.1f %22.1f %7.1fx' % (name, ours[name], theirs[name], ours[name] / theirs[name]))
finally:
    shutil.rmtree(work, ignore_errors=True)
