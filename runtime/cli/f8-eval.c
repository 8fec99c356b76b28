// SPDX-License-Identifier: MIT
/*
 * f8 eval: an integer model file (docs/model-format.md) on the Fashion-MNIST test set.
 * The forward pass is integer only, on the reference kernels of sim/ (f8_qm_forward), so
 * its logits are the device's; --backend cpu computes the same logits faster (f8-cpu.h).
 * Optionally the float checkpoint it came from runs beside it, and the images whose top-1
 * differs are counted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "f8-ckpt.h"
#include "f8-cli.h"
#include "f8-cpu.h"
#include "f8-opt.h"
#include "f8-par.h"
#include "f8-qmodel.h"


static void usage(FILE *f)
{
	fprintf(f, "usage: f8 eval MODEL.f8m [options]\n"
		   "Top-1 of an integer model on the Fashion-MNIST test set (integer arithmetic only).\n"
		   "  --data DIR        Fashion-MNIST IDX files (default " F8_FMNIST_DIR ")\n"
		   "  --limit N         the first N test images only\n"
		   "  --logits FILE     write the int32 logits, [images][classes] little-endian\n"
		   "  --compare CKPT    also run the float checkpoint; count top-1 disagreements\n"
		   "  --threads T       worker threads; with ref or rtl, instances of the simulator,\n"
		   "                    one thread each, the images split between them (default 2)\n"
		   "  --backend B       where the model runs, every one with the same logits:\n"
		   "                    graph: the unfused model on sim/'s reference kernels (default);\n"
		   "                    cpu: the fast CPU path (docs/cpu-backend.md);\n"
		   "                    ref[:RxC], rtl:RxC, kmod: compiled for that device (docs/compiler.md),\n"
		   "                    the layers it refuses on the host (,without=OP hides an op);\n"
		   "                    auto: a device if present, else cpu\n"
		   "  --batch N         images per device job (default 16)\n"
		   "  --placement       print which layer runs where, and why\n");
}

static int argmaxf(const float *v, int n)
{
	int i, b = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

/*
 * Top-1 predictions of a checkpoint on @ds in eval mode; 0 or -1 with a message. With @fq,
 * in F8Net's fake quantization, with the input FLs of that integer model: the float
 * simulation of the integer network (weights FLs from the folded weights' std, the rule
 * f8 export uses by default).
 */
static int float_predictions(const char *ckpt, const struct f8_dataset *ds,
			     const struct f8_qm *fq, int *pred)
{
	struct f8_net *net = NULL;
	struct f8_sgd opt;
	struct f8_train_cfg cfg;
	struct f8_train_state st = { 0 };
	struct f8_err err = { { 0 } };
	struct f8_norm norm;
	const int batch = 256;
	float *x = NULL;
	int idx[256], done, b, k, rc = -1;

	if (f8_ckpt_load(ckpt, &net, &opt, &cfg, &st, &err)) {
		fprintf(stderr, "f8 eval: --compare: %s\n", err.msg);
		return -1;
	}
	norm = f8_net_input_norm(net);
	if (!fq && net->arch_quant != F8_QUANT_OFF) {
		fprintf(stderr, "f8 eval: --compare: %s was trained in fake quantization (F8Net): "
			"compare with --compare-fq\n", ckpt);
		goto out;
	}
	if (net->layers[0].c != ds->c || net->layers[0].h != ds->h || net->layers[0].w != ds->w) {
		fprintf(stderr, "f8 eval: --compare: the checkpoint's input differs from the test images\n");
		goto out;
	}
	/* an F8Net-trained checkpoint computes in its own fake quantization already (its
	 * architecture's quant=), with the FLs and clip levels the model was exported with */
	if (fq && !f8_net_quant_trained(net)) {
		const struct f8_quant_cfg qc = { .mode = F8_QUANT_FIXED, .momentum = 0.1f };
		uint32_t q;
		int i;

		if (f8_net_set_quant(net, &qc, &err)) {
			fprintf(stderr, "f8 eval: --compare-fq: %s\n", err.msg);
			goto out;
		}
		for (q = 1; q < fq->nnodes; q++) {
			const struct f8_qm_node *n = &fq->nodes[q];

			if ((n->op != F8_QM_CONV && n->op != F8_QM_LINEAR) || n->fl_in == 8)
				continue; /* the first layer reads the image, not quantized */
			for (i = 0; i < net->nlayers && strcmp(net->layers[i].name, n->name); i++)
				;
			if (i == net->nlayers || f8_net_quant_set_fl(net, i, (float)n->fl_in)) {
				fprintf(stderr, "f8 eval: --compare-fq: the model's node %s is not a quantized layer of the checkpoint\n",
					n->name);
				goto out;
			}
		}
	}
	x = malloc(sizeof(float) * (size_t)batch * ds->c * ds->h * ds->w);
	if (!x || f8_net_plan(net, batch, &err)) {
		fprintf(stderr, "f8 eval: --compare: %s\n", x ? err.msg : "out of memory");
		goto out;
	}
	for (done = 0; done < ds->n; done += b) {
		const float *y;

		b = ds->n - done < batch ? ds->n - done : batch;
		for (k = 0; k < b; k++)
			idx[k] = done + k;
		f8_batch_fill(ds, idx, b, &norm, NULL, NULL, x, NULL);
		y = f8_net_forward(net, x, b, false);
		for (k = 0; k < b; k++)
			pred[done + k] = argmaxf(y + (size_t)k * net->classes, net->classes);
	}
	rc = 0;
out:
	free(x);
	f8_train_state_free(&st);
	f8_sgd_free(&opt);
	f8_net_free(net);
	return rc;
}

