// SPDX-License-Identifier: MIT
/*
 * Pass 4 of the compiler: tiles and descriptors. A logical operation is cut into output-
 * channel tiles whose weights fit the device's weight buffer (a multiple of the array's
 * columns when more than one group fits), and each of those into row tiles whose input
 * rows (one image) fit the input buffer; channel tiles outside, rows inside, so each
 * weight tile is fetched once per job. Every tile computes exactly the outputs the whole
 * operation would: a tile's window sees the same present inputs (its padding is the
 * original padding where the tile touches the border, none inside), and a channel tile
 * reads its own weights, bias and aux. Each descriptor is then checked with the device's
 * own validation (sim/f8npu_validate.c) and priced with its cost model.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-cc-impl.h"
#include "f8npu_arith.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_validate.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the stream is written as host structs: the ABI is little-endian"
#endif

struct cc_out {
	struct f8npu_desc *d;
	struct f8_cc_desc_info *info;
	uint32_t n, cap;
};

static struct f8npu_desc *next_desc(struct cc_out *w, const struct cc_op *o)
{
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? 2 * w->cap : 64;
		struct f8npu_desc *d = realloc(w->d, sizeof(*d) * cap);
		struct f8_cc_desc_info *in;

		if (!d)
			return NULL;
		w->d = d;
		in = realloc(w->info, sizeof(*in) * cap);
		if (!in)
			return NULL;
		w->info = in;
		w->cap = cap;
	}
	memset(&w->d[w->n], 0, sizeof(w->d[0]));
	memset(&w->info[w->n], 0, sizeof(w->info[0]));
	w->info[w->n].node = o ? o->out : -1;
	snprintf(w->info[w->n].name, sizeof(w->info[0].name), "%s", o ? o->name : "end");
	return &w->d[w->n++];
}

/* Rows [y0, y0 + rows) and channels [c0, c0 + nc) of buffer @b, all images. */
static void tref(const struct cc *cc, struct f8npu_tensor_ref *t, int32_t b, uint32_t y0,
		 uint32_t rows, uint32_t c0, uint32_t nc)
{
	const struct f8_cc_buf *B = &cc->bufs[b];
	const struct f8_qm_node *N = &cc->m->nodes[B->node];
	const uint32_t es = f8npu_type_size(B->type);

	t->region = B->region;
	t->type = B->type;
	t->stride_w = es * N->c;
	t->stride_h = t->stride_w * N->w;
	t->stride_n = t->stride_h * N->h;
	t->offset = (uint32_t)(B->offset + (uint64_t)y0 * t->stride_h + (uint64_t)c0 * es);
	t->n = (uint16_t)cc->batch;
	t->h = (uint16_t)rows;
	t->w = N->w;
	t->c = (uint16_t)nc;
}

struct cc_tiling {
	bool conv, g1, win;
	uint32_t H, W, Cs, Ho, C, es, tc, tr;
	uint32_t tcmax; /* the widest channel tile whose weights fit the weight buffer */
	uint64_t per;   /* weights per output channel */
};

static uint64_t in_rows(const struct cc_op *o, const struct cc_tiling *t, uint64_t tr)
{
	uint64_t r;

	if (!t->win)
		return tr;
	r = (tr - 1) * o->stride + o->kh;
	return r < t->H ? r : t->H;
}

