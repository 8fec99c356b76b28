// SPDX-License-Identifier: MIT
/*
 * The plan of the CPU backend: the ISA, the weights packed for its kernels, and which buffer
 * each node's int32 output lives in (buffers are reused once their last consumer has run, so
 * a batch of images fits in a few tensors instead of one per node).
 */
#include <stdlib.h>
#include <string.h>

#include "f8-cpu-impl.h"
#include "f8-err.h"

static size_t elems(const struct f8_qm_node *n)
{
	return (size_t)n->c * n->h * n->w;
}

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

bool f8_cpu_isa_supported(enum f8_cpu_isa isa)
{
	switch (isa) {
	case F8_CPU_ISA_AUTO:
	case F8_CPU_ISA_PORTABLE:
		return true;
#ifdef F8_CPU_X86
	case F8_CPU_ISA_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
	case F8_CPU_ISA_AVX512VNNI:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
	default:
		return false;
	}
}

enum f8_cpu_isa f8_cpu_isa_best(void)
{
	if (f8_cpu_isa_supported(F8_CPU_ISA_AVX512VNNI))
		return F8_CPU_ISA_AVX512VNNI;
	if (f8_cpu_isa_supported(F8_CPU_ISA_AVX2))
		return F8_CPU_ISA_AVX2;
	return F8_CPU_ISA_PORTABLE;
}

const char *f8_cpu_isa_name(enum f8_cpu_isa isa)
{
	static const char *const names[] = { "auto", "portable", "avx2", "avx512vnni" };

	return (unsigned int)isa < F8_CPU_ISA_END_ ? names[isa] : "?";
}

static const struct f8_cpu_kern *kern_of(enum f8_cpu_isa isa)
{
	switch (isa) {
#ifdef F8_CPU_X86
	case F8_CPU_ISA_AVX2:
		return &f8_cpu_kern_avx2;
	case F8_CPU_ISA_AVX512VNNI:
		return &f8_cpu_kern_vnni;
#endif
	default:
		return &f8_cpu_kern_portable;
	}
}

static bool is_gemm(const struct f8_qm_node *n)
{
	return n->op == F8_QM_LINEAR || (n->op == F8_QM_CONV && !(n->flags & F8_QM_F_DEPTHWISE));
}

static bool is_dw(const struct f8_qm_node *n)
{
	return n->op == F8_QM_CONV && (n->flags & F8_QM_F_DEPTHWISE);
}

/* Bytes of packed parameters a node needs (each part 64-byte aligned). */
static size_t packed_bytes(const struct f8_cpu_node *cn, const struct f8_cpu_kern *k)
{
	const struct f8_qm_node *n = cn->q;

	if (is_gemm(n))
		return align64((size_t)cn->g.nblocks * cn->g.taps * cn->g.kgroups * F8_CPU_NR *
			       (size_t)k->g * k->esize) +
		       2 * align64((size_t)cn->g.nblocks * F8_CPU_NR * 4);
	if (is_dw(n))
		return align64((size_t)n->k * n->k * n->c * 2);
	return 0;
}

