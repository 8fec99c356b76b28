// SPDX-License-Identifier: MIT
/*
 * f8npu-fuzz: the driver under a bounded random-ioctl loop, inside the VM with f8npu.ko
 * loaded (issue 12, VM tests: "a bounded random-ioctl fuzz loop (thousands of calls, several
 * processes)"; the driver's own end-to-end checks are driver/tests/f8npu-smoke.c).
 *
 *   f8npu-fuzz [ITERATIONS [PROCESSES [SEED]]]     (default 1000 x 3, seed 1)
 *
 * 1. Discovery as the runtime does it: libdrm's drmGetDevices2 lists exactly one device whose
 *    render node drmGetVersion names "f8npu", on the platform bus, and its version is QUERY's
 *    driver_version.
 * 2. PROCESSES processes, each with its own open file and seed: canary buffers filled with a
 *    pattern and never named to the driver again, a pool of job buffers, then ITERATIONS
 *    random calls: every f8npu ioctl with valid, mutated or random-byte arguments (random
 *    streams: mutated convolutions and random descriptors over random region tables), GEM_CLOSE,
 *    unknown ioctl numbers, mmap of the pool at random lengths. Every return must be 0 or an
 *    errno docs/driver.md documents for that ioctl; a finished job's status and error code
 *    must be ones the uapi defines.
 *    Then a burst of back-to-back jobs that end at once, on the same buffers.
 * 3. After the loop (all jobs waited for): every canary byte is unchanged, in every process
 *    and in a second open file's canary, and a known convolution still gives the output of
 *    sim/'s functional model run here, byte for byte.
 * A process whose call count stops moving for 45 s is reported stuck with its last ioctl,
 * wchan and kernel stack, every task's stack goes to the kernel log (sysrq t), and it is killed:
 * a deadlock is a report, not the harness's timeout.
 * Ends with "f8npu-fuzz: N calls, N passed, N failed"; exit status 1 on any failure. The
 * kernel log is the harness's to scan (tests/vm/run-vm.sh).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>

#include "f8npu_build.h"
#include "f8npu_drm.h"
#include "f8npu_hostmem.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"

#define POOL 6
#define CANARIES 3
#define CANARY_SIZE 8192
#define MAX_JOBS 256

static unsigned int n_pass, n_fail, n_calls;
/* How deep the loop got: submits accepted, and jobs seen ending by status. */
static unsigned int n_submitted, n_status[F8NPU_JOB_CANCELED + 1], n_enoexec;
static const char *who = "main";

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		return;
	}
	if (n_fail++ < 20) {
		printf("FAIL [%s] ", who);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

static uint64_t rs;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed sequence per seed, reproducible from the printed seed */
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 2685821657736338717ull;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Each process's call count, shared with the parent, which reports a process that stops. */
static volatile unsigned int *progress;
static unsigned int me;
#define STALL_S 45
static unsigned long last_req;
static unsigned int last_call;

/* One ioctl, counted: 0 or -errno (no restart: EINTR and EAGAIN are answers here too). */
static int call(int fd, unsigned long req, void *arg)
{
	int rc;

	last_req = req;
	last_call = ++n_calls;
	if (progress) {
		progress[2 * me] = last_call;
		progress[2 * me + 1] = (unsigned int)req;
	}
	rc = ioctl(fd, req, arg) ? -errno : 0;
	last_req = 0;
	return rc;
}


static bool in(int rc, const int *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rc == set[i])
			return true;
	return false;
}
#define IN(rc, ...) in((rc), (const int[]){ __VA_ARGS__ }, sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

static char node[64];

static int dev_open(void)
{
	int fd = open(node, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("f8npu-fuzz: open %s: %s\n", node, strerror(errno));
		exit(1);
	}
	return fd;
}

