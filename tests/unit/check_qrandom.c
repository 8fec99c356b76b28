// SPDX-License-Identifier: MIT
/*
 * Random integer models (f8-qrandom.h) of zoo architectures: the file image f8_qm_encode
 * makes parses back; the CPU backend gives the reference kernels' logits on it; every
 * CONV / LINEAR input carries non-trivial codes for a random image (neither mostly zero
 * nor mostly saturated, many distinct values); the same seed gives the same bytes and
 * another seed other weights.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cpu.h"
#include "f8-err.h"
#include "f8-net.h"
#include "f8-qmodel.h"
#include "f8-qrandom.h"
#include "f8-test.h"
#include "train-test.h"

struct zoo_case {
	const char *name;
	int images;        /* random images through both forward passes */
};

/* The Fashion-MNIST nets and both 224x224 nets the performance report times. */
static const struct zoo_case cases[] = {
	{ "resnet20", 3 },
	{ "mobilenetv2-small", 3 },
	{ "resnet18", 1 },
	{ "mobilenetv2", 1 },
};

/* The model of @name, seed @seed, and its encoded file image. */
static void make(const char *name, uint64_t seed, struct f8_qm_owned *q, uint8_t **img,
		 size_t *len)
{
	struct f8_err err = { { 0 } };
	struct f8_qm_error qe;
	char *text = f8_zoo_arch(name, &err);

	ck_assert_msg(text, "%s: %s", name, err.msg);
	ck_assert_msg(f8_qm_random(text, seed, name, q, &err) == F8_OK, "%s: %s", name, err.msg);
	ck_assert_msg(f8_qm_encode(&q->m, img, len, &qe) == F8_OK, "%s: encode: %s", name, qe.what);
	free(text);
}

/* The int32 tensor of node @last for @n images [n][h][w][c]: the model cut after it
 * (f8_cpu_forward returns the last node's tensor when classes is its size). */
static int32_t *node_tensor(const struct f8_qm *m, uint32_t last, const uint8_t *img, int n)
{
	const struct f8_qm_node *q = &m->nodes[last];
	struct f8_qm cut = *m;
	struct f8_cpu *p = NULL;
	int32_t *t;
	void *s;

	cut.nnodes = last + 1;
	cut.classes = (uint32_t)q->c * q->h * q->w;
	ck_assert_int_eq(f8_cpu_create(&cut, F8_CPU_ISA_AUTO, &p), F8_OK);
	s = aligned_alloc(64, (f8_cpu_scratch_bytes(p, n) + 63) & ~(size_t)63);
	t = malloc(sizeof(int32_t) * cut.classes * (size_t)n);
	ck_assert(s && t);
	f8_cpu_forward(p, img, n, t, s);
	free(s);
	f8_cpu_free(p);
	return t;
}

/*
 * The codes node @k's requantization (docs/arith.md A4) makes of its input: the share at
 * zero, at the top of the range (either end for s8) and the count of distinct codes.
 */
static void code_stats(const struct f8_qm *m, uint32_t k, const int32_t *x, size_t count,
		       double *zero, double *sat, int *distinct)
{
	const struct f8_qm_node *n = &m->nodes[k];
	const bool sgn = n->flags & F8_QM_F_SIGNED;
	const int shift = m->nodes[n->in[0]].fl_out - n->fl_in, lo = sgn ? -127 : 0, hi = sgn ? 127 : 255;
	static bool seen[256];
	size_t i, nz = 0, ns = 0;
	int d = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < count; i++) {
		double v = nearbyint(ldexp((double)x[i], -shift)); /* half to even: the default mode */
		int c;

		v = v < lo ? lo : v > hi ? hi : v;
		c = (int)v;
		nz += c == 0;
		ns += c == hi || (sgn && c == lo);
		if (!seen[c - lo]) {
			seen[c - lo] = true;
			d++;
		}
	}
	*zero = (double)nz / (double)count;
	*sat = (double)ns / (double)count;
	*distinct = d;
}

