// SPDX-License-Identifier: MIT
/*
 * Networks of the training engine (runtime/train/f8-arch.c, f8-zoo.c, f8-net.c):
 *   - the zoo against numbers computed outside libf8: torchvision's parameter counts,
 *     MACs counted by forward hooks on the same models built in PyTorch, and the CIFAR
 *     ResNets by the closed formula below;
 *   - the text format: shapes and layout of a hand-checked text, a table of bad texts
 *     each failing with its status and the line it names, and mutated texts that must
 *     never crash the parser;
 *   - whole networks: analytic gradients against float32 central differences of the
 *     loss on small branching networks, BN train vs eval at network level, plan reuse
 *     (forward/backward twice, smaller batches, re-planning) and deterministic init.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-err.h"
#include "f8-net.h"
#include "f8-ops.h"
#include "f8-par.h"
#include "f8-rng.h"
#include "train-test.h"

#define EXPECT(cond, ...)                         \
	do {                                      \
		if (!(cond))                      \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

static struct f8_net *parse_ok(const char *text)
{
	struct f8_err err = { "" };
	struct f8_net *net = f8_net_parse(text, &err);

	ck_assert_msg(net != NULL, "parse failed: %s", err.msg);
	return net;
}

static struct f8_net *zoo_net(const char *name)
{
	struct f8_err err = { "" };
	char *text = f8_zoo_arch(name, &err);
	struct f8_net *net;

	ck_assert_msg(text != NULL, "zoo %s: %s", name, err.msg);
	net = parse_ok(text);
	free(text);
	return net;
}

/* ---- the zoo ---- */

/*
 * CIFAR ResNet-(6n+2) on 1 input channel, option-B shortcuts, 10 classes, counted
 * block by block: conv 3x3 weights, BN 2c, 1x1 projection + BN at stages 2 and 3.
 */
static long cifar_resnet_params(int n)
{
	long p = 1 * 16 * 9 + 2 * 16; /* stem */
	int s, b;

	for (s = 0; s < 3; s++) {
		int c = 16 << s;

		for (b = 0; b < n; b++) {
			int cin = (s > 0 && b == 0) ? c / 2 : c;

			p += (long)cin * c * 9 + 2 * c + (long)c * c * 9 + 2 * c;
			if (cin != c)
				p += (long)cin * c + 2 * c;
		}
	}
	return p + 64 * 10 + 10;
}

static const struct zoo_case {
	const char *name;
	size_t params;   /* torchvision / PyTorch count */
	uint64_t macs;   /* conv + linear multiply-accumulates per image (PyTorch hooks) */
	int c, hw, classes;
} zoo_cases[] = {
	{ "resnet8", 77754, 9345920, 1, 28, 10 },
	{ "resnet14", 174970, 20183936, 1, 28, 10 },
	{ "resnet20", 272186, 31021952, 1, 28, 10 },
	{ "mobilenetv1-small", 36874, 3290944, 1, 28, 10 },
	{ "mobilenetv2-small", 134250, 9884880, 1, 28, 10 },
	{ "resnet18", 11689512, 1814073344, 3, 224, 1000 },
	{ "resnet50", 25557032, 4089184256, 3, 224, 1000 },
	{ "mobilenetv1", 4231976, 568740352, 3, 224, 1000 },
	{ "mobilenetv2", 3504872, 300774272, 3, 224, 1000 },
};

START_TEST(test_zoo_counts)
{
	const struct zoo_case *zc = &zoo_cases[_i];
	struct f8_net *net = zoo_net(zc->name);
	size_t bn = 0;
	int i;

	ck_assert_uint_eq(net->param_count, zc->params);
	ck_assert_uint_eq(f8_net_macs(net), zc->macs);
	ck_assert_int_eq(net->classes, zc->classes);
	ck_assert_int_eq(net->layers[0].kind, F8_LAYER_INPUT);
	ck_assert_int_eq(net->layers[0].c, zc->c);
	ck_assert_int_eq(net->layers[0].h, zc->hw);
	ck_assert_int_eq(net->layers[0].w, zc->hw);
	/* Every conv of the zoo is bias-free and followed by its BN: states = 2 * BN channels. */
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];

		if (l->kind == F8_LAYER_CONV)
			ck_assert(!l->bias);
		if (l->kind == F8_LAYER_BN)
			bn += 2 * (size_t)l->c;
	}
	ck_assert_uint_eq(net->state_count, bn);
	ck_assert_ptr_nonnull(f8_zoo_describe(zc->name));
	f8_net_free(net);
}
END_TEST

START_TEST(test_zoo_list)
{
	const char *const *names = f8_zoo_names();
	struct f8_err err = { "" };
	size_t n = 0, i;

	for (; names[n]; n++) {
		for (i = 0; i < sizeof(zoo_cases) / sizeof(zoo_cases[0]); i++)
			if (!strcmp(zoo_cases[i].name, names[n]))
				break;
		ck_assert_msg(i < sizeof(zoo_cases) / sizeof(zoo_cases[0]), "untested %s", names[n]);
	}
	ck_assert_uint_eq(n, sizeof(zoo_cases) / sizeof(zoo_cases[0]));
	ck_assert_ptr_null(f8_zoo_arch("resnet21", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "resnet21"));
	ck_assert_ptr_null(f8_zoo_arch(NULL, &err));
	ck_assert_ptr_null(f8_zoo_describe("nope"));
	/* The closed formula agrees with the table (272,474 is the 3-channel figure). */
	ck_assert_int_eq(cifar_resnet_params(1), 77754);
	ck_assert_int_eq(cifar_resnet_params(2), 174970);
	ck_assert_int_eq(cifar_resnet_params(3), 272186);
	ck_assert_int_eq(cifar_resnet_params(3) + 2 * 16 * 9, 272474);
}
END_TEST

/* The structure of resnet20 and mobilenetv2-small: shapes, shortcuts, residuals. */
START_TEST(test_zoo_structure)
{
	struct f8_net *net = zoo_net("resnet20");
	int i, adds = 0, proj = 0, last = net->nlayers - 1;

	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];

		adds += l->kind == F8_LAYER_ADD;
		proj += l->kind == F8_LAYER_CONV && l->k == 1;
	}
	ck_assert_int_eq(adds, 9);
	ck_assert_int_eq(proj, 2);
	ck_assert_int_eq(net->layers[last].kind, F8_LAYER_LINEAR);
	ck_assert_int_eq(net->layers[last - 1].kind, F8_LAYER_AVGPOOL);
	ck_assert_int_eq(net->layers[last - 1].c, 64);
	ck_assert_int_eq(net->layers[net->layers[last - 1].in[0]].h, 7);
	f8_net_free(net);

	net = zoo_net("mobilenetv2-small");
	for (adds = 0, i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];

		if (l->kind == F8_LAYER_ADD) {
			adds++;
			/* The linear bottleneck: a BN straight into the add, no ReLU. */
			ck_assert_int_eq(net->layers[l->in[0]].kind, F8_LAYER_BN);
		}
		if (l->kind == F8_LAYER_CONV && l->groups > 1)
			ck_assert_int_eq(l->groups, net->layers[l->in[0]].c);
	}
	/* t=1 block (16->16), second blocks of the 24/32/64 rows. */
	ck_assert_int_eq(adds, 4);
	f8_net_free(net);
}
END_TEST

/* ---- the text format ---- */

