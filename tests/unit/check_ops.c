// SPDX-License-Identifier: MIT
/*
 * Every operation of docs/isa.md §4 against the tests' own naive reference
 * (f8-test.c), on random layers: odd shapes, strides 1-3, symmetric and
 * asymmetric padding, channel counts that are not multiples of the array,
 * batch 2, padded / overlapping / broadcast strides, u8/s8/s32 tensors and
 * every epilogue feature. Each layer is one loop iteration with its own
 * seed, so a failure names a layer that can be rerun alone.
 *
 * Shifts are chosen from the layer's own value range (plus jitter and the
 * odd extreme one), else nearly every output would saturate or round to 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-test.h"
#include "f8npu_validate.h"

enum kind { K_CONV, K_DW, K_FC, K_1X1, K_MAX, K_SUM, K_ADD, K_COUNT };

static const char *const kind_names[K_COUNT] = { "conv", "depthwise", "fc",  "conv1x1",
						 "maxpool", "sumpool", "add" };
static const char *const type_names[3] = { "u8", "s8", "s32" };

/* Blobs of one layer, in the order the regions are filled. */
enum { B_SRC, B_AUX, B_W, B_BIAS, B_DST0, B_DST1, B_N };

/* Keep each layer small: the model and the reference both run it. */
#define MAC_BUDGET 120000u

static unsigned int rnd_type(struct f8t_rng *r)
{
	return f8t_below(r, 3);
}

/* The main kinds of strides a tensor can have (isa.md §2). */
static struct f8npu_tensor_ref mk_tensor(struct f8t_rng *r, unsigned int type, unsigned int n,
					 unsigned int h, unsigned int w, unsigned int c, bool output)
{
	uint32_t es = f8t_tsize(type), u = es; /* s32 strides must stay 4-byte multiples */
	uint32_t row = c * es, sw, sh, sn;
	unsigned int mode = f8t_below(r, 100);

	if (mode < 40) {
		sw = row;
		sh = (w - 1) * sw + row;
		sn = (h - 1) * sh + (w - 1) * sw + row;
	} else if (output || mode < 80) {
		/* Gaps between elements: the device must leave them alone. */
		sw = row + u * f8t_below(r, 3);
		sh = (w - 1) * sw + row + u * f8t_below(r, 4);
		sn = (h - 1) * sh + (w - 1) * sw + row + u * f8t_below(r, 5);
		if (output) {
			/* A dimension of size 1 may have any stride, even 0. */
			if (w == 1 && f8t_chance(r, 30))
				sw = u * f8t_below(r, 3);
			if (h == 1 && f8t_chance(r, 30))
				sh = u * f8t_below(r, 3);
			if (n == 1 && f8t_chance(r, 30))
				sn = u * f8t_below(r, 3);
		}
	} else {
		/* Inputs: free strides, overlapping windows and broadcasts. */
		sw = u * f8t_below(r, c + 3);
		sh = u * f8t_below(r, w * c + 3);
		sn = f8t_chance(r, 50) ? 0 : u * f8t_below(r, h * w * c + 3);
	}
	return f8t_tensor(0, (uint8_t)type, 0, (uint16_t)n, (uint16_t)h, (uint16_t)w, (uint16_t)c,
			  sn, sh, sw);
}

/* Window geometry with at least one valid output row and column. */
static void gen_window(struct f8t_rng *r, struct f8npu_desc *d, unsigned int *h, unsigned int *w,
		       unsigned int maxk, unsigned int maxhw)
{
	unsigned int kh = 1 + f8t_below(r, maxk), kw = 1 + f8t_below(r, maxk);
	unsigned int pt = f8t_below(r, kh < 3 ? kh : 3), pb = f8t_below(r, kh < 3 ? kh : 3);
	unsigned int pl = f8t_below(r, kw < 3 ? kw : 3), pr = f8t_below(r, kw < 3 ? kw : 3);
	unsigned int minh = kh > pt + pb ? kh - pt - pb : 1, minw = kw > pl + pr ? kw - pl - pr : 1;

	d->kernel_h = (uint8_t)kh;
	d->kernel_w = (uint8_t)kw;
	d->stride_h = (uint8_t)(1 + f8t_below(r, 3));
	d->stride_w = (uint8_t)(1 + f8t_below(r, 3));
	d->pad_top = (uint8_t)pt;
	d->pad_bottom = (uint8_t)pb;
	d->pad_left = (uint8_t)pl;
	d->pad_right = (uint8_t)pr;
	*h = minh + f8t_below(r, maxhw + 1 - minh);
	*w = minw + f8t_below(r, maxhw + 1 - minw);
}

static unsigned int rnd_channels(struct f8t_rng *r)
{
	unsigned int p = f8t_below(r, 100);

	if (p < 15)
		return 1 + f8t_below(r, 3);
	if (p < 85)
		return 1 + f8t_below(r, 24);
	return 25 + f8t_below(r, 24); /* past one or two array widths */
}

