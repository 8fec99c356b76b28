#!/bin/sh
# SPDX-License-Identifier: MIT
# Cost of F8Net training against float training, measured in one run (docs/f8net.md):
# ResNet-20 on raw pixels, batch 128, 2 threads, Fashion-MNIST, f8 train --bench-batches for
#   float        the plain float network
#   floating     F8Net's FP baseline (--pact: PACT clipping, BN double forward, no rounding)
#   f8net        F8Net's conventional training (--quant f8net --from a float checkpoint)
#   tiny FT      f8 finetune (fake quantization without clipping, grid-searched FLs)
# each timed after 5 warm-up steps, alternated ROUNDS times; prints the medians and ratios.
#
#   bench/quant-bench.sh [F8]          STEPS=30 ROUNDS=3
set -eu
F8=${1:-build/f8}
STEPS=${STEPS:-30}
ROUNDS=${ROUNDS:-3}
T=$(mktemp -d /tmp/f8-quant-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT

# a checkpoint to start from: one float epoch on 1024 images is enough to time steps
"$F8" train --model resnet20 --raw-input --train-limit 1024 --test-limit 128 --epochs 1 --out "$T/fp" >/dev/null 2>&1
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ips() { sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p'; }
for k in float floating f8net tiny; do : > "$T/$k"; done
r=0
while [ $r -lt "$ROUNDS" ]; do
	"$F8" train --model resnet20 --raw-input --bench-batches "$STEPS" --bench-warmup 5 2>&1 | ips >> "$T/float"
	"$F8" train --model resnet20 --pact --bench-batches "$STEPS" --bench-warmup 5 2>&1 | ips >> "$T/floating"
	"$F8" train --quant f8net --from "$T/fp/ckpt.f8c" --bench-batches "$STEPS" --bench-warmup 5 2>&1 | ips >> "$T/f8net"
	"$F8" finetune "$T/fp/ckpt.f8c" --out "$T/ft" --steps $((STEPS + 5)) --force 2>&1 | ips >> "$T/tiny"
	r=$((r + 1))
done
f=$(median < "$T/float")
fl=$(median < "$T/floating")
q=$(median < "$T/f8net")
t=$(median < "$T/tiny")
echo "| training step, ResNet-20 (raw input), batch 128, 2 threads | images/s (median of $ROUNDS) |"
echo "|---|---|"
echo "| float (f8 train) | $f |"
echo "| F8Net's FP baseline: PACT, BN double forward, no rounding (f8 train --pact) | $fl |"
echo "| F8Net conventional: PACT in fixed point (f8 train --quant f8net) | $q |"
echo "| F8Net tiny fine-tuning: no clipping, grid FLs (f8 finetune) | $t |"
awk -v f="$f" -v q="$q" -v fl="$fl" -v t="$t" 'BEGIN {
	printf "F8Net step costs %.2fx a plain float step, %.2fx its FP baseline'"'"'s step (target <= 1.3); tiny fine-tuning %.2fx\n", f / q, fl / q, f / t }'
