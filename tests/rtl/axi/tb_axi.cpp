// SPDX-License-Identifier: MIT
/*
 * tb_axi: f8npu_axi_master alone, between a random request generator playing the core
 * (docs/rtl.md's internal memory port) and an AXI4 slave memory model.
 *
 * The slave has random ready/valid stalls and a random latency per burst, answers
 * SLVERR on a configurable address range and DECERR on a fixed one, and checks the
 * AXI4 rules the adapter promises: aligned full beats, INCR, no 4 KiB crossing, ID 0,
 * WLAST on the last beat, payload held while VALID waits for READY. The generator keeps
 * reads and writes in flight on both streams without letting them touch the same bytes
 * (the core never does), and checks every response against a shadow memory: read data
 * (zero past len, zero on error), error flags, and at the end the whole memory, which
 * shows that WSTRB covered exactly the requested bytes.
 *
 * Phases: random traffic with stalls, heavy stalls with long latency, no stalls, traffic
 * around the error ranges, then two throughput phases whose beat rate must reach
 * TB_MIN_RATE: 16-byte aligned reads with a latency of 100 cycles, 64- and 16-byte writes
 * (16-byte aligned) with a B latency of 32 cycles.
 *
 * Usage: tb_axi [seed=N] [n=REQUESTS] [err=LO:HI] [+verilator+...]
 * One summary line on stdout; exit status 1 on the first failure (reported on stderr).
 *
 * C-like C++: the only C++ is the Verilator API.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "Vf8npu_axi_master.h"
#include "verilated.h"

#ifndef TB_AXI_BYTES
#define TB_AXI_BYTES 16 /* the DUT's AxiDataBytes */
#endif

#define BB TB_AXI_BYTES
#define MAX_BEATS (64 / BB + 1)
#define WIN_COUNT 4
#define WIN_SIZE 0x4000u /* 4 pages per window */
#define RING 1024u       /* capacity of every queue; power of two */
#define STALL_LIMIT 20000u
#define TB_MIN_RATE 0.90 /* AXI data beats per cycle in the throughput phases */

/* ---- random numbers: xorshift64* ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) % n);
}

static bool chance(uint32_t percent)
{
	return rnd_below(100) < percent;
}

/* ---- memory: four windows of the 64-bit space, real and expected ---- */

static const uint64_t win_base[WIN_COUNT] = {
	0x0000000080000000ull,
	0x0000001234560000ull,
	0x7ffffffffffff000ull - 0x1000, /* straddles bit 63: carry of the page increment */
	0xffffffffffffc000ull,          /* the last 16 KiB of the address space */
};
static uint8_t mem[WIN_COUNT][WIN_SIZE];    /* what the AXI slave holds */
static uint8_t shadow[WIN_COUNT][WIN_SIZE]; /* what it must hold */

/* The window holding [addr, addr + len), or -1. */
static int win_of(uint64_t addr, uint32_t len, uint32_t *off)
{
	for (int w = 0; w < WIN_COUNT; w++) {
		uint64_t o = addr - win_base[w];

		if (o < WIN_SIZE && len <= WIN_SIZE - o) {
			*off = (uint32_t)o;
			return w;
		}
	}
	return -1;
}

/* Error ranges [lo, hi): a beat touching one answers resp. */
struct err_range {
	uint64_t lo, hi;
	uint32_t resp;
};
static struct err_range err_ranges[2] = {
	/* split requests with only the first, or only the second, burst failing */
	{ 0x0000001234561ff0ull, 0x0000001234562000ull, 2 }, /* SLVERR, up to a page boundary */
	{ 0xffffffffffffe000ull, 0xffffffffffffe020ull, 3 }, /* DECERR, from a page boundary */
};

static uint32_t beat_resp(uint64_t beat_addr)
{
	for (int i = 0; i < 2; i++)
		if (beat_addr + BB > err_ranges[i].lo && beat_addr < err_ranges[i].hi)
			return err_ranges[i].resp;
	return 0;
}

/* Does any beat covering [addr, addr + len) fail? */
static bool req_err(uint64_t addr, uint32_t len)
{
	for (uint64_t b = addr & ~(uint64_t)(BB - 1); b <= addr + (len - 1); b += BB) {
		if (beat_resp(b))
			return true;
		if (b + BB == 0)
			break;
	}
	return false;
}

/* ---- the test bench state ---- */

