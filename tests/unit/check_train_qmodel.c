// SPDX-License-Identifier: MIT
/*
 * F8Net quantizers (f8-quant.h) against hand-computed values, and the integer model
 * (f8-qmodel.h): encode/parse round trip, every truncation and bit flip refused, every
 * malformed field refused with its node, and the integer forward pass (on sim/'s
 * reference kernels) against a naive implementation written here from docs/arith.md.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-err.h"
#include "f8-net.h"
#include "f8-optim.h"
#include "f8-qexport.h"
#include "f8-qmodel.h"
#include "f8-test.h"
#include "f8-quant.h"
#include "f8-rng.h"
#include "train-test.h"

START_TEST(test_fix_code)
{
	/* round half to even, then clamp; -128 never produced */
	ck_assert_int_eq(f8_fix_code(2.5f, 0, true), 2);
	ck_assert_int_eq(f8_fix_code(3.5f, 0, true), 4);
	ck_assert_int_eq(f8_fix_code(-2.5f, 0, true), -2);
	ck_assert_int_eq(f8_fix_code(-127.5f, 0, true), -127);
	ck_assert_int_eq(f8_fix_code(-1000.0f, 3, true), -127);
	ck_assert_int_eq(f8_fix_code(1000.0f, 3, true), 127);
	ck_assert_int_eq(f8_fix_code(-3.0f, 2, false), 0);
	ck_assert_int_eq(f8_fix_code(255.5f, 0, false), 255);
	ck_assert_int_eq(f8_fix_code(0.0625f, 3, false), 0); /* 0.5 LSB: tie to even 0 */
	ck_assert_int_eq(f8_fix_code(0.1875f, 3, false), 2); /* 1.5 LSB: tie to even 2 */
	ck_assert_int_eq(f8_fix_code(0.30f, 8, false), 77);  /* 76.8 */
	ck_assert(f8_fix_quant(0.30f, 8, false) == 77.0f / 256.0f);
	ck_assert(f8_fix_quant(-0.7f, 1, true) == -0.5f);
	/* straight-through masks: strict, on the rounded code */
	ck_assert(f8_fix_pass(126.0f, 0, true));
	ck_assert(!f8_fix_pass(127.0f, 0, true));
	ck_assert(!f8_fix_pass(126.6f, 0, true)); /* rounds to 127 */
	ck_assert(!f8_fix_pass(-127.0f, 0, true));
	ck_assert(!f8_fix_pass(0.4f, 0, false)); /* rounds to 0 */
	ck_assert(f8_fix_pass(0.6f, 0, false));
	ck_assert(f8_fix_pass(254.0f, 0, false));
	ck_assert(f8_fix_pass(254.5f, 0, false));  /* tie to even: 254 */
	ck_assert(!f8_fix_pass(254.6f, 0, false)); /* rounds to 255 */
}
END_TEST

START_TEST(test_fl_rules)
{
	double e[9] = { 0 };
	float v[64];
	int i;

	ck_assert_int_eq(f8_fl_from_std(1.0, true), 5);   /* floor(log2 40) */
	ck_assert_int_eq(f8_fl_from_std(1.0, false), 6);  /* floor(log2 70) */
	ck_assert_int_eq(f8_fl_from_std(0.0, true), 7);
	ck_assert_int_eq(f8_fl_from_std(0.0, false), 8);
	ck_assert_int_eq(f8_fl_from_std(100.0, true), 0); /* log2 0.4 < 0: FL never negative */
	ck_assert_int_eq(f8_fl_from_std(0.1, true), 7);   /* floor(log2 400) = 8, clamped */
	ck_assert_int_eq(f8_fl_from_std(5.0, true), 3);   /* log2 8 = 3 exactly */
	ck_assert_int_eq(f8_fl_from_std(10.0 / 3.0, false), 4); /* log2 21 = 4.39 */
	/* grid: 3.0 is exact for FL 0..6 (192), clipped from FL 7: the smallest FL wins ties */
	for (i = 0; i < 64; i++)
		v[i] = 3.0f;
	f8_fl_grid_accumulate(v, 64, 1.0f, false, e);
	ck_assert(e[0] == 0 && e[6] == 0 && e[7] > 0);
	ck_assert_int_eq(f8_fl_grid_pick(e, false), 0);
	/* 0.3: the finest grid that does not clip */
	memset(e, 0, sizeof(e));
	for (i = 0; i < 64; i++)
		v[i] = 0.3f;
	f8_fl_grid_accumulate(v, 64, 1.0f, false, e);
	ck_assert_int_eq(f8_fl_grid_pick(e, false), 8);
	/* gain: 0.31 * 4 = 1.24 fits u8 up to FL 7 (158.72), not 8 (317) */
	memset(e, 0, sizeof(e));
	for (i = 0; i < 64; i++)
		v[i] = 0.31f;
	f8_fl_grid_accumulate(v, 64, 4.0f, false, e);
	ck_assert_int_eq(f8_fl_grid_pick(e, false), 7);
	ck_assert_int_eq(f8_fix_bias(2.5, 0), 2);
	ck_assert_int_eq(f8_fix_bias(-1.5, 1), -3);
	ck_assert_int_eq(f8_fix_bias(1e30, 4), 2147483647);
	ck_assert_int_eq(f8_fix_bias(-1e30, 4), -2147483647);
}
END_TEST

