// SPDX-License-Identifier: MIT
/*
 * Pass 1 of the compiler: the graph. Which nodes reach the logits, which residual ADDs run
 * in the epilogue of the producer of one operand, and in which forms (views) every tensor
 * is read. A view is requant(v, shift, type) of a node's int32 tensor v: an 8-bit copy per
 * distinct input FL of the convs that read it, and the tensor itself (s32, shift 0) for
 * ADDs, pools and the logits. docs/compiler.md says why each fusion is exact.
 */
#include <stdarg.h>
#include <stdio.h>

#include "f8-cc-impl.h"

uint64_t f8_cc_elems(const struct f8_qm_node *n)
{
	return (uint64_t)n->c * n->h * n->w;
}

int f8_cc_node_fail(struct cc *cc, uint32_t i, const char *fmt, ...)
{
	char why[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (cc->refused < 0)
		cc->refused = (int32_t)i;
	return f8_fail(cc->e, F8_ERR_RANGE, "node %u '%s' (%s): %s", i, cc->m->nodes[i].name,
		       f8_qm_op_name(cc->m->nodes[i].op), why);
}

static bool reads_8bit(const struct f8_qm_node *n)
{
	return n->op == F8_QM_CONV || n->op == F8_QM_LINEAR;
}

/* Readers of node @t among the needed nodes (an ADD of t with itself counts twice). */
static uint32_t readers(const struct cc *cc, uint32_t t)
{
	uint32_t c, r = 0;

	for (c = t + 1; c < cc->m->nnodes; c++)
		if (cc->nd[c].needed)
			r += (cc->m->nodes[c].in[0] == (int32_t)t) + (cc->m->nodes[c].in[1] == (int32_t)t);
	return r;
}

/*
 * Producer @p can run ADD @a in its epilogue (v = align_add(v0, la, other, lb), then ReLU)
 * when its own int32 tensor is read by nothing else and it applies no ReLU of its own
 * (the epilogue adds before its ReLU; F8Net's order is conv, add, ReLU).
 */
static bool absorbable(const struct cc *cc, int32_t p)
{
	const struct f8_qm_node *n = &cc->m->nodes[p];

	if ((uint32_t)p < cc->lo) /* computed elsewhere: its tensor arrives whole */
		return false;
	if (n->op != F8_QM_CONV && n->op != F8_QM_LINEAR && n->op != F8_QM_MAXPOOL &&
	    n->op != F8_QM_SUMPOOL)
		return false;
	return !(n->flags & F8_QM_F_RELU) && readers(cc, (uint32_t)p) == 1;
}

static void add_view(struct cc *cc, uint32_t t, uint8_t type, int8_t shift)
{
	struct cc_node *d = &cc->nd[t];
	uint32_t v;

	for (v = d->v0; v < d->v0 + d->nv; v++)
		if (cc->views[v].type == type && cc->views[v].shift == shift)
			return;
	cc->views[cc->nviews].type = type;
	cc->views[cc->nviews].shift = shift;
	cc->views[cc->nviews].buf = -1;
	cc->nviews++;
	d->nv++;
}

/* The form an ADD, a pool or the logits read: the tensor itself (the input's u8 pixels). */
static void lossless_key(uint32_t t, uint8_t *type, int8_t *shift)
{
	*type = t == 0 ? F8NPU_TYPE_U8 : F8NPU_TYPE_S32;
	*shift = 0;
}

static int views_of(struct cc *cc, uint32_t t)
{
	const struct f8_qm *m = cc->m;
	const struct f8_qm_node *T = &m->nodes[t];
	uint8_t lt;
	int8_t ls;
	uint32_t c;
	int j;

	lossless_key(t, &lt, &ls);
	cc->nd[t].v0 = cc->nviews;
	cc->nd[t].nv = 0;
	/* what the host writes is there; what it reads must be */
	if (cc->nd[t].ext_in || cc->nd[t].ext_out)
		add_view(cc, t, lt, ls);
	for (c = t + 1; c <= cc->hi; c++) {
		const struct f8_qm_node *C = &m->nodes[c];

		if (!cc->nd[c].in_range)
			continue;
		for (j = 0; j < 2; j++) {
			int s;

			if (C->in[j] != (int32_t)t)
				continue;
			if (!reads_8bit(C)) {
				add_view(cc, t, lt, ls);
				continue;
			}
			s = T->fl_out - C->fl_in;
			if (s < cc->caps.shift_min || s > cc->caps.shift_max)
				return f8_cc_node_fail(cc, c,
						       "input requantization shift %d outside the device's %d..%d",
						       s, cc->caps.shift_min, cc->caps.shift_max);
			add_view(cc, t, (C->flags & F8_QM_F_SIGNED) ? F8NPU_TYPE_S8 : F8NPU_TYPE_U8,
				 (int8_t)s);
		}
	}
	/* More forms than a descriptor's two outputs: the rest are converted from the tensor. */
	if (cc->nd[t].nv > 2)
		add_view(cc, t, lt, ls);
	return F8_OK;
}

/* Reads of node @t by needed nodes in [@c0, @c1]. */
static bool read_in(const struct cc *cc, uint32_t t, uint32_t c0, uint32_t c1)
{
	uint32_t c;

	for (c = c0 > t ? c0 : t + 1; c <= c1; c++)
		if (cc->nd[c].needed &&
		    (cc->m->nodes[c].in[0] == (int32_t)t || cc->m->nodes[c].in[1] == (int32_t)t))
			return true;
	return false;
}

int f8_cc_graph(struct cc *cc)
{
	const struct f8_qm *m = cc->m;
	uint32_t i, step;
	int rc;

	for (i = 0; i < m->nnodes; i++) {
		cc->nd[i].absorbed = -1;
		cc->nd[i].main = -1;
	}
	cc->nd[m->nnodes - 1].needed = true;
	for (i = m->nnodes; i-- > 1;) {
		if (!cc->nd[i].needed)
			continue;
		cc->nd[m->nodes[i].in[0]].needed = true;
		if (m->nodes[i].in[1] >= 0)
			cc->nd[m->nodes[i].in[1]].needed = true;
	}
	/* the program's boundary: what the host hands in, what it reads back */
	for (i = 0; i < m->nnodes; i++) {
		struct cc_node *d = &cc->nd[i];

		d->in_range = d->needed && i >= cc->lo && i <= cc->hi;
		d->ext_in = d->needed && i < cc->lo && read_in(cc, i, cc->lo, cc->hi);
		d->ext_out = d->in_range &&
			     (i == m->nnodes - 1 || read_in(cc, i, cc->hi + 1, m->nnodes - 1));
	}

	/* residual ADDs into an operand's producer, the later one first (shorter liveness) */
	for (i = cc->lo; i <= cc->hi; i++) {
		const struct f8_qm_node *a = &m->nodes[i];
		int32_t x = a->in[0], y = a->in[1], first = x > y ? x : y, second = x > y ? y : x;

		if (!cc->nd[i].in_range || a->op != F8_QM_ADD || x == y)
			continue;
		if (absorbable(cc, first))
			cc->nd[i].main = first;
		else if (absorbable(cc, second))
			cc->nd[i].main = second;
		if (cc->nd[i].main >= 0)
			cc->nd[cc->nd[i].main].absorbed = (int32_t)i;
	}
	/* from here on, "needed" is what this program holds: its nodes and its inputs */
	for (i = 0; i < m->nnodes; i++)
		cc->nd[i].needed = cc->nd[i].in_range || cc->nd[i].ext_in;

	/* steps: the inputs are step 0, then one per fused group, in node order */
	step = 1;
	for (i = cc->lo; i <= cc->hi; i++) {
		if (!cc->nd[i].in_range || cc->nd[i].absorbed >= 0)
			continue;
		cc->nd[i].step = step;
		if (cc->nd[i].main >= 0)
			cc->nd[cc->nd[i].main].step = step;
		step++;
	}
	cc->nsteps = step;

	for (i = 0; i < m->nnodes; i++) {
		if (!cc->nd[i].needed || cc->nd[i].absorbed >= 0)
			continue;
		rc = views_of(cc, i);
		if (rc)
			return rc;
	}
	return F8_OK;
}
