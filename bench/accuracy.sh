#!/bin/sh
# SPDX-License-Identifier: MIT
# The accuracy table (docs/results/accuracy.md): on the Fashion-MNIST test set, for ResNet-20
# and MobileNetV2-small,
#   FP32 (plain)                f8 train, 15 epochs
#   F8Net, no training          f8 export (BN folded, FLs calibrated on 1024 images)
#   F8Net tiny fine-tuning      f8 finetune (500 fake-quantized steps) + f8 export
#   int32-multiplier PTQ        f8 baseline (the dyadic scheme F8Net argues against)
# and, for raw-input entries (F8Net's conventional mode feeds FL-8 pixels),
#   FP32 (PACT-clipped)         f8 train --pact, PFP_EPOCHS epochs (F8Net's FP baseline)
#   F8Net conventional          f8 train --quant f8net --from that, Q_EPOCHS epochs at Q_LR
#   ... and from the plain FP32 checkpoint (alphas start at 8), QP_EPOCHS epochs
# each integer F8Net model evaluated by f8 eval (integer arithmetic on sim/'s reference
# kernels) beside its float checkpoint. A step whose output exists is skipped, and an
# output exists only once its step succeeded, so an interrupted run resumes (a float run
# from its last epoch).
#
#   bench/accuracy.sh [F8] [RUNS_DIR]      STEPS=500 MODELS="model:prefix:epochs:input ..."
#                                          PFP_EPOCHS=8 Q_EPOCHS=4 QP_EPOCHS=8 Q_LR=0.02
#
# MODELS lists model:prefix:epochs:input[:pfp:q:qp:steps] entries, input "norm" (the image
# normalised by the dataset's mean and std) or "raw" (p / 256, F8Net's FL-8 pixels: f8 train
# --raw-input); pfp, q, qp and steps override PFP_EPOCHS, Q_EPOCHS, QP_EPOCHS and STEPS for
# that model (qp 0: no run from the plain FP32 checkpoint).
# The default, every row of issue 10, takes about five hours on a 2-core machine.
set -eu
F8=${1:-build/f8}
RUNS=${2:-runs/accuracy}
STEPS=${STEPS:-500}
PFP_EPOCHS=${PFP_EPOCHS:-8}
Q_EPOCHS=${Q_EPOCHS:-4}
QP_EPOCHS=${QP_EPOCHS:-8}
Q_LR=${Q_LR:-0.02}
MODELS=${MODELS:-"resnet20:r20raw:6:raw resnet20:r20:15:norm mobilenetv2-small:mbv2raw:6:raw:4:2:0:150"}
OUT=docs/results/accuracy.md
CURVES=docs/results/curves
mkdir -p "$RUNS" docs/results "$CURVES"
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
differs() { sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$1"; }

# train DIR EPOCHS args...: a new run into DIR, or the rest of an interrupted one
train() {
	d=$1
	e=$2
	shift 2
	if [ -f "$d/ckpt.f8c" ]; then
		if [ $(($(wc -l < "$d/log.csv") - 1)) -lt "$e" ]; then
			"$F8" train --resume "$d/ckpt.f8c" --epochs "$e"
		fi
	else
		"$F8" train "$@" --epochs "$e" --out "$d"
	fi
}

# the last epoch's test accuracy (%) and the mean epoch time (s) of a run
last_acc() { awk -F, 'END { printf "%.2f", 100 * $6 }' "$1/log.csv"; }
epoch_time() { awk -F, 'NR > 1 { s += $(NF - 1); n++ } END { if (n) printf "%.0f", s / n }' "$1/log.csv"; }

# curves NAME RUN: the run's training curves beside the table, linked from it
curves() {
	cp "$2/curves.svg" "$CURVES/$1.svg.part" && mv "$CURVES/$1.svg.part" "$CURVES/$1.svg"
	cp "$2/log.csv" "$CURVES/$1.csv.part" && mv "$CURVES/$1.csv.part" "$CURVES/$1.csv"
	plots="$plots [$1]($(basename "$CURVES")/$1.svg)"
}

# the F8Net conventional chain of a raw-input model: its rows and details
pact_chain() {
	model=$1
	p=$2
	pfp_e=$3
	q_e=$4
	qp_e=$5
	quants=q8
	[ "$qp_e" -gt 0 ] && quants="q8 q8p"
	train "$p-pfp" "$pfp_e" --model "$model" --pact
	train "$p-q8" "$q_e" --quant f8net --from "$p-pfp/ckpt.f8c" --lr "$Q_LR" --warmup 0.5
	[ "$qp_e" -gt 0 ] && train "$p-q8p" "$qp_e" --quant f8net --from "$p-fp/ckpt.f8c" --lr "$Q_LR" --warmup 0.5
	for q in $quants; do
		step "$p-$q.layers" "$F8" export "$p-$q/ckpt.f8c" --out "$p-$q.f8m"
		step "$p-$q.eval" "$F8" eval "$p-$q.f8m" --compare-fq "$p-$q/ckpt.f8c"
	done
	curves "$(basename "$p")-pfp" "$p-pfp"
	curves "$(basename "$p")-q8" "$p-q8"
	rows="$rows
| $model (raw input) | FP32 (PACT-clipped, F8Net's floating mode), $pfp_e epochs, $(epoch_time "$p-pfp") s/epoch | $(last_acc "$p-pfp") % | – | \`f8 train --model $model --pact --epochs $pfp_e\` |
| $model (raw input) | **F8Net 8-bit conventional** (from the PACT FP32 model, $q_e epochs, $(epoch_time "$p-q8") s/epoch) | **$(pct integer "$p-q8.eval") %** | $(differs "$p-q8.eval") (vs its fake quantization, $(pct fake-quant "$p-q8.eval") %) | \`f8 train --quant f8net --from PFP --epochs $q_e --lr $Q_LR --warmup 0.5\` |"
	details="$details

### $model (raw input): F8Net conventional from the PACT FP32 model, fractional lengths and clip levels

\`\`\`
$(cat "$p-q8.layers")
\`\`\`"
	[ "$qp_e" -gt 0 ] || return 0
	curves "$(basename "$p")-q8p" "$p-q8p"
	rows="$rows
| $model (raw input) | **F8Net 8-bit conventional** from the plain FP32 model (alphas start at 8; $qp_e epochs, $(epoch_time "$p-q8p") s/epoch) | **$(pct integer "$p-q8p.eval") %** | $(differs "$p-q8p.eval") (vs its fake quantization, $(pct fake-quant "$p-q8p.eval") %) | \`f8 train --quant f8net --from FP --epochs $qp_e --lr $Q_LR --warmup 0.5\` |"
	details="$details

### $model (raw input): F8Net conventional from the plain FP32 model, fractional lengths and clip levels

\`\`\`
$(cat "$p-q8p.layers")
\`\`\`"
}

rows=""
details=""
plots=""
for m in $MODELS; do
	IFS=: read -r model prefix EPOCHS input pfp_epochs q_epochs qp_epochs ft_steps <<SPEC
$m
SPEC
	p=$RUNS/$prefix
	fp=$p-fp
	raw=""
	[ "$input" = raw ] && raw=--raw-input
	train "$fp" "$EPOCHS" --model "$model" $raw
	curves "$prefix-fp" "$fp"
	step "$p-ptq.layers" "$F8" export "$fp/ckpt.f8c" --out "$p-ptq.f8m"
	step "$p-ptq.eval" "$F8" eval "$p-ptq.f8m" --compare "$fp/ckpt.f8c"
	step "$p-dyadic.eval" "$F8" baseline "$fp/ckpt.f8c"
	steps=${ft_steps:-$STEPS}
	[ -f "$p-ft/ckpt.f8c" ] || "$F8" finetune "$fp/ckpt.f8c" --out "$p-ft" --steps "$steps"
	step "$p-ft.layers" "$F8" export "$p-ft/ckpt.f8c" --out "$p-ft.f8m"
	step "$p-ft.eval" "$F8" eval "$p-ft.f8m" --compare "$p-ft/ckpt.f8c"
	step "$p-fq.eval" "$F8" eval "$p-ft.f8m" --compare-fq "$p-ft/ckpt.f8c"

	fp_acc=$(pct float "$p-ptq.eval")
	epoch_s=$(epoch_time "$fp")
	rows="$rows
| $model ($input input) | FP32 (plain), $EPOCHS epochs, ${epoch_s} s/epoch | $fp_acc % | – | \`f8 train --model $model $raw --epochs $EPOCHS\` |
| $model ($input input) | F8Net 8-bit, no training (BN folded, FLs calibrated) | $(pct integer "$p-ptq.eval") % | $(sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$p-ptq.eval") | \`f8 export\`, \`f8 eval\` |
| $model ($input input) | F8Net 8-bit, tiny fine-tuning ($steps steps; its float model: $(pct float "$p-ft.eval") %) | $(pct integer "$p-ft.eval") % | $(sed -n 's/^top-1 differs.* on \([0-9]*\) images.*/\1/p' "$p-ft.eval") | \`f8 finetune\`, \`f8 export\`, \`f8 eval\` |
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
	[ "$input" = raw ] && pact_chain "$model" "$p" "${pfp_epochs:-$PFP_EPOCHS}" \
		"${q_epochs:-$Q_EPOCHS}" "${qp_epochs:-$QP_EPOCHS}"
done

cat > "$OUT.part" <<MD
# Accuracy: F8Net on Fashion-MNIST (written by bench/accuracy.sh)

Fashion-MNIST test set (10 000 images), 2-core machine. Integer rows are top-1 of the exported
\`.f8m\` model run by \`f8 eval\`: 8-bit x 8-bit multiplications, int32 accumulation and shifts
only, on the reference kernels of \`sim/\` (the functional model's code). "Differs" counts the test
images whose top-1 differs from the float checkpoint the integer model was exported from.

| model | variant | top-1 | differs | commands |
|---|---|---|---|---|$rows

Models of this run: \`MODELS="$MODELS"\`; PACT chain \`PFP_EPOCHS=$PFP_EPOCHS Q_EPOCHS=$Q_EPOCHS QP_EPOCHS=$QP_EPOCHS Q_LR=$Q_LR\` unless an entry's
own \`:pfp:q:qp\` epochs say otherwise.
F8Net's conventional rows are raw-input only: the first layer takes FL-8 pixels. Their
"differs" column compares the integer model with the fake-quantized network it was exported
from (the float simulation of the same arithmetic). Epoch times were measured while other
jobs shared the machine.

Training curves (loss and accuracy per epoch, from each run's log):$plots Run time of this script: $(( $(date +%s) - t0 )) s (steps already done are
skipped).
$details
MD
mv "$OUT.part" "$OUT"
echo "accuracy: wrote $OUT"
