#!/bin/sh
# SPDX-License-Identifier: MIT
# The bridge through real QEMU (docs/cosim.md): start f8npu-bridge, boot Debian's kernel in
# QEMU (TCG) with -device ivshmem-doorbell pointed at it and a busybox initramfs whose /init
# lists the PCI devices (busybox has no lspci: sysfs) and runs tests/bridge/guest-probe.c (the
# mailbox from guest userspace through sysfs BAR mappings, one CONV2D job compared with the
# model), then, given KMOD (tests/bridge/kmod/, make bridge-kmod), loads that test module, which
# runs the same job with the mailbox in the kernel and the device interrupt as MSI-X, then a
# stalled job, a soft reset and the job again. Checks: QEMU connected, the guest saw 1af4:1110,
# the probe passed, and the module's jobs were completed by interrupts with the probe's output
# hash and counters.
#
#   tests/bridge/qemu-probe.sh BRIDGE GUEST_PROBE VMLINUZ [DEVICE [TIMEOUT [KMOD]]]
#
# DEVICE: the bridge's --device (default model). The kernel image is the VM tests' cache
# ($(BUILD)/vm/$KVER/vmlinuz, fetched by tests/vm/run-vm.sh). Exit 0 passed, 1 failed, 2 usage.
set -eu

[ $# -ge 3 ] || { echo "usage: $0 BRIDGE GUEST_PROBE VMLINUZ [DEVICE [TIMEOUT [KMOD]]]" >&2; exit 2; }
BRIDGE=$1 PROBE=$2 KERNEL=$3 DEVICE=${4:-model} TIMEOUT=${5:-240} KMOD=${6:-}
for f in "$BRIDGE" "$PROBE" "$KERNEL" $KMOD; do [ -f "$f" ] || { echo "qemu-probe: $f missing" >&2; exit 2; }; done
for t in qemu-system-x86_64 cpio busybox; do
	command -v $t >/dev/null || { echo "qemu-probe: $t not found (make deps)" >&2; exit 2; }
done

W=$(mktemp -d /tmp/f8-qemu-probe-XXXXXX)
BPID=""
cleanup() {
	[ -z "$BPID" ] || kill "$BPID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
R=$W/root
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys"
cp "$(command -v busybox)" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
cp "$PROBE" "$R/bin/guest-probe"
[ -z "$KMOD" ] || cp "$KMOD" "$R/f8br_ktest.ko"
cat >"$R/init" <<'EOF'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "@@PROBE lspci"
# busybox-static has no lspci applet: the same facts from sysfs
for d in /sys/bus/pci/devices/*; do
	echo "${d##*/} class $(cat $d/class) $(cat $d/vendor):$(cat $d/device)"
done
echo "@@PROBE guest-probe"
guest-probe
echo "@@PROBE end $?"
if [ -f /f8br_ktest.ko ]; then
	echo "@@PROBE kmod"
	insmod /f8br_ktest.ko
	echo "@@PROBE insmod $?"
	grep -i f8br /proc/interrupts
	dmesg | grep -E 'f8br_irqtest|WARNING|BUG|Call Trace'
fi
poweroff -f
sleep 30
EOF
chmod 755 "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"

SOCK=$W/f8.sock
"$BRIDGE" --socket "$SOCK" --device "$DEVICE" --once -v 2>"$W/bridge.log" &
BPID=$!
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$BPID" 2>/dev/null; then
		cat "$W/bridge.log"
		echo "qemu-probe: the bridge did not start" >&2
		exit 1
	fi
	sleep 0.05
done
t0=$(date +%s)
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -machine pc -cpu max -m 256 -smp 1 -nographic -net none \
	-no-reboot -kernel "$KERNEL" -initrd "$W/initrd.gz" -append 'console=ttyS0 panic=-1 quiet' \
	-chardev socket,path="$SOCK",id=f8 -device ivshmem-doorbell,chardev=f8,vectors=1 \
	</dev/null 2>&1 | tr -d '\r' >"$W/console.log"
set -e
t1=$(date +%s)
# --once: the bridge exits when QEMU disconnects.
i=0
while kill -0 "$BPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill "$BPID" 2>/dev/null || true
wait "$BPID" 2>/dev/null || true
BPID=""
sed -n '/@@PROBE lspci/,$p' "$W/console.log"
echo "--- bridge (--device $DEVICE) ---"
cat "$W/bridge.log"
echo "---"
ok=1
grep -q ' 0x1af4:0x1110$' "$W/console.log" || { echo "qemu-probe: FAIL lspci does not show 1af4:1110"; ok=0; }
grep -q 'guest-probe: ok' "$W/console.log" || { echo "qemu-probe: FAIL the guest probe did not pass"; ok=0; }
grep -q 'guest [0-9]* connected' "$W/bridge.log" || { echo "qemu-probe: FAIL the bridge saw no guest"; ok=0; }
grep -q 'guest [0-9]* disconnected' "$W/bridge.log" || { echo "qemu-probe: FAIL the bridge saw no disconnect"; ok=0; }
if [ -n "$KMOD" ]; then
	ref=$(sed -n 's/^guest-probe: reference \(fnv=[0-9a-f]* macs=[0-9]* rd=[0-9]* wr=[0-9]* descs=[0-9]*\).*/\1/p' "$W/console.log")
	for j in job job-after-reset; do
		got=$(sed -n "s/.*f8br_irqtest: $j done=1 err=0 \(fnv=[0-9a-f]* macs=[0-9]* rd=[0-9]* wr=[0-9]* descs=[0-9]*\).*/\1/p" "$W/console.log")
		[ -n "$ref" ] && [ "$got" = "$ref" ] ||
			{ echo "qemu-probe: FAIL kernel $j: '$got', the probe's model: '$ref'"; ok=0; }
	done
	grep -q 'f8br_irqtest: ok' "$W/console.log" || { echo "qemu-probe: FAIL the kernel test did not pass"; ok=0; }
	! grep -qE 'WARNING|BUG|Call Trace' "$W/console.log" || { echo "qemu-probe: FAIL kernel warnings"; ok=0; }
fi
if [ $ok = 1 ]; then
	echo "qemu-probe: PASS --device $DEVICE: QEMU connected, the guest found 1af4:1110 and ran a job${KMOD:+, the kernel test's jobs completed by MSI-X match it} ($((t1 - t0)) s)"
	exit 0
fi
exit 1
