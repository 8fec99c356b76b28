// SPDX-License-Identifier: MIT
/*
 * Placement (f8-compile.h, f8_cc_part_*): a model split between a device and the host gives
 * exactly f8_qm_forward's int32 logits, on random models (qm-random.h) and devices that lack
 * operations (the backend spec's without=), shift range or reduction length; every node the
 * device lacks the operation for is on the host with the reason, every other needed node on
 * the device; a device that lacks nothing takes the whole model as one program; the
 * compiler names the node it refuses (f8_cc_compile_ex); programs of part of a model are
 * refused by the whole-model entry points; bad without= specs are refused.
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

#define NMODELS 30
#define NIMG 5

/* A device as the placement sees it: a backend spec, and limits narrowed in the caps. */
struct dev {
	const char *spec;
	uint32_t batch;
	int32_t shift_min, shift_max; /* 0, 0: the device's own */
	uint32_t max_k;               /* 0: the device's own */
};

static const struct dev devs[] = {
	{ "ref", 2, 0, 0, 0 },                            /* everything: one whole program */
	{ "ref:4x4,without=pool_sum+pool_max", 3, 0, 0, 0 },
	{ "ref:8x8,without=conv2d", 1, 0, 0, 0 },         /* only adds and pools on the device */
	{ "ref:16x16,without=add+pool_sum", 2, 0, 0, 0 },       /* conversions from host tensors fail */
	{ "ref:4x4", 2, -1, 1, 0 },                       /* most input shifts refused */
	{ "ref", 4, 0, 0, 40 },                           /* long reductions refused */
};

static uint8_t *images(struct f8t_rng *r, const struct f8_qm *m, int n)
{
	const size_t sz = (size_t)m->nodes[0].c * m->nodes[0].h * m->nodes[0].w * (size_t)n;
	uint8_t *img = malloc(sz);
	size_t q;

	ck_assert(img);
	for (q = 0; q < sz; q++)
		img[q] = f8t_chance(r, 10) ? (f8t_chance(r, 50) ? 255 : 0) : (uint8_t)f8t_rand(r);
	return img;
}

static int32_t *reference(const struct f8_qm *m, const uint8_t *img, int n)
{
	const size_t isz = (size_t)m->nodes[0].c * m->nodes[0].h * m->nodes[0].w;
	const size_t ss = (f8_qm_scratch_bytes(m) + 63) & ~(size_t)63;
	int32_t *want = malloc(sizeof(int32_t) * m->classes * (size_t)n);
	void *scratch = aligned_alloc(64, ss);
	int i;

	ck_assert(want && scratch);
	for (i = 0; i < n; i++)
		f8_qm_forward(m, img + i * isz, want + (size_t)i * m->classes, scratch);
	free(scratch);
	return want;
}

/* The opcode a node needs on the device (CONV and LINEAR are CONV2D). */
static unsigned int node_opcode(const struct f8_qm_node *n)
{
	switch (n->op) {
	case F8_QM_CONV:
	case F8_QM_LINEAR:
		return F8NPU_OP_CONV2D;
	case F8_QM_MAXPOOL:
		return F8NPU_OP_POOL_MAX;
	case F8_QM_SUMPOOL:
		return F8NPU_OP_POOL_SUM;
	default:
		return F8NPU_OP_ADD;
	}
}

