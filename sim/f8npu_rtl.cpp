// SPDX-License-Identifier: MIT
/*
 * The Verilator harness: the Verilated f8npu_core behind struct f8npu_dev
 * (f8npu_rtl.h), with an AXI4-Lite master for the registers and a latency
 * and bandwidth model serving the internal memory port (docs/rtl.md).
 *
 * One clock cycle is two evaluations. Between the rising edges the harness
 * drives this cycle's inputs (memory responses, ready, AXI4-Lite), lowers the
 * clock and evaluates, so the combinational outputs settle on the new inputs;
 * it then samples the handshakes that the coming edge completes, raises the
 * clock and evaluates. Inputs never change on the sampling edge.
 *
 * C-like C++: the only C++ is the Verilator API.
 *
 * Threads: several devices may run at once, one thread each (the runtime's rtl backend runs
 * one instance per --threads). Verilator 5.006 supports this when every model has its own
 * VerilatedContext and each context is used by one thread at a time: each device here owns
 * its context, model, trace and memory queues, and this file has no mutable static data.
 * Verilator's global API (errors, $finish, a failing assertion: Verilated::threadContextp())
 * is thread-local and points at the context built last in that thread, so every entry
 * point that evaluates the model first names this device's context (rtl_enter): a device
 * built in one thread and run in another still reports into its own context.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Vf8npu_core.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

#include "f8npu_rtl.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the memory port's data is copied as bytes: byte i = bits [8i+7:8i] needs a little-endian host"
#endif

#ifndef F8NPU_RTL_ROWS
#error "build with -DF8NPU_RTL_ROWS=<Rows> -DF8NPU_RTL_COLS=<Cols> of the Verilated core"
#endif

#define RTL_RESET_CYCLES 4u
#define RTL_QUEUE_CAP 1024u /* responses pending per stream; power of two */
#define RTL_AXI_TIMEOUT 10000u
#define RTL_MAX_LEN 64u
#define RTL_REG_SPACE 0x1000u

/* A read taken by the memory model: its response, due in cycle @due. */
struct rtl_rd {
	uint8_t data[RTL_MAX_LEN];
	uint64_t due;
	bool err;
};

struct rtl_wr {
	uint64_t due;
	bool err;
};

struct f8npu_rtl {
	struct f8npu_dev dev; /* first: the device interface */
	struct f8npu_mem mem;
	uint32_t bytes_per_cycle;
	uint32_t latency;
	uint32_t cost[RTL_MAX_LEN + 1]; /* service cycles of a request of n bytes */

	VerilatedContext *ctx;
	Vf8npu_core *top;
	VerilatedVcdC *vcd; /* or NULL */

	uint64_t cycle;       /* the cycle being clocked: rising edges so far */
	uint64_t server_free; /* first cycle the bandwidth server is free */

	/* Responses pending, in order: rings of RTL_QUEUE_CAP entries. */
	struct rtl_rd *rd;
	uint32_t rd_head, rd_count;
	struct rtl_wr *wr;
	uint32_t wr_head, wr_count;
	bool rd_data_dirty; /* mrs_data_i holds the last response: zero it when idle */
};

static struct f8npu_rtl *to_rtl(struct f8npu_dev *dev)
{
	return (struct f8npu_rtl *)dev;
}

/* This thread's Verilator context is the device's (see Threads above); a thread-local store. */
static inline struct f8npu_rtl *rtl_enter(struct f8npu_dev *dev)
{
	struct f8npu_rtl *r = to_rtl(dev);

	Verilated::threadContextp(r->ctx);
	return r;
}

/* An RTL bug or a broken harness invariant: say what and when, keep the trace, stop. */
static void __attribute__((noreturn, format(printf, 2, 3)))
rtl_die(struct f8npu_rtl *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "f8npu_rtl: cycle %llu: ", (unsigned long long)r->cycle);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (r->vcd)
		r->vcd->flush();
	abort();
}

/* ---- the memory model ---- */

static uint64_t rtl_serve(struct f8npu_rtl *r, uint32_t len)
{
	uint64_t start = r->server_free > r->cycle ? r->server_free : r->cycle;

	r->server_free = start + r->cost[len];
	return r->server_free + r->latency;
}

