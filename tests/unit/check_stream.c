// SPDX-License-Identifier: MIT
/*
 * Multi-descriptor streams and the register interface: a residual block end
 * to end against a naive composition, the doorbell protocol (docs/isa.md
 * §6), what is ignored while busy, soft reset, interrupts and counters
 * (docs/regs.md), and the programming layer's own helpers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "f8-test.h"

static struct f8npu_desc end_desc(void)
{
	struct f8npu_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = F8NPU_OP_END;
	return d;
}

/* Fill an s32 tensor with values in [-lim, lim]. */
static void fill_s32(struct f8t_rng *r, const struct f8npu_tensor_ref *t, int64_t lim)
{
	struct f8t_mem m;

	memset(&m, 0, sizeof(m));
	m.data[t->region] = f8t_region_data(t->region);
	m.size[t->region] = f8t->reg[t->region].size;
	for (unsigned int i = 0; i < t->n; i++)
		for (unsigned int y = 0; y < t->h; y++)
			for (unsigned int x = 0; x < t->w; x++)
				for (unsigned int k = 0; k < t->c; k++)
					f8t_put(&m, t, i, y, x, k, f8t_range(r, -lim, lim));
}

static void fill_bias(struct f8t_rng *r, unsigned int region, unsigned int n, int64_t lim)
{
	uint8_t *p = f8t_region_data(region);

	for (unsigned int i = 0; i < n; i++)
		f8t_store(p + 4 * i, F8NPU_TYPE_S32, f8t_range(r, -lim, lim));
}

/*
 * Choose each descriptor's shifts from the values it will see, walking the
 * stream on a scratch copy of memory (later layers see earlier outputs).
 */
static void pick_stream_shifts(struct f8t_rng *r, struct f8npu_desc *d, unsigned int n)
{
	struct f8t_snap work;
	struct f8t_mem m;

	f8t_snap_take(&work);
	f8t_snap_mem(&work, &m);
	for (unsigned int i = 0; i < n; i++) {
		size_t count;
		int64_t *v2, maxabs;

		if (d[i].opcode == F8NPU_OP_END)
			continue;
		v2 = f8t_ref_v2(&d[i], &m, &count);
		maxabs = f8t_maxabs(v2, count);
		if (d[i].dst[0].type != F8NPU_TYPE_S32)
			d[i].out_shift[0] = (int8_t)f8t_pick_shift(r, maxabs, d[i].dst[0].type, 1);
		if ((d[i].flags & F8NPU_FLAG_DST1) && d[i].dst[1].type != F8NPU_TYPE_S32)
			d[i].out_shift[1] = (int8_t)f8t_pick_shift(r, maxabs, d[i].dst[1].type, 1);
		f8t_ref_exec(&d[i], &m);
	}
}

/* Expected memory after descriptors [from, to) of @d ran. */
static void ref_range(struct f8t_snap *s, const struct f8npu_desc *d, unsigned int from,
		      unsigned int to)
{
	struct f8t_mem m;

	f8t_snap_mem(s, &m);
	for (unsigned int i = from; i < to; i++)
		f8t_ref_exec(&d[i], &m);
}

/* ---- a ResNet basic block, a pool and a classifier ---- */

enum {
	RB_X,	  /* u8 [2][9][7][12] block input (8-bit copy of the stream) */
	RB_ID,	  /* s32 [2][9][7][12] residual stream, padded rows */
	RB_W1,	  /* [20][3][3][12] */
	RB_B1,
	RB_W2,	  /* [12][3][3][20] */
	RB_B2,
	RB_T1,	  /* u8 [2][9][7][20] conv1 output */
	RB_Y,	  /* s32 [2][9][7][12] new residual stream */
	RB_Y8,	  /* u8 copy for the next conv */
	RB_P,	  /* u8 [2][5][4][12] max pool 3x3/2 pad 1 */
	RB_WFC,	  /* [10][5][4][12] */
	RB_BFC,
	RB_LOGIT, /* s32 [2][1][1][10] */
};

#define RB_N 2
#define RB_H 9
#define RB_W 7
#define RB_C 12
#define RB_C1 20
#define RB_CLS 10

