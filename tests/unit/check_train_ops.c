// SPDX-License-Identifier: MIT
/*
 * The float training kernels (runtime/train/f8-ops-*.c) against naive float64 code.
 *
 * Every kernel's forward is compared with a float64 implementation written here from
 * the definitions in f8-ops.h; every backward with float64 central finite differences
 * of that naive forward, for the scalar loss L = sum(y * r) with a random r (so dy = r).
 * Gradients of inputs must be ADDED to what dx held, parameter gradients overwrite
 * what was there (NaN-filled), scratch memory starts as NaN, and 1 and 2 threads must
 * agree. Shapes are small and random-valued (f8t_seed), so the suite stays fast under
 * ASan too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "f8-err.h"
#include "f8-ops.h"
#include "f8-par.h"
#include "f8-rng.h"
#include "f8-test.h"
#include "train-test.h"

/* Relative tolerance of float kernels against float64 (scaled by the largest value). */
#define TOL 1e-4
/* Finite-difference step (float64: the truncation error of a smooth loss is ~h^2). */
#define FD_H 1e-3
/* Entries per tensor whose finite difference is taken (all of them when fewer). */
#define FD_SAMPLES 60

/* ---- helpers ---- */

/* A check inside a hot loop: Check's own asserts cost a call each even when they pass. */
#define EXPECT(cond, ...)                         \
	do {                                      \
		if (!(cond))                      \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

static void rng_for(struct f8_rng *r, const char *name, int idx)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ull;
	f8_rng_init(r, f8t_seed ^ h, (uint64_t)idx);
}

static float *fvec(size_t n)
{
	float *p = malloc(sizeof(*p) * (n ? n : 1));

	ck_assert_ptr_nonnull(p);
	return p;
}

