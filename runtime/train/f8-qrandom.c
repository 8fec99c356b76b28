// SPDX-License-Identifier: MIT
/*
 * Random integer models (f8-qrandom.h): a float network initialised from a seed, its BN
 * layers given a random affine part and the running statistics of random images (as a
 * trained network's BN normalises its conv's output), exported by F8Net's rules with FLs
 * calibrated on the same images.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-qrandom.h"
#include "f8-rng.h"

#define F8_QM_RANDOM_STREAM_BN 0x424e     /* "BN": the BN affine parameters */
#define F8_QM_RANDOM_STREAM_PIXELS 0x5058 /* "PX": the calibration images */

/* gamma 1 + N(0, 0.01), beta N(0, 0.01): biases that are not all zero, scales not all 1 */
static void random_bn(struct f8_net *net, uint64_t seed)
{
	struct f8_rng r;
	int k;

	f8_rng_init(&r, seed, F8_QM_RANDOM_STREAM_BN);
	for (k = 0; k < net->nparams; k++) {
		const struct f8_param *p = &net->params[k];
		float *v = net->param + p->off;
		size_t i;

		if (p->kind != F8_PARAM_BN_GAMMA && p->kind != F8_PARAM_BN_BETA)
			continue;
		for (i = 0; i < p->count; i++)
			v[i] = (float)((p->kind == F8_PARAM_BN_GAMMA ? 1.0 : 0.0) +
				       0.1 * f8_rng_normal(&r));
	}
}

/* BN running statistics = the batch statistics of @ds (one training-mode forward with
 * momentum 1), so that every conv + BN output is about N(beta, gamma^2) */
static int bn_statistics(struct f8_net *net, const struct f8_dataset *ds, const struct f8_norm *norm,
			 struct f8_err *err)
{
	const float momentum = net->bn_momentum;
	float *x = malloc(sizeof(float) * (size_t)ds->n * ds->c * ds->h * ds->w);
	int *index = malloc(sizeof(int) * (size_t)ds->n);
	int i, rc;

	if (!x || !index) {
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory for the BN statistics");
		goto out;
	}
	rc = f8_net_plan(net, ds->n, err);
	if (rc)
		goto out;
	for (i = 0; i < ds->n; i++)
		index[i] = i;
	f8_batch_fill(ds, index, ds->n, norm, NULL, NULL, x, NULL);
	net->bn_momentum = 1.0f;
	f8_net_forward(net, x, ds->n, true);
	net->bn_momentum = momentum;
out:
	free(x);
	free(index);
	return rc;
}

int f8_qm_random(const char *text, uint64_t seed, const char *name, struct f8_qm_owned *out,
		 struct f8_err *err)
{
	struct f8_export_cfg cfg = { .act_fl = F8_FL_GRID, .weight_fl = F8_FL_STD,
				     .norm = F8_RAW_NORM, .model_name = name };
	struct f8_dataset ds = { 0 };
	struct f8_net *net = NULL;
	struct f8_rng r;
	size_t img, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text || !name || strlen(name) > 23)
		return f8_fail(err, F8_ERR_MISUSE, "f8_qm_random: a text and a name of <= 23 characters");
	rc = f8_net_new(text, &net, err);
	if (rc)
		return rc;
	f8_net_init(net, seed);
	random_bn(net, seed);
	ds.c = net->layers[0].c;
	ds.h = net->layers[0].h;
	ds.w = net->layers[0].w;
	ds.classes = net->classes;
	img = (size_t)ds.c * ds.h * ds.w;
	ds.n = img < 65536 ? F8_QM_RANDOM_CALIB_SMALL : F8_QM_RANDOM_CALIB_LARGE;
	ds.pixels = malloc(img * (size_t)ds.n);
	ds.labels = calloc((size_t)ds.n, 1);
	if (!ds.pixels || !ds.labels) {
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory for calibration images");
		goto out;
	}
	f8_rng_init(&r, seed, F8_QM_RANDOM_STREAM_PIXELS);
	for (i = 0; i < img * (size_t)ds.n; i++)
		ds.pixels[i] = (uint8_t)f8_rng_below(&r, 256);
	rc = bn_statistics(net, &ds, &cfg.norm, err);
	if (rc)
		goto out;
	cfg.calib_images = ds.n;
	cfg.batch = ds.n < 16 ? 2 : 16; /* the float plan of a 224x224 net stays near 100 MiB */
	rc = f8_qm_export(net, &ds, &cfg, out, err);
out:
	free(ds.pixels);
	free(ds.labels);
	f8_net_free(net);
	return rc;
}
