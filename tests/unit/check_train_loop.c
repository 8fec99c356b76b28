// SPDX-License-Identifier: MIT
/*
 * The training loop (runtime/train/f8-train.c) and its reports (f8-plot.c, the CSV log):
 *   - a short run (5 epochs of 256 real Fashion-MNIST images) whose loss falls clearly;
 *   - determinism: the same seed gives bit-identical parameters, statistics, momentum;
 *   - resume: a checkpoint written after epoch 2 of a 4-epoch run, loaded and continued,
 *     ends bit-identical to the uninterrupted run (same thread count);
 *   - a partial last batch, bad configurations and datasets that do not fit the net;
 *   - the CSV parses back to the history, the SVG is well-formed XML.
 * The images come from the t10k split (the smaller file); a run takes well under a second.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f8-par.h"
#include "f8-plot.h"
#include "f8-train.h"
#include "train-test.h"

/* Two strided convolutions, a residual block, global pooling: small but complete. */
static const char tiny_arch[] = "f8arch 1\n"
				"x = input c=1 h=28 w=28\n"
				"c1 = conv x out=8 k=3 s=2 p=1\n"
				"b1 = bn c1\n"
				"r1 = relu b1\n"
				"c2 = conv r1 out=16 k=3 s=2 p=1\n"
				"b2 = bn c2\n"
				"r2 = relu b2\n"
				"c3 = conv r2 out=16 k=3 s=1 p=1\n"
				"b3 = bn c3\n"
				"a3 = add b3 r2\n"
				"r3 = relu a3\n"
				"g = avgpool r3 k=global\n"
				"fc = linear g out=10\n";

static struct f8_dataset all;          /* the t10k split, loaded once per suite run */
static struct f8_dataset train, test; /* views into it: images 0..255 and 256..383 */

static void data_setup(void)
{
	struct f8_err err = { "" };

	if (f8_fmnist_load(&all, NULL, false, &err) != F8_OK) {
		fprintf(stderr, "train_loop: %s\n", err.msg);
		return;
	}
	train = all;
	train.n = 256;
	test = all;
	test.n = 128;
	test.pixels = all.pixels + (size_t)256 * 28 * 28;
	test.labels = all.labels + 256;
}

static void data_teardown(void)
{
	f8_dataset_free(&all);
}

static void cfg_default(struct f8_train_cfg *c, int epochs)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->model, "tiny");
	c->epochs = epochs;
	c->batch = 32;
	c->threads = 2;
	c->lr = 0.1f;
	c->final_lr = 0.0f;
	c->warmup_epochs = 0.5f;
	c->sgd = (struct f8_sgd_cfg){ 0.9f, 5e-4f, true, false, false, false };
	c->aug = (struct f8_augment){ 2, true };
	c->seed = 42;
}

struct run {
	struct f8_net *net;
	struct f8_sgd opt;
	struct f8_train_state st;
};

static void run_new(struct run *r, const struct f8_train_cfg *c)
{
	struct f8_err err = { "" };

	ck_assert_msg(all.n > 0, "Fashion-MNIST not found in " F8_FMNIST_DIR);
	memset(r, 0, sizeof(*r));
	r->net = f8_net_parse(tiny_arch, &err);
	ck_assert_msg(r->net != NULL, "tiny architecture refused: %s", err.msg);
	f8_net_init(r->net, c->seed);
	ck_assert_int_eq(f8_sgd_init(&r->opt, &c->sgd, r->net), F8_OK);
}

static void run_free(struct run *r)
{
	f8_net_free(r->net);
	f8_sgd_free(&r->opt);
	f8_train_state_free(&r->st);
}

static void run_train(struct run *r, const struct f8_train_cfg *c,
		      const struct f8_train_hooks *hooks)
{
	struct f8_err err = { "" };
	int rc = f8_train_run(c, r->net, &r->opt, &r->st, &train, &test, hooks, &err);

	ck_assert_msg(rc == F8_OK, "f8_train_run: %d %s", rc, err.msg);
	ck_assert_int_eq(r->st.epochs_done, c->epochs);
}

