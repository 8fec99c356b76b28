// SPDX-License-Identifier: MIT
/*
 * The compiler (f8-compile.h): compiled programs run on the `ref` backend give exactly the
 * int32 logits of f8_qm_forward, on random models (qm-random.h) and on a hand-made
 * downsampling block, for batch 1 and larger, on a 4x4 and a 16x16 device, and with tiny
 * buffers that force tiling; the architectural counters the device reports equal the
 * compiler's prediction; the memory plan never overlaps two live buffers; models a device
 * cannot take are refused with F8_ERR_RANGE naming the node; the dump names every
 * descriptor.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-backend.h"
#include "f8-compile.h"
#include "f8-err.h"
#include "f8-qmodel.h"
#include "f8-test.h"
#include "qm-random.h"
#include "train-test.h"

#define NMODELS 40
#define MAXIMG 5

/* The device configurations every model is compiled for. */
struct cfg {
	const char *spec;
	uint32_t batch;
	uint32_t ibuf, wbuf; /* 0: the device's own */
};

static const struct cfg cfgs[] = {
	{ "ref", 1, 0, 0 },
	{ "ref:4x4", 3, 0, 0 },
	{ "ref", 2, 200, 96 },    /* tiny buffers: row and channel tiles everywhere */
	{ "ref:4x4", 5, 64, 16 }, /* one channel, one row per tile */
};

static void *scratch_alloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);

	ck_assert(p);
	return p;
}

static uint8_t *images(struct f8t_rng *r, const struct f8_qm *m, int n)
{
	const size_t sz = (size_t)m->nodes[0].c * m->nodes[0].h * m->nodes[0].w * (size_t)n;
	uint8_t *img = malloc(sz);
	size_t q;

	ck_assert(img);
	for (q = 0; q < sz; q++) /* the extremes often: saturation in the first layers */
		img[q] = f8t_chance(r, 10) ? (f8t_chance(r, 50) ? 255 : 0) : (uint8_t)f8t_rand(r);
	return img;
}

static int32_t *reference(const struct f8_qm *m, const uint8_t *img, int n)
{
	const size_t isz = (size_t)m->nodes[0].c * m->nodes[0].h * m->nodes[0].w;
	int32_t *want = malloc(sizeof(int32_t) * m->classes * (size_t)n);
	void *scratch = scratch_alloc(f8_qm_scratch_bytes(m));
	int i;

	ck_assert(want);
	for (i = 0; i < n; i++)
		f8_qm_forward(m, img + i * isz, want + (size_t)i * m->classes, scratch);
	free(scratch);
	return want;
}

/* No two activation buffers live at one step share a byte; all inside the region. */
static void check_plan(const struct f8_cc_prog *p)
{
	uint32_t i, j;

	ck_assert_uint_le(p->act_peak, p->act_unplanned);
	for (i = 0; i < p->nbufs; i++) {
		const struct f8_cc_buf *a = &p->bufs[i];

		ck_assert_uint_le(a->first, a->last);
		if (a->region != F8_CC_R_ACT)
			continue;
		ck_assert_uint_le(a->offset + a->size, p->region_size[F8_CC_R_ACT]);
		for (j = i + 1; j < p->nbufs; j++) {
			const struct f8_cc_buf *b = &p->bufs[j];

			if (b->region != F8_CC_R_ACT || a->last < b->first || b->last < a->first)
				continue;
			ck_assert_msg(a->offset + a->size <= b->offset || b->offset + b->size <= a->offset,
				      "buffers %u (node %d, steps %u-%u, [%llu,+%llu)) and %u (node %d, steps %u-%u, [%llu,+%llu)) overlap",
				      i, a->node, a->first, a->last, (unsigned long long)a->offset,
				      (unsigned long long)a->size, j, b->node, b->first, b->last,
				      (unsigned long long)b->offset, (unsigned long long)b->size);
		}
	}
}

/* The dump has one line per descriptor, in order, each with its index and node names. */
static void check_dump(const struct f8_cc_prog *p)
{
	char *buf = NULL, *line;
	size_t len = 0;
	uint32_t i = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert(f);
	f8_cc_dump(f, p);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "# activations: peak"));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned int idx;
		char name[96];

		if (line[0] == '#')
			continue;
		ck_assert_msg(sscanf(line, "%u %*s %95s", &idx, name) == 2, "dump line: %s", line);
		ck_assert_uint_eq(idx, i);
		ck_assert_str_eq(name, p->info[i].name);
		i++;
	}
	ck_assert_uint_eq(i, p->ndesc);
	free(buf);
}