static unsigned int resnet_block(struct f8npu_desc *d)
{
	struct f8t_rng r;
	struct f8npu_tensor_ref id;

	f8t_rng_init(&r, "resnet_block", 0);
	id = f8t_tensor(RB_ID, F8NPU_TYPE_S32, 8, RB_N, RB_H, RB_W, RB_C,
			(RB_H * (RB_W * RB_C + 4) + 8) * 4, (RB_W * RB_C + 4) * 4, RB_C * 4);
	f8t_fill(&r, f8t_region(RB_X, RB_N * RB_H * RB_W * RB_C), RB_N * RB_H * RB_W * RB_C);
	f8t_region(RB_ID, id.offset + f8t_extent(&id));
	fill_s32(&r, &id, 1 << 14);
	f8t_fill(&r, f8t_region(RB_W1, RB_C1 * 9 * RB_C), RB_C1 * 9 * RB_C);
	f8t_region(RB_B1, 4 * RB_C1);
	fill_bias(&r, RB_B1, RB_C1, 1 << 16);
	f8t_fill(&r, f8t_region(RB_W2, RB_C * 9 * RB_C1), RB_C * 9 * RB_C1);
	f8t_region(RB_B2, 4 * RB_C);
	fill_bias(&r, RB_B2, RB_C, 1 << 16);
	/* Outputs start as garbage: every element must be written. */
	f8t_fill(&r, f8t_region(RB_T1, RB_N * RB_H * RB_W * RB_C1), RB_N * RB_H * RB_W * RB_C1);
	f8t_fill(&r, f8t_region(RB_Y, 4 * RB_N * RB_H * RB_W * RB_C), 4 * RB_N * RB_H * RB_W * RB_C);
	f8t_fill(&r, f8t_region(RB_Y8, RB_N * RB_H * RB_W * RB_C), RB_N * RB_H * RB_W * RB_C);
	f8t_fill(&r, f8t_region(RB_P, RB_N * 5 * 4 * RB_C), RB_N * 5 * 4 * RB_C);
	f8t_fill(&r, f8t_region(RB_WFC, RB_CLS * 5 * 4 * RB_C), RB_CLS * 5 * 4 * RB_C);
	f8t_region(RB_BFC, 4 * RB_CLS);
	fill_bias(&r, RB_BFC, RB_CLS, 1 << 12);
	f8t_fill(&r, f8t_region(RB_LOGIT, 4 * RB_N * RB_CLS), 4 * RB_N * RB_CLS);

	memset(d, 0, 5 * sizeof(*d));
	/* conv1 + bias + ReLU (into u8), 3x3 pad 1. */
	d[0].opcode = F8NPU_OP_CONV2D;
	d[0].flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d[0].kernel_h = d[0].kernel_w = 3;
	d[0].stride_h = d[0].stride_w = 1;
	d[0].pad_top = d[0].pad_bottom = d[0].pad_left = d[0].pad_right = 1;
	d[0].src = f8t_dense(RB_X, F8NPU_TYPE_U8, 0, RB_N, RB_H, RB_W, RB_C);
	d[0].weights.region = RB_W1;
	d[0].bias.region = RB_B1;
	d[0].dst[0] = f8t_dense(RB_T1, F8NPU_TYPE_U8, 0, RB_N, RB_H, RB_W, RB_C1);
	/* conv2 + bias + identity (aligned) + ReLU: s32 stream and its u8 copy. */
	d[1].opcode = F8NPU_OP_CONV2D;
	d[1].flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_AUX | F8NPU_FLAG_RELU | F8NPU_FLAG_DST1;
	d[1].kernel_h = d[1].kernel_w = 3;
	d[1].stride_h = d[1].stride_w = 1;
	d[1].pad_top = d[1].pad_bottom = d[1].pad_left = d[1].pad_right = 1;
	d[1].align_src = 0;
	d[1].align_aux = 3;
	d[1].src = f8t_dense(RB_T1, F8NPU_TYPE_U8, 0, RB_N, RB_H, RB_W, RB_C1);
	d[1].aux = id;
	d[1].weights.region = RB_W2;
	d[1].bias.region = RB_B2;
	d[1].dst[0] = f8t_dense(RB_Y, F8NPU_TYPE_S32, 0, RB_N, RB_H, RB_W, RB_C);
	d[1].dst[1] = f8t_dense(RB_Y8, F8NPU_TYPE_U8, 0, RB_N, RB_H, RB_W, RB_C);
	/* 3x3/2 max pool, pad 1. */
	d[2].opcode = F8NPU_OP_POOL_MAX;
	d[2].kernel_h = d[2].kernel_w = 3;
	d[2].stride_h = d[2].stride_w = 2;
	d[2].pad_top = d[2].pad_bottom = d[2].pad_left = d[2].pad_right = 1;
	d[2].src = f8t_dense(RB_Y8, F8NPU_TYPE_U8, 0, RB_N, RB_H, RB_W, RB_C);
	d[2].dst[0] = f8t_dense(RB_P, F8NPU_TYPE_U8, 0, RB_N, 5, 4, RB_C);
	/* Classifier: kernel = whole input, int32 logits at shift 0. */
	d[3].opcode = F8NPU_OP_CONV2D;
	d[3].flags = F8NPU_FLAG_BIAS;
	d[3].kernel_h = 5;
	d[3].kernel_w = 4;
	d[3].stride_h = d[3].stride_w = 1;
	d[3].src = f8t_dense(RB_P, F8NPU_TYPE_U8, 0, RB_N, 5, 4, RB_C);
	d[3].weights.region = RB_WFC;
	d[3].bias.region = RB_BFC;
	d[3].dst[0] = f8t_dense(RB_LOGIT, F8NPU_TYPE_S32, 0, RB_N, 1, 1, RB_CLS);
	d[4] = end_desc();
	pick_stream_shifts(&r, d, 5);
	return 5;
}

static void check_stream_perf(const struct f8npu_desc *d, unsigned int n, bool timing,
			      const char *what)
{
	struct f8t_cost want = { 0 };

	f8t_cost_header(&f8t->cfg, &want);
	for (unsigned int i = 0; i < n; i++)
		f8t_cost_desc(&d[i], true, &f8t->cfg, &want);
	f8t_check_perf(&want, what);
	if (timing)
		f8t_check_timing(&want, what);
}

START_TEST(test_stream_resnet_block_pool_fc_end_to_end)
{
	struct f8npu_desc d[5];
	struct f8npu_job_result res;
	struct f8t_snap snap;
	unsigned int n = resnet_block(d);
	const uint8_t *y, *y8;

	f8t_stream(d, n);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, n);
	f8t_run_stream(n, &res);
	ck_assert_msg(res.done, "error %u (%s) at %u", res.err, f8npu_err_name(res.err),
		      res.err_index);
	ck_assert_uint_eq(f8npu_dev_read(f8t->dev, F8NPU_REG_CMD_HEAD), n);
	f8t_snap_check(&snap, "resnet block");
	check_stream_perf(d, n, false, "resnet block");

	/* The u8 copy is the requantized s32 stream (same v2, arith A8). */
	y = f8t_region_data(RB_Y);
	y8 = f8t_region_data(RB_Y8);
	for (unsigned int i = 0; i < RB_N * RB_H * RB_W * RB_C; i++) {
		int64_t v = f8t_load(y + 4 * i, F8NPU_TYPE_S32);
		int64_t w = f8t_sat(f8t_shift(v, d[1].out_shift[1]), F8NPU_TYPE_U8);

		if (y8[i] != w)
			ck_abort_msg("u8 copy [%u] = %u, stream %" PRId64 " >> %d gives %" PRId64, i,
				     y8[i], v, d[1].out_shift[1], w);
	}
}
END_TEST

START_TEST(test_stream_cost_model_sums_over_descriptors)
{
	struct f8npu_desc d[5];
	struct f8npu_job_result res;
	unsigned int n = resnet_block(d);

	f8t_run(d, n, &res);
	ck_assert(res.done);
	check_stream_perf(d, n, true, "resnet block timing");
}
END_TEST

