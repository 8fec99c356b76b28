// SPDX-License-Identifier: MIT
/*
 * Float network -> integer model (f8-qexport.h). Three passes:
 *   1. structure: every float layer maps to the integer node whose int32 tensor holds its
 *      output (a BN maps to the conv it folds into, a ReLU to the node it flags), with the
 *      node's "gain" (its real value = gain * the float activation; only sum pooling makes
 *      it differ from 1) and whether the tensor is non-negative (u8 or s8 consumers);
 *   2. calibration: the float network in eval mode on the calibration images, with the
 *      statistics of every tensor a conv or linear reads;
 *   3. parameters: fold BN, the producer's gain and (first layer) the input normalisation
 *      into float weights and bias, choose FLs, round to s8 / int32.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "f8-qexport.h"
#include "f8-quant.h"

struct xnode {
	int layer;     /* the float layer the node was made for (conv, add, pool, linear) */
	int bn;        /* the BN folded into it, or -1 */
	int rep;       /* the float layer whose output the node's tensor is (after a ReLU) */
	double gain;   /* node value = gain * float output of rep */
	bool nonneg;
	/* calibration of this tensor as a conv/linear input */
	bool read;     /* some conv or linear reads it */
	double sum, sumsq, count;
	double grid[9];
};

void f8_qm_owned_free(struct f8_qm_owned *o)
{
	uint32_t i;

	if (!o)
		return;
	for (i = 0; o->weights && i < o->m.nnodes; i++) {
		free(o->weights[i]);
		free(o->bias[i]);
	}
	free(o->weights);
	free(o->bias);
	free(o->m.nodes);
	free(o->m.class_names);
	memset(o, 0, sizeof(*o));
}

static size_t layer_elems(const struct f8_layer *l)
{
	return (size_t)l->c * l->h * l->w;
}

static int refuse(struct f8_err *err, const struct f8_layer *l, const char *why)
{
	return f8_fail(err, F8_ERR_RANGE, "layer %s (%s): %s", l->name, f8_layer_kind_name(l->kind),
		       why);
}

/* Pass 1. qn[layer] = node or -1; returns the node count or a negative status. */
static int map_layers(const struct f8_net *net, int *qn, int *uses, struct xnode *x,
		      struct f8_qm_node *nodes, struct f8_err *err)
{
	int i, nn = 0;

	for (i = 0; i < net->nlayers; i++)
		qn[i] = -1;
	for (i = 1; i < net->nlayers; i++) {
		if (net->layers[i].in[0] >= 0)
			uses[net->layers[i].in[0]]++;
		if (net->layers[i].in[1] >= 0)
			uses[net->layers[i].in[1]]++;
	}
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		const int p = l->in[0] >= 0 ? qn[l->in[0]] : -1;
		struct f8_qm_node *n = &nodes[nn];
		struct xnode *xn = &x[nn];