static void place_run(const struct f8_qm *m, const struct dev *d, const uint8_t *img,
		      const int32_t *want, int idx)
{
	const struct f8_cc_opts o = { .batch = d->batch };
	const struct f8_cc_prog *progs[F8_QM_MAX_NODES];
	struct f8_be *be = NULL;
	struct f8_cc_part *pt = NULL;
	struct f8_cc_stats st;
	struct f8_err e;
	int32_t *got = malloc(sizeof(int32_t) * m->classes * NIMG);
	uint32_t i, nprog, hidden, on_host = 0, on_dev = 0;
	size_t q;

	ck_assert(got);
	ck_assert_msg(f8_be_open(d->spec, &be, &e) == F8_OK, "%s: %s", d->spec, e.msg);
	{ /* what the spec hid, against the full device */
		struct f8_be *full = NULL;

		ck_assert(f8_be_open("ref", &full, &e) == F8_OK);
		hidden = full->caps.ops & ~be->caps.ops;
		f8_be_close(full);
	}
	if (d->shift_min || d->shift_max) {
		be->caps.shift_min = d->shift_min;
		be->caps.shift_max = d->shift_max;
	}
	if (d->max_k)
		be->caps.max_k = d->max_k;
	ck_assert_msg(f8_cc_part_open(be, m, &o, &pt, &e) == F8_OK, "model %d on %s: %s", idx,
		      d->spec, e.msg);
	memset(got, 0x5a, sizeof(int32_t) * m->classes * NIMG);
	ck_assert_msg(f8_cc_part_run(pt, img, NIMG, got, &st, &e) == F8_OK, "model %d on %s: %s",
		      idx, d->spec, e.msg);
	for (q = 0; q < (size_t)NIMG * m->classes; q++)
		ck_assert_msg(got[q] == want[q], "model %d on %s: image %zu logit %zu: got %d, want %d",
			      idx, d->spec, q / m->classes, q % m->classes, got[q], want[q]);

	ck_assert_int_eq(f8_cc_part_where(pt, 0, NULL, NULL), F8_CC_AT_INPUT);
	for (i = 1; i < m->nnodes; i++) {
		const struct f8_cc_prog *p;
		const char *why;
		const enum f8_cc_where w = f8_cc_part_where(pt, i, &why, &p);

		if (w == F8_CC_ON_HOST) {
			on_host++;
			ck_assert_msg(strstr(why, "node "), "model %d on %s: node %u: reason '%s'", idx,
				      d->spec, i, why);
		} else if (w == F8_CC_ON_DEVICE) {
			on_dev++;
			ck_assert_ptr_nonnull(p);
			ck_assert_msg(i >= p->first && i <= p->last, "node %u outside its program", i);
		}
		/* an ADD may run in a conv's epilogue; every other op needs its own opcode */
		if (w != F8_CC_UNUSED && m->nodes[i].op != F8_QM_ADD &&
		    (hidden >> node_opcode(&m->nodes[i]) & 1u))
			ck_assert_msg(w == F8_CC_ON_HOST, "model %d on %s: node %u (%s) not on the host",
				      idx, d->spec, i, f8_qm_op_name(m->nodes[i].op));
	}
	nprog = f8_cc_part_programs(pt, progs, F8_QM_MAX_NODES);
	if (!hidden && !d->shift_min && !d->shift_max && !d->max_k) {
		ck_assert_uint_eq(on_host, 0);
		ck_assert_uint_eq(nprog, 1);
		ck_assert(f8_cc_whole(progs[0]));
	}
	ck_assert_uint_le(nprog, on_dev);
	for (i = 0; i < nprog; i++) {
		uint32_t k;

		ck_assert(i == 0 || progs[i]->first > progs[i - 1]->last);
		/* the device is never sent an operation it lacks */
		for (k = 0; k < progs[i]->ndesc; k++) {
			struct f8npu_desc dd;

			memcpy(&dd, progs[i]->stream + F8NPU_CMD_HEADER_SIZE + (size_t)k * F8NPU_CMD_DESC_SIZE,
			       sizeof(dd));
			ck_assert_msg(!(hidden >> dd.opcode & 1u), "model %d on %s: opcode %u sent", idx,
				      d->spec, dd.opcode);
		}
	}
	ck_assert_uint_eq(st.jobs, nprog * ((NIMG + d->batch - 1) / d->batch));
	ck_assert_uint_eq(st.cycles, st.pred_cycles); /* ref: the cost model's own cycles */
	f8_cc_part_close(pt);
	f8_be_close(be);
	free(got);
}

START_TEST(test_place_random_models)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	struct f8t_rng r;
	uint8_t *img;
	int32_t *want;
	size_t k;

	ck_assert(g);
	f8t_qm_gen_make(g, "place_model", _i);
	f8t_rng_init(&r, "place_img", _i);
	img = images(&r, &g->m, NIMG);
	want = reference(&g->m, img, NIMG);
	for (k = 0; k < sizeof(devs) / sizeof(devs[0]); k++)
		place_run(&g->m, &devs[k], img, want, _i);
	free(img);
	free(want);
	f8t_qm_gen_free(g);
	free(g);
}
END_TEST

