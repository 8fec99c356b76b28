// SPDX-License-Identifier: MIT
/*
 * The integer evaluation shared by f8 eval and f8 train (an F8Net-trained run evaluates its
 * own integer model at the end): every test image through f8_qm_forward, the reference
 * kernels of sim/, split over the pool in chunks so that progress shows. The CPU backend
 * (f8-cpu.h) gives the same logits faster, a batch of images per task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "f8-cli.h"
#include "f8-cpu.h"
#include "f8-data.h"
#include "f8-par.h"
#include "f8-qmodel.h"

const char *const f8_fmnist_class_names[10] = { "t-shirt", "trouser", "pullover", "dress", "coat",
						"sandal", "shirt", "sneaker", "bag", "ankle-boot" };

struct eval_job {
	const struct f8_qm *m;
	const struct f8_dataset *ds;
	uint8_t *scratch;   /* per thread */
	size_t scratch_bytes;
	uint8_t *hwc;       /* per thread: a task's images in [h][w][c] */
	int32_t *logits;    /* [n][classes] */
	const struct f8_cpu *cpu; /* the CPU backend's plan, or NULL: the reference kernels */
	size_t per;         /* images per task */
};

#define F8_EVAL_CPU_BATCH 8 /* images per f8_cpu_forward call */

int f8_ds_fits(const char *tool, const struct f8_qm *m, const struct f8_dataset *ds)
{
	if (ds->c != (int)m->nodes[0].c || ds->h != (int)m->nodes[0].h ||
	    ds->w != (int)m->nodes[0].w || (uint32_t)ds->classes != m->classes) {
		fprintf(stderr, "%s: the model takes %ux%ux%u images and %u classes, the test set has %dx%dx%d and %d\n",
			tool, m->nodes[0].c, m->nodes[0].h, m->nodes[0].w, m->classes, ds->c, ds->h,
			ds->w, ds->classes);
		return -1;
	}
	return 0;
}

void f8_ds_to_hwc(const struct f8_dataset *ds, size_t first, size_t n, uint8_t *hwc)
{
	const size_t plane = (size_t)ds->h * ds->w, img = plane * ds->c;
	size_t b, p;
	int c;

	for (b = 0; b < n; b++)
		for (c = 0; c < ds->c; c++)
			for (p = 0; p < plane; p++)
				hwc[b * img + p * ds->c + c] = ds->pixels[(first + b) * img + c * plane + p];
}

/* Images per * @i ... of the chunk: to [h][w][c], then through the backend. */
static void eval_task(void *ctx, size_t i, int thread)
{
	const struct eval_job *j = ctx;
	const struct f8_dataset *ds = j->ds;
	const size_t plane = (size_t)ds->h * ds->w, img = plane * ds->c;
	const size_t first = i * j->per, left = (size_t)ds->n - first;
	const size_t n = left < j->per ? left : j->per;
	uint8_t *hwc = j->hwc + (size_t)thread * img * j->per;
	void *scratch = j->scratch + (size_t)thread * j->scratch_bytes;
	int32_t *logits = j->logits + first * j->m->classes;
	size_t b;

	f8_ds_to_hwc(ds, first, n, hwc);
	if (j->cpu) {
		f8_cpu_forward(j->cpu, hwc, (int)n, logits, scratch);
		return;
	}
	for (b = 0; b < n; b++)
		f8_qm_forward(j->m, hwc + b * img, logits + b * j->m->classes, scratch);
}

int f8_int_eval(const char *tool, const struct f8_qm *m, const struct f8_dataset *ds,
		int32_t *logits, enum f8_int_backend backend)
{
	const int threads = f8_par_threads();
	const size_t per = backend == F8_INT_CPU ? F8_EVAL_CPU_BATCH : 1;
	struct eval_job job = { .m = m, .ds = ds, .logits = logits, .per = per };
	struct f8_cpu *cpu = NULL;
	struct timespec t0, t1;
	size_t done, chunk = 200;
	int rc = -1;

	if (f8_ds_fits(tool, m, ds))
		return -1;
	if (backend == F8_INT_CPU) {
		if (f8_cpu_create(m, F8_CPU_ISA_AUTO, &cpu)) {
			fprintf(stderr, "%s: out of memory for the CPU backend\n", tool);
			return -1;
		}
		job.cpu = cpu;
		job.scratch_bytes = (f8_cpu_scratch_bytes(cpu, F8_EVAL_CPU_BATCH) + 63) & ~(size_t)63;
	} else {
		job.scratch_bytes = (f8_qm_scratch_bytes(m) + 63) & ~(size_t)63;
	}
	job.scratch = aligned_alloc(64, job.scratch_bytes * (size_t)threads);
	job.hwc = malloc((size_t)ds->c * ds->h * ds->w * (size_t)threads * per);
	if (!job.scratch || !job.hwc) {
		fprintf(stderr, "%s: out of memory for the integer evaluation\n", tool);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (done = 0; done < (size_t)ds->n; done += chunk) {
		struct eval_job sub = job;
		struct f8_dataset part = *ds;
		const size_t n = (size_t)ds->n - done < chunk ? (size_t)ds->n - done : chunk;
		double s;

		/* chunks of images (independent), so that progress shows */
		part.pixels = ds->pixels + done * (size_t)ds->c * ds->h * ds->w;
		part.n = (int)n;
		sub.ds = &part;
		sub.logits = logits + done * m->classes;
		f8_par_for((n + per - 1) / per, eval_task, &sub);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
		fprintf(stderr, "\rinteger eval %zu/%d images  %.0f img/s", done + n, ds->n,
			(double)(done + n) / s);
	}
	fprintf(stderr, "\n");
	rc = 0;
out:
	free(job.scratch);
	free(job.hwc);
	f8_cpu_free(cpu);
	return rc;
}

int f8_int_top1(const struct f8_qm *m, const struct f8_dataset *ds, const int32_t *logits)
{
	int i, correct = 0;

	for (i = 0; i < ds->n; i++)
		correct += f8_argmax32(logits + (size_t)i * m->classes, (int)m->classes) == ds->labels[i];
	return correct;
}

int f8_argmax32(const int32_t *v, int n)
{
	int i, b = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

int f8_logits_write(const char *path, const int32_t *logits, size_t count)
{
	uint8_t *le = malloc(count * 4 + 1);
	size_t i;
	int rc;

	if (!le) {
		fprintf(stderr, "out of memory writing %s\n", path);
		return -1;
	}
	for (i = 0; i < count; i++) { /* little-endian whatever the host */
		const uint32_t v = (uint32_t)logits[i];

		le[4 * i] = (uint8_t)v;
		le[4 * i + 1] = (uint8_t)(v >> 8);
		le[4 * i + 2] = (uint8_t)(v >> 16);
		le[4 * i + 3] = (uint8_t)(v >> 24);
	}
	rc = f8_file_write_atomic(path, le, (uint64_t)count * 4);
	free(le);
	return rc;
}
