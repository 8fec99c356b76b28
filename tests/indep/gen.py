#!/usr/bin/python3
"""Seeded random test cases for the f8npu command stream (docs/isa.md).

    case = make_case(seed, index)

returns a Case: one command stream (mostly one compute descriptor + END, sometimes a chain of
2-4 descriptors through regions) with the contents of its regions and the array / cost-model
parameters to run it with. About 15 % of the cases carry one deliberate fault.

The expected outcome is NOT decided here: f8indep.run() computes it from the bytes, so a
mutation that happens to hit a different check (or none) is still a valid test.

CLI: gen.py --seed S --index I [--dir DIR]   prints a summary (and writes the files to DIR).
"""
import math
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import f8indep as m  # noqa: E402

U8, S8, S32 = 0, 1, 2
SIZE = {U8: 1, S8: 1, S32: 4}
MAC_BUDGET = 3000      # MACs of one generated conv (pure Python speed)
ELEM_BUDGET = 1500     # window-elements visited by one pooling / add descriptor

# byte ranges of a descriptor that are reserved (docs/isa.md §3)
DESC_RESERVED = [2, 3, 14, 15] + list(range(18, 32)) + list(range(176, 256))
TREF_OFFS = {'src': 32, 'aux': 64, 'dst0': 96, 'dst1': 128}
BREF_OFFS = {'weights': 160, 'bias': 168}


class Case:
    def __init__(self):
        self.stream = b''
        self.regions = {}          # region -> bytes
        self.zero_regions = set()  # regions passed as --zero R=SIZE (contents all zero)
        self.rows, self.cols = 16, 16
        self.bw, self.latency = 16, 64
        self.note = ''             # what the generator meant to build


class T:
    """A tensor placed in a region."""

    def __init__(self, region, typ, offset, shape, strides):
        self.region, self.type, self.offset = region, typ, offset
        self.n, self.h, self.w, self.c = shape
        self.sn, self.sh, self.sw = strides

    @property
    def shape(self):
        return (self.n, self.h, self.w, self.c)

    def extent(self):
        return ((self.n - 1) * self.sn + (self.h - 1) * self.sh + (self.w - 1) * self.sw
                + self.c * SIZE[self.type])

    def ref(self):
        return struct.pack('<BBHIHHHHIIII', self.region, self.type, 0, self.offset,
                           self.n, self.h, self.w, self.c, self.sn, self.sh, self.sw, 0)

    def addrs(self):
        for i in range(self.n):
            for y in range(self.h):
                for x in range(self.w):
                    for k in range(self.c):
                        yield (self.offset + i * self.sn + y * self.sh + x * self.sw
                               + k * SIZE[self.type])