/* 1. The device as libdrm finds it. */
static void discover(void)
{
	drmDevicePtr devs[16];
	int n = drmGetDevices2(0, devs, 16), i, found = 0;

	who = "discovery";
	check(n >= 1, "drmGetDevices2: %d devices", n);
	for (i = 0; i < n; i++) {
		drmVersionPtr v;
		int fd;

		if (!(devs[i]->available_nodes & (1 << DRM_NODE_RENDER)))
			continue;
		fd = open(devs[i]->nodes[DRM_NODE_RENDER], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "f8npu")) {
			struct drm_f8npu_query q = { 0 };

			found++;
			snprintf(node, sizeof(node), "%s", devs[i]->nodes[DRM_NODE_RENDER]);
			check(devs[i]->bustype == DRM_BUS_PLATFORM, "bus type %d, want platform",
			      devs[i]->bustype);
			check(call(fd, DRM_IOCTL_F8NPU_QUERY, &q) == 0, "QUERY");
			check(q.driver_version == ((uint32_t)v->version_major << 16 | (uint32_t)v->version_minor),
			      "QUERY driver_version %#x, DRM_IOCTL_VERSION %d.%d", q.driver_version,
			      v->version_major, v->version_minor);
			check(q.uapi_version >> 16 == F8NPU_UAPI_VERSION_MAJOR, "uapi %#x", q.uapi_version);
			check(q.hw_id == F8NPU_ID_VALUE, "hw_id %#x", q.hw_id);
			printf("f8npu-fuzz: %s: driver %s %d.%d, uapi %u.%u\n", node, v->name,
			       v->version_major, v->version_minor, q.uapi_version >> 16,
			       q.uapi_version & 0xffff);
		}
		drmFreeVersion(v);
		close(fd);
	}
	drmFreeDevices(devs, n > 0 ? n : 0);
	check(found == 1, "%d render nodes driven by f8npu, want 1", found);
	if (found != 1) {
		printf("f8npu-fuzz: no device to fuzz\n");
		exit(1);
	}
}

struct bo {
	uint32_t handle;
	uint64_t size;
	uint8_t *map;
};

static int bo_new(int fd, uint64_t size, struct bo *b)
{
	struct drm_f8npu_gem_create c = { .size = size };
	struct drm_f8npu_gem_mmap_offset m = { 0 };
	int rc = call(fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c);

	memset(b, 0, sizeof(*b));
	if (rc)
		return rc;
	b->handle = c.handle;
	b->size = c.size;
	m.handle = c.handle;
	rc = call(fd, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m);
	if (rc)
		return rc;
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)m.offset);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return -errno;
	}
	return 0;
}

static void bo_del(int fd, struct bo *b)
{
	struct drm_gem_close c = { .handle = b->handle };

	if (b->map)
		munmap(b->map, b->size);
	check(call(fd, DRM_IOCTL_GEM_CLOSE, &c) == 0, "GEM_CLOSE of a live buffer");
	memset(b, 0, sizeof(*b));
}

static uint8_t canary_byte(uint32_t owner, uint32_t i, uint64_t off)
{
	return (uint8_t)(0xa5 ^ owner * 61 ^ i * 17 ^ (off * 131 >> 3));
}

static void canary_fill(struct bo *b, uint32_t owner, uint32_t i)
{
	uint64_t k;

	for (k = 0; k < b->size; k++)
		b->map[k] = canary_byte(owner, i, k);
}

static bool canary_intact(const struct bo *b, uint32_t owner, uint32_t i)
{
	uint64_t k;

	for (k = 0; k < b->size; k++)
		if (b->map[k] != canary_byte(owner, i, k))
			return false;
	return true;
}

/* A handle that is never live in a file of this test (handles are small, allocated upward). */
static uint32_t dead_handle(void)
{
	return 0x10000u + below(0xfffe0000u);
}

/* A valid 3x3 convolution descriptor over regions 0 (src), 1 (w), 2 (bias), 3 (dst). */
static struct f8npu_desc conv(uint32_t h, uint32_t cin, uint32_t cout)
{
	struct f8npu_desc d = f8npu_desc_zero(F8NPU_OP_CONV2D);