/* The device's limits for @o: what is refused, and the widest channel tile. */
static int limits(struct cc *cc, const struct cc_op *o, struct cc_tiling *t)
{
	const struct f8_be_caps *c = &cc->caps;
	const struct f8_qm_node *S = &cc->m->nodes[cc->bufs[o->src].node];
	const struct f8_qm_node *O = &cc->m->nodes[o->out];
	const uint32_t id = (uint32_t)o->node;

	t->conv = o->opcode == F8NPU_OP_CONV2D;
	t->g1 = t->conv && !(o->flags & F8NPU_FLAG_DEPTHWISE);
	t->win = o->opcode != F8NPU_OP_ADD;
	t->H = S->h;
	t->W = S->w;
	t->Cs = S->c;
	t->Ho = O->h;
	t->C = O->c;
	t->es = f8npu_type_size(cc->bufs[o->src].type);
	t->per = t->conv ? (uint64_t)o->kh * o->kw * (t->g1 ? t->Cs : 1) : 0;
	if (t->conv && t->per > c->max_k)
		return f8_cc_node_fail(cc, id, "reduction of %llu products longer than the device's max_k %u",
				       (unsigned long long)t->per, c->max_k);
	if (cc->batch > c->max_dim || t->W > c->max_dim || O->w > c->max_dim ||
	    (t->g1 && t->Cs > c->max_dim) || (t->win && o->kh > c->max_dim))
		return f8_cc_node_fail(cc, id,
				       "batch %u, width %u / %u, input channels %u or kernel %u beyond the device's max_dim %u (only rows and output channels are tiled)",
				       cc->batch, t->W, O->w, t->Cs, o->kh, c->max_dim);
	t->tcmax = t->C;
	if (t->conv && t->per * t->tcmax > c->wbuf_bytes) {
		t->tcmax = (uint32_t)(c->wbuf_bytes / t->per);
		if (t->tcmax < 1)
			t->tcmax = 1; /* one channel's weights exceed the buffer: the smallest tile */
	}
	if (t->tcmax > c->max_dim)
		t->tcmax = c->max_dim;
	return F8_OK;
}

/* The most output rows per tile for channel tiles of @tc: input rows (one image) fit ibuf. */
static uint32_t rows_for(const struct cc *cc, const struct cc_op *o, const struct cc_tiling *t,
			 uint32_t tc)
{
	const struct f8_be_caps *c = &cc->caps;
	const uint32_t cin = t->g1 ? t->Cs : tc;
	uint32_t tr = t->Ho;

	while (tr > 1 && (tr > c->max_dim || in_rows(o, t, tr) > c->max_dim ||
			  in_rows(o, t, tr) * t->W * cin * t->es > c->ibuf_bytes))
		tr--;
	return tr;
}

/* The descriptors of @o cut into tiles of t->tc channels and t->tr rows, appended to @w. */
static int emit_tiles(struct cc *cc, const struct cc_op *o, const struct cc_tiling *t,
		      struct cc_out *w)
{
	uint32_t c0, y0;

	for (c0 = 0; c0 < t->C; c0 += t->tc) {
		const uint32_t nc = t->C - c0 < t->tc ? t->C - c0 : t->tc;

		for (y0 = 0; y0 < t->Ho; y0 += t->tr) {
			const uint32_t rows = t->Ho - y0 < t->tr ? t->Ho - y0 : t->tr;
			struct f8npu_desc *d = next_desc(w, o);
			struct f8_cc_desc_info *in;
			int k;

			if (!d)
				return F8_ERR_NOMEM;
			in = &w->info[w->n - 1];
			in->c0 = c0;
			in->c1 = c0 + nc;
			in->y0 = y0;
			in->y1 = y0 + rows;
			d->opcode = o->opcode;
			d->flags = o->flags;
			d->align_src = o->align_src;
			if (t->win) {
				const int64_t start = (int64_t)y0 * o->stride - o->pad;
				const int64_t end = (int64_t)(y0 + rows - 1) * o->stride - o->pad + o->kh;
				const int64_t r0 = start > 0 ? start : 0;
				const int64_t r1 = end < t->H ? end : t->H;

				d->kernel_h = o->kh;
				d->kernel_w = o->kw;
				d->stride_h = d->stride_w = o->stride;
				/*
				 * A window that makes a 1 x 1 output (a global pool, a classifier
				 * over the whole input) gives the same output at any stride; at
				 * stride = kernel the device (isa.md §7) fetches the input once, not
				 * once per kernel row.
				 */
				if (cc->m->nodes[o->out].h == 1 && cc->m->nodes[o->out].w == 1 &&
				    t->H + 2u * o->pad == o->kh && t->W + 2u * o->pad == o->kw) {
					d->stride_h = o->kh;
					d->stride_w = o->kw;
				}
				d->pad_top = (uint8_t)(r0 - start);
				d->pad_bottom = (uint8_t)(end - r1);
				d->pad_left = d->pad_right = o->pad;
				tref(cc, &d->src, o->src, (uint32_t)r0, (uint32_t)(r1 - r0), t->g1 ? 0 : c0,
				     t->g1 ? t->Cs : nc);
			} else {
				tref(cc, &d->src, o->src, y0, rows, c0, nc);
			}
			if (o->aux >= 0) {
				tref(cc, &d->aux, o->aux, y0, rows, c0, nc);
				d->align_aux = o->align_aux;
			}
			for (k = 0; k < 2; k++) {
				if (o->dst[k] < 0)
					continue;
				tref(cc, &d->dst[k], o->dst[k], y0, rows, c0, nc);
				d->out_shift[k] = o->shift[k];
			}
			if (t->conv) {
				d->weights.region = F8_CC_R_WEIGHTS;
				d->weights.offset = (uint32_t)(cc->nd[o->node].woff + c0 * t->per);
				d->bias.region = F8_CC_R_BIAS;
				d->bias.offset = cc->nd[o->node].boff + 4u * c0;
			}
		}
	}
	return F8_OK;
}

