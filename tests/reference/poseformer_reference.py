#!/usr/bin/env python3
"""Independent reference for poselift's evaluation tests (test-time only, never shipped).

A literal, unoptimised Python/PyTorch restatement of what the original run_poseformer.py
--evaluate computes: the PoseFormer forward pass, one 81-frame (F-frame) window per output
frame built by a Python loop over an edge-padded sequence, flip test-time augmentation
averaged with torch.mean(torch.cat(...)), MPJPE/N-MPJPE in torch float32, P-MPJPE and
velocity error in numpy, frame-weighted sums per action group. poselift's C++ pipeline
(feature reuse, batching, double-precision metrics) must agree with it within 0.01 mm.

Usage: poseformer_reference.py --data-dir D --checkpoint C --frames F --cameras CAMS.json
       [--subjects S9,S11] [--actions Walk,Sit] [--keypoints gt] [--heads 8]
Prints JSON: [{"subject": "" or "S9", "actions": [{"action", "mpjpe", ...}]}] for the pooled
report and then one block per subject.
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn

STATIC_JOINTS = [4, 5, 9, 10, 11, 16, 20, 21, 22, 23, 24, 28, 29, 30, 31]


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        weights = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = FeedForward(dim, mlp_hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Lifter(nn.Module):
    def __init__(self, frames, joints, width, depth, heads, mlp_hidden):
        super().__init__()
        wide = width * joints
        self.Spatial_pos_embed = nn.Parameter(torch.zeros(1, joints, width))
        self.Temporal_pos_embed = nn.Parameter(torch.zeros(1, frames, wide))
        self.Spatial_patch_to_embedding = nn.Linear(2, width)
        self.Spatial_blocks = nn.ModuleList([Block(width, heads, mlp_hidden) for _ in range(depth)])
        self.blocks = nn.ModuleList([Block(wide, heads, mlp_hidden * joints) for _ in range(depth)])
        self.Spatial_norm = nn.LayerNorm(width, eps=1e-6)
        self.Temporal_norm = nn.LayerNorm(wide, eps=1e-6)
        self.weighted_mean = nn.Conv1d(frames, 1, 1)
        self.head = nn.Sequential(nn.LayerNorm(wide), nn.Linear(wide, joints * 3))

    def forward(self, x):
        b, f, j, _ = x.shape
        x = self.Spatial_patch_to_embedding(x.reshape(b * f, j, 2)) + self.Spatial_pos_embed
        for blk in self.Spatial_blocks:
            x = blk(x)
        x = self.Spatial_norm(x).reshape(b, f, -1) + self.Temporal_pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.weighted_mean(self.Temporal_norm(x))).view(b, 1, j, -1)


def load_model(path, heads):
    state = torch.load(path, map_location='cpu')['model_pos']
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    joints, width = state['Spatial_pos_embed'].shape[1:]
    frames = state['Temporal_pos_embed'].shape[1]
    depth = len({k.split('.')[1] for k in state if k.startswith('Spatial_blocks.')})
    hidden = state['Spatial_blocks.0.mlp.fc1.weight'].shape[0]
    model = Lifter(frames, joints, width, depth, heads, hidden)
    model.load_state_dict(state, strict=True)
    return model.eval()


def qrot(q, v):
    qvec = q[..., 1:]
    uv = np.cross(qvec, v)
    uuv = np.cross(qvec, uv)
    return v + 2 * (q[..., :1] * uv + uuv)


def world_to_camera(x, orientation, translation):
    inverse = np.array([orientation[0], -orientation[1], -orientation[2], -orientation[3]], dtype=np.float32)
    return qrot(np.tile(inverse, (*x.shape[:-1], 1)), x - translation).astype(np.float32)


def p_mpjpe(predicted, target):
    mu_x = np.mean(target, axis=1, keepdims=True)
    mu_y = np.mean(predicted, axis=1, keepdims=True)
    x0, y0 = target - mu_x, predicted - mu_y
    norm_x = np.sqrt(np.sum(x0 ** 2, axis=(1, 2), keepdims=True))
    norm_y = np.sqrt(np.sum(y0 ** 2, axis=(1, 2), keepdims=True))
    x0, y0 = x0 / norm_x, y0 / norm_y
    u, s, vt = np.linalg.svd(np.matmul(x0.transpose(0, 2, 1), y0))
    v = vt.transpose(0, 2, 1)
    rotation = np.matmul(v, u.transpose(0, 2, 1))
    sign = np.sign(np.expand_dims(np.linalg.det(rotation), axis=1))
    v[:, :, -1] *= sign
    s[:, -1] *= sign.flatten()
    rotation = np.matmul(v, u.transpose(0, 2, 1))
    scale = np.expand_dims(np.sum(s, axis=1, keepdims=True), axis=2) * norm_x / norm_y
    shift = mu_x - scale * np.matmul(mu_y, rotation)
    aligned = scale * np.matmul(predicted, rotation) + shift
    return np.mean(np.linalg.norm(aligned - target, axis=-1))


def evaluate_sequence(model, keypoints, target, frames, kps, joints):
    pad = (frames - 1) // 2
    padded = np.pad(keypoints, ((pad, pad), (0, 0), (0, 0)), 'edge')[None].astype('float32')
    inputs = torch.from_numpy(padded)
    flipped = inputs.clone()
    flipped[:, :, :, 0] *= -1
    flipped[:, :, kps[0] + kps[1]] = flipped[:, :, kps[1] + kps[0]]

    def windows(sequence):
        sequence = torch.squeeze(sequence, 0)
        out = torch.empty(sequence.shape[0] - frames + 1, frames, sequence.shape[1], sequence.shape[2])
        for i in range(out.shape[0]):
            out[i] = sequence[i:i + frames]
        return out

    with torch.no_grad():
        plain = model(windows(inputs))
        mirrored = model(windows(flipped))
    mirrored[:, :, :, 0] *= -1
    mirrored[:, :, joints[0] + joints[1]] = mirrored[:, :, joints[1] + joints[0]]
    predicted = torch.mean(torch.cat((plain, mirrored), dim=1), dim=1, keepdim=True)
    truth = torch.from_numpy(target.astype('float32'))[:, None]
    truth[:, :, 0] = 0
    mpjpe = torch.mean(torch.norm(predicted - truth, dim=-1)).item()
    scale = torch.mean(torch.sum(truth * predicted, dim=3, keepdim=True), dim=2, keepdim=True) / \
        torch.mean(torch.sum(predicted ** 2, dim=3, keepdim=True), dim=2, keepdim=True)
    n_mpjpe = torch.mean(torch.norm(scale * predicted - truth, dim=-1)).item()
    p = predicted.numpy().reshape(-1, truth.shape[-2], 3)
    t = truth.numpy().reshape(-1, truth.shape[-2], 3)
    velocity = np.mean(np.linalg.norm(np.diff(p, axis=0) - np.diff(t, axis=0), axis=-1))
    return len(target), mpjpe, p_mpjpe(p, t), n_mpjpe, velocity


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--cameras', required=True, help='JSON: subject -> [{orientation, translation (m), res_w, res_h}]')
    parser.add_argument('--keypoints', default='gt')
    parser.add_argument('--subjects', default='S9,S11')
    parser.add_argument('--actions', default='*')
    parser.add_argument('--heads', type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(2)

    model = load_model(args.checkpoint, args.heads)
    frames = model.Temporal_pos_embed.shape[1]
    cameras = json.load(open(args.cameras))
    positions = np.load(f'{args.data_dir}/data_3d_h36m.npz', allow_pickle=True)['positions_3d'].item()
    detections = np.load(f'{args.data_dir}/data_2d_h36m_{args.keypoints}.npz', allow_pickle=True)
    metadata = detections['metadata'].item()
    detections = detections['positions_2d'].item()
    kps = [list(metadata['keypoints_symmetry'][0]), list(metadata['keypoints_symmetry'][1])]
    joints = [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]
    keep = [j for j in range(32) if j not in STATIC_JOINTS]
    prefixes = None if args.actions == '*' else args.actions.split(',')

    sums = {}  # (subject, action) -> [frames, mpjpe, p_mpjpe, n_mpjpe, velocity] weighted sums
    for subject in args.subjects.split(','):
        for action, world in positions[subject].items():
            total = np.zeros(5)
            for index, camera in enumerate(cameras[subject]):
                target = world_to_camera(world[:, keep], camera['orientation'],
                                         np.array(camera['translation'], dtype=np.float32))
                target[:, 1:] -= target[:, :1]
                keypoints = detections[subject][action][index][:len(target)].copy()
                keypoints = keypoints / camera['res_w'] * 2 - [1, camera['res_h'] / camera['res_w']]
                n, *errors = evaluate_sequence(model, keypoints, target, frames, kps, joints)
                total += [n] + [n * e for e in errors]
            sums[(subject, action)] = total

    def block(subject_label, subjects):
        groups = {}
        for subject in subjects:
            for action in positions[subject]:
                groups.setdefault(action.split(' ')[0], []).append((subject, action))
        out = []
        for name, members in groups.items():
            if prefixes and not any(name.startswith(p) for p in prefixes):
                continue
            total = sum(sums[m] for m in members)
            out.append({'action': name, 'mpjpe': total[1] / total[0] * 1000, 'p_mpjpe': total[2] / total[0] * 1000,
                        'n_mpjpe': total[3] / total[0] * 1000, 'mpjve': total[4] / total[0] * 1000})
        return {'subject': subject_label, 'actions': out}

    subjects = args.subjects.split(',')
    print(json.dumps([block('', subjects)] + [block(s, [s]) for s in subjects]))


if __name__ == '__main__':
    main()
