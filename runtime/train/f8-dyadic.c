// SPDX-License-Identifier: MIT
/*
 * The int32-multiplier ("dyadic") post-training quantization baseline (f8-dyadic.h).
 * Integer-only inference, one image at a time, over the float network's layers: a tensor
 * between layers is 8-bit codes with a real scale; conv and linear accumulate in int32;
 * every rescaling is an int32 multiplier and a shift.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "f8-dyadic.h"
#include "f8-par.h"

/* A real ratio r > 0 as m * 2^-shift, m an int32 in [2^30, 2^31): v * r = (v * m) >> shift. */
struct dyad {
	int64_t m;
	int shift;
};

struct dlayer {
	bool code;      /* this layer's output exists as 8-bit codes */
	bool is_signed; /* s8 [-127, 127], else u8 [0, 255] */
	bool relu;      /* conv/add/linear: a ReLU follows (fused) */
	int bn;         /* conv: the BN folded into it, or -1 */
	int rep;        /* the float layer whose output these codes stand for (after BN, ReLU) */
	double scale;   /* real value = code * scale */
	double amax;    /* calibration: max |x| of the output (after the fused ReLU) */
	int8_t *w;      /* conv/linear: per-channel int8 weights, the float layout */
	int32_t *b;     /* conv/linear: int32 bias at s_x * s_w[o] */
	struct dyad *req; /* conv: per output channel, accumulator -> output codes */
	struct dyad ra, rb; /* add: operands -> output scale (with 2^16 headroom) */
	struct dyad pool;   /* avgpool: sum -> output codes */
};

struct f8_dyadic {
	const struct f8_net *net;
	struct dlayer *l;
	int *owner;     /* [nlayers]: the layer whose codes hold this layer's output */
	struct f8_norm norm;
	double in_scale;
	size_t max_elems;
};

static size_t elems(const struct f8_layer *l)
{
	return (size_t)l->c * l->h * l->w;
}

static struct dyad dyad_of(double r)
{
	struct dyad d = { 0, 0 };
	int e;
	double m;

	if (!(r > 0.0))
		return d;
	m = frexp(r, &e); /* r = m 2^e, m in [0.5, 1) */
	d.m = llround(ldexp(m, 31));
	d.shift = 31 - e;
	if (d.m == (INT64_C(1) << 31)) {
		d.m >>= 1;
		d.shift--;
	}
	return d;
}

/* round(v * m * 2^-shift), half away from zero, for |v| < 2^31. */
static int64_t dyad_apply(int64_t v, struct dyad d)
{
	const int64_t p = v * d.m;

	if (d.shift <= 0)
		return p * (INT64_C(1) << (d.shift < -30 ? 30 : -d.shift));
	if (d.shift > 62)
		return 0;
	{
		const int64_t half = INT64_C(1) << (d.shift - 1);

		return p >= 0 ? (p + half) >> d.shift : -((-p + half) >> d.shift);
	}
}

static int64_t clamp8(int64_t v, bool is_signed)
{
	const int64_t lo = is_signed ? -127 : 0, hi = is_signed ? 127 : 255;

	return v < lo ? lo : v > hi ? hi : v;
}

void f8_dyadic_free(struct f8_dyadic *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; d->l && i < d->net->nlayers; i++) {
		free(d->l[i].w);
		free(d->l[i].b);
		free(d->l[i].req);
	}
	free(d->l);
	free(d->owner);
	free(d);
}

static int refuse(struct f8_err *err, const struct f8_layer *l, const char *why)
{
	return f8_fail(err, F8_ERR_RANGE, "layer %s (%s): %s", l->name, f8_layer_kind_name(l->kind),
		       why);
}