struct burst {
	uint64_t addr;
	uint32_t beats, done;
	uint64_t due; /* first cycle the slave may answer */
};

struct wbeat {
	uint8_t data[BB];
	uint64_t strb;
	bool last;
};

struct rd_exp {
	uint64_t addr;
	uint32_t len;
	bool err;
	uint8_t data[64];
};

struct wr_exp {
	uint64_t addr;
	uint32_t len;
	bool err;
};

struct phase {
	const char *name;
	uint32_t p_rd, p_wr;                  /* % of cycles a new request starts */
	uint32_t p_ar, p_aw, p_w, p_r, p_b;   /* % of cycles the slave is ready / valid */
	uint32_t lat_min, lat_max;            /* slave latency of a burst, cycles */
	int mode;
};

enum { MODE_RANDOM, MODE_ERRORS, MODE_STREAM_RD, MODE_STREAM_WR };

struct tb {
	VerilatedContext *ctx;
	Vf8npu_axi_master *top;
	uint64_t seed;
	uint64_t cycle, last_progress;
	const struct phase *ph;

	/* the slave */
	struct burst ar[RING], aw[RING];
	uint32_t ar_head, ar_count, aw_head, aw_count;
	struct wbeat w[RING];
	uint32_t w_head, w_count;
	uint64_t b_due[RING];
	uint32_t b_resp[RING], b_head, b_count;
	bool r_on, b_on;              /* R / B beat presented */
	bool ar_wait, aw_wait, w_wait; /* VALID without READY last cycle: payload must hold */
	uint64_t ar_addr_w, aw_addr_w;
	uint32_t ar_len_w, aw_len_w;
	uint8_t w_data_w[BB];
	uint64_t w_strb_w;
	bool w_last_w;

	/* the generator */
	bool rd_on, wr_on;            /* a request presented */
	uint64_t rd_addr, wr_addr, stream_addr;
	uint32_t rd_len, wr_len;
	uint8_t wr_data[64];
	struct rd_exp rx[RING];
	uint32_t rx_head, rx_count;
	struct wr_exp wx[RING];
	uint32_t wx_head, wx_count;
	uint32_t rd_left, wr_left;    /* requests of this phase still to issue */

	/* statistics */
	uint64_t reads, writes, rd_errs, wr_errs, splits, r_beats, w_beats;
	uint64_t max_reads_inflight;
};

static struct tb tb;

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tb_axi: cycle %" PRIu64 " (%s): ", tb.cycle, tb.ph ? tb.ph->name : "reset");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	printf("tb_axi: FAIL AxiDataBytes=%d seed=%" PRIu64 "\n", BB, tb.seed);
	exit(1);
}

/* ---- wide signals: byte i = bits [8i+7:8i] of little-endian words ---- */

#if BB == 8
#define BEAT(sig) (&(sig)) /* QData */
#else
#define BEAT(sig) ((sig).data()) /* VlWide */
#endif

/* ---- the AXI4 slave ---- */

static void check_burst(const char *ch, uint64_t addr, uint32_t len, uint32_t size,
			uint32_t burst, uint32_t id)
{
	uint32_t off;

	if (addr % BB || size != (uint32_t)__builtin_ctz(BB) || burst != 1 || id != 0)
		fail("%s addr 0x%016" PRIx64 " size %u burst %u id %u: not an aligned INCR burst of "
		     "full beats with ID 0", ch, addr, size, burst, id);
	if (len + 1 > MAX_BEATS)
		fail("%s addr 0x%016" PRIx64 " len %u: longer than a request", ch, addr, len);
	if ((addr & 0xfff) + (uint64_t)(len + 1) * BB > 0x1000)
		fail("%s addr 0x%016" PRIx64 " len %u: crosses 4 KiB", ch, addr, len);
	if (win_of(addr, (len + 1) * BB, &off) < 0)
		fail("%s addr 0x%016" PRIx64 " len %u: outside the memory", ch, addr, len);
}

static uint64_t latency(void)
{
	const struct phase *ph = tb.ph;

	return ph->lat_min + rnd_below(ph->lat_max - ph->lat_min + 1);
}