/* Everything a resumed run depends on, compared bit for bit. */
static void assert_same(const struct run *a, const struct run *b)
{
	ck_assert_uint_eq(a->net->param_count, b->net->param_count);
	ck_assert_msg(!memcmp(a->net->param, b->net->param, a->net->param_count * sizeof(float)),
		      "parameters differ");
	ck_assert_msg(!memcmp(a->net->state, b->net->state, a->net->state_count * sizeof(float)),
		      "BN running statistics differ");
	ck_assert_msg(!memcmp(a->opt.velocity, b->opt.velocity, a->opt.count * sizeof(float)),
		      "momentum buffers differ");
	ck_assert_int_eq(a->st.step, b->st.step);
}

START_TEST(test_loss_falls)
{
	struct f8_train_cfg c;
	struct f8_err err = { "" };
	struct run r;
	double loss0, acc0, loss1, acc1;
	int e;

	cfg_default(&c, 5);
	c.batch = 16; /* 80 steps */
	run_new(&r, &c);
	ck_assert_int_eq(f8_net_plan(r.net, c.batch, &err), F8_OK);
	ck_assert_int_eq(f8_train_evaluate(r.net, &train, c.batch, &loss0, &acc0, &err), F8_OK);
	run_train(&r, &c, NULL);
	ck_assert_int_eq(f8_train_evaluate(r.net, &train, c.batch, &loss1, &acc1, &err), F8_OK);
	/* From chance (ln 10 = 2.30) to clearly learnt (about 1.1, 60 %, 45 % test when written);
	 * thresholds with a wide margin. */
	ck_assert_msg(loss0 > 1.8, "untrained loss %g", loss0);
	ck_assert_msg(loss1 < 0.7 * loss0, "loss %g -> %g", loss0, loss1);
	ck_assert_msg(acc1 > 0.4, "training accuracy %g", acc1);
	ck_assert_msg(r.st.history[4].train_loss < r.st.history[0].train_loss, "epoch losses %g %g",
		      r.st.history[0].train_loss, r.st.history[4].train_loss);
	ck_assert_msg(r.st.history[4].test_acc > 0.3, "test accuracy %g", r.st.history[4].test_acc);
	ck_assert_int_eq(r.st.step, 5 * 16);
	for (e = 0; e < 5; e++) {
		const struct f8_epoch_stats *h = &r.st.history[e];

		ck_assert_int_eq(h->epoch, e + 1);
		ck_assert(isfinite(h->train_loss) && isfinite(h->test_loss));
		ck_assert(h->train_acc >= 0 && h->train_acc <= 1);
		ck_assert(h->seconds > 0 && h->images_per_s > 0);
	}
	/* Cosine to 0: the last step's rate is small, the warm-up peak was 0.1. */
	ck_assert(r.st.history[4].lr < 0.01 && r.st.history[0].lr > 0.05);
	run_free(&r);
}
END_TEST

START_TEST(test_deterministic)
{
	struct f8_train_cfg c;
	struct run a, b;

	cfg_default(&c, 2);
	run_new(&a, &c);
	run_train(&a, &c, NULL);
	run_new(&b, &c);
	run_train(&b, &c, NULL);
	assert_same(&a, &b);
	ck_assert(a.st.history[1].train_loss == b.st.history[1].train_loss);
	ck_assert(a.st.history[1].test_acc == b.st.history[1].test_acc);
	run_free(&b);
	/* Another seed, another run. */
	c.seed = 43;
	run_new(&b, &c);
	run_train(&b, &c, NULL);
	ck_assert(memcmp(a.net->param, b.net->param, a.net->param_count * sizeof(float)) != 0);
	run_free(&a);
	run_free(&b);
}
END_TEST

struct save_ctx {
	const struct f8_train_cfg *cfg;
	const char *path;
	int at_epoch, calls;
};

