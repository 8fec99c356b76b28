#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The PyTorch side of the CPU performance report (bench/cpu-perf.sh, docs/cpu-backend.md):
# every CONV and LINEAR node of an integer model file (docs/model-format.md, read here from
# its node records) as PyTorch's int8 operator of the same shape (torch.ao.nn.quantized
# Conv2d and Linear, torch.nn.intrinsic.quantized ConvReLU2d where the node has a ReLU;
# quint8 activations, qint8 weights, the onednn engine, channels-last tensors), on a batch
# of --batch images with --threads threads. Each layer is timed on its own (warm-up, then
# repeated for --seconds); the network's time is the sum of its layers' times, so ADDs, pools and the requantizations between layers are not counted
# (they are in f8's time). Prints "torch-int8 ... images_per_s=X" (the median of --repeat).
import argparse
import statistics
import struct
import sys
import time

import torch
import torch.nn.intrinsic.quantized as nniq  # torch.ao.nn.intrinsic from PyTorch 2
import torch.ao.nn.quantized as nnq

OP_INPUT, OP_CONV, OP_LINEAR = 1, 2, 6
F_RELU, F_DEPTHWISE = 0x1, 0x2


def read_nodes(path):
    """The node records of an .f8m file: (op, flags, in0, c, h, w, k, stride, pad)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 64 or data[0:4] != b"F8QM":
        sys.exit("%s: not an integer model file (docs/model-format.md)" % path)
    count = struct.unpack_from("<I", data, 16)[0]
    name = data[32:56].split(b"\0")[0].decode("ascii")
    nodes = []
    for i in range(count):
        op, flags, _, in0, _, c, h, w, k, stride, pad = struct.unpack_from("<BBHiiHHHBBB", data, 64 + 96 * i)
        nodes.append((op, flags, in0, c, h, w, k, stride, pad))
    return name, nodes


def layers(nodes, batch):
    """One (module, input) pair per CONV / LINEAR node, with the node's shapes."""
    out = []
    for op, flags, in0, c, h, w, k, stride, pad in nodes:
        if op not in (OP_CONV, OP_LINEAR):
            continue
        a = nodes[in0]
        cin, ih, iw = a[3], a[4], a[5]
        if op == OP_CONV:
            groups = cin if flags & F_DEPTHWISE else 1
            cls = nniq.ConvReLU2d if flags & F_RELU else nnq.Conv2d
            mod = cls(cin, c, k, stride=stride, padding=pad, groups=groups)
            wf = torch.randn(c, cin // groups, k, k) * 0.05
            x = torch.rand(batch, cin, ih, iw).contiguous(memory_format=torch.channels_last)
        else:
            mod = nnq.Linear(cin * ih * iw, c)
            wf = torch.randn(c, cin * ih * iw) * 0.05
            x = torch.rand(batch, cin * ih * iw)
        qw = torch.quantize_per_tensor(wf, 0.05 / 16, 0, torch.qint8)
        mod.set_weight_bias(qw, torch.zeros(c))
        mod.scale, mod.zero_point = 0.1, 0
        qx = torch.quantize_per_tensor(x, 1.0 / 64, 0, torch.quint8)
        out.append((mod, qx))
    return out


def seconds_per_call(mod, qx, budget):
    with torch.no_grad():
        for _ in range(2):
            mod(qx)
        n, t0 = 0, time.perf_counter()
        while True:
            mod(qx)
            n += 1
            t = time.perf_counter() - t0
            if t >= budget:
                return t / n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8, help="images per call")
    ap.add_argument("--seconds", type=float, default=0.2, help="timed seconds per layer")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if "onednn" not in torch.backends.quantized.supported_engines:
        sys.exit("cpu-torch: this PyTorch has no onednn quantized engine")
    torch.backends.quantized.engine = "onednn"
    torch.set_num_threads(a.threads)
    name, nodes = read_nodes(a.model)
    mods = layers(nodes, a.batch)
    runs = []
    for _ in range(a.repeat):
        total = sum(seconds_per_call(m, x, a.seconds) for m, x in mods)
        runs.append(a.batch / total)
        print("cpu-torch: %s, %d layers, batch %d, %d threads: %.1f images/s" %
              (name, len(mods), a.batch, a.threads, runs[-1]), file=sys.stderr)
    print("torch-int8 model=%s engine=onednn torch=%s threads=%d batch=%d layers=%d images_per_s=%.1f" %
          (name, torch.__version__, a.threads, a.batch, len(mods), statistics.median(runs)))


if __name__ == "__main__":
    main()