/* Inputs of the slave for this cycle. */
static void slave_drive(void)
{
	Vf8npu_axi_master *t = tb.top;
	const struct phase *ph = tb.ph;
	uint8_t beat[BB];

	t->m_axi_arready = chance(ph->p_ar) && tb.ar_count < RING;
	t->m_axi_awready = chance(ph->p_aw) && tb.aw_count < RING;
	t->m_axi_wready = chance(ph->p_w) && tb.w_count < RING;

	if (!tb.r_on && tb.ar_count && tb.ar[tb.ar_head].due <= tb.cycle && chance(ph->p_r))
		tb.r_on = true;
	if (tb.r_on) {
		struct burst *a = &tb.ar[tb.ar_head];
		uint64_t ba = a->addr + (uint64_t)a->done * BB;
		uint32_t resp = beat_resp(ba), off;
		int w = win_of(ba, BB, &off);

		if (resp)
			for (int i = 0; i < BB; i++)
				beat[i] = (uint8_t)rnd(); /* garbage the adapter must not pass on */
		else
			memcpy(beat, &mem[w][off], BB);
		t->m_axi_rresp = resp;
		t->m_axi_rlast = a->done + 1 == a->beats;
	} else {
		for (int i = 0; i < BB; i++)
			beat[i] = (uint8_t)rnd();
		t->m_axi_rresp = rnd_below(4);
		t->m_axi_rlast = rnd_below(2);
	}
	memcpy(BEAT(t->m_axi_rdata), beat, BB);
	t->m_axi_rvalid = tb.r_on;
	t->m_axi_rid = 0;

	if (!tb.b_on && tb.b_count && tb.b_due[tb.b_head] <= tb.cycle && chance(ph->p_b))
		tb.b_on = true;
	t->m_axi_bvalid = tb.b_on;
	t->m_axi_bresp = tb.b_on ? tb.b_resp[tb.b_head] : rnd_below(4);
	t->m_axi_bid = 0;
}

/* Complete the writes whose AW and W beats have all arrived. */
static void slave_writes(void)
{
	while (tb.aw_count) {
		struct burst *a = &tb.aw[tb.aw_head];
		uint32_t resp = 0;

		if (tb.w_count < a->beats)
			return;
		for (uint32_t k = 0; k < a->beats; k++) {
			struct wbeat *b = &tb.w[tb.w_head];
			uint64_t ba = a->addr + (uint64_t)k * BB;
			uint32_t br = beat_resp(ba), off;
			int w = win_of(ba, BB, &off);

			if (b->last != (k + 1 == a->beats))
				fail("W beat %u of %u of the burst at 0x%016" PRIx64 ": WLAST %d",
				     k + 1, a->beats, a->addr, b->last);
			if (!b->strb)
				fail("W beat %u of the burst at 0x%016" PRIx64 ": no byte strobed", k,
				     a->addr);
			if (br)
				resp = resp > br ? resp : br;
			else
				for (int i = 0; i < BB; i++)
					if (b->strb >> i & 1)
						mem[w][off + i] = b->data[i];
			tb.w_head = (tb.w_head + 1) & (RING - 1);
			tb.w_count--;
		}
		tb.aw_head = (tb.aw_head + 1) & (RING - 1);
		tb.aw_count--;
		if (tb.b_count == RING)
			fail("B queue overflow");
		tb.b_due[(tb.b_head + tb.b_count) & (RING - 1)] = tb.cycle + latency();
		tb.b_resp[(tb.b_head + tb.b_count) & (RING - 1)] = resp;
		tb.b_count++;
	}
}