/* input=raw: pixels enter as p / 256 (F8Net's FL-8 input); --raw-input adds it to a text. */
START_TEST(test_input_raw)
{
	struct f8_err err = { "" };
	char *zoo = f8_zoo_arch("resnet8", &err), *raw;
	struct f8_net *net;
	struct f8_norm nm;

	ck_assert_ptr_nonnull(zoo);
	net = parse_ok(zoo);
	ck_assert(!net->input_raw);
	nm = f8_net_input_norm(net);
	ck_assert(nm.mean == F8_FMNIST_NORM.mean && nm.std == F8_FMNIST_NORM.std);
	f8_net_free(net);
	raw = f8_arch_with_raw_input(zoo, &err);
	ck_assert_ptr_nonnull(raw);
	net = parse_ok(raw);
	ck_assert(net->input_raw);
	nm = f8_net_input_norm(net);
	/* (p / 255 - 0) / (256 / 255) = p / 256 for every pixel value, to float rounding */
	ck_assert(nm.mean == 0.0f && fabs(((double)200 / 255 - nm.mean) / nm.std - 200.0 / 256) < 1e-6);
	f8_net_free(net);
	ck_assert_ptr_null(f8_arch_with_raw_input(raw, &err)); /* already has input= */
	ck_assert_ptr_null(f8_arch_with_raw_input("x = input c=1 h=1 w=1\n", &err));
	free(raw);
	free(zoo);
	/* f8_arch_set_key: appended, then replaced in place; comments before the line kept */
	raw = f8_arch_set_key("# c\nf8arch 1 input=raw\nx = input c=1 h=1 w=1\n", "quant", "f8net", &err);
	ck_assert_str_eq(raw, "# c\nf8arch 1 input=raw quant=f8net\nx = input c=1 h=1 w=1\n");
	zoo = f8_arch_set_key(raw, "input", "normalized", &err);
	ck_assert_str_eq(zoo, "# c\nf8arch 1 input=normalized quant=f8net\nx = input c=1 h=1 w=1\n");
	free(raw);
	raw = f8_arch_set_key(zoo, "quant", "floating", &err);
	ck_assert_str_eq(raw, "# c\nf8arch 1 input=normalized quant=floating\nx = input c=1 h=1 w=1\n");
	ck_assert_ptr_null(f8_arch_set_key("x = input c=1 h=1 w=1\n", "quant", "f8net", &err));
	free(raw);
	free(zoo);
}
END_TEST

static const char good_text[] =
	"# every op once\r\n"
	"f8arch 1 bn_eps=1e-3 bn_momentum=0.25   # header keys\n"
	"\n"
	"x = input c=2 h=9 w=9\n"
	"c1=conv out=4 k=3 s=2 p=1 bias=1\n"
	"  b1 =bn\n"
	"r1= relu\n"
	"dw = conv r1 groups=dw k=3 p=1\n"
	"b2 = bn\n"
	"sum = add b2 r1\n"
	"mp = maxpool sum k=3 s=2 p=1\n"
	"ap = avgpool k=2\n"
	"g = avgpool mp k=global\n"
	"fa = linear ap out=3\n"
	"fg = linear g out=3\n"
	"logits = add fa fg\n";

START_TEST(test_parse_known)
{
	struct f8_net *net = parse_ok(good_text);
	static const struct {
		const char *name;
		enum f8_layer_kind kind;
		int in0, in1, c, h, w;
	} want[] = {
		{ "x", F8_LAYER_INPUT, -1, -1, 2, 9, 9 },
		{ "c1", F8_LAYER_CONV, 0, -1, 4, 5, 5 },
		{ "b1", F8_LAYER_BN, 1, -1, 4, 5, 5 },
		{ "r1", F8_LAYER_RELU, 2, -1, 4, 5, 5 },
		{ "dw", F8_LAYER_CONV, 3, -1, 4, 5, 5 },
		{ "b2", F8_LAYER_BN, 4, -1, 4, 5, 5 },
		{ "sum", F8_LAYER_ADD, 5, 3, 4, 5, 5 },
		{ "mp", F8_LAYER_MAXPOOL, 6, -1, 4, 3, 3 },
		{ "ap", F8_LAYER_AVGPOOL, 7, -1, 4, 1, 1 },
		{ "g", F8_LAYER_AVGPOOL, 7, -1, 4, 1, 1 },
		{ "fa", F8_LAYER_LINEAR, 8, -1, 3, 1, 1 },
		{ "fg", F8_LAYER_LINEAR, 9, -1, 3, 1, 1 },
		{ "logits", F8_LAYER_ADD, 10, 11, 3, 1, 1 },
	};
	/* weight, bias... in layer order: c1 (72 + 4), b1 (4 + 4), dw (36), b2 (4 + 4), fa, fg. */
	static const struct {
		int layer;
		enum f8_param_kind kind;
		size_t count;
	} params[] = {
		{ 1, F8_PARAM_CONV_W, 72 }, { 1, F8_PARAM_BIAS, 4 },      { 2, F8_PARAM_BN_GAMMA, 4 },
		{ 2, F8_PARAM_BN_BETA, 4 }, { 4, F8_PARAM_DW_W, 36 },     { 5, F8_PARAM_BN_GAMMA, 4 },
		{ 5, F8_PARAM_BN_BETA, 4 }, { 10, F8_PARAM_LINEAR_W, 12 }, { 10, F8_PARAM_BIAS, 3 },
		{ 11, F8_PARAM_LINEAR_W, 12 }, { 11, F8_PARAM_BIAS, 3 },
	};
	size_t off = 0;
	int i;

	ck_assert_str_eq(net->arch, good_text);
	ck_assert_int_eq(net->nlayers, (int)(sizeof(want) / sizeof(want[0])));
	for (i = 0; i < net->nlayers; i++) {
		const struct f8_layer *l = &net->layers[i];

		ck_assert_str_eq(l->name, want[i].name);
		ck_assert_int_eq(l->kind, want[i].kind);
		ck_assert_int_eq(l->in[0], want[i].in0);
		ck_assert_int_eq(l->in[1], want[i].in1);
		ck_assert_msg(l->c == want[i].c && l->h == want[i].h && l->w == want[i].w,
			      "%s: %dx%dx%d", l->name, l->c, l->h, l->w);
	}
	ck_assert_int_eq(net->layers[1].k, 3);
	ck_assert_int_eq(net->layers[1].stride, 2);
	ck_assert_int_eq(net->layers[1].pad, 1);
	ck_assert(net->layers[1].bias);
	ck_assert_int_eq(net->layers[1].groups, 1);
	ck_assert_int_eq(net->layers[4].groups, 4);
	ck_assert(!net->layers[4].bias);
	ck_assert_int_eq(net->layers[8].stride, 2); /* pool stride defaults to k */
	ck_assert_int_eq(net->layers[9].k, 3);      /* global = the whole 3x3 plane */
	ck_assert_int_eq(net->nparams, (int)(sizeof(params) / sizeof(params[0])));
	for (i = 0; i < net->nparams; i++) {
		ck_assert_int_eq(net->params[i].layer, params[i].layer);
		ck_assert_int_eq(net->params[i].kind, params[i].kind);
		ck_assert_uint_eq(net->params[i].off, off);
		ck_assert_uint_eq(net->params[i].count, params[i].count);
		off += params[i].count;
	}
	ck_assert_uint_eq(net->param_count, off);
	ck_assert_int_eq(net->layers[1].param[0], 0);
	ck_assert_int_eq(net->layers[1].param[1], 1);
	ck_assert_int_eq(net->layers[4].param[1], -1);
	ck_assert_int_eq(net->nstates, 2);
	ck_assert_int_eq(net->layers[2].state, 0);
	ck_assert_int_eq(net->layers[5].state, 1);
	ck_assert_uint_eq(net->states[1].off, 8);
	ck_assert_uint_eq(net->state_count, 16);
	ck_assert_int_eq(net->classes, 3);
	ck_assert_float_eq(net->bn_eps, 1e-3f);
	ck_assert_float_eq(net->bn_momentum, 0.25f);
	/* MACs: c1 4*25*2*9, dw 4*25*9, fa 4*3, fg 4*3. */
	ck_assert_uint_eq(f8_net_macs(net), 1800 + 900 + 12 + 12);
	f8_net_free(net);

	net = parse_ok("f8arch 1\nx = input c=1 h=2 w=2\nfc = linear out=2\n");
	ck_assert_float_eq(net->bn_eps, 1e-5f);
	ck_assert_float_eq(net->bn_momentum, 0.1f);
	ck_assert_str_eq(f8_layer_kind_name(F8_LAYER_MAXPOOL), "maxpool");
	ck_assert_ptr_nonnull(f8_param_kind_name(F8_PARAM_DW_W));
	f8_net_free(net);
}
END_TEST

