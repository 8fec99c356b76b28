// SPDX-License-Identifier: MIT
/*
 * The architecture text format (docs/arch-format.md): parser, shape inference and the
 * parameter / BN-state layout of a network (f8_net_parse in f8-net.h).
 *
 * The text is untrusted (a file, a checkpoint): every failure is a status plus a
 * one-line message naming the line, nothing is ever read out of bounds, and every size
 * is computed in 64 bits that cannot wrap (each factor is bounded first) and checked
 * against a limit before anything is allocated.
 * Shape rules are the kernels' own (f8_conv_geom_finish, f8_pool_geom_finish), so a
 * network that parses is a network the kernels accept.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "f8-net.h"
#include "f8-ops.h"

/* A key's integer value: anything larger is out of range before any arithmetic. */
#define F8_ARCH_INT_MAX (1 << 24)
/* Floats of one image's activation of one layer (int arithmetic in the kernels). */
#define F8_ARCH_ACT_MAX (1ll << 30)
/* Parameters of a whole network (1 GiB of float32: far beyond CPU training). */
#define F8_ARCH_PARAM_MAX (1ll << 28)
/* Fields of one line: name, '=', op, two inputs and a handful of keys. */
#define F8_ARCH_TOKENS 16
/* Longest piece of input quoted back in a message. */
#define F8_ARCH_QUOTE 40

static const char *const kind_names[F8_LAYER_COUNT] = {
	[F8_LAYER_INPUT] = "input",     [F8_LAYER_CONV] = "conv",
	[F8_LAYER_BN] = "bn",           [F8_LAYER_RELU] = "relu",
	[F8_LAYER_ADD] = "add",         [F8_LAYER_MAXPOOL] = "maxpool",
	[F8_LAYER_AVGPOOL] = "avgpool", [F8_LAYER_LINEAR] = "linear",
};

static const char *const param_kind_names[F8_PARAM_COUNT] = {
	[F8_PARAM_CONV_W] = "conv.weight", [F8_PARAM_DW_W] = "dwconv.weight",
	[F8_PARAM_BIAS] = "bias",          [F8_PARAM_BN_GAMMA] = "bn.weight",
	[F8_PARAM_BN_BETA] = "bn.bias",    [F8_PARAM_LINEAR_W] = "linear.weight",
	[F8_PARAM_CLIP] = "pact.alpha",
};

const char *f8_layer_kind_name(enum f8_layer_kind kind)
{
	return (unsigned)kind < F8_LAYER_COUNT ? kind_names[kind] : "?";
}

const char *f8_param_kind_name(enum f8_param_kind kind)
{
	return (unsigned)kind < F8_PARAM_COUNT ? param_kind_names[kind] : "?";
}

/* The keys of layer lines; each op accepts a subset. */
enum arch_key { KEY_C, KEY_H, KEY_W, KEY_OUT, KEY_K, KEY_S, KEY_P, KEY_GROUPS, KEY_BIAS, KEY_COUNT };

static const char *const key_names[KEY_COUNT] = {
	"c", "h", "w", "out", "k", "s", "p", "groups", "bias",
};

#define KB(k) (1u << (k))
static const unsigned kind_keys[F8_LAYER_COUNT] = {
	[F8_LAYER_INPUT] = KB(KEY_C) | KB(KEY_H) | KB(KEY_W),
	[F8_LAYER_CONV] = KB(KEY_OUT) | KB(KEY_K) | KB(KEY_S) | KB(KEY_P) | KB(KEY_GROUPS) |
			  KB(KEY_BIAS),
	[F8_LAYER_MAXPOOL] = KB(KEY_K) | KB(KEY_S) | KB(KEY_P),
	[F8_LAYER_AVGPOOL] = KB(KEY_K) | KB(KEY_S) | KB(KEY_P),
	[F8_LAYER_LINEAR] = KB(KEY_OUT),
};
static const unsigned kind_required[F8_LAYER_COUNT] = {
	[F8_LAYER_INPUT] = KB(KEY_C) | KB(KEY_H) | KB(KEY_W),
	[F8_LAYER_CONV] = KB(KEY_K),
	[F8_LAYER_MAXPOOL] = KB(KEY_K),
	[F8_LAYER_AVGPOOL] = KB(KEY_K),
	[F8_LAYER_LINEAR] = KB(KEY_OUT),
};

struct tok {
	const char *s;
	int len;
};

struct arch_parser {
	struct f8_net *net;
	int *lines;  /* source line of each layer */
	int *uses;   /* consumers of each layer */
	int cap;
	struct f8_err *err;
};

