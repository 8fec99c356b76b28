/* SPDX-License-Identifier: MIT */
/*
 * Reference kernels: plain loops, one per operation, that compute exactly
 * docs/arith.md over tensors the caller has already validated and mapped.
 * The functional model executes every descriptor through f8npu_ref_run().
 * Freestanding (no libc) so that the kernel module can use them too.
 */
#ifndef F8NPU_REF_H
#define F8NPU_REF_H

#include "f8npu_arith.h"

/* A mapped strided tensor: element (i,y,x,k) at data + i*sn + y*sh + x*sw + k*size(type). */
struct f8npu_view {
	uint8_t *data;
	uint32_t type;
	uint32_t n, h, w, c;
	uint64_t sn, sh, sw;
};

/**
 * struct f8npu_ref_args - one validated descriptor with its operands mapped.
 * @d: the descriptor (geometry, flags, shifts).
 * @src: @aux: @dst: tensor operands (aux / dst[1] only with their flags).
 * @weights: CONV2D s8 weights, dense (isa.md §4).
 * @bias: CONV2D s32 little-endian bias, or NULL without FLAG_BIAS.
 */
struct f8npu_ref_args {
	const struct f8npu_desc *d;
	struct f8npu_view src;
	struct f8npu_view aux;
	struct f8npu_view dst[2];
	const uint8_t *weights;
	const uint8_t *bias;
};

/* A view of tensor reference @t whose element (0,0,0,0) is at @data. */
void f8npu_view_init(struct f8npu_view *v, const struct f8npu_tensor_ref *t, uint8_t *data);

/* Execute a compute descriptor (CONV2D, POOL_MAX, POOL_SUM, ADD). */
void f8npu_ref_run(const struct f8npu_ref_args *a);

#endif /* F8NPU_REF_H */
