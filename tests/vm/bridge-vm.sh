#!/bin/sh
# SPDX-License-Identifier: MIT
# The kernel driver on the Verilated RTL (issue 13, docs/cosim.md): f8npu-bridge serves the RTL
# (default rtl:16x16) to a QEMU guest over ivshmem-doorbell, f8npu.ko binds it over PCI (the
# virtual device stays out), and in the guest:
#   f8npu-smoke           the driver's uapi test on the bridged device: QUERY (bridged, IMPL 1),
#                         buffers, CONV2D jobs equal to sim/'s model run in the guest, syncobjs,
#                         PRIME, isolation, hostile arguments, device errors with their index,
#                         a hung job (the bridge's STALL) timed out and reset, several processes
#   f8npu-unbind          the PCI device unbound under a hung job and queued ones, bound again
#   f8-info               f8 info lists the kmod device
#   eval-kmod             f8 eval --backend kmod, batch 4, on the first N test images: the int32
#                         logits byte for byte those of --backend ref on the host
#   exec-kmod             the compiled stream through f8 exec: logits and status line as ref's
#   exec-device-error     without its weights region: the device error (code, index) as ref's
#   exec-hang             bridge_stall=1: the job stops advancing on the RTL, times out
#                         (job_timeout_ms 2000), exit 3; exec-after-hang: the next job is right
#   profile-kmod          f8 profile --backend kmod: every layer's descriptors, MACs and DMA
#                         bytes as ref's (cycles are the RTL's own)
# then the module unloads. Exit status: run-vm.sh's (1 also if the bridge died).
#
#   tests/vm/bridge-vm.sh F8_HOST F8_STATIC F8NPU_KO SMOKE BRIDGE [run-vm.sh options...]
#   F8_VM_BRIDGE_DEVICE (rtl:16x16), F8_VM_EVAL_IMAGES (8); the RTL libraries: $F8_RTL_DIR
set -eu

[ $# -ge 5 ] || { echo "usage: $0 F8_HOST F8_STATIC F8NPU_KO SMOKE BRIDGE [run-vm.sh options]" >&2; exit 2; }
F8=$1 F8S=$2 KO=$3 SMOKE=$4 BRIDGE=$5
shift 5
D=/usr/share/datasets/fashion-mnist
N=${F8_VM_EVAL_IMAGES:-8}
DEV=${F8_VM_BRIDGE_DEVICE:-rtl:16x16}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/f8-bridge-vm-XXXXXX)
trap 'rm -rf "$T"' EXIT

for f in "$F8" "$F8S" "$KO" "$SMOKE" "$BRIDGE"; do
	[ -f "$f" ] || { echo "bridge-vm: $f: not built" >&2; exit 2; }
done
F8=$(cd "$(dirname "$F8")" && pwd)/$(basename "$F8") # the host runs below run in $T
"$F8" export --random --model resnet8 --seed 5 --out "$T/m.f8m" >/dev/null
"$F8" eval "$T/m.f8m" --limit "$N" --backend ref --batch 4 --logits "$T/ref.bin" >/dev/null
[ "$(wc -c <"$T/ref.bin")" -eq $((N * 40)) ] || { echo "bridge-vm: ref logits of a wrong size" >&2; exit 2; }
[ -n "$(tr -d '\000' <"$T/ref.bin" | head -c 1)" ] || { echo "bridge-vm: ref logits all zero" >&2; exit 2; }

# the compiled stream, 2 images, and what f8 exec prints for it on ref (its first two lines)
"$F8" compile "$T/m.f8m" --device ref:16x16 --batch 2 --out "$T/c" >/dev/null
gzip -dc "$D/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((2 * 784)) >"$T/img2.bin"
ex="f8 exec /data/c/stream.bin --region 0=/data/img2.bin --region 2=/data/c/bias.bin --zero 3=150528 --zero 4=80 --out 4=/tmp/e.bin"
exw="$ex --region 1=/data/c/weights.bin"
(cd "$T" && "$F8" exec c/stream.bin --region 0=img2.bin --region 1=c/weights.bin --region 2=c/bias.bin \
	--zero 3=150528 --zero 4=80 --out 4=e.bin --backend ref >ok.out 2>&1) ||
	{ echo "bridge-vm: f8 exec on ref failed: $(cat "$T/ok.out")" >&2; exit 2; }
