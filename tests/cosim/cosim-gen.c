// SPDX-License-Identifier: MIT
/*
 * Random valid jobs: layers biased to small shapes whose channel counts
 * straddle the array sizes, every operation and flag, strided layouts
 * (gaps, broadcast and overlapping input strides, junk strides of size-1
 * dimensions), regions at random indices sharing buffers, and streams whose
 * descriptors chain outputs into inputs or overwrite older operands.
 *
 * A layer's estimated cost (docs/isa.md §7 with the configuration's array)
 * is bounded so that the RTL run stays short.
 */
#include <stdlib.h>
#include <string.h>

#include "cosim.h"

#define GEN_MAX_FILLS 96u
#define GEN_MAX_TENSORS 64u

void cs_rng_case(struct cs_rng *r, uint64_t seed, uint32_t idx)
{
	r->s = seed * 0x2545f4914f6cdd1dull ^ ((uint64_t)idx + 1) * 0xd1b54a32d192ed03ull;
	cs_rand(r);
}

uint64_t cs_extent(const struct f8npu_tensor_ref *t)
{
	uint64_t n = t->n ? t->n - 1u : 0, h = t->h ? t->h - 1u : 0, w = t->w ? t->w - 1u : 0;

	return n * t->stride_n + h * t->stride_h + w * t->stride_w +
	       (uint64_t)t->c * f8npu_type_size(t->type);
}

/* ---- data ---- */

void cs_fill_bytes(struct cs_rng *r, uint8_t *p, uint64_t n)
{
	static const uint8_t edge[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff };
	uint64_t i = 0;

	while (i < n) {
		uint64_t run = 16 + cs_below(r, 240), end = i + run < n ? i + run : n;
		unsigned int mode = cs_below(r, 5);

		for (; i < end; i++) {
			uint64_t v = cs_rand(r);

			switch (mode) {
			case 0: /* extremes: saturation and -128 */
				p[i] = cs_chance(r, 75) ? edge[v % sizeof(edge)] : (uint8_t)(v >> 8);
				break;
			case 1: /* small magnitudes of either sign */
				p[i] = (uint8_t)((int)(v & 0x1f) - 16);
				break;
			default:
				p[i] = (uint8_t)v;
				break;
			}
		}
	}
}

/* An s32 input value: mostly around 2^bits, sometimes huge, extreme, or a rounding tie. */
static int32_t s32_value(struct cs_rng *r, int bits, int tie_shift)
{
	static const int64_t edge[] = { INT32_MIN, INT32_MAX, -INT32_MAX, 0, -1, 1, 1 << 30, -(1 << 30) };
	int64_t v;

	if (bits < 1)
		bits = 1;
	if (bits > 31)
		bits = 31;
	switch (cs_below(r, 20)) {
	case 0:
		return (int32_t)edge[cs_below(r, sizeof(edge) / sizeof(edge[0]))];
	case 1:
	case 2:
		v = cs_range(r, 1 << 24, INT32_MAX);
		return (int32_t)(cs_chance(r, 50) ? -v : v);
	case 3:
	case 4:
	case 5:
		if (tie_shift > 0 && tie_shift < 31) {
			v = cs_range(r, -2000, 2000) * ((int64_t)1 << tie_shift) + ((int64_t)1 << (tie_shift - 1));
			if (v >= INT32_MIN && v <= INT32_MAX)
				return (int32_t)v;
		}
		/* fall through */
	default:
		v = (int64_t)(cs_rand(r) & (((uint64_t)1 << bits) - 1));
		return (int32_t)(cs_chance(r, 50) ? -v : v);
	}
}

/* ---- generator state ---- */

struct gen_fill {
	struct f8npu_tensor_ref t; /* an s32 input (bias: [1][1][1][cout]) */
	int bits;		   /* typical magnitude */
	int tie_shift;		   /* make ties for this right shift (0: none) */
};

struct gen {
	struct cs_rng *r;
	const struct cs_gen_cfg *cfg;
	struct cs_job *job;
	uint64_t cursor[F8NPU_REGIONS]; /* bytes placed so far in each region */
	bool used[F8NPU_REGIONS];
	unsigned int nfill;
	struct gen_fill fill[GEN_MAX_FILLS];
	/* Tensors of earlier descriptors (all streams): chain, aux and overwrite candidates. */
	unsigned int nout, nold;
	struct f8npu_tensor_ref out[GEN_MAX_TENSORS];
	struct f8npu_tensor_ref old[GEN_MAX_TENSORS]; /* inputs and outputs */
};

