#!/usr/bin/python3
"""Independent Python model of the f8npu command stream (docs/isa.md, docs/arith.md).

Written from the normative documents only (docs/arith.md, docs/isa.md, docs/regs.md,
docs/runner.md), never from the C model, so that it is an independent check of the spec.
Standard library only.

Entry point:

    status, regions, counters = run(stream, regions, rows=16, cols=16, bw=16, latency=64)

- stream: the command stream bytes (CMD_SIZE = len(stream)).
- regions: dict region index -> bytes/bytearray (a region not in the dict is disabled).
  The dict's values are copied; the returned dict holds the final memory contents.
- status: 'DONE' or ('ERROR', code, index).
- counters: dict cycles, stall, macs, rd, wr, descs.

Physical addresses (for OVERLAP): as with `f8 exec` (docs/runner.md) every region gets its own
4 KiB-aligned device address with unmapped gaps, so two footprints can only intersect when they
are in the same region.
"""

import f8npu_abi as abi

# ---------------------------------------------------------------------------------------------
# Constants (uapi/f8npu_cmd.h, uapi/f8npu_regs.h, docs/regs.md). The ABI's numbers come from
# f8npu_abi.py, generated from uapi/f8npu_cmd.map and uapi/f8npu_regs.map (make cmd); the
# arithmetic and the rules below are this model's own.

MAGIC = abi.CMD_MAGIC
VERSION_MAJOR = abi.CMD_VERSION_MAJOR
VERSION_MINOR = abi.CMD_VERSION_MINOR
HEADER_SIZE = abi.CMD_HEADER_SIZE
DESC_SIZE = abi.CMD_DESC_SIZE
CAP_REGIONS = 16
CAP_OPS = sum(1 << op for op in range(1, abi.OP_COUNT_))
MAX_K = abi.MAX_K
MAX_WINDOW = 65536
SHIFT_MIN, SHIFT_MAX = abi.SHIFT_MIN, abi.SHIFT_MAX
ALIGN_MAX = abi.ALIGN_MAX
HEADER_INDEX = 0xFFFFFFFF

OP_END, OP_CONV2D, OP_POOL_MAX, OP_POOL_SUM, OP_ADD = (
    abi.OP_END, abi.OP_CONV2D, abi.OP_POOL_MAX, abi.OP_POOL_SUM, abi.OP_ADD)
OP_NAMES = {OP_END: 'END', OP_CONV2D: 'CONV2D', OP_POOL_MAX: 'POOL_MAX', OP_POOL_SUM: 'POOL_SUM',
            OP_ADD: 'ADD'}

T_U8, T_S8, T_S32 = abi.TYPE_U8, abi.TYPE_S8, abi.TYPE_S32
TYPE_NAMES = {T_U8: 'u8', T_S8: 's8', T_S32: 's32'}
TYPE_SIZE = {T_U8: 1, T_S8: 1, T_S32: 4}

F_BIAS, F_AUX, F_RELU, F_DST1, F_DEPTHWISE = (
    abi.FLAG_BIAS, abi.FLAG_AUX, abi.FLAG_RELU, abi.FLAG_DST1, abi.FLAG_DEPTHWISE)

ERR = dict(abi.ERR)
ERR_NAMES = {v: k for k, v in ERR.items()}

# ---------------------------------------------------------------------------------------------
# Arithmetic (docs/arith.md §2). Python ints are mathematical integers.

I32MAX = (1 << 31) - 1


def clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


def sat32(v):                      # A1
    return clamp(v, -I32MAX, I32MAX)


def shift(v, s):                   # A2
    if s <= 0:
        return v << (-s)
    q = v >> s                     # floor division by 2^s
    r = v - (q << s)
    half = 1 << (s - 1)
    if r > half or (r == half and (q & 1)):
        return q + 1
    return q


def sat(t, v):                     # A3
    if t == T_U8:
        return clamp(v, 0, 255)
    if t == T_S8:
        return clamp(v, -127, 127)
    if t == T_S32:
        return sat32(v)
    raise ValueError('type %r' % (t,))


def requant(v, s, t):              # A4
    return sat(t, shift(v, s))


def mac(bias, xs, ws):             # A5 (values already decoded)
    return sat32(bias + sum(x * w for x, w in zip(xs, ws)))


def align_add(a, la, b, lb):       # A6
    return sat32(sat32(a << la) + sat32(b << lb))


def relu(v):                       # A7
    return v if v > 0 else 0


def epilogue(v0, align_src, aux, align_aux, do_relu, outs):
    """A8. aux is None without AUX. outs: list of (shift, type). Returns the output values."""
    v1 = align_add(v0, align_src, 0 if aux is None else aux, align_aux)
    v2 = relu(v1) if do_relu else v1
    return [requant(v2, s, t) for (s, t) in outs]


