#!/bin/sh
# SPDX-License-Identifier: MIT
# The f8 tool against hostile and careless input (docs/untrusted-input.md), one block per
# class of defect: arithmetic on accepted values, blocking opens, decoded values that
# flow downstream, announced sizes, output paths, limits, cycle budgets, output errors,
# terminal escapes and number syntax. Every refusal must be exit 1 (3 for a budget) with
# a one-line message, quickly: anything that could block or spin runs under `timeout`.
# Run by `make hostile-cli` on build/f8 and on the ASan/UBSan build (F8_ASAN=1).
#
#   tests/cli/hostile-cli.sh [F8_BINARY]
set -u

F8=${1:-build/f8}
PY=${PYTHON:-/usr/bin/python3}
GEN="$PY $(dirname "$0")/hostile-gen.py"
T=$(mktemp -d /tmp/f8-hostile-XXXXXX)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
fails=0
n=0
ESC=$(printf '\033')

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run SECONDS args...: f8 under a timeout, stdout/stderr to $T/out, $T/err; sets rc.
run() {
	secs=$1
	shift
	n=$((n + 1))
	timeout "$secs" "$F8" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -eq 124 ]; then
		fail "f8 $*: still running after $secs s (blocked or unbounded)"
		return 1
	fi
	# A sanitizer report is a failure whatever the status.
	if grep -q -e "ERROR: AddressSanitizer" -e "runtime error:" -e "ERROR: LeakSanitizer" "$T/err"; then
		fail "f8 $*: sanitizer report: $(grep -m 3 -e ERROR -e "runtime error" "$T/err")"
		return 1
	fi
	return 0
}

# expect STATUS "fragment" SECONDS args...: that exit status, the fragment on stderr, one line.
expect() {
	want_rc=$1
	want=$2
	shift 2
	run "$@" || return
	shift
	if [ $rc -ne "$want_rc" ]; then
		fail "f8 $*: exit $rc, expected $want_rc: $(head -c 300 "$T/err")"
	elif ! grep -qF -- "$want" "$T/err"; then
		fail "f8 $*: stderr lacks '$want': $(head -c 300 "$T/err")"
	fi
}

expect_ok() {
	run "$@" || return
	shift
	[ $rc -eq 0 ] || fail "f8 $*: exit $rc: $(tail -n 3 "$T/err")"
}

[ -x "$F8" ] || { echo "hostile-cli: $F8 not built"; exit 1; }
[ "${F8_ASAN:-0}" = 1 ] && export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

# ---- fixtures: a small set, a tiny model, a checkpoint, streams ----
$GEN idx "$T/data" 64 || exit 1
cat >"$T/tiny.arch" <<'ARCH'
f8arch 1
x = input c=1 h=28 w=28
c1 = conv x out=4 k=3 s=2 p=1
b1 = bn
r1 = relu
g = avgpool k=global
fc = linear out=10
ARCH
RUN="--data $T/data --train-limit 32 --test-limit 16 --batch 16 --threads 2"
expect_ok 120 train --model "$T/tiny.arch" $RUN --epochs 1 --out "$T/run"
[ -s "$T/run/ckpt.f8c" ] || { echo "hostile-cli: no base checkpoint: $(cat "$T/err")"; exit 1; }
cp "$T/run/ckpt.f8c" "$T/base.f8c"
$GEN stream small "$T/small.bin"
$GEN stream big "$T/big.bin"
SMALL="$T/small.bin --zero 0=1024 --zero 1=1152 --zero 2=512"
BIG="$T/big.bin --zero 0=16k --zero 1=1M --zero 2=1M"

# ---- 1. arithmetic on accepted values ----
printf 'f8arch 1\nx = input c=16777216 h=16777216 w=16777216\nfc = linear out=10\n' >"$T/wrap.arch"
expect 1 "more than 1073741824 values per image" 10 model "$T/wrap.arch"
printf 'f8arch 1\nx = input c=4194304 h=2097152 w=2097152\nfc = linear out=10\n' >"$T/zero.arch"
expect 1 "more than 1073741824 values per image" 10 model "$T/zero.arch" --batch 1
# k * k of an average pool leaves int from k = 46341 on; k = 65536 divided by zero.
printf 'f8arch 1\nx = input c=1 h=28 w=28\ng = avgpool k=65536 p=32768\nfc = linear out=10\n' >"$T/kbig.arch"
expect_ok 120 train --model "$T/kbig.arch" $RUN --epochs 1 --out "$T/kbig"
grep -q "train loss [0-9]" "$T/out" || fail "avgpool k=65536: no finite loss: $(cat "$T/out")"

