// SPDX-License-Identifier: MIT
/*
 * Host-side tests of f8npu-bridge (sim/f8npu-bridge.c, docs/cosim.md) without a guest: this
 * program is the guest's side. It starts the bridge, connects to its socket and speaks the
 * ivshmem client protocol exactly as QEMU's ivshmem-doorbell does (version, ID, shared memory,
 * the bridge's vectors, its own vectors), rings the doorbell by writing the bridge's eventfd
 * (what QEMU does on a BAR0 doorbell write), waits for interrupts on its own eventfd (what
 * QEMU turns into MSI-X), and reaches the registers through the mailbox with a struct
 * f8npu_dev, so sim/f8npu_prog.c drives the device as the kernel driver will.
 *
 *   bridge-test --bridge build/f8npu-bridge [--device SPEC]... [--fuzz N] [--seed S] [-v]
 *
 * Per --device (default: model): ID and capability registers; a CONV2D job whose output bytes
 * and counters are compared with the functional model run in this process on a copy of the
 * same memory; the interrupt through the eventfd; CMD_TAIL below END and a later TAIL write;
 * the level-over-MSI-X rules; hostile mailbox requests, ring indices and DMA addresses
 * (errors, and the bridge survives), streams at the top of the address space, random register
 * traffic (--fuzz N, --seed S); a second client refused; the socket's garbage ignored; a
 * stalled job recovered by soft reset (the mailbox's STALL request, and the --stall-after flag
 * on the first device); a reconnect; SIGTERM. Prints one line per check and
 * "bridge-test: N passed, N failed"; exit status 0 only if all passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "f8npu_bridge.h"
#include "f8npu_build.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"

#define MAX_VEC 8
#define TEST_VECTORS 2u
#define SHM_SIZE (16u << 20)

static int g_verbose;
static unsigned int g_fuzz = 2000;
static uint32_t g_seed = 12345;
static unsigned int g_pass, g_fail;
static pid_t g_bridge = -1;
static const char *g_bridge_path;

static void kill_bridge(void)
{
	if (g_bridge > 0) {
		kill(g_bridge, SIGKILL);
		waitpid(g_bridge, NULL, 0);
		g_bridge = -1;
	}
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("  %s ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		g_pass++;
	else
		g_fail++;
}

/* A failure after which this device's checks cannot go on. */
static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fatal(const char *fmt, ...)
{
	va_list ap;

	printf("  FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	printf("bridge-test: %u passed, %u failed (stopped)\n", g_pass, g_fail + 1);
	kill_bridge();
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the bridge process ---- */

static char g_sock[108];

static void start_bridge(const char *device, const char *extra1, const char *extra2)
{
	char vec[16];
	const char *argv[16];
	int n = 0;

	snprintf(vec, sizeof(vec), "%u", TEST_VECTORS);
	argv[n++] = g_bridge_path;
	argv[n++] = "--socket";
	argv[n++] = g_sock;
	argv[n++] = "--device";
	argv[n++] = device;
	argv[n++] = "--mem-size";
	argv[n++] = "16M";
	argv[n++] = "--vectors";
	argv[n++] = vec;
	if (g_verbose)
		argv[n++] = "-v";
	if (extra1)
		argv[n++] = extra1;
	if (extra2)
		argv[n++] = extra2;
	argv[n] = NULL;
	unlink(g_sock);
	g_bridge = fork();
	if (g_bridge < 0)
		fatal("fork: %s", strerror(errno));
	if (g_bridge == 0) {
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "bridge-test: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
}

static bool bridge_alive(void)
{
	int st;

	return g_bridge > 0 && waitpid(g_bridge, &st, WNOHANG) == 0;
}

/* SIGTERM: the bridge must exit 0 and remove its socket. */
static void stop_bridge(const char *what)
{
	int st = -1;
	double t0 = now();
	pid_t r = 0;

	kill(g_bridge, SIGTERM);
	while (now() - t0 < 10 && (r = waitpid(g_bridge, &st, WNOHANG)) == 0)
		usleep(10000);
	if (r == 0) {
		kill_bridge();
		check(false, "%s: the bridge did not exit on SIGTERM", what);
		return;
	}
	g_bridge = -1;
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0 && access(g_sock, F_OK) != 0,
	      "%s: SIGTERM: the bridge exits 0 (status %#x) and removes its socket", what, st);
}

/* ---- the ivshmem client (what QEMU does) ---- */

struct client {
	int sock;
	int64_t id;
	int shm_fd;
	uint8_t *shm;
	uint64_t shm_size;
	int peer_efd[MAX_VEC]; /* the bridge's vectors: our doorbell */
	int own_efd[MAX_VEC];  /* our vectors: interrupts */
	unsigned int npeer, nown;
	uint32_t prod;
	uint32_t token;
};

static int connect_sock(double timeout)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double t0 = now();

	strcpy(sa.sun_path, g_sock);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		if (now() - t0 > timeout || (g_bridge > 0 && !bridge_alive()))
			return -1;
		usleep(20000);
	}
}