		if (l->kind != F8_LAYER_INPUT && p < 0)
			return refuse(err, l, "its input is a tensor the integer model does not keep");
		if (l->kind == F8_LAYER_BN) {
			if (qn[i] < 0)
				return refuse(err, l, "batch norm not directly after a conv");
			continue;
		}
		if (l->kind == F8_LAYER_RELU) {
			struct f8_qm_node *pn = &nodes[p];

			if ((pn->op != F8_QM_CONV && pn->op != F8_QM_ADD && pn->op != F8_QM_LINEAR) ||
			    (pn->flags & F8_QM_F_RELU) || uses[l->in[0]] != 1)
				return refuse(err, l, "ReLU not fusable into its producer (shared or repeated input)");
			pn->flags |= F8_QM_F_RELU;
			x[p].nonneg = true;
			x[p].rep = i;
			qn[i] = p;
			continue;
		}
		memset(n, 0, sizeof(*n));
		memset(xn, 0, sizeof(*xn));
		n->in[0] = p;
		n->in[1] = -1;
		n->c = (uint16_t)l->c;
		n->h = (uint16_t)l->h;
		n->w = (uint16_t)l->w;
		xn->layer = i;
		xn->bn = -1;
		xn->rep = i;
		xn->gain = p >= 0 ? x[p].gain : 1.0;
		xn->nonneg = p >= 0 ? x[p].nonneg : true;
		snprintf(n->name, sizeof(n->name), "%s", l->name);
		switch (l->kind) {
		case F8_LAYER_INPUT:
			n->op = F8_QM_INPUT;
			n->in[0] = -1;
			n->fl_out = 8;
			break;
		case F8_LAYER_CONV: {
			int j;

			n->op = F8_QM_CONV;
			n->k = (uint8_t)l->k;
			n->stride = (uint8_t)l->stride;
			n->pad = (uint8_t)l->pad;
			if (l->groups > 1)
				n->flags |= F8_QM_F_DEPTHWISE;
			xn->nonneg = false;
			xn->gain = 1.0;
			x[p].read = true;
			/* a BN reading only this conv folds into it */
			for (j = i + 1; j < net->nlayers; j++)
				if (net->layers[j].kind == F8_LAYER_BN && net->layers[j].in[0] == i)
					break;
			if (j < net->nlayers) {
				if (uses[i] != 1)
					return refuse(err, l, "conv output read besides its batch norm");
				xn->bn = j;
				xn->rep = j;
				qn[j] = nn;
			}
			break;
		}
		case F8_LAYER_LINEAR:
			if (net->layers[l->in[0]].h > 255 || net->layers[l->in[0]].w > 255)
				return refuse(err, l, "linear input wider than 255 pixels");
			n->op = F8_QM_LINEAR;
			xn->nonneg = false;
			xn->gain = 1.0;
			x[p].read = true;
			break;
		case F8_LAYER_ADD: {
			const int p2 = qn[l->in[1]];

			if (p2 < 0)
				return refuse(err, l, "its second input is not kept as an integer tensor");
			if (x[p].gain != x[p2].gain)
				return refuse(err, l, "operands of different scales (after an average pool)");
			n->op = F8_QM_ADD;
			n->in[1] = p2;
			xn->nonneg = x[p].nonneg && x[p2].nonneg;
			break;
		}
		case F8_LAYER_MAXPOOL:
			n->op = F8_QM_MAXPOOL;
			n->k = (uint8_t)l->k;
			n->stride = (uint8_t)l->stride;
			n->pad = (uint8_t)l->pad;
			break;
		case F8_LAYER_AVGPOOL: {
			const double kk = (double)l->k * l->k;

			n->op = F8_QM_SUMPOOL;
			n->k = (uint8_t)l->k;
			n->stride = (uint8_t)l->stride;
			n->pad = (uint8_t)l->pad;
			n->pool_shift = (int8_t)lrint(log2(kk)); /* 49 -> 6: the sum is mean * 49/64 */
			xn->gain *= kk / ldexp(1.0, n->pool_shift);
			break;
		}
		default:
			return refuse(err, l, "not an operation of the integer model");
		}
		if (nn >= (int)F8_QM_MAX_NODES)
			return refuse(err, l, "more than 4096 integer nodes");
		qn[i] = nn++;
	}
	return nn;
}

/* Pass 2: the statistics of every tensor a conv or linear reads. */
static int calibrate(struct f8_net *net, const struct f8_dataset *ds,
		     const struct f8_export_cfg *cfg, struct xnode *x, int nn, struct f8_err *err)
{
	const size_t img = (size_t)ds->c * ds->h * ds->w;
	const int total = cfg->calib_images < ds->n ? cfg->calib_images : ds->n;
	float *batch = malloc(sizeof(float) * img * (size_t)cfg->batch);
	int *index = malloc(sizeof(int) * (size_t)cfg->batch);
	int done, b, k;

	if (!batch || !index) {
		free(batch);
		free(index);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory for calibration batches");
	}
	for (done = 0; done < total; done += b) {
		b = total - done < cfg->batch ? total - done : cfg->batch;
		for (k = 0; k < b; k++)
			index[k] = done + k;
		f8_batch_fill(ds, index, b, &cfg->norm, NULL, NULL, batch, NULL);
		f8_net_forward(net, batch, b, false);
		for (k = 1; k < nn; k++) {
			const struct f8_layer *l = &net->layers[x[k].rep];
			const float *y = f8_net_layer_output(net, x[k].rep);
			const size_t cnt = layer_elems(l) * (size_t)b;
			const float g = (float)x[k].gain;
			size_t q;

			if (!x[k].read)
				continue;
			if (cfg->act_fl == F8_FL_GRID) {
				f8_fl_grid_accumulate(y, cnt, g, !x[k].nonneg, x[k].grid);
				continue;
			}
			for (q = 0; q < cnt; q++) {
				const double v = (double)y[q] * g;

				x[k].sum += v;
				x[k].sumsq += v * v;
			}
			x[k].count += (double)cnt;
		}
	}
	free(batch);
	free(index);
	return F8_OK;
}

