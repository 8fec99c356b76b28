// SPDX-License-Identifier: MIT
/*
 * The optimiser and the learning-rate schedule of the training engine (f8-optim.h):
 * SGD with plain or Nesterov momentum, L2 weight decay with exemptions by parameter
 * kind, and linear warm-up followed by cosine decay.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "f8-optim.h"

#define F8_PI 3.14159265358979323846

int f8_sgd_init(struct f8_sgd *opt, const struct f8_sgd_cfg *cfg, const struct f8_net *net)
{
	if (!opt || !cfg || !net)
		return F8_ERR_MISUSE;
	memset(opt, 0, sizeof(*opt));
	opt->cfg = *cfg;
	opt->count = net->param_count;
	/* One float more than needed: a parameter-free net still gets a valid pointer. */
	opt->velocity = calloc(net->param_count + 1, sizeof(float));
	if (!opt->velocity)
		return F8_ERR_NOMEM;
	return F8_OK;
}

void f8_sgd_free(struct f8_sgd *opt)
{
	if (!opt)
		return;
	free(opt->velocity);
	opt->velocity = NULL;
	opt->count = 0;
}

/* The weight decay that applies to parameters of @kind under @cfg. */
static float f8_sgd_decay(const struct f8_sgd_cfg *cfg, enum f8_param_kind kind)
{
	switch (kind) {
	case F8_PARAM_BN_GAMMA:
	case F8_PARAM_BN_BETA:
		return cfg->decay_bn ? cfg->weight_decay : 0.0f;
	case F8_PARAM_BIAS:
		return cfg->decay_bias ? cfg->weight_decay : 0.0f;
	case F8_PARAM_DW_W:
		return cfg->decay_dw ? cfg->weight_decay : 0.0f;
	case F8_PARAM_CONV_W:
	case F8_PARAM_LINEAR_W:
	default:
		return cfg->weight_decay;
	}
}

void f8_sgd_step(struct f8_sgd *opt, struct f8_net *net, float lr)
{
	const float mom = opt->cfg.momentum;
	const bool nesterov = opt->cfg.nesterov;
	int i;

	F8_ASSERT(opt->count == net->param_count && opt->velocity);
	for (i = 0; i < net->nparams; i++) {
		const struct f8_param *pr = &net->params[i];
		const float wd = f8_sgd_decay(&opt->cfg, pr->kind);
		float *p = net->param + pr->off;
		const float *g = net->grad + pr->off;
		float *v = opt->velocity + pr->off;
		size_t j;

		F8_ASSERT(pr->off + pr->count <= net->param_count);
		for (j = 0; j < pr->count; j++) {
			float d = g[j] + wd * p[j];

			v[j] = mom * v[j] + d;
			p[j] -= lr * (nesterov ? d + mom * v[j] : v[j]);
		}
	}
}

float f8_lr_at(const struct f8_lr_sched *s, long step)
{
	double base = s->base_lr, fin = s->final_lr, t;
	long span;

	if (step < 0)
		step = 0;
	if (step < s->warmup_steps)
		return (float)(base * (double)(step + 1) / (double)s->warmup_steps);
	/* Past the end (a resumed run with more steps than planned): stay at the floor. */
	if (step >= s->total_steps)
		return s->total_steps > s->warmup_steps ? (float)fin : (float)base;
	span = s->total_steps - (s->warmup_steps > 0 ? s->warmup_steps : 0);
	t = (double)(step - (s->warmup_steps > 0 ? s->warmup_steps : 0)) / (double)span;
	return (float)(fin + (base - fin) * (1.0 + cos(F8_PI * t)) / 2.0);
}