/* The refused node is named; a program of part of a model is not a whole one. */
START_TEST(test_place_refused_node)
{
	struct f8t_qm_gen *g = malloc(sizeof(*g));
	struct f8_be *be = NULL;
	struct f8_be_caps c;
	struct f8_cc_prog *p = NULL;
	struct f8_cc_opts o = { .batch = 1 };
	struct f8_err e;
	int32_t refused, first_conv = -1;
	uint32_t i;
	int idx;

	ck_assert(g);
	ck_assert(f8_be_open("ref", &be, &e) == F8_OK);
	for (idx = 0; idx < 10; idx++) {
		bool needed[F8_QM_MAX_NODES] = { false };

		f8t_qm_gen_make(g, "place_model", idx);
		needed[g->m.nnodes - 1] = true;
		for (i = g->m.nnodes; i-- > 1;)
			if (needed[i]) {
				needed[g->m.nodes[i].in[0]] = true;
				if (g->m.nodes[i].in[1] >= 0)
					needed[g->m.nodes[i].in[1]] = true;
			}
		first_conv = -1;
		for (i = 1; i < g->m.nnodes && first_conv < 0; i++)
			if (needed[i] &&
			    (g->m.nodes[i].op == F8_QM_CONV || g->m.nodes[i].op == F8_QM_LINEAR))
				first_conv = (int32_t)i;
		c = be->caps;
		c.ops &= ~(1u << F8NPU_OP_CONV2D);
		ck_assert_int_eq(f8_cc_compile_ex(&g->m, &c, &o, &p, &refused, &e), F8_ERR_RANGE);
		ck_assert_ptr_null(p);
		/* the first needed CONV/LINEAR in node order */
		ck_assert_int_eq(refused, first_conv);
		ck_assert_int_eq(f8_cc_compile_ex(&g->m, &be->caps, &o, &p, &refused, &e), F8_OK);
		ck_assert_int_eq(refused, -1);
		ck_assert(f8_cc_whole(p));
		f8_cc_free(p);
		p = NULL;
		if (g->m.nnodes > 3) { /* the last two nodes alone: int32 in, logits out */
			o.first = g->m.nnodes - 2;
			o.last = g->m.nnodes - 1;
			ck_assert_int_eq(f8_cc_compile_ex(&g->m, &be->caps, &o, &p, &refused, &e), F8_OK);
			ck_assert(!f8_cc_whole(p));
			ck_assert_uint_ge(p->nin, 1);
			for (i = 0; i < p->nin; i++)
				ck_assert_int_lt(p->in[i].node, (int32_t)o.first);
			ck_assert_int_eq(p->out[p->nout - 1].node, (int32_t)g->m.nnodes - 1);
			{
				struct f8_cc_session *s = NULL;
				struct f8npu_perf perf[1];
				uint8_t px[4096] = { 0 };
				int32_t lg[64];

				ck_assert_int_eq(f8_cc_session_open(be, p, &s, &e), F8_OK);
				ck_assert_int_eq(f8_cc_session_run(s, px, 1, lg, NULL, &e), F8_ERR_MISUSE);
				ck_assert_int_eq(f8_cc_profile(be, p, px, perf, NULL, &e), F8_ERR_MISUSE);
				f8_cc_session_close(s);
			}
			f8_cc_free(p);
			p = NULL;
			o.first = o.last = 0;
		}
		/* a range outside the model */
		o.first = 0;
		o.last = g->m.nnodes;
		ck_assert_int_eq(f8_cc_compile_ex(&g->m, &be->caps, &o, &p, &refused, &e), F8_ERR_MISUSE);
		o.first = 3;
		o.last = 2;
		ck_assert_int_eq(f8_cc_compile_ex(&g->m, &be->caps, &o, &p, &refused, &e), F8_ERR_MISUSE);
		o.first = o.last = 0;
		f8t_qm_gen_free(g);
	}
	f8_be_close(be);
	free(g);
}
END_TEST

START_TEST(test_place_without_spec)
{
	static const char *const bad[] = { "ref:4x4,without=",        "ref:4x4,without=foo",
					   "ref:4x4,without=add+",    "ref:4x4,without=+add",
					   "ref:4x4,without=add++pool_max", "ref:4x4,without=end" };
	struct f8_be *be = NULL, *full = NULL;
	struct f8_err e;
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		e.msg[0] = 0;
		ck_assert_msg(f8_be_open(bad[k], &be, &e) == F8_ERR_FORMAT, "%s accepted", bad[k]);
		ck_assert_ptr_null(be);
		ck_assert_msg(strstr(e.msg, "without="), "%s: message '%s'", bad[k], e.msg);
	}
	ck_assert(f8_be_open("ref:4x4", &full, &e) == F8_OK);
	ck_assert(f8_be_open("ref:4x4,without=pool_max+add", &be, &e) == F8_OK);
	ck_assert_uint_eq(be->caps.ops,
			  full->caps.ops & ~(1u << F8NPU_OP_POOL_MAX | 1u << F8NPU_OP_ADD));
	f8_be_close(be);
	f8_be_close(full);
}
END_TEST

Suite *f8_place_suite(void)
{
	Suite *s = suite_create("place");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_place_random_models, 0, NMODELS);
	tcase_add_test(tc, test_place_refused_node);
	tcase_add_test(tc, test_place_without_spec);
	suite_add_tcase(s, tc);
	return s;
}
