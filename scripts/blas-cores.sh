#!/bin/sh
# SPDX-License-Identifier: MIT
# The training suites of f8-unit once per OpenBLAS core type this CPU can execute, and once
# with OPENBLAS_CORETYPE unset (libf8 then picks the core, docs/train.md). Machines of this
# project's kind differ in which core OpenBLAS runs (some environments set
# OPENBLAS_CORETYPE=Haswell), and core types round differently: a test that passes under
# one kernel only fails here. Run by `make unit-blas-cores` (part of make check).
#
#   scripts/blas-cores.sh [F8_UNIT]      BLAS_CORES="Haswell Zen" limits the list
set -u
UNIT=${1:-build/f8-unit}
CORES=${BLAS_CORES:-"unset Prescott Nehalem Sandybridge Haswell Zen SkylakeX Cooperlake"}
SUITES="train_ops train_net train_optim train_data train_ckpt train_loop train_blas"
[ -x "$UNIT" ] || { echo "blas-cores: $UNIT not built"; exit 1; }

flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() {
	for f; do
		case "$flags" in *" $f "*) ;; *) return 1 ;; esac
	done
}
# The instructions each core type's kernels use (OpenBLAS does not check a forced core).
can_run() {
	case $1 in
	unset) true ;;
	Prescott) has pni ;;
	Nehalem) has pni ssse3 sse4_1 sse4_2 ;;
	Sandybridge) has sse4_2 avx ;;
	Haswell | Zen) has avx avx2 fma ;;
	SkylakeX) has avx2 fma avx512f avx512bw avx512dq avx512vl ;;
	Cooperlake) has avx2 fma avx512f avx512bw avx512dq avx512vl avx512_bf16 ;;
	*) return 1 ;;
	esac
}

ran=0
failed=0
skipped=""
for core in $CORES; do
	if ! can_run "$core"; then
		skipped="$skipped $core"
		continue
	fi
	for suite in $SUITES; do
		if [ "$core" = unset ]; then
			out=$(env -u OPENBLAS_CORETYPE CK_RUN_SUITE=$suite "$UNIT" 2>&1)
		else
			out=$(env OPENBLAS_CORETYPE=$core CK_RUN_SUITE=$suite "$UNIT" 2>&1)
		fi
		rc=$?
		ran=$((ran + 1))
		if [ $rc -ne 0 ]; then
			failed=$((failed + 1))
			echo "blas-cores: OPENBLAS_CORETYPE=$core, suite $suite failed (exit $rc):"
			echo "$out" | tail -n 20
		fi
	done
	echo "blas-cores: OPENBLAS_CORETYPE=$core: $(echo "$SUITES" | wc -w) training suites run"
done
[ -n "$skipped" ] && echo "blas-cores: not executable on this CPU, skipped:$skipped"
echo "blas-cores: $((ran - failed)) passed, $failed failed"
[ $failed -eq 0 ]
