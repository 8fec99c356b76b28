// SPDX-License-Identifier: MIT
/*
 * rtl/f8npu_validate.sv against sim/f8npu_validate.c (the oracle).
 *
 * Every case builds a descriptor that is meant to be valid (random opcode, flags, shapes,
 * window, strides, types, placement in a random 16-entry region table, command buffer), then
 * applies 0..3 random mutations (raw bytes, fields set to boundary values, regions near 2^64,
 * region sizes at the footprint boundary, outputs moved onto inputs / the command buffer,
 * self-overlapping output strides, misalignment, K at the 65536 boundary, ...). The RTL's error
 * code must equal f8npu_validate_desc()'s, and for a valid descriptor Ho, Wo, K and the
 * isa.md §7 counters (MACs, data bytes read and written) must equal the ones derived from the
 * C plan. After done_o the inputs are scrambled for a cycle: the outputs must hold.
 *
 * usage: tb_validate [seed [cases]]   (defaults 1, 20000)
 * C-like on purpose: plain structs and functions, printf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Vf8npu_validate.h"
#include "verilated.h"

extern "C" {
#include "f8npu_build.h"
#include "f8npu_validate.h"
}

#ifndef TB_COLS
#define TB_COLS 16
#endif

#define MAX_CYCLES 2000

/* ---- random numbers (xorshift64*) ---- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n); n = 0 stands for 2^64 (a wrapped-around bound). */
static uint64_t rnd(uint64_t n)
{
	return n ? rnd64() % n : rnd64();
}

/* Uniform in [lo, hi]. */
static int64_t rnd_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)rnd((uint64_t)(hi - lo + 1));
}

static bool chance(unsigned percent)
{
	return rnd(100) < percent;
}

/* ---- one test case ---- */

struct tcase {
	struct f8npu_desc d;
	struct f8npu_region_table rt;
	uint32_t cap_ops;
};

static const uint8_t u8_edges[] = { 0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 30, 31, 32, 33, 63, 127, 128, 129, 224, 225, 254, 255 };
static const uint16_t u16_edges[] = { 0, 1, 2, 3, 4, 255, 256, 4096, 16384, 32767, 32768, 65534, 65535 };
static const uint32_t u32_edges[] = { 0, 1, 2, 3, 4, 5, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffffu,
				      0x80000000u, 0xfffffffcu, 0xfffffffeu, 0xffffffffu };

static uint8_t edge8(void)
{
	return chance(80) ? u8_edges[rnd(sizeof(u8_edges))] : (uint8_t)rnd64();
}

static uint16_t edge16(void)
{
	return chance(80) ? u16_edges[rnd(sizeof(u16_edges) / 2)] : (uint16_t)rnd64();
}

static uint32_t edge32(void)
{
	return chance(80) ? u32_edges[rnd(sizeof(u32_edges) / 4)] : (uint32_t)rnd64();
}

static uint32_t type_size(uint8_t type)
{
	return type == F8NPU_TYPE_S32 ? 4 : 1;
}

