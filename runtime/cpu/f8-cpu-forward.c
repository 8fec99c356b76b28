// SPDX-License-Identifier: MIT
/*
 * The forward pass of the CPU backend: node by node over a batch of images, each node's
 * int32 output in its plan slot as [image][h][w][c], the semantics of f8_qm_forward, except
 * where the plan fused it away (a GEMM's epilogue computes the ADD after it, writes its
 * readers' 8-bit codes, and skips int32 tensors nobody reads). With
 * split_layers, a node's work (rows to requantize, chunks x channel groups of a GEMM,
 * stretches of an ADD, rows of a max pool) is spread over libf8's pool (f8-par.h); every
 * output value is computed by one item with the same arithmetic either way.
 */
#include <string.h>
#include <time.h>

#include "f8-cpu-impl.h"
#include "f8-par.h"

static size_t elems(const struct f8_qm_node *n)
{
	return (size_t)n->c * n->h * n->w;
}

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

struct scratch {
	int32_t *slot[F8_QM_MAX_NODES]; /* at most one slot per node */
	uint8_t *code[F8_QM_MAX_NODES + 1]; /* code buffers (f8-cpu-plan.c: plan_fusion) */
	ptrdiff_t *toff;
	int64_t *acc;
};

/* One node's work, split into items that f8_par_for may spread over threads. */
struct job {
	const struct f8_cpu *p;
	const struct f8_cpu_node *cn;
	const struct scratch *s;
	int n;                  /* images */
	const int32_t *a, *b;   /* inputs */
	int32_t *out;
	/* GEMM: the padded image, output pixels, chunks x channel groups */
	uint8_t *req;           /* the input codes */
	int ph, pw;
	size_t row, img, m_all;
	int ngroups, gblocks;   /* channel groups, blocks per group (whole kernel steps) */
	size_t nchunks;
	/* fused epilogue: the value's int32 tensor if not out (a fused ADD's), the ADD's other
	 * operand, the readers' codes (oc: padded images of oc_img bytes, oc_pad, oc_pw pixels
	 * a row, oc_row bytes a pixel) with their requantization */
	int32_t *o32;
	const int32_t *aux;
	uint8_t *oc;
	int oc_pad, oc_pw, oc_shift, oc_off;
	bool oc_sgn;
	size_t oc_row, oc_img;
};

/* Work below which a node is not split (f8_cpu_opts.split_min 0): a job of the pool costs
 * a wake-up of every worker. */
#define SPLIT_MIN_MACS ((size_t)1 << 24)
#define SPLIT_MIN_VALUES ((size_t)1 << 16)

/* Run @fn over @count items: on the pool when splitting layers, else here. */
static void items(bool split, size_t count, void (*fn)(void *, size_t, int), struct job *j)
{
	size_t i;

	if (split) {
		f8_par_for(count, fn, j);
		return;
	}
	for (i = 0; i < count; i++)
		fn(j, i, 0);
}

/* @count codes of the value 0 (the code is its offset) */
static void fill_codes(uint8_t *d, size_t count, int off, int esize)
{
	size_t i;

	if (esize == 1) {
		memset(d, off, count);
		return;
	}
	for (i = 0; i < count; i++)
		((uint16_t *)(void *)d)[i] = (uint16_t)off;
}

/*
 * Item @i: input row i of the batch (image i / ih) requantized into the padded image (the
 * border is the code of 0, what an absent tap contributes; the first and last rows also
 * fill the border rows above and below).
 */
