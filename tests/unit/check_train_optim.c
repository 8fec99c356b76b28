// SPDX-License-Identifier: MIT
/*
 * The optimiser and the learning-rate schedule (runtime/train/f8-optim.c) against
 * values computed by hand from the formulas of f8-optim.h: two SGD steps of plain
 * momentum, Nesterov and momentum-free SGD, with and without weight decay, for every
 * parameter kind and every exemption flag; the schedule at the warm-up edges, the
 * middle and the end of the cosine.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "f8-optim.h"
#include "train-test.h"

/* A network of one 2-element parameter of every kind, built by hand (no parser). */
struct optim_fixture {
	struct f8_net net;
	struct f8_param params[F8_PARAM_COUNT];
	float param[2 * F8_PARAM_COUNT], grad[2 * F8_PARAM_COUNT];
};

static void fixture_init(struct optim_fixture *fx)
{
	int k;

	memset(fx, 0, sizeof(*fx));
	for (k = 0; k < F8_PARAM_COUNT; k++) {
		fx->params[k].layer = k;
		fx->params[k].kind = (enum f8_param_kind)k;
		fx->params[k].off = 2 * (size_t)k;
		fx->params[k].count = 2;
		/* Element 0: p = 1, g = 0.5; element 1: p = -2, g = 0 (decay alone moves it). */
		fx->param[2 * k] = 1.0f;
		fx->grad[2 * k] = 0.5f;
		fx->param[2 * k + 1] = -2.0f;
		fx->grad[2 * k + 1] = 0.0f;
	}
	fx->net.nparams = F8_PARAM_COUNT;
	fx->net.params = fx->params;
	fx->net.param_count = 2 * F8_PARAM_COUNT;
	fx->net.param = fx->param;
	fx->net.grad = fx->grad;
}

/*
 * Hand-computed with lr 0.5, momentum 0.9, weight decay 0.1 (0 when exempt), the same
 * gradient on both steps. Element 0 (p = 1, g = 0.5):
 *   plain, decayed:    d = .6, v = .6, p = .7;  d = .57, v = 1.11, p = .145
 *   plain, exempt:     d = .5, v = .5, p = .75; v = .95, p = .275
 *   Nesterov, decayed: p = 1 - .5 (.6 + .54) = .43; d = .543, v = 1.083,
 *                      p = .43 - .5 (.543 + .9747) = -.32885
 *   Nesterov, exempt:  p = 1 - .5 (.5 + .45) = .525; v = .95, p = .525 - .5 (.5 + .855) = -.1525
 *   no momentum:       p = 1 - .5 * .6 = .7, then .7 - .5 * .57 = .415 (exempt .75, .5)
 * Element 1 (p = -2, g = 0), decayed: d = -.2;
 *   plain: v = -.2, p = -1.9; d = -.19, v = -.37, p = -1.715
 *   Nesterov: p = -2 + .5 (.2 + .18) = -1.81; d = -.181, v = -.361,
 *             p = -1.81 + .5 (.181 + .3249) = -1.55705
 *   no momentum: -1.9, -1.805
 * Exempt element 1 never moves.
 */
struct sgd_case {
	const char *name;
	float momentum;
	bool nesterov;
	float p0[2][2];   /* [decayed][step]: element 0 after steps 1 and 2 */
	float p1[2];      /* element 1 (decayed) after steps 1 and 2 */
	float v0[2];      /* velocity of element 0 (decayed) after step 2, exempt after step 2 */
};

static const struct sgd_case sgd_cases[] = {
	{ "plain", 0.9f, false, { { 0.75f, 0.275f }, { 0.7f, 0.145f } }, { -1.9f, -1.715f },
	  { 1.11f, 0.95f } },
	{ "nesterov", 0.9f, true, { { 0.525f, -0.1525f }, { 0.43f, -0.32885f } },
	  { -1.81f, -1.55705f }, { 1.083f, 0.95f } },
	{ "no-momentum", 0.0f, false, { { 0.75f, 0.5f }, { 0.7f, 0.415f } }, { -1.9f, -1.805f },
	  { 0.57f, 0.5f } },
};

/* Whether a parameter of @kind is decayed under @cfg (the exemption rules of f8-optim.h). */
static bool decayed(const struct f8_sgd_cfg *cfg, enum f8_param_kind kind)
{
	switch (kind) {
	case F8_PARAM_BN_GAMMA:
	case F8_PARAM_BN_BETA:
		return cfg->decay_bn;
	case F8_PARAM_BIAS:
		return cfg->decay_bias;
	case F8_PARAM_DW_W:
		return cfg->decay_dw;
	default:
		return true;
	}
}

