#!/bin/sh
# SPDX-License-Identifier: MIT
# The accuracy table (docs/results/accuracy.md): on the Fashion-MNIST test set, for ResNet-20
# and MobileNetV2-small,
#   FP32 (plain)                f8 train, 15 epochs
#   F8Net, no training          f8 export (BN folded, FLs calibrated on 1024 images)
#   F8Net tiny fine-tuning      f8 finetune (500 fake-quantized steps) + f8 export
#   int32-multiplier PTQ        f8 baseline (the dyadic scheme F8Net argues against)
# each integer F8Net model evaluated by f8 eval (integer arithmetic on sim/'s reference
# kernels) beside its float checkpoint. A step whose output exists is skipped, and an
# output exists only once its step succeeded, so an interrupted run resumes (a float run
# from its last epoch).
#
#   bench/accuracy.sh [F8] [RUNS_DIR]      STEPS=500 MODELS="model:prefix:epochs:input ..."
#
# MODELS lists model:prefix:epochs:input entries, input "norm" (the image normalised by the
# dataset's mean and std) or "raw" (p / 256, F8Net's FL-8 pixels: f8 train --raw-input).
# The default, every row of issue 10, takes several hours on a 2-core machine.
set -eu
F8=${1:-build/f8}
RUNS=${2:-runs/accuracy}
STEPS=${STEPS:-500}
MODELS=${MODELS:-"resnet20:r20:15:norm resnet20:r20raw:15:raw mobilenetv2-small:mbv2:15:norm"}
OUT=docs/results/accuracy.md
mkdir -p "$RUNS" docs/results
t0=$(date +%s)

# step FILE command...: run the command unless FILE exists; its stdout becomes FILE only
# when it succeeds (an interrupted step is redone, never taken as done)
step() {
	f=$1
	shift
	[ -f "$f" ] && return 0
	"$@" > "$f.part" && mv "$f.part" "$f"
}

pct() { sed -n "s/^$1 *top-1: *\([0-9.]*\) %.*/\1/p" "$2"; }

rows=""
details=""
for m in $MODELS; do
	IFS=: read -r model prefix EPOCHS input <<SPEC
$m
SPEC
	p=$RUNS/$prefix
	fp=$p-fp
	raw=""
	[ "$input" = raw ] && raw=--raw-input
	if [ -f "$fp/ckpt.f8c" ]; then
		if [ $(($(wc -l < "$fp/log.csv") - 1)) -lt "$EPOCHS" ]; then
			"$F8" train --resume "$fp/ckpt.f8c" --epochs "$EPOCHS"
		fi
	else
		"$F8" train --model "$model" $raw --epochs "$EPOCHS" --out "$fp"
	fi
	step "$p-ptq.layers" "$F8" export "$fp/ckpt.f8c" --out "$p-ptq.f8m"
	step "$p-ptq.eval" "$F8" eval "$p-ptq.f8m" --compare "$fp/ckpt.f8c"
	step "$p-dyadic.eval" "$F8" baseline "$fp/ckpt.f8c"
	[ -f "$p-ft/ckpt.f8c" ] || "$F8" finetune "$fp/ckpt.f8c" --out "$p-ft" --steps "$STEPS"
	step "$p-ft.layers" "$F8" export "$p-ft/ckpt.f8c" --out "$p-ft.f8m"
	step "$p-ft.eval" "$F8" eval "$p-ft.f8m" --compare "$p-ft/ckpt.f8c"
	step "$p-fq.eval" "$F8" eval "$p-ft.f8m" --compare-fq "$p-ft/ckpt.f8c"

	fp_acc=$(pct float "$p-ptq.eval")
	epoch_s=$(awk -F, 'NR > 1 { s += $(NF - 1); n++ } END { if (n) printf "%.0f", s / n }' "$fp/log.csv")
	rows="$rows
| $model ($input input) | FP32 (plain), $EPOCHS epochs, ${epoch_s} s/epoch | $fp_acc % | – | \`f8 train --model $model $raw --epochs $EPOCHS\` |
| $model ($input input) | F8Net 8-bit, no training (BN folded, FLs calibrated) | $(pct integer "$p-ptq.eval") % | $(sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$p-ptq.eval") | \`f8 export\`, \`f8 eval\` |
| $model ($input input) | F8Net 8-bit, tiny fine-tuning ($STEPS steps; its float model: $(pct float "$p-ft.eval") %) | $(pct integer "$p-ft.eval") % | $(sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$p-ft.eval") | \`f8 finetune\`, \`f8 export\`, \`f8 eval\` |
| $model ($input input) | the fine-tuned model in fake quantization (float simulation, the model's FLs) | $(pct fake-quant "$p-fq.eval") % | $(sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$p-fq.eval") (vs integer) | \`f8 eval --compare-fq\` |
| $model ($input input) | int32-multiplier PTQ (per-channel, dyadic; CPU only) | $(pct dyadic "$p-dyadic.eval") % | | \`f8 baseline\` |"
	details="$details

### $model ($input input): fractional lengths of the untrained 8-bit model

\`\`\`
$(cat "$p-ptq.layers")
\`\`\`

### $model ($input input): fractional lengths after tiny fine-tuning

\`\`\`
$(cat "$p-ft.layers")
\`\`\`"
done

cat > "$OUT.part" <<MD
# Accuracy: F8Net on Fashion-MNIST (written by bench/accuracy.sh)

Fashion-MNIST test set (10 000 images), 2-core machine. Integer rows are top-1 of the exported
\`.f8m\` model run by \`f8 eval\`: 8-bit x 8-bit multiplications, int32 accumulation and shifts
only, on the reference kernels of \`sim/\` (the functional model's code). "Differs" counts the test
images whose top-1 differs from the float checkpoint the integer model was exported from.

| model | variant | top-1 | differs | commands |
|---|---|---|---|---|$rows

Models of this run: \`MODELS="$MODELS"\` (the default adds MobileNetV2-small, whose float
training takes hours on 2 cores). Not yet measured: FP32 with PACT clipping and F8Net's
conventional (PACT) training; see docs/f8net.md. Epoch times were measured while other jobs
shared the machine. Run time of this script: $(( $(date +%s) - t0 )) s (steps already done are
skipped).
$details
MD
mv "$OUT.part" "$OUT"
echo "accuracy: wrote $OUT"
