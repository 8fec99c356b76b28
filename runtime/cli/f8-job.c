// SPDX-License-Identifier: MIT
/*
 * One job on a job-level backend (f8-backend.h), shared by exec, demo and bench: the
 * backend does the work (buffers, the programming sequence, the budget); this file only
 * keeps the CLI's messages and the region bookkeeping.
 */
#include <stdio.h>
#include <string.h>

#include "f8-cli.h"

int f8_job_init(struct f8_job *job, const char *spec)
{
	struct f8_err e = { { 0 } };

	memset(job, 0, sizeof(*job));
	if (f8_be_open(spec ? spec : "ref", &job->be, &e)) {
		fprintf(stderr, "f8: %s\n", e.msg);
		return -1;
	}
	return 0;
}

uint8_t *f8_job_region(struct f8_job *job, unsigned int r, uint64_t size)
{
	struct f8_err e = { { 0 } };

	if (r >= F8NPU_REGIONS || job->region[r].ptr) {
		fprintf(stderr, "f8: region %u: bad index or given twice\n", r);
		return NULL;
	}
	if (f8_be_alloc(job->be, size, &job->region[r], &e)) {
		fprintf(stderr, "f8: region %u: %s\n", r, e.msg);
		return NULL;
	}
	return job->region[r].ptr;
}

uint8_t *f8_job_stream(struct f8_job *job, uint32_t size)
{
	struct f8_err e = { { 0 } };

	/* An empty stream is the device's to refuse (CMD_OOB): the buffer has a byte anyway. */
	if (f8_be_alloc(job->be, size ? size : 1, &job->cmd, &e)) {
		fprintf(stderr, "f8: command buffer: %s\n", e.msg);
		return NULL;
	}
	job->cmd_size = size;
	return job->cmd.ptr;
}

int f8_job_run(struct f8_job *job, uint64_t max_cycles, struct f8npu_job_result *res)
{
	struct f8_be_job j = { .cmd = &job->cmd, .cmd_size = job->cmd_size, .max_cycles = max_cycles };
	struct f8_err e = { { 0 } };
	unsigned int r;

	for (r = 0; r < F8NPU_REGIONS; r++)
		j.region[r] = job->region[r].ptr ? &job->region[r] : NULL;
	if (f8_be_submit(job->be, &j, res, &e)) {
		fprintf(stderr, "f8: %s\n", e.msg);
		return -1;
	}
	return 0;
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
	unsigned int r;

	if (!job->be)
		return;
	for (r = 0; r < F8NPU_REGIONS; r++)
		f8_be_free(job->be, &job->region[r]);
	f8_be_free(job->be, &job->cmd);
	f8_be_close(job->be);
	job->be = NULL;
}