static double *dvec(size_t n)
{
	double *p = calloc(n ? n : 1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	return p;
}

static void fnan(float *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = NAN;
}

static double *to_d(const float *p, size_t n)
{
	double *d = dvec(n);
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = p[i];
	return d;
}

static double maxabs(const double *p, size_t n)
{
	double m = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		m = fmax(m, fabs(p[i]));
	return m;
}

/* got[i] must equal want[i] within tol of (|want[i]| + the largest |want|). */
static void expect_close(const char *what, int tc, const float *got, const double *want, size_t n,
			 double tol)
{
	double scale = maxabs(want, n) + 1e-30;
	size_t i;

	for (i = 0; i < n; i++) {
		double err = fabs((double)got[i] - want[i]);

		EXPECT(err <= tol * (fabs(want[i]) + scale),
			      "case %d: %s[%zu] = %.9g, want %.9g (err %.3g, scale %.3g)", tc, what,
			      i, (double)got[i], want[i], err, scale);
	}
}

/*
 * Two runs (1 and 2 threads) of the same kernel must agree bit for bit: libf8 promises
 * results independent of the thread count (docs/train.md, "Determinism").
 */
static void expect_same(const char *what, int tc, const float *a, const float *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		EXPECT(memcmp(&a[i], &b[i], sizeof(*a)) == 0, "case %d: %s[%zu] = %.9g, other %.9g",
		       tc, what, i, (double)a[i], (double)b[i]);
}

/* Indices to check by finite differences: all, or FD_SAMPLES random ones. */
static size_t fd_pick(struct f8_rng *r, size_t n, size_t k)
{
	return n <= FD_SAMPLES ? k : f8_rng_below(r, (uint32_t)n);
}

static size_t fd_count(size_t n)
{
	return n <= FD_SAMPLES ? n : FD_SAMPLES;
}

/* sum(y * r) */
static double dot_d(const double *y, const float *r, size_t n)
{
	double s = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		s += y[i] * r[i];
	return s;
}

/*
 * A float64 model of one kernel: loss(params) = sum(forward(params) * r). The tensors
 * it reads are float64 copies the finite differences perturb in place.
 */
typedef double (*loss_fn)(void *m);

/* d loss / d t[i] by central differences, compared with got[i] (the kernel's gradient). */
static void fd_check(const char *what, int tc, struct f8_rng *r, loss_fn loss, void *m, double *t,
		     size_t n, const float *got)
{
	double *want = dvec(n), scale;
	size_t k, *idx = malloc(sizeof(*idx) * (fd_count(n) ? fd_count(n) : 1));

	ck_assert_ptr_nonnull(idx);
	for (k = 0; k < fd_count(n); k++) {
		size_t i = fd_pick(r, n, k);
		double keep = t[i], lp, lm;

		t[i] = keep + FD_H;
		lp = loss(m);
		t[i] = keep - FD_H;
		lm = loss(m);
		t[i] = keep;
		idx[k] = i;
		want[k] = (lp - lm) / (2 * FD_H);
	}
	/* Scale by the whole analytic gradient: sampled entries may all be small. */
	scale = 0.0;
	for (k = 0; k < n; k++)
		scale = fmax(scale, fabs((double)got[k]));
	for (k = 0; k < fd_count(n); k++) {
		double err = fabs((double)got[idx[k]] - want[k]);

		EXPECT(err <= TOL * (fabs(want[k]) + scale) + 1e-9,
			      "case %d: d%s[%zu] = %.9g, finite difference %.9g (err %.3g)", tc,
			      what, idx[k], (double)got[idx[k]], want[k], err);
	}
	free(idx);
	free(want);
}

/* After backward, dx - dx0 is the gradient (accumulate convention). */
static float *minus(const float *a, const float *b, size_t n)
{
	float *d = fvec(n);
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = a[i] - b[i];
	return d;
}

/* ---- convolution ---- */

struct conv_model {
	struct f8_conv_geom g;
	double *x, *w, *b, *y;
	const float *r;
	bool has_bias;
};

static void conv_naive(const struct conv_model *m)
{
	const struct f8_conv_geom *g = &m->g;
	const int cg = g->cin / g->groups, og = g->cout / g->groups;
	int n, co, oy, ox, ci, ki, kj;

	for (n = 0; n < g->n; n++)
		for (co = 0; co < g->cout; co++)
			for (oy = 0; oy < g->oh; oy++)
				for (ox = 0; ox < g->ow; ox++) {
					double s = m->has_bias ? m->b[co] : 0.0;
					int grp = co / og;

					for (ci = 0; ci < cg; ci++)
						for (ki = 0; ki < g->k; ki++)
							for (kj = 0; kj < g->k; kj++) {
								int iy = oy * g->stride - g->pad + ki;
								int ix = ox * g->stride - g->pad + kj;
								int c = grp * cg + ci;

								if (iy < 0 || iy >= g->h || ix < 0 ||
								    ix >= g->w)
									continue;
								s += m->w[((co * cg + ci) * g->k + ki) * g->k + kj] *
								     m->x[((n * g->cin + c) * g->h + iy) * g->w + ix];
							}
					m->y[((n * g->cout + co) * g->oh + oy) * g->ow + ox] = s;
				}
}

static double conv_loss(void *p)
{
	struct conv_model *m = p;

	conv_naive(m);
	return dot_d(m->y, m->r, (size_t)m->g.n * m->g.cout * m->g.oh * m->g.ow);
}

struct conv_case {
	int n, cin, h, w, cout, k, stride, pad, groups;
};

static const struct conv_case conv_cases[] = {
	{ 2, 3, 7, 7, 4, 1, 1, 0, 1 },	  /* 1x1 direct (no im2col) */
	{ 1, 2, 6, 5, 3, 1, 2, 0, 1 },	  /* 1x1 stride 2 (a shortcut) */
	{ 2, 3, 7, 6, 4, 3, 1, 1, 1 },
	{ 3, 2, 9, 9, 5, 3, 2, 1, 1 },
	{ 1, 2, 8, 7, 3, 5, 1, 2, 1 },
	{ 2, 2, 9, 8, 3, 5, 2, 2, 1 },
	{ 1, 2, 11, 10, 2, 7, 2, 2, 1 },
	{ 2, 1, 7, 7, 3, 7, 1, 0, 1 },	  /* window = image: 1x1 output */
	{ 2, 1, 5, 5, 2, 3, 1, 0, 1 },
	{ 1, 3, 4, 4, 2, 3, 1, 2, 1 },	  /* pad 2 with k 3: rows of pure padding */
	{ 27, 2, 5, 5, 3, 3, 1, 1, 1 },	  /* chunks of 2 images, a ragged last one */
	{ 17, 3, 4, 4, 2, 1, 1, 0, 1 },	  /* 1x1 on chunks: through im2col after all */
	{ 40, 2, 3, 3, 3, 3, 2, 1, 1 },	  /* chunks of 4 images */
	{ 18, 1, 28, 28, 2, 3, 1, 1, 1 },  /* single images, more than the 16 dW partials */
	{ 3, 2, 28, 27, 3, 3, 2, 1, 1 },  /* stride 2, rows over 8 (AVX2: full vectors + tail) */
	{ 2, 3, 19, 21, 2, 1, 2, 0, 1 },  /* 1x1 stride 2, odd widths */
	{ 9, 2, 14, 13, 3, 3, 1, 1, 1 },  /* stride 1, rows of 13, chunks of images */
	{ 2, 2, 12, 20, 2, 5, 1, 2, 1 },  /* k 5 pad 2, rows of 20 */
	{ 2, 2, 10, 11, 2, 3, 1, 0, 1 },  /* stride 1 unpadded: ow < w */
	/* the direct 3x3 kernel (AVX-512 machines): forward and dx */
	{ 1, 16, 28, 28, 16, 3, 1, 1, 1 }, /* 16 channels x rows of 28 */
	{ 1, 32, 14, 14, 32, 3, 1, 1, 1 }, /* 32 x 14 */
	{ 2, 64, 7, 7, 64, 3, 1, 1, 1 },   /* 64 x 7 */
	{ 1, 128, 7, 7, 64, 3, 1, 1, 1 },  /* dx in two blocks of 64 channels */
	{ 1, 16, 28, 28, 8, 3, 1, 1, 1 },  /* direct dx only */
	{ 2, 8, 14, 14, 32, 3, 1, 1, 1 },  /* direct forward only */
	{ 2, 4, 7, 7, 4, 3, 1, 1, 4 },	  /* depthwise */
	{ 1, 3, 9, 8, 3, 3, 2, 1, 3 },
	{ 2, 2, 7, 7, 2, 5, 2, 2, 2 },
	{ 1, 3, 6, 6, 3, 1, 1, 0, 3 },
	{ 2, 3, 11, 11, 3, 7, 1, 3, 3 },
	{ 3, 2, 6, 7, 2, 3, 2, 0, 2 },
};

struct conv_run {
	float *y, *dx, *dw, *db;
};

static void conv_run(const struct f8_conv_geom *g, int threads, const float *x, const float *w,
		     const float *b, const float *dy, const float *dx0, bool want_dx, struct conv_run *o)
{
	size_t xs = (size_t)g->n * g->cin * g->h * g->w, ys = (size_t)g->n * g->cout * g->oh * g->ow;
	size_t ws_n = 0, ws_n2;
	size_t wsz = (size_t)g->cout * (g->cin / g->groups) * g->k * g->k;
	float *ws;

	ck_assert_int_eq(f8_par_set_threads(threads), 0);
	ck_assert_int_eq(f8_par_threads(), threads);
	ws_n = f8_conv_ws_floats(g);
	ws = fvec(ws_n);
	o->y = fvec(ys);
	o->dx = fvec(xs);
	o->dw = fvec(wsz);
	o->db = fvec((size_t)g->cout);
	fnan(ws, ws_n);
	fnan(o->y, ys);
	fnan(o->dw, wsz);
	fnan(o->db, (size_t)g->cout);
	memcpy(o->dx, dx0, sizeof(*dx0) * xs);
	f8_conv_fwd(g, x, w, b, o->y, ws);
	fnan(ws, ws_n);
	f8_conv_bwd(g, x, w, dy, want_dx ? o->dx : NULL, o->dw, b ? o->db : NULL, ws);
	ws_n2 = f8_conv_ws_floats(g);
	ck_assert_uint_eq(ws_n, ws_n2);
	free(ws);
}

static void conv_run_free(struct conv_run *o)
{
	free(o->y);
	free(o->dx);
	free(o->dw);
	free(o->db);
}

START_TEST(test_conv)
{
	const struct conv_case *cc = &conv_cases[_i];
	struct f8_conv_geom g = {
		.n = cc->n, .cin = cc->cin, .h = cc->h, .w = cc->w, .cout = cc->cout, .k = cc->k,
		.stride = cc->stride, .pad = cc->pad, .groups = cc->groups,
	};
	struct f8_rng r;
	struct conv_model m;
	struct conv_run o1, o2;
	size_t xs, ys, wsz;
	float *x, *w, *b, *dy, *dx0, *dxg;
	bool has_bias = _i % 2 == 0, want_dx = _i != 8; /* case 8: the image input */

	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_OK);
	ck_assert_int_eq(g.oh, (cc->h + 2 * cc->pad - cc->k) / cc->stride + 1);
	rng_for(&r, "conv", _i);
	xs = (size_t)g.n * g.cin * g.h * g.w;
	ys = (size_t)g.n * g.cout * g.oh * g.ow;
	wsz = (size_t)g.cout * (g.cin / g.groups) * g.k * g.k;
	x = fvec(xs);
	w = fvec(wsz);
	b = fvec((size_t)g.cout);
	dy = fvec(ys);
	dx0 = fvec(xs);
	f8tt_fill_uniform(&r, x, xs, -1, 1);
	f8tt_fill_uniform(&r, w, wsz, -1, 1);
	f8tt_fill_uniform(&r, b, (size_t)g.cout, -1, 1);
	f8tt_fill_uniform(&r, dy, ys, -1, 1);
	f8tt_fill_uniform(&r, dx0, xs, -2, 2);

	conv_run(&g, 1, x, w, has_bias ? b : NULL, dy, dx0, want_dx, &o1);
	conv_run(&g, 2, x, w, has_bias ? b : NULL, dy, dx0, want_dx, &o2);

	m.g = g;
	m.x = to_d(x, xs);
	m.w = to_d(w, wsz);
	m.b = to_d(b, (size_t)g.cout);
	m.y = dvec(ys);
	m.r = dy;
	m.has_bias = has_bias;
	conv_naive(&m);
	expect_close("y", _i, o1.y, m.y, ys, TOL);
	expect_same("y (2 threads)", _i, o2.y, o1.y, ys);
	expect_same("dw (2 threads)", _i, o2.dw, o1.dw, wsz);
	expect_same("dx (2 threads)", _i, o2.dx, o1.dx, xs);

	fd_check("w", _i, &r, conv_loss, &m, m.w, wsz, o1.dw);
	if (has_bias) {
		fd_check("bias", _i, &r, conv_loss, &m, m.b, (size_t)g.cout, o1.db);
		expect_same("dbias (2 threads)", _i, o2.db, o1.db, (size_t)g.cout);
	}
	if (want_dx) {
		dxg = minus(o1.dx, dx0, xs);
		fd_check("x", _i, &r, conv_loss, &m, m.x, xs, dxg);
		free(dxg);
	} else {
		ck_assert_msg(memcmp(o1.dx, dx0, sizeof(*dx0) * xs) == 0, "dx NULL but written");
	}
	conv_run_free(&o1);
	conv_run_free(&o2);
	free(m.x);
	free(m.w);
	free(m.b);
	free(m.y);
	free(x);
	free(w);
	free(b);
	free(dy);
	free(dx0);
}
END_TEST