/* Geometry, types and flags of one random layer (regions come later). */
static void gen_layer(struct f8t_rng *r, enum kind kind, struct f8npu_desc *d)
{
	unsigned int n = f8t_chance(r, 30) ? 2 : 1, h = 1, w = 1, cin = rnd_channels(r);
	unsigned int cout = cin, ho, wo, co, dummy;
	uint64_t k;

	memset(d, 0, sizeof(*d));
	switch (kind) {
	case K_CONV:
	case K_DW:
		d->opcode = F8NPU_OP_CONV2D;
		gen_window(r, d, &h, &w, 5, 11);
		if (kind == K_DW)
			d->flags |= F8NPU_FLAG_DEPTHWISE;
		else
			cout = rnd_channels(r);
		break;
	case K_FC:
		d->opcode = F8NPU_OP_CONV2D;
		h = 1 + f8t_below(r, 6);
		w = 1 + f8t_below(r, 6);
		d->kernel_h = (uint8_t)h;
		d->kernel_w = (uint8_t)w;
		d->stride_h = (uint8_t)(1 + f8t_below(r, 3)); /* irrelevant: one window */
		d->stride_w = (uint8_t)(1 + f8t_below(r, 3));
		cin = 1 + f8t_below(r, 40);
		cout = 1 + f8t_below(r, 40);
		break;
	case K_1X1:
		d->opcode = F8NPU_OP_CONV2D;
		d->kernel_h = d->kernel_w = 1;
		d->stride_h = (uint8_t)(1 + f8t_below(r, 3));
		d->stride_w = (uint8_t)(1 + f8t_below(r, 3));
		if (!f8t_chance(r, 30)) { /* else [N][1][1][Cin]: the other FC form */
			h = 1 + f8t_below(r, 12);
			w = 1 + f8t_below(r, 12);
		}
		cin = f8t_chance(r, 20) ? 33 + f8t_below(r, 40) : rnd_channels(r);
		cout = rnd_channels(r);
		break;
	case K_MAX:
	case K_SUM:
		d->opcode = kind == K_MAX ? F8NPU_OP_POOL_MAX : F8NPU_OP_POOL_SUM;
		if (f8t_chance(r, 25)) { /* global pooling: window = input */
			h = 1 + f8t_below(r, 9);
			w = 1 + f8t_below(r, 9);
			d->kernel_h = (uint8_t)h;
			d->kernel_w = (uint8_t)w;
			d->stride_h = (uint8_t)(1 + f8t_below(r, 3));
			d->stride_w = (uint8_t)(1 + f8t_below(r, 3));
		} else {
			gen_window(r, d, &h, &w, 5, 11);
		}
		break;
	default:
		d->opcode = F8NPU_OP_ADD;
		h = 1 + f8t_below(r, 12);
		w = 1 + f8t_below(r, 12);
		break;
	}

	/* Stay inside the budget by thinning channels. */
	d->src.n = (uint16_t)n;
	d->src.h = (uint16_t)h;
	d->src.w = (uint16_t)w;
	for (;;) {
		d->src.c = (uint16_t)cin;
		d->dst[0].c = (uint16_t)cout;
		f8t_out_shape(d, &dummy, &ho, &wo, &co);
		k = (uint64_t)d->kernel_h * d->kernel_w * (kind == K_DW ? 1 : cin);
		if (d->opcode != F8NPU_OP_CONV2D || (uint64_t)n * ho * wo * co * k <= MAC_BUDGET)
			break;
		if (cout > 1 && (cout >= cin || kind == K_DW))
			cout = (cout + 1) / 2;
		else
			cin = (cin + 1) / 2;
		if (kind == K_DW)
			cin = cout;
	}

	if (d->opcode == F8NPU_OP_CONV2D && f8t_chance(r, 60))
		d->flags |= F8NPU_FLAG_BIAS;
	if (f8t_chance(r, 50))
		d->flags |= F8NPU_FLAG_AUX;
	if (f8t_chance(r, 50))
		d->flags |= F8NPU_FLAG_RELU;
	if (f8t_chance(r, 50))
		d->flags |= F8NPU_FLAG_DST1;

	if (d->flags & F8NPU_FLAG_AUX) {
		unsigned int p = f8t_below(r, 100), top = p < 60 ? 4 : p < 90 ? 12 : 31;

		d->align_src = (uint8_t)f8t_below(r, top + 1);
		d->align_aux = (uint8_t)f8t_below(r, top + 1);
	} else if (f8t_chance(r, 30)) {
		d->align_src = (uint8_t)(f8t_chance(r, 80) ? f8t_below(r, 7) : f8t_below(r, 32));
	}

	d->src = mk_tensor(r, d->opcode == F8NPU_OP_CONV2D ? f8t_below(r, 2) : rnd_type(r), n, h, w,
			   cin, false);
	if (d->flags & F8NPU_FLAG_AUX)
		d->aux = mk_tensor(r, f8t_chance(r, 50) ? F8NPU_TYPE_S32 : f8t_below(r, 2), n, ho,
				   wo, co, false);
	d->dst[0] = mk_tensor(r, rnd_type(r), n, ho, wo, co, true);
	if (d->flags & F8NPU_FLAG_DST1)
		d->dst[1] = mk_tensor(r, rnd_type(r), n, ho, wo, co, true);
}