static void remember(struct gen *g, const struct f8npu_tensor_ref *t, bool output)
{
	if (output && g->nout < GEN_MAX_TENSORS)
		g->out[g->nout++] = *t;
	if (g->nold < GEN_MAX_TENSORS)
		g->old[g->nold++] = *t;
}

static unsigned int pick_region(struct gen *g)
{
	unsigned int r, k, nused = 0;

	for (r = 0; r < F8NPU_REGIONS; r++)
		nused += g->used[r];
	if (nused == 0 || (nused < F8NPU_REGIONS && cs_chance(g->r, 30))) {
		do
			r = cs_below(g->r, F8NPU_REGIONS);
		while (g->used[r]);
		g->used[r] = true;
		g->cursor[r] = cs_chance(g->r, 30) ? cs_below(g->r, 64) : 0;
		return r;
	}
	k = cs_below(g->r, nused);
	for (r = 0; r < F8NPU_REGIONS; r++)
		if (g->used[r] && k-- == 0)
			break;
	return r;
}

/* Fresh bytes for an operand of @extent bytes; returns the offset, sets *region. */
static uint32_t place(struct gen *g, uint8_t *region, uint64_t extent, uint32_t align)
{
	unsigned int r = pick_region(g);
	uint64_t off = g->cursor[r];

	if (cs_chance(g->r, 40))
		off += cs_below(g->r, 24);
	if (cs_chance(g->r, 2))
		off += 65536 + cs_below(g->r, 1u << 18); /* a far offset now and then */
	off = (off + align - 1) / align * align;
	g->cursor[r] = off + extent;
	*region = (uint8_t)r;
	return (uint32_t)off;
}

/* ---- shapes and strides ---- */

static uint16_t pick_c(struct cs_rng *r, bool big)
{
	static const uint16_t c[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40 };
	static const uint16_t cb[] = { 1, 3, 16, 17, 33, 48, 63, 64, 65, 80, 96 };

	if (big)
		return cs_chance(r, 60) ? cb[cs_below(r, sizeof(cb) / sizeof(cb[0]))] : (uint16_t)cs_range(r, 1, 96);
	return cs_chance(r, 65) ? c[cs_below(r, sizeof(c) / sizeof(c[0]))] : (uint16_t)cs_range(r, 1, 40);
}

static uint16_t pick_hw(struct cs_rng *r, bool big)
{
	uint32_t k = cs_below(r, 10);

	if (big)
		return (uint16_t)cs_range(r, 6, 24);
	return (uint16_t)(k < 4 ? cs_range(r, 1, 4) : k < 8 ? cs_range(r, 5, 8) : cs_range(r, 9, 12));
}

static uint8_t pick_type(struct cs_rng *r, bool allow_s32)
{
	return (uint8_t)cs_below(r, allow_s32 ? 3 : 2);
}

static uint32_t gap_bytes(struct cs_rng *r, uint32_t es)
{
	if (cs_chance(r, 70))
		return 0;
	return es * (1 + cs_below(r, cs_chance(r, 80) ? 4 : 24));
}

/* The stride of a size-1 dimension never matters: make it anything (aligned for s32). */
static uint32_t junk_stride(struct cs_rng *r, uint64_t natural, uint32_t es)
{
	switch (cs_below(r, 4)) {
	case 0:
	case 1:
		return (uint32_t)natural;
	case 2:
		return 0;
	default:
		return (uint32_t)cs_rand(r) & ~(es - 1);
	}
}

