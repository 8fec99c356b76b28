#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot Debian's own kernel in QEMU (TCG) with a busybox initramfs, load kernel modules, run
# static test programs inside, and report each one (docs/testing.md, "VM tests").
#
#   tests/vm/run-vm.sh [--module F8NPU.ko [--modparams 'a=1 b=2']] [--kmod NAME]...
#                      [--bin PROG]... [--run 'NAME:COMMAND']... [--file SRC[=DEST]]...
#                      [--cache DIR] [--timeout S] [--mem MB] [--smp N] [--log FILE]
#                      [--no-unload] [--qemu-args 'ARGS'] [-v]
#
#   --module F.ko   an out-of-tree module, loaded with insmod after the kernel image's modules it
#                   depends on (modinfo's depends, recursively); repeatable, loaded in order and
#                   unloaded in reverse order after the tests (a step of its own, unless --no-unload)
#   --modparams P   parameters of the last --module ("hang_job=1 timeout_ms=500")
#   --kmod NAME     a module of the kernel image to load before the --module ones (with its own
#                   dependencies); repeatable. Default: drm drm_shmem_helper. --kmod none: none.
#   --bin PROG      a statically linked program, copied to /bin and run as one test (no arguments)
#   --run 'N:CMD'   a test named N ([A-Za-z0-9_.-]) running the shell command CMD in the VM
#   --file S[=D]    copy the host file S into the VM at D (default /data/<basename of S>);
#                   a static f8 tool: --file build-x/f8=/bin/f8
#   --cache DIR     where the kernel image is fetched once (default build/vm; also $F8_VM_CACHE)
#   --timeout S     the whole boot, tests and poweroff (default 300 s; also $F8_VM_TIMEOUT)
#   --log FILE      where the console log is kept, CR removed (default DIR/console.log; give
#                   each of several parallel runs its own)
#   --qemu-args A   extra arguments appended to the qemu-system-x86_64 command line, split at
#                   blanks (no quoting inside); repeatable. A bridged device (docs/cosim.md):
#                   tests/bridge/with-bridge.sh BRIDGE -- run-vm.sh --qemu-args "$F8_BRIDGE_QEMU_ARGS"
#   -v              print the whole console log, not only the failed steps' output
#
# Every module load, test and unload is a step; the summary names each step PASS or FAIL
# and ends with "vm: N passed, N failed". The exit status is 0 only if every step ran and
# exited 0, the kernel log (dmesg, dumped at the end) has no WARN, BUG, Oops, refcount,
# KASAN/UBSAN, lockdep or hung-task report, and the VM powered off before the timeout.
# 1: a failure of the above; 2: bad usage or a host problem (packages, kernel image).
#
# The kernel is linux-image-$KVER of Debian's archive, KVER the version linux-headers-amd64
# depends on (the one modules are built against): `apt-get download` + `dpkg-deb -x`, never
# installed. The host needs qemu-system-x86 busybox-static cpio kmod (scripts/deps.sh).
set -eu

die() { echo "run-vm: $*" >&2; exit 2; }

CACHE=${F8_VM_CACHE:-build/vm}
TIMEOUT=${F8_VM_TIMEOUT:-300}
MEM=1024
SMP=1
LOG=""
VERBOSE=0
UNLOAD=1
KMODS=""
KMODS_SET=0
MODULES=""  # newline-separated "path<TAB>params"
STEPS_BIN="" # newline-separated paths
RUNS=""     # newline-separated "name:command"
FILES=""    # newline-separated "src=dest"
QEMU_ARGS="" # blank-separated
NL='
'
TAB=$(printf '\t')

