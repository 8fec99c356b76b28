// SPDX-License-Identifier: MIT
/*
 * The training loop of libf8 (f8-train.h): epochs of shuffled, augmented mini-batches,
 * one SGD step each, evaluation on the test set, the per-epoch history and the CSV log.
 *
 * Determinism: the shuffle and the augmentation of epoch e come from rng streams that
 * depend on (seed, e) only, the index permutation restarts from the identity every
 * epoch, and the learning rate is a function of the global step. So the only state that
 * crosses an epoch boundary is what a checkpoint stores.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "f8-par.h"
#include "f8-rng.h"
#include "f8-train.h"

/* Rng stream families ("SHUF", "AUGM") in the high half, the epoch in the low half. */
#define F8_STREAM_SHUFFLE (0x53485546ull << 32)
#define F8_STREAM_AUGMENT (0x4155474dull << 32)

static double f8_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

long f8_train_steps_per_epoch(const struct f8_train_cfg *cfg, int n)
{
	if (n <= 0 || cfg->batch <= 0)
		return 0;
	return ((long)n + cfg->batch - 1) / cfg->batch;
}

struct f8_lr_sched f8_train_sched(const struct f8_train_cfg *cfg, int n)
{
	const long spe = f8_train_steps_per_epoch(cfg, n);
	struct f8_lr_sched s;

	s.base_lr = cfg->lr;
	s.final_lr = cfg->final_lr;
	/* Rounded to whole steps; a fractional warm-up of a few steps still warms up. */
	s.warmup_steps = lround((double)cfg->warmup_epochs * (double)spe);
	s.total_steps = (long)cfg->epochs * spe;
	if (s.warmup_steps > s.total_steps)
		s.warmup_steps = s.total_steps;
	return s;
}

int f8_train_cfg_check(const struct f8_train_cfg *cfg, struct f8_err *err)
{
	if (!cfg)
		return f8_fail(err, F8_ERR_MISUSE, "training: NULL configuration");
	if (cfg->epochs < 1 || cfg->epochs > F8_TRAIN_EPOCHS_MAX)
		return f8_fail(err, F8_ERR_RANGE, "epochs %d outside [1, %d]", cfg->epochs,
			       F8_TRAIN_EPOCHS_MAX);
	if (cfg->batch < 1 || cfg->batch > F8_TRAIN_BATCH_MAX)
		return f8_fail(err, F8_ERR_RANGE, "batch %d outside [1, %d]", cfg->batch,
			       F8_TRAIN_BATCH_MAX);
	if (cfg->threads < 1 || cfg->threads > F8_TRAIN_THREADS_MAX)
		return f8_fail(err, F8_ERR_RANGE, "threads %d outside [1, %d]", cfg->threads,
			       F8_TRAIN_THREADS_MAX);
	if (!isfinite(cfg->lr) || cfg->lr <= 0 || cfg->lr > F8_TRAIN_LR_MAX)
		return f8_fail(err, F8_ERR_RANGE, "learning rate %g outside (0, %g]", cfg->lr,
			       F8_TRAIN_LR_MAX);
	if (!isfinite(cfg->final_lr) || cfg->final_lr < 0 || cfg->final_lr > cfg->lr)
		return f8_fail(err, F8_ERR_RANGE, "final learning rate %g outside [0, lr = %g]",
			       cfg->final_lr, cfg->lr);
	if (!isfinite(cfg->warmup_epochs) || cfg->warmup_epochs < 0 ||
	    cfg->warmup_epochs > (float)cfg->epochs)
		return f8_fail(err, F8_ERR_RANGE, "warm-up %g epochs outside [0, epochs = %d]",
			       cfg->warmup_epochs, cfg->epochs);
	if (!isfinite(cfg->sgd.momentum) || cfg->sgd.momentum < 0 || cfg->sgd.momentum >= 1)
		return f8_fail(err, F8_ERR_RANGE, "momentum %g outside [0, 1)", cfg->sgd.momentum);
	if (cfg->sgd.nesterov && cfg->sgd.momentum == 0)
		return f8_fail(err, F8_ERR_RANGE, "Nesterov momentum needs momentum > 0");
	if (!isfinite(cfg->sgd.weight_decay) || cfg->sgd.weight_decay < 0 ||
	    cfg->sgd.weight_decay >= 1)
		return f8_fail(err, F8_ERR_RANGE, "weight decay %g outside [0, 1)",
			       cfg->sgd.weight_decay);
	if (cfg->aug.crop_pad < 0 || cfg->aug.crop_pad > F8_TRAIN_CROP_PAD_MAX)
		return f8_fail(err, F8_ERR_RANGE, "crop padding %d outside [0, %d]",
			       cfg->aug.crop_pad, F8_TRAIN_CROP_PAD_MAX);
	if (cfg->train_limit < 0 || cfg->test_limit < 0 || cfg->train_limit > F8_TRAIN_LIMIT_MAX ||
	    cfg->test_limit > F8_TRAIN_LIMIT_MAX)
		return f8_fail(err, F8_ERR_RANGE, "image limit outside [0, %d]", F8_TRAIN_LIMIT_MAX);
	if (strnlen(cfg->model, sizeof(cfg->model)) >= sizeof(cfg->model))
		return f8_fail(err, F8_ERR_RANGE, "model name not terminated");
	return F8_OK;
}