/* Input strides are free: gaps, broadcast (0) and overlapping steps. */
static void strides_in(struct cs_rng *r, struct f8npu_tensor_ref *t)
{
	uint32_t es = f8npu_type_size(t->type), pix = t->c * es;
	uint64_t row, img;

	if (t->w == 1)
		t->stride_w = junk_stride(r, pix, es);
	else if (cs_chance(r, 8))
		t->stride_w = 0;
	else if (cs_chance(r, 8) && t->c > 1)
		t->stride_w = es * (1 + cs_below(r, t->c - 1u));
	else
		t->stride_w = pix + gap_bytes(r, es);
	row = t->w > 1 ? (uint64_t)(t->w - 1) * t->stride_w + pix : pix;

	if (t->h == 1)
		t->stride_h = junk_stride(r, row, es);
	else if (cs_chance(r, 8))
		t->stride_h = 0;
	else if (cs_chance(r, 8))
		t->stride_h = es * cs_below(r, (uint32_t)(row / es));
	else
		t->stride_h = (uint32_t)row + gap_bytes(r, es);
	img = t->h > 1 ? (uint64_t)(t->h - 1) * t->stride_h + row : row;

	if (t->n == 1)
		t->stride_n = junk_stride(r, img, es);
	else if (cs_chance(r, 10))
		t->stride_n = 0;
	else if (cs_chance(r, 10))
		t->stride_n = es * cs_below(r, (uint32_t)(img / es));
	else
		t->stride_n = (uint32_t)img + gap_bytes(r, es);
}

/* Output strides never let two elements share a byte (isa.md §2). */
static void strides_out(struct cs_rng *r, struct f8npu_tensor_ref *t)
{
	uint32_t es = f8npu_type_size(t->type), pix = t->c * es;
	uint64_t row, img;

	t->stride_w = t->w > 1 ? pix + gap_bytes(r, es) : junk_stride(r, pix, es);
	row = t->w > 1 ? (uint64_t)(t->w - 1) * t->stride_w + pix : pix;
	t->stride_h = t->h > 1 ? (uint32_t)row + gap_bytes(r, es) : junk_stride(r, row, es);
	img = t->h > 1 ? (uint64_t)(t->h - 1) * t->stride_h + row : row;
	t->stride_n = t->n > 1 ? (uint32_t)img + gap_bytes(r, es) : junk_stride(r, img, es);
}

static void set_shape(struct f8npu_tensor_ref *t, uint16_t n, uint16_t h, uint16_t w, uint16_t c,
		      uint8_t type)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	t->h = h;
	t->w = w;
	t->c = c;
	t->type = type;
}

