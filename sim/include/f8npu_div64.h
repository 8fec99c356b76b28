/* SPDX-License-Identifier: MIT */
/*
 * 64-by-32-bit unsigned division for the freestanding core. A plain '/' on a
 * uint64_t makes 32-bit compilers call libgcc's __udivdi3, which neither the
 * kernel nor a freestanding build links: the kernel has div_u64(), other
 * 32-bit builds get a shift-and-subtract loop, 64-bit builds the operator.
 */
#ifndef F8NPU_DIV64_H
#define F8NPU_DIV64_H

#ifdef __KERNEL__
#include <linux/math64.h>
#else
#include <stdint.h>
#endif

static inline uint64_t f8npu_div_u64(uint64_t a, uint32_t b)
{
#if defined(__KERNEL__)
	return div_u64(a, b);
#elif UINTPTR_MAX > 0xffffffffu
	return a / b;
#else
	uint64_t q = 0, r = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		r = r << 1 | (a >> i & 1);
		if (r >= b) {
			r -= b;
			q |= (uint64_t)1 << i;
		}
	}
	return q;
#endif
}

#endif /* F8NPU_DIV64_H */
