// SPDX-License-Identifier: MIT
/*
 * Inside a QEMU guest, without a driver: find the ivshmem-doorbell device (1af4:1110) that
 * f8npu-bridge serves, map its BAR0 (registers: IVPosition, Doorbell) and BAR2 (the shared
 * memory) through sysfs, and drive the f8npu through the mailbox of docs/cosim.md: control
 * page, mailbox reset, ID and capability registers, one CONV2D job (polled: no interrupt
 * without a driver), its output bytes and architectural counters compared with the
 * functional model run in this program. The end-to-end check of the transport through real
 * QEMU (tests/bridge/qemu-probe.sh). Static; prints PASS/FAIL lines and "guest-probe: ok".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "f8npu_bridge.h"
#include "f8npu_build.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"
#include "bridge-job.h"

static volatile uint32_t *g_bar0;
static uint8_t *g_shm;
static uint64_t g_shm_size;
static uint32_t g_prod, g_bridge_peer;
static int g_fail;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void check(int ok, const char *what)
{
	printf("guest-probe: %s %s\n", ok ? "PASS" : "FAIL", what);
	fflush(stdout);
	if (!ok)
		g_fail = 1;
}

static void die(const char *what)
{
	printf("guest-probe: FAIL %s (%s)\n", what, strerror(errno));
	exit(1);
}

static uint32_t ld32(uint32_t off)
{
	return __atomic_load_n((uint32_t *)(g_shm + off), __ATOMIC_ACQUIRE);
}

static void st32(uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(g_shm + off), v, __ATOMIC_RELEASE);
}

static void ring(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	g_bar0[3] = g_bridge_peer << 16 | F8BR_VEC_MAILBOX; /* Doorbell, BAR0 offset 12 */
}

static struct f8br_req *entry(uint32_t seq)
{
	return (struct f8br_req *)(g_shm + F8BR_RING_OFFSET) + seq % F8BR_RING_ENTRIES;
}

static void wait_cons(uint32_t upto)
{
	double t0 = now();

	while ((int32_t)(ld32(F8BR_REQ_CONS_OFF) - upto) < 0)
		if (now() - t0 > 30) {
			errno = ETIMEDOUT;
			die("mailbox: no answer in 30 s");
		}
}

static uint32_t post(uint16_t op, uint32_t off, uint32_t val)
{
	uint32_t seq = g_prod;
	struct f8br_req *e;

	if (seq - ld32(F8BR_REQ_CONS_OFF) >= F8BR_RING_ENTRIES)
		wait_cons(seq - F8BR_RING_ENTRIES + 1);
	e = entry(seq);
	e->seq = seq;
	e->op = op;
	e->status = 0;
	e->off = off;
	e->val = val;
	g_prod = seq + 1;
	st32(F8BR_REQ_PROD_OFF, g_prod);
	ring();
	return seq;
}

static uint32_t rd(struct f8npu_dev *dev, uint32_t off)
{
	uint32_t seq = post(F8BR_OP_READ, off, 0);

	(void)dev;
	wait_cons(seq + 1);
	if (entry(seq)->status) {
		errno = EIO;
		die("mailbox read refused");
	}
	return entry(seq)->val;
}

static void wr(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	(void)dev;
	post(F8BR_OP_WRITE, off, val);
}

static bool irq(struct f8npu_dev *dev)
{
	(void)dev;
	return ld32(F8BR_IRQ_LEVEL_OFF) != 0;
}

static enum f8npu_run_result run(struct f8npu_dev *dev, uint64_t max, uint64_t *cycles)
{
	(void)dev;
	(void)max;
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE;
}

static const struct f8npu_dev_ops remote_ops = { .reg_read = rd, .reg_write = wr, .irq = irq, .run = run };

static int read_hex(const char *dir, const char *name, unsigned int *v)
{
	char path[512], buf[32];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%x", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static void *map_res(const char *dir, const char *res, uint64_t *size)
{
	char path[512];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, res);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st))
		die(path);
	*size = (uint64_t)st.st_size;
	p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die(path);
	close(fd);
	return p;
}

