// SPDX-License-Identifier: MIT
/*
 * Running a compiled program on a backend (f8-backend.h). A session allocates the stream's
 * buffer and one buffer per region once, and writes the stream, the weights and the
 * biases once; each job then only writes its images and reads its logits. Images beyond
 * the last full batch run in one more job, padded with zero images whose logits are
 * dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "f8-cc-impl.h"
#include "f8npu_arith.h"

void f8_cc_stats_add(struct f8_cc_stats *into, const struct f8_cc_stats *add)
{
	into->jobs += add->jobs;
	into->images += add->images;
	into->cycles += add->cycles;
	into->macs += add->macs;
	into->rd_bytes += add->rd_bytes;
	into->wr_bytes += add->wr_bytes;
	into->stall_cycles += add->stall_cycles;
	into->descs += add->descs;
	into->pred_cycles += add->pred_cycles;
}

void f8_cc_session_close(struct f8_cc_session *s)
{
	int r;

	if (!s)
		return;
	for (r = F8_CC_REGIONS; r-- > 0;)
		if (s->have[r])
			f8_be_free(s->be, &s->reg[r]);
	if (s->have_cmd)
		f8_be_free(s->be, &s->cmd);
	free(s);
}

int f8_cc_session_open(struct f8_be *be, const struct f8_cc_prog *p, struct f8_cc_session **out,
		       struct f8_err *e)
{
	struct f8_cc_session *s;
	int r, rc;

	if (!be || !p || !out)
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_session_open: NULL backend, program or output");
	*out = NULL;
	/* a program compiled for other limits may not run here: refuse rather than fault */
	if (be->caps.regions < F8_CC_REGIONS || (p->caps.ops & ~be->caps.ops) ||
	    (p->caps.types & ~be->caps.types) || p->caps.max_k > be->caps.max_k ||
	    p->caps.max_dim > be->caps.max_dim || p->caps.shift_min < be->caps.shift_min ||
	    p->caps.shift_max > be->caps.shift_max || p->caps.align_max > be->caps.align_max)
		return f8_fail(e, F8_ERR_RANGE,
			       "the program was compiled for a device with other limits than %s's",
			       be->spec);
	s = calloc(1, sizeof(*s));
	if (!s)
		return f8_fail(e, F8_ERR_NOMEM, "session: out of memory");
	s->be = be;
	s->p = p;
	rc = f8_be_alloc(be, p->stream_size, &s->cmd, e);
	if (rc)
		goto out_close;
	s->have_cmd = true;
	memcpy(s->cmd.ptr, p->stream, p->stream_size);
	for (r = 0; r < F8_CC_REGIONS; r++) {
		rc = f8_be_alloc(be, p->region_size[r], &s->reg[r], e);
		if (rc)
			goto out_close;
		s->have[r] = true;
	}
	memcpy(s->reg[F8_CC_R_WEIGHTS].ptr, p->weights, p->region_size[F8_CC_R_WEIGHTS]);
	memcpy(s->reg[F8_CC_R_BIAS].ptr, p->bias, p->region_size[F8_CC_R_BIAS]);
	*out = s;
	return F8_OK;
out_close:
	f8_cc_session_close(s);
	return rc;
}

/*
 * A job's budget (f8-compile.h): the cost model's cycles with a wide margin, since the model
 * and the device may differ in schedule, or F8_JOB_MAX_CYCLES, which must then be a positive
 * decimal number (a typo must not silently give the default).
 */
static int job_budget(const struct f8_cc_prog *p, uint64_t *budget, struct f8_err *e)
{
	const char *env = getenv("F8_JOB_MAX_CYCLES");
	char *end;
	unsigned long long v;

	*budget = F8_CC_JOB_BUDGET(p->cycles);
	if (!env)
		return F8_OK;
	errno = 0;
	v = strtoull(env, &end, 10);
	if (*env < '0' || *env > '9' || *end || !v || errno)
		return f8_fail(e, F8_ERR_RANGE,
			       "F8_JOB_MAX_CYCLES=\"%.40s\": not a cycle count (a decimal number from 1 "
			       "to 2^64 - 1)", env);
	*budget = v;
	return F8_OK;
}

/* Why a job stopped, with the descriptor's node. */
static int job_fail(const struct f8_cc_prog *p, const struct f8npu_job_result *res,
		    uint64_t budget, struct f8_err *e)
{
	if (res->timed_out)
		return f8_fail(e, F8_ERR_IO,
			       "the job ran out of cycles (budget %llu, the cost model's %llu): the "
			       "device hangs or is far slower than predicted",
			       (unsigned long long)budget, (unsigned long long)p->cycles);
	if (res->err_index < p->ndesc)
		return f8_fail(e, F8_ERR_IO, "device error %s at descriptor %u (%s)",
			       f8npu_err_name(res->err), res->err_index, p->info[res->err_index].name);
	return f8_fail(e, F8_ERR_IO, "device error %s (index 0x%x)", f8npu_err_name(res->err),
		       res->err_index);
}