int f8_cmd_eval(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },   { "limit", required_argument, NULL, 'l' },
		{ "logits", required_argument, NULL, 'o' }, { "compare", required_argument, NULL, 'c' },
		{ "compare-fq", required_argument, NULL, 'q' },
		{ "threads", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "backend", required_argument, NULL, 'b' },
		{ "batch", required_argument, NULL, 'B' }, { "placement", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *logits_path = NULL, *compare = NULL, *compare_fq = NULL;
	long limit = 0, threads = 2;
	uint64_t batch = 16;
	struct f8_qm_file qf = { 0 };
	const struct f8_qm *mp = &qf.m;
	struct f8_place pl = { 0 };
	bool placement = false;
	struct f8_dataset ds = { 0 };
	struct f8_err err = { { 0 } };
	int32_t *logits = NULL;
	int *fpred = NULL;
	int c, rc = F8_EXIT_USAGE, correct = 0, fcorrect = 0, differ = 0;
	const char *backend = "graph";
	size_t i;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'o': logits_path = optarg; break;
		case 'c': compare = optarg; break;
		case 'q': compare_fq = optarg; break;
		case 'b':
			backend = optarg;
			break;
		case 'B':
			if (f8_opt_uint("f8 eval", F8_LIM_BATCH, optarg, &batch))
				return F8_EXIT_USAGE;
			break;
		case 'p':
			placement = true;
			break;
		case 'l':
		case 't': {
			uint64_t v;

			if (f8_opt_uint("f8 eval", c == 'l' ? F8_LIM_EVAL_LIMIT : F8_LIM_THREADS, optarg, &v))
				return F8_EXIT_USAGE;
			*(c == 'l' ? &limit : &threads) = (long)v;
			break;
		}
		case 'h':
			usage(stdout);
			return F8_EXIT_OK;
		default:
			return f8_opt_bad("f8 eval", argv[optind - 1], usage);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "f8 eval: need one model file\n");
		usage(stderr);
		return F8_EXIT_USAGE;
	}
	if (f8_qm_file_load("f8 eval", argv[optind], &qf))
		goto out;
	if (f8_fmnist_load(&ds, data, false, &err)) {
		fprintf(stderr, "f8 eval: %s\n", err.msg);
		goto out;
	}
	if (limit)
		f8_dataset_truncate(&ds, (int)limit);
	if (f8_par_set_threads((int)threads)) {
		fprintf(stderr, "f8 eval: cannot start %ld threads\n", threads);
		goto out;
	}
	logits = malloc(sizeof(int32_t) * mp->classes * (size_t)ds.n);
	if (!logits) {
		fprintf(stderr, "f8 eval: out of memory\n");
		goto out;
	}
	if (f8_place_open("f8 eval", backend, mp, (uint32_t)batch, &pl))
		goto out;
	if (f8_place_instances("f8 eval", &pl, mp, (uint32_t)threads))
		goto out;
	fprintf(stderr, "f8 eval: %s (%s), %u nodes, %d test images, integer arithmetic on %s%s\n",
		argv[optind], mp->model_name, mp->nnodes, ds.n, pl.name,
		pl.ninst > 1 ? " (one instance per thread)" : "");
	if (placement)
		f8_place_report(stdout, &pl, mp);
	if (f8_place_eval("f8 eval", &pl, mp, &ds, logits, NULL))
		goto out;
	correct = f8_int_top1(mp, &ds, logits);
	printf("integer top-1: %.2f %% (%d / %d)\n", 100.0 * correct / ds.n, correct, ds.n);
	if (compare || compare_fq)
		fpred = malloc(sizeof(int) * (size_t)ds.n);
	if (compare_fq) {
		int fq_correct = 0;

		if (!fpred || float_predictions(compare_fq, &ds, mp, fpred))
			goto out;
		differ = 0;
		for (i = 0; i < (size_t)ds.n; i++) {
			fq_correct += fpred[i] == ds.labels[i];
			differ += fpred[i] != f8_argmax32(logits + i * mp->classes, (int)mp->classes);
		}
		printf("fake-quant top-1: %.2f %% (%d / %d)\n", 100.0 * fq_correct / ds.n, fq_correct, ds.n);
		printf("top-1 differs between fake-quant and integer on %d images (%.2f %%)\n", differ,
		       100.0 * differ / ds.n);
	}
	if (compare) {
		differ = 0;
		if (!fpred || float_predictions(compare, &ds, NULL, fpred))
			goto out;
		for (i = 0; i < (size_t)ds.n; i++) {
			fcorrect += fpred[i] == ds.labels[i];
			differ += fpred[i] != f8_argmax32(logits + i * mp->classes, (int)mp->classes);
		}
		printf("float top-1:   %.2f %% (%d / %d)\n", 100.0 * fcorrect / ds.n, fcorrect, ds.n);
		printf("top-1 differs between float and integer on %d images (%.2f %%)\n", differ,
		       100.0 * differ / ds.n);
	}
	if (logits_path && f8_logits_write(logits_path, logits, (size_t)ds.n * mp->classes))
		goto out;
	rc = fflush(stdout) ? F8_EXIT_USAGE : F8_EXIT_OK;
out:
	free(fpred);
	free(logits);
	f8_dataset_free(&ds);
	f8_place_close(&pl);
	f8_qm_file_free(&qf);
	return rc;
}
