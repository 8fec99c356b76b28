// SPDX-License-Identifier: MIT
/*
 * Where an integer model runs, for f8 eval, run and profile (--backend):
 *   graph          the unfused model on sim/'s reference kernels (f8_qm_forward): the
 *                  trainer's own integer evaluation
 *   cpu            the fast CPU path (f8-cpu.h)
 *   ref[:RxC], rtl:RxC, kmod[:NODE]
 *                  a device (f8-backend.h): the model compiled (f8-compile.h) for its
 *                  capabilities, run as jobs of a batch each; a layer the device refuses
 *                  runs on the host between them (f8_cc_part_open)
 *   auto           a real device if one is present and takes at least one layer, else cpu;
 *                  the placement report says which layer runs where and why
 * Every one of them gives the same int32 logits.
 *
 * An in-process simulator (ref, rtl) may run as several instances, one thread each
 * (f8_place_instances, --threads): a Verilated model is single-threaded, so this is how the
 * RTL uses more than one core. Each instance is a backend of its own (for rtl: its own
 * Verilated model in its own VerilatedContext, its own host memory image; the configuration's
 * shared object is loaded once and holds no per-instance state) with its own compiled copy of
 * the model, so the threads share nothing but the work queue below and the logits array, of
 * which each writes its own images. Results do not depend on the number of instances: an
 * image's logits do not depend on the other images of its job.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "f8-cli.h"
#include "f8-cpu.h"
#include "f8-data.h"

static int place_device(const char *spec, const struct f8_qm *m, uint32_t batch,
			struct f8_place *pl, struct f8_err *e)
{
	const struct f8_cc_opts o = { .batch = batch };
	uint32_t i;
	int st;

	st = f8_be_open(spec, &pl->be, e);
	if (st)
		return st;
	st = f8_cc_part_open(pl->be, m, &o, &pl->part, e);
	if (st) {
		f8_be_close(pl->be);
		pl->be = NULL;
		return st;
	}
	for (i = 1; i < m->nnodes; i++) {
		const enum f8_cc_where w = f8_cc_part_where(pl->part, i, NULL, NULL);

		pl->on_device += w == F8_CC_ON_DEVICE;
		pl->on_host += w == F8_CC_ON_HOST;
	}
	pl->kind = F8_PLACE_DEVICE;
	pl->batch = batch;
	pl->ninst = 1;
	snprintf(pl->name, sizeof(pl->name), "%s%s", pl->be->spec,
		 pl->on_host ? " + host" : "");
	return F8_OK;
}

/* The device's share, after "asked for" or "auto". */
static void device_why(struct f8_place *pl, const char *how)
{
	if (!pl->on_host)
		snprintf(pl->why, sizeof(pl->why), "%s: the device takes every layer", how);
	else
		snprintf(pl->why, sizeof(pl->why),
			 "%s: %u layers on the device, %u it refuses on the host (reference kernels)",
			 how, pl->on_device, pl->on_host);
}

static void place_cpu(struct f8_place *pl)
{
	pl->kind = F8_PLACE_CPU;
	snprintf(pl->name, sizeof(pl->name), "cpu (%s)", f8_cpu_isa_name(f8_cpu_isa_best()));
}

int f8_place_open(const char *tool, const char *spec, const struct f8_qm *m, uint32_t batch,
		  struct f8_place *pl)
{
	struct f8_err e = { { 0 } };

	memset(pl, 0, sizeof(*pl));
	if (!strcmp(spec, "graph")) {
		pl->kind = F8_PLACE_GRAPH;
		snprintf(pl->name, sizeof(pl->name), "graph (sim/ reference kernels)");
		snprintf(pl->why, sizeof(pl->why), "asked for (--backend graph)");
		return 0;
	}
	if (!strcmp(spec, "cpu")) {
		place_cpu(pl);
		snprintf(pl->why, sizeof(pl->why), "asked for (--backend cpu)");
		return 0;
	}
	if (!strcmp(spec, "auto")) {
		/* Simulators are not devices to run on for speed: auto takes real hardware only. */
		if (!place_device("kmod", m, batch, pl, &e)) {
			if (pl->on_device) {
				device_why(pl, "auto");
				return 0;
			}
			/* a device that takes nothing: the fast CPU path does it all */
			f8_place_close(pl);
			place_cpu(pl);
			snprintf(pl->why, sizeof(pl->why), "auto: the device refuses every layer");
			return 0;
		}
		place_cpu(pl);
		snprintf(pl->why, sizeof(pl->why), "auto: no device (%s)", e.msg);
		return 0;
	}
	if (place_device(spec, m, batch, pl, &e)) {
		fprintf(stderr, "%s: --backend %s: %s\n", tool, spec, e.msg);
		return -1;
	}
	device_why(pl, "asked for");
	return 0;
}

