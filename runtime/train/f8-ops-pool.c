// SPDX-License-Identifier: MIT
/*
 * Float max and average pooling, forward and backward (f8-ops.h). One task per
 * (image, channel) plane: planes are independent, so backward can accumulate into dx
 * without partials.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "f8-err.h"
#include "f8-ops.h"
#include "f8-par.h"

int f8_pool_geom_finish(struct f8_pool_geom *g)
{
	if (g->n < 1 || g->c < 1 || g->h < 1 || g->w < 1 || g->k < 1 || g->stride < 1 ||
	    g->pad < 0)
		return F8_ERR_RANGE;
	/* Every window must hold a real pixel (PyTorch's pad <= k/2); no huge planes. In 64
	 * bits: any int may come in. */
	if (2 * (int64_t)g->pad > g->k || g->h > (1 << 20) || g->w > (1 << 20) ||
	    g->k > g->h + 2 * (int64_t)g->pad || g->k > g->w + 2 * (int64_t)g->pad ||
	    (int64_t)g->h * g->w > INT32_MAX)
		return F8_ERR_RANGE;
	g->oh = (g->h + 2 * g->pad - g->k) / g->stride + 1;
	g->ow = (g->w + 2 * g->pad - g->k) / g->stride + 1;
	return F8_OK;
}

/* 1 / k^2 of an average pool. A window may be up to 2^24 wide (over padding): k * k
 * in int overflows from k = 46341 on, so large windows divide in double. */
static float f8_pool_inv_area(const struct f8_pool_geom *g)
{
	if (g->k <= 46340)
		return 1.0f / (float)(g->k * g->k);
	return (float)(1.0 / ((double)g->k * (double)g->k));
}

struct pool_job {
	const struct f8_pool_geom *g;
	const float *x, *dy;
	const int32_t *argmax_in;
	float *y, *dx;
	int32_t *argmax;
};

/* Clip the window [o * s - pad, + k) to [0, len). */
static void pool_win(int o, int s, int pad, int k, int len, int *lo, int *hi)
{
	int a = o * s - pad, b = a + k;

	*lo = a < 0 ? 0 : a;
	*hi = b > len ? len : b;
}

static void maxpool_fwd_plane(void *ctx, size_t i, int thread)
{
	const struct pool_job *j = ctx;
	const struct f8_pool_geom *g = j->g;
	const float *x = j->x + i * g->h * g->w;
	float *y = j->y + i * g->oh * g->ow;
	int32_t *am = j->argmax + i * g->oh * g->ow;
	int oy, ox, iy, ix, y0, y1, x0, x1;

	(void)thread;
	for (oy = 0; oy < g->oh; oy++) {
		pool_win(oy, g->stride, g->pad, g->k, g->h, &y0, &y1);
		for (ox = 0; ox < g->ow; ox++) {
			int32_t best;
			float v;

			pool_win(ox, g->stride, g->pad, g->k, g->w, &x0, &x1);
			/* Padding is -inf: only real pixels compete; the first maximum wins
			 * and a NaN propagates, as in PyTorch. */
			best = y0 * g->w + x0;
			v = x[best];
			for (iy = y0; iy < y1; iy++) {
				for (ix = x0; ix < x1; ix++) {
					float t = x[iy * g->w + ix];

					if (t > v || isnan(t)) {
						v = t;
						best = iy * g->w + ix;
						if (isnan(t))
							goto found;
					}
				}
			}
found:
			y[oy * g->ow + ox] = v;
			am[oy * g->ow + ox] = best;
		}
	}
}

void f8_maxpool_fwd(const struct f8_pool_geom *g, const float *x, float *y, int32_t *argmax)
{
	struct pool_job j = { .g = g, .x = x, .y = y, .argmax = argmax };

	f8_par_for((size_t)g->n * g->c, maxpool_fwd_plane, &j);
}

static void maxpool_bwd_plane(void *ctx, size_t i, int thread)
{
	const struct pool_job *j = ctx;
	const struct f8_pool_geom *g = j->g;
	const size_t po = (size_t)g->oh * g->ow;
	const float *dy = j->dy + i * po;
	const int32_t *am = j->argmax_in + i * po;
	float *dx = j->dx + i * g->h * g->w;
	size_t q;

	(void)thread;
	for (q = 0; q < po; q++)
		dx[am[q]] += dy[q];
}

void f8_maxpool_bwd(const struct f8_pool_geom *g, const int32_t *argmax, const float *dy, float *dx)
{
	struct pool_job j = { .g = g, .argmax_in = argmax, .dy = dy, .dx = dx };

	f8_par_for((size_t)g->n * g->c, maxpool_bwd_plane, &j);
}

static void avgpool_fwd_plane(void *ctx, size_t i, int thread)
{
	const struct pool_job *j = ctx;
	const struct f8_pool_geom *g = j->g;
	const float *x = j->x + i * g->h * g->w;
	float *y = j->y + i * g->oh * g->ow;
	const float inv = f8_pool_inv_area(g);
	int oy, ox, iy, ix, y0, y1, x0, x1;

	(void)thread;
	for (oy = 0; oy < g->oh; oy++) {
		pool_win(oy, g->stride, g->pad, g->k, g->h, &y0, &y1);
		for (ox = 0; ox < g->ow; ox++) {
			float s = 0.0f;

			pool_win(ox, g->stride, g->pad, g->k, g->w, &x0, &x1);
			for (iy = y0; iy < y1; iy++)
				for (ix = x0; ix < x1; ix++)
					s += x[iy * g->w + ix];
			y[oy * g->ow + ox] = s * inv;
		}
	}
}

void f8_avgpool_fwd(const struct f8_pool_geom *g, const float *x, float *y)
{
	struct pool_job j = { .g = g, .x = x, .y = y };

	f8_par_for((size_t)g->n * g->c, avgpool_fwd_plane, &j);
}

static void avgpool_bwd_plane(void *ctx, size_t i, int thread)
{
	const struct pool_job *j = ctx;
	const struct f8_pool_geom *g = j->g;
	const float *dy = j->dy + i * g->oh * g->ow;
	float *dx = j->dx + i * g->h * g->w;
	const float inv = f8_pool_inv_area(g);
	int oy, ox, iy, ix, y0, y1, x0, x1;

	(void)thread;
	for (oy = 0; oy < g->oh; oy++) {
		pool_win(oy, g->stride, g->pad, g->k, g->h, &y0, &y1);
		for (ox = 0; ox < g->ow; ox++) {
			const float d = dy[oy * g->ow + ox] * inv;

			pool_win(ox, g->stride, g->pad, g->k, g->w, &x0, &x1);
			for (iy = y0; iy < y1; iy++)
				for (ix = x0; ix < x1; ix++)
					dx[iy * g->w + ix] += d;
		}
	}
}

void f8_avgpool_bwd(const struct f8_pool_geom *g, const float *dy, float *dx)
{
	struct pool_job j = { .g = g, .dy = dy, .dx = dx };

	f8_par_for((size_t)g->n * g->c, avgpool_bwd_plane, &j);
}
