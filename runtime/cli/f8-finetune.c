// SPDX-License-Identifier: MIT
/*
 * f8 finetune: F8Net's tiny fine-tuning of a float checkpoint (docs/f8net.md): fake
 * quantization without clipping, a few hundred SGD steps at a small constant learning
 * rate; writes DIR/ckpt.f8c, which `f8 export` turns into an integer model.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "f8-ckpt.h"
#include "f8-cli.h"
#include "f8-opt.h"
#include "f8-finetune.h"
#include "f8-par.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 finetune CKPT --out DIR [options]\n"
		   "F8Net tiny fine-tuning: fake-quantized SGD steps from a float checkpoint.\n"
		   "  --out DIR         output directory: DIR/ckpt.f8c (created)\n"
		   "  --steps N         SGD steps (default 500)\n"
		   "  --lr X            constant learning rate (default 1e-4)\n"
		   "  --wd X            weight decay (default 1e-4)\n"
		   "  --batch B         mini-batch (default 128)\n"
		   "  --seed S          shuffle and augmentation seed (default 1)\n"
		   "  --threads T       worker threads (default 2)\n"
		   "  --data DIR        Fashion-MNIST IDX files (default " F8_FMNIST_DIR ")\n"
		   "  --fl grid|std     activation FLs per batch: least squared error (default, the tiny\n"
		   "                    fine-tuning recipe's and f8 export's rule) or floor(log2(c/std))\n"
		   "  --floating        F8Net's floating mode: clamp without rounding (its FP baseline's\n"
		   "                    double forward, for comparisons and benches)\n"
		   "  --force           overwrite DIR/ckpt.f8c\n");
}

/* Numeric options through the tool's one grammar and table of limits (f8-opt.h). */
static int whole(enum f8_lim lim, const char *s, double *out)
{
	uint64_t v;

	if (f8_opt_uint("f8 finetune", lim, s, &v))
		return -1;
	*out = (double)v;
	return 0;
}

static int num(enum f8_lim lim, const char *s, double *out)
{
	return f8_opt_real("f8 finetune", lim, s, out);
}

struct ft_progress {
	struct timespec t0, t5; /* start, end of step 5 (the bench's warm-up) */
	double loss, acc;
	long seen;
	int batch;
};

static void progress(void *ctx, long step, long steps, double loss, double acc)
{
	struct ft_progress *p = ctx;
	struct timespec t;
	double s;

	p->loss += loss;
	p->acc += acc;
	p->seen++;
	if (step == 5)
		clock_gettime(CLOCK_MONOTONIC, &p->t5);
	if (step % 10 && step != steps)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	s = (double)(t.tv_sec - p->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - p->t0.tv_nsec);
	fprintf(stderr, "\rfinetune step %ld/%ld  loss %.4f  acc %.2f%%  %.2f s/step", step, steps,
		p->loss / (double)p->seen, 100.0 * p->acc / (double)p->seen, s / (double)step);
	if (step == steps) {
		fprintf(stderr, "\n");
		if (steps > 5) {
			s = (double)(t.tv_sec - p->t5.tv_sec) + 1e-9 * (double)(t.tv_nsec - p->t5.tv_nsec);
			/* for bench/quant-bench.sh: the steps after a warm-up of 5 */
			fprintf(stderr, "images_per_s=%.1f\n", (double)(steps - 5) * p->batch / s);
		}
	}
}

