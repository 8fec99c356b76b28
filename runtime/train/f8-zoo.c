// SPDX-License-Identifier: MIT
/*
 * The model zoo (f8-net.h): every built-in network is written out as architecture text
 * (docs/arch-format.md) by a small generator, so that it goes through the same parser
 * as a user's file and a checkpoint stores it like any other text.
 *
 * Small models take 1x28x28 images and 10 classes (Fashion-MNIST); the ImageNet ones
 * take 3x224x224 and 1000 classes and follow torchvision's definitions layer for layer
 * (their parameter counts equal torchvision's), except that ReLU6 becomes ReLU (the
 * device has ReLU only) and dropout is left out (it has no parameters).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-net.h"

/* A growing text buffer; an allocation failure sticks and is reported at the end. */
struct zb {
	char *buf;
	size_t len, cap;
	bool oom;
	char prev[F8_NAME_MAX]; /* the last layer written */
	int c;                  /* its channels */
};

static void zb_printf(struct zb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void zb_printf(struct zb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(b->buf, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A layer name into @dst (F8_NAME_MAX bytes); one too long fails the whole model. */
static void zb_name(struct zb *b, char *dst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void zb_name(struct zb *b, char *dst, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, F8_NAME_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= F8_NAME_MAX)
		b->oom = true;
}

/* Remember @name as the last layer. */
static void zb_set_prev(struct zb *b, const char *name)
{
	zb_name(b, b->prev, "%s", name);
}

static void z_header(struct zb *b, const char *title, int c, int hw)
{
	zb_printf(b, "# %s\n# built-in model of libf8 (runtime/train/f8-zoo.c)\nf8arch %d\n", title,
		  F8_ARCH_VERSION);
	zb_printf(b, "image = input c=%d h=%d w=%d\n", c, hw, hw);
	zb_set_prev(b, "image");
	b->c = c;
}

/*
 * conv (no bias) + bn [+ relu] reading the last layer, named @name, @name.bn, @name.relu.
 * out = 0 means depthwise.
 */
static void z_conv_bn(struct zb *b, const char *name, int out, int k, int s, bool relu)
{
	char n[F8_NAME_MAX];

	if (out)
		zb_printf(b, "%s = conv %s out=%d k=%d s=%d p=%d\n", name, b->prev, out, k, s, k / 2);
	else
		zb_printf(b, "%s = conv %s groups=dw k=%d s=%d p=%d\n", name, b->prev, k, s, k / 2);
	zb_printf(b, "%s.bn = bn\n", name);
	zb_name(b, n, "%s.bn", name);
	if (relu) {
		zb_printf(b, "%s.relu = relu\n", name);
		zb_name(b, n, "%s.relu", name);
	}
	zb_set_prev(b, n);
	if (out)
		b->c = out;
}

/* Global average pool and the classifier. */
static void z_head(struct zb *b, int classes)
{
	zb_printf(b, "pool = avgpool %s k=global\nfc = linear out=%d\n", b->prev, classes);
}

/*
 * A residual block: @body layers then add the shortcut and ReLU. Basic blocks (expansion
 * 1: two 3x3) or bottlenecks (1x1, 3x3 with the stride, 1x1 to 4x width: torchvision's
 * "ResNet v1.5"). Shortcut: identity, or a strided 1x1 conv + BN (option B) when the
 * shape changes.
 */
static void z_res_block(struct zb *b, const char *pfx, int width, int stride, bool bottleneck)
{
	char in[F8_NAME_MAX], n[F8_NAME_MAX], sc[F8_NAME_MAX], body[F8_NAME_MAX];
	const int cin = b->c, cout = bottleneck ? 4 * width : width;

	zb_name(b, in, "%s", b->prev);
	if (bottleneck) {
		zb_name(b, n, "%s.conv1", pfx);
		z_conv_bn(b, n, width, 1, 1, true);
		zb_name(b, n, "%s.conv2", pfx);
		z_conv_bn(b, n, width, 3, stride, true);
		zb_name(b, n, "%s.conv3", pfx);
		z_conv_bn(b, n, cout, 1, 1, false);
	} else {
		zb_name(b, n, "%s.conv1", pfx);
		z_conv_bn(b, n, width, 3, stride, true);
		zb_name(b, n, "%s.conv2", pfx);
		z_conv_bn(b, n, cout, 3, 1, false);
	}
	zb_name(b, body, "%s", b->prev);
	zb_name(b, sc, "%s", in);
	if (stride != 1 || cin != cout) {
		zb_set_prev(b, in);
		zb_name(b, n, "%s.down", pfx);
		z_conv_bn(b, n, cout, 1, stride, false);
		zb_name(b, sc, "%s", b->prev);
	}
	zb_printf(b, "%s.add = add %s %s\n%s.relu = relu\n", pfx, body, sc, pfx);
	zb_name(b, n, "%s.relu", pfx);
	zb_set_prev(b, n);
	b->c = cout;
}

/* CIFAR-style ResNet-(6n+2) (He et al. 2016, section 4.2) on 1x28x28, 10 classes. */
static void z_resnet_cifar(struct zb *b, int n)
{
	char title[160], pfx[F8_NAME_MAX];
	int s, i;

	snprintf(title, sizeof(title),
		 "resnet%d: CIFAR-style ResNet, 3 stages (16/32/64 channels) of %d basic block(s), 1x28x28, 10 classes",
		 6 * n + 2, n);
	z_header(b, title, 1, 28);
	z_conv_bn(b, "conv1", 16, 3, 1, true);
	for (s = 0; s < 3; s++)
		for (i = 0; i < n; i++) {
			zb_name(b, pfx, "s%d.b%d", s + 1, i);
			z_res_block(b, pfx, 16 << s, (s > 0 && i == 0) ? 2 : 1, false);
		}
	z_head(b, 10);
}

static void z_resnet8(struct zb *b)
{
	z_resnet_cifar(b, 1);
}

static void z_resnet14(struct zb *b)
{
	z_resnet_cifar(b, 2);
}

static void z_resnet20(struct zb *b)
{
	z_resnet_cifar(b, 3);
}

/* torchvision ResNet-18 / ResNet-50: 7x7/2 stem, 3x3/2 max pool, four stages. */
static void z_resnet_imagenet(struct zb *b, const int *blocks, bool bottleneck, const char *title)
{
	char pfx[F8_NAME_MAX];
	int s, i;

	z_header(b, title, 3, 224);
	z_conv_bn(b, "conv1", 64, 7, 2, true);
	zb_printf(b, "maxpool = maxpool k=3 s=2 p=1\n");
	zb_set_prev(b, "maxpool");
	for (s = 0; s < 4; s++)
		for (i = 0; i < blocks[s]; i++) {
			zb_name(b, pfx, "layer%d.%d", s + 1, i);
			z_res_block(b, pfx, 64 << s, (s > 0 && i == 0) ? 2 : 1, bottleneck);
		}
	z_head(b, 1000);
}

static void z_resnet18(struct zb *b)
{
	static const int blocks[4] = { 2, 2, 2, 2 };

	z_resnet_imagenet(b, blocks, false,
			  "resnet18: torchvision ResNet-18, 3x224x224, 1000 classes");
}

static void z_resnet50(struct zb *b)
{
	static const int blocks[4] = { 3, 4, 6, 3 };

	z_resnet_imagenet(b, blocks, true,
			  "resnet50: torchvision ResNet-50 (v1.5: stride in the 3x3), 3x224x224, 1000 classes");
}

/* MobileNetV1 (Howard et al. 2017): depthwise 3x3 + BN + ReLU, pointwise 1x1 + BN + ReLU. */
struct z_dws {
	int out, stride;
};

static void z_mobilenetv1_body(struct zb *b, const struct z_dws *blocks, int nblocks)
{
	char n[F8_NAME_MAX];
	int i;

	for (i = 0; i < nblocks; i++) {
		zb_name(b, n, "b%d.dw", i + 1);
		z_conv_bn(b, n, 0, 3, blocks[i].stride, true);
		zb_name(b, n, "b%d.pw", i + 1);
		z_conv_bn(b, n, blocks[i].out, 1, 1, true);
	}
}

static void z_mobilenetv1(struct zb *b)
{
	static const struct z_dws blocks[] = {
		{ 64, 1 },  { 128, 2 }, { 128, 1 }, { 256, 2 }, { 256, 1 },  { 512, 2 },  { 512, 1 },
		{ 512, 1 }, { 512, 1 }, { 512, 1 }, { 512, 1 }, { 1024, 2 }, { 1024, 1 },
	};

	z_header(b, "mobilenetv1: MobileNetV1 (Howard et al. 2017, width 1.0), 3x224x224, 1000 classes",
		 3, 224);
	z_conv_bn(b, "conv1", 32, 3, 2, true);
	z_mobilenetv1_body(b, blocks, (int)(sizeof(blocks) / sizeof(blocks[0])));
	z_head(b, 1000);
}

static void z_mobilenetv1_small(struct zb *b)
{
	static const struct z_dws blocks[] = {
		{ 32, 1 }, { 64, 2 }, { 64, 1 }, { 128, 2 }, { 128, 1 },
	};

	z_header(b, "mobilenetv1-small: width-reduced MobileNetV1, 1x28x28, 10 classes", 1, 28);
	z_conv_bn(b, "conv1", 16, 3, 1, true);
	z_mobilenetv1_body(b, blocks, (int)(sizeof(blocks) / sizeof(blocks[0])));
	z_head(b, 10);
}

/*
 * MobileNetV2 (Sandler et al. 2018): inverted residuals. Each row (t, c, n, s) is n
 * blocks of expansion t to c channels, the first with stride s: 1x1 expand + BN + ReLU
 * (absent when t = 1), 3x3 depthwise + BN + ReLU, 1x1 project + BN (linear bottleneck),
 * plus the input when the stride is 1 and the channels agree.
 */
struct z_ir {
	int t, c, n, s;
};

static void z_mobilenetv2_body(struct zb *b, const struct z_ir *rows, int nrows)
{
	char n[F8_NAME_MAX], in[F8_NAME_MAX];
	int r, i, blk = 0;

	for (r = 0; r < nrows; r++)
		for (i = 0; i < rows[r].n; i++) {
			const int cin = b->c, stride = i == 0 ? rows[r].s : 1;

			blk++;
			zb_name(b, in, "%s", b->prev);
			if (rows[r].t != 1) {
				zb_name(b, n, "b%d.expand", blk);
				z_conv_bn(b, n, cin * rows[r].t, 1, 1, true);
			}
			zb_name(b, n, "b%d.dw", blk);
			z_conv_bn(b, n, 0, 3, stride, true);
			zb_name(b, n, "b%d.project", blk);
			z_conv_bn(b, n, rows[r].c, 1, 1, false);
			if (stride == 1 && cin == rows[r].c) {
				zb_printf(b, "b%d.add = add %s %s\n", blk, b->prev, in);
				zb_name(b, n, "b%d.add", blk);
				zb_set_prev(b, n);
			}
		}
}

static void z_mobilenetv2(struct zb *b)
{
	static const struct z_ir rows[] = {
		{ 1, 16, 1, 1 }, { 6, 24, 2, 2 },  { 6, 32, 3, 2 },  { 6, 64, 4, 2 },
		{ 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 },
	};

	z_header(b, "mobilenetv2: torchvision MobileNetV2 (width 1.0, ReLU for ReLU6), 3x224x224, 1000 classes",
		 3, 224);
	z_conv_bn(b, "conv1", 32, 3, 2, true);
	z_mobilenetv2_body(b, rows, (int)(sizeof(rows) / sizeof(rows[0])));
	z_conv_bn(b, "conv_last", 1280, 1, 1, true);
	z_head(b, 1000);
}

static void z_mobilenetv2_small(struct zb *b)
{
	static const struct z_ir rows[] = {
		{ 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 2, 2 }, { 6, 64, 2, 1 },
	};

	z_header(b, "mobilenetv2-small: width-reduced MobileNetV2 (ReLU), 1x28x28, 10 classes", 1, 28);
	z_conv_bn(b, "conv1", 16, 3, 1, true);
	z_mobilenetv2_body(b, rows, (int)(sizeof(rows) / sizeof(rows[0])));
	z_conv_bn(b, "conv_last", 256, 1, 1, true);
	z_head(b, 10);
}

struct zoo_model {
	const char *name;
	void (*gen)(struct zb *b);
	const char *describe;
};

static const struct zoo_model zoo[] = {
	{ "resnet8", z_resnet8, "CIFAR-style ResNet-8 (1x28x28, 10 classes), 78k parameters" },
	{ "resnet14", z_resnet14, "CIFAR-style ResNet-14 (1x28x28, 10 classes), 175k parameters" },
	{ "resnet20", z_resnet20, "CIFAR-style ResNet-20 (1x28x28, 10 classes), 272k parameters" },
	{ "mobilenetv1-small", z_mobilenetv1_small,
	  "width-reduced MobileNetV1 (1x28x28, 10 classes), 37k parameters" },
	{ "mobilenetv2-small", z_mobilenetv2_small,
	  "width-reduced MobileNetV2 (1x28x28, 10 classes), 134k parameters" },
	{ "resnet18", z_resnet18, "torchvision ResNet-18 (3x224x224, 1000 classes), 11.7M parameters" },
	{ "resnet50", z_resnet50, "torchvision ResNet-50 (3x224x224, 1000 classes), 25.6M parameters" },
	{ "mobilenetv1", z_mobilenetv1, "MobileNetV1 1.0 (3x224x224, 1000 classes), 4.2M parameters" },
	{ "mobilenetv2", z_mobilenetv2,
	  "torchvision MobileNetV2 with ReLU (3x224x224, 1000 classes), 3.5M parameters" },
};

#define ZOO_COUNT ((int)(sizeof(zoo) / sizeof(zoo[0])))

static const struct zoo_model *zoo_find(const char *name)
{
	int i;

	for (i = 0; name && i < ZOO_COUNT; i++)
		if (!strcmp(zoo[i].name, name))
			return &zoo[i];
	return NULL;
}

char *f8_zoo_arch(const char *name, struct f8_err *err)
{
	const struct zoo_model *m = zoo_find(name);
	struct zb b = { 0 };

	if (!m) {
		f8_fail(err, F8_ERR_RANGE, "no built-in model '%.64s'", name ? name : "(null)");
		return NULL;
	}
	m->gen(&b);
	if (b.oom || !b.buf) {
		free(b.buf);
		f8_fail(err, F8_ERR_NOMEM, "cannot write model '%s' (out of memory)", name);
		return NULL;
	}
	return b.buf;
}

const char *const *f8_zoo_names(void)
{
	static const char *const names[] = {
		"resnet8",  "resnet14", "resnet20",    "mobilenetv1-small", "mobilenetv2-small",
		"resnet18", "resnet50", "mobilenetv1", "mobilenetv2",       NULL,
	};

	return names;
}

const char *f8_zoo_describe(const char *name)
{
	const struct zoo_model *m = zoo_find(name);

	return m ? m->describe : NULL;
}