static int act_fl(const struct f8_export_cfg *cfg, const struct xnode *xn)
{
	double var;

	if (cfg->act_fl == F8_FL_GRID)
		return f8_fl_grid_pick(xn->grid, !xn->nonneg);
	var = xn->count > 1 ? (xn->sumsq - xn->sum * xn->sum / xn->count) / (xn->count - 1) : 0.0;
	return f8_fl_from_std(var > 0 ? sqrt(var) : 0.0, !xn->nonneg);
}

/* An F8Net-trained unit as its fake-quantized eval forward computes it (f8_net_quant_folded):
 * its trained input FL and clip levels, no calibration. */
static int fold_trained(const struct f8_net *net, int layer, int cout, float *wf, double *bf,
			int *fl_in, int *fl_w)
{
	float *b = malloc(sizeof(float) * (size_t)cout);
	int rc = b ? f8_net_quant_folded(net, layer, wf, b, fl_in, fl_w) : F8_ERR_NOMEM;
	int o;

	for (o = 0; !rc && o < cout; o++)
		bf[o] = b[o];
	free(b);
	return rc;
}

/* A float unit: BN folded with the running statistics, the input FL from calibration, the
 * weight FL from the folded weights. */
static void fold_calibrated(const struct f8_net *net, const struct f8_export_cfg *cfg,
			    const struct xnode *x, int k, int p, bool first, int cout,
			    size_t per_out, float *wf, double *bf, int *fl_in, int *fl_w)
{
	const struct f8_layer *l = &net->layers[x[k].layer];
	const float *w = net->param + net->params[l->param[0]].off;
	const float *cb = l->param[1] >= 0 ? net->param + net->params[l->param[1]].off : NULL;
	const size_t nw = per_out * (size_t)cout;
	size_t q;
	int o_;

	/* float weights W_f and bias b_f in the integer input's domain */
	for (o_ = 0; o_ < cout; o_++) {
		double bn_scale = 1.0, scale, wsum = 0.0;

		bf[o_] = cb ? cb[o_] : 0.0;
		if (x[k].bn >= 0) {
			const struct f8_layer *bl = &net->layers[x[k].bn];
			const float *gamma = net->param + net->params[bl->param[0]].off;
			const float *beta = net->param + net->params[bl->param[1]].off;
			const float *st = net->state + net->states[bl->state].off;
			const double inv = 1.0 / sqrt((double)st[bl->c + o_] + (double)net->bn_eps);

			bn_scale = gamma[o_] * inv;
			bf[o_] = beta[o_] + (bf[o_] - st[o_]) * bn_scale;
		}
		/* the producer's tensor is gain * the float input: undo it in the weights */
		scale = bn_scale / x[p].gain;
		/* first layer: raw pixels p / 256 at FL 8 instead of (p / 255 - mean) / std, so
		 * W' = W * 256 / (255 std) and b' = b - (mean / std) * sum(W) (exact away from
		 * the zero padding, which the float network saw as the mean pixel) */
		if (first)
			scale *= 256.0 / (255.0 * cfg->norm.std);
		for (q = 0; q < per_out; q++) {
			wsum += w[o_ * per_out + q] * bn_scale;
			wf[o_ * per_out + q] = (float)(w[o_ * per_out + q] * scale);
		}
		if (first)
			bf[o_] -= cfg->norm.mean / cfg->norm.std * wsum;
	}
	/* FLs */
	*fl_in = first ? 8 : act_fl(cfg, &x[p]);
	if (cfg->weight_fl == F8_FL_GRID) {
		double e[9] = { 0 };

		f8_fl_grid_accumulate(wf, nw, 1.0f, true, e);
		*fl_w = f8_fl_grid_pick(e, true);
	} else {
		*fl_w = f8_fl_from_std(f8_std_unbiased(wf, nw), true);
	}
}

