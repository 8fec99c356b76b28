#!/bin/bash
# rtl-synth: Yosys 0.23 synthesis of the RTL (rtl/f8npu.f), a gate and a resource estimate.
#
#  1. Reads every file of the list in order (packages first) with `read_verilog -sv`.
#  2. The gate, at the requested parameters (default: the RTL's, 16 x 16): on the coarse-grain
#     netlist (synth_xilinx up to map_dsp: flattened, after proc, opt and wreduce; before DSP
#     mapping and alumacc), every $mul must have A_WIDTH <= 8 and B_WIDTH <= 8 and no
#     $div/$mod/$divfloor/$modfloor/$pow may be left; prints how many 8x8 multipliers there are.
#  3. The estimate: the whole synth_xilinx (out of context, no I/O buffers; without `share`
#     unless RTL_SHARE=1), LUT / LUTRAM / FF / DSP / BRAM, and how each memory was mapped. A
#     memory of RTL_FFMEM_MAX_BITS bits or more left in flip-flops fails the gate. The full
#     flow takes 10-12 CPU minutes at 16 x 16 (the check alone: 40 s), so by default the
#     estimate is made at a smaller configuration, RTL_RES_PARAMS (below; about 6 minutes),
#     in a second Yosys run. Memory data bits a small array never uses are trimmed there:
#     its BRAM and DSP numbers are those of that configuration, not of 16 x 16.
# The table goes to stdout and to $BUILD/rtl-synth.txt; logs and dumps to $BUILD/rtl-synth/.
#
# Environment:
#   BUILD                build directory (build)
#   RTL_TOP              top module (f8npu_axi_top)
#   RTL_FAMILY           synth_xilinx family: xcup (default; UltraScale+, the Zynq UltraScale+
#                        / Kria class, whose PS-PL HP ports are 128 bits wide) or xc7
#   RTL_FLIST            file list (rtl/f8npu.f)
#   RTL_ROWS RTL_COLS RTL_WBUF_BLOCKS RTL_ABUF_WORDS RTL_TAG_DEPTH
#   RTL_AXI_BYTES RTL_AXI_MAX_READS RTL_AXI_MAX_WRITES
#                        top parameters (Rows, Cols, WbufBlocks, AbufWords, TagDepth,
#                        AxiDataBytes, AxiMaxReads, AxiMaxWrites); unset: the RTL's defaults
#   RTL_PARAMS           more top parameters, "Name=Value ..."
#   RTL_RES_PARAMS       parameters changed for the estimate only (default "Rows=4 Cols=4")
#   RTL_RES_FULL=1       the estimate at the requested parameters too, in one Yosys run
#   RTL_CHECK_ONLY=1     the gate only, no estimate
#   RTL_SHARE=1          keep synth_xilinx's `share` pass (more than 20 minutes at 16 x 16)
#   RTL_FFMEM_MAX_BITS   smallest memory that must not become flip-flops (4096)
#   YOSYS                the yosys binary (yosys)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
TOP=${RTL_TOP:-f8npu_axi_top}
FAMILY=${RTL_FAMILY:-xcup}
FLIST=${RTL_FLIST:-rtl/f8npu.f}
RES_PARAMS=${RTL_RES_PARAMS:-Rows=4 Cols=4}
[ "${RTL_RES_FULL:-0}" != 1 ] || RES_PARAMS=""
FFMEM_MAX=${RTL_FFMEM_MAX_BITS:-4096}
YOSYS=${YOSYS:-yosys}
OUT=$BUILD/rtl-synth
REPORT=$BUILD/rtl-synth.txt

die() {
	echo "rtl-synth: $*" >&2
	exit 1
}

command -v "$YOSYS" >/dev/null || die "$YOSYS not found (Debian: apt-get install yosys)"
rm -rf "$OUT" "$REPORT"
mkdir -p "$OUT"

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

