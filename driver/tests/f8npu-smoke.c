// SPDX-License-Identifier: MIT
/*
 * f8npu-smoke: the driver's uapi end to end, run inside a VM with f8npu.ko
 * loaded (virtual device): QUERY, buffers (create, mmap, wait, PRIME, close),
 * a real CONV2D job whose output and counters equal sim/'s functional model
 * run here in userspace, syncobjs in and out, device errors with their index,
 * a faulting and a hung job (module parameters virt_fault / virt_hang: the
 * timeout resets the device and the next job succeeds), hostile arguments
 * with their documented errno, another open file's handles and jobs, a
 * buffer imported from vgem under a write fence (implicit sync; skipped
 * without vgem), and several processes submitting at once.
 *
 *   f8npu-smoke [RENDER_NODE]      (default: the render node named "f8npu")
 *   f8npu-smoke --unbind           the device unbound under running and queued jobs
 *
 * On a bridged device (QUERY's F8NPU_DEV_BRIDGE: f8npu-bridge's model or RTL, 16x16, served
 * over PCI, docs/cosim.md) the same tests run except those of the virtual device's own knobs
 * (virt_fault, virt_max_step_cycles, and the limits test, whose hundreds of jobs are slow on
 * the RTL); the hang is the bridge's STALL request (module parameter bridge_stall: the next N
 * jobs stall), the unbind is the PCI driver's, and on the RTL (IMPL 1) the counters compared
 * with the model are the architectural ones (MACs, bytes, descriptors): its cycles differ.
 *
 * Static (the VM has no libc); raw ioctls, no libdrm library needed.
 * Ends with "f8npu-smoke: N passed, N failed"; exit status 1 on a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "f8npu_build.h"
#include "f8npu_drm.h"
#include "f8npu_hostmem.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"

static int n_pass, n_fail;
static const char *cur_test = "";
/* The device under test (QUERY at start): bridged, and its IMPL (1: the Verilated RTL). */
static int bridged;
static uint32_t dev_impl;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		return;
	}
	n_fail++;
	printf("FAIL %s: ", cur_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ioctl returning 0 or -errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN) && req != DRM_IOCTL_F8NPU_SUBMIT);
	return r == -1 ? -errno : 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char dev_path[64];

