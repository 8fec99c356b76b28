// SPDX-License-Identifier: MIT
/*
 * f8 run: classify images with an integer model on a backend (auto: a device if present,
 * else the CPU path). Images are PNG or PGM files of the model's size, or the images of an
 * IDX file with its labels (then the top-1 accuracy is printed too).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cli.h"
#include "f8-data.h"
#include "f8-image.h"
#include "f8-opt.h"
#include "f8-par.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 run MODEL.f8m IMAGE... [options]\n"
		   "       f8 run MODEL.f8m --idx IMAGES --labels LABELS [options]\n"
		   "Classify images with an integer model (integer arithmetic only).\n"
		   "  IMAGE            PNG (8-bit grey, RGB, palette; alpha dropped) or binary PGM, of the\n"
		   "                   model's size (no resizing); colour becomes grey for a grey model\n"
		   "  --idx FILE       IDX3 u8 images (gzip or not), with --labels FILE (IDX1 u8)\n"
		   "  --limit N        the first N images of --idx\n"
		   "  --backend B      graph, cpu, ref[:RxC], rtl:RxC, kmod or auto (default auto)\n"
		   "  --batch N        images per device job (default 16)\n"
		   "  --placement      print which layer runs where, and why\n"
		   "  --threads T      worker threads of the CPU paths, and instances of a simulator\n"
		   "                   (ref, rtl), one thread each (default 2)\n");
}

/* One line per image: its two best classes with their scores (logit / 2^FL). */
static void print_top(const char *name, const struct f8_qm *m, const int32_t *l)
{
	const double scale = ldexp(1.0, -m->nodes[m->nnodes - 1].fl_out);
	int a = f8_argmax32(l, (int)m->classes), b = -1;
	uint32_t k;

	for (k = 0; k < m->classes; k++)
		if ((int)k != a && (b < 0 || l[k] > l[b]))
			b = (int)k;
	f8_outf("%s: %s (%.3f)", name, m->class_names[a], l[a] * scale);
	if (b >= 0)
		f8_outf(", then %s (%.3f)", m->class_names[b], l[b] * scale);
	printf("\n");
}

int f8_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "idx", required_argument, NULL, 'i' },     { "labels", required_argument, NULL, 'L' },
		{ "limit", required_argument, NULL, 'l' },   { "backend", required_argument, NULL, 'b' },
		{ "batch", required_argument, NULL, 'B' },   { "placement", no_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *idx = NULL, *labels = NULL, *backend = "auto";
	uint64_t limit = 0, batch = 16, threads = 2;
	bool placement = false;
	struct f8_qm_file qf;
	struct f8_place pl = { 0 };
	struct f8_dataset ds = { 0 };
	struct f8_err e = { { 0 } };
	int32_t *logits = NULL;
	int c, i, rc = F8_EXIT_USAGE, nfiles;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': idx = optarg; break;
		case 'L': labels = optarg; break;
		case 'b': backend = optarg; break;
		case 'p': placement = true; break;
		case 'l':
		case 'B':
		case 't':
			if (f8_opt_uint("f8 run", c == 'l' ? F8_LIM_EVAL_LIMIT : c == 'B' ? F8_LIM_BATCH
					: F8_LIM_THREADS, optarg, c == 'l' ? &limit : c == 'B' ? &batch : &threads))
				return F8_EXIT_USAGE;
			break;
		case 'h': usage(stdout); return F8_EXIT_OK;
		default: return f8_opt_bad("f8 run", argv[optind - 1], usage);
		}
	}
	nfiles = argc - optind - 1;
	if (nfiles < 0 || (!idx && nfiles == 0) || (idx && nfiles > 0) || !idx != !labels) {
		fprintf(stderr, "f8 run: need a model file and images, or --idx with --labels\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_qm_file_load("f8 run", argv[optind], &qf))
		return F8_EXIT_USAGE;
	if (f8_par_set_threads((int)threads)) {
		fprintf(stderr, "f8 run: cannot start %llu threads\n", (unsigned long long)threads);
		goto out;
	}
	if (idx) {
		if (f8_idx_load(&ds, idx, labels, (int)qf.m.classes, &e)) {
			fprintf(stderr, "f8 run: %s\n", e.msg);
			goto out;
		}
		if (limit)
			f8_dataset_truncate(&ds, (int)limit);
	} else {
		/* the files as a dataset of [c][h][w] planes, as the IDX path has them */
		const struct f8_qm_node *in = &qf.m.nodes[0];
		const size_t img = (size_t)in->c * in->h * in->w;
		uint8_t *hwc = malloc(img);

		ds.n = nfiles;
		ds.c = in->c;
		ds.h = in->h;
		ds.w = in->w;
		ds.classes = (int)qf.m.classes;
		ds.pixels = malloc(img * (size_t)nfiles);
		ds.labels = calloc((size_t)nfiles, 1);
		if (!hwc || !ds.pixels || !ds.labels) {
			free(hwc);
			fprintf(stderr, "f8 run: out of memory\n");
			goto out;
		}
		for (i = 0; i < nfiles; i++) {
			struct f8_image im;
			const char *path = argv[optind + 1 + i];
			size_t p, plane = (size_t)in->h * in->w;
			unsigned int ch;

			if (f8_image_load(path, &im, &e) ||
			    f8_image_to_input(&im, in->c, in->h, in->w, hwc, &e)) {
				f8_errf("f8 run: %s: %s\n", path, e.msg);
				f8_image_free(&im);
				free(hwc);
				goto out;
			}
			f8_image_free(&im);
			for (ch = 0; ch < in->c; ch++)
				for (p = 0; p < plane; p++)
					ds.pixels[(size_t)i * img + ch * plane + p] = hwc[p * in->c + ch];
		}
		free(hwc);
	}
	logits = malloc(sizeof(int32_t) * qf.m.classes * (size_t)(ds.n ? ds.n : 1));
	if (!logits) {
		fprintf(stderr, "f8 run: out of memory\n");
		goto out;
	}
	if (f8_place_open("f8 run", backend, &qf.m, (uint32_t)batch, &pl))
		goto out;
	if (f8_place_instances("f8 run", &pl, &qf.m, (uint32_t)threads))
		goto out;
	fprintf(stderr, "f8 run: %s on %s (%s)%s\n", qf.m.model_name, pl.name, pl.why,
		pl.ninst > 1 ? ", one instance per thread" : "");
	if (placement)
		f8_place_report(stdout, &pl, &qf.m);
	if (f8_place_eval("f8 run", &pl, &qf.m, &ds, logits, NULL))
		goto out;
	if (idx) {
		int correct = f8_int_top1(&qf.m, &ds, logits);

		for (i = 0; i < ds.n && i < 10; i++) {
			char name[32];

			snprintf(name, sizeof(name), "image %d", i);
			print_top(name, &qf.m, logits + (size_t)i * qf.m.classes);
		}
		printf("top-1: %.2f %% (%d / %d)\n", 100.0 * correct / ds.n, correct, ds.n);
	} else {
		for (i = 0; i < ds.n; i++)
			print_top(argv[optind + 1 + i], &qf.m, logits + (size_t)i * qf.m.classes);
	}
	rc = F8_EXIT_OK;
out:
	free(logits);
	f8_place_close(&pl);
	f8_dataset_free(&ds);
	f8_qm_file_free(&qf);
	return rc;
}