/*
 * Batches large enough for chunks of several images (the direct 3x3 kernel sums dW over
 * a chunk in registers; the GEMM path multiplies a chunk's images in one SGEMM): the batch
 * equals its images run one by one to float rounding. Not bit for bit: how a GEMM rounds
 * an output may depend on the matrix width under some OpenBLAS kernels (Haswell, Zen,
 * Prescott), and libf8 promises bit-equality only across thread counts (docs/train.md,
 * "Determinism"). The single-image runs are what test_conv checks against finite
 * differences. Shapes: the direct kernel's 64 x 7 and 32 x 14, and a GEMM one.
 */
START_TEST(test_conv_chunks)
{
	static const struct conv_case cases[] = {
		{ 16, 64, 7, 7, 64, 3, 1, 1, 1 },
		{ 16, 32, 14, 14, 32, 3, 1, 1, 1 },
		{ 32, 3, 7, 7, 5, 3, 1, 1, 1 },
	};
	const struct conv_case *cc = &cases[_i];
	struct f8_conv_geom g = { .n = cc->n, .cin = cc->cin, .h = cc->h, .w = cc->w,
				  .cout = cc->cout, .k = cc->k, .stride = cc->stride, .pad = cc->pad,
				  .groups = cc->groups };
	struct f8_conv_geom g1;
	struct f8_rng r;
	size_t xs1, ys1, wsz, q;
	float *x, *w, *b, *dy, *dx0;
	double *dws, *dbs, scale = 0.0;
	struct conv_run all, one;
	int i;

	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_OK);
	g1 = g;
	g1.n = 1;
	ck_assert_int_eq(f8_conv_geom_finish(&g1), F8_OK);
	xs1 = (size_t)g.cin * g.h * g.w;
	ys1 = (size_t)g.cout * g.oh * g.ow;
	wsz = (size_t)g.cout * g.cin * g.k * g.k;
	rng_for(&r, "conv_chunks", _i);
	x = fvec(xs1 * g.n);
	dx0 = fvec(xs1 * g.n);
	dy = fvec(ys1 * g.n);
	w = fvec(wsz);
	b = fvec((size_t)g.cout);
	f8tt_fill_uniform(&r, x, xs1 * g.n, -1, 1);
	f8tt_fill_uniform(&r, dx0, xs1 * g.n, -1, 1);
	f8tt_fill_uniform(&r, dy, ys1 * g.n, -1, 1);
	f8tt_fill_uniform(&r, w, wsz, -1, 1);
	f8tt_fill_uniform(&r, b, (size_t)g.cout, -1, 1);
	dws = calloc(wsz, sizeof(*dws));
	dbs = calloc((size_t)g.cout, sizeof(*dbs));
	ck_assert(dws && dbs);
	conv_run(&g, 2, x, w, b, dy, dx0, true, &all);
	for (i = 0; i < g.n; i++) {
		double *y1, *dx1;

		conv_run(&g1, 1, x + i * xs1, w, b, dy + i * ys1, dx0 + i * xs1, true, &one);
		y1 = to_d(one.y, ys1);
		dx1 = to_d(one.dx, xs1);
		expect_close("y (batch vs image)", _i, all.y + i * ys1, y1, ys1, 1e-6);
		expect_close("dx (batch vs image)", _i, all.dx + i * xs1, dx1, xs1, 1e-6);
		free(y1);
		free(dx1);
		for (q = 0; q < wsz; q++)
			dws[q] += one.dw[q];
		for (q = 0; q < (size_t)g.cout; q++)
			dbs[q] += one.db[q];
		conv_run_free(&one);
	}
	for (q = 0; q < wsz; q++)
		scale = fmax(scale, fabs(dws[q]));
	for (q = 0; q < wsz; q++)
		EXPECT(fabs(all.dw[q] - dws[q]) <= 1e-5 * scale, "case %d: dw[%zu] %g, images %g", _i,
		       q, (double)all.dw[q], dws[q]);
	for (q = 0; q < (size_t)g.cout; q++)
		EXPECT(fabs(all.db[q] - dbs[q]) <= 1e-5 * (1 + fabs(dbs[q])), "case %d: db[%zu]", _i, q);
	conv_run_free(&all);
	free(x);
	free(dx0);
	free(dy);
	free(w);
	free(b);
	free(dws);
	free(dbs);
}
END_TEST