static int save_at(void *ctx, const struct f8_net *net, const struct f8_sgd *opt,
		   const struct f8_train_state *st, struct f8_err *err)
{
	struct save_ctx *s = ctx;

	s->calls++;
	if (st->epochs_done != s->at_epoch)
		return F8_OK;
	return f8_ckpt_save(s->path, net, opt, s->cfg, st, err);
}

START_TEST(test_resume_exact)
{
	char path[] = "/tmp/f8-loop-XXXXXX";
	struct f8_train_cfg c, c2;
	struct f8_train_hooks hooks = { 0 };
	struct save_ctx sc;
	struct f8_err err = { "" };
	struct run a, b;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	cfg_default(&c, 4);
	/* The straight run, checkpointing after epoch 2 as `f8 train` does after each. */
	sc = (struct save_ctx){ &c, path, 2, 0 };
	hooks.ctx = &sc;
	hooks.epoch_end = save_at;
	run_new(&a, &c);
	run_train(&a, &c, &hooks);
	ck_assert_int_eq(sc.calls, 4);

	memset(&b, 0, sizeof(b));
	ck_assert_msg(f8_ckpt_load(path, &b.net, &b.opt, &c2, &b.st, &err) == F8_OK, "%s", err.msg);
	unlink(path);
	ck_assert_int_eq(b.st.epochs_done, 2);
	ck_assert_int_eq(c2.epochs, 4);
	run_train(&b, &c2, NULL);
	assert_same(&a, &b);
	ck_assert(a.st.history[3].train_loss == b.st.history[3].train_loss);
	ck_assert(a.st.history[3].test_loss == b.st.history[3].test_loss);
	ck_assert(a.st.history[0].train_loss == b.st.history[0].train_loss);
	run_free(&a);
	run_free(&b);
}
END_TEST

/* A failing hook stops the run with its status; the state holds the finished epochs. */
static int fail_hook(void *ctx, const struct f8_net *net, const struct f8_sgd *opt,
		     const struct f8_train_state *st, struct f8_err *err)
{
	(void)ctx;
	(void)net;
	(void)opt;
	(void)st;
	return f8_fail(err, F8_ERR_IO, "disk full");
}

START_TEST(test_hook_failure_and_partial_batch)
{
	struct f8_train_cfg c;
	struct f8_train_hooks hooks = { 0 };
	struct f8_err err = { "" };
	struct run r;

	cfg_default(&c, 3);
	c.batch = 100; /* 256 = 100 + 100 + 56: the last batch is partial */
	hooks.epoch_end = fail_hook;
	run_new(&r, &c);
	ck_assert_int_eq(f8_train_run(&c, r.net, &r.opt, &r.st, &train, &test, &hooks, &err),
			 F8_ERR_IO);
	ck_assert_str_eq(err.msg, "disk full");
	ck_assert_int_eq(r.st.epochs_done, 1);
	ck_assert_int_eq(r.st.step, 3);
	ck_assert(isfinite(r.st.history[0].train_loss));
	/* Continue without the hook: epochs 2 and 3. */
	run_train(&r, &c, NULL);
	ck_assert_int_eq(r.st.step, 9);
	run_free(&r);
}
END_TEST

