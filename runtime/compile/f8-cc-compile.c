// SPDX-License-Identifier: MIT
/*
 * f8_cc_compile: the model and the device checked, then the passes of f8-cc-impl.h, then
 * the program: the stream, the contents of the weight and bias regions, the sizes of all
 * regions, the memory plan and the per-descriptor prediction.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-cc-impl.h"
#include "f8npu_arith.h"

/* A region of the program may not be empty (the device refuses size 0 when referenced). */
#define CC_REGION_MIN 64u

static int check_caps(const struct f8_be_caps *c, struct f8_err *e)
{
	if (c->regions < F8_CC_REGIONS)
		return f8_fail(e, F8_ERR_RANGE, "the device has %u regions; a compiled program uses %u",
			       c->regions, F8_CC_REGIONS);
	if (c->rows < 1 || c->cols < 1 || c->rows > 4096 || c->cols > 4096)
		return f8_fail(e, F8_ERR_RANGE, "array %u x %u outside 1..4096", c->rows, c->cols);
	if (!(c->ops >> F8NPU_OP_END & 1u))
		return f8_fail(e, F8_ERR_RANGE, "the device does not support END");
	if (c->max_dim < 1 || c->max_k < 1)
		return f8_fail(e, F8_ERR_RANGE, "device limits max_dim %u / max_k %u are zero",
			       c->max_dim, c->max_k);
	if (!(c->types >> F8NPU_TYPE_U8 & 1u) || !(c->types >> F8NPU_TYPE_S32 & 1u))
		return f8_fail(e, F8_ERR_RANGE,
			       "the device lacks u8 (the images) or s32 (the logits): types 0x%x", c->types);
	return F8_OK;
}

static void write_params(const struct cc *cc, struct f8_cc_prog *p)
{
	const struct f8_qm *m = cc->m;
	uint32_t i, k;

	for (i = cc->lo; i <= cc->hi; i++) {
		const struct f8_qm_node *n = &m->nodes[i];

		if (!cc->nd[i].in_range || (n->op != F8_QM_CONV && n->op != F8_QM_LINEAR))
			continue;
		memcpy(p->weights + cc->nd[i].woff, n->weights, f8_qm_weight_count(m, n));
		for (k = 0; k < n->c; k++) /* little-endian int32 */
			f8npu_store(p->bias + cc->nd[i].boff + 4u * k, F8NPU_TYPE_S32, n->bias[k]);
	}
}

static uint64_t region_bytes(uint64_t v)
{
	return v < CC_REGION_MIN ? CC_REGION_MIN : v;
}

/* Offsets of the host-visible buffers in regions INPUT and LOGITS; the io lists. */
static int boundary(const struct cc *cc, struct f8_cc_prog *p)
{
	uint64_t end[F8_CC_REGIONS] = { 0 }, used[F8_CC_REGIONS] = { 0 };
	uint32_t i;

	p->in = calloc(cc->nbufs, sizeof(*p->in));
	p->out = calloc(cc->nbufs, sizeof(*p->out));
	if (!p->in || !p->out)
		return F8_ERR_NOMEM;
	for (i = 0; i < cc->nbufs; i++) { /* made in node order */
		struct f8_cc_buf *b = &cc->bufs[i];
		struct f8_cc_io *io;

		if (b->region == F8_CC_R_INPUT)
			io = &p->in[p->nin++];
		else if (b->region == F8_CC_R_LOGITS)
			io = &p->out[p->nout++];
		else
			continue;
		b->offset = end[b->region];
		end[b->region] += b->size;
		io->node = b->node;
		io->type = b->type;
		io->offset = b->offset;
		io->image_bytes = f8_cc_elems(&cc->m->nodes[b->node]) * f8npu_type_size(b->type);
		/* the last one ends the region exactly: a file of the images or logits fills it */
		used[b->region] = b->offset + cc->batch * io->image_bytes;
	}
	p->region_size[F8_CC_R_INPUT] = region_bytes(used[F8_CC_R_INPUT]);
	p->region_size[F8_CC_R_LOGITS] = region_bytes(used[F8_CC_R_LOGITS]);
	if (!p->nout)
		return f8_fail(cc->e, F8_ERR_MISUSE, "nodes %u..%u: nothing in them is read", cc->lo,
			       cc->hi);
	return F8_OK;
}

