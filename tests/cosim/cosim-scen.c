// SPDX-License-Identifier: MIT
/*
 * How a case drives the pair. Every case starts with SOFT_RESET (and checks
 * the reset values), loads its job, then runs each stream of the job back to
 * back, without reset, through one of these flows:
 *
 * - plain:    raw registers (random IRQ_MASK, TAIL before START), then the
 *             interrupt protocol: mask changes move the line, W1C acknowledges;
 * - prog:     f8npu_prog_run_job(), the programming layer every user goes through;
 * - doorbell: TAIL handed over in steps, compared at every wait (STATUS.WAIT,
 *             HEAD), sometimes rung while a descriptor is in flight, with
 *             writes that a busy device must ignore and PERF_CLEAR mid-job;
 * - reset:    a short cycle budget, SOFT_RESET in the middle of the job (the
 *             registers must be back to reset values; memory written so far may
 *             differ), then memory restored and the whole job run and compared.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cosim.h"

static void flow_note(struct cs_pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void flow_note(struct cs_pair *p, const char *fmt, ...)
{
	size_t len = strlen(p->flow);
	va_list ap;

	if (len + 8 >= sizeof(p->flow))
		return;
	if (len) {
		strcpy(p->flow + len, ", ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(p->flow + len, sizeof(p->flow) - len, fmt, ap);
	va_end(ap);
}

static uint32_t pick_mask(struct cs_rng *r)
{
	uint32_t m;

	if (cs_chance(r, 65))
		return F8NPU_IRQ_ALL;
	m = cs_below(r, 4);
	if (cs_chance(r, 30))
		m |= (uint32_t)cs_rand(r) & ~F8NPU_IRQ_ALL; /* bits 31:2 read as 0 */
	return m;
}

/* Executed-descriptor accounting around one job (the model's PERF_DESCS). */
static uint32_t job_begin(struct cs_pair *p)
{
	return cs_model_reg(p, F8NPU_REG_PERF_DESCS);
}

static void job_end(struct cs_pair *p, uint32_t descs_before)
{
	uint32_t status = cs_model_reg(p, F8NPU_REG_STATUS), code = cs_model_reg(p, F8NPU_REG_ERR_CODE);

	p->st->descs_exec += cs_model_reg(p, F8NPU_REG_PERF_DESCS) - descs_before;
	p->st->jobs++;
	cs_count_outcome(p);
	if (status & F8NPU_STATUS_ERROR)
		flow_note(p, "-> %s at %#x", f8npu_err_name(code), cs_model_reg(p, F8NPU_REG_ERR_INDEX));
	else
		flow_note(p, "-> %s", (status & F8NPU_STATUS_DONE) ? "DONE" : "not done");
}

/* After a job: the line follows IRQ_STATUS & IRQ_MASK; W1C clears only the bits written. */
static void irq_protocol(struct cs_pair *p, struct cs_rng *r, bool ack)
{
	uint32_t st;
	unsigned int k;

	for (k = 0; k < 2 && !p->failed; k++) {
		cs_write(p, F8NPU_REG_IRQ_MASK, pick_mask(r));
		cs_cmp_state(p, "after changing IRQ_MASK at the end of the job");
	}
	if (p->failed)
		return;
	st = cs_read(p, F8NPU_REG_IRQ_STATUS, "IRQ_STATUS at the end of the job");
	cs_write(p, F8NPU_REG_IRQ_STATUS, cs_chance(r, 50) ? ~st : (~st & F8NPU_IRQ_ALL));
	cs_cmp_state(p, "after W1C of bits that are not set");
	if (ack && !p->failed) {
		if (cs_chance(r, 50) && (st & (st - 1))) { /* both set: one at a time */
			cs_write(p, F8NPU_REG_IRQ_STATUS, st & ~(st - 1));
			cs_cmp_state(p, "after acknowledging one IRQ bit");
		}
		cs_write(p, F8NPU_REG_IRQ_STATUS, cs_chance(r, 50) ? st : 0xffffffffu);
		cs_cmp_state(p, "after acknowledging the interrupt");
	}
	p->st->irq_checks++;
}

