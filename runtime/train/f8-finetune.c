// SPDX-License-Identifier: MIT
/* F8Net tiny fine-tuning (f8-finetune.h): fake-quantized SGD steps from a float network. */
#include <math.h>
#include <stdlib.h>

#include "f8-finetune.h"
#include "f8-rng.h"

/* Rng streams ("FTSH", "FTAU") apart from training's. */
#define F8_STREAM_FT_SHUFFLE (0x46545348ull << 32)
#define F8_STREAM_FT_AUGMENT (0x46544155ull << 32)

int f8_finetune_run(struct f8_net *net, struct f8_sgd *opt, const struct f8_dataset *train,
		    const struct f8_finetune_cfg *cfg, struct f8_err *err)
{
	const struct f8_layer *in = &net->layers[0];
	const size_t img = (size_t)in->c * in->h * in->w;
	struct f8_rng shuf, aug;
	float *x = NULL;
	int *idx = NULL, *lab = NULL;
	long step;
	int pos, pass = 0, rc;

	if (cfg->steps < 1 || cfg->steps > 1000000 || cfg->batch < 1 || cfg->batch > 4096 ||
	    !(cfg->lr > 0.0f) || !isfinite(cfg->lr))
		return f8_fail(err, F8_ERR_RANGE, "fine-tuning: steps 1..1000000, batch 1..4096, lr > 0");
	if (train->c != in->c || train->h != in->h || train->w != in->w ||
	    train->classes != net->classes || train->n < 1)
		return f8_fail(err, F8_ERR_RANGE, "fine-tuning data do not fit the network");
	rc = f8_net_set_quant(net, &cfg->quant, err);
	if (rc)
		return rc;
	rc = f8_net_plan(net, cfg->batch, err);
	if (rc)
		return rc;
	x = malloc(sizeof(float) * img * (size_t)cfg->batch);
	idx = malloc(sizeof(int) * (size_t)train->n);
	lab = malloc(sizeof(int) * (size_t)cfg->batch);
	if (!x || !idx || !lab) {
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory for fine-tuning batches");
		goto out;
	}
	pos = train->n; /* a new pass over a freshly shuffled set at the first step */
	for (step = 1; step <= cfg->steps; step++) {
		int n = cfg->batch, correct = 0, k;
		float loss;

		if (pos + n > train->n) {
			for (k = 0; k < train->n; k++)
				idx[k] = k;
			f8_rng_init(&shuf, cfg->seed, F8_STREAM_FT_SHUFFLE | (uint64_t)pass);
			f8_rng_init(&aug, cfg->seed, F8_STREAM_FT_AUGMENT | (uint64_t)pass);
			f8_shuffle(idx, train->n, &shuf);
			pass++;
			pos = 0;
			if (n > train->n)
				n = train->n;
		}
		f8_batch_fill(train, idx + pos, n, &cfg->norm, &cfg->aug, &aug, x, lab);
		pos += n;
		f8_net_forward(net, x, n, true);
		loss = f8_net_loss(net, lab, n, &correct);
		if (!isfinite(loss)) {
			rc = f8_fail(err, F8_ERR_RANGE, "fine-tuning diverged at step %ld (loss %g)", step,
				     (double)loss);
			goto out;
		}
		f8_net_backward(net, n);
		f8_sgd_step(opt, net, cfg->lr);
		if (cfg->progress)
			cfg->progress(cfg->ctx, step, cfg->steps, loss, (double)correct / n);
	}
	rc = F8_OK;
out:
	free(x);
	free(idx);
	free(lab);
	return rc;
}