/* One message: 8 bytes little-endian, maybe with one fd. 0 ok, 1 end of file, -1 error. */
static int recv_msg(int sock, int64_t *v, int *fd, double timeout)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = v, .iov_len = sizeof(*v) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	if (poll(&p, 1, (int)(timeout * 1000)) != 1)
		return -1;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n == 0)
		return 1;
	if (n != sizeof(*v))
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static void client_connect(struct client *cl)
{
	int64_t v;
	int fd, r;
	unsigned int i;
	struct stat st;

	memset(cl, 0, sizeof(*cl));
	cl->sock = connect_sock(10);
	if (cl->sock < 0)
		fatal("connect to %s: %s", g_sock, bridge_alive() ? strerror(errno) : "the bridge exited");
	if (recv_msg(cl->sock, &v, &fd, 10) || v != 0 || fd >= 0)
		fatal("protocol: the first message is not version 0 (%" PRId64 ", fd %d)", v, fd);
	if (recv_msg(cl->sock, &v, &fd, 10) || v < 0 || v > 65535 || fd >= 0)
		fatal("protocol: the second message is not an ID (%" PRId64 ")", v);
	cl->id = v;
	if (recv_msg(cl->sock, &v, &fd, 10) || v != -1 || fd < 0)
		fatal("protocol: the third message is not -1 with the shared memory fd");
	cl->shm_fd = fd;
	if (fstat(fd, &st) || st.st_size <= 0)
		fatal("shared memory fd: fstat");
	cl->shm_size = (uint64_t)st.st_size;
	cl->shm = mmap(NULL, cl->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cl->shm == MAP_FAILED)
		fatal("mmap of the shared memory: %s", strerror(errno));
	/* Peers' vectors, then our own (ID = ours); each with one eventfd. */
	for (i = 0; i < 2 * TEST_VECTORS; i++) {
		r = recv_msg(cl->sock, &v, &fd, 10);
		if (r || fd < 0)
			fatal("protocol: vector message %u missing or without an fd", i);
		if (v == cl->id) {
			if (cl->nown < MAX_VEC)
				cl->own_efd[cl->nown++] = fd;
		} else {
			if (cl->nown || v != 0)
				fatal("protocol: peer message %" PRId64 " after our own vectors or not peer 0", v);
			if (cl->npeer < MAX_VEC)
				cl->peer_efd[cl->npeer++] = fd;
		}
	}
	if (cl->npeer != TEST_VECTORS || cl->nown != TEST_VECTORS)
		fatal("protocol: %u peer vectors and %u own, expected %u each", cl->npeer, cl->nown,
		      TEST_VECTORS);
}

static void client_close(struct client *cl)
{
	unsigned int i;

	for (i = 0; i < cl->npeer; i++)
		close(cl->peer_efd[i]);
	for (i = 0; i < cl->nown; i++)
		close(cl->own_efd[i]);
	munmap(cl->shm, cl->shm_size);
	close(cl->shm_fd);
	close(cl->sock);
}

static uint32_t ld32(const struct client *cl, uint32_t off)
{
	return __atomic_load_n((const uint32_t *)(cl->shm + off), __ATOMIC_ACQUIRE);
}

static uint64_t ld64(const struct client *cl, uint32_t off)
{
	return __atomic_load_n((const uint64_t *)(cl->shm + off), __ATOMIC_ACQUIRE);
}

static void st32(const struct client *cl, uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(cl->shm + off), v, __ATOMIC_RELEASE);
}

/* The guest's doorbell write: BAR0 offset 12 = peer << 16 | vector; QEMU writes the eventfd. */
static void doorbell(const struct client *cl, unsigned int vector)
{
	uint64_t one = 1;

	if (write(cl->peer_efd[vector], &one, sizeof(one)) != sizeof(one))
		fatal("doorbell: %s", strerror(errno));
}

static struct f8br_req *entry(const struct client *cl, uint32_t seq)
{
	return (struct f8br_req *)(cl->shm + F8BR_RING_OFFSET) + seq % F8BR_RING_ENTRIES;
}

static void wait_cons(const struct client *cl, uint32_t upto)
{
	double t0 = now();

	while ((int32_t)(ld32(cl, F8BR_REQ_CONS_OFF) - upto) < 0) {
		if (now() - t0 > 20)
			fatal("mailbox: request %u not answered in 20 s (req_cons %u)", upto - 1,
			      ld32(cl, F8BR_REQ_CONS_OFF));
	}
}

/* Post one request; returns its seq. */
static uint32_t post(struct client *cl, uint16_t op, uint32_t off, uint32_t val)
{
	struct f8br_req *e;
	uint32_t seq = cl->prod;

	if (seq - ld32(cl, F8BR_REQ_CONS_OFF) >= F8BR_RING_ENTRIES)
		wait_cons(cl, seq - F8BR_RING_ENTRIES + 1);
	e = entry(cl, seq);
	e->seq = seq;
	e->op = op;
	e->status = 0;
	e->off = off;
	e->val = val;
	cl->prod = seq + 1;
	st32(cl, F8BR_REQ_PROD_OFF, cl->prod);
	doorbell(cl, F8BR_VEC_MAILBOX);
	return seq;
}

/* Post and wait: status, and *val. */
static uint16_t call(struct client *cl, uint16_t op, uint32_t off, uint32_t *val)
{
	uint32_t seq = post(cl, op, off, val ? *val : 0);
	struct f8br_req *e;

	wait_cons(cl, seq + 1);
	e = entry(cl, seq);
	if (val)
		*val = e->val;
	return e->status;
}

static bool mailbox_reset(struct client *cl)
{
	double t0 = now();

	cl->token++;
	st32(cl, F8BR_RESET_REQ_OFF, cl->token);
	doorbell(cl, F8BR_VEC_MAILBOX);
	while (ld32(cl, F8BR_RESET_ACK_OFF) != cl->token)
		if (now() - t0 > 10)
			return false;
	cl->prod = 0;
	return ld32(cl, F8BR_REQ_PROD_OFF) == 0 && ld32(cl, F8BR_REQ_CONS_OFF) == 0;
}

/* Wait for an interrupt on vector @v: true if one came within @timeout seconds. */
static bool wait_irq(const struct client *cl, unsigned int v, double timeout)
{
	struct pollfd p = { .fd = cl->own_efd[v], .events = POLLIN };
	uint64_t cnt;

	if (poll(&p, 1, (int)(timeout * 1000)) != 1)
		return false;
	return read(cl->own_efd[v], &cnt, sizeof(cnt)) == sizeof(cnt) && cnt > 0;
}

/* ---- the device through the mailbox: a struct f8npu_dev for sim/f8npu_prog.c ---- */

struct remote {
	struct f8npu_dev dev;
	struct client *cl;
};

static uint32_t remote_read(struct f8npu_dev *dev, uint32_t off)
{
	struct remote *r = (struct remote *)dev;
	uint32_t v = 0;
	uint16_t st = call(r->cl, F8BR_OP_READ, off, &v);

	if (st)
		fatal("mailbox read %#x: status %u", off, st);
	return v;
}

static void remote_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct remote *r = (struct remote *)dev;

	post(r->cl, F8BR_OP_WRITE, off, val); /* posted */
}

