// SPDX-License-Identifier: MIT
/*
 * The CPU backend (f8-cpu.h) against f8_qm_forward (sim/'s reference kernels), bit for bit:
 * random models with every op and flag, odd sizes, strides, padding, depthwise, signed
 * inputs, residual adds at different FLs, sum pools, saturating biases and shifts; each
 * ISA forced in turn. Not only the logits: every node's whole int32 tensor is compared, by
 * running the model cut after that node (both forward passes return the last node's tensor
 * when `classes` is set to its size). A hand-made model pins rounding ties and saturation
 * to values worked out from docs/arith.md.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-cpu.h"
#include "f8-err.h"
#include "f8-par.h"
#include "f8-qmodel.h"
#include "f8-test.h"
#include "qm-random.h"
#include "train-test.h"

#define MAXB 4
#define NMODELS 80

static const enum f8_cpu_isa isas[] = { F8_CPU_ISA_PORTABLE, F8_CPU_ISA_AVX2,
					F8_CPU_ISA_AVX512VNNI };

static void *scratch_alloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);

	ck_assert(p);
	return p;
}

/* Split every node over the pool, whatever its size. */
static const struct f8_cpu_opts split_all = { .split_layers = true, .split_min = 1 };

static void check_images(const int32_t *got, const int32_t *want, size_t el, int nimg,
			 const char *what, uint32_t last, const struct f8_qm_node *n,
			 enum f8_cpu_isa isa, const char *how)
{
	int b;

	for (b = 0; b < nimg; b++) {
		char msg[200];

		snprintf(msg, sizeof(msg), "%s, node %u (%s), image %d of %d, %s, %s", what, last,
			 f8_qm_op_name(n->op), b, nimg, f8_cpu_isa_name(isa), how);
		f8_ck_assert_bytes_eq(got + (size_t)b * el, want + (size_t)b * el, el * 4, msg);
	}
}

/*
 * Node @last's whole tensor for @nimg images: f8_qm_forward image by image, then the CPU
 * backend on each ISA as one batch (and one image at a time on the first), with every node
 * split over the pool's threads, and with the smallest cache blocks (K blocks of one tap:
 * partial sums; chunks of one tile), serial and split; all equal.
 */
static void compare_cut(const struct f8_qm *full, uint32_t last, const uint8_t *img, int nimg,
			const char *what)
{
	const struct f8_qm_node *n = &full->nodes[last];
	const size_t el = (size_t)n->c * n->h * n->w, isz = (size_t)full->nodes[0].c *
								 full->nodes[0].h * full->nodes[0].w;
	struct f8_qm m = *full;
	int32_t *want = malloc(sizeof(int32_t) * el * MAXB), *got = malloc(sizeof(int32_t) * el * MAXB);
	void *rs;
	size_t t;
	int b;

	ck_assert(want && got);
	m.nnodes = last + 1;
	m.classes = (uint32_t)el; /* both passes return the last node's tensor */
	rs = scratch_alloc(f8_qm_scratch_bytes(&m));
	for (b = 0; b < nimg; b++)
		f8_qm_forward(&m, img + (size_t)b * isz, want + (size_t)b * el, rs);
	free(rs);
	for (t = 0; t < sizeof(isas) / sizeof(isas[0]); t++) {
		struct f8_cpu *p = NULL;
		void *cs;

		if (!f8_cpu_isa_supported(isas[t])) {
			/* refused, not silently run on another ISA */
			ck_assert_int_eq(f8_cpu_create(&m, isas[t], &p), F8_ERR_RANGE);
			ck_assert_ptr_null(p);
			continue;
		}
		ck_assert_int_eq(f8_cpu_create(&m, isas[t], &p), F8_OK);
		ck_assert_int_eq(f8_cpu_plan_isa(p), isas[t]);
		cs = scratch_alloc(f8_cpu_scratch_bytes(p, nimg));
		memset(got, 0x5a, sizeof(int32_t) * el * MAXB);
		f8_cpu_forward(p, img, nimg, got, cs);
		for (b = 0; b < nimg; b++) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s, node %u (%s), image %d of %d, %s", what, last,
				 f8_qm_op_name(n->op), b, nimg, f8_cpu_isa_name(isas[t]));
			f8_ck_assert_bytes_eq(got + (size_t)b * el, want + (size_t)b * el, el * 4, msg);
		}
		if (t == 0 && nimg > 1) { /* the batch does not change an image's numbers */
			memset(got, 0x5a, sizeof(int32_t) * el);
			f8_cpu_forward(p, img + isz, 1, got, cs);
			f8_ck_assert_bytes_eq(got, want + el, el * 4, "one image alone");
		}
		/* every node split over the pool (f8_par_threads() of the test), every item */
		memset(got, 0x5a, sizeof(int32_t) * el * MAXB);
		f8_cpu_forward_ex(p, img, nimg, got, cs, &split_all);
		check_images(got, want, el, nimg, what, last, n, isas[t], "split over threads");
		free(cs);
		f8_cpu_free(p);
		/* K blocks of one tap (partial sums in the output) and chunks of one tile */
		f8_cpu_set_blocking(1, 1);
		ck_assert_int_eq(f8_cpu_create(&m, isas[t], &p), F8_OK);
		f8_cpu_set_blocking(0, 0);
		cs = scratch_alloc(f8_cpu_scratch_bytes(p, nimg));
		memset(got, 0x5a, sizeof(int32_t) * el * MAXB);
		f8_cpu_forward(p, img, nimg, got, cs);
		check_images(got, want, el, nimg, what, last, n, isas[t], "K blocks of one tap");
		memset(got, 0x5a, sizeof(int32_t) * el * MAXB);
		f8_cpu_forward_ex(p, img, nimg, got, cs, &split_all);
		check_images(got, want, el, nimg, what, last, n, isas[t], "K blocks, split");
		free(cs);
		f8_cpu_free(p);
	}
	free(want);
	free(got);
}