	d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d.kernel_h = d.kernel_w = 3;
	d.stride_h = d.stride_w = 1;
	d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
	d.out_shift[0] = 6;
	d.src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, h, h, cin);
	d.dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_U8, 0, 1, h, h, cout);
	d.weights = f8npu_buffer_at(1, 0);
	d.bias = f8npu_buffer_at(2, 0);
	return d;
}

/* A random stream into @cmd (at most @room bytes): its size. */
static uint32_t random_stream(uint8_t *cmd, uint64_t room)
{
	uint32_t n = 1 + below(3), i, size;
	struct f8npu_cmd_header hd = f8npu_header_make(n);

	size = F8NPU_CMD_HEADER_SIZE + n * F8NPU_CMD_DESC_SIZE;
	if (size > room)
		return (uint32_t)room & ~3u;
	for (i = 0; i < n; i++) {
		struct f8npu_desc d;
		uint32_t k, flips;

		switch (below(4)) {
		case 0: /* random bytes */
			for (k = 0; k < sizeof(d); k++)
				((uint8_t *)&d)[k] = (uint8_t)rnd();
			break;
		case 1:
			d = f8npu_desc_zero(F8NPU_OP_END);
			break;
		default: /* a convolution, a few bytes changed */
			d = conv(1 + below(12), 1 + below(20), 1 + below(20));
			flips = below(4);
			for (k = 0; k < flips; k++)
				((uint8_t *)&d)[below(sizeof(d))] ^= (uint8_t)(1u << below(8));
		}
		memcpy(cmd + F8NPU_CMD_HEADER_SIZE + (size_t)i * F8NPU_CMD_DESC_SIZE, &d, sizeof(d));
	}
	if (below(8) == 0) /* a header byte changed: the kernel's check, ENOEXEC or not */
		((uint8_t *)&hd)[below(sizeof(hd))] ^= (uint8_t)(1u << below(8));
	memcpy(cmd, &hd, sizeof(hd));
	return size;
}

struct state {
	int fd;
	struct bo pool[POOL], canary[CANARIES];
	uint64_t jobs[MAX_JOBS];
	unsigned int njobs;
	struct drm_f8npu_query q;
};

static uint32_t pool_handle(struct state *s)
{
	switch (below(8)) {
	case 0: return 0;
	case 1: return dead_handle();
	default: return s->pool[below(POOL)].handle;
	}
}

static void random_bytes(void *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		((uint8_t *)p)[i] = (uint8_t)rnd();
}

static void check_result(const struct drm_f8npu_job_wait *w)
{
	if (w->status <= F8NPU_JOB_CANCELED)
		n_status[w->status]++;
	check(w->status == F8NPU_JOB_DONE || w->status == F8NPU_JOB_ERROR ||
		      w->status == F8NPU_JOB_TIMEOUT,
	      "job %llu: status %u", (unsigned long long)w->job_id, w->status);
	if (w->status == F8NPU_JOB_ERROR)
		check(w->err_code >= 1 && w->err_code < F8NPU_ERR_COUNT_, "job error code %u", w->err_code);
	else
		check(w->err_code == 0 && w->err_index == 0, "job status %u with error %u index %u",
		      w->status, w->err_code, w->err_index);
	check(w->pad == 0, "JOB_WAIT pad out %u", w->pad);
}

