// SPDX-License-Identifier: MIT
/*
 * tb_regs: rtl/f8npu_regs.sv against the functional model's registers
 * (sim/f8npu_model.c), cycle by cycle.
 *
 * An AXI4-Lite master with random valid/ready timing (AW before, after or with W;
 * B and R back-pressure) drives the RTL; every transaction is applied to the model
 * at the clock edge where the RTL makes it take effect (a read at its AR
 * handshake, a write where BVALID rises), and every read's data is compared with
 * what the model returns at that point. The test bench plays the command
 * processor: the model runs real command streams (done, waiting for the
 * doorbell, header and descriptor errors, bus errors), and its HEAD, STATUS.WAIT,
 * counters and job ends drive the RTL's inputs. A job end that coincides with a
 * write is linearized the way f8npu_regs.sv documents it (the write first, except
 * SOFT_RESET, which aborts the job: the job end first). Every cycle the busy,
 * interrupt, region table and CMD_* outputs and the START / SOFT_RESET /
 * PERF_CLEAR pulses are checked against the model.
 *
 * The RTL is built with non-default parameters (TB_* below, the same -G values);
 * the model gets the same configuration. Its DRAM latency is huge so that the
 * cycle counters pass 2^32 and the shared _HI latch is exercised with non-zero
 * values; a last phase drives arbitrary 64-bit counters and checks the latch rule
 * on all five pairs.
 *
 *   tb_regs [seed]        prints one summary line; exit status 1 on any failure
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Vf8npu_regs.h"
#include "verilated.h"

#include "f8npu_build.h"
#include "f8npu_model.h"
#include "f8npu_regs.h"

#ifndef TB_ROWS
#define TB_ROWS 16
#define TB_COLS 16
#define TB_IBUF 65536
#define TB_WBUF 65536
#define TB_ABUF 16384
#endif
#define TB_IMPL F8NPU_IMPL_RTL_SIM

/* ---- failures ---- */

static Vf8npu_regs *top;
static uint64_t cycle;
static unsigned int failures;
static const char *phase = "reset";

static void fail(int line, const char *what, uint32_t off, uint64_t got, uint64_t want)
{
	if (failures < 20)
		fprintf(stderr, "tb_regs: %s: cycle %llu (line %d): %s at 0x%03x: got 0x%llx, want 0x%llx\n",
			phase, (unsigned long long)cycle, line, what, off, (unsigned long long)got,
			(unsigned long long)want);
	if (++failures >= 50) {
		printf("rtl-regs-test: FAIL: stopped after %u failures\n", failures);
		exit(1);
	}
}

#define CHECK_EQ(what, off, got, want)                                                             \
	do {                                                                                       \
		uint64_t got_ = (got), want_ = (want);                                             \
		if (got_ != want_)                                                                 \
			fail(__LINE__, what, off, got_, want_);                                    \
	} while (0)

/* ---- random numbers (xorshift64*) ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static bool chance(unsigned int percent)
{
	return rnd() % 100 < percent;
}

/* ---- the model and its memory ---- */

#define MEM_BASE 0x10000u
#define MEM_SIZE 0x10000u
#define SCRATCH 0x8000u /* the model may write [MEM_BASE + SCRATCH, MEM_BASE + MEM_SIZE) */
#define N_STREAMS 5

static uint8_t mem[MEM_SIZE];
static struct f8npu_model_config cfg;
static struct f8npu_mem port;
static uint64_t model_bytes;
static void *model_store, *snap_store;
static struct f8npu_dev *model;
static uint32_t stream_addr[N_STREAMS], stream_size[N_STREAMS];

static uint8_t *mem_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	(void)user;
	if (addr < MEM_BASE + (write ? SCRATCH : 0) || addr + len > MEM_BASE + MEM_SIZE ||
	    addr + len < addr)
		return NULL;
	return mem + (addr - MEM_BASE);
}

/* A copy of the model whose registers can be read without touching the real one's latch. */
static struct f8npu_dev *snapshot(void)
{
	memcpy(snap_store, model_store, model_bytes);
	return (struct f8npu_dev *)snap_store;
}

static uint32_t mread(struct f8npu_dev *dev, uint32_t off)
{
	return f8npu_dev_read(dev, off);
}

static bool model_busy(void)
{
	return mread(model, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY;
}

static struct f8npu_desc add_desc(void)
{
	struct f8npu_desc d = f8npu_desc_zero(F8NPU_OP_ADD);

	d.src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, 1, 8, 8);
	d.dst[0] = f8npu_tensor_dense(1, F8NPU_TYPE_U8, 0, 1, 1, 8, 8);
	return d;
}