static bool remote_irq(struct f8npu_dev *dev)
{
	return ld32(((struct remote *)dev)->cl, F8BR_IRQ_LEVEL_OFF) != 0;
}

static enum f8npu_run_result remote_run(struct f8npu_dev *dev, uint64_t max, uint64_t *cycles)
{
	(void)dev;
	(void)max;
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE; /* the bridge runs the device */
}

static const struct f8npu_dev_ops remote_ops = {
	.reg_read = remote_read,
	.reg_write = remote_write,
	.irq = remote_irq,
	.run = remote_run,
};

/* ---- the job: one CONV2D + END, laid out in the window ---- */

#define CMD_ADDR 0x1000u
#define SRC_ADDR 0x10000u
#define WT_ADDR 0x20000u
#define BIAS_ADDR 0x30000u
#define DST_ADDR 0x40000u
#define JOB_SPAN 0x50000u
#define H 12
#define W 10
#define CIN 8
#define COUT 12

struct job {
	uint8_t mem[JOB_SPAN]; /* device addresses 0 .. JOB_SPAN-1 */
	uint32_t cmd_size, descs;
	uint64_t dst_bytes;
};

static uint32_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

static void build_job(struct job *j)
{
	struct f8npu_cmd_header h = f8npu_header_make(2);
	struct f8npu_desc d[2];
	size_t i;

	memset(j, 0, sizeof(*j));
	d[0] = f8npu_desc_zero(F8NPU_OP_CONV2D);
	d[0].flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d[0].kernel_h = d[0].kernel_w = 3;
	d[0].stride_h = d[0].stride_w = 1;
	d[0].pad_top = d[0].pad_bottom = d[0].pad_left = d[0].pad_right = 1;
	d[0].out_shift[0] = 7;
	d[0].src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, H, W, CIN);
	d[0].weights = f8npu_buffer_at(1, 0);
	d[0].bias = f8npu_buffer_at(2, 0);
	d[0].dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_S8, 0, 1, H, W, COUT);
	d[1] = f8npu_desc_zero(F8NPU_OP_END);
	memcpy(j->mem + CMD_ADDR, &h, sizeof(h));
	memcpy(j->mem + CMD_ADDR + sizeof(h), d, sizeof(d));
	j->cmd_size = (uint32_t)(sizeof(h) + sizeof(d));
	j->descs = 2;
	for (i = 0; i < (size_t)H * W * CIN; i++)
		j->mem[SRC_ADDR + i] = (uint8_t)rnd();
	for (i = 0; i < (size_t)COUT * 9 * CIN; i++)
		j->mem[WT_ADDR + i] = (uint8_t)rnd();
	for (i = 0; i < COUT; i++) {
		int32_t bias = (int32_t)(rnd() % 20000) - 10000;

		memcpy(j->mem + BIAS_ADDR + 4 * i, &bias, 4);
	}
	memset(j->mem + DST_ADDR, 0x5a, (size_t)H * W * COUT);
	j->dst_bytes = (uint64_t)H * W * COUT;
}

static void set_regions(struct f8npu_dev *dev, uint64_t base_shift)
{
	f8npu_prog_set_region(dev, 0, SRC_ADDR + base_shift, 0x10000);
	f8npu_prog_set_region(dev, 1, WT_ADDR + base_shift, 0x10000);
	f8npu_prog_set_region(dev, 2, BIAS_ADDR + base_shift, 0x10000);
	f8npu_prog_set_region(dev, 3, DST_ADDR + base_shift, 0x10000);
}

struct local_mem {
	uint8_t *mem;
	uint64_t size;
};

static uint8_t *local_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	struct local_mem *m = user;

	(void)write;
	if (addr >= m->size || len > m->size - addr)
		return NULL;
	return m->mem + addr;
}

/* The reference: the functional model in this process on a copy of the job's memory. */
static void reference(const struct job *j, uint32_t rows, uint32_t cols, uint8_t *out,
		      struct f8npu_job_result *res)
{
	static struct job copy;
	struct local_mem lm = { copy.mem, JOB_SPAN };
	struct f8npu_mem port = { .map = local_map, .user = &lm };
	struct f8npu_model_config mc;
	struct f8npu_dev *dev;

	copy = *j;
	f8npu_model_default_config(&mc);
	mc.rows = rows;
	mc.cols = cols;
	dev = f8npu_model_create(&mc, &port);
	if (!dev)
		fatal("reference model: create");
	set_regions(dev, 0);
	f8npu_prog_run_job(dev, CMD_ADDR, j->cmd_size, j->descs, 1ull << 40, res);
	memcpy(out, copy.mem + DST_ADDR, j->dst_bytes);
	f8npu_dev_destroy(dev);
}

/* Run @j through the bridge (copied into the window first): the interrupt-driven halves of
 * the programming layer, as the driver does. false if no interrupt came in @timeout s. */
static bool remote_job(struct client *cl, struct f8npu_dev *dev, const struct job *j, double timeout,
		       struct f8npu_job_result *res, double *secs)
{
	uint8_t *win = cl->shm + F8BR_WIN_OFFSET;
	double t0 = now();
	uint32_t events;

	memcpy(win, j->mem, JOB_SPAN);
	memset(res, 0, sizeof(*res));
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	set_regions(dev, 0);
	f8npu_prog_start_job(dev, CMD_ADDR, j->cmd_size, j->descs);
	if (!wait_irq(cl, F8BR_IRQ_VEC_DEVICE, timeout))
		return false;
	events = f8npu_prog_irq(dev);
	f8npu_prog_complete_job(dev, events, res);
	*secs = now() - t0;
	return true;
}

static bool perf_arch_eq(const struct f8npu_perf *a, const struct f8npu_perf *b)
{
	return a->macs == b->macs && a->rd_bytes == b->rd_bytes && a->wr_bytes == b->wr_bytes &&
	       a->descs == b->descs;
}