/* Special values of the non-numeric keys. */
#define VAL_DW (-2)     /* groups=dw */
#define VAL_GLOBAL (-3) /* k=global */

static int tok_is(struct tok t, const char *s)
{
	return (size_t)t.len == strlen(s) && !memcmp(t.s, s, (size_t)t.len);
}

static int quote_len(struct tok t)
{
	return t.len < F8_ARCH_QUOTE ? t.len : F8_ARCH_QUOTE;
}

/* Split [p, end) at blanks; a '#' starts a comment. Returns the count or -1 when too many. */
static int tokenize(const char *p, const char *end, struct tok *t)
{
	int n = 0;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f'))
			p++;
		if (p == end || *p == '#')
			return n;
		if (n == F8_ARCH_TOKENS)
			return -1;
		t[n].s = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\v' && *p != '\f' &&
		       *p != '#')
			p++;
		t[n].len = (int)(p - t[n].s);
		n++;
	}
}

/* An unsigned decimal in [0, F8_ARCH_INT_MAX]: 0, -FORMAT (not a number), -RANGE (too big). */
static int parse_uint(struct tok t, int *v)
{
	long long x = 0;
	int i;

	if (t.len == 0)
		return F8_ERR_FORMAT;
	for (i = 0; i < t.len; i++) {
		if (t.s[i] < '0' || t.s[i] > '9')
			return F8_ERR_FORMAT;
		if (x <= F8_ARCH_INT_MAX)
			x = x * 10 + (t.s[i] - '0');
	}
	if (x > F8_ARCH_INT_MAX)
		return F8_ERR_RANGE;
	*v = (int)x;
	return F8_OK;
}

/* A finite decimal float in [lo, hi]. */
static int parse_real(struct tok t, double lo, double hi, float *v)
{
	char buf[48];
	char *end;
	double x;

	if (t.len == 0 || t.len >= (int)sizeof(buf))
		return F8_ERR_FORMAT;
	memcpy(buf, t.s, (size_t)t.len);
	buf[t.len] = 0;
	if (!isdigit((unsigned char)buf[0]) && buf[0] != '.')
		return F8_ERR_FORMAT; /* no sign, no "inf"/"nan" spellings */
	x = strtod(buf, &end);
	if (*end || !isfinite(x))
		return F8_ERR_FORMAT;
	if (x < lo || x > hi)
		return F8_ERR_RANGE;
	*v = (float)x;
	return F8_OK;
}

