// SPDX-License-Identifier: MIT
/*
 * Every error code of docs/regs.md, with its ERR_INDEX, and the validation
 * order of docs/isa.md §5 when two errors apply.
 *
 * Each fault runs twice: as descriptor 0, and as descriptor 1 behind a good
 * ADD. Either way the job must stop with STATUS.ERROR and IRQ ERROR only,
 * every byte of host memory (regions, spare buffers, the stream) must be as
 * before except the ADD's output, and the counters must show the fetches
 * and the completed ADD and nothing of the faulting descriptor.
 *
 * The base descriptors are valid with every region exactly as large as its
 * footprint, so "one byte more" mutations sit exactly on the limit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "f8-test.h"
#include "f8npu_build.h"

/* Region roles; 14 and 15 belong to the prefix ADD and are never mutated. */
enum { R_SRC, R_AUX, R_W, R_BIAS, R_DST0, R_DST1, R_SPARE, R_PSRC = 14, R_PDST = 15 };

enum base {
	B_CONV,	 /* CONV2D 3x3 pad 1, BIAS AUX RELU DST1: every reference used */
	B_DW,	 /* depthwise 3x2 stride 2x1, asymmetric pad, BIAS DST1, no AUX */
	B_MAX,	 /* POOL_MAX s32 [2][4][4][6] 2x2/2, AUX RELU */
	B_SUM,	 /* POOL_SUM global 7x7, DST1 */
	B_ADD,	 /* ADD [2][3][4][5] u8 + s8 aux, DST1 */
	B_PLAIN, /* ADD s32 -> u8, no flags */
	B_BIGK,	 /* CONV2D K = 2 x 1 x 32768 = 65536 exactly, regions sized for 32769 */
	B_END,	 /* END alone */
	B_COUNT
};

static const char *const base_names[B_COUNT] = { "conv", "depthwise", "maxpool", "sumpool",
						 "add",	 "add-plain", "bigk",	   "end" };

/* A region of exactly @size random bytes. */
static void rnd_region(struct f8t_rng *r, unsigned int reg, uint64_t size)
{
	f8t_fill(r, f8t_region(reg, size), size);
}

static void set_window(struct f8npu_desc *d, unsigned int kh, unsigned int kw, unsigned int sh,
		       unsigned int sw, unsigned int pt, unsigned int pb, unsigned int pl,
		       unsigned int pr)
{
	d->kernel_h = (uint8_t)kh;
	d->kernel_w = (uint8_t)kw;
	d->stride_h = (uint8_t)sh;
	d->stride_w = (uint8_t)sw;
	d->pad_top = (uint8_t)pt;
	d->pad_bottom = (uint8_t)pb;
	d->pad_left = (uint8_t)pl;
	d->pad_right = (uint8_t)pr;
}

/* Allocate and fill the base's regions and build its (valid) descriptor. */
static struct f8npu_desc make_base(enum base b, struct f8t_rng *r)
{
	struct f8npu_desc d;

	memset(&d, 0, sizeof(d));
	switch (b) {
	case B_CONV:
		d.opcode = F8NPU_OP_CONV2D;
		d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_AUX | F8NPU_FLAG_RELU | F8NPU_FLAG_DST1;
		set_window(&d, 3, 3, 1, 1, 1, 1, 1, 1);
		d.align_src = 1;
		d.align_aux = 2;
		d.out_shift[0] = 3;
		d.out_shift[1] = 9;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_U8, 0, 1, 5, 5, 3);
		d.aux = f8t_dense(R_AUX, F8NPU_TYPE_S32, 0, 1, 5, 5, 4);
		d.weights.region = R_W;
		d.bias.region = R_BIAS;
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_S32, 0, 1, 5, 5, 4);
		d.dst[1] = f8t_dense(R_DST1, F8NPU_TYPE_U8, 0, 1, 5, 5, 4);
		rnd_region(r, R_SRC, 75);
		rnd_region(r, R_AUX, 400);
		rnd_region(r, R_W, 4 * 9 * 3);
		rnd_region(r, R_BIAS, 16);
		rnd_region(r, R_DST0, 400);
		rnd_region(r, R_DST1, 100);
		break;
	case B_DW:
		d.opcode = F8NPU_OP_CONV2D;
		d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_DEPTHWISE | F8NPU_FLAG_DST1;
		set_window(&d, 3, 2, 2, 1, 1, 0, 1, 0); /* Ho = 3, Wo = 5 */
		d.out_shift[0] = 5;
		d.out_shift[1] = -1;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_S8, 0, 1, 6, 5, 7);
		d.weights.region = R_W;
		d.bias.region = R_BIAS;
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_U8, 0, 1, 3, 5, 7);
		d.dst[1] = f8t_dense(R_DST1, F8NPU_TYPE_S32, 0, 1, 3, 5, 7);
		rnd_region(r, R_SRC, 210);
		rnd_region(r, R_W, 7 * 3 * 2);
		rnd_region(r, R_BIAS, 28);
		rnd_region(r, R_DST0, 105);
		rnd_region(r, R_DST1, 420);
		break;
	case B_MAX:
		d.opcode = F8NPU_OP_POOL_MAX;
		d.flags = F8NPU_FLAG_AUX | F8NPU_FLAG_RELU;
		set_window(&d, 2, 2, 2, 2, 0, 0, 0, 0);
		d.out_shift[0] = 20;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_S32, 0, 2, 4, 4, 6);
		d.aux = f8t_dense(R_AUX, F8NPU_TYPE_U8, 0, 2, 2, 2, 6);
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_S8, 0, 2, 2, 2, 6);
		rnd_region(r, R_SRC, 768);
		rnd_region(r, R_AUX, 48);
		rnd_region(r, R_DST0, 48);
		break;
	case B_SUM:
		d.opcode = F8NPU_OP_POOL_SUM;
		d.flags = F8NPU_FLAG_DST1;
		set_window(&d, 7, 7, 1, 1, 0, 0, 0, 0);
		d.out_shift[0] = 6;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_U8, 0, 1, 7, 7, 5);
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_U8, 0, 1, 1, 1, 5);
		d.dst[1] = f8t_dense(R_DST1, F8NPU_TYPE_S32, 0, 1, 1, 1, 5);
		rnd_region(r, R_SRC, 245);
		rnd_region(r, R_DST0, 5);
		rnd_region(r, R_DST1, 20);
		break;
	case B_ADD:
		d.opcode = F8NPU_OP_ADD;
		d.flags = F8NPU_FLAG_AUX | F8NPU_FLAG_DST1;
		d.align_src = 2;
		d.out_shift[1] = 2;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_U8, 0, 2, 3, 4, 5);
		d.aux = f8t_dense(R_AUX, F8NPU_TYPE_S8, 0, 2, 3, 4, 5);
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_S32, 0, 2, 3, 4, 5);
		d.dst[1] = f8t_dense(R_DST1, F8NPU_TYPE_U8, 0, 2, 3, 4, 5);
		rnd_region(r, R_SRC, 120);
		rnd_region(r, R_AUX, 120);
		rnd_region(r, R_DST0, 480);
		rnd_region(r, R_DST1, 120);
		break;
	case B_PLAIN:
		d.opcode = F8NPU_OP_ADD;
		d.out_shift[0] = 8;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_S32, 0, 1, 2, 2, 3);
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_U8, 0, 1, 2, 2, 3);
		rnd_region(r, R_SRC, 48);
		rnd_region(r, R_DST0, 12);
		break;
	case B_BIGK:
		d.opcode = F8NPU_OP_CONV2D;
		set_window(&d, 2, 1, 1, 1, 0, 0, 0, 0);
		d.out_shift[0] = 12;
		d.src = f8t_dense(R_SRC, F8NPU_TYPE_S8, 0, 1, 2, 1, 32768);
		d.weights.region = R_W;
		d.dst[0] = f8t_dense(R_DST0, F8NPU_TYPE_S8, 0, 1, 1, 1, 1);
		rnd_region(r, R_SRC, 2 * 32769);
		rnd_region(r, R_W, 2 * 32769);
		rnd_region(r, R_DST0, 1);
		break;
	default:
		d.opcode = F8NPU_OP_END;
		break;
	}
	/* A spare buffer nobody references: it must not change either. */
	rnd_region(r, R_SPARE, 64);
	return d;
}