static void rtl_check_req(struct f8npu_rtl *r, const char *what, uint64_t addr, uint32_t len)
{
	if (len == 0 || len > RTL_MAX_LEN || addr + (len - 1) < addr)
		rtl_die(r, "%s request addr 0x%016llx len %u: length not 1..64 or range wraps (RTL bug)",
			what, (unsigned long long)addr, len);
}

/* The core's read request is taken at this cycle's rising edge. */
static void rtl_take_read(struct f8npu_rtl *r)
{
	Vf8npu_core *t = r->top;
	uint64_t addr = t->mrd_addr_o;
	uint32_t len = t->mrd_len_o;
	struct rtl_rd *e = &r->rd[(r->rd_head + r->rd_count) & (RTL_QUEUE_CAP - 1)];
	const uint8_t *src;
	uint32_t copied;

	rtl_check_req(r, "read", addr, len);
	src = r->mem.map(r->mem.user, addr, len, false);
	copied = src ? len : 0;
	if (copied)
		memcpy(e->data, src, copied);
	memset(e->data + copied, 0, RTL_MAX_LEN - copied);
	e->err = !src;
	e->due = rtl_serve(r, len);
	r->rd_count++;
}

/* The core's write request is taken (and performed) at this cycle's rising edge. */
static void rtl_take_write(struct f8npu_rtl *r)
{
	Vf8npu_core *t = r->top;
	uint64_t addr = t->mwr_addr_o;
	uint32_t len = t->mwr_len_o;
	struct rtl_wr *e = &r->wr[(r->wr_head + r->wr_count) & (RTL_QUEUE_CAP - 1)];
	uint8_t *dst;

	rtl_check_req(r, "write", addr, len);
	dst = r->mem.map(r->mem.user, addr, len, true);
	e->err = !dst;
	if (dst)
		memcpy(dst, t->mwr_data_o.data(), len); /* byte i = bits [8i+7:8i]: little-endian host */
	e->due = rtl_serve(r, len);
	r->wr_count++;
}

/* Drive the memory port's inputs for the current cycle. */
static inline void rtl_drive_mem(struct f8npu_rtl *r)
{
	Vf8npu_core *t = r->top;

	if (r->rd_count && r->rd[r->rd_head].due <= r->cycle) {
		const struct rtl_rd *e = &r->rd[r->rd_head];

		t->mrs_valid_i = 1;
		t->mrs_err_i = e->err;
		memcpy(t->mrs_data_i.data(), e->data, RTL_MAX_LEN);
		r->rd_data_dirty = true;
		r->rd_head = (r->rd_head + 1) & (RTL_QUEUE_CAP - 1);
		r->rd_count--;
	} else {
		t->mrs_valid_i = 0;
		t->mrs_err_i = 0;
		if (r->rd_data_dirty) {
			memset(t->mrs_data_i.data(), 0, RTL_MAX_LEN);
			r->rd_data_dirty = false;
		}
	}
	if (r->wr_count && r->wr[r->wr_head].due <= r->cycle) {
		t->mws_valid_i = 1;
		t->mws_err_i = r->wr[r->wr_head].err;
		r->wr_head = (r->wr_head + 1) & (RTL_QUEUE_CAP - 1);
		r->wr_count--;
	} else {
		t->mws_valid_i = 0;
		t->mws_err_i = 0;
	}
	t->mrd_ready_i = r->rd_count < RTL_QUEUE_CAP;
	t->mwr_ready_i = r->wr_count < RTL_QUEUE_CAP;
}

/* ---- clocking ---- */

/* First half of a cycle: inputs, falling edge, memory handshakes of the coming edge. */
static inline void rtl_fall(struct f8npu_rtl *r)
{
	Vf8npu_core *t = r->top;

	rtl_drive_mem(r);
	t->clk_i = 0;
	t->eval();
	if (r->vcd)
		r->vcd->dump(2 * r->cycle);
	if (t->mrd_valid_o && t->mrd_ready_i)
		rtl_take_read(r);
	if (t->mwr_valid_o && t->mwr_ready_i)
		rtl_take_write(r);
}

/* Second half: the rising edge. */
static inline void rtl_rise(struct f8npu_rtl *r)
{
	Vf8npu_core *t = r->top;

	t->clk_i = 1;
	t->eval();
	if (r->vcd)
		r->vcd->dump(2 * r->cycle + 1);
	r->cycle++;
}