static struct f8_be *open_be(const char *spec)
{
	struct f8_be *be = NULL;
	struct f8_err e;

	ck_assert_msg(f8_be_open(spec, &be, &e) == F8_OK, "%s: %s", spec, e.msg);
	return be;
}

/*
 * Compile @m for @c, run @n images, compare with @want bit for bit, the device's counters
 * with the prediction; returns the program's descriptor count.
 */
static uint32_t compile_run(const struct f8_qm *m, const struct cfg *c, const uint8_t *img, int n,
			    const int32_t *want, const char *what)
{
	struct f8_be *be = open_be(c->spec);
	struct f8_be_caps caps = be->caps;
	struct f8_cc_opts o = { .batch = c->batch };
	struct f8_cc_prog *p = NULL;
	struct f8_cc_stats st;
	struct f8_err e;
	int32_t *got = malloc(sizeof(int32_t) * m->classes * (size_t)n);
	uint32_t nd, jobs;
	size_t q;

	ck_assert(got);
	if (c->ibuf)
		caps.ibuf_bytes = c->ibuf;
	if (c->wbuf)
		caps.wbuf_bytes = c->wbuf;
	ck_assert_msg(f8_cc_compile(m, &caps, &o, &p, &e) == F8_OK, "%s on %s: %s", what, c->spec,
		      e.msg);
	check_plan(p);
	check_dump(p);
	memset(got, 0x5a, sizeof(int32_t) * m->classes * (size_t)n);
	ck_assert_msg(f8_cc_run(be, p, img, n, got, &st, &e) == F8_OK, "%s on %s: %s", what, c->spec,
		      e.msg);
	for (q = 0; q < (size_t)n * m->classes; q++)
		ck_assert_msg(got[q] == want[q],
			      "%s on %s batch %u: image %zu logit %zu: got %d, want %d", what, c->spec,
			      c->batch, q / m->classes, q % m->classes, got[q], want[q]);
	jobs = (uint32_t)((n + (int)c->batch - 1) / (int)c->batch);
	ck_assert_uint_eq(st.jobs, jobs);
	ck_assert_uint_eq(st.macs, p->macs * jobs);
	ck_assert_uint_eq(st.rd_bytes, p->rd_bytes * jobs);
	ck_assert_uint_eq(st.wr_bytes, p->wr_bytes * jobs);
	ck_assert_uint_eq(st.descs, (uint64_t)p->ndesc * jobs);
	if (!c->ibuf) /* the model's own configuration: the same cycles as the cost model */
		ck_assert_uint_eq(st.cycles, st.pred_cycles);
	nd = p->ndesc;
	f8_cc_free(p);
	f8_be_close(be);
	free(got);
	return nd;
}

START_TEST(test_compile_random_models)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	struct f8_qm_error qe;
	struct f8t_rng r;
	uint32_t nd[4];
	uint8_t *img;
	int32_t *want;
	char what[64];
	size_t k;

	ck_assert(g);
	f8t_qm_gen_make(g, "compile_model", _i);
	ck_assert_msg(f8_qm_check(&g->m, &qe) == F8_OK, "model %d: node %d: %s", _i, qe.node, qe.what);
	f8t_rng_init(&r, "compile_img", _i);
	img = images(&r, &g->m, MAXIMG);
	want = reference(&g->m, img, MAXIMG);
	snprintf(what, sizeof(what), "model %d", _i);
	for (k = 0; k < sizeof(cfgs) / sizeof(cfgs[0]); k++)
		nd[k] = compile_run(&g->m, &cfgs[k], img, MAXIMG, want, what);
	ck_assert_uint_ge(nd[2], nd[0]); /* tiny buffers: at least as many tiles */
	free(img);
	free(want);
	f8t_qm_gen_free(g);
	free(g);
}
END_TEST

/* ---- a hand-made model: F8Net's downsampling block and a tensor read in four forms ---- */

struct hand {
	struct f8_qm_node n[16];
	int8_t w[8][4096];
	int32_t b[8][64];
	char names[4][F8_QM_NAME_MAX];
	struct f8_qm m;
	int nn, nw;
};

