#!/bin/sh
# SPDX-License-Identifier: MIT
# The runtime's kmod backend against the kernel driver, in a VM (issue 12: "f8 eval --backend
# kmod on a subset of the test set gives the same int32 logits as --backend ref"). On the host:
# a random-weight ResNet-8, its logits on the first N test images with --backend ref. In the VM
# (tests/vm/run-vm.sh, f8npu.ko loaded, virtual device): a static f8 finds the device through
# libdrm (f8 info lists its render node), runs the same images with --backend kmod at two batch
# sizes, and the logits files must be byte for byte the host's; --backend auto must choose the
# device. Exit status: run-vm.sh's.
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
"$F8" export --random --model resnet8 --seed 5 --out "$T/m.f8m" >/dev/null
"$F8" eval "$T/m.f8m" --limit "$N" --backend ref --batch 4 --logits "$T/ref.bin" >/dev/null
# the reference must say something: not all zero, N images x 10 classes x 4 bytes
[ "$(wc -c <"$T/ref.bin")" -eq $((N * 40)) ] || { echo "kmod-eval: ref logits of a wrong size" >&2; exit 2; }
[ -n "$(tr -d '\000' <"$T/ref.bin" | head -c 1)" ] || { echo "kmod-eval: ref logits all zero" >&2; exit 2; }

ev="f8 eval /data/m.f8m --data /data/fm --limit $N"
exec "$(dirname "$0")/run-vm.sh" --module "$KO" "$@" \
	--file "$F8S=/bin/f8" --file "$T/m.f8m=/data/m.f8m" --file "$T/ref.bin=/data/ref.bin" \
	--file "$D/t10k-images-idx3-ubyte.gz=/data/fm/t10k-images-idx3-ubyte.gz" \
	--file "$D/t10k-labels-idx1-ubyte.gz=/data/fm/t10k-labels-idx1-ubyte.gz" \
	--run 'f8-info:f8 info >/tmp/info && cat /tmp/info && grep -q "^kmod:/dev/dri/renderD[0-9]* present" /tmp/info' \
	--run "eval-kmod-b4:$ev --backend kmod --batch 4 --logits /tmp/k4.bin && cmp /tmp/k4.bin /data/ref.bin" \
	--run "eval-kmod-b1:$ev --backend kmod --batch 1 --logits /tmp/k1.bin && cmp /tmp/k1.bin /data/ref.bin" \
	--run "eval-auto:$ev --backend auto --placement --logits /tmp/a.bin >/tmp/auto && cat /tmp/auto && grep -q '^placement: kmod' /tmp/auto && cmp /tmp/a.bin /data/ref.bin"