/* A chain of 100 s32 layers in one region, each reading its predecessor. */
START_TEST(test_stream_100_descriptors_chained_in_one_region)
{
	enum { N = 100, SLOT = 3 * 4 * 6 * 4 };
	struct f8npu_desc *d = f8t_calloc(sizeof(*d) * (N + 1));
	struct f8npu_job_result res;
	struct f8t_snap snap;
	struct f8t_rng r;

	f8t_rng_init(&r, "chain", 0);
	f8t_fill(&r, f8t_region(0, SLOT * (N + 1)), SLOT * (N + 1));
	fill_s32(&r, &(struct f8npu_tensor_ref){ .region = 0, .type = F8NPU_TYPE_S32, .n = 1,
						 .h = 3, .w = 4, .c = 6, .stride_h = 96,
						 .stride_w = 24 },
		 1000);
	for (unsigned int i = 0; i < N; i++) {
		struct f8npu_desc *x = &d[i];

		x->src = f8t_dense(0, F8NPU_TYPE_S32, SLOT * i, 1, 3, 4, 6);
		x->dst[0] = f8t_dense(0, F8NPU_TYPE_S32, SLOT * (i + 1), 1, 3, 4, 6);
		switch (i % 3) {
		case 0: /* residual: add the chain's input back */
			x->opcode = F8NPU_OP_ADD;
			x->flags = F8NPU_FLAG_AUX;
			x->aux = f8t_dense(0, F8NPU_TYPE_S32, 0, 1, 3, 4, 6);
			x->out_shift[0] = 1;
			break;
		case 1:
			x->opcode = F8NPU_OP_POOL_MAX;
			x->flags = F8NPU_FLAG_RELU;
			break;
		default:
			x->opcode = F8NPU_OP_POOL_SUM;
			x->out_shift[0] = 3;
			break;
		}
		if (x->opcode != F8NPU_OP_ADD) {
			x->kernel_h = x->kernel_w = 3;
			x->stride_h = x->stride_w = 1;
			x->pad_top = x->pad_bottom = x->pad_left = x->pad_right = 1;
		}
	}
	d[N] = end_desc();
	f8t_stream(d, N + 1);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, N + 1);
	f8t_run_stream(N + 1, &res);
	ck_assert_msg(res.done, "error %u (%s) at %u", res.err, f8npu_err_name(res.err),
		      res.err_index);
	f8t_snap_check(&snap, "chain");
	check_stream_perf(d, N + 1, false, "chain");
}
END_TEST

/* ---- small jobs for the protocol tests ---- */

enum { P_SRC, P_A, P_B, P_SPARE };

/* d[0]: ADD src -> A (s32, shift -2); d[1]: ADD src -> B (u8, ReLU); d[2]: END. */
static void proto_setup(struct f8npu_desc *d, struct f8t_rng *r)
{
	memset(d, 0, 3 * sizeof(*d));
	f8t_fill(r, f8t_region(P_SRC, 30), 30);
	f8t_fill(r, f8t_region(P_A, 120), 120);
	f8t_fill(r, f8t_region(P_B, 30), 30);
	f8t_fill(r, f8t_region(P_SPARE, 30), 30);
	d[0].opcode = F8NPU_OP_ADD;
	d[0].src = f8t_dense(P_SRC, F8NPU_TYPE_S8, 0, 1, 2, 3, 5);
	d[0].dst[0] = f8t_dense(P_A, F8NPU_TYPE_S32, 0, 1, 2, 3, 5);
	d[0].out_shift[0] = -2;
	d[1].opcode = F8NPU_OP_ADD;
	d[1].flags = F8NPU_FLAG_RELU;
	d[1].src = f8t_dense(P_SRC, F8NPU_TYPE_S8, 0, 1, 2, 3, 5);
	d[1].dst[0] = f8t_dense(P_B, F8NPU_TYPE_U8, 0, 1, 2, 3, 5);
	d[2] = end_desc();
}

static uint32_t rd(uint32_t off)
{
	return f8npu_dev_read(f8t->dev, off);
}

static void wr(uint32_t off, uint32_t v)
{
	f8npu_dev_write(f8t->dev, off, v);
}

START_TEST(test_doorbell_tail_below_count_waits_then_resumes)
{
	struct f8npu_desc d[3];
	struct f8t_snap snap;
	struct f8t_job j;
	struct f8t_rng r;

	f8t_rng_init(&r, "doorbell", 0);
	proto_setup(d, &r);
	f8t_stream(d, 3);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, 1);

	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 1, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_eq(j.head, 1);
	ck_assert_uint_eq(j.irq_status, 0);
	ck_assert(!j.irq);
	ck_assert_uint_eq(rd(F8NPU_REG_PERF_DESCS), 1);
	f8t_snap_check(&snap, "after TAIL=1");

	/* TAIL = HEAD: nothing new to run. */
	wr(F8NPU_REG_CMD_TAIL, 1);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_eq(j.head, 1);

	wr(F8NPU_REG_CMD_TAIL, 2);
	f8t_idle();
	f8t_job_read(&j);
	ref_range(&snap, d, 1, 2);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_eq(j.head, 2);
	f8t_snap_check(&snap, "after TAIL=2");

	wr(F8NPU_REG_CMD_TAIL, 3);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_DONE);
	ck_assert_uint_eq(j.head, 3); /* after END */
	ck_assert_uint_eq(j.err, 0);
	ck_assert_uint_eq(j.irq_status, F8NPU_IRQ_DONE);
	ck_assert(j.irq);
	f8t_snap_check(&snap, "after TAIL=3");
	/* Timing is left out: what waiting costs is not architectural. */
	check_stream_perf(d, 3, false, "doorbell");
}
END_TEST

START_TEST(test_doorbell_tail_zero_waits_at_head_zero)
{
	struct f8npu_desc d[3];
	struct f8t_snap snap;
	struct f8t_job j;
	struct f8t_rng r;

	f8t_rng_init(&r, "doorbell", 1);
	proto_setup(d, &r);
	f8t_stream(d, 3);
	f8t_snap_take(&snap);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 0, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_eq(j.head, 0);
	ck_assert_uint_eq(rd(F8NPU_REG_PERF_DESCS), 0);
	f8t_snap_check(&snap, "TAIL=0");
	/* The whole stream in one doorbell. */
	ref_range(&snap, d, 0, 3);
	wr(F8NPU_REG_CMD_TAIL, 3);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_DONE);
	ck_assert_uint_eq(j.head, 3);
	f8t_snap_check(&snap, "TAIL=3");
}
END_TEST

START_TEST(test_doorbell_start_while_busy_is_ignored)
{
	struct f8npu_desc d[3];
	struct f8t_snap snap;
	struct f8t_job j;
	struct f8t_rng r;

	f8t_rng_init(&r, "doorbell", 2);
	proto_setup(d, &r);
	f8t_stream(d, 3);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 1, &j);
	ck_assert_uint_eq(j.head, 1);

	/* New input: a restarted d[0] would rewrite A from it. */
	f8t_fill(&r, f8t_region_data(P_SRC), 30);
	f8t_snap_take(&snap);
	wr(F8NPU_REG_CTRL, F8NPU_CTRL_START);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_eq(j.head, 1);
	ck_assert_uint_eq(rd(F8NPU_REG_PERF_DESCS), 1);
	f8t_snap_check(&snap, "START while busy");

	ref_range(&snap, d, 1, 3);
	wr(F8NPU_REG_CMD_TAIL, 3);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_DONE);
	ck_assert_uint_eq(rd(F8NPU_REG_PERF_DESCS), 3);
	f8t_snap_check(&snap, "finished");
}
END_TEST