static void describe(const struct f8npu_desc *d, const char *name, int idx, char *buf, size_t len)
{
	const struct f8npu_tensor_ref *s = &d->src, *o = &d->dst[0];

	snprintf(buf, len,
		 "%s #%d (seed %#" PRIx64 "): src %s [%u][%u][%u][%u] strides %u/%u/%u -> "
		 "[%u][%u][%u][%u] k%ux%u s%ux%u pad t%u b%u l%u r%u flags %#x align %u/%u "
		 "dst0 %s shift %d%s%s shift %d aux %s",
		 name, idx, f8t_seed, type_names[s->type], s->n, s->h, s->w, s->c, s->stride_n,
		 s->stride_h, s->stride_w, o->n, o->h, o->w, o->c, d->kernel_h, d->kernel_w,
		 d->stride_h, d->stride_w, d->pad_top, d->pad_bottom, d->pad_left, d->pad_right,
		 d->flags, d->align_src, d->align_aux, type_names[o->type], d->out_shift[0],
		 (d->flags & F8NPU_FLAG_DST1) ? " dst1 " : " no dst1",
		 (d->flags & F8NPU_FLAG_DST1) ? type_names[d->dst[1].type] : "",
		 d->out_shift[1], (d->flags & F8NPU_FLAG_AUX) ? type_names[d->aux.type] : "-");
}

struct blob {
	uint64_t len;
	unsigned int align;
	unsigned int group;
	uint32_t offset;
	bool used;
};

/*
 * Give every blob a region and an offset: each in its own region, or inputs
 * and outputs sharing one region each, or everything in one region. Regions
 * are sometimes exactly as large as their footprints.
 */