static void one_call(struct state *s)
{
	const bool garbage = below(10) == 0; /* the whole struct random */
	int rc;

	switch (below(10)) {
	case 0: {
		struct drm_f8npu_query q = { 0 };

		if (garbage)
			random_bytes(&q, sizeof(q));
		else if (below(4) == 0)
			q.flags = (uint32_t)rnd() | 1;
		rc = call(s->fd, DRM_IOCTL_F8NPU_QUERY, &q);
		check(q.flags ? rc == -EINVAL : rc == 0, "QUERY flags %#x: %d", q.flags, rc);
		break;
	}
	case 1: { /* replace a pool buffer: close it, create another of a random size */
		struct drm_f8npu_gem_create c = { 0 };
		unsigned int i = below(POOL);
		bool bad;

		if (garbage) {
			random_bytes(&c, sizeof(c));
		} else {
			c.size = below(4) ? 1 + below(1 << 16) : rnd() >> below(64);
			if (below(8) == 0)
				c.flags = 1u << below(32);
		}
		bad = c.flags || c.size == 0 || c.size > s->q.max_bo_size;
		rc = call(s->fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c);
		check(bad ? rc == -EINVAL : IN(rc, 0, -ENOMEM), "GEM_CREATE size %llu flags %#x: %d",
		      (unsigned long long)c.size, c.flags, rc);
		if (rc == 0) {
			struct drm_gem_close cl = { .handle = c.handle };

			check(c.size % 4096 == 0, "GEM_CREATE size out %llu", (unsigned long long)c.size);
			check(call(s->fd, DRM_IOCTL_GEM_CLOSE, &cl) == 0, "GEM_CLOSE of a new buffer");
			bo_del(s->fd, &s->pool[i]);
			check(bo_new(s->fd, 4096 * (1 + below(16)), &s->pool[i]) == 0, "pool buffer");
		}
		break;
	}
	case 2: {
		struct drm_f8npu_gem_mmap_offset m = { 0 };
		bool bad_handle;

		if (garbage) {
			random_bytes(&m, sizeof(m));
			m.handle = below(2) ? dead_handle() : s->pool[below(POOL)].handle;
		} else {
			m.handle = pool_handle(s);
			if (below(6) == 0)
				m.flags = (uint32_t)rnd() | 1;
		}
		bad_handle = m.handle == 0 || m.handle >= 0x10000u;
		rc = call(s->fd, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m);
		if (m.flags)
			check(IN(rc, -EINVAL, -ENOENT), "MMAP_OFFSET flags: %d", rc);
		else
			check(bad_handle ? rc == -ENOENT : rc == 0, "MMAP_OFFSET handle %u: %d", m.handle, rc);
		if (rc == 0) { /* a mapping longer than the object is refused */
			unsigned int i;

			for (i = 0; i < POOL && s->pool[i].handle != m.handle; i++)
				;
			if (i < POOL) {
				void *p = mmap(NULL, s->pool[i].size + 4096 * (1 + below(4)),
					       PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, (off_t)m.offset);

				check(p == MAP_FAILED, "mmap past the end of a %llu-byte buffer",
				      (unsigned long long)s->pool[i].size);
				if (p != MAP_FAILED)
					munmap(p, s->pool[i].size);
			}
		}
		break;
	}
	case 3: {
		struct drm_f8npu_gem_wait w = { 0 };

		if (garbage)
			random_bytes(&w, sizeof(w));
		w.handle = pool_handle(s);
		if (!garbage)
			w.timeout_ns = below(2) ? 0 : now_ns() + 1000000;
		rc = call(s->fd, DRM_IOCTL_F8NPU_GEM_WAIT, &w);
		check(IN(rc, 0, -ETIME, -ENOENT, -EINVAL), "GEM_WAIT: %d", rc);
		break;
	}
	case 4:
	case 5:
	case 6: {
		struct drm_f8npu_submit sb = { 0 };
		uint32_t handles[F8NPU_REGIONS + 2], r;
		struct bo *cmd = &s->pool[below(POOL)];

		/* mostly live buffers, so that many streams reach the device */
		for (r = 0; r < F8NPU_REGIONS + 2; r++)
			handles[r] = below(32) ? s->pool[below(POOL)].handle : pool_handle(s);
		if (garbage) {
			random_bytes(&sb, sizeof(sb));
			if (below(2)) /* readable pointers, so that the later checks are reached */
				sb.regions = (uintptr_t)handles;
		} else {
			sb.cmd_handle = below(10) ? cmd->handle : pool_handle(s);
			sb.cmd_size = random_stream(cmd->map, cmd->size);
			sb.regions = below(16) ? (uintptr_t)handles : 8;
			sb.region_count = below(16) ? below(F8NPU_REGIONS + 1) : below(64);
			sb.timeout_ms = 50 + below(100);
			if (below(12) == 0)
				sb.flags = 1u << below(32);
			if (below(12) == 0)
				sb.pad = (uint32_t)rnd() | 1;
			if (below(12) == 0)
				sb.cmd_offset = rnd() >> below(64);
		}
		rc = call(s->fd, DRM_IOCTL_F8NPU_SUBMIT, &sb);
		check(IN(rc, 0, -EINVAL, -ENOENT, -EFAULT, -ENOEXEC, -EAGAIN, -ENOMEM, -ENOSPC),
		      "SUBMIT: %d", rc);
		n_enoexec += rc == -ENOEXEC;
		if (rc == 0) {
			n_submitted++;
			check(!garbage || (sb.flags == 0 && sb.pad == 0), "SUBMIT took flags %#x pad %#x",
			      sb.flags, sb.pad);
			if (s->njobs < MAX_JOBS)
				s->jobs[s->njobs++] = sb.job_id;
		}
		break;
	}
	case 7: {
		struct drm_f8npu_job_wait w = { 0 };

		if (garbage) {
			random_bytes(&w, sizeof(w));
		} else {
			w.job_id = s->njobs && below(4) ? s->jobs[below(s->njobs)] : rnd();
			w.timeout_ns = below(2) ? 0 : now_ns() + 1000000 * (int64_t)below(50);
			if (below(10) == 0)
				w.flags = 1u << below(32);
		}
		rc = call(s->fd, DRM_IOCTL_F8NPU_JOB_WAIT, &w);
		check(IN(rc, 0, -ETIME, -ENOENT, -EINVAL), "JOB_WAIT: %d", rc);
		if (rc == 0)
			check_result(&w);
		break;
	}
	case 8: { /* GEM_CLOSE of handles that are not live: refused, nothing closed */
		struct drm_gem_close c = { .handle = below(2) ? 0 : dead_handle() };

		rc = call(s->fd, DRM_IOCTL_GEM_CLOSE, &c);
		check(rc == -EINVAL, "GEM_CLOSE of dead handle %u: %d", c.handle, rc);
		break;
	}
	default: { /* driver ioctl numbers the uapi does not define */
		uint8_t buf[128];
		unsigned long nr = DRM_COMMAND_BASE + DRM_F8NPU_JOB_WAIT + 1 + below(0x40 - 6);

		random_bytes(buf, sizeof(buf));
		rc = call(s->fd, DRM_IOWR(nr, uint8_t[64]), buf);
		check(IN(rc, -EINVAL, -ENOTTY), "unknown ioctl %#lx: %d", nr, rc);
	}
	}
}