static int hnode(struct hand *h, unsigned int op, unsigned int flags, int a, int b, int c, int hh,
		 int ww, int k, int s, int p, const char *name)
{
	struct f8_qm_node *n = &h->n[h->nn];

	memset(n, 0, sizeof(*n));
	n->op = (uint8_t)op;
	n->flags = (uint8_t)flags;
	n->in[0] = a;
	n->in[1] = b;
	n->c = (uint16_t)c;
	n->h = (uint16_t)hh;
	n->w = (uint16_t)ww;
	n->k = (uint8_t)k;
	n->stride = (uint8_t)s;
	n->pad = (uint8_t)p;
	snprintf(n->name, sizeof(n->name), "%s", name);
	return h->nn++;
}

static void hparams(struct hand *h, struct f8t_rng *r, int i, int fl_in, int fl_w)
{
	struct f8_qm_node *n = &h->n[i];
	size_t q, nw;

	n->fl_in = (int8_t)fl_in;
	n->fl_w = (int8_t)fl_w;
	n->fl_out = (int8_t)(fl_in + fl_w);
	h->m.nnodes = (uint32_t)h->nn;
	nw = f8_qm_weight_count(&h->m, n);
	ck_assert_uint_le(nw, sizeof(h->w[0]));
	for (q = 0; q < nw; q++)
		h->w[h->nw][q] = (int8_t)((int)f8t_below(r, 255) - 127);
	for (q = 0; q < n->c; q++)
		h->b[h->nw][q] = (int32_t)f8t_range(r, -4000, 4000);
	n->weights = h->w[h->nw];
	n->bias = h->b[h->nw];
	h->nw++;
}

/*
 * in(3x12x12) -> stem conv (relu) x; body: conv1 (s2, relu) -> conv2; shortcut: conv3 (1x1
 * s2, another input FL, s8); add(conv2, conv3) relu. x is read in three forms (u8, s8 and
 * the int32 of a max pool), the image in two (the stem's u8 at shift 1, a sum pool's
 * pixels); the pools' branches join the block through two more adds.
 */
static void hand_make(struct hand *h, struct f8t_rng *r)
{
	int x, c1, c2, c3, add, mp, c4, sp, c5, j1, j2, fc;

	memset(h, 0, sizeof(*h));
	h->m.nodes = h->n;
	h->n[hnode(h, F8_QM_INPUT, 0, -1, -1, 3, 12, 12, 0, 0, 0, "image")].fl_out = 8;
	x = hnode(h, F8_QM_CONV, F8_QM_F_RELU, 0, -1, 8, 12, 12, 3, 1, 1, "stem");
	hparams(h, r, x, 7, 6);
	c1 = hnode(h, F8_QM_CONV, F8_QM_F_RELU, x, -1, 16, 6, 6, 3, 2, 1, "body1");
	hparams(h, r, c1, 4, 6);
	c2 = hnode(h, F8_QM_CONV, 0, c1, -1, 16, 6, 6, 3, 1, 1, "body2");
	hparams(h, r, c2, 5, 6);
	c3 = hnode(h, F8_QM_CONV, F8_QM_F_SIGNED, x, -1, 16, 6, 6, 1, 2, 0, "short");
	hparams(h, r, c3, 6, 7);
	add = hnode(h, F8_QM_ADD, F8_QM_F_RELU, c2, c3, 16, 6, 6, 0, 0, 0, "add");
	h->n[add].fl_out = h->n[c2].fl_out > h->n[c3].fl_out ? h->n[c2].fl_out : h->n[c3].fl_out;
	mp = hnode(h, F8_QM_MAXPOOL, 0, x, -1, 8, 6, 6, 2, 2, 0, "xpool");
	h->n[mp].fl_out = h->n[x].fl_out;
	c4 = hnode(h, F8_QM_CONV, 0, mp, -1, 16, 6, 6, 3, 1, 1, "third");
	hparams(h, r, c4, 2, 5);
	sp = hnode(h, F8_QM_SUMPOOL, 0, 0, -1, 3, 6, 6, 2, 2, 0, "ipool");
	h->n[sp].pool_shift = 2;
	h->n[sp].fl_out = 10;
	c5 = hnode(h, F8_QM_CONV, 0, sp, -1, 16, 6, 6, 1, 1, 0, "icv");
	hparams(h, r, c5, 6, 4);
	j1 = hnode(h, F8_QM_ADD, 0, add, c4, 16, 6, 6, 0, 0, 0, "join1");
	h->n[j1].fl_out = h->n[add].fl_out > h->n[c4].fl_out ? h->n[add].fl_out : h->n[c4].fl_out;
	j2 = hnode(h, F8_QM_ADD, F8_QM_F_RELU, j1, c5, 16, 6, 6, 0, 0, 0, "join2");
	h->n[j2].fl_out = h->n[j1].fl_out > h->n[c5].fl_out ? h->n[j1].fl_out : h->n[c5].fl_out;
	fc = hnode(h, F8_QM_LINEAR, F8_QM_F_SIGNED, j2, -1, 4, 1, 1, 0, 0, 0, "fc");
	hparams(h, r, fc, 3, 7);
	h->m.nnodes = (uint32_t)h->nn;
	h->m.classes = 4;
	h->m.class_names = h->names;
	for (x = 0; x < 4; x++)
		snprintf(h->names[x], F8_QM_NAME_MAX, "k%d", x);
	snprintf(h->m.model_name, 24, "hand");
}