/* The good ADD in front of the faulting descriptor: s8 -> s32, x 8. */
static struct f8npu_desc make_prefix(struct f8t_rng *r)
{
	struct f8npu_desc p;

	memset(&p, 0, sizeof(p));
	p.opcode = F8NPU_OP_ADD;
	p.align_src = 2;
	p.out_shift[0] = -1;
	p.src = f8t_dense(R_PSRC, F8NPU_TYPE_S8, 0, 1, 3, 3, 5);
	p.dst[0] = f8t_dense(R_PDST, F8NPU_TYPE_S32, 0, 1, 3, 3, 5);
	rnd_region(r, R_PSRC, 45);
	rnd_region(r, R_PDST, 180);
	return p;
}

static struct f8npu_desc end_desc(void)
{
	struct f8npu_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = F8NPU_OP_END;
	return d;
}

typedef void (*mutator)(struct f8npu_desc *d);

/*
 * Build @base, mutate it (@mut, then byte @poke = @val if @poke >= 0), run
 * it alone and behind the prefix, and check the fault (see the top).
 */
static void expect_fault(enum base base, mutator mut, int poke, uint8_t val, uint32_t err,
			 const char *name)
{
	for (unsigned int pre = 0; pre < 2; pre++) {
		struct f8npu_desc s[3], d, p;
		struct f8t_rng r;
		struct f8t_snap snap;
		struct f8t_mem m;
		struct f8t_job j;
		struct f8t_cost want = { 0 };
		char what[200];
		unsigned int n = 0;

		snprintf(what, sizeof(what), "%s on %s, descriptor %u (seed %#" PRIx64 ")", name,
			 base_names[base], pre, f8t_seed);
		f8t_reset(NULL);
		f8t_rng_init(&r, name, (int)(base * 1000 + poke));
		p = make_prefix(&r);
		d = make_base(base, &r);
		if (mut)
			mut(&d);
		if (poke >= 0)
			((uint8_t *)&d)[poke] = val;
		if (pre)
			s[n++] = p;
		s[n++] = d;
		s[n++] = end_desc();
		f8t_stream(s, n);
		f8t_snap_take(&snap);
		f8t_snap_mem(&snap, &m);
		if (pre)
			f8t_ref_exec(&p, &m);

		f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, n, &j);
		ck_assert_msg(j.status == F8NPU_STATUS_ERROR && j.err == err && j.err_index == pre,
			      "%s: STATUS %#x ERR_CODE %u (%s) ERR_INDEX %u, want ERROR %u (%s) at %u",
			      what, j.status, j.err, f8npu_err_name(j.err), j.err_index, err,
			      f8npu_err_name(err), pre);
		ck_assert_msg(j.irq_status == F8NPU_IRQ_ERROR && j.irq,
			      "%s: IRQ_STATUS %#x, line %d: want ERROR only", what, j.irq_status,
			      j.irq);
		f8t_snap_check(&snap, what);

		/* Fetches count, the faulting descriptor's data does not. */
		f8t_cost_header(&f8t->cfg, &want);
		if (pre)
			f8t_cost_desc(&p, true, &f8t->cfg, &want);
		f8t_cost_desc(&d, false, &f8t->cfg, &want);
		f8t_check_perf(&want, what);
	}
}

/* Build @base (after @mut), run it with END, require DONE and the reference result. */
static void expect_pass(enum base base, mutator mut, const char *name)
{
	struct f8npu_desc s[2];
	struct f8t_rng r;
	struct f8t_snap snap;
	struct f8t_mem m;
	struct f8t_job j;
	struct f8t_cost want = { 0 };
	char what[160];

	snprintf(what, sizeof(what), "%s on %s (seed %#" PRIx64 ")", name, base_names[base],
		 f8t_seed);
	f8t_reset(NULL);
	f8t_rng_init(&r, name, (int)base);
	make_prefix(&r); /* same layout as the fault runs */
	s[0] = make_base(base, &r);
	if (mut)
		mut(&s[0]);
	s[1] = end_desc();
	f8t_stream(s, 2);
	f8t_snap_take(&snap);
	f8t_snap_mem(&snap, &m);
	f8t_ref_exec(&s[0], &m);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 2, &j);
	ck_assert_msg(j.status == F8NPU_STATUS_DONE && j.err == 0,
		      "%s: STATUS %#x ERR_CODE %u (%s) ERR_INDEX %u, want DONE", what, j.status,
		      j.err, f8npu_err_name(j.err), j.err_index);
	ck_assert_msg(j.irq_status == F8NPU_IRQ_DONE, "%s: IRQ_STATUS %#x", what, j.irq_status);
	f8t_snap_check(&snap, what);
	f8t_cost_header(&f8t->cfg, &want);
	f8t_cost_desc(&s[0], true, &f8t->cfg, &want);
	f8t_cost_desc(&s[1], true, &f8t->cfg, &want);
	f8t_check_perf(&want, what);
}

/* ---- mutations ---- */

#define MUT(fn, body)                                 \
	static void fn(struct f8npu_desc *d)          \
	{                                             \
		(void)d;                              \
		body;                                 \
	}

/* Region @reg one byte smaller: the footprint ends one byte past it. */
static void shrink(unsigned int reg)
{
	f8t_region_set(reg, f8t->reg[reg].addr, f8t->reg[reg].size - 1);
}

/* Region @reg moved onto the memory of region @other (same size as before). */
static void alias(unsigned int reg, unsigned int other, uint64_t delta)
{
	f8t_region_set(reg, f8t->reg[other].addr + delta, f8t->reg[reg].size);
}

/* Region @reg at an address no host buffer backs. */
static void unback(unsigned int reg)
{
	f8t_region_set(reg, f8t_unbacked_addr(), f8t->reg[reg].size);
}

