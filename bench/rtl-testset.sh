#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench-rtl-testset: the whole Fashion-MNIST test set through the Verilated RTL (issue 14).
# The default demo model (make demo: ResNet-8, F8Net, runs/demo/q8/model.f8m; reused if present,
# else made by scripts/demo.sh exactly as make demo makes it) runs on rtl:16x16 with one
# simulator instance per thread (f8 eval --threads, docs/architecture.md), and on ref (the
# functional model, the RTL's oracle); every image's int32 logits are compared. Prints images/s,
# device cycles/s per instance, wall time, mismatching images (must be 0) and the top-1
# accuracy, and writes them to OUT/rtl-testset.md. Exit status 1 on any mismatch or failure.
#
#   bench/rtl-testset.sh [F8] [OUT]    RTL_TESTSET_IMAGES=10000 RTL_TESTSET_THREADS=2
#                                      RTL_TESTSET_BATCH=16 RTL_TESTSET_ARRAY=16x16
#                                      RTL_TESTSET_MODEL=runs/demo/q8/model.f8m
# With RTL_TESTSET_IMAGES below 10000 (a slice: the first N test images) the time for the
# whole set is extrapolated from the slice's rate, and the report says so.
set -eu
F8=${1:-build/f8}
OUT=${2:-build/rtl-testset}
N=${RTL_TESTSET_IMAGES:-10000}
THREADS=${RTL_TESTSET_THREADS:-2}
BATCH=${RTL_TESTSET_BATCH:-16}
ARRAY=${RTL_TESTSET_ARRAY:-16x16}
MODEL=${RTL_TESTSET_MODEL:-runs/demo/q8/model.f8m}
PY=${PYTHON:-/usr/bin/python3}
TOTAL=10000

mkdir -p "$OUT"
if [ ! -f "$MODEL" ]; then
	[ "$MODEL" = runs/demo/q8/model.f8m ] || { echo "rtl-testset: $MODEL: no such model"; exit 1; }
	echo "rtl-testset: no demo model yet: making it as make demo does (scripts/demo.sh)"
	scripts/demo.sh "$F8" runs/demo
fi
[ "$N" -ge 1 ] && [ "$N" -le $TOTAL ] || { echo "rtl-testset: RTL_TESTSET_IMAGES=$N: 1..$TOTAL"; exit 1; }

# the oracle: the same compiled model on the functional model
"$F8" eval "$MODEL" --backend "ref:$ARRAY" --batch "$BATCH" --threads "$THREADS" --limit "$N" \
	--logits "$OUT/ref-logits.bin" > "$OUT/ref.eval" 2> "$OUT/ref.err" ||
	{ cat "$OUT/ref.err"; exit 1; }

# the RTL: wall time of the whole command (process start, model load, compile, the runs) and
# its CPU time (the machine may be shared: CPU seconds / threads is what an idle one would take)
times > "$OUT/times0"
t0=$(date +%s.%N)
if ! "$F8" eval "$MODEL" --backend "rtl:$ARRAY" --batch "$BATCH" --threads "$THREADS" \
	--limit "$N" --logits "$OUT/rtl-logits.bin" > "$OUT/rtl.eval" 2> "$OUT/rtl.err"; then
	tr '\r' '\n' < "$OUT/rtl.err" | tail -n 3
	exit 1
fi
t1=$(date +%s.%N)
times > "$OUT/times1" # POSIX: the second line is the children's user and system time
tr '\r' '\n' < "$OUT/rtl.err" | grep -v '^integer eval' || true

"$PY" - "$OUT" "$N" "$THREADS" "$BATCH" "$ARRAY" "$MODEL" "$t0" "$t1" "$TOTAL" <<'PY'
import re, struct, sys
out, n, threads, batch, array, model, t0, t1, total = sys.argv[1:]
n, threads, total = int(n), int(threads), int(total)
wall = float(t1) - float(t0)
def child_cpu(path):
    # "0m12.340000s 0m0.560000s"
    t = 0.0
    for f in open(path).read().splitlines()[1].split():
        mins, secs = f.rstrip("s").split("m")
        t += 60 * float(mins) + float(secs)
    return t
cpu = child_cpu(f"{out}/times1") - child_cpu(f"{out}/times0")
ref = open(f"{out}/ref-logits.bin", "rb").read()
rtl = open(f"{out}/rtl-logits.bin", "rb").read()
classes = len(ref) // 4 // n
assert len(ref) == n * classes * 4, "ref logits: wrong size"
mism = -1
if len(rtl) == len(ref):
    row = classes * 4
    mism = sum(ref[i * row:(i + 1) * row] != rtl[i * row:(i + 1) * row] for i in range(n))
err = open(f"{out}/rtl.err").read().replace("\r", "\n")
m = re.search(r"(\d+) images on (\S+), (\d+) instances?, in ([0-9.]+) s: ([0-9.]+) img/s; (\d+) device cycles, ([0-9.]+) M cycles/s per instance", err)
if not m:
    sys.exit("rtl-testset: no summary line from f8 eval")
run_s, cycles, mcps = float(m.group(4)), int(m.group(6)), float(m.group(7))
acc = re.search(r"integer top-1: *([0-9.]+) % \((\d+) / (\d+)\)", open(f"{out}/rtl.eval").read())
ref_acc = re.search(r"integer top-1: *([0-9.]+) %", open(f"{out}/ref.eval").read())
lines = [
    f"# The Fashion-MNIST test set through the RTL (make bench-rtl-testset)",
    "",
    f"| | |",
    f"|---|---|",
    f"| model | {model} |",
    f"| device | rtl:{array}, batch {batch}, {threads} simulator instance(s), one thread each |",
    f"| images | {n}" + ("" if n == total else f" (the first {n} of {total}: a slice)") + " |",
    f"| wall time | {wall:.1f} s (the whole f8 eval: load, compile, {threads} instances, the runs); "
    f"the runs {run_s:.1f} s |",
    f"| images/s | {n / run_s:.2f} |",
    f"| RTL cycles | {cycles} ({cycles / n:.0f} per image) |",
    f"| RTL cycles/s per thread | {mcps * 1e6:,.0f} (wall clock); {cycles / cpu * 1e-6:.3f} M per CPU-second "
    f"({cpu:.0f} CPU-s in all) |",
    f"| on {threads} idle cores (CPU time / {threads}) | {cpu / threads:.0f} s "
    f"({cpu / threads / 60:.1f} min) for these {n} images |",
    f"| images whose int32 logits differ from ref | {mism if mism >= 0 else 'all (size differs)'} |",
    f"| top-1 accuracy on the RTL | {acc.group(1)} % ({acc.group(2)} / {acc.group(3)}); ref: {ref_acc.group(1)} % |",
]
if n != total:
    est = wall - run_s + total / (n / run_s)
    lines.append(f"| whole test set, extrapolated | {est:.0f} s ({est / 60:.1f} min) at this slice's rate; "
                 f"{cpu / threads * total / n:.0f} s on {threads} idle cores |")
else:
    lines.append(f"| whole test set | {wall:.0f} s ({wall / 60:.1f} min); target < 600 s: "
                 f"{'PASS' if wall < 600 else 'MISS'} |")
text = "\n".join(lines) + "\n"
open(f"{out}/rtl-testset.md", "w").write(text)
print(text, end="")
if mism != 0:
    sys.exit(f"rtl-testset: {mism} images differ from ref")
PY