static bool same_shape(const struct f8npu_tensor_ref *a, const struct f8npu_tensor_ref *b)
{
	return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/* ---- layers ---- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static uint64_t tbytes(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)t->n * t->h * t->w * t->c * f8npu_type_size(t->type);
}

/* Estimated cycles of a compute descriptor (isa.md §7, B = 16, L = 64), its fetch included. */
static uint64_t est_cost(const struct gen *g, const struct f8npu_desc *d, const struct f8npu_tensor_ref *out)
{
	uint64_t rows = g->cfg->rows, cols = g->cfg->cols;
	uint64_t pixels = (uint64_t)out->n * out->h * out->w, window = (uint64_t)d->kernel_h * d->kernel_w;
	uint64_t src = tbytes(&d->src), compute, bytes, dma;
	bool dw = d->flags & F8NPU_FLAG_DEPTHWISE;

	switch (d->opcode) {
	case F8NPU_OP_CONV2D:
		if (dw) {
			compute = pixels * ceil_div(window, rows) * ceil_div(out->c, cols);
			bytes = src + out->c * window;
		} else {
			compute = pixels * window * ceil_div(d->src.c, rows) * ceil_div(out->c, cols);
			bytes = src * ceil_div(out->c, cols) + out->c * window * d->src.c;
		}
		break;
	case F8NPU_OP_POOL_MAX:
	case F8NPU_OP_POOL_SUM:
		compute = pixels * window * ceil_div(d->src.c, cols);
		bytes = src;
		break;
	default:
		compute = pixels * ceil_div(d->src.c, cols);
		bytes = src;
		break;
	}
	/* aux, dst[1] and bias are not known yet: count them as two more outputs */
	bytes += 3 * tbytes(out);
	dma = 64 + ceil_div(bytes, 16);
	return 80 + (compute > dma ? compute : dma);
}

static uint8_t pick_kernel(struct cs_rng *r)
{
	static const uint8_t k[] = { 1, 1, 2, 3, 3, 3, 4, 5, 7 };

	return cs_chance(r, 70) ? k[cs_below(r, sizeof(k))] : (uint8_t)cs_range(r, 1, 7);
}

static uint8_t pick_pad(struct cs_rng *r, uint8_t k)
{
	if (k == 1 || cs_chance(r, 50))
		return 0;
	return cs_chance(r, 60) ? (uint8_t)((k - 1) / 2) : (uint8_t)cs_below(r, k);
}

static uint8_t pick_stride(struct cs_rng *r)
{
	return cs_chance(r, 50) ? 1 : (uint8_t)cs_range(r, 1, 3);
}

/* Window geometry over an H x W input; @whole: the kernel is the whole input (FC, global pool). */
static void gen_window(struct cs_rng *r, struct f8npu_desc *d, uint32_t h, uint32_t w, bool whole)
{
	if (whole) {
		d->kernel_h = (uint8_t)h;
		d->kernel_w = (uint8_t)w;
		d->stride_h = pick_stride(r);
		d->stride_w = pick_stride(r);
		return;
	}
	d->kernel_h = pick_kernel(r);
	d->kernel_w = cs_chance(r, 70) ? d->kernel_h : pick_kernel(r);
	d->stride_h = pick_stride(r);
	d->stride_w = cs_chance(r, 70) ? d->stride_h : pick_stride(r);
	d->pad_top = pick_pad(r, d->kernel_h);
	d->pad_bottom = cs_chance(r, 70) ? d->pad_top : pick_pad(r, d->kernel_h);
	d->pad_left = pick_pad(r, d->kernel_w);
	d->pad_right = cs_chance(r, 70) ? d->pad_left : pick_pad(r, d->kernel_w);
	/* The window must fit the padded input; a smaller kernel stays above the pads. */
	if (h + d->pad_top + d->pad_bottom < d->kernel_h)
		d->kernel_h = (uint8_t)(h + d->pad_top + d->pad_bottom);
	if (w + d->pad_left + d->pad_right < d->kernel_w)
		d->kernel_w = (uint8_t)(w + d->pad_left + d->pad_right);
}

static uint32_t win_out(uint32_t in, uint32_t k, uint32_t s, uint32_t p0, uint32_t p1)
{
	return (in + p0 + p1 - k) / s + 1;
}

static int ilog2(uint64_t v)
{
	int b = 0;

	while (v > 1) {
		v >>= 1;
		b++;
	}
	return b;
}

static int type_bits(uint8_t type)
{
	return type == F8NPU_TYPE_S32 ? 20 : 8;
}

static int8_t pick_shift(struct cs_rng *r, int bits, uint8_t out_type)
{
	int s;

	if (cs_chance(r, 15))
		return (int8_t)cs_range(r, -31, 31);
	if (out_type == F8NPU_TYPE_S32 && cs_chance(r, 60))
		s = (int)cs_range(r, -2, 4);
	else
		s = bits - (out_type == F8NPU_TYPE_U8 ? 8 : out_type == F8NPU_TYPE_S8 ? 7 : 31) +
		    (int)cs_range(r, -3, 3);
	return (int8_t)(s < -31 ? -31 : s > 31 ? 31 : s);
}

static uint8_t pick_align(struct cs_rng *r)
{
	uint32_t k = cs_below(r, 20);

	return (uint8_t)(k < 13 ? 0 : k < 18 ? cs_range(r, 1, 6) : cs_range(r, 0, 31));
}

/* An output tensor of shape @shape and type @type: fresh bytes, or over an older operand. */
static void place_output(struct gen *g, struct f8npu_tensor_ref *t, const struct f8npu_desc *d,
			 const struct f8npu_tensor_ref *other_out)
{
	uint32_t es = f8npu_type_size(t->type);
	uint64_t ext;

	strides_out(g->r, t);
	ext = cs_extent(t);
	if (g->nold && cs_chance(g->r, 20)) {
		const struct f8npu_tensor_ref *o = &g->old[cs_below(g->r, g->nold)];
		uint64_t off = ((uint64_t)o->offset + es - 1) / es * es;
		const struct f8npu_tensor_ref *in[3] = { &d->src, (d->flags & F8NPU_FLAG_AUX) ? &d->aux : NULL,
							  other_out };
		bool clash = false;
		unsigned int i;

		for (i = 0; i < 3; i++) {
			if (!in[i])
				continue;
			if (in[i]->region == o->region && off < in[i]->offset + cs_extent(in[i]) &&
			    in[i]->offset < off + ext)
				clash = true;
		}
		/* Weights and bias were placed with their own cursor: compare them too. */
		if (d->opcode == F8NPU_OP_CONV2D) {
			uint64_t k = (uint64_t)d->kernel_h * d->kernel_w *
				     ((d->flags & F8NPU_FLAG_DEPTHWISE) ? 1 : d->src.c);
			uint64_t cout = d->dst[0].c;

			if (d->weights.region == o->region && off < d->weights.offset + cout * k &&
			    d->weights.offset < off + ext)
				clash = true;
			if ((d->flags & F8NPU_FLAG_BIAS) && d->bias.region == o->region &&
			    off < d->bias.offset + cout * 4 && d->bias.offset < off + ext)
				clash = true;
		}
		if (!clash && off <= UINT32_MAX) {
			t->region = o->region;
			t->offset = (uint32_t)off;
			if (g->cursor[o->region] < off + ext)
				g->cursor[o->region] = off + ext;
			return;
		}
	}
	t->offset = place(g, &t->region, ext, es);
}

static void add_fill(struct gen *g, const struct f8npu_tensor_ref *t, int bits, int tie_shift)
{
	if (g->nfill < GEN_MAX_FILLS)
		g->fill[g->nfill++] = (struct gen_fill){ *t, bits, tie_shift };
}

static uint8_t pick_op(struct cs_rng *r, bool conv_ok)
{
	uint32_t k = cs_below(r, 100);

	if (k < 42 && conv_ok)
		return F8NPU_OP_CONV2D;
	if (k < 60)
		return F8NPU_OP_ADD;
	return k < 80 ? F8NPU_OP_POOL_MAX : F8NPU_OP_POOL_SUM;
}

/*
 * One valid compute descriptor. @chain: its src is that earlier output (NULL: a
 * fresh input). Returns the estimated cycles.
 */
static uint64_t gen_compute(struct gen *g, struct f8npu_desc *d, const struct f8npu_tensor_ref *chain)
{
	struct cs_rng *r = g->r;
	struct f8npu_tensor_ref out;
	uint64_t cost = 0, k = 0;
	unsigned int tries;
	int bits, i;
	bool dw = false;

	for (tries = 0;; tries++) {
		bool conv_ok = !chain || chain->type != F8NPU_TYPE_S32;
		bool small = tries >= 10, big = g->cfg->big && tries < 5;

		*d = f8npu_desc_zero(tries >= 40 ? F8NPU_OP_ADD : pick_op(r, conv_ok));
		if (chain) {
			d->src = *chain;
		} else {
			set_shape(&d->src, cs_chance(r, 15) ? 2 : 1, small ? (uint16_t)cs_range(r, 1, 4) : pick_hw(r, big),
				  small ? (uint16_t)cs_range(r, 1, 4) : pick_hw(r, big),
				  small ? (uint16_t)cs_range(r, 1, 8) : pick_c(r, big),
				  pick_type(r, d->opcode != F8NPU_OP_CONV2D));
			if (d->opcode == F8NPU_OP_CONV2D && cs_chance(r, 8))
				d->src.h = d->src.w = 1; /* 1 x 1 conv on [N][1][1][Cin]: FC */
			else if (!small && cs_chance(r, 4)) {
				/* A wide image: wider than the RTL's row buffer (256 columns), so
				 * the engine tiles its output rows (and a depthwise conv leaves
				 * its fast line-buffer path, docs/rtl.md). */
				d->src.h = (uint16_t)cs_range(r, 1, 4);
				d->src.w = (uint16_t)cs_range(r, 200, 300);
			}
		}
		out = d->src;
		dw = false;
		if (d->opcode != F8NPU_OP_ADD) {
			bool whole = cs_chance(r, d->opcode == F8NPU_OP_CONV2D ? 12 : 10);

			gen_window(r, d, d->src.h, d->src.w, whole);
			out.h = (uint16_t)win_out(d->src.h, d->kernel_h, d->stride_h, d->pad_top, d->pad_bottom);
			out.w = (uint16_t)win_out(d->src.w, d->kernel_w, d->stride_w, d->pad_left, d->pad_right);
		}
		if (d->opcode == F8NPU_OP_CONV2D) {
			dw = cs_chance(r, 35);
			if (dw)
				d->flags |= F8NPU_FLAG_DEPTHWISE;
			else
				out.c = small ? (uint16_t)cs_range(r, 1, 8) : pick_c(r, big);
		}
		cost = est_cost(g, d, &out);
		if (cost <= g->cfg->max_desc_cycles || tries >= 40)
			break;
	}

	/* Flags. */
	if (d->opcode == F8NPU_OP_CONV2D && cs_chance(r, 50))
		d->flags |= F8NPU_FLAG_BIAS;
	if (cs_chance(r, 35))
		d->flags |= F8NPU_FLAG_AUX;
	if (cs_chance(r, 40))
		d->flags |= F8NPU_FLAG_RELU;
	if (cs_chance(r, 30))
		d->flags |= F8NPU_FLAG_DST1;

	/* Operands: src, weights, bias, aux, then the outputs. */
	if (!chain) {
		strides_in(r, &d->src);
		d->src.offset = place(g, &d->src.region, cs_extent(&d->src), f8npu_type_size(d->src.type));
	}
	if (d->opcode == F8NPU_OP_CONV2D) {
		k = (uint64_t)d->kernel_h * d->kernel_w * (dw ? 1 : d->src.c);
		d->weights.offset = place(g, &d->weights.region, out.c * k, 1);
		if (d->flags & F8NPU_FLAG_BIAS)
			d->bias.offset = place(g, &d->bias.region, (uint64_t)out.c * 4, 4);
	}
	if (d->flags & F8NPU_FLAG_AUX) {
		unsigned int cand[GEN_MAX_TENSORS], nc = 0, j;

		for (j = 0; j < g->nold; j++)
			if (same_shape(&g->old[j], &out))
				cand[nc++] = j;
		if (nc && cs_chance(r, 50)) {
			d->aux = g->old[cand[cs_below(r, nc)]];
		} else {
			set_shape(&d->aux, out.n, out.h, out.w, out.c, pick_type(r, true));
			strides_in(r, &d->aux);
			d->aux.offset = place(g, &d->aux.region, cs_extent(&d->aux), f8npu_type_size(d->aux.type));
		}
		d->align_aux = pick_align(r);
	}
	set_shape(&d->dst[0], out.n, out.h, out.w, out.c, pick_type(r, true));
	place_output(g, &d->dst[0], d, NULL);
	if (d->flags & F8NPU_FLAG_DST1) {
		set_shape(&d->dst[1], out.n, out.h, out.w, out.c, pick_type(r, true));
		place_output(g, &d->dst[1], d, &d->dst[0]);
	}

	/* Epilogue: shifts aimed at the typical magnitude, sometimes anywhere. */
	switch (d->opcode) {
	case F8NPU_OP_CONV2D:
		bits = (ilog2(k) + 1) / 2 + 13;
		break;
	case F8NPU_OP_POOL_SUM:
		bits = type_bits(d->src.type) + ilog2((uint64_t)d->kernel_h * d->kernel_w);
		break;
	default:
		bits = type_bits(d->src.type);
		break;
	}
	d->align_src = pick_align(r);
	bits += d->align_src;
	if ((d->flags & F8NPU_FLAG_AUX) && type_bits(d->aux.type) + d->align_aux > bits)
		bits = type_bits(d->aux.type) + d->align_aux;
	d->out_shift[0] = pick_shift(r, bits, d->dst[0].type);
	if (d->flags & F8NPU_FLAG_DST1)
		d->out_shift[1] = pick_shift(r, bits, d->dst[1].type);

	/* Structured s32 values for fresh s32 inputs and the bias. */
	if (!chain && d->src.type == F8NPU_TYPE_S32)
		add_fill(g, &d->src, 20, d->out_shift[0] - d->align_src);
	if ((d->flags & F8NPU_FLAG_AUX) && d->aux.type == F8NPU_TYPE_S32)
		add_fill(g, &d->aux, 20, d->out_shift[0] - d->align_aux);
	if (d->flags & F8NPU_FLAG_BIAS) {
		struct f8npu_tensor_ref b;

		set_shape(&b, 1, 1, 1, out.c, F8NPU_TYPE_S32);
		b.region = d->bias.region;
		b.offset = d->bias.offset;
		b.stride_n = b.stride_h = b.stride_w = out.c * 4u;
		add_fill(g, &b, bits - d->align_src, 0);
	}

	/* Later descriptors may read or overwrite these. */
	if (!chain)
		remember(g, &d->src, false);
	if ((d->flags & F8NPU_FLAG_AUX))
		remember(g, &d->aux, false);
	for (i = 0; i < ((d->flags & F8NPU_FLAG_DST1) ? 2 : 1); i++)
		remember(g, &d->dst[i], true);
	return cost;
}

static void gen_stream(struct gen *g, struct cs_stream *s, unsigned int ncompute)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (ncompute > CS_MAX_COMPUTE)
		ncompute = CS_MAX_COMPUTE;
	for (i = 0; i < ncompute; i++) {
		const struct f8npu_tensor_ref *chain = NULL;

		if (g->nout && cs_chance(g->r, 60))
			chain = &g->out[cs_chance(g->r, 60) ? g->nout - 1 : cs_below(g->r, g->nout)];
		g->job->est_cycles += gen_compute(g, &s->d[i], chain);
	}
	s->ncompute = ncompute;
	s->d[i++] = f8npu_desc_zero(F8NPU_OP_END);
	/* Now and then a descriptor after END that must never run (nor be prefetched into a fault). */
	if (cs_chance(g->r, 10)) {
		uint8_t *raw = (uint8_t *)&s->d[i++];
		unsigned int b;

		for (b = 0; b < sizeof(struct f8npu_desc); b++)
			raw[b] = (uint8_t)cs_rand(g->r);
	}
	s->ndesc = i;
	s->hdr = f8npu_header_make(i);
	s->cmd_size = F8NPU_CMD_HEADER_SIZE + i * F8NPU_CMD_DESC_SIZE +
		      (cs_chance(g->r, 60) ? 0 : cs_below(g->r, 300));
	s->stored = s->cmd_size;
	s->tail = cs_chance(g->r, 75) ? i : i + cs_below(g->r, 5);
	s->off = cs_chance(g->r, 50) ? 0 : 4 * cs_below(g->r, 32);
	g->job->est_cycles += 100 + 80 * i;
}