static inline void rtl_clock(struct f8npu_rtl *r)
{
	rtl_fall(r);
	rtl_rise(r);
}

/* ---- struct f8npu_dev ---- */

static uint32_t rtl_reg_read(struct f8npu_dev *dev, uint32_t off)
{
	struct f8npu_rtl *r = rtl_enter(dev);
	Vf8npu_core *t = r->top;
	bool ar_done = false;
	uint32_t val = 0, n;

	/* Not expressible on the 12-bit bus of aligned words: undefined, reads 0. */
	if (off >= RTL_REG_SPACE || (off & 3))
		return 0;
	t->s_araddr_i = (uint16_t)off;
	t->s_arvalid_i = 1;
	t->s_rready_i = 1;
	for (n = 0;; n++) {
		bool ar_hs, r_hs;

		if (n == RTL_AXI_TIMEOUT)
			rtl_die(r, "AXI4-Lite read of 0x%03x: no %s in %u cycles", off,
				ar_done ? "R" : "ARREADY", n);
		rtl_fall(r);
		ar_hs = t->s_arvalid_i && t->s_arready_o;
		r_hs = t->s_rvalid_o && t->s_rready_i;
		if (r_hs) {
			if (!ar_done)
				rtl_die(r, "AXI4-Lite read of 0x%03x: RVALID before the address was taken", off);
			if (t->s_rresp_o)
				rtl_die(r, "AXI4-Lite read of 0x%03x: RRESP %u", off, t->s_rresp_o);
			val = t->s_rdata_o;
		}
		rtl_rise(r);
		if (ar_hs) {
			ar_done = true;
			t->s_arvalid_i = 0;
		}
		if (r_hs)
			break;
	}
	t->s_rready_i = 0;
	return val;
}

static void rtl_reg_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct f8npu_rtl *r = rtl_enter(dev);
	Vf8npu_core *t = r->top;
	bool aw_done = false, w_done = false;
	uint32_t n;

	if (off >= RTL_REG_SPACE || (off & 3))
		return;
	t->s_awaddr_i = (uint16_t)off;
	t->s_awvalid_i = 1;
	t->s_wdata_i = val;
	t->s_wstrb_i = 0xf;
	t->s_wvalid_i = 1;
	t->s_bready_i = 1;
	for (n = 0;; n++) {
		bool aw_hs, w_hs, b_hs;

		if (n == RTL_AXI_TIMEOUT)
			rtl_die(r, "AXI4-Lite write of 0x%03x: no %s in %u cycles", off,
				!aw_done ? "AWREADY" : !w_done ? "WREADY" : "B", n);
		rtl_fall(r);
		aw_hs = t->s_awvalid_i && t->s_awready_o;
		w_hs = t->s_wvalid_i && t->s_wready_o;
		b_hs = t->s_bvalid_o && t->s_bready_i;
		if (b_hs) {
			if (!aw_done || !w_done)
				rtl_die(r, "AXI4-Lite write of 0x%03x: BVALID before address and data were taken",
					off);
			if (t->s_bresp_o)
				rtl_die(r, "AXI4-Lite write of 0x%03x: BRESP %u", off, t->s_bresp_o);
		}
		rtl_rise(r);
		if (aw_hs) {
			aw_done = true;
			t->s_awvalid_i = 0;
		}
		if (w_hs) {
			w_done = true;
			t->s_wvalid_i = 0;
		}
		if (b_hs)
			break;
	}
	t->s_bready_i = 0;
}

static bool rtl_irq(struct f8npu_dev *dev)
{
	return to_rtl(dev)->top->irq_o;
}

static enum f8npu_run_result rtl_run(struct f8npu_dev *dev, uint64_t max_cycles, uint64_t *cycles)
{
	struct f8npu_rtl *r = rtl_enter(dev);
	const Vf8npu_core *t = r->top;
	enum f8npu_run_result res = F8NPU_RUN_IDLE;
	uint64_t n = 0;

	while (t->busy_o && !t->waiting_o) {
		if (n == max_cycles) {
			res = F8NPU_RUN_BUDGET;
			break;
		}
		rtl_clock(r);
		n++;
	}
	if (cycles)
		*cycles = n;
	return res;
}