START_TEST(test_compile_downsampling_block)
{
	struct hand *h = malloc(sizeof(*h));
	struct f8_cc_opts o = { .batch = 2 };
	struct f8_cc_prog *p;
	struct f8_qm_error qe;
	struct f8_err e;
	struct f8t_rng r;
	struct f8_be *be;
	uint8_t *img;
	int32_t *want;
	uint32_t i, fused = 0, adds = 0, dst1 = 0;
	size_t k;

	ck_assert(h);
	f8t_rng_init(&r, "compile_hand", 0);
	hand_make(h, &r);
	ck_assert_msg(f8_qm_check(&h->m, &qe) == F8_OK, "node %d: %s", qe.node, qe.what);
	be = open_be("ref");
	ck_assert_msg(f8_cc_compile(&h->m, &be->caps, &o, &p, &e) == F8_OK, "%s", e.msg);
	for (i = 0; i < p->ndesc; i++) {
		struct f8npu_desc d;

		memcpy(&d, p->stream + F8NPU_CMD_HEADER_SIZE + i * F8NPU_CMD_DESC_SIZE, sizeof(d));
		fused += d.opcode == F8NPU_OP_CONV2D && (d.flags & F8NPU_FLAG_AUX);
		adds += d.opcode == F8NPU_OP_ADD && (d.flags & F8NPU_FLAG_AUX);
		dst1 += !!(d.flags & F8NPU_FLAG_DST1);
	}
	/* every add in the epilogue of a conv (short, third, icv): no ADD with AUX left */
	ck_assert_uint_eq(fused, 3);
	ck_assert_uint_eq(adds, 0);
	ck_assert_uint_ge(dst1, 1);
	f8_cc_free(p);
	f8_be_close(be);

	img = images(&r, &h->m, MAXIMG);
	want = reference(&h->m, img, MAXIMG);
	for (k = 0; k < sizeof(cfgs) / sizeof(cfgs[0]); k++)
		compile_run(&h->m, &cfgs[k], img, MAXIMG, want, "downsampling block");
	free(img);
	free(want);
	free(h);
}
END_TEST

/* A session runs batch after batch on the same buffers; results as f8_cc_run's. */
START_TEST(test_compile_session_reuse)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	struct f8_cc_opts o = { .batch = 4 };
	struct f8_cc_session *s;
	struct f8_cc_prog *p;
	struct f8_cc_stats st;
	struct f8_err e;
	struct f8t_rng r;
	struct f8_be *be = open_be("ref:4x4");
	uint8_t *img;
	int32_t *want, *got;
	int round;

	ck_assert(g);
	f8t_qm_gen_make(g, "compile_model", 3);
	f8t_rng_init(&r, "compile_session", 0);
	img = images(&r, &g->m, 9);
	want = reference(&g->m, img, 9);
	got = malloc(sizeof(int32_t) * 9 * g->m.classes);
	ck_assert(got);
	ck_assert_msg(f8_cc_compile(&g->m, &be->caps, &o, &p, &e) == F8_OK, "%s", e.msg);
	ck_assert_int_eq(f8_cc_session_open(be, p, &s, &e), F8_OK);
	for (round = 0; round < 3; round++) {
		memset(got, 0, sizeof(int32_t) * 9 * g->m.classes);
		ck_assert_msg(f8_cc_session_run(s, img, 9 - round, got, &st, &e) == F8_OK, "%s", e.msg);
		f8_ck_assert_bytes_eq(got, want, sizeof(int32_t) * (size_t)(9 - round) * g->m.classes,
				      "session logits");
		ck_assert_uint_eq(st.jobs, (uint32_t)(9 - round + 3) / 4);
	}
	f8_cc_session_close(s);
	f8_cc_session_close(NULL);
	f8_cc_free(p);
	f8_cc_free(NULL);
	f8_be_close(be);
	free(img);
	free(want);
	free(got);
	f8t_qm_gen_free(g);
	free(g);
}
END_TEST