class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.mem = {}
        self.descs = []        # list of dicts: raw (bytearray), op, refs {name: (region, off, ext, T?)}
        self.free_regions = list(range(16))
        rng.shuffle(self.free_regions)
        # a few regions are used for most things so that tensors share regions
        self.hot = self.free_regions[:rng.randint(1, 4)]

    # ---- memory -------------------------------------------------------------------------
    def pick_region(self):
        rng = self.rng
        if rng.random() < 0.6:
            return rng.choice(self.hot)
        return rng.randrange(16)

    def alloc(self, region, nbytes, align=1, zero=False):
        rng = self.rng
        mem = self.mem.setdefault(region, bytearray())
        gap = rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 8, 13, 32])
        off = len(mem) + gap
        if align > 1:
            off = -(-off // align) * align
        end = off + nbytes
        if end > len(mem):
            fill = bytes(end - len(mem)) if zero else rand_bytes(rng, end - len(mem))
            mem.extend(fill)
        return off

    def tensor(self, shape, typ, role, layout=None, region=None, values=None):
        """Place a tensor. role 'in' (may broadcast / overlap) or 'out' (never overlaps)."""
        rng = self.rng
        n, h, w, c = shape
        sz = SIZE[typ]
        cs = c * sz
        if layout is None:
            r = rng.random()
            layout = 'dense' if r < 0.55 else 'gap' if r < 0.85 or role == 'out' else 'wild'
        g = (lambda: rng.choice([0, 0, 1, 2, 3, 5, 8, 16]) * (4 if typ == S32 else 1))
        if layout == 'dense':
            sw = cs
            sh = w * sw
            sn = h * sh
        elif layout == 'gap':
            sw = cs + g()
            sh = (w - 1) * sw + cs + g()
            sn = (h - 1) * sh + (w - 1) * sw + cs + g()
        else:  # wild input strides: broadcast (0), overlapping, or gaps
            def pick(minimal):
                q = rng.random()
                if q < 0.3:
                    return 0
                if q < 0.5:
                    v = rng.randint(0, max(0, minimal))
                    return v - v % 4 if typ == S32 else v
                return minimal + g()
            sw = pick(cs)
            sh = pick((w - 1) * sw + cs)
            sn = pick((h - 1) * sh + (w - 1) * sw + cs)
        # a dimension of size 1 never uses its stride: sometimes put garbage there
        if rng.random() < 0.15:
            junk = lambda: rng.choice([0, 4, 8, 1000, 4 * rng.randint(0, 10 ** 6)])  # noqa: E731
            if w == 1:
                sw = junk()
            if h == 1:
                sh = junk()
            if n == 1:
                sn = junk()
        if region is None:
            region = self.pick_region()
        t = T(region, typ, 0, shape, (sn, sh, sw))
        ext = t.extent()
        t.offset = self.alloc(region, ext, 4 if typ == S32 else 1,
                              zero=(role == 'out' and rng.random() < 0.1))
        if role == 'in':
            self.fill(t, values)
        return t

    def fill(self, t, mode=None):
        rng = self.rng
        mem = self.mem[t.region]
        if mode is None:
            mode = rng.choice(['rand', 'rand', 'rand', 'small', 'special', 'medium'])
        if t.type == S32:
            gen = value_gen(rng, mode, 32)
            for a in t.addrs():
                mem[a:a + 4] = (gen() & 0xFFFFFFFF).to_bytes(4, 'little')
        else:
            if mode == 'rand':
                return  # random bytes already
            gen = value_gen(rng, mode, 8)
            for a in t.addrs():
                mem[a] = gen() & 0xFF

    def buffer(self, nbytes, align, mode, region=None, bits=8):
        rng = self.rng
        if region is None:
            region = self.pick_region()
        off = self.alloc(region, nbytes, align)
        mem = self.mem[region]
        if bits == 8:
            if mode != 'rand':
                gen = value_gen(rng, mode, 8)
                for a in range(off, off + nbytes):
                    mem[a] = gen() & 0xFF
        else:
            gen = value_gen(rng, mode, 32)
            for a in range(off, off + nbytes, 4):
                mem[a:a + 4] = (gen() & 0xFFFFFFFF).to_bytes(4, 'little')
        return region, off

    # ---- descriptors --------------------------------------------------------------------
    def add_desc(self, op, flags=0, k=(0, 0), s=(0, 0), pad=(0, 0, 0, 0), align=(0, 0),
                 shifts=(0, 0), src=None, aux=None, dst0=None, dst1=None, weights=None,
                 bias=None, wsize=0, bsize=0):
        b = bytearray(256)
        b[0], b[1] = op, flags
        b[4], b[5], b[6], b[7] = k[0], k[1], s[0], s[1]
        b[8:12] = bytes(pad)
        b[12], b[13] = align
        b[16], b[17] = shifts[0] & 0xFF, shifts[1] & 0xFF
        refs = {}
        for name, t in (('src', src), ('aux', aux), ('dst0', dst0), ('dst1', dst1)):
            if t is not None:
                b[TREF_OFFS[name]:TREF_OFFS[name] + 32] = t.ref()
                refs[name] = t
        for name, r, size in (('weights', weights, wsize), ('bias', bias, bsize)):
            if r is not None:
                o = BREF_OFFS[name]
                b[o:o + 8] = struct.pack('<BBBBI', r[0], 0, 0, 0, r[1])
                refs[name] = (r[0], r[1], size)
        if self.descs and self.rng.random() < 0.2:
            self.reuse_outputs(refs)
            for name in ('dst0', 'dst1'):
                if name in refs:
                    b[TREF_OFFS[name]:TREF_OFFS[name] + 32] = refs[name].ref()
        self.descs.append({'raw': b, 'op': op, 'refs': refs})
        return len(self.descs) - 1

    def reuse_outputs(self, refs):
        """Move this descriptor's outputs over memory that earlier descriptors used (but not
        over this descriptor's inputs), so that later descriptors overwrite earlier data."""
        rng = self.rng

        def fp(r):
            if isinstance(r, T):
                return r.region, r.offset, r.offset + r.extent()
            return r[0], r[1], r[1] + r[2]
        old = [fp(r) for d in self.descs for r in d['refs'].values()]
        busy = [fp(refs[n]) for n in ('src', 'aux', 'weights', 'bias') if n in refs]
        for name in ('dst0', 'dst1'):
            if name not in refs or rng.random() < 0.3:
                continue
            t = refs[name]
            ext = t.extent()
            reg, a, e = rng.choice(old)
            off = a + rng.randint(0, max(0, e - a - 1)) if rng.random() < 0.5 else a
            if t.type == S32:
                off -= off % 4
            other = [fp(refs[n]) for n in ('dst0', 'dst1') if n in refs and n != name]
            if any(r == reg and off < e2 and a2 < off + ext for r, a2, e2 in busy + other):
                continue
            mem = self.mem[reg]
            if off + ext > len(mem):
                mem.extend(rand_bytes(rng, off + ext - len(mem)))
            t.region, t.offset = reg, off

    def end(self):
        self.descs.append({'raw': bytearray([1] + [0] * 255), 'op': 1, 'refs': {}})


# ------------------------------------------------------------------------------------------
# value distributions

def rand_bytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def value_gen(rng, mode, bits):
    if bits == 8:
        if mode == 'small':
            return lambda: rng.randint(-8, 8)
        if mode == 'special':
            return lambda: rng.choice([0x80, 0x7F, 0xFF, 0x00, 0x01, 0x81, 0xFE])
        if mode == 'medium':
            return lambda: rng.randint(-64, 64)
        if mode == 'max':
            return lambda: rng.choice([0x80, 0x7F])
        return lambda: rng.getrandbits(8)
    if mode == 'small':
        return lambda: rng.randint(-300, 300)
    if mode == 'medium':
        return lambda: rng.randint(-(1 << 20), 1 << 20)
    if mode == 'special':
        return lambda: rng.choice([-(1 << 31), (1 << 31) - 1, -(1 << 31) + 1, 0, 1, -1,
                                   1 << 30, -(1 << 30), 127, -128, 255, 256])
    if mode == 'big':
        return lambda: rng.choice([1, -1]) * rng.randint(1 << 28, (1 << 31) - 1)
    return lambda: rng.getrandbits(32) - (1 << 31)


def choose_shift(rng, mag_bits, dtype):
    r = rng.random()
    if r < 0.55:
        target = mag_bits - (7 if dtype != S32 else rng.randint(0, 12))
        s = target + rng.randint(-3, 3)
    elif r < 0.8:
        s = rng.randint(-31, 31)
    else:
        s = rng.choice([-31, -30, -8, -1, 0, 1, 2, 3, 24, 30, 31])
    return max(-31, min(31, s))


def choose_align(rng):
    r = rng.random()
    if r < 0.6:
        return 0
    if r < 0.9:
        return rng.randint(1, 8)
    return rng.choice([15, 16, 24, 30, 31])


def choose_types(rng, n):
    return [rng.choice([U8, S8, S32]) for _ in range(n)]


def type_bits(t):
    return 31 if t == S32 else 8


# ------------------------------------------------------------------------------------------
# operation generators. Each returns (list of output T, main-value magnitude in bits).

CH = [1, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 19, 24, 31, 33]


def window_geom(rng, H=None, W=None):
    """kernel, stride, padding and input size (H, W may be imposed)."""
    for _ in range(50):
        if rng.random() < 0.8:
            kh = rng.randint(1, 5)
            kw = kh if rng.random() < 0.7 else rng.randint(1, 5)
        else:
            kh, kw = rng.randint(1, 7), rng.randint(1, 7)
        sh = rng.choice([1, 1, 1, 2, 2, 3])
        sw = sh if rng.random() < 0.8 else rng.randint(1, 3)

        def pads(k):
            mx = min(2, k - 1)
            if rng.random() < 0.5:
                p = rng.randint(0, mx)
                return p, p
            return rng.randint(0, mx), rng.randint(0, mx)
        pt, pb = pads(kh)
        pl, pr = pads(kw)
        h = H if H is not None else rng.randint(max(1, kh - pt - pb), kh + 5)
        w = W if W is not None else rng.randint(max(1, kw - pl - pr), kw + 5)
        if h + pt + pb >= kh and w + pl + pr >= kw:
            Ho = (h + pt + pb - kh) // sh + 1
            Wo = (w + pl + pr - kw) // sw + 1
            return (kh, kw), (sh, sw), (pt, pb, pl, pr), h, w, Ho, Wo
    # fallback: 1x1
    h = H or 1
    w = W or 1
    return (1, 1), (1, 1), (0, 0, 0, 0), h, w, h, w


def gen_conv(b, src=None, dw=None, kind=None, aux_cands=()):
    rng = b.rng
    if dw is None:
        dw = rng.random() < 0.3
    if kind is None:
        r = rng.random()
        kind = 'win' if r < 0.8 else 'fc' if r < 0.92 else '1x1'
    for _ in range(40):
        if src is not None:
            N, H, W, Cin = src.shape
        else:
            N = rng.choice([1, 1, 1, 2])
            Cin = rng.choice(CH if kind == 'win' else CH + [64, 100, 255, 256, 300])
            H = W = None
        if kind == 'fc':
            if H is None:
                H, W = rng.randint(1, 6), rng.randint(1, 6)
            k, s, pad, Ho, Wo = (H, W), (rng.randint(1, 3), rng.randint(1, 3)), (0, 0, 0, 0), 1, 1
        elif kind == '1x1':
            if H is None:
                H = W = 1
            k, s, pad, Ho, Wo = (1, 1), (1, 1), (0, 0, 0, 0), H, W
        else:
            k, s, pad, H, W, Ho, Wo = window_geom(rng, H, W)
        Cout = Cin if dw else rng.choice(CH + [40, 48])
        K = k[0] * k[1] * (1 if dw else Cin)
        macs = N * Ho * Wo * Cout * K
        if macs <= MAC_BUDGET:
            break
        if src is not None and dw is False and kind != '1x1':
            kind = '1x1' if rng.random() < 0.5 else kind
    else:
        return None
    if k[0] > 255 or k[1] > 255:
        return None
    if src is None:
        src = b.tensor((N, H, W, Cin), rng.choice([U8, S8]), 'in')
    flags = 0
    if dw:
        flags |= m.F_DEPTHWISE
    use_bias = rng.random() < 0.7
    use_aux = rng.random() < 0.3
    relu = rng.random() < 0.4
    use_dst1 = rng.random() < 0.3
    wmode = rng.choice(['rand', 'rand', 'rand', 'small', 'special', 'max', 'medium'])
    wsize = Cout * k[0] * k[1] * (1 if dw else Cin)
    wref = b.buffer(wsize, 1, wmode)
    bref = None
    mag = 13 + int(math.log2(max(1, K)) / 2)
    if use_bias:
        flags |= m.F_BIAS
        bmode = rng.choice(['medium', 'medium', 'small', 'rand', 'special', 'big'])
        bref = b.buffer(4 * Cout, 4, bmode, bits=32)
        if bmode in ('rand', 'special', 'big'):
            mag = 30
    out_shape = (N, Ho, Wo, Cout)
    aux, align = None, (choose_align(rng), 0)
    if use_aux:
        flags |= m.F_AUX
        aux = pick_aux(b, out_shape, aux_cands)
        align = (align[0], choose_align(rng))
    if relu:
        flags |= m.F_RELU
    t0, t1 = choose_types(rng, 2)
    dst0 = b.tensor(out_shape, t0, 'out')
    dst1 = None
    sh1 = 0
    if use_dst1:
        flags |= m.F_DST1
        dst1 = b.tensor(out_shape, t1, 'out')
        sh1 = choose_shift(rng, mag + align[0], t1)
    sh0 = choose_shift(rng, mag + align[0], t0)
    b.add_desc(m.OP_CONV2D, flags, k, s, pad, align, (sh0, sh1), src, aux, dst0, dst1,
               wref, bref, wsize, 4 * Cout)
    return [t for t in (dst0, dst1) if t is not None]


def pick_aux(b, shape, cands):
    rng = b.rng
    ok = [t for t in cands if t.shape == shape]
    if ok and rng.random() < 0.7:
        return rng.choice(ok)
    return b.tensor(shape, rng.choice([U8, S8, S32]), 'in')


def gen_pool(b, op, src=None, aux_cands=()):
    rng = b.rng
    for _ in range(40):
        if src is not None:
            N, H, W, C = src.shape
        else:
            N = rng.choice([1, 1, 1, 2])
            C = rng.choice(CH + [40])
            H = W = None
        if rng.random() < 0.15:  # global pooling
            if H is None:
                H, W = rng.randint(1, 7), rng.randint(1, 7)
            k, s, pad, Ho, Wo = (H, W), (rng.randint(1, 3), rng.randint(1, 3)), (0, 0, 0, 0), 1, 1
        else:
            k, s, pad, H, W, Ho, Wo = window_geom(rng, H, W)
        if N * Ho * Wo * C * k[0] * k[1] <= ELEM_BUDGET and k[0] <= 255 and k[1] <= 255:
            break
    else:
        return None
    if src is None:
        src = b.tensor((N, H, W, C), rng.choice([U8, S8, S32]), 'in')
    out_shape = (N, Ho, Wo, C)
    return epilogue_desc(b, op, src, out_shape, k, s, pad, aux_cands,
                         type_bits(src.type) + (int(math.log2(k[0] * k[1])) if op == 4 else 0))


def epilogue_desc(b, op, src, out_shape, k, s, pad, aux_cands, mag):
    rng = b.rng
    flags = 0
    aux = None
    align = (choose_align(rng), 0)
    if rng.random() < 0.35:
        flags |= m.F_AUX
        aux = pick_aux(b, out_shape, aux_cands)
        align = (align[0], choose_align(rng))
    if rng.random() < 0.4:
        flags |= m.F_RELU
    t0, t1 = choose_types(rng, 2)
    dst0 = b.tensor(out_shape, t0, 'out')
    dst1, sh1 = None, 0
    if rng.random() < 0.3:
        flags |= m.F_DST1
        dst1 = b.tensor(out_shape, t1, 'out')
        sh1 = choose_shift(rng, mag + align[0], t1)
    sh0 = choose_shift(rng, mag + align[0], t0)
    b.add_desc(op, flags, k, s, pad, align, (sh0, sh1), src, aux, dst0, dst1)
    return [t for t in (dst0, dst1) if t is not None]


def gen_add(b, src=None, aux_cands=()):
    rng = b.rng
    if src is None:
        while True:
            shape = (rng.choice([1, 1, 2]), rng.randint(1, 6), rng.randint(1, 6),
                     rng.choice(CH + [40]))
            if shape[0] * shape[1] * shape[2] * shape[3] <= ELEM_BUDGET:
                break
        src = b.tensor(shape, rng.choice([U8, S8, S32]), 'in')
    return epilogue_desc(b, m.OP_ADD, src, src.shape, (0, 0), (0, 0), (0, 0, 0, 0), aux_cands,
                         type_bits(src.type))


def gen_big_k(b):
    """A conv at the K limit (K = 65536 valid, or just beyond: LIMIT)."""
    rng = b.rng
    if rng.random() < 0.5:
        # K = 16*16*256 = 65536 exactly: valid, 1 output
        src = b.tensor((1, 16, 16, 256), rng.choice([U8, S8]), 'in', layout='dense',
                       values=rng.choice(['rand', 'max']))
        wsize = 65536
        wref = b.buffer(wsize, 1, rng.choice(['rand', 'max']))
        dst0 = b.tensor((1, 1, 1, 1), S32, 'out')
        b.add_desc(m.OP_CONV2D, 0, (16, 16), (1, 1), (0, 0, 0, 0), (0, 0), (0, 0), src, None,
                   dst0, None, wref, None, wsize, 0)
    else:
        # K = 15*15*300 > 65536: LIMIT, checked before any region, so tiny regions do
        raw_src = T(b.pick_region(), U8, 0, (1, 15, 15, 300), (0, 0, 0))
        b.alloc(raw_src.region, 1)
        dst0 = T(b.pick_region(), S8, 0, (1, 1, 1, 1), (0, 0, 0))
        b.alloc(dst0.region, 1)
        b.add_desc(m.OP_CONV2D, 0, (15, 15), (1, 1), (0, 0, 0, 0), (0, 0), (0, 0), raw_src,
                   None, dst0, None, (raw_src.region, 0), None, 0, 0)


def gen_residual(b):
    """conv (dst0 s32 stream + dst1 u8) -> conv with AUX = that stream, RELU (ResNet block)."""
    rng = b.rng
    N = rng.choice([1, 2])
    C = rng.choice([1, 2, 3, 4, 5, 7, 8])
    H, W = rng.randint(1, 5), rng.randint(1, 5)
    k = rng.choice([1, 3])
    p = k // 2
    x = b.tensor((N, H, W, C), U8, 'in')
    shape = (N, H, W, C)
    stream = b.tensor(shape, S32, 'out')
    act = b.tensor(shape, U8, 'out')
    w1 = b.buffer(C * k * k * C, 1, 'medium')
    b1 = b.buffer(4 * C, 4, 'medium', bits=32)
    b.add_desc(m.OP_CONV2D, m.F_BIAS | m.F_DST1 | m.F_RELU, (k, k), (1, 1), (p, p, p, p),
               (0, 0), (0, rng.randint(6, 12)), x, None, stream, act, w1, b1, C * k * k * C,
               4 * C)
    out = b.tensor(shape, S32, 'out')
    out8 = b.tensor(shape, rng.choice([U8, S8]), 'out')
    w2 = b.buffer(C * k * k * C, 1, 'medium')
    b2 = b.buffer(4 * C, 4, 'small', bits=32)
    b.add_desc(m.OP_CONV2D, m.F_BIAS | m.F_AUX | m.F_RELU | m.F_DST1, (k, k), (1, 1),
               (p, p, p, p), (0, rng.randint(0, 8)), (0, rng.randint(4, 14)), act, stream, out,
               out8, w2, b2, C * k * k * C, 4 * C)


def gen_chain(b):
    rng = b.rng
    n = rng.randint(2, 4)
    outs = []
    allt = []
    for j in range(n):
        cands = [t for t in outs]
        src = rng.choice(cands) if cands and rng.random() < 0.85 else None
        r = rng.random()
        if src is not None and src.type == S32 and r < 0.45:
            r = 0.5 + rng.random() * 0.5  # conv cannot read s32
        if r < 0.45:
            res = gen_conv(b, src, aux_cands=allt)
        elif r < 0.62:
            res = gen_pool(b, m.OP_POOL_MAX, src, aux_cands=allt)
        elif r < 0.8:
            res = gen_pool(b, m.OP_POOL_SUM, src, aux_cands=allt)
        else:
            res = gen_add(b, src, aux_cands=allt)
        if res is None:
            continue
        outs = res
        allt.extend(res)
        if src is not None:
            allt.append(src)


# ------------------------------------------------------------------------------------------
# faults

def mutate(b, rng, hdr):
    """Apply one fault. hdr: dict with header fields and stream tweaks. Returns a note."""
    comp = [i for i, d in enumerate(b.descs) if d['op'] in (2, 3, 4, 5)]
    di = rng.choice(comp) if comp else 0
    d = b.descs[di]
    raw = d['raw']
    refs = d['refs']
    kind = rng.choice([
        'oob_read', 'oob_read', 'oob_write', 'oob_write', 'bad_opcode', 'bad_magic',
        'bad_version', 'bad_desc_size', 'hdr_reserved', 'count_big', 'cmd_oob', 'desc_reserved',
        'ref_reserved', 'bad_flags', 'bad_type', 'unused_nonzero', 'zero_dim', 'zero_kernel',
        'pad_ge_kernel', 'window_big', 'shape_mismatch', 'shift_range', 'misalign',
        'overlap_in', 'overlap_dst', 'self_overlap', 'missing_end', 'bad_region',
        'disabled_region', 'end_nonzero', 'limit_k', 'huge', 'huge'])
    op = d['op']
    windowed = op in (2, 3, 4)

    def tref_field(name, off, fmt, val):
        base = TREF_OFFS[name]
        struct.pack_into(fmt, raw, base + off, val)

    if kind in ('oob_read', 'oob_write'):
        names = ['src', 'aux', 'weights', 'bias'] if kind == 'oob_read' else ['dst0', 'dst1']
        names = [n for n in names if n in refs]
        if not names:
            return mutate(b, rng, hdr)
        name = rng.choice(names)
        r = refs[name]
        if isinstance(r, T):
            region, end = r.region, r.offset + r.extent()
        else:
            region, end = r[0], r[1] + r[2]
        if rng.random() < 0.7:
            mem = b.mem[region]
            del mem[max(1, end - 1):]   # one byte short (a region holds >= 1 byte)
            return '%s: region %d truncated to %d (footprint of desc %d %s ends at %d)' % (
                kind, region, len(mem), di, name, end)
        # move the reference so that it ends one byte past its region
        size = len(b.mem[region])
        ext = end - (r.offset if isinstance(r, T) else r[1])
        newoff = size - ext + 1
        if newoff < 0:
            newoff = 0
        if isinstance(r, T):
            tref_field(name, 4, '<I', newoff)
        else:
            struct.pack_into('<I', raw, BREF_OFFS[name] + 4, newoff)
        return '%s: desc %d %s offset -> %d (region %d size %d)' % (kind, di, name, newoff,
                                                                    region, size)
    if kind == 'bad_opcode':
        raw[0] = rng.choice([0, 6, 7, 8, 0x41, 0x80, 0x82, 0xFF])
        return 'bad opcode %d in desc %d' % (raw[0], di)
    if kind == 'bad_magic':
        hdr['magic'] = rng.choice([0, 0x53433847, 0x46384353, 0xFFFFFFFF, 0x43533846])
        return 'magic 0x%08x' % hdr['magic']
    if kind == 'bad_version':
        if rng.random() < 0.5:
            hdr['major'] = rng.choice([0, 2, 0x101, 0xFFFF])
        else:
            hdr['minor'] = rng.choice([1, 2, 0x100, 0xFFFF])
        return 'version %d.%d' % (hdr['major'], hdr['minor'])
    if kind == 'bad_desc_size':
        hdr['desc_size'] = rng.choice([0, 32, 255, 257, 512, 0x10100])
        return 'desc_size %d' % hdr['desc_size']
    if kind == 'hdr_reserved':
        hdr['reserved'] = rng.randrange(16), rng.randint(1, 255)
        return 'header reserved byte %d = %d' % (16 + hdr['reserved'][0], hdr['reserved'][1])
    if kind == 'count_big':
        hdr['count_delta'] = rng.choice([1, 2, 1000, 0x01000000, 0x00FFFFFF + 1 - len(b.descs),
                                         0xFFFFFFFF - len(b.descs) + 1])
        return 'desc_count + %d' % hdr['count_delta']
    if kind == 'cmd_oob':
        hdr['truncate'] = rng.randint(0, 31)
        return 'stream truncated to %d bytes' % hdr['truncate']
    if kind == 'desc_reserved':
        j = rng.choice(DESC_RESERVED)
        raw[j] = rng.randint(1, 255)
        return 'desc %d reserved byte %d = %d' % (di, j, raw[j])
    if kind == 'ref_reserved':
        names = [n for n in refs]
        name = rng.choice(names) if names else 'src'
        if name in TREF_OFFS:
            j = TREF_OFFS[name] + rng.choice([2, 3, 28, 29, 30, 31])
        else:
            j = BREF_OFFS[name] + rng.choice([1, 2, 3])
        raw[j] = rng.randint(1, 255)
        return 'desc %d %s reserved byte %d = %d' % (di, name, j, raw[j])
    if kind == 'bad_flags':
        # reserved bits; BIAS/DEPTHWISE (not allowed outside CONV2D; on a conv toggling them
        # changes the meaning); AUX/DST1 toggled against their references
        bit = rng.choice([0x20, 0x40, 0x80, m.F_BIAS, m.F_DEPTHWISE, m.F_AUX, m.F_DST1])
        raw[1] ^= bit
        return 'desc %d flags ^= 0x%02x -> 0x%02x' % (di, bit, raw[1])
    if kind == 'bad_type':
        names = [n for n in refs if n in TREF_OFFS]
        name = rng.choice(names)
        if op == 2 and name == 'src' and rng.random() < 0.5:
            raw[TREF_OFFS[name] + 1] = S32
        else:
            raw[TREF_OFFS[name] + 1] = rng.choice([3, 4, 0x80, 0xFF])
        return 'desc %d %s type %d' % (di, name, raw[TREF_OFFS[name] + 1])
    if kind == 'unused_nonzero':
        opts = []
        if 'aux' not in refs:
            opts += ['aux', 'align_aux']
        if 'dst1' not in refs:
            opts += ['dst1', 'shift1']
        if op != 2:
            opts += ['weights', 'bias']
        elif 'bias' not in refs:
            opts += ['bias']
        if op == 5:
            opts += ['kernel']
        if not opts:
            return mutate(b, rng, hdr)
        o = rng.choice(opts)
        if o in TREF_OFFS:
            j = TREF_OFFS[o] + rng.randrange(32)
        elif o in BREF_OFFS:
            j = BREF_OFFS[o] + rng.randrange(8)
        elif o == 'align_aux':
            j = 13
        elif o == 'shift1':
            j = 17
        else:
            j = rng.randint(4, 11)
        raw[j] = rng.randint(1, 255)
        return 'desc %d unused %s byte %d = %d' % (di, o, j, raw[j])
    if kind == 'zero_dim':
        names = [n for n in refs if n in TREF_OFFS]
        name = rng.choice(names)
        dim = rng.randrange(4)
        tref_field(name, 8 + 2 * dim, '<H', 0)
        return 'desc %d %s dim %d = 0' % (di, name, dim)
    if kind == 'zero_kernel':
        j = rng.randint(4, 7)
        raw[j] = 0
        return 'desc %d byte %d (kernel/stride) = 0' % (di, j)
    if kind == 'pad_ge_kernel':
        j = rng.randint(8, 11)
        kk = raw[4] if j < 10 else raw[5]
        raw[j] = min(255, kk + rng.choice([0, 0, 1, 5]))
        return 'desc %d pad byte %d = %d (kernel %d)' % (di, j, raw[j], kk)
    if kind == 'window_big':
        if 'src' in refs and windowed:
            s = refs['src']
            if rng.random() < 0.5:
                raw[4] = min(255, s.h + raw[8] + raw[9] + 1)
            else:
                raw[5] = min(255, s.w + raw[10] + raw[11] + 1)
        return 'desc %d kernel %dx%d' % (di, raw[4], raw[5])
    if kind == 'shape_mismatch':
        names = [n for n in refs if n in ('aux', 'dst0', 'dst1')]
        if op == 5:
            names.append('src')
        name = rng.choice(names)
        dim = rng.randrange(4)
        base = TREF_OFFS[name] + 8 + 2 * dim
        v = struct.unpack_from('<H', raw, base)[0]
        v = max(1, v + rng.choice([-1, 1, 1, 2]))
        struct.pack_into('<H', raw, base, v)
        return 'desc %d %s dim %d = %d' % (di, name, dim, v)
    if kind == 'shift_range':
        c = rng.choice(['s0', 's1', 'as', 'aa'])
        if c == 's0':
            raw[16] = rng.choice([32, 33, 127, 0x80, 0xE0, 0xDF])
        elif c == 's1':
            raw[17] = rng.choice([32, 127, 0x80, 0xE0])
        elif c == 'as':
            raw[12] = rng.choice([32, 33, 64, 255])
        else:
            raw[13] = rng.choice([32, 33, 64, 255])
        return 'desc %d shift/align %s: bytes 12..17 = %s' % (di, c, raw[12:18].hex())
    if kind == 'misalign':
        names = [n for n in refs if n in TREF_OFFS and refs[n].type == S32]
        if 'bias' in refs:
            names.append('bias')
        if not names:
            # make one tensor s32 instead (probably an ALIGN or OOB fault, or valid)
            names = [n for n in refs if n in TREF_OFFS]
            name = rng.choice(names)
            raw[TREF_OFFS[name] + 1] = S32
            return 'desc %d %s type -> s32' % (di, name)
        name = rng.choice(names)
        if name == 'bias':
            off = struct.unpack_from('<I', raw, BREF_OFFS['bias'] + 4)[0]
            struct.pack_into('<I', raw, BREF_OFFS['bias'] + 4, off + rng.choice([1, 2, 3]))
            return 'desc %d bias offset +misaligned' % di
        field = rng.choice([4, 16, 20, 24])
        v = struct.unpack_from('<I', raw, TREF_OFFS[name] + field)[0]
        v += rng.choice([1, 2, 3, 6])
        struct.pack_into('<I', raw, TREF_OFFS[name] + field, v)
        return 'desc %d %s field @%d -> %d (misaligned)' % (di, name, field, v)
    if kind == 'overlap_in':
        ins = [n for n in refs if n in ('src', 'aux', 'weights', 'bias')]
        name = rng.choice(ins)
        r = refs[name]
        if isinstance(r, T):
            region, off, ext = r.region, r.offset, r.extent()
        else:
            region, off, ext = r
        dname = rng.choice([n for n in ('dst0', 'dst1') if n in refs])
        dt = refs[dname]
        newoff = off + rng.randint(-dt.extent() + 1, max(1, ext) - 1)
        newoff = max(0, newoff)
        if dt.type == S32:
            newoff -= newoff % 4
        raw[TREF_OFFS[dname]] = region
        tref_field(dname, 4, '<I', newoff)
        return 'desc %d %s moved onto %s (region %d offset %d)' % (di, dname, name, region,
                                                                    newoff)
    if kind == 'overlap_dst':
        if 'dst1' not in refs:
            return mutate(b, rng, hdr)
        d0 = refs['dst0']
        d1 = refs['dst1']
        newoff = d0.offset + rng.randint(0, max(0, d0.extent() - 1))
        if d1.type == S32:
            newoff -= newoff % 4
        raw[TREF_OFFS['dst1']] = d0.region
        tref_field('dst1', 4, '<I', newoff)
        return 'desc %d dst1 moved onto dst0 (offset %d)' % (di, newoff)
    if kind == 'self_overlap':
        name = rng.choice([n for n in ('dst0', 'dst1') if n in refs])
        t = refs[name]
        cs = t.c * SIZE[t.type]
        opts = []
        if t.w > 1:
            opts.append((24, cs - rng.choice([1, 4]) if cs > 4 else 0))
        if t.h > 1:
            opts.append((20, max(0, (t.w - 1) * t.sw + cs - rng.choice([1, 4]))))
        if t.n > 1:
            opts.append((16, max(0, (t.h - 1) * t.sh + (t.w - 1) * t.sw + cs - 4)))
        if not opts:
            # dimension of size 1: a small stride there is fine (valid case)
            opts.append((24, 0))
        field, v = rng.choice(opts)
        tref_field(name, field, '<I', max(0, v))
        return 'desc %d %s stride @%d = %d' % (di, name, field, v)
    if kind == 'missing_end':
        hdr['drop_end'] = True
        return 'END removed'
    if kind == 'bad_region':
        names = list(refs)
        name = rng.choice(names)
        j = TREF_OFFS[name] if name in TREF_OFFS else BREF_OFFS[name]
        raw[j] = rng.choice([16, 17, 31, 128, 255])
        return 'desc %d %s region %d' % (di, name, raw[j])
    if kind == 'disabled_region':
        unused = [r for r in range(16) if r not in b.mem]
        if not unused:
            return mutate(b, rng, hdr)
        names = list(refs)
        name = rng.choice(names)
        j = TREF_OFFS[name] if name in TREF_OFFS else BREF_OFFS[name]
        raw[j] = rng.choice(unused)
        return 'desc %d %s -> disabled region %d' % (di, name, raw[j])
    if kind == 'end_nonzero':
        hdr['end_byte'] = rng.randint(1, 255), rng.randint(1, 255)
        return 'END byte %d = %d' % hdr['end_byte']
    if kind == 'huge':
        # 32-bit overflow traps: offset + extent, strides * dims, Cout * K must not wrap
        names = list(refs)
        name = rng.choice(names)
        c = rng.choice(['offset', 'offset', 'stride', 'dims', 'cout'])
        if c == 'offset' or name in BREF_OFFS:
            base = TREF_OFFS[name] + 4 if name in TREF_OFFS else BREF_OFFS[name] + 4
            v = 0xFFFFFFFF - rng.randint(0, 64)
            if rng.random() < 0.5:
                v = 0x100000000 - rng.choice([4, 8, 16, 256])
            struct.pack_into('<I', raw, base, v)
            return 'desc %d %s offset 0x%08x' % (di, name, v)
        if c == 'stride':
            t = refs[name]
            dims = [(16, t.n), (20, t.h), (24, t.w)]
            field = rng.choice([f for f, dd in dims if dd > 1] or [16, 20, 24])
            v = rng.choice([0xFFFFFFFC, 0x80000000, 0x40000000, 0xFFFFFF00])
            struct.pack_into('<I', raw, TREF_OFFS[name] + field, v)
            return 'desc %d %s stride @%d = 0x%08x' % (di, name, field, v)
        if c == 'dims' or op != 2:
            # every used tensor to 65535 in one dimension (shapes still match for ADD)
            dim = rng.randrange(4)
            for nm in refs:
                if nm in TREF_OFFS:
                    struct.pack_into('<H', raw, TREF_OFFS[nm] + 8 + 2 * dim, 65535)
            return 'desc %d dim %d of every tensor = 65535' % (di, dim)
        # conv: Cout = 65535 (weights footprint 65535 * K, close to 2^32)
        for nm in ('dst0', 'dst1', 'aux'):
            if nm in refs:
                struct.pack_into('<H', raw, TREF_OFFS[nm] + 14, 65535)
        if raw[1] & m.F_DEPTHWISE:
            struct.pack_into('<H', raw, TREF_OFFS['src'] + 14, 65535)
        return 'desc %d Cout = 65535' % di
    if kind == 'limit_k':
        # make the conv's K exceed 65536 by enlarging Cin (src.c) and the kernel
        b.descs = [dd for dd in b.descs if dd['op'] == 1]
        gen_big_k_over(b)
        return 'K > 65536'
    return kind


def gen_big_k_over(b):
    """Put a conv with K = kh*kw*Cin > 65536 in front of the remaining descriptors (LIMIT is
    checked before regions and footprints, so its regions can be tiny)."""
    rng = b.rng
    r = b.pick_region()
    b.alloc(r, 4)
    kh = rng.choice([15, 16, 255])
    cin = min(65535, 65536 // (kh * kh) + 1 + rng.randint(0, 3))
    src = T(r, rng.choice([U8, S8]), 0, (1, kh, kh, cin), (0, 0, 0))
    dst = T(r, U8, 0, (1, 1, 1, 1), (0, 0, 0))
    saved = b.descs
    b.descs = []
    b.add_desc(m.OP_CONV2D, 0, (kh, kh), (1, 1), (0, 0, 0, 0), (0, 0), (0, 0), src, None, dst,
               None, (r, 0), None, 0, 0)
    b.descs += saved


# ------------------------------------------------------------------------------------------

def make_case(seed, index):
    rng = random.Random('f8indep:%d:%d' % (seed, index))
    b = Builder(rng)
    case = Case()
    r = rng.random()
    if r < 0.10:
        case.rows, case.cols = 4, 4
    elif r < 0.20:
        case.rows, case.cols = 3, 5
    elif r < 0.25:
        case.rows, case.cols = rng.randint(1, 40), rng.randint(1, 40)
    if rng.random() < 0.15:
        case.bw = rng.choice([1, 3, 8, 32, 64, 100])
        case.latency = rng.choice([0, 1, 10, 64, 200])

    r = rng.random()
    if r < 0.22:
        note = 'conv'
        while gen_conv(b, dw=False) is None:
            pass
    elif r < 0.36:
        note = 'conv dw'
        while gen_conv(b, dw=True) is None:
            pass
    elif r < 0.47:
        note = 'pool_max'
        while gen_pool(b, m.OP_POOL_MAX) is None:
            pass
    elif r < 0.58:
        note = 'pool_sum'
        while gen_pool(b, m.OP_POOL_SUM) is None:
            pass
    elif r < 0.72:
        note = 'add'
        gen_add(b)
    elif r < 0.74:
        note = 'big K'
        gen_big_k(b)
    elif r < 0.79:
        note = 'residual'
        gen_residual(b)
    else:
        note = 'chain'
        gen_chain(b)
        if not b.descs:
            gen_add(b)
    b.end()
    # sometimes garbage after END (never executed) or extra stream bytes
    trailing = 0
    if rng.random() < 0.05:
        b.descs.append({'raw': bytearray(rand_bytes(rng, 256)), 'op': -1, 'refs': {}})
    if rng.random() < 0.05:
        trailing = rng.randint(1, 300)

    hdr = {'magic': m.MAGIC, 'major': 1, 'minor': 0, 'desc_size': 256, 'reserved': None,
           'count_delta': 0, 'truncate': None, 'drop_end': False, 'end_byte': None}
    if rng.random() < 0.15:
        note += ' | fault: ' + mutate(b, rng, hdr)
    descs = b.descs
    if hdr['drop_end']:
        descs = [d for d in descs if d['op'] != 1]
    if hdr['end_byte'] is not None:
        for d in descs:
            if d['op'] == 1:
                d['raw'][hdr['end_byte'][0]] = hdr['end_byte'][1]
    count = (len(descs) + hdr['count_delta']) & 0xFFFFFFFF
    h = bytearray(struct.pack('<IHHII16x', hdr['magic'], hdr['major'], hdr['minor'],
                              hdr['desc_size'], count))
    if hdr['reserved'] is not None:
        h[16 + hdr['reserved'][0]] = hdr['reserved'][1]
    s = bytes(h) + b''.join(bytes(d['raw']) for d in descs) + rand_bytes(rng, trailing)
    if hdr['truncate'] is not None:
        s = s[:hdr['truncate']]
    case.stream = s
    case.regions = {r: bytes(v) for r, v in b.mem.items() if len(v) > 0}
    # an unused extra region now and then
    if rng.random() < 0.1:
        free = [r for r in range(16) if r not in case.regions]
        if free:
            case.regions[rng.choice(free)] = rand_bytes(rng, rng.randint(1, 64))
    for r, v in case.regions.items():
        if not any(v) and rng.random() < 0.5:
            case.zero_regions.add(r)
    case.note = note
    return case


def write_case(case, d):
    """Write a case to directory d (stream.bin, r<R>.bin, run.sh). Returns the f8 arguments."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'stream.bin'), 'wb') as f:
        f.write(case.stream)
    args = [os.path.join(d, 'stream.bin')]
    for r in sorted(case.regions):
        if r in case.zero_regions:
            args += ['--zero', '%d=%d' % (r, len(case.regions[r]))]
        else:
            p = os.path.join(d, 'r%d.bin' % r)
            with open(p, 'wb') as f:
                f.write(case.regions[r])
            args += ['--region', '%d=%s' % (r, p)]
    for r in sorted(case.regions):
        args += ['--out', '%d=%s' % (r, os.path.join(d, 'out%d.bin' % r))]
    if (case.rows, case.cols) != (16, 16):
        args += ['--array', '%dx%d' % (case.rows, case.cols)]
    if case.bw != 16:
        args += ['--bw', str(case.bw)]
    if case.latency != 64:
        args += ['--latency', str(case.latency)]
    return args


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--index', type=int, default=0)
    ap.add_argument('--dir')
    a = ap.parse_args(argv)
    c = make_case(a.seed, a.index)
    print('case %d seed %d: %s; array %dx%d bw %d latency %d' % (
        a.index, a.seed, c.note, c.rows, c.cols, c.bw, c.latency))
    print(m.describe_stream(c.stream))
    print('regions: %s' % {r: len(v) for r, v in sorted(c.regions.items())})
    st, _, cnt = m.run(c.stream, c.regions, c.rows, c.cols, c.bw, c.latency)
    print('model: %s %s' % (st, cnt))
    if a.dir:
        args = write_case(c, a.dir)
        print('f8 exec ' + ' '.join(args))


if __name__ == '__main__':
    main(sys.argv[1:])
