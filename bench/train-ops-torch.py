#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The PyTorch side of bench/train-ops-bench.c: the same ResNet-20 (28x28, batch 128) conv
# shapes, forward + backward (dx and dw), float32, 2 threads; then one whole training step
# of the net for scale. Prints one line per layer: name, ms per fwd+bwd.
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
N = 128
# name, cin, h, cout, k, stride, pad, count in the net
SHAPES = [
    ("conv1 1-16 k3 28", 1, 28, 16, 3, 1, 1, 1),
    ("s1 16-16 k3 28", 16, 28, 16, 3, 1, 1, 6),
    ("s2a 16-32 k3/2 28", 16, 28, 32, 3, 2, 1, 1),
    ("s2sc 16-32 k1/2 28", 16, 28, 32, 1, 2, 0, 1),
    ("s2 32-32 k3 14", 32, 14, 32, 3, 1, 1, 5),
    ("s3a 32-64 k3/2 14", 32, 14, 64, 3, 2, 1, 1),
    ("s3sc 32-64 k1/2 14", 32, 14, 64, 1, 2, 0, 1),
    ("s3 64-64 k3 7", 64, 7, 64, 3, 1, 1, 5),
]


def bench(fn, reps):
    for _ in range(3):
        fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps * 1e3


total = 0.0
for name, cin, h, cout, k, s, p, cnt in SHAPES:
    x = torch.randn(N, cin, h, h, requires_grad=(cin > 1))
    w = torch.randn(cout, cin, k, k, requires_grad=True)
    y = F.conv2d(x, w, None, s, p)
    dy = torch.randn_like(y)

    def step():
        out = F.conv2d(x, w, None, s, p)
        out.backward(dy)

    ms = bench(step, 20)
    fwd = bench(lambda: F.conv2d(x, w, None, s, p), 20)
    total += ms * cnt
    print("%-22s fwd %7.3f ms  fwd+bwd %7.3f ms  x%d" % (name, fwd, ms, cnt))
print("conv total (weighted) %.1f ms" % total)


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


def resnet20():
    layers = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for b in range(3):
            layers.append(Block(cin, cout, stride if b == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


net = resnet20()
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
x = torch.randn(N, 1, 28, 28)
lab = torch.randint(0, 10, (N,))


def train_step():
    opt.zero_grad()
    loss = F.cross_entropy(net(x), lab)
    loss.backward()
    opt.step()


print("resnet20 train step %.1f ms" % bench(train_step, 10))
