#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: the whole stack end to end on Fashion-MNIST (README, docs/architecture.md).
#   1. train a small ResNet (ResNet-8) in float on raw pixels        f8 train --raw-input
#   2. F8Net quantization-aware training from it                     f8 train --quant f8net --from
#      (ends with the trainer's own integer evaluation: model.f8m, int-logits.bin)
#   3. compile the integer model for a 16x16 device                   f8 compile --dump
#   4. evaluate on the CPU path over the 10 000 test images           f8 eval --backend cpu
#      on sim/'s reference kernels and on the Verilated RTL over subsets   --backend graph, rtl:16x16
#   5. check that every set of int32 logits agrees with the trainer's, bit for bit
#   6. placement report, per-layer profile on the RTL, a few images classified
#   7. an HTML report with the SVG charts: runs/demo/report.html
# Steps whose output exists are skipped (DEMO_FRESH=1 starts over).
#
#   scripts/demo.sh [F8] [OUT]     DEMO_EPOCHS=2 DEMO_QAT_IMAGES=20000 DEMO_RTL_IMAGES=64
#                                  DEMO_GRAPH_IMAGES=500
set -eu
F8=${1:-build/f8}
OUT=${2:-runs/demo}
EPOCHS=${DEMO_EPOCHS:-2}
QAT_IMAGES=${DEMO_QAT_IMAGES:-20000}
RTL_IMAGES=${DEMO_RTL_IMAGES:-64}
GRAPH_IMAGES=${DEMO_GRAPH_IMAGES:-500}
MODEL=resnet8
DEVICE=rtl:16x16
t0=$(date +%s)

[ "${DEMO_FRESH:-0}" = 1 ] && rm -rf "$OUT"
mkdir -p "$OUT"
say() { printf '\n== %s (%ds)\n' "$*" $(($(date +%s) - t0)); }

say "1. float training: $MODEL on raw pixels, $EPOCHS epochs"
if [ ! -f "$OUT/fp/ckpt.f8c" ] || [ $(($(wc -l < "$OUT/fp/log.csv") - 1)) -lt "$EPOCHS" ]; then
	if [ -f "$OUT/fp/ckpt.f8c" ]; then
		"$F8" train --resume "$OUT/fp/ckpt.f8c" --epochs "$EPOCHS"
	else
		"$F8" train --model "$MODEL" --raw-input --epochs "$EPOCHS" --out "$OUT/fp"
	fi
fi

say "2. F8Net quantization-aware training from it (1 epoch of $QAT_IMAGES images)"
if [ ! -f "$OUT/q8/model.f8m" ]; then
	rm -rf "$OUT/q8"
	"$F8" train --quant f8net --from "$OUT/fp/ckpt.f8c" --epochs 1 --train-limit "$QAT_IMAGES" \
		--lr 0.02 --warmup 0.5 --int-eval cpu --out "$OUT/q8"
fi
M=$OUT/q8/model.f8m

say "3. compile for $DEVICE"
"$F8" compile "$M" --device ref:16x16 --batch 8 --dump > "$OUT/stream.txt"
tail -4 "$OUT/stream.txt"

say "4a. integer evaluation on the CPU path, 10 000 test images"
"$F8" eval "$M" --backend cpu --logits "$OUT/cpu-logits.bin" > "$OUT/cpu.eval"
cat "$OUT/cpu.eval"

say "4b. the unfused model on sim/'s reference kernels (the arithmetic's definition), the first $GRAPH_IMAGES images"
"$F8" eval "$M" --backend graph --limit "$GRAPH_IMAGES" --logits "$OUT/graph-logits.bin" > "$OUT/graph.eval"
cat "$OUT/graph.eval"

say "4c. the compiled model on the Verilated RTL ($DEVICE), the first $RTL_IMAGES images"
"$F8" eval "$M" --backend "$DEVICE" --batch 8 --limit "$RTL_IMAGES" \
	--logits "$OUT/rtl-logits.bin" > "$OUT/rtl.eval"
cat "$OUT/rtl.eval"

say "5. bit-exactness"
bytes=$((RTL_IMAGES * 10 * 4))
cmp "$OUT/cpu-logits.bin" "$OUT/q8/int-logits.bin"
echo "f8 eval (cpu) == the trainer's own integer evaluation of its exported model: 10000 images, identical int32 logits"
head -c $((GRAPH_IMAGES * 40)) "$OUT/cpu-logits.bin" | cmp - "$OUT/graph-logits.bin"
echo "cpu == graph (sim/'s reference kernels, unfused): $GRAPH_IMAGES images, identical int32 logits"
head -c "$bytes" "$OUT/cpu-logits.bin" | cmp - "$OUT/rtl-logits.bin"
echo "$DEVICE == cpu: $RTL_IMAGES images, identical int32 logits"