static uint8_t *images(struct f8t_rng *r, const struct f8_qm *m, int nimg)
{
	const size_t isz = (size_t)m->nodes[0].c * m->nodes[0].h * m->nodes[0].w;
	uint8_t *img = malloc(isz * MAXB);
	size_t i;

	ck_assert(img);
	f8t_fill(r, img, isz * (size_t)nimg);
	if (f8t_chance(r, 30)) /* saturated images */
		memset(img, 0xff, isz);
	for (i = 0; i < isz && f8t_chance(r, 20); i++) /* small values: ties of small shifts */
		img[i] = (uint8_t)(img[i] & 7);
	return img;
}

START_TEST(test_cpu_random_models)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	struct f8_qm_error e;
	uint8_t *img;
	uint32_t i;
	int nimg;

	ck_assert(g);
	f8t_qm_gen_make(g, "cpu_model", _i);
	ck_assert_msg(f8_qm_check(&g->m, &e) == F8_OK, "generated model %d: node %d: %s", _i, e.node,
		      e.what);
	nimg = 1 + (int)f8t_below(&g->r, MAXB);
	img = images(&g->r, &g->m, nimg);
	/* 3 threads on 2 cores too: items in any order and interleaving */
	ck_assert_int_eq(f8_par_set_threads(3), F8_OK);
	for (i = 1; i < g->m.nnodes; i++)
		compare_cut(&g->m, i, img, nimg, g->m.model_name);
	ck_assert_int_eq(f8_par_set_threads(1), F8_OK);
	free(img);
	f8t_qm_gen_free(g);
	free(g);
}
END_TEST

/* The generator produces every op and flag over the random models above. */
START_TEST(test_cpu_coverage)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	unsigned int op;
	int i;

	ck_assert(g);
	memset(f8t_qm_seen, 0, sizeof(f8t_qm_seen));
	for (i = 0; i < NMODELS; i++) {
		f8t_qm_gen_make(g, "cpu_model", i);
		f8t_qm_gen_free(g);
	}
	free(g);

	for (op = F8_QM_INPUT; op < F8_QM_OP_END_; op++)
		ck_assert_msg(f8t_qm_seen[op] > 0, "no %s node generated", f8_qm_op_name(op));
	ck_assert_msg(f8t_qm_seen[8] > 0 && f8t_qm_seen[9] > 0 && f8t_qm_seen[10] > 0,
		      "a flag was never generated");
}
END_TEST

/*
 * The random models do exercise the fused residual ADD (docs/cpu-backend.md, "Fusion"): on the
 * plans that fuse (portable through the driver, avx512vnni in its epilogue; avx2 never), the
 * ADDs computed by the conv before them are many, and each one obeys the rule: a CONV or
 * LINEAR right before it without ReLU, whose only reader is that ADD, operands different.
 */