START_TEST(test_doorbell_region_and_cmd_writes_while_busy_are_ignored)
{
	struct f8npu_desc d[3];
	struct f8t_snap snap;
	struct f8t_job j;
	struct f8t_rng r;
	uint32_t before[8];
	uint64_t spare;
	const uint32_t regs[8] = { F8NPU_REG_REGION_BASE_LO(P_B), F8NPU_REG_REGION_BASE_HI(P_B),
				   F8NPU_REG_REGION_SIZE_LO(P_B), F8NPU_REG_REGION_SIZE_HI(P_B),
				   F8NPU_REG_CMD_BASE_LO,	  F8NPU_REG_CMD_BASE_HI,
				   F8NPU_REG_CMD_SIZE,		  F8NPU_REG_CMD_HEAD };

	f8t_rng_init(&r, "doorbell", 3);
	proto_setup(d, &r);
	spare = f8t->reg[P_SPARE].addr;
	f8t_stream(d, 3);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 1, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	for (unsigned int i = 0; i < 8; i++)
		before[i] = rd(regs[i]);

	/* Try to move B onto the spare buffer and the stream elsewhere. */
	wr(F8NPU_REG_REGION_BASE_LO(P_B), (uint32_t)spare);
	wr(F8NPU_REG_REGION_BASE_HI(P_B), (uint32_t)(spare >> 32) + 1);
	wr(F8NPU_REG_REGION_SIZE_LO(P_B), 7);
	wr(F8NPU_REG_REGION_SIZE_HI(P_B), 1);
	wr(F8NPU_REG_CMD_BASE_LO, 0x1000);
	wr(F8NPU_REG_CMD_BASE_HI, 0x12);
	wr(F8NPU_REG_CMD_SIZE, 0x20);
	f8npu_prog_set_region(f8t->dev, P_A, 0, 0);
	for (unsigned int i = 0; i < 8; i++)
		ck_assert_msg(rd(regs[i]) == before[i], "register %#x changed while busy", regs[i]);
	ck_assert_uint_eq(rd(F8NPU_REG_REGION_SIZE_LO(P_A)), 120);

	f8t_snap_take(&snap);
	ref_range(&snap, d, 1, 3);
	wr(F8NPU_REG_CMD_TAIL, 3);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_msg(j.status == F8NPU_STATUS_DONE, "status %#x err %u", j.status, j.err);
	f8t_snap_check(&snap, "writes while busy");
}
END_TEST

/* Every register with a reset value of docs/regs.md, and that value. */
struct reg_reset {
	uint32_t off;
	uint32_t val;
};

static const struct reg_reset reset_regs[] = {
	{ F8NPU_REG_ID, 0x504e3846u },	     { F8NPU_REG_HW_VERSION, 0x00010000u },
	{ F8NPU_REG_CMD_VERSION, 0x00010000u }, { F8NPU_REG_CAP_OPS, 0x3eu },
	{ F8NPU_REG_CAP_REGIONS, 16 },	     { F8NPU_REG_CAP_MAX_DIM, 65535 },
	{ F8NPU_REG_CAP_MAX_K, 65536 },	     { F8NPU_REG_CAP_SHIFT, 0x001f1fe1u },
	{ F8NPU_REG_CAP_TYPES, 0x7 },	     { F8NPU_REG_CTRL, 0 },
	{ F8NPU_REG_STATUS, 0 },		     { F8NPU_REG_ERR_CODE, 0 },
	{ F8NPU_REG_ERR_INDEX, 0 },	     { F8NPU_REG_IRQ_STATUS, 0 },
	{ F8NPU_REG_IRQ_MASK, 0 },	     { F8NPU_REG_CMD_BASE_LO, 0 },
	{ F8NPU_REG_CMD_BASE_HI, 0 },	     { F8NPU_REG_CMD_SIZE, 0 },
	{ F8NPU_REG_CMD_HEAD, 0 },	     { F8NPU_REG_CMD_TAIL, 0 },
	{ F8NPU_REG_PERF_CYCLES_LO, 0 },	     { F8NPU_REG_PERF_CYCLES_HI, 0 },
	{ F8NPU_REG_PERF_MACS_LO, 0 },	     { F8NPU_REG_PERF_MACS_HI, 0 },
	{ F8NPU_REG_PERF_RD_LO, 0 },	     { F8NPU_REG_PERF_RD_HI, 0 },
	{ F8NPU_REG_PERF_WR_LO, 0 },	     { F8NPU_REG_PERF_WR_HI, 0 },
	{ F8NPU_REG_PERF_STALL_LO, 0 },	     { F8NPU_REG_PERF_STALL_HI, 0 },
	{ F8NPU_REG_PERF_DESCS, 0 },
};

static void check_reset_values(const char *what)
{
	for (unsigned int i = 0; i < sizeof(reset_regs) / sizeof(reset_regs[0]); i++)
		ck_assert_msg(rd(reset_regs[i].off) == reset_regs[i].val,
			      "%s: register %#x = %#x, reset value %#x", what, reset_regs[i].off,
			      rd(reset_regs[i].off), reset_regs[i].val);
	for (uint32_t r = 0; r < F8NPU_REGIONS; r++)
		for (uint32_t k = 0; k < 16; k += 4)
			ck_assert_msg(rd(F8NPU_REG_REGION_BASE_LO(r) + k) == 0,
				      "%s: region %u register +%u not reset", what, r, k);
	ck_assert_msg(!f8npu_dev_irq(f8t->dev), "%s: interrupt line high", what);
}

START_TEST(test_doorbell_soft_reset_mid_job_restores_reset_values)
{
	struct f8npu_desc d[3];
	struct f8t_snap snap;
	struct f8t_job j;
	struct f8t_rng r;
	struct f8npu_job_result res;

	f8t_rng_init(&r, "doorbell", 4);
	proto_setup(d, &r);
	f8t_stream(d, 3);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, 1);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 1, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_ne(rd(F8NPU_REG_PERF_RD_LO), 0);

	wr(F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
	check_reset_values("after SOFT_RESET");

	/* The doorbell no longer reaches a job. */
	wr(F8NPU_REG_CMD_TAIL, 3);
	f8t_idle();
	ck_assert_uint_eq(rd(F8NPU_REG_STATUS), 0);
	f8t_snap_check(&snap, "after SOFT_RESET");

	/* And the device works again once reprogrammed. */
	for (unsigned int k = P_SRC; k <= P_SPARE; k++)
		f8t_region_set(k, f8t->reg[k].addr, f8t->reg[k].size);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, 3);
	f8t_run_stream(3, &res);
	ck_assert(res.done);
	f8t_snap_check(&snap, "job after SOFT_RESET");
}
END_TEST