START_TEST(test_conv_geom)
{
	struct f8_conv_geom g = { .n = 2, .cin = 4, .h = 8, .w = 6, .cout = 4, .k = 3, .stride = 2,
				  .pad = 1, .groups = 1 };

	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_OK);
	ck_assert_int_eq(g.oh, 4);
	ck_assert_int_eq(g.ow, 3);
	g.groups = 4;
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_OK);
	g.groups = 2; /* only 1 and depthwise */
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_ERR_RANGE);
	g.groups = 4;
	g.cout = 8; /* depthwise keeps the channel count */
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_ERR_RANGE);
	g.cout = 4;
	g.groups = 1;
	g.k = 11; /* larger than the padded input */
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_ERR_RANGE);
	g.k = 3;
	g.stride = 0;
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_ERR_RANGE);
	g.stride = 1;
	g.pad = -1;
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_ERR_RANGE);
	g.pad = 0;
	g.n = 0;
	ck_assert_int_eq(f8_conv_geom_finish(&g), F8_ERR_RANGE);
}
END_TEST

/* ---- batch normalisation ---- */

struct bn_model {
	int n, c, hw;
	double eps;
	double *x, *gamma, *beta, *y;
	const float *r;
};

/* Training-mode forward: batch statistics, biased variance. */
static void bn_naive(const struct bn_model *m)
{
	const double cnt = (double)m->n * m->hw;
	int n, c, q;

	for (c = 0; c < m->c; c++) {
		double mean = 0.0, var = 0.0, inv;

		for (n = 0; n < m->n; n++)
			for (q = 0; q < m->hw; q++)
				mean += m->x[(n * m->c + c) * m->hw + q];
		mean /= cnt;
		for (n = 0; n < m->n; n++)
			for (q = 0; q < m->hw; q++) {
				double d = m->x[(n * m->c + c) * m->hw + q] - mean;

				var += d * d;
			}
		var /= cnt;
		inv = 1.0 / sqrt(var + m->eps);
		for (n = 0; n < m->n; n++)
			for (q = 0; q < m->hw; q++) {
				int i = (n * m->c + c) * m->hw + q;

				m->y[i] = (m->x[i] - mean) * inv * m->gamma[c] + m->beta[c];
			}
	}
}

static double bn_loss(void *p)
{
	struct bn_model *m = p;

	bn_naive(m);
	return dot_d(m->y, m->r, (size_t)m->n * m->c * m->hw);
}

static const int bn_cases[][3] = { { 2, 3, 5 }, { 1, 4, 9 }, { 5, 2, 1 }, { 3, 17, 7 }, { 1, 2, 3 } };

START_TEST(test_bn_train)
{
	const int n = bn_cases[_i][0], c = bn_cases[_i][1], hw = bn_cases[_i][2];
	const size_t cnt = (size_t)n * c * hw;
	const float eps = 1e-5f, mo = 0.1f;
	struct f8_rng r;
	struct bn_model m;
	float *x, *gamma, *beta, *dy, *dx0, *out[2], *dx[2], *dg[2], *db[2], *sm[2], *si[2];
	float *rm[2], *rv[2], *dxg;
	double *rmw, *rvw;
	int t, ch, k, q;

	rng_for(&r, "bn", _i);
	x = fvec(cnt);
	gamma = fvec((size_t)c);
	beta = fvec((size_t)c);
	dy = fvec(cnt);
	dx0 = fvec(cnt);
	/* Channels with an offset and their own spread, as after a conv. */
	for (ch = 0; ch < c; ch++) {
		double off = 4 * f8_rng_uniform(&r) - 2, sd = 0.2 + 2 * f8_rng_uniform(&r);

		for (k = 0; k < n; k++)
			for (q = 0; q < hw; q++)
				x[((size_t)k * c + ch) * hw + q] = (float)(off + sd * f8_rng_normal(&r));
	}
	f8tt_fill_uniform(&r, gamma, (size_t)c, 0.5, 1.5);
	f8tt_fill_uniform(&r, beta, (size_t)c, -1, 1);
	f8tt_fill_uniform(&r, dy, cnt, -1, 1);
	f8tt_fill_uniform(&r, dx0, cnt, -1, 1);
	for (t = 0; t < 2; t++) {
		ck_assert_int_eq(f8_par_set_threads(t + 1), 0);
		out[t] = fvec(cnt);
		dx[t] = fvec(cnt);
		memcpy(dx[t], dx0, sizeof(*dx0) * cnt);
		dg[t] = fvec((size_t)c);
		db[t] = fvec((size_t)c);
		sm[t] = fvec((size_t)c);
		si[t] = fvec((size_t)c);
		rm[t] = fvec((size_t)c);
		rv[t] = fvec((size_t)c);
		fnan(out[t], cnt);
		fnan(dg[t], (size_t)c);
		fnan(db[t], (size_t)c);
		fnan(sm[t], (size_t)c);
		fnan(si[t], (size_t)c);
		for (ch = 0; ch < c; ch++) {
			rm[t][ch] = 0.25f * ch;
			rv[t][ch] = 1.0f + 0.5f * ch;
		}
		f8_bn_fwd_train(n, c, hw, x, gamma, beta, eps, mo, rm[t], rv[t], sm[t], si[t], out[t]);
		f8_bn_bwd(n, c, hw, x, dy, gamma, sm[t], si[t], dx[t], dg[t], db[t]);
		{
			/* the overwriting variant: what accumulating into zeros gives */
			float *acc = fvec(cnt), *set = fvec(cnt);
			size_t e;

			memset(acc, 0, sizeof(*acc) * cnt);
			fnan(set, cnt);
			f8_bn_bwd(n, c, hw, x, dy, gamma, sm[t], si[t], acc, dg[t], db[t]);
			f8_bn_bwd_set(n, c, hw, x, dy, gamma, sm[t], si[t], set, dg[t], db[t]);
			for (e = 0; e < cnt; e++)
				EXPECT(set[e] == acc[e], "bn_bwd_set[%zu] %g, accumulated %g", e, set[e],
				       acc[e]);
			free(acc);
			free(set);
		}
	}

	m.n = n;
	m.c = c;
	m.hw = hw;
	m.eps = eps;
	m.x = to_d(x, cnt);
	m.gamma = to_d(gamma, (size_t)c);
	m.beta = to_d(beta, (size_t)c);
	m.y = dvec(cnt);
	m.r = dy;
	bn_naive(&m);
	expect_close("y", _i, out[0], m.y, cnt, TOL);
	expect_same("y (2 threads)", _i, out[1], out[0], cnt);
	expect_same("dx (2 threads)", _i, dx[1], dx[0], cnt);
	expect_same("dgamma (2 threads)", _i, dg[1], dg[0], (size_t)c);
	expect_same("dbeta (2 threads)", _i, db[1], db[0], (size_t)c);
	expect_same("run_var (2 threads)", _i, rv[1], rv[0], (size_t)c);

	/* Saved statistics and the running update (unbiased variance, momentum 0.1). */
	rmw = dvec((size_t)c);
	rvw = dvec((size_t)c);
	for (ch = 0; ch < c; ch++) {
		double mean = 0.0, var = 0.0, cntd = (double)n * hw;

		for (k = 0; k < n; k++)
			for (q = 0; q < hw; q++)
				mean += m.x[((size_t)k * c + ch) * hw + q];
		mean /= cntd;
		for (k = 0; k < n; k++)
			for (q = 0; q < hw; q++)
				var += pow(m.x[((size_t)k * c + ch) * hw + q] - mean, 2);
		var /= cntd;
		ck_assert_double_eq_tol(sm[0][ch], mean, 1e-5 * (1 + fabs(mean)));
		ck_assert_double_eq_tol(si[0][ch], 1 / sqrt(var + eps), 1e-4 / sqrt(var + eps));
		rmw[ch] = 0.9 * 0.25 * ch + 0.1 * mean;
		rvw[ch] = 0.9 * (1.0 + 0.5 * ch) + 0.1 * (cntd > 1 ? var * cntd / (cntd - 1) : var);
	}
	expect_close("run_mean", _i, rm[0], rmw, (size_t)c, TOL);
	expect_close("run_var", _i, rv[0], rvw, (size_t)c, TOL);

	dxg = minus(dx[0], dx0, cnt);
	fd_check("x", _i, &r, bn_loss, &m, m.x, cnt, dxg);
	fd_check("gamma", _i, &r, bn_loss, &m, m.gamma, (size_t)c, dg[0]);
	fd_check("beta", _i, &r, bn_loss, &m, m.beta, (size_t)c, db[0]);
	free(dxg);
	free(rmw);
	free(rvw);
	for (t = 0; t < 2; t++) {
		free(out[t]);
		free(dx[t]);
		free(dg[t]);
		free(db[t]);
		free(sm[t]);
		free(si[t]);
		free(rm[t]);
		free(rv[t]);
	}
	free(m.x);
	free(m.gamma);
	free(m.beta);
	free(m.y);
	free(x);
	free(gamma);
	free(beta);
	free(dy);
	free(dx0);
}
END_TEST

