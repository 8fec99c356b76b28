// SPDX-License-Identifier: MIT
/*
 * F8Net fake quantization as a mode of the planned network (f8-net.h, docs/f8net.md).
 *
 * A "unit" is a conv (with the BN that reads it, folded) or a linear layer. Its forward:
 *   x^ = Q(t * g, FL_x) / g       the input t quantized (u8 after a ReLU, s8 otherwise) at
 *                                 the batch's FL (train) or round(running FL) (eval); g is
 *                                 the sum-pool gain (k*k / 2^round(log2 k*k)) of an average
 *                                 pool before it, 1 elsewhere; the image is not quantized
 *   z  = conv(x^, W)              statistics pass (train): batch mean and variance, running
 *                                 statistics updated as BN does
 *   W_f = W * gamma / sigma, b_f = beta - gamma * mu / sigma   (eval: running statistics)
 *   W^ = Q(W_f, FL_w), FL_w from W_f every step
 *   y  = conv(x^, W^) + b_f       written where the BN's output lives
 * Backward: straight-through estimators with F8Net's strict masks on the rounded codes, and
 * full gradients through mu and sigma (they are not detached), as autograd does in the
 * official code: dz = dmu / N + dvar * 2 (z - mu) / N flows back through the statistics conv.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "f8-net-impl.h"
#include "f8-ops.h"
#include "f8-quant.h"

struct qunit {
	int layer;        /* the conv or linear layer */
	int bn;           /* the BN folded into it, or -1 */
	bool quant_in;    /* its input is quantized (everything but the image) */
	bool is_signed;   /* s8 input (no ReLU before it) */
	float gain;       /* sum-pool gain of its input */
	float fl_run;     /* running activation FL */
	bool fl_seen;     /* fl_run holds a value */
	int fl_x, fl_w;   /* of the last forward */
	size_t wsz, in_elems;
	/* planned buffers */
	float *xq;        /* quantized input [batch][in_elems] (NULL: the input itself) */
	float *wf, *wq;   /* folded and quantized weights */
	float *bf;        /* folded bias [cout] */
	float *dwq, *dw2; /* weight gradients of the two convs */
	float *dbf;       /* [cout] */
};

struct f8_quant {
	struct f8_quant_cfg cfg;
	int nunits;
	struct qunit *u;
	int *unit_of;   /* [nlayers]: unit of a conv/linear, or of the conv a BN folds into */
	float *dxq;     /* gradient of the largest quantized input */
	size_t dxq_floats;
};

static size_t elems(const struct f8_layer *l)
{
	return (size_t)l->c * l->h * l->w;
}

/* Non-negative for sure: after a ReLU, or pooled from such a tensor. */
static bool nonneg(const struct f8_net *net, int i)
{
	const struct f8_layer *l = &net->layers[i];

	if (l->kind == F8_LAYER_RELU)
		return true;
	if (l->kind == F8_LAYER_MAXPOOL || l->kind == F8_LAYER_AVGPOOL)
		return nonneg(net, l->in[0]);
	return false;
}

/* The device's average pool: sum / 2^round(log2(k k)), i.e. the mean times this gain. */
static float pool_gain(const struct f8_net *net, int i)
{
	const struct f8_layer *l = &net->layers[i];

	if (l->kind == F8_LAYER_AVGPOOL) {
		const double kk = (double)l->k * l->k;

		return (float)(pool_gain(net, l->in[0]) * kk / ldexp(1.0, (int)lrint(log2(kk))));
	}
	if (l->kind == F8_LAYER_MAXPOOL || l->kind == F8_LAYER_RELU)
		return pool_gain(net, l->in[0]);
	return 1.0f;
}

