// SPDX-License-Identifier: MIT
/*
 * f8 cpu-bench: the CPU backend's throughput on any integer model (f8-cpu.h), whatever its
 * input size: random pixels, batches of B images per f8_cpu_forward call, either one batch
 * per task of the thread pool (--split images: images split over threads) or one batch at a
 * time with each layer split over the pool (--split layers: the latency of one batch),
 * timed for about S seconds, R times; prints the median images/s and the ISA as one
 * machine-readable line (bench/cpu-perf.sh reads it). --layers adds each node's share of
 * the time (stderr), to see where it goes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "f8-cli.h"
#include "f8-cpu.h"
#include "f8-opt.h"
#include "f8-par.h"
#include "f8-qmodel.h"
#include "f8-rng.h"

#define F8_CPUBENCH_MAX 99 /* seconds and repeats */

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 cpu-bench MODEL.f8m [options]\n"
		   "Images per second of the CPU backend (docs/cpu-backend.md) on random images.\n"
		   "  --threads T   threads; each runs its own batches (default 1)\n"
		   "  --batch B     images per forward call and thread (default 8)\n"
		   "  --seconds S   timed seconds per measurement, about (default 2, 1..99)\n"
		   "  --repeat R    measurements, the median is printed (default 3, 1..99)\n"
		   "  --isa I       portable, avx2, avx512vnni (default: the best this CPU has)\n"
		   "  --split S     images: each thread runs its own batches (default); layers: one\n"
		   "                batch at a time, each layer split over the threads\n"
		   "  --layers      then print each node's time per batch (stderr)\n"
		   "prints: cpu-bench model=NAME isa=ISA threads=T batch=B split=S images_per_s=X\n");
}

struct bench_job {
	const struct f8_cpu *p;
	const uint8_t *pixels;  /* one batch of images, shared (read only) */
	uint8_t *scratch;       /* per thread */
	size_t scratch_bytes;
	int32_t *logits;        /* per thread */
	size_t logits_per;
	int batch;
	bool split_layers;      /* one batch at a time over all threads */
	double *node_s;         /* --layers: per-node seconds, summed */
};

