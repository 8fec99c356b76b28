// SPDX-License-Identifier: MIT
/*
 * F8Net fake quantization as a mode of the planned network (f8-net.h, docs/f8net.md).
 *
 * A "unit" is a conv (with the BN that reads it, folded) or a linear layer. Its forward:
 *   x^ = Q(t * g, FL_x)           the input t quantized (u8 after a ReLU, s8 otherwise) at
 *                                 the batch's FL (train) or round(running FL) (eval); g is
 *                                 the sum-pool gain (k*k / 2^round(log2 k*k)) of an average
 *                                 pool before it, 1 elsewhere: x^ is the value the device
 *                                 holds; the image is not quantized
 *   s  = eta_self / g             the real value of the input is s * x^ (eta: below)
 *   z  = conv(x^, s W)            statistics pass (train): batch mean and variance, running
 *                                 statistics updated as BN does
 *   W_f = W * gamma / sigma * s / eta_next, b_f = (beta - gamma * mu / sigma) / eta_next
 *                                 (eval: running statistics; no BN: W * s / eta_next, b / eta_next)
 *   W^ = Q(W_f, FL_w), FL_w from W_f every step
 *   y  = conv(x^, W^) + b_f       written where the BN's output lives
 * PACT (cfg.pact): eta = 2^round(FL_run) * |alpha| / M (M = 255 u8, 127 s8) with alpha the
 * unit's clip parameter, so that x^ = clamp(round(x * M / alpha)) * 2^-FL; every tensor is
 * stored normalised by the eta of its first consumer unit ("eta_next" of its producer).
 * Without PACT (tiny fine-tuning) and for the image's consumer, eta = 1.
 * Backward: straight-through estimators with F8Net's strict masks on the rounded codes, and
 * full gradients through mu and sigma (they are not detached), as autograd does in the
 * official code: dz = dmu / N + dvar * 2 (z - mu) / N flows back through the statistics conv.
 * Alpha's gradient comes through eta wherever it appears: the consumer's s (in W_f and the
 * statistics pass) and the producer's 1 / eta_next (in W_f and b_f).
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
	float fl_run;     /* running activation FL (without PACT) */
	float *flr;       /* the running FL: &fl_run, or the network's state (PACT) */
	bool fl_seen;     /* *flr holds a value */
	int alpha;        /* offset of its clip parameter in net->param, or -1 (eta = 1) */
	int next;         /* the unit whose eta normalises its output, or -1 */
	int fl_x, fl_w;   /* of the last forward */
	float eta_self, eta_next; /* of the last forward */
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
	double *zpart;  /* [max cout]: per-channel sums of dz * z for alpha's gradient */
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
	free(q->zpart);
	q->zpart = NULL;
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

/* Each unit's "next": the lowest-numbered unit its output reaches through ReLU, add and
 * pool layers (F8Net's following layer: the next block's first conv, or the classifier). */
static bool link_next(struct f8_net *net, struct f8_quant *q)
{
	int *reach = malloc(sizeof(int) * (size_t)net->nlayers);
	int i, j, k;

	if (!reach)
		return false;
	for (i = 0; i < net->nlayers; i++)
		reach[i] = -1;
	for (i = net->nlayers - 1; i > 0; i--) {
		const struct f8_layer *l = &net->layers[i];
		const bool unit_in = l->kind == F8_LAYER_CONV || l->kind == F8_LAYER_LINEAR;
		const int cand = unit_in ? i : reach[i];

		if (l->kind == F8_LAYER_BN)
			continue; /* inside a unit */
		for (j = 0; j < 2; j++) {
			const int a = l->in[j];

			if (a >= 0 && cand >= 0 && (reach[a] < 0 || cand < reach[a]))
				reach[a] = cand;
		}
	}
	for (k = 0; k < q->nunits; k++) {
		struct qunit *u = &q->u[k];
		const int out = u->bn >= 0 ? u->bn : u->layer;

		u->next = reach[out] >= 0 ? q->unit_of[reach[out]] : -1;
	}
	free(reach);
	return true;
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
	if (cfg->pact && !net->clip_pact)
		return f8_fail(err, F8_ERR_RANGE, "PACT needs a network with clip parameters (clip=pact)");
	if (cfg->fixed_fl && (cfg->fl_x < 0 || cfg->fl_x > 7 || cfg->fl_w < 0 || cfg->fl_w > 7))
		return f8_fail(err, F8_ERR_RANGE, "fixed FLs %d / %d outside 0..7", cfg->fl_x, cfg->fl_w);
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
		u->flr = &u->fl_run;
		u->alpha = -1;
		u->next = -1;
		u->eta_self = u->eta_next = 1.0f;
		if (cfg->pact && l->clip >= 0) {
			u->alpha = (int)net->params[l->clip].off;
			u->flr = net->state + net->states[l->state].off;
			u->fl_seen = true; /* F8Net's running FL starts at 6 */
		}
		q->unit_of[i] = q->nunits++;
	}
	free(uses);
	net->quant = q;
	if (cfg->pact && !link_next(net, q)) {
		f8_quant_free(net);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory for the quantization state");
	}
	return F8_OK;
}