/* Handshakes of the slave at the coming edge, and the AXI rules. */
static void slave_sample(void)
{
	Vf8npu_axi_master *t = tb.top;
	uint8_t wdata[BB];

	if (t->m_axi_arlock || t->m_axi_awlock)
		fail("exclusive access");
	/* AR */
	if (tb.ar_wait && (!t->m_axi_arvalid || t->m_axi_araddr != tb.ar_addr_w ||
			   t->m_axi_arlen != tb.ar_len_w))
		fail("AR changed or dropped while waiting for ARREADY");
	tb.ar_wait = t->m_axi_arvalid && !t->m_axi_arready;
	tb.ar_addr_w = t->m_axi_araddr;
	tb.ar_len_w = t->m_axi_arlen;
	if (t->m_axi_arvalid && t->m_axi_arready) {
		struct burst *a = &tb.ar[(tb.ar_head + tb.ar_count) & (RING - 1)];

		check_burst("AR", t->m_axi_araddr, t->m_axi_arlen, t->m_axi_arsize, t->m_axi_arburst,
			    t->m_axi_arid);
		a->addr = t->m_axi_araddr;
		a->beats = t->m_axi_arlen + 1u;
		a->done = 0;
		a->due = tb.cycle + latency();
		tb.ar_count++;
	}
	/* AW */
	if (tb.aw_wait && (!t->m_axi_awvalid || t->m_axi_awaddr != tb.aw_addr_w ||
			   t->m_axi_awlen != tb.aw_len_w))
		fail("AW changed or dropped while waiting for AWREADY");
	tb.aw_wait = t->m_axi_awvalid && !t->m_axi_awready;
	tb.aw_addr_w = t->m_axi_awaddr;
	tb.aw_len_w = t->m_axi_awlen;
	if (t->m_axi_awvalid && t->m_axi_awready) {
		struct burst *a = &tb.aw[(tb.aw_head + tb.aw_count) & (RING - 1)];

		check_burst("AW", t->m_axi_awaddr, t->m_axi_awlen, t->m_axi_awsize, t->m_axi_awburst,
			    t->m_axi_awid);
		a->addr = t->m_axi_awaddr;
		a->beats = t->m_axi_awlen + 1u;
		tb.aw_count++;
	}
	/* W */
	memcpy(wdata, BEAT(t->m_axi_wdata), BB);
	if (tb.w_wait && (!t->m_axi_wvalid || memcmp(wdata, tb.w_data_w, BB) ||
			  t->m_axi_wstrb != tb.w_strb_w || t->m_axi_wlast != tb.w_last_w))
		fail("W changed or dropped while waiting for WREADY");
	tb.w_wait = t->m_axi_wvalid && !t->m_axi_wready;
	memcpy(tb.w_data_w, wdata, BB);
	tb.w_strb_w = t->m_axi_wstrb;
	tb.w_last_w = t->m_axi_wlast;
	if (t->m_axi_wvalid && t->m_axi_wready) {
		struct wbeat *b = &tb.w[(tb.w_head + tb.w_count) & (RING - 1)];

		memcpy(b->data, wdata, BB);
		b->strb = t->m_axi_wstrb;
		b->last = t->m_axi_wlast;
		tb.w_count++;
		tb.w_beats++;
	}
	/* R */
	if (tb.r_on && t->m_axi_rready) {
		struct burst *a = &tb.ar[tb.ar_head];

		tb.r_on = false;
		tb.r_beats++;
		if (++a->done == a->beats) {
			tb.ar_head = (tb.ar_head + 1) & (RING - 1);
			tb.ar_count--;
		}
	}
	/* B */
	if (tb.b_on && t->m_axi_bready) {
		tb.b_on = false;
		tb.b_head = (tb.b_head + 1) & (RING - 1);
		tb.b_count--;
	}
	slave_writes();
}

/* ---- the generator: the core's side ---- */

/* Do [a, a + al) and [b, b + bl) share a byte? (a range may end at 2^64) */
static bool overlap(uint64_t a, uint32_t al, uint64_t b, uint32_t bl)
{
	return a - b < bl || b - a < al;
}

static bool conflicts_writes(uint64_t addr, uint32_t len)
{
	for (uint32_t i = 0; i < tb.wx_count; i++) {
		const struct wr_exp *e = &tb.wx[(tb.wx_head + i) & (RING - 1)];

		if (overlap(addr, len, e->addr, e->len))
			return true;
	}
	return tb.wr_on && overlap(addr, len, tb.wr_addr, tb.wr_len);
}

static bool conflicts_reads(uint64_t addr, uint32_t len)
{
	for (uint32_t i = 0; i < tb.rx_count; i++) {
		const struct rd_exp *e = &tb.rx[(tb.rx_head + i) & (RING - 1)];

		if (overlap(addr, len, e->addr, e->len))
			return true;
	}
	return tb.rd_on && overlap(addr, len, tb.rd_addr, tb.rd_len);
}