static void requant_row(void *ctx, size_t i, int thread)
{
	const struct job *j = ctx;
	const struct f8_cpu_node *cn = j->cn;
	const struct f8_cpu_kern *k = j->p->k;
	const bool sgn = cn->q->flags & F8_QM_F_SIGNED;
	const int off = sgn ? 128 : 0, pad = (j->ph - cn->ih) / 2, es = k->esize;
	const size_t b = i / (size_t)cn->ih, y = i % (size_t)cn->ih;
	uint8_t *d = j->req + b * j->img, *r = d + (y + (size_t)pad) * j->pw * j->row;

	(void)thread;
	if (pad) {
		if (y == 0)
			fill_codes(d, (size_t)pad * j->pw * cn->cpad, off, es);
		if (y + 1 == (size_t)cn->ih)
			fill_codes(d + (size_t)(pad + cn->ih) * j->pw * j->row,
				   (size_t)pad * j->pw * cn->cpad, off, es);
		fill_codes(r, (size_t)pad * cn->cpad, off, es);
		fill_codes(r + (size_t)(pad + cn->iw) * j->row, (size_t)pad * cn->cpad, off, es);
	}
	if (cn->sub > 1) { /* every sub-th pixel of every sub-th row of the input */
		const struct f8_qm_node *in = &j->p->m->nodes[cn->q->in[0]];
		const int32_t *src = j->a + ((b * in->h + y * cn->sub) * in->w) * cn->ic;
		int x;

		for (x = 0; x < cn->iw; x++)
			k->elem->requant(src + (size_t)x * cn->sub * cn->ic, 1, cn->ic, cn->cpad,
					 cn->shift, sgn, off, es, r + (size_t)x * j->row);
	} else {
		k->elem->requant(j->a + (i * cn->iw) * cn->ic, (size_t)cn->iw, cn->ic, cn->cpad,
				 cn->shift, sgn, off, es, r + (size_t)pad * j->row);
	}
	if (y + 1 == (size_t)cn->ih) /* the slack row taps may read: defined codes */
		fill_codes(d + (size_t)j->ph * j->pw * j->row, F8_CPU_REQ_SLACK / es, off, es);
}

/*
 * The fused epilogue of one tile whose int32 values the kernel has just stored (in L1):
 * rows r0 .. r0 + nrows - 1, blocks [nb, nbe). A fused ADD (A6, its ReLU) into o32, or in
 * place when nobody reads it as int32; then the readers' codes (A4), as their own
 * requantization of the int32 tensor would have made them.
 */
static void post_tile(const struct job *j, size_t r0, int nrows, int nb, int nbe,
		      uint8_t *const *crow)
{
	const struct f8_cpu_node *cn = j->cn;
	const struct f8_cpu_elem *e = j->p->k->elem;
	const int cout = cn->g.cout, c0 = nb * F8_CPU_NR, es = j->p->k->esize;
	const int len = (nbe * F8_CPU_NR < cout ? nbe * F8_CPU_NR : cout) - c0;
	const bool relu = j->aux && (j->p->m->nodes[cn->add].flags & F8_QM_F_RELU);
	int r;

	for (r = 0; r < nrows; r++) {
		const size_t o = (r0 + (size_t)r) * cout + (size_t)c0;
		int32_t *v = j->out + o;

		if (j->aux) {
			int32_t *d = j->o32 ? j->o32 + o : v;

			e->add(v, cn->la, j->aux + o, cn->lb, relu, (size_t)len, d);
			v = d;
		}
		if (j->oc)
			e->requant(v, 1, len, len, j->oc_shift, j->oc_sgn, j->oc_off, es,
				   crow[r] + (size_t)c0 * es);
	}
}

/* The border (code of 0) and slack of @n padded code images a fused epilogue fills. */
static void code_borders(const struct job *j, int n, int h, int w, int es)
{
	const size_t pw = (size_t)j->oc_pw, pad = (size_t)j->oc_pad, cp = j->oc_row / es;
	int b, y;

	for (b = 0; b < n; b++) {
		uint8_t *d = j->oc + (size_t)b * j->oc_img;

		if (pad) {
			fill_codes(d, pad * pw * cp, j->oc_off, es);
			fill_codes(d + (pad + (size_t)h) * pw * j->oc_row, pad * pw * cp, j->oc_off, es);
			for (y = 0; y < h; y++) {
				uint8_t *r = d + (pad + (size_t)y) * pw * j->oc_row;

				fill_codes(r, pad * cp, j->oc_off, es);
				fill_codes(r + (pad + (size_t)w) * j->oc_row, pad * cp, j->oc_off, es);
			}
		}
		fill_codes(d + ((size_t)h + 2 * pad) * pw * j->oc_row, F8_CPU_REQ_SLACK / es, j->oc_off,
			   es);
	}
}

/*
 * Item @i of a GEMM: chunk i / ngroups of mc output pixels, channel group i % ngroups.
 * Within it: step of the kernel's output blocks, then K block of taps, then tile of mr
 * pixels, so that a K block's weights stay in cache across the chunk's tiles and the chunk's
 * codes stay in L2 across the steps. Every output value is one kernel sum of all its taps (partial sums in
 * the output between K blocks), whichever thread runs the item.
 */