#define HDR "f8arch 1\nx = input c=2 h=8 w=8\n"
#define TAIL "g = avgpool k=global\nfc = linear out=2\n"

static const struct bad_case {
	const char *text;
	int status;
	const char *msg; /* must appear in the message */
} bad_cases[] = {
	{ "", F8_ERR_FORMAT, "line 1:" },
	{ "# nothing\n\n", F8_ERR_FORMAT, "no version line" },
	{ "x = input c=1 h=1 w=1\n", F8_ERR_FORMAT, "line 1:" },
	{ "# v\nf8arch 2\n", F8_ERR_VERSION, "line 2:" },
	{ "f8arch 99999999999\n", F8_ERR_VERSION, "line 1:" },
	{ "f8arch one\n", F8_ERR_FORMAT, "line 1:" },
	{ "f8arch\n", F8_ERR_FORMAT, "line 1:" },
	{ "f8arch 1\nf8arch 1\n", F8_ERR_FORMAT, "line 2: a second version line" },
	{ "f8arch 1 bn_eps=0\n", F8_ERR_RANGE, "line 1:" },
	{ "f8arch 1 bn_eps=abc\n", F8_ERR_FORMAT, "line 1:" },
	{ "f8arch 1 bn_momentum=nan\n", F8_ERR_FORMAT, "line 1:" },
	{ "f8arch 1 bn_momentum=-0.1\n", F8_ERR_FORMAT, "line 1:" },
	{ "f8arch 1 bn_momentum=1.5\n", F8_ERR_RANGE, "line 1:" },
	{ "f8arch 1 bn_eps=1e-5 bn_eps=1e-5\n", F8_ERR_FORMAT, "duplicate" },
	{ "f8arch 1 input=rawish\n", F8_ERR_FORMAT, "expected raw or normalized" },
	{ "f8arch 1 input=raw input=raw\n", F8_ERR_FORMAT, "duplicate key 'input'" },
	{ "f8arch 1 clip=pacts\n", F8_ERR_FORMAT, "clip='pacts': expected pact or none" },
	{ "f8arch 1 clip=pact clip=none\n", F8_ERR_FORMAT, "duplicate key 'clip'" },
	{ "f8arch 1 quant=int4\n", F8_ERR_FORMAT, "quant='int4': expected f8net, floating or off" },
	{ "f8arch 1 quant=off quant=off\n", F8_ERR_FORMAT, "duplicate key 'quant'" },
	{ "f8arch 1 eps=1\n", F8_ERR_FORMAT, "unknown version-line key" },
	{ "f8arch 1 junk\n", F8_ERR_FORMAT, "line 1:" },
	{ "f8arch 1\n", F8_ERR_FORMAT, "no layers" },
	{ "f8arch 1\nx = input c=1 h=1 w=1\n", F8_ERR_FORMAT, "no layers after the input" },
	{ HDR "y = conv2d out=3 k=3\n" TAIL, F8_ERR_FORMAT, "line 3: unknown op 'conv2d'" },
	{ HDR "y = conv out=3 kernel=3\n" TAIL, F8_ERR_FORMAT, "line 3: conv has no key 'kernel'" },
	{ HDR "y = relu k=3\n" TAIL, F8_ERR_FORMAT, "line 3: relu has no key 'k'" },
	{ HDR "y = conv out=3 k=3 k=3\n" TAIL, F8_ERR_FORMAT, "line 3: duplicate key 'k'" },
	{ HDR "y = conv out=3\n" TAIL, F8_ERR_FORMAT, "line 3: conv 'y' needs k=" },
	{ HDR "y = conv k=3\n" TAIL, F8_ERR_FORMAT, "line 3: conv 'y' needs out=" },
	{ HDR "y = maxpool s=2\n" TAIL, F8_ERR_FORMAT, "line 3: maxpool 'y' needs k=" },
	{ HDR "y = linear\n", F8_ERR_FORMAT, "line 3: linear 'y' needs out=" },
	{ "f8arch 1\nx = input c=1 h=8\n", F8_ERR_FORMAT, "line 2: input 'x' needs w=" },
	{ HDR "y = relu\ny = relu\n" TAIL, F8_ERR_FORMAT, "line 4: layer 'y' already defined on line 3" },
	{ HDR "x = relu\n" TAIL, F8_ERR_FORMAT, "line 3: layer 'x' already defined on line 2" },
	{ HDR "y = relu z\n" TAIL, F8_ERR_FORMAT, "line 3: unknown layer 'z'" },
	{ HDR "y = add x z\nz = relu x\n" TAIL, F8_ERR_FORMAT, "line 3: unknown layer 'z'" },
	{ HDR "y = relu y\n" TAIL, F8_ERR_FORMAT, "line 3: unknown layer 'y'" },
	{ HDR "y = conv out=3 k=1\nz = add x y\n" TAIL, F8_ERR_FORMAT, "line 4: add 'z': shapes differ" },
	{ HDR "y = maxpool k=2\nz = add x y\n" TAIL, F8_ERR_FORMAT, "line 4: add 'z': shapes differ" },
	{ HDR "y = add x\n" TAIL, F8_ERR_FORMAT, "line 3: add 'y' needs two inputs" },
	{ HDR "y = add\n" TAIL, F8_ERR_FORMAT, "line 3: add 'y' needs two inputs" },
	{ HDR "y = add x x x\n" TAIL, F8_ERR_FORMAT, "line 3:" },
	{ HDR "y = relu x x\n" TAIL, F8_ERR_FORMAT, "line 3: relu 'y' has more than 1 input" },
	{ HDR "y = conv groups=dw out=3 k=3 p=1\n" TAIL, F8_ERR_FORMAT, "line 3: depthwise conv 'y'" },
	{ HDR "y = conv groups=2 out=2 k=3 p=1\n" TAIL, F8_ERR_FORMAT, "line 3: groups=2" },
	{ HDR "y = conv out=2 k=3 bias=2\n" TAIL, F8_ERR_FORMAT, "line 3: bias=2" },
	{ HDR "y = conv out=2 k=-1\n" TAIL, F8_ERR_FORMAT, "line 3: k=-1" },
	{ HDR "y = conv out=2 k=\n" TAIL, F8_ERR_FORMAT, "line 3: k=" },
	{ HDR "y = conv out=2 k=3 s=0\n" TAIL, F8_ERR_RANGE, "line 3: s=0" },
	{ HDR "y = conv out=0 k=3\n" TAIL, F8_ERR_RANGE, "line 3: out=0" },
	{ HDR "y = conv out=2 k=9\n" TAIL, F8_ERR_RANGE, "line 3: conv 'y'" },
	{ HDR "y = conv out=2 k=33 p=16\n" TAIL, F8_ERR_RANGE, "line 3: conv 'y'" },
	{ HDR "y = maxpool k=2 p=2\n" TAIL, F8_ERR_RANGE, "line 3: maxpool 'y'" },
	{ HDR "y = maxpool k=global\n" TAIL, F8_ERR_FORMAT, "line 3: k=global" },
	{ HDR "y = avgpool k=global s=1\nfc = linear out=2\n", F8_ERR_FORMAT, "line 3: avgpool 'y'" },
	{ "f8arch 1\nx = input c=1 h=4 w=5\ng = avgpool k=global\n", F8_ERR_RANGE, "line 3: avgpool 'g'" },
	{ HDR "y = conv out=2 k=99999999999\n" TAIL, F8_ERR_RANGE, "line 3: k=99999999999" },
	{ "f8arch 1\nx = input c=16777216 h=16777216 w=1\n", F8_ERR_RANGE, "line 2: layer 'x'" },
	/* c * h * w of values up to 2^24 each: 2^72 would wrap int64, 2^21 * 2^21 * 2^22 to 0. */
	{ "f8arch 1\nx = input c=16777216 h=16777216 w=16777216\nfc = linear out=10\n", F8_ERR_RANGE,
	  "line 2: layer 'x'" },
	{ "f8arch 1\nx = input c=4194304 h=2097152 w=2097152\nfc = linear out=10\n", F8_ERR_RANGE,
	  "line 2: layer 'x'" },
	{ "f8arch 1\nx = input c=1 h=1 w=1\ny = conv out=16777216 k=1\nz = conv out=16777216 k=1\n"
	  "fc = linear out=2\n", F8_ERR_RANGE, "line 4: layer 'z'" },
	{ "f8arch 1\nx = input c=4096 h=256 w=256\nfc = linear out=4096\n", F8_ERR_RANGE,
	  "line 3: layer 'fc'" },
	{ "f8arch 1\nx = input c=1 h=1 w=1\ny = linear out=2\nz = input c=1 h=1 w=1\n",
	  F8_ERR_FORMAT, "line 4: a second input" },
	{ "f8arch 1\ny = relu\n", F8_ERR_FORMAT, "line 2: the first layer must be the input" },
	{ "f8arch 1\nx = input x c=1 h=1 w=1\n", F8_ERR_FORMAT, "line 2: input 'x' takes no inputs" },
	{ HDR "y = relu\n", F8_ERR_FORMAT, "line 3: the last layer 'y'" },
	{ HDR "y = relu\nz = relu x\n" TAIL, F8_ERR_FORMAT, "line 3: layer 'y' is never used" },
	{ HDR "y relu\n", F8_ERR_FORMAT, "line 3: expected 'name = op" },
	{ HDR "y =\n", F8_ERR_FORMAT, "line 3: 'y =' without an op" },
	{ HDR "= relu\n", F8_ERR_FORMAT, "line 3: bad layer name" },
	{ HDR "3y = relu\n", F8_ERR_FORMAT, "line 3: bad layer name '3y'" },
	{ HDR "a/b = relu\n", F8_ERR_FORMAT, "line 3: bad layer name" },
	{ HDR "abcdefghijabcdefghijabcdefghijab = relu\n", F8_ERR_FORMAT, "line 3: name" },
	{ HDR "y = relu a b c d e f g h i j k l m n\n", F8_ERR_FORMAT, "line 3: more than 16 fields" },
};

