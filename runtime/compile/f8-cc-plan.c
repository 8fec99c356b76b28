// SPDX-License-Identifier: MIT
/*
 * Pass 3 of the compiler: the activation region. Every buffer lives from the step that
 * writes it to the last step that reads it (both inclusive: a descriptor's outputs must
 * not overlap its inputs). Buffers are placed in order of their first step, each at the
 * lowest offset where it overlaps no buffer still live then (first fit). The device runs
 * descriptors in order, so a dead buffer's bytes are free for the next writer.
 */
#include <stdlib.h>

#include "f8-cc-impl.h"

#define CC_PLAN_ALIGN 64u

/* A buffer index with its sort key (the first step, or the offset), ties by index. */
struct keyed {
	uint64_t key;
	uint32_t i;
};

static int by_key(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

uint64_t f8_cc_plan(struct f8_cc_buf *bufs, uint32_t nbufs)
{
	struct keyed *order = malloc(sizeof(*order) * (nbufs + 1));
	struct keyed *live = malloc(sizeof(*live) * (nbufs + 1));
	uint32_t n = 0, i, k, nl;
	uint64_t peak = 0;

	if (!order || !live) {
		free(order);
		free(live);
		return UINT64_MAX;
	}
	for (i = 0; i < nbufs; i++)
		if (bufs[i].region == F8_CC_R_ACT)
			order[n++] = (struct keyed){ bufs[i].first, i };
	qsort(order, n, sizeof(*order), by_key);
	for (i = 0; i < n; i++) {
		struct f8_cc_buf *b = &bufs[order[i].i];
		uint64_t off = 0;

		nl = 0;
		for (k = 0; k < i; k++) /* placed earlier, so first <= b->first */
			if (bufs[order[k].i].last >= b->first)
				live[nl++] = (struct keyed){ bufs[order[k].i].offset, order[k].i };
		qsort(live, nl, sizeof(*live), by_key);
		for (k = 0; k < nl; k++) {
			const struct f8_cc_buf *l = &bufs[live[k].i];

			if (off + b->size <= l->offset)
				break;
			if (l->offset + l->size > off)
				off = (l->offset + l->size + CC_PLAN_ALIGN - 1) / CC_PLAN_ALIGN * CC_PLAN_ALIGN;
		}
		b->offset = off;
		if (off + b->size > peak)
			peak = off + b->size;
	}
	free(order);
	free(live);
	return peak;
}