def decode_byte(t, b):
    """A stored byte read as type t (u8 or s8)."""
    if t == T_S8 and b >= 128:
        return b - 256
    return b


# ---------------------------------------------------------------------------------------------
# Little-endian helpers

def u16(b, o):
    return b[o] | (b[o + 1] << 8)


def u32(b, o):
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)


def s8(x):
    return x - 256 if x >= 128 else x


def ceil_div(a, b):
    return -(-a // b)


# ---------------------------------------------------------------------------------------------
# Descriptor decoding (docs/isa.md §2, §3)

class TensorRef:
    __slots__ = ('raw', 'region', 'type', 'reserved0', 'offset', 'n', 'h', 'w', 'c',
                 'stride_n', 'stride_h', 'stride_w', 'reserved1')

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.region = raw[0]
        self.type = raw[1]
        self.reserved0 = u16(raw, 2)
        self.offset = u32(raw, 4)
        self.n, self.h, self.w, self.c = u16(raw, 8), u16(raw, 10), u16(raw, 12), u16(raw, 14)
        self.stride_n, self.stride_h, self.stride_w = u32(raw, 16), u32(raw, 20), u32(raw, 24)
        self.reserved1 = u32(raw, 28)

    def is_zero(self):
        return not any(self.raw)

    def size(self):
        return TYPE_SIZE[self.type]

    def shape(self):
        return (self.n, self.h, self.w, self.c)

    def extent(self):
        return ((self.n - 1) * self.stride_n + (self.h - 1) * self.stride_h
                + (self.w - 1) * self.stride_w + self.c * self.size())

    def nbytes(self):
        return self.n * self.h * self.w * self.c * self.size()

    def self_overlaps(self):
        """docs/isa.md §2: an output must not overlap itself."""
        cs = self.c * self.size()
        if self.w > 1 and self.stride_w < cs:
            return True
        if self.h > 1 and self.stride_h < (self.w - 1) * self.stride_w + cs:
            return True
        if self.n > 1 and self.stride_n < ((self.h - 1) * self.stride_h
                                           + (self.w - 1) * self.stride_w + cs):
            return True
        return False

    def __repr__(self):
        t = TYPE_NAMES.get(self.type, 'type%d' % self.type)
        return ('r%d+%d %s[%d,%d,%d,%d] str(%d,%d,%d)' %
                (self.region, self.offset, t, self.n, self.h, self.w, self.c,
                 self.stride_n, self.stride_h, self.stride_w))


class BufRef:
    __slots__ = ('raw', 'region', 'reserved', 'offset')

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.region = raw[0]
        self.reserved = bytes(raw[1:4])
        self.offset = u32(raw, 4)

    def is_zero(self):
        return not any(self.raw)

    def __repr__(self):
        return 'r%d+%d' % (self.region, self.offset)


class Desc:
    def __init__(self, d):
        d = bytes(d)
        self.raw = d
        self.opcode = d[0]
        self.flags = d[1]
        self.reserved0 = d[2:4]
        self.kernel_h, self.kernel_w, self.stride_h, self.stride_w = d[4], d[5], d[6], d[7]
        self.pad_top, self.pad_bottom, self.pad_left, self.pad_right = d[8], d[9], d[10], d[11]
        self.align_src, self.align_aux = d[12], d[13]
        self.reserved1 = d[14:16]
        self.out_shift_raw = (d[16], d[17])
        self.out_shift = (s8(d[16]), s8(d[17]))
        self.reserved2 = d[18:32]
        self.src = TensorRef(d[32:64])
        self.aux = TensorRef(d[64:96])
        self.dst0 = TensorRef(d[96:128])
        self.dst1 = TensorRef(d[128:160])
        self.weights = BufRef(d[160:168])
        self.bias = BufRef(d[168:176])
        self.reserved3 = d[176:256]


# The slices above are this model's reading of docs/isa.md §2-§3; they must be the layout of
# the one source (uapi/f8npu_cmd.map).
_LAYOUT = {
    'DESC': {'opcode': (0, 1), 'flags': (1, 1), 'reserved0': (2, 2), 'kernel_h': (4, 1),
             'kernel_w': (5, 1), 'stride_h': (6, 1), 'stride_w': (7, 1), 'pad_top': (8, 1),
             'pad_bottom': (9, 1), 'pad_left': (10, 1), 'pad_right': (11, 1),
             'align_src': (12, 1), 'align_aux': (13, 1), 'reserved1': (14, 2),
             'out_shift': (16, 2), 'reserved2': (18, 14), 'src': (32, 32), 'aux': (64, 32),
             'dst': (96, 64), 'weights': (160, 8), 'bias': (168, 8), 'reserved3': (176, 80)},
    'TENSOR_REF': {'region': (0, 1), 'type': (1, 1), 'reserved0': (2, 2), 'offset': (4, 4),
                   'n': (8, 2), 'h': (10, 2), 'w': (12, 2), 'c': (14, 2), 'stride_n': (16, 4),
                   'stride_h': (20, 4), 'stride_w': (24, 4), 'reserved1': (28, 4)},
    'BUFFER_REF': {'region': (0, 1), 'reserved': (1, 3), 'offset': (4, 4)},
    'CMD_HEADER': {'magic': (0, 4), 'version_major': (4, 2), 'version_minor': (6, 2),
                   'desc_size': (8, 4), 'desc_count': (12, 4), 'reserved': (16, 16)},
}
for _name, _fields in _LAYOUT.items():
    assert getattr(abi, _name) == _fields, 'f8indep: %s layout differs from f8npu_abi' % _name

    def summary(self):
        op = OP_NAMES.get(self.opcode, 'op%d' % self.opcode)
        fl = [n for b, n in ((F_BIAS, 'BIAS'), (F_AUX, 'AUX'), (F_RELU, 'RELU'),
                             (F_DST1, 'DST1'), (F_DEPTHWISE, 'DW')) if self.flags & b]
        if self.flags & 0xE0:
            fl.append('0x%02x' % (self.flags & 0xE0))
        s = '%s flags=%s' % (op, '|'.join(fl) or '0')
        if self.opcode == OP_END:
            return s
        s += ' k=%dx%d s=%dx%d pad(t%d,b%d,l%d,r%d) align(%d,%d) shift(%d,%d)' % (
            self.kernel_h, self.kernel_w, self.stride_h, self.stride_w, self.pad_top,
            self.pad_bottom, self.pad_left, self.pad_right, self.align_src, self.align_aux,
            self.out_shift[0], self.out_shift[1])
        s += '\n    src=%r' % (self.src,)
        if not self.aux.is_zero():
            s += '\n    aux=%r' % (self.aux,)
        s += '\n    dst0=%r' % (self.dst0,)
        if not self.dst1.is_zero():
            s += '\n    dst1=%r' % (self.dst1,)
        if not self.weights.is_zero():
            s += '\n    weights=%r' % (self.weights,)
        if not self.bias.is_zero():
            s += '\n    bias=%r' % (self.bias,)
        return s


class Fault(Exception):
    def __init__(self, code):
        Exception.__init__(self, ERR_NAMES.get(code, str(code)))
        self.code = code


# ---------------------------------------------------------------------------------------------
# Validation (docs/isa.md §5)

ALLOWED_FLAGS = {
    OP_CONV2D: 0x1F,
    OP_POOL_MAX: F_AUX | F_RELU | F_DST1,
    OP_POOL_SUM: F_AUX | F_RELU | F_DST1,
    OP_ADD: F_AUX | F_RELU | F_DST1,
}


class Plan:
    """What validation derived from a descriptor, for execution and the cost model."""
    pass


def validate(d, region_sizes):
    """Return a Plan or raise Fault. region_sizes: dict index -> size (absent = disabled)."""
    op = d.opcode
    # 1. BAD_OPCODE
    if op < 1 or op > 5 or not (CAP_OPS >> op) & 1:
        raise Fault(ERR['BAD_OPCODE'])
    if op == OP_END:
        # "Stops the job and raises DONE. Every other field MBZ."
        if any(d.raw[1:]):
            raise Fault(ERR['BAD_FIELD'])
        return None

    fl = d.flags
    has_aux = bool(fl & F_AUX)
    has_dst1 = bool(fl & F_DST1)
    is_conv = op == OP_CONV2D
    has_bias = is_conv and bool(fl & F_BIAS)
    dw = is_conv and bool(fl & F_DEPTHWISE)
    windowed = op in (OP_CONV2D, OP_POOL_MAX, OP_POOL_SUM)

    # 2. BAD_FIELD
    BF = ERR['BAD_FIELD']
    if any(d.reserved0) or any(d.reserved1) or any(d.reserved2) or any(d.reserved3):
        raise Fault(BF)
    if fl & ~ALLOWED_FLAGS[op] & 0xFF:
        raise Fault(BF)
    used_t = [('src', d.src, True), ('aux', d.aux, has_aux),
              ('dst0', d.dst0, True), ('dst1', d.dst1, has_dst1)]
    for name, t, used in used_t:
        if used:
            if t.reserved0 or t.reserved1:
                raise Fault(BF)
            if t.type > 2:
                raise Fault(BF)
            if name == 'src' and is_conv and t.type == T_S32:
                raise Fault(BF)
        elif not t.is_zero():
            raise Fault(BF)
    for b, used in ((d.weights, is_conv), (d.bias, has_bias)):
        if used:
            if any(b.reserved):
                raise Fault(BF)
        elif not b.is_zero():
            raise Fault(BF)
    if op == OP_ADD:
        if any(d.raw[4:12]):
            raise Fault(BF)
    if not has_aux and d.align_aux != 0:
        raise Fault(BF)
    if not has_dst1 and d.out_shift_raw[1] != 0:
        raise Fault(BF)

    # 3. BAD_SHAPE
    BS = ERR['BAD_SHAPE']
    for name, t, used in used_t:
        if used and 0 in t.shape():
            raise Fault(BS)
    src = d.src
    N, H, W, Cin = src.shape()
    if windowed:
        kh, kw, sh, sw = d.kernel_h, d.kernel_w, d.stride_h, d.stride_w
        if kh == 0 or kw == 0 or sh == 0 or sw == 0:
            raise Fault(BS)
        if d.pad_top >= kh or d.pad_bottom >= kh or d.pad_left >= kw or d.pad_right >= kw:
            raise Fault(BS)
        if H + d.pad_top + d.pad_bottom < kh or W + d.pad_left + d.pad_right < kw:
            raise Fault(BS)
        Ho = (H + d.pad_top + d.pad_bottom - kh) // sh + 1
        Wo = (W + d.pad_left + d.pad_right - kw) // sw + 1
        if is_conv and not dw:
            Cout = d.dst0.c
        else:
            Cout = Cin
        out_shape = (N, Ho, Wo, Cout)
    else:
        kh = kw = sh = sw = 0
        Ho, Wo, Cout = H, W, Cin
        out_shape = (N, H, W, Cin)
    for name, t, used in used_t:
        if used and name != 'src' and t.shape() != out_shape:
            raise Fault(BS)

    # 4. LIMIT
    LIM = ERR['LIMIT']
    K = 0
    if is_conv:
        K = kh * kw * (1 if dw else Cin)
        if K > MAX_K:
            raise Fault(LIM)
    elif windowed:
        if kh * kw > MAX_WINDOW:
            raise Fault(LIM)
    shifts = [d.out_shift[0]] + ([d.out_shift[1]] if has_dst1 else [])
    for s in shifts:
        if s < SHIFT_MIN or s > SHIFT_MAX:
            raise Fault(LIM)
    if d.align_src > ALIGN_MAX or d.align_aux > ALIGN_MAX:
        raise Fault(LIM)

    # 5. BAD_REGION, references in the order src, aux, weights, bias, dst[0], dst[1]
    refs = [d.src]
    if has_aux:
        refs.append(d.aux)
    if is_conv:
        refs.append(d.weights)
    if has_bias:
        refs.append(d.bias)
    refs.append(d.dst0)
    if has_dst1:
        refs.append(d.dst1)
    for r in refs:
        if r.region >= CAP_REGIONS or region_sizes.get(r.region, 0) == 0:
            raise Fault(ERR['BAD_REGION'])

    # 6. ALIGN
    for name, t, used in used_t:
        if used and t.type == T_S32:
            if t.offset % 4 or t.stride_n % 4 or t.stride_h % 4 or t.stride_w % 4:
                raise Fault(ERR['ALIGN'])
    if has_bias and d.bias.offset % 4:
        raise Fault(ERR['ALIGN'])

    # 7. OOB_READ / OOB_WRITE: footprints (region, start, end)
    w_size = Cout * kh * kw * (1 if dw else Cin) if is_conv else 0
    inputs = [(src.region, src.offset, src.offset + src.extent())]
    if has_aux:
        inputs.append((d.aux.region, d.aux.offset, d.aux.offset + d.aux.extent()))
    if is_conv:
        inputs.append((d.weights.region, d.weights.offset, d.weights.offset + w_size))
    if has_bias:
        inputs.append((d.bias.region, d.bias.offset, d.bias.offset + 4 * Cout))
    outs = [d.dst0] + ([d.dst1] if has_dst1 else [])
    outputs = [(t.region, t.offset, t.offset + t.extent()) for t in outs]
    for (r, a, e) in inputs:
        if e > region_sizes[r]:
            raise Fault(ERR['OOB_READ'])
    for (r, a, e) in outputs:
        if e > region_sizes[r]:
            raise Fault(ERR['OOB_WRITE'])

    # 8. OVERLAP
    OV = ERR['OVERLAP']
    for t in outs:
        if t.self_overlaps():
            raise Fault(OV)

    def inter(x, y):
        return x[0] == y[0] and x[1] < y[2] and y[1] < x[2]
    for o in outputs:
        for i in inputs:
            if inter(o, i):
                raise Fault(OV)
    if has_dst1 and inter(outputs[0], outputs[1]):
        raise Fault(OV)

    p = Plan()
    p.op, p.has_aux, p.has_dst1, p.has_bias, p.dw = op, has_aux, has_dst1, has_bias, dw
    p.relu = bool(fl & F_RELU)
    p.N, p.H, p.W, p.Cin = N, H, W, Cin
    p.Ho, p.Wo, p.Cout = Ho, Wo, Cout
    p.kh, p.kw, p.sh, p.sw = kh, kw, sh, sw
    p.K = K
    p.w_size = w_size
    p.outs = outs
    return p


# ---------------------------------------------------------------------------------------------
# Memory access

def read_tensor(mem, t):
    """Return nested lists X[i][y][x] = [values of c] read as t's type."""
    size = TYPE_SIZE[t.type]
    out = []
    for i in range(t.n):
        rows = []
        for y in range(t.h):
            cols = []
            for x in range(t.w):
                a = t.offset + i * t.stride_n + y * t.stride_h + x * t.stride_w
                if t.type == T_U8:
                    v = list(mem[a:a + t.c])
                elif t.type == T_S8:
                    v = [b - 256 if b >= 128 else b for b in mem[a:a + t.c]]
                else:
                    v = [int.from_bytes(mem[a + 4 * k:a + 4 * k + 4], 'little', signed=True)
                         for k in range(t.c)]
                cols.append(v)
            rows.append(cols)
        out.append(rows)
    return out


def write_elem(mem, t, i, y, x, k, v):
    a = t.offset + i * t.stride_n + y * t.stride_h + x * t.stride_w + k * TYPE_SIZE[t.type]
    if t.type == T_S32:
        mem[a:a + 4] = (v & 0xFFFFFFFF).to_bytes(4, 'little')
    else:
        mem[a] = v & 0xFF


# ---------------------------------------------------------------------------------------------
# Execution (docs/isa.md §4, docs/arith.md §3, A8)

def execute(d, p, mems):
    src = read_tensor(mems[d.src.region], d.src)
    aux = read_tensor(mems[d.aux.region], d.aux) if p.has_aux else None
    outs_spec = [(d.out_shift[0], d.dst0.type)]
    if p.has_dst1:
        outs_spec.append((d.out_shift[1], d.dst1.type))
    dsts = p.outs
    dmems = [mems[t.region] for t in dsts]
    relu_ = p.relu
    a_src, a_aux = d.align_src, d.align_aux

    if p.op == OP_CONV2D:
        wm = mems[d.weights.region]
        wo = d.weights.offset
        wbytes = wm[wo:wo + p.w_size]
        wv = [b - 256 if b >= 128 else b for b in wbytes]
        if p.has_bias:
            bm = mems[d.bias.region]
            bo = d.bias.offset
            bias = [int.from_bytes(bm[bo + 4 * k:bo + 4 * k + 4], 'little', signed=True)
                    for k in range(p.Cout)]
        else:
            bias = [0] * p.Cout

    N, H, W, Cin = p.N, p.H, p.W, p.Cin
    kh, kw, sh, sw = p.kh, p.kw, p.sh, p.sw
    pt, pl = d.pad_top, d.pad_left
    for i in range(N):
        for y in range(p.Ho):
            for x in range(p.Wo):
                if p.op == OP_ADD:
                    v0s = src[i][y][x]
                else:
                    # present window positions
                    pos = []
                    for ky in range(kh):
                        iy = y * sh - pt + ky
                        if iy < 0 or iy >= H:
                            continue
                        for kx in range(kw):
                            ix = x * sw - pl + kx
                            if ix < 0 or ix >= W:
                                continue
                            pos.append((ky, kx, src[i][iy][ix]))
                    if p.op == OP_CONV2D:
                        v0s = []
                        if p.dw:
                            for co in range(p.Cout):
                                base = co * kh * kw
                                acc = 0
                                for ky, kx, xv in pos:
                                    acc += xv[co] * wv[base + ky * kw + kx]
                                v0s.append(sat32(bias[co] + acc))
                        else:
                            for co in range(p.Cout):
                                acc = 0
                                base = co * kh * kw * Cin
                                for ky, kx, xv in pos:
                                    wb = base + (ky * kw + kx) * Cin
                                    ws = wv[wb:wb + Cin]
                                    acc += sum(a * b for a, b in zip(xv, ws))
                                v0s.append(sat32(bias[co] + acc))
                    elif p.op == OP_POOL_MAX:
                        v0s = [max(xv[k] for _, _, xv in pos) for k in range(Cin)]
                    else:  # POOL_SUM
                        v0s = [sat32(sum(xv[k] for _, _, xv in pos)) for k in range(Cin)]
                auxv = aux[i][y][x] if aux is not None else None
                for k in range(p.Cout):
                    vals = epilogue(v0s[k], a_src, None if auxv is None else auxv[k], a_aux,
                                    relu_, outs_spec)
                    for j, t in enumerate(dsts):
                        write_elem(dmems[j], t, i, y, x, k, vals[j])


COST_SETUP = 96  # isa.md §7: validation and set-up of an executed compute descriptor
COST_AHEAD = 16  # isa.md §7: row steps the row reader runs ahead (the ramp)
COST_AHEAD_ROWS = 8  # isa.md §7: input rows it runs ahead on the fast depthwise path
COST_AUX_AHEAD = 64  # isa.md §7: bias / aux reads the aux reader runs ahead
# isa.md §7: the fast depthwise path, with the reference RTL's buffers (256 columns / words)
DW_FAST_WIDTH = 256


def dw_fast(d, p, rows):
    """A depthwise CONV2D on the RTL's fast path (isa.md §7, docs/rtl.md "Depthwise")."""
    return (p.kw <= 3 and p.kh <= min(rows, 4) and p.kh * p.kw <= rows and p.sh <= p.kh and
            p.Wo <= DW_FAST_WIDTH and (p.Wo - 1) * p.sw + p.kw <= DW_FAST_WIDTH)


def conv_pack(d, p, rows):
    """Taps per pass of a CONV2D on the RTL's tap packing (isa.md §7, docs/rtl.md "Tap
    packing": Cin <= rows / 2, dense u8/s8 input, kw >= 2), else 0."""
    if (p.op != OP_CONV2D or p.dw or p.Cin == 0 or 2 * p.Cin > rows or p.kw < 2 or
            d.src.size() != 1 or d.src.stride_w != p.Cin):
        return 0
    return rows // p.Cin


def tile_width(p, kw, sw, fast):
    """The RTL's column tile: the widest run of outputs whose windows fit the row buffer's 256
    columns, at most 256 and the row (fast depthwise: the row)."""
    tw = min(p.Wo, 256)
    while not fast and (tw - 1) * sw + kw > 256:
        tw -= 1
    return tw


def group_inner(p, rows, cols, pk):
    """A CONV2D in the RTL's group-inner order (isa.md §7): several channel groups, an input read
    per IN item (packed, or kernel_w <= stride_w), whose weight
    blocks (a tap and input channel group each) all fit 1024, a tile's row steps (packed: its
    passes) at most 16 and all but the last within 7 x 256 row-buffer entries."""
    if p.op != OP_CONV2D or p.dw or p.Cout <= cols or (not pk and p.kw > p.sw):
        return False
    cg = ceil_div(p.Cin, rows)
    if ceil_div(p.Cout, cols) * p.kh * p.kw * cg > 1024:
        return False
    steps = p.kh * (len(range(0, p.kw, pk)) if pk else cg)
    if steps > 16:
        return False
    tw = tile_width(p, p.kw, p.sw, False)
    return (steps - 1) * (tw if pk else (tw - 1) * p.sw + p.kw) <= 7 * 256


def cost(d, p, rows, cols, B):
    """(macs, read bytes, written bytes, array cycles, busy cycles, DRAM server cycles, ramp) of
    an executed compute descriptor (isa.md §7). The server cycles are summed request by request."""
    written = sum(t.nbytes() for t in p.outs)
    aux_b = d.aux.nbytes() if p.has_aux else 0
    src_b = d.src.nbytes()
    NHW = p.N * p.Ho * p.Wo
    is_add = p.op == OP_ADD
    kh, kw, sh, sw = (1, 1, 1, 1) if is_add else (p.kh, p.kw, p.sh, p.sw)
    pt, pl = (0, 0) if is_add else (d.pad_top, d.pad_left)
    dense = p.op == OP_CONV2D and not p.dw
    fast = p.op == OP_CONV2D and p.dw and dw_fast(d, p, rows)
    pk = conv_pack(d, p, rows)
    gi = group_inner(p, rows, cols, pk)
    tw = tile_width(p, kw, sw, fast)
    tiles = p.N * p.Ho * ceil_div(p.Wo, tw)  # (image, row, tile) of one channel group
    # tap packing: passes (kernel row, P taps kx0 .. kx0 + nk - 1)
    kpass = [(kx0, min(pk, kw - kx0)) for kx0 in range(0, kw, pk)] if pk else []
    # fast depthwise: one cycle per input column of an output row, leading left padding skipped
    row_comp = (p.Wo - 1) * sw + kw - min(pl, kw - 1)
    Cout = p.Cout if p.op == OP_CONV2D else p.Cin
    groups = ceil_div(Cout, cols)
    if p.op == OP_CONV2D:
        bias_b = 4 * p.Cout if p.has_bias else 0
        if p.dw:
            macs = NHW * p.Cout * p.kh * p.kw
            read = src_b + p.w_size + bias_b + aux_b
            comp = NHW * p.kh * p.kw * groups
            if fast:
                comp = p.N * p.Ho * groups * row_comp
        else:
            macs = NHW * p.Cout * p.K
            read = src_b * groups + p.w_size + bias_b + aux_b
            comp = NHW * p.kh * p.kw * ceil_div(p.Cin, rows) * groups
            if pk:
                comp = NHW * p.kh * len(kpass) * groups
    else:
        macs = 0
        read = src_b + aux_b
        comp = NHW * (1 if is_add else p.kh * p.kw) * groups
    # the set of input columns the windows of one output row use
    used = {x * sw - pl + kx for x in range(p.Wo) for kx in range(kw)}
    ncols = len([ix for ix in used if 0 <= ix < p.W])
    present = [(y, ky) for y in range(p.Ho) for ky in range(kh) if 0 <= y * sh - pt + ky < p.H]
    # the fast depthwise path's line buffer keeps each used input row: fetched once
    used_rows = {y * sh - pt + ky for y, ky in present}
    vec_ch = rows if dense else cols
    esz = 1 if dense else d.src.size()
    chunks = [min(vec_ch, p.Cin - c0) for c0 in range(0, p.Cin, vec_ch)]
    lane_groups = [min(cols, Cout - g) for g in range(0, Cout, cols)]
    server = 0
    # tap packing: one read per output and pass, of the segment's columns inside the row
    pk_reads = 0
    for kx0, nk in kpass:
        for x in range(p.Wo):
            ix = x * sw - pl + kx0
            inside = len([c for c in range(ix, ix + nk) if 0 <= c < p.W])
            if inside:
                pk_reads += ceil_div(inside * p.Cin, B)
    pk_wrow = sum(ceil_div(nk * p.Cin, B) for _, nk in kpass)
    for g, lanes in enumerate(lane_groups):
        first = g == 0 or not gi  # group-inner: the input is fetched for the first group only
        if pk:
            server += (p.N * len(present) * pk_reads if first else 0) + lanes * kh * pk_wrow
            per_col = 0
        elif dense:
            per_col = sum(ceil_div(ch, B) for ch in chunks) if first else 0
        else:
            per_col = ceil_div(lanes * esz, B)
        server += p.N * (len(used_rows) if fast else len(present)) * ncols * per_col
        if pk:
            pass
        elif dense:
            server += lanes * kh * kw * sum(ceil_div(ch, B) for ch in chunks)
        elif fast:
            server += lanes * ceil_div(kh * kw, B)
        elif p.op == OP_CONV2D:
            server += lanes * kh * kw
        if p.op == OP_CONV2D and p.has_bias:  # group-inner: once per tile
            server += ceil_div(4 * lanes, B) * (tiles if gi else 1)
        if p.has_aux:
            server += NHW * ceil_div(lanes * d.aux.size(), B)
        for t in p.outs:
            server += NHW * ceil_div(lanes * t.size(), B)
    cg = len(chunks) if dense else 1
    # The epilogue drains a tile while the array works on the next one: the longer side sets
    # the pace, the first tile's shorter side shows. A tile is the widest run of outputs whose
    # windows fit the row buffer's 256 columns (at most 256, at most the row); fast: the row.
    epi = NHW * groups * len(p.outs)
    if gi and p.has_bias:  # a BIAS item per tile and group
        epi += tiles * groups
    per_px = len(kpass) * kh if pk else (kh * kw * cg if p.op != OP_ADD else 1)
    in1 = row_comp if fast else tw * per_px
    busy = max(comp, epi) + min(in1, tw * len(p.outs))
    first_lanes = lane_groups[0]
    if pk:
        w1 = first_lanes * kh * pk_wrow
        v1 = ceil_div(pk * p.Cin, B)
    elif dense:
        w1 = first_lanes * kh * kw * sum(ceil_div(ch, B) for ch in chunks)
        v1 = ceil_div(chunks[0], B)
    elif fast:
        w1 = first_lanes * ceil_div(kh * kw, B)
        v1 = ceil_div(first_lanes * esz, B)
    else:
        w1 = first_lanes * kh * kw if p.op == OP_CONV2D else 0
        v1 = ceil_div(first_lanes * esz, B)
    # group-inner: the aux reader's bias reads for the first 64 (tile, group) pairs go first
    bias_lead = 0
    if gi and p.has_bias:
        pairs = [lane_groups[k % groups] for k in range(min(COST_AUX_AHEAD, tiles * groups))]
        bias_lead = sum(ceil_div(4 * lanes, B) for lanes in pairs)
    if fast:
        steps = min(COST_AHEAD_ROWS, p.N * len(used_rows))
        ramp = max(0, w1 + steps * ncols * v1 - row_comp - p.Wo * len(p.outs))
    elif pk:  # a row step per pass, one read per output
        passes = kh * len(kpass)
        steps = min(COST_AHEAD, p.N * p.Ho * passes)
        row1 = p.Wo * (passes + len(p.outs))
        late = (groups - 1) * max(0, w1 - row1) if gi else 0  # later groups' weights
        late += bias_lead
        ramp = max(0, w1 + steps * p.Wo * v1 + late - row1)
    else:
        steps = min(COST_AHEAD, p.N * p.Ho * kh * cg)
        row1 = p.Wo * (kh * kw * cg + len(p.outs))
        late = (groups - 1) * max(0, w1 - row1) if gi else 0
        late += bias_lead
        ramp = max(0, w1 + steps * ncols * v1 + late - row1)
    return macs, read, written, comp, busy, server, ramp


# ---------------------------------------------------------------------------------------------
# Job

def run(stream, regions, rows=16, cols=16, bw=16, latency=64, header_cost_on_error=True):
    """Run a whole job as `f8 exec` does (TAIL = desc_count, then START)."""
    stream = bytes(stream)
    mems = {r: bytearray(v) for r, v in regions.items()}
    sizes = {r: len(v) for r, v in mems.items()}
    c = {'cycles': 0, 'stall': 0, 'macs': 0, 'rd': 0, 'wr': 0, 'descs': 0}
    L, B = latency, bw

    def charge(cyc, comp=0):
        c['cycles'] += cyc
        c['stall'] += cyc - comp

    cmd_size = len(stream)
    if cmd_size < HEADER_SIZE:
        return ('ERROR', ERR['CMD_OOB'], HEADER_INDEX), mems, c
    # the header has been fetched
    hdr_cost = (L + ceil_div(HEADER_SIZE, B))

    def hdr_err(code):
        if header_cost_on_error:
            c['rd'] += HEADER_SIZE
            charge(hdr_cost)
        return ('ERROR', code, HEADER_INDEX), mems, c

    h = stream[:HEADER_SIZE]
    if u32(h, 0) != MAGIC:
        return hdr_err(ERR['BAD_MAGIC'])
    if u16(h, 4) != VERSION_MAJOR or u16(h, 6) > VERSION_MINOR:
        return hdr_err(ERR['BAD_VERSION'])
    if u32(h, 8) != DESC_SIZE:
        return hdr_err(ERR['BAD_HEADER'])
    count = u32(h, 12)
    if HEADER_SIZE + DESC_SIZE * count > cmd_size:
        return hdr_err(ERR['BAD_HEADER'])
    if any(h[16:32]):
        return hdr_err(ERR['BAD_HEADER'])
    c['rd'] += HEADER_SIZE
    charge(hdr_cost)

    fetch = L + ceil_div(DESC_SIZE, B)
    for i in range(count):
        raw = stream[HEADER_SIZE + DESC_SIZE * i:HEADER_SIZE + DESC_SIZE * (i + 1)]
        c['rd'] += DESC_SIZE
        charge(fetch)
        d = Desc(raw)
        try:
            p = validate(d, sizes)
        except Fault as f:
            return ('ERROR', f.code, i), mems, c
        if p is None:  # END
            c['descs'] += 1
            return 'DONE', mems, c
        execute(d, p, mems)
        macs, rd, wr, comp, busy, server, ramp = cost(d, p, rows, cols, B)
        c['macs'] += macs
        c['rd'] += rd
        c['wr'] += wr
        charge(COST_SETUP + 2 * L + max(busy + ramp, server), comp)
        c['descs'] += 1
    return ('ERROR', ERR['NO_END'], count), mems, c


def describe_stream(stream):
    """Human-readable summary of a stream (for reports)."""
    stream = bytes(stream)
    if len(stream) < HEADER_SIZE:
        return 'stream of %d bytes (shorter than a header)' % len(stream)
    h = stream[:HEADER_SIZE]
    out = ['header magic=0x%08x ver=%d.%d desc_size=%d desc_count=%d reserved=%s size=%d' % (
        u32(h, 0), u16(h, 4), u16(h, 6), u32(h, 8), u32(h, 12),
        'zero' if not any(h[16:]) else h[16:].hex(), len(stream))]
    n = (len(stream) - HEADER_SIZE) // DESC_SIZE
    for i in range(min(n, u32(h, 12), 16)):
        d = Desc(stream[HEADER_SIZE + DESC_SIZE * i:HEADER_SIZE + DESC_SIZE * (i + 1)])
        out.append('  [%d] %s' % (i, d.summary()))
        nz = [j for j in range(DESC_SIZE) if d.raw[j]]
        # show odd bytes that a summary does not (reserved fields)
        odd = [j for j in nz if (2 <= j < 4) or (14 <= j < 16) or (18 <= j < 32) or j >= 176
               or (j >= 32 and j < 160 and ((j - 32) % 32 in (2, 3) or (j - 32) % 32 >= 28))
               or (j >= 160 and j < 176 and (j - 160) % 8 in (1, 2, 3))]
        if odd:
            out.append('      non-zero reserved bytes at %s' % odd)
    return '\n'.join(out)
