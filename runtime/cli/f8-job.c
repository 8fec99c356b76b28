// SPDX-License-Identifier: MIT
/* A job on the functional model in host memory, shared by exec, demo and bench. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"
#include "f8npu_cmd.h"
#include "f8npu_validate.h"

int f8_job_init(struct f8_job *job, const struct f8npu_model_config *cfg)
{
	struct f8npu_mem port;

	memset(job, 0, sizeof(*job));
	if (cfg)
		job->cfg = *cfg;
	else
		f8npu_model_default_config(&job->cfg);
	f8npu_hostmem_init(&job->mem);
	port = f8npu_hostmem_port(&job->mem);
	job->dev = f8npu_model_create(cfg, &port);
	if (!job->dev) {
		fprintf(stderr, "f8: cannot create the functional model (bad configuration?)\n");
		return -1;
	}
	if (f8npu_prog_check_id(job->dev)) {
		fprintf(stderr, "f8: the device is not an f8npu of a version this tool speaks\n");
		f8_job_free(job);
		return -1;
	}
	return 0;
}

uint8_t *f8_job_region(struct f8_job *job, unsigned int r, uint64_t size)
{
	if (r >= F8NPU_REGIONS || job->region[r]) {
		fprintf(stderr, "f8: region %u: bad index or given twice\n", r);
		return NULL;
	}
	job->region[r] = f8npu_hostmem_alloc(&job->mem, size, &job->region_addr[r]);
	if (!job->region[r]) {
		fprintf(stderr, "f8: region %u: cannot allocate %llu bytes\n", r, (unsigned long long)size);
		return NULL;
	}
	job->region_size[r] = size;
	return job->region[r];
}

uint8_t *f8_job_stream(struct f8_job *job, uint32_t size)
{
	job->cmd = f8npu_hostmem_alloc(&job->mem, size ? size : 1, &job->cmd_addr);
	if (!job->cmd) {
		fprintf(stderr, "f8: cannot allocate the command buffer\n");
		return NULL;
	}
	job->cmd_size = size;
	return job->cmd;
}

/* What the next step of the running job costs, by the model's own cost function. */
static uint64_t f8_job_next_cycles(const struct f8_job *job, const struct f8npu_region_table *rt,
				   bool header)
{
	struct f8npu_desc d;
	uint32_t head, count;

	if (header)
		return f8npu_model_header_cycles(&job->cfg, job->cmd_size);
	head = f8npu_dev_read(job->dev, F8NPU_REG_CMD_HEAD);
	memcpy(&count, job->cmd + offsetof(struct f8npu_cmd_header, desc_count), sizeof(count));
	if (head >= count)
		return 0; /* NO_END: the job stops without a fetch */
	/* The header check made 32 + 256 * count <= CMD_SIZE: descriptor HEAD is in the stream. */
	memcpy(&d, job->cmd + F8NPU_CMD_HEADER_SIZE + (size_t)head * F8NPU_CMD_DESC_SIZE, sizeof(d));
	return f8npu_model_desc_cycles(&job->cfg, &d, rt);
}

void f8_job_run(struct f8_job *job, uint64_t max_cycles, struct f8npu_job_result *res)
{
	struct f8npu_cmd_header h = { 0 };
	struct f8npu_region_table rt;
	uint64_t spent = 0, step;
	unsigned int r;
	bool header = true;

	memset(&rt, 0, sizeof(rt));
	for (r = 0; r < F8NPU_REGIONS; r++) {
		rt.base[r] = job->region_addr[r];
		rt.size[r] = job->region[r] ? job->region_size[r] : 0;
		f8npu_prog_set_region(job->dev, r, rt.base[r], rt.size[r]);
	}
	rt.count = F8NPU_REGIONS;
	rt.cmd_base = job->cmd_addr;
	rt.cmd_size = job->cmd_size;
	memset(res, 0, sizeof(*res));
	/* The doorbell covers the whole stream; the device checks the header itself. */
	memcpy(&h, job->cmd, job->cmd_size < sizeof(h) ? job->cmd_size : sizeof(h));
	/* The programming sequence of f8npu_prog_run_job, then one step at a time. */
	f8npu_dev_write(job->dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
	f8npu_dev_write(job->dev, F8NPU_REG_IRQ_STATUS, F8NPU_IRQ_ALL);
	f8npu_dev_write(job->dev, F8NPU_REG_CMD_BASE_LO, (uint32_t)job->cmd_addr);
	f8npu_dev_write(job->dev, F8NPU_REG_CMD_BASE_HI, (uint32_t)(job->cmd_addr >> 32));
	f8npu_dev_write(job->dev, F8NPU_REG_CMD_SIZE, job->cmd_size);
	f8npu_dev_write(job->dev, F8NPU_REG_CMD_TAIL, h.desc_count);
	f8npu_dev_write(job->dev, F8NPU_REG_CTRL, F8NPU_CTRL_START);
	while (!f8npu_dev_irq(job->dev)) {
		/* A step that would pass the budget is not started: a descriptor runs to its end. */
		if (f8_job_next_cycles(job, &rt, header) > max_cycles - spent) {
			res->timed_out = true;
			break;
		}
		/*
		 * The model takes one whole step (the header, or one descriptor) in a run() of
		 * one cycle: it stops as soon as it has spent at least what it was given.
		 */
		if (f8npu_dev_run(job->dev, 1, &step) == F8NPU_RUN_IDLE && !f8npu_dev_irq(job->dev)) {
			res->timed_out = true; /* idle without an interrupt: cannot happen here */
			break;
		}
		spent += step;
		header = false;
	}
	res->cycles = spent;
	f8npu_prog_read_perf(job->dev, &res->perf);
	if (res->timed_out) {
		f8npu_dev_write(job->dev, F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
		return;
	}
	r = f8npu_dev_read(job->dev, F8NPU_REG_IRQ_STATUS);
	res->done = (r & F8NPU_IRQ_DONE) != 0;
	if (r & F8NPU_IRQ_ERROR) {
		res->err = f8npu_dev_read(job->dev, F8NPU_REG_ERR_CODE);
		res->err_index = f8npu_dev_read(job->dev, F8NPU_REG_ERR_INDEX);
	}
	f8npu_dev_write(job->dev, F8NPU_REG_IRQ_STATUS, r);
}

void f8_job_report(FILE *f, const char *who, const struct f8npu_job_result *res)
{
	const struct f8npu_perf *perf = &res->perf;

	if (res->timed_out)
		fprintf(f, "%s: TIMEOUT after %llu cycles\n", who, (unsigned long long)res->cycles);
	else if (res->done)
		fprintf(f, "%s: DONE\n", who);
	else if (res->err_index == 0xffffffffu)
		fprintf(f, "%s: ERROR %u %s at header\n", who, res->err, f8npu_err_name(res->err));
	else
		fprintf(f, "%s: ERROR %u %s at descriptor %u\n", who, res->err, f8npu_err_name(res->err),
			res->err_index);
	fprintf(f, "%s: cycles=%llu stall=%llu macs=%llu rd=%llu wr=%llu descs=%u\n", who,
		(unsigned long long)perf->cycles, (unsigned long long)perf->stall_cycles,
		(unsigned long long)perf->macs, (unsigned long long)perf->rd_bytes,
		(unsigned long long)perf->wr_bytes, perf->descs);
}

void f8_job_free(struct f8_job *job)
{
	f8npu_dev_destroy(job->dev);
	job->dev = NULL;
	f8npu_hostmem_free(&job->mem);
}