static void gemm_item(void *ctx, size_t i, int thread)
{
	const struct job *j = ctx;
	const struct f8_cpu_node *cn = j->cn;
	const struct f8_cpu_kern *k = cn->gk;
	const struct f8_qm_node *q = cn->q;
	const bool lin = q->op == F8_QM_LINEAR;
	const int stride = lin || cn->sub > 1 ? 1 : q->stride, mr = k->mr, cout = cn->g.cout;
	const size_t m0 = i / (size_t)j->ngroups * (size_t)cn->mc;
	const size_t m1 = m0 + (size_t)cn->mc < j->m_all ? m0 + (size_t)cn->mc : j->m_all;
	const int nb0 = (int)(i % (size_t)j->ngroups) * j->gblocks;
	const int nb1 = nb0 + j->gblocks < cn->g.nblocks ? nb0 + j->gblocks : cn->g.nblocks;
	const uint8_t *rows[F8_CPU_MC_MAX + F8_CPU_MR_MAX];
	uint8_t *crow[F8_CPU_MC_MAX];
	const int tiles = (int)((m1 - m0 + (size_t)mr - 1) / (size_t)mr);
	/* the epilogue is fused when the value goes anywhere but this node's own int32 tensor */
	const bool fused = j->aux || j->oc || j->o32 != j->out;
	struct f8_cpu_fuse f = { .la = cn->la, .lb = cn->lb, .shift = j->oc_shift,
				 .lo = j->oc_sgn ? -127 : 0, .hi = j->oc_sgn ? 127 : 255,
				 .off = j->oc_off };
	size_t m, b;
	int oy, ox, nb, t0, t;

	(void)thread;
	f.add_relu = j->aux && (j->p->m->nodes[cn->add].flags & F8_QM_F_RELU);
	/* (b, oy, ox) of pixel m0, then stepped instead of divided: a pointer per output row,
	 * advanced by a pixel's step */
	b = m0 / ((size_t)q->h * q->w);
	oy = (int)(m0 / q->w % q->h);
	ox = (int)(m0 % q->w);
	for (m = m0; m < m1;) {
		const uint8_t *x = j->req + b * j->img +
				   ((size_t)oy * stride * j->pw + (size_t)ox * stride) * j->row;
		uint8_t *c = j->oc ? j->oc + b * j->oc_img +
					     ((size_t)(oy + j->oc_pad) * j->oc_pw +
					      (size_t)(ox + j->oc_pad)) * j->oc_row :
				     NULL;
		const size_t xs = (size_t)stride * j->row, run = (size_t)(q->w - ox) < m1 - m ?
								  (size_t)(q->w - ox) : m1 - m;
		size_t e;

		for (e = 0; e < run; e++, x += xs)
			rows[m - m0 + e] = x;
		if (c)
			for (e = 0; e < run; e++, c += j->oc_row)
				crow[m - m0 + e] = c;
		m += run;
		ox = 0;
		if (++oy == q->h) {
			oy = 0;
			b++;
		}
	}
	for (m = m1 - m0; m < (size_t)tiles * mr; m++) /* computed, never stored */
		rows[m] = rows[0];
	for (nb = nb0; nb < nb1; nb += k->nbs)
		for (t0 = 0; t0 < cn->g.taps; t0 += cn->tpk) {
			const int t1 = t0 + cn->tpk < cn->g.taps ? t0 + cn->tpk : cn->g.taps;

			for (t = 0; t < tiles; t++) {
				const size_t r0 = m0 + (size_t)t * mr;
				const int nrows = m1 - r0 < (size_t)mr ? (int)(m1 - r0) : mr;
				const int nbe = nb + k->nbs < nb1 ? nb + k->nbs : nb1;

				if (fused && k->fuse == F8_CPU_FUSE_NATIVE) {
					const size_t o = r0 * (size_t)cout;

					f.o32 = j->o32 ? j->o32 + o : NULL;
					f.aux = j->aux ? j->aux + o : NULL;
					f.crow = j->oc ? crow + (size_t)t * mr : NULL;
				}
				k->gemm(&cn->g, rows + (size_t)t * mr, j->s->toff, nrows,
					j->out + r0 * (size_t)cout, nb, nbe, t0, t1,
					fused && k->fuse == F8_CPU_FUSE_NATIVE ? &f : NULL);
				if (fused && k->fuse == F8_CPU_FUSE_POST && t1 == cn->g.taps)
					post_tile(j, r0, nrows, nb, nbe, crow + (size_t)t * mr);
			}
		}
}