/* Which layers hold codes, which are fused (BN into conv, ReLU into its producer). */
static int dy_structure(struct f8_dyadic *d, struct f8_err *err)
{
	const struct f8_net *net = d->net;
	int *uses = calloc((size_t)net->nlayers, sizeof(int));
	int i, j;

	if (!uses)
		return f8_fail(err, F8_ERR_NOMEM, "out of memory");
	for (i = 1; i < net->nlayers; i++)
		for (j = 0; j < 2; j++)
			if (net->layers[i].in[j] >= 0)
				uses[net->layers[i].in[j]]++;
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		struct dlayer *dl = &d->l[i];
		int rc = F8_OK;

		dl->bn = -1;
		dl->rep = i;
		d->owner[i] = i;
		switch (l->kind) {
		case F8_LAYER_LINEAR:
			if (i != net->nlayers - 1) {
				rc = refuse(err, l, "a linear layer before the classifier");
				break;
			}
			dl->code = true;
			break;
		case F8_LAYER_INPUT:
		case F8_LAYER_CONV:
		case F8_LAYER_ADD:
		case F8_LAYER_MAXPOOL:
		case F8_LAYER_AVGPOOL:
			dl->code = true;
			break;
		case F8_LAYER_BN: {
			const int c = l->in[0];

			if (net->layers[c].kind != F8_LAYER_CONV || uses[c] != 1 || d->l[c].bn >= 0)
				rc = refuse(err, l, "batch norm not after a conv it alone reads");
			else {
				d->l[c].bn = i;
				d->l[c].rep = i;
				d->owner[i] = c;
			}
			break;
		}
		case F8_LAYER_RELU: {
			const int p = d->owner[l->in[0]];
			const enum f8_layer_kind k = net->layers[p].kind;

			if ((k != F8_LAYER_CONV && k != F8_LAYER_ADD && k != F8_LAYER_LINEAR) ||
			    uses[l->in[0]] != 1 || d->l[p].relu)
				rc = refuse(err, l, "ReLU not fusable into its producer");
			else {
				d->l[p].relu = true;
				d->l[p].rep = i;
				d->owner[i] = p;
			}
			break;
		}
		default:
			rc = refuse(err, l, "not handled by the baseline");
		}
		if (rc) {
			free(uses);
			return rc;
		}
	}
	free(uses);
	return F8_OK;
}

static double fmaxabs(const float *x, size_t n)
{
	double m = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs((double)x[i]) > m)
			m = fabs((double)x[i]);
	return m;
}

/* Per-channel int8 weights and int32 biases of conv/linear @i, and its requantizers. */
static int dy_params(struct f8_dyadic *d, int i, struct f8_err *err)
{
	const struct f8_net *net = d->net;
	const struct f8_layer *l = &net->layers[i];
	struct dlayer *dl = &d->l[i];
	const struct dlayer *in = &d->l[d->owner[l->in[0]]];
	const float *w = net->param + net->params[l->param[0]].off;
	const float *cb = l->param[1] >= 0 ? net->param + net->params[l->param[1]].off : NULL;
	const size_t per = net->params[l->param[0]].count / (size_t)l->c;
	float *wf = malloc(sizeof(float) * per);
	size_t q;
	int o;

	dl->w = malloc(per * (size_t)l->c);
	dl->b = malloc(sizeof(int32_t) * (size_t)l->c);
	dl->req = calloc((size_t)l->c, sizeof(struct dyad));
	if (!wf || !dl->w || !dl->b || !dl->req) {
		free(wf);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory");
	}
	for (o = 0; o < l->c; o++) {
		double s = 1.0, bf = cb ? cb[o] : 0.0, sw, acc_scale;

		if (dl->bn >= 0) {
			const struct f8_layer *bl = &net->layers[dl->bn];
			const float *gamma = net->param + net->params[bl->param[0]].off;
			const float *beta = net->param + net->params[bl->param[1]].off;
			const float *st = net->state + net->states[bl->state].off;

			s = gamma[o] / sqrt((double)st[bl->c + o] + net->bn_eps);
			bf = beta[o] + (bf - st[o]) * s;
		}
		for (q = 0; q < per; q++)
			wf[q] = (float)(w[(size_t)o * per + q] * s);
		sw = fmaxabs(wf, per) / 127.0;
		if (sw == 0.0)
			sw = 1.0;
		for (q = 0; q < per; q++)
			dl->w[(size_t)o * per + q] = (int8_t)lrint(wf[q] / sw);
		acc_scale = in->scale * sw;
		dl->b[o] = (int32_t)fmax(-2147483647.0, fmin(2147483647.0, nearbyint(bf / acc_scale)));
		if (l->kind == F8_LAYER_CONV)
			dl->req[o] = dyad_of(acc_scale / dl->scale);
	}
	free(wf);
	return F8_OK;
}