int f8_cmd_finetune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },    { "steps", required_argument, NULL, 's' },
		{ "lr", required_argument, NULL, 'l' },     { "wd", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },  { "seed", required_argument, NULL, 'e' },
		{ "threads", required_argument, NULL, 't' }, { "data", required_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },         { "help", no_argument, NULL, 'h' },
		{ "floating", no_argument, NULL, 'F' },      { "fl", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct f8_finetune_cfg fc = {
		.quant = { .mode = F8_QUANT_FIXED, .momentum = 0.1f, .act_grid = true },
		.steps = 500, .batch = 128, .lr = 1e-4f, .norm = F8_FMNIST_NORM, .seed = 1,
	};
	double v, wd = 1e-4, threads = 2;
	const char *out = NULL, *data = NULL;
	bool force = false;
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg tcfg;
	struct f8_train_state st = { 0 };
	struct f8_dataset ds = { 0 };
	struct f8_err err = { { 0 } };
	struct ft_progress pr = { .loss = 0 };
	char path[4096];
	struct stat sb;
	int c, rc = F8_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'd': data = optarg; break;
		case 'f': force = true; break;
		case 'F': fc.quant.mode = F8_QUANT_FLOATING; break;
		case 'L':
			if (strcmp(optarg, "grid") && strcmp(optarg, "std")) {
				f8_errf("f8 finetune: --fl '%s': expected grid or std\n", optarg);
				return F8_EXIT_USAGE;
			}
			fc.quant.act_grid = !strcmp(optarg, "grid");
			break;
		case 's':
			if (whole(F8_LIM_FT_STEPS, optarg, &v))
				return F8_EXIT_USAGE;
			fc.steps = (long)v;
			break;
		case 'l':
			if (num(F8_LIM_LR, optarg, &v))
				return F8_EXIT_USAGE;
			fc.lr = (float)v;
			break;
		case 'w':
			if (num(F8_LIM_WD, optarg, &wd))
				return F8_EXIT_USAGE;
			break;
		case 'b':
			if (whole(F8_LIM_FT_BATCH, optarg, &v))
				return F8_EXIT_USAGE;
			fc.batch = (int)v;
			break;
		case 'e': {
			uint64_t seed;

			if (f8_opt_uint("f8 finetune", F8_LIM_SEED, optarg, &seed))
				return F8_EXIT_USAGE;
			fc.seed = seed;
			break;
		}
		case 't':
			if (whole(F8_LIM_THREADS, optarg, &threads))
				return F8_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return F8_EXIT_OK;
		default:
			return f8_opt_bad("f8 finetune", argv[optind - 1], usage);
		}
	}
	if (optind != argc - 1 || !out) {
		fprintf(stderr, "f8 finetune: need one checkpoint and --out\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (snprintf(path, sizeof(path), "%s/ckpt.f8c", out) >= (int)sizeof(path)) {
		fprintf(stderr, "f8 finetune: --out: path too long\n");
		return F8_EXIT_USAGE;
	}
	if (!force && stat(path, &sb) == 0) {
		fprintf(stderr, "f8 finetune: %s exists (--force overwrites it)\n", path);
		return F8_EXIT_USAGE;
	}
	if (mkdir(out, 0777) && errno != EEXIST) {
		fprintf(stderr, "f8 finetune: --out %s: %s\n", out, strerror(errno));
		return F8_EXIT_USAGE;
	}
	if (f8_ckpt_load(argv[optind], &net, &opt, &tcfg, &st, &err)) {
		fprintf(stderr, "f8 finetune: %s\n", err.msg);
		return F8_EXIT_USAGE;
	}
	/* fresh momentum at the fine-tuning's own decay */
	f8_sgd_free(&opt);
	tcfg.sgd.weight_decay = (float)wd;
	if (f8_sgd_init(&opt, &tcfg.sgd, net) || f8_par_set_threads((int)threads)) {
		fprintf(stderr, "f8 finetune: cannot set up the optimiser or %d threads\n", (int)threads);
		goto out;
	}
	if (f8_fmnist_load(&ds, data, true, &err)) {
		fprintf(stderr, "f8 finetune: %s\n", err.msg);
		goto out;
	}
	fc.aug = tcfg.aug;
	fc.norm = f8_net_input_norm(net);
	fc.progress = progress;
	fc.ctx = &pr;
	pr.batch = fc.batch;
	fprintf(stderr, "f8 finetune: %s, %ld steps of batch %d at lr %g (F8Net fake quantization, no clipping)\n",
		argv[optind], fc.steps, fc.batch, (double)fc.lr);
	clock_gettime(CLOCK_MONOTONIC, &pr.t0);
	if (f8_finetune_run(net, &opt, &ds, &fc, &err)) {
		fprintf(stderr, "f8 finetune: %s\n", err.msg);
		goto out;
	}
	/* the checkpoint holds the float parameters and BN statistics the fine-tuning left */
	if (f8_ckpt_save(path, net, &opt, &tcfg, &st, &err)) {
		fprintf(stderr, "f8 finetune: %s\n", err.msg);
		goto out;
	}
	printf("wrote %s (then: f8 export %s --out MODEL.f8m)\n", path, path);
	rc = fflush(stdout) ? F8_EXIT_USAGE : F8_EXIT_OK;
out:
	f8_dataset_free(&ds);
	f8_train_state_free(&st);
	f8_sgd_free(&opt);
	f8_net_free(net);
	return rc;
}
