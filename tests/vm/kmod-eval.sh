#!/bin/sh
# SPDX-License-Identifier: MIT
# The runtime's kmod backend against the kernel driver, in a VM (issue 12: "f8 eval --backend
# kmod on a subset of the test set gives the same int32 logits as --backend ref"). On the host:
# a random-weight ResNet-8, its logits on the first N test images with --backend ref. In the VM
# (tests/vm/run-vm.sh, f8npu.ko loaded, virtual device): a static f8 finds the device through
# libdrm (f8 info lists its render node), runs the same images with --backend kmod at two batch
# sizes, and the logits files must be byte for byte the host's; --backend auto must choose the
# device. The stream f8 compile wrote on the host, run by f8 exec --backend kmod, gives the
# host's logits and status lines (DONE and the six counters); without its weights region the
# device error (code and descriptor index) is the host's, exit 2; with the virtual device made
# to hang (virt_hang) the job is reported timed out, exit 3, and the next one succeeds. f8 profile
# --backend kmod measures every layer as ref predicts it. Then the module unloads after all that
# and f8 info says there is no device, and why. Exit status: run-vm.sh's.
#
#   tests/vm/kmod-eval.sh F8_HOST F8_STATIC F8NPU_KO [run-vm.sh options...]
set -eu

[ $# -ge 3 ] || { echo "usage: $0 F8_HOST F8_STATIC F8NPU_KO [run-vm.sh options]" >&2; exit 2; }
F8=$1 F8S=$2 KO=$3
shift 3
D=/usr/share/datasets/fashion-mnist
N=${F8_VM_EVAL_IMAGES:-12}
T=$(mktemp -d /tmp/f8-kmod-eval-XXXXXX)
trap 'rm -rf "$T"' EXIT

for f in "$F8" "$F8S" "$KO"; do
	[ -f "$f" ] || { echo "kmod-eval: $f: not built" >&2; exit 2; }
done
F8=$(cd "$(dirname "$F8")" && pwd)/$(basename "$F8") # the host runs below run in $T
"$F8" export --random --model resnet8 --seed 5 --out "$T/m.f8m" >/dev/null
"$F8" eval "$T/m.f8m" --limit "$N" --backend ref --batch 4 --logits "$T/ref.bin" >/dev/null
# the reference must say something: not all zero, N images x 10 classes x 4 bytes
[ "$(wc -c <"$T/ref.bin")" -eq $((N * 40)) ] || { echo "kmod-eval: ref logits of a wrong size" >&2; exit 2; }
[ -n "$(tr -d '\000' <"$T/ref.bin" | head -c 1)" ] || { echo "kmod-eval: ref logits all zero" >&2; exit 2; }

# the compiled stream, 2 images, and what f8 exec prints for it on ref (its first two lines)
"$F8" compile "$T/m.f8m" --device ref:16x16 --batch 2 --out "$T/c" >/dev/null
gzip -dc "$D/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((2 * 784)) >"$T/img2.bin"
ex="f8 exec /data/c/stream.bin --region 0=/data/img2.bin --region 2=/data/c/bias.bin --zero 3=150528 --zero 4=80 --out 4=/tmp/e.bin"
exw="$ex --region 1=/data/c/weights.bin"
(cd "$T" && "$F8" exec c/stream.bin --region 0=img2.bin --region 1=c/weights.bin --region 2=c/bias.bin \
	--zero 3=150528 --zero 4=80 --out 4=e.bin --backend ref >ok.out 2>&1) ||
	{ echo "kmod-eval: f8 exec on ref failed: $(cat "$T/ok.out")" >&2; exit 2; }
head -n 2 "$T/ok.out" >"$T/exec-ok.out"
rc=0
(cd "$T" && "$F8" exec c/stream.bin --region 0=img2.bin --region 2=c/bias.bin --zero 3=150528 \
	--zero 4=80 --backend ref >bad.out 2>&1) || rc=$?
[ $rc -eq 2 ] || { echo "kmod-eval: f8 exec without weights on ref: not a device error" >&2; exit 2; }
head -n 2 "$T/bad.out" >"$T/exec-bad.out"
"$F8" profile "$T/m.f8m" --backend ref | tail -n +2 >"$T/profile-ref.out"

ev="f8 eval /data/m.f8m --data /data/fm --limit $N"
hang=/sys/module/f8npu/parameters/virt_hang
exec "$(dirname "$0")/run-vm.sh" --module "$KO" --no-unload "$@" \
	--file "$F8S=/bin/f8" --file "$T/m.f8m=/data/m.f8m" --file "$T/ref.bin=/data/ref.bin" \
	--file "$D/t10k-images-idx3-ubyte.gz=/data/fm/t10k-images-idx3-ubyte.gz" \
	--file "$D/t10k-labels-idx1-ubyte.gz=/data/fm/t10k-labels-idx1-ubyte.gz" \
	--run 'f8-info:f8 info >/tmp/info && cat /tmp/info && grep -q "^kmod:/dev/dri/renderD[0-9]* present" /tmp/info' \
	--run "eval-kmod-b4:$ev --backend kmod --batch 4 --logits /tmp/k4.bin && cmp /tmp/k4.bin /data/ref.bin" \
	--run "eval-kmod-b1:$ev --backend kmod --batch 1 --logits /tmp/k1.bin && cmp /tmp/k1.bin /data/ref.bin" \
	--run "eval-auto:$ev --backend auto --placement --logits /tmp/a.bin >/tmp/auto && cat /tmp/auto && grep -q '^placement: kmod' /tmp/auto && cmp /tmp/a.bin /data/ref.bin" \
	--file "$T/c/stream.bin=/data/c/stream.bin" --file "$T/c/weights.bin=/data/c/weights.bin" \
	--file "$T/c/bias.bin=/data/c/bias.bin" --file "$T/img2.bin=/data/img2.bin" \
	--file "$T/exec-ok.out=/data/exec-ok.out" --file "$T/exec-bad.out=/data/exec-bad.out" \
	--file "$T/profile-ref.out=/data/profile-ref.out" \
	--run "exec-kmod:$exw --backend kmod >/tmp/o 2>&1 && cat /tmp/o && head -n 2 /tmp/o | diff /data/exec-ok.out - && head -c 80 /data/ref.bin | cmp - /tmp/e.bin" \
	--run "exec-device-error:$ex --backend kmod >/tmp/o 2>&1; rc=\$?; cat /tmp/o; [ \$rc = 2 ] && head -n 2 /tmp/o | diff /data/exec-bad.out -" \
	--run "exec-hang:echo 1 >$hang && $exw --backend kmod >/tmp/o 2>&1; rc=\$?; echo 0 >$hang; cat /tmp/o; [ \$rc = 3 ] && grep -q TIMEOUT /tmp/o" \
	--run "exec-after-hang:$exw --backend kmod >/tmp/o 2>&1 && head -n 2 /tmp/o | diff /data/exec-ok.out -" \
	--run "profile-kmod:f8 profile /data/m.f8m --backend kmod >/tmp/p && cat /tmp/p && tail -n +2 /tmp/p | diff /data/profile-ref.out -" \
	--run 'unload-then-absent:rmmod f8npu && f8 info >/tmp/i; cat /tmp/i; grep -q "^kmod .*absent: no f8npu device: the kernel driver is not loaded" /tmp/i' 
