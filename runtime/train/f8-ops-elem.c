// SPDX-License-Identifier: MIT
/*
 * Elementwise float kernels: ReLU and addition, forward and backward (f8-ops.h).
 * Work is cut into fixed blocks spread over the pool. No restrict: the net may run
 * them in place (y == x, y == a), which the loops allow since each element is read
 * before it is written; gcc still vectorises them behind a runtime overlap check.
 */
#include <stdbool.h>
#include <stddef.h>

#include "f8-ops.h"
#include "f8-par.h"

/* Floats per task: large enough to hide the dispatch, small enough to balance. */
#define F8_ELEM_BLOCK 32768

struct elem_job {
	size_t count;
	const float *a, *b;
	float *y, *z;
	bool set;	/* backward: overwrite dx instead of accumulating */
};

static size_t elem_tasks(size_t count)
{
	return (count + F8_ELEM_BLOCK - 1) / F8_ELEM_BLOCK;
}

static void elem_range(const struct elem_job *j, size_t t, size_t *lo, size_t *hi)
{
	*lo = t * F8_ELEM_BLOCK;
	*hi = *lo + F8_ELEM_BLOCK < j->count ? *lo + F8_ELEM_BLOCK : j->count;
}

static void relu_fwd_task(void *ctx, size_t t, int thread)
{
	const struct elem_job *j = ctx;
	const float *x = j->a;
	float *y = j->y;
	size_t i, lo, hi;

	(void)thread;
	elem_range(j, t, &lo, &hi);
	for (i = lo; i < hi; i++)
		y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void f8_relu_fwd(size_t count, const float *x, float *y)
{
	struct elem_job j = { .count = count, .a = x, .y = y };

	f8_par_for(elem_tasks(count), relu_fwd_task, &j);
}

static void relu_bwd_task(void *ctx, size_t t, int thread)
{
	const struct elem_job *j = ctx;
	const float *y = j->a, *dy = j->b;
	float *dx = j->y;
	size_t i, lo, hi;

	(void)thread;
	elem_range(j, t, &lo, &hi);
	if (j->set)
		for (i = lo; i < hi; i++)
			dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
	else
		for (i = lo; i < hi; i++)
			dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

void f8_relu_bwd(size_t count, const float *y, const float *dy, float *dx)
{
	struct elem_job j = { .count = count, .a = y, .b = dy, .y = dx };

	f8_par_for(elem_tasks(count), relu_bwd_task, &j);
}

void f8_relu_bwd_set(size_t count, const float *y, const float *dy, float *dx)
{
	struct elem_job j = { .count = count, .a = y, .b = dy, .y = dx, .set = true };

	f8_par_for(elem_tasks(count), relu_bwd_task, &j);
}

static void add_fwd_task(void *ctx, size_t t, int thread)
{
	const struct elem_job *j = ctx;
	const float *a = j->a, *b = j->b;
	float *y = j->y;
	size_t i, lo, hi;

	(void)thread;
	elem_range(j, t, &lo, &hi);
	for (i = lo; i < hi; i++)
		y[i] = a[i] + b[i];
}

void f8_add_fwd(size_t count, const float *a, const float *b, float *y)
{
	struct elem_job j = { .count = count, .a = a, .b = b, .y = y };

	f8_par_for(elem_tasks(count), add_fwd_task, &j);
}

static void add_bwd_task(void *ctx, size_t t, int thread)
{
	const struct elem_job *j = ctx;
	const float *dy = j->a;
	float *da = j->y, *db = j->z;
	size_t i, lo, hi;

	(void)thread;
	elem_range(j, t, &lo, &hi);
	if (da)
		for (i = lo; i < hi; i++)
			da[i] += dy[i];
	if (db)
		for (i = lo; i < hi; i++)
			db[i] += dy[i];
}

/* da or db may be NULL (an input that needs no gradient). */
void f8_add_bwd(size_t count, const float *dy, float *da, float *db)
{
	struct elem_job j = { .count = count, .a = dy, .y = da, .z = db };

	f8_par_for(elem_tasks(count), add_bwd_task, &j);
}