/* Wait for every job this file submitted (each ends: done, error or its timeout). */
static void drain(struct state *s)
{
	unsigned int i;

	for (i = 0; i < s->njobs; i++) {
		struct drm_f8npu_job_wait w = { .job_id = s->jobs[i], .timeout_ns = now_ns() + 30000000000ll };
		int rc = call(s->fd, DRM_IOCTL_F8NPU_JOB_WAIT, &w);

		/* a result that left the history (job_history newer jobs) is ENOENT */
		check(IN(rc, 0, -ENOENT), "final JOB_WAIT %llu: %d", (unsigned long long)s->jobs[i], rc);
		if (rc == 0)
			check_result(&w);
	}
}

/* 3. A known job after the storm: the output sim's model computes for it, here. */
static void known_job(int fd)
{
	enum { H = 6, CIN = 9, COUT = 7 };
	const uint64_t size[4] = { H * H * CIN, COUT * 9 * CIN, 4 * COUT, H * H * COUT };
	struct f8npu_desc d[2] = { conv(H, CIN, COUT), f8npu_desc_zero(F8NPU_OP_END) };
	struct f8npu_cmd_header hd = f8npu_header_make(2);
	const uint32_t cmd_size = F8NPU_CMD_HEADER_SIZE + sizeof(d);
	struct bo reg[4], cmd;
	uint32_t handles[4];
	struct drm_f8npu_submit sb = { 0 };
	struct drm_f8npu_job_wait w = { 0 };
	struct f8npu_hostmem hm;
	struct f8npu_mem mem;
	struct f8npu_dev *dev;
	struct f8npu_job_result res = { 0 };
	uint64_t addr, cmd_addr;
	uint8_t *p[4], *c;
	unsigned int r;
	uint64_t k;

	who = "known-job";
	for (r = 0; r < 4; r++) {
		check(bo_new(fd, size[r], &reg[r]) == 0, "buffer %u", r);
		if (!reg[r].map)
			return;
		handles[r] = reg[r].handle;
		if (r < 3)
			for (k = 0; k < size[r]; k++)
				reg[r].map[k] = (uint8_t)rnd();
	}
	check(bo_new(fd, cmd_size, &cmd) == 0, "stream buffer");
	if (!cmd.map)
		return;
	memcpy(cmd.map, &hd, sizeof(hd));
	memcpy(cmd.map + sizeof(hd), d, sizeof(d));
	/* the model in this process, on copies of the same bytes */
	f8npu_hostmem_init(&hm);
	mem = f8npu_hostmem_port(&hm);
	dev = f8npu_model_create(NULL, &mem);
	for (r = 0; r < 4; r++) {
		p[r] = f8npu_hostmem_alloc(&hm, size[r], &addr);
		memcpy(p[r], reg[r].map, size[r]);
		f8npu_prog_set_region(dev, r, addr, size[r]);
	}
	c = f8npu_hostmem_alloc(&hm, cmd_size, &cmd_addr);
	memcpy(c, cmd.map, cmd_size);
	f8npu_prog_run_job(dev, cmd_addr, cmd_size, 2, UINT64_MAX, &res);
	check(res.done && !res.err, "userspace model: done %d err %u", res.done, res.err);
	sb.cmd_handle = cmd.handle;
	sb.cmd_size = cmd_size;
	sb.regions = (uintptr_t)handles;
	sb.region_count = 4;
	check(call(fd, DRM_IOCTL_F8NPU_SUBMIT, &sb) == 0, "SUBMIT");
	w.job_id = sb.job_id;
	w.timeout_ns = now_ns() + 30000000000ll;
	check(call(fd, DRM_IOCTL_F8NPU_JOB_WAIT, &w) == 0, "JOB_WAIT");
	check(w.status == F8NPU_JOB_DONE, "status %u err %u index %u", w.status, w.err_code, w.err_index);
	check(memcmp(reg[3].map, p[3], size[3]) == 0, "output differs from the functional model's");
	check(w.macs == res.perf.macs && w.descs == res.perf.descs, "counters: macs %llu/%llu descs %u/%u",
	      (unsigned long long)w.macs, (unsigned long long)res.perf.macs, w.descs, res.perf.descs);
	f8npu_dev_destroy(dev);
	f8npu_hostmem_free(&hm);
	for (r = 0; r < 4; r++)
		bo_del(fd, &reg[r]);
	bo_del(fd, &cmd);
}