static uint64_t tbytes(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)t->n * t->h * t->w * t->c * f8npu_type_size(t->type);
}

static void counters(const struct f8npu_desc *d, const struct f8npu_plan *pl, uint32_t cols,
		     struct f8_cc_desc_info *in);

/* A tiling's price: the cost model's DRAM bytes and cycles over its descriptors. */
struct cc_price {
	uint64_t bytes, cycles;
	uint32_t descs;
};

static int price(struct cc *cc, const struct cc_op *o, const struct cc_tiling *t,
		 const struct f8npu_model_config *cfg, struct cc_out *scratch, struct cc_price *pr)
{
	struct f8npu_region_table rt;
	uint32_t i;
	int rc;

	/* every region large enough: only the shapes are priced here */
	memset(&rt, 0, sizeof(rt));
	rt.count = F8_CC_REGIONS;
	for (i = 0; i < F8_CC_REGIONS; i++) {
		rt.base[i] = (uint64_t)(i + 1) << 40;
		rt.size[i] = (uint64_t)1 << 36;
	}
	scratch->n = 0;
	rc = emit_tiles(cc, o, t, scratch);
	if (rc)
		return rc;
	memset(pr, 0, sizeof(*pr));
	for (i = 0; i < scratch->n; i++) {
		struct f8npu_plan pl;
		struct f8_cc_desc_info in;

		if (f8npu_validate_desc(&scratch->d[i], &rt, cc->caps.ops, &pl)) {
			pr->bytes = pr->cycles = UINT64_MAX; /* never chosen */
			return F8_OK;
		}
		counters(&scratch->d[i], &pl, cc->caps.cols, &in);
		pr->bytes += in.rd_bytes + in.wr_bytes;
		pr->cycles += f8npu_model_desc_cycles(cfg, &scratch->d[i], &rt);
	}
	pr->descs = scratch->n;
	return F8_OK;
}

static bool cheaper(const struct cc_price *a, const struct cc_price *b)
{
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes;
	if (a->cycles != b->cycles)
		return a->cycles < b->cycles;
	return a->descs < b->descs;
}

/*
 * Choose the tiling: among the channel tiles that fit the weight buffer (multiples of the
 * array's columns, or the whole tensor, when at least one group fits; any width below a
 * group otherwise), each with the most rows whose input fits the input buffer, the one the
 * cost model prices lowest in DRAM bytes, then cycles, then descriptors (isa.md §7: a
 * groups = 1 conv reads its input once per channel group, every tile reads its own weights,
 * and row tiles re-read the rows their windows share).
 */