static void place(struct f8t_rng *r, struct f8npu_desc *d)
{
	struct blob b[B_N];
	uint8_t perm[F8NPU_REGIONS], regof[B_N];
	uint64_t cursor[B_N] = { 0 };
	unsigned int mode = f8t_below(r, 100), order[B_N];
	unsigned int outs = (d->flags & F8NPU_FLAG_DST1) ? 2 : 1, co = d->dst[0].c;
	uint64_t wlen = (uint64_t)d->kernel_h * d->kernel_w *
			((d->flags & F8NPU_FLAG_DEPTHWISE) ? 1 : d->src.c) * co;

	memset(b, 0, sizeof(b));
	b[B_SRC] = (struct blob){ f8t_extent(&d->src), f8t_tsize(d->src.type), 0, 0, true };
	if (d->flags & F8NPU_FLAG_AUX)
		b[B_AUX] = (struct blob){ f8t_extent(&d->aux), f8t_tsize(d->aux.type), 0, 0, true };
	if (d->opcode == F8NPU_OP_CONV2D)
		b[B_W] = (struct blob){ wlen, 1, 0, 0, true };
	if (d->flags & F8NPU_FLAG_BIAS)
		b[B_BIAS] = (struct blob){ 4ull * co, 4, 0, 0, true };
	for (unsigned int o = 0; o < outs; o++)
		b[B_DST0 + o] =
			(struct blob){ f8t_extent(&d->dst[o]), f8t_tsize(d->dst[o].type), 0, 0, true };

	for (unsigned int i = 0; i < F8NPU_REGIONS; i++)
		perm[i] = (uint8_t)i;
	for (unsigned int i = F8NPU_REGIONS - 1; i > 0; i--) {
		unsigned int j = f8t_below(r, i + 1);
		uint8_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (unsigned int i = 0; i < B_N; i++) {
		b[i].group = mode < 60 ? i : mode < 85 ? (i >= B_DST0) : 0;
		regof[i] = perm[b[i].group];
		order[i] = i;
	}
	for (unsigned int i = B_N - 1; i > 0; i--) {
		unsigned int j = f8t_below(r, i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned int k = 0; k < B_N; k++) {
		struct blob *x = &b[order[k]];
		uint64_t *cur = &cursor[x->group];

		if (!x->used)
			continue;
		*cur += f8t_chance(r, 50) ? f8t_below(r, 40) : 0;
		*cur = (*cur + x->align - 1) / x->align * x->align;
		x->offset = (uint32_t)*cur;
		*cur += x->len;
	}
	for (unsigned int g = 0; g < B_N; g++) {
		uint64_t size = cursor[g];

		if (!size)
			continue;
		if (f8t_chance(r, 60))
			size += 1 + f8t_below(r, 24);
		f8t_fill(r, f8t_region(perm[g], size), size); /* garbage everywhere */
	}
	d->src.region = regof[B_SRC];
	d->src.offset = b[B_SRC].offset;
	if (b[B_AUX].used) {
		d->aux.region = regof[B_AUX];
		d->aux.offset = b[B_AUX].offset;
	}
	if (b[B_W].used) {
		d->weights.region = regof[B_W];
		d->weights.offset = b[B_W].offset;
	}
	if (b[B_BIAS].used) {
		d->bias.region = regof[B_BIAS];
		d->bias.offset = b[B_BIAS].offset;
	}
	for (unsigned int o = 0; o < outs; o++) {
		d->dst[o].region = regof[B_DST0 + o];
		d->dst[o].offset = b[B_DST0 + o].offset;
	}
}

/* int32 inputs: small, medium, any, and the edges (0x80000000 included). */
static int64_t rnd_s32(struct f8t_rng *r)
{
	static const int64_t edge[] = { 2147483647, -2147483648ll, -2147483647, 0, 1, -1 };
	unsigned int p = f8t_below(r, 100);

	if (p < 40)
		return f8t_range(r, -300, 300);
	if (p < 70)
		return f8t_range(r, -(1 << 20), 1 << 20);
	if (p < 90)
		return (int32_t)(uint32_t)f8t_rand(r);
	return edge[f8t_below(r, 6)];
}

static void fill_s32(struct f8t_rng *r, struct f8t_mem *m, const struct f8npu_tensor_ref *t)
{
	for (unsigned int i = 0; i < t->n; i++)
		for (unsigned int y = 0; y < t->h; y++)
			for (unsigned int x = 0; x < t->w; x++)
				for (unsigned int k = 0; k < t->c; k++)
					f8t_put(m, t, i, y, x, k, rnd_s32(r));
}

/* The live regions, to fill inputs in place. */
static void live_mem(struct f8t_mem *m)
{
	memset(m, 0, sizeof(*m));
	for (unsigned int r = 0; r < F8NPU_REGIONS; r++) {
		m->data[r] = f8t_region_data(r);
		m->size[r] = m->data[r] ? f8t->reg[r].size : 0;
	}
}

static void rnd_config(struct f8t_rng *r, struct f8npu_model_config *cfg)
{
	static const uint32_t dims[] = { 1, 2, 3, 8, 16, 32, 64 };
	static const uint32_t bws[] = { 1, 3, 16, 64 };
	static const uint32_t lats[] = { 0, 1, 64, 200 };

	f8npu_model_default_config(cfg);
	if (f8t_chance(r, 70))
		return;
	cfg->rows = dims[f8t_below(r, 7)];
	cfg->cols = dims[f8t_below(r, 7)];
	cfg->dram_bytes_per_cycle = bws[f8t_below(r, 4)];
	cfg->dram_latency = lats[f8t_below(r, 4)];
}

/* F8_TEST_VERBOSE: how many dst0 values saturate or vanish (are layers meaningful?). */
static void print_stats(const struct f8npu_desc *d, const int64_t *v2, size_t count,
			const char *what)
{
	size_t sat = 0, zero = 0;

	for (size_t i = 0; i < count; i++) {
		int64_t q = f8t_shift(v2[i], d->out_shift[0]);

		sat += q != f8t_sat(q, d->dst[0].type);
		zero += q == 0;
	}
	printf("%s\n    %zu outputs: %zu%% saturated, %zu%% zero\n", what, count,
	       100 * sat / count, 100 * zero / count);
}

/*
 * The model's cycles of each step are known before it starts (what f8 exec's cycle budget
 * relies on, docs/runner.md): header + both descriptors = the CYCLES counter.
 */
static void check_predicted(const struct f8npu_model_config *cfg, const struct f8npu_desc *d,
			    const struct f8npu_job_result *res, const char *what)
{
	struct f8npu_region_table rt;
	uint64_t cycles;
	unsigned int r;

	memset(&rt, 0, sizeof(rt));
	for (r = 0; r < F8NPU_REGIONS; r++) {
		rt.base[r] = f8t->reg[r].addr;
		rt.size[r] = f8t->reg[r].size;
	}
	rt.count = F8NPU_REGIONS;
	rt.cmd_base = f8t->cmd_addr;
	rt.cmd_size = f8t->cmd_size;
	cycles = f8npu_model_header_cycles(cfg, f8t->cmd_size) + f8npu_model_desc_cycles(cfg, &d[0], &rt) +
		 f8npu_model_desc_cycles(cfg, &d[1], &rt);
	ck_assert_msg(cycles == res->perf.cycles, "%s: predicted %llu cycles, the model took %llu",
		      what, (unsigned long long)cycles, (unsigned long long)res->perf.cycles);
}

/*
 * Generate, run and check one layer: the whole memory against the reference,
 * then the architectural counters, then (@timing) the cost model's cycles.
 */
static void run_layer(enum kind kind, const char *name, int idx, bool timing)
{
	struct f8t_rng r;
	struct f8npu_model_config cfg;
	struct f8npu_desc d[2];
	struct f8npu_job_result res;
	struct f8t_snap snap;
	struct f8t_mem live, m;
	struct f8t_cost want = { 0 };
	size_t count;
	int64_t *v2, maxabs;
	char what[640];

	f8t_rng_init(&r, name, idx);
	rnd_config(&r, &cfg);
	f8t_reset(&cfg);
	ck_assert_uint_eq(f8npu_dev_read(f8t->dev, F8NPU_REG_CAP_ARRAY), cfg.cols << 16 | cfg.rows);

	gen_layer(&r, kind, &d[0]);
	place(&r, &d[0]);
	live_mem(&live);
	if (d[0].src.type == F8NPU_TYPE_S32)
		fill_s32(&r, &live, &d[0].src);
	if ((d[0].flags & F8NPU_FLAG_AUX) && d[0].aux.type == F8NPU_TYPE_S32)
		fill_s32(&r, &live, &d[0].aux);
	if (d[0].flags & F8NPU_FLAG_BIAS) {
		/* Mostly around the accumulator's scale; sometimes at the edges. */
		int64_t k = (int64_t)d[0].kernel_h * d[0].kernel_w * d[0].src.c;

		for (unsigned int c = 0; c < d[0].dst[0].c; c++)
			f8t_store(live.data[d[0].bias.region] + d[0].bias.offset + 4 * c,
				  F8NPU_TYPE_S32,
				  f8t_chance(&r, 90) ? f8t_range(&r, -k * 2048, k * 2048) : rnd_s32(&r));
	}

	v2 = f8t_ref_v2(&d[0], &live, &count);
	maxabs = f8t_maxabs(v2, count);
	d[0].out_shift[0] = (int8_t)f8t_pick_shift(&r, maxabs, d[0].dst[0].type, 2);
	if (d[0].flags & F8NPU_FLAG_DST1)
		d[0].out_shift[1] = (int8_t)f8t_pick_shift(&r, maxabs, d[0].dst[1].type, 3);
	memset(&d[1], 0, sizeof(d[1]));
	d[1].opcode = F8NPU_OP_END;
	describe(&d[0], name, idx, what, sizeof(what));

	f8t_stream(d, 2);
	f8t_snap_take(&snap);
	f8t_snap_mem(&snap, &m);
	f8t_ref_exec(&d[0], &m);
	f8t_run_stream(2, &res);
	ck_assert_msg(res.done && res.err == 0, "%s: job ended with error %u (%s) at %u", what,
		      res.err, f8npu_err_name(res.err), res.err_index);
	f8t_snap_check(&snap, what);

	if (getenv("F8_TEST_VERBOSE"))
		print_stats(&d[0], v2, count, what);

	f8t_cost_header(&cfg, &want);
	f8t_cost_desc(&d[0], true, &cfg, &want);
	f8t_cost_desc(&d[1], true, &cfg, &want);
	f8t_check_perf(&want, what);
	if (timing)
		f8t_check_timing(&want, what);
	check_predicted(&cfg, d, &res, what);
}

START_TEST(test_ops_conv2d_random_layers)
{
	run_layer(K_CONV, "conv", _i, false);
}
END_TEST

START_TEST(test_ops_depthwise_random_layers)
{
	run_layer(K_DW, "depthwise", _i, false);
}
END_TEST

START_TEST(test_ops_fc_full_input_kernel_random_layers)
{
	run_layer(K_FC, "fc", _i, false);
}
END_TEST

START_TEST(test_ops_conv1x1_random_layers)
{
	run_layer(K_1X1, "conv1x1", _i, false);
}
END_TEST

START_TEST(test_ops_pool_max_random_layers)
{
	run_layer(K_MAX, "maxpool", _i, false);
}
END_TEST

START_TEST(test_ops_pool_sum_random_layers)
{
	run_layer(K_SUM, "sumpool", _i, false);
}
END_TEST

START_TEST(test_ops_add_random_layers)
{
	run_layer(K_ADD, "add", _i, false);
}
END_TEST

START_TEST(test_ops_cost_model_cycles_and_stall)
{
	run_layer((enum kind)(_i % K_COUNT), kind_names[_i % K_COUNT], 1000 + _i, true);
}
END_TEST

/* ---- limits: hand-computed values at the edges of the arithmetic ---- */

/* Run [d, END], require DONE and all memory as the reference says. */
static void run_one(const struct f8npu_desc *d, const char *what)
{
	struct f8npu_desc s[2];
	struct f8npu_job_result res;
	struct f8t_cost want = { 0 };
	struct f8t_snap snap;
	struct f8t_mem m;

	s[0] = *d;
	memset(&s[1], 0, sizeof(s[1]));
	s[1].opcode = F8NPU_OP_END;
	f8t_stream(s, 2);
	f8t_snap_take(&snap);
	f8t_snap_mem(&snap, &m);
	f8t_ref_exec(d, &m);
	f8t_run_stream(2, &res);
	ck_assert_msg(res.done, "%s: error %u (%s)", what, res.err, f8npu_err_name(res.err));
	f8t_snap_check(&snap, what);
	f8t_cost_header(&f8t->cfg, &want);
	f8t_cost_desc(&s[0], true, &f8t->cfg, &want);
	f8t_cost_desc(&s[1], true, &f8t->cfg, &want);
	f8t_check_perf(&want, what);
}

static struct f8npu_desc conv_fc(uint8_t type, unsigned int h, unsigned int w, unsigned int c,
				 unsigned int cout)
{
	struct f8npu_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = F8NPU_OP_CONV2D;
	d.flags = F8NPU_FLAG_BIAS;
	d.kernel_h = (uint8_t)h;
	d.kernel_w = (uint8_t)w;
	d.stride_h = d.stride_w = 1;
	d.src = f8t_dense(0, type, 0, 1, (uint16_t)h, (uint16_t)w, (uint16_t)c);
	d.weights.region = 1;
	d.bias.region = 2;
	d.dst[0] = f8t_dense(3, F8NPU_TYPE_S32, 0, 1, 1, 1, (uint16_t)cout);
	return d;
}

START_TEST(test_ops_k65536_extreme_sums_saturate_once_after_bias)
{
	/* 2 x 2 x 16384 = 65536 = CAP_MAX_K terms of 255 * -128. */
	struct f8npu_desc d = conv_fc(F8NPU_TYPE_U8, 2, 2, 16384, 2);
	uint8_t *dst;

	memset(f8t_region(0, 65536), 0xff, 65536);
	memset(f8t_region(1, 2 * 65536), 0x80, 2 * 65536);
	f8t_store(f8t_region(2, 8), F8NPU_TYPE_S32, -8388608);
	f8t_store(f8t_region_data(2) + 4, F8NPU_TYPE_S32, 2147483647);
	dst = f8t_region(3, 8);
	run_one(&d, "K=65536 u8");
	/* -65536*255*128 = -2139095040; - 2^23 = -2^31 -> saturates to -(2^31-1). */
	ck_assert_int_eq(f8t_load(dst, F8NPU_TYPE_S32), -2147483647);
	/* The sum itself fits: (2^31-1) - 2139095040 = 8388607, no early clamp. */
	ck_assert_int_eq(f8t_load(dst + 4, F8NPU_TYPE_S32), 8388607);
}
END_TEST

START_TEST(test_ops_k65536_s8_by_s8_max_product)
{
	/* (-128)*(-128)*65536 = 2^30; + (2^31-1) saturates to 2^31-1. */
	struct f8npu_desc d = conv_fc(F8NPU_TYPE_S8, 4, 4, 4096, 2);
	uint8_t *dst;

	memset(f8t_region(0, 65536), 0x80, 65536);
	memset(f8t_region(1, 2 * 65536), 0x80, 2 * 65536);
	f8t_store(f8t_region(2, 8), F8NPU_TYPE_S32, 2147483647);
	f8t_store(f8t_region_data(2) + 4, F8NPU_TYPE_S32, -2147483647);
	dst = f8t_region(3, 8);
	run_one(&d, "K=65536 s8");
	ck_assert_int_eq(f8t_load(dst, F8NPU_TYPE_S32), 2147483647);
	ck_assert_int_eq(f8t_load(dst + 4, F8NPU_TYPE_S32), 1073741824 - 2147483647);
}
END_TEST

/* An ADD of a [1][1][1][n] s32 vector; dst0 and dst1 s32. */
static struct f8npu_desc add_vec(unsigned int n, int s0, int s1)
{
	struct f8npu_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = F8NPU_OP_ADD;
	d.flags = F8NPU_FLAG_DST1;
	d.src = f8t_dense(0, F8NPU_TYPE_S32, 0, 1, 1, 1, (uint16_t)n);
	d.dst[0] = f8t_dense(2, F8NPU_TYPE_S32, 0, 1, 1, 1, (uint16_t)n);
	d.dst[1] = f8t_dense(3, F8NPU_TYPE_S32, 0, 1, 1, 1, (uint16_t)n);
	d.out_shift[0] = (int8_t)s0;
	d.out_shift[1] = (int8_t)s1;
	return d;
}

START_TEST(test_ops_shift_31_and_minus_31)
{
	static const int64_t in[] = { 2147483647, -2147483647, 1, -1, 1 << 30, -(1 << 30),
				      -2147483648ll, 3 << 29, 0 };
	/* v / 2^31 rounded half to even; 0x80000000 is sat32'd to -(2^31-1) by A6 first. */
	static const int64_t right[] = { 1, -1, 0, 0, 0, 0, -1, 1, 0 };
	/* v * 2^31 saturated. */
	static const int64_t left[] = { 2147483647, -2147483647, 2147483647, -2147483647,
					2147483647, -2147483647, -2147483647, 2147483647, 0 };
	const unsigned int n = sizeof(in) / sizeof(in[0]);
	struct f8npu_desc d = add_vec(n, 31, -31);
	uint8_t *src = f8t_region(0, 4 * n), *d0 = f8t_region(2, 4 * n), *d1 = f8t_region(3, 4 * n);

	for (unsigned int i = 0; i < n; i++)
		f8t_store(src + 4 * i, F8NPU_TYPE_S32, in[i]);
	run_one(&d, "shift +-31");
	for (unsigned int i = 0; i < n; i++) {
		ck_assert_msg(f8t_load(d0 + 4 * i, F8NPU_TYPE_S32) == right[i], "shift(%" PRId64
			      ", 31)", in[i]);
		ck_assert_msg(f8t_load(d1 + 4 * i, F8NPU_TYPE_S32) == left[i], "shift(%" PRId64
			      ", -31)", in[i]);
	}
}
END_TEST

START_TEST(test_ops_align_31_on_both_operands)
{
	static const int64_t a[] = { 1, 1, 0, -1, 1, 1073741824 };
	static const int64_t b[] = { -1, 0, 0, 0, 1, -1 };
	static const unsigned int la[] = { 31, 31, 31, 31, 31, 1 };
	/* sat32(sat32(a 2^la) + sat32(b 2^lb)), lb = 31 except the last (lb = 0). */
	static const int64_t want[] = { 0, 2147483647, 0, -2147483647, 2147483647, 2147483646 };
	const unsigned int n = sizeof(a) / sizeof(a[0]);

	for (unsigned int i = 0; i < n; i++) {
		struct f8npu_desc d = add_vec(1, 0, 0);
		uint8_t *src, *aux, *d0;

		f8t_reset(NULL);
		src = f8t_region(0, 4);
		aux = f8t_region(1, 4);
		d0 = f8t_region(2, 4);
		f8t_region(3, 4);
		d.flags = F8NPU_FLAG_AUX;
		memset(&d.dst[1], 0, sizeof(d.dst[1]));
		d.aux = f8t_dense(1, F8NPU_TYPE_S32, 0, 1, 1, 1, 1);
		d.align_src = (uint8_t)la[i];
		d.align_aux = i == n - 1 ? 0 : 31;
		f8t_store(src, F8NPU_TYPE_S32, a[i]);
		f8t_store(aux, F8NPU_TYPE_S32, b[i]);
		run_one(&d, "align 31");
		ck_assert_msg(f8t_load(d0, F8NPU_TYPE_S32) == want[i],
			      "align_add(%" PRId64 ", %u, %" PRId64 ", %u) = %" PRId64, a[i], la[i],
			      b[i], d.align_aux, f8t_load(d0, F8NPU_TYPE_S32));
	}
}
END_TEST

START_TEST(test_ops_s8_outputs_never_minus_128)
{
	/* s8 0x80 reads as -128 but is written back as -127 (arith.md §1). */
	struct f8npu_desc d;
	uint8_t *src = f8t_region(0, 4), *d0 = f8t_region(2, 4), *d1 = f8t_region(3, 4);

	memset(&d, 0, sizeof(d));
	d.opcode = F8NPU_OP_ADD;
	d.flags = F8NPU_FLAG_DST1;
	d.src = f8t_dense(0, F8NPU_TYPE_S8, 0, 1, 1, 1, 4);
	d.dst[0] = f8t_dense(2, F8NPU_TYPE_S8, 0, 1, 1, 1, 4);
	d.dst[1] = f8t_dense(3, F8NPU_TYPE_U8, 0, 1, 1, 1, 4);
	d.out_shift[1] = -1;
	src[0] = 0x80;
	src[1] = 0x7f;
	src[2] = 0x81;
	src[3] = 0x00;
	run_one(&d, "s8 -128");
	ck_assert_uint_eq(d0[0], 0x81); /* -127 */
	ck_assert_uint_eq(d0[1], 0x7f);
	ck_assert_uint_eq(d0[2], 0x81);
	ck_assert_uint_eq(d1[0], 0);	/* u8 clamps negatives to 0 */
	ck_assert_uint_eq(d1[1], 254);
}
END_TEST

START_TEST(test_ops_max_dims_65535)
{
	/* CAP_MAX_DIM along w and along c. */
	struct f8npu_desc d;
	struct f8t_rng r;

	f8t_rng_init(&r, "max_dims", 0);
	for (int pass = 0; pass < 2; pass++) {
		f8t_reset(NULL);
		memset(&d, 0, sizeof(d));
		d.opcode = F8NPU_OP_ADD;
		d.src = pass ? f8t_dense(0, F8NPU_TYPE_S8, 0, 1, 1, 1, 65535)
			     : f8t_dense(0, F8NPU_TYPE_U8, 0, 1, 1, 65535, 1);
		d.dst[0] = pass ? f8t_dense(1, F8NPU_TYPE_U8, 0, 1, 1, 1, 65535)
				: f8t_dense(1, F8NPU_TYPE_S8, 0, 1, 1, 65535, 1);
		d.out_shift[0] = 1;
		f8t_fill(&r, f8t_region(0, 65535), 65535);
		f8t_region(1, 65535);
		run_one(&d, pass ? "c = 65535" : "w = 65535");
	}
}
END_TEST

START_TEST(test_ops_pool_window_255x255)
{
	/* The largest window the u8 kernel fields allow: 65025 values of 255. */
	struct f8npu_desc d;
	uint8_t *dst;

	for (int op = F8NPU_OP_POOL_MAX; op <= F8NPU_OP_POOL_SUM; op++) {
		f8t_reset(NULL);
		memset(&d, 0, sizeof(d));
		d.opcode = (uint8_t)op;
		d.kernel_h = d.kernel_w = 255;
		d.stride_h = d.stride_w = 1;
		d.src = f8t_dense(0, F8NPU_TYPE_U8, 0, 1, 255, 255, 1);
		d.dst[0] = f8t_dense(1, F8NPU_TYPE_S32, 0, 1, 1, 1, 1);
		memset(f8t_region(0, 65025), 0xff, 65025);
		dst = f8t_region(1, 4);
		run_one(&d, "255x255 window");
		ck_assert_int_eq(f8t_load(dst, F8NPU_TYPE_S32),
				 op == F8NPU_OP_POOL_MAX ? 255 : 255 * 65025);
	}
}
END_TEST

START_TEST(test_ops_pool_sum_saturates_and_max_of_int_min)
{
	/* Sums of s32 extremes saturate once; a max of 0x80000000 leaves as -(2^31-1). */
	static const uint32_t fill[] = { 0x7fffffffu, 0x80000000u, 0x80000000u };
	static const int64_t want[] = { 2147483647, -2147483647, -2147483647 };
	static const uint8_t ops[] = { F8NPU_OP_POOL_SUM, F8NPU_OP_POOL_SUM, F8NPU_OP_POOL_MAX };

	for (unsigned int i = 0; i < 3; i++) {
		struct f8npu_desc d;
		uint8_t *src, *dst;

		f8t_reset(NULL);
		memset(&d, 0, sizeof(d));
		d.opcode = ops[i];
		d.kernel_h = d.kernel_w = 2;
		d.stride_h = d.stride_w = 1;
		d.src = f8t_dense(0, F8NPU_TYPE_S32, 0, 1, 2, 2, 1);
		d.dst[0] = f8t_dense(1, F8NPU_TYPE_S32, 0, 1, 1, 1, 1);
		src = f8t_region(0, 16);
		for (unsigned int k = 0; k < 4; k++)
			f8t_store(src + 4 * k, F8NPU_TYPE_S32, (int32_t)fill[i]);
		dst = f8t_region(1, 4);
		run_one(&d, "s32 extremes");
		ck_assert_int_eq(f8t_load(dst, F8NPU_TYPE_S32), want[i]);
	}
}
END_TEST

START_TEST(test_ops_strides_beyond_16_bits)
{
	/* Element offsets far past 64 KiB: no narrow index arithmetic. */
	struct f8npu_desc d;
	struct f8t_rng r;
	uint64_t ext;

	f8t_rng_init(&r, "big_strides", 0);
	for (int op = F8NPU_OP_CONV2D; op <= F8NPU_OP_ADD; op += F8NPU_OP_ADD - F8NPU_OP_CONV2D) {
		f8t_reset(NULL);
		memset(&d, 0, sizeof(d));
		d.opcode = (uint8_t)op;
		d.flags = F8NPU_FLAG_AUX | F8NPU_FLAG_DST1;
		d.out_shift[0] = 4;
		d.out_shift[1] = 9;
		d.src = f8t_tensor(0, F8NPU_TYPE_S8, 7, 2, 3, 2, 3, 3000001, 70001, 40001);
		d.aux = f8t_tensor(1, F8NPU_TYPE_S32, 12, 2, 3, 2, 3, 2000000, 99996, 65540);
		d.dst[0] = f8t_tensor(2, F8NPU_TYPE_S32, 4, 2, 3, 2, 3, 1200000, 400000, 131072);
		d.dst[1] = f8t_tensor(3, F8NPU_TYPE_U8, 1, 2, 3, 2, 3, 2500000, 300001, 70000);
		if (op == F8NPU_OP_CONV2D) {
			d.kernel_h = d.kernel_w = 3;
			d.stride_h = d.stride_w = 1;
			d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
			d.weights = (struct f8npu_buffer_ref){ .region = 4, .offset = 70000 };
			f8t_fill(&r, f8t_region(4, 70000 + 3 * 9 * 3), 70000 + 3 * 9 * 3);
		}
		for (unsigned int t = 0; t < 4; t++) {
			const struct f8npu_tensor_ref *x = t == 0   ? &d.src
							   : t == 1 ? &d.aux
								    : &d.dst[t - 2];

			ext = x->offset + f8t_extent(x);
			f8t_fill(&r, f8t_region(t, ext), ext);
		}
		run_one(&d, op == F8NPU_OP_ADD ? "ADD, large strides" : "CONV2D, large strides");
	}
}
END_TEST

START_TEST(test_ops_max_pool_ignores_padding)
{
	/* All inputs negative: a padded zero would win the max if counted. */
	struct f8npu_desc d;
	uint8_t *dst;

	memset(&d, 0, sizeof(d));
	d.opcode = F8NPU_OP_POOL_MAX;
	d.kernel_h = d.kernel_w = 3;
	d.stride_h = d.stride_w = 2;
	d.pad_top = d.pad_left = 1;
	d.pad_bottom = d.pad_right = 2;
	d.src = f8t_dense(0, F8NPU_TYPE_S8, 0, 1, 5, 5, 3);
	d.dst[0] = f8t_dense(1, F8NPU_TYPE_S8, 0, 1, 3, 3, 3);
	memset(f8t_region(0, 75), 0xfb, 75); /* -5 */
	dst = f8t_region(1, 27);
	run_one(&d, "max pool padding");
	for (unsigned int i = 0; i < 27; i++)
		ck_assert_msg(dst[i] == 0xfb, "output %u is %d, want -5", i, (int8_t)dst[i]);
}
END_TEST

Suite *f8npu_ops_suite(void)
{
	Suite *s = suite_create("f8npu_ops");
	TCase *core = tcase_create("core");
	TCase *limits = tcase_create("limits");

	tcase_add_checked_fixture(core, f8t_setup, f8t_teardown);
	tcase_set_timeout(core, 30);
	tcase_add_loop_test(core, test_ops_conv2d_random_layers, 0, 110);
	tcase_add_loop_test(core, test_ops_depthwise_random_layers, 0, 60);
	tcase_add_loop_test(core, test_ops_fc_full_input_kernel_random_layers, 0, 40);
	tcase_add_loop_test(core, test_ops_conv1x1_random_layers, 0, 40);
	tcase_add_loop_test(core, test_ops_pool_max_random_layers, 0, 60);
	tcase_add_loop_test(core, test_ops_pool_sum_random_layers, 0, 60);
	tcase_add_loop_test(core, test_ops_add_random_layers, 0, 60);
	tcase_add_loop_test(core, test_ops_cost_model_cycles_and_stall, 0, 56);
	tcase_add_test(core, test_ops_max_pool_ignores_padding);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(limits, f8t_setup, f8t_teardown);
	tcase_set_timeout(limits, 30);
	tcase_add_test(limits, test_ops_k65536_extreme_sums_saturate_once_after_bias);
	tcase_add_test(limits, test_ops_k65536_s8_by_s8_max_product);
	tcase_add_test(limits, test_ops_shift_31_and_minus_31);
	tcase_add_test(limits, test_ops_align_31_on_both_operands);
	tcase_add_test(limits, test_ops_s8_outputs_never_minus_128);
	tcase_add_test(limits, test_ops_max_dims_65535);
	tcase_add_test(limits, test_ops_pool_window_255x255);
	tcase_add_test(limits, test_ops_pool_sum_saturates_and_max_of_int_min);
	tcase_add_test(limits, test_ops_strides_beyond_16_bits);
	suite_add_tcase(s, limits);
	return s;
}
