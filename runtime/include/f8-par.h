/* SPDX-License-Identifier: MIT */
/*
 * The training engine's thread pool: one persistent set of worker threads that the
 * kernels split their work over (images, channels or rows). OpenBLAS is called from
 * inside the workers single-threaded, or from the caller with the pool's thread count;
 * f8_par_set_threads() keeps both in step. Results do not depend on the thread count
 * beyond float summation order inside one GEMM (work is split, never reduced across
 * threads in a thread-count-dependent order).
 */
#ifndef F8_PAR_H
#define F8_PAR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Threads of the pool at most, the caller included (f8-par.c's F8_PAR_MAX). */
#define F8_PAR_MAX_THREADS 64

/* Start (or resize) the pool to @n threads in all, the caller included; 1 <= n <=
 * F8_PAR_MAX_THREADS. 0 on success. */
int f8_par_set_threads(int n);
int f8_par_threads(void);

/*
 * Run fn(ctx, i, thread) for every i in [0, n), spread over the pool; returns when all
 * are done. @thread in [0, f8_par_threads()) names a per-thread scratch slot. Not
 * re-entrant: a task must not call f8_par_for itself (it would run serially).
 */
void f8_par_for(size_t n, void (*fn)(void *ctx, size_t i, int thread), void *ctx);

/* Stop the worker threads (optional at exit). */
void f8_par_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
