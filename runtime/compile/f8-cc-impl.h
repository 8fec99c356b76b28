/* SPDX-License-Identifier: MIT */
/*
 * The compiler's internals (docs/compiler.md). The passes, in order:
 *   1. f8_cc_graph: which nodes are needed, which producer each residual ADD absorbs, the
 *      views (type, shift) every tensor must exist in, the steps (fused groups);
 *   2. f8_cc_lower: one logical operation per group (and per extra view), its buffers;
 *   3. f8_cc_plan: offsets of the activation buffers (liveness, first fit);
 *   4. f8_cc_encode: tiles, descriptors, the cost model's prediction.
 */
#ifndef F8_CC_IMPL_H
#define F8_CC_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "f8-compile.h"
#include "f8-err.h"
#include "f8-qmodel.h"
#include "f8npu_cmd.h"

/* A form of a node's int32 tensor some reader needs: requant(v, shift, type). */
struct cc_view {
	uint8_t type;
	int8_t shift;
	int32_t buf; /* index into cc.bufs */
};

struct cc_node {
	bool needed;        /* on a path to the logits: computed in the range, or read from outside */
	bool in_range;      /* computed by this program (first <= node <= last, needed) */
	bool ext_in;        /* before the range, read in it: the host writes it (region INPUT) */
	bool ext_out;       /* in the range, read after it or the logits: region LOGITS */
	int32_t absorbed;   /* the ADD whose epilogue computes this producer's tensor, or -1 */
	int32_t main;       /* an ADD: the producer it absorbed, or -1 */
	uint32_t step;      /* the fused group that computes this node */
	uint32_t v0, nv;    /* views [v0, v0 + nv) of cc.views */
	uint32_t woff, boff; /* CONV/LINEAR: weights / bias offsets in their regions */
};

/* One logical device operation; f8_cc_encode cuts it into tiles. */
struct cc_op {
	uint8_t opcode, flags;
	uint8_t kh, kw, stride, pad;
	uint8_t align_src, align_aux;
	int8_t shift[2];
	int32_t node;       /* the node whose window / weights it applies */
	int32_t out;        /* the node whose tensor it writes */
	int32_t src, aux;   /* buffers (-1: none) */
	int32_t dst[2];
	uint32_t step;
	char name[72];
};

struct cc {
	const struct f8_qm *m;
	uint32_t lo, hi;         /* the nodes this program computes: [lo, hi] */
	int32_t refused;         /* the node an F8_ERR_RANGE named, or -1 */
	struct f8_be_caps caps;
	uint32_t batch;
	struct f8_err *e;
	struct cc_node *nd;      /* [nnodes] */
	struct cc_view *views;
	uint32_t nviews, nsteps;
	struct f8_cc_buf *bufs;
	uint32_t nbufs;
	struct cc_op *ops;
	uint32_t nops, cap_ops;
	uint64_t wbytes, bbytes; /* sizes of the weight and bias regions */
};

/* An F8_ERR_RANGE naming node @i. */
int f8_cc_node_fail(struct cc *cc, uint32_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Elements of one image of node @i's tensor. */
uint64_t f8_cc_elems(const struct f8_qm_node *n);

int f8_cc_graph(struct cc *cc);
int f8_cc_lower(struct cc *cc);
/* Offsets of the F8_CC_R_ACT buffers; returns the peak (bytes). */
uint64_t f8_cc_plan(struct f8_cc_buf *bufs, uint32_t nbufs);
int f8_cc_encode(struct cc *cc, struct f8_cc_prog *p);

/* A program's buffers on a backend (f8-cc-run.c); the profiler (f8-cc-profile.c) runs its
 * descriptors one by one on them. */
struct f8_cc_session {
	struct f8_be *be;
	const struct f8_cc_prog *p;
	struct f8_be_buf cmd;
	struct f8_be_buf reg[F8_CC_REGIONS];
	bool have_cmd, have[F8_CC_REGIONS];
};

#endif