/* Stream i at MEM_BASE + i * 0x1000: a header claiming @count descriptors, then @n of them. */
static void put_stream(int i, struct f8npu_cmd_header h, const struct f8npu_desc *d, uint32_t n)
{
	uint8_t *p = mem + i * 0x1000u;

	memcpy(p, &h, sizeof(h));
	memcpy(p + F8NPU_CMD_HEADER_SIZE, d, n * sizeof(*d));
	stream_addr[i] = MEM_BASE + i * 0x1000u;
	stream_size[i] = F8NPU_CMD_HEADER_SIZE + n * F8NPU_CMD_DESC_SIZE;
}

static void setup_streams(void)
{
	struct f8npu_desc d[4];
	struct f8npu_cmd_header h;

	/* 0: ADD, ADD, END (DONE, HEAD 3; waits below TAIL 3). */
	d[0] = add_desc();
	d[1] = add_desc();
	d[2] = f8npu_desc_zero(F8NPU_OP_END);
	put_stream(0, f8npu_header_make(3), d, 3);
	/* 1: bad magic (header error, ERR_INDEX 0xffffffff). */
	h = f8npu_header_make(1);
	h.magic ^= 1;
	put_stream(1, h, d + 2, 1);
	/* 2: ADD, bad opcode (error at index 1). */
	d[1] = f8npu_desc_zero(0x77);
	put_stream(2, f8npu_header_make(2), d, 2);
	/* 3: no descriptors (NO_END at 0). */
	put_stream(3, f8npu_header_make(0), d, 0);
	/* 4: ADD only (NO_END at 1). */
	put_stream(4, f8npu_header_make(1), d, 1);
	memset(mem + SCRATCH, 0x35, MEM_SIZE - SCRATCH);
}

static void model_init(void)
{
	model = f8npu_model_init(model_store, &cfg, &port);
	if (!model) {
		fprintf(stderr, "tb_regs: f8npu_model_init failed\n");
		exit(2);
	}
}

/* ---- coverage ---- */

static struct {
	uint64_t writes, reads, partial, aw_first, w_first, together, b_stall, r_stall;
	uint64_t done, errors, header_errors, waits, hi_nonzero, w1c_with_end, reset_with_end;
	uint64_t start_with_end, starts, soft_resets, perf_clears, undefined, pipelined, stray_ends;
	uint64_t hi_nonzero_model;
} cov;

/* ---- the AXI4-Lite master ---- */

/*
 * Writes and reads in flight, oldest first. AW and W each serve the oldest write
 * that has not sent that beat, so either channel may run a transaction or two
 * ahead of the other and of the responses; the slave must hold them off.
 */
struct wr_txn {
	bool aw_done, w_done, committed;
	uint32_t addr, data, strb;
	unsigned int aw_delay, w_delay;
};

struct rd_txn {
	bool ar_done, have_data;
	uint32_t addr, expect, data_seen;
	unsigned int ar_delay;
};

#define WR_MAX 3
#define RD_MAX 2
static struct wr_txn wrs[WR_MAX];
static struct rd_txn rds[RD_MAX];
static unsigned int n_wr, n_rd;
static struct wr_txn *wr; /* the one being generated */

#define QLEN 64
static struct {
	uint32_t addr[QLEN], data[QLEN];
	unsigned int head, tail;
} wq; /* scripted writes, issued before random ones */

static void queue_write(uint32_t addr, uint32_t data)
{
	wq.addr[wq.tail % QLEN] = addr;
	wq.data[wq.tail % QLEN] = data;
	wq.tail++;
}

/* Read sweep: every aligned offset in turn, then some unaligned ones. */
static unsigned int sweep_next = 0x2000, sweep_end = 0x2000;

static void start_sweep(void)
{
	sweep_next = 0;
	sweep_end = 0x1000 + 64;
}

static bool sweeping(void)
{
	return sweep_next < sweep_end;
}

/* The _LO halves of the five 64-bit counters (each _HI is at +4). */
static const uint32_t perf_lo[5] = { F8NPU_REG_PERF_CYCLES_LO, F8NPU_REG_PERF_MACS_LO,
				     F8NPU_REG_PERF_RD_LO, F8NPU_REG_PERF_WR_LO,
				     F8NPU_REG_PERF_STALL_LO };

/* Synthetic counters for the latch phase (instead of the model's). */
static bool synthetic;
static uint64_t syn_perf[5];
static uint32_t syn_descs, syn_latch;

static uint32_t pick_region_good(uint32_t field, uint32_t r)
{
	if (field == 0)
		return MEM_BASE + SCRATCH + r * 0x1000u + (chance(20) ? rnd() % 4 : 0);
	if (field == 2)
		return 0x100;
	return 0;
}