static int valid_name(struct tok t)
{
	int i;

	if (t.len < 1 || !(isalpha((unsigned char)t.s[0]) || t.s[0] == '_'))
		return 0;
	for (i = 1; i < t.len; i++) {
		unsigned char ch = (unsigned char)t.s[i];

		if (!(isalnum(ch) || ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

static int find_layer(const struct f8_net *net, struct tok t)
{
	int i;

	if (t.len >= F8_NAME_MAX)
		return -1;
	for (i = 0; i < net->nlayers; i++)
		if (tok_is(t, net->layers[i].name))
			return i;
	return -1;
}

/* "f8arch 1 [bn_eps=E] [bn_momentum=M] [input=raw|normalized] [clip=pact|none]
 *  [quant=f8net|floating|off]" */
static int parse_version(struct arch_parser *ap, int lineno, const struct tok *t, int nt)
{
	struct f8_net *net = ap->net;
	bool seen_eps = false, seen_mom = false, seen_input = false, seen_clip = false,
	     seen_quant = false;
	int v, i, rc;

	if (nt < 2)
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: expected 'f8arch %d' (the version line)",
			       lineno, F8_ARCH_VERSION);
	rc = parse_uint(t[1], &v);
	if (rc == F8_ERR_FORMAT)
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: bad version '%.*s' (expected 'f8arch %d')",
			       lineno, quote_len(t[1]), t[1].s, F8_ARCH_VERSION);
	if (rc || v != F8_ARCH_VERSION)
		return f8_fail(ap->err, F8_ERR_VERSION,
			       "line %d: architecture version '%.*s' is not supported (this is version %d)",
			       lineno, quote_len(t[1]), t[1].s, F8_ARCH_VERSION);
	for (i = 2; i < nt; i++) {
		const char *eq = memchr(t[i].s, '=', (size_t)t[i].len);
		struct tok key, val;
		bool *seen;
		float *dst;
		double lo, hi;

		if (!eq)
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: unexpected '%.*s' on the version line (keys: bn_eps=, bn_momentum=, input=, clip=, quant=)",
				       lineno, quote_len(t[i]), t[i].s);
		key.s = t[i].s;
		key.len = (int)(eq - t[i].s);
		val.s = eq + 1;
		val.len = t[i].len - key.len - 1;
		if (tok_is(key, "input")) {
			/* how the image enters: raw pixels p / 256 (F8Net's FL-8 input) or normalised */
			if (seen_input)
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: duplicate key 'input'", lineno);
			seen_input = true;
			if (tok_is(val, "raw"))
				net->input_raw = true;
			else if (!tok_is(val, "normalized"))
				return f8_fail(ap->err, F8_ERR_FORMAT,
					       "line %d: input='%.*s': expected raw or normalized", lineno,
					       quote_len(val), val.s);
			continue;
		}
		if (tok_is(key, "clip")) {
			/* PACT's learnable clip levels (F8Net's fixed-point reformulation) */
			if (seen_clip)
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: duplicate key 'clip'", lineno);
			seen_clip = true;
			if (tok_is(val, "pact"))
				net->clip_pact = true;
			else if (!tok_is(val, "none"))
				return f8_fail(ap->err, F8_ERR_FORMAT,
					       "line %d: clip='%.*s': expected pact or none", lineno,
					       quote_len(val), val.s);
			continue;
		}
		if (tok_is(key, "quant")) {
			/* the network computes in F8Net's fake quantization (f8_net_set_quant) */
			if (seen_quant)
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: duplicate key 'quant'", lineno);
			seen_quant = true;
			if (tok_is(val, "f8net"))
				net->arch_quant = F8_QUANT_FIXED;
			else if (tok_is(val, "floating"))
				net->arch_quant = F8_QUANT_FLOATING;
			else if (!tok_is(val, "off"))
				return f8_fail(ap->err, F8_ERR_FORMAT,
					       "line %d: quant='%.*s': expected f8net, floating or off", lineno,
					       quote_len(val), val.s);
			continue;
		}
		if (tok_is(key, "bn_eps")) {
			seen = &seen_eps, dst = &net->bn_eps, lo = 1e-12, hi = 1.0;
		} else if (tok_is(key, "bn_momentum")) {
			seen = &seen_mom, dst = &net->bn_momentum, lo = 0.0, hi = 1.0;
		} else {
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: unknown version-line key '%.*s' (keys: bn_eps=, bn_momentum=, input=, clip=, quant=)",
				       lineno, quote_len(key), key.s);
		}
		if (*seen)
			return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: duplicate key '%.*s'", lineno,
				       quote_len(key), key.s);
		*seen = true;
		rc = parse_real(val, lo, hi, dst);
		if (rc)
			return f8_fail(ap->err, rc, "line %d: %.*s='%.*s': expected a number in [%g, %g]",
				       lineno, quote_len(key), key.s, quote_len(val), val.s, lo, hi);
	}
	return F8_OK;
}

/* Parse the value of @key for @kind into *v (VAL_DW / VAL_GLOBAL for the words). */
static int parse_value(struct arch_parser *ap, int lineno, enum f8_layer_kind kind, enum arch_key key,
		       struct tok val, int *v)
{
	int rc;

	if (key == KEY_GROUPS && tok_is(val, "dw")) {
		*v = VAL_DW;
		return F8_OK;
	}
	if (key == KEY_K && kind == F8_LAYER_AVGPOOL && tok_is(val, "global")) {
		*v = VAL_GLOBAL;
		return F8_OK;
	}
	rc = parse_uint(val, v);
	if (rc == F8_ERR_FORMAT)
		return f8_fail(ap->err, rc, "line %d: %s=%.*s: expected %s", lineno, key_names[key],
			       quote_len(val), val.s,
			       key == KEY_GROUPS ? "1 or dw" :
			       key == KEY_BIAS ? "0 or 1" :
			       (key == KEY_K && kind == F8_LAYER_AVGPOOL) ? "an integer or global" :
									    "a non-negative integer");
	if (rc)
		return f8_fail(ap->err, rc, "line %d: %s=%.*s is out of range (at most %d)", lineno,
			       key_names[key], quote_len(val), val.s, F8_ARCH_INT_MAX);
	if ((key == KEY_GROUPS && *v != 1) || (key == KEY_BIAS && *v > 1))
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: %s=%d: expected %s", lineno,
			       key_names[key], *v, key == KEY_GROUPS ? "1 or dw" : "0 or 1");
	if (*v == 0 && key != KEY_P && key != KEY_BIAS)
		return f8_fail(ap->err, F8_ERR_RANGE, "line %d: %s=0: must be at least 1", lineno,
			       key_names[key]);
	return F8_OK;
}