/* ---- a small hand-made integer model ---- */

struct tiny {
	struct f8_qm_node nodes[9];
	char names[4][F8_QM_NAME_MAX];
	int8_t w1[6 * 3 * 3 * 2], w2[6 * 3 * 3], w3[6 * 3 * 3 * 6], w4[4 * 6];
	int32_t b1[6], b2[6], b3[6], b4[4];
	struct f8_qm m;
};

static void node(struct f8_qm_node *n, const char *name, unsigned op, int a, int b, int c, int h,
		 int w)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->op = (uint8_t)op;
	n->in[0] = a;
	n->in[1] = b;
	n->c = (uint16_t)c;
	n->h = (uint16_t)h;
	n->w = (uint16_t)w;
}

static void fill8(struct f8_rng *r, int8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (int8_t)((int)f8_rng_below(r, 255) - 127);
}

static void fill32(struct f8_rng *r, int32_t *p, size_t n, int range)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (int32_t)f8_rng_below(r, (uint32_t)(2 * range + 1)) - range;
}

/*
 * image 2x7x7 -> conv 3x3 p1 (6, relu) -> dw 3x3 s2 p1 (signed input) -> conv 3x3 p1 (6)
 * -> add(dw, conv) relu -> maxpool 2 s1 -> sumpool 3 (shift 3) -> linear 4
 */
static void tiny_make(struct tiny *t, uint64_t seed)
{
	struct f8_rng r;
	int i;

	memset(t, 0, sizeof(*t));
	f8_rng_init(&r, seed, 7);
	node(&t->nodes[0], "image", F8_QM_INPUT, -1, -1, 2, 7, 7);
	t->nodes[0].fl_out = 8;
	node(&t->nodes[1], "c1", F8_QM_CONV, 0, -1, 6, 7, 7);
	t->nodes[1].k = 3, t->nodes[1].stride = 1, t->nodes[1].pad = 1;
	t->nodes[1].fl_in = 6, t->nodes[1].fl_w = 5, t->nodes[1].fl_out = 11;
	t->nodes[1].flags = F8_QM_F_RELU;
	node(&t->nodes[2], "dw", F8_QM_CONV, 1, -1, 6, 4, 4);
	t->nodes[2].k = 3, t->nodes[2].stride = 2, t->nodes[2].pad = 1;
	t->nodes[2].fl_in = 3, t->nodes[2].fl_w = 7, t->nodes[2].fl_out = 10;
	t->nodes[2].flags = F8_QM_F_DEPTHWISE | F8_QM_F_SIGNED;
	node(&t->nodes[3], "c3", F8_QM_CONV, 2, -1, 6, 4, 4);
	t->nodes[3].k = 3, t->nodes[3].stride = 1, t->nodes[3].pad = 1;
	t->nodes[3].fl_in = 7, t->nodes[3].fl_w = 6, t->nodes[3].fl_out = 13;
	t->nodes[3].flags = F8_QM_F_SIGNED;
	node(&t->nodes[4], "add", F8_QM_ADD, 2, 3, 6, 4, 4);
	t->nodes[4].fl_out = 13;
	t->nodes[4].flags = F8_QM_F_RELU;
	node(&t->nodes[5], "max", F8_QM_MAXPOOL, 4, -1, 6, 3, 3);
	t->nodes[5].k = 2, t->nodes[5].stride = 1;
	t->nodes[5].fl_out = 13;
	node(&t->nodes[6], "sum", F8_QM_SUMPOOL, 5, -1, 6, 1, 1);
	t->nodes[6].k = 3, t->nodes[6].stride = 1, t->nodes[6].pool_shift = 3;
	t->nodes[6].fl_out = 16;
	node(&t->nodes[7], "fc", F8_QM_LINEAR, 6, -1, 4, 1, 1);
	t->nodes[7].fl_in = 8, t->nodes[7].fl_w = 7, t->nodes[7].fl_out = 15;
	fill8(&r, t->w1, sizeof(t->w1));
	fill8(&r, t->w2, sizeof(t->w2));
	fill8(&r, t->w3, sizeof(t->w3));
	fill8(&r, t->w4, sizeof(t->w4));
	fill32(&r, t->b1, 6, 1 << 14);
	fill32(&r, t->b2, 6, 1 << 12);
	fill32(&r, t->b3, 6, 1 << 16);
	fill32(&r, t->b4, 4, 1 << 12);
	t->nodes[1].weights = t->w1, t->nodes[1].bias = t->b1;
	t->nodes[2].weights = t->w2, t->nodes[2].bias = t->b2;
	t->nodes[3].weights = t->w3, t->nodes[3].bias = t->b3;
	t->nodes[7].weights = t->w4, t->nodes[7].bias = t->b4;
	for (i = 0; i < 4; i++)
		snprintf(t->names[i], F8_QM_NAME_MAX, "class%d", i);
	memset(&t->m, 0, sizeof(t->m));
	t->m.nnodes = 8;
	t->m.nodes = t->nodes;
	t->m.classes = 4;
	t->m.class_names = t->names;
	snprintf(t->m.model_name, 24, "tiny");
}

