// SPDX-License-Identifier: MIT
/*
 * Float fully connected layer, forward and backward (f8-ops.h), on OpenBLAS SGEMM.
 * Forward splits the batch rows over the pool; backward runs dx and (dw, dbias) as
 * two independent tasks. Each GEMM sees the same operands whatever the thread count.
 */
#include <stddef.h>

#include <cblas.h>

#include "f8-ops.h"
#include "f8-par.h"

/* Batch rows per forward task. */
#define F8_LINEAR_ROWS 32

struct linear_job {
	int n, in, out;
	const float *x, *w, *bias, *dy;
	float *y, *dx, *dw, *dbias;
};

static void linear_fwd_rows(void *ctx, size_t t, int thread)
{
	const struct linear_job *j = ctx;
	const int r0 = (int)t * F8_LINEAR_ROWS;
	const int rows = j->n - r0 < F8_LINEAR_ROWS ? j->n - r0 : F8_LINEAR_ROWS;
	float *y = j->y + (size_t)r0 * j->out;
	int r, o;

	(void)thread;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, j->out, j->in, 1.0f,
		    j->x + (size_t)r0 * j->in, j->in, j->w, j->in, 0.0f, y, j->out);
	if (j->bias)
		for (r = 0; r < rows; r++)
			for (o = 0; o < j->out; o++)
				y[(size_t)r * j->out + o] += j->bias[o];
}

void f8_linear_fwd(int n, int in, int out, const float *x, const float *w, const float *bias,
		   float *y)
{
	struct linear_job j = { .n = n, .in = in, .out = out, .x = x, .w = w, .bias = bias, .y = y };

	f8_par_for((size_t)(n + F8_LINEAR_ROWS - 1) / F8_LINEAR_ROWS, linear_fwd_rows, &j);
}

static void linear_bwd_task(void *ctx, size_t t, int thread)
{
	const struct linear_job *j = ctx;
	int r, o;

	(void)thread;
	if (t == 0) {
		/* dx[n][in] += dy[n][out] . w[out][in] */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, j->in, j->out, 1.0f,
			    j->dy, j->out, j->w, j->in, 1.0f, j->dx, j->in);
		return;
	}
	/* dw[out][in] = dy^T . x */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, j->out, j->in, j->n, 1.0f, j->dy,
		    j->out, j->x, j->in, 0.0f, j->dw, j->in);
	if (j->dbias) {
		for (o = 0; o < j->out; o++) {
			double s = 0.0;

			for (r = 0; r < j->n; r++)
				s += j->dy[(size_t)r * j->out + o];
			j->dbias[o] = (float)s;
		}
	}
}

void f8_linear_bwd(int n, int in, int out, const float *x, const float *w, const float *dy,
		   float *dx, float *dw, float *dbias)
{
	struct linear_job j = {
		.n = n, .in = in, .out = out, .x = x, .w = w, .dy = dy, .dx = dx, .dw = dw,
		.dbias = dbias,
	};

	/* Task 1 (dw, dbias) always runs; task 0 (dx) only when dx is wanted. */
	if (dx)
		f8_par_for(2, linear_bwd_task, &j);
	else
		linear_bwd_task(&j, 1, 0);
}
