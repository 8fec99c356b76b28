/* SPDX-License-Identifier: MIT */
/*
 * Optimiser and learning-rate schedule.
 *
 * SGD with (Nesterov) momentum and L2 weight decay, PyTorch's formulation:
 *   g = grad + wd * p          (wd = 0 for exempt parameters)
 *   v = momentum * v + g
 *   p = p - lr * (nesterov ? g + momentum * v : v)
 * Exemptions by parameter kind: BN gamma/beta, biases, depthwise weights (F8Net and
 * MobileNet practice: decaying them hurts accuracy).
 *
 * Schedule: linear warm-up from 0 over warmup_steps, then cosine from base to final_lr:
 *   lr(s) = base * (s + 1) / warmup                                   for s < warmup
 *   lr(s) = final + (base - final) * (1 + cos(pi * (s - warmup) / (total - warmup))) / 2
 */
#ifndef F8_OPTIM_H
#define F8_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "f8-net.h"

#ifdef __cplusplus
extern "C" {
#endif

struct f8_sgd_cfg {
	float momentum;     /* 0.9 */
	float weight_decay; /* 5e-4 */
	bool nesterov;
	bool decay_bn;      /* apply weight decay to BN gamma/beta (default false) */
	bool decay_bias;    /* ... to biases (default false) */
	bool decay_dw;      /* ... to depthwise weights (default false) */
};

struct f8_sgd {
	struct f8_sgd_cfg cfg;
	size_t count;   /* == net->param_count */
	float *velocity;/* momentum buffers, zero at start; saved in checkpoints */
};

int f8_sgd_init(struct f8_sgd *opt, const struct f8_sgd_cfg *cfg, const struct f8_net *net);
void f8_sgd_free(struct f8_sgd *opt);
/* One step over every parameter of @net with its gradients in net->grad. */
void f8_sgd_step(struct f8_sgd *opt, struct f8_net *net, float lr);

struct f8_lr_sched {
	float base_lr, final_lr;
	long warmup_steps, total_steps;
};
float f8_lr_at(const struct f8_lr_sched *s, long step);

#ifdef __cplusplus
}
#endif
#endif
