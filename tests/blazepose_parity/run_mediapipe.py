#!/usr/bin/env python3
"""Runs MediaPipe's BlazePose (npm @mediapipe/pose) in headless Chromium on images and prints the
landmarks as JSON, the independent truth of poselift's parity test (tests/torch/test_blazepose.cpp).

  run_mediapipe.py PACKAGE_DIR IMAGE_DIR COMPLEXITY STATIC IMAGE [IMAGE ...] > result.json

Serves page.html, the package and the images from 127.0.0.1 (WebAssembly needs http), starts
Chromium with SwiftShader's software WebGL, and waits for the page to post its results."""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

package, image_dir, complexity, static = sys.argv[1:5]
images = sys.argv[5:]
page = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'page.html')
result = {}
done = threading.Event()


def expose_rois(script):
    """Adds the graph's ROI streams to the solution's outputs (as raw NormalizedRect protos), so
    that the page can report the regions MediaPipe cropped."""
    wants = b'wants:["pose_landmarks","world_landmarks","segmentation_mask","image_transformed"]'
    outs = b'poseWorldLandmarks:{type:"proto",stream:"world_landmarks",transform:Wc}'
    if wants not in script or outs not in script:
        sys.exit('run_mediapipe.py: this pose.js is not the version the harness knows')
    script = script.replace(wants, wants[:-1] + b',"pose_rect_from_detection","pose_rect_from_landmarks"]')
    return script.replace(outs, outs + b',poseRectFromDetection:{type:"proto",stream:"pose_rect_from_detection"},'
                          b'poseRectFromLandmarks:{type:"proto",stream:"pose_rect_from_landmarks"}')


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        if path == '/page.html':
            file = page
        elif path.startswith('/pkg/'):
            file = os.path.join(package, os.path.basename(path))
        elif path.startswith('/image/'):
            file = os.path.join(image_dir, os.path.basename(path))
        else:
            file = ''
        if not os.path.isfile(file):
            self.send_response(404)
            self.end_headers()
            return
        types = {'.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png'}
        self.send_response(200)
        self.send_header('Content-Type', types.get(os.path.splitext(file)[1], 'application/octet-stream'))
        self.end_headers()
        with open(file, 'rb') as f:
            data = f.read()
        if os.path.basename(file) == 'pose.js':
            data = expose_rois(data)
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        result.update(json.loads(body))
        self.send_response(200)
        self.end_headers()
        done.set()


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
query = urllib.parse.urlencode({'complexity': complexity, 'static': static, 'images': ','.join(images)})
chromium = next((c for c in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(c)), None)
if chromium is None:
    sys.exit('run_mediapipe.py: no chromium')
profile = tempfile.mkdtemp(prefix='mediapipe-chromium-')
browser = subprocess.Popen([chromium, '--headless=new', '--no-sandbox', '--use-gl=swiftshader',
                            '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-first-run',
                            '--user-data-dir=' + profile,
                            'http://127.0.0.1:%d/page.html?%s' % (server.server_address[1], query)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    finished = done.wait(timeout=float(os.environ.get('MEDIAPIPE_TIMEOUT', '300')))
finally:
    browser.kill()
    browser.wait()
    server.shutdown()
    shutil.rmtree(profile, ignore_errors=True)
if not finished:
    sys.exit('run_mediapipe.py: no result from the page in time')
if 'error' in result:
    sys.exit('run_mediapipe.py: the page failed: ' + result['error'])
json.dump(result, sys.stdout)
