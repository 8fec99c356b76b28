/* SPDX-License-Identifier: MIT */
/*
 * Descriptor validation, docs/isa.md §5 steps 1-8, as one function that
 * both the functional model and the kernel driver's command-stream checker
 * use. Freestanding; no memory access: it only looks at the descriptor and
 * the region table, and says where each operand lives.
 */
#ifndef F8NPU_VALIDATE_H
#define F8NPU_VALIDATE_H

#include "f8npu_arith.h"
#include "../../uapi/f8npu_regs.h"

/* Operands of a descriptor, in the order the validation takes them. */
enum f8npu_operand {
	F8NPU_OPND_SRC = 0,
	F8NPU_OPND_AUX,
	F8NPU_OPND_WEIGHTS,
	F8NPU_OPND_BIAS,
	F8NPU_OPND_DST0,
	F8NPU_OPND_DST1,
	F8NPU_OPND_COUNT
};

/* The job's memory as the device sees it: the region table and the command buffer. */
struct f8npu_region_table {
	uint64_t base[F8NPU_REGIONS];
	uint64_t size[F8NPU_REGIONS];
	uint32_t count;    /* CAP_REGIONS */
	uint64_t cmd_base; /* CMD_BASE: no output may overlap the command buffer */
	uint32_t cmd_size; /* CMD_SIZE */
};

/* Where an operand lives: bytes [offset, offset + extent) of its region. */
struct f8npu_span {
	bool used;
	uint8_t region;
	uint64_t offset;
	uint64_t extent;
};

/**
 * struct f8npu_plan - what validation derived from a valid descriptor.
 * @span: footprint of each operand (F8NPU_OPND_*).
 * @out_h: @out_w: @out_c: output shape (with src.n): [n][out_h][out_w][out_c].
 * @k: multiply-accumulates per output element (CONV2D), else 0.
 */
struct f8npu_plan {
	struct f8npu_span span[F8NPU_OPND_COUNT];
	uint32_t out_h;
	uint32_t out_w;
	uint32_t out_c;
	uint32_t k;
};

/*
 * Check @d against @rt and the supported opcode mask @cap_ops (CAP_OPS);
 * returns F8NPU_ERR_NONE and fills @plan, or the error code of the first
 * failing step. Never touches memory.
 */
uint32_t f8npu_validate_desc(const struct f8npu_desc *d, const struct f8npu_region_table *rt,
			     uint32_t cap_ops, struct f8npu_plan *plan);

/*
 * Check a stream's header (docs/isa.md: magic, version against the one this
 * code implements, desc_size, reserved bytes, desc_count descriptors within
 * @cmd_size >= F8NPU_CMD_HEADER_SIZE bytes): F8NPU_ERR_NONE, BAD_MAGIC,
 * BAD_VERSION or BAD_HEADER. The model's header step and the kernel's submit
 * check are this one function.
 */
uint32_t f8npu_validate_header(const struct f8npu_cmd_header *h, uint32_t cmd_size);

/* Footprint extent of a tensor reference (isa.md §2), in bytes. */
uint64_t f8npu_tensor_extent(const struct f8npu_tensor_ref *t);

#endif /* F8NPU_VALIDATE_H */