static void quant_buffers_free(struct f8_quant *q)
{
	int k;

	for (k = 0; k < q->nunits; k++) {
		struct qunit *u = &q->u[k];

		free(u->xq);
		free(u->wf);
		free(u->wq);
		free(u->bf);
		free(u->dwq);
		free(u->dw2);
		free(u->dbf);
		u->xq = u->wf = u->wq = u->bf = u->dwq = u->dw2 = u->dbf = NULL;
	}
	free(q->dxq);
	q->dxq = NULL;
}

void f8_quant_free(struct f8_net *net)
{
	if (!net->quant)
		return;
	quant_buffers_free(net->quant);
	free(net->quant->u);
	free(net->quant->unit_of);
	free(net->quant);
	net->quant = NULL;
}

int f8_net_set_quant(struct f8_net *net, const struct f8_quant_cfg *cfg, struct f8_err *err)
{
	struct f8_quant *q;
	int *uses, i, j;

	f8_quant_free(net);
	if (!cfg || cfg->mode == F8_QUANT_OFF)
		return F8_OK;
	if (cfg->mode != F8_QUANT_FIXED && cfg->mode != F8_QUANT_FLOATING)
		return f8_fail(err, F8_ERR_RANGE, "unknown quantization mode %d", (int)cfg->mode);
	if (!(cfg->momentum > 0.0f && cfg->momentum <= 1.0f))
		return f8_fail(err, F8_ERR_RANGE, "FL momentum %g outside (0, 1]", (double)cfg->momentum);
	q = calloc(1, sizeof(*q));
	uses = calloc((size_t)net->nlayers, sizeof(int));
	if (q) {
		q->u = calloc((size_t)net->nlayers, sizeof(*q->u));
		q->unit_of = malloc(sizeof(int) * (size_t)net->nlayers);
	}
	if (!q || !uses || !q->u || !q->unit_of) {
		if (q) {
			free(q->u);
			free(q->unit_of);
		}
		free(q);
		free(uses);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory for the quantization state");
	}
	q->cfg = *cfg;
	for (i = 0; i < net->nlayers; i++) {
		q->unit_of[i] = -1;
		for (j = 0; j < 2; j++)
			if (net->layers[i].in[j] >= 0)
				uses[net->layers[i].in[j]]++;
	}
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		struct qunit *u;

		if (l->kind == F8_LAYER_BN) {
			if (net->layers[l->in[0]].kind != F8_LAYER_CONV || uses[l->in[0]] != 1) {
				free(uses);
				net->quant = q;
				f8_quant_free(net);
				return f8_fail(err, F8_ERR_RANGE,
					       "layer %s: F8Net folds a batch norm only into the conv it alone reads",
					       l->name);
			}
			q->unit_of[i] = q->unit_of[l->in[0]];
			q->u[q->unit_of[i]].bn = i;
			continue;
		}
		if (l->kind != F8_LAYER_CONV && l->kind != F8_LAYER_LINEAR)
			continue;
		u = &q->u[q->nunits];
		memset(u, 0, sizeof(*u));
		u->layer = i;
		u->bn = -1;
		u->quant_in = l->in[0] != 0;
		u->is_signed = !nonneg(net, l->in[0]);
		u->gain = pool_gain(net, l->in[0]);
		u->in_elems = elems(&net->layers[l->in[0]]);
		u->wsz = net->params[l->param[0]].count;
		q->unit_of[i] = q->nunits++;
	}
	free(uses);
	net->quant = q;
	return F8_OK;
}

float f8_net_quant_fl(const struct f8_net *net, int layer)
{
	const struct f8_quant *q = net->quant;

	if (!q || layer < 0 || layer >= net->nlayers || q->unit_of[layer] < 0 ||
	    q->u[q->unit_of[layer]].layer != layer || !q->u[q->unit_of[layer]].quant_in)
		return -1.0f;
	return q->u[q->unit_of[layer]].fl_run;
}