int f8_place_instances(const char *tool, struct f8_place *pl, const struct f8_qm *m, uint32_t n)
{
	const struct f8_cc_opts o = { .batch = pl->batch };
	struct f8_err e = { { 0 } };
	const char *name;

	if (pl->kind != F8_PLACE_DEVICE || n <= 1)
		return 0;
	/* A real device is one device: its driver queues the jobs of every thread anyway. */
	name = pl->be->ops->name;
	if (strcmp(name, "ref") && strcmp(name, "rtl"))
		return 0;
	pl->xbe = calloc(n, sizeof(*pl->xbe));
	pl->xpart = calloc(n, sizeof(*pl->xpart));
	if (!pl->xbe || !pl->xpart) {
		fprintf(stderr, "%s: out of memory\n", tool);
		return -1;
	}
	pl->xbe[0] = pl->be;
	pl->xpart[0] = pl->part;
	for (; pl->ninst < n; pl->ninst++) {
		const uint32_t k = pl->ninst;

		if (f8_be_open(pl->be->spec, &pl->xbe[k], &e) ||
		    f8_cc_part_open(pl->xbe[k], m, &o, &pl->xpart[k], &e)) {
			fprintf(stderr, "%s: --backend %s, instance %u of %u: %s\n", tool, pl->be->spec,
				k + 1, n, e.msg);
			f8_be_close(pl->xbe[k]);
			pl->xbe[k] = NULL;
			return -1;
		}
	}
	return 0;
}

void f8_place_close(struct f8_place *pl)
{
	uint32_t k;

	for (k = 1; pl->xbe && k < pl->ninst; k++) {
		f8_cc_part_close(pl->xpart[k]);
		f8_be_close(pl->xbe[k]);
	}
	free(pl->xbe);
	free(pl->xpart);
	f8_cc_part_close(pl->part);
	f8_be_close(pl->be);
	memset(pl, 0, sizeof(*pl));
}

/*
 * The work of f8_place_eval on a device: chunks of images taken in turn by one thread per
 * instance; the first failure (lowest image) is kept and stops the others after their
 * current job.
 */
struct place_run {
	struct f8_place *pl;
	const struct f8_qm *m;
	const struct f8_dataset *ds;
	int32_t *logits;
	size_t chunk;

	pthread_mutex_t lock;
	size_t next, done;          /* images handed out, images finished */
	uint32_t running;           /* threads not yet finished */
	struct f8_cc_stats total;
	bool failed;
	size_t fail_lo, fail_hi;    /* the failing job's images */
	char fail_msg[sizeof(((struct f8_err *)0)->msg)];
};

struct place_worker {
	struct place_run *run;
	uint32_t inst;
	pthread_t tid;
};

/* Take the next chunk of images: false when there is none or a thread has failed. */
static bool place_take(struct place_run *r, size_t *lo, size_t *n)
{
	bool ok;

	pthread_mutex_lock(&r->lock);
	ok = !r->failed && r->next < (size_t)r->ds->n;
	if (ok) {
		*lo = r->next;
		*n = (size_t)r->ds->n - *lo < r->chunk ? (size_t)r->ds->n - *lo : r->chunk;
		r->next += *n;
	}
	pthread_mutex_unlock(&r->lock);
	return ok;
}

/* One job's outcome: counted, or the failure kept if it is the first (lowest images). */
static bool place_done(struct place_run *r, size_t lo, size_t k, const struct f8_cc_stats *st,
		       const char *msg)
{
	bool go;

	pthread_mutex_lock(&r->lock);
	if (msg) {
		if (!r->failed || lo < r->fail_lo) {
			r->fail_lo = lo;
			r->fail_hi = lo + k - 1;
			snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", msg);
		}
		r->failed = true;
	} else {
		f8_cc_stats_add(&r->total, st);
		r->done += k;
	}
	go = !r->failed;
	pthread_mutex_unlock(&r->lock);
	return go;
}

