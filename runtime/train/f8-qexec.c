// SPDX-License-Identifier: MIT
/*
 * The integer forward pass of an integer model (f8-qmodel.h), one image at a time, on the
 * reference kernels of sim/ (f8npu_ref_run): the same C the functional model executes for
 * each descriptor, so these numbers are the device's numbers. Each node becomes one
 * descriptor over host buffers, with an int32 output at shift 0 (the node's int32 tensor);
 * a conv's or linear's input is first requantized to 8 bits with rule A4, which is what a
 * producer's epilogue does on the device.
 */
#include <string.h>

#include "f8-err.h"
#include "f8-qmodel.h"
#include "f8npu_arith.h"
#include "f8npu_ref.h"

static size_t elems(const struct f8_qm_node *n)
{
	return (size_t)n->c * n->h * n->w;
}

size_t f8_qm_in8_bytes(const struct f8_qm *m)
{
	size_t in8 = 0;
	uint32_t i;

	for (i = 0; i < m->nnodes; i++) {
		const struct f8_qm_node *n = &m->nodes[i];

		if ((n->op == F8_QM_CONV || n->op == F8_QM_LINEAR) && elems(&m->nodes[n->in[0]]) > in8)
			in8 = elems(&m->nodes[n->in[0]]);
	}
	return in8;
}

/* int32 outputs of every node, then one 8-bit buffer for the largest requantized input. */
size_t f8_qm_scratch_bytes(const struct f8_qm *m)
{
	size_t s = 0;
	uint32_t i;

	for (i = 0; i < m->nnodes; i++)
		s += (elems(&m->nodes[i]) * 4 + 7) & ~(size_t)7;
	return s + f8_qm_in8_bytes(m);
}

static void tensor(struct f8npu_tensor_ref *t, unsigned int type, const struct f8_qm_node *n)
{
	const uint32_t es = f8npu_type_size(type);

	memset(t, 0, sizeof(*t));
	t->type = (uint8_t)type;
	t->n = 1;
	t->h = n->h;
	t->w = n->w;
	t->c = n->c;
	t->stride_w = es * n->c;
	t->stride_h = t->stride_w * n->w;
	t->stride_n = t->stride_h * n->h;
}

void f8_qm_node_forward(const struct f8_qm *m, uint32_t i, int32_t *const *out, uint8_t *in8)
{
	const struct f8_qm_node *n = &m->nodes[i];
	const struct f8_qm_node *a = n->in[0] >= 0 ? &m->nodes[n->in[0]] : NULL;
	struct f8npu_desc d;
	struct f8npu_tensor_ref ts, ta, td;
	struct f8npu_ref_args args;
	size_t q;

	if (n->op == F8_QM_INPUT)
		return;
	memset(&d, 0, sizeof(d));
	memset(&args, 0, sizeof(args));
	tensor(&td, F8NPU_TYPE_S32, n);
	d.dst[0] = td;
	d.out_shift[0] = 0;
	d.stride_h = d.stride_w = 1;
	d.kernel_h = d.kernel_w = 1;
	if (n->flags & F8_QM_F_RELU)
		d.flags |= F8NPU_FLAG_RELU;
	switch (n->op) {
	case F8_QM_CONV:
	case F8_QM_LINEAR: {
		const unsigned int t8 = (n->flags & F8_QM_F_SIGNED) ? F8NPU_TYPE_S8 : F8NPU_TYPE_U8;
		const int s = a->fl_out - n->fl_in;

		/* A4: the producer's int32 tensor at the consumer's input FL */
		for (q = 0; q < elems(a); q++)
			in8[q] = (uint8_t)f8npu_requant(out[n->in[0]][q], s, t8);
		tensor(&ts, t8, a);
		d.opcode = F8NPU_OP_CONV2D;
		d.flags |= F8NPU_FLAG_BIAS;
		if (n->op == F8_QM_CONV) {
			d.kernel_h = d.kernel_w = n->k;
			d.stride_h = d.stride_w = n->stride;
			d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = n->pad;
			if (n->flags & F8_QM_F_DEPTHWISE)
				d.flags |= F8NPU_FLAG_DEPTHWISE;
		} else {
			/* flattened [h][w][c] input: one window covering it, weights [out][h][w][c] */
			d.kernel_h = (uint8_t)a->h;
			d.kernel_w = (uint8_t)a->w;
		}
		f8npu_view_init(&args.src, &ts, in8);
		args.weights = (const uint8_t *)n->weights;
		args.bias = (const uint8_t *)n->bias; /* little-endian: the parser checked the host */
		break;
	}
	case F8_QM_ADD: {
		const struct f8_qm_node *b = &m->nodes[n->in[1]];

		tensor(&ts, F8NPU_TYPE_S32, a);
		tensor(&ta, F8NPU_TYPE_S32, b);
		d.opcode = F8NPU_OP_ADD;
		d.flags |= F8NPU_FLAG_AUX;
		d.align_src = (uint8_t)(n->fl_out - a->fl_out);
		d.align_aux = (uint8_t)(n->fl_out - b->fl_out);
		f8npu_view_init(&args.src, &ts, (uint8_t *)out[n->in[0]]);
		f8npu_view_init(&args.aux, &ta, (uint8_t *)out[n->in[1]]);
		break;
	}
	case F8_QM_MAXPOOL:
	case F8_QM_SUMPOOL:
		tensor(&ts, F8NPU_TYPE_S32, a);
		d.opcode = n->op == F8_QM_MAXPOOL ? F8NPU_OP_POOL_MAX : F8NPU_OP_POOL_SUM;
		d.kernel_h = d.kernel_w = n->k;
		d.stride_h = d.stride_w = n->stride;
		d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = n->pad;
		f8npu_view_init(&args.src, &ts, (uint8_t *)out[n->in[0]]);
		break;
	default:
		F8_ASSERT(0);
	}
	d.src = ts;
	f8npu_view_init(&args.dst[0], &td, (uint8_t *)out[i]);
	args.d = &d;
	f8npu_ref_run(&args);
}

void f8_qm_forward(const struct f8_qm *m, const uint8_t *pixels, int32_t *logits, void *scratch)
{
	uint8_t *base = scratch;
	int32_t *out[F8_QM_MAX_NODES];
	uint8_t *in8;
	size_t off = 0, q;
	uint32_t i;

	for (i = 0; i < m->nnodes; i++) {
		out[i] = (int32_t *)(void *)(base + off);
		off += (elems(&m->nodes[i]) * 4 + 7) & ~(size_t)7;
	}
	in8 = base + off;
	for (q = 0; q < elems(&m->nodes[0]); q++)
		out[0][q] = pixels[q];
	for (i = 1; i < m->nnodes; i++)
		f8_qm_node_forward(m, i, out, in8);
	memcpy(logits, out[m->nnodes - 1], sizeof(int32_t) * m->classes);
}
