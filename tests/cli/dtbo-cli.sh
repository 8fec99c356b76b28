#!/bin/sh
# SPDX-License-Identifier: MIT
# f8 dtbo from the command line (docs/dtbo.md): overlays for a few boards, each read by an
# independent flattened-device-tree reader written here in Python from the devicetree
# specification (not libfdt), which checks every node and property of the board; the same
# arguments give the same bytes; a second write replaces the file and leaves no temporary;
# bad values, missing options and bad output paths exit 1 with a message naming them.
#
#   tests/cli/dtbo-cli.sh [F8_BINARY]
set -u

F8=${1:-build/f8}
PY=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d /tmp/f8-dtbo-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli-lib.sh"
[ -x "$F8" ] || { echo "dtbo-cli: $F8 not built"; exit 1; }

# read.py FILE BASE IRQ TRIGGER MEMBASE MEMSIZE TARGET: the overlay holds exactly that board.
cat >"$T/read.py" <<'PY'
import struct, sys
f, base, irq, trig, mb, ms, target = sys.argv[1], *[int(x, 0) for x in sys.argv[2:7]], sys.argv[7]
d = open(f, "rb").read()
magic, total, off_s, off_str, off_rsv, ver, lcv, cpu, size_str, size_s = struct.unpack(">10I", d[:40])
assert magic == 0xd00dfeed and total == len(d) and ver == 17 and lcv == 16, "header"
strs = d[off_str:off_str + size_str]
def name(o): return strs[o:strs.index(b"\0", o)].decode()
root, stack, i = None, [], off_s
while True:  # tokens: BEGIN_NODE 1, END_NODE 2, PROP 3, NOP 4, END 9
    tok, = struct.unpack(">I", d[i:i + 4]); i += 4
    if tok == 1:
        e = d.index(b"\0", i); node = {"name": d[i:e].decode(), "props": {}, "kids": {}}
        i = (e + 4) & ~3
        if stack: stack[-1]["kids"][node["name"]] = node
        else: root = node
        stack.append(node)
    elif tok == 2: stack.pop()
    elif tok == 3:
        ln, no = struct.unpack(">II", d[i:i + 8]); stack[-1]["props"][name(no)] = d[i + 8:i + 8 + ln]
        i = (i + 8 + ln + 3) & ~3
    elif tok == 4: pass
    elif tok == 9: break
    else: raise SystemExit("bad token %d" % tok)
