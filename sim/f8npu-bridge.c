// SPDX-License-Identifier: MIT
/*
 * f8npu-bridge: one f8npu device (sim/'s functional model or the Verilated RTL) served to a
 * QEMU guest through stock QEMU's ivshmem-doorbell device (docs/cosim.md).
 *
 * The bridge is at once the ivshmem server (the protocol of QEMU's
 * docs/specs/ivshmem-spec.txt, implemented from that text: it listens on a UNIX socket and
 * hands each client the protocol version, its peer ID, the shared memory and the eventfds)
 * and the device peer: the guest posts register reads and writes into a ring in the shared
 * memory (sim/include/f8npu_bridge.h) and rings the bridge's doorbell; the bridge executes
 * them on the device, runs the device in slices while a job is running, and signals the
 * guest's interrupt vector when the device's interrupt line goes high. The device's DMA
 * addresses are offsets into the window of the shared memory.
 *
 * Everything the guest writes is untrusted: ring indices, entries, offsets, and the command
 * streams and regions the device reads (their addresses are checked against the window).
 */
#define _GNU_SOURCE /* memfd_create, accept4 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "f8npu_bridge.h"
#include "f8npu_model.h"
#include "f8npu_regs.h"
#include "f8npu_rtl.h"
#include "f8npu_validate.h"

#define MAX_VECTORS 16u
#define BRIDGE_PEER 0u		/* the bridge's own peer ID; guests get 1, 2, ... */
#define IDLE_SCAN_MS 20		/* rescan the ring this often without a doorbell */
#define STALL_ALL UINT32_MAX
#define SLICE_TARGET_S 0.002	/* adaptive slices: about this much wall time each */
#define SLICE_MIN 64u
#define SLICE_MAX (1u << 24)

struct bridge {
	/* options */
	const char *sock_path;
	const char *device_arg;
	const char *rtl_dir;
	uint64_t shm_size;
	unsigned int vectors;
	uint64_t slice;
	bool slice_fixed; /* --slice given; else adapted to SLICE_TARGET_S */
	uint64_t stall_after_opt;
	uint32_t stall_jobs_opt;
	uint64_t max_job_cycles; /* 0: no limit */
	bool once;
	int verbose;

	/* the device */
	struct f8npu_dev *dev;
	struct f8npu_model_config mcfg; /* the model's, for pricing its steps */
	void *so;
	uint32_t device_kind;
	char device_name[64];

	/* shared memory */
	int shm_fd;
	uint8_t *shm;
	uint8_t *win;
	uint64_t win_size;

	/* the ivshmem server */
	int listen_fd;
	int client_fd;
	uint16_t client_id;
	uint16_t next_id;
	int my_efd[MAX_VECTORS];    /* the bridge's own vectors: the guest's doorbell */
	int guest_efd[MAX_VECTORS]; /* the guest's vectors: its interrupts */

	/* the mailbox and the device's state as the bridge sees it */
	uint32_t cons;
	uint32_t reset_ack;
	uint32_t errors;
	bool in_job;	 /* a START was taken and the device has not gone idle (not busy) since */
	bool running;	 /* call run(): a START or a TAIL write since the device last idled */
	bool stalled;	 /* this job stopped advancing (--stall-after) */
	bool stall_this; /* this job is one that stalls */
	uint64_t stall_after;
	uint32_t stall_jobs;
	uint64_t job_cycles;
	uint64_t total_cycles;
	uint32_t jobs;
	bool irq_prev;
	bool rearm;
	uint32_t irq_count;
	struct timespec job_t0;