/* Weights [cout][taps][cin] into [block][tap][group][16][G], zero past cout and cin. */
static void pack_gemm(struct f8_cpu_node *cn, const struct f8_cpu_kern *k, uint8_t *dst)
{
	const struct f8_qm_node *n = cn->q;
	struct f8_cpu_gemm *g = &cn->g;
	/* row taps: a kernel row [kx][ci] is one tap of k * ic inputs, in the file's order */
	const int cin = cn->rowtaps ? n->k * cn->ic : cn->ic, gs = k->g, cpad = g->kgroups * gs;
	const size_t wbytes = align64((size_t)g->nblocks * g->taps * cpad * F8_CPU_NR * k->esize);
	int32_t *bias = (int32_t *)(void *)(dst + wbytes);
	int32_t *corr = (int32_t *)(void *)(dst + wbytes + align64((size_t)g->nblocks * F8_CPU_NR * 4));
	size_t o = 0;
	int b, t, q, l, j;

	for (b = 0; b < g->nblocks; b++)
		for (t = 0; t < g->taps; t++)
			for (q = 0; q < g->kgroups; q++)
				for (l = 0; l < F8_CPU_NR; l++)
					for (j = 0; j < gs; j++, o++) {
						const int co = b * F8_CPU_NR + l, ci = q * gs + j;
						const int8_t w = co < g->cout && ci < cin ?
							n->weights[((size_t)co * g->taps + t) * cin + ci] : 0;

						if (k->esize == 1)
							dst[o] = (uint8_t)w;
						else
							((int16_t *)(void *)dst)[o] = w;
					}
	g->sgn = n->flags & F8_QM_F_SIGNED;
	g->nosat = true;
	for (l = 0; l < g->nblocks * F8_CPU_NR; l++) {
		int64_t s = 0, a = 0;
		size_t i;

		bias[l] = l < g->cout ? n->bias[l] : 0;
		if (l < g->cout)
			for (i = 0; i < (size_t)g->taps * cin; i++) {
				const int w = n->weights[(size_t)l * g->taps * cin + i];

				s += w;
				a += w < 0 ? -w : w;
			}
		corr[l] = g->sgn ? (int32_t)(128 * s) : 0;
		/* the exact sum is within 255 * sum|w| (u8 codes, or q + 128 less the offset) */
		if ((bias[l] < 0 ? -(int64_t)bias[l] : bias[l]) + 255 * a >= F8_CPU_S32_MAX)
			g->nosat = false;
	}
	g->w = dst;
	g->bias = bias;
	g->corr = corr;
}

/* Depthwise weights [c][k][k] into [tap][c], so that a tap is a vector over channels. */
static void pack_dw(struct f8_cpu_node *cn, uint8_t *dst)
{
	const struct f8_qm_node *n = cn->q;
	const int taps = n->k * n->k;
	int16_t *w = (int16_t *)(void *)dst;
	int c, t;

	for (t = 0; t < taps; t++)
		for (c = 0; c < n->c; c++)
			w[(size_t)t * n->c + c] = n->weights[(size_t)c * taps + t];
	cn->dw = w;
}

/*
 * Kernel and cache blocking of a GEMM node (f8-cpu-forward.c runs chunk by chunk of output
 * pixels, then step of the kernel's output blocks, then K block of taps, then tile): a K
 * block's weights for one step (taps * kgroups * 64 bytes per block) stay in L1/L2 across the
 * chunk's tiles, and the chunk's codes for one K block stay in L2 across the steps.
 */
static size_t kb_bytes = F8_CPU_KB_BYTES, mc_bytes = F8_CPU_MC_BYTES;

void f8_cpu_set_blocking(size_t kblock_bytes, size_t chunk_bytes)
{
	kb_bytes = kblock_bytes ? kblock_bytes : F8_CPU_KB_BYTES;
	mc_bytes = chunk_bytes ? chunk_bytes : F8_CPU_MC_BYTES;
}

static void blocking(struct f8_cpu_node *cn, const struct f8_cpu_kern *plan_k)
{
	/* the plan's kernel, or its wide tile for 64 channels and more (the same packing) */
	const struct f8_cpu_kern *k = plan_k->wide && cn->g.nblocks >= 4 ? plan_k->wide : plan_k;
	const size_t tap_panel = (size_t)cn->g.kgroups * 64 * k->nbs;
	const size_t tap_codes = (size_t)cn->g.kgroups * k->g * k->esize;
	int nkb, mc;

	cn->gk = k;
	cn->tpk = (int)(kb_bytes / tap_panel);
	if (cn->tpk < 1)
		cn->tpk = 1;
	nkb = (cn->g.taps + cn->tpk - 1) / cn->tpk;
	cn->tpk = (cn->g.taps + nkb - 1) / nkb; /* even blocks */
	mc = (int)(mc_bytes / (tap_codes * cn->tpk));
	if (mc > F8_CPU_MC_MAX)
		mc = F8_CPU_MC_MAX;
	mc -= mc % k->mr;
	cn->mc = mc < k->mr ? k->mr : mc;
}