static uint8_t *desc_bytes(struct tcase *tc)
{
	return (uint8_t *)&tc->d;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t align_up4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

/*
 * Strides of a tensor: dense, padded, or (inputs only) with broadcast (0) strides; @bcast:
 * all 0. An input stride beyond 32 bits becomes 0 (broadcast); an output's is truncated
 * (the descriptor then most likely fails).
 */
static void set_strides(struct f8npu_tensor_ref *t, bool input, bool bcast)
{
	uint64_t es = type_size(t->type), pixel = (uint64_t)t->c * es, sw, sh, sn;
	unsigned mode = (unsigned)rnd(10);

	sw = pixel;
	if (mode >= 6)
		sw += align_up4(rnd(9));
	sh = (uint64_t)t->w * sw;
	if (mode >= 8)
		sh += align_up4(rnd(70));
	sn = (uint64_t)t->h * sh;
	if (mode == 9)
		sn += align_up4(rnd(300));
	if (input && (bcast || chance(15))) {
		if (bcast || chance(50))
			sw = 0;
		if (bcast || chance(50))
			sh = 0;
		if (bcast || chance(50))
			sn = 0;
	}
	if (input) {
		if (sw > 0xffffffffu)
			sw = 0;
		if (sh > 0xffffffffu)
			sh = 0;
		if (sn > 0xffffffffu)
			sn = 0;
	}
	t->stride_w = (uint32_t)sw;
	t->stride_h = (uint32_t)sh;
	t->stride_n = (uint32_t)sn;
}

/* A dimension: mostly small, sometimes large. */
static uint16_t rnd_dim(unsigned small_max, bool big)
{
	if (big && chance(40))
		return (uint16_t)rnd_range(1, chance(50) ? 65535 : 1024);
	return (uint16_t)rnd_range(1, small_max);
}

/* Window geometry along one axis for an input length: kernel, stride, pads. */
static void rnd_window(uint16_t in, bool big, uint8_t *k, uint8_t *s, uint8_t *plo, uint8_t *phi)
{
	unsigned kmax = big && chance(30) ? 255 : 7;
	unsigned kk = (unsigned)rnd_range(1, kmax);

	*plo = kk > 1 && chance(40) ? (uint8_t)rnd(kk) : 0;
	*phi = kk > 1 && chance(40) ? (uint8_t)rnd(kk) : 0;
	if ((unsigned)in + *plo + *phi < kk)
		kk = (unsigned)in + *plo + *phi; /* window fits; pads stay < k */
	if (*plo >= kk)
		*plo = (uint8_t)(kk - 1);
	if (*phi >= kk)
		*phi = (uint8_t)(kk - 1);
	*k = (uint8_t)kk;
	*s = (uint8_t)(chance(70) ? rnd_range(1, 3) : rnd_range(1, 255));
}

static uint32_t window_len(uint32_t in, uint32_t k, uint32_t s, uint32_t lo, uint32_t hi)
{
	return (in + lo + hi - k) / s + 1;
}

/*
 * Region table: region r covers [base_r, base_r + size_r), disjoint windows 2^56 apart, the
 * command buffer above them. gen_valid() then grows the sizes so that every operand fits at
 * any offset < 2^32, and may move one region to the top of the address space.
 */
static void rnd_regions(struct tcase *tc)
{
	struct f8npu_region_table *rt = &tc->rt;
	int r;

	rt->count = F8NPU_REGIONS;
	for (r = 0; r < (int)F8NPU_REGIONS; r++) {
		rt->base[r] = ((uint64_t)(r + 1) << 56) + (rnd(1u << 20) << 2);
		rt->size[r] = ((uint64_t)1 << 33) + rnd(1u << 30);
	}
	rt->cmd_base = ((uint64_t)20 << 56) + (rnd(1u << 20) << 2);
	rt->cmd_size = (uint32_t)(F8NPU_CMD_HEADER_SIZE + F8NPU_CMD_DESC_SIZE * rnd_range(1, 64));
}

/* Place a span of @extent bytes at a random offset of region @r (aligned to 4). */
static uint32_t place(const struct tcase *tc, int r, uint64_t extent)
{
	uint64_t room = tc->rt.size[r] > extent ? tc->rt.size[r] - extent : 0;

	if (room > 0xfffffff0u)
		room = 0xfffffff0u;
	if (chance(20))
		return 0;
	if (chance(10))
		return (uint32_t)(room & ~(uint64_t)3); /* at the very end of the region */
	return (uint32_t)(rnd(room + 1) & ~(uint64_t)3);
}

static void set_dims(struct f8npu_tensor_ref *t, uint16_t n, uint16_t h, uint16_t w, uint16_t c)
{
	t->n = n;
	t->h = h;
	t->w = w;
	t->c = c;
}

static uint8_t rnd_type(bool s8_only)
{
	if (s8_only)
		return (uint8_t)rnd(2);
	return (uint8_t)rnd(3);
}

/* Halve @c until an image of ho x wo x c s32 elements (plus padding) fits 32-bit strides. */
static uint16_t fit_image(uint16_t ho, uint16_t wo, uint16_t c)
{
	while (c > 1 && (uint64_t)ho * wo * c * 4 + ((uint64_t)ho * wo + ho) * 8 + 400 > 0xffffffffu)
		c = (uint16_t)((c + 1) / 2);
	return c;
}

/*
 * Build a descriptor meant to be valid. Modes: normal (small shapes), big (some dims up to
 * 65535), huge (conv 1x1 / pool with a large stride over a broadcast input of up to 65535^4
 * elements: 64-bit counter wrap-around, the longest multiplications).
 */
static void gen_valid(struct tcase *tc)
{
	struct f8npu_desc *d = &tc->d;
	bool huge = chance(3), big = huge || chance(8), conv, dw, window;
	unsigned pick = (unsigned)rnd(100);
	uint16_t n, h, w, c, ho, wo, cout;
	uint64_t k, ext;
	int perm[F8NPU_REGIONS], i;

	memset(tc, 0, sizeof(*tc));
	rnd_regions(tc);
	tc->cap_ops = chance(95) ? 0x3eu : (uint32_t)rnd64();

	if (pick < 6 && !huge) {
		d->opcode = F8NPU_OP_END;
		return;
	}
	if (huge)
		d->opcode = chance(60) ? F8NPU_OP_CONV2D : chance(50) ? F8NPU_OP_POOL_MAX : F8NPU_OP_POOL_SUM;
	else
		d->opcode = pick < 50 ? F8NPU_OP_CONV2D : pick < 65 ? F8NPU_OP_POOL_MAX : pick < 80 ? F8NPU_OP_POOL_SUM : F8NPU_OP_ADD;
	conv = d->opcode == F8NPU_OP_CONV2D;
	window = d->opcode != F8NPU_OP_ADD;
	dw = conv && !huge && chance(25);

	if (conv && chance(50))
		d->flags |= F8NPU_FLAG_BIAS;
	if (chance(35))
		d->flags |= F8NPU_FLAG_AUX;
	if (chance(50))
		d->flags |= F8NPU_FLAG_RELU;
	if (chance(30))
		d->flags |= F8NPU_FLAG_DST1;
	if (dw)
		d->flags |= F8NPU_FLAG_DEPTHWISE;

	if (huge) {
		n = (uint16_t)rnd_range(30000, 65535);
		h = (uint16_t)rnd_range(30000, 65535);
		w = (uint16_t)rnd_range(30000, 65535);
		c = (uint16_t)rnd_range(conv ? 1000 : 30000, 65535);
		d->kernel_h = conv ? 1 : (uint8_t)rnd_range(1, 255);
		d->kernel_w = conv ? 1 : (uint8_t)rnd_range(1, 255);
		d->stride_h = (uint8_t)rnd_range(128, 255);
		d->stride_w = (uint8_t)rnd_range(128, 255);
	} else {
		n = big ? rnd_dim(3, true) : (uint16_t)rnd_range(1, 3);
		h = rnd_dim(40, big);
		w = rnd_dim(40, big);
		c = rnd_dim(70, big);
	}
	if (window) {
		if (!huge) {
			rnd_window(h, big, &d->kernel_h, &d->stride_h, &d->pad_top, &d->pad_bottom);
			rnd_window(w, big, &d->kernel_w, &d->stride_w, &d->pad_left, &d->pad_right);
		}
		if (window_len(h, d->kernel_h, d->stride_h, d->pad_top, d->pad_bottom) > 65535 ||
		    window_len(w, d->kernel_w, d->stride_w, d->pad_left, d->pad_right) > 65535)
			d->pad_top = d->pad_bottom = d->pad_left = d->pad_right = 0;
		ho = (uint16_t)window_len(h, d->kernel_h, d->stride_h, d->pad_top, d->pad_bottom);
		wo = (uint16_t)window_len(w, d->kernel_w, d->stride_w, d->pad_left, d->pad_right);
	} else {
		ho = h;
		wo = w;
	}
	cout = c;
	k = 0;
	if (conv) {
		uint64_t win = (uint64_t)d->kernel_h * d->kernel_w;

		if (!dw)
			cout = huge ? (uint16_t)rnd_range(1, 65535) : rnd_dim(80, big);
		/* Sometimes K at the limit: cin = 65536 / window (+ 0 or 1). */
		if (!dw && chance(5)) {
			uint64_t cin = 65536 / win + (chance(50) ? 1 : 0);

			if (cin >= 1 && cin <= 65535)
				c = (uint16_t)cin;
		}
		if (!dw && win * c > F8NPU_MAX_K && chance(90))
			c = (uint16_t)(F8NPU_MAX_K / win);
		if (c == 0)
			c = 1;
		if (dw)
			cout = c;
	}
	/* The outputs' strides must fit 32 bits. */
	cout = fit_image(ho, wo, cout);
	if (!conv || dw)
		c = cout;
	if (conv)
		k = (uint64_t)d->kernel_h * d->kernel_w * (dw ? 1 : c);

	d->src.type = rnd_type(conv);
	set_dims(&d->src, n, h, w, c);
	d->dst[0].type = rnd_type(false);
	set_dims(&d->dst[0], n, ho, wo, cout);
	if (d->flags & F8NPU_FLAG_AUX) {
		d->aux.type = rnd_type(false);
		set_dims(&d->aux, n, ho, wo, cout);
		d->align_aux = (uint8_t)rnd(32);
	}
	if (d->flags & F8NPU_FLAG_DST1) {
		d->dst[1].type = rnd_type(false);
		set_dims(&d->dst[1], n, ho, wo, cout);
		d->out_shift[1] = (int8_t)rnd_range(-31, 31);
	}
	d->out_shift[0] = (int8_t)rnd_range(-31, 31);
	d->align_src = (uint8_t)rnd(32);

	/* Strides. */
	{
		struct f8npu_tensor_ref *ts[4] = { &d->src, &d->aux, &d->dst[0], &d->dst[1] };

		for (i = 0; i < 4; i++)
			if (ts[i]->n)
				set_strides(ts[i], i < 2, i == 0 && huge);
	}
	/* Every region big enough for any operand at any offset < 2^32. */
	{
		uint64_t e[6], need = 0;

		e[0] = f8npu_tensor_extent(&d->src);
		e[1] = d->aux.n ? f8npu_tensor_extent(&d->aux) : 0;
		e[2] = (uint64_t)cout * k;
		e[3] = (uint64_t)cout * 4;
		e[4] = f8npu_tensor_extent(&d->dst[0]);
		e[5] = d->dst[1].n ? f8npu_tensor_extent(&d->dst[1]) : 0;
		for (i = 0; i < 6; i++)
			if (e[i] > need)
				need = e[i];
		if (need < ((uint64_t)1 << 52))
			for (i = 0; i < (int)F8NPU_REGIONS; i++)
				if (tc->rt.size[i] < need + ((uint64_t)1 << 32))
					tc->rt.size[i] = need + ((uint64_t)1 << 32) + (rnd(1u << 20) << 2);
	}
	/* One region at the very top of the address space. */
	if (chance(20)) {
		i = (int)rnd(F8NPU_REGIONS);
		tc->rt.base[i] = (0 - tc->rt.size[i] - (rnd(64) << 2)) & ~(uint64_t)3;
	}

	/* Regions: a random distinct region per operand, sometimes inputs share one. */
	for (i = 0; i < (int)F8NPU_REGIONS; i++)
		perm[i] = i;
	for (i = F8NPU_REGIONS - 1; i > 0; i--) {
		int j = (int)rnd((uint64_t)i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	d->src.region = (uint8_t)perm[0];
	ext = f8npu_tensor_extent(&d->src);
	d->src.offset = place(tc, perm[0], ext);
	if (d->flags & F8NPU_FLAG_AUX) {
		d->aux.region = (uint8_t)(chance(25) ? perm[0] : perm[1]);
		d->aux.offset = place(tc, d->aux.region, f8npu_tensor_extent(&d->aux));
	}
	if (conv) {
		d->weights.region = (uint8_t)(chance(25) ? perm[0] : perm[2]);
		d->weights.offset = place(tc, d->weights.region, (uint64_t)cout * k);
		if (d->flags & F8NPU_FLAG_BIAS) {
			d->bias.region = (uint8_t)(chance(25) ? perm[2] : perm[3]);
			d->bias.offset = place(tc, d->bias.region, (uint64_t)cout * 4);
		}
	}
	d->dst[0].region = (uint8_t)perm[4];
	ext = f8npu_tensor_extent(&d->dst[0]);
	d->dst[0].offset = place(tc, perm[4], ext);
	if (d->flags & F8NPU_FLAG_DST1) {
		uint64_t e1 = f8npu_tensor_extent(&d->dst[1]), o1 = align_up4((uint64_t)d->dst[0].offset + ext);

		/* dst1 right after dst0 in the same region, or in its own region. */
		if (chance(30) && o1 + e1 <= tc->rt.size[perm[4]] && o1 <= 0xffffffffu) {
			d->dst[1].region = (uint8_t)perm[4];
			d->dst[1].offset = (uint32_t)o1;
		} else {
			d->dst[1].region = (uint8_t)perm[5];
			d->dst[1].offset = place(tc, perm[5], e1);
		}
	}
	/* The command buffer sometimes inside an input's region (allowed). */
	if (chance(10))
		tc->rt.cmd_base = tc->rt.base[d->src.region] + d->src.offset;
}

/* ---- mutations ---- */

/* Byte offset of a descriptor field: tensor ref t (0 src .. 3 dst1) field f. */
static unsigned tref_off(unsigned t)
{
	return 32 + 32 * t;
}

static struct f8npu_tensor_ref *tref(struct tcase *tc, unsigned t)
{
	return t == 0 ? &tc->d.src : t == 1 ? &tc->d.aux : &tc->d.dst[t - 2];
}

/* Used operands: 0 src, 1 aux, 2 weights, 3 bias, 4 dst0, 5 dst1. */
static bool opnd_used(const struct tcase *tc, int o)
{
	const struct f8npu_desc *d = &tc->d;
	bool compute = d->opcode >= F8NPU_OP_CONV2D && d->opcode <= F8NPU_OP_ADD;

	switch (o) {
	case 0:
	case 4:
		return compute;
	case 1:
		return compute && (d->flags & F8NPU_FLAG_AUX);
	case 2:
		return d->opcode == F8NPU_OP_CONV2D;
	case 3:
		return d->opcode == F8NPU_OP_CONV2D && (d->flags & F8NPU_FLAG_BIAS);
	default:
		return compute && (d->flags & F8NPU_FLAG_DST1);
	}
}

static uint8_t *opnd_region(struct tcase *tc, int o)
{
	switch (o) {
	case 0:
		return &tc->d.src.region;
	case 1:
		return &tc->d.aux.region;
	case 2:
		return &tc->d.weights.region;
	case 3:
		return &tc->d.bias.region;
	case 4:
		return &tc->d.dst[0].region;
	default:
		return &tc->d.dst[1].region;
	}
}

static uint32_t *opnd_offset(struct tcase *tc, int o)
{
	switch (o) {
	case 0:
		return &tc->d.src.offset;
	case 1:
		return &tc->d.aux.offset;
	case 2:
		return &tc->d.weights.offset;
	case 3:
		return &tc->d.bias.offset;
	case 4:
		return &tc->d.dst[0].offset;
	default:
		return &tc->d.dst[1].offset;
	}
}

/* Extent of an operand as the C code computes it (plan of the current descriptor). */
static uint64_t opnd_extent(struct tcase *tc, int o)
{
	uint64_t kk;

	switch (o) {
	case 0:
		return f8npu_tensor_extent(&tc->d.src);
	case 1:
		return f8npu_tensor_extent(&tc->d.aux);
	case 4:
		return f8npu_tensor_extent(&tc->d.dst[0]);
	case 5:
		return f8npu_tensor_extent(&tc->d.dst[1]);
	default:
		break;
	}
	kk = (uint64_t)tc->d.kernel_h * tc->d.kernel_w *
	     ((tc->d.flags & F8NPU_FLAG_DEPTHWISE) ? 1 : tc->d.src.c);
	return o == 2 ? (uint64_t)tc->d.dst[0].c * kk : (uint64_t)tc->d.dst[0].c * 4;
}

static int rnd_used_opnd(struct tcase *tc, bool outputs_only)
{
	int tries;

	for (tries = 0; tries < 20; tries++) {
		int o = outputs_only ? 4 + (int)rnd(2) : (int)rnd(6);

		if (opnd_used(tc, o))
			return o;
	}
	return outputs_only ? 4 : 0;
}

static void mutate(struct tcase *tc)
{
	struct f8npu_desc *d = &tc->d;
	struct f8npu_region_table *rt = &tc->rt;
	uint8_t *raw = desc_bytes(tc);
	unsigned kind = (unsigned)rnd(22);

	/* Raw-byte kinds mostly give BAD_FIELD: half of them become semantic ones. */
	if ((kind <= 3 || kind == 5 || kind == 6 || kind == 20) && chance(50))
		kind = 7 + (unsigned)rnd(15);

	switch (kind) {
	case 0: /* a random byte */
		raw[rnd(256)] = edge8();
		break;
	case 1: { /* a tensor field to a boundary value */
		unsigned t = (unsigned)rnd(4), base = tref_off(t);

		switch (rnd(8)) {
		case 0:
			if (chance(50))
				raw[base + 1] = (uint8_t)rnd(5); /* type: 3 and 4 are unknown */
			else
				raw[base + rnd(2)] = edge8(); /* region, type */
			break;
		case 1:
			raw[base + 2 + rnd(2)] = edge8(); /* reserved0 */
			break;
		case 2:
			put32(raw + base + 4, edge32()); /* offset */
			break;
		case 3:
		case 4:
			put16(raw + base + 8 + 2 * rnd(4), edge16()); /* n, h, w, c */
			break;
		case 5:
		case 6:
			put32(raw + base + 16 + 4 * rnd(3), edge32()); /* strides */
			break;
		default:
			raw[base + 28 + rnd(4)] = edge8(); /* reserved1 */
			break;
		}
		break;
	}
	case 2: /* window geometry, align, shifts */
		raw[4 + rnd(14)] = edge8();
		break;
	case 3: /* flags */
		d->flags ^= (uint8_t)(1u << rnd(chance(80) ? 5 : 8));
		break;
	case 4: /* opcode or CAP_OPS */
		if (chance(50))
			d->opcode = edge8();
		else
			tc->cap_ops &= ~(1u << rnd(8));
		break;
	case 5: /* weights / bias reference bytes */
		raw[160 + rnd(16)] = chance(50) ? edge8() : (uint8_t)rnd(17);
		break;
	case 6: /* reserved descriptor bytes */ {
		static const unsigned rsv[] = { 2, 3, 14, 15, 18, 24, 31, 176, 200, 255 };

		raw[rsv[rnd(sizeof(rsv) / sizeof(rsv[0]))]] = (uint8_t)rnd_range(1, 255);
		break;
	}
	case 7: { /* region index of a used operand */
		int o = rnd_used_opnd(tc, false);

		*opnd_region(tc, o) = chance(50) ? (uint8_t)rnd_range(16, 255) : (uint8_t)rnd(16);
		break;
	}
	case 8: { /* a region of size 0, or wrapping / ending exactly at 2^64 */
		int r = *opnd_region(tc, rnd_used_opnd(tc, false)) & 15;
		int64_t delta = rnd_range(-8, 8);

		switch (rnd(4)) {
		case 0:
			rt->size[r] = 0;
			break;
		case 1:
			rt->base[r] = (0 - rt->size[r] + (uint64_t)delta) & ~(uint64_t)3;
			break;
		case 2:
			rt->size[r] = 0 - rt->base[r] + (uint64_t)delta;
			break;
		default:
			rt->base[r] = chance(50) ? (uint64_t)1 << 63 : 0;
			rt->size[r] = chance(50) ? (uint64_t)1 << 63 : (uint64_t)rnd64();
			break;
		}
		break;
	}
	case 9: { /* region size at the footprint boundary */
		int o = rnd_used_opnd(tc, false);
		int r = *opnd_region(tc, o) & 15;

		rt->size[r] = (uint64_t)*opnd_offset(tc, o) + opnd_extent(tc, o) + (uint64_t)rnd_range(-2, 2);
		break;
	}
	case 10: { /* offset at the footprint boundary */
		int o = rnd_used_opnd(tc, false);
		int r = *opnd_region(tc, o) & 15;
		uint64_t e = opnd_extent(tc, o);

		if (rt->size[r] > ((uint64_t)1 << 33))
			rt->size[r] = ((uint64_t)1 << 31) + rnd(1u << 30);
		if (rt->size[r] >= e)
			*opnd_offset(tc, o) = (uint32_t)(rt->size[r] - e + (uint64_t)rnd_range(-4, 4));
		break;
	}
	case 11:
	case 12: { /* an output onto an input, or onto the other output, touching or overlapping */
		int out = rnd_used_opnd(tc, true), in = rnd_used_opnd(tc, false);
		uint64_t eo = opnd_extent(tc, out), ei = opnd_extent(tc, in);
		uint64_t off = *opnd_offset(tc, in);
		int64_t delta;

		if (in == out)
			break;
		switch (rnd(5)) {
		case 0:
			delta = -(int64_t)eo; /* ends where the input starts */
			break;
		case 1:
			delta = -(int64_t)eo + 1;
			break;
		case 2:
			delta = (int64_t)ei; /* starts where the input ends */
			break;
		case 3:
			delta = (int64_t)ei - 1;
			break;
		default:
			delta = rnd_range(-(int64_t)eo, (int64_t)ei);
			break;
		}
		if ((int64_t)off + delta < 0 || (int64_t)off + delta > 0xffffffffLL)
			break;
		if (chance(50)) {
			*opnd_region(tc, out) = *opnd_region(tc, in);
			*opnd_offset(tc, out) = (uint32_t)((int64_t)off + delta);
		} else {
			/* alias the regions instead: same physical memory, other index */
			int ro = *opnd_region(tc, out) & 15, ri = *opnd_region(tc, in) & 15;

			if (ro != ri)
				rt->base[ro] = rt->base[ri] + off + (uint64_t)delta - *opnd_offset(tc, out);
		}
		break;
	}
	case 13: { /* the command buffer onto an output, near it, or wrapping 2^64 */
		int out = rnd_used_opnd(tc, true), r = *opnd_region(tc, out) & 15;
		uint64_t s = rt->base[r] + *opnd_offset(tc, out), e = opnd_extent(tc, out);

		switch (rnd(5)) {
		case 0:
			rt->cmd_base = s + e - (uint64_t)rnd(2);
			rt->cmd_size = chance(30) ? 0 : edge32();
			break;
		case 1:
			rt->cmd_size = (uint32_t)rnd_range(0, 600);
			rt->cmd_base = s - rt->cmd_size + (uint64_t)rnd(2);
			break;
		case 2:
			rt->cmd_base = s + rnd(e + 1);
			rt->cmd_size = chance(30) ? 0 : (uint32_t)rnd(600);
			break;
		case 3: /* the output ending just below 2^64, the command buffer wrapping */
			if (e < ((uint64_t)1 << 52))
				rt->size[r] = *opnd_offset(tc, out) + e + (rnd(4) << 2);
			rt->base[r] = (0 - rt->size[r] - (rnd(4) << 2)) & ~(uint64_t)3;
			s = rt->base[r] + *opnd_offset(tc, out);
			rt->cmd_base = s + rnd(e + 2) - 1;
			rt->cmd_size = chance(50) ? 0xffffffffu : edge32();
			break;
		default:
			rt->cmd_base = (0 - (uint64_t)rnd(1000)) & ~(uint64_t)3;
			rt->cmd_size = edge32();
			break;
		}
		break;
	}
	case 14: { /* an output stride just below / at what non-overlap needs */
		unsigned ti = chance(70) ? 2 : 3;
		struct f8npu_tensor_ref *t = tref(tc, ti);
		uint64_t pixel = (uint64_t)t->c * type_size(t->type);
		uint64_t row = (uint64_t)(t->w ? t->w - 1 : 0) * t->stride_w + pixel;
		uint64_t image = (uint64_t)(t->h ? t->h - 1 : 0) * t->stride_h + row;
		int64_t delta = chance(60) ? -1 : chance(50) ? 0 : -4;

		switch (rnd(3)) {
		case 0:
			t->stride_w = (uint32_t)(pixel + (uint64_t)delta);
			break;
		case 1:
			t->stride_h = (uint32_t)(row + (uint64_t)delta);
			break;
		default:
			t->stride_n = (uint32_t)(image + (uint64_t)delta);
			break;
		}
		if (chance(30)) /* and a dimension of 1 or 2 */
			put16(raw + tref_off(ti) + 8 + 2 * rnd(3), (uint16_t)rnd_range(1, 2));
		break;
	}
	case 15: { /* alignment */
		unsigned ti = (unsigned)rnd(4);
		struct f8npu_tensor_ref *t = tref(tc, ti);
		uint8_t *sp = raw + tref_off(ti) + 16 + 4 * rnd(3);

		switch (rnd(4)) {
		case 0:
			t->offset += (uint32_t)rnd_range(1, 3);
			break;
		case 1:
			t->type = F8NPU_TYPE_S32;
			break;
		case 2:
			put32(sp, get32(sp) + 2);
			break;
		default:
			d->bias.offset += (uint32_t)rnd_range(1, 3);
			break;
		}
		break;
	}
	case 16: { /* a dimension off by one */
		uint8_t *dp = raw + tref_off((unsigned)rnd(4)) + 8 + 2 * rnd(4);

		put16(dp, (uint16_t)(get16(dp) + (chance(50) ? 1 : 0xffff)));
		break;
	}
	case 17: /* kernel / stride / pad; a pad equal to its kernel */
		if (chance(30)) {
			unsigned pi = (unsigned)rnd(4);

			raw[8 + pi] = (uint8_t)(raw[4 + pi / 2] - (chance(50) ? 1 : 0));
		} else {
			raw[4 + rnd(8)] += (uint8_t)(chance(50) ? 1 : -1);
		}
		break;
	case 18: /* shifts and align at their limits */
		switch (rnd(4)) {
		case 0:
			d->out_shift[0] = (int8_t)(chance(50) ? rnd_range(-33, -30) : rnd_range(30, 33));
			break;
		case 1:
			d->out_shift[1] = (int8_t)(chance(50) ? rnd_range(-33, -30) : rnd_range(30, 33));
			break;
		case 2:
			d->align_src = (uint8_t)rnd_range(30, 33);
			break;
		default:
			d->align_aux = (uint8_t)(chance(80) ? rnd_range(30, 33) : 255);
			break;
		}
		break;
	case 19: /* END with one stray byte */
		memset(raw, 0, 256);
		d->opcode = F8NPU_OP_END;
		if (chance(80))
			raw[rnd_range(1, 255)] = (uint8_t)rnd_range(1, 255);
		break;
	case 20: /* unused reference made non-zero */
		raw[(chance(50) ? 64 : 128) + rnd(32)] = (uint8_t)rnd_range(1, 255);
		break;
	default: { /* K at or just over the limit: cin = 65536 / window (+ 1) */
		uint32_t win = (uint32_t)d->kernel_h * d->kernel_w;

		if (d->opcode == F8NPU_OP_CONV2D && win)
			d->src.c = (uint16_t)(65536 / win + rnd(2));
		break;
	}
	}
}

/* ---- the DUT ---- */

static VerilatedContext *ctx;
static Vf8npu_validate *top;
static uint64_t cycle;

static void tick(void)
{
	top->clk_i = 0;
	top->eval();
	top->clk_i = 1;
	top->eval();
	cycle++;
}

static void drive(const struct tcase *tc)
{
	const uint8_t *raw = (const uint8_t *)&tc->d;
	int i;

	for (i = 0; i < 64; i++)
		top->desc_i[i] = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
				 (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
	for (i = 0; i < 16; i++) {
		top->region_base_i[2 * i] = (uint32_t)tc->rt.base[i];
		top->region_base_i[2 * i + 1] = (uint32_t)(tc->rt.base[i] >> 32);
		top->region_size_i[2 * i] = (uint32_t)tc->rt.size[i];
		top->region_size_i[2 * i + 1] = (uint32_t)(tc->rt.size[i] >> 32);
	}
	top->cmd_base_i = tc->rt.cmd_base;
	top->cmd_size_i = tc->rt.cmd_size;
	top->cap_ops_i = tc->cap_ops;
}

static void scramble_inputs(void)
{
	int i;

	for (i = 0; i < 64; i++)
		top->desc_i[i] = (uint32_t)rnd64();
	for (i = 0; i < 32; i++) {
		top->region_base_i[i] = (uint32_t)rnd64();
		top->region_size_i[i] = (uint32_t)rnd64();
	}
	top->cmd_base_i = rnd64();
	top->cmd_size_i = (uint32_t)rnd64();
	top->cap_ops_i = (uint32_t)rnd64();
}

/* Valid cases whose counters wrapped around 2^64 (isa.md §7 counts are modulo 2^64). */
static unsigned long wrapped;

struct result {
	uint32_t err;
	uint32_t out_h, out_w, k;
	uint64_t macs, rd, wr;
};

static uint64_t tensor_bytes(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)t->n * t->h * t->w * t->c * type_size(t->type);
}

/* The oracle: error code from the C validation, counters from its plan (isa.md §7). */
static void expect(const struct tcase *tc, struct result *x)
{
	const struct f8npu_desc *d = &tc->d;
	struct f8npu_plan p;

	memset(x, 0, sizeof(*x));
	x->err = f8npu_validate_desc(d, &tc->rt, tc->cap_ops, &p);
	if (x->err || d->opcode == F8NPU_OP_END)
		return;
	x->out_h = p.out_h;
	x->out_w = p.out_w;
	x->k = p.k;
	if (d->opcode == F8NPU_OP_CONV2D) {
		x->macs = (uint64_t)d->dst[0].n * p.out_h * p.out_w * p.out_c * p.k;
		if (d->flags & F8NPU_FLAG_DEPTHWISE)
			x->rd = tensor_bytes(&d->src);
		else
			x->rd = tensor_bytes(&d->src) * ((p.out_c + TB_COLS - 1) / TB_COLS);
		x->rd += p.span[F8NPU_OPND_WEIGHTS].extent;
		if (p.span[F8NPU_OPND_BIAS].used)
			x->rd += p.span[F8NPU_OPND_BIAS].extent;
	} else {
		x->rd = tensor_bytes(&d->src);
	}
	if (d->flags & F8NPU_FLAG_AUX)
		x->rd += tensor_bytes(&d->aux);
	x->wr = tensor_bytes(&d->dst[0]) + ((d->flags & F8NPU_FLAG_DST1) ? tensor_bytes(&d->dst[1]) : 0);

	/* The same sums without wrap-around, to count the cases that exercise it. */
	{
		const struct f8npu_tensor_ref *s = &d->src;
		unsigned __int128 src = (unsigned __int128)s->n * s->h * s->w * s->c * type_size(s->type), rd;

		rd = src;
		if (d->opcode == F8NPU_OP_CONV2D && !(d->flags & F8NPU_FLAG_DEPTHWISE))
			rd = src * ((p.out_c + TB_COLS - 1) / TB_COLS);
		if (p.span[F8NPU_OPND_WEIGHTS].used)
			rd += p.span[F8NPU_OPND_WEIGHTS].extent;
		if (p.span[F8NPU_OPND_BIAS].used)
			rd += p.span[F8NPU_OPND_BIAS].extent;
		if (d->flags & F8NPU_FLAG_AUX)
			rd += tensor_bytes(&d->aux);
		if (rd >> 64)
			wrapped++;
	}
}

static void read_dut(struct result *r)
{
	r->err = top->err_o;
	r->out_h = top->out_h_o;
	r->out_w = top->out_w_o;
	r->k = top->k_o;
	r->macs = top->macs_o;
	r->rd = top->rd_bytes_o;
	r->wr = top->wr_bytes_o;
}

static bool same(const struct result *a, const struct result *b)
{
	return a->err == b->err && a->out_h == b->out_h && a->out_w == b->out_w && a->k == b->k &&
	       a->macs == b->macs && a->rd == b->rd && a->wr == b->wr;
}

static void print_result(const char *who, const struct result *r)
{
	printf("  %s: err %u out_h %u out_w %u k %u macs %llu rd %llu wr %llu\n", who, r->err, r->out_h,
	       r->out_w, r->k, (unsigned long long)r->macs, (unsigned long long)r->rd, (unsigned long long)r->wr);
}

static void print_case(const struct tcase *tc)
{
	const uint8_t *raw = (const uint8_t *)&tc->d;
	int i;

	printf("  descriptor:");
	for (i = 0; i < 256; i++)
		printf("%s%02x", i % 32 ? " " : "\n    ", raw[i]);
	printf("\n  regions (base size):\n");
	for (i = 0; i < (int)F8NPU_REGIONS; i++)
		printf("    %2d %016llx %016llx\n", i, (unsigned long long)tc->rt.base[i],
		       (unsigned long long)tc->rt.size[i]);
	printf("  cmd_base %016llx cmd_size %08x cap_ops %08x\n", (unsigned long long)tc->rt.cmd_base,
	       tc->rt.cmd_size, tc->cap_ops);
}

/* Run one case through the DUT; returns the cycles from start to done, or 0 on a timeout. */
static unsigned run_dut(const struct tcase *tc, struct result *r)
{
	unsigned n;

	drive(tc);
	top->start_i = 1;
	tick();
	top->start_i = 0;
	for (n = 1; n <= MAX_CYCLES; n++) {
		if (top->done_o) {
			read_dut(r);
			return n;
		}
		tick();
	}
	return 0;
}

/* ---- directed cases: realistic layers, for the cycle counts ---- */

struct profile {
	const char *name;
	uint8_t op, flags, k, s, pad;
	uint16_t n, h, w, cin, cout;
	uint8_t dst_type;
	bool bcast; /* src strides 0 */
};

static const struct profile profiles[] = {
	{ "conv 3x3 56x56x64->64 +bias", F8NPU_OP_CONV2D, F8NPU_FLAG_BIAS, 3, 1, 1, 1, 56, 56, 64, 64, F8NPU_TYPE_S8, false },
	{ "conv 1x1 28x28x128->512 +aux +dst1", F8NPU_OP_CONV2D, F8NPU_FLAG_BIAS | F8NPU_FLAG_AUX | F8NPU_FLAG_DST1,
	  1, 1, 0, 1, 28, 28, 128, 512, F8NPU_TYPE_S32, false },
	{ "conv 7x7/2 224x224x3->64", F8NPU_OP_CONV2D, F8NPU_FLAG_BIAS, 7, 2, 3, 1, 224, 224, 3, 64, F8NPU_TYPE_U8, false },
	{ "depthwise 3x3/2 112x112x32", F8NPU_OP_CONV2D, F8NPU_FLAG_DEPTHWISE | F8NPU_FLAG_BIAS, 3, 2, 1, 1, 112, 112, 32, 32,
	  F8NPU_TYPE_U8, false },
	{ "fc 2048->1000 (conv 1x1)", F8NPU_OP_CONV2D, F8NPU_FLAG_BIAS, 1, 1, 0, 1, 1, 1, 2048, 1000, F8NPU_TYPE_S32, false },
	{ "maxpool 3x3/2 112x112x64", F8NPU_OP_POOL_MAX, 0, 3, 2, 1, 1, 112, 112, 64, 64, F8NPU_TYPE_U8, false },
	{ "add 56x56x256 +aux", F8NPU_OP_ADD, F8NPU_FLAG_AUX, 0, 0, 0, 1, 56, 56, 256, 256, F8NPU_TYPE_S8, false },
	{ "big: conv 15x15/255 65535^3x291 bcast ->16256 +aux +dst1 +bias", F8NPU_OP_CONV2D,
	  F8NPU_FLAG_BIAS | F8NPU_FLAG_AUX | F8NPU_FLAG_DST1, 15, 255, 0, 65535, 65535, 65535, 291, 16256, F8NPU_TYPE_U8, true },
};

static void build_profile(const struct profile *pf, struct tcase *tc)
{
	struct f8npu_desc *d = &tc->d;
	bool conv = pf->op == F8NPU_OP_CONV2D, window = pf->op != F8NPU_OP_ADD;
	uint16_t ho = pf->h, wo = pf->w;
	int r;

	memset(tc, 0, sizeof(*tc));
	tc->cap_ops = 0x3e;
	tc->rt.count = F8NPU_REGIONS;
	for (r = 0; r < (int)F8NPU_REGIONS; r++) {
		tc->rt.base[r] = (uint64_t)(r + 1) << 56;
		tc->rt.size[r] = (uint64_t)1 << 52;
	}
	tc->rt.cmd_base = (uint64_t)20 << 56;
	tc->rt.cmd_size = 4096;
	d->opcode = pf->op;
	d->flags = pf->flags;
	if (window) {
		d->kernel_h = d->kernel_w = pf->k;
		d->stride_h = d->stride_w = pf->s;
		d->pad_top = d->pad_bottom = d->pad_left = d->pad_right = pf->pad;
		ho = (uint16_t)window_len(pf->h, pf->k, pf->s, pf->pad, pf->pad);
		wo = (uint16_t)window_len(pf->w, pf->k, pf->s, pf->pad, pf->pad);
	}
	d->src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, pf->n, pf->h, pf->w, pf->cin);
	if (pf->bcast)
		d->src.stride_n = d->src.stride_h = d->src.stride_w = 0;
	d->dst[0] = f8npu_tensor_dense(4, pf->dst_type, 0, pf->n, ho, wo, pf->cout);
	if (pf->flags & F8NPU_FLAG_AUX)
		d->aux = f8npu_tensor_dense(1, F8NPU_TYPE_S32, 0, pf->n, ho, wo, pf->cout);
	if (pf->flags & F8NPU_FLAG_DST1)
		d->dst[1] = f8npu_tensor_dense(5, F8NPU_TYPE_U8, 0, pf->n, ho, wo, pf->cout);
	if (conv) {
		d->weights.region = 2;
		if (pf->flags & F8NPU_FLAG_BIAS)
			d->bias.region = 3;
	}
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	unsigned long cases = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000, i, mismatches = 0;
	unsigned long hist[16] = { 0 };
	unsigned lat_min[16], lat_max[16];
	unsigned long long lat_sum[16] = { 0 };
	int e;

	ctx = new VerilatedContext;
	top = new Vf8npu_validate(ctx);
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
	for (e = 0; e < 16; e++) {
		lat_min[e] = ~0u;
		lat_max[e] = 0;
	}

	top->rst_ni = 0;
	top->start_i = 0;
	tick();
	tick();
	top->rst_ni = 1;
	tick();

	for (i = 0; i < cases; i++) {
		struct tcase tc;
		struct result want, got, held;
		unsigned m, nmut, lat;
		bool hold = chance(70);

		gen_valid(&tc);
		nmut = (unsigned)(chance(35) ? 0 : chance(55) ? 1 : chance(65) ? 2 : 3);
		for (m = 0; m < nmut; m++)
			mutate(&tc);
		expect(&tc, &want);
		memset(&got, 0, sizeof(got));
		lat = run_dut(&tc, &got);
		hist[want.err & 15]++;
		if (lat) {
			if (lat < lat_min[want.err & 15])
				lat_min[want.err & 15] = lat;
			if (lat > lat_max[want.err & 15])
				lat_max[want.err & 15] = lat;
			lat_sum[want.err & 15] += lat;
		}
		held = got;
		if (lat && hold) {
			/* Outputs hold after done while the inputs change; done_o is one cycle. */
			scramble_inputs();
			tick();
			read_dut(&held);
		}
		if (!lat || !same(&want, &got) || !same(&got, &held) || (hold && top->done_o)) {
			if (mismatches < 5) {
				printf("MISMATCH case %lu (seed %llu, %u mutations)%s\n", i, (unsigned long long)seed,
				       nmut, lat ? "" : ": no done_o");
				print_result("C  ", &want);
				print_result("RTL", &got);
				if (lat)
					print_result("RTL after done", &held);
				print_case(&tc);
			}
			mismatches++;
		}
		/* Without the hold check the next start_i comes in the cycle of done_o. */
		if (hold)
			for (m = (unsigned)rnd(3); m > 0; m--)
				tick();
	}

	printf("error code   cases   cycles min/avg/max\n");
	for (e = 0; e < 16; e++) {
		if (!hist[e])
			continue;
		printf("%10d %7lu   %u/%.1f/%u\n", e, hist[e], lat_min[e], (double)lat_sum[e] / (double)hist[e],
		       lat_max[e]);
	}
	printf("directed (cycles from start_i to done_o):\n");
	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		struct tcase tc;
		struct result want, got;
		unsigned lat;

		build_profile(&profiles[i], &tc);
		expect(&tc, &want);
		lat = run_dut(&tc, &got);
		printf("  %-64s err %2u  %3u cycles\n", profiles[i].name, want.err, lat);
		if (want.err || !lat || !same(&want, &got)) {
			printf("MISMATCH directed case %lu\n", i);
			print_result("C  ", &want);
			print_result("RTL", &got);
			print_case(&tc);
			mismatches++;
		}
		tick();
	}
	printf("valid cases with 64-bit counter wrap-around: %lu\n", wrapped);
	printf("validate: %lu cases, %lu mismatches (seed %llu, Cols %d, %llu cycles)\n", cases, mismatches,
	       (unsigned long long)seed, TB_COLS, (unsigned long long)cycle);
	top->final();
	delete top;
	delete ctx;
	return mismatches ? 1 : 0;
}