need_arg() { [ $# -ge 2 ] || die "$1 needs a value (--help)"; }
while [ $# -gt 0 ]; do
	case $1 in
	--module) need_arg "$@"; MODULES="$MODULES$2$TAB$NL"; shift 2 ;;
	--modparams)
		need_arg "$@"
		[ -n "$MODULES" ] || die "--modparams '$2' before any --module"
		case $2 in *"$TAB"* | *"$NL"* | *"'"*) die "--modparams: no tab, newline or quote" ;; esac
		# the last line's parameters
		MODULES=$(printf '%s' "$MODULES" | sed '$ s/\t.*$//')"$TAB$2$NL"
		shift 2 ;;
	--kmod)
		need_arg "$@"
		KMODS_SET=1
		[ "$2" = none ] || KMODS="$KMODS $2"
		shift 2 ;;
	--bin) need_arg "$@"; STEPS_BIN="$STEPS_BIN$2$NL"; shift 2 ;;
	--run) need_arg "$@"; RUNS="$RUNS$2$NL"; shift 2 ;;
	--file) need_arg "$@"; FILES="$FILES$2$NL"; shift 2 ;;
	--cache) need_arg "$@"; CACHE=$2; shift 2 ;;
	--timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
	--mem) need_arg "$@"; MEM=$2; shift 2 ;;
	--smp) need_arg "$@"; SMP=$2; shift 2 ;;
	--log) need_arg "$@"; LOG=$2; shift 2 ;;
	--no-unload) UNLOAD=0; shift ;;
	--qemu-args) need_arg "$@"; QEMU_ARGS="$QEMU_ARGS $2"; shift 2 ;;
	-v) VERBOSE=1; shift ;;
	-h | --help) sed -n '3,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (--help)" ;;
	esac
done
[ "$KMODS_SET" = 1 ] || KMODS="drm drm_shmem_helper"
for v in "$TIMEOUT:--timeout" "$MEM:--mem" "$SMP:--smp"; do
	case ${v%%:*} in '' | *[!0-9]*) die "${v#*:} '${v%%:*}': not a positive integer" ;; esac
	[ "${v%%:*}" -gt 0 ] || die "${v#*:} must be positive"
done
[ "$SMP" -le 2 ] || die "--smp $SMP: at most 2 (the machines have 2 cores)"

for t in qemu-system-x86_64 cpio modinfo dpkg-deb apt-get timeout flock; do
	command -v "$t" >/dev/null || die "$t not found: run scripts/deps.sh (make deps)"
done
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP ||
	die "$BUSYBOX is not a static busybox: install busybox-static"

# A static program: no program interpreter (it must run in an initramfs without libc).
is_static() { readelf -l "$1" 2>/dev/null | grep -q 'Elf file type' && ! readelf -l "$1" | grep -q INTERP; }

KVER=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | sed -E 's/^linux-headers-([^ ,]+).*/\1/')
[ -n "$KVER" ] || die "linux-headers-amd64 is not installed: run scripts/deps.sh (make deps)"

