// SPDX-License-Identifier: MIT
/*
 * Smoke test of the Verilator harness (sim/f8npu_rtl.cpp): the device comes
 * up, its identification registers read back over AXI4-Lite, run() and the
 * interrupt line behave, and the harness's speed in cycles per second.
 *
 * Against the stand-in core tests/rtl/harness/stub_core.sv (recognised by
 * the "STUB" word at 0x8fc) it also times and checks the memory model: the
 * stub issues back-to-back requests, and a stream of N requests of n bytes
 * must take exactly N * ceil(n / B) + L + 2 cycles (one cycle of minimum
 * response time, one for the stub to see the last response).
 *
 * Against the real core it runs the smallest jobs: a stream holding only
 * END, and one with a bad header magic.
 *
 * Usage: smoke [--vcd PATH] [--idle-cycles N]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "f8npu_build.h"
#include "f8npu_hostmem.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"
#include "f8npu_rtl.h"

/* Registers of the stub core only. */
enum {
	STUB_RADDR_LO = 0x800,
	STUB_RADDR_HI = 0x804,
	STUB_LEN = 0x808,
	STUB_RCOUNT = 0x80c,
	STUB_WADDR_LO = 0x810,
	STUB_WADDR_HI = 0x814,
	STUB_WCOUNT = 0x818,
	STUB_GO = 0x81c,
	STUB_CYCLES = 0x820,
	STUB_RERR = 0x824,
	STUB_WERR = 0x828,
	STUB_XOR = 0x82c,
	STUB_RRESP = 0x830,
	STUB_WRESP = 0x834,
	STUB_WAIT = 0x838,
	STUB_STALL = 0x83c,
	STUB_MAGIC = 0x8fc,
};
#define STUB_MAGIC_VALUE 0x42555453u

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct rig {
	struct f8npu_hostmem hm;
	struct f8npu_mem mem;
	struct f8npu_dev *dev;
	uint8_t *buf;
	uint64_t buf_addr;
	uint64_t buf_size;
};

static int rig_open(struct rig *g, uint32_t bw, uint32_t lat, const char *vcd)
{
	struct f8npu_rtl_config cfg;

	f8npu_hostmem_init(&g->hm);
	g->buf_size = 256 * 1024;
	g->buf = f8npu_hostmem_alloc(&g->hm, g->buf_size, &g->buf_addr);
	if (!g->buf)
		return -1;
	g->mem = f8npu_hostmem_port(&g->hm);
	f8npu_rtl_default_config(&cfg);
	cfg.dram_bytes_per_cycle = bw;
	cfg.dram_latency = lat;
	cfg.vcd_path = vcd;
	g->dev = f8npu_rtl_create(&cfg, &g->mem);
	if (!g->dev) {
		f8npu_hostmem_free(&g->hm);
		return -1;
	}
	return 0;
}

static void rig_close(struct rig *g)
{
	f8npu_dev_destroy(g->dev);
	f8npu_hostmem_free(&g->hm);
}

/* ---- identification, on any core ---- */

static void check_ident(struct f8npu_dev *dev)
{
	uint32_t id = f8npu_dev_read(dev, F8NPU_REG_ID);
	uint32_t impl = f8npu_dev_read(dev, F8NPU_REG_IMPL);
	uint32_t cap = f8npu_dev_read(dev, F8NPU_REG_CAP_ARRAY);
	uint32_t want_cap = f8npu_rtl_rows() | f8npu_rtl_cols() << 16;

	printf("  ID 0x%08x  IMPL %u  CAP_ARRAY 0x%08x (rows %u, cols %u)\n", id, impl, cap,
	       cap & 0xffff, cap >> 16);
	CHECK(id == F8NPU_ID_VALUE, "ID 0x%08x", id);
	CHECK(impl == F8NPU_IMPL_RTL_SIM, "IMPL %u", impl);
	CHECK(cap == want_cap, "CAP_ARRAY 0x%08x, library built for 0x%08x", cap, want_cap);
	CHECK(f8npu_dev_read(dev, 0x1000) == 0, "offset 0x1000 reads 0");
	CHECK(f8npu_dev_read(dev, F8NPU_REG_ID + 1) == 0, "unaligned offset reads 0");
}

