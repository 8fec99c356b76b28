// SPDX-License-Identifier: MIT
/*
 * The kmod backend: the kernel driver f8npu.ko (docs/driver.md) through libdrm. Open finds
 * the device (drmGetDevices2, then drmGetVersion's driver name "f8npu" on each render node)
 * or takes the node named, checks the uapi major with the QUERY ioctl, whose answer is also
 * the capabilities. Buffers are GEM objects mapped here; a job is one SUBMIT (the stream's
 * buffer and the region handles) and one JOB_WAIT for its result and its own counters.
 * The job's cycle budget is not the kernel's: the driver's job timeout (module parameter
 * job_timeout_ms, in QUERY) stops a job that runs too long, reported as timed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>

#include "f8-be-impl.h"
#include "f8npu_drm.h"

#define F8_KMOD_DRIVER "f8npu"
#define F8_KMOD_MAX_DEVICES 64
/* Beyond the driver's own job timeout, how long a wait may take before we give up. */
#define F8_KMOD_WAIT_SLACK_NS (10ll * 1000000000)

struct f8_be_kmod {
	int fd;
	char path[64];
	struct drm_f8npu_query q;
};

/* Whether the open DRM file @fd is driven by f8npu. */
static bool is_f8npu(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	bool yes = v && v->name && !strcmp(v->name, F8_KMOD_DRIVER);

	drmFreeVersion(v);
	return yes;
}

int f8_be_kmod_devices(char paths[][64], int max)
{
	drmDevicePtr devs[F8_KMOD_MAX_DEVICES];
	int n, i, found = 0;

	n = drmGetDevices2(0, devs, F8_KMOD_MAX_DEVICES);
	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		const char *node;
		int fd;

		if (!(devs[i]->available_nodes & (1 << DRM_NODE_RENDER)))
			continue;
		node = devs[i]->nodes[DRM_NODE_RENDER];
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (is_f8npu(fd) && found < max && strlen(node) < 64)
			strcpy(paths[found++], node);
		close(fd);
	}
	drmFreeDevices(devs, n);
	return found;
}

static int kmod_ioctl(struct f8_be_kmod *k, unsigned long req, void *arg)
{
	return drmIoctl(k->fd, req, arg) ? -errno : 0;
}

static int f8_be_kmod_open(const char *config, void **priv, struct f8_err *e)
{
	static const char prefix[] = "/dev/dri/renderD";
	char found[1][64];
	struct f8_be_kmod *k;
	const char *path;
	int rc;

	if (config && *config) {
		if (strncmp(config, prefix, sizeof(prefix) - 1) || strlen(config) >= sizeof(k->path))
			return f8_fail(e, F8_ERR_FORMAT, "kmod:%s: expected a render node, /dev/dri/renderDN",
				       config);
		path = config;
	} else {
		if (f8_be_kmod_devices(found, 1) < 1)
			return f8_fail(e, F8_ERR_IO, "no f8npu device: the kernel driver is not loaded "
						     "(no render node is driven by f8npu; docs/driver.md)");
		path = found[0];
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return f8_fail(e, F8_ERR_NOMEM, "kmod: out of memory");
	strcpy(k->path, path);
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		rc = f8_fail(e, F8_ERR_IO, "no f8npu device: %s: %s", path, strerror(errno));
		free(k);
		return rc;
	}
	if (!is_f8npu(k->fd)) {
		rc = f8_fail(e, F8_ERR_IO, "no f8npu device: %s is not driven by f8npu", path);
		goto fail;
	}
	rc = kmod_ioctl(k, DRM_IOCTL_F8NPU_QUERY, &k->q);
	if (rc) {
		rc = f8_fail(e, F8_ERR_IO, "kmod %s: QUERY: %s", path, strerror(-rc));
		goto fail;
	}
	if (k->q.uapi_version >> 16 != F8NPU_UAPI_VERSION_MAJOR) {
		rc = f8_fail(e, F8_ERR_VERSION, "kmod %s: the driver speaks uapi %u.%u, this runtime %u.x",
			     path, k->q.uapi_version >> 16, k->q.uapi_version & 0xffff,
			     F8NPU_UAPI_VERSION_MAJOR);
		goto fail;
	}
	*priv = k;
	return F8_OK;
fail:
	close(k->fd);
	free(k);
	return rc;
}

static void f8_be_kmod_close(void *priv)
{
	struct f8_be_kmod *k = priv;

	close(k->fd);
	free(k);
}

static void f8_be_kmod_caps(void *priv, struct f8_be_caps *c)
{
	const struct drm_f8npu_query *q = &((struct f8_be_kmod *)priv)->q;

	memset(c, 0, sizeof(*c));
	c->hw_id = q->hw_id;
	c->hw_version = q->hw_version;
	c->cmd_version = q->cmd_version;
	c->rows = q->cap_array & 0xffff;
	c->cols = q->cap_array >> 16;
	c->ops = q->cap_ops;
	c->regions = q->cap_regions;
	c->ibuf_bytes = q->cap_ibuf;
	c->wbuf_bytes = q->cap_wbuf;
	c->abuf_bytes = q->cap_abuf;
	c->max_dim = q->cap_max_dim;
	c->max_k = q->cap_max_k;
	c->shift_min = (int8_t)(q->cap_shift & 0xff);
	c->shift_max = (int8_t)(q->cap_shift >> 8 & 0xff);
	c->align_max = q->cap_shift >> 16 & 0xff;
	c->types = q->cap_types;
}

