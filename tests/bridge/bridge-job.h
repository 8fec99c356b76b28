/* SPDX-License-Identifier: MIT */
/*
 * The bridge tests' job inside a VM: one CONV2D (12x10x8 u8 -> 12 channels s8, 3x3, pad 1,
 * bias, ReLU, shift 7) + END, laid out at fixed device addresses (window offsets) from a
 * fixed seed, so the guest's userspace probe (guest-probe.c) and its kernel test
 * (kmod/f8br_irqtest.c) build byte-identical jobs. Freestanding.
 */
#ifndef F8BR_JOB_H
#define F8BR_JOB_H

#include "f8npu_build.h"

#define F8BR_JOB_CMD 0x1000u
#define F8BR_JOB_SRC 0x10000u
#define F8BR_JOB_WT 0x20000u
#define F8BR_JOB_BIAS 0x30000u
#define F8BR_JOB_DST 0x40000u
#define F8BR_JOB_SPAN 0x50000u /* device addresses 0 .. SPAN-1 */
#define F8BR_JOB_REGION 0x10000u
#define F8BR_JOB_OUT_BYTES (12u * 10u * 12u)
#define F8BR_JOB_DESCS 2u

/* Fill @m (F8BR_JOB_SPAN bytes, zeroed by the caller); returns the stream's size. */
static inline uint32_t f8br_job_build(uint8_t *m)
{
	struct f8npu_cmd_header h = f8npu_header_make(F8BR_JOB_DESCS);
	struct f8npu_desc d[2];
	uint32_t s = 777, i;

	d[0] = f8npu_desc_zero(F8NPU_OP_CONV2D);
	d[0].flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d[0].kernel_h = 3;
	d[0].kernel_w = 3;
	d[0].stride_h = 1;
	d[0].stride_w = 1;
	d[0].pad_top = 1;
	d[0].pad_bottom = 1;
	d[0].pad_left = 1;
	d[0].pad_right = 1;
	d[0].out_shift[0] = 7;
	d[0].src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, 12, 10, 8);
	d[0].weights = f8npu_buffer_at(1, 0);
	d[0].bias = f8npu_buffer_at(2, 0);
	d[0].dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_S8, 0, 1, 12, 10, 12);
	d[1] = f8npu_desc_zero(F8NPU_OP_END);
	__builtin_memcpy(m + F8BR_JOB_CMD, &h, sizeof(h));
	__builtin_memcpy(m + F8BR_JOB_CMD + sizeof(h), d, sizeof(d));
	for (i = 0; i < 12 * 10 * 8 + 12 * 9 * 8; i++) {
		s = s * 1664525u + 1013904223u;
		m[i < 960 ? F8BR_JOB_SRC + i : F8BR_JOB_WT + i - 960] = (uint8_t)(s >> 8);
	}
	for (i = 0; i < 12; i++) {
		int32_t b = (int32_t)(i * 997 % 20000) - 10000;

		__builtin_memcpy(m + F8BR_JOB_BIAS + 4 * i, &b, 4);
	}
	return (uint32_t)(sizeof(h) + sizeof(d));
}

/* FNV-1a of @n bytes: what the VM's two sides print to compare outputs. */
static inline uint32_t f8br_fnv(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

#endif /* F8BR_JOB_H */