static int build(struct cc *cc, struct f8_cc_prog *p)
{
	uint32_t i;
	int rc;

	rc = f8_cc_graph(cc);
	if (!rc)
		rc = f8_cc_lower(cc);
	if (rc)
		return rc;
	p->act_peak = f8_cc_plan(cc->bufs, cc->nbufs);
	if (p->act_peak == UINT64_MAX)
		return F8_ERR_NOMEM;
	for (i = 0; i < cc->nbufs; i++)
		if (cc->bufs[i].region == F8_CC_R_ACT)
			p->act_unplanned += cc->bufs[i].size;
	rc = boundary(cc, p);
	if (rc)
		return rc;
	p->region_size[F8_CC_R_WEIGHTS] = region_bytes(cc->wbytes);
	p->region_size[F8_CC_R_BIAS] = region_bytes(cc->bbytes);
	p->region_size[F8_CC_R_ACT] = region_bytes(p->act_peak);
	for (i = 0; i < F8_CC_REGIONS; i++)
		if (p->region_size[i] > UINT32_MAX)
			return f8_fail(cc->e, F8_ERR_RANGE,
				       "region %u needs %llu bytes; offsets reach 4 GiB (a smaller batch?)",
				       i, (unsigned long long)p->region_size[i]);
	p->weights = calloc(1, p->region_size[F8_CC_R_WEIGHTS]);
	p->bias = calloc(1, p->region_size[F8_CC_R_BIAS]);
	if (!p->weights || !p->bias)
		return F8_ERR_NOMEM;
	write_params(cc, p);
	rc = f8_cc_encode(cc, p);
	if (rc)
		return rc;
	p->bufs = cc->bufs;
	p->nbufs = cc->nbufs;
	p->nsteps = cc->nsteps;
	cc->bufs = NULL;
	return F8_OK;
}

int f8_cc_compile(const struct f8_qm *m, const struct f8_be_caps *caps, const struct f8_cc_opts *o,
		  struct f8_cc_prog **out, struct f8_err *e)
{
	return f8_cc_compile_ex(m, caps, o, out, NULL, e);
}

bool f8_cc_whole(const struct f8_cc_prog *p)
{
	return p->nin == 1 && p->in[0].node == 0 && p->nout == 1 && p->out[0].node == p->logits_node;
}

int f8_cc_compile_ex(const struct f8_qm *m, const struct f8_be_caps *caps,
		     const struct f8_cc_opts *o, struct f8_cc_prog **out, int32_t *refused,
		     struct f8_err *e)
{
	struct f8_qm_error qe;
	struct f8_cc_prog *p;
	struct cc cc;
	uint32_t batch = o && o->batch ? o->batch : 1;
	int rc;

	if (refused)
		*refused = -1;
	if (!m || !caps || !out)
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_compile: NULL model, capabilities or output");
	*out = NULL;
	rc = f8_qm_check(m, &qe);
	if (rc)
		return f8_fail(e, rc, "model: node %d: %s", qe.node, qe.what);
	rc = check_caps(caps, e);
	if (rc)
		return rc;
	if (batch > 65535)
		return f8_fail(e, F8_ERR_RANGE, "batch %u above 65535 (a tensor's n)", batch);

	memset(&cc, 0, sizeof(cc));
	cc.lo = 1;
	cc.hi = m->nnodes - 1;
	if (o && (o->first || o->last)) {
		if (o->first < 1 || o->first > o->last || o->last >= m->nnodes)
			return f8_fail(e, F8_ERR_MISUSE, "nodes %u..%u: outside 1..%u", o->first, o->last,
				       m->nnodes - 1);
		cc.lo = o->first;
		cc.hi = o->last;
	}
	cc.refused = -1;
	cc.m = m;
	cc.caps = *caps;
	cc.batch = batch;
	cc.e = e;
	cc.nd = calloc(m->nnodes, sizeof(*cc.nd));
	cc.views = calloc(4u * m->nnodes, sizeof(*cc.views));
	cc.bufs = calloc(4u * m->nnodes, sizeof(*cc.bufs));
	p = calloc(1, sizeof(*p));
	if (!cc.nd || !cc.views || !cc.bufs || !p) {
		rc = f8_fail(e, F8_ERR_NOMEM, "compiler: out of memory");
		goto out_free;
	}
	p->batch = batch;
	p->classes = m->classes;
	p->first = cc.lo;
	p->last = cc.hi;
	p->logits_node = (int32_t)m->nnodes - 1;
	p->in_h = m->nodes[0].h;
	p->in_w = m->nodes[0].w;
	p->in_c = m->nodes[0].c;
	p->caps = *caps;
	f8npu_model_default_config(&p->cfg);
	p->cfg.rows = caps->rows;
	p->cfg.cols = caps->cols;
	p->cfg.ibuf_bytes = caps->ibuf_bytes;
	p->cfg.wbuf_bytes = caps->wbuf_bytes;
	p->cfg.abuf_bytes = caps->abuf_bytes;
	if (o && o->dram_bpc)
		p->cfg.dram_bytes_per_cycle = o->dram_bpc;
	if (o && o->dram_latency)
		p->cfg.dram_latency = o->dram_latency;
	snprintf(p->model_name, sizeof(p->model_name), "%s", m->model_name);
	rc = build(&cc, p);
	if (rc == F8_ERR_NOMEM)
		f8_fail(e, rc, "compiler: out of memory");
	if (rc == F8_ERR_RANGE && refused)
		*refused = cc.refused;
out_free:
	free(cc.nd);
	free(cc.views);
	free(cc.bufs);
	free(cc.ops);
	if (rc) {
		f8_cc_free(p);
		return rc;
	}
	*out = p;
	return F8_OK;
}

void f8_cc_free(struct f8_cc_prog *p)
{
	if (!p)
		return;
	free(p->stream);
	free(p->info);
	free(p->weights);
	free(p->bias);
	free(p->bufs);
	free(p->in);
	free(p->out);
	free(p);
}