static void gem_close(struct f8_be_kmod *k, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	kmod_ioctl(k, DRM_IOCTL_GEM_CLOSE, &c);
}

static int f8_be_kmod_alloc(void *priv, uint64_t size, struct f8_be_buf *buf, struct f8_err *e)
{
	struct f8_be_kmod *k = priv;
	struct drm_f8npu_gem_create c = { .size = size };
	struct drm_f8npu_gem_mmap_offset m = { 0 };
	void *p;
	int rc;

	if (size == 0 || size > k->q.max_bo_size)
		return f8_fail(e, F8_ERR_RANGE, "kmod: a buffer of %llu bytes: the driver takes 1 to %llu",
			       (unsigned long long)size, (unsigned long long)k->q.max_bo_size);
	rc = kmod_ioctl(k, DRM_IOCTL_F8NPU_GEM_CREATE, &c);
	if (rc)
		return f8_fail(e, rc == -ENOMEM ? F8_ERR_NOMEM : F8_ERR_IO,
			       "kmod: GEM_CREATE of %llu bytes: %s", (unsigned long long)size, strerror(-rc));
	m.handle = c.handle;
	rc = kmod_ioctl(k, DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET, &m);
	if (rc) {
		gem_close(k, c.handle);
		return f8_fail(e, F8_ERR_IO, "kmod: GEM_MMAP_OFFSET: %s", strerror(-rc));
	}
	/* the whole object (whole pages); munmap of the size asked for frees the same pages */
	p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, (off_t)m.offset);
	if (p == MAP_FAILED) {
		rc = errno;
		gem_close(k, c.handle);
		return f8_fail(e, F8_ERR_IO, "kmod: mmap of a %llu-byte buffer: %s",
			       (unsigned long long)c.size, strerror(rc));
	}
	buf->ptr = p;
	buf->size = size; /* what was asked for, as every backend reports it */
	buf->dev_addr = 0; /* the driver gives device addresses per job */
	buf->handle = c.handle;
	return F8_OK;
}

static void f8_be_kmod_free(void *priv, struct f8_be_buf *buf)
{
	munmap(buf->ptr, buf->size);
	gem_close(priv, (uint32_t)buf->handle);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int f8_be_kmod_submit(void *priv, const struct f8_be_job *job, struct f8npu_job_result *res,
			     struct f8_err *e)
{
	struct f8_be_kmod *k = priv;
	uint32_t handles[F8NPU_REGIONS] = { 0 };
	struct drm_f8npu_submit s = { 0 };
	struct drm_f8npu_job_wait w = { 0 };
	unsigned int r, count = 0;
	int rc;

	for (r = 0; r < F8NPU_REGIONS; r++)
		if (job->region[r]) {
			handles[r] = (uint32_t)job->region[r]->handle;
			count = r + 1;
		}
	if (count > k->q.cap_regions)
		return f8_fail(e, F8_ERR_RANGE, "kmod: region %u used, the device has %u", count - 1,
			       k->q.cap_regions);
	s.cmd_handle = (uint32_t)job->cmd->handle;
	s.cmd_size = job->cmd_size;
	s.cmd_offset = 0;
	s.regions = (uint64_t)(uintptr_t)handles;
	s.region_count = count;
	rc = kmod_ioctl(k, DRM_IOCTL_F8NPU_SUBMIT, &s);
	if (rc == -ENOEXEC)
		return f8_fail(e, F8_ERR_FORMAT, "kmod: the driver refused the stream's header "
						 "(magic, version, descriptor size or count)");
	if (rc)
		return f8_fail(e, rc == -ENOMEM ? F8_ERR_NOMEM : rc == -ENOENT ? F8_ERR_MISUSE : F8_ERR_IO,
			       "kmod: SUBMIT: %s", strerror(-rc));
	w.job_id = s.job_id;
	w.timeout_ns = now_ns() + (int64_t)k->q.job_timeout_ms * 1000000 + F8_KMOD_WAIT_SLACK_NS;
	rc = kmod_ioctl(k, DRM_IOCTL_F8NPU_JOB_WAIT, &w);
	if (rc)
		return f8_fail(e, F8_ERR_IO, "kmod: JOB_WAIT for job %llu: %s",
			       (unsigned long long)s.job_id, strerror(-rc));
	switch (w.status) {
	case F8NPU_JOB_DONE: res->done = true; break;
	case F8NPU_JOB_ERROR:
		res->err = w.err_code;
		res->err_index = w.err_index;
		break;
	case F8NPU_JOB_TIMEOUT: res->timed_out = true; break;
	default:
		return f8_fail(e, F8_ERR_IO, "kmod: job %llu ended with status %u (canceled: the device "
					     "went away)", (unsigned long long)s.job_id, w.status);
	}
	res->cycles = w.cycles;
	res->perf.cycles = w.cycles;
	res->perf.macs = w.macs;
	res->perf.rd_bytes = w.rd_bytes;
	res->perf.wr_bytes = w.wr_bytes;
	res->perf.stall_cycles = w.stall_cycles;
	res->perf.descs = w.descs;
	return F8_OK;
}

const struct f8_be_ops f8_be_kmod_ops = {
	.name = "kmod",
	.what = "the kernel driver f8npu.ko through libdrm (docs/driver.md)",
	.open = f8_be_kmod_open,
	.close = f8_be_kmod_close,
	.caps = f8_be_kmod_caps,
	.alloc = f8_be_kmod_alloc,
	.free = f8_be_kmod_free,
	.submit = f8_be_kmod_submit,
};
