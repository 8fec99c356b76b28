/* SPDX-License-Identifier: MIT */
/*
 * Small helpers to write command streams (docs/isa.md): the header and
 * dense tensor references. Descriptors are plain structs; start from
 * f8npu_desc_zero() so that every reserved field is zero.
 */
#ifndef F8NPU_BUILD_H
#define F8NPU_BUILD_H

#include "f8npu_arith.h"

static inline struct f8npu_cmd_header f8npu_header_make(uint32_t desc_count)
{
	struct f8npu_cmd_header h = { 0 };

	h.magic = F8NPU_CMD_MAGIC;
	h.version_major = F8NPU_CMD_VERSION_MAJOR;
	h.version_minor = F8NPU_CMD_VERSION_MINOR;
	h.desc_size = F8NPU_CMD_DESC_SIZE;
	h.desc_count = desc_count;
	return h;
}

static inline struct f8npu_desc f8npu_desc_zero(uint8_t opcode)
{
	struct f8npu_desc d = { 0 };

	d.opcode = opcode;
	return d;
}

/* A densely packed [n][h][w][c] tensor at @offset of @region. */
static inline struct f8npu_tensor_ref f8npu_tensor_dense(uint8_t region, uint8_t type, uint32_t offset,
							 uint16_t n, uint16_t h, uint16_t w, uint16_t c)
{
	struct f8npu_tensor_ref t = { 0 };
	uint32_t es = f8npu_type_size(type);

	t.region = region;
	t.type = type;
	t.offset = offset;
	t.n = n;
	t.h = h;
	t.w = w;
	t.c = c;
	t.stride_w = c * es;
	t.stride_h = (uint32_t)w * c * es;
	t.stride_n = (uint32_t)h * w * c * es;
	return t;
}

/* Bytes occupied by a dense tensor. */
static inline uint64_t f8npu_tensor_dense_bytes(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)t->n * t->h * t->w * t->c * f8npu_type_size(t->type);
}

static inline struct f8npu_buffer_ref f8npu_buffer_at(uint8_t region, uint32_t offset)
{
	struct f8npu_buffer_ref b = { 0 };

	b.region = region;
	b.offset = offset;
	return b;
}

#endif /* F8NPU_BUILD_H */