/*
 * Values of one image's output of @l, saturated above F8_ARCH_ACT_MAX: c, h and w are
 * each at most 2^24, so c * h * w could reach 2^72; c * h (< 2^49) is checked first.
 */
static int64_t layer_elems(const struct f8_layer *l)
{
	const int64_t ch = (int64_t)l->c * l->h;

	if (ch > F8_ARCH_ACT_MAX)
		return F8_ARCH_ACT_MAX + 1;
	return ch * l->w;
}

/* Output shape of layer @l from its inputs and keys (already stored in @l). */
static int infer_shape(struct arch_parser *ap, int lineno, struct f8_layer *l, const int *val)
{
	const struct f8_layer *a = l->in[0] >= 0 ? &ap->net->layers[l->in[0]] : NULL;
	const struct f8_layer *b = l->in[1] >= 0 ? &ap->net->layers[l->in[1]] : NULL;

	switch (l->kind) {
	case F8_LAYER_INPUT:
		l->c = val[KEY_C], l->h = val[KEY_H], l->w = val[KEY_W];
		break;
	case F8_LAYER_CONV: {
		struct f8_conv_geom g = {
			.n = 1, .cin = a->c, .h = a->h, .w = a->w, .k = val[KEY_K],
			.stride = val[KEY_S] >= 0 ? val[KEY_S] : 1, .pad = val[KEY_P] >= 0 ? val[KEY_P] : 0,
		};

		if (val[KEY_GROUPS] == VAL_DW) {
			if (val[KEY_OUT] >= 0 && val[KEY_OUT] != a->c)
				return f8_fail(ap->err, F8_ERR_FORMAT,
					       "line %d: depthwise conv '%s' has out=%d but its input '%s' has %d channels",
					       lineno, l->name, val[KEY_OUT], a->name, a->c);
			g.cout = g.groups = a->c;
		} else {
			if (val[KEY_OUT] < 0)
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: conv '%s' needs out=",
					       lineno, l->name);
			g.cout = val[KEY_OUT];
			g.groups = 1;
		}
		if (f8_conv_geom_finish(&g))
			return f8_fail(ap->err, F8_ERR_RANGE,
				       "line %d: conv '%s' (k=%d s=%d p=%d) does not fit its input '%s' of %dx%dx%d",
				       lineno, l->name, g.k, g.stride, g.pad, a->name, a->c, a->h, a->w);
		l->c = g.cout, l->h = g.oh, l->w = g.ow;
		l->k = g.k, l->stride = g.stride, l->pad = g.pad, l->groups = g.groups;
		l->bias = val[KEY_BIAS] == 1;
		break;
	}
	case F8_LAYER_BN:
	case F8_LAYER_RELU:
		l->c = a->c, l->h = a->h, l->w = a->w;
		break;
	case F8_LAYER_ADD:
		if (a->c != b->c || a->h != b->h || a->w != b->w)
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: add '%s': shapes differ: '%s' is %dx%dx%d, '%s' is %dx%dx%d",
				       lineno, l->name, a->name, a->c, a->h, a->w, b->name, b->c, b->h, b->w);
		l->c = a->c, l->h = a->h, l->w = a->w;
		break;
	case F8_LAYER_MAXPOOL:
	case F8_LAYER_AVGPOOL: {
		struct f8_pool_geom g = { .n = 1, .c = a->c, .h = a->h, .w = a->w };

		if (val[KEY_K] == VAL_GLOBAL) {
			if (val[KEY_S] >= 0 || val[KEY_P] >= 0)
				return f8_fail(ap->err, F8_ERR_FORMAT,
					       "line %d: avgpool '%s': k=global takes no s= or p=", lineno,
					       l->name);
			if (a->h != a->w)
				return f8_fail(ap->err, F8_ERR_RANGE,
					       "line %d: avgpool '%s': k=global needs a square input, '%s' is %dx%d",
					       lineno, l->name, a->name, a->h, a->w);
			g.k = a->h, g.stride = 1, g.pad = 0;
		} else {
			g.k = val[KEY_K];
			g.stride = val[KEY_S] >= 0 ? val[KEY_S] : g.k; /* PyTorch: stride = kernel */
			g.pad = val[KEY_P] >= 0 ? val[KEY_P] : 0;
		}
		if (f8_pool_geom_finish(&g))
			return f8_fail(ap->err, F8_ERR_RANGE,
				       "line %d: %s '%s' (k=%d s=%d p=%d) does not fit its input '%s' of %dx%dx%d (and needs p <= k/2)",
				       lineno, kind_names[l->kind], l->name, g.k, g.stride, g.pad, a->name,
				       a->c, a->h, a->w);
		l->c = a->c, l->h = g.oh, l->w = g.ow;
		l->k = g.k, l->stride = g.stride, l->pad = g.pad;
		break;
	}
	case F8_LAYER_LINEAR:
		if (layer_elems(a) > INT32_MAX)
			return f8_fail(ap->err, F8_ERR_RANGE, "line %d: linear '%s': input too large",
				       lineno, l->name);
		l->c = val[KEY_OUT], l->h = 1, l->w = 1;
		l->bias = true;
		break;
	default:
		F8_ASSERT(0);
	}
	if (layer_elems(l) > F8_ARCH_ACT_MAX)
		return f8_fail(ap->err, F8_ERR_RANGE,
			       "line %d: layer '%s' output %dx%dx%d has more than %lld values per image",
			       lineno, l->name, l->c, l->h, l->w, F8_ARCH_ACT_MAX);
	return F8_OK;
}

