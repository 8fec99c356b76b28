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
#include "f8-par.h"
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
	double *part;   /* [batch][9]: per-image sums for the activation std or the grid search */
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
	free(q->part);
	q->part = NULL;
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

int f8_net_quant_set_fl(struct f8_net *net, int layer, float fl)
{
	struct f8_quant *q = net->quant;
	struct qunit *u;

	if (f8_net_quant_fl(net, layer) < 0.0f || !(fl >= 0.0f && fl <= 8.0f))
		return F8_ERR_RANGE;
	u = &q->u[q->unit_of[layer]];
	u->fl_run = fl;
	u->fl_seen = true;
	return F8_OK;
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
	q->part = malloc(sizeof(double) * 9 * b);
	if (!q->dxq || !q->part) {
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

/* Per-image work of a unit's input, split over the pool (results do not depend on it). */
struct img_job {
	const struct f8_quant *q;
	const struct qunit *u;
	const float *t;  /* the unit's input [n][in_elems] */
	float *dx;       /* backward: gradient of x^ */
	float *da;       /* backward: gradient of t (accumulated) */
	double *part;
};

static void img_sums(void *ctx, size_t i, int thread)
{
	const struct img_job *j = ctx;
	const float *t = j->t + i * j->u->in_elems;
	double s = 0.0, ss = 0.0;
	size_t k;

	(void)thread;
	for (k = 0; k < j->u->in_elems; k++) {
		s += t[k];
		ss += (double)t[k] * t[k];
	}
	j->part[2 * i] = s;
	j->part[2 * i + 1] = ss;
}

static void img_grid(void *ctx, size_t i, int thread)
{
	const struct img_job *j = ctx;
	double *e = j->part + 9 * i;
	int fl;

	(void)thread;
	for (fl = 0; fl < 9; fl++)
		e[fl] = 0.0;
	f8_fl_grid_accumulate(j->t + i * j->u->in_elems, j->u->in_elems, j->u->gain,
			      j->u->is_signed, e);
}

/* Grid search over the batch: per-image squared errors added in image order. */
static int batch_grid(struct f8_quant *q, const struct qunit *u, const float *t, int n)
{
	struct img_job j = { .q = q, .u = u, .t = t, .part = q->part };
	double e[9] = { 0 };
	int i, fl;

	f8_par_for((size_t)n, img_grid, &j);
	for (i = 0; i < n; i++)
		for (fl = 0; fl < 9; fl++)
			e[fl] += q->part[9 * i + fl];
	return f8_fl_grid_pick(e, u->is_signed);
}

static void img_quant(void *ctx, size_t i, int thread)
{
	const struct img_job *j = ctx;
	const struct qunit *u = j->u;
	const size_t off = i * u->in_elems;
	size_t k;

	(void)thread;
	for (k = 0; k < u->in_elems; k++)
		u->xq[off + k] = qval(j->q, j->t[off + k] * u->gain, u->fl_x, u->is_signed) / u->gain;
}

static bool qpass(const struct f8_quant *q, float v, int fl, bool is_signed);

static void img_mask(void *ctx, size_t i, int thread)
{
	const struct img_job *j = ctx;
	const struct qunit *u = j->u;
	const size_t off = i * u->in_elems;
	size_t k;

	(void)thread;
	for (k = 0; k < u->in_elems; k++)
		if (qpass(j->q, j->t[off + k] * u->gain, u->fl_x, u->is_signed))
			j->da[off + k] += j->dx[off + k];
}

/* Unbiased std of the batch from per-image sums added in image order. */
static double batch_std(struct f8_quant *q, const struct qunit *u, const float *t, int n)
{
	struct img_job j = { .q = q, .u = u, .t = t, .part = q->part };
	double s = 0.0, ss = 0.0, cnt = (double)n * (double)u->in_elems, var;
	int i;

	f8_par_for((size_t)n, img_sums, &j);
	for (i = 0; i < n; i++) {
		s += q->part[2 * i];
		ss += q->part[2 * i + 1];
	}
	if (cnt < 2)
		return 0.0;
	var = (ss - s * s / cnt) / (cnt - 1.0);
	return var > 0.0 ? sqrt(var) : 0.0;
}

/* FL of a unit's input for this forward; the running value moves in training. */
static int input_fl(struct f8_quant *q, struct qunit *u, const float *t, size_t n, bool train)
{
	int fl;

	if (!train) {
		fl = (int)nearbyintf(u->fl_run);
		return fl < 0 ? 0 : fl > f8_fl_max(u->is_signed) ? f8_fl_max(u->is_signed) : fl;
	}
	if (q->cfg.act_grid)
		fl = batch_grid(q, u, t, (int)(n / u->in_elems));
	else
		fl = f8_fl_from_std(batch_std(q, u, t, (int)(n / u->in_elems)) * u->gain, u->is_signed);
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
		struct img_job j = { .q = q, .u = u, .t = t };

		u->fl_x = input_fl(q, u, t, cnt, train);
		f8_par_for((size_t)n, img_quant, &j);
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

/* Backward of the BN fold for one output channel o: from dW_f (in u->dwq) and db_f. */
struct fold_job {
	const struct qunit *u;
	const float *w, *gamma, *z, *mean, *invstd;
	float *dz, *gw, *ggamma, *gbeta;
	int n, cout;
	size_t hw, per;
};

static void fold_bwd_channel(void *ctx, size_t o, int thread)
{
	const struct fold_job *j = ctx;
	const struct qunit *u = j->u;
	const double is = j->invstd[o], db = u->dbf[o], nn = (double)j->n * (double)j->hw;
	double A = 0.0, dinv, dvar, dmu;
	size_t k, b, s;

	(void)thread;
	for (k = 0; k < j->per; k++) {
		A += (double)u->dwq[o * j->per + k] * j->w[o * j->per + k];
		j->gw[o * j->per + k] = u->dwq[o * j->per + k] * j->gamma[o] * j->invstd[o];
	}
	/* W_f = W gamma invstd, b_f = beta - gamma mu invstd, invstd = (var + eps)^-1/2 */
	j->ggamma[o] = (float)(A * is - db * j->mean[o] * is);
	j->gbeta[o] = (float)db;
	dinv = j->gamma[o] * A - db * j->gamma[o] * j->mean[o];
	dmu = -db * j->gamma[o] * is;
	dvar = -0.5 * dinv * is * is * is;
	/* through the batch statistics: dz = dmu / N + dvar * 2 (z - mu) / N */
	for (b = 0; b < (size_t)j->n; b++) {
		const float *zc = j->z + (b * (size_t)j->cout + o) * j->hw;
		float *dzc = j->dz + (b * (size_t)j->cout + o) * j->hw;

		for (s = 0; s < j->hw; s++)
			dzc[s] = (float)((dmu + 2.0 * dvar * ((double)zc[s] - j->mean[o])) / nn);
	}
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
	size_t cnt, k, per;
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
		const float *w = pbase(net, l, 0);
		struct fold_job fj = {
			.u = u, .w = pbase(net, l, 0), .gamma = pbase(net, bl, 0), .z = p->y[i],
			.dz = p->dy[i], .mean = p->save_mean[u->bn], .invstd = p->save_invstd[u->bn],
			.gw = gw, .ggamma = gbase(net, bl, 0), .gbeta = gbase(net, bl, 1), .n = n,
			.cout = cout, .hw = (size_t)l->h * l->w, .per = per,
		};
		struct f8_conv_geom g = unit_geom(net, l, n);

		f8_par_for((size_t)cout, fold_bwd_channel, &fj);
		f8_conv_bwd(&g, x, w, fj.dz, dx, u->dw2, NULL, p->ws);
		for (k = 0; k < u->wsz; k++)
			gw[k] += u->dw2[k];
	}
	if (u->quant_in && da) {
		struct img_job j = { .q = q, .u = u, .t = p->y[a], .dx = dx, .da = da };

		f8_par_for((size_t)n, img_mask, &j);
	}
	return true;
}