/* The first DRM node of @pattern (a printf of one %d) whose driver is @name, or -1. */
static int find_node(const char *pattern, int first, const char *name, char *path, size_t len)
{
	int i;

	for (i = first; i < first + 64; i++) {
		char got[32] = { 0 };
		struct drm_version v = { .name = got, .name_len = sizeof(got) - 1 };
		int fd;

		snprintf(path, len, pattern, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ioctl(fd, DRM_IOCTL_VERSION, &v) == 0 && strcmp(got, name) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

static int dev_open(void)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("f8npu-smoke: open %s: %s\n", dev_path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void set_param(const char *name, const char *val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/f8npu/parameters/%s", name);
	f = fopen(path, "w");
	check(f != NULL, "open %s: %s", path, strerror(errno));
	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

/*
 * Make the jobs started from now hang (@on), or no longer. The virtual device: virt_hang. The
 * bridged one: bridge_stall counts the jobs to stall, so "on" stalls the next one only, even
 * if it starts after "off" (the test's next call).
 */
static void set_hang(int on)
{
	if (bridged) {
		if (on)
			set_param("bridge_stall", "1");
		return;
	}
	set_param("virt_hang", on ? "1" : "0");
}

struct bo {
	uint32_t handle;
	uint64_t size;
	uint8_t *map;
};

static int bo_create(int fd, uint64_t size, struct bo *bo)
{
	struct drm_f8npu_gem_create c = { .size = size };
	struct drm_f8npu_gem_mmap_offset m = { 0 };
	int r = xioctl(fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c);

	memset(bo, 0, sizeof(*bo));
	if (r)
		return r;
	bo->handle = c.handle;
	bo->size = c.size;
	m.handle = c.handle;
	r = xioctl(fd, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m);
	if (r)
		return r;
	bo->map = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)m.offset);
	return bo->map == MAP_FAILED ? -errno : 0;
}

static void bo_close(int fd, struct bo *bo)
{
	struct drm_gem_close c = { .handle = bo->handle };

	if (bo->map && bo->map != MAP_FAILED)
		munmap(bo->map, bo->size);
	check(xioctl(fd, DRM_IOCTL_GEM_CLOSE, &c) == 0, "GEM_CLOSE");
	memset(bo, 0, sizeof(*bo));
}

/* The job: one padded 3x3 CONV2D with bias and ReLU, 12 -> 10 channels, then END. */
enum { R_SRC, R_W, R_BIAS, R_DST, R_N };
#define CV_H 7
#define CV_CIN 12
#define CV_COUT 10
static const uint64_t cv_size[R_N] = { CV_H * CV_H * CV_CIN, CV_COUT * 9 * CV_CIN, 4 * CV_COUT,
				       CV_H * CV_H * CV_COUT };

struct conv {
	struct bo reg[R_N], cmd;
	uint32_t cmd_size;
	uint8_t expect[CV_H * CV_H * CV_COUT];
	struct f8npu_perf expect_perf;
};

static struct f8npu_desc conv_desc(void)
{
	struct f8npu_desc d = f8npu_desc_zero(F8NPU_OP_CONV2D);

	d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d.kernel_h = d.kernel_w = 3;
	d.stride_h = d.stride_w = 1;
	d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
	d.out_shift[0] = 7;
	d.src = f8npu_tensor_dense(R_SRC, F8NPU_TYPE_U8, 0, 1, CV_H, CV_H, CV_CIN);
	d.dst[0] = f8npu_tensor_dense(R_DST, F8NPU_TYPE_U8, 0, 1, CV_H, CV_H, CV_COUT);
	d.weights = f8npu_buffer_at(R_W, 0);
	d.bias = f8npu_buffer_at(R_BIAS, 0);
	return d;
}

static uint32_t rng_state;

static uint32_t rng(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

static void write_stream(uint8_t *p, const struct f8npu_desc *d, uint32_t n)
{
	struct f8npu_cmd_header h = f8npu_header_make(n);

	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), d, n * sizeof(*d));
}

/* What sim's functional model makes of the same stream and inputs, in this process. */
static void conv_expect(struct conv *c)
{
	struct f8npu_hostmem hm;
	struct f8npu_mem mem;
	struct f8npu_dev *dev;
	struct f8npu_job_result res = { 0 };
	uint64_t addr[R_N], cmd_addr;
	uint8_t *ptr[R_N], *cmd;
	int r;

	f8npu_hostmem_init(&hm);
	mem = f8npu_hostmem_port(&hm);
	dev = f8npu_model_create(NULL, &mem);
	for (r = 0; r < R_N; r++) {
		ptr[r] = f8npu_hostmem_alloc(&hm, cv_size[r], &addr[r]);
		memcpy(ptr[r], c->reg[r].map, cv_size[r]);
		f8npu_prog_set_region(dev, r, addr[r], c->reg[r].size);
	}
	cmd = f8npu_hostmem_alloc(&hm, c->cmd_size, &cmd_addr);
	memcpy(cmd, c->cmd.map, c->cmd_size);
	f8npu_prog_run_job(dev, cmd_addr, c->cmd_size, 2, UINT64_MAX, &res);
	check(res.done && !res.err, "userspace model: done %d err %u", res.done, res.err);
	memcpy(c->expect, ptr[R_DST], sizeof(c->expect));
	c->expect_perf = res.perf;
	f8npu_dev_destroy(dev);
	f8npu_hostmem_free(&hm);
}

static void conv_setup(int fd, struct conv *c, uint32_t seed)
{
	struct f8npu_desc d[2] = { conv_desc(), f8npu_desc_zero(F8NPU_OP_END) };
	uint64_t i;
	int r;

	memset(c, 0, sizeof(*c));
	rng_state = seed;
	for (r = 0; r < R_N; r++) {
		check(bo_create(fd, cv_size[r], &c->reg[r]) == 0, "bo_create region %d", r);
		if (r != R_DST)
			for (i = 0; i < cv_size[r]; i++)
				c->reg[r].map[i] = (uint8_t)rng();
	}
	for (r = 0; r < CV_COUT; r++) {
		int32_t b = (int32_t)(rng() % 131072) - 65536;

		memcpy(c->reg[R_BIAS].map + 4 * r, &b, 4);
	}
	c->cmd_size = F8NPU_CMD_HEADER_SIZE + sizeof(d);
	check(bo_create(fd, c->cmd_size, &c->cmd) == 0, "bo_create cmd");
	write_stream(c->cmd.map, d, 2);
	conv_expect(c);
}

static void conv_free(int fd, struct conv *c)
{
	int r;

	for (r = 0; r < R_N; r++)
		bo_close(fd, &c->reg[r]);
	bo_close(fd, &c->cmd);
}

static void submit_init(const struct conv *c, struct drm_f8npu_submit *s, uint32_t *handles)
{
	int r;

	memset(s, 0, sizeof(*s));
	for (r = 0; r < R_N; r++)
		handles[r] = c->reg[r].handle;
	s->cmd_handle = c->cmd.handle;
	s->cmd_size = c->cmd_size;
	s->regions = (uintptr_t)handles;
	s->region_count = R_N;
}

static int job_wait(int fd, uint64_t id, int64_t deadline, struct drm_f8npu_job_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->job_id = id;
	w->timeout_ns = deadline;
	return xioctl(fd, DRM_IOCTL_F8NPU_JOB_WAIT, w);
}

/* Submit @c as is; wait for it; returns the wait's result in *@w. */
static int run_conv(int fd, struct conv *c, uint32_t timeout_ms, struct drm_f8npu_job_wait *w)
{
	struct drm_f8npu_submit s;
	uint32_t handles[R_N];
	int r;

	submit_init(c, &s, handles);
	s.timeout_ms = timeout_ms;
	r = xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s);
	if (r)
		return r;
	return job_wait(fd, s.job_id, now_ns() + 20000000000ll, w);
}

static void check_conv_done(struct conv *c, const struct drm_f8npu_job_wait *w)
{
	check(w->status == F8NPU_JOB_DONE, "status %u err %u index %u", w->status, w->err_code,
	      w->err_index);
	check(memcmp(c->reg[R_DST].map, c->expect, sizeof(c->expect)) == 0,
	      "output differs from the functional model's");
	/* The RTL's cycles are its own (docs/cosim.md): the architectural counters must agree. */
	check((dev_impl != F8NPU_IMPL_MODEL || (w->cycles == c->expect_perf.cycles &&
						w->stall_cycles == c->expect_perf.stall_cycles)) &&
		      w->macs == c->expect_perf.macs &&
		      w->rd_bytes == c->expect_perf.rd_bytes &&
		      w->wr_bytes == c->expect_perf.wr_bytes &&
		      w->descs == c->expect_perf.descs,
	      "counters %llu/%llu/%llu/%llu/%llu/%u, model %llu/%llu/%llu/%llu/%llu/%u",
	      (unsigned long long)w->cycles, (unsigned long long)w->macs,
	      (unsigned long long)w->rd_bytes, (unsigned long long)w->wr_bytes,
	      (unsigned long long)w->stall_cycles, w->descs,
	      (unsigned long long)c->expect_perf.cycles, (unsigned long long)c->expect_perf.macs,
	      (unsigned long long)c->expect_perf.rd_bytes,
	      (unsigned long long)c->expect_perf.wr_bytes,
	      (unsigned long long)c->expect_perf.stall_cycles, c->expect_perf.descs);
}

static void t_query(int fd)
{
	struct drm_f8npu_query q = { 0 };
	struct drm_version v = { 0 };
	char name[32] = { 0 };

	cur_test = "query";
	v.name = name;
	v.name_len = sizeof(name) - 1;
	check(xioctl(fd, DRM_IOCTL_VERSION, &v) == 0 && strcmp(name, "f8npu") == 0,
	      "driver name '%s'", name);
	check(xioctl(fd, DRM_IOCTL_F8NPU_QUERY, &q) == 0, "QUERY");
	check(q.uapi_version == (F8NPU_UAPI_VERSION_MAJOR << 16 | F8NPU_UAPI_VERSION_MINOR),
	      "uapi_version %#x", q.uapi_version);
	check(q.hw_id == F8NPU_ID_VALUE, "hw_id %#x", q.hw_id);
	check(q.hw_version >> 16 == F8NPU_HW_VERSION_MAJOR, "hw_version %#x", q.hw_version);
	check(q.cmd_version >> 16 == F8NPU_CMD_VERSION_MAJOR, "cmd_version %#x", q.cmd_version);
	check(q.cap_regions == F8NPU_REGIONS, "cap_regions %u", q.cap_regions);
	check(q.cap_array == (16u << 16 | 16u), "cap_array %#x", q.cap_array);
	check(q.dev_flags == (bridged ? F8NPU_DEV_BRIDGE : F8NPU_DEV_VIRTUAL), "dev_flags %#x",
	      q.dev_flags);
	printf("device: %s, impl %u, %ux%u\n", bridged ? "bridged" : "virtual", q.impl,
	       q.cap_array & 0xffff, q.cap_array >> 16);
	check(q.job_timeout_ms > 0 && q.max_inflight > 0 && q.job_history > 0 &&
		      q.max_cmd_size >= 4096 && q.max_bo_size >= (1u << 20),
	      "limits");
	q.flags = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_QUERY, &q) == -EINVAL, "QUERY flags 1");
}