/* Running statistics by hand: one channel, x = {1, 2, 3, 6}, momentum 0.1. */
START_TEST(test_bn_running_by_hand)
{
	const float x[4] = { 1, 2, 3, 6 }, gamma = 2, beta = 0.5f;
	float rm = 0.5f, rv = 2.0f, sm, si, y[4];

	f8_bn_fwd_train(2, 1, 2, x, &gamma, &beta, 0.0f, 0.1f, &rm, &rv, &sm, &si, y);
	/* mean 3, biased variance 14/4 = 3.5, unbiased 14/3 */
	ck_assert_float_eq_tol(sm, 3.0f, 1e-6f);
	ck_assert_float_eq_tol(si, 1 / sqrtf(3.5f), 1e-6f);
	ck_assert_float_eq_tol(rm, 0.9f * 0.5f + 0.1f * 3.0f, 1e-6f);		/* 0.75 */
	ck_assert_float_eq_tol(rv, 0.9f * 2.0f + 0.1f * 14.0f / 3.0f, 1e-6f);	/* 2.2666.. */
	ck_assert_float_eq_tol(y[3], 2 * 3 / sqrtf(3.5f) + 0.5f, 1e-5f);
	/* a second step moves them again from there */
	f8_bn_fwd_train(2, 1, 2, x, &gamma, &beta, 0.0f, 0.1f, &rm, &rv, &sm, &si, y);
	ck_assert_float_eq_tol(rm, 0.9f * 0.75f + 0.3f, 1e-6f);
	ck_assert_float_eq_tol(rv, 0.9f * (1.8f + 1.4f / 3.0f) + 1.4f / 3.0f, 1e-5f);
}
END_TEST

START_TEST(test_bn_eval)
{
	const int n = 3, c = 5, hw = 6;
	const size_t cnt = (size_t)n * c * hw;
	struct f8_rng r;
	float *x = fvec(cnt), *y1 = fvec(cnt), *y2 = fvec(cnt), gamma[5], beta[5], rm[5], rv[5];
	float rm0[5], rv0[5];
	double *want = dvec(cnt);
	size_t i;
	int ch;

	rng_for(&r, "bn_eval", 0);
	f8tt_fill_uniform(&r, x, cnt, -3, 3);
	f8tt_fill_uniform(&r, gamma, 5, 0.5, 1.5);
	f8tt_fill_uniform(&r, beta, 5, -1, 1);
	f8tt_fill_uniform(&r, rm, 5, -1, 1);
	f8tt_fill_uniform(&r, rv, 5, 0.2, 3);
	memcpy(rm0, rm, sizeof(rm));
	memcpy(rv0, rv, sizeof(rv));
	for (i = 0; i < cnt; i++) {
		ch = (int)(i / hw % c);
		want[i] = (x[i] - (double)rm[ch]) / sqrt((double)rv[ch] + 1e-5) * gamma[ch] + beta[ch];
	}
	ck_assert_int_eq(f8_par_set_threads(1), 0);
	f8_bn_fwd_eval(n, c, hw, x, gamma, beta, 1e-5f, rm, rv, y1);
	ck_assert_int_eq(f8_par_set_threads(2), 0);
	f8_bn_fwd_eval(n, c, hw, x, gamma, beta, 1e-5f, rm, rv, y2);
	expect_close("y", 0, y1, want, cnt, TOL);
	expect_same("y (2 threads)", 0, y2, y1, cnt);
	/* eval never moves the running statistics */
	ck_assert(memcmp(rm, rm0, sizeof(rm)) == 0 && memcmp(rv, rv0, sizeof(rv)) == 0);
	free(x);
	free(y1);
	free(y2);
	free(want);
}
END_TEST