START_TEST(test_parse_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct f8_err err = { "" };
	struct f8_net *net = f8_net_parse(bc->text, &err);

	ck_assert_msg(net == NULL, "case %d parsed: %s", _i, bc->text);
	ck_assert_msg(err.msg[0] && strchr(err.msg, '\n') == NULL, "case %d: bad message", _i);
	ck_assert_msg(strstr(err.msg, bc->msg) != NULL, "case %d: '%s' lacks '%s'", _i, err.msg,
		      bc->msg);
	/* The status, through the status-returning form. */
	net = (struct f8_net *)&net;
	ck_assert_int_eq(f8_net_new(bc->text, &net, NULL), bc->status);
	ck_assert_ptr_null(net);
}
END_TEST

/*
 * Windows far wider than their input (over padding): an average pool of k = 65536 divides
 * by k^2 = 2^32, which overflowed int (and was a division by zero); k = 46341 is the first
 * k whose square leaves int. Both run forward and backward with the right values under
 * UBSan. Pool geometry with any int is checked without overflow.
 */
START_TEST(test_huge_windows)
{
	static const int ks[] = { 46341, 65536, 16777216 };
	struct f8_pool_geom g = { .n = 1, .c = 1, .h = 1, .w = 1, .k = 3, .stride = 1 };
	size_t i;

	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		char text[256];
		const float x[2] = { 3.0f, -5.0f };
		const float *y;
		struct f8_err err = { "" };
		struct f8_net *net;
		const double area = (double)ks[i] * ks[i];

		snprintf(text, sizeof(text),
			 "f8arch 1\nx = input c=1 h=1 w=1\ng = avgpool k=%d p=%d\nm = maxpool g k=%d p=%d\n"
			 "fc = linear out=2\n", ks[i], ks[i] / 2, ks[i], ks[i] / 2);
		net = parse_ok(text);
		ck_assert_int_eq(net->layers[1].h, 1);
		f8_net_init(net, 1);
		ck_assert_msg(f8_net_plan(net, 2, &err) == F8_OK, "%s", err.msg);
		f8_net_forward(net, x, 2, true);
		y = f8_net_layer_output(net, 1);
		ck_assert_msg(fabs(y[0] - 3.0 / area) <= 1e-6 * 3.0 / area &&
			      fabs(y[1] + 5.0 / area) <= 1e-6 * 5.0 / area,
			      "k=%d: %g %g", ks[i], (double)y[0], (double)y[1]);
		y = f8_net_layer_output(net, 2);
		ck_assert(isfinite(y[0]) && isfinite(y[1]));
		f8_net_loss(net, (const int[]){ 0, 1 }, 2, NULL);
		f8_net_backward(net, 2);
		f8_net_free(net);
	}
	g.pad = INT32_MAX;
	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_ERR_RANGE);
	g.pad = 1;
	g.k = INT32_MAX;
	ck_assert_int_eq(f8_pool_geom_finish(&g), F8_ERR_RANGE);
}
END_TEST

/* Layer-count limit: F8_MAX_LAYERS layers parse, one more does not. */
START_TEST(test_parse_too_many)
{
	const size_t cap = 64 + (size_t)(F8_MAX_LAYERS + 2) * 24;
	char *text = malloc(cap);
	struct f8_err err = { "" };
	struct f8_net *net;
	size_t len;
	int i;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "f8arch 1\nx = input c=1 h=1 w=1\n");
	for (i = 1; i < F8_MAX_LAYERS; i++)
		len += (size_t)snprintf(text + len, cap - len, "r%d = relu\n", i);
	net = parse_ok(text);
	ck_assert_int_eq(net->nlayers, F8_MAX_LAYERS);
	f8_net_free(net);
	snprintf(text + len, cap - len, "r%d = relu\n", F8_MAX_LAYERS);
	ck_assert_ptr_null(f8_net_parse(text, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "more than 4096 layers"));
	ck_assert_ptr_nonnull(strstr(err.msg, "line 4098:"));
	ck_assert_ptr_null(f8_net_parse(NULL, &err));
	free(text);
}
END_TEST