START_TEST(test_doorbell_soft_reset_after_partial_budget)
{
	enum { N = 12 };
	struct f8npu_desc d[N + 1];
	struct f8t_snap snap;
	struct f8t_rng r;
	uint32_t head;
	uint64_t cyc = 0;

	f8t_rng_init(&r, "doorbell", 5);
	f8t_fill(&r, f8t_region(0, 30), 30);
	f8t_fill(&r, f8t_region(1, 30 * N), 30 * N);
	for (unsigned int i = 0; i < N; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].opcode = F8NPU_OP_ADD;
		d[i].src = f8t_dense(0, F8NPU_TYPE_U8, 0, 1, 2, 3, 5);
		d[i].dst[0] = f8t_dense(1, F8NPU_TYPE_S8, 30 * i, 1, 2, 3, 5);
		d[i].out_shift[0] = (int8_t)(i % 4);
	}
	d[N] = end_desc();
	f8t_stream(d, N + 1);
	f8t_snap_take(&snap);
	f8t_start(f8t->cmd_addr, f8t->cmd_size, N + 1);
	ck_assert_int_eq(f8npu_dev_run(f8t->dev, 1, &cyc), F8NPU_RUN_BUDGET);
	ck_assert_uint_eq(rd(F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY, F8NPU_STATUS_BUSY);
	head = rd(F8NPU_REG_CMD_HEAD);
	ck_assert_uint_lt(head, N);
	/* Descriptors are atomic: exactly those below HEAD have run. */
	ref_range(&snap, d, 0, head);
	wr(F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
	check_reset_values("SOFT_RESET with work pending");
	ck_assert_int_eq(f8npu_dev_run(f8t->dev, F8T_MAX_CYCLES, &cyc), F8NPU_RUN_IDLE);
	f8t_snap_check(&snap, "SOFT_RESET with work pending");
}
END_TEST

START_TEST(test_stream_back_to_back_jobs_accumulate_counters)
{
	struct f8npu_desc d[3], e[2];
	struct f8npu_job_result res;
	struct f8t_snap snap;
	struct f8t_rng r;
	struct f8t_cost want = { 0 };

	f8t_rng_init(&r, "back_to_back", 0);
	proto_setup(d, &r);
	f8t_stream(d, 3);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, 3);
	f8t_run_stream(3, &res);
	ck_assert(res.done);
	f8t_snap_check(&snap, "job 1");

	/* Second job: A from B (u8 -> s32 with a positive shift). */
	e[0] = d[0];
	e[0].src = f8t_dense(P_B, F8NPU_TYPE_U8, 0, 1, 2, 3, 5);
	e[0].out_shift[0] = 2;
	e[1] = end_desc();
	f8t_stream(e, 2);
	f8t_snap_take(&snap);
	ref_range(&snap, e, 0, 2);
	f8t_run_stream(2, &res);
	ck_assert(res.done);
	f8t_snap_check(&snap, "job 2");

	/* Counters count across jobs (regs.md). */
	f8t_cost_header(&f8t->cfg, &want);
	for (unsigned int i = 0; i < 3; i++)
		f8t_cost_desc(&d[i], true, &f8t->cfg, &want);
	f8t_cost_header(&f8t->cfg, &want);
	for (unsigned int i = 0; i < 2; i++)
		f8t_cost_desc(&e[i], true, &f8t->cfg, &want);
	f8t_check_perf(&want, "two jobs");
	f8t_check_timing(&want, "two jobs");
}
END_TEST

START_TEST(test_stream_nothing_after_end_runs)
{
	struct f8npu_desc d[4];
	struct f8npu_job_result res;
	struct f8t_snap snap;
	struct f8t_rng r;
	struct f8t_cost want = { 0 };

	f8t_rng_init(&r, "after_end", 0);
	proto_setup(d, &r);
	/* [ADD, END, garbage, ADD]: the descriptors after END are never fetched. */
	d[1] = end_desc();
	memset(&d[2], 0xff, sizeof(d[2]));
	d[3] = d[0];
	d[3].dst[0] = f8t_dense(P_B, F8NPU_TYPE_U8, 0, 1, 2, 3, 5);
	f8t_stream(d, 4);
	f8t_snap_take(&snap);
	ref_range(&snap, d, 0, 1);
	f8t_run_stream(4, &res);
	ck_assert_msg(res.done, "error %u (%s) at %u", res.err, f8npu_err_name(res.err),
		      res.err_index);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_HEAD), 2);
	f8t_snap_check(&snap, "after END");
	f8t_cost_header(&f8t->cfg, &want);
	f8t_cost_desc(&d[0], true, &f8t->cfg, &want);
	f8t_cost_desc(&d[1], true, &f8t->cfg, &want);
	f8t_check_perf(&want, "after END");
}
END_TEST

START_TEST(test_stream_end_only_job)
{
	struct f8npu_desc d = end_desc();
	struct f8npu_job_result res;
	struct f8t_cost want = { 0 };

	f8t_run(&d, 1, &res);
	ck_assert(res.done);
	ck_assert_uint_eq(res.err, 0);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_HEAD), 1);
	f8t_cost_header(&f8t->cfg, &want);
	f8t_cost_desc(&d, true, &f8t->cfg, &want);
	f8t_check_perf(&want, "END only");
	f8t_check_timing(&want, "END only");
}
END_TEST

/* ---- registers ---- */

START_TEST(test_regs_id_versions_and_caps_per_regs_md)
{
	struct f8npu_model_config cfg;

	check_reset_values("fresh model");
	ck_assert_uint_eq(rd(F8NPU_REG_IMPL), F8NPU_IMPL_MODEL);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_ARRAY), 16u << 16 | 16u);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_IBUF), 65536);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_WBUF), 65536);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_ABUF), 16384);

	f8npu_model_default_config(&cfg);
	ck_assert_uint_eq(cfg.rows, 16);
	ck_assert_uint_eq(cfg.cols, 16);
	ck_assert_uint_eq(cfg.dram_bytes_per_cycle, 16);
	ck_assert_uint_eq(cfg.dram_latency, 64);
	cfg.rows = 8;
	cfg.cols = 32;
	cfg.ibuf_bytes = 1000;
	cfg.wbuf_bytes = 2000;
	cfg.abuf_bytes = 3000;
	f8t_reset(&cfg);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_ARRAY), 32u << 16 | 8u);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_IBUF), 1000);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_WBUF), 2000);
	ck_assert_uint_eq(rd(F8NPU_REG_CAP_ABUF), 3000);
	check_reset_values("configured model");
}
END_TEST

