// SPDX-License-Identifier: MIT
/*
 * f8 profile: where a model's time goes on a device. The model is compiled for the device
 * and one batch runs descriptor by descriptor (f8_cc_profile), so every fused layer gets its
 * own counters: cycles (the RTL's own on rtl, the cost model's on ref) beside the cost
 * model's prediction, MACs and the MAC array's utilisation, DMA bytes against the minimum
 * (each tensor, weight and bias moved exactly once) and against the floor (the cost model's
 * traffic of the layer as one untiled descriptor: what no tiling can beat, docs/compiler.md).
 * A table, and with --svg a bar chart.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-data.h"
#include "f8-opt.h"
#include "f8-plot.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 profile MODEL.f8m [options]\n"
		   "Per-layer cycles, MAC utilisation and DMA bytes of a model on a device.\n"
		   "  --backend SPEC   ref[:RxC] (default ref, the cost model), rtl:RxC (measured), kmod\n"
		   "  --batch N        images per job (default 1)\n"
		   "  --data DIR       Fashion-MNIST: the batch is its first test images (other input\n"
		   "                   sizes get fixed pseudo-random pixels)\n"
		   "  --svg FILE       write the per-layer cycles as an SVG bar chart\n");
}

struct layer {
	const char *name;
	uint64_t cycles, pred, macs, bytes, min, floor;
	unsigned int descs;
};

static int fill_input(const char *data, const struct f8_cc_prog *p, uint8_t *hwc)
{
	const size_t img = (size_t)p->in_h * p->in_w * p->in_c;
	struct f8_dataset ds = { 0 };
	struct f8_err e = { { 0 } };
	uint32_t s = 12345, b;
	size_t q;

	if (p->in_c == 1 && p->in_h == 28 && p->in_w == 28 && !f8_fmnist_load(&ds, data, false, &e)) {
		for (b = 0; b < p->batch; b++)
			memcpy(hwc + b * img, ds.pixels + (size_t)(b % (uint32_t)ds.n) * img, img);
		f8_dataset_free(&ds);
		return 0;
	}
	if (data) {
		fprintf(stderr, "f8 profile: --data: %s\n", e.msg);
		return -1;
	}
	for (q = 0; q < img * p->batch; q++) {
		s = s * 1103515245u + 12345u;
		hwc[q] = (uint8_t)(s >> 16);
	}
	return 0;
}

int f8_cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' }, { "batch", required_argument, NULL, 'B' },
		{ "data", required_argument, NULL, 'd' },    { "svg", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	const char *spec = "ref", *data = NULL, *svg = NULL;
	uint64_t batch = 1;
	struct f8_qm_file qf;
	struct f8_be *be = NULL;
	struct f8_cc_prog *p = NULL;
	struct f8_cc_opts o = { 0 };
	struct f8_err e = { { 0 } };
	struct f8npu_perf *perf = NULL;
	struct layer *ly = NULL, tot = { "total", 0, 0, 0, 0, 0, 0, 0 };
	uint8_t *hwc = NULL;
	unsigned int nl = 0, i;
	int c, rc = F8_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': spec = optarg; break;
		case 'd': data = optarg; break;
		case 's': svg = optarg; break;
		case 'B':
			if (f8_opt_uint("f8 profile", F8_LIM_BATCH, optarg, &batch))
				return F8_EXIT_USAGE;
			break;
		case 'h': usage(stdout); return F8_EXIT_OK;
		default: return f8_opt_bad("f8 profile", argv[optind - 1], usage);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "f8 profile: need one model file\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_qm_file_load("f8 profile", argv[optind], &qf))
		return F8_EXIT_USAGE;
	if (f8_be_open(spec, &be, &e)) {
		fprintf(stderr, "f8 profile: --backend %s: %s\n", spec, e.msg);
		goto out;
	}
	o.batch = (uint32_t)batch;
	if (f8_cc_compile(&qf.m, &be->caps, &o, &p, &e)) {
		fprintf(stderr, "f8 profile: %s for %s: %s\n", argv[optind], be->spec, e.msg);
		goto out;
	}
	hwc = malloc((size_t)p->batch * p->in_h * p->in_w * p->in_c);
	perf = calloc(p->ndesc, sizeof(*perf));
	ly = calloc(p->ndesc, sizeof(*ly));
	if (!hwc || !perf || !ly) {
		fprintf(stderr, "f8 profile: out of memory\n");
		goto out;
	}
	if (fill_input(data, p, hwc))
		goto out;
	fprintf(stderr, "f8 profile: %s on %s, %u descriptors, one job each...\n", qf.m.model_name,
		be->spec, p->ndesc - 1);
	if (f8_cc_profile(be, p, hwc, perf, NULL, &e)) {
		fprintf(stderr, "f8 profile: %s\n", e.msg);
		goto out;
	}
	/* consecutive descriptors of one node (tiles) are one layer */
	for (i = 0; i + 1 < p->ndesc; i++) {
		struct layer *l;

		if (!nl || p->info[i].node != p->info[i - 1].node)
			ly[nl++].name = p->info[i].name;
		l = &ly[nl - 1];
		l->descs++;
		l->cycles += perf[i].cycles;
		l->pred += p->info[i].cycles;
		l->macs += perf[i].macs;
		l->bytes += perf[i].rd_bytes + perf[i].wr_bytes - F8NPU_CMD_DESC_SIZE;
		/* the whole operation's, on its first tile (a tiled input counts once) */
		l->min += p->info[i].min_bytes;
		l->floor += p->info[i].floor_bytes;
	}
	printf("%s on %s (%ux%u array), batch %u: one job per descriptor\n", qf.m.model_name, be->spec,
	       p->caps.rows, p->caps.cols, p->batch);
	printf("%-26s %5s %11s %11s %6s %11s %6s %11s %6s %7s\n", "layer", "descs", "cycles",
	       "predicted", "ratio", "MACs", "util", "DMA bytes", "x min", "x floor");
	for (i = 0; i <= nl; i++) {
		struct layer *l = i < nl ? &ly[i] : &tot;

		if (i < nl) {
			tot.descs += l->descs;
			tot.cycles += l->cycles;
			tot.pred += l->pred;
			tot.macs += l->macs;
			tot.bytes += l->bytes;
			tot.min += l->min;
			tot.floor += l->floor;
		} else {
			/* the header and END of one job */
			tot.cycles += perf[p->ndesc - 1].cycles;
			tot.pred += p->info[p->ndesc - 1].cycles;
		}
		f8_outf("%-26s %5u %11llu %11llu %6.2f %11llu %5.1f%% %11llu %6.2f %7.2f\n", l->name, l->descs,
			(unsigned long long)l->cycles, (unsigned long long)l->pred,
			l->pred ? (double)l->cycles / (double)l->pred : 0.0, (unsigned long long)l->macs,
			l->cycles ? 100.0 * (double)l->macs / ((double)l->cycles * p->caps.rows * p->caps.cols) : 0.0,
			(unsigned long long)l->bytes, l->min ? (double)l->bytes / (double)l->min : 0.0,
			l->floor ? (double)l->bytes / (double)l->floor : 0.0);
	}
	printf("at 200 MHz: %.1f us per job, %.0f images/s\n", (double)tot.cycles / 200.0,
	       tot.cycles ? 200e6 * p->batch / (double)tot.cycles : 0.0);
	if (svg) {
		const char **names = calloc(nl + 1, sizeof(*names));
		double *a = calloc(nl + 1, sizeof(*a)), *b = calloc(nl + 1, sizeof(*b));
		char title[160];
		FILE *f = NULL;
		char *doc = NULL;
		size_t doc_len = 0;
		int st = -1;

		if (names && a && b) {
			for (i = 0; i < nl; i++) {
				names[i] = ly[i].name;
				a[i] = (double)ly[i].cycles;
				b[i] = (double)ly[i].pred;
			}
			snprintf(title, sizeof(title), "%s on %s: cycles per layer (batch %u)",
				 qf.m.model_name, be->spec, p->batch);
			/* drawn in memory, then written atomically */
			f = open_memstream(&doc, &doc_len);
			if (f) {
				st = f8_plot_bars_svg(f, title, "cycles", (int)nl, names, a,
						      strncmp(be->spec, "rtl", 3) ? "device (cost model)" : "RTL (measured)",
						      b, "cost model (isa.md 7)");
				if (fclose(f))
					st = -1;
				if (!st)
					st = f8_file_write_atomic(svg, doc, doc_len);
				free(doc);
			}
		}
		free(names);
		free(a);
		free(b);
		if (st) {
			f8_errf("f8 profile: --svg %s: not written\n", svg);
			goto out;
		}
	}
	rc = F8_EXIT_OK;
out:
	free(ly);
	free(perf);
	free(hwc);
	f8_cc_free(p);
	f8_be_close(be);
	f8_qm_file_free(&qf);
	return rc;
}