/*
 * Back-to-back jobs that end at once (a stream of one END) on the same buffers: the window
 * in which the device finishes a job while its SUBMIT is still returning is as wide as it
 * gets, so a submit path that touches the job after queueing it shows here (with two CPUs).
 */
#define BURST 400
static void burst(struct state *s)
{
	struct f8npu_desc end = f8npu_desc_zero(F8NPU_OP_END);
	struct f8npu_cmd_header hd = f8npu_header_make(1);
	struct bo *cmd = &s->pool[0];
	uint32_t handles[2] = { s->pool[1].handle, s->pool[2].handle };
	unsigned int i, ok = 0;
	uint64_t id = 0;

	memcpy(cmd->map, &hd, sizeof(hd));
	memcpy(cmd->map + sizeof(hd), &end, sizeof(end));
	for (i = 0; i < BURST; i++) {
		struct drm_f8npu_submit sb = { .cmd_handle = cmd->handle,
					       .cmd_size = F8NPU_CMD_HEADER_SIZE + F8NPU_CMD_DESC_SIZE,
					       .regions = (uintptr_t)handles, .region_count = 2 };
		int rc = call(s->fd, DRM_IOCTL_F8NPU_SUBMIT, &sb);

		check(IN(rc, 0, -EAGAIN), "burst SUBMIT %u: %d", i, rc);
		if (rc == 0) {
			ok++;
			id = sb.job_id;
		}
		if (rc == -EAGAIN || i % 16 == 15) { /* let the queue drain now and then */
			struct drm_f8npu_job_wait w = { .job_id = id, .timeout_ns = now_ns() + 10000000000ll };

			check(call(s->fd, DRM_IOCTL_F8NPU_JOB_WAIT, &w) == 0 && w.status == F8NPU_JOB_DONE,
			      "burst job %llu: status %u", (unsigned long long)id, w.status);
		}
	}
	check(ok > BURST / 2, "burst: %u of %u submits taken", ok, BURST);
}

