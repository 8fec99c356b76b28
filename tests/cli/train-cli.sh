#!/bin/sh
# SPDX-License-Identifier: MIT
# `f8 train` and `f8 model` from the command line (docs/train.md): every bad option is
# refused with exit status 1 and a message naming it; a missing dataset directory and a
# corrupt checkpoint give clear errors; a tiny run writes ckpt.f8c, log.csv and
# curves.svg, and --resume extends it. Run by `make train-cli` (mk/train.mk).
#
#   tests/cli/train-cli.sh [F8_BINARY]
set -u

F8=${1:-build/f8}
T=$(mktemp -d /tmp/f8-train-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli-lib.sh"

[ -x "$F8" ] || { echo "train-cli: $F8 not built"; exit 1; }

cat >"$T/tiny.arch" <<'ARCH'
f8arch 1
x = input c=1 h=28 w=28
c1 = conv x out=8 k=3 s=2 p=1
b1 = bn c1
r1 = relu b1
c2 = conv r1 out=16 k=3 s=2 p=1
b2 = bn c2
r2 = relu b2
g = avgpool r2 k=global
fc = linear g out=10
ARCH
TINY="--model $T/tiny.arch --train-limit 256 --test-limit 128 --batch 32 --threads 2"

# ---- option validation ----
expect_usage "unknown option '--bogus' (f8 train --help)" train --bogus
expect_usage "unexpected argument 'resnet20' (f8 train --help)" train resnet20
expect_usage "--epochs needs a value (f8 train --help)" train --model resnet20 --out "$T/o" --epochs
expect_usage "--epochs '0'" train --model resnet20 --out "$T/o" --epochs 0
expect_usage "--epochs '3x'" train --model resnet20 --out "$T/o" --epochs 3x
expect_usage "--epochs ' 3'" train --model resnet20 --out "$T/o" --epochs " 3"
expect_usage "--epochs '99999999999999999999'" train --model resnet20 --out "$T/o" --epochs 99999999999999999999
expect_usage "--batch 'abc'" train --model resnet20 --out "$T/o" --batch abc
expect_usage "--batch '0'" train --model resnet20 --out "$T/o" --batch 0
expect_usage "--lr '-0.1'" train --model resnet20 --out "$T/o" --lr -0.1
expect_usage "--lr 'nan'" train --model resnet20 --out "$T/o" --lr nan
expect_usage "--lr '0.1.2'" train --model resnet20 --out "$T/o" --lr 0.1.2
expect_usage "--lr '0': expected a number in (0, 100]" train --model resnet20 --out "$T/o" --lr 0
expect_usage "final learning rate" train --model resnet20 --out "$T/o" --lr 0.1 --final-lr 0.2
expect_usage "warm-up" train --model resnet20 --out "$T/o" --epochs 2 --warmup 3
expect_usage "--momentum '1.5'" train --model resnet20 --out "$T/o" --momentum 1.5
expect_usage "--momentum '1': expected a number in [0, 1)" train --model resnet20 --out "$T/o" --momentum 1
expect_usage "--wd '-1'" train --model resnet20 --out "$T/o" --wd -1
expect_usage "--threads '0'" train --model resnet20 --out "$T/o" --threads 0
expect_usage "--seed '-3'" train --model resnet20 --out "$T/o" --seed -3
expect_usage "--crop-pad '17'" train --model resnet20 --out "$T/o" --crop-pad 17
expect_usage "--hflip contradicts --no-augment" train --model resnet20 --out "$T/o" --hflip --no-augment
expect_usage "--batch given twice" train --model resnet20 --out "$T/o" --batch 8 --batch 16
expect_usage "--model: empty value" train --model "" --out "$T/o"
expect_usage "--model NAME|FILE is required" train --out "$T/o"
expect_usage "--out DIR is required" train --model resnet20
expect_usage "neither a file nor a built-in model" train --model no-such-net --out "$T/o"
expect_usage "Nesterov momentum needs momentum > 0" train --model resnet20 --out "$T/o" --momentum 0
# getopt_long: an option refused is one line naming it, with a pointer to --help; a unique
# prefix and --opt=VALUE are taken, and the value goes through the same checks.
expect_line() {
	expect_usage "$@"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "f8 $*: not one line: $(head -c 300 "$T/err")"
}
expect_line "f8 train: unknown option '--bogus' (f8 train --help)" train --model resnet20 --bogus --out "$T/o"
expect_line "f8 train: --out needs a value (f8 train --help)" train --model resnet20 --out
expect_line "f8 train: ambiguous option '--h': --hflip, --help (f8 train --help)" train --h
expect_line "f8 train: --hflip takes no value ('--hflip=1') (f8 train --help)" train --model resnet20 --out "$T/o" --hflip=1
expect_line "f8 train: unexpected argument 'x' (f8 train --help)" train --model resnet20 --out "$T/o" -- x
expect_line "f8 train: unknown option '-x' (f8 train --help)" train -x
expect_usage "--batch '0'" train --model resnet20 --out "$T/o" --batch=0
expect_usage "--epochs '0'" train --model resnet20 --out "$T/o" --ep 0
expect_usage "--batch given twice" train --model resnet20 --out "$T/o" --batch=8 --batch 16
expect_usage "--model: empty value" train --model= --out "$T/o"
expect_ok train --help
grep -q "^usage: f8 train" "$T/out" || fail "f8 train --help: no usage on stdout"

# ---- missing or wrong data, bad checkpoints ----
expect_usage "--data $T/none" train $TINY --epochs 1 --out "$T/o" --data "$T/none"
mkdir -p "$T/empty"
expect_usage "train-images-idx3-ubyte.gz: not found" train $TINY --epochs 1 --out "$T/o" --data "$T/empty"
head -c 5000 /dev/urandom >"$T/corrupt.f8c"
expect_usage "cannot resume from $T/corrupt.f8c" train --resume "$T/corrupt.f8c" --out "$T/o"
expect_usage "cannot resume from $T/absent.f8c" train --resume "$T/absent.f8c" --out "$T/o"

# ---- a tiny run ----
expect_ok train $TINY --epochs 2 --out "$T/run"
for f in ckpt.f8c log.csv curves.svg; do
	[ -s "$T/run/$f" ] || fail "tiny run: no $T/run/$f"
done
[ "$(grep -c '^epoch ' "$T/out")" -eq 2 ] || fail "tiny run: not 2 epoch lines: $(cat "$T/out")"
[ "$(wc -l <"$T/run/log.csv")" -eq 3 ] || fail "log.csv: not 3 lines"
head -n 1 "$T/run/log.csv" | grep -qx 'epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s' ||
	fail "log.csv: header"
awk -F, 'NR > 1 && (NF != 8 || $1 != NR - 1 || $3 + 0 <= 0 || $4 < 0 || $4 > 1) { bad = 1 } END { exit bad }' \
	"$T/run/log.csv" || fail "log.csv: bad rows: $(cat "$T/run/log.csv")"
tail -n 1 "$T/run/curves.svg" | grep -qx '</svg>' || fail "curves.svg: no closing tag"
ls "$T/run" | grep -q tmp && fail "temporary files left in $T/run"
n=$((n + 1))

# Refuse to overwrite, refuse a changed configuration or another model on resume.
expect_usage "exists: continue it with --resume" train $TINY --epochs 2 --out "$T/run"
expect_usage "--lr cannot be combined with --resume" train --resume "$T/run/ckpt.f8c" --lr 0.5
expect_usage "conflicts with the checkpoint" train --resume "$T/run/ckpt.f8c" --model resnet20
expect_usage "already done 2 epochs" train --resume "$T/run/ckpt.f8c" --epochs 1
# A truncated copy of a good checkpoint.
head -c 2000 "$T/run/ckpt.f8c" >"$T/trunc.f8c"
expect_usage "cannot resume from $T/trunc.f8c" train --resume "$T/trunc.f8c" --out "$T/o"
# Extend the run by one epoch: the log keeps the first two.
expect_ok train --resume "$T/run/ckpt.f8c" --model "$T/tiny.arch" --epochs 3
[ "$(wc -l <"$T/run/log.csv")" -eq 4 ] || fail "resumed log.csv: not 4 lines: $(cat "$T/run/log.csv")"
grep -q "resuming" "$T/out" || fail "resume: no 'resuming' line"
expect_ok train --resume "$T/run/ckpt.f8c"
grep -q "the run is complete" "$T/out" || fail "complete run: no message"

# ---- f8 model ----
expect_ok model "$T/tiny.arch"
grep -q "10 classes" "$T/out" || fail "f8 model: no totals line: $(tail -n 2 "$T/out")"
expect_ok model --list
grep -q resnet20 "$T/out" || fail "f8 model --list: no resnet20"
expect_usage "neither a file nor a built-in model" model no-such-net
expect_line "f8 model: unknown option '--bogus' (f8 model --help)" model --bogus
expect_line "f8 model: --batch needs a value (f8 model --help)" model resnet20 --batch
expect_line "f8 model: one model at a time ('resnet20' and 'resnet8')" model resnet20 --batch 2 resnet8
expect_usage "--threads '0'" model resnet20 --batch 2 --threads=0
expect_ok model --help
grep -q "^usage: f8 model" "$T/out" || fail "f8 model --help: no usage on stdout"

if [ $fails -ne 0 ]; then
	echo "train-cli: $fails of $n checks failed"
	exit 1
fi
echo "train-cli: $n checks passed"