START_TEST(test_cpu_fusion)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	int fused[F8_CPU_ISA_END_] = { 0 };
	size_t t;
	int i;

	ck_assert(g);
	for (i = 0; i < NMODELS; i++) {
		f8t_qm_gen_make(g, "cpu_model", i);
		for (t = 0; t < sizeof(isas) / sizeof(isas[0]); t++) {
			struct f8_cpu *p = NULL;
			uint32_t n, j;

			if (!f8_cpu_isa_supported(isas[t]))
				continue;
			ck_assert_int_eq(f8_cpu_create(&g->m, isas[t], &p), F8_OK);
			ck_assert(!f8_cpu_node_fused(p, g->m.nnodes));
			for (n = 0; n < g->m.nnodes; n++) {
				const struct f8_qm_node *a = &g->m.nodes[n], *c = &g->m.nodes[n ? n - 1 : 0];
				int readers = 0;

				if (!f8_cpu_node_fused(p, n))
					continue;
				fused[isas[t]]++;
				for (j = 0; j < g->m.nnodes; j++)
					readers += (g->m.nodes[j].in[0] == (int)n - 1) +
						   (g->m.nodes[j].in[1] == (int)n - 1);
				ck_assert(n > 0 && a->op == F8_QM_ADD && a->in[0] != a->in[1]);
				ck_assert(c->op == F8_QM_CONV || c->op == F8_QM_LINEAR);
				ck_assert(!(c->flags & (F8_QM_F_RELU | F8_QM_F_DEPTHWISE)));
				ck_assert_int_eq(readers, 1);
			}
			f8_cpu_free(p);
		}
		f8t_qm_gen_free(g);
	}
	free(g);
	ck_assert_int_ge(fused[F8_CPU_ISA_PORTABLE], 10);
	ck_assert_int_eq(fused[F8_CPU_ISA_AVX2], 0);
	ck_assert(fused[F8_CPU_ISA_AVX512VNNI] == fused[F8_CPU_ISA_PORTABLE] ||
		  !f8_cpu_isa_supported(F8_CPU_ISA_AVX512VNNI));
}
END_TEST

/*
 * By hand: 1 x 16 x 16 pixels 0..255; c1 = 1x1 conv (w 1, bias 0, fl 8 + 0) is the pixel at
 * FL 8; c2 = c1 at fl_in 7 (shift 1: p/2, ties to even); n3 = -1 * c1 (w -1); c4 = n3 signed
 * at fl_in 6 (shift 2, negative ties; -255/4 = -63.75 -> -64); c5: bias near 2^31 plus
 * 127 * p saturates; c6: bias near -2^31 minus 127 * p saturates; c5 + c1 saturates again.
 */
