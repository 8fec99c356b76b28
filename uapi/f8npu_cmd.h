/* SPDX-License-Identifier: MIT */
/*
 * f8npu command stream ABI, version 1.0.
 *
 * Normative description: docs/isa.md (layout, semantics, validation order)
 * and docs/arith.md (the integer arithmetic). This header is the C view of
 * the same layout; every multi-byte field is little-endian.
 *
 * A command stream is a 32-byte header followed by fixed-size 256-byte
 * descriptors. Tensors are addressed as (region, byte offset, shape, strides,
 * element type), never by physical address: region r is entry r of the
 * device's region table (docs/regs.md), i.e. one of the job's buffers.
 *
 * ABI rules: fields are only ever added in reserved space, a reserved field
 * must be zero (the device rejects non-zero ones, so a zero always means
 * "the version 1.0 behaviour"), opcode values are never reused.
 */
#ifndef F8NPU_CMD_H
#define F8NPU_CMD_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef __u8 f8npu_u8;
typedef __s8 f8npu_s8;
typedef __u16 f8npu_u16;
typedef __u32 f8npu_u32;
#else
#include <stdint.h>
typedef uint8_t f8npu_u8;
typedef int8_t f8npu_s8;
typedef uint16_t f8npu_u16;
typedef uint32_t f8npu_u32;
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* "F8CS" as bytes in memory. */
#define F8NPU_CMD_MAGIC 0x53433846u
#define F8NPU_CMD_VERSION_MAJOR 1u
#define F8NPU_CMD_VERSION_MINOR 0u

#define F8NPU_CMD_HEADER_SIZE 32u
#define F8NPU_CMD_DESC_SIZE 256u

/**
 * struct f8npu_cmd_header - first 32 bytes of a command stream.
 * @magic: F8NPU_CMD_MAGIC.
 * @version_major: must equal the device's major (CMD_VERSION register).
 * @version_minor: must be <= the device's minor.
 * @desc_size: F8NPU_CMD_DESC_SIZE.
 * @desc_count: number of descriptors after the header.
 * @reserved: MBZ.
 */
struct f8npu_cmd_header {
	f8npu_u32 magic;
	f8npu_u16 version_major;
	f8npu_u16 version_minor;
	f8npu_u32 desc_size;
	f8npu_u32 desc_count;
	f8npu_u32 reserved[4];
};

/* Opcodes. 0 is never valid, so a zeroed descriptor faults. Never reuse. */
enum f8npu_opcode {
	F8NPU_OP_END = 1,      /* job complete: raise DONE */
	F8NPU_OP_CONV2D = 2,   /* k x k conv, groups 1 or depthwise; FC = conv */
	F8NPU_OP_POOL_MAX = 3, /* max over the window, padding excluded */
	F8NPU_OP_POOL_SUM = 4, /* exact sum over the window, then the epilogue */
	F8NPU_OP_ADD = 5,      /* elementwise: src (+ aux) through the epilogue */
	F8NPU_OP_COUNT_ = 6    /* one past the last opcode */
};

/* Element types of a tensor. */
enum f8npu_type {
	F8NPU_TYPE_U8 = 0,  /* unsigned 8-bit, written in [0, 255] */
	F8NPU_TYPE_S8 = 1,  /* signed 8-bit, written in [-127, 127] */
	F8NPU_TYPE_S32 = 2, /* signed 32-bit, written in [-(2^31-1), 2^31-1] */
	F8NPU_TYPE_COUNT_ = 3
};

/* Descriptor flags. Undefined bits are reserved (MBZ). */
#define F8NPU_FLAG_BIAS (1u << 0)      /* CONV2D: add int32 bias[cout] */
#define F8NPU_FLAG_AUX (1u << 1)       /* add the aux tensor (residual / 2nd operand) */
#define F8NPU_FLAG_RELU (1u << 2)      /* max(v, 0) after the add, before the shift */
#define F8NPU_FLAG_DST1 (1u << 3)      /* also write dst[1] with out_shift[1] */
#define F8NPU_FLAG_DEPTHWISE (1u << 4) /* CONV2D: groups = channels */
#define F8NPU_FLAGS_ALL 0x1fu