/* Mutations of a real text: every outcome is a network or a message, never a crash. */
START_TEST(test_parse_mutations)
{
	static const char alphabet[] = " =#\n\tx0123456789kspgolbaduwc.-_";
	struct f8_err err;
	struct f8_rng r;
	char *base = f8_zoo_arch("resnet8", &err);
	size_t blen;
	int it, ok = 0;

	ck_assert_ptr_nonnull(base);
	blen = strlen(base);
	f8_rng_init(&r, 0xa7c4, 0);
	for (it = 0; it < 1500; it++) {
		char *t = malloc(blen + 64);
		size_t len = blen;
		int m, edits = 1 + (int)f8_rng_below(&r, 4);
		struct f8_net *net;

		ck_assert_ptr_nonnull(t);
		memcpy(t, base, blen + 1);
		for (m = 0; m < edits; m++) {
			size_t pos = f8_rng_below(&r, (uint32_t)len);

			switch (f8_rng_below(&r, 4)) {
			case 0: /* replace */
				t[pos] = alphabet[f8_rng_below(&r, sizeof(alphabet) - 1)];
				break;
			case 1: /* delete */
				memmove(t + pos, t + pos + 1, len - pos);
				len--;
				break;
			case 2: /* insert */
				if (len + 1 < blen + 60) {
					memmove(t + pos + 1, t + pos, len - pos + 1);
					t[pos] = alphabet[f8_rng_below(&r, sizeof(alphabet) - 1)];
					len++;
				}
				break;
			default: /* any byte */
				t[pos] = (char)(1 + f8_rng_below(&r, 255));
				break;
			}
		}
		err.msg[0] = 0;
		net = f8_net_parse(t, &err);
		if (net) {
			ok++;
			EXPECT(net->param_count > 0 && net->classes > 0, "bad net from mutation %d", it);
			f8_net_free(net);
		} else {
			EXPECT(err.msg[0] && !strchr(err.msg, '\n'), "no message for mutation %d", it);
		}
		free(t);
	}
	ck_assert_int_gt(ok, 0);
	free(base);
}
END_TEST

/* ---- whole-network gradients ---- */

/* Mean softmax cross-entropy of one training forward. */
static double net_loss(struct f8_net *net, const float *x, const int *lab, int n)
{
	f8_net_forward(net, x, n, true);
	return (double)f8_net_loss(net, lab, n, NULL);
}

/* |a - b| within the gradient-check tolerance (float32 loss noise / 2h is ~5e-4). */
static bool grad_close(double a, double b)
{
	return fabs(a - b) <= 1e-3 + 5e-2 * fmax(fabs(a), fabs(b));
}

/*
 * Analytic gradients (every @max_check-th parameter or all) against central
 * differences of the float32 loss, h = 2e-3. A smooth network must match everywhere.
 * With ReLU or max pooling, a perturbation can move some pre-activation across a kink;
 * there the loss is not differentiable at the scale of h and the one-sided differences
 * (L(p+h) - L(p)) / h and (L(p) - L(p-h)) / h disagree. Those entries are skipped (the
 * test depends on the forward only, so it cannot hide a backward bug), at most 20% of
 * them, and of the rest at most 1 + 2% may still miss (two kinks crossed at once).
 */
/* The kind of the parameter that float @i of net->param belongs to. */
static enum f8_param_kind param_kind_at(const struct f8_net *net, size_t i)
{
	int k;

	for (k = 0; k < net->nparams; k++)
		if (i >= net->params[k].off && i < net->params[k].off + net->params[k].count)
			return net->params[k].kind;
	return F8_PARAM_COUNT;
}

/* F8Net fake quantization for the next grad_check (NULL: float). */
static const struct f8_quant_cfg *grad_quant;

static void grad_check(const char *text, int n, uint64_t seed, int max_check, bool smooth)
{
	struct f8_net *net = parse_ok(text);
	const struct f8_layer *in = &net->layers[0];
	const size_t xn = (size_t)n * in->c * in->h * in->w;
	float *x = malloc(xn * sizeof(float)), *g;
	int *lab = malloc((size_t)n * sizeof(int));
	struct f8_err err = { "" };
	struct f8_rng r;
	double num2 = 0, diff2 = 0, l0;
	size_t i, step;
	int bad = 0, checked = 0, skipped = 0, clips = 0, clips_checked = 0;

	ck_assert(x && lab);
	f8_net_init(net, seed);
	f8_rng_init(&r, seed, 99);
	f8tt_fill_uniform(&r, x, xn, -1.0, 1.0);
	/* Non-trivial BN affine parameters and biases. */
	for (i = 0; i < (size_t)net->nparams; i++) {
		const struct f8_param *p = &net->params[i];

		if (p->kind == F8_PARAM_BN_GAMMA)
			f8tt_fill_uniform(&r, net->param + p->off, p->count, 0.5, 1.5);
		else if (p->kind == F8_PARAM_BN_BETA || p->kind == F8_PARAM_BIAS)
			f8tt_fill_uniform(&r, net->param + p->off, p->count, -0.3, 0.3);
		else if (p->kind == F8_PARAM_CLIP) /* clip levels that clip a good share */
			f8tt_fill_uniform(&r, net->param + p->off, p->count, 0.5, 1.5);
	}
	for (i = 0; i < (size_t)n; i++)
		lab[i] = (int)f8_rng_below(&r, (uint32_t)net->classes);
	ck_assert_int_eq(f8_net_set_quant(net, grad_quant, &err), F8_OK);
	ck_assert_int_eq(f8_net_plan(net, n, &err), F8_OK);
	/* NaN everywhere first: backward must overwrite every parameter gradient. */
	for (i = 0; i < net->param_count; i++)
		net->grad[i] = NAN;
	l0 = net_loss(net, x, lab, n);
	f8_net_backward(net, n);
	g = malloc(net->param_count * sizeof(float));
	ck_assert_ptr_nonnull(g);
	memcpy(g, net->grad, net->param_count * sizeof(float));
	for (i = 0; i < net->param_count; i++)
		EXPECT(isfinite(g[i]), "gradient %zu not written", i);
	step = net->param_count > (size_t)max_check ? net->param_count / (size_t)max_check : 1;
	for (i = 0; i < net->param_count; i += step) {
		const float keep = net->param[i], h = 2e-3f;
		double lp, lm, num;

		net->param[i] = keep + h;
		lp = net_loss(net, x, lab, n);
		net->param[i] = keep - h;
		lm = net_loss(net, x, lab, n);
		net->param[i] = keep;
		clips += param_kind_at(net, i) == F8_PARAM_CLIP;
		if (!smooth && !grad_close((lp - l0) / h, (l0 - lm) / h)) {
			skipped++;
			continue;
		}
		num = (lp - lm) / (2.0 * (double)h);
		if (param_kind_at(net, i) == F8_PARAM_CLIP) {
			/* a handful per network: none may hide in the allowance for kinks */
			clips_checked++;
			EXPECT(grad_close(num, g[i]), "alpha %zu: analytic %g, numeric %g", i,
			       (double)g[i], num);
		}
		num2 += num * num;
		diff2 += (num - g[i]) * (num - g[i]);
		checked++;
		if (!grad_close(num, g[i])) {
			bad++;
			EXPECT(!smooth, "param %zu: analytic %g, numeric %g", i, (double)g[i], num);
		}
	}
	ck_assert_msg(bad <= 1 + checked / 50, "%d of %d gradients off", bad, checked);
	ck_assert_msg(clips_checked * 2 >= clips, "%d of %d alphas at kinks", clips - clips_checked,
		      clips);
	ck_assert_msg(skipped * 5 <= skipped + checked, "%d of %d at kinks", skipped,
		      skipped + checked);
	ck_assert(num2 > 0);
	ck_assert_msg(sqrt(diff2) <= 2e-2 * sqrt(num2), "relative error %g", sqrt(diff2 / num2));
	free(g);
	free(x);
	free(lab);
	f8_net_free(net);
}

