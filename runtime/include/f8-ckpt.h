/* SPDX-License-Identifier: MIT */
/*
 * A training run's configuration and progress, and checkpoints that hold everything
 * needed to resume it exactly: the architecture text, parameters, BN running
 * statistics, momentum buffers, the run configuration, the step counter and the
 * per-epoch history (docs/checkpoint-format.md).
 *
 * Files are versioned (magic, major.minor) and checksummed (CRC-32 of everything after
 * the header); they are written to a temporary file in the same directory, fsync'd and
 * renamed over the destination, so a crash never leaves a half-written checkpoint and
 * the previous one survives any failure. A truncated, corrupt, wrong-version or
 * inconsistent file is refused with F8_ERR_CORRUPT / _VERSION / _FORMAT and a reason.
 */
#ifndef F8_CKPT_H
#define F8_CKPT_H

#include <stdint.h>

#include "f8-data.h"
#include "f8-err.h"
#include "f8-net.h"
#include "f8-optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define F8_CKPT_VERSION_MAJOR 1
#define F8_CKPT_VERSION_MINOR 0

/* What `f8 train` was asked to do; saved so that --resume continues the same run. */
struct f8_train_cfg {
	char model[256];     /* zoo name or architecture file, as given */
	int epochs;          /* total epochs of the run */
	int batch;
	int threads;
	float lr, final_lr;  /* cosine from lr to final_lr */
	float warmup_epochs; /* linear warm-up length, in epochs (may be fractional) */
	struct f8_sgd_cfg sgd;
	struct f8_augment aug;
	uint64_t seed;
	int train_limit, test_limit; /* use only the first N images (0: all) */
};

struct f8_epoch_stats {
	int epoch;           /* 1-based */
	double lr;           /* at the end of the epoch */
	double train_loss, train_acc;
	double test_loss, test_acc;
	double seconds, images_per_s;
};

/* Where the run is: epochs done, optimiser steps taken, one history entry per epoch done. */
struct f8_train_state {
	int epochs_done;
	long step;
	struct f8_epoch_stats *history; /* epochs_done entries (malloc'd) */
};

/* Save atomically (tmp + fsync + rename + directory fsync, f8-fs.h); @path must be absent or
 * a regular file (a link, directory, device or FIFO is refused). */
int f8_ckpt_save(const char *path, const struct f8_net *net, const struct f8_sgd *opt,
		 const struct f8_train_cfg *cfg, const struct f8_train_state *st, struct f8_err *err);
/*
 * Load a checkpoint: *net is parsed from the stored architecture and filled (not
 * planned), *opt initialised from cfg->sgd and its velocity filled, *cfg and *st filled
 * (st->history malloc'd). Nothing is returned on failure. The file is untrusted: a path
 * that is not a regular file is refused without blocking, memory follows the stored
 * architecture (never a size the file only announces), and every decoded value is
 * range-checked (docs/checkpoint-format.md, "Reading and what is checked").
 */
int f8_ckpt_load(const char *path, struct f8_net **net, struct f8_sgd *opt,
		 struct f8_train_cfg *cfg, struct f8_train_state *st, struct f8_err *err);
void f8_train_state_free(struct f8_train_state *st);

#ifdef __cplusplus
}
#endif
#endif