/* One layer line: "name = op [inputs] [key=value...]". */
static int parse_layer(struct arch_parser *ap, int lineno, const struct tok *t, int nt)
{
	struct f8_net *net = ap->net;
	struct f8_layer *l;
	struct tok name, op, ins[2];
	int val[KEY_COUNT];
	unsigned seen = 0;
	int nin = 0, i, k, rc, prev;
	const char *eq = memchr(t[0].s, '=', (size_t)t[0].len);

	/* "name = op", "name=op", "name= op" and "name =op" all read the same. */
	name.s = t[0].s;
	i = 1;
	if (eq) {
		name.len = (int)(eq - t[0].s);
		op.s = eq + 1;
		op.len = t[0].len - name.len - 1;
	} else {
		name.len = t[0].len;
		if (nt < 2 || t[1].s[0] != '=')
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: expected 'name = op ...', found '%.*s'", lineno,
				       quote_len(t[0]), t[0].s);
		op.s = t[1].s + 1;
		op.len = t[1].len - 1;
		i = 2;
	}
	if (op.len == 0) {
		if (i >= nt)
			return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: '%.*s =' without an op",
				       lineno, quote_len(name), name.s);
		op = t[i++];
	}
	if (net->nlayers >= F8_MAX_LAYERS)
		return f8_fail(ap->err, F8_ERR_RANGE, "line %d: more than %d layers", lineno,
			       F8_MAX_LAYERS);
	if (name.len >= F8_NAME_MAX)
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: name '%.*s...' longer than %d characters",
			       lineno, quote_len(name), name.s, F8_NAME_MAX - 1);
	if (!valid_name(name))
		return f8_fail(ap->err, F8_ERR_FORMAT,
			       "line %d: bad layer name '%.*s' (letters, digits, '_', '.', '-'; not starting with a digit)",
			       lineno, quote_len(name), name.s);
	k = find_layer(net, name);
	if (k >= 0)
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: layer '%s' already defined on line %d",
			       lineno, net->layers[k].name, ap->lines[k]);
	F8_ASSERT(net->nlayers < ap->cap);
	l = &net->layers[net->nlayers];
	memset(l, 0, sizeof(*l));
	memcpy(l->name, name.s, (size_t)name.len);
	l->in[0] = l->in[1] = -1;
	l->param[0] = l->param[1] = l->state = l->clip = -1;
	for (k = 0; k < F8_LAYER_COUNT; k++)
		if (tok_is(op, kind_names[k]))
			break;
	if (k == F8_LAYER_COUNT)
		return f8_fail(ap->err, F8_ERR_FORMAT,
			       "line %d: unknown op '%.*s' (ops: input conv bn relu add maxpool avgpool linear)",
			       lineno, quote_len(op), op.s);
	l->kind = (enum f8_layer_kind)k;
	if (net->nlayers == 0 && l->kind != F8_LAYER_INPUT)
		return f8_fail(ap->err, F8_ERR_FORMAT,
			       "line %d: the first layer must be the input ('x = input c=C h=H w=W')", lineno);
	if (net->nlayers > 0 && l->kind == F8_LAYER_INPUT)
		return f8_fail(ap->err, F8_ERR_FORMAT,
			       "line %d: a second input '%s' (the input of line %d is the only one)", lineno,
			       l->name, ap->lines[0]);

	for (k = 0; k < KEY_COUNT; k++)
		val[k] = -1;
	for (; i < nt; i++) {
		const char *e = memchr(t[i].s, '=', (size_t)t[i].len);

		if (!e) {
			/* An input name. */
			if (nin == 2)
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: %s '%s' has more than %d inputs",
					       lineno, kind_names[l->kind], l->name,
					       l->kind == F8_LAYER_ADD ? 2 : 1);
			ins[nin++] = t[i];
		} else {
			struct tok key = { t[i].s, (int)(e - t[i].s) };
			struct tok v = { e + 1, t[i].len - key.len - 1 };

			for (k = 0; k < KEY_COUNT; k++)
				if (tok_is(key, key_names[k]))
					break;
			if (k == KEY_COUNT || !(kind_keys[l->kind] & KB(k)))
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: %s has no key '%.*s'",
					       lineno, kind_names[l->kind], quote_len(key), key.s);
			if (seen & KB(k))
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: duplicate key '%s'",
					       lineno, key_names[k]);
			seen |= KB(k);
			rc = parse_value(ap, lineno, l->kind, (enum arch_key)k, v, &val[k]);
			if (rc)
				return rc;
		}
	}
	for (k = 0; k < KEY_COUNT; k++)
		if ((kind_required[l->kind] & KB(k)) && !(seen & KB(k)))
			return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: %s '%s' needs %s=", lineno,
				       kind_names[l->kind], l->name, key_names[k]);

	/* Inputs: named ones must exist already; none means the previous layer. */
	if (l->kind == F8_LAYER_INPUT) {
		if (nin)
			return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: input '%s' takes no inputs",
				       lineno, l->name);
	} else if (l->kind == F8_LAYER_ADD) {
		if (nin != 2)
			return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: add '%s' needs two inputs",
				       lineno, l->name);
	} else if (nin > 1) {
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: %s '%s' has more than 1 input", lineno,
			       kind_names[l->kind], l->name);
	}
	prev = net->nlayers - 1;
	if (l->kind != F8_LAYER_INPUT && nin == 0)
		l->in[0] = prev;
	for (k = 0; k < nin; k++) {
		l->in[k] = find_layer(net, ins[k]);
		if (l->in[k] < 0)
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: unknown layer '%.*s' (a layer is used after its own line)",
				       lineno, quote_len(ins[k]), ins[k].s);
	}
	rc = infer_shape(ap, lineno, l, val);
	if (rc)
		return rc;
	for (k = 0; k < 2; k++)
		if (l->in[k] >= 0)
			ap->uses[l->in[k]]++;
	ap->lines[net->nlayers] = lineno;
	net->nlayers++;
	return F8_OK;
}