/* Run the job on the bridge and compare it with the reference. */
static void check_job(struct client *cl, struct f8npu_dev *dev, const char *what, bool cmp_cycles,
		      const struct job *j, const uint8_t *want, const struct f8npu_job_result *ref)
{
	struct f8npu_job_result res;
	double secs = 0;
	uint32_t sent = ld32(cl, F8BR_IRQ_COUNT_OFF);
	bool irq = remote_job(cl, dev, j, 120, &res, &secs);

	check(irq, "%s: the interrupt arrives through the guest's eventfd (vector %u)", what,
	      F8BR_IRQ_VEC_DEVICE);
	if (!irq)
		return;
	check(res.done && !res.err, "%s: the job is done (done %d err %u %s index %#x), %.3f s", what,
	      res.done, res.err, f8npu_err_name(res.err), res.err_index, secs);
	check(!memcmp(cl->shm + F8BR_WIN_OFFSET + DST_ADDR, want, j->dst_bytes),
	      "%s: %" PRIu64 " output bytes identical to the in-process model's", what, j->dst_bytes);
	check(perf_arch_eq(&res.perf, &ref->perf) && (!cmp_cycles || res.perf.cycles == ref->perf.cycles),
	      "%s: counters macs %" PRIu64 " rd %" PRIu64 " wr %" PRIu64 " descs %u cycles %" PRIu64
	      " (model: %" PRIu64 " %" PRIu64 " %" PRIu64 " %u %" PRIu64 "%s)", what, res.perf.macs,
	      res.perf.rd_bytes, res.perf.wr_bytes, res.perf.descs, res.perf.cycles, ref->perf.macs,
	      ref->perf.rd_bytes, ref->perf.wr_bytes, ref->perf.descs, ref->perf.cycles,
	      cmp_cycles ? "" : "; cycles not compared");
	/* The acknowledgement lowers the line; exactly one message for this job. */
	f8npu_dev_read(dev, F8NPU_REG_ID); /* a fence: the ack has been executed */
	check(ld32(cl, F8BR_IRQ_LEVEL_OFF) == 0 && ld32(cl, F8BR_IRQ_COUNT_OFF) == sent + 1,
	      "%s: after the acknowledgement the line is low (level %u), one message sent (%u)", what,
	      ld32(cl, F8BR_IRQ_LEVEL_OFF), ld32(cl, F8BR_IRQ_COUNT_OFF) - sent);
}

/* The command queue's doorbell: TAIL below END, the device waits (the bridge idles), a later
 * TAIL write resumes it. */
static void check_tail(struct client *cl, struct f8npu_dev *dev, const char *what, const struct job *j,
		       const uint8_t *want)
{
	struct f8npu_job_result res;
	uint32_t status, events;
	bool irq;

	memcpy(cl->shm + F8BR_WIN_OFFSET, j->mem, JOB_SPAN);
	memset(&res, 0, sizeof(res));
	set_regions(dev, 0);
	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
	f8npu_dev_write(dev, F8NPU_REG_IRQ_STATUS, F8NPU_IRQ_ALL);
	f8npu_dev_write(dev, F8NPU_REG_CMD_BASE_LO, CMD_ADDR);
	f8npu_dev_write(dev, F8NPU_REG_CMD_BASE_HI, 0);
	f8npu_dev_write(dev, F8NPU_REG_CMD_SIZE, j->cmd_size);
	f8npu_dev_write(dev, F8NPU_REG_CMD_TAIL, 1);
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_START);
	irq = wait_irq(cl, 0, 0.5);
	status = f8npu_dev_read(dev, F8NPU_REG_STATUS);
	check(!irq && status == (F8NPU_STATUS_BUSY | F8NPU_STATUS_WAIT) &&
	      ld32(cl, F8BR_JOB_STATE_OFF) == F8BR_JOB_IDLE,
	      "%s: TAIL 1 of 2: the device waits (STATUS %#x), the bridge idles, no interrupt", what, status);
	f8npu_dev_write(dev, F8NPU_REG_CMD_TAIL, 2);
	irq = wait_irq(cl, 0, 60);
	events = irq ? f8npu_prog_irq(dev) : 0;
	f8npu_prog_complete_job(dev, events, &res);
	check(irq && res.done && !memcmp(cl->shm + F8BR_WIN_OFFSET + DST_ADDR, want, j->dst_bytes),
	      "%s: TAIL 2 resumes it: interrupt, done, the same output", what);
}

/* Level over MSI-X (docs/cosim.md section 5): a still-high line is signalled again after an
 * IRQ_MASK / IRQ_STATUS write; masking lowers it, unmasking is a new edge; the ack ends it. */
static void check_rearm(struct client *cl, struct f8npu_dev *dev, const char *what, const struct job *j)
{
	struct f8npu_job_result res;
	bool a, b2, c, d, e;

	memcpy(cl->shm + F8BR_WIN_OFFSET, j->mem, JOB_SPAN);
	set_regions(dev, 0);
	f8npu_prog_start_job(dev, CMD_ADDR, j->cmd_size, j->descs);
	a = wait_irq(cl, 0, 60);			 /* the edge */
	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL); /* not acknowledged: again */
	b2 = wait_irq(cl, 0, 5);
	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, 0); /* masked: low, nothing */
	c = !wait_irq(cl, 0, 0.2) && ld32(cl, F8BR_IRQ_LEVEL_OFF) == 0;
	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL); /* unmasked: an edge */
	d = wait_irq(cl, 0, 5);
	memset(&res, 0, sizeof(res));
	f8npu_prog_complete_job(dev, f8npu_prog_irq(dev), &res); /* the ack: low, nothing */
	e = !wait_irq(cl, 0, 0.2) && ld32(cl, F8BR_IRQ_LEVEL_OFF) == 0 && res.done;
	check(a && b2 && c && d && e,
	      "%s: level over MSI-X: edge %d, re-sent after an IRQ_MASK write %d, masked low %d, "
	      "unmask edge %d, acknowledged low %d", what, a, b2, c, d, e);
}

