// SPDX-License-Identifier: MIT
/*
 * The kmod backend: the kernel driver (a DRM render node) through libdrm. The driver is
 * issue 12; until it exists, open says so and nothing here pretends to talk to one. When it
 * lands: open the node, check the driver's name and version (drmGetVersion), read the caps
 * through its query ioctl, buffers are GEM objects mapped here, submit is its job ioctl.
 */
#include <string.h>

#include "f8-be-impl.h"

static int f8_be_kmod_open(const char *config, void **priv, struct f8_err *e)
{
	static const char prefix[] = "/dev/dri/renderD";

	(void)priv;
	if (config && *config && strncmp(config, prefix, sizeof(prefix) - 1))
		return f8_fail(e, F8_ERR_FORMAT, "kmod:%s: expected a render node, /dev/dri/renderDN",
			       config);
	return f8_fail(e, F8_ERR_IO, "no f8npu device: %s has no f8npu driver (the kernel driver is issue 12)",
		       config && *config ? config : "/dev/dri/renderD*");
}

/* Never reached: open fails, so there is no priv to act on. */
static void f8_be_kmod_close(void *priv)
{
	(void)priv;
}

static void f8_be_kmod_caps(void *priv, struct f8_be_caps *caps)
{
	(void)priv;
	memset(caps, 0, sizeof(*caps));
}

static int f8_be_kmod_alloc(void *priv, uint64_t size, struct f8_be_buf *buf, struct f8_err *e)
{
	(void)priv, (void)size, (void)buf;
	return f8_fail(e, F8_ERR_IO, "kmod: no device");
}

static void f8_be_kmod_free(void *priv, struct f8_be_buf *buf)
{
	(void)priv, (void)buf;
}

static int f8_be_kmod_submit(void *priv, const struct f8_be_job *job, struct f8npu_job_result *res,
			     struct f8_err *e)
{
	(void)priv, (void)job, (void)res;
	return f8_fail(e, F8_ERR_IO, "kmod: no device");
}

const struct f8_be_ops f8_be_kmod_ops = {
	.name = "kmod",
	.what = "the kernel driver through libdrm (issue 12: not yet)",
	.open = f8_be_kmod_open,
	.close = f8_be_kmod_close,
	.caps = f8_be_kmod_caps,
	.alloc = f8_be_kmod_alloc,
	.free = f8_be_kmod_free,
	.submit = f8_be_kmod_submit,
};