/* A random request inside one window, biased to page boundaries and error ranges. */
static void pick(uint64_t *addr, uint32_t *len)
{
	uint32_t w = rnd_below(WIN_COUNT), l, off, r = rnd_below(100);
	int64_t o;

	if (r < 30)
		l = 64;
	else if (r < 45)
		l = 16;
	else
		l = 1 + rnd_below(64);
	r = rnd_below(100);
	if (tb.ph->mode == MODE_ERRORS || r < 10) {
		const struct err_range *e = &err_ranges[rnd_below(2)];
		uint32_t eo;

		w = win_of(e->lo, 1, &eo);
		o = (int64_t)eo - 80 + rnd_below((uint32_t)(e->hi - e->lo) + 160);
	} else if (r < 40) {
		o = (int64_t)(1 + rnd_below(WIN_SIZE / 0x1000 - 1)) * 0x1000 - 72 + rnd_below(144);
	} else {
		o = rnd_below(WIN_SIZE);
	}
	if (o < 0)
		o = 0;
	off = (uint32_t)o;
	if (off > WIN_SIZE - l)
		off = WIN_SIZE - l;
	*addr = win_base[w] + off;
	*len = l;
}

static void gen_drive(void)
{
	Vf8npu_axi_master *t = tb.top;
	const struct phase *ph = tb.ph;

	if (!tb.rd_on && tb.rd_left && chance(ph->p_rd)) {
		for (int tries = 0; tries < 8 && !tb.rd_on; tries++) {
			if (ph->mode == MODE_STREAM_RD) {
				tb.rd_addr = win_base[0] + tb.stream_addr;
				tb.rd_len = 16;
				tb.stream_addr = (tb.stream_addr + 16) % WIN_SIZE;
			} else {
				pick(&tb.rd_addr, &tb.rd_len);
			}
			tb.rd_on = !conflicts_writes(tb.rd_addr, tb.rd_len);
		}
	}
	if (!tb.wr_on && tb.wr_left && chance(ph->p_wr)) {
		for (int tries = 0; tries < 8 && !tb.wr_on; tries++) {
			if (ph->mode == MODE_STREAM_WR) {
				tb.wr_len = tb.wr_left & 1 ? 64 : 16;
				if (tb.stream_addr + tb.wr_len > WIN_SIZE)
					tb.stream_addr = 0;
				tb.wr_addr = win_base[0] + tb.stream_addr;
				tb.stream_addr += tb.wr_len;
			} else {
				pick(&tb.wr_addr, &tb.wr_len);
			}
			tb.wr_on = !conflicts_reads(tb.wr_addr, tb.wr_len);
		}
		if (tb.wr_on)
			for (int i = 0; i < 64; i++)
				tb.wr_data[i] = (uint8_t)rnd(); /* bytes >= len: never written */
	}
	t->mrd_valid_i = tb.rd_on;
	t->mrd_addr_i = tb.rd_on ? tb.rd_addr : rnd();
	t->mrd_len_i = tb.rd_on ? tb.rd_len : rnd_below(128);
	t->mwr_valid_i = tb.wr_on;
	t->mwr_addr_i = tb.wr_on ? tb.wr_addr : rnd();
	t->mwr_len_i = tb.wr_on ? tb.wr_len : rnd_below(128);
	memcpy(t->mwr_data_i.data(), tb.wr_data, 64);
}

static bool splits(uint64_t addr, uint32_t len)
{
	return (addr & 0xfff) + len > 0x1000;
}