/* 2. One process's loop; returns its failure count. */
static unsigned int fuzz(uint32_t owner, uint64_t seed, unsigned int iters, struct bo *other,
			 uint32_t other_owner)
{
	struct state s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	rs = seed * 0x9e3779b97f4a7c15ull + owner + 1;
	s.fd = dev_open();
	check(call(s.fd, DRM_IOCTL_F8NPU_QUERY, &s.q) == 0, "QUERY");
	for (i = 0; i < CANARIES; i++) {
		check(bo_new(s.fd, CANARY_SIZE, &s.canary[i]) == 0, "canary %u", i);
		if (!s.canary[i].map)
			exit(1);
		canary_fill(&s.canary[i], owner, i);
	}
	for (i = 0; i < POOL; i++) {
		check(bo_new(s.fd, 4096 * (1 + i), &s.pool[i]) == 0, "pool %u", i);
		if (!s.pool[i].map)
			exit(1);
	}
	for (i = 0; i < iters; i++)
		one_call(&s);
	drain(&s);
	burst(&s);
	/* not a vacuous loop: streams reached the device, and some ran, some failed on it */
	check(n_submitted > 0 && n_enoexec > 0 && n_status[F8NPU_JOB_DONE] > 0 &&
		      n_status[F8NPU_JOB_ERROR] > 0,
	      "%u submitted, %u ENOEXEC, %u done, %u device errors", n_submitted, n_enoexec,
	      n_status[F8NPU_JOB_DONE], n_status[F8NPU_JOB_ERROR]);
	for (i = 0; i < CANARIES; i++)
		check(canary_intact(&s.canary[i], owner, i), "canary %u of process %u changed", i, owner);
	if (other)
		check(canary_intact(other, other_owner, 0), "the other file's canary changed");
	known_job(s.fd);
	for (i = 0; i < POOL; i++)
		bo_del(s.fd, &s.pool[i]);
	for (i = 0; i < CANARIES; i++)
		bo_del(s.fd, &s.canary[i]);
	close(s.fd);
	return n_fail;
}

/* Print a file of /proc (a stuck process's kernel stack), prefixed. */
static void show_proc(pid_t pid, const char *what)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("  %s: %s", what, line);
	fclose(f);
}

/*
 * Until every process has exited: one whose call count stays the same for STALL_S seconds is
 * stuck (a job wait is bounded well below that); print where (its last ioctl, its kernel
 * stack), kill it and count it failed, so that a hang is a report, not the harness's timeout.
 * The exited processes are left for wait().
 */
