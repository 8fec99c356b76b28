// SPDX-License-Identifier: MIT
/* Random integer models for the tests (qm-random.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qm-random.h"

unsigned int f8t_qm_seen[16];

static int urand(struct f8t_qm_gen *g, int n)
{
	return (int)f8t_below(&g->r, (uint32_t)n);
}

static int add_node(struct f8t_qm_gen *g, unsigned int op, unsigned int flags, int a, int b, int c, int h,
		    int w)
{
	struct f8_qm_node *n = &g->nodes[g->n];

	ck_assert_int_lt(g->n, F8T_QM_MAXN);
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "n%d", g->n);
	n->op = (uint8_t)op;
	n->flags = (uint8_t)flags;
	n->in[0] = a;
	n->in[1] = b;
	n->c = (uint16_t)c;
	n->h = (uint16_t)h;
	n->w = (uint16_t)w;
	return g->n++;
}

/* Biases: mostly moderate, sometimes at the ends of the range (the A5 saturation). */
static int32_t rand_bias(struct f8t_qm_gen *g)
{
	if (f8t_chance(&g->r, 12))
		return (int32_t)(f8t_chance(&g->r, 50) ? 1 : -1) * (2147483647 - urand(g, 1 << 16));
	return (int32_t)f8t_range(&g->r, -(1 << (6 + urand(g, 18))), 1 << (6 + urand(g, 18)));
}

/* Weights and biases of a CONV / LINEAR node, and its input FL (the requantization shift
 * kept small most of the time, so that ties are frequent, sometimes large either way). */
static void params(struct f8t_qm_gen *g, int i)
{
	struct f8_qm_node *n = &g->nodes[i];
	const int fa = g->nodes[n->in[0]].fl_out, hi = (n->flags & F8_QM_F_SIGNED) ? 7 : 8;
	int lo = fa - 31 > 0 ? fa - 31 : 0, top = fa + 31 < hi ? fa + 31 : hi, fl;
	size_t nw, k;

	if (f8t_chance(&g->r, 60)) {
		fl = fa - urand(g, 4);
		fl = fl < lo ? lo : fl > top ? top : fl;
	} else {
		fl = lo + urand(g, top - lo + 1);
	}
	n->fl_in = (int8_t)fl;
	n->fl_w = (int8_t)urand(g, 8);
	n->fl_out = (int8_t)(n->fl_in + n->fl_w);
	g->m.nnodes = (uint32_t)g->n;
	nw = f8_qm_weight_count(&g->m, n);
	g->w[i] = malloc(nw ? nw : 1);
	g->b[i] = malloc(sizeof(int32_t) * n->c);
	ck_assert(g->w[i] && g->b[i]);
	for (k = 0; k < nw; k++)
		g->w[i][k] = (int8_t)(f8t_chance(&g->r, 10) ? (f8t_chance(&g->r, 50) ? 127 : -127) :
					   (int)urand(g, 255) - 127);
	for (k = 0; k < n->c; k++)
		g->b[i][k] = rand_bias(g);
	n->weights = g->w[i];
	n->bias = g->b[i];
}

/* A window (k, stride, pad) over an h x w input that leaves at least one output. */
static void window(struct f8t_qm_gen *g, const struct f8_qm_node *a, int kmax, int *k, int *s, int *p)
{
	do {
		*k = 1 + urand(g, kmax);
		*p = urand(g, *k);
	} while (a->h + 2 * *p < *k || a->w + 2 * *p < *k);
	*s = 1 + urand(g, 3);
}

static int out_size(int in, int k, int s, int p)
{
	return (in + 2 * p - k) / s + 1;
}

static int conv(struct f8t_qm_gen *g, int a, bool dw, int c, int k, int s, int p, unsigned int extra)
{
	const struct f8_qm_node *A = &g->nodes[a];
	unsigned int flags = extra | (dw ? F8_QM_F_DEPTHWISE : 0);
	int i;

	if (f8t_chance(&g->r, 50))
		flags |= F8_QM_F_RELU;
	if (f8t_chance(&g->r, 40))
		flags |= F8_QM_F_SIGNED;
	i = add_node(g, F8_QM_CONV, flags, a, -1, dw ? A->c : c, out_size(A->h, k, s, p),
		     out_size(A->w, k, s, p));
	g->nodes[i].k = (uint8_t)k;
	g->nodes[i].stride = (uint8_t)s;
	g->nodes[i].pad = (uint8_t)p;
	params(g, i);
	return i;
}

static int pool(struct f8t_qm_gen *g, int a, bool sum)
{
	const struct f8_qm_node *A = &g->nodes[a];
	int k, s, p, i;

	window(g, A, 4, &k, &s, &p);
	i = add_node(g, sum ? F8_QM_SUMPOOL : F8_QM_MAXPOOL, 0, a, -1, A->c, out_size(A->h, k, s, p),
		     out_size(A->w, k, s, p));
	g->nodes[i].k = (uint8_t)k;
	g->nodes[i].stride = (uint8_t)s;
	g->nodes[i].pad = (uint8_t)p;
	g->nodes[i].fl_out = A->fl_out;
	if (sum) { /* FL stays <= 38, so that a later conv can still requantize it */
		const int room = 38 - A->fl_out;

		g->nodes[i].pool_shift = (int8_t)urand(g, (room < 16 ? room : 16) + 1);
		g->nodes[i].fl_out = (int8_t)(A->fl_out + g->nodes[i].pool_shift);
	}
	return i;
}