START_TEST(test_regs_undefined_read_zero_and_read_only_ignore_writes)
{
	static const uint32_t undef[] = { 0x038, 0x03c, 0x058, 0x05c, 0x074, 0x078, 0x07c,
					  0x0ac, 0x0b0, 0x0fc, 0x200, 0x204, 0x800, 0xffc };
	static const uint32_t ro[] = { F8NPU_REG_ID,	    F8NPU_REG_HW_VERSION,
				       F8NPU_REG_CMD_VERSION, F8NPU_REG_IMPL,
				       F8NPU_REG_CAP_ARRAY,   F8NPU_REG_CAP_OPS,
				       F8NPU_REG_CAP_MAX_K,   F8NPU_REG_STATUS,
				       F8NPU_REG_ERR_CODE,    F8NPU_REG_ERR_INDEX,
				       F8NPU_REG_CMD_HEAD,    F8NPU_REG_PERF_CYCLES_LO,
				       F8NPU_REG_PERF_MACS_LO, F8NPU_REG_PERF_DESCS };

	for (unsigned int i = 0; i < sizeof(undef) / sizeof(undef[0]); i++) {
		wr(undef[i], 0xdeadbeef);
		ck_assert_msg(rd(undef[i]) == 0, "undefined offset %#x reads %#x", undef[i],
			      rd(undef[i]));
	}
	for (unsigned int i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t v = rd(ro[i]);

		wr(ro[i], ~v);
		ck_assert_msg(rd(ro[i]) == v, "read-only %#x took a write", ro[i]);
	}
	/* CTRL is write-only: a write that acts (PERF_CLEAR) still reads 0. */
	wr(F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	ck_assert_uint_eq(rd(F8NPU_REG_CTRL), 0);
	check_reset_values("after writes to read-only registers");
}
END_TEST

START_TEST(test_regs_region_table_and_cmd_base_read_back)
{
	for (uint32_t r = 0; r < F8NPU_REGIONS; r++) {
		wr(F8NPU_REG_REGION_BASE_LO(r), 0x10000003u + (r << 8));
		wr(F8NPU_REG_REGION_BASE_HI(r), 0xa0000000u | r);
		wr(F8NPU_REG_REGION_SIZE_LO(r), 0xfffff001u - r);
		wr(F8NPU_REG_REGION_SIZE_HI(r), r);
	}
	for (uint32_t r = 0; r < F8NPU_REGIONS; r++) {
		/* Base bits [1:0] read as 0; sizes are kept whole. */
		ck_assert_uint_eq(rd(F8NPU_REG_REGION_BASE_LO(r)), 0x10000000u + (r << 8));
		ck_assert_uint_eq(rd(F8NPU_REG_REGION_BASE_HI(r)), 0xa0000000u | r);
		ck_assert_uint_eq(rd(F8NPU_REG_REGION_SIZE_LO(r)), 0xfffff001u - r);
		ck_assert_uint_eq(rd(F8NPU_REG_REGION_SIZE_HI(r)), r);
	}
	f8npu_prog_set_region(f8t->dev, 5, 0x123456789abcdef0ull, 0x0000000200000010ull);
	ck_assert_uint_eq(rd(F8NPU_REG_REGION_BASE_LO(5)), 0x9abcdef0u);
	ck_assert_uint_eq(rd(F8NPU_REG_REGION_BASE_HI(5)), 0x12345678u);
	ck_assert_uint_eq(rd(F8NPU_REG_REGION_SIZE_LO(5)), 0x10u);
	ck_assert_uint_eq(rd(F8NPU_REG_REGION_SIZE_HI(5)), 2u);
	wr(F8NPU_REG_CMD_BASE_LO, 0x12345677u);
	wr(F8NPU_REG_CMD_BASE_HI, 0x89abcdefu);
	wr(F8NPU_REG_CMD_SIZE, 0x7777u);
	wr(F8NPU_REG_CMD_TAIL, 0x55u);
	wr(F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_BASE_LO), 0x12345674u);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_BASE_HI), 0x89abcdefu);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_SIZE), 0x7777u);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_TAIL), 0x55u);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_MASK), F8NPU_IRQ_ALL);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_HEAD), 0);
	ck_assert_uint_eq(rd(F8NPU_REG_STATUS), 0);
}
END_TEST

/* Run a stream with the interrupt mask at @mask (not acknowledged). */
static void run_masked(const struct f8npu_desc *d, uint32_t n, uint32_t mask, struct f8t_job *j)
{
	f8t_stream(d, n);
	f8t_start(f8t->cmd_addr, f8t->cmd_size, n);
	wr(F8NPU_REG_IRQ_MASK, mask);
	f8t_idle();
	f8t_job_read(j);
}

START_TEST(test_regs_irq_status_w1c_mask_and_level_line)
{
	struct f8npu_desc d[3], bad;
	struct f8t_job j;
	struct f8t_rng r;

	f8t_rng_init(&r, "irq", 0);
	proto_setup(d, &r);
	run_masked(d, 3, 0, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_DONE);
	ck_assert_uint_eq(j.irq_status, F8NPU_IRQ_DONE); /* latched even when masked */
	ck_assert(!j.irq);
	wr(F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ERROR);
	ck_assert(!f8npu_dev_irq(f8t->dev));
	wr(F8NPU_REG_IRQ_MASK, F8NPU_IRQ_DONE);
	ck_assert(f8npu_dev_irq(f8t->dev));
	/* Writing 1 to a clear bit and 0 to a set one changes nothing. */
	wr(F8NPU_REG_IRQ_STATUS, F8NPU_IRQ_ERROR);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_STATUS), F8NPU_IRQ_DONE);
	ck_assert(f8npu_dev_irq(f8t->dev));
	wr(F8NPU_REG_IRQ_STATUS, 0);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_STATUS), F8NPU_IRQ_DONE);
	wr(F8NPU_REG_IRQ_STATUS, F8NPU_IRQ_DONE);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_STATUS), 0);
	ck_assert(!f8npu_dev_irq(f8t->dev));
	ck_assert_uint_eq(rd(F8NPU_REG_STATUS), F8NPU_STATUS_DONE); /* STATUS is not IRQ */

	/* An error job: ERROR latched; the earlier DONE was acknowledged. */
	memset(&bad, 0, sizeof(bad));
	bad.opcode = 6;
	run_masked(&bad, 1, F8NPU_IRQ_DONE, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_ERROR);
	ck_assert_uint_eq(j.err, F8NPU_ERR_BAD_OPCODE);
	ck_assert_uint_eq(j.irq_status, F8NPU_IRQ_ERROR);
	ck_assert(!j.irq);
	wr(F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
	ck_assert(f8npu_dev_irq(f8t->dev));

	/* START leaves IRQ_STATUS to software: a good job adds DONE. */
	run_masked(d, 3, F8NPU_IRQ_ALL, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_DONE);
	ck_assert_uint_eq(j.err, 0);
	ck_assert_uint_eq(j.irq_status, F8NPU_IRQ_DONE | F8NPU_IRQ_ERROR);
	wr(F8NPU_REG_IRQ_STATUS, F8NPU_IRQ_ALL);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_STATUS), 0);
	ck_assert(!f8npu_dev_irq(f8t->dev));
}
END_TEST