/* Input view and GEMM shape of a CONV / LINEAR node. */
static void shape(struct f8_cpu_node *cn, const struct f8_qm *m, const struct f8_cpu_kern *k)
{
	const struct f8_qm_node *n = cn->q, *a = &m->nodes[n->in[0]];

	cn->shift = a->fl_out - n->fl_in;
	if (n->op == F8_QM_LINEAR) {
		cn->ih = cn->iw = 1;
		cn->ic = (int)elems(a);
		cn->g.taps = 1;
	} else {
		cn->ih = a->h;
		cn->iw = a->w;
		cn->ic = a->c;
		cn->g.taps = n->k * n->k;
	}
	cn->sub = 1;
	if (n->op == F8_QM_CONV && !is_dw(n) && n->k == 1 && n->pad == 0 && n->stride > 1) {
		cn->sub = n->stride; /* output pixel (y, x) reads input (sub y, sub x) */
		cn->ih = n->h;
		cn->iw = n->w;
	}
	cn->rowtaps = n->op == F8_QM_CONV && !is_dw(n) && n->k > 1 && cn->ic % k->g;
	if (cn->rowtaps) {
		cn->cpad = cn->ic;
		cn->g.taps = n->k;
		cn->g.kgroups = (n->k * cn->ic + k->g - 1) / k->g;
	} else {
		cn->cpad = is_dw(n) ? cn->ic : (cn->ic + k->g - 1) / k->g * k->g;
		cn->g.kgroups = cn->cpad / k->g;
	}
	cn->g.cout = n->c;
	cn->g.nblocks = (n->c + F8_CPU_NR - 1) / F8_CPU_NR;
	cn->g.relu = n->flags & F8_QM_F_RELU;
	if (is_gemm(n))
		blocking(cn, k);
}

static bool reads(const struct f8_qm_node *n, uint32_t x)
{
	return n->in[0] == (int)x || n->in[1] == (int)x;
}

/* A reader that can take its input as codes written by the producer's epilogue: a CONV
 * GEMM whose padded view has no channel padding (the epilogue writes whole channels only)
 * and no row taps. */
static bool code_reader(const struct f8_cpu_node *cn)
{
	return cn->q->op == F8_QM_CONV && is_gemm(cn->q) && !cn->rowtaps && cn->cpad == cn->ic &&
	       cn->sub == 1;
}

static bool same_view(const struct f8_cpu_node *a, const struct f8_cpu_node *b)
{
	return a->shift == b->shift && a->q->pad == b->q->pad &&
	       (a->q->flags & F8_QM_F_SIGNED) == (b->q->flags & F8_QM_F_SIGNED);
}

/* A code buffer free after @start (its last reader ran before), or a new one, until @end. */
static int take_cslot(struct f8_cpu *p, uint32_t *cend, uint32_t start, uint32_t end)
{
	int s;

	for (s = 0; s < p->ncslots && cend[s] >= start; s++)
		;
	if (s == p->ncslots)
		p->ncslots++;
	cend[s] = end;
	return s;
}

/*
 * Fusion (docs/cpu-backend.md): an ADD into the GEMM right before it, and the requantization
 * of a GEMM's value into its readers' padded codes; then the code buffers, by lifetime.
 */
