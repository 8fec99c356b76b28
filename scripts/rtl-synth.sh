#!/bin/bash
# rtl-synth: Yosys 0.23 synthesis of the RTL (rtl/f8npu.f) as a gate and a resource estimate.
#
#  1. Reads every file of the list in order (package first) with `read_verilog -sv`.
#  2. On the coarse-grain netlist (synth_xilinx up to map_dsp: flattened, after proc, opt,
#     wreduce; before DSP mapping and alumacc), checks from Yosys' own cells that every $mul
#     has A_WIDTH <= 8 and B_WIDTH <= 8 and that no $div/$mod/$divfloor/$modfloor/$pow is
#     left, and counts the 8x8 multipliers.
#  3. Finishes synth_xilinx (out of context: no I/O buffers; without the `share` pass unless
#     RTL_SHARE=1) and reports LUT / FF / DSP / BRAM / LUTRAM, and how each memory was mapped. A memory of RTL_FFMEM_MAX_BITS bits or
#     more that ends up in flip-flops fails the gate.
# The table goes to stdout and to $BUILD/rtl-synth.txt; logs and netlist dumps to
# $BUILD/rtl-synth/.
#
# Environment:
#   BUILD                build directory (build)
#   RTL_TOP              top module (f8npu_axi_top)
#   RTL_FAMILY           synth_xilinx family (xcup: UltraScale+, the Zynq UltraScale+ / Kria
#                        class whose HP ports are 128 bits wide); xc7 for 7-series
#   RTL_FLIST            file list (rtl/f8npu.f)
#   RTL_ROWS RTL_COLS RTL_WBUF_BLOCKS RTL_ABUF_WORDS RTL_TAG_DEPTH
#   RTL_AXI_BYTES RTL_AXI_MAX_READS RTL_AXI_MAX_WRITES
#                        top parameters (Rows, Cols, WbufBlocks, AbufWords, TagDepth,
#                        AxiDataBytes, AxiMaxReads, AxiMaxWrites); unset: the RTL's defaults
#   RTL_PARAMS           more top parameters, "Name=Value ..."
#   RTL_CHECK_ONLY=1     stop after the coarse-netlist check (no resource numbers)
#   RTL_SHARE=1          keep synth_xilinx's `share` pass (slow: > 20 min at 16 x 16)
#   RTL_FFMEM_MAX_BITS   smallest memory that must not become flip-flops (4096)
#   YOSYS                the yosys binary (yosys)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
TOP=${RTL_TOP:-f8npu_axi_top}
FAMILY=${RTL_FAMILY:-xcup}
FLIST=${RTL_FLIST:-rtl/f8npu.f}
FFMEM_MAX=${RTL_FFMEM_MAX_BITS:-4096}
YOSYS=${YOSYS:-yosys}
OUT=$BUILD/rtl-synth
REPORT=$BUILD/rtl-synth.txt

die() {
	echo "rtl-synth: $*" >&2
	exit 1
}

command -v "$YOSYS" >/dev/null || die "$YOSYS not found (Debian: apt-get install yosys)"
mkdir -p "$OUT"
rm -f "$REPORT"

# The file list: one path per line in compile order; +incdir+DIR and +define+NAME[=VALUE]
# lines; blank lines and // or # comments are skipped.
read_args=()
nfiles=0
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%%//*}
	line=${line%%#*}
	line=$(echo "$line" | tr -d '[:space:]')
	case $line in
	"") ;;
	+incdir+*) read_args+=("-I${line#+incdir+}") ;;
	+define+*) read_args+=("-D${line#+define+}") ;;
	[-+]*) die "$FLIST: unsupported option '$line'" ;;
	*)
		[ -f "$line" ] || die "$FLIST: no file '$line'"
		read_args+=("$line")
		nfiles=$((nfiles + 1))
		;;
	esac
done <"$FLIST"
[ "$nfiles" -gt 0 ] || die "$FLIST lists no file"

# Parameters from the environment.
chparams=""
config=""
params=""
for pv in Rows:RTL_ROWS Cols:RTL_COLS WbufBlocks:RTL_WBUF_BLOCKS AbufWords:RTL_ABUF_WORDS \
	TagDepth:RTL_TAG_DEPTH AxiDataBytes:RTL_AXI_BYTES AxiMaxReads:RTL_AXI_MAX_READS \
	AxiMaxWrites:RTL_AXI_MAX_WRITES; do
	var=${pv#*:}
	val=${!var:-}
	[ -z "$val" ] || params="$params ${pv%%:*}=$val"
done
for nv in $params ${RTL_PARAMS:-}; do
	name=${nv%%=*}
	val=${nv#*=}
	case $name in "" | *[!A-Za-z0-9_]*) die "parameter '$nv': not Name=Value" ;; esac
	case $val in "" | *[!0-9]*) die "parameter '$nv': not a number" ;; esac
	chparams="$chparams