static void t_gem(int fd)
{
	struct drm_f8npu_gem_create c = { .size = 100 };
	struct drm_f8npu_gem_mmap_offset m = { 0 };
	struct drm_f8npu_gem_wait w = { 0 };
	struct bo bo;
	uint64_t i;
	int ok = 1;

	cur_test = "gem";
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c) == 0 && c.size == 4096 && c.handle,
	      "create 100 bytes: size %llu", (unsigned long long)c.size);
	{
		struct drm_gem_close cl = { .handle = c.handle };

		check(xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl) == 0, "close");
		check(xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl) == -EINVAL, "close twice");
	}
	c.size = 0;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c) == -EINVAL, "create size 0");
	c.size = 4096;
	c.flags = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c) == -EINVAL, "create flags 1");
	c.flags = 0;
	c.size = (1ull << 32) + 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_CREATE, &c) == -EINVAL, "create above max_bo_size");

	check(bo_create(fd, 3 * 4096, &bo) == 0, "create + mmap");
	for (i = 0; i < bo.size; i++)
		ok &= bo.map[i] == 0;
	check(ok, "a new buffer reads zero");
	memset(bo.map, 0x5a, bo.size);
	m.handle = bo.handle;
	m.flags = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m) == -EINVAL, "mmap offset flags 1");
	m.handle = 0xdead;
	m.flags = 0;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m) == -ENOENT, "mmap offset bad handle");
	w.handle = bo.handle;
	w.timeout_ns = 0;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_WAIT, &w) == 0, "idle buffer: wait polls 0");
	w.flags = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_WAIT, &w) == -EINVAL, "wait flags 1");
	w.flags = 0;
	w.handle = 0xdead;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_WAIT, &w) == -ENOENT, "wait bad handle");
	bo_close(fd, &bo);
}

