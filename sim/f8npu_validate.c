// SPDX-License-Identifier: MIT
/*
 * Descriptor validation in the order of docs/isa.md §5. Each step is one
 * function returning the step's error code or NONE, so that the order is
 * visible in f8npu_validate_desc() and cannot drift.
 */
#include "f8npu_validate.h"

/* Flags each opcode accepts (index: opcode). */
static const uint8_t allowed_flags[F8NPU_OP_COUNT_] = {
	[F8NPU_OP_END] = 0,
	[F8NPU_OP_CONV2D] = F8NPU_FLAGS_ALL,
	[F8NPU_OP_POOL_MAX] = F8NPU_FLAG_AUX | F8NPU_FLAG_RELU | F8NPU_FLAG_DST1,
	[F8NPU_OP_POOL_SUM] = F8NPU_FLAG_AUX | F8NPU_FLAG_RELU | F8NPU_FLAG_DST1,
	[F8NPU_OP_ADD] = F8NPU_FLAG_AUX | F8NPU_FLAG_RELU | F8NPU_FLAG_DST1,
};

static bool bytes_zero(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static bool has_window(uint8_t op)
{
	return op == F8NPU_OP_CONV2D || op == F8NPU_OP_POOL_MAX || op == F8NPU_OP_POOL_SUM;
}

uint64_t f8npu_tensor_extent(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)(t->n - 1) * t->stride_n + (uint64_t)(t->h - 1) * t->stride_h +
	       (uint64_t)(t->w - 1) * t->stride_w + (uint64_t)t->c * f8npu_type_size(t->type);
}

/* Which operands the descriptor uses (after step 2 this is consistent). */
static void mark_used(const struct f8npu_desc *d, bool used[F8NPU_OPND_COUNT])
{
	bool compute = d->opcode != F8NPU_OP_END;

	used[F8NPU_OPND_SRC] = compute;
	used[F8NPU_OPND_AUX] = compute && (d->flags & F8NPU_FLAG_AUX);
	used[F8NPU_OPND_WEIGHTS] = d->opcode == F8NPU_OP_CONV2D;
	used[F8NPU_OPND_BIAS] = d->opcode == F8NPU_OP_CONV2D && (d->flags & F8NPU_FLAG_BIAS);
	used[F8NPU_OPND_DST0] = compute;
	used[F8NPU_OPND_DST1] = compute && (d->flags & F8NPU_FLAG_DST1);
}

/* Step 1. */
static uint32_t check_opcode(const struct f8npu_desc *d, uint32_t cap_ops)
{
	if (d->opcode == 0 || d->opcode >= F8NPU_OP_COUNT_ || !(cap_ops & (1u << d->opcode)))
		return F8NPU_ERR_BAD_OPCODE;
	return F8NPU_ERR_NONE;
}

static bool tensor_ref_reserved_ok(const struct f8npu_tensor_ref *t)
{
	return t->reserved0 == 0 && t->reserved1 == 0 && t->type < F8NPU_TYPE_COUNT_;
}

/* Step 2. */
static uint32_t check_fields(const struct f8npu_desc *d)
{
	const uint8_t *raw = (const uint8_t *)d;
	uint8_t flags = d->flags;
	bool aux = flags & F8NPU_FLAG_AUX, dst1 = flags & F8NPU_FLAG_DST1;

	if (d->opcode == F8NPU_OP_END)
		return bytes_zero(raw + 1, sizeof(*d) - 1) ? F8NPU_ERR_NONE : F8NPU_ERR_BAD_FIELD;

	if (flags & ~allowed_flags[d->opcode])
		return F8NPU_ERR_BAD_FIELD;
	if (d->reserved0 || !bytes_zero(d->reserved1, sizeof(d->reserved1)) ||
	    !bytes_zero(d->reserved2, sizeof(d->reserved2)) ||
	    !bytes_zero(d->reserved3, sizeof(d->reserved3)))
		return F8NPU_ERR_BAD_FIELD;

	/* Used references: reserved bytes and type; unused ones: all zero. */
	if (!tensor_ref_reserved_ok(&d->src) || !tensor_ref_reserved_ok(&d->dst[0]))
		return F8NPU_ERR_BAD_FIELD;
	if (aux ? !tensor_ref_reserved_ok(&d->aux) : !bytes_zero(&d->aux, sizeof(d->aux)))
		return F8NPU_ERR_BAD_FIELD;
	if (dst1 ? !tensor_ref_reserved_ok(&d->dst[1]) : !bytes_zero(&d->dst[1], sizeof(d->dst[1])))
		return F8NPU_ERR_BAD_FIELD;
	if (d->opcode == F8NPU_OP_CONV2D) {
		if (d->src.type == F8NPU_TYPE_S32)
			return F8NPU_ERR_BAD_FIELD;
		if (!bytes_zero(d->weights.reserved, sizeof(d->weights.reserved)))
			return F8NPU_ERR_BAD_FIELD;
		if ((flags & F8NPU_FLAG_BIAS) ? !bytes_zero(d->bias.reserved, sizeof(d->bias.reserved))
					      : !bytes_zero(&d->bias, sizeof(d->bias)))
			return F8NPU_ERR_BAD_FIELD;
	} else if (!bytes_zero(&d->weights, sizeof(d->weights)) ||
		   !bytes_zero(&d->bias, sizeof(d->bias))) {
		return F8NPU_ERR_BAD_FIELD;
	}
	/* ADD has no window: kernel, stride and padding (bytes 4..11) MBZ. */
	if (!has_window(d->opcode) && !bytes_zero(raw + 4, 8))
		return F8NPU_ERR_BAD_FIELD;
	if (!aux && d->align_aux)
		return F8NPU_ERR_BAD_FIELD;
	if (!dst1 && d->out_shift[1])
		return F8NPU_ERR_BAD_FIELD;
	return F8NPU_ERR_NONE;
}