static void check_idle(struct f8npu_dev *dev)
{
	uint64_t cycles = 99;
	enum f8npu_run_result res = f8npu_dev_run(dev, 1000, &cycles);

	CHECK(res == F8NPU_RUN_IDLE && cycles == 0, "idle after reset: run -> %d, %" PRIu64 " cycles",
	      res, cycles);
	CHECK(!f8npu_dev_irq(dev), "no interrupt after reset");
}

/* ---- the smallest jobs, on the real core ---- */

static void check_jobs(void)
{
	struct f8npu_cmd_header h = f8npu_header_make(1);
	struct f8npu_desc end = f8npu_desc_zero(F8NPU_OP_END);
	uint32_t size = (uint32_t)(sizeof(h) + sizeof(end));
	struct f8npu_job_result res;
	struct rig g;

	if (rig_open(&g, 16, 64, NULL)) {
		CHECK(0, "create");
		return;
	}
	CHECK(f8npu_prog_check_id(g.dev) == 0, "f8npu_prog_check_id");
	memcpy(g.buf, &h, sizeof(h));
	memcpy(g.buf + sizeof(h), &end, sizeof(end));
	f8npu_prog_run_job(g.dev, g.buf_addr, size, 1, 100000, &res);
	printf("  END job: done %d err %u, %" PRIu64 " cycles, PERF_CYCLES %" PRIu64 " RD %" PRIu64
	       " DESCS %u\n", res.done, res.err, res.cycles, res.perf.cycles, res.perf.rd_bytes,
	       res.perf.descs);
	CHECK(res.done && !res.err && !res.timed_out, "END job: done %d err %u timed out %d", res.done,
	      res.err, res.timed_out);
	g.buf[0] ^= 1;
	f8npu_prog_run_job(g.dev, g.buf_addr, size, 1, 100000, &res);
	printf("  bad magic: done %d err %s index 0x%08x, %" PRIu64 " cycles\n", res.done,
	       f8npu_err_name(res.err), res.err_index, res.cycles);
	CHECK(!res.done && res.err == F8NPU_ERR_BAD_MAGIC && !res.timed_out, "bad magic: err %u",
	      res.err);
	rig_close(&g);
}

/* ---- the memory model, through the stub core ---- */

struct stub_result {
	uint32_t cycles, rerr, werr, xor_fold, rresp, wresp, stall;
	uint64_t run_cycles;
};

static void stub_setup(struct f8npu_dev *dev, uint64_t raddr, uint32_t rcount, uint64_t waddr,
		       uint32_t wcount, uint32_t len)
{
	f8npu_dev_write(dev, STUB_RADDR_LO, (uint32_t)raddr);
	f8npu_dev_write(dev, STUB_RADDR_HI, (uint32_t)(raddr >> 32));
	f8npu_dev_write(dev, STUB_RCOUNT, rcount);
	f8npu_dev_write(dev, STUB_WADDR_LO, (uint32_t)waddr);
	f8npu_dev_write(dev, STUB_WADDR_HI, (uint32_t)(waddr >> 32));
	f8npu_dev_write(dev, STUB_WCOUNT, wcount);
	f8npu_dev_write(dev, STUB_LEN, len);
}

static void stub_results(struct f8npu_dev *dev, struct stub_result *res)
{
	res->cycles = f8npu_dev_read(dev, STUB_CYCLES);
	res->rerr = f8npu_dev_read(dev, STUB_RERR);
	res->werr = f8npu_dev_read(dev, STUB_WERR);
	res->xor_fold = f8npu_dev_read(dev, STUB_XOR);
	res->rresp = f8npu_dev_read(dev, STUB_RRESP);
	res->wresp = f8npu_dev_read(dev, STUB_WRESP);
	res->stall = f8npu_dev_read(dev, STUB_STALL);
}