static void flow_plain(struct cs_pair *p, struct cs_rng *r, unsigned int s, bool ack)
{
	const struct cs_stream *st = &p->job->s[s];
	uint32_t mask = pick_mask(r), before;

	flow_note(p, "stream %u plain (IRQ_MASK %#x, TAIL %u)", s, mask, st->tail);
	cs_write(p, F8NPU_REG_IRQ_MASK, mask);
	cs_program(p, s);
	if (s > 0 && cs_chance(r, 25)) {
		cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
		flow_note(p, "PERF_CLEAR");
		p->st->perf_clears++;
	}
	before = job_begin(p);
	cs_write(p, F8NPU_REG_CMD_TAIL, st->tail);
	cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_START);
	if (!cs_run_idle(p, "running the job"))
		return;
	cs_cmp_state(p, "at the end of the job");
	cs_cmp_mem(p, true, "at the end of the job");
	job_end(p, before);
	if (p->failed)
		return;
	irq_protocol(p, r, ack);
	if (!ack)
		flow_note(p, "IRQ left pending");
}

static void flow_prog(struct cs_pair *p, unsigned int s)
{
	const struct cs_stream *st = &p->job->s[s];
	uint64_t base = cs_stream_base(p, p->job, s);
	struct f8npu_job_result res[2];
	uint32_t before;

	flow_note(p, "stream %u f8npu_prog_run_job (TAIL %u)", s, st->tail);
	cs_program(p, s);
	before = job_begin(p);
	f8npu_prog_run_job(p->side[CS_MODEL].dev, base, st->cmd_size, st->tail, 1ull << 40, &res[0]);
	p->side[CS_MODEL].cycles += res[0].cycles;
	f8npu_prog_run_job(p->side[CS_RTL].dev, base, st->cmd_size, st->tail, cs_hang_budget(p, res[0].cycles),
			   &res[1]);
	p->side[CS_RTL].cycles += res[1].cycles;
	p->st->prog_jobs++;
	if (res[1].timed_out && !res[0].timed_out)
		cs_fail(p, "f8npu_prog_run_job: the RTL timed out after %llu cycles (the model took %llu)",
			(unsigned long long)res[1].cycles, (unsigned long long)res[0].cycles);
	if (res[0].done != res[1].done || res[0].err != res[1].err || res[0].err_index != res[1].err_index ||
	    res[0].timed_out != res[1].timed_out)
		cs_fail(p, "f8npu_prog_run_job: model done %d err %u %s index %#x timed_out %d; rtl done %d err %u %s index %#x timed_out %d",
			res[0].done, res[0].err, f8npu_err_name(res[0].err), res[0].err_index, res[0].timed_out,
			res[1].done, res[1].err, f8npu_err_name(res[1].err), res[1].err_index, res[1].timed_out);
	if (res[0].perf.macs != res[1].perf.macs || res[0].perf.rd_bytes != res[1].perf.rd_bytes ||
	    res[0].perf.wr_bytes != res[1].perf.wr_bytes || res[0].perf.descs != res[1].perf.descs)
		cs_fail(p, "f8npu_prog_run_job counters: model macs %llu rd %llu wr %llu descs %u; rtl macs %llu rd %llu wr %llu descs %u",
			(unsigned long long)res[0].perf.macs, (unsigned long long)res[0].perf.rd_bytes,
			(unsigned long long)res[0].perf.wr_bytes, res[0].perf.descs, (unsigned long long)res[1].perf.macs,
			(unsigned long long)res[1].perf.rd_bytes, (unsigned long long)res[1].perf.wr_bytes,
			res[1].perf.descs);
	cs_cmp_state(p, "after f8npu_prog_run_job");
	cs_cmp_mem(p, true, "after f8npu_prog_run_job");
	job_end(p, before);
}

/* Writes a busy device ignores: region table, CMD_BASE / CMD_SIZE, START. */
static void ignored_writes(struct cs_pair *p, struct cs_rng *r)
{
	unsigned int k, n = 1 + cs_below(r, 4);

	for (k = 0; k < n; k++) {
		uint32_t v = (uint32_t)cs_rand(r);

		switch (cs_below(r, 4)) {
		case 0:
			cs_write(p, F8NPU_REG_REGION_BASE + 4 * cs_below(r, F8NPU_REGIONS * 4), v);
			break;
		case 1:
			cs_write(p, cs_chance(r, 50) ? F8NPU_REG_CMD_BASE_LO : F8NPU_REG_CMD_BASE_HI, v);
			break;
		case 2:
			cs_write(p, F8NPU_REG_CMD_SIZE, v);
			break;
		default:
			cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_START);
			break;
		}
	}
	flow_note(p, "%u ignored writes while busy", n);
	cs_cmp_regs(p, "after register writes while busy (they must be ignored)");
}

