// SPDX-License-Identifier: MIT
/*
 * Pass 2 of the compiler: one logical operation per fused group, in node order, and one
 * buffer per view. A group writes up to two views through dst[0] / dst[1]; a tensor read
 * in more forms is also written as int32 and the other forms are converted from it by ADDs
 * without AUX (requant of the stored int32: the same numbers). Weights and biases get
 * their offsets in their regions here.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-cc-impl.h"
#include "f8npu_arith.h"

#define CC_ALIGN 64u

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* The buffer of view (@type, @shift) of node @t. */
static int32_t view_buf(const struct cc *cc, uint32_t t, uint8_t type, int8_t shift)
{
	const struct cc_node *d = &cc->nd[t];
	uint32_t v;

	for (v = d->v0; v < d->v0 + d->nv; v++)
		if (cc->views[v].type == type && cc->views[v].shift == shift)
			return cc->views[v].buf;
	F8_ASSERT(0);
	return -1;
}

static int32_t lossless_buf(const struct cc *cc, uint32_t t)
{
	return view_buf(cc, t, t == 0 ? F8NPU_TYPE_U8 : F8NPU_TYPE_S32, 0);
}

/* Read buffer @b at step @step: its liveness grows to cover it. */
static int32_t use(struct cc *cc, int32_t b, uint32_t step)
{
	if (cc->bufs[b].last < step)
		cc->bufs[b].last = step;
	return b;
}

static void make_bufs(struct cc *cc)
{
	const struct f8_qm *m = cc->m;
	uint32_t t, v;

	for (t = 0; t < m->nnodes; t++) {
		const struct cc_node *d = &cc->nd[t];

		if (!d->needed || d->absorbed >= 0)
			continue;
		for (v = d->v0; v < d->v0 + d->nv; v++) {
			struct f8_cc_buf *b = &cc->bufs[cc->nbufs];
			const struct cc_view *w = &cc->views[v];
			const bool lossless = w->shift == 0 &&
					      w->type == (t == 0 ? F8NPU_TYPE_U8 : F8NPU_TYPE_S32);

			b->node = (int32_t)t;
			b->type = w->type;
			b->shift = w->shift;
			b->region = F8_CC_R_ACT;
			if (lossless && d->ext_in)
				b->region = F8_CC_R_INPUT;
			else if (lossless && d->ext_out)
				b->region = F8_CC_R_LOGITS;
			b->size = align_up((uint64_t)cc->batch * f8_cc_elems(&m->nodes[t]) *
						   f8npu_type_size(w->type), CC_ALIGN);
			b->first = b->last = d->step;
			if (b->region == F8_CC_R_LOGITS)
				b->last = cc->nsteps; /* read by the host after the job */
			if (b->region == F8_CC_R_INPUT)
				b->first = 0; /* written by the host before it */
			cc->views[v].buf = (int32_t)cc->nbufs++;
		}
	}
}

static struct cc_op *new_op(struct cc *cc, uint8_t opcode, int32_t node, int32_t out, uint32_t step)
{
	struct cc_op *o;

	if (cc->nops == cc->cap_ops) {
		uint32_t cap = cc->cap_ops ? 2 * cc->cap_ops : 64;
		struct cc_op *ops = realloc(cc->ops, sizeof(*ops) * cap);

		if (!ops)
			return NULL;
		cc->ops = ops;
		cc->cap_ops = cap;
	}
	o = &cc->ops[cc->nops++];
	memset(o, 0, sizeof(*o));
	o->opcode = opcode;
	o->node = node;
	o->out = out;
	o->src = o->aux = o->dst[0] = o->dst[1] = -1;
	o->step = step;
	o->kh = o->kw = o->stride = 1;
	return o;
}

static void set_dst(struct cc_op *o, int k, const struct cc *cc, int32_t b)
{
	o->dst[k] = b;
	o->shift[k] = cc->bufs[b].shift;
	if (k == 1)
		o->flags |= F8NPU_FLAG_DST1;
}

/* Views of @t that its producer @o does not write, converted from the int32 tensor. */
static int convert_rest(struct cc *cc, uint32_t t, const int32_t *written, int nw, uint32_t step)
{
	const struct cc_node *d = &cc->nd[t];
	struct cc_op *o = NULL;
	int32_t from;
	uint32_t v;
	int k;

	for (v = d->v0; v < d->v0 + d->nv; v++) {
		const int32_t b = cc->views[v].buf;
		bool done = false;

		for (k = 0; k < nw; k++)
			done |= written[k] == b;
		if (done)
			continue;
		/* only with a view left over is the int32 form (or the pixels) there to read */
		from = lossless_buf(cc, t);
		if (b == from)
			continue;
		if (o && o->dst[1] < 0) {
			set_dst(o, 1, cc, b);
			continue;
		}
		o = new_op(cc, F8NPU_OP_ADD, (int32_t)t, (int32_t)t, step);
		if (!o)
			return F8_ERR_NOMEM;
		o->src = use(cc, from, step);
		set_dst(o, 0, cc, b);
		snprintf(o->name, sizeof(o->name), "%s:cvt", cc->m->nodes[t].name);
	}
	return F8_OK;
}

