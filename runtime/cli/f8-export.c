// SPDX-License-Identifier: MIT
/*
 * f8 export: a float checkpoint -> an integer model file (docs/model-format.md), by
 * F8Net's rules without training (libf8's f8_qm_export: BN folded with the running
 * statistics, FLs calibrated on the first training images; docs/f8net.md). With --random,
 * a zoo model or architecture file with random weights instead (f8_qm_random: FLs
 * calibrated on random images), to benchmark networks nobody trained.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-ckpt.h"
#include "f8-cli.h"
#include "f8-model.h"
#include "f8-opt.h"
#include "f8-qexport.h"
#include "f8-qrandom.h"


static void usage(FILE *f)
{
	fprintf(f, "usage: f8 export CKPT --out MODEL.f8m [options]\n"
		   "       f8 export --random --model NAME|FILE [--seed S] --out MODEL.f8m [--name NAME]\n"
		   "Quantize a float checkpoint to an 8-bit fixed-point integer model (F8Net rules).\n"
		   "With --random: the zoo model NAME (f8 model --list) or an architecture file with\n"
		   "random weights from seed S (default 1), FLs calibrated on random images, so that\n"
		   "any architecture (ResNet-18 at 3x224x224, ...) can be run and timed untrained.\n"
		   "  --out FILE        the model file to write (atomically)\n"
		   "  --calib N         calibration images, the first N of the training set (default 1024)\n"
		   "  --fl grid|std     activation FLs: least squared error (default) or floor(log2(c/std))\n"
		   "  --wfl grid|std    weight FLs (default std: F8Net's c = 40)\n"
		   "  --batch B         calibration batch (default 128, 1..1024)\n"
		   "  --data DIR        Fashion-MNIST IDX files (default " F8_FMNIST_DIR ")\n"
		   "  --name NAME       model name stored in the file (default: the checkpoint's model)\n");
}

/* An integer option through the tool's one grammar and table of limits (f8-opt.h). */
static int parse_int(enum f8_lim lim, const char *s, int *out)
{
	uint64_t v;

	if (f8_opt_uint("f8 export", lim, s, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_mode(const char *opt, const char *s, enum f8_fl_mode *m)
{
	if (!strcmp(s, "grid"))
		*m = F8_FL_GRID;
	else if (!strcmp(s, "std"))
		*m = F8_FL_STD;
	else {
		fprintf(stderr, "f8 export: %s: '%s' is neither grid nor std\n", opt, s);
		return -1;
	}
	return 0;
}

static void print_layers(const struct f8_qm *m)
{
	uint32_t i;

	printf("%-4s %-24s %-8s %-12s %6s %6s %6s\n", "#", "node", "op", "output", "FL_in", "FL_w",
	       "FL_out");
	for (i = 0; i < m->nnodes; i++) {
		const struct f8_qm_node *n = &m->nodes[i];
		char shape[32], fin[8] = "-", fw[8] = "-";

		snprintf(shape, sizeof(shape), "%ux%ux%u", n->c, n->h, n->w);
		if (n->op == F8_QM_CONV || n->op == F8_QM_LINEAR) {
			snprintf(fin, sizeof(fin), "%s%d", (n->flags & F8_QM_F_SIGNED) ? "s" : "u", n->fl_in);
			snprintf(fw, sizeof(fw), "%d", n->fl_w);
		}
		printf("%-4u %-24s %-8s %-12s %6s %6s %6d%s\n", i, n->name, f8_qm_op_name(n->op), shape,
		       fin, fw, n->fl_out, (n->flags & F8_QM_F_RELU) ? "  relu" : "");
	}
}

void f8_export_for(struct f8_export_cfg *cfg, const struct f8_net *net, const char *model)
{
	cfg->norm = f8_net_input_norm(net);
	cfg->class_names = net->classes == 10 ? f8_fmnist_class_names : NULL;
	cfg->model_name = strlen(model) <= 23 ? model : "model"; /* the file's field */
}

/* The trained PACT clip levels: each alpha, the layers whose input it clips. */
/* Encode @m, write it to @out atomically (*@len bytes) and print its layer table. */
static int write_model(const char *out, const struct f8_qm *m, size_t *len)
{
	struct f8_qm_error qe;
	uint8_t *img = NULL;
	int rc = -1;

	if (f8_qm_encode(m, &img, len, &qe)) {
		fprintf(stderr, "f8 export: cannot encode: %s\n", qe.what);
		return -1;
	}
	if (!f8_file_write_atomic(out, img, *len)) {
		print_layers(m);
		rc = 0;
	}
	free(img);
	return rc;
}

static void print_clips(const struct f8_net *net)
{
	int k, i;

	printf("alpha    layers clipped (F8Net's PACT clip level, shared along a residual stream)\n");
	for (k = 0; k < net->nparams; k++) {
		if (net->params[k].kind != F8_PARAM_CLIP)
			continue;
		printf("%-8.3f", (double)net->param[net->params[k].off]);
		for (i = 0; i < net->nlayers; i++)
			if (net->layers[i].clip == k)
				printf(" %s", net->layers[i].name);
		printf("\n");
	}
}

/* f8 export --random --model M: write M with random weights. */
static int export_random(bool random, const char *model, uint64_t seed, const char *name,
			 const char *out, bool no_ckpt)
{
	struct f8_qm_owned qm = { 0 };
	struct f8_err err = { { 0 } };
	size_t len = 0;
	char *text;
	int rc = F8_EXIT_USAGE;

	if (!random || !model || !out || !no_ckpt) {
		fprintf(stderr, "f8 export: --random needs --model and --out, and no checkpoint\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (!name) /* the zoo name, or the file's base name, cut to the file's field */
		name = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
	if (strlen(name) > 23) {
		fprintf(stderr, "f8 export: --name: longer than 23 characters\n");
		return F8_EXIT_USAGE;
	}
	text = f8_model_arch("f8 export", model);
	if (!text)
		return F8_EXIT_USAGE;
	fprintf(stderr, "f8 export: %s with random weights (seed %llu), FLs calibrated on random images\n",
		model, (unsigned long long)seed);
	if (f8_qm_random(text, seed, name, &qm, &err)) {
		fprintf(stderr, "f8 export: %s: %s\n", model, err.msg);
		goto out;
	}
	if (write_model(out, &qm.m, &len))
		goto out;
	printf("wrote %s: %u nodes, %zu bytes\n", out, qm.m.nnodes, len);
	rc = fflush(stdout) ? F8_EXIT_USAGE : F8_EXIT_OK;
out:
	f8_qm_owned_free(&qm);
	free(text);
	return rc;
}

int f8_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },   { "calib", required_argument, NULL, 'c' },
		{ "fl", required_argument, NULL, 'f' },    { "wfl", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' }, { "data", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },  { "help", no_argument, NULL, 'h' },
		{ "random", no_argument, NULL, 'r' },      { "model", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },  { NULL, 0, NULL, 0 },
	};
	struct f8_export_cfg cfg = { .act_fl = F8_FL_GRID, .weight_fl = F8_FL_STD,
				     .calib_images = 1024, .batch = 128, .norm = F8_FMNIST_NORM };
	const char *out = NULL, *data = NULL, *name = NULL, *model = NULL, *ckpt;
	bool random = false;
	uint64_t seed = 1;
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg tcfg;
	struct f8_train_state st = { 0 };
	struct f8_dataset ds = { 0 };
	struct f8_qm_owned qm = { 0 };
	struct f8_err err = { { 0 } };
	size_t len = 0;
	int c, rc = F8_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'd': data = optarg; break;
		case 'n': name = optarg; break;
		case 'm': model = optarg; break;
		case 'r': random = true; break;
		case 's':
			if (f8_opt_uint("f8 export", F8_LIM_SEED, optarg, &seed))
				return F8_EXIT_USAGE;
			break;
		case 'c':
			if (parse_int(F8_LIM_CALIB, optarg, &cfg.calib_images))
				return F8_EXIT_USAGE;
			break;
		case 'b':
			if (parse_int(F8_LIM_CALIB_BATCH, optarg, &cfg.batch))
				return F8_EXIT_USAGE;
			break;
		case 'f':
			if (parse_mode("--fl", optarg, &cfg.act_fl))
				return F8_EXIT_USAGE;
			break;
		case 'w':
			if (parse_mode("--wfl", optarg, &cfg.weight_fl))
				return F8_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return F8_EXIT_OK;
		default:
			return f8_opt_bad("f8 export", argv[optind - 1], usage);
		}
	}
	if (random || model)
		return export_random(random, model, seed, name, out, optind == argc);
	if (optind != argc - 1 || !out) {
		fprintf(stderr, "f8 export: need one checkpoint and --out\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	ckpt = argv[optind];
	if (name && strlen(name) > 23) {
		fprintf(stderr, "f8 export: --name: longer than 23 characters\n");
		return F8_EXIT_USAGE;
	}
	if (f8_ckpt_load(ckpt, &net, &opt, &tcfg, &st, &err)) {
		fprintf(stderr, "f8 export: %s\n", err.msg);
		return F8_EXIT_USAGE;
	}
	f8_export_for(&cfg, net, name ? name : tcfg.model);
	if (f8_fmnist_load(&ds, data, true, &err)) {
		fprintf(stderr, "f8 export: %s\n", err.msg);
		goto out;
	}
	if (f8_net_quant_trained(net))
		fprintf(stderr, "f8 export: an F8Net-trained checkpoint: its own FLs and clip levels\n");
	else
		fprintf(stderr, "f8 export: calibrating on %d training images (%s activation FLs, %s weight FLs)\n",
		cfg.calib_images < ds.n ? cfg.calib_images : ds.n, cfg.act_fl == F8_FL_GRID ? "grid" : "std",
		cfg.weight_fl == F8_FL_GRID ? "grid" : "std");
	if (f8_qm_export(net, &ds, &cfg, &qm, &err)) {
		fprintf(stderr, "f8 export: %s\n", err.msg);
		goto out;
	}
	if (write_model(out, &qm.m, &len))
		goto out;
	if (f8_net_quant_trained(net))
		print_clips(net);
	printf("wrote %s: %u nodes, %zu bytes\n", out, qm.m.nnodes, len);
	rc = fflush(stdout) ? F8_EXIT_USAGE : F8_EXIT_OK;
out:
	f8_qm_owned_free(&qm);
	f8_dataset_free(&ds);
	f8_train_state_free(&st);
	f8_sgd_free(&opt);
	f8_net_free(net);
	return rc;
}