int f8_dyadic_build(struct f8_net *net, const struct f8_dataset *calib, int calib_images,
		    const struct f8_norm *norm, struct f8_dyadic **out, struct f8_err *err)
{
	const int batch = 128;
	const size_t img = (size_t)calib->c * calib->h * calib->w;
	struct f8_dyadic *d = calloc(1, sizeof(*d));
	float *x = NULL;
	int idx[128], done, b, k, i, rc;

	*out = NULL;
	if (!d)
		return f8_fail(err, F8_ERR_NOMEM, "out of memory");
	d->net = net;
	d->norm = *norm;
	d->l = calloc((size_t)net->nlayers, sizeof(*d->l));
	d->owner = calloc((size_t)net->nlayers, sizeof(int));
	if (!d->l || !d->owner) {
		f8_dyadic_free(d);
		return f8_fail(err, F8_ERR_NOMEM, "out of memory");
	}
	rc = dy_structure(d, err);
	if (!rc)
		rc = f8_net_plan(net, batch, err);
	x = malloc(sizeof(float) * img * batch);
	if (!rc && !x)
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory");
	if (rc) {
		free(x);
		f8_dyadic_free(d);
		return rc;
	}
	if (calib_images > calib->n)
		calib_images = calib->n;
	/* calibration: max |x| of every tensor kept as codes (after fused ReLUs) */
	for (done = 0; done < calib_images; done += b) {
		b = calib_images - done < batch ? calib_images - done : batch;
		for (k = 0; k < b; k++)
			idx[k] = done + k;
		f8_batch_fill(calib, idx, b, norm, NULL, NULL, x, NULL);
		f8_net_forward(net, x, b, false);
		for (i = 0; i < net->nlayers; i++) {
			struct dlayer *dl = &d->l[i];

			if (dl->code)
				dl->amax = fmax(dl->amax, fmaxabs(f8_net_layer_output(net, dl->rep),
								 elems(&net->layers[i]) * (size_t)b));
		}
	}
	free(x);
	/* signedness and scales, in layer order */
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		struct dlayer *dl = &d->l[i];

		if (!dl->code)
			continue;
		if (l->kind == F8_LAYER_INPUT)
			dl->is_signed = true;
		else if (l->kind == F8_LAYER_MAXPOOL || l->kind == F8_LAYER_AVGPOOL)
			dl->is_signed = d->l[d->owner[l->in[0]]].is_signed;
		else
			dl->is_signed = !dl->relu;
		dl->scale = (dl->amax > 0 ? dl->amax : 1.0) / (dl->is_signed ? 127.0 : 255.0);
		if (l->kind == F8_LAYER_MAXPOOL)
			dl->scale = d->l[d->owner[l->in[0]]].scale;
		if (elems(l) > d->max_elems)
			d->max_elems = elems(l);
	}
	d->in_scale = d->l[0].scale;
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		struct dlayer *dl = &d->l[i];

		if (!dl->code || l->kind == F8_LAYER_INPUT)
			continue;
		if (l->kind == F8_LAYER_CONV || l->kind == F8_LAYER_LINEAR) {
			rc = dy_params(d, i, err);
			if (rc) {
				f8_dyadic_free(d);
				return rc;
			}
		} else if (l->kind == F8_LAYER_ADD) {
			dl->ra = dyad_of(d->l[d->owner[l->in[0]]].scale / dl->scale);
			dl->rb = dyad_of(d->l[d->owner[l->in[1]]].scale / dl->scale);
		} else if (l->kind == F8_LAYER_AVGPOOL) {
			dl->pool = dyad_of(d->l[d->owner[l->in[0]]].scale / ((double)l->k * l->k * dl->scale));
		}
	}
	*out = d;
	return F8_OK;
}

struct dy_job {
	const struct f8_dyadic *d;
	const struct f8_dataset *ds;
	int *pred;
	int32_t *mem; /* per thread: nlayers * max_elems */
};