/* conv (+bias), BN, ReLU, depthwise conv, add (two readers of r1), max and average
 * pooling, two linear heads over flattened and pooled inputs, an add of logits. */
static const char grad_text[] = "f8arch 1\n"
				"x = input c=2 h=6 w=6\n"
				"c1 = conv out=4 k=3 p=1 bias=1\n"
				"b1 = bn\n"
				"r1 = relu\n"
				"dw = conv groups=dw k=3 p=1\n"
				"b2 = bn\n"
				"sum = add b2 r1\n"
				"r2 = relu\n"
				"mp = maxpool k=2\n"
				"c2 = conv out=6 k=1\n"
				"b3 = bn\n"
				"r3 = relu\n"
				"ap = avgpool k=3 s=1 p=1\n"
				"fa = linear out=5\n"
				"g = avgpool r3 k=global\n"
				"fg = linear out=5\n"
				"logits = add fa fg\n";

/* The image read directly by several layers (its gradient is never formed), add x x,
 * BN on the input, a strided conv with padding. */
static const char grad_edge_text[] = "f8arch 1 bn_eps=1e-3\n"
				     "x = input c=3 h=5 w=5\n"
				     "xx = add x x\n"
				     "bx = bn x\n"
				     "s = add xx bx\n"
				     "c = conv s out=4 k=3 s=2 p=1\n"
				     "r = relu\n"
				     "m = maxpool x k=3 s=2 p=1\n"
				     "cm = conv m out=4 k=1 bias=1\n"
				     "t = add r cm\n"
				     "fc = linear out=3\n";

/* The same graph without kinks: ReLUs become BNs, the max pool an average pool. */
static char *smooth_text(const char *text)
{
	char *t = malloc(strlen(text) + 1), *p;

	ck_assert_ptr_nonnull(t);
	strcpy(t, text);
	while ((p = strstr(t, "= relu")))
		memcpy(p, "= bn  ", 6);
	while ((p = strstr(t, "maxpool")))
		memcpy(p, "avgpool", 7);
	return t;
}

START_TEST(test_grad_small)
{
	char *t = smooth_text(grad_text);

	grad_check(t, 4, 21, 1 << 20, true);
	free(t);
	t = smooth_text(grad_edge_text);
	grad_check(t, 3, 22, 1 << 20, true);
	free(t);
	grad_check(grad_text, 4, 11, 1 << 20, false);
	grad_check(grad_edge_text, 3, 12, 1 << 20, false);
}
END_TEST

/*
 * F8Net's fused conv + BN unit (double forward, BN folded with batch statistics, gradients
 * through mean and variance) and the input / weight quantizers' straight-through masks,
 * in F8Net's "floating" mode (clamp without rounding, so the loss is piecewise smooth):
 * against finite differences like the float network. Also the average pool's gain before
 * the classifier, a residual add, and an FL that may change between +h and -h (a kink).
 */
static const char quant_text[] = "f8arch 1\n"
				 "x = input c=2 h=6 w=6\n"
				 "c1 = conv out=4 k=3 p=1\n"
				 "b1 = bn\n"
				 "r1 = relu\n"
				 "c2 = conv out=4 k=3 p=1\n"
				 "b2 = bn\n"
				 "s = add b2 r1\n"
				 "r2 = relu\n"
				 "c3 = conv out=5 k=3 s=2 p=1 bias=1\n"
				 "r3 = relu\n"
				 "ap = avgpool k=global\n"
				 "fc = linear out=3\n";

START_TEST(test_grad_fakequant)
{
	const struct f8_quant_cfg qc = { .mode = F8_QUANT_FLOATING, .momentum = 0.1f };

	grad_quant = &qc;
	grad_check(quant_text, 4, 31, 1 << 20, false);
	grad_check(quant_text, 3, 32, 1 << 20, false);
	grad_quant = NULL;
}
END_TEST

/*
 * PACT in fixed point: alpha enters through eta = 2^FL |alpha| / M in the consumer's
 * statistics pass and folded weight and in the producer's division of its folded weight
 * and bias; every alpha's gradient (c2 and c3 share one: they read one residual stream;
 * the classifier has its own) against finite differences, with the FLs fixed (F8Net's
 * floating FP baseline) so that eta does not move between the evaluations.
 */
START_TEST(test_grad_pact)
{
	const struct f8_quant_cfg qc = {
		.mode = F8_QUANT_FLOATING, .momentum = 0.1f, .pact = true, .fixed_fl = true,
		.fl_x = 6, .fl_w = 7,
	};
	const char *body = strchr(quant_text, '\n');
	char *text = malloc(strlen(quant_text) + 32);
	struct f8_net *net;
	int i, clips = 0;

	ck_assert_ptr_nonnull(text);
	snprintf(text, strlen(quant_text) + 32, "f8arch 1 clip=pact%s", body);
	net = parse_ok(text);
	for (i = 0; i < net->nparams; i++)
		clips += net->params[i].kind == F8_PARAM_CLIP;
	ck_assert_int_eq(clips, 2);
	ck_assert_int_eq(net->layers[4].clip, net->layers[8].clip);   /* c2, c3 */
	ck_assert_int_ne(net->layers[4].clip, net->layers[11].clip);  /* fc */
	ck_assert_int_eq(net->layers[1].clip, -1);                    /* reads the image */
	f8_net_free(net);
	grad_quant = &qc;
	grad_check(text, 4, 41, 1 << 20, false);
	grad_check(text, 3, 42, 1 << 20, false);
	grad_quant = NULL;
	free(text);
}
END_TEST

/* The clip parameter of the layer named @name. */
static int clip_of(const struct f8_net *net, const char *name)
{
	int i;

	for (i = 0; i < net->nlayers; i++)
		if (!strcmp(net->layers[i].name, name))
			return net->layers[i].clip;
	ck_abort_msg("no layer %s", name);
	return -2;
}

/*
 * F8Net's alpha sharing on ResNet-20 (the note's section 5.2, "master/sibling"): every
 * layer that reads one residual stream within a stage shares one alpha, from the first
 * identity block up to and including the next stage's downsampling block (its first conv
 * and its shortcut); a downsampling block starts a new group; the second convs and the
 * classifier have their own; the stem (reading the image) has none.
 */