static int plan_fusion(struct f8_cpu *p, const struct f8_qm *m)
{
	uint32_t *cend = calloc(m->nnodes + 1, sizeof(*cend));
	uint32_t i, j;

	if (!cend)
		return F8_ERR_NOMEM;
	for (i = 0; i < m->nnodes; i++) {
		struct f8_cpu_node *cn = &p->nodes[i];

		cn->add = cn->ocview = cn->ocslot = cn->cslot = cn->aux = -1;
		cn->vnode = (int)i;
		cn->out32 = true;
	}
	/* the ADD sees P's stored value: exact only when P has no ReLU of its own and no other
	 * reader; the other operand must be computed already (it is an earlier node) */
	for (i = 1; i < m->nnodes && p->k->fuse != F8_CPU_FUSE_NONE; i++) {
		const struct f8_qm_node *a = &m->nodes[i], *pq = &m->nodes[i - 1];
		struct f8_cpu_node *pn = &p->nodes[i - 1];
		int readers = 0;

		if (a->op != F8_QM_ADD || !is_gemm(pq) || (pq->flags & F8_QM_F_RELU) ||
		    a->in[0] == a->in[1] || !reads(a, i - 1))
			continue;
		for (j = 0; j < m->nnodes; j++)
			readers += (m->nodes[j].in[0] == (int)i - 1) + (m->nodes[j].in[1] == (int)i - 1);
		if (readers != 1)
			continue;
		pn->add = pn->vnode = (int)i;
		pn->aux = a->in[0] == (int)i - 1 ? a->in[1] : a->in[0];
		pn->la = a->fl_out - pq->fl_out;
		pn->lb = a->fl_out - m->nodes[pn->aux].fl_out;
		p->nodes[i].fused_add = true;
	}
	/* codes: every CONV reader with the first such reader's view; int32 if anyone else */
	for (i = 0; i < m->nnodes; i++) {
		struct f8_cpu_node *cn = &p->nodes[i];
		const uint32_t v = (uint32_t)cn->vnode;
		int view = -1;

		if (!is_gemm(cn->q) || p->k->fuse == F8_CPU_FUSE_NONE)
			continue;
		cn->out32 = v + 1 == m->nnodes;
		for (j = v + 1; j < m->nnodes; j++) {
			struct f8_cpu_node *r = &p->nodes[j];

			if (!reads(r->q, v))
				continue;
			if (view < 0 && code_reader(r))
				view = (int)j;
			if (view >= 0 && code_reader(r) && same_view(&p->nodes[view], r))
				r->in_fused = true;
			else
				cn->out32 = true;
		}
		cn->ocview = view;
	}
	/* code buffers: a node's own requantized input lives while it runs; codes written by
	 * an epilogue from their writer to their last reader */
	p->ncslots = 0;
	for (i = 0; i < m->nnodes; i++) {
		struct f8_cpu_node *cn = &p->nodes[i];
		uint32_t end = i;

		if ((is_gemm(cn->q) || is_dw(cn->q)) && !cn->in_fused)
			cn->cslot = take_cslot(p, cend, i, i);
		if (cn->ocview < 0)
			continue;
		for (j = (uint32_t)cn->vnode + 1; j < m->nnodes; j++)
			if (p->nodes[j].in_fused && m->nodes[j].in[0] == cn->vnode)
				end = j;
		cn->ocslot = take_cslot(p, cend, i, end);
		for (j = (uint32_t)cn->vnode + 1; j < m->nnodes; j++)
			if (p->nodes[j].in_fused && m->nodes[j].in[0] == cn->vnode)
				p->nodes[j].cslot = cn->ocslot;
	}
	free(cend);
	return F8_OK;
}

/* Output buffers: a node takes the first buffer whose tensor nobody reads any more (a fused
 * ADD's tensor is written by the node before it, so it must be free from there). */
static int assign_slots(struct f8_cpu *p, const struct f8_qm *m)
{
	uint32_t *last = calloc(m->nnodes, sizeof(*last));
	int *owner = calloc(m->nnodes, sizeof(*owner));
	uint32_t i;
	int s, j;

	if (!last || !owner) {
		free(last);
		free(owner);
		return F8_ERR_NOMEM;
	}
	for (i = 0; i < m->nnodes; i++) {
		last[i] = i;
		for (j = 0; j < 2; j++)
			if (m->nodes[i].in[j] >= 0)
				last[m->nodes[i].in[j]] = i;
	}
	last[m->nnodes - 1] = m->nnodes; /* the logits stay */
	p->nslots = 0;
	for (i = 0; i < m->nnodes; i++) {
		/* a slot is free once its tensor's last reader ran before this node */
		const uint32_t start = p->nodes[i].fused_add ? i - 1 : i;

		for (s = 0; s < p->nslots && last[owner[s]] >= start; s++)
			;
		if (s == p->nslots)
			p->nslots++;
		owner[s] = (int)i;
		p->nodes[i].slot = s;
	}
	free(last);
	free(owner);
	return F8_OK;
}

