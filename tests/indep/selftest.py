#!/usr/bin/python3
"""Self-test of the independent model: every `vec` line of docs/arith.md through f8indep's
arithmetic, plus a few hand-checked whole-descriptor cases. Exits non-zero on any failure."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import f8indep as m  # noqa: E402

TYPES = {'u8': m.T_U8, 's8': m.T_S8, 's32': m.T_S32}


def eval_vec(rule, args):
    if rule == 'sat32':
        return m.sat32(int(args[0]))
    if rule == 'shift':
        return m.shift(int(args[0]), int(args[1]))
    if rule == 'sat':
        return m.sat(TYPES[args[0]], int(args[1]))
    if rule == 'requant':
        return m.requant(int(args[0]), int(args[1]), TYPES[args[2]])
    if rule == 'add':
        return m.align_add(int(args[0]), int(args[1]), int(args[2]), int(args[3]))
    if rule == 'relu':
        return m.relu(int(args[0]))
    if rule == 'mac':
        t = TYPES[args[0]]
        bias = int(args[1])
        rest = [int(a) for a in args[2:]]
        if len(rest) % 2:
            raise ValueError('odd mac operand count')
        xs = [m.decode_byte(t, b) for b in rest[0::2]]
        ws = [m.decode_byte(m.T_S8, b) for b in rest[1::2]]
        return m.mac(bias, xs, ws)
    raise ValueError('unknown rule %r' % rule)


def check_vectors(path):
    fails = 0
    n = 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith('vec '):
                continue
            lhs, rhs = line[4:].split('=')
            parts = lhs.split()
            try:
                got = eval_vec(parts[0], parts[1:])
            except Exception as e:  # noqa: BLE001
                print('FAIL %s:%d %s: %s' % (path, lineno, line, e))
                fails += 1
                continue
            n += 1
            if got != int(rhs):
                print('FAIL %s:%d %s: got %d' % (path, lineno, line, got))
                fails += 1
    return n, fails


# ---------------------------------------------------------------------------------------------
# Hand-checked descriptors

def tref(region, typ, offset, n, h, w, c, sn=None, sh=None, sw=None):
    size = 4 if typ == 2 else 1
    if sw is None:
        sw = c * size
    if sh is None:
        sh = w * sw
    if sn is None:
        sn = h * sh
    return struct.pack('<BBHIHHHHIIII', region, typ, 0, offset, n, h, w, c, sn, sh, sw, 0)


def desc(op, flags=0, k=(0, 0), s=(0, 0), pad=(0, 0, 0, 0), align=(0, 0), shifts=(0, 0),
         src=None, aux=None, dst0=None, dst1=None, weights=None, bias=None):
    b = bytearray(256)
    b[0] = op
    b[1] = flags
    b[4], b[5], b[6], b[7] = k[0], k[1], s[0], s[1]
    b[8:12] = bytes(pad)
    b[12], b[13] = align
    b[16] = shifts[0] & 0xFF
    b[17] = shifts[1] & 0xFF
    for off, r in ((32, src), (64, aux), (96, dst0), (128, dst1)):
        if r is not None:
            b[off:off + 32] = r
    for off, r in ((160, weights), (168, bias)):
        if r is not None:
            b[off:off + 8] = struct.pack('<BBBBI', r[0], 0, 0, 0, r[1])
    return bytes(b)


def stream(*descs):
    return struct.pack('<IHHII16x', m.MAGIC, 1, 0, 256, len(descs)) + b''.join(descs)


def end():
    return desc(1)


def check(name, got, exp):
    if got != exp:
        print('FAIL %s: got %r expected %r' % (name, got, exp))
        return 1
    return 0


def hand_cases():
    fails = 0
    # 1. 3x3 u8 input, 2x2 kernel, 1 output channel, stride 1, no pad, bias, shift 1 -> s8
    x = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9])
    w = bytes([1, 0xFF, 2, 0x80])            # 1, -1, 2, -128
    bias = struct.pack('<i', 100)
    # out(y,x) = 100 + x00 - x01 + 2*x10 - 128*x11
    exp = []
    X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    for yy in range(2):
        for xx in range(2):
            v = 100 + X[yy][xx] - X[yy][xx + 1] + 2 * X[yy + 1][xx] - 128 * X[yy + 1][xx + 1]
            exp.append(m.requant(v, 1, m.T_S8))
    st = stream(desc(2, m.F_BIAS, k=(2, 2), s=(1, 1), shifts=(1, 0),
                     src=tref(0, 0, 0, 1, 3, 3, 1), dst0=tref(1, 1, 0, 1, 2, 2, 1),
                     weights=(2, 0), bias=(3, 0)), end())
    regs = {0: x, 1: bytes(4), 2: w, 3: bias}
    status, mem, c = m.run(st, regs)
    fails += check('conv2x2 status', status, 'DONE')
    fails += check('conv2x2 out', [m.s8(b) for b in mem[1]], exp)
    # hand values: (0,0): 100+1-2+8-640=-533 -> shift1 -> -266.5 -> -266 (even) -> sat -127
    fails += check('conv2x2 out0', m.s8(mem[1][0]), -127)
    fails += check('conv2x2 macs', c['macs'], 4 * 4)
    # rd: 32 header + 2*256 desc + src 9 * ceil(1/16) + weights 4 + bias 4 = 32+512+17
    fails += check('conv2x2 rd', c['rd'], 32 + 512 + 17)
    fails += check('conv2x2 wr', c['wr'], 4)
    # cycles: header 64+2, 2 fetches 64+16, then set-up 96 + 2 L 128 + max(busy + ramp, memory).
    # Cin = 1 <= 16 / 2 on dense u8 input: tap packing, P = 16 taps per pass, so a pass is one
    # kernel row (both kx):
    # busy: the array's 4 pixels * 2 passes = 8 against the epilogue's 4 outputs (it drains a
    # tile, an output row, while the array works on the next): 8, plus the first tile's shorter
    # side, min(2 outputs * 2 passes, 2 outputs) = 2 -> 10;
    # memory (one server cycle per request of <= 16 bytes): input rows (y, ky) all 4 present,
    # one 2-byte segment read per output x of each: 8; weights 2 lane rows: 2; bias 1;
    # outputs 4 pixels: 4 -> 15;
    # ramp: weights 2 + 4 row steps (passes, < 16 ahead) * 2 reads = 10, minus the first output
    # row's 2 * (2 passes + 1 output) = 6 -> 4.  busy + ramp = 14 < 15: the memory's 15.
    fails += check('conv2x2 cycles', c['cycles'], 66 + 2 * 80 + 96 + 128 + 15)
    fails += check('conv2x2 stall', c['stall'], 66 + 2 * 80 + 96 + 128 + 15 - 8)
    fails += check('conv2x2 descs', c['descs'], 2)

    # 1b. the group-inner order (isa.md §7): a 1x1 conv on 2 u8 channels to 32 s8 outputs (two
    # channel groups of 16), an input row of 2 pixels, bias 0, weights all 1, shift 0
    st = stream(desc(2, m.F_BIAS, k=(1, 1), s=(1, 1), src=tref(0, 0, 0, 1, 1, 2, 2),
                     dst0=tref(1, 1, 0, 1, 1, 2, 32), weights=(2, 0), bias=(3, 0)), end())
    status, mem, c = m.run(st, {0: bytes([1, 2, 3, 4]), 1: bytes(64), 2: bytes([1] * 64),
                                3: bytes(128)})
    fails += check('gi status', status, 'DONE')
    fails += check('gi out', list(mem[1]), [3] * 32 + [7] * 32)
    fails += check('gi macs', c['macs'], 2 * 32 * 2)
    # rd: 32 header + 2*256 desc + src 4 bytes * 2 groups (architectural) + weights 64 + bias 128
    fails += check('gi rd', c['rd'], 32 + 512 + 8 + 64 + 128)
    # cycles: header 66 + 2 fetches 80, set-up 96 + 2 L 128 + max(busy + ramp, memory).
    # Two groups, kernel_w <= stride_w, 2 * 1 blocks resident, 1 row step: group-inner.
    # busy: array 2 pixels * 2 groups = 4; epilogue 2 * 2 outputs + a BIAS item per (tile,
    # group) = 6; the longer 6, plus the first tile's shorter side min(2 * 1 pass, 2 * 1) = 2 -> 8.
    # memory: the input once (not per group): 2 columns, one request each = 2; weights 32
    # lane rows = 32; bias once per tile and group: 2 * ceil(64 / 16) = 8; outputs 2 pixels *
    # 2 groups = 4 -> 46.
    # ramp: first group's weights 16 + 1 row step * 2 columns = 18, the second group waits
    # (16 - the first row's 2 * (1 + 1) = 4) = 12 more, and the aux reader's 2 bias reads go
    # first: 8 -> 38, minus that first row's 4 -> 34.  busy + ramp = 42 < 46: the memory's 46.
    fails += check('gi cycles', c['cycles'], 66 + 2 * 80 + 96 + 128 + 46)
    fails += check('gi stall', c['stall'], 66 + 2 * 80 + 96 + 128 + 46 - 4)

    # 2. max pool 2x2 stride 2 with pad right/bottom 1 on 3x3 s8, to u8 with relu
    xs8 = bytes([0xFF, 0x80, 5, 3, 0xFE, 0x7F, 0x90, 0x91, 0x92])  # -1 -128 5 / 3 -2 127 / ...
    st = stream(desc(3, m.F_RELU, k=(2, 2), s=(2, 2), pad=(0, 1, 0, 1),
                     src=tref(0, 1, 0, 1, 3, 3, 1), dst0=tref(1, 0, 0, 1, 2, 2, 1)), end())
    status, mem, c = m.run(st, {0: xs8, 1: bytes(4)})
    # windows: {-1,-128,3,-2}=3, {5,127}=127, {-112,-111}=-111->relu 0, {-110} -> 0
    fails += check('pool status', status, 'DONE')
    fails += check('pool out', list(mem[1]), [3, 127, 0, 0])

    # 3. ADD s32 + s8 with align, dst1 u8
    a = struct.pack('<2i', 1 << 30, -7)
    bb = bytes([0xFF, 3])
    st = stream(desc(5, m.F_AUX | m.F_DST1, align=(1, 2), shifts=(0, 2),
                     src=tref(0, 2, 0, 1, 1, 2, 1), aux=tref(1, 1, 0, 1, 1, 2, 1),
                     dst0=tref(2, 2, 0, 1, 1, 2, 1), dst1=tref(2, 0, 8, 1, 1, 2, 1)), end())
    status, mem, c = m.run(st, {0: a, 1: bb, 2: bytes(10)})
    # e0: sat32(2^31) + (-4) = 2^31-5 ; e1: -14 + 12 = -2
    fails += check('add status', status, 'DONE')
    fails += check('add dst0', list(struct.unpack('<2i', mem[2][:8])), [(1 << 31) - 5, -2])
    fails += check('add dst1', list(mem[2][8:10]), [255, 0])

    # 4. errors
    st_ok = stream(desc(5, src=tref(0, 0, 0, 1, 1, 4, 1), dst0=tref(1, 0, 0, 1, 1, 4, 1)), end())
    fails += check('ok', m.run(st_ok, {0: bytes(4), 1: bytes(4)})[0], 'DONE')
    fails += check('oob_read', m.run(st_ok, {0: bytes(3), 1: bytes(4)})[0], ('ERROR', 10, 0))
    fails += check('oob_write', m.run(st_ok, {0: bytes(4), 1: bytes(3)})[0], ('ERROR', 11, 0))
    fails += check('disabled', m.run(st_ok, {0: bytes(4)})[0], ('ERROR', 9, 0))
    noend = bytearray(st_ok[:32 + 256])
    noend[12] = 1
    fails += check('no_end', m.run(bytes(noend), {0: bytes(4), 1: bytes(4)})[0],
                   ('ERROR', 14, 1))
    fails += check('no_end_trunc', m.run(st_ok[:32 + 256], {0: bytes(4), 1: bytes(4)})[0],
                   ('ERROR', 3, 0xFFFFFFFF))
    fails += check('cmd_oob', m.run(st_ok[:31], {})[0], ('ERROR', 4, 0xFFFFFFFF))
    bad = bytearray(st_ok)
    bad[12] = 3
    fails += check('count', m.run(bytes(bad), {})[0], ('ERROR', 3, 0xFFFFFFFF))
    st_ov = stream(desc(5, src=tref(0, 0, 0, 1, 1, 4, 1), dst0=tref(0, 0, 3, 1, 1, 4, 1)), end())
    fails += check('overlap', m.run(st_ov, {0: bytes(8)})[0], ('ERROR', 13, 0))
    st_ov2 = stream(desc(5, src=tref(0, 0, 0, 1, 1, 4, 1), dst0=tref(0, 0, 4, 1, 1, 4, 1)), end())
    fails += check('adjacent', m.run(st_ov2, {0: bytes(8)})[0], 'DONE')
    return fails


def main():
    path = os.path.join(HERE, '..', '..', 'docs', 'arith.md')
    n, fails = check_vectors(path)
    if n == 0:
        print('FAIL: no vec lines found in %s' % path)
        fails += 1
    fails += hand_cases()
    print('selftest: %d vectors, %s' % (n, 'FAILED (%d)' % fails if fails else 'ok'))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
