// SPDX-License-Identifier: MIT
/*
 * The planned float network (f8-net.h): initialisation, the memory plan, forward,
 * loss, backward, and the per-layer report. Parsing lives in f8-arch.c.
 *
 * The plan is made once per batch size and thread count; forward and backward then
 * allocate nothing. Three blocks:
 *   - activations: every layer's output is kept for backward (a ReLU whose input has no
 *     other reader runs in place, because no backward needs that input), plus the BN
 *     batch statistics and the max-pool argmax;
 *   - activation gradients: layer i's output gradient lives from the backward of its
 *     last consumer (where it is zeroed, then accumulated into) to its own backward;
 *     buffers whose lifetimes do not overlap share memory (greedy by size);
 *   - the conv workspace, the largest any conv asks for.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "f8-net.h"
#include "f8-net-impl.h"
#include "f8-ops.h"
#include "f8-par.h"
#include "f8-rng.h"

/* Rng stream of the initialisation ("INIT"): independent of shuffling and augmentation. */
#define F8_STREAM_INIT (0x494e4954ull << 32)
/* Every planned buffer starts on a cache line. */
#define F8_PLAN_ALIGN 64


static void plan_free(struct f8_net *net)
{
	if (net->plan) {
		free(net->plan->act);
		free(net->plan->gmem);
		free(net->plan->ws);
		free(net->plan);
		net->plan = NULL;
	}
}

void f8_net_free(struct f8_net *net)
{
	if (!net)
		return;
	plan_free(net);
	f8_quant_free(net);
	free(net->arch);
	free(net->layers);
	free(net->params);
	free(net->states);
	free(net->param);
	free(net->grad);
	free(net->state);
	free(net);
}

static size_t layer_elems(const struct f8_layer *l)
{
	return (size_t)l->c * (size_t)l->h * (size_t)l->w;
}

static const struct f8_layer *in0(const struct f8_net *net, const struct f8_layer *l)
{
	return &net->layers[l->in[0]];
}