/* ---- elementwise ---- */

START_TEST(test_relu_add)
{
	const size_t cnt = 100003; /* several blocks and a ragged tail */
	struct f8_rng r;
	float *x = fvec(cnt), *b = fvec(cnt), *y = fvec(cnt), *dy = fvec(cnt), *dx = fvec(cnt);
	float *dx0 = fvec(cnt), *db = fvec(cnt), *ip = fvec(cnt);
	size_t i;
	int t;

	rng_for(&r, "relu_add", 0);
	for (i = 0; i < cnt; i++) {
		/* away from the kink, so that ReLU's gradient is defined */
		x[i] = (float)(0.01 + f8_rng_uniform(&r)) * (f8_rng_below(&r, 2) ? 1 : -1);
	}
	f8tt_fill_uniform(&r, b, cnt, -1, 1);
	f8tt_fill_uniform(&r, dy, cnt, -1, 1);
	f8tt_fill_uniform(&r, dx0, cnt, -1, 1);
	for (t = 1; t <= 2; t++) {
		ck_assert_int_eq(f8_par_set_threads(t), 0);
		fnan(y, cnt);
		f8_relu_fwd(cnt, x, y);
		for (i = 0; i < cnt; i++)
			EXPECT(y[i] == (x[i] > 0 ? x[i] : 0.0f), "relu(%g) = %g", x[i], y[i]);
		/* in place */
		memcpy(ip, x, sizeof(*x) * cnt);
		f8_relu_fwd(cnt, ip, ip);
		ck_assert(memcmp(ip, y, sizeof(*y) * cnt) == 0);
		/* d relu: the finite difference of max(x, 0) is exactly 1 or 0 here */
		memcpy(dx, dx0, sizeof(*dx) * cnt);
		f8_relu_bwd(cnt, y, dy, dx);
		for (i = 0; i < cnt; i++) {
			double fd = (fmax(x[i] + FD_H, 0) - fmax(x[i] - FD_H, 0)) / (2 * FD_H);

			EXPECT(fabs(dx[i] - dx0[i] - fd * dy[i]) <= 1e-6, "drelu[%zu]: %g + %g, fd %g",
			       i, dx0[i], dx[i] - dx0[i], fd * dy[i]);
		}
		/* the overwriting variant */
		fnan(dx, cnt);
		f8_relu_bwd_set(cnt, y, dy, dx);
		for (i = 0; i < cnt; i++)
			EXPECT(dx[i] == (x[i] > 0 ? dy[i] : 0.0f), "relu_bwd_set[%zu] %g", i, dx[i]);
		f8_add_fwd(cnt, x, b, y);
		for (i = 0; i < cnt; i++)
			EXPECT(y[i] == x[i] + b[i], "add[%zu]", i);
		memcpy(ip, x, sizeof(*x) * cnt);
		f8_add_fwd(cnt, ip, b, ip);
		ck_assert(memcmp(ip, y, sizeof(*y) * cnt) == 0);
		memcpy(dx, dx0, sizeof(*dx) * cnt);
		memcpy(db, b, sizeof(*db) * cnt);
		f8_add_bwd(cnt, dy, dx, db);
		for (i = 0; i < cnt; i++) {
			EXPECT(dx[i] == dx0[i] + dy[i] && db[i] == b[i] + dy[i], "dadd[%zu]", i);
		}
		/* one side without a gradient */
		memcpy(dx, dx0, sizeof(*dx) * cnt);
		f8_add_bwd(cnt, dy, NULL, dx);
		for (i = 0; i < cnt; i++)
			EXPECT(dx[i] == dx0[i] + dy[i], "dadd (da NULL)[%zu]", i);
	}
	free(x);
	free(b);
	free(y);
	free(dy);
	free(dx);
	free(dx0);
	free(db);
	free(ip);
}
END_TEST

/* ---- pooling ---- */

struct pool_model {
	struct f8_pool_geom g;
	bool max;
	double *x, *y;
	const float *r;
};

static void pool_naive(const struct pool_model *m)
{
	const struct f8_pool_geom *g = &m->g;
	int p, oy, ox, ki, kj;

	for (p = 0; p < g->n * g->c; p++)
		for (oy = 0; oy < g->oh; oy++)
			for (ox = 0; ox < g->ow; ox++) {
				double v = m->max ? -INFINITY : 0.0;

				for (ki = 0; ki < g->k; ki++)
					for (kj = 0; kj < g->k; kj++) {
						int iy = oy * g->stride - g->pad + ki;
						int ix = ox * g->stride - g->pad + kj;
						double t = -INFINITY; /* max pool pads with -inf */

						if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
							t = m->x[(p * g->h + iy) * g->w + ix];
						else if (!m->max)
							t = 0.0; /* count_include_pad */
						v = m->max ? fmax(v, t) : v + t;
					}
				m->y[(p * g->oh + oy) * g->ow + ox] = m->max ? v : v / (g->k * g->k);
			}
}

static double pool_loss(void *p)
{
	struct pool_model *m = p;

	pool_naive(m);
	return dot_d(m->y, m->r, (size_t)m->g.n * m->g.c * m->g.oh * m->g.ow);
}

/* n, c, h, w, k, stride, pad */
static const int pool_cases[][7] = {
	{ 2, 3, 8, 8, 2, 2, 0 }, { 1, 2, 7, 9, 3, 2, 1 }, { 2, 2, 9, 7, 3, 1, 1 },
	{ 1, 3, 6, 6, 5, 2, 2 }, { 3, 2, 7, 7, 7, 1, 0 } /* global */, { 2, 1, 5, 5, 1, 2, 0 },
	{ 2, 2, 1, 1, 1, 1, 0 },
};

