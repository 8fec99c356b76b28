#!/bin/sh
# SPDX-License-Identifier: MIT
# The accuracy table (docs/results/accuracy.md): on the Fashion-MNIST test set, ResNet-20
#   FP32 (plain)                f8 train, 15 epochs
#   F8Net, no training          f8 export (BN folded, FLs calibrated on 1024 images)
#   F8Net tiny fine-tuning      f8 finetune (500 fake-quantized steps) + f8 export
#   int32-multiplier PTQ        f8 baseline (the dyadic scheme F8Net argues against)
# each integer model evaluated by f8 eval (integer arithmetic on sim/'s reference kernels)
# beside its float checkpoint. Every step is skipped when its output exists, so an
# interrupted run resumes (a float run resumes from its last epoch).
#
#   bench/accuracy.sh [F8] [RUNS_DIR]      EPOCHS=15 STEPS=500 change the budget
set -eu
F8=${1:-build/f8}
RUNS=${2:-runs/accuracy}
EPOCHS=${EPOCHS:-15}
STEPS=${STEPS:-500}
OUT=docs/results/accuracy.md
mkdir -p "$RUNS"
t0=$(date +%s)

fp=$RUNS/r20-fp
if [ -f "$fp/ckpt.f8c" ]; then
	done_epochs=$(($(wc -l < "$fp/log.csv") - 1))
	if [ "$done_epochs" -lt "$EPOCHS" ]; then
		"$F8" train --resume "$fp/ckpt.f8c" --epochs "$EPOCHS"
	fi
else
	"$F8" train --model resnet20 --epochs "$EPOCHS" --out "$fp"
fi
# step FILE command...: run the command unless FILE exists; its stdout becomes FILE only
# when it succeeds (an interrupted step is redone, never taken as done)
step() {
	f=$1
	shift
	[ -f "$f" ] && return 0
	"$@" > "$f.part" && mv "$f.part" "$f"
}
step "$RUNS/r20-ptq.layers" "$F8" export "$fp/ckpt.f8c" --out "$RUNS/r20-ptq.f8m"
step "$RUNS/r20-ptq.eval" "$F8" eval "$RUNS/r20-ptq.f8m" --compare "$fp/ckpt.f8c"
step "$RUNS/r20-dyadic.eval" "$F8" baseline "$fp/ckpt.f8c"
[ -f "$RUNS/r20-ft/ckpt.f8c" ] || "$F8" finetune "$fp/ckpt.f8c" --out "$RUNS/r20-ft" --steps "$STEPS"
step "$RUNS/r20-ft.layers" "$F8" export "$RUNS/r20-ft/ckpt.f8c" --out "$RUNS/r20-ft.f8m"
step "$RUNS/r20-ft.eval" "$F8" eval "$RUNS/r20-ft.f8m" --compare "$RUNS/r20-ft/ckpt.f8c"

pct() { sed -n "s/^$1 *top-1: *\([0-9.]*\) %.*/\1/p" "$2"; }
fp_acc=$(pct float "$RUNS/r20-ptq.eval")
ptq_acc=$(pct integer "$RUNS/r20-ptq.eval")
ft_acc=$(pct integer "$RUNS/r20-ft.eval")
ft_float=$(pct float "$RUNS/r20-ft.eval")
dy_acc=$(pct dyadic "$RUNS/r20-dyadic.eval")
ptq_diff=$(sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$RUNS/r20-ptq.eval")
epoch_s=$(awk -F, 'NR > 1 { s += $(NF - 1); n++ } END { if (n) printf "%.0f", s / n }' "$fp/log.csv")

mkdir -p docs/results
cat > "$OUT" <<MD
# Accuracy: F8Net on Fashion-MNIST (written by bench/accuracy.sh)

ResNet-20 (28x28x1, 16/32/64 channels), Fashion-MNIST test set (10 000 images). Integer rows are
top-1 of the exported \`.f8m\` model run by \`f8 eval\`: 8-bit x 8-bit multiplications, int32
accumulation and shifts only, on the reference kernels of \`sim/\` (the functional model's code).

| model | top-1 | float top-1 of the same checkpoint | command |
|---|---|---|---|
| FP32 (plain) | $fp_acc % | – | \`f8 train --model resnet20 --epochs $EPOCHS\` |
| F8Net 8-bit, no training (BN folded, FLs calibrated) | $ptq_acc % | $fp_acc % | \`f8 export\` + \`f8 eval\` |
| F8Net 8-bit, tiny fine-tuning ($STEPS steps) | $ft_acc % | $ft_float % | \`f8 finetune --steps $STEPS\` + \`f8 export\` + \`f8 eval\` |
| int32-multiplier PTQ (per-channel weights, dyadic requantization; CPU only) | $dy_acc % | $fp_acc % | \`f8 baseline\` |
| FP32 (PACT-clipped), F8Net conventional (PACT), MobileNetV2-small | not yet | | see docs/f8net.md |

- The float model and the untrained 8-bit model disagree on $ptq_diff of 10 000 test images.
- Float training: $EPOCHS epochs, mean $epoch_s s per epoch on this 2-core machine (\`$fp/log.csv\`).
- Run time of this script: $(( $(date +%s) - t0 )) s (steps already done are skipped).

## Fractional lengths of the untrained 8-bit model (\`f8 export\`)

\`\`\`
$(cat "$RUNS/r20-ptq.layers")
\`\`\`

## Fractional lengths after tiny fine-tuning

\`\`\`
$(cat "$RUNS/r20-ft.layers")
\`\`\`
MD
echo "accuracy: wrote $OUT"