#define NEAR(got, want, what, ...)                                                          \
	ck_assert_msg(fabsf((got) - (want)) <= 1e-6f * (1.0f + fabsf(want)),               \
		      what ": got %.9g, want %.9g", __VA_ARGS__, (double)(got), (double)(want))

/* Every case x every combination of the three exemption flags x every kind. */
START_TEST(test_sgd_hand)
{
	const struct sgd_case *c = &sgd_cases[_i / 8];
	const unsigned int flags = (unsigned int)_i % 8;
	struct f8_sgd_cfg cfg = { .momentum = c->momentum, .weight_decay = 0.1f,
				  .nesterov = c->nesterov, .decay_bn = flags & 1,
				  .decay_bias = flags & 2, .decay_dw = flags & 4 };
	struct optim_fixture fx;
	struct f8_sgd opt;
	int step, k;

	fixture_init(&fx);
	ck_assert_int_eq(f8_sgd_init(&opt, &cfg, &fx.net), F8_OK);
	ck_assert_uint_eq(opt.count, fx.net.param_count);
	for (k = 0; k < 2 * F8_PARAM_COUNT; k++)
		ck_assert(opt.velocity[k] == 0.0f);
	for (step = 0; step < 2; step++) {
		f8_sgd_step(&opt, &fx.net, 0.5f);
		for (k = 0; k < F8_PARAM_COUNT; k++) {
			const bool d = decayed(&cfg, (enum f8_param_kind)k);

			NEAR(fx.param[2 * k], c->p0[d][step], "%s flags %u kind %d step %d elem 0",
			     c->name, flags, k, step + 1);
			NEAR(fx.param[2 * k + 1], d ? c->p1[step] : -2.0f,
			     "%s flags %u kind %d step %d elem 1", c->name, flags, k, step + 1);
			/* Gradients are the optimiser's input only. */
			ck_assert(fx.grad[2 * k] == 0.5f && fx.grad[2 * k + 1] == 0.0f);
		}
	}
	for (k = 0; k < F8_PARAM_COUNT; k++) {
		const bool d = decayed(&cfg, (enum f8_param_kind)k);

		NEAR(opt.velocity[2 * k], c->v0[d ? 0 : 1], "%s flags %u kind %d velocity",
		     c->name, flags, k);
	}
	f8_sgd_free(&opt);
	ck_assert_ptr_null(opt.velocity);
}
END_TEST

/* Weight decay 0: the exemption flags change nothing, every kind moves alike. */
START_TEST(test_sgd_no_decay)
{
	struct f8_sgd_cfg cfg = { .momentum = 0.9f, .weight_decay = 0.0f, .nesterov = true,
				  .decay_bn = true };
	struct optim_fixture fx;
	struct f8_sgd opt;
	int k;

	fixture_init(&fx);
	ck_assert_int_eq(f8_sgd_init(&opt, &cfg, &fx.net), F8_OK);
	f8_sgd_step(&opt, &fx.net, 0.5f);
	f8_sgd_step(&opt, &fx.net, 0.5f);
	for (k = 0; k < F8_PARAM_COUNT; k++) {
		NEAR(fx.param[2 * k], -0.1525f, "kind %d", k);
		ck_assert(fx.param[2 * k + 1] == -2.0f);
	}
	f8_sgd_free(&opt);
}
END_TEST

/* The velocity is the state that carries over: continuing from a copy matches. */
START_TEST(test_sgd_velocity_resume)
{
	struct f8_sgd_cfg cfg = { .momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = true };
	struct optim_fixture a, b;
	struct f8_sgd oa, ob;

	fixture_init(&a);
	ck_assert_int_eq(f8_sgd_init(&oa, &cfg, &a.net), F8_OK);
	f8_sgd_step(&oa, &a.net, 0.1f);
	fixture_init(&b);
	memcpy(b.param, a.param, sizeof(a.param));
	ck_assert_int_eq(f8_sgd_init(&ob, &cfg, &b.net), F8_OK);
	memcpy(ob.velocity, oa.velocity, oa.count * sizeof(float));
	f8_sgd_step(&oa, &a.net, 0.05f);
	f8_sgd_step(&ob, &b.net, 0.05f);
	ck_assert(memcmp(a.param, b.param, sizeof(a.param)) == 0);
	f8_sgd_free(&oa);
	f8_sgd_free(&ob);
}
END_TEST