/* A fresh, larger buffer for @reg so that an offset change stays inside it. */
static void grow(unsigned int reg, uint64_t extra)
{
	uint64_t size = f8t->reg[reg].size + extra;

	memset(f8t_region(reg, size), 0x5a, size);
}

/* BAD_OPCODE */
MUT(op_0, d->opcode = 0)
MUT(op_6, d->opcode = 6)
MUT(op_255, d->opcode = 255)
MUT(op_0x82, d->opcode = 0x82)
/* BAD_FIELD */
MUT(flag_bit5, d->flags |= 0x20)
MUT(flag_bit6, d->flags |= 0x40)
MUT(flag_bit7, d->flags |= 0x80)
MUT(flag_bias, d->flags |= F8NPU_FLAG_BIAS)
MUT(flag_dw, d->flags |= F8NPU_FLAG_DEPTHWISE)
MUT(flag_relu, d->flags |= F8NPU_FLAG_RELU)
MUT(src_s32, d->src.type = F8NPU_TYPE_S32; d->src.stride_w *= 4; d->src.stride_h *= 4;
    d->src.stride_n *= 4)
MUT(src_type3, d->src.type = 3)
MUT(aux_type3, d->aux.type = 3)
MUT(dst0_type3, d->dst[0].type = 3)
MUT(dst1_type255, d->dst[1].type = 255)
MUT(aux_no_flag, d->flags &= (uint8_t)~F8NPU_FLAG_AUX; d->align_aux = 0)
MUT(dst1_no_flag, d->flags &= (uint8_t)~F8NPU_FLAG_DST1; d->out_shift[1] = 0)
MUT(bias_no_flag, d->flags &= (uint8_t)~F8NPU_FLAG_BIAS)
MUT(bias_ref_offset_only, d->flags &= (uint8_t)~F8NPU_FLAG_BIAS; d->bias.region = 0;
    d->bias.offset = 4)
/* BAD_SHAPE */
MUT(src_n0, d->src.n = 0)
MUT(src_h0, d->src.h = 0)
MUT(src_w0, d->src.w = 0)
MUT(src_c0, d->src.c = 0)
MUT(aux_h0, d->aux.h = 0)
MUT(dst0_w0, d->dst[0].w = 0)
MUT(dst0_c0, d->dst[0].c = 0)
MUT(dst1_n0, d->dst[1].n = 0)
MUT(kh0, d->kernel_h = 0)
MUT(kw0, d->kernel_w = 0)
MUT(sh0, d->stride_h = 0)
MUT(sw0, d->stride_w = 0)
MUT(pad_top_eq_k, d->pad_top = d->kernel_h)
MUT(pad_bottom_eq_k, d->pad_bottom = d->kernel_h)
MUT(pad_left_gt_k, d->pad_left = (uint8_t)(d->kernel_w + 1))
MUT(pad_right_eq_k, d->pad_right = d->kernel_w)
MUT(window_8_on_7, d->kernel_h = 8) /* 5 + 1 + 1 < 8, pads still < kernel */
MUT(window_w_past_input, d->kernel_w = 8)
MUT(dst0_h_wrong, d->dst[0].h = 4)
MUT(dst0_w_wrong, d->dst[0].w = 6; d->dst[0].stride_h = 6 * 16; d->dst[0].stride_n = 5 * 6 * 16)
MUT(dst0_n_wrong, d->dst[0].n = 2)
MUT(dst1_c_wrong, d->dst[1].c = 3)
MUT(aux_w_wrong, d->aux.w = 4)
MUT(aux_n_wrong, d->aux.n = 1)
MUT(dst0_c_minus1, d->dst[0].c = (uint16_t)(d->dst[0].c - 1))
MUT(add_src_h_wrong, d->src.h = 2)
/* LIMIT */
MUT(bigk_65537, d->src.c = 32769) /* K = 2 * 32769 = 65538: 65537 is prime */
MUT(shift0_32, d->out_shift[0] = 32)
MUT(shift0_m32, d->out_shift[0] = -32)
MUT(shift0_127, d->out_shift[0] = 127)
MUT(shift0_m128, d->out_shift[0] = -128)
MUT(shift1_32, d->out_shift[1] = 32)
MUT(shift1_m32, d->out_shift[1] = -32)
MUT(align_src_32, d->align_src = 32)
MUT(align_aux_32, d->align_aux = 32)
MUT(align_src_255, d->align_src = 255)
/* BAD_REGION */
MUT(src_r16, d->src.region = 16)
MUT(src_r255, d->src.region = 255)
MUT(aux_r16, d->aux.region = 16)
MUT(w_r16, d->weights.region = 16)
MUT(bias_r16, d->bias.region = 16)
MUT(dst0_r16, d->dst[0].region = 16)
MUT(dst1_r16, d->dst[1].region = 16)
MUT(src_disabled, f8t_region_set(R_SRC, f8t->reg[R_SRC].addr, 0))
MUT(bias_disabled, f8t_region_set(R_BIAS, f8t->reg[R_BIAS].addr, 0))
MUT(dst1_disabled, f8t_region_set(R_DST1, f8t->reg[R_DST1].addr, 0))
MUT(w_wraps, f8t_region_set(R_W, 0xfffffffffffff000ull, 0x2000))
MUT(dst0_wraps, f8t_region_set(R_DST0, 0xffffffffffffff00ull, 0x1000))
MUT(src_to_unused_region, d->src.region = 9)
/* ALIGN */
MUT(aux_off2, grow(R_AUX, 4); d->aux.offset = 2)
MUT(aux_stride_n3, d->aux.stride_n = 3)
MUT(dst0_off1, grow(R_DST0, 4); d->dst[0].offset = 1)
MUT(dst0_stride_w_plus2, grow(R_DST0, 4096); d->dst[0].stride_w += 2;
    d->dst[0].stride_h = d->dst[0].stride_w * d->dst[0].w;
    d->dst[0].stride_n = d->dst[0].stride_h * d->dst[0].h)