int f8_quant_plan(struct f8_net *net, struct f8_err *err)
{
	struct f8_quant *q = net->quant;
	const size_t b = (size_t)net->plan->batch;
	int k;

	quant_buffers_free(q);
	q->dxq_floats = 0;
	for (k = 0; k < q->nunits; k++) {
		struct qunit *u = &q->u[k];
		const size_t cout = (size_t)net->layers[u->layer].c;

		if (u->quant_in) {
			u->xq = malloc(sizeof(float) * b * u->in_elems);
			if (b * u->in_elems > q->dxq_floats)
				q->dxq_floats = b * u->in_elems;
		}
		u->wf = malloc(sizeof(float) * u->wsz);
		u->wq = malloc(sizeof(float) * u->wsz);
		u->dwq = malloc(sizeof(float) * u->wsz);
		u->dw2 = malloc(sizeof(float) * u->wsz);
		u->bf = malloc(sizeof(float) * cout);
		u->dbf = malloc(sizeof(float) * cout);
		if ((u->quant_in && !u->xq) || !u->wf || !u->wq || !u->dwq || !u->dw2 || !u->bf ||
		    !u->dbf) {
			quant_buffers_free(q);
			return f8_fail(err, F8_ERR_NOMEM, "out of memory for the quantization buffers");
		}
	}
	q->dxq = malloc(sizeof(float) * (q->dxq_floats ? q->dxq_floats : 1));
	if (!q->dxq) {
		quant_buffers_free(q);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory for the quantization buffers");
	}
	return F8_OK;
}

/* ---- quantizers of the mode ---- */

static float qval(const struct f8_quant *q, float v, int fl, bool is_signed)
{
	if (q->cfg.mode == F8_QUANT_FIXED)
		return f8_fix_quant(v, fl, is_signed);
	{
		const float hi = ldexpf(is_signed ? 127.0f : 255.0f, -fl);
		const float lo = is_signed ? -hi : 0.0f;

		return v < lo ? lo : v > hi ? hi : v;
	}
}

static bool qpass(const struct f8_quant *q, float v, int fl, bool is_signed)
{
	if (q->cfg.mode == F8_QUANT_FIXED)
		return f8_fix_pass(v, fl, is_signed);
	{
		const float r = ldexpf(v, fl);

		return is_signed ? fabsf(r) < 127.0f : (r > 0.0f && r < 255.0f);
	}
}

static int fl_of(const float *x, size_t n, float gain, bool is_signed, bool grid)
{
	if (grid) {
		double e[9] = { 0 };

		f8_fl_grid_accumulate(x, n, gain, is_signed, e);
		return f8_fl_grid_pick(e, is_signed);
	}
	return f8_fl_from_std(f8_std_unbiased(x, n) * gain, is_signed);
}

/* FL of a unit's input for this forward; the running value moves in training. */
static int input_fl(struct f8_quant *q, struct qunit *u, const float *t, size_t n, bool train)
{
	int fl;

	if (!train) {
		fl = (int)nearbyintf(u->fl_run);
		return fl < 0 ? 0 : fl > f8_fl_max(u->is_signed) ? f8_fl_max(u->is_signed) : fl;
	}
	fl = fl_of(t, n, u->gain, u->is_signed, q->cfg.act_grid);
	/* F8Net starts the running value at 6; starting at the first batch's FL skips the
	 * transient without changing where it settles */
	u->fl_run = u->fl_seen ? (1.0f - q->cfg.momentum) * u->fl_run + q->cfg.momentum * (float)fl
			       : (float)fl;
	u->fl_seen = true;
	return fl;
}

static struct f8_conv_geom unit_geom(const struct f8_net *net, const struct f8_layer *l, int n)
{
	const struct f8_layer *a = &net->layers[l->in[0]];
	struct f8_conv_geom g = {
		.n = n, .cin = a->c, .h = a->h, .w = a->w, .cout = l->c, .k = l->k,
		.stride = l->stride, .pad = l->pad, .groups = l->groups, .oh = l->h, .ow = l->w,
	};

