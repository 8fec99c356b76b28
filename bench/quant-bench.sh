#!/bin/sh
# SPDX-License-Identifier: MIT
# Cost of F8Net fake-quantized training against float training, measured in one run
# (docs/f8net.md): ResNet-20, batch 128, 2 threads, Fashion-MNIST; f8 train --bench-batches
# (float steps) and f8 finetune --fl std (fake-quantized steps with F8Net's conventional FL
# rule, from a checkpoint of the same model),
# each timed after 5 warm-up steps, alternated ROUNDS times; prints the medians and the ratio.
#
#   bench/quant-bench.sh [F8]          STEPS=30 ROUNDS=3
set -eu
F8=${1:-build/f8}
STEPS=${STEPS:-30}
ROUNDS=${ROUNDS:-3}
T=$(mktemp -d /tmp/f8-quant-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT

# a checkpoint to fine-tune: one float epoch on 1024 images is enough to time steps
"$F8" train --model resnet20 --train-limit 1024 --test-limit 128 --epochs 1 --out "$T/fp" >/dev/null 2>&1
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: > "$T/float"
: > "$T/quant"
: > "$T/floating"
r=0
while [ $r -lt "$ROUNDS" ]; do
	"$F8" train --model resnet20 --bench-batches "$STEPS" --bench-warmup 5 2>&1 |
		sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' >> "$T/float"
	"$F8" finetune "$T/fp/ckpt.f8c" --out "$T/ft" --steps $((STEPS + 5)) --force --fl std 2>&1 |
		sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' >> "$T/quant"
	"$F8" finetune "$T/fp/ckpt.f8c" --out "$T/ft" --steps $((STEPS + 5)) --force --floating --fl std 2>&1 |
		sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' >> "$T/floating"
	r=$((r + 1))
done
f=$(median < "$T/float")
q=$(median < "$T/quant")
fl=$(median < "$T/floating")
echo "| training step, ResNet-20, batch 128, 2 threads | images/s (median of $ROUNDS) |"
echo "|---|---|"
echo "| float (f8 train) | $f |"
echo "| F8Net floating mode (BN double forward, no rounding: the paper's FP baseline) | $fl |"
echo "| F8Net fake quantization (f8 finetune) | $q |"
awk -v f="$f" -v q="$q" -v fl="$fl" 'BEGIN {
	printf "quantized step costs %.2fx a plain float step, %.2fx a floating-mode step (target <= 1.3)\n", f / q, fl / q }'