START_TEST(test_sgd_misuse)
{
	struct f8_sgd_cfg cfg = { .momentum = 0.9f };
	struct optim_fixture fx;
	struct f8_sgd opt;
	struct f8_net empty;

	fixture_init(&fx);
	ck_assert_int_eq(f8_sgd_init(NULL, &cfg, &fx.net), F8_ERR_MISUSE);
	ck_assert_int_eq(f8_sgd_init(&opt, NULL, &fx.net), F8_ERR_MISUSE);
	ck_assert_int_eq(f8_sgd_init(&opt, &cfg, NULL), F8_ERR_MISUSE);
	/* A parameter-free network is legal and stepping it does nothing. */
	memset(&empty, 0, sizeof(empty));
	ck_assert_int_eq(f8_sgd_init(&opt, &cfg, &empty), F8_OK);
	ck_assert_ptr_nonnull(opt.velocity);
	f8_sgd_step(&opt, &empty, 0.1f);
	f8_sgd_free(&opt);
	f8_sgd_free(&opt); /* idempotent */
	f8_sgd_free(NULL);
}
END_TEST

/* lr(s) in double from the formula of f8-optim.h, for the points not written out below. */
static double lr_formula(double base, double fin, long warm, long total, long s)
{
	if (s < warm)
		return base * (double)(s + 1) / (double)warm;
	if (s >= total)
		return fin;
	return fin + (base - fin) * (1.0 + cos(3.14159265358979323846 * (double)(s - warm) /
					       (double)(total - warm))) / 2.0;
}

START_TEST(test_lr_schedule)
{
	const struct f8_lr_sched s = { .base_lr = 0.1f, .final_lr = 0.001f, .warmup_steps = 5,
				       .total_steps = 105 };
	static const struct {
		long step;
		double want;
	} known[] = {
		{ 0, 0.02 },   /* first warm-up step: base / warmup, never 0 */
		{ 1, 0.04 },
		{ 4, 0.1 },    /* last warm-up step reaches base */
		{ 5, 0.1 },    /* cosine starts at base: cos(0) = 1 */
		{ 55, 0.0505 },/* half way: (base + final) / 2 */
		{ 105, 0.001 },/* the end: final */
		{ 106, 0.001 },/* past the end: stays at final */
		{ 100000, 0.001 },
		{ -3, 0.02 },  /* negative steps clamp to 0 */
	};
	size_t i;
	long st;
	float prev = 1.0f;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		NEAR(f8_lr_at(&s, known[i].step), (float)known[i].want, "step %ld", known[i].step);
	/* 80 % into the cosine: final + (base - final) (1 + cos(0.8 pi)) / 2. */
	NEAR(f8_lr_at(&s, 85), (float)(0.001 + 0.099 * (1.0 + cos(0.8 * 3.14159265358979323846)) / 2.0),
	     "step %d", 85);
	/* Every step against the formula; monotone non-increasing after warm-up. */
	for (st = 0; st <= 110; st++) {
		float lr = f8_lr_at(&s, st);

		NEAR(lr, (float)lr_formula(0.1f, 0.001f, 5, 105, st), "step %ld", st);
		if (st >= 5)
			ck_assert_msg(lr <= prev, "lr rises at step %ld", st);
		prev = lr;
		ck_assert(lr > 0.0f);
	}
}
END_TEST

START_TEST(test_lr_no_warmup)
{
	const struct f8_lr_sched s = { .base_lr = 0.4f, .final_lr = 0.0f, .warmup_steps = 0,
				       .total_steps = 4 };
	/* Warm-up as long as the run: the warm-up ramp, then base. */
	const struct f8_lr_sched w = { .base_lr = 0.4f, .final_lr = 0.0f, .warmup_steps = 4,
				       .total_steps = 4 };

	NEAR(f8_lr_at(&s, 0), 0.4f, "step %d", 0);
	NEAR(f8_lr_at(&s, 1), (float)(0.2 * (1.0 + cos(3.14159265358979323846 / 4))), "step %d", 1);
	NEAR(f8_lr_at(&s, 2), 0.2f, "step %d", 2);
	NEAR(f8_lr_at(&s, 4), 0.0f, "step %d", 4);
	NEAR(f8_lr_at(&w, 0), 0.1f, "step %d", 0);
	NEAR(f8_lr_at(&w, 3), 0.4f, "step %d", 3);
	NEAR(f8_lr_at(&w, 4), 0.4f, "step %d", 4);
}
END_TEST

Suite *f8_train_optim_suite(void)
{
	Suite *s = suite_create("train_optim");
	TCase *tc = tcase_create("sgd");

	tcase_add_loop_test(tc, test_sgd_hand, 0, 8 * (int)(sizeof(sgd_cases) / sizeof(sgd_cases[0])));
	tcase_add_test(tc, test_sgd_no_decay);
	tcase_add_test(tc, test_sgd_velocity_resume);
	tcase_add_test(tc, test_sgd_misuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("schedule");
	tcase_add_test(tc, test_lr_schedule);
	tcase_add_test(tc, test_lr_no_warmup);
	suite_add_tcase(s, tc);
	return s;
}