# ---- the kernel image, fetched once per KVER (a lock: two runs may share the cache) ----
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
KDIR=$CACHE/$KVER
exec 9>"$CACHE/.lock"
flock 9
if [ ! -f "$KDIR/.complete" ]; then
	echo "run-vm: fetching linux-image-$KVER into $KDIR"
	rm -rf "$KDIR" "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	# _apt cannot write into a root-owned directory: the download is unsandboxed (a warning)
	(cd "$KDIR.tmp" && apt-get download -q "linux-image-$KVER" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
		true
	deb=$(ls "$KDIR.tmp"/linux-image-"$KVER"_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "apt-get download linux-image-$KVER failed (apt-get update?)"
	dpkg-deb -x "$deb" "$KDIR.tmp/x" || die "dpkg-deb -x $deb failed"
	rm -f "$deb"
	[ -f "$KDIR.tmp/x/boot/vmlinuz-$KVER" ] || die "linux-image-$KVER has no boot/vmlinuz-$KVER"
	mv "$KDIR.tmp/x/boot/vmlinuz-$KVER" "$KDIR.tmp/vmlinuz"
	mv "$KDIR.tmp/x/lib/modules/$KVER/kernel" "$KDIR.tmp/kernel"
	rm -rf "$KDIR.tmp/x"
	touch "$KDIR.tmp/.complete"
	mv "$KDIR.tmp" "$KDIR"
fi
flock -u 9

# ---- the initramfs ----
W=$(mktemp -d /tmp/f8-vm-XXXXXX)
trap 'rm -rf "$W"' EXIT
R=$W/root
mkdir -p "$R/bin" "$R/lib/modules" "$R/data" "$R/dev" "$R/proc" "$R/sys" "$R/tmp"
cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"

# The image module named NAME (- and _ are the same in module names).
find_kmod() {
	n=$(printf '%s' "$1" | tr '_' '-')
	u=$(printf '%s' "$1" | tr '-' '_')
	find "$KDIR/kernel" \( -name "$n.ko" -o -name "$u.ko" \) | head -n 1
}

LOADS="" # newline-separated "name<TAB>file in the VM<TAB>params", in load order
loaded() { printf '%s' "$LOADS" | cut -f1 | tr '-' '_' | grep -qx "$(printf '%s' "$1" | tr '-' '_')"; }
# Add image module NAME after its dependencies.
add_kmod() {
	loaded "$1" && return 0
	f=$(find_kmod "$1")
	[ -n "$f" ] || die "no module '$1' in linux-image-$KVER"
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		add_kmod "$d"
	done
	f=$(find_kmod "$1") # the recursion reused the variable
	cp "$f" "$R/lib/modules/"
	LOADS="$LOADS$1$TAB/lib/modules/$(basename "$f")$TAB$NL"
}
for m in $KMODS; do add_kmod "$m"; done
UNLOADS=""
while IFS="$TAB" read -r path params; do
	[ -n "$path" ] || continue
	[ -f "$path" ] || die "--module $path: no such file"
	name=$(modinfo -F name "$path" 2>/dev/null) || die "--module $path: not a kernel module"
	[ -n "$name" ] || name=$(basename "$path" .ko)
	vm=$(modinfo -F vermagic "$path" | cut -d' ' -f1)
	[ "$vm" = "$KVER" ] || die "--module $path: built for '$vm', the VM runs $KVER"
	for d in $(modinfo -F depends "$path" | tr ',' ' '); do
		loaded "$d" || add_kmod "$d"
	done
	cp "$path" "$R/lib/modules/$name.ko"
	LOADS="$LOADS$name$TAB/lib/modules/$name.ko$TAB$params$NL"
	UNLOADS="$name $UNLOADS"
done <<EOF
$MODULES
EOF

# Steps: "kind<TAB>name<TAB>command" (kind: insmod, test, rmmod).
STEPS=""
while IFS="$TAB" read -r name file params; do
	[ -n "$name" ] || continue
	STEPS="${STEPS}insmod${TAB}insmod:$name${TAB}insmod $file $params$NL"
done <<EOF
$LOADS
EOF
while IFS= read -r b; do
	[ -n "$b" ] || continue
	[ -f "$b" ] || die "--bin $b: no such file"
	is_static "$b" || die "--bin $b: not a statically linked ELF program (gcc -static)"
	n=$(basename "$b")
	[ ! -e "$R/bin/$n" ] || die "--bin $b: a program named $n is already in the VM"
	cp "$b" "$R/bin/$n"
	chmod 755 "$R/bin/$n"
	STEPS="${STEPS}test${TAB}$n${TAB}/bin/$n$NL"
done <<EOF
$STEPS_BIN
EOF
while IFS= read -r spec; do
	[ -n "$spec" ] || continue
	s=${spec%%=*}
	d=${spec#*=}
	[ "$d" != "$spec" ] || d=/data/$(basename "$s")
	[ -f "$s" ] || die "--file $s: no such file"
	case $d in /*) ;; *) die "--file $spec: the destination must be an absolute path" ;; esac
	case $d in /bin/*) is_static "$s" || die "--file $s: a program in /bin must be static" ;; esac
	mkdir -p "$R$(dirname "$d")"
	cp "$s" "$R$d"
done <<EOF
$FILES
EOF
while IFS= read -r r; do
	[ -n "$r" ] || continue
	n=${r%%:*}
	c=${r#*:}
	[ "$n" != "$r" ] && [ -n "$c" ] || die "--run '$r': expected NAME:COMMAND"
	case $n in '' | *[!A-Za-z0-9_.-]*) die "--run '$r': the name must be [A-Za-z0-9_.-]" ;; esac
	case $c in *"$TAB"*) die "--run '$r': no tab in the command" ;; esac
	STEPS="${STEPS}test${TAB}$n${TAB}$c$NL"
done <<EOF
$RUNS
EOF
if [ "$UNLOAD" = 1 ]; then
	for m in $UNLOADS; do STEPS="${STEPS}rmmod${TAB}rmmod:$m${TAB}rmmod $m$NL"; done
fi
[ -n "$STEPS" ] || die "nothing to do: give --kmod, --module, --bin or --run"
names=$(printf '%s' "$STEPS" | cut -f2 | sort | uniq -d)
[ -z "$names" ] || die "two steps have the same name: $names"

# /init: each step between markers the host reads back; a failed module load stops the run
# (what follows would only fail for that reason, and is reported as not run).
{
	cat <<'EOF'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin HOME=/tmp
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "@@F8VM BOOT $(uname -r)"
step() {
	kind=$1 name=$2
	shift 2
	echo "@@F8VM BEGIN $name"
	sh -c "$*" </dev/null 2>&1
	rc=$?
	echo "@@F8VM END $name $rc"
	if [ "$kind" = insmod ] && [ "$rc" != 0 ]; then
		echo "@@F8VM ABORT $name"
		end
	fi
}
end() {
	echo "@@F8VM DMESG"
	dmesg
	echo "@@F8VM DMESG-END"
	echo "@@F8VM DONE"
	sync
	poweroff -f
	sleep 60
}
EOF
	printf '%s' "$STEPS" | while IFS="$TAB" read -r kind name cmd; do
		q=$(printf '%s' "$cmd" | sed "s/'/'\\\\''/g")
		printf "step %s %s '%s'\n" "$kind" "$name" "$q"
	done
	echo end
} >"$R/init"
chmod 755 "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"

# ---- boot ----
[ -n "$LOG" ] || LOG=$CACHE/console.log
RAW=$W/console.raw
echo "run-vm: booting $KVER ($(printf '%s' "$STEPS" | wc -l) steps, timeout ${TIMEOUT}s)"
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -machine pc -cpu max -m "$MEM" -smp "$SMP" \
	-nographic -net none -no-reboot -kernel "$KDIR/vmlinuz" -initrd "$W/initrd.gz" \
	-append 'console=ttyS0 panic=-1 quiet' $QEMU_ARGS </dev/null >"$RAW" 2>&1
qrc=$?
set -e
# The verdict reads this run's own copy: runs in parallel may share a --log path.
tr -d '\r' <"$RAW" >"$W/console.txt"
cp "$W/console.txt" "$LOG"
[ "$VERBOSE" = 0 ] || cat "$W/console.txt"

# ---- the verdict ----
pass=0
fail=0
problems=""
report() { # step name, verdict, detail
	printf '  %-4s %s%s\n' "$2" "$1" "${3:+ ($3)}"
	if [ "$2" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
# The output of step $1 (between its markers).
# (The serial console may put escape sequences or kernel messages before a marker.)
step_output() { awk -v b="@@F8VM BEGIN $1" -v e="@@F8VM END $1 " '!p && substr($0, length($0) - length(b) + 1) == b { p = 1; next } index($0, e) { p = 0 } p' "$W/console.txt"; }
echo "run-vm: results"
while IFS="$TAB" read -r kind name cmd; do
	[ -n "$name" ] || continue
	end=$(awk -v p="@@F8VM END $name " 'index($0, p) { print substr($0, index($0, p)); exit }' "$W/console.txt")
	if [ -z "$end" ]; then
		report "$name" FAIL "not run or did not end"
		continue
	fi
	rc=${end##* }
	if [ "$rc" = 0 ]; then
		report "$name" PASS
	else
		report "$name" FAIL "exit status $rc"
		[ "$VERBOSE" = 1 ] || step_output "$name" | tail -n 40 | sed 's/^/       | /'
	fi
done <<EOF
$STEPS
EOF
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	problems="${problems}timed out after ${TIMEOUT}s$NL"
elif ! grep -q '@@F8VM DONE' "$W/console.txt"; then
	problems="${problems}the VM stopped before the end (qemu exit status $qrc)$NL"
fi
grep -q '@@F8VM BOOT' "$W/console.txt" || problems="${problems}the kernel did not reach /init$NL"
# The kernel's reports: in the dmesg dump, or anywhere on the console if the dump is missing.
KPAT='WARNING:|BUG:|kernel BUG|Oops|general protection fault|Call Trace:|refcount_t:|KASAN|UBSAN|kernel panic|Kernel panic|list_(add|del) corruption|possible circular locking|INFO: task .* blocked|RIP: |page allocation failure|unreferenced object'
if grep -q '@@F8VM DMESG-END' "$W/console.txt"; then
	klog=$(awk '/@@F8VM DMESG$/ { p = 1; next } /@@F8VM DMESG-END$/ { p = 0 } p' "$W/console.txt")
else
	klog=$(cat "$W/console.txt")
fi
bad=$(printf '%s\n' "$klog" | grep -E "$KPAT" | head -n 20 || true)
[ -z "$bad" ] || problems="${problems}kernel reports:$NL$(printf '%s' "$bad" | sed 's/^/       | /')$NL"
if [ -n "$problems" ]; then
	printf '%s' "$problems" | sed 's/^/  FAIL /; s/^  FAIL        |/       |/'
	fail=$((fail + 1))
fi
echo "vm: $pass passed, $fail failed (console: $LOG)"
[ "$fail" = 0 ]
