#!/usr/bin/env python3
"""Independent reference for poselift's VideoPose3D tests (test-time only, never shipped).

Runs the original facebookresearch/VideoPose3D common/model.py, imported from the path given,
on a checkpoint poselift wrote: builds TemporalModel (the dilated form) or
TemporalModelOptimized1f (the strided training form) with the configuration given, loads the
checkpoint's state dict strictly, applies it to the input and saves, into one .npz:
`output` (the model's output) and, for every BatchNorm, `<name>.running_mean` /
`<name>.running_var` after the forward (a training forward updates them).

Usage: videopose3d_reference.py MODEL_PY CHECKPOINT KEY INPUT_NPY OUT_NPZ
           --widths 3,3,3 --channels 64 --joints-in 17 --features 2 --joints-out 17
           [--causal] [--dense] [--optimized] [--train]
KEY: model_pos or model_traj. --train runs the forward in training mode with dropout 0
(BatchNorm on batch statistics); otherwise eval mode.
"""
import argparse
import importlib.util

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_py")
    parser.add_argument("checkpoint")
    parser.add_argument("key")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--widths", required=True)
    parser.add_argument("--channels", type=int, required=True)
    parser.add_argument("--joints-in", type=int, required=True)
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--joints-out", type=int, required=True)
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--dense", action="store_true")
    parser.add_argument("--optimized", action="store_true")
    parser.add_argument("--train", action="store_true")
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("videopose3d_model", args.model_py)
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)

    widths = [int(w) for w in args.widths.split(",")]
    dropout = 0.0 if args.train else 0.25
    if args.optimized:
        model = original.TemporalModelOptimized1f(args.joints_in, args.features, args.joints_out, widths,
                                                  causal=args.causal, dropout=dropout, channels=args.channels)
    else:
        model = original.TemporalModel(args.joints_in, args.features, args.joints_out, widths, causal=args.causal,
                                       dropout=dropout, channels=args.channels, dense=args.dense)
    checkpoint = torch.load(args.checkpoint, map_location="cpu")
    model.load_state_dict(checkpoint[args.key], strict=True)
    model.train(args.train)

    x = torch.from_numpy(np.load(args.input))
    with torch.no_grad():
        y = model(x)
    arrays = {"output": y.numpy()}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            arrays[name + ".running_mean"] = module.running_mean.numpy()
            arrays[name + ".running_var"] = module.running_var.numpy()
    np.savez(args.output, **arrays)
    print("ok", tuple(y.shape))


if __name__ == "__main__":
    main()