static void t_conv(int fd)
{
	struct drm_f8npu_job_wait w;
	struct drm_f8npu_gem_wait gw = { 0 };
	struct conv c;
	int r;

	cur_test = "conv";
	conv_setup(fd, &c, 1);
	r = run_conv(fd, &c, 0, &w);
	check(r == 0, "submit + wait: %s", strerror(-r));
	check_conv_done(&c, &w);
	gw.handle = c.reg[R_DST].handle;
	gw.timeout_ns = now_ns() + 1000000000;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_WAIT, &gw) == 0, "GEM_WAIT after the job");
	/* Again on the same buffers: the same output, the job's own counters. */
	memset(c.reg[R_DST].map, 0, cv_size[R_DST]);
	check(run_conv(fd, &c, 0, &w) == 0, "submit + wait, second time");
	check_conv_done(&c, &w);
	conv_free(fd, &c);
}

static void t_syncobj(int fd)
{
	struct drm_syncobj_create sc = { 0 };
	struct drm_syncobj_wait sw = { 0 };
	struct drm_syncobj_destroy sd = { 0 };
	struct drm_f8npu_submit s;
	struct drm_f8npu_job_wait w;
	uint32_t handles[R_N], h;
	struct conv c;

	cur_test = "syncobj";
	conv_setup(fd, &c, 2);
	check(xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc) == 0, "SYNCOBJ_CREATE");
	submit_init(&c, &s, handles);
	s.out_sync = sc.handle;
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit with out_sync");
	h = sc.handle;
	sw.handles = (uintptr_t)&h;
	sw.count_handles = 1;
	sw.timeout_nsec = now_ns() + 10000000000ll;
	check(xioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &sw) == 0, "SYNCOBJ_WAIT");
	check(job_wait(fd, s.job_id, 0, &w) == 0, "JOB_WAIT polls a finished job");
	check_conv_done(&c, &w);

	/* The next job waits for the syncobj's fence. */
	memset(c.reg[R_DST].map, 0, cv_size[R_DST]);
	submit_init(&c, &s, handles);
	s.in_syncs = (uintptr_t)&h;
	s.in_sync_count = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit with in_sync");
	check(job_wait(fd, s.job_id, now_ns() + 10000000000ll, &w) == 0, "JOB_WAIT");
	check_conv_done(&c, &w);
	sd.handle = sc.handle;
	check(xioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &sd) == 0, "SYNCOBJ_DESTROY");
	conv_free(fd, &c);
}

static void t_prime(int fd)
{
	struct drm_prime_handle ph = { 0 };
	struct drm_f8npu_gem_mmap_offset m = { 0 };
	struct bo bo;
	int fd2 = dev_open();
	uint8_t *p;

	cur_test = "prime";
	check(bo_create(fd, 4096, &bo) == 0, "create");
	memcpy(bo.map, "f8npu prime", 12);
	ph.handle = bo.handle;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	check(xioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph) == 0 && ph.fd >= 0, "export");
	ph.handle = 0;
	check(xioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph) == 0 && ph.handle == bo.handle,
	      "import into the same file: the same handle");
	ph.handle = 0;
	check(xioctl(fd2, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph) == 0 && ph.handle, "import elsewhere");
	m.handle = ph.handle;
	check(xioctl(fd2, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m) == 0, "mmap offset of the import");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, (off_t)m.offset);
	check(p != MAP_FAILED && memcmp(p, "f8npu prime", 12) == 0, "the import shares the pages");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(ph.fd);
	close(fd2);
	bo_close(fd, &bo);
}

/* Another open file names neither this file's buffers nor its jobs. */
static void t_isolation(int fd)
{
	struct drm_f8npu_submit s;
	struct drm_f8npu_job_wait w;
	uint32_t handles[R_N];
	struct conv c;
	int fd2 = dev_open();

	cur_test = "isolation";
	conv_setup(fd, &c, 3);
	submit_init(&c, &s, handles);
	check(xioctl(fd2, DRM_IOCTL_F8NPU_SUBMIT, &s) == -ENOENT, "submit with a foreign cmd handle");
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit in the owner");
	check(job_wait(fd2, s.job_id, 0, &w) == -ENOENT, "JOB_WAIT on a foreign job id");
	check(job_wait(fd, s.job_id, now_ns() + 10000000000ll, &w) == 0, "JOB_WAIT in the owner");
	check_conv_done(&c, &w);
	close(fd2);
	conv_free(fd, &c);
}