int f8_cc_session_run_io(struct f8_cc_session *s, const void *const *in, void *const *out, int n,
			 struct f8_cc_stats *st, struct f8_err *e)
{
	const struct f8_cc_prog *p;
	struct f8_cc_stats acc;
	uint64_t budget;
	size_t done, q;
	uint32_t j;
	int r, rc;

	if (!s || n < 0 || (n > 0 && (!in || !out)))
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_session_run: NULL session, inputs or outputs");
	p = s->p;
	rc = job_budget(p, &budget, e);
	if (rc)
		return rc;
	memset(&acc, 0, sizeof(acc));
	for (done = 0; done < (size_t)n; done += p->batch) {
		const size_t k = (size_t)n - done < p->batch ? (size_t)n - done : p->batch;
		struct f8_be_job job;
		struct f8npu_job_result res;

		memset(s->reg[F8_CC_R_INPUT].ptr, 0, p->region_size[F8_CC_R_INPUT]);
		for (j = 0; j < p->nin; j++) {
			const struct f8_cc_io *io = &p->in[j];
			uint8_t *dst = s->reg[F8_CC_R_INPUT].ptr + io->offset;

			if (io->type == F8NPU_TYPE_U8) {
				memcpy(dst, (const uint8_t *)in[j] + done * io->image_bytes, k * io->image_bytes);
				continue;
			}
			for (q = 0; q < k * io->image_bytes / 4; q++) /* little-endian int32 */
				f8npu_store(dst + 4 * q, F8NPU_TYPE_S32,
					    ((const int32_t *)in[j])[done * io->image_bytes / 4 + q]);
		}
		memset(&job, 0, sizeof(job));
		job.cmd = &s->cmd;
		job.cmd_size = p->stream_size;
		job.max_cycles = budget;
		for (r = 0; r < F8_CC_REGIONS; r++)
			job.region[r] = &s->reg[r];
		memset(&res, 0, sizeof(res));
		rc = f8_be_submit(s->be, &job, &res, e);
		if (rc)
			return rc;
		if (!res.done)
			return job_fail(p, &res, budget, e);
		for (j = 0; j < p->nout; j++) {
			const struct f8_cc_io *io = &p->out[j];
			const uint8_t *src = s->reg[F8_CC_R_LOGITS].ptr + io->offset;
			int32_t *dst = (int32_t *)out[j] + done * io->image_bytes / 4;

			for (q = 0; q < k * io->image_bytes / 4; q++)
				dst[q] = (int32_t)f8npu_load(src + 4 * q, F8NPU_TYPE_S32);
		}
		acc.jobs++;
		acc.cycles += res.perf.cycles;
		acc.macs += res.perf.macs;
		acc.rd_bytes += res.perf.rd_bytes;
		acc.wr_bytes += res.perf.wr_bytes;
		acc.stall_cycles += res.perf.stall_cycles;
		acc.descs += res.perf.descs;
		acc.pred_cycles += p->cycles;
	}
	acc.images = (uint32_t)n;
	if (st)
		*st = acc;
	return F8_OK;
}

int f8_cc_session_run(struct f8_cc_session *s, const uint8_t *pixels_hwc, int n, int32_t *logits,
		      struct f8_cc_stats *st, struct f8_err *e)
{
	const void *in[1] = { pixels_hwc };
	void *out[1] = { logits };

	if (!s || (n > 0 && (!pixels_hwc || !logits)) || n < 0)
		return f8_fail(e, F8_ERR_MISUSE, "f8_cc_session_run: NULL session, images or logits");
	if (!f8_cc_whole(s->p))
		return f8_fail(e, F8_ERR_MISUSE,
			       "f8_cc_session_run: the program computes nodes %u..%u, not pixels to logits",
			       s->p->first, s->p->last);
	return f8_cc_session_run_io(s, in, out, n, st, e);
}

int f8_cc_run(struct f8_be *be, const struct f8_cc_prog *p, const uint8_t *pixels_hwc, int n,
	      int32_t *logits, struct f8_cc_stats *st, struct f8_err *e)
{
	struct f8_cc_session *s;
	int rc;

	rc = f8_cc_session_open(be, p, &s, e);
	if (rc)
		return rc;
	rc = f8_cc_session_run(s, pixels_hwc, n, logits, st, e);
	f8_cc_session_close(s);
	return rc;
}