# Parameters: "Name=Value ..." from the environment; a later one wins.
params=""
for pv in Rows:RTL_ROWS Cols:RTL_COLS WbufBlocks:RTL_WBUF_BLOCKS AbufWords:RTL_ABUF_WORDS \
	TagDepth:RTL_TAG_DEPTH AxiDataBytes:RTL_AXI_BYTES AxiMaxReads:RTL_AXI_MAX_READS \
	AxiMaxWrites:RTL_AXI_MAX_WRITES; do
	var=${pv#*:}
	val=${!var:-}
	[ -z "$val" ] || params="$params ${pv%%:*}=$val"
done
params="$params ${RTL_PARAMS:-}"
for nv in $params $RES_PARAMS; do
	case ${nv%%=*} in "" | *[!A-Za-z0-9_]*) die "parameter '$nv': not Name=Value" ;; esac
	case ${nv#*=} in "" | *[!0-9]*) die "parameter '$nv': not a number" ;; esac
done

# "Name=Value ..." -> "Name=Value ..." without the earlier duplicates, or "defaults".
describe() {
	local out="" nv
	for nv in $1; do
		out=$(echo "$out" | tr ' ' '\n' | grep -v "^${nv%%=*}=" | tr '\n' ' ')
		out="$out $nv"
	done
	out=$(echo "$out" | xargs)
	echo "${out:-defaults}"
}

synth="synth_xilinx -family $FAMILY -flatten -noiopad -top $TOP"
case $FAMILY in xc7 | xcu | xcup | xc6s | xc6v | xc5v) lut_width=6 ;; *) lut_width=4 ;; esac

# run_yosys DIR "PARAMS" check|full: synthesis into DIR; sets $secs.
run_yosys() {
	local dir=$1 ps=$2 mode=$3 nv
	mkdir -p "$dir"
	{
		echo "read_verilog -sv ${read_args[*]}"
		for nv in $ps; do echo "chparam -set ${nv%%=*} ${nv#*=} $TOP"; done
		echo "$synth -run :map_dsp"
		echo "tee -q -o $dir/coarse-stat.txt stat"
		echo "dump -o $dir/mul.il t:\$mul"
		echo "dump -o $dir/mem.il m:*"
		echo "select -write $dir/forbidden.txt t:\$div t:\$mod t:\$divfloor t:\$modfloor t:\$pow"
		if [ "$mode" = full ]; then
			if [ "${RTL_SHARE:-0}" = 1 ]; then
				echo "$synth -run map_dsp:"
			else
				# synth_xilinx's coarse step without `share` (SAT-based resource sharing,
				# more than 20 minutes on the full core).
				echo "$synth -run map_dsp:coarse"
				echo "techmap -map +/cmp2lut.v -map +/cmp2lcu.v -D LUT_WIDTH=$lut_width"
				echo "alumacc"
				echo "opt"
				echo "memory -nomap"
				echo "opt_clean"
				echo "$synth -run map_memory:"
			fi
			echo "tee -q -o $dir/stat.txt stat"
		fi
	} >"$dir/synth.ys"
	echo "rtl-synth: yosys $FAMILY, top $TOP, $(describe "$ps"): $mode ($dir/yosys.log)"
	local t0
	t0=$(date +%s)
	if ! "$YOSYS" -q -l "$dir/yosys.log" -s "$dir/synth.ys" >/dev/null 2>&1; then
		grep -m 5 "ERROR" "$dir/yosys.log" >&2 || tail -n 20 "$dir/yosys.log" >&2
		die "yosys failed (see $dir/yosys.log)"
	fi
	secs=$(($(date +%s) - t0))
}

# check_arith DIR: the gate on DIR's coarse netlist; sets $arith.
check_arith() {
	local dir=$1 muls nmul wide forbidden fail=0
	# mul.il holds each $mul as `cell $mul NAME` followed by its parameters.
	muls=$(awk '/^ *attribute \\src/ { src = $3 }
		/^ *cell \$mul / { n++; name = $3; a = b = 0; where = src }
		/^ *parameter \\A_WIDTH / { a = $3 }
		/^ *parameter \\B_WIDTH / { b = $3 }
		/^ *end$/ && name != "" {
			if (a > 8 || b > 8) printf "  %s: %s x %s bits at %s\n", name, a, b, where
			name = ""
		}
		END { printf "count %d\n", n }' "$dir/mul.il")
	nmul=$(echo "$muls" | sed -n 's/^count //p')
	wide=$(echo "$muls" | grep -v '^count ' || true)
	forbidden=$(sort -u "$dir/forbidden.txt")
	if [ -n "$wide" ]; then
		echo "rtl-synth: FAIL: multipliers wider than 8 x 8 ($dir/mul.il):" >&2
		echo "$wide" >&2
		fail=1
	fi
	if [ -n "$forbidden" ]; then
		echo "rtl-synth: FAIL: division, modulo or power cells:" >&2
		echo "$forbidden" | awk '{ print "  " $0 }' >&2
		fail=1
	fi
	[ "$fail" = 0 ] || exit 1
	arith="$nmul multipliers, all <= 8 x 8 bits; no \$div/\$mod/\$divfloor/\$modfloor/\$pow"
}

# report DIR "PARAMS" SECONDS: the resource table of DIR's netlist, and the memory check.
report() {
	local dir=$1 ps=$2 t=$3 mems memtab="" ffbig="" name w s short how bits res
	local lut lram ff dsp b36 b18 uram carry inv bram
	mems=$(awk '/^ *memory / {
			w = 1; s = 0
			for (i = 2; i < NF; i++) { if ($i == "width") w = $(i + 1); if ($i == "size") s = $(i + 1) }
			printf "%s %d %d\n", $NF, w, s
		}' "$dir/mem.il")
	while read -r name w s; do
		[ -n "$name" ] || continue
		short=${name#\\}
		# memory_libmap logs "mapping memory TOP.NAME via CELL" or "using FF mapping for
		# memory TOP.NAME"; a memory it never saw was optimised away or became logic.
		how=$(awk -v m="$TOP.$short" '$1 == "mapping" && $2 == "memory" && $3 == m { print $5 }
			$1 == "using" && $2 == "FF" && $6 == m { print "FF" }' "$dir/yosys.log" | tail -n 1)
		case $how in
		*BLOCKRAM*) how=BRAM ;;
		*URAM*) how=URAM ;;
		*LUTRAM*) how=LUTRAM ;;
		FF) how="FF (flip-flops)" ;;
		*) how="none (optimised away or logic)" ;;
		esac
		bits=$((w * s))
		memtab="$memtab$(printf '    %-40s %5d x %-5d %7d bits  %s' "$short" "$s" "$w" "$bits" "$how")
