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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void f8_place_close(struct f8_place *pl)
{
	f8_cc_part_close(pl->part);
	f8_be_close(pl->be);
	memset(pl, 0, sizeof(*pl));
}

int f8_place_eval(const char *tool, struct f8_place *pl, const struct f8_qm *m,
		  const struct f8_dataset *ds, int32_t *logits, struct f8_cc_stats *total)
{
	const size_t img = (size_t)ds->c * ds->h * ds->w;
	size_t done, chunk;
	struct timespec t0, t1;
	uint8_t *hwc;
	int rc = -1;

	if (pl->kind != F8_PLACE_DEVICE)
		return f8_int_eval(tool, m, ds, logits, pl->kind == F8_PLACE_CPU ? F8_INT_CPU : F8_INT_REF);
	if (f8_ds_fits(tool, m, ds))
		return -1;
	chunk = 64; /* the part runs it in jobs of its batch */
	hwc = malloc(img * chunk);
	if (!hwc) {
		fprintf(stderr, "%s: out of memory\n", tool);
		return -1;
	}
	if (total)
		memset(total, 0, sizeof(*total));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (done = 0; done < (size_t)ds->n; done += chunk) {
		const size_t n = (size_t)ds->n - done < chunk ? (size_t)ds->n - done : chunk;
		struct f8_cc_stats st;
		struct f8_err e = { { 0 } };
		double s;

		f8_ds_to_hwc(ds, done, n, hwc);
		if (f8_cc_part_run(pl->part, hwc, (int)n, logits + done * m->classes, &st, &e)) {
			fprintf(stderr, "\n%s: %s: images %zu-%zu: %s\n", tool, pl->name, done,
				done + n - 1, e.msg);
			goto out;
		}
		if (total)
			f8_cc_stats_add(total, &st);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
		fprintf(stderr, "\rinteger eval %zu/%d images  %.1f img/s", done + n, ds->n,
			(double)(done + n) / s);
	}
	fprintf(stderr, "\n");
	rc = 0;
out:
	free(hwc);
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