/* A residual block: x, a same-shape conv of x (or of another node of that size), their sum. */
static int residual(struct f8t_qm_gen *g, int x)
{
	const struct f8_qm_node *X = &g->nodes[x];
	const int k = f8t_chance(&g->r, 50) ? 3 : 1;
	int src = x, y, i, j;

	for (j = 0; j < g->n; j++) /* sometimes another tensor of that spatial size */
		if (g->nodes[j].h == X->h && g->nodes[j].w == X->w && f8t_chance(&g->r, 30))
			src = j;
	/* conv FL <= 15 and x's <= 38: within the 31 an ADD allows */
	y = conv(g, src, false, X->c, k, 1, k / 2, 0);
	i = f8t_chance(&g->r, 50) ? add_node(g, F8_QM_ADD, 0, x, y, X->c, X->h, X->w) :
				    add_node(g, F8_QM_ADD, 0, y, x, X->c, X->h, X->w);
	if (f8t_chance(&g->r, 50))
		g->nodes[i].flags = F8_QM_F_RELU;
	g->nodes[i].fl_out = (int8_t)(X->fl_out > g->nodes[y].fl_out ? X->fl_out : g->nodes[y].fl_out);
	return i;
}

void f8t_qm_gen_make(struct f8t_qm_gen *g, const char *stream, int idx)
{
	const bool big = idx % 10 == 9; /* ResNet-sized layers: many tiles, 5 channel blocks */
	int steps, i, a, k, s, p;

	memset(g, 0, sizeof(*g));
	f8t_rng_init(&g->r, stream, idx);
	g->m.nodes = g->nodes;
	i = add_node(g, F8_QM_INPUT, 0, -1, -1, 1 + urand(g, 3), (big ? 20 : 3) + urand(g, 11),
		     (big ? 20 : 3) + urand(g, 11));
	g->nodes[i].fl_out = 8;
	for (steps = 3 + urand(g, 7); steps > 0 && g->n < F8T_QM_MAXN - 4; steps--) {
		a = g->n - 1 - urand(g, g->n < 3 ? g->n : 3); /* a recent tensor, or an older one */
		switch (urand(g, 6)) {
		case 0:
		case 1:
			window(g, &g->nodes[a], 4, &k, &s, &p);
			conv(g, a, false, 1 + urand(g, big ? 80 : 40), k, s, p, 0);
			break;
		case 2:
			window(g, &g->nodes[a], 4, &k, &s, &p);
			conv(g, a, true, 0, k, s, p, 0);
			break;
		case 3:
			residual(g, a);
			break;
		default:
			pool(g, a, f8t_chance(&g->r, 50));
			break;
		}
	}
	a = g->n - 1 - urand(g, 2);
	while ((size_t)g->nodes[a].c * g->nodes[a].h * g->nodes[a].w > 65536) {
		/* the classifier's reduction limit: halve the input first */
		const struct f8_qm_node *A = &g->nodes[a];

		a = add_node(g, F8_QM_MAXPOOL, 0, a, -1, A->c, out_size(A->h, 2, 2, 0),
			     out_size(A->w, 2, 2, 0));
		g->nodes[a].k = 2;
		g->nodes[a].stride = 2;
		g->nodes[a].fl_out = g->nodes[g->nodes[a].in[0]].fl_out;
	}
	if (g->nodes[a].h == g->nodes[a].w && g->nodes[a].h <= 32 && f8t_chance(&g->r, 30)) {
		/* a conv classifier: the kernel covers the input */
		conv(g, a, false, 1 + urand(g, 20), g->nodes[a].h, 1, 0, 0);
	} else {
		unsigned int flags = (f8t_chance(&g->r, 40) ? F8_QM_F_SIGNED : 0) |
				     (f8t_chance(&g->r, 30) ? F8_QM_F_RELU : 0);

		i = add_node(g, F8_QM_LINEAR, flags, a, -1, 1 + urand(g, 20), 1, 1);
		params(g, i);
	}
	for (i = 0; i < 20; i++)
		snprintf(g->names[i], F8_QM_NAME_MAX, "c%d", i);
	g->m.nnodes = (uint32_t)g->n;
	g->m.nodes = g->nodes;
	g->m.classes = g->nodes[g->n - 1].c;
	g->m.class_names = g->names;
	snprintf(g->m.model_name, 24, "random%d", idx);
	for (i = 0; i < g->n; i++) {
		f8t_qm_seen[g->nodes[i].op]++;
		for (k = 0; k < 3; k++)
			if (g->nodes[i].flags & (1u << k))
				f8t_qm_seen[8 + k]++;
	}
}

void f8t_qm_gen_free(struct f8t_qm_gen *g)
{
	int i;

	for (i = 0; i < g->n; i++) {
		free(g->w[i]);
		free(g->b[i]);
	}
}
