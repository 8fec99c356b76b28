// SPDX-License-Identifier: MIT
/*
 * A job-level backend over a struct f8npu_dev in this process (ref, rtl): buffers in
 * sim/'s host memory, the capabilities from the registers, and a job run through sim/'s
 * register-programming layer (docs/regs.md, "Programming sequence").
 */
#include <stddef.h>
#include <string.h>

#include "f8-be-impl.h"
#include "f8npu_cmd.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"
#include "f8npu_validate.h"

void f8_be_dev_caps(struct f8npu_dev *dev, struct f8_be_caps *c)
{
	uint32_t v;

	memset(c, 0, sizeof(*c));
	c->hw_id = f8npu_dev_read(dev, F8NPU_REG_ID);
	c->hw_version = f8npu_dev_read(dev, F8NPU_REG_HW_VERSION);
	c->cmd_version = f8npu_dev_read(dev, F8NPU_REG_CMD_VERSION);
	v = f8npu_dev_read(dev, F8NPU_REG_CAP_ARRAY);
	c->rows = v & 0xffff;
	c->cols = v >> 16;
	c->ops = f8npu_dev_read(dev, F8NPU_REG_CAP_OPS);
	c->regions = f8npu_dev_read(dev, F8NPU_REG_CAP_REGIONS);
	c->ibuf_bytes = f8npu_dev_read(dev, F8NPU_REG_CAP_IBUF);
	c->wbuf_bytes = f8npu_dev_read(dev, F8NPU_REG_CAP_WBUF);
	c->abuf_bytes = f8npu_dev_read(dev, F8NPU_REG_CAP_ABUF);
	c->max_dim = f8npu_dev_read(dev, F8NPU_REG_CAP_MAX_DIM);
	c->max_k = f8npu_dev_read(dev, F8NPU_REG_CAP_MAX_K);
	v = f8npu_dev_read(dev, F8NPU_REG_CAP_SHIFT);
	c->shift_min = (int8_t)(v & 0xff);
	c->shift_max = (int8_t)(v >> 8 & 0xff);
	c->align_max = v >> 16 & 0xff;
	c->types = f8npu_dev_read(dev, F8NPU_REG_CAP_TYPES);
}

int f8_be_dev_alloc(struct f8_be_dev *d, uint64_t size, struct f8_be_buf *buf, struct f8_err *e)
{
	uint64_t addr;
	uint8_t *p;

	if (size == 0 || size > (1ull << 40))
		return f8_fail(e, F8_ERR_RANGE, "buffer of %llu bytes: a buffer has 1 byte to 1 TiB",
			       (unsigned long long)size);
	p = f8npu_hostmem_alloc(&d->hm, size, &addr);
	if (!p)
		return f8_fail(e, F8_ERR_NOMEM,
			       "cannot allocate a buffer of %llu bytes (out of memory, or %u buffers live)",
			       (unsigned long long)size, F8NPU_HOSTMEM_MAX_BUFS);
	buf->ptr = p;
	buf->size = size;
	buf->dev_addr = addr;
	buf->handle = addr;
	return F8_OK;
}

void f8_be_dev_free(struct f8_be_dev *d, struct f8_be_buf *buf)
{
	f8npu_hostmem_release(&d->hm, buf->handle);
}

/* @buf is one of ours, live: its mapping is the host memory at its device address. */
static bool f8_be_dev_owns(const struct f8_be_dev *d, const struct f8_be_buf *buf)
{
	unsigned int i;

	for (i = 0; i < d->hm.count; i++) {
		const struct f8npu_hostmem_buf *b = &d->hm.bufs[i];

		if (b->data && b->addr == buf->dev_addr && b->data == buf->ptr && b->size == buf->size)
			return true;
	}
	return false;
}