MUT(bias_off2, grow(R_BIAS, 4); d->bias.offset = 2)
MUT(src_stride_h_plus1, grow(R_SRC, 64); d->src.stride_h += 1)
MUT(dst1_off2, grow(R_DST1, 4); d->dst[1].offset = 2)
/* OOB_READ */
MUT(src_short, shrink(R_SRC))
MUT(aux_short, shrink(R_AUX))
MUT(w_short, shrink(R_W))
MUT(bias_short, shrink(R_BIAS))
MUT(src_off1, d->src.offset = 1)
MUT(src_off_max, d->src.offset = 0xffffffffu)
MUT(src_off_max4, d->src.offset = 0xfffffffcu)
MUT(w_off_max, d->weights.offset = 0xfffffff0u)
MUT(bias_off_max, d->bias.offset = 0xfffffffcu)
MUT(src_stride_n_max, d->src.stride_n = 0xffffffffu)
MUT(src_stride_h_plus1_exact, d->src.stride_h += 1)
/* OOB_WRITE */
MUT(dst0_short, shrink(R_DST0))
MUT(dst1_short, shrink(R_DST1))
MUT(dst1_off1, d->dst[1].offset = 1)
MUT(dst0_off_max, d->dst[0].offset = 0xfffffffcu)
MUT(dst0_stride_n_max, d->dst[0].stride_n = 0xfffffffcu)
/* OVERLAP */
MUT(dst0_self_w, d->dst[0].stride_w = d->dst[0].c * 4 - 4)
MUT(dst0_self_h, d->dst[0].stride_h = (d->dst[0].w - 1) * d->dst[0].stride_w + d->dst[0].c * 4 - 4)
MUT(dst0_self_n, d->dst[0].stride_n = d->dst[0].stride_h * (d->dst[0].h - 1) + d->dst[0].c * 4 - 4)
MUT(dst1_self_w, d->dst[1].stride_w = d->dst[1].c - 1)
MUT(dst0_on_aux, alias(R_DST0, R_AUX, 0))
MUT(dst1_on_src, alias(R_DST1, R_SRC, 0))
MUT(dst0_on_w, alias(R_DST0, R_W, 0))
MUT(dst0_on_bias, alias(R_DST0, R_BIAS, 0))
MUT(dst1_on_dst0, alias(R_DST1, R_DST0, 0))
MUT(dst1_last_byte_of_src, f8t_region_set(R_DST1, f8t->reg[R_SRC].addr, 175);
    d->dst[1].offset = 74)
MUT(dst1_in_place, d->dst[1].region = R_SRC)
MUT(dst0_over_src_same_region, grow(R_SRC, 480); d->dst[0].region = R_SRC;
    d->dst[0].offset = 116)
/* BUS */
MUT(src_unbacked, unback(R_SRC))
MUT(w_unbacked, unback(R_W))
MUT(dst1_unbacked, unback(R_DST1))
MUT(dst1_one_byte_unbacked, f8t_region_set(R_DST1, f8t->reg[R_DST1].addr, 101);
    d->dst[1].offset = 1)
MUT(aux_one_byte_unbacked, f8t_region_set(R_AUX, f8t->reg[R_AUX].addr, 404);
    d->aux.offset = 4)
/* Two errors: the earlier step of isa.md §5 wins. */
MUT(o_opcode_field, d->opcode = 0; d->reserved3[7] = 1)
MUT(o_field_shape, d->reserved2[0] = 1; d->src.h = 0)
MUT(o_field_end_of_flags, d->flags |= 0x80; d->out_shift[0] = 40)
MUT(o_shape_limit, d->dst[0].h = 7; d->out_shift[0] = 40)
MUT(o_limit_region, d->align_src = 40; d->dst[1].region = 16)
MUT(o_region_align, d->dst[1].region = 16; d->aux.offset = 2)
MUT(o_region_oob, d->dst[1].region = 16; shrink(R_SRC))
MUT(o_align_oob, d->dst[0].offset = 2; shrink(R_SRC))
MUT(o_read_before_write, shrink(R_DST0); shrink(R_BIAS))
MUT(o_write_before_overlap, shrink(R_DST1); alias(R_DST0, R_AUX, 0))
MUT(o_overlap_bus, alias(R_DST0, R_AUX, 0); unback(R_W))
MUT(o_oob_bus, shrink(R_DST1); unback(R_SRC))
MUT(o_disabled_dst_oob_src, f8t_region_set(R_DST0, f8t->reg[R_DST0].addr, 0); shrink(R_SRC))

/* Valid variations: the edges that must not fault. */
MUT(ok_shift_31, d->out_shift[0] = 31; d->out_shift[1] = -31)
MUT(ok_shift_m31, d->out_shift[0] = -31; d->out_shift[1] = 31)
MUT(ok_align_31, d->align_src = 31; d->align_aux = 31)
MUT(ok_touching_footprints, grow(R_SRC, 100); d->dst[1].region = R_SRC; d->dst[1].offset = 75)
MUT(ok_inputs_overlap, f8t_region_set(R_SRC, f8t->reg[R_AUX].addr, 75))
MUT(ok_src_broadcast, d->src.stride_n = 0)
MUT(ok_src_overlapping_window, d->src.stride_w = 1; d->src.stride_h = 3; shrink(R_SRC))
MUT(ok_u8_odd_offsets, grow(R_SRC, 3); grow(R_DST1, 80); d->src.offset = 3;
    d->dst[1].offset = 1; d->dst[1].stride_w = 7; d->dst[1].stride_h = 7 * 5;
    d->dst[1].stride_n = 7 * 5 * 5)
MUT(ok_region_larger_than_backing, f8t_region_set(R_DST1, f8t->reg[R_DST1].addr, 1 << 20))
MUT(ok_size1_dims_any_stride, d->dst[0].stride_n = 0; d->dst[0].stride_h = 0;
    d->dst[0].stride_w = 0; d->dst[1].stride_n = 4; d->dst[1].stride_h = 8)
MUT(ok_bigk_65536, (void)d)

struct fcase {
	const char *name;
	enum base base;
	mutator fn;
	uint32_t err;
};

#define F(b, fn, e) { #fn, b, fn, F8NPU_ERR_##e }

static const struct fcase opcode_cases[] = {
	F(B_CONV, op_0, BAD_OPCODE),   F(B_CONV, op_6, BAD_OPCODE),
	F(B_ADD, op_255, BAD_OPCODE),  F(B_PLAIN, op_0x82, BAD_OPCODE),
};

static const struct fcase field_cases[] = {
	F(B_CONV, flag_bit5, BAD_FIELD),     F(B_DW, flag_bit6, BAD_FIELD),
	F(B_ADD, flag_bit7, BAD_FIELD),	     F(B_MAX, flag_bias, BAD_FIELD),
	F(B_SUM, flag_bias, BAD_FIELD),	     F(B_ADD, flag_bias, BAD_FIELD),
	F(B_MAX, flag_dw, BAD_FIELD),	     F(B_SUM, flag_dw, BAD_FIELD),
	F(B_ADD, flag_dw, BAD_FIELD),	     F(B_END, flag_relu, BAD_FIELD),
	F(B_CONV, src_s32, BAD_FIELD),	     F(B_DW, src_s32, BAD_FIELD),
	F(B_CONV, src_type3, BAD_FIELD),     F(B_ADD, src_type3, BAD_FIELD),
	F(B_CONV, aux_type3, BAD_FIELD),     F(B_CONV, dst0_type3, BAD_FIELD),
	F(B_CONV, dst1_type255, BAD_FIELD),  F(B_CONV, aux_no_flag, BAD_FIELD),
	F(B_CONV, dst1_no_flag, BAD_FIELD),  F(B_CONV, bias_no_flag, BAD_FIELD),
	F(B_DW, bias_ref_offset_only, BAD_FIELD),
};