/* ---- a naive integer reference, written from docs/arith.md, NCHW ---- */

static int64_t n_shift(int64_t v, int s)
{
	int64_t d, q, r;

	if (s <= 0)
		return v * ((int64_t)1 << -s);
	d = (int64_t)1 << s;
	q = v / d; /* truncates toward zero */
	r = v - q * d;
	if (r < 0) {
		q -= 1;
		r += d;
	}
	if (2 * r > d || (2 * r == d && (q % 2 != 0)))
		q += 1;
	return q;
}

static int64_t n_clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int64_t n_sat32(int64_t v)
{
	return n_clamp(v, -2147483647LL, 2147483647LL);
}

/* value of node @i at (c, y, x); all outputs computed by recursion-free loops below */
static void naive_forward(const struct f8_qm *m, const uint8_t *pix_chw, int64_t out[9][6 * 7 * 7])
{
	uint32_t i;

	for (i = 0; i < m->nnodes; i++) {
		const struct f8_qm_node *n = &m->nodes[i];
		const struct f8_qm_node *a = n->in[0] >= 0 ? &m->nodes[n->in[0]] : NULL;
		int c, y, x, ci, ky, kx;

		for (c = 0; c < n->c; c++)
			for (y = 0; y < n->h; y++)
				for (x = 0; x < n->w; x++) {
					int64_t v = 0;
					bool any = false;

					if (n->op == F8_QM_INPUT) {
						v = pix_chw[(c * n->h + y) * n->w + x];
					} else if (n->op == F8_QM_CONV || n->op == F8_QM_LINEAR) {
						const bool sg = n->flags & F8_QM_F_SIGNED;
						const int kh = n->op == F8_QM_LINEAR ? a->h : n->k;
						const int kw = n->op == F8_QM_LINEAR ? a->w : n->k;
						const int st = n->op == F8_QM_LINEAR ? 1 : n->stride;
						const int pd = n->op == F8_QM_LINEAR ? 0 : n->pad;
						const bool dw = n->flags & F8_QM_F_DEPTHWISE;

						v = n->bias[c];
						for (ky = 0; ky < kh; ky++)
							for (kx = 0; kx < kw; kx++)
								for (ci = 0; ci < (dw ? 1 : a->c); ci++) {
									int iy = y * st - pd + ky, ix = x * st - pd + kx;
									int cc = dw ? c : ci;
									int64_t xv, wv;

									if (iy < 0 || ix < 0 || iy >= a->h || ix >= a->w)
										continue;
									xv = n_clamp(n_shift(out[n->in[0]][(cc * a->h + iy) * a->w + ix],
											      a->fl_out - n->fl_in),
										     sg ? -127 : 0, sg ? 127 : 255);
									wv = dw ? n->weights[(c * kh + ky) * kw + kx]
										: n->weights[((c * kh + ky) * kw + kx) * a->c + ci];
									v += xv * wv;
								}
						v = n_sat32(v);
						if (n->flags & F8_QM_F_RELU)
							v = v < 0 ? 0 : v;
					} else if (n->op == F8_QM_ADD) {
						const struct f8_qm_node *b = &m->nodes[n->in[1]];
						int64_t p = out[n->in[0]][(c * n->h + y) * n->w + x];
						int64_t q = out[n->in[1]][(c * n->h + y) * n->w + x];

						v = n_sat32(n_sat32(p * ((int64_t)1 << (n->fl_out - a->fl_out))) +
							    n_sat32(q * ((int64_t)1 << (n->fl_out - b->fl_out))));
						if (n->flags & F8_QM_F_RELU)
							v = v < 0 ? 0 : v;
					} else {
						v = 0;
						for (ky = 0; ky < n->k; ky++)
							for (kx = 0; kx < n->k; kx++) {
								int iy = y * n->stride - n->pad + ky;
								int ix = x * n->stride - n->pad + kx;
								int64_t e;

								if (iy < 0 || ix < 0 || iy >= a->h || ix >= a->w)
									continue;
								e = out[n->in[0]][(c * a->h + iy) * a->w + ix];
								if (n->op == F8_QM_SUMPOOL)
									v += e;
								else if (!any || e > v)
									v = e;
								any = true;
							}
						v = n_sat32(v);
					}
					out[i][(c * n->h + y) * n->w + x] = v;
				}
	}
}