/* A job that stalls: no interrupt, STATUS.BUSY, JOB_STATE stalled; soft reset recovers. */
static void check_stall(struct client *cl, struct f8npu_dev *dev, const char *what, const struct job *j)
{
	struct f8npu_job_result res;
	double secs;
	uint32_t status;
	bool irq = remote_job(cl, dev, j, 1.0, &res, &secs);

	status = f8npu_dev_read(dev, F8NPU_REG_STATUS);
	check(!irq && (status & F8NPU_STATUS_BUSY) && ld32(cl, F8BR_JOB_STATE_OFF) == F8BR_JOB_STALLED,
	      "%s: the job hangs: no interrupt in 1 s, STATUS %#x, job state %u (stalled = %u)", what,
	      status, ld32(cl, F8BR_JOB_STATE_OFF), F8BR_JOB_STALLED);
	f8npu_prog_reset(dev);
	status = f8npu_dev_read(dev, F8NPU_REG_STATUS);
	check(status == 0 && ld32(cl, F8BR_JOB_STATE_OFF) == F8BR_JOB_IDLE && !wait_irq(cl, 0, 0.05),
	      "%s: soft reset: STATUS %#x, job state idle, no interrupt", what, status);
}

/* Hostile requests: each is refused with its status, and the mailbox goes on. */
static void check_hostile(struct client *cl, struct f8npu_dev *dev, const char *what)
{
	uint32_t errs0 = ld32(cl, F8BR_ERRORS_OFF), v, seq, prod, i;
	struct f8br_req *e;
	uint16_t st;

	v = 0;
	check(call(cl, F8BR_OP_READ, 0x1001, &v) == F8BR_ST_BAD_OFF, "%s: read of offset 0x1001: BAD_OFF", what);
	check(call(cl, F8BR_OP_READ, 0x1000, &v) == F8BR_ST_BAD_OFF, "%s: read of offset 0x1000: BAD_OFF", what);
	v = 1;
	check(call(cl, F8BR_OP_WRITE, 0xfffffffc, &v) == F8BR_ST_BAD_OFF,
	      "%s: write of offset 0xfffffffc: BAD_OFF", what);
	check(call(cl, 0xbeef, 0, &v) == F8BR_ST_BAD_OP, "%s: op 0xbeef: BAD_OP", what);
	check(call(cl, F8BR_OP_INFO, 99, &v) == F8BR_ST_BAD_OFF, "%s: info word 99: BAD_OFF", what);
	/* A wrong sequence number. */
	seq = cl->prod;
	e = entry(cl, seq);
	e->seq = seq + 77;
	e->op = F8BR_OP_WRITE;
	e->off = F8NPU_REG_CTRL;
	e->val = F8NPU_CTRL_START;
	cl->prod++;
	st32(cl, F8BR_REQ_PROD_OFF, cl->prod);
	doorbell(cl, 0);
	wait_cons(cl, cl->prod);
	check(e->status == F8BR_ST_BAD_SEQ && !(f8npu_dev_read(dev, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY),
	      "%s: an entry with the wrong seq: BAD_SEQ (status %u), not executed", what, e->status);
	check(ld32(cl, F8BR_ERRORS_OFF) == errs0 + 6 && ld32(cl, F8BR_LAST_ERROR_OFF) == F8BR_ST_BAD_SEQ,
	      "%s: the error counter counts them (%u) and LAST_ERROR is BAD_SEQ (%u)", what,
	      ld32(cl, F8BR_ERRORS_OFF) - errs0, ld32(cl, F8BR_LAST_ERROR_OFF));
	/* req_prod far ahead: dropped, BAD_PROD, req_cons follows. */
	prod = cl->prod + 100000;
	for (i = 0; i < F8BR_RING_ENTRIES; i++)
		entry(cl, i)->seq = rnd();
	st32(cl, F8BR_REQ_PROD_OFF, prod);
	doorbell(cl, 0);
	wait_cons(cl, prod);
	cl->prod = prod;
	check(ld32(cl, F8BR_REQ_CONS_OFF) == prod && ld32(cl, F8BR_LAST_ERROR_OFF) == F8BR_ST_BAD_PROD,
	      "%s: req_prod 100000 ahead: dropped, req_cons follows, LAST_ERROR BAD_PROD (%u)", what,
	      ld32(cl, F8BR_LAST_ERROR_OFF));
	/* A ring full of garbage, all posted at once. */
	for (i = 0; i < F8BR_RING_ENTRIES; i++) {
		e = entry(cl, cl->prod + i);
		e->seq = rnd() % 3 ? rnd() : cl->prod + i;
		e->op = (uint16_t)(rnd() % 6);
		if (e->op == F8BR_OP_WRITE || e->op == F8BR_OP_STALL)
			e->op = F8BR_OP_READ; /* random writes could start jobs: reads only */
		e->off = rnd() % 2 ? rnd() : (rnd() % 0x400) * 4;
		e->val = rnd();
	}
	cl->prod += F8BR_RING_ENTRIES;
	st32(cl, F8BR_REQ_PROD_OFF, cl->prod);
	doorbell(cl, 0);
	wait_cons(cl, cl->prod);
	v = 0;
	st = call(cl, F8BR_OP_READ, F8NPU_REG_ID, &v);
	check(st == 0 && v == F8NPU_ID_VALUE && bridge_alive(),
	      "%s: a ring of garbage: answered, then ID reads %#x, the bridge is alive", what, v);
	/* Garbage on the socket: ignored. */
	check(write(cl->sock, "garbage!garbage!", 16) == 16 && (usleep(50000), bridge_alive()) &&
	      f8npu_dev_read(dev, F8NPU_REG_ID) == F8NPU_ID_VALUE,
	      "%s: 16 bytes of garbage on the socket: ignored", what);
	/* The other vector's doorbell: harmless. */
	doorbell(cl, 1);
	check(f8npu_dev_read(dev, F8NPU_REG_ID) == F8NPU_ID_VALUE, "%s: a doorbell on vector 1: harmless",
	      what);
}

/* The model: a CONV2D of 2^36 MACs (a 16384-channel pixel broadcast by zero strides; about 2^28
 * cycles) is priced before it runs and passes --max-job-cycles (default 1e8): the job stops
 * advancing before the step, the mailbox stays responsive, a soft reset recovers. */
static void check_budget(struct client *cl, struct f8npu_dev *dev, const char *what)
{
	uint8_t *win = cl->shm + F8BR_WIN_OFFSET;
	struct f8npu_cmd_header h = f8npu_header_make(2);
	struct f8npu_desc d[2];
	uint32_t status;
	double t0;
	bool irq;

	memset(d, 0, sizeof(d));
	d[0] = f8npu_desc_zero(F8NPU_OP_CONV2D);
	d[0].kernel_h = d[0].kernel_w = 2;
	d[0].stride_h = d[0].stride_w = 1;
	d[0].src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, 257, 257, 16384);
	d[0].src.stride_n = d[0].src.stride_h = d[0].src.stride_w = 0;
	d[0].dst[0] = f8npu_tensor_dense(2, F8NPU_TYPE_U8, 0, 1, 256, 256, 16);
	d[0].weights = f8npu_buffer_at(1, 0);
	d[1] = f8npu_desc_zero(F8NPU_OP_END);
	memcpy(win + CMD_ADDR, &h, sizeof(h));
	memcpy(win + CMD_ADDR + sizeof(h), d, sizeof(d));
	f8npu_prog_set_region(dev, 0, 0x100000, 16384);
	f8npu_prog_set_region(dev, 1, 0x200000, 1 << 20);
	f8npu_prog_set_region(dev, 2, 0x300000, 1 << 20);
	f8npu_prog_start_job(dev, CMD_ADDR, (uint32_t)(sizeof(h) + sizeof(d)), 2);
	irq = wait_irq(cl, 0, 1.0);
	t0 = now();
	status = f8npu_dev_read(dev, F8NPU_REG_STATUS);
	check(!irq && status == F8NPU_STATUS_BUSY && ld32(cl, F8BR_JOB_STATE_OFF) == F8BR_JOB_OVER_BUDGET &&
	      f8npu_dev_read(dev, F8NPU_REG_PERF_MACS_LO) == 0 && now() - t0 < 1,
	      "%s: a CONV2D of 2^36 MACs passes --max-job-cycles: not run (0 MACs), job state %u, "
	      "STATUS %#x, the mailbox answers", what, ld32(cl, F8BR_JOB_STATE_OFF), status);
	f8npu_prog_reset(dev);
	check(f8npu_dev_read(dev, F8NPU_REG_STATUS) == 0 && ld32(cl, F8BR_JOB_STATE_OFF) == F8BR_JOB_IDLE,
	      "%s: soft reset ends it", what);
}