static void t_hostile(int fd)
{
	struct drm_f8npu_submit s;
	struct drm_f8npu_job_wait w;
	uint32_t handles[F8NPU_REGIONS + 1] = { 0 }, bad = 0xdead;
	struct f8npu_cmd_header h;
	struct conv c;

	cur_test = "hostile";
	conv_setup(fd, &c, 4);
#define SUBMIT_ERR(err, what, mutate)                                                      \
	do {                                                                               \
		submit_init(&c, &s, handles);                                              \
		mutate;                                                                    \
		check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == (err), "%s", what);        \
	} while (0)
	SUBMIT_ERR(-EINVAL, "flags 1", s.flags = 1);
	SUBMIT_ERR(-EINVAL, "flags high bit", s.flags = 0x80000000u);
	SUBMIT_ERR(-EINVAL, "pad", s.pad = 1);
	SUBMIT_ERR(-EINVAL, "cmd_size below the header", s.cmd_size = 16);
	SUBMIT_ERR(-EINVAL, "cmd_size above max", s.cmd_size = 1u << 30);
	SUBMIT_ERR(-EINVAL, "cmd_offset not a multiple of 4", s.cmd_offset = 2);
	SUBMIT_ERR(-EINVAL, "stream past its buffer", s.cmd_offset = 4096);
	SUBMIT_ERR(-EINVAL, "cmd_offset huge", s.cmd_offset = ~0ull << 2);
	SUBMIT_ERR(-EINVAL, "region_count 17", s.region_count = F8NPU_REGIONS + 1);
	SUBMIT_ERR(-EINVAL, "too many in_syncs", s.in_sync_count = 100000);
	SUBMIT_ERR(-ENOENT, "bad cmd handle", s.cmd_handle = 0xdead);
	SUBMIT_ERR(-ENOENT, "cmd handle 0", s.cmd_handle = 0);
	SUBMIT_ERR(-ENOENT, "bad region handle", handles[2] = 0xdead);
	SUBMIT_ERR(-EFAULT, "regions pointer bad", s.regions = 8);
	SUBMIT_ERR(-EFAULT, "in_syncs pointer bad", (s.in_syncs = 8, s.in_sync_count = 1));
	SUBMIT_ERR(-ENOENT, "bad in_sync handle", (s.in_syncs = (uintptr_t)&bad, s.in_sync_count = 1));
	SUBMIT_ERR(-ENOENT, "bad out_sync handle", s.out_sync = 0xdead);

	{
		struct drm_syncobj_create sc = { 0 };
		struct drm_syncobj_destroy sd = { 0 };

		check(xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc) == 0, "SYNCOBJ_CREATE");
		SUBMIT_ERR(-EINVAL, "in_sync without a fence",
			   (s.in_syncs = (uintptr_t)&sc.handle, s.in_sync_count = 1));
		sd.handle = sc.handle;
		check(xioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &sd) == 0, "SYNCOBJ_DESTROY");
	}

	memcpy(&h, c.cmd.map, sizeof(h));
	c.cmd.map[0] ^= 1;
	SUBMIT_ERR(-ENOEXEC, "bad magic", (void)0);
	memcpy(c.cmd.map, &h, sizeof(h));
	((struct f8npu_cmd_header *)c.cmd.map)->version_major = 2;
	SUBMIT_ERR(-ENOEXEC, "major version 2", (void)0);
	memcpy(c.cmd.map, &h, sizeof(h));
	((struct f8npu_cmd_header *)c.cmd.map)->version_minor = 1;
	SUBMIT_ERR(-ENOEXEC, "minor version newer than the device", (void)0);
	memcpy(c.cmd.map, &h, sizeof(h));
	((struct f8npu_cmd_header *)c.cmd.map)->desc_count = 3;
	SUBMIT_ERR(-ENOEXEC, "desc_count beyond cmd_size", (void)0);
	memcpy(c.cmd.map, &h, sizeof(h));
	((struct f8npu_cmd_header *)c.cmd.map)->reserved[3] = 1;
	SUBMIT_ERR(-ENOEXEC, "header reserved non-zero", (void)0);
	memcpy(c.cmd.map, &h, sizeof(h));
#undef SUBMIT_ERR

	check(job_wait(fd, 12345678, 0, &w) == -ENOENT, "JOB_WAIT unknown id");
	memset(&w, 0, sizeof(w));
	w.job_id = 1;
	w.flags = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_JOB_WAIT, &w) == -EINVAL, "JOB_WAIT flags");
	w.flags = 0;
	w.pad = 1;
	check(xioctl(fd, DRM_IOCTL_F8NPU_JOB_WAIT, &w) == -EINVAL, "JOB_WAIT pad");
	/* After all that, the buffers still work. */
	check(run_conv(fd, &c, 0, &w) == 0, "a good job after the refusals");
	check_conv_done(&c, &w);
	conv_free(fd, &c);
}

/* Errors the device finds: they reach the submitter with their descriptor index. */
static void t_device_errors(int fd)
{
	struct f8npu_desc d[3];
	struct drm_f8npu_job_wait w;
	struct drm_f8npu_submit s;
	uint32_t handles[R_N];
	struct conv c;
	int ok = 1;
	uint64_t i;

	cur_test = "device-errors";
	conv_setup(fd, &c, 5);
	/* Descriptor 1 writes past its region: OOB_WRITE at index 1, the output of 0 is there. */
	d[0] = conv_desc();
	d[1] = conv_desc();
	d[1].dst[0].offset = 4000;
	d[2] = f8npu_desc_zero(F8NPU_OP_END);
	bo_close(fd, &c.cmd);
	c.cmd_size = F8NPU_CMD_HEADER_SIZE + sizeof(d);
	check(bo_create(fd, c.cmd_size, &c.cmd) == 0, "cmd");
	write_stream(c.cmd.map, d, 3);
	check(run_conv(fd, &c, 0, &w) == 0, "submit + wait");
	check(w.status == F8NPU_JOB_ERROR && w.err_code == F8NPU_ERR_OOB_WRITE && w.err_index == 1,
	      "status %u err %u index %u", w.status, w.err_code, w.err_index);
	check(memcmp(c.reg[R_DST].map, c.expect, sizeof(c.expect)) == 0, "descriptor 0 ran");
	for (i = sizeof(c.expect); i < c.reg[R_DST].size; i++)
		ok &= c.reg[R_DST].map[i] == 0;
	check(ok, "nothing written past the output");
	check(w.descs == 1, "descs %u", w.descs);

	/* A region left unused (handle 0): BAD_REGION at index 0. */
	submit_init(&c, &s, handles);
	handles[R_BIAS] = 0;
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit with region 2 unused");
	check(job_wait(fd, s.job_id, now_ns() + 10000000000ll, &w) == 0, "wait");
	check(w.status == F8NPU_JOB_ERROR && w.err_code == F8NPU_ERR_BAD_REGION && w.err_index == 0,
	      "status %u err %u index %u", w.status, w.err_code, w.err_index);
	conv_free(fd, &c);
}

