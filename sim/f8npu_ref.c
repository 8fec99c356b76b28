// SPDX-License-Identifier: MIT
/*
 * Reference kernels. Each operation computes the main value v0 of one
 * output element (docs/arith.md §3) and hands it to ref_epilogue(), the one
 * implementation of rule A8. Loops are deliberately naive: this is the oracle.
 */
#include "f8npu_ref.h"

void f8npu_view_init(struct f8npu_view *v, const struct f8npu_tensor_ref *t, uint8_t *data)
{
	v->data = data;
	v->type = t->type;
	v->n = t->n;
	v->h = t->h;
	v->w = t->w;
	v->c = t->c;
	v->sn = t->stride_n;
	v->sh = t->stride_h;
	v->sw = t->stride_w;
}

static uint8_t *view_at(const struct f8npu_view *v, uint32_t i, uint32_t y, uint32_t x, uint32_t k)
{
	return v->data + i * v->sn + y * v->sh + x * v->sw + (uint64_t)k * f8npu_type_size(v->type);
}

static int64_t view_get(const struct f8npu_view *v, uint32_t i, uint32_t y, uint32_t x, uint32_t k)
{
	return f8npu_load(view_at(v, i, y, x, k), v->type);
}

/* Rule A8 for output element (i, y, x, k). */
static void ref_epilogue(const struct f8npu_ref_args *a, uint32_t i, uint32_t y, uint32_t x, uint32_t k,
			 int64_t v0)
{
	const struct f8npu_desc *d = a->d;
	int64_t aux = (d->flags & F8NPU_FLAG_AUX) ? view_get(&a->aux, i, y, x, k) : 0;
	int64_t v = f8npu_align_add(v0, d->align_src, aux, d->align_aux);
	int out, outs = (d->flags & F8NPU_FLAG_DST1) ? 2 : 1;

	if (d->flags & F8NPU_FLAG_RELU)
		v = f8npu_relu(v);
	for (out = 0; out < outs; out++) {
		const struct f8npu_view *dst = &a->dst[out];

		f8npu_store(view_at(dst, i, y, x, k), dst->type,
			    f8npu_requant(v, d->out_shift[out], dst->type));
	}
}

/*
 * The window of output (y, x) along one axis starts at y*stride - pad; only
 * taps inside the input are present (arith §3).
 */
static int64_t window_start(uint32_t o, uint8_t stride, uint8_t pad)
{
	return (int64_t)o * stride - pad;
}

static bool inside(int64_t pos, uint32_t len)
{
	return pos >= 0 && pos < (int64_t)len;
}

static int64_t conv_acc(const struct f8npu_ref_args *a, uint32_t i, uint32_t y, uint32_t x, uint32_t co)
{
	const struct f8npu_desc *d = a->d;
	const struct f8npu_view *s = &a->src;
	bool dw = d->flags & F8NPU_FLAG_DEPTHWISE;
	uint32_t cin = dw ? 1 : s->c, ky, kx, ci;
	int64_t y0 = window_start(y, d->stride_h, d->pad_top);
	int64_t x0 = window_start(x, d->stride_w, d->pad_left);
	int64_t acc = a->bias ? f8npu_load(a->bias + 4u * co, F8NPU_TYPE_S32) : 0;
	const uint8_t *w = a->weights + (uint64_t)co * d->kernel_h * d->kernel_w * cin;

	for (ky = 0; ky < d->kernel_h; ky++) {
		for (kx = 0; kx < d->kernel_w; kx++, w += cin) {
			if (!inside(y0 + ky, s->h) || !inside(x0 + kx, s->w))
				continue;
			for (ci = 0; ci < cin; ci++)
				acc += view_get(s, i, (uint32_t)(y0 + ky), (uint32_t)(x0 + kx), dw ? co : ci) *
				       (int8_t)w[ci];
		}
	}
	return f8npu_sat32(acc);
}

static int64_t pool_value(const struct f8npu_ref_args *a, uint32_t i, uint32_t y, uint32_t x, uint32_t k)
{
	const struct f8npu_desc *d = a->d;
	const struct f8npu_view *s = &a->src;
	bool is_max = d->opcode == F8NPU_OP_POOL_MAX;
	int64_t y0 = window_start(y, d->stride_h, d->pad_top);
	int64_t x0 = window_start(x, d->stride_w, d->pad_left);
	int64_t acc = 0;
	bool any = false;
	uint32_t ky, kx;

	for (ky = 0; ky < d->kernel_h; ky++) {
		for (kx = 0; kx < d->kernel_w; kx++) {
			int64_t v;

			if (!inside(y0 + ky, s->h) || !inside(x0 + kx, s->w))
				continue;
			v = view_get(s, i, (uint32_t)(y0 + ky), (uint32_t)(x0 + kx), k);
			if (!is_max)
				acc += v;
			else if (!any || v > acc)
				acc = v;
			any = true;
		}
	}
	/* Padding < kernel guarantees a present tap, so a max always exists. */
	return is_max ? acc : f8npu_sat32(acc);
}

void f8npu_ref_run(const struct f8npu_ref_args *a)
{
	const struct f8npu_desc *d = a->d;
	const struct f8npu_view *o = &a->dst[0];
	uint32_t i, y, x, k;

	for (i = 0; i < o->n; i++)
		for (y = 0; y < o->h; y++)
			for (x = 0; x < o->w; x++)
				for (k = 0; k < o->c; k++) {
					int64_t v0;

					switch (d->opcode) {
					case F8NPU_OP_CONV2D:
						v0 = conv_acc(a, i, y, x, k);
						break;
					case F8NPU_OP_POOL_MAX:
					case F8NPU_OP_POOL_SUM:
						v0 = pool_value(a, i, y, x, k);
						break;
					default: /* F8NPU_OP_ADD */
						v0 = view_get(&a->src, i, y, x, k);
						break;
					}
					ref_epilogue(a, i, y, x, k, v0);
				}
}
