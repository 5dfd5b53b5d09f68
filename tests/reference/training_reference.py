#!/usr/bin/env python3
"""Independent reference for poselift's training tests (test-time only, never shipped).

A literal, unoptimised Python/PyTorch restatement of the training loop of the original
run_poseformer.py: a fixed list of (sequence, start, end, flip) pairs, permuted afresh every
epoch by the generator's numpy RandomState, batches filled with edge-padded windows and
flipped in numpy, AdamW (weight decay 0.1), MPJPE loss, the learning rate of the optimizer's
groups multiplied by the decay after every epoch, then the per-epoch evaluation (test set with
flip augmentation, training set without) in a separate evaluation-mode model.

The model is poseformer_reference.Lifter: the original's PoseTransformer with stochastic depth
0 (its dropouts are all 0), so training mode computes what evaluation mode does.

  training_reference.py init --out C --frames F --joints J --width W --depth D --heads H --lr LR --seed S
      writes a starting checkpoint in the original's layout: epoch 0, lr, a fresh
      numpy.random.RandomState(1234), a fresh AdamW state_dict, model_pos.
  training_reference.py train --data SEQ.npz --symmetry SYM.json --resume C --epochs E --batch B
      --lr-decay LRD --heads H [--out-dir DIR]
      resumes C as the original does and trains until epoch E; prints one JSON object per epoch
      ({"epoch", "lr", "train", "train_eval", "valid"}, metres) and, with --out-dir, writes
      epoch_N.bin after every epoch.

SEQ.npz holds train_2d_i / train_3d_i / valid_2d_i / valid_3d_i (normalised 2D inputs, camera-
space 3D, as the original's fetch() returns them); SYM.json kps_left/right, joints_left/right.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from poseformer_reference import Lifter, load_model  # noqa: E402


def mpjpe(predicted, target):
    return torch.mean(torch.norm(predicted - target, dim=len(target.shape) - 1))


class Batches:
    """The original's ChunkedGenerator with chunk_length 1 (stride 1), shuffle and augment."""

    def __init__(self, batch_size, poses_3d, poses_2d, pad, augment, kps, joints, random):
        pairs = []
        for i in range(len(poses_2d)):
            n_chunks = poses_2d[i].shape[0]
            bounds = np.arange(n_chunks + 1)
            flags = np.full(len(bounds), False, dtype=bool)
            pairs += zip(np.repeat(i, len(bounds)), bounds[:-1], bounds[1:], flags)
            if augment:
                pairs += zip(np.repeat(i, len(bounds)), bounds[:-1], bounds[1:], ~flags)
        self.pairs = pairs
        self.batch_size = batch_size
        self.num_batches = (len(pairs) + batch_size - 1) // batch_size
        self.poses_3d, self.poses_2d, self.pad = poses_3d, poses_2d, pad
        self.kps_left, self.kps_right = kps
        self.joints_left, self.joints_right = joints
        self.random = random
        self.batch_2d = np.empty((batch_size, 1 + 2 * pad, poses_2d[0].shape[-2], poses_2d[0].shape[-1]))
        self.batch_3d = np.empty((batch_size, 1, poses_3d[0].shape[-2], poses_3d[0].shape[-1]))

    def next_epoch(self):
        pairs = self.random.permutation(self.pairs)  # the fixed list, permuted anew each epoch
        for b in range(self.num_batches):
            chunks = pairs[b * self.batch_size:(b + 1) * self.batch_size]
            for i, (seq, start_3d, end_3d, flip) in enumerate(chunks):
                start_2d, end_2d = start_3d - self.pad, end_3d + self.pad
                seq_2d = self.poses_2d[seq]
                low, high = max(start_2d, 0), min(end_2d, seq_2d.shape[0])
                self.batch_2d[i] = np.pad(seq_2d[low:high], ((low - start_2d, end_2d - high), (0, 0), (0, 0)), 'edge')
                if flip:
                    self.batch_2d[i, :, :, 0] *= -1
                    self.batch_2d[i, :, self.kps_left + self.kps_right] = \
                        self.batch_2d[i, :, self.kps_right + self.kps_left]
                self.batch_3d[i] = self.poses_3d[seq][start_3d:end_3d]
                if flip:
                    self.batch_3d[i, :, :, 0] *= -1
                    self.batch_3d[i, :, self.joints_left + self.joints_right] = \
                        self.batch_3d[i, :, self.joints_right + self.joints_left]
            yield self.batch_3d[:len(chunks)], self.batch_2d[:len(chunks)]


def windows(sequence, frames):
    out = torch.empty(sequence.shape[0] - frames + 1, frames, sequence.shape[1], sequence.shape[2])
    for i in range(out.shape[0]):
        out[i] = sequence[i:i + frames]
    return out