	return g;
}

static const float *pbase(const struct f8_net *net, const struct f8_layer *l, int j)
{
	return l->param[j] >= 0 ? net->param + net->params[l->param[j]].off : NULL;
}

static float *gbase(const struct f8_net *net, const struct f8_layer *l, int j)
{
	return l->param[j] >= 0 ? net->grad + net->params[l->param[j]].off : NULL;
}

bool f8_quant_fwd(struct f8_net *net, int i, int n, bool train)
{
	struct f8_quant *q = net->quant;
	struct f8_net_plan *p = net->plan;
	const struct f8_layer *l = &net->layers[i];
	struct qunit *u;
	const float *t, *w, *x;
	float *y;
	size_t cnt, o, k, per;
	int cout;

	if (q->unit_of[i] < 0)
		return false;
	u = &q->u[q->unit_of[i]];
	if (u->layer != i)
		return true; /* the BN of a unit: done with its conv */
	t = p->y[l->in[0]];
	cnt = (size_t)n * u->in_elems;
	x = t;
	if (u->quant_in) {
		u->fl_x = input_fl(q, u, t, cnt, train);
		for (k = 0; k < cnt; k++)
			u->xq[k] = qval(q, t[k] * u->gain, u->fl_x, u->is_signed) / u->gain;
		x = u->xq;
	}
	w = pbase(net, l, 0);
	cout = l->c;
	per = u->wsz / (size_t)cout;
	/* fold */
	if (u->bn >= 0) {
		const struct f8_layer *bl = &net->layers[u->bn];
		const float *gamma = pbase(net, bl, 0), *beta = pbase(net, bl, 1);
		float *st = net->state + net->states[bl->state].off;
		float *mean = p->save_mean[u->bn], *invstd = p->save_invstd[u->bn];

		if (train) {
			struct f8_conv_geom g = unit_geom(net, l, n);

			/* statistics pass: z = conv(x^, W) into the conv's own output */
			f8_conv_fwd(&g, x, w, NULL, p->y[i], p->ws);
			f8_bn_fwd_train(n, cout, l->h * l->w, p->y[i], gamma, beta, net->bn_eps,
					net->bn_momentum, st, st + cout, mean, invstd, p->y[u->bn]);
		} else {
			for (o = 0; o < (size_t)cout; o++) {
				mean[o] = st[o];
				invstd[o] = (float)(1.0 / sqrt((double)st[cout + o] + net->bn_eps));
			}
		}
		for (o = 0; o < (size_t)cout; o++) {
			const float s = gamma[o] * invstd[o];

			for (k = 0; k < per; k++)
				u->wf[o * per + k] = w[o * per + k] * s;
			u->bf[o] = beta[o] - mean[o] * s;
		}
	} else {
		const float *b = pbase(net, l, 1);

		memcpy(u->wf, w, sizeof(float) * u->wsz);
		for (o = 0; o < (size_t)cout; o++)
			u->bf[o] = b ? b[o] : 0.0f;
	}
	u->fl_w = fl_of(u->wf, u->wsz, 1.0f, true, q->cfg.weight_grid);
	for (k = 0; k < u->wsz; k++)
		u->wq[k] = qval(q, u->wf[k], u->fl_w, true);
	y = p->y[u->bn >= 0 ? u->bn : i];
	if (l->kind == F8_LAYER_CONV) {
		struct f8_conv_geom g = unit_geom(net, l, n);

		f8_conv_fwd(&g, x, u->wq, u->bf, y, p->ws);
	} else {
		f8_linear_fwd(n, (int)u->in_elems, cout, x, u->wq, u->bf, y);
	}
	return true;
}