/* Union-find over tensors (layer outputs) for the PACT groups. */
static int uf_find(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

/*
 * clip=pact: the alphas and running FLs, after every float parameter and state so that a
 * float network's layout is a prefix. Every conv/linear except the image's consumer has a
 * clipped input. Inputs along one residual stream share an alpha (F8Net's master/sibling):
 * a tensor two units read is one group, and an add whose operand is a tensor a unit reads
 * (the identity) continues that operand's group, as does a ReLU its input. A downsampling
 * block's add (both operands computed) starts a new group; a pool ends one (the classifier
 * has its own alpha). The first reader of a group owns the alpha.
 */
static int pact_layout(struct arch_parser *ap, int64_t *total, int64_t *states)
{
	struct f8_net *net = ap->net;
	const int nl = net->nlayers;
	int *parent = malloc(sizeof(int) * (size_t)nl), *owner = malloc(sizeof(int) * (size_t)nl);
	bool *read = calloc((size_t)nl, sizeof(bool));
	int i;

	if (!parent || !owner || !read) {
		free(parent);
		free(owner);
		free(read);
		return f8_fail(ap->err, F8_ERR_NOMEM, "out of memory for the PACT groups");
	}
	for (i = 0; i < nl; i++) {
		const struct f8_layer *l = &net->layers[i];

		parent[i] = i;
		owner[i] = -1;
		if ((l->kind == F8_LAYER_CONV || l->kind == F8_LAYER_LINEAR) && l->in[0] > 0)
			read[l->in[0]] = true;
	}
	for (i = 0; i < nl; i++) {
		const struct f8_layer *l = &net->layers[i];

		if (l->kind == F8_LAYER_RELU)
			parent[uf_find(parent, i)] = uf_find(parent, l->in[0]);
		else if (l->kind == F8_LAYER_ADD && (read[l->in[0]] || read[l->in[1]]))
			parent[uf_find(parent, i)] = uf_find(parent, read[l->in[0]] ? l->in[0] : l->in[1]);
	}
	for (i = 0; i < nl; i++) {
		struct f8_layer *l = &net->layers[i];
		int g;

		if ((l->kind != F8_LAYER_CONV && l->kind != F8_LAYER_LINEAR) || l->in[0] <= 0)
			continue;
		g = uf_find(parent, l->in[0]);
		if (owner[g] < 0) {
			struct f8_param *p = &net->params[net->nparams];

			p->layer = i;
			p->kind = F8_PARAM_CLIP;
			p->off = (size_t)*total;
			p->count = 1;
			*total += 1;
			owner[g] = net->nparams++;
		}
		l->clip = owner[g];
		net->states[net->nstates].layer = i;
		net->states[net->nstates].off = (size_t)*states;
		net->states[net->nstates].count = 1;
		*states += 1;
		l->state = net->nstates++;
	}
	free(parent);
	free(owner);
	free(read);
	return F8_OK;
}

/* Parameters and states of every layer, in layer order; counts checked before allocation. */
static int layout(struct arch_parser *ap)
{
	struct f8_net *net = ap->net;
	int64_t total = 0, states = 0;
	int np = 0, ns = 0, i;

	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];

		np += (l->kind == F8_LAYER_CONV) ? 1 + l->bias :
		      (l->kind == F8_LAYER_BN || l->kind == F8_LAYER_LINEAR) ? 2 : 0;
		ns += l->kind == F8_LAYER_BN;
		/* clip=pact: at most one alpha and one running FL per conv/linear */
		if (net->clip_pact && (l->kind == F8_LAYER_CONV || l->kind == F8_LAYER_LINEAR)) {
			np++;
			ns++;
		}
	}
	net->params = calloc((size_t)np + 1, sizeof(*net->params));
	net->states = calloc((size_t)ns + 1, sizeof(*net->states));
	if (!net->params || !net->states)
		return f8_fail(ap->err, F8_ERR_NOMEM, "out of memory for the parameter table");
	for (i = 0; i < net->nlayers; i++) {
		struct f8_layer *l = &net->layers[i];
		const struct f8_layer *a = l->in[0] >= 0 ? &net->layers[l->in[0]] : NULL;
		int64_t count[2] = { 0, 0 };
		enum f8_param_kind kind[2] = { F8_PARAM_BIAS, F8_PARAM_BIAS };
		int j, n = 0;

		switch (l->kind) {
		case F8_LAYER_CONV:
			kind[0] = l->groups == 1 ? F8_PARAM_CONV_W : F8_PARAM_DW_W;
			count[0] = (int64_t)l->c * (a->c / l->groups) * l->k * l->k;
			count[1] = l->c;
			n = 1 + l->bias;
			break;
		case F8_LAYER_BN:
			kind[0] = F8_PARAM_BN_GAMMA, kind[1] = F8_PARAM_BN_BETA;
			count[0] = count[1] = l->c;
			n = 2;
			break;
		case F8_LAYER_LINEAR:
			kind[0] = F8_PARAM_LINEAR_W;
			count[0] = layer_elems(a) * l->c;
			count[1] = l->c;
			n = 2;
			break;
		default:
			break;
		}
		for (j = 0; j < n; j++) {
			struct f8_param *p = &net->params[net->nparams];

			if (count[j] > F8_ARCH_PARAM_MAX - total)
				return f8_fail(ap->err, F8_ERR_RANGE,
					       "line %d: layer '%s' takes the network beyond %lld parameters",
					       ap->lines[i], l->name, F8_ARCH_PARAM_MAX);
			p->layer = i;
			p->kind = kind[j];
			p->off = (size_t)total;
			p->count = (size_t)count[j];
			total += count[j];
			l->param[j] = net->nparams++;
		}
		if (l->kind == F8_LAYER_BN) {
			struct f8_state *s = &net->states[net->nstates];

			s->layer = i;
			s->off = (size_t)states;
			s->count = 2 * (size_t)l->c;
			states += 2 * (int64_t)l->c;
			l->state = net->nstates++;
		}
	}
	if (net->clip_pact) {
		const int rc = pact_layout(ap, &total, &states);

		if (rc)
			return rc;
	}
	net->param_count = (size_t)total;
	net->state_count = (size_t)states;
	net->param = calloc(net->param_count + 1, sizeof(float));
	net->grad = calloc(net->param_count + 1, sizeof(float));
	net->state = calloc(net->state_count + 1, sizeof(float));
	if (!net->param || !net->grad || !net->state)
		return f8_fail(ap->err, F8_ERR_NOMEM, "out of memory for %zu parameters",
			       net->param_count);
	return F8_OK;
}