START_TEST(test_pact_groups_resnet20)
{
	static const char *const groups[][5] = {
		{ "s1.b0.conv1", "s1.b1.conv1", "s1.b2.conv1", "s2.b0.conv1", "s2.b0.down" },
		{ "s2.b1.conv1", "s2.b2.conv1", "s3.b0.conv1", "s3.b0.down", NULL },
		{ "s3.b1.conv1", "s3.b2.conv1", NULL, NULL, NULL },
	};
	static const char *const own[] = { "s1.b0.conv2", "s1.b1.conv2", "s1.b2.conv2", "s2.b0.conv2",
					   "s2.b1.conv2", "s2.b2.conv2", "s3.b0.conv2", "s3.b1.conv2",
					   "s3.b2.conv2", "fc" };
	struct f8_err err = { "" };
	char *text = f8_zoo_arch("resnet20", &err), *pact;
	struct f8_net *net;
	int g, k, i, clips = 0, first[3];

	ck_assert_ptr_nonnull(text);
	pact = f8_arch_set_key(text, "clip", "pact", &err);
	ck_assert_ptr_nonnull(pact);
	net = parse_ok(pact);
	for (i = 0; i < net->nparams; i++)
		clips += net->params[i].kind == F8_PARAM_CLIP;
	ck_assert_int_eq(clips, 3 + 10);
	ck_assert_int_eq(clip_of(net, "conv1"), -1);
	for (g = 0; g < 3; g++) {
		first[g] = clip_of(net, groups[g][0]);
		ck_assert_int_ge(first[g], 0);
		ck_assert_int_eq(net->params[first[g]].kind, F8_PARAM_CLIP);
		for (k = 1; k < 5 && groups[g][k]; k++)
			ck_assert_msg(clip_of(net, groups[g][k]) == first[g], "%s not with %s",
				      groups[g][k], groups[g][0]);
	}
	ck_assert_int_ne(first[0], first[1]);
	ck_assert_int_ne(first[1], first[2]);
	for (k = 0; k < 10; k++) {
		const int c = clip_of(net, own[k]);

		for (g = 0; g < 3; g++)
			ck_assert_int_ne(c, first[g]);
		for (i = 0; i < k; i++)
			ck_assert_int_ne(c, clip_of(net, own[i]));
	}
	/* F8Net's initial values; the float layout is a prefix (a float checkpoint loads) */
	f8_net_init(net, 1);
	ck_assert_float_eq(net->param[net->params[first[0]].off], 8.0f);
	ck_assert_float_eq(net->state[net->states[net->layers[4].state].off], 6.0f);
	{
		struct f8_net *plain = parse_ok(text);

		f8_net_init(plain, 2);
		ck_assert_int_eq(f8_net_copy_from(net, plain, &err), F8_OK);
		ck_assert_int_eq(memcmp(net->param, plain->param, plain->param_count * sizeof(float)), 0);
		ck_assert_float_eq(net->param[net->params[first[0]].off], 8.0f);
		ck_assert_int_eq(f8_net_copy_from(plain, net, &err), F8_ERR_RANGE);
		f8_net_free(plain);
	}
	f8_net_free(net);
	free(pact);
	free(text);
}
END_TEST

/* A zoo model on its real input size: a sample of parameters across the whole depth. */
START_TEST(test_grad_resnet8)
{
	struct f8_err err = { "" };
	char *text = f8_zoo_arch("resnet8", &err);

	ck_assert_ptr_nonnull(text);
	grad_check(text, 2, 13, 40, false);
	free(text);
}
END_TEST

/* ---- BN modes, plan reuse, init ---- */

START_TEST(test_bn_modes)
{
	static const char text[] = "f8arch 1\n"
				   "x = input c=2 h=3 w=3\n"
				   "b = bn\n"
				   "g = avgpool k=global\n"
				   "fc = linear out=2\n";
	struct f8_net *net = parse_ok(text);
	struct f8_err err = { "" };
	const int n = 4, hw = 9;
	float x[4 * 2 * 9], logits[4 * 2], *state0;
	const float *y;
	struct f8_rng r;
	int i, c, k;

	f8_net_init(net, 1);
	/* fc = identity with bias (0.5, -0.25): the logits are the pooled BN output. */
	memset(net->param, 0, net->param_count * sizeof(float));
	net->param[net->params[0].off] = net->param[net->params[0].off + 1] = 1.0f; /* gamma */
	net->param[net->params[2].off + 0] = 1.0f;
	net->param[net->params[2].off + 3] = 1.0f;
	net->param[net->params[3].off + 0] = 0.5f;
	net->param[net->params[3].off + 1] = -0.25f;
	f8_rng_init(&r, 5, 0);
	for (i = 0; i < n * 2 * hw; i++)
		x[i] = (float)(3.0 * f8_rng_uniform(&r) + (i / hw % 2)); /* channel 1 shifted */
	ck_assert_int_eq(f8_net_plan(net, n, &err), F8_OK);

	/* Eval with fresh statistics (mean 0, var 1): y = x / sqrt(1 + eps). */
	y = f8_net_forward(net, x, n, false);
	for (i = 0; i < n; i++)
		for (c = 0; c < 2; c++) {
			double m = 0;

			for (k = 0; k < hw; k++)
				m += x[(i * 2 + c) * hw + k];
			m = m / hw / sqrt(1.0 + 1e-5) + (c ? -0.25 : 0.5);
			ck_assert_double_eq_tol(y[i * 2 + c], m, 1e-5);
		}
	ck_assert_float_eq(net->state[0], 0.0f); /* eval leaves the statistics alone */
	ck_assert_float_eq(net->state[2], 1.0f);

	/* Train: batch statistics, so each channel's pooled output averages to beta (0) over
	 * the batch, and the running statistics move by momentum 0.1 with the unbiased var. */
	y = f8_net_forward(net, x, n, true);
	for (c = 0; c < 2; c++) {
		double s = 0, m = 0, v = 0;

		for (i = 0; i < n; i++)
			s += y[i * 2 + c] - (c ? -0.25 : 0.5);
		ck_assert_double_eq_tol(s, 0.0, 1e-5);
		for (i = 0; i < n; i++)
			for (k = 0; k < hw; k++)
				m += x[(i * 2 + c) * hw + k];
		m /= n * hw;
		for (i = 0; i < n; i++)
			for (k = 0; k < hw; k++)
				v += (x[(i * 2 + c) * hw + k] - m) * (x[(i * 2 + c) * hw + k] - m);
		v /= n * hw - 1;
		ck_assert_double_eq_tol(net->state[c], 0.1 * m, 1e-5);
		ck_assert_double_eq_tol(net->state[2 + c], 0.9 + 0.1 * v, 1e-5);
	}
	/* Eval is per image: one image alone gives the same logits as inside the batch;
	 * train is not. */
	y = f8_net_forward(net, x, n, false);
	memcpy(logits, y, sizeof(logits));
	y = f8_net_forward(net, x + 2 * hw, 1, false);
	ck_assert(memcmp(y, logits + 2, 2 * sizeof(float)) == 0);
	state0 = malloc(net->state_count * sizeof(float));
	ck_assert_ptr_nonnull(state0);
	memcpy(state0, net->state, net->state_count * sizeof(float));
	y = f8_net_forward(net, x, n, true);
	ck_assert(memcmp(y, logits, sizeof(logits)) != 0);
	ck_assert(memcmp(state0, net->state, net->state_count * sizeof(float)) != 0);
	free(state0);
	f8_net_free(net);
}
END_TEST