say "6. placement, profile, a few images"
"$F8" eval "$M" --backend auto --placement --limit 16 > "$OUT/placement.txt" 2>/dev/null
sed -n '/^placement/,/^integer top-1/p' "$OUT/placement.txt" | grep -v '^integer top-1'
"$F8" profile "$M" --backend "$DEVICE" --batch 8 --svg "$OUT/profile.svg" > "$OUT/profile.txt"
cat "$OUT/profile.txt"
D=/usr/share/datasets/fashion-mnist
"$F8" run "$M" --idx "$D/t10k-images-idx3-ubyte.gz" --labels "$D/t10k-labels-idx1-ubyte.gz" \
	--limit 5 --backend cpu > "$OUT/run.txt" 2>/dev/null
cat "$OUT/run.txt"

fp_acc=$(awk -F, 'END { printf "%.2f", 100 * $6 }' "$OUT/fp/log.csv")
fq_acc=$(awk -F, 'END { printf "%.2f", 100 * $6 }' "$OUT/q8/log.csv")
int_acc=$(sed -n 's/^integer top-1: *\([0-9.]*\) %.*/\1/p' "$OUT/cpu.eval")
rtl_acc=$(sed -n 's/^integer top-1: *\([0-9.]*\) %.*/\1/p' "$OUT/rtl.eval")
dt=$(($(date +%s) - t0))

say "accuracy on the Fashion-MNIST test set"
cat <<EOF | tee "$OUT/accuracy.txt"
| model | arithmetic | top-1 |
|---|---|---|
| $MODEL float32, $EPOCHS epochs | float | $fp_acc % |
| $MODEL F8Net, fake quantization (the trainer's simulation) | float | $fq_acc % |
| $MODEL F8Net integer, CPU path (10 000 images) | 8x8-bit multiplies, shifts | $int_acc % |
| $MODEL F8Net integer, $DEVICE RTL ($RTL_IMAGES images) | the same, on the Verilated RTL | $rtl_acc % |
EOF

# The HTML report: the tables as text, the SVG charts inline by reference.
esc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
cp "$OUT/fp/curves.svg" "$OUT/curves-fp.svg"
cp "$OUT/q8/curves.svg" "$OUT/curves-q8.svg"
{
	echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>f8npu demo</title>"
	echo "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}pre{background:#f4f4f4;padding:8px;overflow-x:auto;font-size:12px}</style></head><body>"
	echo "<h1>f8npu demo: $MODEL on Fashion-MNIST, float to 8-bit integer to the RTL</h1>"
	echo "<p>Made by <code>make demo</code> in $dt s. Every integer result below comes from 8-bit x 8-bit multiplications and shifts only, and all of them are the same int32 logits, bit for bit.</p>"
	echo "<h2>Accuracy</h2><pre>"; esc < "$OUT/accuracy.txt"; echo "</pre>"
	echo "<p>Bit-exactness: CPU path = the trainer's integer evaluation on 10 000 images; sim/'s reference kernels = CPU path on $GRAPH_IMAGES images; $DEVICE RTL = CPU path on $RTL_IMAGES images.</p>"
	echo "<h2>Training</h2><p>Float:</p><img src=\"curves-fp.svg\" width=\"960\"><p>F8Net quantization-aware training:</p><img src=\"curves-q8.svg\" width=\"960\">"
	echo "<h2>Per-layer profile on $DEVICE</h2><img src=\"profile.svg\" width=\"960\"><pre>"; esc < "$OUT/profile.txt"; echo "</pre>"
	echo "<h2>Placement</h2><pre>"; sed -n '/^placement/,/^integer top-1/p' "$OUT/placement.txt" | grep -v '^integer top-1' | esc; echo "</pre>"
	echo "<h2>Compiled stream (ref:16x16, batch 8)</h2><pre>"; esc < "$OUT/stream.txt"; echo "</pre>"
	echo "<h2>A few test images</h2><pre>"; esc < "$OUT/run.txt"; echo "</pre>"
	echo "</body></html>"
} > "$OUT/report.html.part"
mv "$OUT/report.html.part" "$OUT/report.html"
say "done: $OUT/report.html"