START_TEST(test_bad_inputs)
{
	struct f8_train_cfg c;
	struct f8_dataset odd;
	struct f8_err err = { "" };
	struct run r;

	cfg_default(&c, 2);
	run_new(&r, &c);
	c.batch = 0;
	ck_assert_int_eq(f8_train_cfg_check(&c, &err), F8_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "batch"));
	cfg_default(&c, 2);
	c.lr = NAN;
	ck_assert_int_eq(f8_train_cfg_check(&c, &err), F8_ERR_RANGE);
	cfg_default(&c, 2);
	c.final_lr = 1.0f;
	ck_assert_int_eq(f8_train_cfg_check(&c, &err), F8_ERR_RANGE);
	cfg_default(&c, 2);
	c.warmup_epochs = 3;
	ck_assert_int_eq(f8_train_cfg_check(&c, &err), F8_ERR_RANGE);
	cfg_default(&c, 2);
	c.sgd.momentum = 1.0f;
	ck_assert_int_eq(f8_train_cfg_check(&c, &err), F8_ERR_RANGE);
	cfg_default(&c, 2);
	ck_assert_int_eq(f8_train_cfg_check(&c, &err), F8_OK);

	/* Images of another size than the input layer. */
	odd = train;
	odd.h = 14;
	odd.w = 56;
	ck_assert_int_eq(f8_train_run(&c, r.net, &r.opt, &r.st, &odd, &test, NULL, &err),
			 F8_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "input"));
	odd = test;
	odd.n = 0;
	ck_assert_int_eq(f8_train_run(&c, r.net, &r.opt, &r.st, &train, &odd, NULL, &err),
			 F8_ERR_RANGE);
	/* A run already past the asked epochs. */
	r.st.epochs_done = 3;
	r.st.history = calloc(3, sizeof(*r.st.history));
	ck_assert_int_eq(f8_train_run(&c, r.net, &r.opt, &r.st, &train, &test, NULL, &err),
			 F8_ERR_RANGE);
	ck_assert_int_eq(r.st.step, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_schedule)
{
	struct f8_train_cfg c;
	struct f8_lr_sched s;

	cfg_default(&c, 10);
	ck_assert_int_eq(f8_train_steps_per_epoch(&c, 256), 8);
	ck_assert_int_eq(f8_train_steps_per_epoch(&c, 257), 9);
	s = f8_train_sched(&c, 256);
	ck_assert_int_eq(s.warmup_steps, 4);
	ck_assert_int_eq(s.total_steps, 80);
	ck_assert(s.base_lr == 0.1f && s.final_lr == 0.0f);
}
END_TEST

static struct f8_epoch_stats sample(int e)
{
	struct f8_epoch_stats h;

	h.epoch = e;
	h.lr = 0.1 * cos(e * 0.3) * cos(e * 0.3);
	h.train_loss = 2.3 / (1 + e) + 1e-7 * e;
	h.train_acc = 1 - 0.9 / (1 + e);
	h.test_loss = 2.4 / (1 + e) + 0.01 * e;
	h.test_acc = 1 - 0.95 / (1 + e);
	h.seconds = 12.345 + e;
	h.images_per_s = 1234.5 * e;
	return h;
}

START_TEST(test_csv)
{
	struct f8_epoch_stats h[7];
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i, rows = 0;

	for (i = 0; i < 7; i++)
		h[i] = sample(i + 1);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f8_train_write_csv(f, h, 7), F8_OK);
	fclose(f);
	line = strtok_r(buf, "\n", &save);
	ck_assert_str_eq(line,
			 "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s");
	while ((line = strtok_r(NULL, "\n", &save))) {
		double v[8];
		char *p = line, *end;
		int k;

		for (k = 0; k < 8; k++) {
			v[k] = strtod(p, &end);
			ck_assert_msg(end != p, "row %d field %d: '%s'", rows, k, line);
			ck_assert(*end == (k < 7 ? ',' : 0));
			p = end + 1;
		}
		ck_assert_int_lt(rows, 7);
		ck_assert(v[0] == h[rows].epoch);
		ck_assert(fabs(v[1] - h[rows].lr) <= 1e-8 * fabs(h[rows].lr));
		ck_assert(fabs(v[2] - h[rows].train_loss) <= 1e-8 * h[rows].train_loss);
		ck_assert(fabs(v[3] - h[rows].train_acc) <= 1e-8);
		ck_assert(fabs(v[4] - h[rows].test_loss) <= 1e-8 * h[rows].test_loss);
		ck_assert(fabs(v[5] - h[rows].test_acc) <= 1e-8);
		ck_assert(fabs(v[6] - h[rows].seconds) <= 1e-3);
		ck_assert(fabs(v[7] - h[rows].images_per_s) <= 0.1);
		rows++;
	}
	ck_assert_int_eq(rows, 7);
	free(buf);
}
END_TEST