static void gen_sample(void)
{
	Vf8npu_axi_master *t = tb.top;
	uint8_t data[64];

	/* responses (registered outputs: valid during this cycle) */
	if (t->mrs_valid_o) {
		struct rd_exp *e = &tb.rx[tb.rx_head];

		if (!tb.rx_count)
			fail("read response without a read");
		memcpy(data, t->mrs_data_o.data(), 64);
		if (t->mrs_err_o != e->err || memcmp(data, e->data, 64)) {
			int i = 0;

			while (i < 63 && data[i] == e->data[i])
				i++;
			fail("read 0x%016" PRIx64 " len %u: err %d data[%d] 0x%02x, expected err %d "
			     "0x%02x", e->addr, e->len, t->mrs_err_o, i, data[i], e->err, e->data[i]);
		}
		tb.rx_head = (tb.rx_head + 1) & (RING - 1);
		tb.rx_count--;
		tb.last_progress = tb.cycle;
	}
	if (t->mws_valid_o) {
		struct wr_exp *e = &tb.wx[tb.wx_head];

		if (!tb.wx_count)
			fail("write response without a write");
		if (t->mws_err_o != e->err)
			fail("write 0x%016" PRIx64 " len %u: err %d, expected %d", e->addr, e->len,
			     t->mws_err_o, e->err);
		tb.wx_head = (tb.wx_head + 1) & (RING - 1);
		tb.wx_count--;
		tb.last_progress = tb.cycle;
	}

	/* requests taken at the coming edge */
	if (tb.rd_on && t->mrd_ready_o) {
		struct rd_exp *e = &tb.rx[(tb.rx_head + tb.rx_count) & (RING - 1)];
		uint32_t off;
		int w = win_of(tb.rd_addr, tb.rd_len, &off);

		e->addr = tb.rd_addr;
		e->len = tb.rd_len;
		e->err = req_err(tb.rd_addr, tb.rd_len);
		memset(e->data, 0, 64);
		if (!e->err)
			memcpy(e->data, &shadow[w][off], tb.rd_len);
		tb.rx_count++;
		if (tb.rx_count > tb.max_reads_inflight)
			tb.max_reads_inflight = tb.rx_count;
		tb.rd_on = false;
		tb.rd_left--;
		tb.reads++;
		tb.rd_errs += e->err;
		tb.splits += splits(e->addr, e->len);
		tb.last_progress = tb.cycle;
	}
	if (tb.wr_on && t->mwr_ready_o) {
		struct wr_exp *e = &tb.wx[(tb.wx_head + tb.wx_count) & (RING - 1)];
		uint32_t off;
		int w = win_of(tb.wr_addr, tb.wr_len, &off);

		e->addr = tb.wr_addr;
		e->len = tb.wr_len;
		e->err = req_err(tb.wr_addr, tb.wr_len);
		for (uint32_t i = 0; i < tb.wr_len; i++)
			if (!beat_resp((tb.wr_addr + i) & ~(uint64_t)(BB - 1)))
				shadow[w][off + i] = tb.wr_data[i];
		tb.wx_count++;
		tb.wr_on = false;
		tb.wr_left--;
		tb.writes++;
		tb.wr_errs += e->err;
		tb.splits += splits(e->addr, e->len);
		tb.last_progress = tb.cycle;
	}
}

/* ---- clocking ---- */

/* One cycle: drive the inputs with the clock low, sample the handshakes, rising edge. */
static void cycle(void)
{
	Vf8npu_axi_master *t = tb.top;

	slave_drive();
	gen_drive();
	t->clk_i = 0;
	t->eval();
	slave_sample();
	gen_sample();
	t->clk_i = 1;
	t->eval();
	tb.ctx->timeInc(1);
	tb.cycle++;
	if (tb.cycle - tb.last_progress > STALL_LIMIT)
		fail("no progress for %u cycles (%u reads, %u writes outstanding)", STALL_LIMIT,
		     tb.rx_count, tb.wx_count);
}

static bool idle(void)
{
	return !tb.rd_left && !tb.wr_left && !tb.rd_on && !tb.wr_on && !tb.rx_count && !tb.wx_count;
}

/* Run a phase to completion; returns the data beats per cycle of its busy part. */
static double run_phase(const struct phase *ph, uint32_t reads, uint32_t writes)
{
	uint64_t c0 = tb.cycle, beats0 = tb.r_beats + tb.w_beats;

	tb.ph = ph;
	tb.rd_left = reads;
	tb.wr_left = writes;
	tb.stream_addr = 0;
	tb.last_progress = tb.cycle;
	while (!idle())
		cycle();
	if (tb.ar_count || tb.aw_count || tb.w_count || tb.b_count || tb.r_on || tb.b_on)
		fail("AXI traffic left after the last response (%u AR, %u AW, %u W, %u B)",
		     tb.ar_count, tb.aw_count, tb.w_count, tb.b_count);
	return (double)(tb.r_beats + tb.w_beats - beats0) / (double)(tb.cycle - c0);
}