/*
 * The Verilator harness aborts on an RTL bug (a protocol error, a failed assertion:
 * sim/f8npu_rtl.cpp), in the thread that runs that instance. SIGABRT is delivered to that
 * thread, so its handler can say which images the instance was running before the process
 * dies as it would have: each worker keeps that line, formatted before each job.
 */
static _Thread_local char place_doing[192];

static void place_on_abort(int sig)
{
	size_t n = 0;

	while (n < sizeof(place_doing) && place_doing[n])
		n++;
	if (n && write(STDERR_FILENO, place_doing, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void *place_worker(void *arg)
{
	struct place_worker *w = arg;
	struct place_run *r = w->run;
	struct f8_cc_part *part = w->inst ? r->pl->xpart[w->inst] : r->pl->part;
	const size_t img = (size_t)r->ds->c * r->ds->h * r->ds->w;
	const size_t batch = r->pl->batch ? r->pl->batch : 1;
	uint8_t *hwc = malloc(img * r->chunk);
	size_t lo, n, j;
	bool go = true;

	if (!hwc)
		go = place_done(r, 0, 1, NULL, "out of memory");
	while (go && place_take(r, &lo, &n)) {
		f8_ds_to_hwc(r->ds, lo, n, hwc);
		/* One device job at a time, so a failure names its job's images. */
		for (j = 0; go && j < n; j += batch) {
			const size_t k = n - j < batch ? n - j : batch;
			struct f8_cc_stats st;
			struct f8_err e = { { 0 } };
			int rc;

			snprintf(place_doing, sizeof(place_doing),
				 "\n%s: instance %u aborted while running images %zu-%zu\n", r->pl->name,
				 w->inst + 1, lo + j, lo + j + k - 1);
			rc = f8_cc_part_run(part, hwc + j * img, (int)k, r->logits + (lo + j) * r->m->classes,
					    &st, &e);
			place_doing[0] = 0;
			go = place_done(r, lo + j, k, &st, rc ? e.msg : NULL);
		}
	}
	free(hwc);
	pthread_mutex_lock(&r->lock);
	r->running--;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

int f8_place_eval(const char *tool, struct f8_place *pl, const struct f8_qm *m,
		  const struct f8_dataset *ds, int32_t *logits, struct f8_cc_stats *total)
{
	const uint32_t ninst = pl->ninst ? pl->ninst : 1;
	struct place_worker *w;
	struct place_run r;
	struct sigaction sa, old_sa;
	struct timespec t0;
	size_t per, batch, shown;
	uint32_t k, started = 0;
	double s, last;
	int rc = -1;

	if (pl->kind != F8_PLACE_DEVICE)
		return f8_int_eval(tool, m, ds, logits, pl->kind == F8_PLACE_CPU ? F8_INT_CPU : F8_INT_REF);
	if (f8_ds_fits(tool, m, ds))
		return -1;
	memset(&r, 0, sizeof(r));
	r.pl = pl;
	r.m = m;
	r.ds = ds;
	r.logits = logits;
	/* Whole jobs, about four chunks per instance (so the threads end together), at most 64
	 * images unless a job is larger. */
	batch = pl->batch ? pl->batch : 1;
	per = ((size_t)ds->n + 4 * ninst - 1) / (4 * ninst);
	r.chunk = (per + batch - 1) / batch * batch;
	if (r.chunk > (64 > batch ? 64 / batch * batch : batch))
		r.chunk = 64 > batch ? 64 / batch * batch : batch;
	if (r.chunk < batch)
		r.chunk = batch;
	w = calloc(ninst, sizeof(*w));
	if (!w || pthread_mutex_init(&r.lock, NULL)) {
		free(w);
		fprintf(stderr, "%s: out of memory\n", tool);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = place_on_abort;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGABRT, &sa, &old_sa);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&r.lock);
	for (k = 0; k < ninst; k++) {
		w[k].run = &r;
		w[k].inst = k;
		if (pthread_create(&w[k].tid, NULL, place_worker, &w[k]))
			break;
		started++;
		r.running++;
	}
	if (started < ninst && !r.failed) {
		r.failed = true;
		snprintf(r.fail_msg, sizeof(r.fail_msg), "cannot start thread %u of %u", started + 1, ninst);
		r.fail_lo = r.fail_hi = 0;
	}
	pthread_mutex_unlock(&r.lock);
	/* Progress from this thread (about once a second), the simulators running in the workers. */
	for (shown = (size_t)-1, last = -1.0;;) {
		const struct timespec tick = { 0, 100000000 };
		size_t done;
		uint64_t cycles;
		uint32_t running;

		pthread_mutex_lock(&r.lock);
		done = r.done;
		cycles = r.total.cycles;
		running = r.running;
		pthread_mutex_unlock(&r.lock);
		s = since(&t0);
		if (s > 0 && done && done != shown && (!running || s - last >= 1.0)) {
			fprintf(stderr, "\rinteger eval %zu/%d images  %.1f img/s  %.3f M device cycles/s per instance (%u)",
				done, ds->n, (double)done / s, (double)cycles / s / ninst * 1e-6, ninst);
			shown = done;
			last = s;
		}
		if (!running)
			break;
		nanosleep(&tick, NULL);
	}
	for (k = 0; k < started; k++)
		pthread_join(w[k].tid, NULL);
	sigaction(SIGABRT, &old_sa, NULL);
	fprintf(stderr, "\n");
	pthread_mutex_destroy(&r.lock);
	free(w);
	if (r.failed) {
		char what[64];

		if (r.fail_lo == r.fail_hi)
			snprintf(what, sizeof(what), "image %zu", r.fail_lo);
		else
			snprintf(what, sizeof(what), "images %zu-%zu", r.fail_lo, r.fail_hi);
		fprintf(stderr, "%s: %s: %s: %s (the %u instance%s stopped; %zu images were done)\n", tool,
			pl->name, what, r.fail_msg, ninst, ninst == 1 ? "" : "s", r.done);
		return -1;
	}
	s = since(&t0);
	fprintf(stderr, "%s: %d images on %s, %u instance%s, in %.2f s: %.2f img/s; %llu device cycles, "
		"%.3f M cycles/s per instance\n", tool, ds->n, pl->name, ninst, ninst == 1 ? "" : "s", s,
		s > 0 ? ds->n / s : 0.0, (unsigned long long)r.total.cycles,
		s > 0 ? (double)r.total.cycles / s / ninst * 1e-6 : 0.0);
	if (total)
		*total = r.total;
	rc = 0;
	return rc;
}

void f8_place_report(FILE *f, const struct f8_place *pl, const struct f8_qm *m)
{
	uint32_t i, d;

	fprintf(f, "placement: %s: %s\n", pl->name, pl->why);
	fprintf(f, "%-4s %-22s %-8s %-14s %s\n", "#", "node", "op", "output", "runs on");
	for (i = 0; i < m->nnodes; i++) {
		const struct f8_qm_node *n = &m->nodes[i];
		char shape[32], where[256];

		snprintf(shape, sizeof(shape), "%ux%ux%u", n->c, n->h, n->w);
		if (n->op == F8_QM_INPUT) {
			snprintf(where, sizeof(where), "host (u8 pixels)");
		} else if (pl->kind != F8_PLACE_DEVICE) {
			snprintf(where, sizeof(where), "%s", pl->name);
		} else {
			const struct f8_cc_prog *prog;
			const char *why;
			const char *grp = NULL;
			unsigned int ndesc = 0;

			switch (f8_cc_part_where(pl->part, i, &why, &prog)) {
			case F8_CC_UNUSED:
				snprintf(where, sizeof(where), "nowhere (not on a path to the logits)");
				break;
			case F8_CC_ON_HOST:
				snprintf(where, sizeof(where), "host: %s", why);
				break;
			default:
				/* the descriptors that compute this node's tensor, and the fused group */
				for (d = 0; prog && d < prog->ndesc; d++)
					if (prog->info[d].node == (int32_t)i) {
						grp = grp ? grp : prog->info[d].name;
						ndesc++;
					}
				if (ndesc)
					snprintf(where, sizeof(where), "%s, %u descriptor%s (%s)",
						 pl->be->spec, ndesc, ndesc == 1 ? "" : "s", grp);
				else
					snprintf(where, sizeof(where), "%s, fused into its consumer",
						 pl->be->spec);
			}
		}
		fprintf(f, "%-4u %-22s %-8s %-14s %s\n", i, n->name, f8_qm_op_name(n->op), shape, where);
	}
}