/* Requantize the input once, then the GEMM over chunks and channel groups. */
static void run_gemm(const struct f8_cpu *p, const struct f8_cpu_node *cn, int n,
		     const int32_t *in, int32_t *out, const struct scratch *s, bool split,
		     size_t min_macs, size_t min_values)
{
	const struct f8_cpu_kern *k = p->k;
	const struct f8_qm_node *q = cn->q;
	const bool lin = q->op == F8_QM_LINEAR;
	const int kk = lin ? 1 : q->k, pad = lin ? 0 : q->pad;
	struct job j = { .p = p, .cn = cn, .s = s, .n = n, .a = in, .out = out };
	int threads, i, y, ox, gq, nsteps, per;

	j.req = s->code[cn->cslot];
	j.o32 = cn->out32 ? out : NULL;
	if (cn->add >= 0) {
		j.aux = s->slot[p->nodes[cn->aux].slot];
		j.o32 = cn->out32 ? s->slot[p->nodes[cn->add].slot] : NULL;
	}
	if (cn->ocview >= 0) { /* the geometry run_gemm gives the reader's input */
		const struct f8_cpu_node *r = &p->nodes[cn->ocview];

		j.oc = s->code[cn->ocslot];
		j.oc_pad = r->q->pad;
		j.oc_pw = r->iw + 2 * r->q->pad;
		j.oc_row = (size_t)r->cpad * k->esize;
		j.oc_img = (size_t)(r->ih + 2 * r->q->pad) * j.oc_pw * j.oc_row + F8_CPU_REQ_SLACK;
		j.oc_shift = r->shift;
		j.oc_sgn = r->q->flags & F8_QM_F_SIGNED;
		j.oc_off = j.oc_sgn ? 128 : 0;
		code_borders(&j, n, r->ih, r->iw, k->esize);
	}
	j.ph = cn->ih + 2 * pad;
	j.pw = cn->iw + 2 * pad;
	j.row = (size_t)cn->cpad * k->esize;
	j.img = (size_t)j.ph * j.pw * j.row + F8_CPU_REQ_SLACK;
	j.m_all = (size_t)n * q->h * q->w;
	split = split && (double)j.m_all * cn->g.cout * cn->g.taps * cn->g.kgroups * k->g >=
				 (double)min_macs;
	threads = split ? f8_par_threads() : 1;
	if (!cn->in_fused)
		items(split && (size_t)n * cn->ih * cn->iw * cn->ic >= min_values, (size_t)n * cn->ih,
		      requant_row, &j);
	/* (tap, group) offsets: a kernel row per tap in row-tap mode; a group is 4 bytes */
	for (y = 0, i = 0; y < kk; y++)
		for (ox = 0; ox < (cn->rowtaps ? 1 : kk); ox++)
			for (gq = 0; gq < cn->g.kgroups; gq++, i++)
				s->toff[i] = (ptrdiff_t)(((size_t)y * j.pw + (size_t)ox) * j.row) + 4 * gq;
	j.nchunks = (j.m_all + (size_t)cn->mc - 1) / (size_t)cn->mc;
	/* one channel group per item, unless the chunks are too few to share out */
	nsteps = (cn->g.nblocks + cn->gk->nbs - 1) / cn->gk->nbs;
	j.ngroups = 1;
	if (threads > 1 && j.nchunks < (size_t)threads * 4) {
		j.ngroups = (int)(((size_t)threads * 4 + j.nchunks - 1) / j.nchunks);
		if (j.ngroups > nsteps)
			j.ngroups = nsteps;
	}
	per = (nsteps + j.ngroups - 1) / j.ngroups;
	j.gblocks = cn->gk->nbs * per;
	j.ngroups = (nsteps + per - 1) / per;
	items(split, j.nchunks * (size_t)j.ngroups, gemm_item, &j);
}

/* ADD: item i, a stretch of 16384 values */
#define ADD_CHUNK 16384

static void add_item(void *ctx, size_t i, int thread)
{
	const struct job *j = ctx;
	const struct f8_qm *m = j->p->m;
	const struct f8_qm_node *q = j->cn->q, *na = &m->nodes[q->in[0]], *nb = &m->nodes[q->in[1]];
	const size_t total = (size_t)j->n * q->c * q->h * q->w, o = i * ADD_CHUNK;

	(void)thread;
	j->p->k->elem->add(j->a + o, q->fl_out - na->fl_out, j->b + o, q->fl_out - nb->fl_out,
			   q->flags & F8_QM_F_RELU, total - o < ADD_CHUNK ? total - o : ADD_CHUNK,
			   j->out + o);
}