/* The dataset must feed the input layer and its labels must be logits of the net. */
static int f8_train_fits(const struct f8_net *net, const struct f8_dataset *ds, const char *what,
			 struct f8_err *err)
{
	const struct f8_layer *in = &net->layers[0];

	if (ds->n < 1)
		return f8_fail(err, F8_ERR_RANGE, "%s set is empty", what);
	if (ds->c != in->c || ds->h != in->h || ds->w != in->w)
		return f8_fail(err, F8_ERR_RANGE,
			       "%s images are %dx%dx%d, the network's input is %dx%dx%d", what,
			       ds->c, ds->h, ds->w, in->c, in->h, in->w);
	if (ds->classes > net->classes)
		return f8_fail(err, F8_ERR_RANGE, "%s set has %d classes, the network %d outputs",
			       what, ds->classes, net->classes);
	return F8_OK;
}

int f8_train_evaluate(struct f8_net *net, const struct f8_dataset *ds, int batch,
		      double *loss, double *acc, struct f8_err *err)
{
	const struct f8_norm norm = f8_net_input_norm(net);
	const size_t img = (size_t)ds->c * ds->h * ds->w;
	double sum = 0;
	long hits = 0;
	float *x;
	int *idx, *lab, i, rc;

	rc = f8_train_fits(net, ds, "test", err);
	if (rc)
		return rc;
	x = malloc(img * (size_t)batch * sizeof(float));
	idx = malloc((size_t)batch * sizeof(int));
	lab = malloc((size_t)batch * sizeof(int));
	if (!x || !idx || !lab) {
		free(x);
		free(idx);
		free(lab);
		return f8_fail(err, F8_ERR_NOMEM, "evaluation: out of memory");
	}
	for (i = 0; i < ds->n; i += batch) {
		const int n = ds->n - i < batch ? ds->n - i : batch;
		int j, correct = 0;

		for (j = 0; j < n; j++)
			idx[j] = i + j;
		f8_batch_fill(ds, idx, n, &norm, NULL, NULL, x, lab);
		f8_net_forward(net, x, n, false);
		/* Weighted by the batch size: the mean over images, whatever the last batch. */
		sum += (double)f8_net_loss(net, lab, n, &correct) * n;
		hits += correct;
	}
	free(x);
	free(idx);
	free(lab);
	*loss = sum / ds->n;
	*acc = (double)hits / ds->n;
	return F8_OK;
}

int f8_train_run(const struct f8_train_cfg *cfg, struct f8_net *net, struct f8_sgd *opt,
		 struct f8_train_state *st, const struct f8_dataset *train,
		 const struct f8_dataset *test, const struct f8_train_hooks *hooks,
		 struct f8_err *err)
{
	const struct f8_norm norm = f8_net_input_norm(net);
	struct f8_lr_sched sched;
	float *x = NULL;
	int *idx = NULL, *lab = NULL;
	long spe, done_batches = 0;
	size_t img;
	int rc;

	if (!cfg || !net || !opt || !st || !train)
		return f8_fail(err, F8_ERR_MISUSE, "training: NULL argument");
	rc = f8_train_cfg_check(cfg, err);
	if (rc)
		return rc;
	if (opt->count != net->param_count || st->epochs_done < 0 || st->step < 0 ||
	    (st->epochs_done > 0 && !st->history))
		return f8_fail(err, F8_ERR_MISUSE, "training: inconsistent optimiser or state");
	if (st->epochs_done > cfg->epochs)
		return f8_fail(err, F8_ERR_RANGE, "the run has done %d epochs, more than the %d asked",
			       st->epochs_done, cfg->epochs);
	rc = f8_train_fits(net, train, "training", err);
	if (!rc && test)
		rc = f8_train_fits(net, test, "test", err);
	if (rc)
		return rc;
	if (f8_par_set_threads(cfg->threads))
		return f8_fail(err, F8_ERR_NOMEM, "cannot start %d threads", cfg->threads);
	rc = f8_net_plan(net, cfg->batch, err);
	if (rc)
		return rc;