/* Random register traffic from the guest over garbage memory: the bridge survives, and after a
 * mailbox reset the device is as good as new. */
static void check_fuzz(struct client *cl, struct f8npu_dev *dev, const char *what, unsigned int n)
{
	static const uint32_t regs[] = {
		F8NPU_REG_CTRL, F8NPU_REG_CMD_BASE_LO, F8NPU_REG_CMD_BASE_HI, F8NPU_REG_CMD_SIZE,
		F8NPU_REG_CMD_TAIL, F8NPU_REG_IRQ_STATUS, F8NPU_REG_IRQ_MASK, F8NPU_REG_REGION_BASE_LO(0),
		F8NPU_REG_REGION_BASE_HI(0), F8NPU_REG_REGION_SIZE_LO(0), F8NPU_REG_REGION_SIZE_LO(1),
		F8NPU_REG_REGION_BASE_LO(3), F8NPU_REG_REGION_SIZE_HI(3),
	};
	uint8_t *win = cl->shm + F8BR_WIN_OFFSET;
	struct f8npu_cmd_header h = f8npu_header_make(4);
	unsigned int i, starts = 0;
	uint32_t k;

	for (k = 0; k < 0x40000; k++)
		win[k] = (uint8_t)rnd();
	memcpy(win + 0x1000, &h, sizeof(h)); /* a valid header before random descriptors */
	for (i = 0; i < n; i++) {
		uint32_t r = rnd() % 100, off, val = rnd();

		if (r < 60) {
			off = regs[rnd() % (sizeof(regs) / sizeof(regs[0]))];
			if (off == F8NPU_REG_CMD_BASE_LO || off == F8NPU_REG_REGION_BASE_LO(0))
				val = rnd() % 4 ? 0x1000 + (rnd() % 16) * 4 : val;
			if (off == F8NPU_REG_CMD_BASE_HI || off == F8NPU_REG_REGION_BASE_HI(0))
				val = rnd() % 4 ? 0 : val;
			if (off == F8NPU_REG_CTRL) {
				val = rnd() % 8 ? F8NPU_CTRL_START : val & 7;
				starts++;
			}
			f8npu_dev_write(dev, off, val);
		} else if (r < 80) {
			f8npu_dev_write(dev, (rnd() % 0x400) * 4, val);
		} else {
			f8npu_dev_read(dev, (rnd() % 0x400) * 4);
		}
	}
	f8npu_dev_read(dev, F8NPU_REG_ID);
	while (wait_irq(cl, 0, 0.05)) /* the interrupts of the random jobs */
		;
	check(bridge_alive() && mailbox_reset(cl) && f8npu_prog_check_id(dev) == 0 &&
	      f8npu_dev_read(dev, F8NPU_REG_STATUS) == 0,
	      "%s: %u random register accesses (%u CTRL writes) over garbage memory: the bridge lives, "
	      "a mailbox reset leaves an idle device", what, n, starts);
}