START_TEST(test_cpu_ties_and_saturation)
{
	static const int8_t one = 1, minus = -1, big = 127, neg = -127;
	static const int32_t zero = 0, bhi = 2147483647 - 1000, blo = -2147483647 + 1000;
	struct f8_qm_node nodes[8];
	char names[1][F8_QM_NAME_MAX] = { "c" };
	struct f8_qm m = { .nodes = nodes, .class_names = names };
	uint8_t img[256];
	int32_t *out = malloc(sizeof(int32_t) * 256);
	size_t t;
	int i;

	ck_assert(out);
	for (i = 0; i < 256; i++)
		img[i] = (uint8_t)i;
#define NODE(idx, op_, fl_, a, b)                                                          \
	do {                                                                               \
		memset(&nodes[idx], 0, sizeof(nodes[idx]));                                \
		snprintf(nodes[idx].name, F8_QM_NAME_MAX, "n%d", idx);                     \
		nodes[idx].op = op_;                                                       \
		nodes[idx].flags = fl_;                                                    \
		nodes[idx].in[0] = a;                                                      \
		nodes[idx].in[1] = b;                                                      \
		nodes[idx].c = 1;                                                          \
		nodes[idx].h = 16;                                                         \
		nodes[idx].w = 16;                                                         \
		if (op_ == F8_QM_CONV)                                                     \
			nodes[idx].k = 1, nodes[idx].stride = 1;                           \
	} while (0)
	NODE(0, F8_QM_INPUT, 0, -1, -1);
	nodes[0].fl_out = 8;
	NODE(1, F8_QM_CONV, 0, 0, -1);
	nodes[1].fl_in = 8, nodes[1].fl_out = 8, nodes[1].weights = &one, nodes[1].bias = &zero;
	NODE(2, F8_QM_CONV, 0, 1, -1);
	nodes[2].fl_in = 7, nodes[2].fl_out = 7, nodes[2].weights = &one, nodes[2].bias = &zero;
	NODE(3, F8_QM_CONV, 0, 0, -1);
	nodes[3].fl_in = 8, nodes[3].fl_out = 8, nodes[3].weights = &minus, nodes[3].bias = &zero;
	NODE(4, F8_QM_CONV, F8_QM_F_SIGNED, 3, -1);
	nodes[4].fl_in = 6, nodes[4].fl_out = 6, nodes[4].weights = &one, nodes[4].bias = &zero;
	NODE(5, F8_QM_CONV, 0, 0, -1);
	nodes[5].fl_in = 8, nodes[5].fl_out = 8, nodes[5].weights = &big, nodes[5].bias = &bhi;
	NODE(6, F8_QM_CONV, 0, 0, -1);
	nodes[6].fl_in = 8, nodes[6].fl_out = 8, nodes[6].weights = &neg, nodes[6].bias = &blo;
	NODE(7, F8_QM_ADD, 0, 5, 1);
	nodes[7].fl_out = 8;
	m.nnodes = 8;
	m.classes = 256; /* each cut model returns its last node's 16 x 16 tensor */
	for (t = 0; t < sizeof(isas) / sizeof(isas[0]); t++) {
		struct f8_cpu *p = NULL;
		void *cs;
		uint32_t last;

		if (!f8_cpu_isa_supported(isas[t])) {
			ck_assert_int_eq(f8_cpu_create(&m, isas[t], &p), F8_ERR_RANGE);
			continue;
		}
		for (last = 2; last < 8; last++) {
			m.nnodes = last + 1;
			ck_assert_int_eq(f8_cpu_create(&m, isas[t], &p), F8_OK);
			cs = scratch_alloc(f8_cpu_scratch_bytes(p, 1));
			f8_cpu_forward(p, img, 1, out, cs);
			for (i = 0; i < 256; i++) {
				int32_t want;

				switch (last) {
				case 2: /* p / 2, ties to even: 1 -> 0, 3 -> 2, 5 -> 2, 255 -> 128 */
					want = (i >> 1) + ((i & 1) && ((i >> 1) & 1));
					break;
				case 3:
					want = -i;
					break;
				case 4: /* -p / 4 half to even, clamped to -127 (never at FL 6: -64) */
					want = -((i >> 2) + (((i & 3) > 2) || ((i & 3) == 2 && ((i >> 2) & 1))));
					break;
				case 5: /* 2^31 - 1001 + 127 p: saturates from p = 8 */
					want = i >= 8 ? 2147483647 : 2147483647 - 1000 + 127 * i;
					break;
				case 6: /* the symmetric low end */
					want = i >= 8 ? -2147483647 : -2147483647 + 1000 - 127 * i;
					break;
				default: /* sat32(c5 + p) */
					want = i >= 8 ? 2147483647 : 2147483647 - 1000 + 128 * i;
					break;
				}
				ck_assert_msg(out[i] == want, "%s: node %u pixel %d: got %d, want %d",
					      f8_cpu_isa_name(isas[t]), last, i, out[i], want);
			}
			free(cs);
			f8_cpu_free(p);
			p = NULL;
		}
		m.nnodes = 8;
	}
	/* and the reference agrees with the same hand values */
	compare_cut(&m, 7, img, 1, "ties");
	compare_cut(&m, 4, img, 1, "ties");
	compare_cut(&m, 2, img, 1, "ties");
	compare_cut(&m, 6, img, 1, "ties");
	free(out);
#undef NODE
}
END_TEST

/*
 * Output-channel counts whose blocks of 16 leave every remainder of the wide AVX-512 tile
 * (6 pixels x 4 blocks, then 2, then 1): 100 channels = 7 blocks, then 40 = 3 blocks, with
 * an RGB input (row taps), 3 x 3 windows, stride 1 and 2, a signed layer, 4 images; every
 * node against the reference, split and K-blocked as in compare_cut.
 */