assert not stack, "unbalanced"
def cells(b): return struct.unpack(">%dI" % (len(b) // 4), b)
def u64(c): return c[0] << 32 | c[1]
def s(b): assert b.endswith(b"\0"); return b[:-1].decode()
assert set(root["kids"]) == {"fragment@0", "fragment@1", "__symbols__", "__local_fixups__"}, root["kids"].keys()
f0, f1 = root["kids"]["fragment@0"], root["kids"]["fragment@1"]
assert s(f0["props"]["target-path"]) == "/" and s(f1["props"]["target-path"]) == target
rm = f0["kids"]["__overlay__"]["kids"]["reserved-memory"]
assert cells(rm["props"]["#address-cells"]) == (2,) and cells(rm["props"]["#size-cells"]) == (2,)
assert rm["props"]["ranges"] == b""
mem = rm["kids"]["npu-memory@%x" % mb]
assert u64(cells(mem["props"]["reg"])[:2]) == mb and u64(cells(mem["props"]["reg"])[2:]) == ms
assert mem["props"]["no-map"] == b""
npu = f1["kids"]["__overlay__"]["kids"]["npu@%x" % base]
p = npu["props"]
assert p["compatible"] == b"f8npu,npu-1.0\0" and s(p["status"]) == "okay"
assert cells(p["reg"]) == (base >> 32, base & 0xffffffff, 0, 0x1000), cells(p["reg"])
assert cells(p["interrupts"]) == (0, irq, trig), cells(p["interrupts"])
assert cells(p["memory-region"]) == cells(mem["props"]["phandle"])
fx = root["kids"]["__local_fixups__"]["kids"]["fragment@1"]["kids"]["__overlay__"]["kids"]["npu@%x" % base]
assert cells(fx["props"]["memory-region"]) == (0,)
sy = root["kids"]["__symbols__"]["props"]
assert s(sy["f8npu"]) == "/fragment@1/__overlay__/npu@%x" % base
assert s(sy["f8npu_memory"]) == "/fragment@0/__overlay__/reserved-memory/npu-memory@%x" % mb
PY

# board BASE IRQ TRIGGER(4|1) MEMBASE MEMSIZE TARGET -- f8 dtbo arguments...
board() {
	b=$1 i=$2 t=$3 mb=$4 ms=$5 tp=$6
	shift 7
	expect_ok dtbo "$@" --out "$T/b.dtbo"
	n=$((n + 1))
	grep -q "read back and checked" "$T/out" || fail "f8 dtbo $*: no confirmation: $(cat "$T/out")"
	"$PY" "$T/read.py" "$T/b.dtbo" "$b" "$i" "$t" "$mb" "$ms" "$tp" 2>"$T/pyerr" ||
		fail "f8 dtbo $*: the overlay is not the board: $(tail -n 2 "$T/pyerr")"
}
board 0xa0000000 89 4 0x70000000 0x10000000 / -- --base 0xa0000000 --irq 89 --mem-base 0x70000000 --mem-size 256M
board 0x400000000 987 1 0x800000000 0x80000000 /axi -- --base 0x400000000 --irq 987 --trigger edge \
	--mem-base 34359738368 --mem-size 2G --target-path /axi
board 0xfffffffff000 0 4 0x10000 0x100000 /amba_pl@0 -- --base 281474976706560 --irq 0 --trigger level \
	--mem-base 0x10000 --mem-size 1024k --target-path /amba_pl@0

# deterministic, replaced atomically, no temporary left
args="--base 0xa0000000 --irq 89 --mem-base 0x70000000 --mem-size 0x100000"
# shellcheck disable=SC2086
expect_ok dtbo $args --out "$T/x.dtbo"
cp "$T/x.dtbo" "$T/first"
# shellcheck disable=SC2086
expect_ok dtbo $args --out "$T/x.dtbo"
n=$((n + 1))
cmp -s "$T/first" "$T/x.dtbo" || fail "the same board twice: different bytes"
n=$((n + 1))
[ -z "$(ls "$T" | grep '\.tmp\.')" ] || fail "a temporary was left: $(ls "$T")"

# refusals: exit 1 and a message naming the problem; nothing written
ok="--base 0xa0000000 --irq 89 --mem-base 0x70000000 --mem-size 1M"
refuse() {
	want=$1
	shift
	rm -f "$T/r.dtbo"
	expect_usage "$want" dtbo "$@"
	n=$((n + 1))
	[ ! -e "$T/r.dtbo" ] || fail "f8 dtbo $*: refused but wrote $T/r.dtbo"
}
# shellcheck disable=SC2086
{
refuse "--base 0xa0000800: the register window must be aligned" --base 0xa0000800 --irq 1 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "48-bit" --base 0x1000000000000 --irq 1 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "--irq '988': a GIC SPI number is 0..987" --base 0xa0000000 --irq 988 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "overlaps the memory region" --base 0x70010000 --irq 1 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "multiples of 64 KiB" --base 0xa0000000 --irq 1 --mem-base 0x70001000 --mem-size 1M --out "$T/r.dtbo"
refuse "at least 1 MiB" --base 0xa0000000 --irq 1 --mem-base 0x70000000 --mem-size 64k --out "$T/r.dtbo"
refuse "--mem-size '1.5M': expected a size" $ok --mem-size 1.5M --out "$T/r.dtbo"
refuse "--base '-1': expected an address" --base -1 --irq 1 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "--base '0x': expected an address" --base 0x --irq 1 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "--irq '0x1M': expected an address" --base 0xa0000000 --irq 0x1M --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo"
refuse "--trigger 'falling': expected level" $ok --trigger falling --out "$T/r.dtbo"
refuse "--target-path 'axi': expected an absolute node path" $ok --target-path axi --out "$T/r.dtbo"
refuse "--target-path '/a b'" $ok --target-path "/a b" --out "$T/r.dtbo"
refuse "are required" $ok
refuse "are required" --base 0xa0000000 --irq 1 --mem-base 0x70000000 --out "$T/r.dtbo"
refuse "f8 dtbo: unexpected argument 'extra' (f8 dtbo --help)" $ok --out "$T/r.dtbo" extra
refuse "f8 dtbo: unknown option '--bogus' (f8 dtbo --help)" $ok --bogus --out "$T/r.dtbo"
refuse "f8 dtbo: --irq needs a value (f8 dtbo --help)" --base 0xa0000000 --mem-base 0x70000000 --mem-size 1M --out "$T/r.dtbo" --irq
refuse "f8 dtbo: ambiguous option '--mem': --mem-base, --mem-size (f8 dtbo --help)" $ok --mem 1 --out "$T/r.dtbo"
}
mkdir "$T/dir.dtbo"
ln -s "$T/elsewhere.dtbo" "$T/link.dtbo"
mkfifo "$T/fifo.dtbo"
# shellcheck disable=SC2086
{
expect_usage "dir.dtbo" dtbo $ok --out "$T/dir.dtbo"
expect_usage "link.dtbo" dtbo $ok --out "$T/link.dtbo"
n=$((n + 1))
[ ! -e "$T/elsewhere.dtbo" ] || fail "--out through a symbolic link wrote its target"
# under a timeout: a FIFO without a reader must be refused, never opened
printf '#!/bin/sh\nexec timeout 10 "%s" "$@"\n' "$F8" >"$T/f8-timeout"
chmod +x "$T/f8-timeout"
F8_REAL=$F8
F8=$T/f8-timeout
expect_usage "not a regular file" dtbo $ok --out "$T/fifo.dtbo"
F8=$F8_REAL
expect_usage "no/such" dtbo $ok --out "$T/no/such/x.dtbo"
}
expect_ok dtbo --help
n=$((n + 1))
grep -q "usage: f8 dtbo" "$T/out" || fail "f8 dtbo --help: no usage"

echo "dtbo-cli: $n checks, $fails failed"
[ "$fails" -eq 0 ]