static bool dims_nonzero(const struct f8npu_tensor_ref *t)
{
	return t->n && t->h && t->w && t->c;
}

static bool same_shape(const struct f8npu_tensor_ref *t, uint32_t n, uint32_t h, uint32_t w, uint32_t c)
{
	return t->n == n && t->h == h && t->w == w && t->c == c;
}

/* Output length of a window along one axis, or 0 if the geometry is invalid. */
static uint32_t window_out(uint32_t in, uint32_t k, uint32_t stride, uint32_t pad_lo, uint32_t pad_hi)
{
	uint32_t padded = in + pad_lo + pad_hi;

	if (k == 0 || stride == 0 || pad_lo >= k || pad_hi >= k || padded < k)
		return 0;
	return (padded - k) / stride + 1;
}

/* Step 3; fills the output shape and K. */
static uint32_t check_shapes(const struct f8npu_desc *d, struct f8npu_plan *plan)
{
	const struct f8npu_tensor_ref *src = &d->src, *dst = &d->dst[0];
	bool dw = d->flags & F8NPU_FLAG_DEPTHWISE;

	if (!dims_nonzero(src) || !dims_nonzero(dst))
		return F8NPU_ERR_BAD_SHAPE;

	if (has_window(d->opcode)) {
		plan->out_h = window_out(src->h, d->kernel_h, d->stride_h, d->pad_top, d->pad_bottom);
		plan->out_w = window_out(src->w, d->kernel_w, d->stride_w, d->pad_left, d->pad_right);
		if (!plan->out_h || !plan->out_w)
			return F8NPU_ERR_BAD_SHAPE;
	} else {
		plan->out_h = src->h;
		plan->out_w = src->w;
	}
	plan->out_c = d->opcode == F8NPU_OP_CONV2D && !dw ? dst->c : src->c;
	if (!same_shape(dst, src->n, plan->out_h, plan->out_w, plan->out_c))
		return F8NPU_ERR_BAD_SHAPE;
	if ((d->flags & F8NPU_FLAG_AUX) && !same_shape(&d->aux, dst->n, dst->h, dst->w, dst->c))
		return F8NPU_ERR_BAD_SHAPE;
	if ((d->flags & F8NPU_FLAG_DST1) && !same_shape(&d->dst[1], dst->n, dst->h, dst->w, dst->c))
		return F8NPU_ERR_BAD_SHAPE;
	return F8NPU_ERR_NONE;
}

/* Step 4. */
static uint32_t check_limits(const struct f8npu_desc *d, struct f8npu_plan *plan)
{
	uint64_t k = (uint64_t)d->kernel_h * d->kernel_w * (d->flags & F8NPU_FLAG_DEPTHWISE ? 1 : d->src.c);

	/* Pools need no window limit: 8-bit kernel fields give at most 255 * 255 taps. */
	plan->k = 0;
	if (d->opcode == F8NPU_OP_CONV2D) {
		if (k > F8NPU_MAX_K)
			return F8NPU_ERR_LIMIT;
		plan->k = (uint32_t)k;
	}
	if (d->out_shift[0] < F8NPU_SHIFT_MIN || d->out_shift[0] > F8NPU_SHIFT_MAX ||
	    d->out_shift[1] < F8NPU_SHIFT_MIN || d->out_shift[1] > F8NPU_SHIFT_MAX)
		return F8NPU_ERR_LIMIT;
	if (d->align_src > F8NPU_ALIGN_MAX || d->align_aux > F8NPU_ALIGN_MAX)
		return F8NPU_ERR_LIMIT;
	return F8NPU_ERR_NONE;
}