static void maxpool_item(void *ctx, size_t i, int thread)
{
	const struct job *j = ctx;
	const struct f8_qm_node *q = j->cn->q;

	(void)thread;
	f8_cpu_maxpool_row(q, &j->p->m->nodes[q->in[0]], i, j->a, j->out,
			   j->p->k->isa != F8_CPU_ISA_PORTABLE);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void f8_cpu_forward(const struct f8_cpu *p, const uint8_t *pixels_hwc, int n, int32_t *logits,
		    void *scratch)
{
	f8_cpu_forward_ex(p, pixels_hwc, n, logits, scratch, NULL);
}

void f8_cpu_forward_ex(const struct f8_cpu *p, const uint8_t *pixels_hwc, int n, int32_t *logits,
		       void *scratch, const struct f8_cpu_opts *o)
{
	double *node_s = o ? o->node_s : NULL;
	const bool split = o && o->split_layers && f8_par_threads() > 1;
	const size_t min_values = o && o->split_min ? o->split_min : SPLIT_MIN_VALUES;
	const size_t min_macs = o && o->split_min ? o->split_min : SPLIT_MIN_MACS;
	double t0 = node_s ? now() : 0;
	const struct f8_qm *m = p->m;
	const size_t slot_bytes = align64((size_t)n * p->slot_elems * 4);
	uint8_t *base = scratch;
	struct scratch s;
	uint32_t i;
	int j;

	/* the same layout f8_cpu_scratch_bytes sized, for n images */
	for (j = 0; j < p->nslots; j++)
		s.slot[j] = (int32_t *)(void *)(base + (size_t)j * slot_bytes);
	base += (size_t)p->nslots * slot_bytes;
	for (j = 0; j < p->ncslots; j++)
		s.code[j] = base + (size_t)j * align64((size_t)n * p->req_bytes);
	base += (size_t)p->ncslots * align64((size_t)n * p->req_bytes);
	s.toff = (ptrdiff_t *)(void *)base;
	base += align64(p->max_taps * sizeof(ptrdiff_t));
	s.acc = (int64_t *)(void *)base;

	for (i = 0; i < m->nnodes; i++) {
		const struct f8_cpu_node *cn = &p->nodes[i];
		const struct f8_qm_node *q = cn->q;
		int32_t *out = s.slot[cn->slot];
		const int32_t *a = q->in[0] >= 0 ? s.slot[p->nodes[q->in[0]].slot] : NULL;
		const size_t total = (size_t)n * elems(q);

		switch (q->op) {
		case F8_QM_INPUT: {
			size_t e;

			for (e = 0; e < total; e++)
				out[e] = pixels_hwc[e];
			break;
		}
		case F8_QM_CONV:
		case F8_QM_LINEAR:
			if (q->flags & F8_QM_F_DEPTHWISE) {
				const struct f8_qm_node *in = &m->nodes[q->in[0]];
				uint8_t *x = s.code[cn->cslot];

				p->k->elem->requant(a, (size_t)n * in->h * in->w, in->c, in->c, cn->shift,
						    q->flags & F8_QM_F_SIGNED, 0, 2, x);
				f8_cpu_depthwise(cn, in, n, (const int16_t *)(const void *)x, s.acc, out);
			} else {
				run_gemm(p, cn, n, a, out, &s, split, min_macs, min_values);
			}
			break;
		case F8_QM_ADD: {
			struct job jb = { .p = p, .cn = cn, .n = n, .a = a, .out = out,
					 .b = s.slot[p->nodes[q->in[1]].slot] };

			if (!cn->fused_add) /* else computed by the node before */
				items(split && total >= min_values, (total + ADD_CHUNK - 1) / ADD_CHUNK,
				      add_item, &jb);
			break;
		}
		case F8_QM_MAXPOOL: {
			struct job jb = { .p = p, .cn = cn, .n = n, .a = a, .out = out };

			items(split && total >= min_values, (size_t)n * q->h, maxpool_item, &jb);
			break;
		}
		case F8_QM_SUMPOOL:
			f8_cpu_pool(q, &m->nodes[q->in[0]], n, a, s.acc, out);
			break;
		default:
			break;
		}
		if (node_s) {
			const double t1 = now();

			node_s[i] += t1 - t0;
			t0 = t1;
		}
	}
	memcpy(logits, s.slot[p->nodes[m->nnodes - 1].slot], sizeof(int32_t) * m->classes * (size_t)n);
}