/* One image: codes of every layer that has them, [c][h][w] like the float network. */
static void dy_image(void *ctx, size_t img, int thread)
{
	const struct dy_job *j = ctx;
	const struct f8_dyadic *d = j->d;
	const struct f8_net *net = d->net;
	int32_t *mem = j->mem + (size_t)thread * net->nlayers * d->max_elems;
	const size_t isz = (size_t)j->ds->c * j->ds->h * j->ds->w;
	const uint8_t *px = j->ds->pixels + img * isz;
	int i, last = net->nlayers - 1;

	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		const struct dlayer *dl = &d->l[i];
		int32_t *y = mem + (size_t)i * d->max_elems;
		const int32_t *a = l->in[0] >= 0 ? mem + (size_t)d->owner[l->in[0]] * d->max_elems : NULL;
		const struct f8_layer *al = l->in[0] >= 0 ? &net->layers[d->owner[l->in[0]]] : NULL;
		size_t q;
		int o;

		if (!dl->code)
			continue;
		switch (l->kind) {
		case F8_LAYER_INPUT:
			for (q = 0; q < isz; q++) {
				const double v = ((double)px[q] / 255.0 - d->norm.mean) / d->norm.std;

				y[q] = (int32_t)clamp8(llround(v / dl->scale), true);
			}
			break;
		case F8_LAYER_CONV: {
			const int cin = al->c, k = l->k, cpg = l->groups > 1 ? 1 : cin;
			int oy, ox, ci, ky, kx;

			for (o = 0; o < l->c; o++)
				for (oy = 0; oy < l->h; oy++)
					for (ox = 0; ox < l->w; ox++) {
						int64_t acc = dl->b[o];

						for (ci = 0; ci < cpg; ci++) {
							const int cc = l->groups > 1 ? o : ci;

							for (ky = 0; ky < k; ky++) {
								const int iy = oy * l->stride - l->pad + ky;

								if (iy < 0 || iy >= al->h)
									continue;
								for (kx = 0; kx < k; kx++) {
									const int ix = ox * l->stride - l->pad + kx;

									if (ix < 0 || ix >= al->w)
										continue;
									acc += (int64_t)a[((size_t)cc * al->h + iy) * al->w + ix] *
									       dl->w[(((size_t)o * cpg + ci) * k + ky) * k + kx];
								}
							}
						}
						acc = acc > 2147483647 ? 2147483647 : acc < -2147483647 ? -2147483647 : acc;
						y[((size_t)o * l->h + oy) * l->w + ox] =
							(int32_t)clamp8(dyad_apply(acc, dl->req[o]), dl->is_signed);
					}
			break;
		}
		case F8_LAYER_ADD: {
			const int32_t *b = mem + (size_t)d->owner[l->in[1]] * d->max_elems;

			for (q = 0; q < elems(l); q++) {
				/* 16 bits of headroom before the multipliers, then back */
				const int64_t s = dyad_apply((int64_t)a[q] << 16, dl->ra) +
						  dyad_apply((int64_t)b[q] << 16, dl->rb);
				int64_t v = s >= 0 ? (s + (1 << 15)) >> 16 : -((-s + (1 << 15)) >> 16);

				if (dl->relu && v < 0)
					v = 0;
				y[q] = (int32_t)clamp8(v, dl->is_signed);
			}
			break;
		}
		case F8_LAYER_MAXPOOL:
		case F8_LAYER_AVGPOOL: {
			int oy, ox, ky, kx;

			for (o = 0; o < l->c; o++)
				for (oy = 0; oy < l->h; oy++)
					for (ox = 0; ox < l->w; ox++) {
						int64_t v = l->kind == F8_LAYER_MAXPOOL ? INT64_MIN : 0;

						for (ky = 0; ky < l->k; ky++)
							for (kx = 0; kx < l->k; kx++) {
								const int iy = oy * l->stride - l->pad + ky;
								const int ix = ox * l->stride - l->pad + kx;
								int64_t e;

								if (iy < 0 || ix < 0 || iy >= al->h || ix >= al->w)
									continue;
								e = a[((size_t)o * al->h + iy) * al->w + ix];
								if (l->kind == F8_LAYER_AVGPOOL)
									v += e;
								else if (e > v)
									v = e;
							}
						if (l->kind == F8_LAYER_AVGPOOL)
							v = clamp8(dyad_apply(v, dl->pool), dl->is_signed);
						y[((size_t)o * l->h + oy) * l->w + ox] = (int32_t)v;
					}
			break;
		}
		case F8_LAYER_LINEAR: {
			const size_t in = elems(al);

			for (o = 0; o < l->c; o++) {
				int64_t acc = dl->b[o];

				for (q = 0; q < in; q++)
					acc += (int64_t)a[q] * dl->w[(size_t)o * in + q];
				/* the classifier (the last layer): int32 logits */
				y[o] = (int32_t)(acc > 2147483647 ? 2147483647 : acc < -2147483647 ? -2147483647 : acc);
			}
			break;
		}
		default:
			break;
		}
	}
	{
		const int32_t *lg = mem + (size_t)d->owner[last] * d->max_elems;
		int best = 0;

		for (i = 1; i < net->classes; i++)
			if (lg[i] > lg[best])
				best = i;
		j->pred[img] = best;
	}
}

void f8_dyadic_predict(const struct f8_dyadic *d, const struct f8_dataset *ds, int n, int *pred)
{
	const int threads = f8_par_threads();
	struct dy_job j = { .d = d, .ds = ds, .pred = pred };

	j.mem = malloc(sizeof(int32_t) * (size_t)threads * d->net->nlayers * d->max_elems);
	F8_ASSERT(j.mem);
	f8_par_for((size_t)n, dy_image, &j);
	free(j.mem);
}