/* Pass 3 for one conv or linear node @k: fold, choose FLs, round. */
static int quantize_node(const struct f8_net *net, const struct f8_export_cfg *cfg,
			 struct xnode *x, struct f8_qm_owned *o, int k, struct f8_err *err)
{
	struct f8_qm_node *n = &o->m.nodes[k];
	const struct f8_layer *l = &net->layers[x[k].layer];
	const int p = n->in[0];
	const struct f8_layer *a = &net->layers[x[p].rep];
	const bool first = o->m.nodes[p].op == F8_QM_INPUT;
	const int cin = a->c, kk = l->kind == F8_LAYER_CONV ? l->k : 1;
	const int cpg = (n->flags & F8_QM_F_DEPTHWISE) ? 1 : cin;
	const size_t per_out = l->kind == F8_LAYER_CONV ? (size_t)cpg * kk * kk : layer_elems(a);
	const size_t nw = per_out * n->c;
	float *wf = malloc(sizeof(float) * nw);
	double *bf = malloc(sizeof(double) * n->c);
	size_t q;
	int o_, fl_in, fl_w, rc = F8_OK;

	o->weights[k] = malloc(nw ? nw : 1);
	o->bias[k] = malloc(sizeof(int32_t) * n->c);
	if (!wf || !bf || !o->weights[k] || !o->bias[k]) {
		free(wf);
		free(bf);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory quantizing %s", l->name);
	}
	if (f8_net_quant_trained(net))
		rc = fold_trained(net, x[k].layer, n->c, wf, bf, &fl_in, &fl_w);
	else
		fold_calibrated(net, cfg, x, k, p, first, n->c, per_out, wf, bf, &fl_in, &fl_w);
	if (rc) {
		free(wf);
		free(bf);
		return f8_fail(err, rc, "cannot fold %s", l->name);
	}
	n->fl_in = (int8_t)fl_in;
	if (!first && !x[p].nonneg)
		n->flags |= F8_QM_F_SIGNED;
	n->fl_w = (int8_t)fl_w;
	n->fl_out = (int8_t)(n->fl_in + n->fl_w);
	/* s8 weights in the device's layout: [cout][k][k][cin] (linear: [out][h][w][c]) */
	for (o_ = 0; o_ < n->c; o_++) {
		for (q = 0; q < per_out; q++) {
			size_t ci, t, dst;

			if (l->kind == F8_LAYER_CONV) {
				const size_t taps = (size_t)kk * kk;

				ci = q / taps;
				t = q % taps;
				dst = t * cpg + ci;
			} else {
				const size_t hw = (size_t)a->h * a->w;

				ci = q / hw;
				t = q % hw;
				dst = t * cin + ci;
			}
			o->weights[k][o_ * per_out + dst] = (int8_t)f8_fix_code(wf[o_ * per_out + q], fl_w, true);
		}
		o->bias[k][o_] = f8_fix_bias(bf[o_], n->fl_out);
	}
	n->weights = o->weights[k];
	n->bias = o->bias[k];
	free(wf);
	free(bf);
	return F8_OK;
}