/* Region index and offset of each operand (the spans' extents come later). */
static void locate(const struct f8npu_desc *d, struct f8npu_plan *plan)
{
	struct f8npu_span *s = plan->span;

	s[F8NPU_OPND_SRC].region = d->src.region;
	s[F8NPU_OPND_SRC].offset = d->src.offset;
	s[F8NPU_OPND_AUX].region = d->aux.region;
	s[F8NPU_OPND_AUX].offset = d->aux.offset;
	s[F8NPU_OPND_WEIGHTS].region = d->weights.region;
	s[F8NPU_OPND_WEIGHTS].offset = d->weights.offset;
	s[F8NPU_OPND_BIAS].region = d->bias.region;
	s[F8NPU_OPND_BIAS].offset = d->bias.offset;
	s[F8NPU_OPND_DST0].region = d->dst[0].region;
	s[F8NPU_OPND_DST0].offset = d->dst[0].offset;
	s[F8NPU_OPND_DST1].region = d->dst[1].region;
	s[F8NPU_OPND_DST1].offset = d->dst[1].offset;
}

/* Step 5. */
static uint32_t check_regions(const struct f8npu_plan *plan, const struct f8npu_region_table *rt)
{
	int i;

	for (i = 0; i < F8NPU_OPND_COUNT; i++) {
		uint32_t r = plan->span[i].region;

		if (!plan->span[i].used)
			continue;
		if (r >= rt->count || r >= F8NPU_REGIONS || rt->size[r] == 0 ||
		    rt->base[r] + rt->size[r] < rt->base[r])
			return F8NPU_ERR_BAD_REGION;
	}
	return F8NPU_ERR_NONE;
}

static bool tensor_aligned(const struct f8npu_tensor_ref *t)
{
	if (t->type != F8NPU_TYPE_S32)
		return true;
	return ((t->offset | t->stride_n | t->stride_h | t->stride_w) & 3u) == 0;
}

/* Step 6. */
static uint32_t check_alignment(const struct f8npu_desc *d, const struct f8npu_plan *plan)
{
	if (!tensor_aligned(&d->src) || !tensor_aligned(&d->dst[0]))
		return F8NPU_ERR_ALIGN;
	if (plan->span[F8NPU_OPND_AUX].used && !tensor_aligned(&d->aux))
		return F8NPU_ERR_ALIGN;
	if (plan->span[F8NPU_OPND_DST1].used && !tensor_aligned(&d->dst[1]))
		return F8NPU_ERR_ALIGN;
	if (plan->span[F8NPU_OPND_BIAS].used && (d->bias.offset & 3u))
		return F8NPU_ERR_ALIGN;
	return F8NPU_ERR_NONE;
}

/* Step 7: extents, then each footprint against its region's size. */
static uint32_t check_bounds(const struct f8npu_desc *d, const struct f8npu_region_table *rt,
			     struct f8npu_plan *plan)
{
	struct f8npu_span *s = plan->span;
	int i;

	s[F8NPU_OPND_SRC].extent = f8npu_tensor_extent(&d->src);
	s[F8NPU_OPND_AUX].extent = s[F8NPU_OPND_AUX].used ? f8npu_tensor_extent(&d->aux) : 0;
	s[F8NPU_OPND_WEIGHTS].extent = (uint64_t)plan->out_c * plan->k;
	s[F8NPU_OPND_BIAS].extent = (uint64_t)plan->out_c * 4u;
	s[F8NPU_OPND_DST0].extent = f8npu_tensor_extent(&d->dst[0]);
	s[F8NPU_OPND_DST1].extent = s[F8NPU_OPND_DST1].used ? f8npu_tensor_extent(&d->dst[1]) : 0;

	for (i = 0; i < F8NPU_OPND_COUNT; i++) {
		uint64_t size;

		if (!s[i].used)
			continue;
		size = rt->size[s[i].region];
		/* offset < 2^32 and extent < 2^50: the sum cannot wrap. */
		if (s[i].offset + s[i].extent > size)
			return i < F8NPU_OPND_DST0 ? F8NPU_ERR_OOB_READ : F8NPU_ERR_OOB_WRITE;
	}
	return F8NPU_ERR_NONE;
}