static uint8_t *aligned_copy(const uint8_t *src, size_t n)
{
	uint8_t *p = aligned_alloc(64, (n + 63) & ~(size_t)63);

	ck_assert_ptr_nonnull(p);
	memcpy(p, src, n);
	return p;
}

START_TEST(test_qm_forward_naive)
{
	static int64_t ref[9][6 * 7 * 7];
	struct tiny t;
	struct f8_qm_node nodes[9];
	char names[4][F8_QM_NAME_MAX];
	struct f8_qm m;
	struct f8_qm_error qe;
	struct f8_rng r;
	uint8_t *img, *buf, pix_chw[2 * 49], pix_hwc[2 * 49];
	size_t len;
	int32_t logits[4];
	void *scratch;
	int trial, c, p;

	tiny_make(&t, 1000 + (uint64_t)_i);
	ck_assert_int_eq(f8_qm_encode(&t.m, &img, &len, &qe), F8_OK);
	buf = aligned_copy(img, len);
	ck_assert_uint_eq(f8_qm_peek_nodes(buf, len), 8);
	ck_assert_int_eq(f8_qm_parse(buf, len, nodes, 9, names, 4, &m, &qe), F8_OK);
	ck_assert_str_eq(m.model_name, "tiny");
	ck_assert_str_eq(m.class_names[3], "class3");
	ck_assert_int_eq(memcmp(m.nodes[3].weights, t.w3, sizeof(t.w3)), 0);
	ck_assert_int_eq(memcmp(m.nodes[7].bias, t.b4, sizeof(t.b4)), 0);
	scratch = aligned_alloc(64, (f8_qm_scratch_bytes(&m) + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(scratch);
	f8_rng_init(&r, 77, (uint64_t)_i);
	for (trial = 0; trial < 20; trial++) {
		for (p = 0; p < 49; p++)
			for (c = 0; c < 2; c++) {
				uint8_t v = (uint8_t)f8_rng_below(&r, 256);

				pix_hwc[p * 2 + c] = v;
				pix_chw[c * 49 + p] = v;
			}
		f8_qm_forward(&m, pix_hwc, logits, scratch);
		naive_forward(&m, pix_chw, ref);
		for (c = 0; c < 4; c++)
			ck_assert_msg(logits[c] == ref[7][c], "trial %d logit %d: %d, naive %lld", trial, c,
				      logits[c], (long long)ref[7][c]);
	}
	free(scratch);
	free(buf);
	free(img);
}
END_TEST

START_TEST(test_qm_truncated_and_flipped)
{
	struct tiny t;
	struct f8_qm_node nodes[9];
	char names[4][F8_QM_NAME_MAX];
	struct f8_qm m;
	struct f8_qm_error qe;
	uint8_t *img, *buf;
	size_t len, cut, i;
	int bit;

	tiny_make(&t, 5);
	ck_assert_int_eq(f8_qm_encode(&t.m, &img, &len, &qe), F8_OK);
	for (cut = 0; cut < len; cut++) {
		buf = aligned_copy(img, len);
		ck_assert_int_ne(f8_qm_parse(buf, cut, nodes, 9, names, 4, &m, &qe), F8_OK);
		free(buf);
	}
	buf = aligned_copy(img, len);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(f8_qm_parse(buf, len, nodes, 9, names, 4, &m, &qe) != F8_OK,
				      "flip of bit %d in byte %zu accepted", bit, i);
			ck_assert_ptr_nonnull(qe.what);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(f8_qm_parse(buf, len, nodes, 9, names, 4, &m, &qe), F8_OK);
	/* trailing bytes, wrong version, too little node storage */
	free(buf);
	buf = aligned_alloc(64, (len + 4 + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, img, len);
	memset(buf + len, 0, 4);
	ck_assert_int_eq(f8_qm_parse(buf, len + 4, nodes, 9, names, 4, &m, &qe), F8_ERR_FORMAT);
	ck_assert_int_eq(f8_qm_parse(buf, len, nodes, 7, names, 4, &m, &qe), F8_ERR_MISUSE);
	/* an announced node count never sizes storage beyond what the image holds */
	ck_assert_uint_eq(f8_qm_peek_nodes(buf, len), 8);
	buf[16] = 0xff, buf[17] = 0xff, buf[18] = 0xff, buf[19] = 0xff;
	ck_assert_uint_eq(f8_qm_peek_nodes(buf, len), 0);
	buf[16] = 200, buf[17] = 0, buf[18] = 0, buf[19] = 0; /* 200 nodes: 19 KiB, not in 1.5 KiB */
	ck_assert_uint_eq(f8_qm_peek_nodes(buf, len), 0);
	free(buf);
	free(img);
}
END_TEST

/* Each malformed field is refused by the shared checks, naming the node. */
START_TEST(test_qm_bad_fields)
{
	struct tiny t;
	struct f8_qm_error qe;
	uint8_t *img;
	size_t len;

	tiny_make(&t, 9);
	ck_assert_int_eq(f8_qm_check(&t.m, &qe), F8_OK);
#define BAD(node_i, stmt, undo, want)                                            \
	do {                                                                      \
		stmt;                                                             \
		ck_assert_int_eq(f8_qm_check(&t.m, &qe), want);                   \
		ck_assert_int_eq(qe.node, node_i);                                \
		ck_assert_int_eq(f8_qm_encode(&t.m, &img, &len, &qe), want);      \
		ck_assert_ptr_null(img);                                          \
		undo;                                                             \
	} while (0)
	BAD(1, t.nodes[1].fl_out = 12, t.nodes[1].fl_out = 11, F8_ERR_FORMAT);
	BAD(1, t.nodes[1].fl_in = 9, t.nodes[1].fl_in = 6, F8_ERR_RANGE);
	BAD(2, t.nodes[2].fl_in = 8, t.nodes[2].fl_in = 3, F8_ERR_RANGE); /* s8: FL <= 7 */
	BAD(1, t.nodes[1].fl_w = 8, t.nodes[1].fl_w = 5, F8_ERR_RANGE);
	BAD(1, t.w1[5] = -128, t.w1[5] = 0, F8_ERR_RANGE);
	BAD(3, t.b3[2] = INT32_MIN, t.b3[2] = 0, F8_ERR_RANGE);
	BAD(2, t.nodes[2].in[0] = 2, t.nodes[2].in[0] = 1, F8_ERR_FORMAT);
	BAD(4, t.nodes[4].in[1] = 1, t.nodes[4].in[1] = 3, F8_ERR_FORMAT); /* shapes differ */
	BAD(4, t.nodes[4].fl_out = 12, t.nodes[4].fl_out = 13, F8_ERR_FORMAT);
	BAD(2, t.nodes[2].h = 5, t.nodes[2].h = 4, F8_ERR_FORMAT);
	BAD(2, t.nodes[2].pad = 3, t.nodes[2].pad = 1, F8_ERR_RANGE);
	BAD(6, t.nodes[6].pool_shift = 2, t.nodes[6].pool_shift = 3, F8_ERR_FORMAT);
	BAD(5, t.nodes[5].flags = F8_QM_F_RELU, t.nodes[5].flags = 0, F8_ERR_FORMAT);
	BAD(0, t.nodes[0].fl_out = 7, t.nodes[0].fl_out = 8, F8_ERR_FORMAT);
	BAD(1, t.nodes[1].op = 9, t.nodes[1].op = F8_QM_CONV, F8_ERR_FORMAT);
	BAD(1, t.nodes[1].op = F8_QM_INPUT, t.nodes[1].op = F8_QM_CONV, F8_ERR_FORMAT);
	BAD(3, t.nodes[3].name[0] = 0x1b, t.nodes[3].name[0] = 'c', F8_ERR_FORMAT);
	BAD(-1, t.m.classes = 5, t.m.classes = 4, F8_ERR_FORMAT);
	BAD(-1, t.names[1][0] = 0, t.names[1][0] = 'c', F8_ERR_FORMAT);
	BAD(-1, t.m.model_name[20] = 'x', t.m.model_name[20] = 0, F8_ERR_FORMAT); /* junk after NUL */
#undef BAD
	ck_assert_msg(f8_qm_check(&t.m, &qe) == F8_OK, "restored model refused: node %d: %s", qe.node,
		      qe.what);
}
END_TEST

/* ---- the same model as a command stream on the functional model ---- */

static struct f8npu_tensor_ref tref(unsigned int region, unsigned int type, uint32_t off,
				   const struct f8_qm_node *n)
{
	struct f8npu_tensor_ref t;
	const uint32_t es = type == F8NPU_TYPE_S32 ? 4 : 1;

	memset(&t, 0, sizeof(t));
	t.region = (uint8_t)region;
	t.type = (uint8_t)type;
	t.offset = off;
	t.n = 1;
	t.h = n->h;
	t.w = n->w;
	t.c = n->c;
	t.stride_w = es * n->c;
	t.stride_h = t.stride_w * n->w;
	t.stride_n = t.stride_h * n->h;
	return t;
}

/*
 * One descriptor per node (plus a requantizing ADD before each conv / linear, which is
 * what a producer's epilogue would fuse): region 0 holds weights and biases, region 1 every
 * node's int32 output and the 8-bit inputs, region 2 the image. The logits must equal
 * f8_qm_forward's, bit for bit: the integer evaluation computes what the device computes.
 */
START_TEST(test_qm_as_stream)
{
	struct tiny t;
	struct f8npu_desc d[20];
	struct f8npu_job_result res;
	uint32_t act_off[9], in8_off[9], w_off[9], b_off[9], wsize = 0, asize = 0, i;
	uint8_t *wreg, *areg, *img;
	int32_t logits[4];
	void *scratch;
	struct f8_rng r;
	int nd = 0, trial, c;

	tiny_make(&t, 300 + (uint64_t)_i);
	for (i = 0; i < t.m.nnodes; i++) {
		const struct f8_qm_node *n = &t.m.nodes[i];
		const size_t nw = f8_qm_weight_count(&t.m, n);

		act_off[i] = asize;
		asize += ((uint32_t)(n->c * n->h * n->w) * 4 + 63) & ~63u;
		if (nw) {
			const struct f8_qm_node *a = &t.m.nodes[n->in[0]];

			in8_off[i] = asize;
			asize += ((uint32_t)(a->c * a->h * a->w) + 63) & ~63u;
			w_off[i] = wsize;
			wsize += ((uint32_t)nw + 63) & ~63u;
			b_off[i] = wsize;
			wsize += ((uint32_t)n->c * 4 + 63) & ~63u;
		}
	}
	wreg = f8t_region(0, wsize);
	areg = f8t_region(1, asize);
	img = f8t_region(2, (uint64_t)t.nodes[0].c * t.nodes[0].h * t.nodes[0].w);
	for (i = 1; i < t.m.nnodes; i++) {
		const struct f8_qm_node *n = &t.m.nodes[i];

		if (f8_qm_weight_count(&t.m, n)) {
			memcpy(wreg + w_off[i], n->weights, f8_qm_weight_count(&t.m, n));
			memcpy(wreg + b_off[i], n->bias, 4u * n->c); /* little-endian host */
		}
	}
	memset(d, 0, sizeof(d));
	for (i = 0; i < t.m.nnodes; i++) {
		const struct f8_qm_node *n = &t.m.nodes[i];
		const struct f8_qm_node *a = n->in[0] >= 0 ? &t.m.nodes[n->in[0]] : NULL;
		struct f8npu_desc *x;

		if (n->op == F8_QM_CONV || n->op == F8_QM_LINEAR) {
			const unsigned int t8 = (n->flags & F8_QM_F_SIGNED) ? F8NPU_TYPE_S8 : F8NPU_TYPE_U8;

			x = &d[nd++]; /* requantize the producer's int32 tensor (ADD: no window) */
			x->opcode = F8NPU_OP_ADD;
			x->src = tref(1, F8NPU_TYPE_S32, act_off[n->in[0]], a);
			x->dst[0] = tref(1, t8, in8_off[i], a);
			x->out_shift[0] = (int8_t)(a->fl_out - n->fl_in);
			x = &d[nd++];
			x->opcode = F8NPU_OP_CONV2D;
			x->flags = F8NPU_FLAG_BIAS | ((n->flags & F8_QM_F_RELU) ? F8NPU_FLAG_RELU : 0) |
				   ((n->flags & F8_QM_F_DEPTHWISE) ? F8NPU_FLAG_DEPTHWISE : 0);
			x->kernel_h = (uint8_t)(n->op == F8_QM_LINEAR ? a->h : n->k);
			x->kernel_w = (uint8_t)(n->op == F8_QM_LINEAR ? a->w : n->k);
			x->stride_h = x->stride_w = (uint8_t)(n->op == F8_QM_LINEAR ? 1 : n->stride);
			x->pad_top = x->pad_bottom = x->pad_left = x->pad_right = n->pad;
			x->src = tref(1, t8, in8_off[i], a);
			x->weights.region = 0;
			x->weights.offset = w_off[i];
			x->bias.region = 0;
			x->bias.offset = b_off[i];
		} else {
			x = &d[nd++];
			if (n->op == F8_QM_INPUT) {
				x->opcode = F8NPU_OP_ADD;
				x->src = tref(2, F8NPU_TYPE_U8, 0, n);
			} else if (n->op == F8_QM_ADD) {
				const struct f8_qm_node *b = &t.m.nodes[n->in[1]];

				x->opcode = F8NPU_OP_ADD;
				x->flags = F8NPU_FLAG_AUX | ((n->flags & F8_QM_F_RELU) ? F8NPU_FLAG_RELU : 0);
				x->src = tref(1, F8NPU_TYPE_S32, act_off[n->in[0]], a);
				x->aux = tref(1, F8NPU_TYPE_S32, act_off[n->in[1]], b);
				x->align_src = (uint8_t)(n->fl_out - a->fl_out);
				x->align_aux = (uint8_t)(n->fl_out - b->fl_out);
			} else {
				x->opcode = n->op == F8_QM_MAXPOOL ? F8NPU_OP_POOL_MAX : F8NPU_OP_POOL_SUM;
				x->kernel_h = x->kernel_w = n->k;
				x->stride_h = x->stride_w = n->stride;
				x->pad_top = x->pad_bottom = x->pad_left = x->pad_right = n->pad;
				x->src = tref(1, F8NPU_TYPE_S32, act_off[n->in[0]], a);
			}
		}
		x->dst[0] = tref(1, F8NPU_TYPE_S32, act_off[i], n);
	}
	d[nd++].opcode = F8NPU_OP_END;
	f8t_stream(d, (uint32_t)nd);
	scratch = f8t_calloc(f8_qm_scratch_bytes(&t.m) + 64);
	f8_rng_init(&r, 91, (uint64_t)_i);
	for (trial = 0; trial < 5; trial++) {
		for (c = 0; c < 2 * 49; c++)
			img[c] = (uint8_t)f8_rng_below(&r, 256);
		f8t_run_stream((uint32_t)nd, &res);
		ck_assert_msg(res.done && res.err == F8NPU_ERR_NONE, "stream: error %u at descriptor %u",
			      res.err, res.err_index);
		f8_qm_forward(&t.m, img, logits, (void *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63));
		ck_assert_int_eq(memcmp(areg + act_off[t.m.nnodes - 1], logits, sizeof(logits)), 0);
	}
}
END_TEST

/*
 * F8Net's fake quantization in eval mode is the integer model's arithmetic: a small residual
 * network with PACT, trained a few fake-quantized steps on random images (so alphas, running
 * FLs and BN statistics move), exported by f8_qm_export and run by f8_qm_forward, gives int32
 * logits equal to the simulation's float logits times 2^FL_out, for every image and class.
 * The simulation's products and sums are exact in float here (at most 8*9 products of 8-bit
 * codes), so any difference is a difference of arithmetic, not of rounding.
 */
START_TEST(test_fq_equals_integer)
{
	static const char text[] = "f8arch 1 input=raw clip=pact quant=f8net\n"
				   "x = input c=1 h=6 w=6\n"
				   "c1 = conv out=8 k=3 p=1\n"
				   "b1 = bn\n"
				   "r1 = relu\n"
				   "c2 = conv out=8 k=3 p=1\n"
				   "b2 = bn\n"
				   "s = add b2 r1\n"
				   "r2 = relu\n"
				   "c3 = conv out=8 k=3 s=2 p=1\n"
				   "b3 = bn\n"
				   "r3 = relu\n"
				   "g = avgpool k=global\n"
				   "fc = linear out=3\n";
	enum { N = 32, IMG = 36, STEPS = 6 };
	struct f8_err err = { "" };
	struct f8_net *net = f8_net_parse(text, &err);
	struct f8_sgd opt = { 0 };
	const struct f8_sgd_cfg sc = { .momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true };
	struct f8_dataset ds = { .n = N, .c = 1, .h = 6, .w = 6, .classes = 3 };
	struct f8_export_cfg ec = { .calib_images = 1, .batch = 1, .model_name = "fq" };
	struct f8_qm_owned qm;
	struct f8_rng r;
	float x[N * IMG];
	int lab[N], i, k, step, fl_out;
	uint8_t *scratch;
	const float *y;

	ck_assert_msg(net, "%s", err.msg);
	ck_assert(net->quant && f8_net_quant_trained(net));
	f8_net_init(net, 3);
	ds.pixels = malloc(N * IMG);
	ds.labels = malloc(N);
	ck_assert(ds.pixels && ds.labels);
	f8_rng_init(&r, 77, 0);
	for (i = 0; i < N * IMG; i++) {
		ds.pixels[i] = (uint8_t)f8_rng_below(&r, 256);
		x[i] = (float)ds.pixels[i] / 256.0f; /* raw pixels, FL 8 */
	}
	for (i = 0; i < N; i++)
		lab[i] = ds.labels[i] = (uint8_t)f8_rng_below(&r, 3);
	ck_assert_int_eq(f8_net_plan(net, N, &err), F8_OK);
	ck_assert_int_eq(f8_sgd_init(&opt, &sc, net), F8_OK);
	for (step = 0; step < STEPS; step++) {
		int correct;

		f8_net_forward(net, x, N, true);
		f8_net_loss(net, lab, N, &correct);
		f8_net_backward(net, N);
		f8_sgd_step(&opt, net, 0.05f);
	}
	ck_assert_float_ne(net->param[net->params[net->layers[4].clip].off], 8.0f); /* alpha moved */
	ec.norm = f8_net_input_norm(net);
	ck_assert_int_eq(f8_qm_export(net, &ds, &ec, &qm, &err), F8_OK);
	ck_assert_int_eq(f8_net_plan(net, N, &err), F8_OK);
	y = f8_net_forward(net, x, N, false);
	fl_out = qm.m.nodes[qm.m.nnodes - 1].fl_out;
	scratch = aligned_alloc(64, (f8_qm_scratch_bytes(&qm.m) + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(scratch);
	for (i = 0; i < N; i++) {
		int32_t logits[3];

		f8_qm_forward(&qm.m, ds.pixels + (size_t)i * IMG, logits, scratch);
		for (k = 0; k < 3; k++)
			ck_assert_msg((double)logits[k] == ldexp((double)y[i * 3 + k], fl_out),
				      "image %d class %d: integer %d, simulation %.9g * 2^%d", i, k,
				      logits[k], (double)y[i * 3 + k], fl_out);
	}
	free(scratch);
	f8_qm_owned_free(&qm);
	f8_sgd_free(&opt);
	f8_net_free(net);
	free(ds.pixels);
	free(ds.labels);
}
END_TEST

Suite *f8_train_qmodel_suite(void)
{
	Suite *s = suite_create("train_qmodel");
	TCase *tc = tcase_create("qmodel");

	tcase_add_test(tc, test_fix_code);
	tcase_add_test(tc, test_fl_rules);
	tcase_add_loop_test(tc, test_qm_forward_naive, 0, 4);
	tcase_add_test(tc, test_qm_truncated_and_flipped);
	tcase_add_test(tc, test_qm_bad_fields);
	tcase_add_test(tc, test_fq_equals_integer);
	suite_add_tcase(s, tc);
	tc = tcase_create("qmodel_device");
	tcase_add_checked_fixture(tc, f8t_setup, f8t_teardown);
	tcase_add_loop_test(tc, test_qm_as_stream, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}