void f8_net_init(struct f8_net *net, uint64_t seed)
{
	struct f8_rng r;
	int i;

	f8_rng_init(&r, seed, F8_STREAM_INIT);
	memset(net->param, 0, net->param_count * sizeof(float));
	for (i = 0; i < net->nparams; i++) {
		const struct f8_param *p = &net->params[i];
		const struct f8_layer *l = &net->layers[p->layer];
		float *v = net->param + p->off;
		size_t j;

		switch (p->kind) {
		case F8_PARAM_CONV_W:
		case F8_PARAM_DW_W: {
			/* Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (cout k k / groups)). */
			double fan_out = (double)l->c * l->k * l->k / l->groups;
			double sd = sqrt(2.0 / fan_out);

			for (j = 0; j < p->count; j++)
				v[j] = (float)(sd * f8_rng_normal(&r));
			break;
		}
		case F8_PARAM_LINEAR_W:
		case F8_PARAM_BIAS:
			if (l->kind == F8_LAYER_LINEAR) {
				/* PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
				double bound = 1.0 / sqrt((double)layer_elems(in0(net, l)));

				for (j = 0; j < p->count; j++)
					v[j] = (float)(bound * (2.0 * f8_rng_uniform(&r) - 1.0));
			}
			break; /* conv biases stay 0 */
		case F8_PARAM_BN_GAMMA:
			for (j = 0; j < p->count; j++)
				v[j] = 1.0f;
			break;
		case F8_PARAM_CLIP:
			v[0] = F8_PACT_ALPHA_INIT;
			break;
		default:
			break; /* beta 0 */
		}
	}
	for (i = 0; i < net->nstates; i++) {
		const struct f8_state *s = &net->states[i];
		size_t c = s->count / 2, j;

		if (net->layers[s->layer].kind != F8_LAYER_BN) {
			net->state[s->off] = F8_PACT_FL_INIT; /* a running activation FL */
			continue;
		}
		for (j = 0; j < c; j++) {
			net->state[s->off + j] = 0.0f;     /* running mean */
			net->state[s->off + c + j] = 1.0f; /* running var */
		}
	}
	memset(net->grad, 0, net->param_count * sizeof(float));
}

/* ---- the plan ---- */

static size_t align_up(size_t v)
{
	return (v + F8_PLAN_ALIGN - 1) & ~(size_t)(F8_PLAN_ALIGN - 1);
}

/* a * b with overflow into SIZE_MAX (which no allocation satisfies). */
static size_t mul_sat(size_t a, size_t b)
{
	return (b && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}

static size_t add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* A ReLU that may overwrite its input: no other reader, and the input's producer does
 * not read its own output in backward (only ReLU does). The image input is kept. */
static bool relu_in_place(const struct f8_net *net, const int *uses, int i)
{
	const struct f8_layer *l = &net->layers[i];
	int p = l->in[0];

	return l->kind == F8_LAYER_RELU && p > 0 && uses[p] == 1 &&
	       net->layers[p].kind != F8_LAYER_RELU;
}

struct gbuf {
	int layer;
	int birth, death; /* backward steps [death, birth] during which it is live */
	size_t bytes, off;
};

static int gbuf_by_size(const void *a, const void *b)
{
	const struct gbuf *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->layer - y->layer;
}

static int gbuf_by_off(const void *a, const void *b)
{
	const struct gbuf *const *x = a, *const *y = b;

	return ((*x)->off > (*y)->off) - ((*x)->off < (*y)->off);
}

/*
 * Offsets of the gradient buffers: largest first, each at the lowest offset that does
 * not overlap a placed buffer whose lifetime overlaps its own. Returns the arena size.
 */
static size_t place_gradients(struct gbuf *g, int n, struct gbuf **tmp)
{
	size_t total = 0;
	int i, j, m;

	qsort(g, (size_t)n, sizeof(*g), gbuf_by_size);
	for (i = 0; i < n; i++) {
		size_t off = 0;

		for (m = 0, j = 0; j < i; j++)
			if (g[j].death <= g[i].birth && g[i].death <= g[j].birth)
				tmp[m++] = &g[j];
		qsort(tmp, (size_t)m, sizeof(*tmp), gbuf_by_off);
		for (j = 0; j < m; j++) {
			if (tmp[j]->off >= off + g[i].bytes)
				break; /* the gap before it is large enough */
			if (tmp[j]->off + tmp[j]->bytes > off)
				off = tmp[j]->off + tmp[j]->bytes;
		}
		g[i].off = off;
		if (off + g[i].bytes > total)
			total = off + g[i].bytes;
	}
	return total;
}

size_t f8_net_plan_bytes(const struct f8_net *net)
{
	const struct f8_net_plan *p = net ? net->plan : NULL;

	if (!p)
		return 0;
	return p->act_bytes + p->g_bytes + p->ws_floats * sizeof(float);
}

static void *alloc_aligned(size_t bytes)
{
	void *p = NULL;

	if (bytes == SIZE_MAX || posix_memalign(&p, F8_PLAN_ALIGN, bytes ? bytes : F8_PLAN_ALIGN))
		return NULL;
	return p;
}

int f8_net_plan(struct f8_net *net, int batch, struct f8_err *err)
{
	const int nl = net ? net->nlayers : 0;
	struct f8_net_plan *p;
	struct gbuf *g = NULL, **tmp = NULL;
	size_t *act_off = NULL, *bn_off = NULL, *am_off = NULL;
	size_t act = 0, ws = 0, head;
	uint64_t elems = 0;
	int *uses = NULL;
	int i, k, ng = 0, rc = F8_OK;

	if (!net || nl < 2)
		return f8_fail(err, F8_ERR_MISUSE, "f8_net_plan: no network");
	if (batch < 1 || batch > (1 << 20))
		return f8_fail(err, F8_ERR_RANGE, "batch %d outside [1, %d]", batch, 1 << 20);
	for (i = 0; i < nl; i++)
		elems += layer_elems(&net->layers[i]);
	/* Bounds every size below (< 2^48 bytes): no arithmetic can wrap. */
	if (elems > (UINT64_C(1) << 42) / (uint64_t)batch)
		return f8_fail(err, F8_ERR_RANGE, "batch %d: %llu activations per image are too many",
			       batch, (unsigned long long)elems);
	plan_free(net);
	/* One block: the struct, then the per-layer pointer tables. */
	head = sizeof(*p) + (size_t)nl * (4 * sizeof(float *) + sizeof(int32_t *) + sizeof(int));
	p = calloc(1, head);
	uses = calloc((size_t)nl, sizeof(int));
	act_off = calloc((size_t)nl, sizeof(size_t));
	bn_off = calloc((size_t)nl, sizeof(size_t));
	am_off = calloc((size_t)nl, sizeof(size_t));
	g = calloc((size_t)nl, sizeof(*g));
	tmp = calloc((size_t)nl, sizeof(*tmp));
	if (!p || !uses || !act_off || !bn_off || !am_off || !g || !tmp) {
		free(p);
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory planning the network");
		goto out;
	}
	p->y = (float **)(p + 1);
	p->dy = p->y + nl;
	p->save_mean = p->dy + nl;
	p->save_invstd = p->save_mean + nl;
	p->argmax = (int32_t **)(p->save_invstd + nl);
	p->last_use = (int *)(p->argmax + nl);
	p->batch = batch;
	p->threads = f8_par_threads();
	net->plan = p;

	for (i = 0; i < nl; i++)
		p->last_use[i] = -1;
	for (i = 1; i < nl; i++)
		for (k = 0; k < 2; k++)
			if (net->layers[i].in[k] >= 0) {
				uses[net->layers[i].in[k]]++;
				p->last_use[net->layers[i].in[k]] = i;
			}

	/* Activations (offsets first, pointers once the block exists). */
	for (i = 0; i < nl; i++) {
		const struct f8_layer *l = &net->layers[i];
		size_t bytes = mul_sat(mul_sat(layer_elems(l), (size_t)batch), sizeof(float));

		if (!relu_in_place(net, uses, i)) {
			act_off[i] = act;
			act = add_sat(act, align_up(bytes));
		}
		if (l->kind == F8_LAYER_BN) {
			bn_off[i] = act;
			act = add_sat(act, align_up(2 * (size_t)l->c * sizeof(float)));
		}
		if (l->kind == F8_LAYER_MAXPOOL) {
			am_off[i] = act;
			act = add_sat(act, align_up(bytes));
		}
		if (l->kind == F8_LAYER_CONV) {
			struct f8_conv_geom cg = {
				.n = batch, .cin = in0(net, l)->c, .h = in0(net, l)->h, .w = in0(net, l)->w,
				.cout = l->c, .k = l->k, .stride = l->stride, .pad = l->pad,
				.groups = l->groups,
			};

			F8_ASSERT(f8_conv_geom_finish(&cg) == F8_OK);
			if (f8_conv_ws_floats(&cg) > ws)
				ws = f8_conv_ws_floats(&cg);
		}
	}
	/* Gradients: every layer but the input, live over backward steps [i, last consumer]. */
	for (i = 1; i < nl; i++) {
		g[ng].layer = i;
		g[ng].death = i;
		/* fake quantization runs a BN's backward at its conv's step (f8-net-quant.c) */
		if (net->quant && net->layers[i].kind == F8_LAYER_BN)
			g[ng].death = net->layers[i].in[0];
		g[ng].birth = p->last_use[i] >= 0 ? p->last_use[i] : i;
		g[ng].bytes = align_up(mul_sat(mul_sat(layer_elems(&net->layers[i]), (size_t)batch),
					       sizeof(float)));
		ng++;
	}
	p->g_bytes = place_gradients(g, ng, tmp);
	p->act_bytes = act;
	p->ws_floats = ws;
	p->act = alloc_aligned(act);
	p->gmem = alloc_aligned(p->g_bytes);
	p->ws = alloc_aligned(mul_sat(ws, sizeof(float)));
	if (!p->act || !p->gmem || !p->ws) {
		rc = f8_fail(err, F8_ERR_NOMEM,
			     "out of memory: batch %d needs %.1f MiB of activations and %.1f MiB of gradients",
			     batch, (double)act / 1048576.0, (double)p->g_bytes / 1048576.0);
		plan_free(net);
		goto out;
	}
	for (i = 0; i < nl; i++) {
		const struct f8_layer *l = &net->layers[i];

		p->y[i] = relu_in_place(net, uses, i) ? p->y[l->in[0]] : (float *)(p->act + act_off[i]);
		if (l->kind == F8_LAYER_BN) {
			p->save_mean[i] = (float *)(p->act + bn_off[i]);
			p->save_invstd[i] = p->save_mean[i] + l->c;
		}
		if (l->kind == F8_LAYER_MAXPOOL)
			p->argmax[i] = (int32_t *)(p->act + am_off[i]);
	}
	for (i = 0; i < ng; i++)
		p->dy[g[i].layer] = (float *)(p->gmem + g[i].off);
	if (net->quant) {
		rc = f8_quant_plan(net, err);
		if (rc)
			plan_free(net);
	}
out:
	free(uses);
	free(act_off);
	free(bn_off);
	free(am_off);
	free(g);
	free(tmp);
	return rc;
}

/* ---- forward, loss, backward ---- */

static struct f8_conv_geom conv_geom(const struct f8_net *net, const struct f8_layer *l, int n)
{
	const struct f8_layer *a = in0(net, l);
	struct f8_conv_geom g = {
		.n = n, .cin = a->c, .h = a->h, .w = a->w, .cout = l->c, .k = l->k,
		.stride = l->stride, .pad = l->pad, .groups = l->groups, .oh = l->h, .ow = l->w,
	};

	return g;
}

static struct f8_pool_geom pool_geom(const struct f8_net *net, const struct f8_layer *l, int n)
{
	const struct f8_layer *a = in0(net, l);
	struct f8_pool_geom g = {
		.n = n, .c = a->c, .h = a->h, .w = a->w, .k = l->k, .stride = l->stride,
		.pad = l->pad, .oh = l->h, .ow = l->w,
	};

	return g;
}

static float *param_of(const struct f8_net *net, const struct f8_layer *l, int j, float *base)
{
	return l->param[j] >= 0 ? base + net->params[l->param[j]].off : NULL;
}

const float *f8_net_forward(struct f8_net *net, const float *x, int n, bool train)
{
	struct f8_net_plan *p = net->plan;
	int i;

	F8_ASSERT(p && n >= 1 && n <= p->batch && x);
	/* The conv workspace has one slot per planned thread: re-plan after adding threads. */
	F8_ASSERT(f8_par_threads() <= p->threads);
	p->nfwd = 0;
	p->have_loss = false;
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		const size_t count = (size_t)n * layer_elems(l);
		const float *a = l->in[0] >= 0 ? p->y[l->in[0]] : NULL;
		float *y = p->y[i];
		const float *w = param_of(net, l, 0, net->param), *b = param_of(net, l, 1, net->param);

		if (net->quant && f8_quant_fwd(net, i, n, train))
			continue;
		switch (l->kind) {
		case F8_LAYER_INPUT:
			memcpy(y, x, count * sizeof(float));
			break;
		case F8_LAYER_CONV: {
			struct f8_conv_geom g = conv_geom(net, l, n);

			f8_conv_fwd(&g, a, w, b, y, p->ws);
			break;
		}
		case F8_LAYER_BN: {
			float *st = net->state + net->states[l->state].off;

			if (train)
				f8_bn_fwd_train(n, l->c, l->h * l->w, a, w, b, net->bn_eps,
						net->bn_momentum, st, st + l->c, p->save_mean[i],
						p->save_invstd[i], y);
			else
				f8_bn_fwd_eval(n, l->c, l->h * l->w, a, w, b, net->bn_eps, st, st + l->c, y);
			break;
		}
		case F8_LAYER_RELU:
			f8_relu_fwd(count, a, y);
			break;
		case F8_LAYER_ADD:
			f8_add_fwd(count, a, p->y[l->in[1]], y);
			break;
		case F8_LAYER_MAXPOOL: {
			struct f8_pool_geom g = pool_geom(net, l, n);

			f8_maxpool_fwd(&g, a, y, p->argmax[i]);
			break;
		}
		case F8_LAYER_AVGPOOL: {
			struct f8_pool_geom g = pool_geom(net, l, n);

			f8_avgpool_fwd(&g, a, y);
			break;
		}
		case F8_LAYER_LINEAR:
			f8_linear_fwd(n, (int)layer_elems(in0(net, l)), l->c, a, w, b, y);
			break;
		default:
			F8_ASSERT(0);
		}
	}
	p->nfwd = n;
	return p->y[net->nlayers - 1];
}

const float *f8_net_layer_output(const struct f8_net *net, int layer)
{
	if (!net->plan || !net->plan->nfwd || layer < 0 || layer >= net->nlayers)
		return NULL;
	return net->plan->y[layer];
}

float f8_net_loss(struct f8_net *net, const int *labels, int n, int *correct)
{
	struct f8_net_plan *p = net->plan;
	const int last = net->nlayers - 1;
	float loss;

	F8_ASSERT(p && p->nfwd == n && labels);
	loss = f8_softmax_xent(n, net->classes, p->y[last], labels, p->dy[last], correct);
	p->have_loss = true;
	return loss;
}

void f8_net_backward(struct f8_net *net, int n)
{
	struct f8_net_plan *p = net->plan;
	int i, k;
	bool set;

	F8_ASSERT(p && p->nfwd == n && p->have_loss); /* forward, then loss, then backward */
	F8_ASSERT(f8_par_threads() <= p->threads);
	if (net->quant)
		f8_quant_bwd_begin(net);
	for (i = net->nlayers - 1; i >= 1; i--) {
		const struct f8_layer *l = &net->layers[i];
		const size_t count = (size_t)n * layer_elems(l);
		const float *dy = p->dy[i];
		const float *a = p->y[l->in[0]];
		float *da, *db = NULL;
		const float *w = param_of(net, l, 0, net->param);
		float *dw = param_of(net, l, 0, net->grad), *dbias = param_of(net, l, 1, net->grad);

		/* An input gradient is born at its last consumer's backward: zero it there,
		 * or let BN and ReLU, single-input, overwrite it (saves a pass over memory). */
		set = l->in[0] > 0 && p->last_use[l->in[0]] == i && l->in[1] <= 0 &&
		      (l->kind == F8_LAYER_BN || l->kind == F8_LAYER_RELU);
		for (k = set ? 1 : 0; k < 2; k++) {
			int q = l->in[k];

			if (q > 0 && p->last_use[q] == i && (k == 0 || q != l->in[0]))
				memset(p->dy[q], 0, (size_t)n * layer_elems(&net->layers[q]) * sizeof(float));
		}
		da = l->in[0] > 0 ? p->dy[l->in[0]] : NULL; /* the image needs no gradient */
		if (l->in[1] > 0)
			db = p->dy[l->in[1]];
		if (net->quant && f8_quant_bwd(net, i, n))
			continue;
		switch (l->kind) {
		case F8_LAYER_CONV: {
			struct f8_conv_geom g = conv_geom(net, l, n);

			f8_conv_bwd(&g, a, w, dy, da, dw, dbias, p->ws);
			break;
		}
		case F8_LAYER_BN:
			(set ? f8_bn_bwd_set : f8_bn_bwd)(n, l->c, l->h * l->w, a, dy, w,
							  p->save_mean[i], p->save_invstd[i], da, dw,
							  dbias);
			break;
		case F8_LAYER_RELU:
			if (da)
				(set ? f8_relu_bwd_set : f8_relu_bwd)(count, p->y[i], dy, da);
			break;
		case F8_LAYER_ADD:
			if (da || db)
				f8_add_bwd(count, dy, da, db);
			break;
		case F8_LAYER_MAXPOOL:
			if (da) {
				struct f8_pool_geom g = pool_geom(net, l, n);

				f8_maxpool_bwd(&g, p->argmax[i], dy, da);
			}
			break;
		case F8_LAYER_AVGPOOL:
			if (da) {
				struct f8_pool_geom g = pool_geom(net, l, n);

				f8_avgpool_bwd(&g, dy, da);
			}
			break;
		case F8_LAYER_LINEAR:
			f8_linear_bwd(n, (int)layer_elems(in0(net, l)), l->c, a, w, dy, da, dw, dbias);
			break;
		default:
			F8_ASSERT(0);
		}
	}
}

struct f8_norm f8_net_input_norm(const struct f8_net *net)
{
	return net->input_raw ? F8_RAW_NORM : F8_FMNIST_NORM;
}

/* The version line of @text (the first neither blank nor a comment) and its length without
 * trailing blanks; NULL when the text has none. */
static const char *version_line(const char *text, size_t *len)
{
	const char *line = text, *end;

	for (;;) {
		while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n')
			line++;
		if (*line != '#')
			break;
		line = strchr(line, '\n');
		if (!line)
			return NULL;
	}
	if (strncmp(line, "f8arch", 6))
		return NULL;
	end = strchr(line, '\n');
	*len = end ? (size_t)(end - line) : strlen(line);
	while (*len && (line[*len - 1] == '\r' || line[*len - 1] == ' ' || line[*len - 1] == '\t'))
		(*len)--;
	return line;
}

/* Where "key=" starts on the version line @line (@len bytes), or NULL. */
static const char *key_at(const char *line, size_t len, const char *key)
{
	const size_t klen = strlen(key);
	size_t i;

	for (i = 6; i + klen < len; i++)
		if ((line[i - 1] == ' ' || line[i - 1] == '\t') && !strncmp(line + i, key, klen) &&
		    line[i + klen] == '=')
			return line + i;
	return NULL;
}

char *f8_arch_with_raw_input(const char *text, struct f8_err *err)
{
	size_t len;
	const char *line = version_line(text, &len);

	if (line && key_at(line, len, "input")) {
		f8_fail(err, F8_ERR_FORMAT, "the architecture sets input= already");
		return NULL;
	}
	return f8_arch_set_key(text, "input", "raw", err);
}

char *f8_arch_set_key(const char *text, const char *key, const char *value, struct f8_err *err)
{
	size_t len, head, out_len;
	const char *line = version_line(text, &len), *at, *vend;
	char *out;

	if (!line) {
		f8_fail(err, F8_ERR_FORMAT, "the architecture has no version line");
		return NULL;
	}
	at = key_at(line, len, key);
	out_len = strlen(text) + strlen(key) + strlen(value) + 3;
	out = malloc(out_len);
	if (!out) {
		f8_fail(err, F8_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (at) { /* replace the old value */
		for (vend = at; vend < line + len && *vend != ' ' && *vend != '\t'; vend++)
			;
		head = (size_t)(at - text);
		memcpy(out, text, head);
		snprintf(out + head, out_len - head, "%s=%s%s", key, value, vend);
	} else {
		head = (size_t)(line - text) + len;
		memcpy(out, text, head);
		snprintf(out + head, out_len - head, " %s=%s%s", key, value, text + head);
	}
	return out;
}

int f8_net_copy_from(struct f8_net *dst, const struct f8_net *src, struct f8_err *err)
{
	int i;

	if (dst->nlayers != src->nlayers || dst->nparams < src->nparams ||
	    dst->nstates < src->nstates)
		return f8_fail(err, F8_ERR_RANGE, "the networks differ (%d vs %d layers)", dst->nlayers,
			       src->nlayers);
	for (i = 0; i < src->nlayers; i++) {
		const struct f8_layer *a = &src->layers[i], *b = &dst->layers[i];

		if (a->kind != b->kind || a->c != b->c || a->h != b->h || a->w != b->w ||
		    a->in[0] != b->in[0] || a->in[1] != b->in[1] || strcmp(a->name, b->name))
			return f8_fail(err, F8_ERR_RANGE, "layer %d differs (%s vs %s)", i, a->name,
				       b->name);
	}
	for (i = 0; i < src->nparams; i++)
		if (src->params[i].kind != dst->params[i].kind ||
		    src->params[i].count != dst->params[i].count ||
		    src->params[i].off != dst->params[i].off)
			return f8_fail(err, F8_ERR_RANGE, "parameter %d differs", i);
	for (i = 0; i < src->nstates; i++)
		if (src->states[i].count != dst->states[i].count ||
		    src->states[i].off != dst->states[i].off)
			return f8_fail(err, F8_ERR_RANGE, "state %d differs", i);
	memcpy(dst->param, src->param, sizeof(float) * src->param_count);
	memcpy(dst->state, src->state, sizeof(float) * src->state_count);
	return F8_OK;
}

struct f8_quant_cfg f8_net_arch_quant_cfg(const struct f8_net *net)
{
	struct f8_quant_cfg c = {
		.mode = net->arch_quant, .momentum = 0.1f, .pact = net->clip_pact,
	};

	if (net->arch_quant == F8_QUANT_FLOATING) {
		/* F8Net's FP baseline: PACT clipping at FL 6, folded weights clamped at FL 7 */
		c.fixed_fl = true;
		c.fl_x = 6;
		c.fl_w = 7;
	}
	return c;
}

/* ---- reports ---- */

static uint64_t layer_macs(const struct f8_net *net, const struct f8_layer *l)
{
	if (l->kind == F8_LAYER_CONV)
		return (uint64_t)layer_elems(l) * (uint64_t)(in0(net, l)->c / l->groups) * l->k * l->k;
	if (l->kind == F8_LAYER_LINEAR)
		return (uint64_t)layer_elems(in0(net, l)) * (uint64_t)l->c;
	return 0;
}

uint64_t f8_net_macs(const struct f8_net *net)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < net->nlayers; i++)
		s += layer_macs(net, &net->layers[i]);
	return s;
}

void f8_net_summary(const struct f8_net *net, FILE *out)
{
	int i, j;

	fprintf(out, "%-4s %-24s %-8s %-16s %-30s %10s %14s\n", "#", "layer", "op", "output",
		"inputs / window", "params", "MACs");
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];
		char shape[48], detail[96];
		size_t np = 0;
		int m = 0;

		snprintf(shape, sizeof(shape), "%dx%dx%d", l->c, l->h, l->w);
		detail[0] = 0;
		for (j = 0; j < 2; j++)
			if (l->in[j] >= 0)
				m += snprintf(detail + m, sizeof(detail) - (size_t)m, "%s%s", j ? "," : "",
					      net->layers[l->in[j]].name);
		if (l->kind == F8_LAYER_CONV || l->kind == F8_LAYER_MAXPOOL ||
		    l->kind == F8_LAYER_AVGPOOL)
			snprintf(detail + m, sizeof(detail) - (size_t)m, " k%d s%d p%d%s%s", l->k,
				 l->stride, l->pad, l->kind == F8_LAYER_CONV && l->groups > 1 ? " dw" : "",
				 l->bias && l->kind == F8_LAYER_CONV ? " bias" : "");
		for (j = 0; j < 2; j++)
			if (l->param[j] >= 0)
				np += net->params[l->param[j]].count;
		fprintf(out, "%-4d %-24s %-8s %-16s %-30s %10zu %14llu\n", i, l->name,
			f8_layer_kind_name(l->kind), shape, detail, np,
			(unsigned long long)layer_macs(net, l));
	}
}
