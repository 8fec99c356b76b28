// SPDX-License-Identifier: MIT
/*
 * The forward pass of the CPU backend: node by node over a batch of images, each node's
 * int32 output in its plan slot as [image][h][w][c], the semantics of f8_qm_forward.
 */
#include <string.h>

#include "f8-cpu-impl.h"

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
	uint8_t *req;
	const uint8_t **rows;
	ptrdiff_t *toff;
	int64_t *acc;
};

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
 * Requantize the input once into a padded image per batch entry (the border is the code of
 * 0, what an absent tap contributes), then run the kernel over tiles of MR output pixels:
 * each pixel's window starts at (oy * stride, ox * stride) of the padded image.
 */
static void run_gemm(const struct f8_cpu *p, const struct f8_cpu_node *cn, int n,
		     const int32_t *in, int32_t *out, const struct scratch *s)
{
	const struct f8_cpu_kern *k = p->k;
	const struct f8_qm_node *q = cn->q;
	const bool sgn = q->flags & F8_QM_F_SIGNED;
	const int off = sgn ? 128 : 0, mr = k->mr;
	const bool lin = q->op == F8_QM_LINEAR;
	const int kk = lin ? 1 : q->k, stride = lin ? 1 : q->stride, pad = lin ? 0 : q->pad;
	const int oh = q->h, ow = q->w, ph = cn->ih + 2 * pad, pw = cn->iw + 2 * pad;
	const size_t row = (size_t)cn->cpad * k->esize, img = (size_t)ph * pw * row;
	const size_t m_all = (size_t)n * oh * ow;
	size_t m0, b;
	int i, y, oy, ox;

	for (b = 0; b < (size_t)n; b++) {
		uint8_t *d = s->req + b * img;

		if (pad) {
			fill_codes(d, (size_t)pad * pw * cn->cpad, off, k->esize);
			fill_codes(d + (size_t)(pad + cn->ih) * pw * row, (size_t)pad * pw * cn->cpad, off,
				   k->esize);
		}
		for (y = 0; y < cn->ih; y++) {
			uint8_t *r = d + ((size_t)(y + pad) * pw) * row;

			if (pad) {
				fill_codes(r, (size_t)pad * cn->cpad, off, k->esize);
				fill_codes(r + (size_t)(pad + cn->iw) * row, (size_t)pad * cn->cpad, off,
					   k->esize);
			}
			k->elem->requant(in + ((b * cn->ih + (size_t)y) * cn->iw) * cn->ic, (size_t)cn->iw,
					 cn->ic, cn->cpad, cn->shift, sgn, off, k->esize,
					 r + (size_t)pad * row);
		}
	}
	for (y = 0, i = 0; y < kk; y++)
		for (ox = 0; ox < kk; ox++, i++)
			s->toff[i] = (ptrdiff_t)(((size_t)y * pw + (size_t)ox) * row);
	/* (b, oy, ox): the next output pixel, stepped instead of divided */
	for (m0 = 0, b = 0, oy = 0, ox = 0; m0 < m_all; m0 += (size_t)mr) {
		const int rows = m_all - m0 < (size_t)mr ? (int)(m_all - m0) : mr;

		for (i = 0; i < rows; i++) {
			s->rows[i] = s->req + b * img +
				     ((size_t)oy * stride * pw + (size_t)ox * stride) * row;
			if (++ox == ow) {
				ox = 0;
				if (++oy == oh) {
					oy = 0;
					b++;
				}
			}
		}
		for (; i < mr; i++) /* computed, never stored */
			s->rows[i] = s->rows[0];
		k->gemm(&cn->g, s->rows, s->toff, rows, out + m0 * (size_t)cn->g.cout);
	}
}

void f8_cpu_forward(const struct f8_cpu *p, const uint8_t *pixels_hwc, int n, int32_t *logits,
		    void *scratch)
{
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
	s.req = base;
	base += align64((size_t)n * p->req_bytes);
	s.rows = (const uint8_t **)(void *)base;
	base += align64(F8_CPU_MR_MAX * sizeof(void *));
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

				p->k->elem->requant(a, (size_t)n * in->h * in->w, in->c, in->c, cn->shift,
						    q->flags & F8_QM_F_SIGNED, 0, 2, s.req);
				f8_cpu_depthwise(cn, in, n, (const int16_t *)(const void *)s.req, s.acc,
						 out);
			} else {
				run_gemm(p, cn, n, a, out, &s);
			}
			break;
		case F8_QM_ADD: {
			const struct f8_qm_node *na = &m->nodes[q->in[0]], *nb = &m->nodes[q->in[1]];

			p->k->elem->add(a, q->fl_out - na->fl_out, s.slot[p->nodes[q->in[1]].slot],
					q->fl_out - nb->fl_out, q->flags & F8_QM_F_RELU, total, out);
			break;
		}
		case F8_QM_MAXPOOL:
		case F8_QM_SUMPOOL:
			f8_cpu_pool(q, &m->nodes[q->in[0]], n, a, s.acc, out);
			break;
		default:
			break;
		}
	}
	memcpy(logits, s.slot[p->nodes[m->nnodes - 1].slot], sizeof(int32_t) * m->classes * (size_t)n);
}
