#!/bin/sh
# SPDX-License-Identifier: MIT
# `f8 export`, `f8 eval`, `f8 finetune` from the command line (docs/f8net.md): every bad
# option and file is refused with exit status 1 and a message naming it; a tiny float run
# is fine-tuned, exported and evaluated; its logits file holds exactly the int32 logits
# whose argmax gives the printed top-1, and a corrupt or truncated model is refused.
# Run by `make quant-cli` (part of make check).
#
#   tests/cli/quant-cli.sh [F8_BINARY]
set -u

F8=${1:-build/f8}
T=$(mktemp -d /tmp/f8-quant-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli-lib.sh"

[ -x "$F8" ] || { echo "quant-cli: $F8 not built"; exit 1; }

cat >"$T/tiny.arch" <<'ARCH'
f8arch 1
x = input c=1 h=28 w=28
c1 = conv x out=8 k=3 s=2 p=1
b1 = bn c1
r1 = relu b1
c2 = conv r1 out=8 k=3 s=1 p=1
b2 = bn c2
s = add b2 r1
r2 = relu s
g = avgpool r2 k=global
fc = linear g out=10
ARCH

# ---- options ----
expect_usage "need one checkpoint and --out" export
expect_usage "need one checkpoint and --out" export "$T/none.f8c"
expect_usage "unknown or incomplete option '--bogus'" export x --out y --bogus
expect_usage "--calib '0': expected an integer in [1, 60000]" export x --out y --calib 0
expect_usage "--calib 'ten': expected an integer" export x --out y --calib ten
expect_usage "--fl: 'best' is neither grid nor std" export x --out y --fl best
expect_usage "--batch '2000': expected an integer in [1, 1024]" export x --out y --batch 2000
expect_usage "--name: longer than 23" export x --out y --name abcdefghijklmnopqrstuvwxyz
expect_usage "need one model file" eval
expect_usage "--limit '0': expected an integer in [1, 10000]" eval m --limit 0
expect_usage "--threads '65': expected an integer in [1, 64]" eval m --threads 65
expect_usage "need one checkpoint and --out" finetune x
expect_usage "--steps '0': expected an integer in [1, 1000000]" finetune x --out "$T/ft" --steps 0
expect_usage "--lr '-1': expected a number in (0, 100]" finetune x --out "$T/ft" --lr -1
expect_usage "--batch '1.5': expected an integer in [1, 4096]" finetune x --out "$T/ft" --batch 1.5
expect_usage "--calib ' 5': expected an integer" baseline x --calib " 5"
expect_usage "need one checkpoint" baseline
expect_usage "No such file" export "$T/none.f8c" --out "$T/m.f8m"

# ---- a tiny float run, fine-tuned, exported, evaluated ----
expect_ok train --model "$T/tiny.arch" --train-limit 512 --test-limit 64 --batch 64 --epochs 1 --out "$T/fp"
expect_ok finetune "$T/fp/ckpt.f8c" --out "$T/ft" --steps 4 --batch 32
# another architecture: its layers are not the model's
sed 's/^fc = linear g out=10/fc2 = linear g out=10/' "$T/tiny.arch" > "$T/other.arch"
expect_ok train --model "$T/other.arch" --train-limit 128 --test-limit 32 --batch 64 --epochs 1 --out "$T/fp2"
[ -f "$T/ft/ckpt.f8c" ] || fail "finetune wrote no checkpoint"
expect_usage "exists (--force overwrites it)" finetune "$T/fp/ckpt.f8c" --out "$T/ft" --steps 4
expect_ok export "$T/ft/ckpt.f8c" --out "$T/m.f8m" --calib 256
grep -q "^1 .*conv.*relu" "$T/out" || fail "export printed no layer table: $(head -c 300 "$T/out")"
expect_ok eval "$T/m.f8m" --limit 200 --logits "$T/logits.bin" --compare "$T/ft/ckpt.f8c"
grep -q "^integer top-1: " "$T/out" || fail "eval printed no integer top-1"
grep -q "^float top-1: " "$T/out" || fail "eval printed no float top-1"
size=$(wc -c < "$T/logits.bin")
[ "$size" -eq 8000 ] || fail "logits file has $size bytes, want 200 x 10 x 4"
# the printed top-1 is the argmax of the logits written, against the test labels
want=$(sed -n 's/^integer top-1: .*(\([0-9]*\) \/ 200)/\1/p' "$T/out")
got=$(python3 - "$T/logits.bin" <<'PY'
import gzip, struct, sys
raw = open(sys.argv[1], 'rb').read()
lab = gzip.open('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz').read()[8:8 + 200]
hits = 0
for i in range(200):
    v = struct.unpack('<10i', raw[40 * i:40 * i + 40])
    hits += max(range(10), key=lambda k: (v[k], -k)) == lab[i]
print(hits)
PY
)
[ -n "$want" ] && [ "$want" = "$got" ] || fail "printed top-1 count '$want', logits give '$got'"

expect_ok eval "$T/m.f8m" --limit 50 --compare-fq "$T/ft/ckpt.f8c"
grep -q "^top-1 differs between fake-quant and integer on [0-9]* images" "$T/out" ||
	fail "eval --compare-fq printed no disagreement count: $(head -c 300 "$T/out")"
expect_usage "not a quantized layer of the checkpoint" eval "$T/m.f8m" --limit 10 --compare-fq "$T/fp2/ckpt.f8c"

# ---- F8Net conventional training (PACT) ----
expect_usage "--quant f8net trains from a float checkpoint: give --from CKPT" train --quant f8net --out "$T/q"
expect_usage "--quant 'int4': expected f8net" train --quant int4 --from "$T/fp/ckpt.f8c" --out "$T/q"
expect_usage "--from takes the architecture from the checkpoint: drop --model" train --from "$T/fp/ckpt.f8c" --model "$T/tiny.arch" --out "$T/q"
expect_usage "feeds raw pixels (FL 8)" train --quant f8net --from "$T/fp/ckpt.f8c" --out "$T/q" --epochs 1
expect_usage "No such file" train --quant f8net --from "$T/none.f8c" --out "$T/q"
head -c 3000 "$T/fp/ckpt.f8c" > "$T/trunc.f8c"
expect_usage "--from $T/trunc.f8c" train --quant f8net --from "$T/trunc.f8c" --out "$T/q"
[ ! -e "$T/q/ckpt.f8c" ] || fail "a refused --from left a checkpoint"
# F8Net's FP baseline: PACT clipping in floating mode, from scratch
expect_ok train --model "$T/tiny.arch" --pact --train-limit 256 --test-limit 64 --batch 64 --epochs 1 --out "$T/pfp"
expect_ok model "$T/tiny.arch"
python3 - "$T/pfp/ckpt.f8c" <<'PY' || fail "the --pact checkpoint's architecture lacks clip=pact quant=floating input=raw"
import sys
raw = open(sys.argv[1], 'rb').read()
sys.exit(0 if b'clip=pact' in raw and b'quant=floating' in raw and b'input=raw' in raw else 1)
PY
expect_ok train --quant f8net --from "$T/pfp/ckpt.f8c" --train-limit 256 --test-limit 100 --batch 64 --epochs 2 --out "$T/q8"
grep -q "^f8 train: integer top-1 .*(.* / 100)" "$T/out" || fail "the F8Net run printed no integer top-1: $(tail -c 300 "$T/out")"
[ -f "$T/q8/model.f8m" ] && [ -f "$T/q8/int-logits.bin" ] || fail "the F8Net run wrote no model.f8m / int-logits.bin"
# the checkpoint holds the trained quantization: f8 export rebuilds the same integer model,
# and f8 eval of it reproduces the trainer's own integer evaluation bit for bit
expect_ok export "$T/q8/ckpt.f8c" --out "$T/q8m.f8m"
cmp -s "$T/q8/model.f8m" "$T/q8m.f8m" || fail "f8 export of the F8Net checkpoint differs from the trainer's model"
expect_ok eval "$T/q8m.f8m" --limit 100 --logits "$T/q8-logits.bin" --compare-fq "$T/q8/ckpt.f8c"
cmp -s "$T/q8/int-logits.bin" "$T/q8-logits.bin" || fail "f8 eval's logits differ from the trainer's integer evaluation"
grep -q "^fake-quant top-1: " "$T/out" || fail "eval --compare-fq of an F8Net checkpoint printed no fake-quant top-1"
# the eval-mode simulation is the integer arithmetic (bias on the accumulator's grid, sums exact)
grep -q "^top-1 differs between fake-quant and integer on 0 images" "$T/out" ||
	fail "fake quantization and the integer model disagree: $(grep differs "$T/out")"
expect_usage "compare with --compare-fq" eval "$T/q8m.f8m" --limit 10 --compare "$T/q8/ckpt.f8c"
# resuming the quantized run keeps its mode (the architecture says quant=f8net)
expect_ok train --resume "$T/q8/ckpt.f8c" --epochs 3
grep -q "^f8 train: integer top-1 " "$T/out" || fail "the resumed F8Net run printed no integer top-1"

# ---- bad model files ----
head -c 100 "$T/m.f8m" > "$T/trunc.f8m"
expect_usage "truncated" eval "$T/trunc.f8m" --limit 10
cp "$T/m.f8m" "$T/flip.f8m"
printf '\377' | dd of="$T/flip.f8m" bs=1 seek=300 conv=notrunc 2>/dev/null
expect_usage "checksum" eval "$T/flip.f8m" --limit 10
printf 'F8QX' > "$T/magic.f8m"
head -c 2000 "$T/m.f8m" | tail -c +5 >> "$T/magic.f8m"
expect_usage "bad magic" eval "$T/magic.f8m" --limit 10
expect_usage "not an f8 integer model" eval "$T/tiny.arch" --limit 10
n=$((n + 1))
mkfifo "$T/fifo"
timeout 10 "$F8" eval "$T/fifo" --limit 10 >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "f8 eval on a FIFO: exit $rc (124 = it blocked)"

echo "quant-cli: $((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