def evaluate(model, poses_3d, poses_2d, frames, kps, joints, flip_test):
    pad = (frames - 1) // 2
    total, n = 0.0, 0
    with torch.no_grad():
        for seq_3d, seq_2d in zip(poses_3d, poses_2d):
            inputs = torch.from_numpy(np.pad(seq_2d, ((pad, pad), (0, 0), (0, 0)), 'edge').astype('float32'))
            truth = torch.from_numpy(seq_3d.astype('float32'))[:, None]
            truth[:, :, 0] = 0
            predicted = model(windows(inputs, frames))
            if flip_test:
                flipped = inputs.clone()
                flipped[:, :, 0] *= -1
                flipped[:, kps[0] + kps[1]] = flipped[:, kps[1] + kps[0]]
                mirrored = model(windows(flipped, frames))
                mirrored[:, :, :, 0] *= -1
                mirrored[:, :, joints[0] + joints[1]] = mirrored[:, :, joints[1] + joints[0]]
                predicted = torch.mean(torch.cat((predicted, mirrored), dim=1), dim=1, keepdim=True)
            total += truth.shape[0] * truth.shape[1] * mpjpe(predicted, truth).item()
            n += truth.shape[0] * truth.shape[1]
    return total / n


def init(args):
    torch.manual_seed(args.seed)
    hidden = int(args.width * 2.0)
    model = Lifter(args.frames, args.joints, args.width, args.depth, args.heads, hidden)
    with torch.no_grad():  # non-trivial positional embeddings (the original initialises them to 0)
        model.Spatial_pos_embed.normal_(0, 0.02)
        model.Temporal_pos_embed.normal_(0, 0.02)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1)
    torch.save({'epoch': 0, 'lr': args.lr, 'random_state': np.random.RandomState(1234),
                'optimizer': optimizer.state_dict(), 'model_pos': model.state_dict()}, args.out)


def train(args):
    torch.set_num_threads(args.threads)
    data = np.load(args.data)
    sym = json.load(open(args.symmetry))
    kps = [sym['kps_left'], sym['kps_right']]
    joints = [sym['joints_left'], sym['joints_right']]

    def sequences(prefix):
        out, i = [], 0
        while f'{prefix}_{i}' in data:
            out.append(data[f'{prefix}_{i}'])
            i += 1
        return out

    train_2d, train_3d = sequences('train_2d'), sequences('train_3d')
    valid_2d, valid_3d = sequences('valid_2d'), sequences('valid_3d')

    checkpoint = torch.load(args.resume, map_location='cpu')
    model_train = load_model(args.resume, args.heads).train()
    model_eval = load_model(args.resume, args.heads).eval()
    frames = model_train.Temporal_pos_embed.shape[1]
    optimizer = torch.optim.AdamW(model_train.parameters(), lr=checkpoint['lr'], weight_decay=0.1)
    optimizer.load_state_dict(checkpoint['optimizer'])
    generator = Batches(args.batch, train_3d, train_2d, (frames - 1) // 2, not args.no_augment, kps, joints,
                        checkpoint['random_state'])
    epoch, lr = checkpoint['epoch'], checkpoint['lr']
    while epoch < args.epochs:
        loss_sum, n = 0.0, 0
        model_train.train()
        for batch_3d, batch_2d in generator.next_epoch():
            inputs_3d = torch.from_numpy(batch_3d.astype('float32'))
            inputs_2d = torch.from_numpy(batch_2d.astype('float32'))
            inputs_3d[:, :, 0] = 0
            optimizer.zero_grad()
            loss = mpjpe(model_train(inputs_2d), inputs_3d)
            loss_sum += inputs_3d.shape[0] * inputs_3d.shape[1] * loss.item()
            n += inputs_3d.shape[0] * inputs_3d.shape[1]
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            model_eval.load_state_dict(model_train.state_dict(), strict=False)
            model_eval.eval()
            valid = evaluate(model_eval, valid_3d, valid_2d, frames, kps, joints, True)
            train_eval = evaluate(model_eval, train_3d, train_2d, frames, kps, joints, False)
        print(json.dumps({'epoch': epoch + 1, 'lr': lr, 'train': loss_sum / n, 'train_eval': train_eval,
                          'valid': valid}), flush=True)
        lr *= args.lr_decay
        for group in optimizer.param_groups:
            group['lr'] *= args.lr_decay
        epoch += 1
        if args.out_dir:
            torch.save({'epoch': epoch, 'lr': lr, 'random_state': generator.random,
                        'optimizer': optimizer.state_dict(), 'model_pos': model_train.state_dict()},
                       os.path.join(args.out_dir, f'epoch_{epoch}.bin'))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('init')
    p.add_argument('--out', required=True)
    p.add_argument('--frames', type=int, required=True)
    p.add_argument('--joints', type=int, default=17)
    p.add_argument('--width', type=int, required=True)
    p.add_argument('--depth', type=int, required=True)
    p.add_argument('--heads', type=int, required=True)
    p.add_argument('--lr', type=float, required=True)
    p.add_argument('--seed', type=int, default=0)
    p = sub.add_parser('train')
    p.add_argument('--data', required=True)
    p.add_argument('--symmetry', required=True)
    p.add_argument('--resume', required=True)
    p.add_argument('--epochs', type=int, required=True)
    p.add_argument('--batch', type=int, required=True)
    p.add_argument('--lr-decay', type=float, required=True)
    p.add_argument('--heads', type=int, required=True)
    p.add_argument('--no-augment', action='store_true')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out-dir')
    args = parser.parse_args()
    init(args) if args.command == 'init' else train(args)


if __name__ == '__main__':
    main()