/* DMA outside the window: a BUS error from the device, nothing else. */
static void check_bus(struct client *cl, struct f8npu_dev *dev, const char *what, const struct job *j)
{
	uint64_t win = ld64(cl, F8BR_WIN_SIZE_OFF);
	struct f8npu_job_result res;
	uint32_t events;

	memcpy(cl->shm + F8BR_WIN_OFFSET, j->mem, JOB_SPAN);
	/* The regions straddle the end of the window. */
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	set_regions(dev, win - SRC_ADDR - 0x100);
	f8npu_prog_start_job(dev, CMD_ADDR, j->cmd_size, j->descs);
	memset(&res, 0, sizeof(res));
	if (!wait_irq(cl, 0, 60)) {
		check(false, "%s: regions past the window: no interrupt", what);
		return;
	}
	events = f8npu_prog_irq(dev);
	f8npu_prog_complete_job(dev, events, &res);
	check(!res.done && res.err == F8NPU_ERR_BUS && res.err_index == 0,
	      "%s: regions past the end of the window: BUS error at descriptor 0 (err %u %s index %u)",
	      what, res.err, f8npu_err_name(res.err), res.err_index);
	/* The command stream itself far outside: the header fetch fails. */
	f8npu_prog_start_job(dev, 0xfffffffff000ull, j->cmd_size, j->descs);
	if (!wait_irq(cl, 0, 60)) {
		check(false, "%s: stream outside the window: no interrupt", what);
		return;
	}
	events = f8npu_prog_irq(dev);
	f8npu_prog_complete_job(dev, events, &res);
	check(res.err == F8NPU_ERR_BUS && res.err_index == 0xffffffffu,
	      "%s: a stream at 0xfffffffff000: BUS error on the header (err %u index %#x)", what, res.err,
	      res.err_index);
	/* Addresses at the very top of the 64-bit space: an error, and the bridge lives on. */
	{
		static const uint64_t tops[] = { 0xffffffffffffffe0ull, 0xfffffffffffffffcull,
						 0xffffffffffffff00ull };
		unsigned int t;

		for (t = 0; t < 3; t++) {
			uint64_t back;
			bool got;

			f8npu_prog_start_job(dev, tops[t], 0x1000, j->descs);
			got = wait_irq(cl, 0, 60);
			events = got ? f8npu_prog_irq(dev) : 0;
			memset(&res, 0, sizeof(res));
			f8npu_prog_complete_job(dev, events, &res);
			back = f8npu_dev_read(dev, F8NPU_REG_CMD_BASE_LO) |
			       (uint64_t)f8npu_dev_read(dev, F8NPU_REG_CMD_BASE_HI) << 32;
			check(got && res.err == F8NPU_ERR_BUS && res.err_index == 0xffffffffu && back == tops[t] &&
			      bridge_alive(),
			      "%s: a stream at %#" PRIx64 " (size 0x1000): BUS on the header (error %u %s index %#x), "
			      "CMD_BASE reads back %#" PRIx64 ", the bridge lives", what, tops[t], res.err,
			      f8npu_err_name(res.err), res.err_index, back);
		}
		f8npu_prog_reset(dev);
		memcpy(cl->shm + F8BR_WIN_OFFSET, j->mem, JOB_SPAN);
		f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_LO(0), 0xfffff000u);
		f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_HI(0), 0xffffffffu);
		f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_LO(0), 0x1000);
		f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_LO(3), 0xffffff00u);
		f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_HI(3), 0xffffffffu);
		f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_LO(3), 0x100);
		f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_LO(1), WT_ADDR);
		f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_LO(1), 0x10000);
		f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_LO(2), BIAS_ADDR);
		f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_LO(2), 0x10000);
		f8npu_prog_start_job(dev, CMD_ADDR, j->cmd_size, j->descs);
		{
			bool got = wait_irq(cl, 0, 60);

			events = got ? f8npu_prog_irq(dev) : 0;
			memset(&res, 0, sizeof(res));
			f8npu_prog_complete_job(dev, events, &res);
			check(got && !res.done && res.err && bridge_alive(),
			      "%s: regions ending at 2^64: error %u %s index %u, the bridge lives", what, res.err,
			      f8npu_err_name(res.err), res.err_index);
		}
		f8npu_prog_reset(dev);
	}
}

static void parse_geometry(const char *spec, uint32_t *rows, uint32_t *cols)
{
	const char *c = strchr(spec, ':');

	*rows = *cols = 16;
	if (c && sscanf(c + 1, "%ux%u", rows, cols) != 2)
		*rows = *cols = 16;
}

