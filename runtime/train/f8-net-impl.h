/* SPDX-License-Identifier: MIT */
/*
 * Private to libf8: the planned network's buffers (f8-net.c), shared with the F8Net
 * fake-quantization mode (f8-net-quant.c), which runs some layers in their place.
 */
#ifndef F8_NET_IMPL_H
#define F8_NET_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f8-net.h"

struct f8_net_plan {
	int batch, threads;
	int nfwd;                /* images of the last forward (0: none yet) */
	bool have_loss;          /* the last forward has seeded dlogits */
	unsigned char *act;      /* activations, BN statistics, argmax */
	unsigned char *gmem;     /* activation gradients */
	float *ws;               /* conv workspace */
	size_t act_bytes, g_bytes, ws_floats;
	float **y;               /* [nlayers] outputs */
	float **dy;              /* [nlayers] output gradients (NULL for the input) */
	float **save_mean, **save_invstd; /* BN layers */
	int32_t **argmax;        /* max-pool layers */
	int *last_use;           /* [nlayers] highest consumer index (-1: none) */
};

/* F8Net fake quantization (f8-net-quant.c). The forward/backward of f8-net.c hand each
 * layer to these first; true means the layer was done (or is part of a fused unit). */
bool f8_quant_fwd(struct f8_net *net, int layer, int n, bool train);
bool f8_quant_bwd(struct f8_net *net, int layer, int n);
/* Before the first f8_quant_bwd of a backward pass. */
void f8_quant_bwd_begin(struct f8_net *net);
/* Allocate the mode's buffers for the current plan (f8_net_plan calls it). */
int f8_quant_plan(struct f8_net *net, struct f8_err *err);
void f8_quant_free(struct f8_net *net);

#endif