static const struct fcase shape_cases[] = {
	F(B_CONV, src_n0, BAD_SHAPE),	      F(B_CONV, src_h0, BAD_SHAPE),
	F(B_CONV, src_w0, BAD_SHAPE),	      F(B_CONV, src_c0, BAD_SHAPE),
	F(B_CONV, aux_h0, BAD_SHAPE),	      F(B_CONV, dst0_w0, BAD_SHAPE),
	F(B_CONV, dst1_n0, BAD_SHAPE),	      F(B_ADD, dst0_c0, BAD_SHAPE),
	F(B_CONV, kh0, BAD_SHAPE),	      F(B_DW, kw0, BAD_SHAPE),
	F(B_MAX, sh0, BAD_SHAPE),	      F(B_SUM, sw0, BAD_SHAPE),
	F(B_CONV, pad_top_eq_k, BAD_SHAPE),   F(B_DW, pad_bottom_eq_k, BAD_SHAPE),
	F(B_CONV, pad_left_gt_k, BAD_SHAPE),  F(B_DW, pad_right_eq_k, BAD_SHAPE),
	F(B_CONV, window_8_on_7, BAD_SHAPE),  F(B_SUM, window_w_past_input, BAD_SHAPE),
	F(B_CONV, dst0_h_wrong, BAD_SHAPE),   F(B_CONV, dst0_w_wrong, BAD_SHAPE),
	F(B_CONV, dst0_n_wrong, BAD_SHAPE),   F(B_CONV, dst1_c_wrong, BAD_SHAPE),
	F(B_CONV, aux_w_wrong, BAD_SHAPE),    F(B_MAX, aux_n_wrong, BAD_SHAPE),
	F(B_DW, dst0_c_minus1, BAD_SHAPE),    F(B_MAX, dst0_c_minus1, BAD_SHAPE),
	F(B_SUM, dst0_c_minus1, BAD_SHAPE),   F(B_ADD, add_src_h_wrong, BAD_SHAPE),
	F(B_ADD, dst1_c_wrong, BAD_SHAPE),    F(B_SUM, dst0_h_wrong, BAD_SHAPE),
};

static const struct fcase limit_cases[] = {
	F(B_BIGK, bigk_65537, LIMIT),	   F(B_CONV, shift0_32, LIMIT),
	F(B_CONV, shift0_m32, LIMIT),	   F(B_ADD, shift0_127, LIMIT),
	F(B_PLAIN, shift0_m128, LIMIT),	   F(B_CONV, shift1_32, LIMIT),
	F(B_SUM, shift1_m32, LIMIT),	   F(B_CONV, align_src_32, LIMIT),
	F(B_CONV, align_aux_32, LIMIT),	   F(B_PLAIN, align_src_255, LIMIT),
	F(B_MAX, align_aux_32, LIMIT),
};

static const struct fcase region_cases[] = {
	F(B_CONV, src_r16, BAD_REGION),	     F(B_ADD, src_r255, BAD_REGION),
	F(B_CONV, aux_r16, BAD_REGION),	     F(B_CONV, w_r16, BAD_REGION),
	F(B_CONV, bias_r16, BAD_REGION),     F(B_CONV, dst0_r16, BAD_REGION),
	F(B_CONV, dst1_r16, BAD_REGION),     F(B_CONV, src_disabled, BAD_REGION),
	F(B_DW, bias_disabled, BAD_REGION),  F(B_SUM, dst1_disabled, BAD_REGION),
	F(B_CONV, w_wraps, BAD_REGION),	     F(B_PLAIN, dst0_wraps, BAD_REGION),
	F(B_PLAIN, src_to_unused_region, BAD_REGION),
};

static const struct fcase align_cases[] = {
	F(B_CONV, aux_off2, ALIGN),	       F(B_CONV, aux_stride_n3, ALIGN),
	F(B_CONV, dst0_off1, ALIGN),	       F(B_CONV, dst0_stride_w_plus2, ALIGN),
	F(B_CONV, bias_off2, ALIGN),	       F(B_MAX, src_stride_h_plus1, ALIGN),
	F(B_DW, dst1_off2, ALIGN),	       F(B_ADD, dst0_off1, ALIGN),
};

static const struct fcase oob_cases[] = {
	F(B_CONV, src_short, OOB_READ),	       F(B_CONV, aux_short, OOB_READ),
	F(B_CONV, w_short, OOB_READ),	       F(B_CONV, bias_short, OOB_READ),
	F(B_DW, w_short, OOB_READ),	       F(B_MAX, src_short, OOB_READ),
	F(B_MAX, aux_short, OOB_READ),	       F(B_ADD, aux_short, OOB_READ),
	F(B_CONV, src_off1, OOB_READ),	       F(B_CONV, src_off_max, OOB_READ),
	F(B_MAX, src_off_max4, OOB_READ),      F(B_CONV, w_off_max, OOB_READ),
	F(B_CONV, bias_off_max, OOB_READ),     F(B_ADD, src_stride_n_max, OOB_READ),
	F(B_SUM, src_stride_h_plus1_exact, OOB_READ),
	F(B_CONV, dst0_short, OOB_WRITE),      F(B_CONV, dst1_short, OOB_WRITE),
	F(B_DW, dst0_short, OOB_WRITE),	       F(B_SUM, dst1_short, OOB_WRITE),
	F(B_CONV, dst1_off1, OOB_WRITE),       F(B_CONV, dst0_off_max, OOB_WRITE),
	F(B_ADD, dst0_stride_n_max, OOB_WRITE),
};

static const struct fcase overlap_cases[] = {
	F(B_ADD, dst0_self_w, OVERLAP),	       F(B_ADD, dst0_self_h, OVERLAP),
	F(B_ADD, dst0_self_n, OVERLAP),	       F(B_ADD, dst1_self_w, OVERLAP),
	F(B_CONV, dst0_on_aux, OVERLAP),       F(B_CONV, dst1_on_src, OVERLAP),
	F(B_CONV, dst0_on_w, OVERLAP),	       F(B_CONV, dst0_on_bias, OVERLAP),
	F(B_CONV, dst1_on_dst0, OVERLAP),      F(B_CONV, dst1_last_byte_of_src, OVERLAP),
	F(B_ADD, dst1_in_place, OVERLAP),      F(B_ADD, dst0_over_src_same_region, OVERLAP),
};

static const struct fcase bus_cases[] = {
	F(B_CONV, src_unbacked, BUS),	       F(B_CONV, w_unbacked, BUS),
	F(B_CONV, dst1_unbacked, BUS),	       F(B_CONV, dst1_one_byte_unbacked, BUS),
	F(B_CONV, aux_one_byte_unbacked, BUS),
};

static const struct fcase order_cases[] = {
	F(B_CONV, o_opcode_field, BAD_OPCODE),
	F(B_CONV, o_field_shape, BAD_FIELD),
	F(B_CONV, o_field_end_of_flags, BAD_FIELD),
	F(B_CONV, o_shape_limit, BAD_SHAPE),
	F(B_CONV, o_limit_region, LIMIT),
	F(B_CONV, o_region_align, BAD_REGION),
	F(B_CONV, o_region_oob, BAD_REGION),
	F(B_CONV, o_align_oob, ALIGN),
	F(B_CONV, o_read_before_write, OOB_READ),
	F(B_CONV, o_write_before_overlap, OOB_WRITE),
	F(B_CONV, o_overlap_bus, OVERLAP),
	F(B_CONV, o_oob_bus, OOB_WRITE),
	F(B_CONV, o_disabled_dst_oob_src, BAD_REGION),
};