static int choose(struct cc *cc, const struct cc_op *o, struct cc_tiling *t,
		  const struct f8npu_model_config *cfg)
{
	const uint32_t cols = cc->caps.cols;
	struct cc_out scratch = { 0 };
	struct cc_price best = { UINT64_MAX, UINT64_MAX, UINT32_MAX }, pr;
	uint32_t tc, bc = t->tcmax, br = rows_for(cc, o, t, t->tcmax);
	int rc = F8_OK;

	for (tc = t->tcmax; tc >= 1 && !rc; tc--) {
		if (t->tcmax >= cols && tc != t->tcmax && tc % cols)
			continue;
		t->tc = tc;
		t->tr = rows_for(cc, o, t, tc);
		rc = price(cc, o, t, cfg, &scratch, &pr);
		if (!rc && cheaper(&pr, &best)) {
			best = pr;
			bc = t->tc;
			br = t->tr;
		}
	}
	t->tc = bc;
	t->tr = br;
	free(scratch.d);
	free(scratch.info);
	return rc;
}

/*
 * The whole operation as one untiled descriptor: its cost-model bytes (the floor: a groups = 1
 * conv reads its input once per channel group) and its minimum (every operand, weight and
 * output once: the same bytes with the input read once), descriptor fetch excluded.
 */
static int whole(struct cc *cc, const struct cc_op *o, const struct cc_tiling *t,
		 const struct f8npu_model_config *cfg, uint64_t *floor_b, uint64_t *min_b)
{
	struct cc_tiling one = *t;
	struct cc_out scratch = { 0 };
	struct cc_price pr;
	uint64_t src, g;
	int rc;

	one.tc = t->C;
	one.tr = t->Ho;
	rc = price(cc, o, &one, cfg, &scratch, &pr);
	if (!rc) {
		src = tbytes(&scratch.d[0].src);
		g = t->g1 ? (t->C + cc->caps.cols - 1) / cc->caps.cols : 1;
		*floor_b = pr.bytes == UINT64_MAX ? 0 : pr.bytes - F8NPU_CMD_DESC_SIZE;
		*min_b = *floor_b ? *floor_b - src * (g - 1) : 0;
	}
	free(scratch.d);
	free(scratch.info);
	return rc;
}

static bool type_ok(const struct cc *cc, int32_t b)
{
	return b < 0 || (cc->caps.types >> cc->bufs[b].type & 1u);
}

static int emit_op(struct cc *cc, const struct cc_op *o, const struct f8npu_model_config *cfg,
		   struct cc_out *w)
{
	static const char *const opname[] = { "?", "END", "CONV2D", "POOL_MAX", "POOL_SUM", "ADD" };
	const uint32_t id = (uint32_t)o->node, first = w->n;
	struct cc_tiling t = { 0 };
	int rc;

	if (!(cc->caps.ops >> o->opcode & 1u))
		return f8_cc_node_fail(cc, id, "the device does not support %s", opname[o->opcode]);
	if (!type_ok(cc, o->src) || !type_ok(cc, o->aux) || !type_ok(cc, o->dst[0]) ||
	    !type_ok(cc, o->dst[1]))
		return f8_cc_node_fail(cc, id, "an element type the device does not support (types 0x%x)",
				       cc->caps.types);
	rc = limits(cc, o, &t);
	if (!rc)
		rc = choose(cc, o, &t, cfg);
	if (!rc)
		rc = emit_tiles(cc, o, &t, w);
	if (rc || w->n == first)
		return rc;
	return whole(cc, o, &t, cfg, &w->info[first].floor_bytes, &w->info[first].min_bytes);
}

/* The architectural counters of one descriptor (docs/isa.md §7), its fetch included. */
static void counters(const struct f8npu_desc *d, const struct f8npu_plan *pl, uint32_t cols,
		     struct f8_cc_desc_info *in)
{
	const bool aux = d->flags & F8NPU_FLAG_AUX, dst1 = d->flags & F8NPU_FLAG_DST1;
	const uint64_t p = (uint64_t)d->src.n * pl->out_h * pl->out_w, cout = pl->out_c;
	uint64_t src = tbytes(&d->src);

