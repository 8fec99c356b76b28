#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The PyTorch side of the training bench (bench/train-bench.sh, docs/train.md): the zoo's
# ResNet-20 for 28x28x1 Fashion-MNIST (3 stages of 16/32/64 channels, 3 basic blocks each,
# 1x1 convolution + BN projection shortcuts where the shape changes, global average pool,
# linear 10), trained with SGD Nesterov momentum 0.9, weight decay 5e-4 on the same images,
# normalisation and augmentation (random crop after zero padding by 2, horizontal flip) as
# `f8 train`, float32 on the CPU. It times --batches training steps after --warmup steps
# and prints images/s as "images_per_s=X" (the line the bench script reads).
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530  # F8_FMNIST_NORM


def read_idx(path, rank):
    """An IDX file of unsigned bytes (gzip'd or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 + 4 * rank or data[0:2] != b"\0\0" or data[2] != 8 or data[3] != rank:
        sys.exit("%s: not an IDX u8 file of rank %d" % (path, rank))
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        sys.exit("%s: %d bytes for dimensions %s" % (path, body.size, dims))
    return body.reshape(dims)


def find(directory, name):
    for candidate in (os.path.join(directory, name + ".gz"), os.path.join(directory, name)):
        if os.path.exists(candidate):
            return candidate
    sys.exit("%s/%s.gz: not found (Debian: apt install dataset-fashion-mnist)" % (directory, name))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.sc = None
        if stride != 1 or cin != cout:
            self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (self.sc(x) if self.sc is not None else x))


def resnet20(classes=10):
    layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for b in range(3):
            layers.append(Block(cin, cout, stride if b == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]
    return nn.Sequential(*layers)


def make_batch(images, labels, idx, pad, hflip, gen):
    """Crop (after zero padding of the raw pixels) and flip, then normalise: as f8_batch_fill."""
    x = torch.from_numpy(images[idx])  # n x 28 x 28 uint8
    n, h, w = x.shape
    if pad:
        x = F.pad(x, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    else:
        dy = dx = torch.zeros(n, dtype=torch.long)
    cols = torch.arange(w).expand(n, w)
    if hflip:
        flip = torch.randint(0, 2, (n, 1), generator=gen).bool()
        cols = torch.where(flip, w - 1 - cols, cols)
    rows = dy[:, None] + torch.arange(h)
    cols = dx[:, None] + cols
    x = x[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    x = (x.float() / 255.0 - MEAN) / STD
    return x.unsqueeze(1), torch.from_numpy(labels[idx].astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--batches", type=int, default=100, help="timed training steps")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--crop-pad", type=int, default=2)
    ap.add_argument("--no-hflip", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.batch < 1 or a.batches < 1 or a.warmup < 0 or a.threads < 1 or a.crop_pad < 0:
        sys.exit("train-torch.py: bad arguments")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = read_idx(find(a.data, "train-images-idx3-ubyte"), 3)
    labels = read_idx(find(a.data, "train-labels-idx1-ubyte"), 1)
    net = resnet20()
    # Weight decay on conv/linear weights only, as the f8 engine's default (BN, biases exempt).
    decay = [p for p in net.parameters() if p.dim() > 1]
    no_decay = [p for p in net.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    net.train()
    gen = torch.Generator().manual_seed(a.seed)
    order = torch.randperm(images.shape[0], generator=gen).numpy()
    steps = a.warmup + a.batches
    t0 = None
    loss_sum = 0.0
    for s in range(steps):
        if s == a.warmup:
            t0 = time.perf_counter()
        first = (s * a.batch) % images.shape[0]
        idx = order[first:first + a.batch]
        if len(idx) < a.batch:  # wrap around: keep every batch full
            idx = np.concatenate([idx, order[:a.batch - len(idx)]])
        x, y = make_batch(images, labels, idx, a.crop_pad, not a.no_hflip, gen)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        if s >= a.warmup:
            loss_sum += loss.item()
    secs = time.perf_counter() - (t0 if t0 is not None else time.perf_counter())
    ips = a.batches * a.batch / secs if secs > 0 else 0.0
    print("torch %s: resnet20 batch %d threads %d: %d batches after %d warm-up in %.3f s: "
          "%.1f ms/batch, mean loss %.4f, images_per_s=%.1f"
          % (torch.__version__, a.batch, a.threads, a.batches, a.warmup, secs,
             1e3 * secs / a.batches, loss_sum / a.batches, ips))


if __name__ == "__main__":
    main()