static void flow_doorbell(struct cs_pair *p, struct cs_rng *r, unsigned int s)
{
	const struct cs_stream *st = &p->job->s[s];
	uint32_t final = st->tail, count = st->hdr.desc_count < final ? st->hdr.desc_count : final;
	uint32_t t = count ? cs_below(r, count) : 0, mask = pick_mask(r), before;
	unsigned int step;
	char what[96];

	flow_note(p, "stream %u doorbell (IRQ_MASK %#x) TAIL %u", s, mask, t);
	cs_write(p, F8NPU_REG_IRQ_MASK, mask);
	cs_program(p, s);
	before = job_begin(p);
	cs_write(p, F8NPU_REG_CMD_TAIL, t);
	cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_START);
	for (step = 0; step < 8 && !p->failed; step++) {
		if (cs_chance(r, 65)) {
			if (!cs_run_idle(p, "waiting for the doorbell"))
				return;
			snprintf(what, sizeof(what), "idle with TAIL %u", t);
			cs_cmp_state(p, what);
			if (p->failed)
				return;
			if ((cs_model_reg(p, F8NPU_REG_STATUS) & F8NPU_STATUS_BUSY) && cs_chance(r, 30))
				ignored_writes(p, r);
			if (cs_chance(r, 10)) { /* counters restart from 0 in the middle of the job */
				cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
				cs_cmp_state(p, "after PERF_CLEAR while waiting for the doorbell");
				flow_note(p, "PERF_CLEAR");
				p->st->perf_clears++;
				before = job_begin(p);
			}
		} else {
			uint64_t b = 1 + cs_below(r, 3000), budget[2] = { b, b };

			cs_run_budget(p, budget); /* the next doorbell may land mid-descriptor */
			flow_note(p, "ran %llu cycles", (unsigned long long)b);
		}
		if (t >= final)
			break;
		t += 1 + cs_below(r, final - t);
		cs_write(p, F8NPU_REG_CMD_TAIL, t);
		flow_note(p, "TAIL %u", t);
		p->st->doorbells++;
	}
	if (p->failed)
		return;
	if (t < final) {
		cs_write(p, F8NPU_REG_CMD_TAIL, final);
		flow_note(p, "TAIL %u", final);
	}
	if (!cs_run_idle(p, "running the job after the last doorbell"))
		return;
	cs_cmp_state(p, "at the end of the job");
	cs_cmp_mem(p, true, "at the end of the job");
	job_end(p, before);
	if (p->failed)
		return;
	irq_protocol(p, r, true);
}

static void flow_reset(struct cs_pair *p, struct cs_rng *r, unsigned int s, bool ack)
{
	const struct cs_stream *st = &p->job->s[s];
	uint32_t tail = cs_chance(r, 75) ? st->tail : cs_below(r, st->tail + 1);
	uint64_t b = 1 + cs_below(r, (uint32_t)(p->job->est_cycles < 100000 ? p->job->est_cycles : 100000) + 1);
	uint64_t budget[2] = { b, b };

	flow_note(p, "stream %u TAIL %u, %llu cycles, then SOFT_RESET", s, tail, (unsigned long long)b);
	cs_write(p, F8NPU_REG_IRQ_MASK, pick_mask(r));
	cs_program(p, s);
	cs_write(p, F8NPU_REG_CMD_TAIL, tail);
	cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_START);
	cs_run_budget(p, budget);
	if (cs_chance(r, 30)) {
		cs_write(p, F8NPU_REG_CMD_TAIL, st->tail);
		cs_run_budget(p, budget);
		flow_note(p, "(TAIL %u and %llu more cycles first)", st->tail, (unsigned long long)b);
	}
	cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
	p->st->soft_resets++;
	cs_cmp_regs(p, "after SOFT_RESET in the middle of a job");
	cs_cmp_state(p, "after SOFT_RESET in the middle of a job");
	if (p->failed)
		return;
	/* Memory written so far may differ: start again from the job's initial memory. */
	cs_pair_restore(p);
	flow_note(p, "memory restored");
	if (cs_chance(r, 50))
		flow_plain(p, r, s, ack);
	else
		flow_prog(p, s);
}