START_TEST(test_regs_start_clears_done_error_and_err_regs)
{
	struct f8npu_desc d[3], e[3];
	struct f8t_job j;
	struct f8t_rng r;

	f8t_rng_init(&r, "start_clears", 0);
	proto_setup(d, &r);
	e[0] = d[0];
	memset(&e[1], 0, sizeof(e[1]));
	e[1].opcode = 255; /* BAD_OPCODE at index 1 */
	e[2] = end_desc();
	f8t_stream(e, 3);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 3, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_ERROR);
	ck_assert_uint_eq(j.err, F8NPU_ERR_BAD_OPCODE);
	ck_assert_uint_eq(j.err_index, 1);

	f8t_stream(d, 3);
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 0, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
	ck_assert_uint_eq(j.err, 0);
	ck_assert_uint_eq(j.err_index, 0);
	ck_assert_uint_eq(j.irq_status, F8NPU_IRQ_ERROR);
	wr(F8NPU_REG_CMD_TAIL, 3);
	f8t_idle();
	f8t_job_read(&j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_DONE);

	/* And DONE is cleared by the next START too. */
	f8t_run_raw(f8t->cmd_addr, f8t->cmd_size, 0, &j);
	ck_assert_uint_eq(j.status, F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT);
}
END_TEST

START_TEST(test_regs_perf_clear_zeroes_counters_only)
{
	struct f8npu_desc d[3];
	struct f8npu_job_result res;
	struct f8t_rng r;
	struct f8t_cost want = { 0 };

	f8t_rng_init(&r, "perf_clear", 0);
	proto_setup(d, &r);
	f8t_run(d, 3, &res);
	ck_assert(res.done);
	ck_assert_uint_ne(f8t_read64(F8NPU_REG_PERF_CYCLES_LO), 0);
	wr(F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	for (uint32_t off = F8NPU_REG_PERF_CYCLES_LO; off <= F8NPU_REG_PERF_DESCS; off += 4)
		ck_assert_msg(rd(off) == 0, "PERF register %#x = %#x after PERF_CLEAR", off,
			      rd(off));
	ck_assert_uint_eq(rd(F8NPU_REG_STATUS), F8NPU_STATUS_DONE);
	ck_assert_uint_eq(rd(F8NPU_REG_CMD_HEAD), 3);
	ck_assert_uint_eq(rd(F8NPU_REG_CTRL), 0);
	ck_assert_uint_ne(rd(F8NPU_REG_REGION_SIZE_LO(P_SRC)), 0);

	/* Counting restarts from zero. */
	f8t_run(d, 3, &res);
	ck_assert(res.done);
	f8t_cost_header(&f8t->cfg, &want);
	for (unsigned int i = 0; i < 3; i++)
		f8t_cost_desc(&d[i], true, &f8t->cfg, &want);
	f8t_check_perf(&want, "after PERF_CLEAR");
	f8t_check_timing(&want, "after PERF_CLEAR");
}
END_TEST

/* ---- the programming layer ---- */

struct fake_dev {
	struct f8npu_dev dev;
	uint32_t id, hw, cmd;
};

static uint32_t fake_read(struct f8npu_dev *dev, uint32_t off)
{
	struct fake_dev *f = (struct fake_dev *)dev;

	switch (off) {
	case F8NPU_REG_ID:
		return f->id;
	case F8NPU_REG_HW_VERSION:
		return f->hw;
	case F8NPU_REG_CMD_VERSION:
		return f->cmd;
	default:
		return 0;
	}
}

static void fake_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	(void)dev;
	(void)off;
	(void)val;
}

static bool fake_irq(struct f8npu_dev *dev)
{
	(void)dev;
	return false;
}

static enum f8npu_run_result fake_run(struct f8npu_dev *dev, uint64_t max, uint64_t *cycles)
{
	(void)dev;
	(void)max;
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE;
}

static const struct f8npu_dev_ops fake_ops = { fake_read, fake_write, fake_irq, fake_run, NULL };

START_TEST(test_prog_check_id_accepts_f8npu_1_x_only)
{
	static const struct {
		uint32_t id, hw, cmd;
		int want;
	} cases[] = {
		{ 0x504e3846u, 0x00010000u, 0x00010000u, 0 },
		{ 0x504e3846u, 0x00010007u, 0x00010003u, 0 },  /* newer minors are fine */
		{ 0x504e3847u, 0x00010000u, 0x00010000u, -1 }, /* not an f8npu */
		{ 0, 0, 0, -1 },
		{ 0x504e3846u, 0x00020000u, 0x00010000u, -1 }, /* hardware major 2 */
		{ 0x504e3846u, 0x00000000u, 0x00010000u, -1 },
		{ 0x504e3846u, 0x00010000u, 0x00020000u, -1 }, /* stream major 2 */
		{ 0x504e3846u, 0x00010000u, 0x00000005u, -1 },
	};

	ck_assert_int_eq(f8npu_prog_check_id(f8t->dev), 0);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_dev f = { { &fake_ops }, cases[i].id, cases[i].hw, cases[i].cmd };

		ck_assert_msg(f8npu_prog_check_id(&f.dev) == cases[i].want,
			      "ID %#x HW %#x CMD %#x: want %d", cases[i].id, cases[i].hw,
			      cases[i].cmd, cases[i].want);
	}
}
END_TEST

START_TEST(test_prog_err_names_match_regs_md)
{
	static const char *const names[] = { "NONE",	   "BAD_MAGIC",  "BAD_VERSION",
					     "BAD_HEADER", "CMD_OOB",	 "BAD_OPCODE",
					     "BAD_FIELD",  "BAD_SHAPE",	 "LIMIT",
					     "BAD_REGION", "OOB_READ",	 "OOB_WRITE",
					     "ALIGN",	   "OVERLAP",	 "NO_END",
					     "BUS" };

	ck_assert_uint_eq(sizeof(names) / sizeof(names[0]), F8NPU_ERR_COUNT_);
	for (uint32_t e = 0; e < F8NPU_ERR_COUNT_; e++)
		ck_assert_str_eq(f8npu_err_name(e), names[e]);
	ck_assert_str_eq(f8npu_err_name(F8NPU_ERR_COUNT_), "?");
	ck_assert_str_eq(f8npu_err_name(0xffffffffu), "?");
}
END_TEST

