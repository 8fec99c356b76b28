#!/bin/sh
# SPDX-License-Identifier: MIT
# The runtime from the command line (issue 11: f8 compile, eval --backend, run, profile,
# info): one integer model gives identical int32 logits on every backend (graph, cpu, ref
# 16x16 and 4x4 with tiny batches, the RTL of each built configuration, on 1 to 3 simulator
# instances in parallel, and f8 exec running the stream f8 compile wrote); a job that does
# not finish stops every instance and names its images; auto falls back to the CPU and says why; images given as
# PGM or PNG files classify as the same test images from the IDX file; bad backends, models
# and images are refused with exit status 1 and a message naming them.
# Run by `make run-cli` (part of make check).
#
#   tests/cli/run-cli.sh [F8_BINARY]
set -u

F8=${1:-build/f8}
PY=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d /tmp/f8-run-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli-lib.sh"
D=/usr/share/datasets/fashion-mnist
IMG=$D/t10k-images-idx3-ubyte.gz
LBL=$D/t10k-labels-idx1-ubyte.gz

[ -x "$F8" ] || { echo "run-cli: $F8 not built"; exit 1; }
# the RTL configurations built next to the tool (make rtl-libs)
RTLS=""
for c in 4:4 16:16 8:16; do
	r=${c%:*}
	k=${c#*:}
	for d in "$(dirname "$F8")/rtl" "$(dirname "$F8")/../rtl"; do # where the backend looks
		if [ -f "$d/r${r}c${k}/libf8npu-rtl.so" ]; then
			RTLS="$RTLS rtl:${r}x${k}"
			break
		fi
	done
done

# a ResNet-8 with random weights: every op of a residual network, no training needed
expect_ok export --random --model resnet8 --seed 3 --out "$T/m.f8m"
M=$T/m.f8m

# ---- the same logits everywhere ----
N=24
expect_ok eval "$M" --limit $N --backend graph --logits "$T/graph.bin"
for b in cpu ref ref:4x4 $RTLS; do
	for batch in 1 5; do
		expect_ok eval "$M" --limit $N --backend "$b" --batch $batch --logits "$T/b.bin"
		n=$((n + 1))
		cmp -s "$T/graph.bin" "$T/b.bin" || fail "--backend $b --batch $batch: logits differ from graph's"
	done
done
[ -n "$RTLS" ] || fail "no RTL configuration built next to $F8 (make rtl-libs): the rtl backend went untested"

# several instances of a simulator, one thread each (--threads, docs/runner.md): each its own
# Verilated model, context and memory; the images split between them, the logits in image
# order and identical to one instance's and to ref's
# (not rtl:4x4: the same code, four times the CPU time of rtl:16x16 for these images)
expect_ok eval "$M" --limit 12 --backend ref --batch 3 --threads 1 --logits "$T/ref1.bin"
PAR=""
for b in $RTLS; do
	[ "$b" = rtl:4x4 ] || PAR="$PAR $b"
done
[ -n "$PAR" ] || fail "no RTL configuration but rtl:4x4 built: the parallel instances went untested"
for b in ref:4x4 $PAR; do
	for t in 1 2 3; do
		# 12 images in jobs of 3: four jobs, so three instances all get work
		expect_ok eval "$M" --limit 12 --backend "$b" --batch 3 --threads $t --logits "$T/b.bin"
		n=$((n + 1))
		cmp -s "$T/ref1.bin" "$T/b.bin" || fail "--backend $b --threads $t: logits differ from ref's"
		n=$((n + 1))
		s=s
		[ $t -gt 1 ] || s=""
		grep -q "^f8 eval: 12 images on $b, $t instance$s, in " "$T/err" ||
			fail "--backend $b --threads $t: not $t instances: $(tail -n 2 "$T/err")"
	done
done
# a device that does not finish (here: a cycle budget far below the job's) stops every
# instance and names the first failing job's images
export F8_JOB_MAX_CYCLES=1000
for b in $PAR; do
	expect_usage "rtl:" eval "$M" --limit 12 --backend "$b" --batch 3 --threads 2
	n=$((n + 1))
	grep -q "^f8 eval: $b: images 0-2: the job ran out of cycles (budget 1000, .*(the 2 instances stopped; 0 images were done)" "$T/err" ||
		fail "--backend $b, a job out of cycles: $(tail -n 1 "$T/err")"
done
# a budget that is not a cycle count is refused with its value, never silently replaced
for v in 12x 0 -5 "" 99999999999999999999999; do
	F8_JOB_MAX_CYCLES=$v expect_usage "F8_JOB_MAX_CYCLES=\"$v\": not a cycle count" \
		eval "$M" --limit 3 --backend ref
done
unset F8_JOB_MAX_CYCLES

# auto: no device here, so the CPU path, with the reason
expect_ok eval "$M" --limit 4 --backend auto --placement
n=$((n + 1))
grep -q "^placement: cpu (.*): auto: no device (no f8npu device" "$T/out" ||
	fail "auto placement: $(head -n 2 "$T/out")"
expect_ok eval "$M" --limit 4 --backend ref --placement
n=$((n + 1))
grep -q "s1.b0.conv2 .*ref, fused into its consumer" "$T/out" &&
	grep -q "s1.b0.add .*ref, 1 descriptor (s1.b0.conv2+s1.b0.add)" "$T/out" ||
	fail "ref placement does not show the residual add fused: $(grep s1.b0 "$T/out")"

# a device that lacks an operation: those layers run on the host between the device's
# programs, with the reason in the placement report, and the logits stay the same
for b in "ref:4x4,without=pool_sum" "ref:16x16,without=conv2d" "ref:8x8,without=add+pool_sum"; do
	expect_ok eval "$M" --limit $N --backend "$b" --batch 5 --placement --logits "$T/b.bin"
	n=$((n + 1))
	cmp -s "$T/graph.bin" "$T/b.bin" || fail "--backend $b: logits differ from graph's"
	grep -q "^placement: ${b} + host: asked for: [0-9]* layers on the device, [0-9]* it refuses on the host" "$T/out" ||
		fail "--backend $b placement: $(head -n 1 "$T/out")"
done
grep -q "^13 *pool .*host: node 13 'pool' (sumpool): the device does not support POOL_SUM" "$T/out" ||
	fail "the host's reason for pool: $(grep "^13 " "$T/out")"
for b in $RTLS; do
	expect_ok eval "$M" --limit 8 --backend "$b,without=pool_sum" --batch 3 --logits "$T/b.bin"
	n=$((n + 1))
	head -c 320 "$T/graph.bin" | cmp -s - "$T/b.bin" || fail "--backend $b,without=pool_sum: logits differ"
done
expect_usage "without=OP" eval "$M" --backend "ref:4x4,without=pool"

# f8 compile --out: the stream and regions f8 exec runs, the same logits as f8 eval
expect_ok compile "$M" --device ref:16x16 --batch 2 --dump --out "$T/c"
n=$((n + 1))
grep -q "^# descriptors: " "$T/out" || fail "compile --dump: no summary"
"$PY" - "$IMG" "$T/img2.bin" <<'PY'
import gzip, sys
d = gzip.open(sys.argv[1]).read()
open(sys.argv[2], "wb").write(d[16:16 + 2 * 784])
PY
cmd=$(sed -n 's/^  f8 exec //p' "$T/out")
n=$((n + 1))
# shellcheck disable=SC2086
if "$F8" exec $(echo "$cmd" | sed -e "s|IMAGES|$T/img2.bin|" -e "s|LOGITS|$T/exec.bin|") -q 2>"$T/err"; then
	head -c 80 "$T/graph.bin" | cmp -s - "$T/exec.bin" || fail "f8 exec of the compiled stream: logits differ"
else
	fail "f8 exec of the compiled stream: $(cat "$T/err")"
fi

# ---- f8 run: PGM and PNG files of test images 0 and 1, and the IDX file ----
"$PY" - "$IMG" "$T" <<'PY'
import gzip, struct, sys, zlib
d = gzip.open(sys.argv[1]).read()
t = sys.argv[2]
for i in (0, 1):
    px = d[16 + 784 * i:16 + 784 * (i + 1)]
    open(f"{t}/img{i}.pgm", "wb").write(b"P5\n28 28\n255\n" + px)
    def chunk(k, v):
        return struct.pack(">I", len(v)) + k + v + struct.pack(">I", zlib.crc32(k + v))
    rows = b"".join(b"\0" + bytes(px[28 * y:28 * y + 28]) for y in range(28))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    open(f"{t}/img{i}.png", "wb").write(png)
    open(f"{t}/cut{i}.png", "wb").write(png[:-20])
open(f"{t}/small.pgm", "wb").write(b"P5\n27 28\n255\n" + d[16:16 + 27 * 28])
PY
expect_ok run "$M" "$T/img0.pgm" "$T/img1.png" --backend cpu
cp "$T/out" "$T/files.out"
expect_ok run "$M" --idx "$IMG" --labels "$LBL" --limit 2 --backend ref
n=$((n + 1))
a=$(sed -n 's/^[^:]*: \([^ ]*\) .*/\1/p' "$T/files.out" | tr '\n' ' ')
b=$(sed -n 's/^image [01]: \([^ ]*\) .*/\1/p' "$T/out" | tr '\n' ' ')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "f8 run: files say '$a', the IDX images '$b'"

expect_usage "cut0.png: PNG" run "$M" "$T/cut0.png"
expect_usage "image is 27x28, the model takes 28x28 (no resizing)" run "$M" "$T/small.pgm"
expect_usage "not a PNG or binary PGM" run "$M" "$M"
expect_usage "need a model file and images" run "$M"
expect_usage "need a model file and images" run "$M" "$T/img0.pgm" --idx "$IMG" --labels "$LBL"

# ---- refusals ----
expect_usage "--backend nope: " eval "$M" --backend nope
expect_usage "--backend ref:0x4: " eval "$M" --backend ref:0x4
expect_usage "--backend rtl:3x3: " eval "$M" --backend rtl:3x3
expect_usage "--backend kmod: no f8npu device" eval "$M" --backend kmod
expect_usage "--batch '0': expected an integer" eval "$M" --batch 0
head -c 300 "$M" > "$T/cut.f8m"
expect_usage "cut.f8m: " compile "$T/cut.f8m"
expect_usage "cut.f8m: " profile "$T/cut.f8m"
expect_usage "need one model file" compile
expect_usage "--device nope: " compile "$M" --device nope

# ---- profile and info ----
expect_ok profile "$M" --backend ref:4x4 --batch 2 --svg "$T/p.svg"
n=$((n + 1))
grep -q "^total " "$T/out" && grep -q "<svg" "$T/p.svg" || fail "profile: no total row or no SVG"
# on ref the measured cycles are the cost model's: ratio 1.00 on every row
n=$((n + 1))
awk '/^total/ { exit !($5 == "1.00") }' "$T/out" || fail "profile on ref: measured != predicted"
expect_ok info
n=$((n + 1))
grep -q "^ref .*present" "$T/out" && grep -q "^kmod .*absent" "$T/out" &&
	grep -q "^cpu .*present" "$T/out" || fail "info: $(cat "$T/out")"

echo "run-cli: $n checks, $fails failures"
[ "$fails" -eq 0 ]