static void rtl_free(struct f8npu_rtl *r)
{
	if (r->top)
		r->top->final();
	if (r->vcd) {
		r->vcd->close();
		delete r->vcd;
	}
	delete r->top;
	if (r->ctx) {
		delete r->ctx;
		/* Verilator's thread-local and last-used context must not name the deleted one. */
		Verilated::threadContextp(nullptr);
	}
	free(r->rd);
	free(r->wr);
	free(r);
}

static void rtl_destroy(struct f8npu_dev *dev)
{
	rtl_free(rtl_enter(dev));
}

static const struct f8npu_dev_ops rtl_ops = {
	/* .reg_read  = */ rtl_reg_read,
	/* .reg_write = */ rtl_reg_write,
	/* .irq       = */ rtl_irq,
	/* .run       = */ rtl_run,
	/* .destroy   = */ rtl_destroy,
};

/* ---- public ---- */

void f8npu_rtl_default_config(struct f8npu_rtl_config *cfg)
{
	cfg->dram_bytes_per_cycle = 16;
	cfg->dram_latency = 64;
	cfg->vcd_path = NULL;
}

uint32_t f8npu_rtl_rows(void)
{
	return F8NPU_RTL_ROWS;
}

uint32_t f8npu_rtl_cols(void)
{
	return F8NPU_RTL_COLS;
}

void f8npu_rtl_step(struct f8npu_dev *dev, uint64_t cycles)
{
	struct f8npu_rtl *r = rtl_enter(dev);

	while (cycles--)
		rtl_clock(r);
}

uint64_t f8npu_rtl_cycles(struct f8npu_dev *dev)
{
	return to_rtl(dev)->cycle;
}

/* Asynchronous reset: assert rst_ni with the clock running, release it between edges. */
static void rtl_reset(struct f8npu_rtl *r)
{
	Vf8npu_core *t = r->top;
	uint32_t i;

	t->clk_i = 0;
	t->rst_ni = 1;
	t->eval();
	t->rst_ni = 0;
	for (i = 0; i < RTL_RESET_CYCLES; i++) {
		t->clk_i = 0;
		t->eval();
		if (r->vcd)
			r->vcd->dump(2 * r->cycle);
		rtl_rise(r);
	}
	t->rst_ni = 1;
	rtl_clock(r);
}

struct f8npu_dev *f8npu_rtl_create(const struct f8npu_rtl_config *cfg, const struct f8npu_mem *mem)
{
	struct f8npu_rtl_config def;
	struct f8npu_rtl *r;
	uint32_t n;

	if (!cfg) {
		f8npu_rtl_default_config(&def);
		cfg = &def;
	}
	if (!mem || !mem->map || cfg->dram_bytes_per_cycle < 1)
		return NULL;
	if (cfg->vcd_path) {
		FILE *f = fopen(cfg->vcd_path, "w"); /* Verilator would abort on an unwritable path */

		if (!f)
			return NULL;
		fclose(f);
	}
	r = (struct f8npu_rtl *)calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->dev.ops = &rtl_ops;
	r->mem = *mem;
	r->bytes_per_cycle = cfg->dram_bytes_per_cycle;
	r->latency = cfg->dram_latency;
	for (n = 0; n <= RTL_MAX_LEN; n++)
		r->cost[n] = (n + r->bytes_per_cycle - 1) / r->bytes_per_cycle;
	r->rd = (struct rtl_rd *)calloc(RTL_QUEUE_CAP, sizeof(*r->rd));
	r->wr = (struct rtl_wr *)calloc(RTL_QUEUE_CAP, sizeof(*r->wr));
	if (!r->rd || !r->wr)
		goto out_free;

	r->ctx = new VerilatedContext;
	if (cfg->vcd_path)
		r->ctx->traceEverOn(true);
	r->top = new Vf8npu_core(r->ctx, "f8npu_core");
	if (cfg->vcd_path) {
		r->vcd = new VerilatedVcdC;
		r->top->trace(r->vcd, 99);
		r->vcd->open(cfg->vcd_path);
	}
	rtl_reset(r);
	return &r->dev;

out_free:
	rtl_free(r);
	return NULL;
}