/* virt_fault: the memory system refuses the header fetch (BUS, index 0xffffffff). */
static void t_fault(int fd)
{
	struct drm_f8npu_job_wait w;
	struct conv c;

	cur_test = "fault";
	conv_setup(fd, &c, 6);
	set_param("virt_fault", "1");
	check(run_conv(fd, &c, 0, &w) == 0, "submit + wait");
	check(w.status == F8NPU_JOB_ERROR && w.err_code == F8NPU_ERR_BUS &&
		      w.err_index == 0xffffffffu,
	      "status %u err %u index %#x", w.status, w.err_code, w.err_index);
	set_param("virt_fault", "0");
	check(run_conv(fd, &c, 0, &w) == 0, "the next job");
	check_conv_done(&c, &w);
	conv_free(fd, &c);
}

/* virt_hang: the job never ends; its timeout resets the device and the queue goes on. */
static void t_hang(int fd)
{
	struct drm_f8npu_job_wait w;
	struct drm_f8npu_submit s, s2;
	uint32_t handles[R_N];
	struct conv c;
	int64_t t0;

	cur_test = "hang";
	conv_setup(fd, &c, 7);
	set_hang(1);
	submit_init(&c, &s, handles);
	s.timeout_ms = 500;
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit the hanging job");
	set_hang(0);
	/* Queued behind it: runs after the reset. */
	s2 = s;
	s2.timeout_ms = 0;
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s2) == 0, "submit the next job");
	t0 = now_ns();
	check(job_wait(fd, s.job_id, t0 + 50000000, &w) == -ETIME && w.status == F8NPU_JOB_PENDING,
	      "a short wait expires: status %u", w.status);
	t0 = now_ns() - t0;
	check(t0 >= 50000000, "the wait lasted its deadline: %lld ns", (long long)t0);
	{
		struct drm_f8npu_gem_wait gw = { .handle = c.reg[R_DST].handle };

		gw.timeout_ns = now_ns() + 20000000;
		check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_WAIT, &gw) == -ETIME, "GEM_WAIT on a busy buffer");
	}
	check(job_wait(fd, s.job_id, now_ns() + 10000000000ll, &w) == 0, "wait for the timeout");
	check(w.status == F8NPU_JOB_TIMEOUT, "status %u", w.status);
	check(w.duration_ns >= 400000000ull, "duration %llu ns", (unsigned long long)w.duration_ns);
	check(job_wait(fd, s2.job_id, now_ns() + 10000000000ll, &w) == 0, "wait for the next");
	check_conv_done(&c, &w);
	conv_free(fd, &c);
}

/*
 * virt_max_step_cycles: the virtual device does not start a step priced above that many
 * cycles; at 0 not even the header: the job times out, the device is reset, and with the
 * default the same job runs.
 */
static void t_budget(int fd)
{
	struct drm_f8npu_job_wait w;
	struct conv c;

	cur_test = "budget";
	conv_setup(fd, &c, 11);
	set_param("virt_max_step_cycles", "0");
	check(run_conv(fd, &c, 300, &w) == 0, "submit + wait");
	check(w.status == F8NPU_JOB_TIMEOUT && w.cycles == 0 && w.descs == 0,
	      "status %u cycles %llu descs %u", w.status, (unsigned long long)w.cycles, w.descs);
	set_param("virt_max_step_cycles", "1000000");
	check(run_conv(fd, &c, 0, &w) == 0, "the same job with the default");
	check_conv_done(&c, &w);
	conv_free(fd, &c);
}

/*
 * max_inflight: a hanging job holds the queue, the file fills its quota, the next submit gets
 * EAGAIN; the file is closed with its jobs still queued. job_history: results of old jobs
 * leave, recent ones stay.
 */
static void t_limits(void)
{
	struct drm_f8npu_query q = { 0 };
	struct drm_f8npu_job_wait w;
	struct drm_f8npu_submit s;
	uint32_t handles[R_N], i;
	uint64_t first = 0, last = 0;
	struct conv c;
	int fd = dev_open(), r = 0;

	cur_test = "limits";
	check(xioctl(fd, DRM_IOCTL_F8NPU_QUERY, &q) == 0, "QUERY");
	conv_setup(fd, &c, 8);
	set_param("virt_hang", "1");
	submit_init(&c, &s, handles);
	s.timeout_ms = 1000;
	for (i = 0; i < q.max_inflight && !r; i++)
		r = xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s);
	check(r == 0, "%u submits: %d", q.max_inflight, r);
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == -EAGAIN, "one more: EAGAIN");
	set_param("virt_hang", "0");
	/* Closed with the jobs queued: they still run, and free what they hold. */
	conv_free(fd, &c);
	close(fd);

	fd = dev_open();
	conv_setup(fd, &c, 9);
	submit_init(&c, &s, handles);
	for (i = 0; i < q.job_history + 40 && !r; i++) {
		r = xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s);
		if (r == -EAGAIN) {
			/* The queue is full: wait for the last job, then go on. */
			r = job_wait(fd, last, now_ns() + 20000000000ll, &w);
			i--;
			continue;
		}
		if (!first)
			first = s.job_id;
		last = s.job_id;
	}
	check(r == 0, "%u jobs: %d", q.job_history + 40, r);
	check(job_wait(fd, last, now_ns() + 20000000000ll, &w) == 0, "wait for the last");
	check_conv_done(&c, &w);
	/* One more submit trims the history to job_history results. */
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit");
	check(job_wait(fd, s.job_id, now_ns() + 20000000000ll, &w) == 0, "wait");
	check(job_wait(fd, first, 0, &w) == -ENOENT, "the oldest result has left the history");
	check(job_wait(fd, last, 0, &w) == 0 && w.status == F8NPU_JOB_DONE, "a recent one stays");
	conv_free(fd, &c);
	close(fd);
}

