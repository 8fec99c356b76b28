/* SPDX-License-Identifier: MIT */
/*
 * F8Net's tiny fine-tuning (docs/f8net.md): a trained float network, switched to fake
 * quantization (f8_net_set_quant, no clipping), takes a few hundred SGD steps at a small
 * constant learning rate on augmented training batches. The weights and BN statistics it
 * leaves are those `f8 export` then quantizes.
 */
#ifndef F8_FINETUNE_H
#define F8_FINETUNE_H

#include "f8-data.h"
#include "f8-err.h"
#include "f8-net.h"
#include "f8-optim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct f8_finetune_cfg {
	struct f8_quant_cfg quant;
	long steps;             /* 1 .. 1000000 */
	int batch;              /* 1 .. 4096 */
	float lr;               /* constant, > 0 */
	struct f8_augment aug;
	struct f8_norm norm;
	uint64_t seed;
	/* called after every step (may be NULL) with the step (1-based) and the batch loss */
	void (*progress)(void *ctx, long step, long steps, double loss, double acc);
	void *ctx;
};

/* Run the steps; @net stays in fake-quantization mode. F8_OK or a status with @err. */
int f8_finetune_run(struct f8_net *net, struct f8_sgd *opt, const struct f8_dataset *train,
		    const struct f8_finetune_cfg *cfg, struct f8_err *err);

#ifdef __cplusplus
}
#endif
#endif
