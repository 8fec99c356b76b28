// SPDX-License-Identifier: MIT
/*
 * Profiling a compiled program: every descriptor as a job of its own (the descriptor, then
 * END) on the same region buffers, in program order, so that each one's counters are the
 * device's own (measured cycles on the RTL, the cost model on ref) while the tensors flow
 * exactly as in one job. The cost of an empty job (header + END) is measured first and
 * taken off each descriptor's, so the per-descriptor figures add up to one whole job's.
 */
#include <stdlib.h>
#include <string.h>

#include "f8-cc-impl.h"
#include "f8npu_arith.h"

static void perf_sub(struct f8npu_perf *a, const struct f8npu_perf *b)
{
	a->cycles = a->cycles > b->cycles ? a->cycles - b->cycles : 0;
	a->stall_cycles = a->stall_cycles > b->stall_cycles ? a->stall_cycles - b->stall_cycles : 0;
	a->rd_bytes = a->rd_bytes > b->rd_bytes ? a->rd_bytes - b->rd_bytes : 0;
	a->wr_bytes -= a->wr_bytes > b->wr_bytes ? b->wr_bytes : a->wr_bytes;
	a->macs -= a->macs > b->macs ? b->macs : a->macs;
	a->descs -= a->descs > b->descs ? b->descs : a->descs;
}

/* A stream of descriptor @i of @p (or none) followed by END, into @cmd. */
static uint32_t one_desc_stream(const struct f8_cc_prog *p, int64_t i, uint8_t *cmd)
{
	const uint32_t n = i >= 0 ? 2 : 1;
	struct f8npu_cmd_header h;

	memcpy(&h, p->stream, sizeof(h));
	h.desc_count = n;
	memcpy(cmd, &h, sizeof(h));
	memset(cmd + F8NPU_CMD_HEADER_SIZE, 0, (size_t)n * F8NPU_CMD_DESC_SIZE);
	if (i >= 0)
		memcpy(cmd + F8NPU_CMD_HEADER_SIZE,
		       p->stream + F8NPU_CMD_HEADER_SIZE + (size_t)i * F8NPU_CMD_DESC_SIZE,
		       F8NPU_CMD_DESC_SIZE);
	cmd[F8NPU_CMD_HEADER_SIZE + (size_t)(n - 1) * F8NPU_CMD_DESC_SIZE] = F8NPU_OP_END;
	return F8NPU_CMD_HEADER_SIZE + n * F8NPU_CMD_DESC_SIZE;
}

int f8_cc_profile(struct f8_be *be, const struct f8_cc_prog *p, const uint8_t *pixels_hwc,
		  struct f8npu_perf *per_desc, int32_t *logits, struct f8_err *e)
{
	struct f8_cc_session *s;
	struct f8_be_buf cmd;
	struct f8_be_job job;
	struct f8npu_job_result res;
	struct f8npu_perf empty;
	int r, rc;
	int64_t i;
	size_t q;

	if (!be || !p || !pixels_hwc || !per_desc)
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_profile: NULL argument");
	if (!f8_cc_whole(p))
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_profile: a program of the whole model only");
	/* the program's session (weights and biases written once), and a two-descriptor stream */
	rc = f8_cc_session_open(be, p, &s, e);
	if (rc)
		return rc;
	rc = f8_be_alloc(be, F8NPU_CMD_HEADER_SIZE + 2 * F8NPU_CMD_DESC_SIZE, &cmd, e);
	if (rc)
		goto close;
	memcpy(s->reg[F8_CC_R_INPUT].ptr, pixels_hwc,
	       (size_t)p->batch * p->in_h * p->in_w * p->in_c);
	memset(&job, 0, sizeof(job));
	job.cmd = &cmd;
	for (r = 0; r < F8_CC_REGIONS; r++)
		job.region[r] = &s->reg[r];
	/* i = -1: the empty job; then every descriptor but the final END */
	for (i = -1; i < (int64_t)p->ndesc - 1; i++) {
		job.cmd_size = one_desc_stream(p, i, cmd.ptr);
		memset(&res, 0, sizeof(res));
		rc = f8_be_submit(be, &job, &res, e);
		if (rc)
			goto out;
		if (!res.done) {
			rc = f8_fail(e, F8_ERR_IO, "descriptor %lld (%s): device error %s",
				     (long long)i, i >= 0 ? p->info[i].name : "END",
				     f8npu_err_name(res.err));
			goto out;
		}
		if (i < 0) {
			empty = res.perf;
			continue;
		}
		per_desc[i] = res.perf;
		perf_sub(&per_desc[i], &empty);
	}
	per_desc[p->ndesc - 1] = empty; /* END: the header and END's own fetch */
	if (logits)
		for (q = 0; q < (size_t)p->batch * p->classes; q++)
			logits[q] = (int32_t)f8npu_load(s->reg[F8_CC_R_LOGITS].ptr + 4 * q,
							F8NPU_TYPE_S32);
	rc = F8_OK;
out:
	f8_be_free(be, &cmd);
close:
	f8_cc_session_close(s);
	return rc;
}