# ---- 2. nothing blocks: FIFOs where files are read ----
mkfifo "$T/fifo" "$T/data-fifo.gz"
expect 1 "not a regular file" 10 model "$T/fifo"
expect 1 "not a regular file" 10 exec "$T/fifo"
expect 1 "not a regular file" 10 exec $SMALL --region 3="$T/fifo"
expect 1 "not a regular file" 10 train --resume "$T/fifo"
mkdir "$T/fifodata"
cp "$T/data/"*labels* "$T/data/t10k-images-idx3-ubyte.gz" "$T/fifodata/"
mkfifo "$T/fifodata/train-images-idx3-ubyte.gz"
expect 1 "not a regular file" 10 train --model "$T/tiny.arch" --data "$T/fifodata" --out "$T/o2"

# ---- 3. decoded values are range-checked; the plot is safe on any finite value ----
$GEN ckpt-loss "$T/base.f8c" "$T/loss.f8c" 1.7e308
expect 1 "train_loss 1.7e+308 is out of range" 20 train --resume "$T/loss.f8c" --epochs 2 --data "$T/data" --out "$T/o3"

# ---- 4. announced sizes never drive allocations ----
# A small checkpoint announcing 1 GiB more (holes): streamed through the CRC in bounded memory.
$GEN ckpt-grow "$T/base.f8c" "$T/grow.f8c" 1073741824
limit=""
[ "${F8_ASAN:-0}" = 1 ] || limit="ulimit -d 786432;" # 768 MiB of data (not under ASan)
n=$((n + 1))
sh -c "$limit timeout 60 \"$F8\" train --resume \"$T/grow.f8c\" --out \"$T/o4\"" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "checksum mismatch" "$T/err" || fail "grown checkpoint: exit $rc: $(head -c 300 "$T/err")"
# A gzip'd IDX announcing 2 GiB of images in 100 bytes, with 5 labels: counts compared first.
mkdir "$T/bigidx"
cp "$T/data/t10k"* "$T/bigidx/"
$GEN idx-big "$T/bigidx"
n=$((n + 1))
sh -c "$limit timeout 30 \"$F8\" train --model \"$T/tiny.arch\" --data \"$T/bigidx\" --out \"$T/o5\"" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "holds 2739128 images but" "$T/err" || fail "2 GiB IDX: exit $rc: $(head -c 300 "$T/err")"

# ---- 5. output paths ----
# A device or FIFO is written in place (here a FIFO with a reader), never replaced.
# The shell holds the FIFO open read-write first (never blocks on Linux), so a reader exists
# before f8 opens it whatever the scheduling; then it reads what f8 wrote.
mkfifo "$T/outfifo"
exec 3<>"$T/outfifo"
expect_ok 10 exec $SMALL --out 2="$T/outfifo"
timeout 10 head -c 512 <&3 >"$T/fromfifo"
exec 3<&-
[ -p "$T/outfifo" ] || fail "--out FIFO: replaced by a regular file"
[ "$(wc -c <"$T/fromfifo")" -eq 512 ] || fail "--out FIFO: the reader got $(wc -c <"$T/fromfifo") bytes"
expect 1 "nobody reads" 10 exec $SMALL --out 2="$T/outfifo"
# A symbolic link is never replaced; a directory never written.
printf 'keep' >"$T/real.bin"
ln -s real.bin "$T/link.bin"
expect 1 "symbolic link" 10 exec $SMALL --out 2="$T/link.bin"
[ -L "$T/link.bin" ] && [ "$(cat "$T/real.bin")" = keep ] || fail "--out symlink: changed"
expect 1 "a directory" 10 exec $SMALL --out 2="$T"
# Resuming run A into B, which holds another run: refused, B untouched.
expect_ok 120 train --model "$T/tiny.arch" $RUN --epochs 1 --seed 7 --out "$T/B"
cp "$T/B/ckpt.f8c" "$T/B.f8c"
expect 1 "holds another checkpoint" 20 train --resume "$T/run/ckpt.f8c" --epochs 2 --data "$T/data" --out "$T/B"
cmp -s "$T/B/ckpt.f8c" "$T/B.f8c" || fail "--resume A --out B: B's checkpoint changed"
# A run directory another process holds (an fcntl lock, as f8 takes it) is refused.
$PY -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
' "$T/B/.f8-lock" >"$T/locker" &
pids="$pids $!"
i=0
while ! grep -q locked "$T/locker" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect 1 "is in use: process" 20 train --model "$T/tiny.arch" $RUN --epochs 1 --force --out "$T/B"
cmp -s "$T/B/ckpt.f8c" "$T/B.f8c" || fail "locked directory: the checkpoint changed"
# Temporaries of dead writers are removed by the next save; a live process's stay.
sh -c 'exit 0' &
dead=$!
wait $dead
for f in ckpt.f8c log.csv curves.svg; do
	printf 'half' >"$T/run/$f.tmp.$dead"
	printf 'live' >"$T/run/$f.tmp.$$"
