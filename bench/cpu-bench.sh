#!/bin/sh
# SPDX-License-Identifier: MIT
# The CPU backend against the reference kernels (docs/cpu-backend.md): a ResNet-20 integer
# model (one short float epoch on raw pixels, then f8 export), evaluated by f8 eval with
# --backend graph and --backend cpu; prints both images/s and their ratio, and fails unless
# the int32 logits of the images both ran are byte for byte identical.
#
#   bench/cpu-bench.sh [F8]      environment: MODEL (an existing .f8m: no training),
#                                REF_LIMIT (500 images on ref), CPU_LIMIT (10000), THREADS (2)
set -eu
F8=${1:-build/f8}
REF_LIMIT=${REF_LIMIT:-500}
CPU_LIMIT=${CPU_LIMIT:-10000}
THREADS=${THREADS:-2}
T=$(mktemp -d /tmp/f8-cpu-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT

if [ -z "${MODEL:-}" ]; then
	"$F8" train --model resnet20 --raw-input --train-limit 512 --test-limit 128 --epochs 1 \
		--out "$T/fp" >/dev/null 2>&1
	"$F8" export "$T/fp/ckpt.f8c" --out "$T/m.f8m" --calib 256 >/dev/null 2>&1
	MODEL=$T/m.f8m
fi
# f8 eval's last progress line: "integer eval N/N images  X img/s"
ips() { tr '\r' '\n' | sed -n 's/^integer eval .* \([0-9.]*\) img\/s$/\1/p' | tail -1; }
"$F8" eval "$MODEL" --threads "$THREADS" --limit "$REF_LIMIT" --backend graph --logits "$T/ref" 2>"$T/ref.err" >/dev/null
"$F8" eval "$MODEL" --threads "$THREADS" --limit "$REF_LIMIT" --backend cpu --logits "$T/cpu" 2>/dev/null >/dev/null
if ! cmp -s "$T/ref" "$T/cpu"; then
	echo "cpu-bench: the CPU backend's logits differ from the reference kernels' on $MODEL" >&2
	exit 1
fi
"$F8" eval "$MODEL" --threads "$THREADS" --limit "$CPU_LIMIT" --backend cpu 2>"$T/cpu.err" >/dev/null
r=$(ips < "$T/ref.err")
c=$(ips < "$T/cpu.err")
isa=$(sed -n 's/.*the CPU backend, \([a-z0-9]*\).*/\1/p' "$T/cpu.err")
echo "| integer forward pass, ResNet-20 (Fashion-MNIST 28x28), $THREADS threads | images/s |"
echo "|---|---|"
echo "| reference kernels (f8 eval --backend graph, $REF_LIMIT images) | $r |"
echo "| CPU backend, $isa (f8 eval --backend cpu, $CPU_LIMIT images) | $c |"
awk -v r="$r" -v c="$c" 'BEGIN { printf "CPU backend %.0fx the reference kernels; logits identical on %d images\n", c / r, '"$REF_LIMIT"' }'