#define NCASES(t) ((int)(sizeof(t) / sizeof((t)[0])))

#define CASE_TEST(test, table)                                                  \
	START_TEST(test)                                                        \
	{                                                                       \
		const struct fcase *c = &table[_i];                             \
		expect_fault(c->base, c->fn, -1, 0, c->err, c->name);           \
	}                                                                       \
	END_TEST

CASE_TEST(test_fault_bad_opcode, opcode_cases)
CASE_TEST(test_fault_bad_field, field_cases)
CASE_TEST(test_fault_bad_shape, shape_cases)
CASE_TEST(test_fault_limit, limit_cases)
CASE_TEST(test_fault_bad_region, region_cases)
CASE_TEST(test_fault_align, align_cases)
CASE_TEST(test_fault_oob_read_write_one_byte_past, oob_cases)
CASE_TEST(test_fault_overlap, overlap_cases)
CASE_TEST(test_fault_bus, bus_cases)
CASE_TEST(test_fault_order_earlier_step_wins, order_cases)

struct pcase {
	const char *name;
	enum base base;
	mutator fn;
};

#define P(b, fn) { #fn, b, fn }

static const struct pcase pass_cases[] = {
	P(B_CONV, NULL),
	P(B_DW, NULL),
	P(B_MAX, NULL),
	P(B_SUM, NULL),
	P(B_ADD, NULL),
	P(B_PLAIN, NULL),
	P(B_CONV, ok_shift_31),
	P(B_CONV, ok_shift_m31),
	P(B_CONV, ok_align_31),
	P(B_ADD, ok_align_31),
	P(B_CONV, ok_touching_footprints),
	P(B_CONV, ok_inputs_overlap),
	P(B_ADD, ok_src_broadcast),
	P(B_CONV, ok_src_overlapping_window),
	P(B_CONV, ok_u8_odd_offsets),
	P(B_CONV, ok_region_larger_than_backing),
	P(B_SUM, ok_size1_dims_any_stride),
	P(B_BIGK, ok_bigk_65536),
};

START_TEST(test_fault_free_edges_run_exactly_at_the_limits)
{
	const struct pcase *c = &pass_cases[_i];

	expect_pass(c->base, c->fn, c->name ? c->name : "base");
}
END_TEST

/* ---- every must-be-zero byte of each base, one at a time ---- */

static bool used_tensor(const struct f8npu_desc *d, unsigned int which)
{
	switch (which) {
	case 0:
		return d->opcode != F8NPU_OP_END;
	case 1:
		return d->flags & F8NPU_FLAG_AUX;
	case 2:
		return d->opcode != F8NPU_OP_END;
	default:
		return d->flags & F8NPU_FLAG_DST1;
	}
}

/* Mark the bytes of @d that docs/isa.md requires to be zero. */
static void mbz_map(const struct f8npu_desc *d, bool *mbz)
{
	static const uint8_t tref_off[4] = { 32, 64, 96, 128 };
	static const uint8_t bref_off[2] = { 160, 168 };
	bool bref_used[2] = { d->opcode == F8NPU_OP_CONV2D, (d->flags & F8NPU_FLAG_BIAS) != 0 };

	memset(mbz, 0, F8NPU_CMD_DESC_SIZE);
	if (d->opcode == F8NPU_OP_END) {
		for (unsigned int i = 1; i < F8NPU_CMD_DESC_SIZE; i++)
			mbz[i] = true;
		return;
	}
	mbz[2] = mbz[3] = mbz[14] = mbz[15] = true;
	for (unsigned int i = 18; i < 32; i++)
		mbz[i] = true;
	for (unsigned int i = 176; i < F8NPU_CMD_DESC_SIZE; i++)
		mbz[i] = true;
	if (d->opcode == F8NPU_OP_ADD)
		for (unsigned int i = 4; i < 12; i++)
			mbz[i] = true;
	if (!(d->flags & F8NPU_FLAG_AUX))
		mbz[13] = true;
	if (!(d->flags & F8NPU_FLAG_DST1))
		mbz[17] = true;
	for (unsigned int t = 0; t < 4; t++) {
		unsigned int o = tref_off[t];

		if (!used_tensor(d, t)) {
			for (unsigned int i = 0; i < 32; i++)
				mbz[o + i] = true;
			continue;
		}
		mbz[o + 2] = mbz[o + 3] = true;
		for (unsigned int i = 28; i < 32; i++)
			mbz[o + i] = true;
	}
	/* Buffer reference: region, 3 reserved bytes, offset. */
	for (unsigned int b = 0; b < 2; b++)
		for (unsigned int i = 0; i < (bref_used[b] ? 4u : 8u); i++)
			mbz[bref_off[b] + i] = i > 0 || !bref_used[b];
}

static const enum base mbz_bases[] = { B_CONV, B_DW, B_MAX, B_SUM, B_ADD, B_PLAIN, B_END };

START_TEST(test_fault_every_reserved_or_unused_byte_is_bad_field)
{
	enum base b = mbz_bases[_i];
	struct f8t_rng r;
	struct f8npu_desc d;
	bool mbz[F8NPU_CMD_DESC_SIZE];
	unsigned int count = 0;
	char name[64];

	/* The map comes from the base's own flags: build it once to read them. */
	f8t_rng_init(&r, "mbz", _i);
	d = make_base(b, &r);
	mbz_map(&d, mbz);
	for (unsigned int off = 0; off < F8NPU_CMD_DESC_SIZE; off++) {
		if (!mbz[off])
			continue;
		count++;
		snprintf(name, sizeof(name), "byte %u = %#x", off, off & 1 ? 0x80u : 0x01u);
		expect_fault(b, NULL, (int)off, off & 1 ? 0x80 : 0x01, F8NPU_ERR_BAD_FIELD, name);
	}
	ck_assert_uint_ge(count, 98); /* at least the descriptor's own reserved bytes */
}
END_TEST

/* ---- header errors: ERR_INDEX 0xffffffff, nothing runs ---- */

typedef void (*hmutator)(struct f8npu_cmd_header *h, uint32_t *size);

#define HMUT(fn, body)                                                          \
	static void fn(struct f8npu_cmd_header *h, uint32_t *size)              \
	{                                                                       \
		(void)h;                                                        \
		(void)size;                                                     \
		body;                                                           \
	}