static unsigned int monitor(pid_t *pids, unsigned int procs)
{
	unsigned int last[16] = { 0 }, still[16] = { 0 }, p, bad = 0, live;

	if (!progress)
		return 0;
	do {
		sleep(1);
		live = 0;
		for (p = 0; p < procs; p++) {
			char stat[64];

			snprintf(stat, sizeof(stat), "/proc/%d/stat", (int)pids[p]);
			if (pids[p] <= 0 || access(stat, F_OK) || kill(pids[p], 0))
				continue;
			{ /* a zombie has exited: its stat says Z */
				FILE *f = fopen(stat, "r");
				char st = 0;

				if (f) {
					if (fscanf(f, "%*d %*s %c", &st) != 1)
						st = 0;
					fclose(f);
				}
				if (st == 'Z')
					continue;
			}
			live++;
			if (progress[2 * p] != last[p]) {
				last[p] = progress[2 * p];
				still[p] = 0;
				continue;
			}
			if (++still[p] < STALL_S)
				continue;
			printf("FAIL [process %u] stuck for %d s at call %u, ioctl %#x:\n", p, STALL_S,
			       progress[2 * p], progress[2 * p + 1]);
			show_proc(pids[p], "wchan");
			printf("\n");
			show_proc(pids[p], "stat");
			show_proc(pids[p], "stack");
			/* every task's stack into the kernel log, for the holder of what it waits on */
			{
				int fd = open("/proc/sysrq-trigger", O_WRONLY);

				if (fd >= 0) {
					if (write(fd, "t", 1) != 1)
						printf("  (sysrq t refused)\n");
					close(fd);
				}
			}
			kill(pids[p], SIGKILL);
			bad++;
			pids[p] = -1;
		}
	} while (live);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned int iters = 1000, procs = 3, p, bad = 0;
	uint64_t seed = 1;
	pid_t pids[16];
	struct bo other;
	int fd2, status;

	if (argc > 1)
		iters = (unsigned int)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		procs = (unsigned int)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		seed = strtoull(argv[3], NULL, 10);
	if (iters < 1 || iters > 1000000 || procs < 1 || procs > 16) {
		printf("usage: f8npu-fuzz [ITERATIONS 1..1000000 [PROCESSES 1..16 [SEED]]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	progress = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (progress == MAP_FAILED)
		progress = NULL;
	printf("f8npu-fuzz: %u calls x %u processes, seed %llu\n", iters, procs,
	       (unsigned long long)seed);
	discover();
	/* another open file's buffer, which no process may reach */
	fd2 = dev_open();
	check(bo_new(fd2, CANARY_SIZE, &other) == 0, "the other file's canary");
	if (!other.map)
		return 1;
	canary_fill(&other, 99, 0);
	for (p = 0; p < procs; p++) {
		pid_t pid = fork();

		pids[p] = pid;
		if (pid == 0) {
			me = p;
			char name[32];

			snprintf(name, sizeof(name), "process %u", p);
			who = name;
			n_pass = n_fail = n_calls = 0;
			fuzz(p, seed, iters, &other, 99);
			printf("f8npu-fuzz: process %u: %u calls (%u jobs submitted, %u headers refused, "
			       "results read: %u done, %u device errors, %u timed out), %u passed, %u failed\n",
			       p, n_calls, n_submitted, n_enoexec, n_status[F8NPU_JOB_DONE],
			       n_status[F8NPU_JOB_ERROR], n_status[F8NPU_JOB_TIMEOUT], n_pass, n_fail);
			_exit(n_fail ? 1 : 0);
		}
		check(pid > 0, "fork: %s", strerror(errno));
	}
	bad = monitor(pids, procs);
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	who = "main";
	check(bad == 0, "%u processes failed", bad);
	check(canary_intact(&other, 99, 0), "the other file's canary changed");
	bo_del(fd2, &other);
	close(fd2);
	printf("f8npu-fuzz: %u calls, %u passed, %u failed (parent; processes above)\n", n_calls,
	       n_pass, n_fail);
	return n_fail ? 1 : 0;
}
