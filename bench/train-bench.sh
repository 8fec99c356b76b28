#!/bin/sh
# SPDX-License-Identifier: MIT
# The training bench (docs/train.md, `make bench-train`): ResNet-20 on Fashion-MNIST,
# the f8 engine (`f8 train --bench-batches`) and PyTorch (bench/train-torch.py) in the
# same run, same batch size, thread count, optimiser and augmentation; images/s of the
# training step (forward, loss, backward, SGD, batch preparation) after a warm-up.
# Prints a table and the ratio, writes $BUILD/bench-train.md.
#
#   bench/train-bench.sh [F8_BINARY]      environment: BUILD BATCH BATCHES WARMUP THREADS PYTHON
set -eu

BUILD=${BUILD:-build}
F8=${1:-$BUILD/f8}
BATCH=${BATCH:-128}
BATCHES=${BATCHES:-100}
WARMUP=${WARMUP:-10}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$BUILD/bench-train.md

[ -x "$F8" ] || { echo "train-bench: $F8 not built (make $F8)" >&2; exit 1; }
mkdir -p "$BUILD"

ips() { sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' | tail -n 1; }

echo "train-bench: f8 engine, resnet20, batch $BATCH, $THREADS threads, $BATCHES batches after $WARMUP" >&2
c_line=$("$F8" train --model resnet20 --batch "$BATCH" --threads "$THREADS" \
	--bench-batches "$BATCHES" --bench-warmup "$WARMUP" 2>/dev/null | grep '^bench:')
c_ips=$(echo "$c_line" | ips)
echo "  $c_line" >&2
if "$PYTHON" -c 'import torch' 2>/dev/null; then
	echo "train-bench: PyTorch, same configuration" >&2
	t_line=$("$PYTHON" bench/train-torch.py --batch "$BATCH" --threads "$THREADS" \
		--batches "$BATCHES" --warmup "$WARMUP")
	t_ips=$(echo "$t_line" | ips)
	t_ver=$("$PYTHON" -c 'import torch; print(torch.__version__)')
	echo "  $t_line" >&2
else
	echo "train-bench: no PyTorch for $PYTHON (scripts/deps.sh bench installs python3-torch)" >&2
	t_ips=""
	t_ver="not installed"
fi

ratio=$(awk -v c="$c_ips" -v t="$t_ips" 'BEGIN { if (t + 0 > 0) printf "%.2f", c / t; else print "n/a" }')
{
	echo "# Training bench: ResNet-20 on Fashion-MNIST"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) CPUs; batch $BATCH, $THREADS threads,"
	echo "$BATCHES timed training steps after $WARMUP warm-up steps; SGD Nesterov, crop-pad 2 + hflip."
	echo
	echo "| engine | images/s | ms/batch |"
	echo "|---|---:|---:|"
	awk -v n="f8 (libf8, OpenBLAS)" -v i="$c_ips" -v b="$BATCH" \
		'BEGIN { printf "| %s | %.1f | %.1f |\n", n, i, (i > 0 ? 1e3 * b / i : 0) }'
	if [ -n "$t_ips" ]; then
		awk -v n="PyTorch $t_ver" -v i="$t_ips" -v b="$BATCH" \
			'BEGIN { printf "| %s | %.1f | %.1f |\n", n, i, (i > 0 ? 1e3 * b / i : 0) }'
	fi
	echo
	echo "ratio f8 / PyTorch: **$ratio**"
} > "$OUT"
cat "$OUT"