/* Start the streams, run to idle, collect the counters. */
static void stub_run(struct f8npu_dev *dev, uint64_t raddr, uint32_t rcount, uint64_t waddr,
		     uint32_t wcount, uint32_t len, struct stub_result *res)
{
	enum f8npu_run_result rr;

	stub_setup(dev, raddr, rcount, waddr, wcount, len);
	f8npu_dev_write(dev, STUB_GO, 1);
	rr = f8npu_dev_run(dev, UINT64_MAX, &res->run_cycles);
	CHECK(rr == F8NPU_RUN_IDLE, "run result %d", rr);
	stub_results(dev, res);
	CHECK(res->rresp == rcount && res->wresp == wcount, "responses %u/%u of %u/%u", res->rresp,
	      res->wresp, rcount, wcount);
	CHECK(res->run_cycles + 1 == res->cycles, "run() reported %" PRIu64 ", the core counted %u",
	      res->run_cycles, res->cycles);
}

/* The stub's fold of the read data: xor of the 32-bit words of every response. */
static uint32_t read_fold(const uint8_t *p, uint32_t count, uint32_t len)
{
	uint32_t fold = 0, k, i;

	for (k = 0; k < count; k++)
		for (i = 0; i < len; i++)
			fold ^= (uint32_t)p[(uint64_t)k * len + i] << (8 * (i % 4));
	return fold;
}

