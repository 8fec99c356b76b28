/* SPDX-License-Identifier: MIT */
/*
 * Random integer models for the tests (moved from check_cpu.c, shared with check_compile.c):
 * every op and flag, odd sizes, strides, padding, depthwise, signed inputs, residual adds at
 * different FLs (sometimes of a ReLU conv, sometimes of a tensor with other readers), sum
 * pools, saturating biases and shifts, a LINEAR or whole-input CONV classifier. A model is
 * a function of (stream name, index) and F8_TEST_SEED.
 */
#ifndef F8_QM_RANDOM_H
#define F8_QM_RANDOM_H

#include <stdint.h>

#include "f8-qmodel.h"
#include "f8-test.h"

#define F8T_QM_MAXN 40

struct f8t_qm_gen {
	struct f8_qm_node nodes[F8T_QM_MAXN];
	int8_t *w[F8T_QM_MAXN];
	int32_t *b[F8T_QM_MAXN];
	char names[20][F8_QM_NAME_MAX];
	struct f8_qm m;
	int n;
	struct f8t_rng r;
};

/* Ops (index op) and flags (index 8 + flag bit) f8t_qm_gen_make produced. */
extern unsigned int f8t_qm_seen[16];

/* Model @idx of the stream named @stream into @g (weights malloc'd: f8t_qm_gen_free). */
void f8t_qm_gen_make(struct f8t_qm_gen *g, const char *stream, int idx);
void f8t_qm_gen_free(struct f8t_qm_gen *g);

#endif