static void pool_case(int tc, bool max)
{
	const int *pc = pool_cases[tc];
	struct f8_pool_geom g = { .n = pc[0], .c = pc[1], .h = pc[2], .w = pc[3], .k = pc[4],
				  .stride = pc[5], .pad = pc[6] };
	struct f8_rng r;
	struct pool_model m;
	size_t xs, ys, i;
	float *x, *dy, *dx0, *y[2], *dx[2], *dxg;
	int32_t *am[2];
	int t;

	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_OK);
	rng_for(&r, max ? "maxpool" : "avgpool", tc);
	xs = (size_t)g.n * g.c * g.h * g.w;
	ys = (size_t)g.n * g.c * g.oh * g.ow;
	x = fvec(xs);
	dy = fvec(ys);
	dx0 = fvec(xs);
	/* Distinct values 0.05 apart (no ties, finite differences do not reorder them);
	 * all negative in odd cases, so that padding taken as 0 would win. */
	for (i = 0; i < xs; i++)
		x[i] = (float)(0.05 * (double)i - (tc % 2 ? 0.05 * (double)xs + 1 : 0.025 * (double)xs));
	for (i = xs - 1; i > 0; i--) {
		size_t j = f8_rng_below(&r, (uint32_t)(i + 1));
		float tmp = x[i];

		x[i] = x[j];
		x[j] = tmp;
	}
	f8tt_fill_uniform(&r, dy, ys, -1, 1);
	f8tt_fill_uniform(&r, dx0, xs, -1, 1);
	for (t = 0; t < 2; t++) {
		ck_assert_int_eq(f8_par_set_threads(t + 1), 0);
		y[t] = fvec(ys);
		dx[t] = fvec(xs);
		am[t] = malloc(sizeof(int32_t) * ys);
		ck_assert_ptr_nonnull(am[t]);
		fnan(y[t], ys);
		memcpy(dx[t], dx0, sizeof(*dx0) * xs);
		if (max) {
			f8_maxpool_fwd(&g, x, y[t], am[t]);
			f8_maxpool_bwd(&g, am[t], dy, dx[t]);
		} else {
			f8_avgpool_fwd(&g, x, y[t]);
			f8_avgpool_bwd(&g, dy, dx[t]);
		}
	}
	m.g = g;
	m.max = max;
	m.x = to_d(x, xs);
	m.y = dvec(ys);
	m.r = dy;
	pool_naive(&m);
	expect_close("y", tc, y[0], m.y, ys, TOL);
	expect_same("y (2 threads)", tc, y[1], y[0], ys);
	expect_same("dx (2 threads)", tc, dx[1], dx[0], xs);
	if (max) {
		for (i = 0; i < ys; i++) {
			EXPECT(am[0][i] >= 0 && am[0][i] < g.h * g.w, "argmax[%zu] = %d", i, (int)am[0][i]);
			EXPECT(x[i / ((size_t)g.oh * g.ow) * g.h * g.w + (size_t)am[0][i]] == y[0][i],
			       "argmax[%zu] does not point at the maximum", i);
		}
	}
	dxg = minus(dx[0], dx0, xs);
	fd_check("x", tc, &r, pool_loss, &m, m.x, xs, dxg);
	free(dxg);
	for (t = 0; t < 2; t++) {
		free(y[t]);
		free(dx[t]);
		free(am[t]);
	}
	free(m.x);
	free(m.y);
	free(x);
	free(dy);
	free(dx0);
}

START_TEST(test_maxpool)
{
	pool_case(_i, true);
}
END_TEST

START_TEST(test_avgpool)
{
	pool_case(_i, false);
}
END_TEST

START_TEST(test_pool_geom)
{
	struct f8_pool_geom g = { .n = 1, .c = 1, .h = 7, .w = 7, .k = 3, .stride = 2, .pad = 1 };

	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_OK);
	ck_assert_int_eq(g.oh, 4);
	g.pad = 2; /* a window of pure padding */
	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_ERR_RANGE);
	g.pad = 0;
	g.k = 8;
	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_ERR_RANGE);
	g.k = 3;
	g.stride = 0;
	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_ERR_RANGE);
}
END_TEST

/* ---- linear ---- */

struct linear_model {
	int n, in, out;
	double *x, *w, *b, *y;
	const float *r;
};

static void linear_naive(const struct linear_model *m)
{
	int i, o, k;

	for (i = 0; i < m->n; i++)
		for (o = 0; o < m->out; o++) {
			double s = m->b[o];

			for (k = 0; k < m->in; k++)
				s += m->x[i * m->in + k] * m->w[o * m->in + k];
			m->y[i * m->out + o] = s;
		}
}

static double linear_loss(void *p)
{
	struct linear_model *m = p;

	linear_naive(m);
	return dot_d(m->y, m->r, (size_t)m->n * m->out);
}

static const int linear_cases[][3] = { { 1, 5, 3 }, { 7, 16, 10 }, { 70, 64, 10 }, { 33, 3, 1 } };

START_TEST(test_linear)
{
	const int n = linear_cases[_i][0], in = linear_cases[_i][1], out = linear_cases[_i][2];
	const size_t xs = (size_t)n * in, ys = (size_t)n * out, wsz = (size_t)out * in;
	struct f8_rng r;
	struct linear_model m;
	float *x = fvec(xs), *w = fvec(wsz), *b = fvec((size_t)out), *dy = fvec(ys), *dx0 = fvec(xs);
	float *y[2], *dx[2], *dw[2], *db[2], *dxg;
	int t;

	rng_for(&r, "linear", _i);
	f8tt_fill_uniform(&r, x, xs, -1, 1);
	f8tt_fill_uniform(&r, w, wsz, -1, 1);
	f8tt_fill_uniform(&r, b, (size_t)out, -1, 1);
	f8tt_fill_uniform(&r, dy, ys, -1, 1);
	f8tt_fill_uniform(&r, dx0, xs, -1, 1);
	for (t = 0; t < 2; t++) {
		ck_assert_int_eq(f8_par_set_threads(t + 1), 0);
		y[t] = fvec(ys);
		dx[t] = fvec(xs);
		dw[t] = fvec(wsz);
		db[t] = fvec((size_t)out);
		fnan(y[t], ys);
		fnan(dw[t], wsz);
		fnan(db[t], (size_t)out);
		memcpy(dx[t], dx0, sizeof(*dx0) * xs);
		f8_linear_fwd(n, in, out, x, w, b, y[t]);
		f8_linear_bwd(n, in, out, x, w, dy, dx[t], dw[t], db[t]);
	}
	m.n = n;
	m.in = in;
	m.out = out;
	m.x = to_d(x, xs);
	m.w = to_d(w, wsz);
	m.b = to_d(b, (size_t)out);
	m.y = dvec(ys);
	m.r = dy;
	linear_naive(&m);
	expect_close("y", _i, y[0], m.y, ys, TOL);
	for (t = 1; t < 2; t++) {
		expect_same("y (2 threads)", _i, y[t], y[0], ys);
		expect_same("dx (2 threads)", _i, dx[t], dx[0], xs);
		expect_same("dw (2 threads)", _i, dw[t], dw[0], wsz);
		expect_same("db (2 threads)", _i, db[t], db[0], (size_t)out);
	}
	dxg = minus(dx[0], dx0, xs);
	fd_check("x", _i, &r, linear_loss, &m, m.x, xs, dxg);
	fd_check("w", _i, &r, linear_loss, &m, m.w, wsz, dw[0]);
	fd_check("bias", _i, &r, linear_loss, &m, m.b, (size_t)out, db[0]);
	/* dx NULL: the parameter gradients alone */
	fnan(dw[1], wsz);
	f8_linear_bwd(n, in, out, x, w, dy, NULL, dw[1], NULL);
	expect_same("dw (no dx)", _i, dw[1], dw[0], wsz);
	free(dxg);
	for (t = 0; t < 2; t++) {
		free(y[t]);
		free(dx[t]);
		free(dw[t]);
		free(db[t]);
	}
	free(m.x);
	free(m.w);
	free(m.b);
	free(m.y);
	free(x);
	free(w);
	free(b);
	free(dy);
	free(dx0);
}
END_TEST

