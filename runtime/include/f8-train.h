/* SPDX-License-Identifier: MIT */
/*
 * The training loop (docs/train.md): run the remaining epochs of a run described by a
 * struct f8_train_cfg on a network, an optimiser and a progress state (f8-ckpt.h).
 *
 *   f8_par_set_threads(cfg.threads);           // f8_train_run does it too
 *   f8_train_run(&cfg, net, &opt, &st, &train, &test, &hooks, &err);
 *
 * Per epoch e (1-based): the training indices 0..n-1 are shuffled with an rng stream
 * derived from (seed, e) alone, batches are filled with augmentation from a second
 * stream derived from (seed, e), every batch (the last one may be partial) takes one
 * SGD step at f8_lr_at(step); then the test set is evaluated in eval mode. Because
 * nothing carries over between epochs except the network, the optimiser and the step
 * counter, a run resumed from an epoch-boundary checkpoint is bit-identical to an
 * uninterrupted one (same thread count).
 */
#ifndef F8_TRAIN_H
#define F8_TRAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "f8-ckpt.h"
#include "f8-data.h"
#include "f8-err.h"
#include "f8-net.h"
#include "f8-optim.h"
#include "f8-par.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Limits of a run's configuration (f8_train_cfg_check), the one table that `f8 train`'s
 * options, f8_train_run and the checkpoint loader all check against.
 */
#define F8_TRAIN_EPOCHS_MAX 100000
#define F8_TRAIN_BATCH_MAX 65536
#define F8_TRAIN_THREADS_MAX F8_PAR_MAX_THREADS
#define F8_TRAIN_LR_MAX 100.0
#define F8_TRAIN_CROP_PAD_MAX 16
#define F8_TRAIN_LIMIT_MAX 1000000000 /* --train-limit, --test-limit */

/* Where the training part of an epoch is, passed to the progress hook after every batch. */
struct f8_train_progress {
	int epoch, epochs;     /* 1-based epoch, total epochs of the run */
	int batch, batches;    /* batches done in this epoch, batches per epoch */
	long step;             /* optimiser steps taken in the whole run */
	double lr;             /* of the last step */
	double loss, acc;      /* running means over this epoch's images so far */
	double seconds;        /* since the epoch's training part started */
	double images_per_s;   /* over this epoch so far */
};

struct f8_train_hooks {
	void *ctx;
	/* After every training batch (may be NULL). */
	void (*progress)(void *ctx, const struct f8_train_progress *p);
	/* After every epoch, once st->history holds it (may be NULL): write checkpoints,
	 * logs. A non-zero return stops the run with that status (message in @err). */
	int (*epoch_end)(void *ctx, const struct f8_net *net, const struct f8_sgd *opt,
			 const struct f8_train_state *st, struct f8_err *err);
	/* Benchmarks: stop after this many training batches of this call, without evaluation
	 * or history (0: no limit). The progress hook sees every batch. */
	long stop_after;
};

/* Optimiser steps of one epoch: ceil(n / batch) (the last batch may be partial). */
long f8_train_steps_per_epoch(const struct f8_train_cfg *cfg, int n);
/* The learning-rate schedule of @cfg on a training set of @n images. */
struct f8_lr_sched f8_train_sched(const struct f8_train_cfg *cfg, int n);
/* Check a configuration (ranges of every field); F8_ERR_RANGE + reason. */
int f8_train_cfg_check(const struct f8_train_cfg *cfg, struct f8_err *err);

/*
 * Run epochs st->epochs_done + 1 .. cfg->epochs: sets the thread count, plans @net for
 * cfg->batch, trains, evaluates on @test (may be NULL: test loss/acc 0), appends to
 * st->history. F8_OK, or a negative status with @err (datasets that do not fit the
 * network, allocation, a non-finite loss, a hook's failure). @hooks may be NULL.
 */
int f8_train_run(const struct f8_train_cfg *cfg, struct f8_net *net, struct f8_sgd *opt,
		 struct f8_train_state *st, const struct f8_dataset *train,
		 const struct f8_dataset *test, const struct f8_train_hooks *hooks,
		 struct f8_err *err);

/* Mean loss and accuracy of @net (planned for >= @batch) on @ds in eval mode. */
int f8_train_evaluate(struct f8_net *net, const struct f8_dataset *ds, int batch,
		      double *loss, double *acc, struct f8_err *err);

/* The CSV log: a header line, then one line per history entry (docs/train.md). */
int f8_train_write_csv(FILE *out, const struct f8_epoch_stats *history, int n);

#ifdef __cplusplus
}
#endif
#endif