	/* The model's job priced step by step (--max-job-cycles), as latched at START. */
	struct f8npu_region_table rt;
	bool hdr_pending;
	uint32_t desc_count;
	/* The bytes of the next step's fetch, priced: the model is served this copy, so a guest
	 * rewriting the stream meanwhile cannot run an unpriced descriptor. */
	struct {
		bool on;
		uint64_t addr;
		uint32_t len;
		uint8_t buf[F8NPU_CMD_DESC_SIZE];
	} pin;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void logmsg(const struct bridge *b, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logmsg(const struct bridge *b, int level, const char *fmt, ...)
{
	va_list ap;

	if (b->verbose < level)
		return;
	fprintf(stderr, "f8npu-bridge: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- shared memory accessors (the guest writes concurrently) ---- */

static uint32_t shm_load32(const struct bridge *b, uint32_t off)
{
	return __atomic_load_n((const uint32_t *)(b->shm + off), __ATOMIC_ACQUIRE);
}

static void shm_store32(const struct bridge *b, uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(b->shm + off), v, __ATOMIC_RELEASE);
}

static void shm_store64(const struct bridge *b, uint32_t off, uint64_t v)
{
	__atomic_store_n((uint64_t *)(b->shm + off), v, __ATOMIC_RELEASE);
}

/* ---- the device's DMA port: device address = offset into the window ---- */

static uint8_t *win_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	struct bridge *b = user;

	if (b->pin.on && !write && addr == b->pin.addr && len == b->pin.len)
		return b->pin.buf;
	if (addr >= b->win_size || len > b->win_size - addr) {
		logmsg(b, 1, "device %s of %" PRIu64 " bytes at %#" PRIx64 " outside the window "
		       "(%#" PRIx64 " bytes): bus error", write ? "write" : "read", len, addr, b->win_size);
		return NULL;
	}
	return b->win + addr;
}

/* ---- the backend ---- */

struct dev_spec {
	bool rtl;
	uint32_t rows, cols, bw, lat;
	char vcd[PATH_MAX];
};

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "model[:RxC][,bw=B][,lat=L]" or "rtl:RxC[,bw=B][,lat=L][,vcd=PATH]". */
static bool parse_device(const char *arg, struct dev_spec *d)
{
	char buf[PATH_MAX + 64], *p, *opt, *save = NULL;

	memset(d, 0, sizeof(*d));
	d->rows = d->cols = 16;
	d->bw = 16;
	d->lat = 64;
	if (strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	p = strchr(buf, ',');
	if (p)
		*p++ = 0;
	if (!strncmp(buf, "model", 5) && (buf[5] == 0 || buf[5] == ':'))
		d->rtl = false;
	else if (!strncmp(buf, "rtl:", 4))
		d->rtl = true;
	else
		return false;
	if (strchr(buf, ':')) {
		char *geo = strchr(buf, ':') + 1, *x = strchr(geo, 'x');

		if (!x)
			return false;
		*x = 0;
		if (!parse_u32(geo, 1, 4096, &d->rows) || !parse_u32(x + 1, 1, 4096, &d->cols))
			return false;
	}
	for (opt = p ? strtok_r(p, ",", &save) : NULL; opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "bw=", 3)) {
			if (!parse_u32(opt + 3, 1, 1u << 20, &d->bw))
				return false;
		} else if (!strncmp(opt, "lat=", 4)) {
			if (!parse_u32(opt + 4, 0, 1u << 20, &d->lat))
				return false;
		} else if (d->rtl && !strncmp(opt, "vcd=", 4) && opt[4]) {
			snprintf(d->vcd, sizeof(d->vcd), "%s", opt + 4);
		} else {
			return false;
		}
	}
	return true;
}

/* $F8_RTL_DIR (or --rtl-dir), else next to this program: <exe dir>/rtl/, <exe dir>/../rtl/, <exe dir>/. */
static void rtl_path(const struct bridge *b, const char *cfg, char *path, size_t size)
{
	static const char *const rel[] = { "/rtl/", "/../rtl/", "/" };
	const char *dir = b->rtl_dir ? b->rtl_dir : getenv("F8_RTL_DIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;
	size_t i;

	if (dir && *dir) {
		snprintf(path, size, "%s/%s/libf8npu-rtl.so", dir, cfg);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(path, size, "build/rtl/%s/libf8npu-rtl.so", cfg);
		return;
	}
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, size, "%s%s%s/libf8npu-rtl.so", exe, rel[i], cfg);
		if (access(path, F_OK) == 0)
			return;
	}
	snprintf(path, size, "%s%s%s/libf8npu-rtl.so", exe, rel[0], cfg);
}

static int open_device(struct bridge *b)
{
	struct f8npu_mem port = { .map = win_map, .user = b };
	struct dev_spec d;

	if (!parse_device(b->device_arg, &d)) {
		fprintf(stderr, "f8npu-bridge: --device '%s': expected model[:RxC][,bw=B][,lat=L] or "
			"rtl:RxC[,bw=B][,lat=L][,vcd=PATH]\n", b->device_arg);
		return 2;
	}
	if (!d.rtl) {
		struct f8npu_model_config mc;

		f8npu_model_default_config(&mc);
		mc.rows = d.rows;
		mc.cols = d.cols;
		mc.dram_bytes_per_cycle = d.bw;
		mc.dram_latency = d.lat;
		b->mcfg = mc;
		b->dev = f8npu_model_create(&mc, &port);
		if (!b->dev) {
			fprintf(stderr, "f8npu-bridge: cannot create the functional model (%ux%u)\n", d.rows,
				d.cols);
			return 1;
		}
		b->device_kind = F8BR_DEVICE_MODEL;
		snprintf(b->device_name, sizeof(b->device_name), "model:%ux%u", d.rows, d.cols);
	} else {
		void (*def)(struct f8npu_rtl_config *);
		struct f8npu_dev *(*create)(const struct f8npu_rtl_config *, const struct f8npu_mem *);
		uint32_t (*rows)(void), (*cols)(void);
		static const char *const names[] = { "f8npu_rtl_default_config", "f8npu_rtl_create",
						     "f8npu_rtl_rows", "f8npu_rtl_cols" };
		struct f8npu_rtl_config rc;
		char cfg[32], path[PATH_MAX + 64];
		void *p[4];
		size_t i;

		snprintf(cfg, sizeof(cfg), "r%uc%u", d.rows, d.cols);
		rtl_path(b, cfg, path, sizeof(path));
		b->so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!b->so) {
			fprintf(stderr, "f8npu-bridge: rtl:%ux%u: cannot load %s: %s (build it: make rtl-libs "
				"RTL_CONFIGS=%s, or set F8_RTL_DIR to the directory holding %s/)\n", d.rows,
				d.cols, path, dlerror(), cfg, cfg);
			return 1;
		}
		for (i = 0; i < 4; i++) {
			p[i] = dlsym(b->so, names[i]);
			if (!p[i]) {
				fprintf(stderr, "f8npu-bridge: %s has no %s: not an f8npu RTL library\n", path,
					names[i]);
				return 1;
			}
		}
		/* POSIX: dlsym's data pointer converts to a function pointer through memcpy. */
		memcpy(&def, &p[0], sizeof(p[0]));
		memcpy(&create, &p[1], sizeof(p[1]));
		memcpy(&rows, &p[2], sizeof(p[2]));
		memcpy(&cols, &p[3], sizeof(p[3]));
		if (rows() != d.rows || cols() != d.cols) {
			fprintf(stderr, "f8npu-bridge: %s holds a %ux%u array, not %ux%u\n", path, rows(),
				cols(), d.rows, d.cols);
			return 1;
		}
		def(&rc);
		rc.dram_bytes_per_cycle = d.bw;
		rc.dram_latency = d.lat;
		rc.vcd_path = d.vcd[0] ? d.vcd : NULL;
		b->dev = create(&rc, &port);
		if (!b->dev) {
			fprintf(stderr, "f8npu-bridge: cannot create the Verilated core from %s%s%s\n", path,
				d.vcd[0] ? " (VCD file not writable?) " : "", d.vcd);
			return 1;
		}
		b->device_kind = F8BR_DEVICE_RTL;
		snprintf(b->device_name, sizeof(b->device_name), "rtl:%ux%u", d.rows, d.cols);
	}
	return 0;
}