/* The group that computes node @i (and the ADD that absorbs it, if any). */
static int lower_group(struct cc *cc, uint32_t i)
{
	const struct f8_qm *m = cc->m;
	const struct cc_node *d = &cc->nd[i];
	const bool fused = d->main >= 0;
	const uint32_t p = fused ? (uint32_t)d->main : i; /* the node whose operation runs */
	const struct f8_qm_node *P = &m->nodes[p], *O = &m->nodes[i];
	const uint32_t step = d->step;
	int32_t written[2] = { -1, -1 };
	struct cc_op *o;
	uint8_t opcode;
	uint32_t v;
	int nw = 0;

	switch (P->op) {
	case F8_QM_CONV:
	case F8_QM_LINEAR:
		opcode = F8NPU_OP_CONV2D;
		break;
	case F8_QM_MAXPOOL:
		opcode = F8NPU_OP_POOL_MAX;
		break;
	case F8_QM_SUMPOOL:
		opcode = F8NPU_OP_POOL_SUM;
		break;
	default:
		opcode = F8NPU_OP_ADD;
		break;
	}
	o = new_op(cc, opcode, (int32_t)p, (int32_t)i, step);
	if (!o)
		return F8_ERR_NOMEM;
	if (fused)
		snprintf(o->name, sizeof(o->name), "%s+%s", P->name, O->name);
	else
		snprintf(o->name, sizeof(o->name), "%s", P->name);
	if (O->flags & F8_QM_F_RELU)
		o->flags |= F8NPU_FLAG_RELU;

	if (opcode == F8NPU_OP_CONV2D) {
		const uint32_t a = (uint32_t)P->in[0];

		o->src = use(cc, view_buf(cc, a, (P->flags & F8_QM_F_SIGNED) ? F8NPU_TYPE_S8 :
										 F8NPU_TYPE_U8,
					  (int8_t)(m->nodes[a].fl_out - P->fl_in)),
			     step);
		o->flags |= F8NPU_FLAG_BIAS;
		if (P->op == F8_QM_LINEAR) { /* the kernel is the whole input */
			o->kh = (uint8_t)m->nodes[a].h;
			o->kw = (uint8_t)m->nodes[a].w;
		} else {
			o->kh = o->kw = P->k;
			o->stride = P->stride;
			o->pad = P->pad;
			if (P->flags & F8_QM_F_DEPTHWISE)
				o->flags |= F8NPU_FLAG_DEPTHWISE;
		}
	} else if (opcode != F8NPU_OP_ADD) {
		o->src = use(cc, lossless_buf(cc, (uint32_t)P->in[0]), step);
		o->kh = o->kw = P->k;
		o->stride = P->stride;
		o->pad = P->pad;
	} else { /* an ADD no producer absorbed */
		o->src = use(cc, lossless_buf(cc, (uint32_t)O->in[0]), step);
		o->aux = use(cc, lossless_buf(cc, (uint32_t)O->in[1]), step);
		o->flags |= F8NPU_FLAG_AUX;
		o->align_src = (uint8_t)(O->fl_out - m->nodes[O->in[0]].fl_out);
		o->align_aux = (uint8_t)(O->fl_out - m->nodes[O->in[1]].fl_out);
		o->kh = o->kw = o->stride = 0;
	}
	if (fused) { /* the other operand of the ADD is the residual */
		const int32_t q = O->in[0] == (int32_t)p ? O->in[1] : O->in[0];

		o->aux = use(cc, lossless_buf(cc, (uint32_t)q), step);
		o->flags |= F8NPU_FLAG_AUX;
		o->align_src = (uint8_t)(O->fl_out - P->fl_out);
		o->align_aux = (uint8_t)(O->fl_out - m->nodes[q].fl_out);
	}
	if (o->align_src > cc->caps.align_max || o->align_aux > cc->caps.align_max)
		return f8_cc_node_fail(cc, i, "alignment shift %u outside the device's 0..%u",
				       o->align_src > o->align_aux ? o->align_src : o->align_aux,
				       cc->caps.align_max);

	/* outputs: every view if two or fewer, else the int32 tensor and one 8-bit view */
	if (d->nv <= 2) {
		for (v = d->v0; v < d->v0 + d->nv; v++)
			written[nw++] = cc->views[v].buf;
	} else {
		written[nw++] = lossless_buf(cc, i);
		for (v = d->v0; v < d->v0 + d->nv && nw < 2; v++)
			if (cc->views[v].buf != written[0])
				written[nw++] = cc->views[v].buf;
	}
	for (v = 0; v < (uint32_t)nw; v++)
		set_dst(o, (int)v, cc, written[v]);
	return convert_rest(cc, i, written, nw, step);
}

int f8_cc_lower(struct cc *cc)
{
	const struct f8_qm *m = cc->m;
	uint32_t i;
	int rc;

	make_bufs(cc);
	/* the inputs' other forms, converted from what the host wrote (the pixels, or int32) */
	for (i = 0; i < cc->lo; i++) {
		if (!cc->nd[i].ext_in)
			continue;
		rc = convert_rest(cc, i, NULL, 0, 0);
		if (rc)
			return rc;
	}
	for (i = cc->lo; i <= cc->hi; i++) {
		const struct f8_qm_node *n = &m->nodes[i];

		if (!cc->nd[i].in_range)
			continue;
		if (n->op == F8_QM_CONV || n->op == F8_QM_LINEAR) {
			cc->nd[i].woff = (uint32_t)cc->wbytes;
			cc->nd[i].boff = (uint32_t)cc->bbytes;
			cc->wbytes = align_up(cc->wbytes + f8_qm_weight_count(m, n), CC_ALIGN);
			cc->bbytes = align_up(cc->bbytes + 4u * n->c, CC_ALIGN);
		}
		if (cc->nd[i].absorbed >= 0)
			continue;
		rc = lower_group(cc, i);
		if (rc)
			return rc;
	}
	return F8_OK;
}