	spe = f8_train_steps_per_epoch(cfg, train->n);
	sched = f8_train_sched(cfg, train->n);
	img = (size_t)train->c * train->h * train->w;
	x = malloc(img * (size_t)cfg->batch * sizeof(float));
	idx = malloc((size_t)train->n * sizeof(int));
	lab = malloc((size_t)cfg->batch * sizeof(int));
	if (!x || !idx || !lab) {
		rc = f8_fail(err, F8_ERR_NOMEM, "training: out of memory");
		goto out;
	}

	while (st->epochs_done < cfg->epochs) {
		const int epoch = st->epochs_done + 1;
		const bool augment = cfg->aug.crop_pad > 0 || cfg->aug.hflip;
		struct f8_rng shuf, aug;
		struct f8_train_progress pr;
		struct f8_epoch_stats es;
		struct f8_epoch_stats *h;
		double t0 = f8_now(), loss_sum = 0, lr = 0;
		long hits = 0, seen = 0;
		int b, i;

		f8_rng_init(&shuf, cfg->seed, F8_STREAM_SHUFFLE | (uint64_t)epoch);
		f8_rng_init(&aug, cfg->seed, F8_STREAM_AUGMENT | (uint64_t)epoch);
		for (i = 0; i < train->n; i++)
			idx[i] = i;
		f8_shuffle(idx, train->n, &shuf);

		for (b = 0; b < spe; b++) {
			const int first = b * cfg->batch;
			const int n = train->n - first < cfg->batch ? train->n - first : cfg->batch;
			int correct = 0;
			float loss;

			f8_batch_fill(train, idx + first, n, &norm, augment ? &cfg->aug : NULL, &aug,
				      x, lab);
			lr = f8_lr_at(&sched, st->step);
			f8_net_forward(net, x, n, true);
			loss = f8_net_loss(net, lab, n, &correct);
			/* A diverged run only wastes hours: stop at the first non-finite loss. */
			if (!isfinite(loss)) {
				rc = f8_fail(err, F8_ERR_RANGE,
					     "epoch %d, batch %d: the loss is %g (diverged; lower --lr?)",
					     epoch, b + 1, (double)loss);
				goto out;
			}
			f8_net_backward(net, n);
			f8_sgd_step(opt, net, (float)lr);
			st->step++;
			loss_sum += (double)loss * n;
			hits += correct;
			seen += n;
			done_batches++;
			if (hooks && hooks->progress) {
				pr.epoch = epoch;
				pr.epochs = cfg->epochs;
				pr.batch = b + 1;
				pr.batches = (int)spe;
				pr.step = st->step;
				pr.lr = lr;
				pr.loss = loss_sum / seen;
				pr.acc = (double)hits / seen;
				pr.seconds = f8_now() - t0;
				pr.images_per_s = pr.seconds > 0 ? seen / pr.seconds : 0;
				hooks->progress(hooks->ctx, &pr);
			}
			if (hooks && hooks->stop_after > 0 && done_batches >= hooks->stop_after)
				goto out;
		}
		es.epoch = epoch;
		es.lr = lr;
		es.train_loss = loss_sum / seen;
		es.train_acc = (double)hits / seen;
		es.seconds = f8_now() - t0;
		es.images_per_s = es.seconds > 0 ? seen / es.seconds : 0;
		es.test_loss = es.test_acc = 0;
		if (test) {
			rc = f8_train_evaluate(net, test, cfg->batch, &es.test_loss, &es.test_acc, err);
			if (rc)
				goto out;
		}
		h = realloc(st->history, (size_t)epoch * sizeof(*h));
		if (!h) {
			rc = f8_fail(err, F8_ERR_NOMEM, "training: out of memory");
			goto out;
		}
		st->history = h;
		h[epoch - 1] = es;
		st->epochs_done = epoch;
		if (hooks && hooks->epoch_end) {
			rc = hooks->epoch_end(hooks->ctx, net, opt, st, err);
			if (rc)
				goto out;
		}
	}
out:
	free(x);
	free(idx);
	free(lab);
	return rc;
}

int f8_train_write_csv(FILE *out, const struct f8_epoch_stats *history, int n)
{
	int i;

	fprintf(out, "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s\n");
	for (i = 0; i < n; i++) {
		const struct f8_epoch_stats *e = &history[i];

		/* %.9g: enough digits that a float-derived value survives a round trip. */
		fprintf(out, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.3f,%.1f\n", e->epoch, e->lr,
			e->train_loss, e->train_acc, e->test_loss, e->test_acc, e->seconds,
			e->images_per_s);
	}
	return ferror(out) ? F8_ERR_IO : F8_OK;
}