HMUT(magic_0, h->magic = 0)
HMUT(magic_swapped, h->magic = 0x46384353u)
HMUT(magic_plus1, h->magic += 1)
HMUT(major_0, h->version_major = 0)
HMUT(major_2, h->version_major = 2)
HMUT(major_ffff, h->version_major = 0xffff)
HMUT(minor_1, h->version_minor = 1)
HMUT(minor_ffff, h->version_minor = 0xffff)
HMUT(desc_size_0, h->desc_size = 0)
HMUT(desc_size_128, h->desc_size = 128)
HMUT(desc_size_255, h->desc_size = 255)
HMUT(desc_size_257, h->desc_size = 257)
HMUT(desc_size_512, h->desc_size = 512)
HMUT(count_plus1, h->desc_count += 1)
HMUT(count_wraps_32bit, h->desc_count = 0x01000000u) /* 32 + 256 n = 2^32 + 32 */
HMUT(count_max, h->desc_count = 0xffffffffu)
HMUT(size_short_by_1, *size -= 1)
HMUT(size_31, *size = 31)
HMUT(size_1, *size = 1)
HMUT(size_0, *size = 0)
HMUT(o_size_and_magic, *size = 31; h->magic = 0)
HMUT(o_magic_and_version, h->magic = 1; h->version_major = 2)
HMUT(o_version_and_desc_size, h->version_minor = 9; h->desc_size = 64)
HMUT(o_desc_size_and_count, h->desc_size = 64; h->desc_count = 1000)

struct hcase {
	const char *name;
	hmutator fn;
	int reserved_byte; /* >= 0: also poke this header byte */
	uint32_t err;
};

#define H(fn, e) { #fn, fn, -1, F8NPU_ERR_##e }

static const struct hcase header_cases[] = {
	H(magic_0, BAD_MAGIC),
	H(magic_swapped, BAD_MAGIC),
	H(magic_plus1, BAD_MAGIC),
	H(major_0, BAD_VERSION),
	H(major_2, BAD_VERSION),
	H(major_ffff, BAD_VERSION),
	H(minor_1, BAD_VERSION),
	H(minor_ffff, BAD_VERSION),
	H(desc_size_0, BAD_HEADER),
	H(desc_size_128, BAD_HEADER),
	H(desc_size_255, BAD_HEADER),
	H(desc_size_257, BAD_HEADER),
	H(desc_size_512, BAD_HEADER),
	H(count_plus1, BAD_HEADER),
	H(count_wraps_32bit, BAD_HEADER),
	H(count_max, BAD_HEADER),
	H(size_short_by_1, BAD_HEADER),
	H(size_31, CMD_OOB),
	H(size_1, CMD_OOB),
	H(size_0, CMD_OOB),
	H(o_size_and_magic, CMD_OOB),
	H(o_magic_and_version, BAD_MAGIC),
	H(o_version_and_desc_size, BAD_VERSION),
	H(o_desc_size_and_count, BAD_HEADER),
};

/*
 * Stream [prefix ADD, faulty-or-not descriptor, END] with a mutated header:
 * a header error must stop the job before any descriptor runs.
 */
static void expect_header_fault(hmutator fn, int poke, uint32_t err, bool bad_desc,
				const char *name)
{
	struct f8npu_desc s[3];
	struct f8npu_cmd_header h;
	struct f8t_rng r;
	struct f8t_snap snap;
	struct f8t_job j;
	struct f8t_cost want = { 0 };
	uint32_t size = F8NPU_CMD_HEADER_SIZE + 3 * F8NPU_CMD_DESC_SIZE;
	char what[160];

	snprintf(what, sizeof(what), "header %s%s (seed %#" PRIx64 ")", name,
		 bad_desc ? " + bad descriptor" : "", f8t_seed);
	f8t_reset(NULL);
	f8t_rng_init(&r, name, poke);
	s[0] = make_prefix(&r);
	s[1] = end_desc();
	if (bad_desc)
		s[1].opcode = 0;
	s[2] = end_desc();
	memset(&h, 0, sizeof(h));
	h.magic = F8NPU_CMD_MAGIC;
	h.version_major = F8NPU_CMD_VERSION_MAJOR;
	h.version_minor = F8NPU_CMD_VERSION_MINOR;
	h.desc_size = F8NPU_CMD_DESC_SIZE;
	h.desc_count = 3;
	if (fn)
		fn(&h, &size);
	if (poke >= 0)
		((uint8_t *)&h)[poke] = 0x01;
	f8t_stream_raw(&h, s, 3, size);
	f8t_snap_take(&snap);
	f8t_run_raw(f8t->cmd_addr, size, 3, &j);
	ck_assert_msg(j.status == F8NPU_STATUS_ERROR && j.err == err && j.err_index == 0xffffffffu,
		      "%s: STATUS %#x ERR_CODE %u (%s) ERR_INDEX %#x, want ERROR %u (%s) at "
		      "0xffffffff",
		      what, j.status, j.err, f8npu_err_name(j.err), j.err_index, err,
		      f8npu_err_name(err));
	ck_assert_msg(j.irq_status == F8NPU_IRQ_ERROR && j.irq, "%s: IRQ_STATUS %#x", what,
		      j.irq_status);
	f8t_snap_check(&snap, what);
	/* The header is read unless CMD_SIZE cannot hold it; nothing else is. */
	if (err != F8NPU_ERR_CMD_OOB)
		f8t_cost_header(&f8t->cfg, &want);
	f8t_check_perf(&want, what);
}

START_TEST(test_fault_header)
{
	const struct hcase *c = &header_cases[_i];

	expect_header_fault(c->fn, c->reserved_byte, c->err, false, c->name);
	/* A header error is reported even when descriptor 1 is also bad. */
	expect_header_fault(c->fn, c->reserved_byte, c->err, true, c->name);
}
END_TEST

START_TEST(test_fault_header_reserved_bytes)
{
	for (int b = 16; b < 32; b++)
		expect_header_fault(NULL, b, F8NPU_ERR_BAD_HEADER, false, "reserved byte");
}
END_TEST

START_TEST(test_fault_header_cmd_size_exact_or_larger_passes)
{
	static const uint32_t extra[] = { 0, 1, 255, 4096 };

	for (unsigned int i = 0; i < 4; i++) {
		struct f8npu_desc s[2];
		struct f8npu_cmd_header h;
		struct f8t_rng r;
		struct f8t_snap snap;
		struct f8t_mem m;
		struct f8t_job j;
		uint32_t size = F8NPU_CMD_HEADER_SIZE + 2 * F8NPU_CMD_DESC_SIZE + extra[i];

		f8t_reset(NULL);
		f8t_rng_init(&r, "cmd_size", (int)i);
		s[0] = make_prefix(&r);
		s[1] = end_desc();
		memset(&h, 0, sizeof(h));
		h.magic = F8NPU_CMD_MAGIC;
		h.version_major = F8NPU_CMD_VERSION_MAJOR;
		h.version_minor = F8NPU_CMD_VERSION_MINOR;
		h.desc_size = F8NPU_CMD_DESC_SIZE;
		h.desc_count = 2;
		f8t_stream_raw(&h, s, 2, size);
		f8t_snap_take(&snap);
		f8t_snap_mem(&snap, &m);
		f8t_ref_exec(&s[0], &m);
		f8t_run_raw(f8t->cmd_addr, size, 2, &j);
		ck_assert_msg(j.status == F8NPU_STATUS_DONE, "CMD_SIZE exact + %u: STATUS %#x err %u",
			      extra[i], j.status, j.err);
		f8t_snap_check(&snap, "CMD_SIZE");
	}
}
END_TEST

