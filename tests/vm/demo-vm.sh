#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo-vm (issue 13): a model through app -> libf8 -> ioctl -> f8npu.ko -> f8npu-bridge ->
# the Verilated RTL, in a QEMU guest (docs/cosim.md, "The driver path against in-process RTL").
#   1. the model: runs/demo/q8/model.f8m (make demo) if there is one, else a random ResNet-8
#   2. on the host: f8 eval --backend ref (the logits the guest must give, bit for bit) and
#      f8 eval --backend rtl:16x16, the same images on the in-process Verilated RTL (timed)
#   3. the guest (tests/vm/run-vm.sh + tests/bridge/with-bridge.sh): f8npu.ko binds the bridge,
#      f8 info, f8 eval --backend kmod on the same images (accuracy, time per image, logits
#      compared with the host's ref), f8 profile --backend kmod (per-layer counters read back
#      through the driver)
#   4. accuracy, latency per image on both paths and their ratio (the issue's target: the
#      driver path adds less than 2x)
#
#   tests/vm/demo-vm.sh F8_HOST F8_STATIC F8NPU_KO BRIDGE [run-vm.sh options...]
#   DEMO_VM_MODEL (runs/demo/q8/model.f8m), DEMO_VM_IMAGES (32), DEMO_VM_BATCH (4),
#   DEMO_VM_DEVICE (rtl:16x16); the RTL libraries: $F8_RTL_DIR
set -eu

[ $# -ge 4 ] || { echo "usage: $0 F8_HOST F8_STATIC F8NPU_KO BRIDGE [run-vm.sh options]" >&2; exit 2; }
F8=$1 F8S=$2 KO=$3 BRIDGE=$4
shift 4
D=/usr/share/datasets/fashion-mnist
N=${DEMO_VM_IMAGES:-32}
B=${DEMO_VM_BATCH:-4}
DEV=${DEMO_VM_DEVICE:-rtl:16x16}
MODEL=${DEMO_VM_MODEL:-runs/demo/q8/model.f8m}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/f8-demo-vm-XXXXXX)
trap 'rm -rf "$T"' EXIT
for f in "$F8" "$F8S" "$KO" "$BRIDGE"; do
	[ -f "$f" ] || { echo "demo-vm: $f: not built" >&2; exit 2; }
done
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }'; }

echo "== 1. the model"
if [ -f "$MODEL" ]; then
	cp "$MODEL" "$T/m.f8m"
	echo "demo-vm: $MODEL (a trained F8Net model: make demo's unless DEMO_VM_MODEL says otherwise)"
else
	"$F8" export --random --model resnet8 --seed 5 --out "$T/m.f8m" >/dev/null
	echo "demo-vm: no $MODEL (make demo trains one): a random-weight ResNet-8 (seed 5), so ~10% accuracy"
fi

echo "== 2. the host: --backend ref (expected logits) and --backend $DEV in process, $N images, batch $B"
"$F8" eval "$T/m.f8m" --limit "$N" --backend ref --batch "$B" --logits "$T/ref.bin" >/dev/null
t0=$(now)
"$F8" eval "$T/m.f8m" --limit "$N" --backend "$DEV" --batch "$B" --logits "$T/rtl.bin" >"$T/host.out"
t1=$(now)
cat "$T/host.out"
cmp -s "$T/rtl.bin" "$T/ref.bin" || { echo "demo-vm: in-process RTL logits differ from ref" >&2; exit 1; }
HOST_MS=$(ms "$t0" "$t1" "$N")
echo "demo-vm: in-process $DEV: $HOST_MS ms per image (f8 eval's wall time / $N, Verilator start included)"

echo "== 3. the guest: f8 eval --backend kmod through f8npu.ko and the bridge ($DEV)"
LOG=$T/console.log
# busybox date has no %N: the guest times itself with /proc/uptime (10 ms resolution)
ev="f8 eval /data/m.f8m --data /data/fm --limit $N --batch $B"
rc=0
"$HERE/../bridge/with-bridge.sh" "$BRIDGE" --device "$DEV" -- \
	sh -c 'exec "$0" --qemu-args "$F8_BRIDGE_QEMU_ARGS" "$@"' "$HERE/run-vm.sh" \
	--module "$KO" --log "$LOG" "$@" \
	--file "$F8S=/bin/f8" --file "$T/m.f8m=/data/m.f8m" --file "$T/ref.bin=/data/ref.bin" \
	--file "$D/t10k-images-idx3-ubyte.gz=/data/fm/t10k-images-idx3-ubyte.gz" \
	--file "$D/t10k-labels-idx1-ubyte.gz=/data/fm/t10k-labels-idx1-ubyte.gz" \
	--run 'demo-info:f8 info' \
	--run "demo-eval:a=\$(cut -d' ' -f1 /proc/uptime); $ev --backend kmod --logits /tmp/k.bin; rc=\$?; b=\$(cut -d' ' -f1 /proc/uptime); echo \"guest-wall \$a \$b\"; [ \$rc = 0 ] && cmp /tmp/k.bin /data/ref.bin && echo 'logits: bit for bit those of --backend ref'" \
	--run 'demo-profile:f8 profile /data/m.f8m --backend kmod' \
	>"$T/vm.out" 2>"$T/bridge.log" || rc=$?
step() { awk -v b="@@F8VM BEGIN $1" -v e="@@F8VM END $1 " '!p && substr($0, length($0) - length(b) + 1) == b { p = 1; next } index($0, e) { p = 0 } p' "$LOG"; }
step demo-info
step demo-eval | grep -v '^guest-wall'
echo "== 4. the per-layer profile read back through the driver (f8 profile --backend kmod)"
step demo-profile
if [ $rc -ne 0 ]; then
	cat "$T/vm.out" "$T/bridge.log"
	echo "demo-vm: the VM run failed (status $rc)" >&2
	exit 1
fi
set -- $(step demo-eval | grep '^guest-wall')
VM_MS=$(ms "$2" "$3" "$N")
echo "== 5. results ($N images, batch $B, $DEV)"
grep 'top-1' "$T/host.out" | sed 's/^/host in-process: /'
step demo-eval | grep 'top-1' | sed 's/^/guest via f8npu.ko: /'
echo "latency per image: guest app -> ioctl -> f8npu.ko -> bridge -> RTL: $VM_MS ms; host in-process RTL: $HOST_MS ms"
awk -v v="$VM_MS" -v h="$HOST_MS" 'BEGIN { printf "driver path / in-process RTL: %.2fx (target: below 2x)\n", v / h }'
grep -E 'job [0-9]+ ended' "$T/bridge.log" | awk '{ c += $(NF-5); t += $(NF-3); n++ } END { if (n) printf "bridge (the eval and the profile): %d jobs, %.2f s in the RTL (%.0f cycles/s)\n", n, t, c / t }'