/* The whole graph once every line is in: an output, no dead ends. */
static int check_graph(struct arch_parser *ap, int last_line)
{
	const struct f8_net *net = ap->net;
	const struct f8_layer *out;
	int i;

	if (net->nlayers == 0)
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: no layers (expected an input first)",
			       last_line);
	if (net->nlayers == 1)
		return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: no layers after the input", last_line);
	out = &net->layers[net->nlayers - 1];
	if (out->h != 1 || out->w != 1)
		return f8_fail(ap->err, F8_ERR_FORMAT,
			       "line %d: the last layer '%s' is the logits and must be Cx1x1, not %dx%dx%d (end with linear or avgpool k=global)",
			       ap->lines[net->nlayers - 1], out->name, out->c, out->h, out->w);
	for (i = 0; i < net->nlayers - 1; i++)
		if (!ap->uses[i])
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: layer '%s' is never used (only the last layer is an output)",
				       ap->lines[i], net->layers[i].name);
	return F8_OK;
}

static int parse_text(struct arch_parser *ap, const char *text)
{
	struct tok t[F8_ARCH_TOKENS];
	const char *p = text;
	bool have_version = false;
	int lineno = 0, nt, rc;

	while (*p) {
		const char *end = strchr(p, '\n');

		if (!end)
			end = p + strlen(p);
		lineno++;
		nt = tokenize(p, end, t);
		p = *end ? end + 1 : end;
		if (nt < 0)
			return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: more than %d fields", lineno,
				       F8_ARCH_TOKENS);
		if (nt == 0)
			continue;
		if (tok_is(t[0], "f8arch")) {
			if (have_version)
				return f8_fail(ap->err, F8_ERR_FORMAT, "line %d: a second version line",
					       lineno);
			rc = parse_version(ap, lineno, t, nt);
			if (rc)
				return rc;
			have_version = true;
			continue;
		}
		if (!have_version)
			return f8_fail(ap->err, F8_ERR_FORMAT,
				       "line %d: expected the version line 'f8arch %d' before anything else",
				       lineno, F8_ARCH_VERSION);
		rc = parse_layer(ap, lineno, t, nt);
		if (rc)
			return rc;
	}
	if (!have_version)
		return f8_fail(ap->err, F8_ERR_FORMAT,
			       "line %d: no version line 'f8arch %d' (empty architecture)", lineno + 1,
			       F8_ARCH_VERSION);
	return check_graph(ap, lineno);
}