/* ---- softmax cross-entropy ---- */

struct xent_model {
	int n, classes;
	double *z;
	const int *labels;
};

static double xent_naive(void *p)
{
	const struct xent_model *m = p;
	double total = 0.0;
	int i, k;

	for (i = 0; i < m->n; i++) {
		const double *z = m->z + (size_t)i * m->classes;
		double s = 0.0;

		for (k = 0; k < m->classes; k++)
			s += exp(z[k]);
		total += log(s) - z[m->labels[i]];
	}
	return total / m->n;
}

START_TEST(test_xent)
{
	static const int shapes[][2] = { { 1, 2 }, { 5, 10 }, { 128, 10 }, { 3, 1 } };
	const int n = shapes[_i][0], classes = shapes[_i][1];
	const size_t cnt = (size_t)n * classes;
	struct f8_rng r;
	struct xent_model m;
	float *z = fvec(cnt), *dz = fvec(cnt);
	int *labels = malloc(sizeof(int) * (size_t)n), correct = -1, want_correct = 0, i, k;
	float loss;

	ck_assert_ptr_nonnull(labels);
	rng_for(&r, "xent", _i);
	f8tt_fill_uniform(&r, z, cnt, -4, 4);
	for (i = 0; i < n; i++) {
		int best = 0;

		labels[i] = (int)f8_rng_below(&r, (uint32_t)classes);
		/* make about half of the rows predict their label, by a clear margin */
		if (f8_rng_below(&r, 2))
			z[(size_t)i * classes + labels[i]] = 5.0f;
		for (k = 1; k < classes; k++)
			if (z[(size_t)i * classes + k] > z[(size_t)i * classes + best])
				best = k;
		want_correct += best == labels[i];
	}
	fnan(dz, cnt);
	loss = f8_softmax_xent(n, classes, z, labels, dz, &correct);
	m.n = n;
	m.classes = classes;
	m.z = to_d(z, cnt);
	m.labels = labels;
	ck_assert_double_eq_tol(loss, xent_naive(&m), 1e-5 * (1 + xent_naive(&m)));
	ck_assert_int_eq(correct, want_correct);
	fd_check("logits", _i, &r, xent_naive, &m, m.z, cnt, dz);
	/* rows of the gradient sum to zero (softmax minus one-hot) */
	for (i = 0; i < n; i++) {
		double s = 0.0;

		for (k = 0; k < classes; k++)
			s += dz[(size_t)i * classes + k];
		ck_assert_double_eq_tol(s, 0.0, 1e-6);
	}
	/* NULL outputs are allowed; huge logits do not overflow */
	for (k = 0; k < classes; k++)
		z[k] = 1e4f * (float)k;
	loss = f8_softmax_xent(n, classes, z, labels, NULL, NULL);
	ck_assert(isfinite(loss));
	free(m.z);
	free(z);
	free(dz);
	free(labels);
}
END_TEST

/* ---- the pool itself ---- */

struct par_probe {
	int hits[1000];
	int threads_seen[64];
};

static void par_probe_task(void *ctx, size_t i, int thread)
{
	struct par_probe *p = ctx;

	__atomic_fetch_add(&p->hits[i], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&p->threads_seen[thread], 1, __ATOMIC_RELAXED);
}

START_TEST(test_par)
{
	static struct par_probe p;
	int t, round, i;

	ck_assert_int_ne(f8_par_set_threads(0), 0);
	for (t = 1; t <= 3; t++) {
		ck_assert_int_eq(f8_par_set_threads(t), 0);
		ck_assert_int_eq(f8_par_threads(), t);
		for (round = 0; round < 200; round++) {
			memset(&p, 0, sizeof(p));
			f8_par_for((size_t)(round % 7 == 0 ? 1000 : round % 5), par_probe_task, &p);
			for (i = 0; i < 1000; i++)
				EXPECT(p.hits[i] == (i < (round % 7 == 0 ? 1000 : round % 5)),
				       "%d threads: task %d ran %d times", t, i, p.hits[i]);
			for (i = t; i < 64; i++)
				EXPECT(!p.threads_seen[i], "thread slot %d of %d used", i, t);
		}
	}
	f8_par_shutdown();
	ck_assert_int_eq(f8_par_threads(), 1);
	memset(&p, 0, sizeof(p));
	f8_par_for(10, par_probe_task, &p);
	ck_assert_int_eq(p.hits[9], 1);
}
END_TEST

Suite *f8_train_ops_suite(void)
{
	Suite *s = suite_create("train_ops");
	TCase *tc = tcase_create("kernels");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_conv, 0, (int)(sizeof(conv_cases) / sizeof(conv_cases[0])));
	tcase_add_loop_test(tc, test_conv_chunks, 0, 3);
	tcase_add_test(tc, test_conv_geom);
	tcase_add_loop_test(tc, test_bn_train, 0, (int)(sizeof(bn_cases) / sizeof(bn_cases[0])));
	tcase_add_test(tc, test_bn_running_by_hand);
	tcase_add_test(tc, test_bn_eval);
	tcase_add_test(tc, test_relu_add);
	tcase_add_loop_test(tc, test_maxpool, 0, (int)(sizeof(pool_cases) / sizeof(pool_cases[0])));
	tcase_add_loop_test(tc, test_avgpool, 0, (int)(sizeof(pool_cases) / sizeof(pool_cases[0])));
	tcase_add_test(tc, test_pool_geom);
	tcase_add_loop_test(tc, test_linear, 0, (int)(sizeof(linear_cases) / sizeof(linear_cases[0])));
	tcase_add_loop_test(tc, test_xent, 0, 4);
	tcase_add_test(tc, test_par);
	suite_add_tcase(s, tc);
	return s;
}