/* What the next step of the running job costs, by the model's own cost function. */
static uint64_t f8_be_next_cycles(const struct f8_be_dev *d, const struct f8_be_job *job,
				  const struct f8npu_region_table *rt, bool header)
{
	struct f8npu_desc desc;
	uint32_t head, count;

	if (header)
		return f8npu_model_header_cycles(&d->cost, job->cmd_size);
	head = f8npu_dev_read(d->dev, F8NPU_REG_CMD_HEAD);
	memcpy(&count, job->cmd->ptr + offsetof(struct f8npu_cmd_header, desc_count), sizeof(count));
	if (head >= count)
		return 0; /* NO_END: the job stops without a fetch */
	/* The header check made 32 + 256 * count <= CMD_SIZE: descriptor HEAD is in the stream. */
	memcpy(&desc, job->cmd->ptr + F8NPU_CMD_HEADER_SIZE + (size_t)head * F8NPU_CMD_DESC_SIZE,
	       sizeof(desc));
	return f8npu_model_desc_cycles(&d->cost, &desc, rt);
}

/*
 * The programming sequence of f8npu_prog_run_job, one step at a time: before each step
 * the cost model says what it will take, and a step that would pass @budget is not started
 * (a descriptor runs to its end once started). So any stream is bounded by the budget, in
 * model cycles and in the time it takes to simulate them (docs/runner.md, --max-cycles).
 */
static void f8_be_run_predicted(struct f8_be_dev *d, const struct f8_be_job *job,
				const struct f8npu_region_table *rt, uint32_t desc_count,
				uint64_t budget, struct f8npu_job_result *res)
{
	struct f8npu_dev *dev = d->dev;
	uint64_t spent = 0, step;
	bool header = true;

	f8npu_prog_start_job(dev, rt->cmd_base, rt->cmd_size, desc_count);
	while (!f8npu_dev_irq(dev)) {
		if (f8_be_next_cycles(d, job, rt, header) > budget - spent) {
			res->timed_out = true;
			break;
		}
		/*
		 * The model takes one whole step (the header, or one descriptor) in a run() of
		 * one cycle: it stops as soon as it has spent at least what it was given.
		 */
		if (f8npu_dev_run(dev, 1, &step) == F8NPU_RUN_IDLE && !f8npu_dev_irq(dev)) {
			res->timed_out = true; /* idle without an interrupt: cannot happen here */
			break;
		}
		spent += step;
		header = false;
	}
	f8npu_prog_end_job(dev, spent, res);
}

int f8_be_dev_submit(struct f8_be_dev *d, const struct f8_be_job *job,
		     struct f8npu_job_result *res, struct f8_err *e)
{
	struct f8npu_cmd_header h;
	struct f8npu_region_table rt;
	uint64_t budget = job->max_cycles ? job->max_cycles : F8_BE_DEFAULT_CYCLES;
	unsigned int r;

	if (!f8_be_dev_owns(d, job->cmd))
		return f8_fail(e, F8_ERR_MISUSE, "job: the command buffer is not a live buffer of this backend");
	memset(&rt, 0, sizeof(rt));
	for (r = 0; r < F8NPU_REGIONS; r++) {
		const struct f8_be_buf *b = job->region[r];

		if (b && !f8_be_dev_owns(d, b))
			return f8_fail(e, F8_ERR_MISUSE,
				       "job: region %u is not a live buffer of this backend", r);
		rt.base[r] = b ? b->dev_addr : 0;
		rt.size[r] = b ? b->size : 0;
	}
	rt.count = F8NPU_REGIONS;
	rt.cmd_base = job->cmd->dev_addr;
	rt.cmd_size = job->cmd_size;
	for (r = 0; r < F8NPU_REGIONS; r++)
		f8npu_prog_set_region(d->dev, r, rt.base[r], rt.size[r]);
	/* This job's counters only (they accumulate across jobs on the device). */
	f8npu_dev_write(d->dev, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	/* The doorbell covers the whole stream; the device checks the header itself. */
	memset(&h, 0, sizeof(h));
	memcpy(&h, job->cmd->ptr, job->cmd_size < sizeof(h) ? job->cmd_size : sizeof(h));
	if (d->predict)
		f8_be_run_predicted(d, job, &rt, h.desc_count, budget, res);
	else
		f8npu_prog_run_job(d->dev, rt.cmd_base, rt.cmd_size, h.desc_count, budget, res);
	return F8_OK;
}

void f8_be_dev_fini(struct f8_be_dev *d)
{
	f8npu_dev_destroy(d->dev);
	d->dev = NULL;
	f8npu_hostmem_free(&d->hm);
}