START_TEST(test_plan_reuse)
{
	struct f8_net *net = zoo_net("resnet8");
	struct f8_err err = { "" };
	const int n = 4;
	const size_t xn = (size_t)n * 28 * 28;
	float *x = malloc(xn * sizeof(float)), *l1 = malloc(n * 10 * sizeof(float));
	float *g1 = malloc(net->param_count * sizeof(float));
	float *s1 = malloc(net->state_count * sizeof(float));
	int lab[4] = { 1, 7, 3, 3 }, correct = -1, i;
	size_t acts = 0;
	const float *y;
	struct f8_rng r;
	float loss1, loss2;

	ck_assert(x && l1 && g1 && s1);
	f8_rng_init(&r, 3, 0);
	f8tt_fill_uniform(&r, x, xn, 0.0, 1.0);
	f8_net_init(net, 42);
	ck_assert_int_eq(f8_net_plan(net, n, &err), F8_OK);
	/* Forward twice: the same logits, bit for bit. */
	y = f8_net_forward(net, x, n, false);
	memcpy(l1, y, n * 10 * sizeof(float));
	y = f8_net_forward(net, x, n, false);
	ck_assert(memcmp(y, l1, n * 10 * sizeof(float)) == 0);
	/* A smaller batch in the same plan: the same per-image logits in eval mode. */
	y = f8_net_forward(net, x + 28 * 28, 2, false);
	for (i = 0; i < 20; i++)
		ck_assert_float_eq_tol(y[i], l1[10 + i], 1e-5f);
	/* Two full training steps without an update: identical loss and gradients. */
	memcpy(s1, net->state, net->state_count * sizeof(float));
	f8_net_forward(net, x, n, true);
	loss1 = f8_net_loss(net, lab, n, &correct);
	ck_assert(correct >= 0 && correct <= n);
	ck_assert(isfinite(loss1) && loss1 > 0);
	f8_net_backward(net, n);
	memcpy(g1, net->grad, net->param_count * sizeof(float));
	memcpy(net->state, s1, net->state_count * sizeof(float));
	f8_net_forward(net, x, n, true);
	loss2 = f8_net_loss(net, lab, n, NULL);
	f8_net_backward(net, n);
	ck_assert_float_eq(loss1, loss2);
	ck_assert(memcmp(g1, net->grad, net->param_count * sizeof(float)) == 0);
	/* Re-planned for a larger batch: still the same numbers for the same images. */
	ck_assert_int_eq(f8_net_plan(net, 2 * n, &err), F8_OK);
	memcpy(net->state, s1, net->state_count * sizeof(float));
	f8_net_forward(net, x, n, true);
	ck_assert_float_eq_tol(f8_net_loss(net, lab, n, NULL), loss1, 1e-6f);
	f8_net_backward(net, n);
	for (i = 0; i < (int)net->param_count; i++)
		EXPECT(fabsf(net->grad[i] - g1[i]) <= 1e-5f + 1e-4f * fabsf(g1[i]), "grad %d", i);
	/* In-place ReLUs and shared gradient buffers: the plan is smaller than one output
	 * and one gradient buffer per layer would be. */
	for (i = 0; i < net->nlayers; i++)
		acts += (size_t)net->layers[i].c * net->layers[i].h * net->layers[i].w;
	ck_assert_uint_lt(f8_net_plan_bytes(net), acts * 2 * n * sizeof(float) * 2);
	/* Two threads (re-planned: the conv workspace has a slot per thread): the same
	 * numbers bit for bit (docs/train.md, "Determinism"). */
	ck_assert_int_eq(f8_par_set_threads(2), 0);
	ck_assert_int_eq(f8_net_plan(net, n, &err), F8_OK);
	memcpy(net->state, s1, net->state_count * sizeof(float));
	f8_net_forward(net, x, n, true);
	loss2 = f8_net_loss(net, lab, n, NULL);
	ck_assert(memcmp(&loss2, &loss1, sizeof(loss1)) == 0);
	f8_net_backward(net, n);
	for (i = 0; i < (int)net->param_count; i++)
		EXPECT(memcmp(&net->grad[i], &g1[i], sizeof(g1[i])) == 0, "grad %d: %.9g, 1 thread %.9g",
		       i, (double)net->grad[i], (double)g1[i]);
	ck_assert_int_eq(f8_par_set_threads(1), 0);
	ck_assert_int_eq(f8_net_plan(net, 0, &err), F8_ERR_RANGE);
	free(x);
	free(l1);
	free(g1);
	free(s1);
	f8_net_free(net);
}
END_TEST

START_TEST(test_init)
{
	struct f8_net *a = zoo_net("mobilenetv2-small"), *b = zoo_net("mobilenetv2-small");
	int i;

	f8_net_init(a, 7);
	f8_net_init(b, 7);
	ck_assert(memcmp(a->param, b->param, a->param_count * sizeof(float)) == 0);
	f8_net_init(b, 8);
	ck_assert(memcmp(a->param, b->param, a->param_count * sizeof(float)) != 0);
	for (i = 0; i < a->nparams; i++) {
		const struct f8_param *p = &a->params[i];
		const struct f8_layer *l = &a->layers[p->layer];
		const float *v = a->param + p->off;
		double s2 = 0, lim;
		size_t j;

		for (j = 0; j < p->count; j++)
			s2 += (double)v[j] * v[j];
		switch (p->kind) {
		case F8_PARAM_CONV_W:
		case F8_PARAM_DW_W:
			/* Kaiming fan_out: var = 2 / (cout k k / groups); loose for small counts. */
			lim = 2.0 / ((double)l->c * l->k * l->k / l->groups);
			if (p->count >= 500)
				ck_assert_double_eq_tol(s2 / p->count, lim, 0.25 * lim);
			break;
		case F8_PARAM_LINEAR_W:
		case F8_PARAM_BIAS:
			lim = 1.0 / sqrt((double)a->layers[l->in[0]].c * a->layers[l->in[0]].h *
					 a->layers[l->in[0]].w);
			for (j = 0; j < p->count; j++)
				ck_assert(fabs(v[j]) <= lim);
			break;
		case F8_PARAM_BN_GAMMA:
			for (j = 0; j < p->count; j++)
				ck_assert_float_eq(v[j], 1.0f);
			break;
		default:
			ck_assert(s2 == 0);
		}
	}
	for (i = 0; i < a->nstates; i++) {
		const struct f8_state *s = &a->states[i];

		ck_assert_float_eq(a->state[s->off], 0.0f);
		ck_assert_float_eq(a->state[s->off + s->count - 1], 1.0f);
	}
	f8_net_free(a);
	f8_net_free(b);
}
END_TEST

START_TEST(test_summary)
{
	struct f8_net *net = parse_ok(good_text);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int lines = 0;
	char *p;

	ck_assert_ptr_nonnull(f);
	f8_net_summary(net, f);
	fclose(f);
	for (p = buf; *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, net->nlayers + 1);
	ck_assert_ptr_nonnull(strstr(buf, "logits"));
	ck_assert_ptr_nonnull(strstr(buf, "4x3x3"));
	free(buf);
	ck_assert_uint_eq(f8_net_plan_bytes(net), 0);
	f8_net_free(net);
}
END_TEST

Suite *f8_train_net_suite(void)
{
	Suite *s = suite_create("train_net");
	TCase *tc = tcase_create("net");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_zoo_counts, 0, (int)(sizeof(zoo_cases) / sizeof(zoo_cases[0])));
	tcase_add_test(tc, test_zoo_list);
	tcase_add_test(tc, test_zoo_structure);
	tcase_add_test(tc, test_parse_known);
	tcase_add_test(tc, test_input_raw);
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_parse_too_many);
	tcase_add_test(tc, test_huge_windows);
	tcase_add_test(tc, test_parse_mutations);
	tcase_add_test(tc, test_grad_small);
	tcase_add_test(tc, test_grad_resnet8);
	tcase_add_test(tc, test_grad_fakequant);
	tcase_add_test(tc, test_grad_pact);
	tcase_add_test(tc, test_pact_groups_resnet20);
	tcase_add_test(tc, test_bn_modes);
	tcase_add_test(tc, test_plan_reuse);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_summary);
	suite_add_tcase(s, tc);
	return s;
}
