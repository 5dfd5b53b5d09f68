#!/usr/bin/env python3
"""MotionBERT's infer_wild.py restated for a test: its steps on 17-joint keypoints from a CSV.

The original's pipeline (infer_wild.py, lib/data/dataset_wild.py read_input and
WildDetDataset, lib/utils/utils_data.py crop_scale and flip_data, lib/utils/learning.py
load_backbone) with these differences only: the keypoints come from a CSV that poselift also
reads (header frame,person,x0,y0,s0,...; one person, already in the Human3.6M-17 order, so no
halpe2h36m), the configuration is read with yaml.safe_load (the original's Loader is a
SafeLoader with an !include constructor), the video size is given, nothing is rendered, and
the checkpoint's `module.` prefix is stripped (the original wraps its model in DataParallel on
GPU; the DSTformer itself is the original file, imported unchanged).

Usage: motionbert_infer_wild.py --original DSTformer.py --checkpoint C --config CFG.yaml
       --csv K.csv --width W --height H --output X3D.npy [--pixel] [--clip-len N] [--no-flip]
"""
import argparse
import copy
import functools
import importlib.util
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from motionbert_original import install_drop_module  # noqa: E402


def read_keypoints(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    order = np.argsort(rows[:, 0], kind="stable")
    return rows[order, 2:].reshape(len(rows), 17, 3)


def crop_scale(motion, scale_range=(1, 1)):
    result = copy.deepcopy(motion)
    valid_coords = motion[motion[..., 2] != 0][:, :2]
    if len(valid_coords) < 4:
        return np.zeros(motion.shape)
    xmin, xmax = min(valid_coords[:, 0]), max(valid_coords[:, 0])
    ymin, ymax = min(valid_coords[:, 1]), max(valid_coords[:, 1])
    ratio = np.random.uniform(low=scale_range[0], high=scale_range[1], size=1)[0]
    scale = max(xmax - xmin, ymax - ymin) * ratio
    if scale == 0:
        return np.zeros(motion.shape)
    xs = (xmin + xmax - scale) / 2
    ys = (ymin + ymax - scale) / 2
    result[..., :2] = (motion[..., :2] - [xs, ys]) / scale
    result[..., :2] = (result[..., :2] - 0.5) * 2
    return np.clip(result, -1, 1)


def flip_data(data):
    left_joints = [4, 5, 6, 11, 12, 13]
    right_joints = [1, 2, 3, 14, 15, 16]
    flipped = copy.deepcopy(data)
    flipped[..., 0] *= -1
    flipped[..., left_joints + right_joints, :] = flipped[..., right_joints + left_joints, :]
    return flipped


def main():
    p = argparse.ArgumentParser()
    for name in ("--original", "--checkpoint", "--config", "--csv", "--output"):
        p.add_argument(name, required=True)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    p.add_argument("--pixel", action="store_true")
    p.add_argument("--clip-len", type=int, default=0)  # 0: the configuration's maxlen
    p.add_argument("--no-flip", action="store_true")
    a = p.parse_args()
    with open(a.config) as f:
        args = yaml.safe_load(f)
    clip_len = a.clip_len or args["maxlen"]

    install_drop_module()
    spec = importlib.util.spec_from_file_location("DSTformer", a.original)
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)
    model = original.DSTformer(dim_in=3, dim_out=3, dim_feat=args["dim_feat"], dim_rep=args["dim_rep"],
                               depth=args["depth"], num_heads=args["num_heads"], mlp_ratio=args["mlp_ratio"],
                               norm_layer=functools.partial(nn.LayerNorm, eps=1e-6), maxlen=args["maxlen"],
                               num_joints=args["num_joints"])
    state = torch.load(a.checkpoint, map_location="cpu")["model_pos"]
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    model.eval()

    # read_input
    kpts_all = read_keypoints(a.csv)
    vid_size = (a.width, a.height) if a.pixel else None
    if vid_size:
        w, h = vid_size
        scale = min(w, h) / 2.0
        kpts_all[:, :, :2] = kpts_all[:, :, :2] - np.array([w, h]) / 2.0
        kpts_all[:, :, :2] = kpts_all[:, :, :2] / scale
        motion = kpts_all
    else:
        motion = crop_scale(kpts_all, [1, 1])
    vid_all = motion.astype(np.float32)

    flip = args["flip"] and not a.no_flip
    results_all = []
    with torch.no_grad():
        for index in range(math.ceil(len(vid_all) / clip_len)):  # WildDetDataset, batch_size 1
            st, end = index * clip_len, min((index + 1) * clip_len, len(vid_all))
            batch_input = torch.from_numpy(vid_all[st:end]).unsqueeze(0)
            if args["no_conf"]:
                batch_input = batch_input[:, :, :, :2]
            if flip:
                batch_input_flip = flip_data(batch_input)
                predicted_3d_pos_1 = model(batch_input)
                predicted_3d_pos_flip = model(batch_input_flip)
                predicted_3d_pos_2 = flip_data(predicted_3d_pos_flip)
                predicted_3d_pos = (predicted_3d_pos_1 + predicted_3d_pos_2) / 2.0
            else:
                predicted_3d_pos = model(batch_input)
            if args["rootrel"]:
                predicted_3d_pos[:, :, 0, :] = 0
            else:
                predicted_3d_pos[:, 0, 0, 2] = 0
            if args["gt_2d"]:
                predicted_3d_pos[..., :2] = batch_input[..., :2]
            results_all.append(predicted_3d_pos.cpu().numpy())
    results_all = np.hstack(results_all)
    results_all = np.concatenate(results_all)
    if a.pixel:
        results_all = results_all * (min(vid_size) / 2.0)
        results_all[:, :, :2] = results_all[:, :, :2] + np.array(vid_size) / 2.0
    np.save(a.output, results_all)
    print("clips", math.ceil(len(vid_all) / clip_len), "frames", len(vid_all))


if __name__ == "__main__":
    main()