int f8_qm_export(struct f8_net *net, const struct f8_dataset *calib,
		 const struct f8_export_cfg *cfg, struct f8_qm_owned *out, struct f8_err *err)
{
	const int nl = net->nlayers;
	int *qn = calloc((size_t)nl, sizeof(int)), *uses = calloc((size_t)nl, sizeof(int));
	struct xnode *x = calloc((size_t)nl, sizeof(*x));
	struct f8_qm_error qe;
	int nn, k, rc;
	uint32_t c;

	memset(out, 0, sizeof(*out));
	if (cfg->calib_images < 1 || cfg->batch < 1 || cfg->batch > 1024) {
		free(qn);
		free(uses);
		free(x);
		return f8_fail(err, F8_ERR_RANGE, "calibration images >= 1 and batch 1..1024");
	}
	out->m.nodes = calloc((size_t)nl, sizeof(struct f8_qm_node));
	if (!qn || !uses || !x || !out->m.nodes) {
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory exporting");
		goto fail;
	}
	if (calib->c != net->layers[0].c || calib->h != net->layers[0].h ||
	    calib->w != net->layers[0].w) {
		rc = f8_fail(err, F8_ERR_RANGE, "calibration images are %dx%dx%d, the network takes %dx%dx%d",
			     calib->c, calib->h, calib->w, net->layers[0].c, net->layers[0].h,
			     net->layers[0].w);
		goto fail;
	}
	nn = map_layers(net, qn, uses, x, out->m.nodes, err);
	if (nn < 0) {
		rc = nn;
		goto fail;
	}
	out->m.nnodes = (uint32_t)nn;
	out->m.classes = (uint32_t)net->classes;
	out->weights = calloc((size_t)nn, sizeof(*out->weights));
	out->bias = calloc((size_t)nn, sizeof(*out->bias));
	out->m.class_names = calloc((size_t)net->classes, F8_QM_NAME_MAX);
	if (!out->weights || !out->bias || !out->m.class_names) {
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory exporting");
		goto fail;
	}
	for (c = 0; c < out->m.classes; c++)
		snprintf(out->m.class_names[c], F8_QM_NAME_MAX, "%s",
			 cfg->class_names ? cfg->class_names[c] : "");
	for (c = 0; !cfg->class_names && c < out->m.classes; c++)
		snprintf(out->m.class_names[c], F8_QM_NAME_MAX, "%u", c);
	snprintf(out->m.model_name, 24, "%s", cfg->model_name ? cfg->model_name : "");
	if (f8_net_quant_trained(net)) {
		/* FLs and clip levels were trained: nothing to calibrate */
		if (!net->input_raw) {
			rc = f8_fail(err, F8_ERR_RANGE,
				     "an F8Net-trained network must take raw pixels (input=raw)");
			goto fail;
		}
	} else {
		rc = f8_net_plan(net, cfg->batch, err);
		if (rc)
			goto fail;
		rc = calibrate(net, calib, cfg, x, nn, err);
		if (rc)
			goto fail;
	}
	/* FLs follow the graph order: a node's input FL needs its producer's output FL */
	for (k = 1; k < nn; k++) {
		struct f8_qm_node *n = &out->m.nodes[k];

		switch (n->op) {
		case F8_QM_CONV:
		case F8_QM_LINEAR:
			rc = quantize_node(net, cfg, x, out, k, err);
			if (rc)
				goto fail;
			break;
		case F8_QM_ADD: {
			const int fa = out->m.nodes[n->in[0]].fl_out, fb = out->m.nodes[n->in[1]].fl_out;

			n->fl_out = (int8_t)(fa > fb ? fa : fb);
			break;
		}
		case F8_QM_MAXPOOL:
			n->fl_out = out->m.nodes[n->in[0]].fl_out;
			break;
		case F8_QM_SUMPOOL:
			n->fl_out = (int8_t)(out->m.nodes[n->in[0]].fl_out + n->pool_shift);
			break;
		default:
			break;
		}
	}
	rc = f8_qm_check(&out->m, &qe);
	if (rc) {
		rc = f8_fail(err, rc, "the exported model is not valid: node %d (%s): %s", qe.node,
			     qe.node >= 0 ? out->m.nodes[qe.node].name : "-", qe.what);
		goto fail;
	}
	free(qn);
	free(uses);
	free(x);
	return F8_OK;
fail:
	free(qn);
	free(uses);
	free(x);
	f8_qm_owned_free(out);
	return rc;
}