static void gen_write(void)
{
	uint32_t r = rnd() % 100, k;

	wr = &wrs[n_wr++];
	memset(wr, 0, sizeof(*wr));
	wr->strb = 0xf;
	wr->aw_delay = chance(50) ? 0 : rnd() % 4;
	wr->w_delay = chance(50) ? wr->aw_delay : rnd() % 4;
	if (wq.head != wq.tail) {
		wr->addr = wq.addr[wq.head % QLEN];
		wr->data = wq.data[wq.head % QLEN];
		wq.head++;
		return;
	}
	if (chance(5))
		wr->strb = rnd() % 15;
	k = rnd() % N_STREAMS;
	if (r < 3 && !synthetic) {
		/* A whole job: regions 0 and 1, the stream, TAIL, START. */
		queue_write(F8NPU_REG_REGION_BASE_LO(0), pick_region_good(0, 0));
		queue_write(F8NPU_REG_REGION_SIZE_LO(0), 0x100);
		queue_write(F8NPU_REG_REGION_BASE_LO(1), pick_region_good(0, 1));
		queue_write(F8NPU_REG_REGION_SIZE_LO(1), 0x100);
		queue_write(F8NPU_REG_CMD_BASE_LO, stream_addr[k]);
		queue_write(F8NPU_REG_CMD_BASE_HI, 0);
		queue_write(F8NPU_REG_CMD_SIZE, chance(10) ? rnd() % 64 : stream_size[k]);
		queue_write(F8NPU_REG_CMD_TAIL, rnd() % 5);
		queue_write(F8NPU_REG_IRQ_MASK, rnd() % 4);
		queue_write(F8NPU_REG_CTRL, F8NPU_CTRL_START);
		wr->addr = F8NPU_REG_IRQ_STATUS;
		wr->data = rnd() % 4;
	} else if (r < 15) {
		wr->addr = F8NPU_REG_CTRL;
		k = rnd() % 100;
		wr->data = k < 55 ? F8NPU_CTRL_START
			: k < 65 ? F8NPU_CTRL_SOFT_RESET | (chance(50) ? F8NPU_CTRL_START : 0)
			: k < 80 ? F8NPU_CTRL_PERF_CLEAR
			: rnd();
		if (synthetic)
			wr->data &= ~(uint32_t)F8NPU_CTRL_START;
	} else if (r < 23) {
		wr->addr = F8NPU_REG_CMD_BASE_LO;
		wr->data = chance(75) ? stream_addr[k] | (chance(20) ? rnd() % 4 : 0) : rnd();
	} else if (r < 27) {
		wr->addr = F8NPU_REG_CMD_BASE_HI;
		wr->data = chance(85) ? 0 : rnd();
	} else if (r < 33) {
		wr->addr = F8NPU_REG_CMD_SIZE;
		wr->data = chance(70) ? stream_size[k] : chance(50) ? rnd() % 64 : rnd();
	} else if (r < 43) {
		wr->addr = F8NPU_REG_CMD_TAIL;
		wr->data = chance(90) ? rnd() % 5 : rnd();
	} else if (r < 48) {
		wr->addr = F8NPU_REG_IRQ_MASK;
		wr->data = chance(70) ? rnd() % 4 : rnd();
	} else if (r < 58) {
		wr->addr = F8NPU_REG_IRQ_STATUS;
		wr->data = chance(70) ? rnd() % 4 : rnd();
	} else if (r < 75) {
		uint32_t reg = chance(60) ? rnd() % 2 : rnd() % F8NPU_REGIONS, field = rnd() % 4;

		wr->addr = F8NPU_REG_REGION_BASE + reg * F8NPU_REG_REGION_STRIDE + 4 * field;
		wr->data = reg < 2 && chance(70) ? pick_region_good(field, reg) : rnd();
	} else if (r < 90) {
		wr->addr = (rnd() % 0x1000) & ~3u;
		wr->data = rnd();
	} else {
		wr->addr = rnd() % 0x1000;
		wr->data = rnd();
	}
	if (wr->addr == F8NPU_REG_CTRL && synthetic)
		wr->data &= ~(uint32_t)F8NPU_CTRL_START;
}

