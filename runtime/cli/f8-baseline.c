// SPDX-License-Identifier: MIT
/*
 * f8 baseline: the int32-multiplier ("dyadic") post-training quantization of a float
 * checkpoint (f8-dyadic.h), evaluated on the Fashion-MNIST test set on the CPU. It is the
 * integer-only scheme F8Net argues against; the device cannot run it (it needs a 32-bit
 * multiply per output), so it exists for the accuracy table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-ckpt.h"
#include "f8-cli.h"
#include "f8-opt.h"
#include "f8-dyadic.h"
#include "f8-par.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: f8 baseline CKPT [options]\n"
		   "Top-1 of the int32-multiplier (dyadic) PTQ of a float checkpoint, on the CPU.\n"
		   "  --calib N         calibration images, the first N of the training set (default 1024)\n"
		   "  --limit N         the first N test images only\n"
		   "  --threads T       worker threads (default 2)\n"
		   "  --data DIR        Fashion-MNIST IDX files (default " F8_FMNIST_DIR ")\n");
}

/* An integer option through the tool's one grammar and table of limits (f8-opt.h). */
static int whole(enum f8_lim lim, const char *s, long *out)
{
	uint64_t v;

	if (f8_opt_uint("f8 baseline", lim, s, &v))
		return -1;
	*out = (long)v;
	return 0;
}

int f8_cmd_baseline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "calib", required_argument, NULL, 'c' },   { "limit", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' }, { "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	struct f8_norm norm;
	long calib = 1024, limit = 0, threads = 2;
	const char *data = NULL;
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st = { 0 };
	struct f8_dataset train = { 0 }, test = { 0 };
	struct f8_dyadic *dy = NULL;
	struct f8_err err = { { 0 } };
	int *pred = NULL, c, i, correct = 0, rc = F8_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'c':
			if (whole(F8_LIM_CALIB, optarg, &calib))
				return F8_EXIT_USAGE;
			break;
		case 'l':
			if (whole(F8_LIM_EVAL_LIMIT, optarg, &limit))
				return F8_EXIT_USAGE;
			break;
		case 't':
			if (whole(F8_LIM_THREADS, optarg, &threads))
				return F8_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return F8_EXIT_OK;
		default:
			return f8_opt_bad("f8 baseline", argv[optind - 1], usage);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "f8 baseline: need one checkpoint\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_ckpt_load(argv[optind], &net, &opt, &cfg, &st, &err)) {
		fprintf(stderr, "f8 baseline: %s\n", err.msg);
		return F8_EXIT_USAGE;
	}
	if (f8_par_set_threads((int)threads) || f8_fmnist_load(&train, data, true, &err) ||
	    f8_fmnist_load(&test, data, false, &err)) {
		fprintf(stderr, "f8 baseline: %s\n", err.msg[0] ? err.msg : "cannot start the threads");
		goto out;
	}
	if (limit)
		f8_dataset_truncate(&test, (int)limit);
	norm = f8_net_input_norm(net);
	if (f8_dyadic_build(net, &train, (int)calib, &norm, &dy, &err)) {
		fprintf(stderr, "f8 baseline: %s\n", err.msg);
		goto out;
	}
	pred = malloc(sizeof(int) * (size_t)test.n);
	if (!pred)
		goto out;
	fprintf(stderr, "f8 baseline: int32-multiplier PTQ of %s on %d test images...\n", argv[optind],
		test.n);
	f8_dyadic_predict(dy, &test, test.n, pred);
	for (i = 0; i < test.n; i++)
		correct += pred[i] == test.labels[i];
	printf("dyadic top-1: %.2f %% (%d / %d)\n", 100.0 * correct / test.n, correct, test.n);
	rc = fflush(stdout) ? F8_EXIT_USAGE : F8_EXIT_OK;
out:
	free(pred);
	f8_dyadic_free(dy);
	f8_dataset_free(&train);
	f8_dataset_free(&test);
	f8_train_state_free(&st);
	f8_sgd_free(&opt);
	f8_net_free(net);
	return rc;
}