chparam -set $name $val $TOP"
	config="$config $name=$val"
done
config=${config:- defaults}

synth="synth_xilinx -family $FAMILY -flatten -noiopad -top $TOP"
case $FAMILY in xc7 | xcu | xcup | xc6s | xc6v | xc5v) lut_width=6 ;; *) lut_width=4 ;; esac
{
	echo "read_verilog -sv ${read_args[*]}"
	echo "$chparams"
	echo "$synth -run :map_dsp"
	echo "tee -q -o $OUT/coarse-stat.txt stat"
	echo "dump -o $OUT/mul.il t:\$mul"
	echo "dump -o $OUT/mem.il m:*"
	echo "select -write $OUT/forbidden.txt t:\$div t:\$mod t:\$divfloor t:\$modfloor t:\$pow"
	if [ "${RTL_CHECK_ONLY:-0}" != 1 ]; then
		if [ "${RTL_SHARE:-0}" = 1 ]; then
			echo "$synth -run map_dsp:"
		else
			# synth_xilinx's coarse step without `share`, the SAT-based resource sharing
			# that takes more than 20 minutes on the full core and saves little.
			echo "$synth -run map_dsp:coarse"
			echo "techmap -map +/cmp2lut.v -map +/cmp2lcu.v -D LUT_WIDTH=$lut_width"
			echo "alumacc"
			echo "opt"
			echo "memory -nomap"
			echo "opt_clean"
			echo "$synth -run map_memory:"
		fi
		echo "tee -q -o $OUT/stat.txt stat"
	fi
} >"$OUT/synth.ys"

echo "rtl-synth: yosys $FAMILY, top $TOP,$config ($nfiles files; log in $OUT/yosys.log)"
t0=$(date +%s)
if ! "$YOSYS" -q -l "$OUT/yosys.log" -s "$OUT/synth.ys" >/dev/null 2>&1; then
	grep -m 5 -i "error" "$OUT/yosys.log" >&2 || tail -n 20 "$OUT/yosys.log" >&2
	die "yosys failed (see $OUT/yosys.log)"
fi
secs=$(($(date +%s) - t0))

# ---- the arithmetic check, on the coarse netlist ----
# mul.il holds each $mul as `cell $mul NAME` followed by its parameters.
muls=$(awk '/^ *attribute \\src/ { src = $3 }
	/^ *cell \$mul / { n++; name = $3; a = b = 0; where = src }
	/^ *parameter \\A_WIDTH / { a = $3 }
	/^ *parameter \\B_WIDTH / { b = $3 }
	/^ *end$/ && name != "" {
		if (a > 8 || b > 8) printf "  %s: %s x %s bits at %s\n", name, a, b, where
		name = ""
	}
	END { printf "count %d\n", n }' "$OUT/mul.il")
nmul=$(echo "$muls" | sed -n 's/^count //p')
wide=$(echo "$muls" | grep -v '^count ' || true)
forbidden=$(sort -u "$OUT/forbidden.txt")
fail=0
if [ -n "$wide" ]; then
	echo "rtl-synth: FAIL: multipliers wider than 8 x 8:" >&2
	echo "$wide" >&2
	fail=1
fi
if [ -n "$forbidden" ]; then
	echo "rtl-synth: FAIL: division, modulo or power cells:" >&2
	echo "$forbidden" | sed 's/^/  /' >&2
	fail=1
fi
[ "$fail" = 0 ] || exit 1
arith="$nmul multipliers, all <= 8 x 8 bits; no \$div/\$mod/\$divfloor/\$modfloor/\$pow"
echo "rtl-synth: arithmetic: $arith"

if [ "${RTL_CHECK_ONLY:-0}" = 1 ]; then
	printf 'rtl-synth: %s top %s,%s: check only, %d s\n%s\n' "$FAMILY" "$TOP" "$config" \
		"$secs" "$arith" >"$REPORT"
	echo "rtl-synth: check passed in $secs s (RTL_CHECK_ONLY: no resource numbers)"
	exit 0
fi

# ---- memories: how memory_libmap mapped each one ----
mems=$(awk '/^ *memory / {
		w = 1; s = 0
		for (i = 2; i < NF; i++) { if ($i == "width") w = $(i + 1); if ($i == "size") s = $(i + 1) }
		printf "%s %d %d\n", $NF, w, s
	}' "$OUT/mem.il")
memtab=""
ffbig=""
while read -r name w s; do
	[ -n "$name" ] || continue
	short=${name#\\}
	# memory_libmap logs "mapping memory TOP.NAME via CELL" or "using FF mapping for memory
	# TOP.NAME"; a memory it never saw was optimised away or turned into logic before.
	how=$(awk -v m="$TOP.$short" '$1 == "mapping" && $2 == "memory" && $3 == m { print $5 }
		$1 == "using" && $2 == "FF" && $6 == m { print "FF" }' "$OUT/yosys.log" | tail -n 1)
	case $how in
	*BLOCKRAM*) how=BRAM ;;
	*URAM*) how=URAM ;;
	*LUTRAM*) how=LUTRAM ;;
	FF) how="FF (flip-flops)" ;;
	*) how="none (optimised away or logic)" ;;
	esac
	bits=$((w * s))
	memtab="$memtab$(printf '  %-44s %5d x %-6d %8d bits  %s' "$short" "$s" "$w" "$bits" "$how")
