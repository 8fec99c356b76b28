// SPDX-License-Identifier: MIT
/*
 * The training engine's thread pool (f8-par.h): persistent workers that the kernels
 * split their work over.
 *
 * One job at a time: f8_par_for publishes (fn, ctx, n) under a new generation number,
 * the caller works as thread 0 and the workers as 1..T-1, all taking indices from one
 * atomic counter (dynamic scheduling: the machine may be shared with other jobs). A
 * kernel step issues a few hundred jobs, some under a millisecond, so idle workers spin
 * briefly on the generation before sleeping on a condition variable.
 *
 * OpenBLAS is kept single-threaded: every GEMM runs inside a task on the pool, and
 * OpenBLAS's own threads spinning after a call would steal the cores our workers need.
 * A DYNAMIC_ARCH OpenBLAS that does not know the CPU (0.3.21 on Emerald Rapids) falls
 * back to its Prescott (SSE3) kernels, 3 to 6 times slower: then we redo its core
 * choice once with the best core this CPU supports (unless OPENBLAS_CORETYPE is set).
 *
 * After fork() only the forking thread exists in the child (Check forks per test): a
 * pthread_atfork handler forgets the workers, and the next job starts new ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "f8-err.h"
#include "f8-par.h"

/* Idle polls of the generation before a worker sleeps (~0.1-0.5 ms: covers the gap
 * between two kernels of a step, not the data loading between steps). */
#define F8_PAR_SPIN 4000

struct f8_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* workers: a new generation, or quit */
	pthread_cond_t done;	/* caller: the last worker finished */
	pthread_t tid[F8_PAR_MAX_THREADS];
	int want;		/* threads in all, the caller included (f8_par_set_threads) */
	int running;		/* worker threads alive: running + 1 == want when started */
	bool quit;
	bool sleeping_caller;

	/* the current job */
	atomic_uint gen;
	atomic_size_t next;
	atomic_int busy;	/* workers still inside the current generation */
	size_t n;
	void (*fn)(void *ctx, size_t i, int thread);
	void *ctx;
};

static struct f8_pool pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
	.want = 1,
};

static _Thread_local bool in_task;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void run_tasks(int thread)
{
	size_t i, n = pool.n;
	void (*fn)(void *, size_t, int) = pool.fn;
	void *ctx = pool.ctx;

	in_task = true;
	while ((i = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed)) < n)
		fn(ctx, i, thread);
	in_task = false;
}

struct worker_arg {
	int thread;
	unsigned gen; /* the generation already done when it was created */
};

static struct worker_arg worker_args[F8_PAR_MAX_THREADS];

static void *worker_main(void *arg)
{
	const struct worker_arg *wa = arg;
	int thread = wa->thread;
	unsigned seen = wa->gen;

	for (;;) {
		unsigned g;
		bool quit = false;
		int spin;

		for (spin = 0; spin < F8_PAR_SPIN; spin++) {
			g = atomic_load_explicit(&pool.gen, memory_order_acquire);
			if (g != seen)
				break;
			cpu_relax();
		}
		if (g == seen) {
			pthread_mutex_lock(&pool.lock);
			while (!pool.quit && (g = atomic_load_explicit(&pool.gen, memory_order_acquire)) == seen)
				pthread_cond_wait(&pool.wake, &pool.lock);
			quit = pool.quit && g == seen;
			pthread_mutex_unlock(&pool.lock);
		}
		if (quit)
			return NULL;
		seen = g;
		run_tasks(thread);
		/* The last one out wakes the caller if it went to sleep. */
		if (atomic_fetch_sub_explicit(&pool.busy, 1, memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&pool.lock);
			if (pool.sleeping_caller)
				pthread_cond_signal(&pool.done);
			pthread_mutex_unlock(&pool.lock);
		}
	}
}

static void stop_workers(void)
{
	int i;

	pthread_mutex_lock(&pool.lock);
	pool.quit = true;
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.running; i++)
		pthread_join(pool.tid[i], NULL);
	pool.running = 0;
	pool.quit = false;
}

static int start_workers(void)
{
	int i, err;

	for (i = pool.running; i < pool.want - 1; i++) {
		worker_args[i].thread = i + 1;
		/* Not read by the thread itself: a job may be published before it runs. */
		worker_args[i].gen = atomic_load_explicit(&pool.gen, memory_order_relaxed);
		err = pthread_create(&pool.tid[i], NULL, worker_main, &worker_args[i]);
		if (err) {
			stop_workers();
			return err == EAGAIN ? F8_ERR_NOMEM : F8_ERR_MISUSE;
		}
		pool.running = i + 1;
	}
	return F8_OK;
}

static void after_fork_child(void)
{
	/* The workers did not survive the fork; their locks may be in any state. */
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.wake, NULL);
	pthread_cond_init(&pool.done, NULL);
	pool.running = 0;
	pool.quit = false;
	pool.sleeping_caller = false;
	in_task = false;
}

/* OpenBLAS's own core selection (exported by DYNAMIC_ARCH builds only, hence weak). */
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

static void blas_pick_core(void)
{
	const char *core = NULL;

	if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit || getenv("OPENBLAS_CORETYPE") ||
	    strcmp(openblas_get_corename(), "Prescott") != 0)
		return;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		core = "SkylakeX";
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		core = "Haswell";
#endif
	if (!core || setenv("OPENBLAS_CORETYPE", core, 0))
		return;
	/* No BLAS call is in flight: this runs once, before the first kernel. */
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
	unsetenv("OPENBLAS_CORETYPE");
}

static void par_init_once(void)
{
	blas_pick_core();
	openblas_set_num_threads(1);
	pthread_atfork(NULL, NULL, after_fork_child);
}

int f8_par_set_threads(int n)
{
	int err;

	if (in_task)
		return F8_ERR_MISUSE;
	if (n < 1 || n > F8_PAR_MAX_THREADS)
		return F8_ERR_RANGE;
	pthread_once(&once, par_init_once);
	if (pool.running)
		stop_workers();
	pool.want = n;
	err = start_workers();
	if (err)
		pool.want = 1;
	/* Calls into OpenBLAS come from the pool's tasks: it must not add threads of its own. */
	openblas_set_num_threads(1);
	return err;
}

int f8_par_threads(void)
{
	return pool.want;
}

void f8_par_for(size_t n, void (*fn)(void *ctx, size_t i, int thread), void *ctx)
{
	size_t i;
	int spin;

	pthread_once(&once, par_init_once);
	if (n == 0)
		return;
	if (pool.want > 1 && pool.running + 1 != pool.want && !in_task && start_workers())
		pool.want = 1; /* cannot start threads again after a fork: go serial */
	if (n == 1 || pool.want == 1 || in_task) {
		for (i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	pool.n = n;
	pool.fn = fn;
	pool.ctx = ctx;
	atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
	atomic_store_explicit(&pool.busy, pool.running, memory_order_relaxed);
	/* The lock orders the publication against a worker that is about to sleep. */
	pthread_mutex_lock(&pool.lock);
	atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);

	run_tasks(0);

	for (spin = 0; spin < F8_PAR_SPIN; spin++) {
		if (atomic_load_explicit(&pool.busy, memory_order_acquire) == 0)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&pool.lock);
	pool.sleeping_caller = true;
	while (atomic_load_explicit(&pool.busy, memory_order_acquire) != 0)
		pthread_cond_wait(&pool.done, &pool.lock);
	pool.sleeping_caller = false;
	pthread_mutex_unlock(&pool.lock);
}

void f8_par_shutdown(void)
{
	if (in_task)
		return;
	if (pool.running)
		stop_workers();
	pool.want = 1;
}