/* ---- models a device cannot take: F8_ERR_RANGE naming the node and the limit ---- */

static void expect_refusal(const struct f8_qm *m, const struct f8_be_caps *caps, uint32_t batch,
			   int status, const char *needle)
{
	struct f8_cc_opts o = { .batch = batch };
	struct f8_cc_prog *p = (struct f8_cc_prog *)1;
	struct f8_err e;
	int rc;

	e.msg[0] = 0;
	rc = f8_cc_compile(m, caps, &o, &p, &e);
	ck_assert_msg(rc == status, "want %d, got %d (%s)", status, rc, e.msg);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(e.msg, needle), "message '%s' lacks '%s'", e.msg, needle);
}

START_TEST(test_compile_refusals)
{
	struct hand *h = malloc(sizeof(*h));
	struct f8_be *be = open_be("ref");
	struct f8_be_caps c;
	struct f8_cc_prog *p;
	struct f8_err e;
	struct f8t_rng r;

	ck_assert(h);
	f8t_rng_init(&r, "compile_hand", 0);
	hand_make(h, &r);

	c = be->caps;
	c.regions = 4;
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "regions");
	c = be->caps;
	c.max_k = 26; /* stem's K is 27 */
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "'stem'");
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "max_k 26");
	c = be->caps;
	c.shift_min = -2;
	c.shift_max = 2; /* the stem reads the image at shift 1; body1 reads x at a larger one */
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "outside the device's -2..2");
	c = be->caps;
	c.ops &= ~(1u << F8NPU_OP_POOL_MAX);
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "'xpool' (maxpool): the device does not support POOL_MAX");
	c = be->caps;
	c.max_dim = 11; /* the input is 12 wide: only rows and output channels are tiled */
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "max_dim 11");
	c = be->caps;
	c.align_max = 0; /* the residual adds need an alignment */
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "alignment shift");
	c = be->caps;
	expect_refusal(&h->m, &c, 70000, F8_ERR_RANGE, "batch 70000");
	c.types &= ~(1u << F8NPU_TYPE_S8);
	expect_refusal(&h->m, &c, 1, F8_ERR_RANGE, "element type");

	/* a model f8_qm_check refuses */
	h->n[2].in[0] = 5;
	expect_refusal(&h->m, &be->caps, 1, F8_ERR_FORMAT, "node 2");
	h->n[2].in[0] = 1;
	ck_assert_int_eq(f8_cc_compile(NULL, &be->caps, NULL, &p, &e), F8_ERR_MISUSE);
	ck_assert_int_eq(f8_cc_compile(&h->m, NULL, NULL, &p, &e), F8_ERR_MISUSE);

	/* a program for a wider device refused by a narrower one, before any job */
	c = be->caps;
	c.max_k = be->caps.max_k * 2;
	ck_assert_int_eq(f8_cc_compile(&h->m, &c, NULL, &p, &e), F8_OK);
	{
		struct f8_cc_session *s = NULL;

		ck_assert_int_eq(f8_cc_session_open(be, p, &s, &e), F8_ERR_RANGE);
		ck_assert_ptr_null(s);
	}
	f8_cc_free(p);
	f8_be_close(be);
	free(h);
}
END_TEST

Suite *f8_compile_suite(void)
{
	Suite *s = suite_create("compile");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_compile_random_models, 0, NMODELS);
	tcase_add_test(tc, test_compile_downsampling_block);
	tcase_add_test(tc, test_compile_session_reuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_compile_refusals);
	suite_add_tcase(s, tc);
	return s;
}