	in->rd_bytes = F8NPU_CMD_DESC_SIZE;
	in->wr_bytes = 0;
	in->macs = 0;
	if (d->opcode == F8NPU_OP_END)
		return;
	if (d->opcode == F8NPU_OP_CONV2D) {
		const bool dw = d->flags & F8NPU_FLAG_DEPTHWISE;
		const uint64_t kk = (uint64_t)d->kernel_h * d->kernel_w;

		in->macs = dw ? p * cout * kk : p * cout * pl->k;
		if (!dw)
			src *= (cout + cols - 1) / cols;
		in->rd_bytes += dw ? cout * kk : cout * pl->k;
		if (d->flags & F8NPU_FLAG_BIAS)
			in->rd_bytes += 4 * cout;
	}
	in->rd_bytes += src + (aux ? tbytes(&d->aux) : 0);
	in->wr_bytes = tbytes(&d->dst[0]) + (dst1 ? tbytes(&d->dst[1]) : 0);
}

int f8_cc_encode(struct cc *cc, struct f8_cc_prog *p)
{
	struct cc_out w = { 0 };
	struct f8npu_region_table rt;
	struct f8npu_cmd_header h;
	uint32_t i;
	int rc = F8_OK;

	for (i = 0; i < cc->nops && !rc; i++)
		rc = emit_op(cc, &cc->ops[i], &p->cfg, &w);
	if (!rc && !next_desc(&w, NULL))
		rc = F8_ERR_NOMEM;
	if (rc)
		goto out_free;
	w.d[w.n - 1].opcode = F8NPU_OP_END;
	if ((uint64_t)w.n * F8NPU_CMD_DESC_SIZE + F8NPU_CMD_HEADER_SIZE > UINT32_MAX) {
		rc = f8_fail(cc->e, F8_ERR_RANGE, "%u descriptors: the stream exceeds 4 GiB", w.n);
		goto out_free;
	}
	p->ndesc = w.n;
	p->stream_size = F8NPU_CMD_HEADER_SIZE + w.n * F8NPU_CMD_DESC_SIZE;
	p->stream = calloc(1, p->stream_size);
	if (!p->stream) {
		rc = F8_ERR_NOMEM;
		goto out_free;
	}
	memset(&h, 0, sizeof(h));
	h.magic = F8NPU_CMD_MAGIC;
	h.version_major = F8NPU_CMD_VERSION_MAJOR;
	h.version_minor = F8NPU_CMD_VERSION_MINOR;
	h.desc_size = F8NPU_CMD_DESC_SIZE;
	h.desc_count = w.n;
	memcpy(p->stream, &h, sizeof(h));
	memcpy(p->stream + F8NPU_CMD_HEADER_SIZE, w.d, (size_t)w.n * F8NPU_CMD_DESC_SIZE);

	/* the job's memory as the device will see it: every region apart, the stream too */
	memset(&rt, 0, sizeof(rt));
	rt.count = cc->caps.regions < F8NPU_REGIONS ? cc->caps.regions : F8NPU_REGIONS;
	for (i = 0; i < F8_CC_REGIONS; i++) {
		rt.base[i] = (uint64_t)(i + 1) << 40;
		rt.size[i] = p->region_size[i];
	}
	rt.cmd_base = 0x1000;
	rt.cmd_size = p->stream_size;
	p->cycles = f8npu_model_header_cycles(&p->cfg, p->stream_size);
	p->rd_bytes = F8NPU_CMD_HEADER_SIZE;
	for (i = 0; i < w.n; i++) {
		struct f8npu_plan pl;
		uint32_t err = f8npu_validate_desc(&w.d[i], &rt, cc->caps.ops, &pl);

		if (err) { /* a compiler bug, not the model's fault: say where */
			rc = f8_fail(cc->e, F8_ERR_RANGE,
				     "internal: descriptor %u (%s) fails the device's check %s", i,
				     w.info[i].name, f8npu_err_name(err));
			goto out_free;
		}
		counters(&w.d[i], &pl, cc->caps.cols, &w.info[i]);
		w.info[i].cycles = f8npu_model_desc_cycles(&p->cfg, &w.d[i], &rt);
		p->cycles += w.info[i].cycles;
		p->macs += w.info[i].macs;
		p->rd_bytes += w.info[i].rd_bytes;
		p->wr_bytes += w.info[i].wr_bytes;
		p->min_bytes += w.info[i].min_bytes;
		p->floor_bytes += w.info[i].floor_bytes;
	}
	p->info = w.info;
	w.info = NULL;
out_free:
	free(w.d);
	free(w.info);
	return rc;
}