int f8_net_new(const char *text, struct f8_net **netp, struct f8_err *err)
{
	struct arch_parser ap = { .err = err };
	struct f8_net *net;
	size_t lines = 1;
	const char *q;
	int rc;

	if (err)
		err->msg[0] = 0;
	if (!netp)
		return f8_fail(err, F8_ERR_MISUSE, "f8_net_new: NULL result pointer");
	*netp = NULL;
	if (!text)
		return f8_fail(err, F8_ERR_MISUSE, "no architecture text");
	for (q = text; (q = strchr(q, '\n')); q++)
		lines++;
	ap.cap = lines < F8_MAX_LAYERS ? (int)lines : F8_MAX_LAYERS;
	net = calloc(1, sizeof(*net));
	ap.lines = calloc((size_t)ap.cap, sizeof(int));
	ap.uses = calloc((size_t)ap.cap, sizeof(int));
	if (net) {
		net->layers = calloc((size_t)ap.cap, sizeof(*net->layers));
		net->arch = strdup(text);
		net->bn_eps = 1e-5f;
		net->bn_momentum = 0.1f;
	}
	ap.net = net;
	if (!net || !ap.lines || !ap.uses || !net->layers || !net->arch) {
		rc = f8_fail(err, F8_ERR_NOMEM, "out of memory parsing the architecture");
	} else {
		rc = parse_text(&ap, text);
		if (!rc)
			rc = layout(&ap);
	}
	free(ap.lines);
	free(ap.uses);
	if (rc) {
		f8_net_free(net);
		return rc;
	}
	net->classes = net->layers[net->nlayers - 1].c;
	if (net->arch_quant != F8_QUANT_OFF) {
		const struct f8_quant_cfg qc = f8_net_arch_quant_cfg(net);

		rc = f8_net_set_quant(net, &qc, err);
		if (rc) {
			f8_net_free(net);
			return rc;
		}
	}
	*netp = net;
	return F8_OK;
}

struct f8_net *f8_net_parse(const char *text, struct f8_err *err)
{
	struct f8_net *net = NULL;

	f8_net_new(text, &net, err);
	return net;
}