int cs_job_add_buf(struct cs_rng *r, struct cs_job *job, uint64_t size)
{
	int b;

	if (job->nbufs >= CS_MAX_BUFS)
		return -1;
	b = (int)job->nbufs++;
	job->buf_size[b] = size;
	job->image[b] = malloc(size ? size : 1);
	if (!job->image[b])
		abort();
	cs_fill_bytes(r, job->image[b], size);
	return b;
}

/* Write structured s32 values into the elements of @f (buffers are laid out). */
static void apply_fill(struct gen *g, const struct gen_fill *f)
{
	const struct f8npu_tensor_ref *t = &f->t;
	const struct cs_region *reg = &g->job->reg[t->region];
	uint8_t *base = g->job->image[reg->buf] + reg->off + t->offset;
	unsigned int i, y, x, c;

	for (i = 0; i < t->n; i++)
		for (y = 0; y < t->h; y++)
			for (x = 0; x < t->w; x++)
				for (c = 0; c < t->c; c++) {
					uint64_t o = (uint64_t)i * t->stride_n + (uint64_t)y * t->stride_h +
						     (uint64_t)x * t->stride_w + (uint64_t)c * 4;
					uint32_t v = (uint32_t)s32_value(g->r, f->bits, f->tie_shift);

					memcpy(base + o, &v, 4);
				}
}

