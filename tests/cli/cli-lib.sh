# SPDX-License-Identifier: MIT
# Shared by the command-line tests (tests/cli/*-cli.sh), sourced after setting F8 (the
# binary) and T (a scratch directory): counts checks in n and failures in fails.
fails=0
n=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_usage "message fragment" args...: exit status 1 and the fragment on stderr.
expect_usage() {
	want=$1
	shift
	n=$((n + 1))
	"$F8" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "f8 $*: exit $rc, expected 1"
	elif ! grep -qF -- "$want" "$T/err"; then
		fail "f8 $*: stderr lacks '$want': $(head -c 300 "$T/err")"
	fi
}

# expect_ok args...: exit status 0 (stdout in $T/out, stderr in $T/err).
expect_ok() {
	n=$((n + 1))
	"$F8" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 0 ] || fail "f8 $*: exit $rc: $(tail -n 3 "$T/err")"
}