/*
 * Well-formedness of the subset of XML the plot writes: a declaration, elements with
 * quoted attributes, self-closing tags, text without '<' or a bare '&'.
 */
static void assert_xml(const char *s)
{
	char stack[64][16];
	int depth = 0, roots = 0;

	ck_assert(!strncmp(s, "<?xml ", 6));
	s = strstr(s, "?>") + 2;
	while (*s) {
		if (*s == '&') {
			ck_assert_msg(!strncmp(s, "&amp;", 5) || !strncmp(s, "&lt;", 4) ||
					      !strncmp(s, "&gt;", 4) || !strncmp(s, "&quot;", 6),
				      "bare &: %.20s", s);
			s++;
		} else if (*s != '<') {
			ck_assert_msg(depth > 0 || *s == '\n', "text outside the root: %.20s", s);
			s++;
		} else if (s[1] == '/') {
			size_t n = strcspn(s + 2, ">");

			ck_assert_int_gt(depth, 0);
			depth--;
			ck_assert_msg(n == strlen(stack[depth]) && !strncmp(s + 2, stack[depth], n),
				      "</%.*s> closes <%s>", (int)n, s + 2, stack[depth]);
			s += n + 3;
		} else {
			size_t n = strcspn(s + 1, " />");
			bool quoted = false;

			ck_assert(n > 0 && n < sizeof(stack[0]));
			ck_assert_int_lt(depth, 64);
			memcpy(stack[depth], s + 1, n);
			stack[depth][n] = 0;
			for (s += 1 + n; *s && (quoted || *s != '>'); s++) {
				ck_assert(quoted || *s != '<');
				if (*s == '"')
					quoted = !quoted;
			}
			ck_assert(*s == '>');
			if (s[-1] != '/') {
				roots += depth == 0;
				depth++;
			}
			s++;
		}
	}
	ck_assert_int_eq(depth, 0);
	ck_assert_int_eq(roots, 1);
}

static char *svg_of(const struct f8_epoch_stats *h, int n, const char *title)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f8_plot_curves_svg(f, h, n, title), F8_OK);
	fclose(f);
	return buf;
}