#define CMD F8BR_JOB_CMD
#define SRC F8BR_JOB_SRC
#define WT F8BR_JOB_WT
#define BIAS F8BR_JOB_BIAS
#define DST F8BR_JOB_DST
#define SPAN F8BR_JOB_SPAN
#define OUT_BYTES F8BR_JOB_OUT_BYTES

static uint8_t *local_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	(void)write;
	return addr < SPAN && len <= SPAN - addr ? (uint8_t *)user + addr : NULL;
}

static uint32_t build(uint8_t *m)
{
	memset(m, 0, SPAN);
	return f8br_job_build(m);
}

static void regions(struct f8npu_dev *dev)
{
	f8npu_prog_set_region(dev, 0, SRC, 0x10000);
	f8npu_prog_set_region(dev, 1, WT, 0x10000);
	f8npu_prog_set_region(dev, 2, BIAS, 0x10000);
	f8npu_prog_set_region(dev, 3, DST, 0x10000);
}

int main(void)
{
	static uint8_t ref_mem[SPAN];
	struct f8npu_dev rdev = { .ops = &remote_ops };
	struct f8npu_job_result ref, res;
	char dir[512] = "", msg[256];
	uint64_t bar0_size;
	struct dirent *de;
	uint32_t cmd_size, token, cap, status, events, irqs;
	unsigned int ven, dev_id;
	double t0;
	DIR *d;

	d = opendir("/sys/bus/pci/devices");
	if (!d)
		die("/sys/bus/pci/devices");
	while ((de = readdir(d))) {
		char p[512];

		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", de->d_name);
		if (!read_hex(p, "vendor", &ven) && !read_hex(p, "device", &dev_id) && ven == 0x1af4 &&
		    dev_id == 0x1110) {
			snprintf(dir, sizeof(dir), "%s", p);
			break;
		}
	}
	closedir(d);
	check(dir[0] != 0, "an ivshmem device 1af4:1110 on the PCI bus");
	if (!dir[0])
		return 1;
	{
		char p[600];
		FILE *f;

		snprintf(p, sizeof(p), "%s/enable", dir);
		f = fopen(p, "w");
		if (f) {
			fputs("1", f);
			fclose(f);
		}
	}
	g_bar0 = map_res(dir, "resource0", &bar0_size);
	g_shm = map_res(dir, "resource2", &g_shm_size);
	snprintf(msg, sizeof(msg), "BAR0 %" PRIu64 " bytes, BAR2 %" PRIu64 " MiB, IVPosition %u", bar0_size,
		 g_shm_size >> 20, g_bar0[2]);
	check(g_shm_size >= (1u << 20), msg);
	snprintf(msg, sizeof(msg), "control page: magic %#x version %#x state %u guest peer %u (IVPosition %u)",
		 ld32(F8BR_MAGIC_OFF), ld32(F8BR_VERSION_OFF), ld32(F8BR_STATE_OFF), ld32(F8BR_GUEST_PEER_OFF),
		 g_bar0[2]);
	check(ld32(F8BR_MAGIC_OFF) == F8BR_MAGIC && ld32(F8BR_VERSION_OFF) >> 16 == F8BR_VERSION_MAJOR &&
	      ld32(F8BR_STATE_OFF) == F8BR_STATE_READY && ld32(F8BR_GUEST_PEER_OFF) == g_bar0[2], msg);
	g_bridge_peer = ld32(F8BR_BRIDGE_PEER_OFF);

	/* Mailbox reset: a new token, the doorbell, wait for the ack. */
	token = ld32(F8BR_RESET_ACK_OFF) + 1;
	st32(F8BR_RESET_REQ_OFF, token);
	ring();
	t0 = now();
	while (ld32(F8BR_RESET_ACK_OFF) != token && now() - t0 < 30)
		;
	snprintf(msg, sizeof(msg), "mailbox reset acknowledged in %.1f ms", (now() - t0) * 1e3);
	check(ld32(F8BR_RESET_ACK_OFF) == token, msg);
	g_prod = 0;

	t0 = now();
	check(f8npu_prog_check_id(&rdev) == 0, "ID, HW_VERSION, CMD_VERSION through the doorbell and the ring");
	cap = rd(&rdev, F8NPU_REG_CAP_ARRAY);
	snprintf(msg, sizeof(msg), "IMPL %u, CAP_ARRAY %ux%u; 4 register reads took %.2f ms",
		 rd(&rdev, F8NPU_REG_IMPL), cap & 0xffff, cap >> 16, (now() - t0) * 1e3);
	check(cap != 0, msg);

	/* Round trips: 200 register reads, each waited for. */
	t0 = now();
	for (status = 0; status < 200; status++)
		rd(&rdev, F8NPU_REG_ID);
	snprintf(msg, sizeof(msg), "200 register reads: %.3f ms each", (now() - t0) * 1e3 / 200);
	check(1, msg);

	/* The job in the window, and the same job on the model here. */
	cmd_size = build(g_shm + F8BR_WIN_OFFSET);
	build(ref_mem);
	{
		struct f8npu_mem port = { .map = local_map, .user = ref_mem };
		struct f8npu_model_config mc;
		struct f8npu_dev *m;

		f8npu_model_default_config(&mc);
		mc.rows = cap & 0xffff;
		mc.cols = cap >> 16;
		m = f8npu_model_create(&mc, &port);
		if (!m)
			die("model");
		regions(m);
		f8npu_prog_run_job(m, CMD, cmd_size, 2, 1ull << 40, &ref);
		f8npu_dev_destroy(m);
	}
	irqs = ld32(F8BR_IRQ_COUNT_OFF);
	t0 = now();
	wr(&rdev, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	regions(&rdev);
	f8npu_prog_start_job(&rdev, CMD, cmd_size, 2);
	while (!ld32(F8BR_IRQ_LEVEL_OFF) && now() - t0 < 120)
		usleep(100);
	status = rd(&rdev, F8NPU_REG_STATUS);
	events = f8npu_prog_irq(&rdev);
	memset(&res, 0, sizeof(res));
	f8npu_prog_complete_job(&rdev, events, &res);
	snprintf(msg, sizeof(msg), "CONV2D job: STATUS %#x, done %d err %u, %.1f ms, interrupt messages %u",
		 status, res.done, res.err, (now() - t0) * 1e3, ld32(F8BR_IRQ_COUNT_OFF) - irqs);
	check(res.done && !res.err, msg);
	check(!memcmp(g_shm + F8BR_WIN_OFFSET + DST, ref_mem + DST, OUT_BYTES),
	      "output bytes identical to the functional model's in the guest");
	snprintf(msg, sizeof(msg), "counters: macs %" PRIu64 " rd %" PRIu64 " wr %" PRIu64 " descs %u (model %" PRIu64
		 " %" PRIu64 " %" PRIu64 " %u)", res.perf.macs, res.perf.rd_bytes, res.perf.wr_bytes,
		 res.perf.descs, ref.perf.macs, ref.perf.rd_bytes, ref.perf.wr_bytes, ref.perf.descs);
	check(res.perf.macs == ref.perf.macs && res.perf.rd_bytes == ref.perf.rd_bytes &&
	      res.perf.wr_bytes == ref.perf.wr_bytes && res.perf.descs == ref.perf.descs, msg);
	/* The kernel test (kmod/f8br_irqtest.c) runs the same job and prints its hash. */
	printf("guest-probe: reference fnv=%08x macs=%" PRIu64 " rd=%" PRIu64 " wr=%" PRIu64 " descs=%u\n",
	       f8br_fnv(ref_mem + DST, OUT_BYTES), ref.perf.macs, ref.perf.rd_bytes, ref.perf.wr_bytes,
	       ref.perf.descs);
	printf("guest-probe: %s\n", g_fail ? "FAILED" : "ok");
	return g_fail;
}