/* vgem's uapi (include/uapi/drm/vgem_drm.h), which libdrm does not ship. */
struct vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define VGEM_FENCE_WRITE 0x1
#define VGEM_IOCTL_FENCE_ATTACH DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vgem_fence_attach)
#define VGEM_IOCTL_FENCE_SIGNAL DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vgem_fence_signal)

/*
 * Implicit sync with another driver: the job's output buffer is imported from vgem while
 * vgem holds a write fence on it; the job waits for that fence, then runs.
 */
static void t_implicit(int fd)
{
	struct drm_mode_create_dumb dumb = { .height = 1, .width = 1024, .bpp = 32 };
	struct vgem_fence_attach fa = { 0 };
	struct vgem_fence_signal fs = { 0 };
	struct drm_prime_handle ph = { 0 };
	struct drm_f8npu_gem_mmap_offset m = { 0 };
	struct drm_f8npu_job_wait w;
	struct drm_f8npu_submit s;
	uint32_t handles[R_N];
	char path[64];
	struct conv c;
	uint8_t *out;
	int vfd;

	cur_test = "implicit-sync";
	vfd = find_node("/dev/dri/card%d", 0, "vgem", path, sizeof(path));
	if (vfd < 0) {
		printf("SKIP implicit-sync: no vgem device (modprobe vgem)\n");
		return;
	}
	conv_setup(fd, &c, 10);
	check(xioctl(vfd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb) == 0 && dumb.size >= 4096,
	      "vgem buffer");
	fa.handle = dumb.handle;
	fa.flags = VGEM_FENCE_WRITE;
	check(xioctl(vfd, VGEM_IOCTL_FENCE_ATTACH, &fa) == 0, "vgem write fence");
	ph.handle = dumb.handle;
	ph.flags = DRM_CLOEXEC | DRM_RDWR;
	check(xioctl(vfd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph) == 0, "vgem export");
	ph.handle = 0;
	check(xioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph) == 0 && ph.handle, "f8npu import");

	submit_init(&c, &s, handles);
	handles[R_DST] = ph.handle;
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == 0, "submit on the imported buffer");
	check(job_wait(fd, s.job_id, now_ns() + 300000000, &w) == -ETIME,
	      "the job waits for vgem's fence");
	fs.fence = fa.out_fence;
	check(xioctl(vfd, VGEM_IOCTL_FENCE_SIGNAL, &fs) == 0, "vgem signals");
	check(job_wait(fd, s.job_id, now_ns() + 10000000000ll, &w) == 0, "then it runs");
	check(w.status == F8NPU_JOB_DONE, "status %u err %u", w.status, w.err_code);
	m.handle = ph.handle;
	check(xioctl(fd, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m) == 0, "mmap offset of the import");
	out = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)m.offset);
	check(out != MAP_FAILED && memcmp(out, c.expect, sizeof(c.expect)) == 0,
	      "vgem's buffer holds the functional model's output");
	if (out != MAP_FAILED)
		munmap(out, 4096);
	{
		struct drm_gem_close cl = { .handle = ph.handle };

		check(xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl) == 0, "close the import");
	}
	close(ph.fd);
	close(vfd);
	conv_free(fd, &c);
}

/* Several processes, each its own file, buffers and jobs, at once. */
static void t_procs(void)
{
	enum { PROCS = 4, JOBS = 6 };
	pid_t pid[PROCS];
	int p, st, ok = 1;

	cur_test = "processes";
	fflush(stdout);
	for (p = 0; p < PROCS; p++) {
		pid[p] = fork();
		if (pid[p] == 0) {
			int fd = dev_open(), j;
			struct drm_f8npu_job_wait w;
			struct conv c;

			n_fail = 0;
			conv_setup(fd, &c, 100 + p);
			for (j = 0; j < JOBS; j++) {
				memset(c.reg[R_DST].map, 0, cv_size[R_DST]);
				check(run_conv(fd, &c, 0, &w) == 0, "process %d job %d", p, j);
				check_conv_done(&c, &w);
			}
			conv_free(fd, &c);
			close(fd);
			fflush(stdout);
			_exit(n_fail ? 1 : 0);
		}
	}
	for (p = 0; p < PROCS; p++)
		ok &= waitpid(pid[p], &st, 0) == pid[p] && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	check(ok, "every process's jobs equal the model's");
}