"
		case $how in FF*) [ "$bits" -lt "$FFMEM_MAX" ] || ffbig="$ffbig $short" ;; esac
	done <<<"$mems"

	# LUTs holding memory: the LUT count of each distributed RAM / SRL primitive.
	res=$(awk '
		$1 ~ /^LUT[1-6]$/ { lut += $2 }
		$1 ~ /^(FD[CPRS]E|FD[CPRS]E_1|LD[CP]E)$/ { ff += $2 }
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
	' "$dir/stat.txt")
	read -r lut lram ff dsp b36 b18 uram carry inv <<<"$res"
	bram=$(awk -v a="$b36" -v b="$b18" 'BEGIN { printf "%.1f", a + b / 2 }')
	printf '  synth_xilinx -family %s, top %s, %s (%d s):\n' "$FAMILY" "$TOP" "$(describe "$ps")" \
		"$t"
	printf '    %-32s %8d\n' "LUT (logic)" "$lut"
	printf '    %-32s %8d\n' "LUTRAM (LUTs as memory or SRL)" "$lram"
	printf '    %-32s %8d\n' "FF" "$ff"
	printf '    %-32s %8d\n' "DSP" "$dsp"
	printf '    %-32s %8s\n' "BRAM (36 Kb: RAMB36 + RAMB18/2)" "$bram"
	[ "$uram" = 0 ] || printf '    %-32s %8d\n' "URAM" "$uram"
	printf '    %-32s %8d\n' "CARRY" "$carry"
	printf '    (not counted: %d INV, the inverted resets a vendor tool folds into the FFs)\n' "$inv"
	if [ -n "$memtab" ]; then
		echo "  memories (words x bits, mapped to):"
		printf '%s' "$memtab"
	fi
	[ -z "$ffbig" ] || echo "  FAIL: memories of $FFMEM_MAX bits or more in flip-flops:$ffbig"
}

if [ "${RTL_CHECK_ONLY:-0}" = 1 ]; then
	run_yosys "$OUT" "$params" check
	check_arith "$OUT"
	printf 'rtl-synth: top %s, %s: %s (%d s; no estimate: RTL_CHECK_ONLY)\n' "$TOP" \
		"$(describe "$params")" "$arith" "$secs" | tee "$REPORT"
	exit 0
fi

if [ -z "${RES_PARAMS//[[:space:]]/}" ]; then
	run_yosys "$OUT" "$params" full
	check_arith "$OUT"
	check_secs=$secs
	est_dir=$OUT
	est_params=$params
else
	run_yosys "$OUT/check" "$params" check
	check_arith "$OUT/check"
	check_secs=$secs
	gate=$arith
	est_dir=$OUT/estimate
	est_params="$params $RES_PARAMS"
	run_yosys "$est_dir" "$est_params" full
	check_arith "$est_dir"
	arith=$gate
fi
{
	printf 'rtl-synth: yosys 0.23, top %s, %s: %s (%d s)\n' "$TOP" "$(describe "$params")" \
		"$arith" "$check_secs"
	report "$est_dir" "$est_params" "$secs"
} | tee "$REPORT"
if grep -q '^  FAIL' "$REPORT"; then
	exit 1
fi
