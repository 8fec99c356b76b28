// SPDX-License-Identifier: MIT
/*
 * Float batch normalisation over (N, H, W) per channel, forward (training and eval)
 * and backward (f8-ops.h). One task per channel: a channel's N*H*W values are summed
 * in a fixed order (float within a plane, double across planes), so the statistics
 * do not depend on the thread count. Within a plane the float sums run on BN_LANES
 * partial sums folded pairwise at the end: a single running sum is a serial chain of
 * adds that the compiler may not reorder, 4-8 times slower.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "f8-ops.h"
#include "f8-par.h"

#define BN_LANES 32

static float bn_fold(float *a)
{
	size_t w, i;

	for (w = BN_LANES / 2; w > 0; w /= 2)
		for (i = 0; i < w; i++)
			a[i] += a[i + w];
	return a[0];
}

/* sum x[q] */
static float bn_sum(const float *restrict x, size_t n)
{
	float a[BN_LANES] = { 0 };
	size_t q, i;

	for (q = 0; q + BN_LANES <= n; q += BN_LANES)
		for (i = 0; i < BN_LANES; i++)
			a[i] += x[q + i];
	for (i = 0; q < n; q++, i++)
		a[i] += x[q];
	return bn_fold(a);
}

/* sum (x[q] - mean)^2 */
static float bn_sumsq(const float *restrict x, size_t n, float mean)
{
	float a[BN_LANES] = { 0 };
	size_t q, i;

	for (q = 0; q + BN_LANES <= n; q += BN_LANES)
		for (i = 0; i < BN_LANES; i++) {
			const float d = x[q + i] - mean;

			a[i] += d * d;
		}
	for (i = 0; q < n; q++, i++) {
		const float d = x[q] - mean;

		a[i] += d * d;
	}
	return bn_fold(a);
}

/* *sdy = sum dy[q], *sdyx = sum dy[q] * (x[q] - mean) */
static void bn_sums_bwd(const float *restrict x, const float *restrict dy, size_t n, float mean,
			float *sdy, float *sdyx)
{
	float a[BN_LANES] = { 0 }, b[BN_LANES] = { 0 };
	size_t q, i;

	for (q = 0; q + BN_LANES <= n; q += BN_LANES)
		for (i = 0; i < BN_LANES; i++) {
			a[i] += dy[q + i];
			b[i] += dy[q + i] * (x[q + i] - mean);
		}
	for (i = 0; q < n; q++, i++) {
		a[i] += dy[q];
		b[i] += dy[q] * (x[q] - mean);
	}
	*sdy = bn_fold(a);
	*sdyx = bn_fold(b);
}

struct bn_job {
	int n, c, hw;
	const float *x, *dy, *gamma, *beta;
	float eps, momentum;
	float *run_mean, *run_var, *save_mean, *save_invstd, *y, *dx, *dgamma, *dbeta;
	const float *mean, *var; /* eval: running stats */
	bool set;		  /* backward: overwrite dx instead of accumulating */
};

static const float *bn_plane(const struct bn_job *j, const float *t, int n, size_t c)
{
	return t + ((size_t)n * j->c + c) * j->hw;
}

static void bn_train_channel(void *ctx, size_t c, int thread)
{
	const struct bn_job *j = ctx;
	const size_t hw = (size_t)j->hw;
	const double m = (double)j->n * hw;
	double sum = 0.0, sq = 0.0, mean, var;
	float fmean, scale, shift;
	int n;
	size_t q;

	(void)thread;
	for (n = 0; n < j->n; n++)
		sum += bn_sum(bn_plane(j, j->x, n, c), hw);
	mean = sum / m;
	fmean = (float)mean;
	/* Two passes: the variance from centred values, not E[x^2] - mean^2. */
	for (n = 0; n < j->n; n++)
		sq += bn_sumsq(bn_plane(j, j->x, n, c), hw, fmean);
	var = sq / m;
	j->save_mean[c] = fmean;
	j->save_invstd[c] = (float)(1.0 / sqrt(var + j->eps));
	if (j->run_mean) {
		const double mo = j->momentum;
		const double unbiased = m > 1 ? var * m / (m - 1) : var;

		j->run_mean[c] = (float)((1.0 - mo) * j->run_mean[c] + mo * mean);
		j->run_var[c] = (float)((1.0 - mo) * j->run_var[c] + mo * unbiased);
	}
	if (!j->y)
		return; /* statistics only (F8Net's statistics pass) */
	scale = j->save_invstd[c] * (j->gamma ? j->gamma[c] : 1.0f);
	shift = (j->beta ? j->beta[c] : 0.0f) - fmean * scale;
	for (n = 0; n < j->n; n++) {
		const float *restrict x = bn_plane(j, j->x, n, c);
		float *restrict y = (float *)bn_plane(j, j->y, n, c);

		for (q = 0; q < hw; q++)
			y[q] = x[q] * scale + shift;
	}
}