static void parse_args(int argc, char **argv, uint64_t *seed, uint32_t *n)
{
	for (int i = 1; i < argc; i++) {
		unsigned long long lo, hi;

		if (!strncmp(argv[i], "seed=", 5)) {
			*seed = strtoull(argv[i] + 5, NULL, 0);
		} else if (!strncmp(argv[i], "n=", 2)) {
			*n = (uint32_t)strtoul(argv[i] + 2, NULL, 0);
		} else if (sscanf(argv[i], "err=%llx:%llx", &lo, &hi) == 2) {
			err_ranges[0].lo = lo;
			err_ranges[0].hi = hi;
		} else if (argv[i][0] != '+') {
			fprintf(stderr, "usage: tb_axi [seed=N] [n=REQUESTS] [err=LO:HI] "
				"[+verilator+...]\n");
			exit(2);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct phase phases[] = {
		/* name         rd   wr   ar  aw   w   r   b  lat      mode */
		{ "random",     60,  40,  70, 70, 70, 70, 70, 0, 24,   MODE_RANDOM },
		{ "stalls",     80,  80,  25, 25, 30, 30, 30, 0, 80,   MODE_RANDOM },
		{ "nostall",   100, 100, 100, 100, 100, 100, 100, 0, 3, MODE_RANDOM },
		{ "errors",     70,  70,  60, 60, 60, 60, 60, 0, 16,   MODE_ERRORS },
	};
	/* MaxReads (128) reads in flight hide a read latency of ~120 cycles */
	static const struct phase stream_rd = { "stream-rd", 100, 0, 100, 100, 100, 100, 100,
						100, 100, MODE_STREAM_RD };
	static const struct phase stream_wr = { "stream-wr", 0, 100, 100, 100, 100, 100, 100,
						32, 32, MODE_STREAM_WR };
	static const struct phase reset_phase = { "reset", 0, 0, 100, 100, 100, 100, 100, 0, 0,
						  MODE_RANDOM };
	uint32_t n = 24000;
	double rate_rd, rate_wr;
	uint32_t off;

	tb.seed = 1;
	parse_args(argc, argv, &tb.seed, &n);
	if (win_of(err_ranges[0].lo, 1, &off) < 0)
		fail("err=LO:HI: LO must be inside a window (e.g. 0x%" PRIx64 ")", win_base[1]);
	rng_state = tb.seed * 0x9e3779b97f4a7c15ull + 1;
	for (int w = 0; w < WIN_COUNT; w++)
		for (uint32_t i = 0; i < WIN_SIZE; i++)
			mem[w][i] = shadow[w][i] = (uint8_t)rnd();

	tb.ctx = new VerilatedContext;
	tb.ctx->randReset(2);
	tb.ctx->commandArgs(argc, argv);
	tb.top = new Vf8npu_axi_master{tb.ctx};

	/* reset: state random until then; a falling edge of rst_ni, clocks, release */
	tb.ph = &reset_phase;
	tb.top->mrd_valid_i = 0;
	tb.top->mwr_valid_i = 0;
	tb.top->m_axi_rvalid = 0;
	tb.top->m_axi_bvalid = 0;
	tb.top->clk_i = 0;
	tb.top->rst_ni = 1;
	tb.top->eval();
	tb.top->rst_ni = 0;
	tb.top->eval();
	for (int i = 0; i < 6; i++) {
		tb.top->clk_i = !tb.top->clk_i;
		tb.top->eval();
	}
	tb.top->rst_ni = 1;
	tb.top->eval();

	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		run_phase(&phases[i], n / 8, n / 8);
	rate_rd = run_phase(&stream_rd, n / 8, 0);
	rate_wr = run_phase(&stream_wr, 0, n / 16);

	for (int w = 0; w < WIN_COUNT; w++)
		for (uint32_t i = 0; i < WIN_SIZE; i++)
			if (mem[w][i] != shadow[w][i])
				fail("memory 0x%016" PRIx64 ": 0x%02x, expected 0x%02x", win_base[w] + i,
				     mem[w][i], shadow[w][i]);
	if (rate_rd < TB_MIN_RATE || rate_wr < TB_MIN_RATE)
		fail("throughput %.2f (reads) / %.2f (writes) beats per cycle, want >= %.2f", rate_rd,
		     rate_wr, TB_MIN_RATE);

	tb.top->final();
	printf("tb_axi: PASS AxiDataBytes=%d seed=%" PRIu64 ": %" PRIu64 " reads (%" PRIu64
	       " err), %" PRIu64 " writes (%" PRIu64 " err), %" PRIu64 " split at 4 KiB, %" PRIu64
	       " cycles; stream %.2f rd / %.2f wr beats/cycle, %" PRIu64 " reads in flight max\n",
	       BB, tb.seed, tb.reads, tb.rd_errs, tb.writes, tb.wr_errs, tb.splits, tb.cycle, rate_rd,
	       rate_wr, tb.max_reads_inflight);
	delete tb.top;
	delete tb.ctx;
	return 0;
}