START_TEST(test_prog_run_job_budget_exhausted_soft_resets)
{
	enum { N = 16 };
	struct f8npu_desc d[N + 1];
	struct f8npu_job_result res;
	struct f8t_rng r;

	f8t_rng_init(&r, "timeout", 0);
	f8t_fill(&r, f8t_region(0, 30), 30);
	f8t_region(1, 30);
	for (unsigned int i = 0; i < N; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].opcode = F8NPU_OP_ADD;
		d[i].src = f8t_dense(0, F8NPU_TYPE_U8, 0, 1, 2, 3, 5);
		d[i].dst[0] = f8t_dense(1, F8NPU_TYPE_U8, 0, 1, 2, 3, 5);
	}
	d[N] = end_desc();
	f8t_stream(d, N + 1);
	memset(&res, 0, sizeof(res));
	f8npu_prog_run_job(f8t->dev, f8t->cmd_addr, f8t->cmd_size, N + 1, 10, &res);
	ck_assert(res.timed_out);
	ck_assert(!res.done);
	check_reset_values("after a timed-out job");
}
END_TEST

/* The interrupt-driven steps the kernel driver uses: irq (ours? acknowledge) then complete. */
START_TEST(test_prog_irq_and_complete_steps)
{
	struct f8npu_desc d[3], bad;
	struct f8npu_job_result res;
	struct f8t_rng r;
	uint32_t events;

	f8t_rng_init(&r, "irq-steps", 0);
	proto_setup(d, &r);
	f8t_stream(d, 3);
	ck_assert_uint_eq(f8npu_prog_irq(f8t->dev), 0); /* nothing pending: not ours */

	f8npu_prog_start_job(f8t->dev, f8t->cmd_addr, f8t->cmd_size, 3);
	f8t_idle();
	ck_assert(f8npu_dev_irq(f8t->dev));
	events = f8npu_prog_irq(f8t->dev);
	ck_assert_uint_eq(events, F8NPU_IRQ_DONE);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_STATUS), 0); /* acknowledged */
	ck_assert(!f8npu_dev_irq(f8t->dev));
	ck_assert_uint_eq(f8npu_prog_irq(f8t->dev), 0);
	memset(&res, 0xa5, sizeof(res));
	f8npu_prog_complete_job(f8t->dev, events, &res);
	ck_assert(res.done);
	ck_assert_uint_eq(res.err, 0);
	ck_assert_uint_eq(res.err_index, 0);
	ck_assert_uint_eq(res.perf.descs, 3);
	ck_assert_uint_eq(res.perf.cycles, f8t_read64(F8NPU_REG_PERF_CYCLES_LO));

	/* A masked event is not ours, and stays latched for whoever unmasks it. */
	f8npu_prog_start_job(f8t->dev, f8t->cmd_addr, f8t->cmd_size, 3);
	wr(F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ERROR);
	f8t_idle();
	ck_assert_uint_eq(f8npu_prog_irq(f8t->dev), 0);
	ck_assert_uint_eq(rd(F8NPU_REG_IRQ_STATUS), F8NPU_IRQ_DONE);

	/* An error: ERROR, the code and the descriptor index. */
	memset(&bad, 0, sizeof(bad));
	bad.opcode = 6;
	d[1] = bad;
	f8t_stream(d, 3);
	f8npu_prog_start_job(f8t->dev, f8t->cmd_addr, f8t->cmd_size, 3);
	f8t_idle();
	events = f8npu_prog_irq(f8t->dev);
	ck_assert_uint_eq(events, F8NPU_IRQ_ERROR); /* start_job cleared the DONE left above */
	f8npu_prog_complete_job(f8t->dev, events, &res);
	ck_assert(!res.done);
	ck_assert_uint_eq(res.err, F8NPU_ERR_BAD_OPCODE);
	ck_assert_uint_eq(res.err_index, 1);
}
END_TEST

Suite *f8npu_stream_suite(void)
{
	Suite *s = suite_create("f8npu_stream");
	TCase *core = tcase_create("core");
	TCase *door = tcase_create("doorbell");
	TCase *regs = tcase_create("regs");

	tcase_add_checked_fixture(core, f8t_setup, f8t_teardown);
	tcase_set_timeout(core, 30);
	tcase_add_test(core, test_stream_resnet_block_pool_fc_end_to_end);
	tcase_add_test(core, test_stream_cost_model_sums_over_descriptors);
	tcase_add_test(core, test_stream_100_descriptors_chained_in_one_region);
	tcase_add_test(core, test_stream_back_to_back_jobs_accumulate_counters);
	tcase_add_test(core, test_stream_nothing_after_end_runs);
	tcase_add_test(core, test_stream_end_only_job);
	suite_add_tcase(s, core);

	tcase_add_checked_fixture(door, f8t_setup, f8t_teardown);
	tcase_set_timeout(door, 10);
	tcase_add_test(door, test_doorbell_tail_below_count_waits_then_resumes);
	tcase_add_test(door, test_doorbell_tail_zero_waits_at_head_zero);
	tcase_add_test(door, test_doorbell_start_while_busy_is_ignored);
	tcase_add_test(door, test_doorbell_region_and_cmd_writes_while_busy_are_ignored);
	tcase_add_test(door, test_doorbell_soft_reset_mid_job_restores_reset_values);
	tcase_add_test(door, test_doorbell_soft_reset_after_partial_budget);
	suite_add_tcase(s, door);

	tcase_add_checked_fixture(regs, f8t_setup, f8t_teardown);
	tcase_set_timeout(regs, 10);
	tcase_add_test(regs, test_regs_id_versions_and_caps_per_regs_md);
	tcase_add_test(regs, test_regs_undefined_read_zero_and_read_only_ignore_writes);
	tcase_add_test(regs, test_regs_region_table_and_cmd_base_read_back);
	tcase_add_test(regs, test_regs_irq_status_w1c_mask_and_level_line);
	tcase_add_test(regs, test_regs_start_clears_done_error_and_err_regs);
	tcase_add_test(regs, test_regs_perf_clear_zeroes_counters_only);
	tcase_add_test(regs, test_prog_check_id_accepts_f8npu_1_x_only);
	tcase_add_test(regs, test_prog_err_names_match_regs_md);
	tcase_add_test(regs, test_prog_run_job_budget_exhausted_soft_resets);
	tcase_add_test(regs, test_prog_irq_and_complete_steps);
	suite_add_tcase(s, regs);
	return s;
}
