#!/usr/bin/env python3
"""Runs the original MotionBERT DSTformer on a checkpoint poselift wrote (test-time only).

The original lib/model/DSTformer.py imports DropPath from lib.model.drop (MotionBERT's copy of
timm's layer). This script puts a minimal stand-in for that module into sys.modules (identity
unless training with a positive rate, as the original), then imports the original file
unchanged, builds DSTformer with the given configuration (LayerNorm eps: the constructor's
1e-5 unless told otherwise; load_backbone passes 1e-6), loads `model_pos` strictly and writes
the forward pass of the input (and of its first --short frames, when given, to a second file).

Usage: motionbert_original.py --original DSTformer.py --checkpoint C --input X.npy --output Y.npy
       --dim-feat 32 --dim-rep 64 --depth 2 --heads 4 --mlp-ratio 2 --maxlen 27
       [--joints 17 --dim-in 3 --dim-out 3 --no-att-fuse --norm-eps 1e-6 --short 10 --short-output S.npy]
Prints "keys in order" when the checkpoint's model_pos keys come in the order of the original
model's state_dict() (exit status 3 otherwise).
"""
import argparse
import functools
import importlib.util
import sys
import types

import numpy as np
import torch
import torch.nn as nn


class DropPath(nn.Module):
    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if not self.training or not self.drop_prob:
            return x
        keep = 1 - self.drop_prob
        mask = (keep + torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype)).floor()
        return x.div(keep) * mask


def install_drop_module():
    for name in ("lib", "lib.model"):
        package = types.ModuleType(name)
        package.__path__ = []
        sys.modules[name] = package
    drop = types.ModuleType("lib.model.drop")
    drop.DropPath = DropPath
    sys.modules["lib.model.drop"] = drop
    sys.modules["lib"].model = sys.modules["lib.model"]
    sys.modules["lib.model"].drop = drop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--original", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--dim-feat", type=int, required=True)
    parser.add_argument("--dim-rep", type=int, required=True)
    parser.add_argument("--depth", type=int, required=True)
    parser.add_argument("--heads", type=int, required=True)
    parser.add_argument("--mlp-ratio", type=float, required=True)
    parser.add_argument("--maxlen", type=int, required=True)
    parser.add_argument("--joints", type=int, default=17)
    parser.add_argument("--dim-in", type=int, default=3)
    parser.add_argument("--dim-out", type=int, default=3)
    parser.add_argument("--no-att-fuse", action="store_true")
    parser.add_argument("--no-qkv-bias", action="store_true")
    parser.add_argument("--norm-eps", type=float, default=1e-5)  # DSTformer's default
    parser.add_argument("--short", type=int, default=0)
    parser.add_argument("--short-output")
    a = parser.parse_args()

    install_drop_module()
    spec = importlib.util.spec_from_file_location("DSTformer", a.original)
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)

    model = original.DSTformer(dim_in=a.dim_in, dim_out=a.dim_out, dim_feat=a.dim_feat, dim_rep=a.dim_rep,
                               depth=a.depth, num_heads=a.heads, mlp_ratio=a.mlp_ratio,
                               norm_layer=functools.partial(nn.LayerNorm, eps=a.norm_eps), maxlen=a.maxlen,
                               num_joints=a.joints, qkv_bias=not a.no_qkv_bias, att_fuse=not a.no_att_fuse)
    checkpoint = torch.load(a.checkpoint, map_location="cpu")
    state = checkpoint["model_pos"]
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.from_numpy(np.load(a.input))
    with torch.no_grad():
        np.save(a.output, model(x).numpy())
        if a.short:
            np.save(a.short_output, model(x[:, :a.short].contiguous()).numpy())
    if list(state.keys()) != list(model.state_dict().keys()):
        print("key order differs:", list(state.keys()), list(model.state_dict().keys()))
        sys.exit(3)
    print("keys in order")


if __name__ == "__main__":
    main()