static const uint32_t interesting_reads[] = {
	F8NPU_REG_STATUS,	 F8NPU_REG_ERR_CODE,	 F8NPU_REG_ERR_INDEX,	F8NPU_REG_IRQ_STATUS,
	F8NPU_REG_IRQ_MASK,	 F8NPU_REG_CMD_HEAD,	 F8NPU_REG_CMD_TAIL,	F8NPU_REG_CMD_BASE_LO,
	F8NPU_REG_CMD_BASE_HI,	 F8NPU_REG_CMD_SIZE,	 F8NPU_REG_PERF_DESCS,	F8NPU_REG_CTRL,
	F8NPU_REG_PERF_CYCLES_LO, F8NPU_REG_PERF_CYCLES_HI, F8NPU_REG_PERF_MACS_LO, F8NPU_REG_PERF_MACS_HI,
	F8NPU_REG_PERF_RD_LO,	 F8NPU_REG_PERF_RD_HI,	 F8NPU_REG_PERF_WR_LO,	F8NPU_REG_PERF_WR_HI,
	F8NPU_REG_PERF_STALL_LO, F8NPU_REG_PERF_STALL_HI,
};
#define N_INTERESTING (sizeof(interesting_reads) / sizeof(interesting_reads[0]))

static void gen_read(void)
{
	uint32_t r = rnd() % 100;
	struct rd_txn *rd = &rds[n_rd++];

	memset(rd, 0, sizeof(*rd));
	rd->ar_delay = chance(50) ? 0 : rnd() % 4;
	if (sweeping()) {
		rd->addr = sweep_next < 0x1000 ? sweep_next : rnd() % 0x1000;
		sweep_next += sweep_next < 0x1000 ? 4 : 1;
	} else if (r < 60) {
		rd->addr = interesting_reads[rnd() % N_INTERESTING];
	} else if (r < 75) {
		rd->addr = F8NPU_REG_REGION_BASE + (rnd() % F8NPU_REGIONS) * F8NPU_REG_REGION_STRIDE +
			  4 * (rnd() % 4);
	} else if (r < 92) {
		rd->addr = (rnd() % 0x1000) & ~3u;
	} else {
		rd->addr = rnd() % 0x1000;
	}
}

/* ---- model side of a transaction ---- */

static uint32_t syn_read(uint32_t off)
{
	int i;

	for (i = 0; i < 5; i++) {
		if (off == perf_lo[i]) {
			syn_latch = (uint32_t)(syn_perf[i] >> 32);
			return (uint32_t)syn_perf[i];
		}
		if (off == perf_lo[i] + 4)
			return syn_latch;
	}
	return off == F8NPU_REG_PERF_DESCS ? syn_descs : mread(model, off);
}

/* The value the RTL must return for a read taking effect now. */
static uint32_t model_read(uint32_t off)
{
	uint32_t v = synthetic ? syn_read(off) : mread(model, off);

	if (off == F8NPU_REG_IMPL)
		v = TB_IMPL; /* the model reports IMPL_MODEL */
	if (off >= F8NPU_REG_PERF_CYCLES_LO && off <= F8NPU_REG_PERF_STALL_HI && (off & 4) && v) {
		cov.hi_nonzero++;
		cov.hi_nonzero_model += !synthetic;
	}
	if (off == F8NPU_REG_STATUS && (v & F8NPU_STATUS_WAIT))
		cov.waits++;
	return v;
}

static struct {
	bool start, soft_reset, perf_clear;
} expect_pulse;

static void model_write(uint32_t addr, uint32_t data, uint32_t strb)
{
	bool ctrl = addr == F8NPU_REG_CTRL && strb == 0xf;

	cov.writes++;
	if (strb != 0xf) {
		cov.partial++;
		return; /* ignored (docs/regs.md) */
	}
	if (ctrl) {
		expect_pulse.soft_reset = data & F8NPU_CTRL_SOFT_RESET;
		expect_pulse.perf_clear = data & F8NPU_CTRL_PERF_CLEAR;
		expect_pulse.start = (data & F8NPU_CTRL_START) &&
				     (!model_busy() || (data & F8NPU_CTRL_SOFT_RESET));
		cov.starts += expect_pulse.start;
		cov.soft_resets += expect_pulse.soft_reset;
		cov.perf_clears += expect_pulse.perf_clear;
		if (expect_pulse.soft_reset)
			syn_latch = 0;
	}
	f8npu_dev_write(model, addr, data);
}

/* ---- one clock cycle ---- */