START_TEST(test_qrandom_zoo)
{
	const struct zoo_case *zc = &cases[_i];
	struct f8_qm_owned q;
	struct f8_qm_node *nodes;
	char (*names)[F8_QM_NAME_MAX];
	struct f8_qm m;
	struct f8_qm_error qe;
	struct f8t_rng r;
	struct f8_cpu *p = NULL;
	uint8_t *file, *img;
	int32_t *want, *got;
	void *cs, *rs;
	size_t len, isz;
	uint32_t k;
	int b, checked = 0;

	make(zc->name, 7, &q, &file, &len);
	/* the file parses back to the same graph */
	nodes = calloc(q.m.nnodes, sizeof(*nodes));
	names = calloc(F8_QM_MAX_CLASSES, sizeof(*names));
	ck_assert(nodes && names);
	ck_assert_msg(f8_qm_parse(file, len, nodes, q.m.nnodes, names, F8_QM_MAX_CLASSES, &m, &qe) == F8_OK,
		      "%s: node %d: %s", zc->name, qe.node, qe.what);
	ck_assert_uint_eq(m.nnodes, q.m.nnodes);
	ck_assert_str_eq(m.model_name, zc->name);

	/* the CPU backend equals the reference kernels on the parsed model */
	isz = (size_t)m.nodes[0].c * m.nodes[0].h * m.nodes[0].w;
	img = malloc(isz * (size_t)zc->images);
	want = malloc(sizeof(int32_t) * m.classes * (size_t)zc->images);
	got = malloc(sizeof(int32_t) * m.classes * (size_t)zc->images);
	rs = aligned_alloc(8, (f8_qm_scratch_bytes(&m) + 7) & ~(size_t)7);
	ck_assert(img && want && got && rs);
	f8t_rng_init(&r, "qrandom", _i);
	f8t_fill(&r, img, isz * (size_t)zc->images);
	ck_assert_int_eq(f8_cpu_create(&m, F8_CPU_ISA_AUTO, &p), F8_OK);
	cs = aligned_alloc(64, (f8_cpu_scratch_bytes(p, zc->images) + 63) & ~(size_t)63);
	ck_assert(cs);
	f8_cpu_forward(p, img, zc->images, got, cs);
	for (b = 0; b < zc->images; b++)
		f8_qm_forward(&m, img + (size_t)b * isz, want + (size_t)b * m.classes, rs);
	f8_ck_assert_bytes_eq(got, want, sizeof(int32_t) * m.classes * (size_t)zc->images,
			      zc->name);

	/* logits: not one value, not at the int32 limits */
	for (k = 1; k < m.classes && want[k] == want[0]; k++)
		;
	ck_assert_msg(k < m.classes, "%s: every logit is %d", zc->name, want[0]);
	for (k = 0; k < m.classes; k++)
		ck_assert_msg(want[k] > -2147483647 && want[k] < 2147483647, "%s: logit %u saturated",
			      zc->name, k);

	/* every conv / linear reads codes that carry information */
	for (k = 2; k < m.nnodes; k++) {
		const struct f8_qm_node *n = &m.nodes[k], *a = &m.nodes[n->in[0]];
		const size_t count = (size_t)a->c * a->h * a->w;
		double zero, sat;
		int32_t *x;
		int distinct;

		if (n->op != F8_QM_CONV && n->op != F8_QM_LINEAR)
			continue;
		x = node_tensor(&m, (uint32_t)n->in[0], img, 1);
		code_stats(&m, k, x, count, &zero, &sat, &distinct);
		free(x);
		ck_assert_msg(zero < 0.9 && sat < 0.1 && distinct >= 8,
			      "%s: node %u (%s) reads codes %.1f %% zero, %.1f %% saturated, %d distinct",
			      zc->name, k, n->name, 100 * zero, 100 * sat, distinct);
		checked++;
	}
	ck_assert_int_gt(checked, 5);
	free(cs);
	f8_cpu_free(p);
	free(rs);
	free(img);
	free(want);
	free(got);
	free(nodes);
	free(names);
	free(file);
	f8_qm_owned_free(&q);
}
END_TEST

/* A seed is a model: the same seed, the same bytes; another seed, other weights. */
START_TEST(test_qrandom_seed)
{
	struct f8_qm_owned a, b, c;
	uint8_t *fa, *fb, *fc;
	size_t la, lb, lc;

	make("resnet8", 3, &a, &fa, &la);
	make("resnet8", 3, &b, &fb, &lb);
	make("resnet8", 4, &c, &fc, &lc);
	ck_assert_uint_eq(la, lb);
	f8_ck_assert_bytes_eq(fa, fb, la, "resnet8, seed 3 twice");
	ck_assert_uint_eq(la, lc); /* the same shapes */
	ck_assert(memcmp(fa, fc, la) != 0);
	ck_assert(memcmp(a.m.nodes[1].weights, c.m.nodes[1].weights,
			 f8_qm_weight_count(&a.m, &a.m.nodes[1])) != 0);
	free(fa);
	free(fb);
	free(fc);
	f8_qm_owned_free(&a);
	f8_qm_owned_free(&b);
	f8_qm_owned_free(&c);
}
END_TEST

/* Misuse and architectures the integer model cannot express are refused with a status. */
START_TEST(test_qrandom_errors)
{
	struct f8_err err = { { 0 } };
	struct f8_qm_owned q;

	ck_assert_int_eq(f8_qm_random(NULL, 1, "x", &q, &err), F8_ERR_MISUSE);
	ck_assert_int_eq(f8_qm_random("f8arch 1\n", 1, "a name longer than 23 chars", &q, &err),
			 F8_ERR_MISUSE);
	ck_assert_int_lt(f8_qm_random("not an architecture", 1, "x", &q, &err), 0);
	ck_assert_ptr_null(q.m.nodes);
}
END_TEST

Suite *f8_qrandom_suite(void)
{
	Suite *s = suite_create("qrandom");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_qrandom_zoo, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_qrandom_seed);
	tcase_add_test(tc, test_qrandom_errors);
	suite_add_tcase(s, tc);
	return s;
}
