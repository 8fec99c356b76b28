#!/bin/sh
# SPDX-License-Identifier: MIT
# The CPU backend's performance report (issue 11, item 6; docs/cpu-backend.md), written to
# docs/results/cpu-perf.md: images/s of `f8 cpu-bench` (the whole integer network on the CPU
# backend, random images) on ResNet-20 (Fashion-MNIST, 1x28x28) and ResNet-18 (3x224x224),
# with 1 and 2 threads (images split over threads, and for ResNet-18 also one image with its
# layers split over the threads), against PyTorch's int8 convolutions of the same layers with
# the same images in flight and threads, measured in the same run (bench/cpu-torch.py, onednn).
# Both models have random weights (f8 export --random): the speed does not depend on them.
#
#   bench/cpu-perf.sh [F8]     environment: OUT (docs/results/cpu-perf.md), THREADS ("1 2"),
#                              SECONDS_PER_RUN (2 per f8 measurement), REPEAT (3 pairs; medians),
#                              R20 (a trained ResNet-20 .f8m instead of a random one); each
#                              row alternates f8 and PyTorch REPEAT times (pairs)
set -eu
F8=${1:-build/f8}
OUT=${OUT:-docs/results/cpu-perf.md}
THREADS=${THREADS:-1 2}
SECS=${SECONDS_PER_RUN:-2}
REPEAT=${REPEAT:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d /tmp/f8-cpu-perf-XXXXXX)
trap 'rm -rf "$T"' EXIT

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
	scripts/deps.sh bench
fi
if [ -n "${R20:-}" ]; then
	cp "$R20" "$T/resnet20.f8m"
else
	"$F8" export --random --model resnet20 --seed 1 --out "$T/resnet20.f8m" >/dev/null 2>&1
fi
"$F8" export --random --model resnet18 --seed 1 --out "$T/resnet18.f8m" >/dev/null 2>&1

val() { sed -n 's/.* images_per_s=\([0-9.]*\).*/\1/p'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# --split layers (one image's layers over the threads) exists from the blocked GEMM on
has_split=$("$F8" cpu-bench --help 2>/dev/null | grep -c -- '--split' || true)
isa=""
rows=""
# network:batch per thread (ResNet-18: one image per thread, the latency-bound case); with
# more than one thread ResNet-18 also runs one image at a time, its layers split over the
# threads, against PyTorch on one image with the same threads
for nb in resnet20:8 resnet18:1; do
	net=${nb%%:*}
	b=${nb#*:}
	for t in $THREADS; do
		modes=images
		[ "$net" = resnet18 ] && [ "$t" -gt 1 ] && [ "$has_split" -gt 0 ] && modes="images layers"
		for mode in $modes; do
			if [ "$mode" = layers ]; then
				split="--split layers"
				tb=$b
				what="$b, layers split over threads ($b in flight)"
			else
				split=""
				tb=$((b * t))
				what="$b per thread ($tb in flight)"
			fi
			# f8 and PyTorch alternately, one measurement each per pair: on a shared
			# machine the load changes within minutes, and a pair sees about the same load
			all_o=""
			all_t=""
			all_r=""
			for r in $(seq "$REPEAT"); do
				line=$("$F8" cpu-bench "$T/$net.f8m" --threads "$t" --batch "$b" $split --seconds "$SECS" --repeat 1 2>/dev/null)
				o=$(echo "$line" | val)
				isa=$(echo "$line" | sed -n 's/.* isa=\([a-z0-9]*\) .*/\1/p')
				tline=$("$PYTHON" bench/cpu-torch.py "$T/$net.f8m" --threads "$t" --batch "$tb" --repeat 1 2>/dev/null)
				tt=$(echo "$tline" | val)
				layers=$(echo "$tline" | sed -n 's/.* layers=\([0-9]*\) .*/\1/p')
				all_o="$all_o $o"
				all_t="$all_t $tt"
				all_r="$all_r $(awk -v a="$o" -v b="$tt" 'BEGIN { printf "%.4f", a / b }')"
			done
			ours=$(echo "$all_o" | median)
			torch=$(echo "$all_t" | median)
			ratio=$(echo "$all_r" | median)
			echo "cpu-perf: $net, $t threads, $mode: f8$all_o; PyTorch$all_t images/s" >&2
			echo "cpu-perf: $net, $t threads, $mode: f8 $ours images/s, PyTorch int8 convs $torch images/s, ratio $ratio" >&2
			rows="$rows| $net | $t | $what | $ours | $torch ($layers layers) | $ratio |
"
		done
	done
done
tver=$("$PYTHON" -c 'import torch; print(torch.__version__)')
tisa=$(ONEDNN_VERBOSE=1 "$PYTHON" bench/cpu-torch.py "$T/resnet20.f8m" --repeat 1 --seconds 0.01 2>/dev/null |
	sed -n 's/^onednn_verbose,info,cpu,isa:\(.*\)$/\1/p' | head -1)
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
mkdir -p "$(dirname "$OUT")"
{
	echo "# CPU backend performance (bench/cpu-perf.sh)"
	echo
	echo "Written by \`bench/cpu-perf.sh $F8\` on $(date -u +%Y-%m-%d), $cpu, $(nproc) cores."
	echo "f8: the CPU backend (\`f8 cpu-bench\`), ISA **$isa**, the whole integer network (convs,"
	echo "residual adds, pools, requantizations) on random images, batches of B images per thread"
	echo "(images split over threads), or for ResNet-18 with 2 threads also one image at a time"
	echo "with each layer split over the threads (\`--split layers\`). PyTorch $tver:"
	echo "the int8 convolutions and the classifier of the same network (\`bench/cpu-torch.py\`:"
	echo "quantized Conv2d / ConvReLU2d / Linear, onednn engine, ISA: $tisa), batch"
	echo "B x threads, \`torch.set_num_threads(threads)\`, each layer timed alone and summed:"
	echo "only its convs are counted, f8 is timed on everything. f8 and PyTorch are measured"
	echo "alternately, $REPEAT pairs (one f8 run of ${SECS} s, then one PyTorch run) per row: medians,"
	echo "and the ratio = f8 / PyTorch is the median of the pairs' ratios. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "on $(nproc) cores (on a shared machine read the ratios, not the absolute numbers)."
	echo
	echo "| network | threads | batch | f8 cpu images/s | PyTorch int8 convs images/s | ratio |"
	echo "|---|---|---|---|---|---|"
	printf "%s" "$rows"
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