/* Drive the command processor's inputs from the model (as it stands after the last edge). */
static void drive_cmdproc_inputs(void)
{
	struct f8npu_dev *s = snapshot();
	uint64_t v[5];
	int i;

	for (i = 0; i < 5; i++) {
		v[i] = mread(s, perf_lo[i]);
		v[i] |= (uint64_t)mread(s, perf_lo[i] + 4) << 32;
		if (synthetic)
			v[i] = syn_perf[i];
	}
	top->perf_cycles_i = v[0];
	top->perf_macs_i = v[1];
	top->perf_rd_i = v[2];
	top->perf_wr_i = v[3];
	top->perf_stall_i = v[4];
	top->perf_descs_i = synthetic ? syn_descs : mread(s, F8NPU_REG_PERF_DESCS);
	top->head_i = mread(s, F8NPU_REG_CMD_HEAD);
	top->waiting_i = (mread(s, F8NPU_REG_STATUS) & F8NPU_STATUS_WAIT) != 0;
	if (chance(10) && !top->waiting_i && !(mread(s, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY))
		top->waiting_i = 1; /* meaningless while not busy: must not show */
	top->job_end_i = 0;
	top->job_err_i = rnd() & 0xf; /* ignored without job_end_i */
	top->job_err_index_i = rnd();
}

static void check_outputs(void)
{
	struct f8npu_dev *s = snapshot();
	uint32_t r;

	CHECK_EQ("busy_o", F8NPU_REG_STATUS, top->busy_o,
		 (mread(s, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY) != 0);
	CHECK_EQ("irq_o", F8NPU_REG_IRQ_STATUS, top->irq_o, f8npu_dev_irq(model));
	CHECK_EQ("cmd_base_o", F8NPU_REG_CMD_BASE_LO, top->cmd_base_o,
		 mread(s, F8NPU_REG_CMD_BASE_LO) | (uint64_t)mread(s, F8NPU_REG_CMD_BASE_HI) << 32);
	CHECK_EQ("cmd_size_o", F8NPU_REG_CMD_SIZE, top->cmd_size_o, mread(s, F8NPU_REG_CMD_SIZE));
	CHECK_EQ("cmd_tail_o", F8NPU_REG_CMD_TAIL, top->cmd_tail_o, mread(s, F8NPU_REG_CMD_TAIL));
	for (r = 0; r < F8NPU_REGIONS; r++) {
		CHECK_EQ("region_base_o lo", F8NPU_REG_REGION_BASE_LO(r), top->region_base_o[2 * r],
			 mread(s, F8NPU_REG_REGION_BASE_LO(r)));
		CHECK_EQ("region_base_o hi", F8NPU_REG_REGION_BASE_HI(r), top->region_base_o[2 * r + 1],
			 mread(s, F8NPU_REG_REGION_BASE_HI(r)));
		CHECK_EQ("region_size_o lo", F8NPU_REG_REGION_SIZE_LO(r), top->region_size_o[2 * r],
			 mread(s, F8NPU_REG_REGION_SIZE_LO(r)));
		CHECK_EQ("region_size_o hi", F8NPU_REG_REGION_SIZE_HI(r), top->region_size_o[2 * r + 1],
			 mread(s, F8NPU_REG_REGION_SIZE_HI(r)));
	}
	CHECK_EQ("start_o", F8NPU_REG_CTRL, top->start_o, expect_pulse.start);
	CHECK_EQ("soft_reset_o", F8NPU_REG_CTRL, top->soft_reset_o, expect_pulse.soft_reset);
	CHECK_EQ("perf_clear_o", F8NPU_REG_CTRL, top->perf_clear_o, expect_pulse.perf_clear);
}

static void hw_reset(void)
{
	top->rst_ni = 0;
	top->clk_i = 0;
	top->eval();
	n_wr = n_rd = 0;
	wq.head = wq.tail = 0;
	top->s_awvalid_i = top->s_wvalid_i = top->s_arvalid_i = 0;
	top->s_bready_i = top->s_rready_i = 0;
	model_init();
	syn_latch = 0;
	memset(&expect_pulse, 0, sizeof(expect_pulse));
	drive_cmdproc_inputs();
	top->eval();
	top->clk_i = 1;
	top->eval();
	top->clk_i = 0;
	top->rst_ni = 1;
	top->eval();
	check_outputs();
}

/* The oldest write that has not taken effect yet, or NULL. */
static struct wr_txn *next_commit(void)
{
	unsigned int i;

	for (i = 0; i < n_wr; i++)
		if (!wrs[i].committed)
			return &wrs[i];
	return NULL;
}

/* Progress or job end in this cycle (the test bench is the command processor). */
static struct {
	bool advance, end;
	uint64_t budget;
	uint32_t status, err, index, head;
} cp;

static void plan_cmdproc(void)
{
	struct f8npu_dev *s;
	struct wr_txn *w = next_commit();
	unsigned int i, p = 6;

	memset(&cp, 0, sizeof(cp));
	if (synthetic)
		return;
	s = snapshot();
	if (!(mread(s, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY) && chance(2)) {
		/* A job end while not busy (a command processor late for a SOFT_RESET): ignored. */
		top->job_end_i = 1;
		cov.stray_ends++;
		return;
	}
	if ((mread(s, F8NPU_REG_STATUS) & (F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT)) != F8NPU_STATUS_BUSY)
		return;
	/* A TAIL write could change how far the job gets: never while one is pending. */
	for (i = 0; i < n_wr; i++)
		if (!wrs[i].committed && wrs[i].addr == F8NPU_REG_CMD_TAIL)
			return;
	/* Make job ends meet IRQ_STATUS and CTRL writes at the same edge now and then. */
	if (w && (w->addr == F8NPU_REG_IRQ_STATUS || w->addr == F8NPU_REG_CTRL) &&
	    (w->aw_done || top->s_awvalid_i) && (w->w_done || top->s_wvalid_i) && !top->s_bvalid_o)
		p = 60;
	if (!chance(p))
		return;
	cp.advance = true;
	cp.budget = chance(60) ? 1 : UINT64_MAX;
	f8npu_dev_run(s, cp.budget, NULL);
	cp.status = mread(s, F8NPU_REG_STATUS);
	cp.head = mread(s, F8NPU_REG_CMD_HEAD);
	if (!(cp.status & F8NPU_STATUS_BUSY)) {
		cp.end = true;
		cp.err = mread(s, F8NPU_REG_ERR_CODE);
		cp.index = mread(s, F8NPU_REG_ERR_INDEX);
		top->job_end_i = 1;
		top->job_err_i = cp.err;
		top->job_err_index_i = cp.err ? cp.index : rnd(); /* only stored on error */
	}
}

static void run_cmdproc(void)
{
	uint32_t status;

	f8npu_dev_run(model, cp.budget, NULL);
	status = mread(model, F8NPU_REG_STATUS);
	if (cp.end) {
		CHECK_EQ("tb: model job end", 0, status & F8NPU_STATUS_BUSY, 0);
		if (status & F8NPU_STATUS_ERROR) {
			cov.errors++;
			cov.header_errors += cp.index == 0xffffffffu;
		} else {
			cov.done++;
		}
	} else {
		CHECK_EQ("tb: model progress", 0, status, cp.status);
		CHECK_EQ("tb: model head", 0, mread(model, F8NPU_REG_CMD_HEAD), cp.head);
	}
}

static struct wr_txn *first_wr(bool w_channel)
{
	unsigned int i;

	for (i = 0; i < n_wr; i++)
		if (!(w_channel ? wrs[i].w_done : wrs[i].aw_done))
			return &wrs[i];
	return NULL;
}

static struct rd_txn *first_ar(void)
{
	unsigned int i;

	for (i = 0; i < n_rd; i++)
		if (!rds[i].ar_done)
			return &rds[i];
	return NULL;
}

static void step(void)
{
	bool aw_hs, w_hs, b_hs, ar_hs, r_hs, bvalid_before, rvalid_before, committed, reset_write;
	bool pipelined;
	struct wr_txn *aw, *wd, *w;
	struct rd_txn *ar, *rd = n_rd ? &rds[0] : NULL;

	/* Master: new transactions (behind the ones in flight), valid/ready. */
	if (n_wr < WR_MAX && (wq.head != wq.tail || chance(n_wr ? 20 : 40)) && !sweeping())
		gen_write();
	if (n_rd < RD_MAX && chance(sweeping() ? 90 : n_rd ? 20 : 50))
		gen_read();
	aw = first_wr(false);
	wd = first_wr(true);
	ar = first_ar();
	top->s_awvalid_i = aw && aw->aw_delay == 0;
	top->s_awaddr_i = top->s_awvalid_i ? aw->addr : rnd() & 0xfff;
	top->s_wvalid_i = wd && wd->w_delay == 0;
	top->s_wdata_i = top->s_wvalid_i ? wd->data : rnd();
	top->s_wstrb_i = top->s_wvalid_i ? wd->strb : rnd() & 0xf;
	top->s_bready_i = chance(60);
	top->s_arvalid_i = ar && ar->ar_delay == 0;
	top->s_araddr_i = top->s_arvalid_i ? ar->addr : rnd() & 0xfff;
	top->s_rready_i = chance(60);
	plan_cmdproc();

	top->clk_i = 0;
	top->eval();
	aw_hs = top->s_awvalid_i && top->s_awready_o;
	w_hs = top->s_wvalid_i && top->s_wready_o;
	b_hs = top->s_bvalid_o && top->s_bready_i;
	ar_hs = top->s_arvalid_i && top->s_arready_o;
	r_hs = top->s_rvalid_o && top->s_rready_i;
	bvalid_before = top->s_bvalid_o;
	rvalid_before = top->s_rvalid_o;

	/* Read data: once valid it must stay put until taken. */
	if (rvalid_before) {
		if (!rd || !rd->ar_done) {
			fail(__LINE__, "RVALID without a read", 0, 1, 0);
			rd = NULL;
		} else {
			if (rd->have_data)
				CHECK_EQ("RDATA changed while RVALID", rd->addr, top->s_rdata_o, rd->data_seen);
			rd->have_data = true;
			rd->data_seen = top->s_rdata_o;
			if (!r_hs)
				cov.r_stall++;
		}
	}
	if (b_hs && (!n_wr || !wrs[0].committed))
		fail(__LINE__, "BVALID without a write that took effect", 0, 1, 0);
	if (b_hs)
		CHECK_EQ("BRESP", wrs[0].addr, top->s_bresp_o, 0);
	else if (bvalid_before)
		cov.b_stall++;

	top->clk_i = 1;
	top->eval();
	cycle++;

	/* Master bookkeeping. */
	pipelined = false;
	if (aw_hs && w_hs && aw == wd)
		cov.together++;
	else if (aw_hs && !aw->w_done)
		cov.aw_first++;
	else if (w_hs && !wd->aw_done)
		cov.w_first++;
	if (aw_hs) {
		aw->aw_done = true;
		pipelined |= aw != &wrs[0] || (n_wr && wrs[0].committed);
	} else if (aw && aw->aw_delay) {
		aw->aw_delay--;
	}
	if (w_hs) {
		wd->w_done = true;
		pipelined |= wd != &wrs[0] || (n_wr && wrs[0].committed);
	} else if (wd && wd->w_delay) {
		wd->w_delay--;
	}
	cov.pipelined += pipelined;
	if (ar_hs)
		ar->ar_done = true;
	else if (ar && ar->ar_delay)
		ar->ar_delay--;
	committed = !bvalid_before && top->s_bvalid_o;
	w = committed ? next_commit() : NULL;
	if (committed && !(w && w->aw_done && w->w_done)) {
		fail(__LINE__, "write took effect before both beats", w ? w->addr : 0, 1, 0);
		committed = false;
	}
	if (bvalid_before && !b_hs && !top->s_bvalid_o)
		fail(__LINE__, "BVALID dropped before BREADY", 0, 0, 1);
	if (rvalid_before && !r_hs && !top->s_rvalid_o)
		fail(__LINE__, "RVALID dropped before RREADY", 0, 0, 1);

	/* The model, in the order the RTL linearizes this edge. */
	memset(&expect_pulse, 0, sizeof(expect_pulse));
	if (ar_hs)
		ar->expect = model_read(ar->addr);
	reset_write = committed && w->addr == F8NPU_REG_CTRL && w->strb == 0xf &&
		      (w->data & F8NPU_CTRL_SOFT_RESET);
	if (committed && cp.end) {
		if (reset_write)
			cov.reset_with_end++;
		else if (w->addr == F8NPU_REG_IRQ_STATUS && w->strb == 0xf && (w->data & 3))
			cov.w1c_with_end++;
		else if (w->addr == F8NPU_REG_CTRL && w->strb == 0xf && (w->data & F8NPU_CTRL_START))
			cov.start_with_end++;
	}
	if (committed && !reset_write)
		model_write(w->addr, w->data, w->strb);
	if (cp.advance)
		run_cmdproc();
	if (reset_write)
		model_write(w->addr, w->data, w->strb);
	if (committed) {
		w->committed = true;
		if (w->strb == 0xf && (w->addr & 3 || w->addr >= 0x200 || (w->addr >= 0xb0 && w->addr < 0x100)))
			cov.undefined++;
	}

	/* Responses taken at this edge retire the oldest transaction. */
	if (b_hs && n_wr && wrs[0].committed) {
		memmove(&wrs[0], &wrs[1], (n_wr - 1) * sizeof(wrs[0]));
		n_wr--;
	}
	if (r_hs && rd) {
		CHECK_EQ("read", rd->addr, top->s_rdata_o, rd->expect);
		CHECK_EQ("RRESP", rd->addr, top->s_rresp_o, 0);
		cov.reads++;
		memmove(&rds[0], &rds[1], (n_rd - 1) * sizeof(rds[0]));
		n_rd--;
	}

	check_outputs();
	drive_cmdproc_inputs();
}

/* Run until the master is idle (the write queue and the sweep done). */
static void drain(void)
{
	unsigned int guard = 0;

	while ((n_wr || n_rd || wq.head != wq.tail || sweeping()) && guard++ < 200000)
		step();
	if (guard >= 200000)
		fail(__LINE__, "master never idle", 0, 0, 1);
}

static void sweep(void)
{
	start_sweep();
	drain();
}

int main(int argc, char **argv)
{
	VerilatedContext *ctx = new VerilatedContext;
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	unsigned int i, n;

	rng ^= seed * 0x100000001b3ull;
	ctx->commandArgs(argc, argv);
	top = new Vf8npu_regs{ ctx };

	f8npu_model_default_config(&cfg);
	cfg.rows = TB_ROWS;
	cfg.cols = TB_COLS;
	cfg.ibuf_bytes = TB_IBUF;
	cfg.wbuf_bytes = TB_WBUF;
	cfg.abuf_bytes = TB_ABUF;
	cfg.dram_latency = 0x50000000u; /* counters past 2^32 within a few fetches */
	port.map = mem_map;
	port.user = NULL;
	model_bytes = f8npu_model_storage_size();
	model_store = calloc(1, model_bytes);
	snap_store = calloc(1, model_bytes);
	if (!model_store || !snap_store)
		return 2;
	setup_streams();

	/* 1. Reset values of the whole 4 KiB space (and unaligned offsets). */
	phase = "reset values";
	hw_reset();
	sweep();

	/* 2. A write to every aligned offset (CTRL: nothing), all ones, then random; sweep. */
	phase = "write sweep";
	for (n = 0; n < 2; n++) {
		for (i = 0; i < 0x1000; i += 4) {
			queue_write(i, i == F8NPU_REG_CTRL ? 0 : n ? rnd() : 0xffffffffu);
			if (wq.tail - wq.head >= QLEN - 1)
				drain();
		}
		drain();
		sweep();
	}

	/* 3. Random traffic with jobs; a hardware reset halfway. */
	phase = "random";
	for (n = 0; n < 2; n++) {
		if (n)
			hw_reset();
		for (i = 0; i < 100000; i++)
			step();
		drain();
		sweep();
	}

	/* 4. The _HI latch with arbitrary 64-bit counters. */
	phase = "latch";
	synthetic = true;
	for (i = 0; i < 20000; i++) {
		if (i % 64 == 0) {
			for (n = 0; n < 5; n++)
				syn_perf[n] = (uint64_t)rnd() << 32 | rnd();
			syn_descs = rnd();
			drive_cmdproc_inputs();
		}
		step();
	}
	drain();

	/* Everything the run must have met at least once. */
	phase = "coverage";
	{
		static const struct {
			const char *name;
			uint64_t *count;
		} need[] = {
			{ "jobs done", &cov.done },
			{ "job errors", &cov.errors },
			{ "header errors", &cov.header_errors },
			{ "STATUS.WAIT reads", &cov.waits },
			{ "non-zero _HI reads", &cov.hi_nonzero },
			{ "non-zero _HI reads of the model's counters", &cov.hi_nonzero_model },
			{ "job end with an IRQ_STATUS write", &cov.w1c_with_end },
			{ "job end with SOFT_RESET", &cov.reset_with_end },
			{ "job end with START", &cov.start_with_end },
			{ "partial strobes", &cov.partial },
			{ "AW before W", &cov.aw_first },
			{ "W before AW", &cov.w_first },
			{ "AW with W", &cov.together },
			{ "B back-pressure", &cov.b_stall },
			{ "R back-pressure", &cov.r_stall },
			{ "START pulses", &cov.starts },
			{ "SOFT_RESET pulses", &cov.soft_resets },
			{ "PERF_CLEAR pulses", &cov.perf_clears },
			{ "undefined/unaligned writes", &cov.undefined },
			{ "write beats ahead of a response", &cov.pipelined },
			{ "job ends while not busy", &cov.stray_ends },
		};

		for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			if (!*need[i].count)
				fail(__LINE__, need[i].name, 0, 0, 1);
	}

	top->final();
	printf("rtl-regs-test: %s: seed %llu, %llu cycles, %llu writes, %llu reads, %llu jobs "
	       "(%llu done, %llu errors), %llu same-edge job ends "
	       "(%llu W1C, %llu SOFT_RESET, %llu START), "
	       "%u failures\n",
	       failures ? "FAIL" : "PASS", (unsigned long long)seed, (unsigned long long)cycle,
	       (unsigned long long)cov.writes, (unsigned long long)cov.reads,
	       (unsigned long long)(cov.done + cov.errors), (unsigned long long)cov.done,
	       (unsigned long long)cov.errors,
	       (unsigned long long)(cov.w1c_with_end + cov.reset_with_end + cov.start_with_end),
	       (unsigned long long)cov.w1c_with_end, (unsigned long long)cov.reset_with_end,
	       (unsigned long long)cov.start_with_end, failures);
	delete top;
	delete ctx;
	return failures ? 1 : 0;
}