/* ---- NO_END ---- */

/* @n descriptors of @s, desc_count @count, doorbell @tail: @ran complete. */
static void expect_no_end(const struct f8npu_desc *s, uint32_t n, uint32_t count, uint32_t tail,
			  uint32_t ran, const char *what)
{
	struct f8npu_cmd_header h;
	struct f8t_snap snap;
	struct f8t_mem m;
	struct f8t_job j;
	struct f8t_cost want = { 0 };

	memset(&h, 0, sizeof(h));
	h.magic = F8NPU_CMD_MAGIC;
	h.version_major = F8NPU_CMD_VERSION_MAJOR;
	h.version_minor = F8NPU_CMD_VERSION_MINOR;
	h.desc_size = F8NPU_CMD_DESC_SIZE;
	h.desc_count = count;
	f8t_stream_raw(&h, s, n, F8NPU_CMD_HEADER_SIZE + F8NPU_CMD_DESC_SIZE * n);
	f8t_snap_take(&snap);
	f8t_snap_mem(&snap, &m);
	for (uint32_t i = 0; i < ran; i++)
		f8t_ref_exec(&s[i], &m);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, tail, &j);
	ck_assert_msg(j.status == F8NPU_STATUS_ERROR && j.err == F8NPU_ERR_NO_END &&
			      j.err_index == count,
		      "%s: STATUS %#x ERR_CODE %u (%s) ERR_INDEX %u, want NO_END at %u", what,
		      j.status, j.err, f8npu_err_name(j.err), j.err_index, count);
	ck_assert_msg(j.irq_status == F8NPU_IRQ_ERROR, "%s: IRQ_STATUS %#x", what, j.irq_status);
	f8t_snap_check(&snap, what);
	f8t_cost_header(&f8t->cfg, &want);
	for (uint32_t i = 0; i < ran; i++)
		f8t_cost_desc(&s[i], true, &f8t->cfg, &want);
	f8t_check_perf(&want, what);
}

START_TEST(test_fault_no_end)
{
	struct f8npu_desc s[3];
	struct f8t_rng r;

	f8t_rng_init(&r, "no_end", 0);
	s[0] = make_prefix(&r);
	s[1] = s[0];
	s[1].out_shift[0] = 3;
	s[2] = end_desc();
	/* TAIL = desc_count, as f8npu_prog_run_job rings it: NO_END, not WAIT. */
	expect_no_end(s, 1, 1, 1, 1, "one ADD, no END");
	/* The END lies in memory but beyond desc_count: it must not be fetched. */
	f8t_reset(NULL);
	f8t_rng_init(&r, "no_end", 1);
	s[0] = make_prefix(&r);
	expect_no_end(s, 3, 2, 3, 2, "END after desc_count");
	/* Nothing to run at all (TAIL 1, so that waiting is not an option). */
	f8t_reset(NULL);
	expect_no_end(s, 0, 0, 1, 0, "desc_count 0");
}
END_TEST

/*
 * An output may not overlap the command buffer (isa.md §5 step 8): a job
 * cannot rewrite its own stream. The stream and everything else stay intact.
 */
START_TEST(test_fault_output_over_the_command_stream)
{
	struct f8npu_desc d[2];
	struct f8t_snap snap;
	struct f8t_job j;
	uint64_t cmd;
	uint8_t *src = f8t_region(0, 64);

	memset(src, 7, 64);
	d[0] = f8npu_desc_zero(F8NPU_OP_ADD);
	d[0].src = f8t_dense(0, F8NPU_TYPE_U8, 0, 1, 1, 8, 8);
	d[0].dst[0] = f8t_dense(1, F8NPU_TYPE_U8, 0, 1, 1, 8, 8);
	d[1] = f8npu_desc_zero(F8NPU_OP_END);
	cmd = f8t_stream(d, 2);

	/* Region 1 (4-byte aligned base) ends 4 bytes into the stream: the output's tail hits it. */
	f8t_region_set(1, cmd - 60, 64);
	f8t_snap_take(&snap);
	f8t_run_raw(cmd, f8t->cmd_size, 2, &j);
	ck_assert_uint_eq(j.err, F8NPU_ERR_OVERLAP);
	ck_assert_uint_eq(j.err_index, 0);
	ck_assert(j.status & F8NPU_STATUS_ERROR);
	f8t_snap_check(&snap, "output over the command stream");
}
END_TEST

Suite *f8npu_faults_suite(void)
{
	Suite *s = suite_create("f8npu_faults");
	TCase *core = tcase_create("core");
	TCase *limits = tcase_create("limits");
	TCase *errors = tcase_create("errors");

	tcase_add_checked_fixture(core, f8t_setup, f8t_teardown);
	tcase_set_timeout(core, 20);
	tcase_add_loop_test(core, test_fault_free_edges_run_exactly_at_the_limits, 0,
			    NCASES(pass_cases));
	tcase_add_test(core, test_fault_header_cmd_size_exact_or_larger_passes);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(limits, f8t_setup, f8t_teardown);
	tcase_set_timeout(limits, 20);
	tcase_add_loop_test(limits, test_fault_limit, 0, NCASES(limit_cases));
	suite_add_tcase(s, limits);

	tcase_add_checked_fixture(errors, f8t_setup, f8t_teardown);
	tcase_set_timeout(errors, 30);
	tcase_add_loop_test(errors, test_fault_header, 0, NCASES(header_cases));
	tcase_add_test(errors, test_fault_header_reserved_bytes);
	tcase_add_loop_test(errors, test_fault_bad_opcode, 0, NCASES(opcode_cases));
	tcase_add_loop_test(errors, test_fault_bad_field, 0, NCASES(field_cases));
	tcase_add_loop_test(errors, test_fault_every_reserved_or_unused_byte_is_bad_field, 0,
			    NCASES(mbz_bases));
	tcase_add_loop_test(errors, test_fault_bad_shape, 0, NCASES(shape_cases));
	tcase_add_loop_test(errors, test_fault_bad_region, 0, NCASES(region_cases));
	tcase_add_loop_test(errors, test_fault_align, 0, NCASES(align_cases));
	tcase_add_loop_test(errors, test_fault_oob_read_write_one_byte_past, 0, NCASES(oob_cases));
	tcase_add_loop_test(errors, test_fault_overlap, 0, NCASES(overlap_cases));
	tcase_add_loop_test(errors, test_fault_bus, 0, NCASES(bus_cases));
	tcase_add_test(errors, test_fault_no_end);
	tcase_add_test(errors, test_fault_output_over_the_command_stream);
	tcase_add_loop_test(errors, test_fault_order_earlier_step_wins, 0, NCASES(order_cases));
	suite_add_tcase(s, errors);
	return s;
}