bool f8_quant_bwd(struct f8_net *net, int i, int n)
{
	struct f8_quant *q = net->quant;
	struct f8_net_plan *p = net->plan;
	const struct f8_layer *l = &net->layers[i];
	const int a = l->in[0];
	struct qunit *u;
	const float *x, *dy;
	float *da, *dx, *gw;
	size_t cnt, o, k, per;
	int cout;

	if (q->unit_of[i] < 0)
		return false;
	u = &q->u[q->unit_of[i]];
	if (u->layer != i)
		return true; /* BN: its conv does the unit's backward (after da was zeroed there) */
	cout = l->c;
	per = u->wsz / (size_t)cout;
	cnt = (size_t)n * u->in_elems;
	x = u->quant_in ? u->xq : p->y[a];
	da = a > 0 ? p->dy[a] : NULL;
	dx = da;
	if (u->quant_in) {
		memset(q->dxq, 0, sizeof(float) * cnt);
		dx = q->dxq;
	}
	dy = p->dy[u->bn >= 0 ? u->bn : i];
	gw = gbase(net, l, 0);
	if (l->kind == F8_LAYER_CONV) {
		struct f8_conv_geom g = unit_geom(net, l, n);

		f8_conv_bwd(&g, x, u->wq, dy, dx, u->dwq, u->dbf, p->ws);
	} else {
		f8_linear_bwd(n, (int)u->in_elems, cout, x, u->wq, dy, dx, u->dwq, u->dbf);
	}
	/* straight-through: dW_f = mask * dW^ */
	for (k = 0; k < u->wsz; k++)
		if (!qpass(q, u->wf[k], u->fl_w, true))
			u->dwq[k] = 0.0f;
	if (u->bn < 0) {
		float *gb = gbase(net, l, 1);

		memcpy(gw, u->dwq, sizeof(float) * u->wsz);
		if (gb)
			memcpy(gb, u->dbf, sizeof(float) * (size_t)cout);
	} else {
		const struct f8_layer *bl = &net->layers[u->bn];
		const float *gamma = pbase(net, bl, 0), *w = pbase(net, l, 0);
		float *ggamma = gbase(net, bl, 0), *gbeta = gbase(net, bl, 1);
		const float *mean = p->save_mean[u->bn], *invstd = p->save_invstd[u->bn];
		const size_t hw = (size_t)l->h * l->w, nn = (size_t)n * hw;
		const float *z = p->y[i];
		float *dz = p->dy[i];
		struct f8_conv_geom g = unit_geom(net, l, n);
		size_t b, s;

		for (o = 0; o < (size_t)cout; o++) {
			double A = 0.0, dinv, dvar, dmu;
			const double is = invstd[o], db = u->dbf[o];

			for (k = 0; k < per; k++) {
				A += (double)u->dwq[o * per + k] * w[o * per + k];
				gw[o * per + k] = u->dwq[o * per + k] * gamma[o] * invstd[o];
			}
			ggamma[o] = (float)(A * is - db * mean[o] * is);
			gbeta[o] = (float)db;
			dinv = gamma[o] * A - db * gamma[o] * mean[o];
			dmu = -db * gamma[o] * is;
			dvar = -0.5 * dinv * is * is * is;
			/* dz = dmu / N + dvar * 2 (z - mu) / N */
			for (b = 0; b < (size_t)n; b++) {
				const float *zc = z + (b * (size_t)cout + o) * hw;
				float *dzc = dz + (b * (size_t)cout + o) * hw;

				for (s = 0; s < hw; s++)
					dzc[s] = (float)((dmu + 2.0 * dvar * ((double)zc[s] - mean[o])) /
							 (double)nn);
			}
		}
		f8_conv_bwd(&g, x, w, dz, dx, u->dw2, NULL, p->ws);
		for (k = 0; k < u->wsz; k++)
			gw[k] += u->dw2[k];
	}
	if (u->quant_in && da) {
		const float *t = p->y[a];

		for (k = 0; k < cnt; k++)
			if (qpass(q, t[k] * u->gain, u->fl_x, u->is_signed))
				da[k] += dx[k];
	}
	return true;
}