static void test_device(const char *spec, bool flag_stall)
{
	static struct job j;
	static uint8_t want[H * W * COUT];
	struct f8npu_job_result ref;
	struct client cl, cl2;
	struct remote rdev;
	struct f8npu_dev *dev = &rdev.dev;
	uint32_t rows, cols, v, id1;
	bool rtl = !strncmp(spec, "rtl", 3);
	char what[64];
	int64_t m;
	int fd;

	printf("bridge-test: --device %s\n", spec);
	rng_state = g_seed;
	snprintf(what, sizeof(what), "%s", spec);
	parse_geometry(spec, &rows, &cols);
	build_job(&j);
	reference(&j, rows, cols, want, &ref);
	if (!ref.done)
		fatal("%s: the reference job failed (err %u)", what, ref.err);

	start_bridge(spec, NULL, NULL);
	client_connect(&cl);
	rdev.dev.ops = &remote_ops;
	rdev.cl = &cl;
	check(cl.id >= 1 && cl.shm_size == SHM_SIZE,
	      "%s: protocol: version 0, ID %" PRId64 ", shared memory of %" PRIu64 " bytes, %u + %u vectors",
	      what, cl.id, cl.shm_size, cl.npeer, cl.nown);
	check(ld32(&cl, F8BR_MAGIC_OFF) == F8BR_MAGIC && ld32(&cl, F8BR_VERSION_OFF) == F8BR_VERSION &&
	      ld32(&cl, F8BR_STATE_OFF) == F8BR_STATE_READY && ld32(&cl, F8BR_GUEST_PEER_OFF) == cl.id &&
	      ld32(&cl, F8BR_BRIDGE_PEER_OFF) == 0 && ld64(&cl, F8BR_WIN_OFFSET_OFF) == F8BR_WIN_OFFSET &&
	      ld64(&cl, F8BR_WIN_SIZE_OFF) == SHM_SIZE - F8BR_WIN_OFFSET &&
	      ld32(&cl, F8BR_RING_ENTRIES_OFF) == F8BR_RING_ENTRIES &&
	      ld32(&cl, F8BR_VECTORS_OFF) == TEST_VECTORS &&
	      ld32(&cl, F8BR_DEVICE_OFF) == (rtl ? F8BR_DEVICE_RTL : F8BR_DEVICE_MODEL),
	      "%s: control page: magic, version, ready, peers, window %#" PRIx64 "+%#" PRIx64 ", ring, device",
	      what, ld64(&cl, F8BR_WIN_OFFSET_OFF), ld64(&cl, F8BR_WIN_SIZE_OFF));
	check(mailbox_reset(&cl), "%s: mailbox reset handshake", what);
	check(f8npu_prog_check_id(dev) == 0, "%s: ID, HW_VERSION, CMD_VERSION through the mailbox", what);
	v = f8npu_dev_read(dev, F8NPU_REG_CAP_ARRAY);
	check(v == (rows | cols << 16) &&
	      f8npu_dev_read(dev, F8NPU_REG_IMPL) == (rtl ? F8NPU_IMPL_RTL_SIM : F8NPU_IMPL_MODEL) &&
	      f8npu_dev_read(dev, F8NPU_REG_CAP_REGIONS) == 16,
	      "%s: CAP_ARRAY %#x (%ux%u), IMPL, CAP_REGIONS", what, v, rows, cols);
	/* Posted writes, then a read: in order. */
	f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_LO(5), 0x1234);
	f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_LO(5), 0x777);
	v = f8npu_dev_read(dev, F8NPU_REG_REGION_BASE_LO(5));
	check(v == 0x1234 && f8npu_dev_read(dev, F8NPU_REG_REGION_SIZE_LO(5)) == 0x777,
	      "%s: posted writes are executed in order before a later read", what);

	check_job(&cl, dev, what, !rtl, &j, want, &ref);
	check_job(&cl, dev, what, !rtl, &j, want, &ref); /* again: the device is reusable */
	check_tail(&cl, dev, what, &j, want);
	check_rearm(&cl, dev, what, &j);
	check_hostile(&cl, dev, what);
	check_bus(&cl, dev, what, &j);
	check_fuzz(&cl, dev, what, g_fuzz);
	if (!rtl)
		check_budget(&cl, dev, what);

	/* The mailbox's STALL request: one job hangs, the next runs. */
	v = 50;
	check(call(&cl, F8BR_OP_STALL, 1, &v) == 0, "%s: STALL request: the next job after 50 cycles", what);
	check_stall(&cl, dev, what, &j);
	check_job(&cl, dev, what, !rtl, &j, want, &ref);

	/* A second client while we are attached: refused (the busy version, end of file). */
	fd = connect_sock(5);
	{
		int xfd = -1, r = fd >= 0 ? recv_msg(fd, &m, &xfd, 5) : -1;
		int64_t first = m;
		int r2 = r == 0 ? recv_msg(fd, &m, &xfd, 5) : -1;

		check(r == 0 && first == F8BR_BUSY_VERSION && xfd < 0 && r2 == 1 && bridge_alive() && f8npu_dev_read(dev, F8NPU_REG_ID) == F8NPU_ID_VALUE,
		      "%s: a second client is refused (version %#x, then end of file) and the first goes on",
		      what, F8BR_BUSY_VERSION);
	}
	if (fd >= 0)
		close(fd);

	/* Reconnect: a fresh ID and page, the device works. */
	id1 = (uint32_t)cl.id;
	client_close(&cl);
	client_connect(&cl2);
	rdev.cl = &cl2;
	check(cl2.id == id1 + 1 && ld32(&cl2, F8BR_GUEST_PEER_OFF) == cl2.id && mailbox_reset(&cl2) &&
	      f8npu_prog_check_id(dev) == 0,
	      "%s: reconnect: ID %" PRId64 ", a fresh control page, the device answers", what, cl2.id);
	check_job(&cl2, dev, what, !rtl, &j, want, &ref);
	client_close(&cl2);
	stop_bridge(what);

	/* --max-job-cycles below the job's cost: it stops advancing (state OVER_BUDGET), reset. */
	snprintf(what, sizeof(what), "%s --max-job-cycles 500", spec);
	start_bridge(spec, "--max-job-cycles=500", NULL);
	client_connect(&cl);
	rdev.cl = &cl;
	check(mailbox_reset(&cl), "%s: connected", what);
	{
		struct f8npu_job_result res;
		double secs;
		bool irq = remote_job(&cl, dev, &j, 1.0, &res, &secs);
		uint32_t status = f8npu_dev_read(dev, F8NPU_REG_STATUS);
		uint32_t state = ld32(&cl, F8BR_JOB_STATE_OFF);
		uint64_t cyc = ld64(&cl, F8BR_CYCLES_OFF);

		check(!irq && (status & F8NPU_STATUS_BUSY) && state == F8BR_JOB_OVER_BUDGET && cyc <= 500,
		      "%s: the job stops advancing: no interrupt, STATUS %#x, job state %u, %" PRIu64
		      " cycles run", what, status, state, cyc);
		f8npu_prog_reset(dev);
		check(f8npu_dev_read(dev, F8NPU_REG_STATUS) == 0, "%s: soft reset ends it", what);
	}
	client_close(&cl);
	stop_bridge(what);

	if (flag_stall) {
		snprintf(what, sizeof(what), "%s --stall-after 100 --stall-jobs 1", spec);
		start_bridge(spec, "--stall-after=100", "--stall-jobs=1");
		client_connect(&cl);
		rdev.cl = &cl;
		check(mailbox_reset(&cl), "%s: connected", what);
		check_stall(&cl, dev, what, &j);
		check_job(&cl, dev, what, !rtl, &j, want, &ref);
		client_close(&cl);
		stop_bridge(what);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bridge", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "fuzz", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *devices[16];
	unsigned int ndev = 0, i;
	double t0 = now();
	int c;

	while ((c = getopt_long(argc, argv, "b:d:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': g_bridge_path = optarg; break;
		case 'd':
			if (ndev < 16)
				devices[ndev++] = optarg;
			break;
		case 'v': g_verbose++; break;
		case 'f': g_fuzz = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': g_seed = (uint32_t)strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: bridge-test --bridge PATH [--device SPEC]... [--fuzz N] [--seed S] [-v]\n");
			return 2;
		}
	}
	if (!g_bridge_path || optind != argc) {
		fprintf(stderr, "usage: bridge-test --bridge PATH [--device SPEC]... [--fuzz N] [--seed S] [-v]\n");
		return 2;
	}
	if (!ndev)
		devices[ndev++] = "model";
	snprintf(g_sock, sizeof(g_sock), "/tmp/f8br-test-%d.sock", (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < ndev; i++)
		test_device(devices[i], i == 0);
	printf("bridge-test: %u passed, %u failed (%.1f s)\n", g_pass, g_fail, now() - t0);
	return g_fail ? 1 : 0;
}
