// SPDX-License-Identifier: MIT
/*
 * The job-level backend table (f8-backend.h): open by spec, the capability check every
 * backend passes once, and the dispatch.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-be-impl.h"
#include "f8npu_regs.h"

/* Devices first: a real one beats any simulation (docs/architecture.md). */
static const struct f8_be_ops *const f8_be_table[] = {
	&f8_be_kmod_ops,
	&f8_be_rtl_ops,
	&f8_be_ref_ops,
};

const struct f8_be_ops *const *f8_be_list(size_t *count)
{
	if (count)
		*count = sizeof(f8_be_table) / sizeof(f8_be_table[0]);
	return f8_be_table;
}

/* The device is one this runtime speaks: the checks of f8npu_prog_check_id, on the caps. */
static int f8_be_check_caps(const struct f8_be *be, struct f8_err *e)
{
	const struct f8_be_caps *c = &be->caps;

	if (c->hw_id != F8NPU_ID_VALUE)
		return f8_fail(e, F8_ERR_VERSION, "%s: not an f8npu (ID 0x%08x, want 0x%08x)", be->spec,
			       c->hw_id, F8NPU_ID_VALUE);
	if (c->hw_version >> 16 != F8NPU_HW_VERSION_MAJOR)
		return f8_fail(e, F8_ERR_VERSION, "%s: hardware version %u.%u, this runtime speaks %u.x",
			       be->spec, c->hw_version >> 16, c->hw_version & 0xffff,
			       F8NPU_HW_VERSION_MAJOR);
	if (c->cmd_version >> 16 != F8NPU_CMD_VERSION_MAJOR)
		return f8_fail(e, F8_ERR_VERSION,
			       "%s: command stream version %u.%u, this runtime writes %u.x", be->spec,
			       c->cmd_version >> 16, c->cmd_version & 0xffff, F8NPU_CMD_VERSION_MAJOR);
	return F8_OK;
}

int f8_be_open(const char *spec, struct f8_be **out, struct f8_err *e)
{
	const char *colon, *config = NULL;
	const struct f8_be_ops *ops = NULL;
	struct f8_be *be;
	size_t n, i, len;
	int rc;

	if (!spec || !out)
		return f8_fail(e, F8_ERR_MISUSE, "f8_be_open: NULL spec or result");
	*out = NULL;
	len = strlen(spec);
	if (len >= sizeof(be->spec))
		return f8_fail(e, F8_ERR_FORMAT, "backend '%.40s...': longer than %zu characters", spec,
			       sizeof(be->spec) - 1);
	colon = strchr(spec, ':');
	n = colon ? (size_t)(colon - spec) : len;
	if (colon)
		config = colon + 1;
	for (i = 0; i < sizeof(f8_be_table) / sizeof(f8_be_table[0]); i++)
		if (strlen(f8_be_table[i]->name) == n && !strncmp(f8_be_table[i]->name, spec, n))
			ops = f8_be_table[i];
	if (!ops)
		return f8_fail(e, F8_ERR_FORMAT,
			       "backend '%s': unknown (known: ref[:RxC], rtl:RxC, kmod[:/dev/dri/renderDN])",
			       spec);
	be = calloc(1, sizeof(*be));
	if (!be)
		return f8_fail(e, F8_ERR_NOMEM, "backend '%s': out of memory", spec);
	memcpy(be->spec, spec, len + 1);
	be->ops = ops;
	rc = ops->open(config, &be->priv, e);
	if (rc) {
		free(be);
		return rc;
	}
	/* Read once: the ID and capability registers do not change while the device is open. */
	ops->caps(be->priv, &be->caps);
	rc = f8_be_check_caps(be, e);
	if (rc) {
		f8_be_close(be);
		return rc;
	}
	*out = be;
	return F8_OK;
}

void f8_be_close(struct f8_be *be)
{
	if (!be)
		return;
	be->ops->close(be->priv);
	free(be);
}

int f8_be_alloc(struct f8_be *be, uint64_t size, struct f8_be_buf *buf, struct f8_err *e)
{
	if (!be || !buf)
		return f8_fail(e, F8_ERR_MISUSE, "f8_be_alloc: NULL backend or buffer");
	memset(buf, 0, sizeof(*buf));
	return be->ops->alloc(be->priv, size, buf, e);
}

void f8_be_free(struct f8_be *be, struct f8_be_buf *buf)
{
	if (!be || !buf || !buf->ptr)
		return;
	be->ops->free(be->priv, buf);
	memset(buf, 0, sizeof(*buf));
}

int f8_be_submit(struct f8_be *be, const struct f8_be_job *job, struct f8npu_job_result *res,
		 struct f8_err *e)
{
	if (!be || !job || !res)
		return f8_fail(e, F8_ERR_MISUSE, "f8_be_submit: NULL backend, job or result");
	memset(res, 0, sizeof(*res));
	if (!job->cmd || !job->cmd->ptr || job->cmd_size > job->cmd->size)
		return f8_fail(e, F8_ERR_MISUSE, "%s: job without a command buffer, or cmd_size %u past it",
			       be->spec, job->cmd_size);
	return be->ops->submit(be->priv, job, res, e);
}