static uint32_t ceil_div(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

/* One stream of back-to-back requests: N * ceil(len / B) + L + 2 cycles, data right. */
static void check_stream_timing(uint32_t bw, uint32_t lat, uint32_t count, uint32_t len, bool write)
{
	struct rig g;
	struct stub_result res;
	uint32_t want = count * ceil_div(len, bw) + lat + 2;
	uint64_t i, off = 5; /* any byte address */

	if (rig_open(&g, bw, lat, NULL)) {
		CHECK(0, "create");
		return;
	}
	for (i = 0; i < g.buf_size; i++)
		g.buf[i] = (uint8_t)(i * 131 + 7);
	if (write) {
		memset(g.buf, 0, g.buf_size);
		stub_run(g.dev, 0, 0, g.buf_addr + off, count, len, &res);
	} else {
		stub_run(g.dev, g.buf_addr + off, count, 0, 0, len, &res);
	}
	printf("  %-5s %4u x %2u B, B=%2u L=%3u: %5u cycles (N*ceil(n/B) + L + 2 = %u)\n",
	       write ? "write" : "read", count, len, bw, lat, res.cycles, want);
	CHECK(res.cycles == want, "cycles %u, want %u", res.cycles, want);
	CHECK(res.rerr == 0 && res.werr == 0, "errors %u/%u", res.rerr, res.werr);
	if (write) {
		uint64_t end = off + (uint64_t)count * len, bad = 0;

		for (i = 0; i < g.buf_size; i++) {
			uint8_t want_b = i >= off && i < end ? (uint8_t)((g.buf_addr + i) ^ 0x5a) : 0;

			bad += g.buf[i] != want_b;
		}
		CHECK(bad == 0, "%" PRIu64 " bytes of memory wrong after the writes", bad);
	} else {
		uint32_t want_fold = read_fold(g.buf + off, count, len);

		CHECK(res.xor_fold == want_fold, "read data fold 0x%08x, want 0x%08x", res.xor_fold,
		      want_fold);
	}
	rig_close(&g);
}

/* Reads and writes share the bandwidth: 2 N requests of one cycle each. */
static void check_shared_bandwidth(void)
{
	struct rig g;
	struct stub_result res;
	uint32_t n = 100, lat = 64, want = 2 * n + lat + 2;

	if (rig_open(&g, 16, lat, NULL)) {
		CHECK(0, "create");
		return;
	}
	stub_run(g.dev, g.buf_addr, n, g.buf_addr + 64 * 1024, n, 16, &res);
	printf("  read+write %u + %u x 16 B, B=16 L=%u: %u cycles (2N + L + 2 = %u)\n", n, n, lat,
	       res.cycles, want);
	CHECK(res.cycles == want, "cycles %u, want %u", res.cycles, want);
	rig_close(&g);
}

/* Unmapped addresses answer with err: zero read data, nothing written. */
static void check_errors(void)
{
	struct rig g;
	struct stub_result res;

	if (rig_open(&g, 16, 8, NULL)) {
		CHECK(0, "create");
		return;
	}
	stub_run(g.dev, 0x1000, 10, 0x2000, 7, 32, &res);
	CHECK(res.rerr == 10 && res.werr == 7, "errors %u/%u, want 10/7", res.rerr, res.werr);
	CHECK(res.xor_fold == 0, "error responses carry zero data (fold 0x%08x)", res.xor_fold);
	/* Requests 0..2 inside the buffer, 3 straddles its end, 4 beyond. */
	stub_run(g.dev, g.buf_addr + g.buf_size - 3 * 64 - 1, 5, 0, 0, 64, &res);
	CHECK(res.rerr == 2, "reads past the end: %u errors, want 2", res.rerr);
	memset(g.buf, 0, g.buf_size);
	stub_run(g.dev, 0, 0, g.buf_addr + g.buf_size - 60, 2, 64, &res);
	CHECK(res.werr == 2, "writes past the end: %u errors, want 2", res.werr);
	CHECK(g.buf[g.buf_size - 60] == 0, "a refused write wrote nothing");
	rig_close(&g);
}

/* More requests than the harness queues: ready drops, every response still arrives. */
static void check_backpressure(void)
{
	struct rig g;
	struct stub_result res;
	uint32_t n = 3000, lat = 2000;

	if (rig_open(&g, 64, lat, NULL)) {
		CHECK(0, "create");
		return;
	}
	stub_run(g.dev, g.buf_addr, n, 0, 0, 64, &res);
	printf("  read %u x 64 B, B=64 L=%u: %u cycles, ready low %u cycles\n", n, lat, res.cycles,
	       res.stall);
	CHECK(res.stall > 0, "the read queue never filled");
	CHECK(res.cycles >= n + lat, "cycles %u", res.cycles);
	CHECK(res.xor_fold == read_fold(g.buf, n, 64), "read data");
	rig_close(&g);
}

/* run() budget, STATUS.WAIT as idle, the interrupt line. */
static void check_run_control(void)
{
	struct rig g;
	uint64_t c;
	enum f8npu_run_result rr;

	if (rig_open(&g, 16, 64, NULL)) {
		CHECK(0, "create");
		return;
	}
	f8npu_dev_write(g.dev, F8NPU_REG_IRQ_MASK, 1);
	stub_setup(g.dev, g.buf_addr, 100, 0, 0, 16);
	f8npu_dev_write(g.dev, STUB_GO, 1);
	rr = f8npu_dev_run(g.dev, 10, &c);
	CHECK(rr == F8NPU_RUN_BUDGET && c == 10, "budget: run -> %d, %" PRIu64 " cycles", rr, c);
	CHECK(!f8npu_dev_irq(g.dev), "no interrupt while busy");
	f8npu_dev_write(g.dev, STUB_WAIT, 1);
	rr = f8npu_dev_run(g.dev, UINT64_MAX, &c);
	CHECK(rr == F8NPU_RUN_IDLE && c == 0, "waiting is idle: run -> %d, %" PRIu64 " cycles", rr, c);
	CHECK(f8npu_dev_read(g.dev, F8NPU_REG_STATUS) == 3, "STATUS busy and waiting");
	f8npu_dev_write(g.dev, STUB_WAIT, 0);
	rr = f8npu_dev_run(g.dev, UINT64_MAX, &c);
	CHECK(rr == F8NPU_RUN_IDLE && c > 0, "run to the end -> %d, %" PRIu64 " cycles", rr, c);
	CHECK(f8npu_dev_irq(g.dev), "interrupt at the end");
	f8npu_dev_write(g.dev, F8NPU_REG_IRQ_STATUS, 1);
	CHECK(!f8npu_dev_irq(g.dev), "interrupt cleared");
	rig_close(&g);
}

/* A request of length 0 is an RTL bug: the harness names it and aborts. */
static void check_bad_request_aborts(void)
{
	int fds[2], status = 0;
	char msg[512];
	size_t used;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds)) {
		CHECK(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		struct rig g;

		setrlimit(RLIMIT_CORE, &no_core);
		dup2(fds[1], 2);
		close(fds[0]);
		if (rig_open(&g, 16, 8, NULL))
			_exit(2);
		stub_setup(g.dev, g.buf_addr, 1, 0, 0, 0);
		f8npu_dev_write(g.dev, STUB_GO, 1);
		f8npu_dev_run(g.dev, 1000, NULL);
		_exit(3);
	}
	close(fds[1]);
	used = 0;
	while (used < sizeof(msg) - 1 && (n = read(fds[0], msg + used, sizeof(msg) - 1 - used)) > 0)
		used += (size_t)n;
	msg[used] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status 0x%x", status);
	CHECK(strstr(msg, "len 0") != NULL, "message: %s", msg);
	printf("  len-0 request aborts: %s", msg);
}