/* An output's elements never share bytes (isa.md §2). */
static bool output_disjoint(const struct f8npu_tensor_ref *t)
{
	uint64_t es = f8npu_type_size(t->type);
	uint64_t pixel = (uint64_t)t->c * es;
	uint64_t row = (uint64_t)(t->w - 1) * t->stride_w + pixel;
	uint64_t image = (uint64_t)(t->h - 1) * t->stride_h + row;

	if (t->w > 1 && t->stride_w < pixel)
		return false;
	if (t->h > 1 && t->stride_h < row)
		return false;
	if (t->n > 1 && t->stride_n < image)
		return false;
	return true;
}

/* Do [a0, a0 + alen) and [b0, b0 + blen) intersect? Inputs never wrap (regions end below 2^64). */
static bool ranges_intersect(uint64_t a0, uint64_t alen, uint64_t b0, uint64_t blen)
{
	return a0 < b0 + blen && b0 < a0 + alen;
}

static bool spans_intersect(const struct f8npu_span *a, const struct f8npu_span *b,
			    const struct f8npu_region_table *rt)
{
	return ranges_intersect(rt->base[a->region] + a->offset, a->extent, rt->base[b->region] + b->offset,
				b->extent);
}

/* The command buffer may wrap past 2^64 only in a stream the device cannot fetch anyway. */
static bool span_hits_cmd(const struct f8npu_span *a, const struct f8npu_region_table *rt)
{
	uint64_t end = rt->cmd_base + rt->cmd_size;

	if (end < rt->cmd_base)
		end = ~(uint64_t)0;
	return ranges_intersect(rt->base[a->region] + a->offset, a->extent, rt->cmd_base, end - rt->cmd_base);
}

/* Step 8. */
static uint32_t check_overlap(const struct f8npu_desc *d, const struct f8npu_region_table *rt,
			      const struct f8npu_plan *plan)
{
	const struct f8npu_span *s = plan->span;
	int out, in;

	for (out = F8NPU_OPND_DST0; out <= F8NPU_OPND_DST1; out++) {
		if (!s[out].used)
			continue;
		if (!output_disjoint(&d->dst[out - F8NPU_OPND_DST0]) || span_hits_cmd(&s[out], rt))
			return F8NPU_ERR_OVERLAP;
		for (in = F8NPU_OPND_SRC; in < F8NPU_OPND_DST0; in++)
			if (s[in].used && spans_intersect(&s[out], &s[in], rt))
				return F8NPU_ERR_OVERLAP;
	}
	if (s[F8NPU_OPND_DST1].used && spans_intersect(&s[F8NPU_OPND_DST0], &s[F8NPU_OPND_DST1], rt))
		return F8NPU_ERR_OVERLAP;
	return F8NPU_ERR_NONE;
}

uint32_t f8npu_validate_desc(const struct f8npu_desc *d, const struct f8npu_region_table *rt,
			     uint32_t cap_ops, struct f8npu_plan *plan)
{
	bool used[F8NPU_OPND_COUNT];
	uint32_t err;
	int i;

	for (i = 0; i < F8NPU_OPND_COUNT; i++)
		plan->span[i] = (struct f8npu_span){ 0 };
	plan->out_h = plan->out_w = plan->out_c = plan->k = 0;

	err = check_opcode(d, cap_ops);
	if (!err)
		err = check_fields(d);
	if (err || d->opcode == F8NPU_OP_END)
		return err;

	mark_used(d, used);
	for (i = 0; i < F8NPU_OPND_COUNT; i++)
		plan->span[i].used = used[i];
	locate(d, plan);

	err = check_shapes(d, plan);
	if (!err)
		err = check_limits(d, plan);
	if (!err)
		err = check_regions(plan, rt);
	if (!err)
		err = check_alignment(d, plan);
	if (!err)
		err = check_bounds(d, rt, plan);
	if (!err)
		err = check_overlap(d, rt, plan);
	return err;
}

uint32_t f8npu_validate_header(const struct f8npu_cmd_header *h, uint32_t cmd_size)
{
	if (h->magic != F8NPU_CMD_MAGIC)
		return F8NPU_ERR_BAD_MAGIC;
	if (h->version_major != F8NPU_CMD_VERSION_MAJOR || h->version_minor > F8NPU_CMD_VERSION_MINOR)
		return F8NPU_ERR_BAD_VERSION;
	if (h->desc_size != F8NPU_CMD_DESC_SIZE || !bytes_zero(h->reserved, sizeof(h->reserved)))
		return F8NPU_ERR_BAD_HEADER;
	if (F8NPU_CMD_HEADER_SIZE + (uint64_t)h->desc_count * F8NPU_CMD_DESC_SIZE > cmd_size)
		return F8NPU_ERR_BAD_HEADER;
	return F8NPU_ERR_NONE;
}