static void bench_task(void *ctx, size_t i, int thread)
{
	const struct bench_job *j = ctx;

	(void)i;
	f8_cpu_forward(j->p, j->pixels, j->batch, j->logits + (size_t)thread * j->logits_per,
		       j->scratch + (size_t)thread * j->scratch_bytes);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Images per second of @tasks batches (s: the wall time). */
static double run(struct bench_job *j, size_t tasks, double *s)
{
	const double t0 = now();

	if (j->split_layers) {
		const struct f8_cpu_opts o = { .split_layers = true, .node_s = j->node_s };
		size_t i;

		for (i = 0; i < tasks; i++)
			f8_cpu_forward_ex(j->p, j->pixels, j->batch, j->logits, j->scratch, &o);
	} else {
		f8_par_for(tasks, bench_task, j);
	}
	*s = now() - t0;
	return (double)tasks * j->batch / *s;
}

/* Multiply-adds of one image through CONV / LINEAR node @n. */
static double macs(const struct f8_qm *m, const struct f8_qm_node *n)
{
	const struct f8_qm_node *a = &m->nodes[n->in[0]];

	if (n->op == F8_QM_LINEAR)
		return (double)n->c * a->c * a->h * a->w;
	if (n->op != F8_QM_CONV)
		return 0;
	return (double)n->c * n->h * n->w * n->k * n->k *
	       ((n->flags & F8_QM_F_DEPTHWISE) ? 1 : a->c);
}

/* --layers: @runs batches, single-threaded or split, each node's time. */
static void print_layers(struct bench_job *j, const struct f8_qm *m, double *node_s, size_t runs)
{
	double total = 0, s;
	uint32_t i;

	j->node_s = node_s;
	j->split_layers = true; /* one batch at a time (over all threads), timed node by node */
	run(j, runs, &s);
	for (i = 0; i < m->nnodes; i++)
		total += j->node_s[i];
	fprintf(stderr, "f8 cpu-bench: per node, ms per batch of %d (%zu batches):\n", j->batch, runs);
	for (i = 0; i < m->nnodes; i++) {
		const struct f8_qm_node *n = &m->nodes[i];
		const double ms = 1e3 * j->node_s[i] / (double)runs, mac = macs(m, n) * j->batch;

		fprintf(stderr, "  %2u %-22s %-8s %4ux%3ux%3u k%u s%u %8.3f ms %5.1f %%", i, n->name,
			f8_qm_op_name(n->op), n->c, n->h, n->w, n->k, n->stride, ms,
			100 * j->node_s[i] / total);
		if (mac > 0)
			fprintf(stderr, " %6.1f GMAC/s", mac / ms * 1e-6);
		if (f8_cpu_node_fused(j->p, i))
			fprintf(stderr, " (in node %u's epilogue)", i - 1);
		fputc('\n', stderr);
	}
	fprintf(stderr, "  total %.3f ms per batch\n", 1e3 * total / (double)runs);
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse_isa(const char *s, enum f8_cpu_isa *isa)
{
	enum f8_cpu_isa i;

	for (i = F8_CPU_ISA_PORTABLE; i < F8_CPU_ISA_END_; i++)
		if (!strcmp(s, f8_cpu_isa_name(i))) {
			*isa = i;
			return 0;
		}
	fprintf(stderr, "f8 cpu-bench: --isa: portable, avx2 or avx512vnni, not '%s'\n", s);
	return -1;
}

int f8_cmd_cpubench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' }, { "batch", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' }, { "repeat", required_argument, NULL, 'r' },
		{ "isa", required_argument, NULL, 'i' },     { "help", no_argument, NULL, 'h' },
		{ "split", required_argument, NULL, 'p' },   { "layers", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t threads = 1, batch = 8, seconds = 2, repeat = 3;
	enum f8_cpu_isa isa = F8_CPU_ISA_AUTO;
	struct f8_qm_file qf = { 0 };
	const struct f8_qm *m = &qf.m;
	struct f8_cpu *p = NULL;
	struct bench_job job = { 0 };
	struct f8_rng rng;
	double ips[F8_CPUBENCH_MAX], s;
	uint8_t *pixels = NULL;
	double *node_s = NULL;
	size_t img, i, tasks;
	bool split_layers = false, layers = false;
	int c, rc = F8_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (f8_opt_uint("f8 cpu-bench", F8_LIM_THREADS, optarg, &threads))
				return F8_EXIT_USAGE;
			break;
		case 'b':
			if (f8_opt_uint("f8 cpu-bench", F8_LIM_BATCH, optarg, &batch))
				return F8_EXIT_USAGE;
			break;
		case 's':
		case 'r': {
			char *end;
			const unsigned long v = strtoul(optarg, &end, 10);

			if (*end || optarg[0] < '0' || optarg[0] > '9' || v < 1 || v > F8_CPUBENCH_MAX) {
				fprintf(stderr, "f8 cpu-bench: %s: an integer 1 .. %d, not '%s'\n",
					c == 's' ? "--seconds" : "--repeat", F8_CPUBENCH_MAX, optarg);
				return F8_EXIT_USAGE;
			}
			*(c == 's' ? &seconds : &repeat) = v;
			break;
		}
		case 'i':
			if (parse_isa(optarg, &isa))
				return F8_EXIT_USAGE;
			break;
		case 'p':
			if (strcmp(optarg, "images") && strcmp(optarg, "layers")) {
				fprintf(stderr, "f8 cpu-bench: --split: images or layers, not '%s'\n", optarg);
				return F8_EXIT_USAGE;
			}
			split_layers = !strcmp(optarg, "layers");
			break;
		case 'l':
			layers = true;
			break;
		case 'h':
			usage(stdout);
			return F8_EXIT_OK;
		default:
			return f8_opt_bad("f8 cpu-bench", argv[optind - 1], usage);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "f8 cpu-bench: need one model file\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_qm_file_load("f8 cpu-bench", argv[optind], &qf))
		return F8_EXIT_USAGE;
	if (f8_cpu_create(m, isa, &p)) {
		fprintf(stderr, "f8 cpu-bench: this CPU cannot run %s (or out of memory)\n",
			f8_cpu_isa_name(isa == F8_CPU_ISA_AUTO ? f8_cpu_isa_best() : isa));
		goto out;
	}
	if (f8_par_set_threads((int)threads)) {
		fprintf(stderr, "f8 cpu-bench: cannot start %llu threads\n", (unsigned long long)threads);
		goto out;
	}
	img = (size_t)m->nodes[0].c * m->nodes[0].h * m->nodes[0].w;
	job.p = p;
	job.batch = (int)batch;
	job.split_layers = split_layers;
	job.scratch_bytes = (f8_cpu_scratch_bytes(p, (int)batch) + 63) & ~(size_t)63;
	job.logits_per = (size_t)m->classes * batch;
	pixels = malloc(img * batch);
	job.scratch = aligned_alloc(64, job.scratch_bytes * threads);
	job.logits = malloc(sizeof(int32_t) * job.logits_per * threads);
	node_s = calloc(m->nnodes, sizeof(double));
	if (!pixels || !job.scratch || !job.logits || !node_s) {
		fprintf(stderr, "f8 cpu-bench: out of memory for batches of %llu images\n",
			(unsigned long long)batch);
		goto out;
	}
	f8_rng_init(&rng, 1, 0);
	for (i = 0; i < img * batch; i++)
		pixels[i] = (uint8_t)f8_rng_below(&rng, 256);
	job.pixels = pixels;
	/* warm-up (pages, caches) and the task count that fills the time asked */
	run(&job, threads, &s);
	run(&job, threads, &s);
	tasks = (size_t)((double)seconds / (s > 1e-6 ? s : 1e-6)) * (split_layers ? 1 : threads);
	if (tasks < threads)
		tasks = threads;
	for (i = 0; i < repeat; i++) {
		ips[i] = run(&job, tasks, &s);
		fprintf(stderr, "f8 cpu-bench: %zu x %llu images in %.3f s: %.1f images/s\n", tasks,
			(unsigned long long)batch, s, ips[i]);
	}
	qsort(ips, repeat, sizeof(double), cmp_double);
	printf("cpu-bench model=%s isa=%s threads=%llu batch=%llu split=%s images_per_s=%.1f\n",
	       m->model_name[0] ? m->model_name : "-", f8_cpu_isa_name(f8_cpu_plan_isa(p)),
	       (unsigned long long)threads, (unsigned long long)batch,
	       split_layers ? "layers" : "images", ips[repeat / 2]);
	rc = fflush(stdout) ? F8_EXIT_USAGE : F8_EXIT_OK;
	if (layers)
		print_layers(&job, m, node_s, tasks / (split_layers ? 1 : threads));
out:
	free(job.scratch);
	free(job.logits);
	free(node_s);
	free(pixels);
	f8_cpu_free(p);
	f8_qm_file_free(&qf);
	return rc;
}