/*
 * Lay the regions out in buffers: each region gets its own buffer or follows
 * the previous one in the same buffer; each stream gets a buffer; the buffer
 * order is shuffled so that streams are not always first or last.
 */
static void layout(struct gen *g)
{
	struct cs_job *job = g->job;
	int owner[CS_MAX_BUFS]; /* >= 0: first region of a group; < 0: -1 - stream */
	int group_of[F8NPU_REGIONS], order[F8NPU_REGIONS];
	unsigned int nown = 0, nreg = 0, i, j;
	uint64_t len[CS_MAX_BUFS] = { 0 };

	for (i = 0; i < F8NPU_REGIONS; i++)
		if (g->used[i])
			order[nreg++] = (int)i;
	for (i = nreg; i > 1; i--) { /* shuffle the regions */
		int t;

		j = cs_below(g->r, i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < nreg; i++) {
		if (i == 0 || !cs_chance(g->r, 30))
			owner[nown++] = order[i];
		group_of[order[i]] = (int)nown - 1;
	}
	for (i = 0; i < job->nstreams; i++)
		owner[nown++] = -1 - (int)i;
	for (i = nown; i > 1; i--) { /* shuffle the buffers */
		int t;

		j = cs_below(g->r, i);
		t = owner[i - 1];
		owner[i - 1] = owner[j];
		owner[j] = t;
	}
	/* Buffer of each group / stream; regions in their order inside a group. */
	for (i = 0; i < nown; i++) {
		if (owner[i] < 0) {
			job->s[-1 - owner[i]].buf = (int)i;
			continue;
		}
		for (j = 0; j < nreg; j++) {
			int rr = order[j];
			struct cs_region *reg = &job->reg[rr];

			if (group_of[rr] != group_of[owner[i]])
				continue;
			reg->on = true;
			reg->buf = (int)i;
			reg->off = len[i] ? (len[i] + 3 + cs_below(g->r, 32)) & ~3ull
					  : (cs_chance(g->r, 30) ? 4 * cs_below(g->r, 16) : 0);
			reg->size = g->cursor[rr] + (cs_chance(g->r, 50) ? 0 : cs_below(g->r, 64));
			if (reg->size == 0)
				reg->size = 1;
			len[i] = reg->off + reg->size;
		}
	}
	job->nbufs = nown;
	for (i = 0; i < nown; i++) {
		if (owner[i] < 0) { /* stream buffers get their bytes in cs_job_seal() */
			job->buf_size[i] = 0;
			job->image[i] = NULL;
			continue;
		}
		job->buf_size[i] = len[i] + (cs_chance(g->r, 50) ? 0 : cs_below(g->r, 64));
		job->image[i] = malloc(job->buf_size[i]);
		if (!job->image[i])
			abort();
		cs_fill_bytes(g->r, job->image[i], job->buf_size[i]);
	}
	for (i = 0; i < g->nfill; i++)
		apply_fill(g, &g->fill[i]);
}

void cs_gen_job(struct cs_rng *r, const struct cs_gen_cfg *cfg, unsigned int nstreams,
		unsigned int ncompute, struct cs_job *job)
{
	struct gen *g = calloc(1, sizeof(*g));
	unsigned int s;

	if (!g)
		abort();
	memset(job, 0, sizeof(*job));
	g->r = r;
	g->cfg = cfg;
	g->job = job;
	if (nstreams > CS_MAX_STREAMS)
		nstreams = CS_MAX_STREAMS;
	job->nstreams = nstreams;
	for (s = 0; s < nstreams; s++)
		gen_stream(g, &job->s[s], s == 0 ? ncompute : 1 + cs_below(r, ncompute + 1));
	layout(g);
	free(g);
}

void cs_job_seal(struct cs_rng *r, struct cs_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nstreams; i++) {
		struct cs_stream *s = &job->s[i];
		uint64_t full = F8NPU_CMD_HEADER_SIZE + (uint64_t)s->ndesc * F8NPU_CMD_DESC_SIZE;
		uint64_t len = full > s->stored ? full : s->stored, size, n;
		uint8_t *bytes = malloc(len);

		if (!bytes)
			abort();
		memcpy(bytes, &s->hdr, sizeof(s->hdr));
		memcpy(bytes + F8NPU_CMD_HEADER_SIZE, s->d, (size_t)s->ndesc * F8NPU_CMD_DESC_SIZE);
		cs_fill_bytes(r, bytes + full, len - full); /* junk after the last descriptor */
		size = s->buf_len ? s->buf_len : s->off + s->stored + (cs_chance(r, 50) ? 0 : cs_below(r, 64));
		if (size == 0)
			size = 1;
		free(job->image[s->buf]);
		job->buf_size[s->buf] = size;
		job->image[s->buf] = malloc(size);
		if (!job->image[s->buf])
			abort();
		cs_fill_bytes(r, job->image[s->buf], size);
		if (s->off < size) {
			n = size - s->off < s->stored ? size - s->off : s->stored;
			memcpy(job->image[s->buf] + s->off, bytes, n);
		}
		free(bytes);
	}
}

void cs_job_free(struct cs_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nbufs; i++) {
		free(job->image[i]);
		job->image[i] = NULL;
	}
	job->nbufs = 0;
}