/* ---- the device's state machine as the bridge drives it ---- */

static void device_reset(struct bridge *b)
{
	f8npu_dev_write(b->dev, F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
	b->in_job = false;
	b->running = false;
	b->stalled = false;
	b->stall_this = false;
	b->job_cycles = 0;
	shm_store32(b, F8BR_JOB_STATE_OFF, F8BR_JOB_IDLE);
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static uint64_t read64(struct bridge *b, uint32_t lo)
{
	uint64_t v = f8npu_dev_read(b->dev, lo); /* reading _LO latches _HI */

	return v | (uint64_t)f8npu_dev_read(b->dev, lo + 4) << 32;
}

/* At START on the model (its register reads cost nothing): what the steps are priced against. */
static void latch_job(struct bridge *b)
{
	unsigned int r;

	for (r = 0; r < F8NPU_REGIONS; r++) {
		b->rt.base[r] = read64(b, F8NPU_REG_REGION_BASE_LO(r));
		b->rt.size[r] = read64(b, F8NPU_REG_REGION_SIZE_LO(r));
	}
	b->rt.count = f8npu_dev_read(b->dev, F8NPU_REG_CAP_REGIONS);
	b->rt.cmd_base = read64(b, F8NPU_REG_CMD_BASE_LO);
	b->rt.cmd_size = f8npu_dev_read(b->dev, F8NPU_REG_CMD_SIZE);
	b->hdr_pending = true;
	b->desc_count = 0;
}

/* A register write's consequences for the bridge's own bookkeeping. */
static void after_write(struct bridge *b, uint32_t off, uint32_t val)
{
	if (off == F8NPU_REG_IRQ_STATUS || off == F8NPU_REG_IRQ_MASK)
		b->rearm = true; /* a still-high line is signalled again (docs/cosim.md) */
	if (off == F8NPU_REG_CTRL && (val & F8NPU_CTRL_SOFT_RESET)) {
		if (b->in_job)
			logmsg(b, 1, "soft reset during job %u after %" PRIu64 " cycles%s", b->jobs,
			       b->job_cycles, b->stalled ? " (stalled)" : "");
		b->in_job = false;
		b->running = false;
		b->stalled = false;
		b->stall_this = false;
		b->rearm = true;
		shm_store32(b, F8BR_JOB_STATE_OFF, F8BR_JOB_IDLE);
		return;
	}
	if (off == F8NPU_REG_CTRL && (val & F8NPU_CTRL_START)) {
		if (!b->in_job) {
			/* START on a busy device is ignored by it: only the first one counts. */
			b->in_job = true;
			b->jobs++;
			b->job_cycles = 0;
			b->stall_this = b->stall_after && b->stall_jobs;
			if (b->stall_this && b->stall_jobs != STALL_ALL)
				b->stall_jobs--;
			clock_gettime(CLOCK_MONOTONIC, &b->job_t0);
			if (b->device_kind == F8BR_DEVICE_MODEL)
				latch_job(b);
			shm_store32(b, F8BR_JOBS_OFF, b->jobs);
			logmsg(b, 1, "job %u started%s", b->jobs, b->stall_this ? " (will stall)" : "");
		}
		if (!b->stalled)
			b->running = true;
	}
	if (off == F8NPU_REG_CMD_TAIL && !b->stalled)
		b->running = true;
	if (b->running)
		shm_store32(b, F8BR_JOB_STATE_OFF, F8BR_JOB_RUNNING);
}

static uint16_t execute(struct bridge *b, uint16_t op, uint32_t off, uint32_t *val)
{
	switch (op) {
	case F8BR_OP_NOP:
		return F8BR_ST_OK;
	case F8BR_OP_READ:
	case F8BR_OP_WRITE:
		if ((off & 3) || off >= F8BR_REG_SPACE)
			return F8BR_ST_BAD_OFF;
		if (op == F8BR_OP_READ) {
			*val = f8npu_dev_read(b->dev, off);
			logmsg(b, 3, "read  %#05x -> %#010x", off, *val);
		} else {
			logmsg(b, 3, "write %#05x <- %#010x", off, *val);
			f8npu_dev_write(b->dev, off, *val);
			after_write(b, off, *val);
		}
		return F8BR_ST_OK;
	case F8BR_OP_STALL:
		b->stall_after = *val;
		b->stall_jobs = off;
		logmsg(b, 1, "stall: the next %s%u jobs after %u cycles", off == STALL_ALL ? "(all) " : "",
		       off, *val);
		return F8BR_ST_OK;
	case F8BR_OP_INFO:
		switch (off) {
		case F8BR_INFO_CYCLES_LO:
			*val = (uint32_t)b->total_cycles;
			return F8BR_ST_OK;
		case F8BR_INFO_CYCLES_HI:
			*val = (uint32_t)(b->total_cycles >> 32);
			return F8BR_ST_OK;
		case F8BR_INFO_JOB_CYCLES:
			*val = b->job_cycles > UINT32_MAX ? UINT32_MAX : (uint32_t)b->job_cycles;
			return F8BR_ST_OK;
		default:
			return F8BR_ST_BAD_OFF;
		}
	default:
		return F8BR_ST_BAD_OP;
	}
}

static void note_error(struct bridge *b, uint16_t st, uint32_t seq)
{
	b->errors++;
	shm_store32(b, F8BR_ERRORS_OFF, b->errors);
	shm_store32(b, F8BR_LAST_ERROR_OFF, st);
	logmsg(b, 1, "request %u refused: status %u", seq, st);
}

/* The guest's mailbox reset: the device reset, the ring and indices zeroed, then the ack. */
static void mailbox_reset(struct bridge *b, uint32_t token)
{
	logmsg(b, 1, "mailbox reset (token %#x)", token);
	device_reset(b);
	memset(b->shm + F8BR_RING_OFFSET, 0, (size_t)F8BR_RING_ENTRIES * sizeof(struct f8br_req));
	b->cons = 0;
	b->errors = 0;
	b->stall_after = b->stall_after_opt;
	b->stall_jobs = b->stall_jobs_opt;
	shm_store32(b, F8BR_REQ_PROD_OFF, 0);
	shm_store32(b, F8BR_REQ_CONS_OFF, 0);
	shm_store32(b, F8BR_ERRORS_OFF, 0);
	shm_store32(b, F8BR_LAST_ERROR_OFF, 0);
	b->rearm = true;
	b->reset_ack = token;
	shm_store32(b, F8BR_RESET_ACK_OFF, token);
}

/* Execute the posted requests (at most one ring's worth per call). */
static void process_mailbox(struct bridge *b)
{
	struct f8br_req *ring = (struct f8br_req *)(b->shm + F8BR_RING_OFFSET);
	uint32_t token = shm_load32(b, F8BR_RESET_REQ_OFF);
	uint32_t prod, n, i;

	if (token != b->reset_ack)
		mailbox_reset(b, token);
	prod = shm_load32(b, F8BR_REQ_PROD_OFF);
	n = prod - b->cons;
	if (n > F8BR_RING_ENTRIES) {
		note_error(b, F8BR_ST_BAD_PROD, prod);
		logmsg(b, 1, "req_prod %u is %u requests ahead of req_cons %u: dropped", prod, n, b->cons);
		b->cons = prod;
		shm_store32(b, F8BR_REQ_CONS_OFF, b->cons);
		return;
	}
	for (i = 0; i < n; i++) {
		struct f8br_req *e = &ring[b->cons % F8BR_RING_ENTRIES];
		/* One copy of each field: the guest may rewrite the entry meanwhile. */
		uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
		uint16_t op = __atomic_load_n(&e->op, __ATOMIC_RELAXED);
		uint32_t off = __atomic_load_n(&e->off, __ATOMIC_RELAXED);
		uint32_t val = __atomic_load_n(&e->val, __ATOMIC_RELAXED);
		uint16_t st;

		st = seq != b->cons ? F8BR_ST_BAD_SEQ : execute(b, op, off, &val);
		if (st)
			note_error(b, st, b->cons);
		__atomic_store_n(&e->val, val, __ATOMIC_RELAXED);
		__atomic_store_n(&e->status, st, __ATOMIC_RELAXED);
		b->cons++;
		shm_store32(b, F8BR_REQ_CONS_OFF, b->cons);
	}
}

/* The job stops advancing; the guest's timeout resets it. */
static void hang(struct bridge *b, uint32_t state, const char *why)
{
	b->stalled = true;
	b->running = false;
	shm_store32(b, F8BR_JOB_STATE_OFF, state);
	logmsg(b, 1, "job %u stopped advancing after %" PRIu64 " cycles (%s)", b->jobs, b->job_cycles, why);
}

/* The cost model's cycles of the model's next step, its fetch pinned (see struct bridge). */
static uint64_t model_next_cycles(struct bridge *b)
{
	uint64_t addr;
	uint32_t head, len;
	const uint8_t *p;

	if (b->hdr_pending) {
		addr = b->rt.cmd_base;
		len = F8NPU_CMD_HEADER_SIZE;
	} else {
		head = f8npu_dev_read(b->dev, F8NPU_REG_CMD_HEAD);
		if (head >= b->desc_count)
			return 0; /* NO_END */
		/* The header was fetched from the window: no overflow. */
		addr = b->rt.cmd_base + F8NPU_CMD_HEADER_SIZE + (uint64_t)head * F8NPU_CMD_DESC_SIZE;
		len = F8NPU_CMD_DESC_SIZE;
	}
	b->pin.on = false;
	p = win_map(b, addr, len, false);
	if (p) {
		memcpy(b->pin.buf, p, len);
		b->pin.addr = addr;
		b->pin.len = len;
		b->pin.on = true;
	}
	if (b->hdr_pending) {
		if (p) {
			struct f8npu_cmd_header h;

			memcpy(&h, b->pin.buf, sizeof(h));
			b->desc_count = h.desc_count;
		}
		return f8npu_model_header_cycles(&b->mcfg, b->rt.cmd_size);
	}
	if (!p)
		return 0; /* the fetch fails: BUS */
	{
		struct f8npu_desc d;

		memcpy(&d, b->pin.buf, sizeof(d));
		return f8npu_model_desc_cycles(&b->mcfg, &d, &b->rt);
	}
}

/*
 * The model one step at a time (a step is a whole descriptor), each priced first: a step that
 * would pass --max-job-cycles or --stall-after is not taken. Stops after @budget cycles.
 */
static enum f8npu_run_result model_steps(struct bridge *b, uint64_t budget, uint64_t *spent,
					bool *over)
{
	enum f8npu_run_result r = F8NPU_RUN_BUDGET;
	uint64_t step;

	*spent = 0;
	*over = false;
	while (*spent < budget) {
		uint32_t status = f8npu_dev_read(b->dev, F8NPU_REG_STATUS);

		if ((status & F8NPU_STATUS_BUSY) && !(status & F8NPU_STATUS_WAIT)) {
			uint64_t price = model_next_cycles(b), used = b->job_cycles + *spent;

			if (b->max_job_cycles && (used >= b->max_job_cycles ||
						  price > b->max_job_cycles - used)) {
				b->pin.on = false;
				*over = true;
				return F8NPU_RUN_BUDGET;
			}
		}
		/* A run() of one cycle takes exactly one whole step. */
		r = f8npu_dev_run(b->dev, 1, &step);
		b->pin.on = false;
		*spent += step;
		if (b->hdr_pending && step)
			b->hdr_pending = false;
		if (r == F8NPU_RUN_IDLE)
			break;
		if (b->stall_this && b->job_cycles + *spent >= b->stall_after)
			break;
	}
	return r;
}

static void run_slice(struct bridge *b)
{
	uint64_t budget = b->slice, spent = 0;
	enum f8npu_run_result r;
	struct timespec t0;
	bool over = false;
	double dt;

	if (b->stall_this) {
		if (b->job_cycles >= b->stall_after) {
			hang(b, F8BR_JOB_STALLED, "--stall-after");
			return;
		}
		if (budget > b->stall_after - b->job_cycles)
			budget = b->stall_after - b->job_cycles;
	}
	if (b->max_job_cycles && b->device_kind == F8BR_DEVICE_RTL) {
		if (b->job_cycles >= b->max_job_cycles) {
			hang(b, F8BR_JOB_OVER_BUDGET, "--max-job-cycles");
			return;
		}
		if (budget > b->max_job_cycles - b->job_cycles)
			budget = b->max_job_cycles - b->job_cycles;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (b->device_kind == F8BR_DEVICE_MODEL)
		r = model_steps(b, budget, &spent, &over);
	else
		r = f8npu_dev_run(b->dev, budget, &spent);
	dt = since(&t0);
	/* Keep the mailbox answered within about SLICE_TARGET_S while a job runs. */
	if (!b->slice_fixed && budget == b->slice && spent) {
		double want = dt > 0 ? (double)spent * SLICE_TARGET_S / dt : (double)SLICE_MAX;

		want = (want + (double)b->slice) / 2;
		b->slice = want < SLICE_MIN ? SLICE_MIN : want > SLICE_MAX ? SLICE_MAX : (uint64_t)want;
	}
	b->job_cycles += spent;
	b->total_cycles += spent;
	shm_store64(b, F8BR_CYCLES_OFF, b->total_cycles);
	if (over) {
		hang(b, F8BR_JOB_OVER_BUDGET, "--max-job-cycles: the next step would pass it");
		return;
	}
	if (r == F8NPU_RUN_IDLE) {
		b->running = false;
		shm_store32(b, F8BR_JOB_STATE_OFF, F8BR_JOB_IDLE);
		/* Idle: the job ended, or it waits for a TAIL write (STATUS.WAIT, still busy). */
		if (b->in_job && !(f8npu_dev_read(b->dev, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY)) {
			b->in_job = false;
			logmsg(b, 1, "job %u ended after %" PRIu64 " cycles, %.3f s (slice %" PRIu64 ")",
			       b->jobs, b->job_cycles, since(&b->job_t0), b->slice);
		} else if (b->in_job) {
			logmsg(b, 2, "job %u waits for the doorbell (CMD_TAIL)", b->jobs);
		}
	}
}

/* Level over an edge transport: signal on a rising line, or when the guest touched
 * IRQ_STATUS / IRQ_MASK and the line is still high. */
static void update_irq(struct bridge *b)
{
	bool level = f8npu_dev_irq(b->dev);

	shm_store32(b, F8BR_IRQ_LEVEL_OFF, level);
	if (level && (!b->irq_prev || b->rearm) && b->client_fd >= 0) {
		uint64_t one = 1;

		if (write(b->guest_efd[F8BR_IRQ_VEC_DEVICE], &one, sizeof(one)) != sizeof(one))
			logmsg(b, 1, "interrupt: eventfd write: %s", strerror(errno));
		b->irq_count++;
		shm_store32(b, F8BR_IRQ_COUNT_OFF, b->irq_count);
		logmsg(b, 2, "interrupt %u sent", b->irq_count);
	}
	b->irq_prev = level;
	b->rearm = false;
}

/* ---- the ivshmem server ---- */

static int send_msg(int fd, int64_t v, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	/* The protocol's numbers are little-endian; so is every host this runs on (x86, arm64). */
	if (passfd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(v) ? 0 : -1;
}

static void close_guest_efds(struct bridge *b)
{
	unsigned int v;

	for (v = 0; v < MAX_VECTORS; v++) {
		if (b->guest_efd[v] >= 0)
			close(b->guest_efd[v]);
		b->guest_efd[v] = -1;
	}
}

static void drop_client(struct bridge *b, const char *why)
{
	logmsg(b, 1, "guest %u disconnected (%s)", b->client_id, why);
	close(b->client_fd);
	b->client_fd = -1;
	close_guest_efds(b);
	device_reset(b);
	shm_store32(b, F8BR_STATE_OFF, F8BR_STATE_INIT);
}

/* A fresh control page (and an empty window) for a new guest. */
static void init_shm(struct bridge *b)
{
	/* Zero by releasing the pages (no cost for a window never touched), else by writing. */
	if (fallocate(b->shm_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)b->shm_size))
		memset(b->shm, 0, b->shm_size);
	shm_store32(b, F8BR_MAGIC_OFF, F8BR_MAGIC);
	shm_store32(b, F8BR_VERSION_OFF, F8BR_VERSION);
	shm_store32(b, F8BR_BRIDGE_PEER_OFF, BRIDGE_PEER);
	shm_store32(b, F8BR_GUEST_PEER_OFF, b->client_id);
	shm_store64(b, F8BR_WIN_OFFSET_OFF, F8BR_WIN_OFFSET);
	shm_store64(b, F8BR_WIN_SIZE_OFF, b->win_size);
	shm_store32(b, F8BR_RING_OFFSET_OFF, F8BR_RING_OFFSET);
	shm_store32(b, F8BR_RING_ENTRIES_OFF, F8BR_RING_ENTRIES);
	shm_store32(b, F8BR_VECTORS_OFF, b->vectors);
	shm_store32(b, F8BR_DEVICE_OFF, b->device_kind);
	b->cons = 0;
	b->reset_ack = 0;
	b->errors = 0;
	b->jobs = 0;
	b->total_cycles = 0;
	b->irq_prev = false;
	b->rearm = false;
	b->irq_count = 0;
	b->stall_after = b->stall_after_opt;
	b->stall_jobs = b->stall_jobs_opt;
	device_reset(b);
	shm_store32(b, F8BR_STATE_OFF, F8BR_STATE_READY);
}

static void accept_client(struct bridge *b)
{
	int fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	unsigned int v;

	if (fd < 0) {
		logmsg(b, 1, "accept: %s", strerror(errno));
		return;
	}
	if (b->client_fd >= 0) {
		/* One device, one guest. A second client gets a version it cannot handle, then the
		 * socket closes: QEMU 7.2 then fails cleanly ("server sent version 63669, expecting
		 * 0"), where a bare close would leave it retrying the read forever. */
		logmsg(b, 0, "refusing a second client: guest %u is attached", b->client_id);
		send_msg(fd, F8BR_BUSY_VERSION, -1);
		close(fd);
		return;
	}
	b->client_id = b->next_id;
	b->next_id = b->next_id == UINT16_MAX ? 1 : b->next_id + 1;
	for (v = 0; v < b->vectors; v++) {
		b->guest_efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (b->guest_efd[v] < 0) {
			logmsg(b, 0, "eventfd: %s", strerror(errno));
			close_guest_efds(b);
			close(fd);
			return;
		}
	}
	init_shm(b);
	/* ivshmem-spec.txt: version, the client's ID, the shared memory, the other peers' (our)
	 * vectors, then the client's own vectors. */
	if (send_msg(fd, 0, -1) || send_msg(fd, b->client_id, -1) || send_msg(fd, -1, b->shm_fd))
		goto fail;
	for (v = 0; v < b->vectors; v++)
		if (send_msg(fd, BRIDGE_PEER, b->my_efd[v]))
			goto fail;
	for (v = 0; v < b->vectors; v++)
		if (send_msg(fd, b->client_id, b->guest_efd[v]))
			goto fail;
	b->client_fd = fd;
	logmsg(b, 1, "guest %u connected (%u vectors)", b->client_id, b->vectors);
	return;
fail:
	logmsg(b, 0, "sending the setup to a new client failed: %s", strerror(errno));
	close(fd);
	close_guest_efds(b);
	shm_store32(b, F8BR_STATE_OFF, F8BR_STATE_INIT);
}

static int listen_on(struct bridge *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(b->sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "f8npu-bridge: socket path too long: %s\n", b->sock_path);
		return -1;
	}
	strcpy(sa.sun_path, b->sock_path);
	if (lstat(b->sock_path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "f8npu-bridge: %s exists and is not a socket\n", b->sock_path);
			return -1;
		}
		/* A live server there? Else a stale socket file: replace it. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			fprintf(stderr, "f8npu-bridge: a server is already listening on %s\n", b->sock_path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(b->sock_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4)) {
		fprintf(stderr, "f8npu-bridge: %s: %s\n", b->sock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int create_shm(struct bridge *b)
{
	b->shm_fd = memfd_create("f8npu-bridge", MFD_CLOEXEC);
	if (b->shm_fd < 0 || ftruncate(b->shm_fd, (off_t)b->shm_size)) {
		fprintf(stderr, "f8npu-bridge: shared memory of %" PRIu64 " bytes: %s\n", b->shm_size,
			strerror(errno));
		return -1;
	}
	b->shm = mmap(NULL, b->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, b->shm_fd, 0);
	if (b->shm == MAP_FAILED) {
		fprintf(stderr, "f8npu-bridge: mmap: %s\n", strerror(errno));
		return -1;
	}
	b->win = b->shm + F8BR_WIN_OFFSET;
	b->win_size = b->shm_size - F8BR_WIN_OFFSET;
	return 0;
}

/* ---- the event loop ---- */

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

static int serve(struct bridge *b)
{
	struct pollfd pfd[2 + MAX_VECTORS];

	while (!g_stop) {
		unsigned int n = 0, v;
		int timeout, r;

		pfd[n++] = (struct pollfd){ .fd = b->listen_fd, .events = POLLIN };
		if (b->client_fd >= 0) {
			pfd[n++] = (struct pollfd){ .fd = b->client_fd, .events = POLLIN };
			for (v = 0; v < b->vectors; v++)
				pfd[n++] = (struct pollfd){ .fd = b->my_efd[v], .events = POLLIN };
		}
		timeout = b->client_fd < 0 ? -1 : b->running ? 0 : IDLE_SCAN_MS;
		r = poll(pfd, n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "f8npu-bridge: poll: %s\n", strerror(errno));
			return 1;
		}
		if (b->client_fd >= 0) {
			for (v = 0; v < b->vectors; v++)
				if (pfd[2 + v].revents & POLLIN)
					drain(b->my_efd[v]);
			if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
				char junk[4096];
				ssize_t k = read(b->client_fd, junk, sizeof(junk));

				/* The protocol is one-way: whatever a client sends is ignored. */
				if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) {
					drop_client(b, k == 0 ? "end of file" : strerror(errno));
					if (b->once)
						return 0;
				}
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_client(b);
		if (b->client_fd < 0)
			continue;
		process_mailbox(b);
		if (b->running && !b->stalled)
			run_slice(b);
		update_irq(b);
	}
	return 0;
}

/* ---- options ---- */

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return false;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	default: break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return false;
	v <<= shift;
	*out = v;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: f8npu-bridge --socket PATH [--device model[:RxC][,bw=B][,lat=L] |\n"
		"                    rtl:RxC[,bw=B][,lat=L][,vcd=PATH]] [--mem-size BYTES] [--vectors N]\n"
		"                    [--slice CYCLES] [--stall-after CYCLES [--stall-jobs N]]\n"
		"                    [--max-job-cycles CYCLES]\n"
		"                    [--rtl-dir DIR] [--once] [-v]...\n"
		"Serve one f8npu device to a QEMU guest: -chardev socket,path=PATH,id=f8\n"
		"-device ivshmem-doorbell,chardev=f8,vectors=N (docs/cosim.md).\n"
		"  --socket PATH       the ivshmem server's UNIX socket (a stale one is replaced)\n"
		"  --device SPEC       the functional model (default model, 16x16) or the Verilated RTL\n"
		"                      of one array configuration, $F8_RTL_DIR/rRcC/libf8npu-rtl.so, else\n"
		"                      rtl/rRcC/ next to this program\n"
		"  --mem-size BYTES    shared memory (power of two, suffix K/M/G; default 64M): 64 KiB\n"
		"                      control area, then the device memory window\n"
		"  --vectors N         interrupt vectors per peer (1..%u, default 1)\n"
		"  --slice CYCLES      device cycles between two looks at the mailbox (default: adapted\n"
		"                      to about 2 ms of wall time)\n"
		"  --stall-after C     a job stops advancing after C cycles (a hung job; reset recovers)\n"
		"  --stall-jobs N      only the next N jobs stall (default: every job)\n"
		"  --max-job-cycles C  a job that would pass C cycles stops advancing (the model prices\n"
		"                      each step before it takes it); default 100000000, 0: no limit\n"
		"  --rtl-dir DIR       where rRcC/libf8npu-rtl.so are (overrides $F8_RTL_DIR)\n"
		"  --once              exit when the first guest disconnects\n"
		"  -v, --verbose       progress to stderr (-vv interrupts, -vvv every register access)\n",
		MAX_VECTORS);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "mem-size", required_argument, NULL, 'm' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "slice", required_argument, NULL, 'S' },
		{ "stall-after", required_argument, NULL, 'a' },
		{ "stall-jobs", required_argument, NULL, 'j' },
		{ "max-job-cycles", required_argument, NULL, 'M' },
		{ "rtl-dir", required_argument, NULL, 'r' },
		{ "once", no_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bridge b = {
		.device_arg = "model",
		.shm_size = 64u << 20,
		.vectors = 1,
		.slice = 4096,
		.stall_jobs_opt = STALL_ALL,
		.max_job_cycles = 100000000,
		.shm_fd = -1,
		.listen_fd = -1,
		.client_fd = -1,
		.next_id = 1,
	};
	struct sigaction sa;
	unsigned int v;
	uint32_t u;
	int c, rc;

	for (v = 0; v < MAX_VECTORS; v++)
		b.my_efd[v] = b.guest_efd[v] = -1;
	while ((c = getopt_long(argc, argv, "s:d:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': b.sock_path = optarg; break;
		case 'd': b.device_arg = optarg; break;
		case 'm':
			if (!parse_size(optarg, &b.shm_size) || b.shm_size < (1u << 20) ||
			    b.shm_size > (1ull << 34) || (b.shm_size & (b.shm_size - 1))) {
				fprintf(stderr, "f8npu-bridge: --mem-size '%s': a power of two, 1M..16G\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (!parse_u32(optarg, 1, MAX_VECTORS, &u)) {
				fprintf(stderr, "f8npu-bridge: --vectors '%s': 1..%u\n", optarg, MAX_VECTORS);
				return 2;
			}
			b.vectors = u;
			break;
		case 'S':
			b.slice_fixed = true;
			if (!parse_size(optarg, &b.slice) || !b.slice) {
				fprintf(stderr, "f8npu-bridge: --slice '%s': a positive number of cycles\n", optarg);
				return 2;
			}
			break;
		case 'a':
			if (!parse_size(optarg, &b.stall_after_opt) || !b.stall_after_opt) {
				fprintf(stderr, "f8npu-bridge: --stall-after '%s': a positive number of cycles\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			if (!parse_u32(optarg, 1, UINT32_MAX - 1, &b.stall_jobs_opt)) {
				fprintf(stderr, "f8npu-bridge: --stall-jobs '%s': a positive number\n", optarg);
				return 2;
			}
			break;
		case 'M':
			if (!parse_size(optarg, &b.max_job_cycles)) {
				fprintf(stderr, "f8npu-bridge: --max-job-cycles '%s': a number of cycles (0: no "
					"limit)\n", optarg);
				return 2;
			}
			break;
		case 'r': b.rtl_dir = optarg; break;
		case 'o': b.once = true; break;
		case 'v': b.verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !b.sock_path) {
		fprintf(stderr, "f8npu-bridge: %s\n", optind != argc ? "unexpected argument" :
			"--socket PATH is required");
		usage(stderr);
		return 2;
	}
	rc = open_device(&b);
	if (rc)
		return rc;
	if (create_shm(&b))
		return 1;
	for (v = 0; v < b.vectors; v++) {
		b.my_efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (b.my_efd[v] < 0) {
			fprintf(stderr, "f8npu-bridge: eventfd: %s\n", strerror(errno));
			return 1;
		}
	}
	b.listen_fd = listen_on(&b);
	if (b.listen_fd < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	logmsg(&b, 1, "%s, %" PRIu64 " MiB shared memory (window %#" PRIx64 " bytes), listening on %s",
	       b.device_name, b.shm_size >> 20, b.win_size, b.sock_path);
	rc = serve(&b);
	logmsg(&b, 1, "exiting");
	if (b.client_fd >= 0)
		close(b.client_fd);
	close(b.listen_fd);
	unlink(b.sock_path);
	close_guest_efds(&b);
	for (v = 0; v < b.vectors; v++)
		close(b.my_efd[v]);
	munmap(b.shm, b.shm_size);
	close(b.shm_fd);
	f8npu_dev_destroy(b.dev);
	if (b.so)
		dlclose(b.so);
	return rc;
}