static void write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(val, f) >= 0;

	if (f)
		ok &= fclose(f) == 0;
	check(ok, "write %s to %s: %s", val, path, strerror(errno));
}

/*
 * --unbind: the device goes away under a running (hung) job and three queued ones: the
 * unbind waits for the running job's timeout, the queued jobs are canceled, the open file
 * gets ENODEV for every ioctl and closes cleanly with its buffers; bound again, the device
 * works.
 */
static int unbind_test(void)
{
	static char unbind_path[64] = "/sys/bus/platform/drivers/f8npu-virt/unbind";
	static char bind_path[64] = "/sys/bus/platform/drivers/f8npu-virt/bind";
	static char unbind_name[256] = "f8npu-virt";
	struct drm_f8npu_job_wait w;
	struct drm_f8npu_submit s;
	uint32_t handles[R_N];
	struct conv c;
	int fd, i, r = 0;

	cur_test = "unbind";
	if (bridged) {
		/* The PCI device under the render node: /sys/class/drm/renderDN/device. */
		char link[128], target[256];
		ssize_t n;

		snprintf(link, sizeof(link), "/sys/class/drm/%s/device", strrchr(dev_path, '/') + 1);
		n = readlink(link, target, sizeof(target) - 1);
		check(n > 0, "readlink %s: %s", link, strerror(errno));
		if (n <= 0)
			return 1;
		target[n] = 0;
		snprintf(unbind_name, sizeof(unbind_name), "%s", strrchr(target, '/') ?
			 strrchr(target, '/') + 1 : target);
		snprintf(unbind_path, sizeof(unbind_path), "/sys/bus/pci/drivers/f8npu/unbind");
		snprintf(bind_path, sizeof(bind_path), "/sys/bus/pci/drivers/f8npu/bind");
	}
	fd = dev_open();
	conv_setup(fd, &c, 12);
	set_hang(1);
	submit_init(&c, &s, handles);
	s.timeout_ms = 500;
	for (i = 0; i < 4 && !r; i++)
		r = xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s);
	check(r == 0, "4 submits: %d", r);
	set_hang(0);
	write_file(unbind_path, unbind_name);
	/* The unbind may have come before the first job started: no stall left for the next. */
	if (bridged)
		set_param("bridge_stall", "0");
	check(job_wait(fd, s.job_id, 0, &w) == -ENODEV, "JOB_WAIT after the unbind: ENODEV");
	check(xioctl(fd, DRM_IOCTL_F8NPU_SUBMIT, &s) == -ENODEV, "SUBMIT after the unbind: ENODEV");
	{
		/* Every ioctl of an unplugged device fails; closing the file frees the buffers. */
		struct drm_gem_close cl = { .handle = c.cmd.handle };

		check(xioctl(fd, DRM_IOCTL_GEM_CLOSE, &cl) == -ENODEV, "GEM_CLOSE: ENODEV");
		for (i = 0; i < R_N; i++)
			munmap(c.reg[i].map, c.reg[i].size);
		munmap(c.cmd.map, c.cmd.size);
	}
	close(fd);
	write_file(bind_path, unbind_name);
	fd = find_node("/dev/dri/renderD%d", 128, "f8npu", dev_path, sizeof(dev_path));
	check(fd >= 0, "the device is back");
	if (fd >= 0) {
		conv_setup(fd, &c, 13);
		check(run_conv(fd, &c, 0, &w) == 0, "a job on the device bound again");
		check_conv_done(&c, &w);
		conv_free(fd, &c);
		close(fd);
	}
	printf("f8npu-smoke --unbind: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/* What the device under test is: virtual or bridged, model or RTL. */
static void query_device(int fd)
{
	struct drm_f8npu_query q = { 0 };

	if (xioctl(fd, DRM_IOCTL_F8NPU_QUERY, &q) == 0) {
		bridged = (q.dev_flags & F8NPU_DEV_BRIDGE) != 0;
		dev_impl = q.impl;
	}
}

int main(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "--unbind") == 0) {
		fd = find_node("/dev/dri/renderD%d", 128, "f8npu", dev_path, sizeof(dev_path));
		if (fd < 0) {
			printf("f8npu-smoke: no f8npu render node\n");
			return 1;
		}
		query_device(fd);
		close(fd);
		return unbind_test();
	}
	if (argc > 1) {
		snprintf(dev_path, sizeof(dev_path), "%s", argv[1]);
	} else {
		fd = find_node("/dev/dri/renderD%d", 128, "f8npu", dev_path, sizeof(dev_path));
		if (fd < 0) {
			printf("f8npu-smoke: no f8npu render node\n");
			return 1;
		}
		close(fd);
	}
	fd = dev_open();
	query_device(fd);
	t_query(fd);
	t_gem(fd);
	t_conv(fd);
	t_syncobj(fd);
	t_prime(fd);
	t_isolation(fd);
	t_hostile(fd);
	t_device_errors(fd);
	if (bridged) {
		printf("SKIP fault, budget, limits: the virtual device's own tests\n");
	} else {
		t_fault(fd);
	}
	t_hang(fd);
	if (!bridged) {
		t_budget(fd);
		t_limits();
	}
	t_implicit(fd);
	t_procs();
	close(fd);
	printf("f8npu-smoke: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
