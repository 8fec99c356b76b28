#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile and careless inputs for tests/cli/hostile-cli.sh, written from the docs.

  hostile-gen.py stream big OUT          one CONV2D of 2^36 MACs (about 2^28 cycles) + END
  hostile-gen.py stream small OUT        one 3x3 CONV2D on 8x8x16 + END
  hostile-gen.py idx DIR N               a Fashion-MNIST-shaped set of N random 28x28 images
  hostile-gen.py idx-big DIR             training images and labels: 100 bytes of a gzip'd
                                         set announcing 2739128 images (2 GiB), 5 labels
  hostile-gen.py ckpt-loss IN OUT X      IN with the first history entry's train loss = X,
                                         CRCs resealed (docs/checkpoint-format.md)
  hostile-gen.py ckpt-name IN OUT HEX    IN with the model name = the bytes HEX, resealed
  hostile-gen.py ckpt-grow IN OUT BYTES  IN grown by BYTES of holes that its header
                                         announces (header CRC sealed, payload CRC stale)

Streams follow docs/isa.md (uapi/f8npu_cmd.h): a 32-byte header, 256-byte descriptors.
"""
import gzip
import os
import random
import struct
import sys
import zlib


def tensor(region, typ, offset, n, h, w, c, sn, sh, sw):
    return struct.pack("<BBHIHHHHIIII", region, typ, 0, offset, n, h, w, c, sn, sh, sw, 0)


def desc(opcode, kh=0, kw=0, sh=0, sw=0, pads=(0, 0, 0, 0), src=None, dst=None, weights=None):
    zero_t = bytes(32)
    d = struct.pack("<BBH4B4BBB2s2b14s", opcode, 0, 0, kh, kw, sh, sw, *pads, 0, 0, bytes(2), 0, 0,
                    bytes(14))
    d += (src or zero_t) + zero_t + (dst or zero_t) + zero_t
    d += struct.pack("<B3sI", *weights) if weights else bytes(8)
    d += bytes(8) + bytes(80)
    assert len(d) == 256
    return d


def stream(descs):
    hdr = struct.pack("<IHHII16s", 0x53433846, 1, 0, 256, len(descs), bytes(16))
    return hdr + b"".join(descs)


def stream_big():
    # src broadcasts one 16384-channel pixel (strides 0) over 257 x 257; K = 2*2*16384 = 65536;
    # 16 outputs of 256 x 256: 2^16 pixels * 16 * 2^16 = 2^36 MACs. Regions: 0 = 16 KiB (src),
    # 1 = 1 MiB (weights 16 * 65536), 2 = 1 MiB (dst).
    src = tensor(0, 0, 0, 1, 257, 257, 16384, 0, 0, 0)
    dst = tensor(2, 0, 0, 1, 256, 256, 16, 1 << 20, 4096, 16)
    conv = desc(2, 2, 2, 1, 1, src=src, dst=dst, weights=(1, bytes(3), 0))
    return stream([conv, desc(1)])


def stream_small():
    # 8x8x16 u8 -> 8x8x8 u8, 3x3, padding 1. Regions: 0 = 1024, 1 = 1152, 2 = 512 bytes.
    src = tensor(0, 0, 0, 1, 8, 8, 16, 1024, 128, 16)
    dst = tensor(2, 0, 0, 1, 8, 8, 8, 512, 64, 8)
    conv = desc(2, 3, 3, 1, 1, (1, 1, 1, 1), src=src, dst=dst, weights=(1, bytes(3), 0))
    return stream([conv, desc(1)])


def idx(directory, n):
    rnd = random.Random(1)
    os.makedirs(directory, exist_ok=True)
    for split, count in (("train", n), ("t10k", max(1, n // 2))):
        pixels = bytes(rnd.randrange(256) for _ in range(count * 784))
        labels = bytes(i % 10 for i in range(count))
        with gzip.open(os.path.join(directory, split + "-images-idx3-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, count, 28, 28) + pixels)
        with gzip.open(os.path.join(directory, split + "-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, count) + labels)


def sections(f):
    off, out = 32, {}
    while off + 12 <= len(f):
        tag = f[off:off + 4].decode("latin-1")
        (length,) = struct.unpack_from("<Q", f, off + 4)
        out[tag] = off + 12
        off += 12 + length
    return out


def reseal(f):
    f = bytearray(f)
    struct.pack_into("<QI", f, 16, len(f) - 32, zlib.crc32(bytes(f[32:])))
    struct.pack_into("<I", f, 28, zlib.crc32(bytes(f[:28])))
    return bytes(f)


def main():
    cmd = sys.argv[1]
    if cmd == "stream":
        data = stream_big() if sys.argv[2] == "big" else stream_small()
        open(sys.argv[3], "wb").write(data)
    elif cmd == "idx":
        idx(sys.argv[2], int(sys.argv[3]))
    elif cmd == "idx-big":
        with gzip.open(os.path.join(sys.argv[2], "train-images-idx3-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 2739128, 28, 28) + bytes(100))
        with gzip.open(os.path.join(sys.argv[2], "train-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 5) + bytes(5))
    elif cmd in ("ckpt-loss", "ckpt-name"):
        f = bytearray(open(sys.argv[2], "rb").read())
        sec = sections(f)
        if cmd == "ckpt-loss":
            # HIST: u32 count, then entries: i32 epoch, f64 lr, f64 train_loss, ...
            struct.pack_into("<d", f, sec["HIST"] + 4 + 12, float(sys.argv[4]))
        else:
            name = bytes.fromhex(sys.argv[4])
            struct.pack_into("<I", f, sec["CONF"], len(name))
            f[sec["CONF"] + 4:sec["CONF"] + 4 + 256] = name.ljust(256, b"\0")
        open(sys.argv[3], "wb").write(reseal(f))
    elif cmd == "ckpt-grow":
        f = bytearray(open(sys.argv[2], "rb").read())
        grow = int(sys.argv[4])
        struct.pack_into("<Q", f, 16, len(f) - 32 + grow)
        struct.pack_into("<I", f, 28, zlib.crc32(bytes(f[:28])))
        with open(sys.argv[3], "wb") as out:
            out.write(f)
            out.truncate(len(f) + grow)
    else:
        sys.exit("hostile-gen.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
