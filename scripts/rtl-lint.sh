#!/bin/sh
# rtl-lint: the lint gate of the RTL (docs/rtl.md, coding rules).
#
#  1. Every file of rtl/f8npu.f: no tab, no line over 100 columns, no Verilator lint pragma
#     (waivers live only in rtl/lint/verilator_waiver.vlt).
#  2. Every `lint_off` of the waiver file has a // comment on the line before it.
#  3. `verilator --lint-only -Wall` with the waiver file, for each top (f8npu_axi_top, the
#     FPGA top, and f8npu_core, the simulation top), must print nothing.
#
# Environment: RTL_FLIST (rtl/f8npu.f), RTL_LINT_TOPS ("f8npu_axi_top f8npu_core"),
# VERILATOR (verilator).
set -eu
cd "$(dirname "$0")/.."

FLIST=${RTL_FLIST:-rtl/f8npu.f}
TOPS=${RTL_LINT_TOPS:-f8npu_axi_top f8npu_core}
WAIVER=rtl/lint/verilator_waiver.vlt
VERILATOR=${VERILATOR:-verilator}

die() {
	echo "rtl-lint: $*" >&2
	exit 1
}

command -v "$VERILATOR" >/dev/null || die "$VERILATOR not found (Debian: apt-get install verilator)"
[ -f "$WAIVER" ] || die "no $WAIVER"

files=$(sed -e 's@//.*@@' -e 's/#.*//' -e 's/[[:space:]]//g' "$FLIST" | grep -v '^+' | grep . || true)
[ -n "$files" ] || die "$FLIST lists no file"
fail=0
nfiles=0
for f in $files; do
	[ -f "$f" ] || die "$FLIST: no file '$f'"
	nfiles=$((nfiles + 1))
	bad=$(awk -v f="$f" '
		/\t/ { printf "%s:%d: tab\n", f, FNR }
		length($0) > 100 { printf "%s:%d: %d columns (at most 100)\n", f, FNR, length($0) }
		/verilator[ \t]+(lint_off|lint_on|lint_save|lint_restore|coverage_off|tracing_off)/ {
			printf "%s:%d: lint pragma: waive in rtl/lint/verilator_waiver.vlt\n", f, FNR
		}' "$f")
	if [ -n "$bad" ]; then
		echo "$bad" >&2
		fail=1
	fi
done

# A waiver says why: a // comment line right above each lint_off.
bad=$(awk -v f="$WAIVER" '
	/^[ \t]*lint_off/ && prev !~ /^[ \t]*\/\// { printf "%s:%d: waiver without a comment above\n", f, FNR }
	{ prev = $0 }' "$WAIVER")
if [ -n "$bad" ]; then
	echo "$bad" >&2
	fail=1
fi
nwaivers=$(grep -c '^[[:space:]]*lint_off' "$WAIVER" || true)

for top in $TOPS; do
	if out=$("$VERILATOR" --lint-only -Wall "$WAIVER" -f "$FLIST" --top-module "$top" 2>&1) &&
		[ -z "$out" ]; then
		echo "rtl-lint: $top: verilator --lint-only -Wall clean"
	else
		echo "$out" | head -n 60 >&2
		echo "rtl-lint: $top: verilator --lint-only -Wall NOT clean" >&2
		fail=1
	fi
done
[ "$fail" = 0 ] || die "FAIL"
echo "rtl-lint: $nfiles files, tops $TOPS: clean, $nwaivers waiver(s) in $WAIVER"