int f8_cpu_create(const struct f8_qm *m, enum f8_cpu_isa isa, struct f8_cpu **out)
{
	struct f8_cpu *p;
	size_t total = 0, off = 0;
	uint32_t i;
	int rc;

	*out = NULL;
	if (isa == F8_CPU_ISA_AUTO)
		isa = f8_cpu_isa_best();
	if ((unsigned int)isa >= F8_CPU_ISA_END_ || !f8_cpu_isa_supported(isa))
		return F8_ERR_RANGE;
	p = calloc(1, sizeof(*p));
	if (!p)
		return F8_ERR_NOMEM;
	p->m = m;
	p->k = kern_of(isa);
	p->nodes = calloc(m->nnodes, sizeof(*p->nodes));
	if (!p->nodes) {
		f8_cpu_free(p);
		return F8_ERR_NOMEM;
	}
	for (i = 0; i < m->nnodes; i++) {
		struct f8_cpu_node *cn = &p->nodes[i];
		const struct f8_qm_node *n = &m->nodes[i];
		const int pad = n->op == F8_QM_CONV ? n->pad : 0;
		size_t bytes;

		cn->q = n;
		if (elems(n) > p->slot_elems)
			p->slot_elems = elems(n);
		if (n->op == F8_QM_MAXPOOL || n->op == F8_QM_SUMPOOL || is_dw(n))
			if ((size_t)n->c > p->acc_count)
				p->acc_count = n->c;
		if (n->op != F8_QM_CONV && n->op != F8_QM_LINEAR)
			continue;
		shape(cn, m, p->k);
		total += packed_bytes(cn, p->k);
		if (is_dw(n)) {
			/* true values as int16 */
			if ((size_t)cn->ih * cn->iw * cn->ic * 2 > p->req_bytes)
				p->req_bytes = (size_t)cn->ih * cn->iw * cn->ic * 2;
			continue;
		}
		/* with the border of the padding */
		bytes = (size_t)(cn->ih + 2 * pad) * (size_t)(cn->iw + 2 * pad) * cn->cpad * p->k->esize +
			F8_CPU_REQ_SLACK;
		if (bytes > p->req_bytes)
			p->req_bytes = bytes;
		if ((size_t)cn->g.taps * cn->g.kgroups > p->max_taps)
			p->max_taps = (size_t)cn->g.taps * cn->g.kgroups;
	}
	p->packed = total ? aligned_alloc(64, total) : NULL;
	if (total && !p->packed) {
		f8_cpu_free(p);
		return F8_ERR_NOMEM;
	}
	for (i = 0; i < m->nnodes; i++) {
		struct f8_cpu_node *cn = &p->nodes[i];

		if (is_gemm(cn->q))
			pack_gemm(cn, p->k, (uint8_t *)p->packed + off);
		else if (is_dw(cn->q))
			pack_dw(cn, (uint8_t *)p->packed + off);
		else
			continue;
		off += packed_bytes(cn, p->k);
	}
	rc = plan_fusion(p, m);
	if (!rc)
		rc = assign_slots(p, m);
	if (rc) {
		f8_cpu_free(p);
		return rc;
	}
	*out = p;
	return F8_OK;
}

void f8_cpu_free(struct f8_cpu *p)
{
	if (!p)
		return;
	free(p->packed);
	free(p->nodes);
	free(p);
}

enum f8_cpu_isa f8_cpu_plan_isa(const struct f8_cpu *p)
{
	return p->k->isa;
}

bool f8_cpu_node_fused(const struct f8_cpu *p, uint32_t i)
{
	return i < p->m->nnodes && p->nodes[i].fused_add;
}

/* Scratch: the slots, the code buffers, the tap offsets, pool sums. */
size_t f8_cpu_scratch_bytes(const struct f8_cpu *p, int batch)
{
	const size_t b = batch < 1 ? 1 : (size_t)batch;

	return (size_t)p->nslots * align64(b * p->slot_elems * 4) +
	       (size_t)p->ncslots * align64(b * p->req_bytes) +
	       align64(p->max_taps * sizeof(ptrdiff_t)) + align64(p->acc_count * 8);
}