static void check_stub(void)
{
	check_stream_timing(16, 64, 100, 16, false);
	check_stream_timing(4, 64, 100, 16, false);
	check_stream_timing(16, 0, 100, 16, false);
	check_stream_timing(7, 10, 50, 13, false);
	check_stream_timing(16, 64, 100, 64, true);
	check_stream_timing(64, 1, 100, 64, true);
	check_shared_bandwidth();
	check_errors();
	check_backpressure();
	check_run_control();
	check_bad_request_aborts();
}

/* ---- speed ---- */

static void measure_speed(struct f8npu_dev *dev, uint64_t cycles, const char *what)
{
	double t0 = seconds(), dt;

	f8npu_rtl_step(dev, cycles);
	dt = seconds() - t0;
	printf("  %-26s %9" PRIu64 " cycles in %.3f s: %.0f cycles/s\n", what, cycles, dt,
	       (double)cycles / dt);
}

static void measure_traffic_speed(void)
{
	struct rig g;
	struct stub_result res;
	uint32_t n = 200000;
	double t0, dt;

	if (rig_open(&g, 64, 64, NULL)) {
		CHECK(0, "create");
		return;
	}
	t0 = seconds();
	stub_run(g.dev, g.buf_addr, n, g.buf_addr + 128 * 1024, n, 64, &res);
	dt = seconds() - t0;
	(void)res;
	printf("  %-26s %9" PRIu64 " cycles in %.3f s: %.0f cycles/s\n", "stub: 64 B reads+writes",
	       res.run_cycles, dt, (double)res.run_cycles / dt);
	rig_close(&g);
}

int main(int argc, char **argv)
{
	const char *vcd = NULL;
	uint64_t idle_cycles = 0;
	struct rig g;
	bool stub;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vcd") && i + 1 < argc)
			vcd = argv[++i];
		else if (!strcmp(argv[i], "--idle-cycles") && i + 1 < argc)
			idle_cycles = strtoull(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--vcd PATH] [--idle-cycles N]\n", argv[0]);
			return 2;
		}
	}
	printf("rtl-smoke: f8npu_core %ux%u\n", f8npu_rtl_rows(), f8npu_rtl_cols());
	if (rig_open(&g, 16, 64, NULL)) {
		printf("FAIL: f8npu_rtl_create\n");
		return 1;
	}
	check_ident(g.dev);
	check_idle(g.dev);
	stub = f8npu_dev_read(g.dev, STUB_MAGIC) == STUB_MAGIC_VALUE;
	if (!idle_cycles)
		idle_cycles = stub ? 2000000 : 200000;
	measure_speed(g.dev, idle_cycles, "idle");
	rig_close(&g);

	if (stub) {
		printf("  stub core: memory model checks\n");
		check_stub();
		measure_traffic_speed();
	} else {
		check_jobs();
	}

	if (vcd) {
		long size;
		FILE *f;

		if (rig_open(&g, 16, 64, vcd)) {
			CHECK(0, "create with trace %s", vcd);
		} else {
			check_ident(g.dev);
			measure_speed(g.dev, idle_cycles / 20, "idle, tracing");
			rig_close(&g);
			f = fopen(vcd, "r");
			size = -1;
			if (f && !fseek(f, 0, SEEK_END))
				size = ftell(f);
			if (f)
				fclose(f);
			CHECK(size > 1000, "trace %s: %ld bytes", vcd, size);
		}
	}
	CHECK(f8npu_rtl_create(NULL, NULL) == NULL, "create without memory fails");

	printf("rtl-smoke: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
