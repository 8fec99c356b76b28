// SPDX-License-Identifier: MIT
/* A job on the functional model in host memory, shared by exec, demo and bench. */
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"
#include "f8npu_cmd.h"

int f8_job_init(struct f8_job *job, const struct f8npu_model_config *cfg)
{
	struct f8npu_mem port;

	memset(job, 0, sizeof(*job));
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

void f8_job_run(struct f8_job *job, uint64_t max_cycles, struct f8npu_job_result *res)
{
	struct f8npu_cmd_header h = { 0 };
	unsigned int r;

	for (r = 0; r < F8NPU_REGIONS; r++)
		f8npu_prog_set_region(job->dev, r, job->region_addr[r], job->region[r] ? job->region_size[r] : 0);
	/* The doorbell covers the whole stream; the device checks the header itself. */
	memcpy(&h, job->cmd, job->cmd_size < sizeof(h) ? job->cmd_size : sizeof(h));
	f8npu_prog_run_job(job->dev, job->cmd_addr, job->cmd_size, h.desc_count, max_cycles, res);
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