"
	case $how in FF*) [ "$bits" -lt "$FFMEM_MAX" ] || ffbig="$ffbig $short" ;; esac
done <<<"$mems"

# ---- resources, from the final statistics ----
# LUTs that hold memory: LUT count of each distributed RAM / SRL primitive.
res=$(awk '
	$1 ~ /^LUT[1-6]$/ { lut += $2 }
	$1 ~ /^FD[CPRS]E$/ || $1 ~ /^FD[CPRS]E_1$/ || $1 ~ /^LD[CP]E$/ { ff += $2 }
	$1 ~ /^DSP48/ { dsp += $2 }
	$1 ~ /^RAMB36/ { b36 += $2 }
	$1 ~ /^RAMB18/ { b18 += $2 }
	$1 ~ /^URAM/ { uram += $2 }
	$1 ~ /^CARRY/ { carry += $2 }
	$1 == "INV" { inv += $2 }
	$1 ~ /^(RAM32X1S|RAM64X1S|SRL16E|SRLC16E|SRLC32E)$/ { lram += $2 }
	$1 ~ /^(RAM32X1D|RAM64X1D|RAM128X1S)$/ { lram += 2 * $2 }
	$1 ~ /^(RAM32M|RAM64M|RAM128X1D|RAM256X1S)$/ { lram += 4 * $2 }
	$1 ~ /^(RAM32M16|RAM64M8|RAM256X1D|RAM512X1S)$/ { lram += 8 * $2 }
	END { printf "%d %d %d %d %d %d %d %d %d\n", lut, lram, ff, dsp, b36, b18, uram, carry, inv }
' "$OUT/stat.txt")
read -r lut lram ff dsp b36 b18 uram carry inv <<<"$res"
bram=$(awk -v a="$b36" -v b="$b18" 'BEGIN { printf "%.1f", a + b / 2 }')

{
	printf 'rtl-synth: yosys 0.23 synth_xilinx -family %s, top %s,%s (%d s)\n' \
		"$FAMILY" "$TOP" "$config" "$secs"
	printf '  %-30s %8s\n' "resource" "count"
	printf '  %-30s %8d\n' "LUT (logic)" "$lut"
	printf '  %-30s %8d\n' "LUTRAM (LUTs as memory/SRL)" "$lram"
	printf '  %-30s %8d\n' "FF" "$ff"
	printf '  %-30s %8d\n' "DSP" "$dsp"
	printf '  %-30s %8s\n' "BRAM (36 Kb; RAMB36+RAMB18/2)" "$bram"
	[ "$uram" = 0 ] || printf '  %-30s %8d\n' "URAM" "$uram"
	printf '  %-30s %8d\n' "CARRY" "$carry"
	printf '  (%d INV cells not counted: reset/clock-enable inversions a vendor tool absorbs)\n' \
		"$inv"
	echo "  arithmetic: $arith"
	if [ -n "$memtab" ]; then
		echo "  memories (name, words x bits, total, mapped to):"
		printf '%s' "$memtab"
	fi
} | tee "$REPORT"

if [ -n "$ffbig" ]; then
	die "FAIL: memories of $FFMEM_MAX bits or more not mapped to RAM:$ffbig"
fi