START_TEST(test_svg)
{
	struct f8_epoch_stats h[30];
	const char *p;
	char *svg;
	int i;

	for (i = 0; i < 30; i++)
		h[i] = sample(i + 1);
	svg = svg_of(h, 30, "resnet20 <tiny> & \"friends\"");
	assert_xml(svg);
	ck_assert_ptr_nonnull(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	ck_assert_ptr_nonnull(strstr(svg, "resnet20 &lt;tiny&gt; &amp; &quot;friends&quot;"));
	ck_assert_ptr_nonnull(strstr(svg, ">epoch</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">accuracy (%)</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">train</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">test</text>"));
	/* 4 series of 30 points. */
	i = 0;
	for (p = strstr(svg, "<circle"); p; p = strstr(p + 1, "<circle"))
		i++;
	ck_assert_int_eq(i, 120);
	free(svg);

	/* Degenerate histories: none, one epoch, a diverged (NaN, inf) run. */
	svg = svg_of(h, 0, NULL);
	assert_xml(svg);
	ck_assert_ptr_nonnull(strstr(svg, "no epochs yet"));
	free(svg);
	svg = svg_of(h, 1, "");
	assert_xml(svg);
	free(svg);
	h[3].train_loss = NAN;
	h[4].test_loss = INFINITY;
	h[5].train_acc = NAN;
	for (i = 0; i < 30; i++)
		h[i].test_acc = 0.5; /* a flat line */
	svg = svg_of(h, 30, "diverged");
	assert_xml(svg);
	ck_assert_ptr_null(strstr(svg, "nan"));
	ck_assert_ptr_null(strstr(svg, "inf"));
	free(svg);
}
END_TEST

/* The limits of a run's configuration are what the engine can do: every thread count
 * f8_train_cfg_check accepts starts a pool, the next one is refused by both. */
START_TEST(test_limits_agree)
{
	struct f8_train_cfg cfg;
	struct f8_err err = { "" };

	memset(&cfg, 0, sizeof(cfg));
	cfg.epochs = F8_TRAIN_EPOCHS_MAX;
	cfg.batch = F8_TRAIN_BATCH_MAX;
	cfg.threads = F8_TRAIN_THREADS_MAX;
	cfg.lr = (float)F8_TRAIN_LR_MAX;
	cfg.aug.crop_pad = F8_TRAIN_CROP_PAD_MAX;
	cfg.train_limit = cfg.test_limit = F8_TRAIN_LIMIT_MAX;
	ck_assert_msg(f8_train_cfg_check(&cfg, &err) == F8_OK, "%s", err.msg);
	ck_assert_int_eq(f8_par_set_threads(F8_TRAIN_THREADS_MAX), F8_OK);
	ck_assert_int_eq(f8_par_threads(), F8_TRAIN_THREADS_MAX);
	ck_assert_int_ne(f8_par_set_threads(F8_TRAIN_THREADS_MAX + 1), F8_OK);
	ck_assert_int_eq(f8_par_set_threads(2), F8_OK);
	cfg.threads = F8_TRAIN_THREADS_MAX + 1;
	ck_assert_int_eq(f8_train_cfg_check(&cfg, &err), F8_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "threads 65 outside [1, 64]"));
}
END_TEST

/*
 * Any finite history draws, quickly and finitely (a checkpoint is untrusted): losses of
 * +-DBL_MAX and 1.7e308 made the axis infinite and the tick loop endless; a range far
 * narrower than its magnitude made the step vanish. Each case must finish under an
 * alarm, stay small, and print no nan/inf coordinate; a title with control characters
 * stays well-formed XML.
 */
START_TEST(test_svg_hostile)
{
	static const double vals[][2] = {
		{ 1.7e308, 0.1 },   { DBL_MAX, -DBL_MAX }, { -1.7e308, 1e-300 }, { 1e10, 1e10 + 1e-6 },
		{ 5e-324, 0 },      { 1e300, 1e-320 },     { -5, 5e-324 },       { 3e38, 3.4e38 },
	};
	struct f8_epoch_stats h[3];
	size_t k;
	char *svg;
	int i;

	alarm(30); /* an endless tick loop fails the run instead of hanging it (CK_FORK=no) */
	for (k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		for (i = 0; i < 3; i++) {
			h[i] = sample(i + 1);
			h[i].train_loss = vals[k][i & 1];
			h[i].test_loss = vals[k][(i + 1) & 1];
			h[i].train_acc = vals[k][0];
			h[i].test_acc = vals[k][1];
		}
		svg = svg_of(h, 3, "t");
		assert_xml(svg);
		ck_assert_msg(strlen(svg) < 64 * 1024, "case %zu: %zu bytes", k, strlen(svg));
		ck_assert_msg(!strstr(svg, "nan") && !strstr(svg, "inf"), "case %zu: non-finite", k);
		free(svg);
	}
	alarm(0);
	svg = svg_of(h, 3, "run \033]0;x\007 \x01\x7f\xff");
	assert_xml(svg);
	ck_assert_ptr_null(strchr(svg, '\033'));
	ck_assert_ptr_null(strchr(svg, '\x01'));
	free(svg);
}
END_TEST

Suite *f8_train_loop_suite(void)
{
	Suite *s = suite_create("train_loop");
	TCase *tc = tcase_create("run");

	tcase_add_unchecked_fixture(tc, data_setup, data_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_loss_falls);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_resume_exact);
	tcase_add_test(tc, test_hook_failure_and_partial_batch);
	tcase_add_test(tc, test_bad_inputs);
	suite_add_tcase(s, tc);
	tc = tcase_create("reports");
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_csv);
	tcase_add_test(tc, test_svg);
	tcase_add_test(tc, test_svg_hostile);
	tcase_add_test(tc, test_limits_agree);
	suite_add_tcase(s, tc);
	return s;
}
