#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a command with an f8npu-bridge serving one device (docs/cosim.md), for VM tests:
#
#   tests/bridge/with-bridge.sh BRIDGE [BRIDGE OPTIONS...] -- COMMAND [ARGS...]
#
# Starts BRIDGE --socket <temporary socket> [BRIDGE OPTIONS] -v, waits until it listens, runs
# COMMAND with, in its environment,
#   F8_BRIDGE_SOCK        the socket
#   F8_BRIDGE_QEMU_ARGS   the QEMU arguments that attach a guest to it:
#                         -chardev socket,path=SOCK,id=f8br -device ivshmem-doorbell,chardev=f8br,vectors=1
# then stops the bridge (SIGTERM) and prints its log (stderr) to standard error. The exit status
# is COMMAND's; 1 if COMMAND passed but the bridge died on its own or did not exit cleanly;
# 2 on bad usage or when the bridge does not start.
#
#   tests/bridge/with-bridge.sh build/f8npu-bridge --device rtl:16x16 -- \
#       sh -c 'qemu-system-x86_64 ... $F8_BRIDGE_QEMU_ARGS'
set -u

[ $# -ge 3 ] || { echo "usage: $0 BRIDGE [OPTIONS...] -- COMMAND [ARGS...]" >&2; exit 2; }
BRIDGE=$1
shift
[ -x "$BRIDGE" ] || { echo "with-bridge: $BRIDGE is not executable" >&2; exit 2; }
W=$(mktemp -d /tmp/f8-bridge-XXXXXX)
SOCK=$W/f8.sock
# The bridge's options: everything up to --, quoted for eval.
BARGS=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	BARGS="$BARGS '$(printf '%s' "$1" | sed "s/'/'\\\\''/g")'"
	shift
done
[ $# -gt 1 ] || { echo "with-bridge: no -- COMMAND" >&2; rm -rf "$W"; exit 2; }
shift
BPID=""
cleanup() {
	[ -z "$BPID" ] || kill "$BPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
# exec: $! is the bridge itself, not a subshell around it
eval "exec \"\$BRIDGE\" --socket \"\$SOCK\" $BARGS -v" 2>"$W/bridge.log" &
BPID=$!
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1))
	if [ $i -gt 400 ] || ! kill -0 "$BPID" 2>/dev/null; then
		cat "$W/bridge.log" >&2
		echo "with-bridge: the bridge did not start" >&2
		exit 2
	fi
	sleep 0.05
done
F8_BRIDGE_SOCK=$SOCK
F8_BRIDGE_QEMU_ARGS="-chardev socket,path=$SOCK,id=f8br -device ivshmem-doorbell,chardev=f8br,vectors=1"
export F8_BRIDGE_SOCK F8_BRIDGE_QEMU_ARGS
"$@"
rc=$?
alive=1
kill -0 "$BPID" 2>/dev/null || alive=0
kill "$BPID" 2>/dev/null
wait "$BPID"
brc=$?
BPID=""
echo "--- f8npu-bridge log ---" >&2
cat "$W/bridge.log" >&2
if [ $rc -eq 0 ] && { [ $alive = 0 ] || [ $brc -ne 0 ]; }; then
	echo "with-bridge: the bridge died during the command or did not exit cleanly (status $brc)" >&2
	exit 1
fi
exit $rc
