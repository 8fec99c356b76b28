/* SPDX-License-Identifier: MIT */
/*
 * The F8Net integer arithmetic of docs/arith.md, one function per rule.
 *
 * Freestanding: only fixed-width integer types, no libc, so the functional
 * model, the kernel module and the trainer's integer evaluation can all
 * include it. Every function is total over its documented domain and uses
 * int64 intermediates so that nothing overflows in C.
 */
#ifndef F8NPU_ARITH_H
#define F8NPU_ARITH_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
#endif

#include "../../uapi/f8npu_cmd.h"

#define F8NPU_S32_MAX 2147483647LL
#define F8NPU_S32_MIN (-2147483647LL) /* symmetric: -2^31 is never produced */

/* Rule A1: clamp to the symmetric int32 range. */
static inline int64_t f8npu_sat32(int64_t v)
{
	return v > F8NPU_S32_MAX ? F8NPU_S32_MAX : v < F8NPU_S32_MIN ? F8NPU_S32_MIN : v;
}

/*
 * Rule A2: v * 2^-s for s in [-31, 31], |v| < 2^31.
 * s > 0: arithmetic right shift rounding half to even.
 * s <= 0: exact left shift (|v| * 2^31 < 2^62 fits in int64).
 */
static inline int64_t f8npu_shift_rne(int64_t v, int s)
{
	int64_t q, r, half;

	if (s <= 0)
		return v * ((int64_t)1 << -s);
	q = v >> s; /* floor: gcc and clang shift signed values arithmetically */
	r = v - q * ((int64_t)1 << s);
	half = (int64_t)1 << (s - 1);
	if (r > half || (r == half && (q & 1)))
		q++;
	return q;
}

/* Rule A3: saturate to an element type's written range. */
static inline int64_t f8npu_saturate(int64_t v, unsigned int type)
{
	int64_t lo, hi;

	switch (type) {
	case F8NPU_TYPE_U8:
		lo = 0;
		hi = 255;
		break;
	case F8NPU_TYPE_S8:
		lo = -127;
		hi = 127;
		break;
	default:
		lo = F8NPU_S32_MIN;
		hi = F8NPU_S32_MAX;
		break;
	}
	return v < lo ? lo : v > hi ? hi : v;
}

/* Rule A4: requantize an int32 value with shift s into an output type. */
static inline int64_t f8npu_requant(int64_t v, int s, unsigned int type)
{
	return f8npu_saturate(f8npu_shift_rne(v, s), type);
}

/* (Rule A5, products and accumulation, is the loop in f8npu_ref.c.) */

/* Rule A6: align-and-add of two int32 values (residual add, ADD op). */
static inline int64_t f8npu_align_add(int64_t a, unsigned int la, int64_t b, unsigned int lb)
{
	return f8npu_sat32(f8npu_sat32(a * ((int64_t)1 << la)) + f8npu_sat32(b * ((int64_t)1 << lb)));
}

/* Rule A7: ReLU on int32. */
static inline int64_t f8npu_relu(int64_t v)
{
	return v < 0 ? 0 : v;
}

/* Element size in bytes of a tensor type (0 for an unknown type). */
static inline unsigned int f8npu_type_size(unsigned int type)
{
	return type == F8NPU_TYPE_U8 || type == F8NPU_TYPE_S8 ? 1u : type == F8NPU_TYPE_S32 ? 4u : 0u;
}

/* Load one element (little-endian for int32) as a signed value. */
static inline int64_t f8npu_load(const uint8_t *p, unsigned int type)
{
	switch (type) {
	case F8NPU_TYPE_U8:
		return p[0];
	case F8NPU_TYPE_S8:
		return (int8_t)p[0];
	default:
		return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				 (uint32_t)p[3] << 24);
	}
}

/* Store an already saturated value. */
static inline void f8npu_store(uint8_t *p, unsigned int type, int64_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (uint8_t)u;
	if (type == F8NPU_TYPE_S32) {
		p[1] = (uint8_t)(u >> 8);
		p[2] = (uint8_t)(u >> 16);
		p[3] = (uint8_t)(u >> 24);
	}
}

#endif /* F8NPU_ARITH_H */