void f8_bn_fwd_train(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
		     float eps, float momentum, float *run_mean, float *run_var, float *save_mean,
		     float *save_invstd, float *y)
{
	struct bn_job j = {
		.n = n, .c = c, .hw = hw, .x = x, .gamma = gamma, .beta = beta, .eps = eps,
		.momentum = momentum, .run_mean = run_mean, .run_var = run_var,
		.save_mean = save_mean, .save_invstd = save_invstd, .y = y,
	};

	f8_par_for((size_t)c, bn_train_channel, &j);
}

static void bn_eval_channel(void *ctx, size_t c, int thread)
{
	const struct bn_job *j = ctx;
	const size_t hw = (size_t)j->hw;
	const float invstd = (float)(1.0 / sqrt((double)j->var[c] + j->eps));
	const float scale = invstd * (j->gamma ? j->gamma[c] : 1.0f);
	const float shift = (j->beta ? j->beta[c] : 0.0f) - j->mean[c] * scale;
	int n;
	size_t q;

	(void)thread;
	for (n = 0; n < j->n; n++) {
		const float *restrict x = bn_plane(j, j->x, n, c);
		float *restrict y = (float *)bn_plane(j, j->y, n, c);

		for (q = 0; q < hw; q++)
			y[q] = x[q] * scale + shift;
	}
}

void f8_bn_fwd_eval(int n, int c, int hw, const float *x, const float *gamma, const float *beta,
		    float eps, const float *run_mean, const float *run_var, float *y)
{
	struct bn_job j = {
		.n = n, .c = c, .hw = hw, .x = x, .gamma = gamma, .beta = beta, .eps = eps,
		.mean = run_mean, .var = run_var, .y = y,
	};

	f8_par_for((size_t)c, bn_eval_channel, &j);
}

/*
 * With xhat = (x - mean) * invstd and m = N*H*W:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * invstd * (dy - dbeta / m - xhat * dgamma / m).
 */
static void bn_bwd_channel(void *ctx, size_t c, int thread)
{
	const struct bn_job *j = ctx;
	const size_t hw = (size_t)j->hw;
	const float mean = j->save_mean[c], invstd = j->save_invstd[c];
	const float gamma = j->gamma ? j->gamma[c] : 1.0f;
	const double m = (double)j->n * hw;
	double sdy = 0.0, sdyx = 0.0;
	float a, b, k;
	int n;
	size_t q;

	(void)thread;
	for (n = 0; n < j->n; n++) {
		float s, t;

		bn_sums_bwd(bn_plane(j, j->x, n, c), bn_plane(j, j->dy, n, c), hw, mean, &s, &t);
		sdy += s;
		sdyx += t;
	}
	if (j->dbeta)
		j->dbeta[c] = (float)sdy;
	if (j->dgamma)
		j->dgamma[c] = (float)(sdyx * invstd);
	if (!j->dx)
		return;
	/* dx += k * dy + a * (x - mean) + b, folded per channel. */
	k = gamma * invstd;
	a = (float)(-(double)k * sdyx * invstd * invstd / m);
	b = (float)(-(double)k * sdy / m);
	for (n = 0; n < j->n; n++) {
		const float *restrict x = bn_plane(j, j->x, n, c);
		const float *restrict dy = bn_plane(j, j->dy, n, c);
		float *restrict dx = (float *)bn_plane(j, j->dx, n, c);

		if (j->set)
			for (q = 0; q < hw; q++)
				dx[q] = k * dy[q] + a * (x[q] - mean) + b;
		else
			for (q = 0; q < hw; q++)
				dx[q] += k * dy[q] + a * (x[q] - mean) + b;
	}
}

void f8_bn_bwd(int n, int c, int hw, const float *x, const float *dy, const float *gamma,
	       const float *save_mean, const float *save_invstd, float *dx, float *dgamma,
	       float *dbeta)
{
	struct bn_job j = {
		.n = n, .c = c, .hw = hw, .x = x, .dy = dy, .gamma = gamma,
		.save_mean = (float *)save_mean, .save_invstd = (float *)save_invstd, .dx = dx,
		.dgamma = dgamma, .dbeta = dbeta,
	};

	f8_par_for((size_t)c, bn_bwd_channel, &j);
}

void f8_bn_bwd_set(int n, int c, int hw, const float *x, const float *dy, const float *gamma,
		   const float *save_mean, const float *save_invstd, float *dx, float *dgamma,
		   float *dbeta)
{
	struct bn_job j = {
		.n = n, .c = c, .hw = hw, .x = x, .dy = dy, .gamma = gamma,
		.save_mean = (float *)save_mean, .save_invstd = (float *)save_invstd, .dx = dx,
		.dgamma = dgamma, .dbeta = dbeta, .set = true,
	};

	f8_par_for((size_t)c, bn_bwd_channel, &j);
}