# the status line without the cycle count (the RTL's own): DONE and the architectural counters
head -n 2 "$T/ok.out" | sed 's/cycles=[0-9]* //; s/stall=[0-9]* //' >"$T/exec-ok.out"
rc=0
(cd "$T" && "$F8" exec c/stream.bin --region 0=img2.bin --region 2=c/bias.bin --zero 3=150528 \
	--zero 4=80 --backend ref >bad.out 2>&1) || rc=$?
[ $rc -eq 2 ] || { echo "bridge-vm: f8 exec without weights on ref: not a device error" >&2; exit 2; }
head -n 2 "$T/bad.out" | sed 's/cycles=[0-9]* //; s/stall=[0-9]* //' >"$T/exec-bad.out"
# layer, descriptors, MACs, DMA bytes
"$F8" profile "$T/m.f8m" --backend ref | tail -n +3 | awk 'NF >= 10 { print $1, $2, $6, $8 }' >"$T/profile-ref.out"

ev="f8 eval /data/m.f8m --data /data/fm --limit $N"
strip="sed 's/cycles=[0-9]* //; s/stall=[0-9]* //'"
P=/sys/module/f8npu/parameters
# with-bridge.sh puts the QEMU arguments in the environment: sh -c hands them to run-vm.sh
exec "$HERE/../bridge/with-bridge.sh" "$BRIDGE" --device "$DEV" -- \
	sh -c 'exec "$0" --qemu-args "$F8_BRIDGE_QEMU_ARGS" "$@"' "$HERE/run-vm.sh" \
	--kmod drm --kmod drm_shmem_helper \
	--kmod vgem --module "$KO" "$@" \
	--bin "$SMOKE" --run 'f8npu-unbind:f8npu-smoke --unbind' \
	--file "$F8S=/bin/f8" --file "$T/m.f8m=/data/m.f8m" --file "$T/ref.bin=/data/ref.bin" \
	--file "$D/t10k-images-idx3-ubyte.gz=/data/fm/t10k-images-idx3-ubyte.gz" \
	--file "$D/t10k-labels-idx1-ubyte.gz=/data/fm/t10k-labels-idx1-ubyte.gz" \
	--run 'f8-info:f8 info >/tmp/info && cat /tmp/info && grep -q "^kmod:/dev/dri/renderD[0-9]* present" /tmp/info' \
	--run "eval-kmod:$ev --backend kmod --batch 4 --logits /tmp/k4.bin && cmp /tmp/k4.bin /data/ref.bin" \
	--file "$T/c/stream.bin=/data/c/stream.bin" --file "$T/c/weights.bin=/data/c/weights.bin" \
	--file "$T/c/bias.bin=/data/c/bias.bin" --file "$T/img2.bin=/data/img2.bin" \
	--file "$T/exec-ok.out=/data/exec-ok.out" --file "$T/exec-bad.out=/data/exec-bad.out" \
	--file "$T/profile-ref.out=/data/profile-ref.out" \
	--run "exec-kmod:$exw --backend kmod >/tmp/o 2>&1 && cat /tmp/o && head -n 2 /tmp/o | $strip | diff /data/exec-ok.out - && head -c 80 /data/ref.bin | cmp - /tmp/e.bin" \
	--run "exec-device-error:$ex --backend kmod >/tmp/o 2>&1; rc=\$?; cat /tmp/o; [ \$rc = 2 ] && head -n 2 /tmp/o | $strip | diff /data/exec-bad.out -" \
	--run "exec-hang:echo 2000 >$P/job_timeout_ms && echo 1 >$P/bridge_stall && $exw --backend kmod >/tmp/o 2>&1; rc=\$?; echo 10000 >$P/job_timeout_ms; cat /tmp/o; [ \$rc = 3 ] && grep -q TIMEOUT /tmp/o" \
	--run "exec-after-hang:$exw --backend kmod >/tmp/o 2>&1 && head -n 2 /tmp/o | $strip | diff /data/exec-ok.out - && head -c 80 /data/ref.bin | cmp - /tmp/e.bin" \
	--run "profile-kmod:f8 profile /data/m.f8m --backend kmod >/tmp/p && cat /tmp/p && tail -n +3 /tmp/p | awk 'NF >= 10 { print \$1, \$2, \$6, \$8 }' | diff /data/profile-ref.out -"