/**
 * struct f8npu_tensor_ref - a strided 4-D view [n][h][w][c], c contiguous.
 * @region: index into the region table.
 * @type: enum f8npu_type.
 * @reserved0: MBZ.
 * @offset: byte offset of element (0,0,0,0) within the region.
 * @n: @h: @w: @c: dimensions, each >= 1.
 * @stride_n: @stride_h: @stride_w: byte strides; element (i,y,x,k) is at
 *	offset + i*stride_n + y*stride_h + x*stride_w + k*sizeof(type).
 * @reserved1: MBZ.
 */
struct f8npu_tensor_ref {
	f8npu_u8 region;
	f8npu_u8 type;
	f8npu_u16 reserved0;
	f8npu_u32 offset;
	f8npu_u16 n;
	f8npu_u16 h;
	f8npu_u16 w;
	f8npu_u16 c;
	f8npu_u32 stride_n;
	f8npu_u32 stride_h;
	f8npu_u32 stride_w;
	f8npu_u32 reserved1;
};

/**
 * struct f8npu_buffer_ref - a dense array whose shape follows from the
 * descriptor (weights: int8; bias: int32).
 * @region: index into the region table.
 * @reserved: MBZ.
 * @offset: byte offset within the region.
 */
struct f8npu_buffer_ref {
	f8npu_u8 region;
	f8npu_u8 reserved[3];
	f8npu_u32 offset;
};

/**
 * struct f8npu_desc - one fused operation (256 bytes).
 * @opcode: enum f8npu_opcode.
 * @flags: F8NPU_FLAG_*.
 * @reserved0: MBZ.
 * @kernel_h: @kernel_w: window size (CONV2D, POOL_*); 1 for ADD/END... see isa.md.
 * @stride_h: @stride_w: window stride, >= 1.
 * @pad_top: @pad_bottom: @pad_left: @pad_right: padding, each < kernel size.
 * @align_src: left shift (0..31) applied to the main value before the aux add.
 * @align_aux: left shift (0..31) applied to the aux value before the add.
 * @reserved1: MBZ.
 * @out_shift: requantization shift per output, -31..31 (> 0: right shift
 *	with round-half-to-even; <= 0: left shift).
 * @reserved2: MBZ.
 * @src: input tensor.
 * @aux: residual (CONV2D, POOL_*) or second operand (ADD), used with FLAG_AUX.
 * @dst: outputs; dst[1] only with FLAG_DST1.
 * @weights: CONV2D int8 weights, [cout][kh][kw][cin] or [c][kh][kw] (depthwise).
 * @bias: CONV2D int32 bias [cout], used with FLAG_BIAS.
 * @reserved3: MBZ.
 */
struct f8npu_desc {
	f8npu_u8 opcode;
	f8npu_u8 flags;
	f8npu_u16 reserved0;
	f8npu_u8 kernel_h;
	f8npu_u8 kernel_w;
	f8npu_u8 stride_h;
	f8npu_u8 stride_w;
	f8npu_u8 pad_top;
	f8npu_u8 pad_bottom;
	f8npu_u8 pad_left;
	f8npu_u8 pad_right;
	f8npu_u8 align_src;
	f8npu_u8 align_aux;
	f8npu_u8 reserved1[2];
	f8npu_s8 out_shift[2];
	f8npu_u8 reserved2[14];
	struct f8npu_tensor_ref src;
	struct f8npu_tensor_ref aux;
	struct f8npu_tensor_ref dst[2];
	struct f8npu_buffer_ref weights;
	struct f8npu_buffer_ref bias;
	f8npu_u8 reserved3[80];
};

/* Architectural limits (also reported by the capability registers). */
#define F8NPU_MAX_K 65536u      /* kernel_h * kernel_w * cin per output */
#define F8NPU_SHIFT_MIN (-31)
#define F8NPU_SHIFT_MAX 31
#define F8NPU_ALIGN_MAX 31u

#ifdef __cplusplus
}
#endif

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct f8npu_cmd_header) == F8NPU_CMD_HEADER_SIZE, "header size");
_Static_assert(sizeof(struct f8npu_tensor_ref) == 32, "tensor ref size");
_Static_assert(sizeof(struct f8npu_buffer_ref) == 8, "buffer ref size");
_Static_assert(sizeof(struct f8npu_desc) == F8NPU_CMD_DESC_SIZE, "descriptor size");
#endif

#endif /* F8NPU_CMD_H */
