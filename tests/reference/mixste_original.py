#!/usr/bin/env python3
"""Runs the original MixSTE2 model on a checkpoint poselift wrote (test-time only).

The original common/model_cross.py imports einops, timm and three sibling modules of its
repository (common.rela, common.routing_transformer -> local_attention, common.linearattention)
that MixSTE2 never uses. Debian's python3 lacks einops and timm: this script writes stand-ins into
a temporary folder on sys.path (a small general einops.rearrange for the plain and grouped axis
patterns the file uses, timm's DropPath and the names imported beside it, empty classes for the
unused attention variants), imports the original file unchanged, builds MixSTE2 as run.py builds
its evaluation model (8 heads, mlp ratio 2, qkv bias, drop path 0), loads `model_pos` strictly
and writes the forward pass of the input.

Usage: mixste_original.py --original model_cross.py --checkpoint C --input X.npy --output Y.npy
       --frames 27 --cs 32 --dep 2 [--joints 17]
Prints "keys in order" when the checkpoint's model_pos keys come in the order of the original
model's state_dict() (exit status 3 otherwise).
"""
import argparse
import importlib.util
import os
import sys
import tempfile

import numpy as np
import torch

EINOPS = '''
import math

def _parse(side):
    groups, current, depth = [], None, 0
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    return groups

def rearrange(x, pattern, **sizes):
    lhs, rhs = (_parse(side) for side in pattern.split("->"))
    if len(lhs) != x.dim():
        raise ValueError("pattern %r for a rank-%d tensor" % (pattern, x.dim()))
    known = dict(sizes)
    for group, length in zip(lhs, x.shape):
        unknown = [a for a in group if a not in known]
        if len(unknown) > 1:
            raise ValueError("cannot infer %s in %r" % (unknown, pattern))
        rest = math.prod(known[a] for a in group if a in known)
        if unknown:
            known[unknown[0]] = length // rest
        elif rest != length:
            raise ValueError("axis sizes in %r do not fit %s" % (pattern, tuple(x.shape)))
    axes = [a for group in lhs for a in group]
    flat = x.reshape([known[a] for a in axes])
    order = [axes.index(a) for group in rhs for a in group]
    return flat.permute(order).reshape([math.prod(known[a] for a in group) for group in rhs])

def repeat(*args, **kwargs):
    raise NotImplementedError("einops.repeat is not used by MixSTE2")
'''

EINOPS_LAYERS_TORCH = '''
class Rearrange:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("einops.layers.torch.Rearrange is not used by MixSTE2")
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

def to_2tuple(x):
    return (x, x)

def trunc_normal_(tensor, mean=0., std=1.):
    raise NotImplementedError("trunc_normal_ is not used by MixSTE2")
'''

SHIMS = {
    "einops/__init__.py": EINOPS,
    "einops/layers/__init__.py": "",
    "einops/layers/torch.py": EINOPS_LAYERS_TORCH,
    "timm/__init__.py": "",
    "timm/data/__init__.py": "IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)\nIMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)\n",
    "timm/models/__init__.py": "",
    "timm/models/helpers.py": "def load_pretrained(*args, **kwargs):\n    raise NotImplementedError\n",
    "timm/models/layers.py": TIMM_LAYERS,
    "timm/models/registry.py": "def register_model(fn):\n    return fn\n",
    # The attention variants of the other MixSTE models, imported by name only.
    "common/__init__.py": "",
    "common/rela.py": "class RectifiedLinearAttention:\n    pass\n",
    "common/routing_transformer.py": "class KmeansAttention:\n    pass\n",
    "common/linearattention.py": "class LinearMultiheadAttention:\n    pass\n",
}


def write_shims(folder):
    for relative, text in SHIMS.items():
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--original", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--cs", type=int, required=True)
    parser.add_argument("--dep", type=int, required=True)
    parser.add_argument("--joints", type=int, default=17)
    a = parser.parse_args()

    with tempfile.TemporaryDirectory() as shims:
        write_shims(shims)
        sys.path.insert(0, shims)
        spec = importlib.util.spec_from_file_location("model_cross", a.original)
        original = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(original)

    # As run.py builds model_pos (its evaluation model).
    model = original.MixSTE2(num_frame=a.frames, num_joints=a.joints, in_chans=2, embed_dim_ratio=a.cs, depth=a.dep,
                             num_heads=8, mlp_ratio=2., qkv_bias=True, qk_scale=None, drop_path_rate=0)
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
