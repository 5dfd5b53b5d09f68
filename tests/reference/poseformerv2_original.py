#!/usr/bin/env python3
"""Runs the original PoseFormerV2 model on a checkpoint poselift wrote (test-time only).

The original common/model_poseformer.py imports einops, timm and torch_dct, which Debian's
python3 lacks: this script writes minimal stand-ins for exactly what that file uses
(einops.rearrange for its one pattern, timm.models.layers.DropPath, torch_dct.dct / idct with
norm=None) into a temporary folder on sys.path, then imports the original file unchanged,
builds PoseTransformerV2 as run_poseformer.py does (8 heads, mlp ratio 2, qkv bias, eval-mode
drop path 0), loads `model_pos` strictly and writes the forward pass of the input.

Usage: poseformerv2_original.py --original model_poseformer.py --checkpoint C --input X.npy
       --output Y.npy --frames 27 --kept-frames 3 --kept-coeffs 5 --embed-dim-ratio 16 --depth 2
Prints "keys in order" when the checkpoint's model_pos keys come in the order of the original
model's state_dict() (exit status 3 otherwise).
"""
import argparse
import importlib.util
import os
import sys
import tempfile
import types

import numpy as np
import torch

EINOPS = '''
def rearrange(x, pattern, **sizes):
    # The original's only use: "(b f) p c -> b f (p c)".
    if pattern.replace(" ", "") != "(bf)pc->bf(pc)":
        raise NotImplementedError(pattern)
    f = sizes["f"]
    bf, p, c = x.shape
    return x.reshape(bf // f, f, p * c)
'''

TIMM_LAYERS = '''
import torch
import torch.nn as nn

class DropPath(nn.Module):
    # Only built with a positive rate in training; the evaluation model has none.
    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob
    def forward(self, x):
        if not self.training or not self.drop_prob:
            return x
        keep = 1 - self.drop_prob
        mask = (keep + torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype)).floor()
        return x.div(keep) * mask
'''

# The unnormalised DCT-II through an FFT of the even/odd reordered signal (Makhoul's method),
# a computation independent of poselift's cosine-matrix product; the inverse solves against the
# DCT of the identity, in double precision.
TORCH_DCT = '''
import math
import torch

def dct(x, norm=None):
    assert norm is None
    n = x.shape[-1]
    flat = x.reshape(-1, n)
    v = torch.cat([flat[:, ::2], flat[:, 1::2].flip([1])], dim=1)
    spectrum = torch.fft.fft(v, dim=1)
    k = torch.arange(n, dtype=x.dtype)
    twiddle = torch.complex(torch.cos(-math.pi * k / (2 * n)), torch.sin(-math.pi * k / (2 * n)))
    return (2 * (spectrum * twiddle).real).reshape(x.shape)

def idct(X, norm=None):
    assert norm is None
    n = X.shape[-1]
    forward = dct(torch.eye(n, dtype=torch.float64))  # row i: the DCT of sample i
    flat = X.reshape(-1, n).to(torch.float64)
    return torch.linalg.solve(forward.T, flat.T).T.to(X.dtype).reshape(X.shape)
'''


def write_shims(folder):
    os.makedirs(os.path.join(folder, "timm", "models"))
    with open(os.path.join(folder, "einops.py"), "w") as f:
        f.write(EINOPS)
    with open(os.path.join(folder, "torch_dct.py"), "w") as f:
        f.write(TORCH_DCT)
    for package in ("timm", os.path.join("timm", "models")):
        open(os.path.join(folder, package, "__init__.py"), "w").close()
    with open(os.path.join(folder, "timm", "models", "layers.py"), "w") as f:
        f.write(TIMM_LAYERS)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--original", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--kept-frames", type=int, required=True)
    parser.add_argument("--kept-coeffs", type=int, required=True)
    parser.add_argument("--embed-dim-ratio", type=int, required=True)
    parser.add_argument("--depth", type=int, required=True)
    parser.add_argument("--joints", type=int, default=17)
    a = parser.parse_args()

    with tempfile.TemporaryDirectory() as shims:
        write_shims(shims)
        sys.path.insert(0, shims)
        spec = importlib.util.spec_from_file_location("model_poseformer", a.original)
        original = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(original)

    args = types.SimpleNamespace(embed_dim_ratio=a.embed_dim_ratio, depth=a.depth,
                                 number_of_kept_frames=a.kept_frames, number_of_kept_coeffs=a.kept_coeffs)
    # As run_poseformer.py builds its evaluation model.
    model = original.PoseTransformerV2(num_frame=a.frames, num_joints=a.joints, in_chans=2, num_heads=8,
                                       mlp_ratio=2., qkv_bias=True, qk_scale=None, drop_path_rate=0, args=args)
    checkpoint = torch.load(a.checkpoint, map_location="cpu")
    state = checkpoint["model_pos"]
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        output = model(torch.from_numpy(np.load(a.input)))
    np.save(a.output, output.numpy())
    if list(state.keys()) != list(model.state_dict().keys()):
        print("key order differs:", list(state.keys()), list(model.state_dict().keys()))
        sys.exit(3)
    print("keys in order")


if __name__ == "__main__":
    main()