done
expect_ok 120 train --resume "$T/run/ckpt.f8c" --epochs 2 --data "$T/data"
for f in ckpt.f8c log.csv curves.svg; do
	[ -e "$T/run/$f.tmp.$dead" ] && fail "stale $f.tmp.$dead not removed"
	[ -e "$T/run/$f.tmp.$$" ] || fail "$f.tmp.$$ of a live process removed"
done
# A run directory whose files are links or FIFOs is refused before anything runs.
mkdir "$T/badrun"
ln -s /dev/null "$T/badrun/log.csv"
expect 1 "symbolic link" 10 train --model "$T/tiny.arch" $RUN --epochs 1 --out "$T/badrun"

# ---- 6. one table of limits, at parse time, naming the option ----
expect 1 "--threads '65': expected an integer in [1, 64]" 10 train --model "$T/tiny.arch" --threads 65 --out "$T/o6" --data "$T/none"
expect 1 "--threads '256': expected an integer in [1, 64]" 10 train --model "$T/tiny.arch" --threads 256 --out "$T/o6"
expect 1 "--threads '65': expected an integer in [1, 64]" 10 model resnet20 --batch 2 --threads 65
expect 1 "--bench-batches '1000000': expected an integer in [1, 100000]" 10 train --model "$T/tiny.arch" --bench-batches 1000000
expect 1 "more than 100000 batches" 10 train --model "$T/tiny.arch" --bench-batches 100000 --bench-warmup 10
expect 1 "--batch '65537'" 10 model resnet20 --batch 65537
expect_ok 120 train --model "$T/tiny.arch" --data "$T/data" --train-limit 16 --batch 16 --bench-batches 20 --bench-warmup 2
grep -q "images_per_s=" "$T/out" || fail "bench on 1 step per epoch: no result"

# ---- 7. --max-cycles bounds any stream ----
expect 3 "TIMEOUT after 66 cycles" 10 exec $BIG --max-cycles 67
expect 3 "TIMEOUT" 10 exec $BIG --max-cycles 1000000
run 10 exec $SMALL
cycles=$(sed -n 's/.*cycles=\([0-9]*\) .*/\1/p' "$T/err")
[ $rc -eq 0 ] && [ -n "$cycles" ] || fail "small stream: exit $rc: $(cat "$T/err")"
expect 0 "DONE" 10 exec $SMALL --max-cycles "$cycles"
expect 3 "TIMEOUT" 10 exec $SMALL --max-cycles $((cycles - 1))
used=$(sed -n 's/.*TIMEOUT after \([0-9]*\) cycles.*/\1/p' "$T/err")
[ -n "$used" ] && [ "$used" -le $((cycles - 1)) ] || fail "budget $((cycles - 1)): ran $used cycles"