bool cs_run_case(struct cs_pair *p, uint32_t idx)
{
	const struct cs_opts *o = p->opt;
	struct cs_gen_cfg gc = { .rows = p->rows, .cols = p->cols, .max_desc_cycles = o->max_desc_cycles };
	struct cs_job *job = calloc(1, sizeof(*job));
	bool single = idx < o->cases;
	unsigned int nstreams = 1, ncompute = 1, s;
	struct cs_rng r;

	if (!job)
		abort();
	cs_rng_case(&r, o->seed, idx);
	if (!single) {
		nstreams = cs_chance(&r, 30) ? 2 + cs_below(&r, 2) : 1;
		ncompute = 2 + cs_below(&r, 7);
	} else if (cs_chance(&r, 2)) { /* now and then a layer larger than the on-chip buffers */
		gc.big = true;
		gc.max_desc_cycles *= 6;
	}
	cs_gen_job(&r, &gc, nstreams, ncompute, job);
	/* One case in five is a fault; the codes take turns so that a short run hits all. */
	if (idx % 5 == 4) {
		job->fault = 1 + (int)((idx / 5) % (F8NPU_ERR_COUNT_ - 1));
		job->fault_stream = (int)cs_below(&r, nstreams);
		cs_fault_apply(&r, job, job->fault);
		if (cs_chance(&r, 12)) { /* two faults: the validation order decides */
			job->fault_double = true;
			cs_fault_apply(&r, job, 1 + (int)cs_below(&r, F8NPU_ERR_COUNT_ - 1));
		}
		p->st->fault_cases++;
	}
	cs_job_seal(&r, job);

	p->case_idx = idx;
	p->case_kind = single ? (gc.big ? "single large descriptor" : "single descriptor")
			      : nstreams > 1 ? "streams back to back" : "stream";
	p->job = job;
	p->failed = false;
	p->reported = false;
	p->cur_stream = -1;
	p->flow[0] = '\0';

	/* Every case starts from reset, which also checks the reset values of every register. */
	cs_write(p, F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
	cs_pair_load(p, job);
	cs_cmp_regs(p, "after SOFT_RESET at the start of the case");
	cs_cmp_state(p, "after SOFT_RESET at the start of the case");

	for (s = 0; s < nstreams && !p->failed; s++) {
		uint32_t k = cs_below(&r, 100);
		bool ack = s + 1 == nstreams || cs_chance(&r, 70);

		if (k < (single ? 50u : 30u))
			flow_plain(p, &r, s, ack);
		else if (k < (single ? 80u : 50u))
			flow_prog(p, s);
		else if (k < (single ? 92u : 80u))
			flow_doorbell(p, &r, s);
		else
			flow_reset(p, &r, s, ack);
	}

	p->st->cases++;
	if (single)
		p->st->singles++;
	else
		p->st->streams++;
	p->st->b2b += nstreams - 1;
	for (s = 0; s < nstreams; s++) {
		struct f8npu_model_config mc = { .rows = p->rows, .cols = p->cols };
		uint32_t i;

		p->st->descs_gen += job->s[s].ndesc;
		for (i = 0; i < job->s[s].ndesc; i++) {
			const struct f8npu_desc *d = &job->s[s].d[i];

			if (f8npu_model_conv_pack(&mc, d))
				p->st->conv_pack++;
			if (f8npu_model_conv_gi(&mc, d))
				p->st->conv_gi++;
			if (d->opcode != F8NPU_OP_CONV2D || !(d->flags & F8NPU_FLAG_DEPTHWISE))
				continue;
			if (f8npu_model_dw_fast(&mc, d))
				p->st->dw_fast++;
			else
				p->st->dw_slow++;
		}
	}
	if (o->verbose) {
		printf("cosim: case %u (%s%s%s): %s: %s\n", idx, p->case_kind, job->fault ? ", fault " : "",
		       job->fault ? f8npu_err_name((uint32_t)job->fault) : "", p->failed ? "MISMATCH" : "ok", p->flow);
		if (o->only >= 0 && !p->reported)
			cs_print_job(stdout, p, job);
	}
	if (p->failed && o->dump_dir)
		cs_dump_case(p, o->dump_dir);
	cs_job_free(job);
	free(job);
	p->job = NULL;
	return !p->failed;
}