START_TEST(test_cpu_wide_tiles)
{
	static const struct {
		uint16_t c, h;
		uint8_t k, stride, pad, flags;
		int8_t fl_in, fl_out;
	} spec[] = {
		{ 3, 13, 0, 0, 0, 0, 0, 8 },                    /* input */
		{ 100, 13, 3, 1, 1, F8_QM_F_RELU, 7, 6 },       /* row taps, 7 blocks */
		{ 40, 7, 3, 2, 1, 0, 3, 5 },                    /* 900 inputs, 3 blocks */
		{ 100, 7, 1, 1, 0, F8_QM_F_SIGNED | F8_QM_F_RELU, 2, 4 },
		{ 10, 1, 7, 1, 0, 0, 2, 3 },                    /* a conv covering its input */
	};
	enum { NN = sizeof(spec) / sizeof(spec[0]) };
	struct f8_qm_node nodes[NN];
	char names[10][F8_QM_NAME_MAX];
	struct f8_qm m = { .nodes = nodes, .nnodes = NN, .classes = 10, .class_names = names };
	int8_t *w[NN] = { NULL };
	int32_t *bias[NN] = { NULL };
	struct f8t_rng r;
	uint8_t img[4 * 3 * 13 * 13];
	uint32_t i;

	f8t_rng_init(&r, "cpu_wide", 0);
	memset(nodes, 0, sizeof(nodes));
	memset(names, 0, sizeof(names));
	for (i = 0; i < NN; i++) {
		struct f8_qm_node *n = &nodes[i];

		snprintf(n->name, F8_QM_NAME_MAX, "n%u", i);
		n->op = i ? F8_QM_CONV : F8_QM_INPUT;
		n->flags = spec[i].flags;
		n->in[0] = (int32_t)i - 1;
		n->in[1] = -1;
		n->c = spec[i].c;
		n->h = n->w = spec[i].h;
		n->k = spec[i].k;
		n->stride = spec[i].stride;
		n->pad = spec[i].pad;
		n->fl_in = spec[i].fl_in;
		n->fl_out = spec[i].fl_out;
		if (i) {
			const size_t nw = (size_t)n->c * n->k * n->k * nodes[i - 1].c;
			size_t j;

			w[i] = malloc(nw);
			bias[i] = malloc(sizeof(int32_t) * n->c);
			ck_assert(w[i] && bias[i]);
			f8t_fill(&r, w[i], nw);
			for (j = 0; j < nw; j++) /* s8 of the format: -127 .. 127 */
				if (w[i][j] == -128)
					w[i][j] = -127;
			for (j = 0; j < n->c; j++)
				bias[i][j] = (int32_t)f8t_range(&r, -100000, 100000);
			n->weights = w[i];
			n->bias = bias[i];
		}
	}
	f8t_fill(&r, img, sizeof(img));
	ck_assert_int_eq(f8_par_set_threads(2), F8_OK);
	for (i = 1; i < NN; i++)
		compare_cut(&m, i, img, 4, "wide tiles");
	ck_assert_int_eq(f8_par_set_threads(1), F8_OK);
	for (i = 0; i < NN; i++) {
		free(w[i]);
		free(bias[i]);
	}
}
END_TEST

START_TEST(test_cpu_isa)
{
	struct f8_qm_node nodes[2];
	struct f8_qm m = { .nodes = nodes, .nnodes = 2, .classes = 1 };
	struct f8_cpu *p = NULL;
	const enum f8_cpu_isa best = f8_cpu_isa_best();

	ck_assert(f8_cpu_isa_supported(F8_CPU_ISA_PORTABLE));
	ck_assert(f8_cpu_isa_supported(best));
	ck_assert(best != F8_CPU_ISA_AUTO);
	/* the best is the widest supported */
	ck_assert(best == F8_CPU_ISA_AVX512VNNI || !f8_cpu_isa_supported(F8_CPU_ISA_AVX512VNNI));
	ck_assert(best >= F8_CPU_ISA_AVX2 || !f8_cpu_isa_supported(F8_CPU_ISA_AVX2));
	ck_assert(!f8_cpu_isa_supported(F8_CPU_ISA_END_));
	memset(nodes, 0, sizeof(nodes));
	ck_assert_int_eq(f8_cpu_create(&m, F8_CPU_ISA_END_, &p), F8_ERR_RANGE);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(f8_cpu_isa_name(F8_CPU_ISA_AVX2), "avx2");
}
END_TEST

Suite *f8_cpu_suite(void)
{
	Suite *s = suite_create("cpu");
	TCase *tc = tcase_create("cpu");

	tcase_add_test(tc, test_cpu_isa);
	tcase_add_test(tc, test_cpu_ties_and_saturation);
	tcase_add_test(tc, test_cpu_wide_tiles);
	tcase_add_loop_test(tc, test_cpu_random_models, 0, NMODELS);
	tcase_add_test(tc, test_cpu_coverage);
	tcase_add_test(tc, test_cpu_fusion);
	suite_add_tcase(s, tc);
	return s;
}