float f8_net_quant_fl(const struct f8_net *net, int layer)
{
	const struct f8_quant *q = net->quant;

	if (!q || layer < 0 || layer >= net->nlayers || q->unit_of[layer] < 0 ||
	    q->u[q->unit_of[layer]].layer != layer || !q->u[q->unit_of[layer]].quant_in)
		return -1.0f;
	return *q->u[q->unit_of[layer]].flr;
}

int f8_net_quant_set_fl(struct f8_net *net, int layer, float fl)
{
	struct f8_quant *q = net->quant;
	struct qunit *u;

	if (f8_net_quant_fl(net, layer) < 0.0f || !(fl >= 0.0f && fl <= 8.0f))
		return F8_ERR_RANGE;
	u = &q->u[q->unit_of[layer]];
	*u->flr = fl;
	u->fl_seen = true;
	return F8_OK;
}

int f8_quant_plan(struct f8_net *net, struct f8_err *err)
{
	struct f8_quant *q = net->quant;
	const size_t b = (size_t)net->plan->batch;
	size_t max_cout = 1;
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
	for (k = 0; k < q->nunits; k++)
		if ((size_t)net->layers[q->u[k].layer].c > max_cout)
			max_cout = (size_t)net->layers[q->u[k].layer].c;
	q->zpart = malloc(sizeof(double) * max_cout);
	if (!q->dxq || !q->part || !q->zpart) {
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
		u->xq[off + k] = qval(j->q, j->t[off + k] * u->gain, u->fl_x, u->is_signed);
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
			j->da[off + k] += j->dx[off + k] * u->gain; /* x^ = Q(t g) */
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

/* round(running FL), clamped to the code's range: the FL of eval and of eta. */
static int run_fl(const struct qunit *u)
{
	const int fl = (int)nearbyintf(*u->flr);

	return fl < 0 ? 0 : fl > f8_fl_max(u->is_signed) ? f8_fl_max(u->is_signed) : fl;
}

/* FL of a unit's input for this forward; the running value moves in training. */
static int input_fl(struct f8_quant *q, struct qunit *u, const float *t, size_t n, bool train)
{
	int fl;

	if (q->cfg.fixed_fl)
		return q->cfg.fl_x;
	if (!train)
		return run_fl(u);
	if (q->cfg.act_grid)
		fl = batch_grid(q, u, t, (int)(n / u->in_elems));
	else
		fl = f8_fl_from_std(batch_std(q, u, t, (int)(n / u->in_elems)) * u->gain, u->is_signed);
	/* F8Net starts the running value at 6; starting at the first batch's FL skips the
	 * transient without changing where it settles */
	*u->flr = u->fl_seen ? (1.0f - q->cfg.momentum) * *u->flr + q->cfg.momentum * (float)fl
			     : (float)fl;
	u->fl_seen = true;
	return fl;
}

/* eta of unit @k as it stands (1 without a clip parameter): 2^round(FL_run) |alpha| / M */
static float unit_eta(const struct f8_net *net, const struct f8_quant *q, int k)
{
	const struct qunit *u;

	if (k < 0 || q->u[k].alpha < 0)
		return 1.0f;
	u = &q->u[k];
	return ldexpf(fabsf(net->param[u->alpha]), q->cfg.fixed_fl ? q->cfg.fl_x : run_fl(u)) /
	       (u->is_signed ? 127.0f : 255.0f);
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

/* W_f and b_f of unit @u into @wf, @bf from the BN statistics @mean, @invstd (NULL: no BN),
 * with c = eta_self / (gain * eta_next) and the bias divided by eta_next. */
static void fold(const struct f8_net *net, const struct qunit *u, const float *mean,
		 const float *invstd, float *wf, float *bf)
{
	const struct f8_layer *l = &net->layers[u->layer];
	const float *w = pbase(net, l, 0);
	const size_t cout = (size_t)l->c, per = u->wsz / cout;
	const float c = u->eta_self / (u->gain * u->eta_next);
	size_t o, k;

	if (u->bn >= 0) {
		const struct f8_layer *bl = &net->layers[u->bn];
		const float *gamma = pbase(net, bl, 0), *beta = pbase(net, bl, 1);

		for (o = 0; o < cout; o++) {
			const float sc = gamma[o] * invstd[o], sw = sc * c;

			for (k = 0; k < per; k++)
				wf[o * per + k] = w[o * per + k] * sw;
			bf[o] = (beta[o] - mean[o] * sc) / u->eta_next;
		}
	} else {
		const float *b = pbase(net, l, 1);

		for (k = 0; k < u->wsz; k++)
			wf[k] = w[k] * c;
		for (o = 0; o < cout; o++)
			bf[o] = (b ? b[o] : 0.0f) / u->eta_next;
	}
}

static int weight_fl(const struct f8_quant *q, const float *wf, size_t n)
{
	return q->cfg.fixed_fl ? q->cfg.fl_w : fl_of(wf, n, 1.0f, true, q->cfg.weight_grid);
}

/* Running statistics as the eval-mode BN uses them. */
static void running_stats(const struct f8_net *net, int bn, float *mean, float *invstd)
{
	const struct f8_layer *bl = &net->layers[bn];
	const float *st = net->state + net->states[bl->state].off;
	size_t o;

	for (o = 0; o < (size_t)bl->c; o++) {
		mean[o] = st[o];
		invstd[o] = (float)(1.0 / sqrt((double)st[bl->c + o] + net->bn_eps));
	}
}

bool f8_quant_fwd(struct f8_net *net, int i, int n, bool train)
{
	struct f8_quant *q = net->quant;
	struct f8_net_plan *p = net->plan;
	const struct f8_layer *l = &net->layers[i];
	struct qunit *u;
	const float *t, *x;
	float *y;
	size_t cnt, k;
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
	/* eta_next as it stands now: the consumer runs after this unit */
	u->eta_self = unit_eta(net, q, q->unit_of[i]);
	u->eta_next = unit_eta(net, q, u->next);
	cout = l->c;
	if (u->bn >= 0) {
		const struct f8_layer *bl = &net->layers[u->bn];
		float *st = net->state + net->states[bl->state].off;
		float *mean = p->save_mean[u->bn], *invstd = p->save_invstd[u->bn];

		if (train) {
			struct f8_conv_geom g = unit_geom(net, l, n);
			const float s_in = u->eta_self / u->gain;
			const float *w = pbase(net, l, 0);

			/* statistics pass: z = conv(x^, s W) into the conv's own output (u->wf holds
			 * s W until the fold); BN statistics only, its output is not needed */
			if (s_in != 1.0f) {
				for (k = 0; k < u->wsz; k++)
					u->wf[k] = w[k] * s_in;
				w = u->wf;
			}
			f8_conv_fwd(&g, x, w, NULL, p->y[i], p->ws);
			f8_bn_fwd_train(n, cout, l->h * l->w, p->y[i], pbase(net, bl, 0),
					pbase(net, bl, 1), net->bn_eps, net->bn_momentum, st, st + cout,
					mean, invstd, NULL);
		} else {
			running_stats(net, u->bn, mean, invstd);
		}
		fold(net, u, mean, invstd, u->wf, u->bf);
	} else {
		fold(net, u, NULL, NULL, u->wf, u->bf);
	}
	u->fl_w = weight_fl(q, u->wf, u->wsz);
	for (k = 0; k < u->wsz; k++)
		u->wq[k] = qval(q, u->wf[k], u->fl_w, true);
	/* eval in fixed point: the bias on the accumulator's grid, as the integer model holds it
	 * (F8Net's quant_bias), so that the simulation is the integer arithmetic up to float
	 * rounding of large sums; training keeps it float, as the official code does */
	if (!train && q->cfg.mode == F8_QUANT_FIXED && (u->quant_in || net->input_raw)) {
		const int fl_acc = (u->quant_in ? u->fl_x : 8) + u->fl_w;

		for (k = 0; k < (size_t)cout; k++)
			u->bf[k] = (float)ldexp((double)f8_fix_bias(u->bf[k], fl_acc), -fl_acc);
	}
	y = p->y[u->bn >= 0 ? u->bn : i];
	if (l->kind == F8_LAYER_CONV) {
		struct f8_conv_geom g = unit_geom(net, l, n);

		f8_conv_fwd(&g, x, u->wq, u->bf, y, p->ws);
	} else {
		f8_linear_fwd(n, (int)u->in_elems, cout, x, u->wq, u->bf, y);
	}
	return true;
}

bool f8_net_quant_trained(const struct f8_net *net)
{
	return net->quant && net->quant->cfg.pact;
}

int f8_net_quant_folded(const struct f8_net *net, int layer, float *wf, float *bf, int *fl_x,
			int *fl_w)
{
	const struct f8_quant *q = net->quant;
	struct qunit u;
	float *mean = NULL, *invstd = NULL;

	if (!q || layer < 0 || layer >= net->nlayers || q->unit_of[layer] < 0 ||
	    q->u[q->unit_of[layer]].layer != layer)
		return F8_ERR_RANGE;
	u = q->u[q->unit_of[layer]];
	u.eta_self = unit_eta(net, q, q->unit_of[layer]);
	u.eta_next = unit_eta(net, q, u.next);
	if (u.bn >= 0) {
		const size_t c = (size_t)net->layers[layer].c;

		mean = malloc(sizeof(float) * c);
		invstd = malloc(sizeof(float) * c);
		if (!mean || !invstd) {
			free(mean);
			free(invstd);
			return F8_ERR_NOMEM;
		}
		running_stats(net, u.bn, mean, invstd);
	}
	fold(net, &u, mean, invstd, wf, bf);
	free(mean);
	free(invstd);
	*fl_x = !u.quant_in ? 8 : q->cfg.fixed_fl ? q->cfg.fl_x : run_fl(&u);
	*fl_w = weight_fl(q, wf, u.wsz);
	return F8_OK;
}

/* Backward of the BN fold for one output channel o, from the gradients of the unscaled
 * fold W gamma invstd (in u->dwq) and of beta - gamma mu invstd (in u->dbf). */
struct fold_job {
	const struct qunit *u;
	const float *w, *gamma, *z, *mean, *invstd;
	float *dz, *gw, *ggamma, *gbeta;
	double *zsum;    /* per channel: sum of dz * z (alpha's gradient), or NULL */
	float s_in;      /* the statistics pass's input scale: dz is scaled by it at the end */
	int n, cout;
	size_t hw, per;
};

static void fold_bwd_channel(void *ctx, size_t o, int thread)
{
	const struct fold_job *j = ctx;
	const struct qunit *u = j->u;
	const double is = j->invstd[o], db = u->dbf[o], nn = (double)j->n * (double)j->hw;
	double A = 0.0, dinv, dvar, dmu, zs = 0.0;
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
	/* through the batch statistics: dz = dmu / N + dvar * 2 (z - mu) / N; the statistics
	 * conv then sees s dz (z = s conv(x^, W)) */
	for (b = 0; b < (size_t)j->n; b++) {
		const float *zc = j->z + (b * (size_t)j->cout + o) * j->hw;
		float *dzc = j->dz + (b * (size_t)j->cout + o) * j->hw;

		for (s = 0; s < j->hw; s++) {
			const double d = (dmu + 2.0 * dvar * ((double)zc[s] - j->mean[o])) / nn;

			zs += d * zc[s];
			dzc[s] = (float)(d * j->s_in);
		}
	}
	if (j->zsum)
		j->zsum[o] = zs;
}

/* Zero the clip parameters' gradients: several units add to each. */
void f8_quant_bwd_begin(struct f8_net *net)
{
	const struct f8_quant *q = net->quant;
	int k;

	for (k = 0; k < q->nunits; k++)
		if (q->u[k].alpha >= 0)
			net->grad[q->u[k].alpha] = 0.0f;
}

/* d loss / d alpha of unit @k += g / alpha, for a term g = sum(dL/dv * v) of a quantity v
 * proportional to |alpha| (eta is). */
static void alpha_grad(struct f8_net *net, const struct f8_quant *q, int k, double g)
{
	if (k >= 0 && q->u[k].alpha >= 0 && net->param[q->u[k].alpha] != 0.0f)
		net->grad[q->u[k].alpha] += (float)(g / net->param[q->u[k].alpha]);
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
	int cout, self;
	float c;

	if (q->unit_of[i] < 0)
		return false;
	self = q->unit_of[i];
	u = &q->u[self];
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
	if (u->alpha >= 0 || (u->next >= 0 && q->u[u->next].alpha >= 0)) {
		double gwf = 0.0, gbf = 0.0;

		for (k = 0; k < u->wsz; k++)
			gwf += (double)u->dwq[k] * u->wf[k];
		for (k = 0; k < (size_t)cout; k++)
			gbf += (double)u->dbf[k] * u->bf[k];
		alpha_grad(net, q, self, gwf);           /* W_f ~ eta_self */
		alpha_grad(net, q, u->next, -gwf - gbf); /* W_f, b_f ~ 1 / eta_next */
	}
	/* to the gradients of the unscaled fold: W_f = fold * c, b_f = bias / eta_next */
	c = u->eta_self / (u->gain * u->eta_next);
	if (c != 1.0f)
		for (k = 0; k < u->wsz; k++)
			u->dwq[k] *= c;
	if (u->eta_next != 1.0f)
		for (k = 0; k < (size_t)cout; k++)
			u->dbf[k] /= u->eta_next;
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
			.zsum = u->alpha >= 0 ? q->zpart : NULL, .s_in = u->eta_self / u->gain,
		};
		struct f8_conv_geom g = unit_geom(net, l, n);

		f8_par_for((size_t)cout, fold_bwd_channel, &fj);
		if (fj.zsum) { /* z = s conv(x^, W) ~ eta_self */
			double zs = 0.0;

			for (k = 0; k < (size_t)cout; k++)
				zs += q->zpart[k];
			alpha_grad(net, q, self, zs);
		}
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