# ---- 8. output errors, terminal escapes, number syntax ----
n=$((n + 1))
"$F8" model --list >/dev/full 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "standard output" "$T/err" || fail "model --list >/dev/full: exit $rc"
n=$((n + 1))
timeout 60 "$F8" train --model "$T/tiny.arch" $RUN --epochs 1 --out "$T/full" >/dev/full 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "standard output" "$T/err" || fail "train >/dev/full: exit $rc"
# A model name with terminal escapes reaches neither stdout nor stderr raw.
$GEN ckpt-name "$T/base.f8c" "$T/esc.f8c" 1b5d303b50574e45440762616401
expect_ok 20 train --resume "$T/esc.f8c" --data "$T/data" --out "$T/esc"
grep -q "resuming" "$T/out" || fail "escape name: no resume line"
cat "$T/out" "$T/err" | grep -q "$ESC" && fail "a terminal escape from a checkpoint was printed"
grep -qF '\x1b]0;PWNED\x07' "$T/out" || fail "escape name: not shown escaped: $(cat "$T/out")"
mkdir "$T/esc$ESC[31m"
expect 1 "\\x1b[31m" 10 model "$T/esc$ESC[31m/none"
cat "$T/err" | grep -q "$ESC" && fail "a terminal escape from an argument was printed"
# One grammar for every number: digits (and a decimal fraction/exponent for reals) only.
for v in " 3" "3 " "+3" "0x10" "1e3" "-0" "3k" ""; do
	expect 1 "--epochs '$v': expected an integer in [1, 100000]" 10 train --model "$T/tiny.arch" --out "$T/o8" --data "$T/none" --epochs "$v"
done
for v in "0x1p-3" "+0.1" " 0.1" "inf" "nan" "1e999" "0.1x" "." "1e"; do
	expect 1 "--lr '$v': expected a number in (0, 100]" 10 train --model "$T/tiny.arch" --out "$T/o8" --data "$T/none" --lr "$v"
done
expect 1 "--seed '18446744073709551616'" 10 train --model "$T/tiny.arch" --out "$T/o8" --seed 18446744073709551616
expect 1 "--threads ' 2'" 10 model resnet20 --batch 2 --threads " 2"
expect 1 "--batch '+2'" 10 model resnet20 --batch +2
expect 1 "--bw '+16'" 10 exec $SMALL --bw +16
expect 1 "--latency '1e3'" 10 exec $SMALL --latency 1e3
expect 1 "--max-cycles '0x10'" 10 exec $SMALL --max-cycles 0x10
expect 1 "--max-cycles '0'" 10 exec $SMALL --max-cycles 0
expect 1 "--zero ' 1k'" 10 exec "$T/small.bin" --zero "0= 1k"
expect 1 "--zero '2G'" 10 exec "$T/small.bin" --zero 0=2G
expect 1 "--array ' 4x4'" 10 exec $SMALL --array " 4x4"
expect 1 "--array '4x+4'" 10 exec $SMALL --array 4x+4
expect 1 "--region '+1=" 10 exec $SMALL --region "+1=$T/real.bin"
expect_ok 10 exec $SMALL --zero 3=1k --array 4x8 --bw 8 --latency 0
# Options by getopt_long: an option refused is one line naming it and pointing to --help.
expect 1 "f8 exec: unknown option '--bogus' (f8 exec --help)" 10 exec $SMALL --bogus
expect 1 "f8 exec: --max-cycles needs a value (f8 exec --help)" 10 exec $SMALL --max-cycles
expect 1 "f8 exec: ambiguous option '--b': --backend, --bw (f8 exec --help)" 10 exec $SMALL --b 8
expect 1 "f8 exec: --quiet takes no value ('--quiet=1') (f8 exec --help)" 10 exec $SMALL --quiet=1
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "exec --quiet=1: not one line: $(cat "$T/err")"
expect 1 "f8 exec: more than one stream given ('$T/big.bin')" 10 exec $SMALL -- "$T/big.bin"
expect 1 "--bw '+16'" 10 exec $SMALL --bw=+16
expect 1 "f8 bench: unexpected argument 'x' (f8 bench --help)" 10 bench x
expect 1 "f8 demo: unknown option '--bogus' (f8 demo --help)" 10 demo --bogus
for c in exec model train bench demo; do
	expect_ok 10 $c --help
	grep -q "^usage: f8 $c" "$T/out" || fail "f8 $c --help: no usage on stdout"
done

if [ $fails -ne 0 ]; then
	echo "hostile-cli ($F8): $fails of $n checks failed"
	exit 1
fi
echo "hostile-cli ($F8): $n checks passed"
