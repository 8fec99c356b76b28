// SPDX-License-Identifier: MIT
/*
 * The device pair: the functional model and the RTL, each with its own host
 * memory holding the same bytes at the same device addresses. Every register
 * access goes to both in the same order; comparisons cover registers, the
 * interrupt line, the architectural counters and every byte of memory, and a
 * difference is reported with the case, the descriptors and the location.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cosim-rtl.h"
#include "cosim.h"

#define CS_RTL_SLICE (1ull << 20)

/* ---- register names ---- */

static const struct {
	uint32_t off;
	const char *name;
} reg_names[] = {
	{ F8NPU_REG_ID, "ID" },
	{ F8NPU_REG_HW_VERSION, "HW_VERSION" },
	{ F8NPU_REG_CMD_VERSION, "CMD_VERSION" },
	{ F8NPU_REG_IMPL, "IMPL" },
	{ F8NPU_REG_CAP_ARRAY, "CAP_ARRAY" },
	{ F8NPU_REG_CAP_OPS, "CAP_OPS" },
	{ F8NPU_REG_CAP_REGIONS, "CAP_REGIONS" },
	{ F8NPU_REG_CAP_IBUF, "CAP_IBUF" },
	{ F8NPU_REG_CAP_WBUF, "CAP_WBUF" },
	{ F8NPU_REG_CAP_ABUF, "CAP_ABUF" },
	{ F8NPU_REG_CAP_MAX_DIM, "CAP_MAX_DIM" },
	{ F8NPU_REG_CAP_MAX_K, "CAP_MAX_K" },
	{ F8NPU_REG_CAP_SHIFT, "CAP_SHIFT" },
	{ F8NPU_REG_CAP_TYPES, "CAP_TYPES" },
	{ F8NPU_REG_CTRL, "CTRL" },
	{ F8NPU_REG_STATUS, "STATUS" },
	{ F8NPU_REG_ERR_CODE, "ERR_CODE" },
	{ F8NPU_REG_ERR_INDEX, "ERR_INDEX" },
	{ F8NPU_REG_IRQ_STATUS, "IRQ_STATUS" },
	{ F8NPU_REG_IRQ_MASK, "IRQ_MASK" },
	{ F8NPU_REG_CMD_BASE_LO, "CMD_BASE_LO" },
	{ F8NPU_REG_CMD_BASE_HI, "CMD_BASE_HI" },
	{ F8NPU_REG_CMD_SIZE, "CMD_SIZE" },
	{ F8NPU_REG_CMD_HEAD, "CMD_HEAD" },
	{ F8NPU_REG_CMD_TAIL, "CMD_TAIL" },
	{ F8NPU_REG_PERF_CYCLES_LO, "PERF_CYCLES_LO" },
	{ F8NPU_REG_PERF_CYCLES_HI, "PERF_CYCLES_HI" },
	{ F8NPU_REG_PERF_MACS_LO, "PERF_MACS_LO" },
	{ F8NPU_REG_PERF_MACS_HI, "PERF_MACS_HI" },
	{ F8NPU_REG_PERF_RD_LO, "PERF_RD_LO" },
	{ F8NPU_REG_PERF_RD_HI, "PERF_RD_HI" },
	{ F8NPU_REG_PERF_WR_LO, "PERF_WR_LO" },
	{ F8NPU_REG_PERF_WR_HI, "PERF_WR_HI" },
	{ F8NPU_REG_PERF_STALL_LO, "PERF_STALL_LO" },
	{ F8NPU_REG_PERF_STALL_HI, "PERF_STALL_HI" },
	{ F8NPU_REG_PERF_DESCS, "PERF_DESCS" },
};

static const char *reg_name(uint32_t off, char *buf, size_t n)
{
	static const char *const sub[] = { "BASE_LO", "BASE_HI", "SIZE_LO", "SIZE_HI" };
	size_t i;

	for (i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++)
		if (reg_names[i].off == off)
			return reg_names[i].name;
	if (off >= F8NPU_REG_REGION_BASE && off < F8NPU_REG_REGION_BASE + F8NPU_REGIONS * F8NPU_REG_REGION_STRIDE) {
		snprintf(buf, n, "REGION_%s(%u)", sub[(off & 0xc) >> 2],
			 (off - F8NPU_REG_REGION_BASE) / F8NPU_REG_REGION_STRIDE);
		return buf;
	}
	snprintf(buf, n, "reg 0x%03x", off);
	return buf;
}

static const char *status_str(uint32_t v, char *buf, size_t n)
{
	snprintf(buf, n, "%#x%s%s%s%s", v, (v & F8NPU_STATUS_BUSY) ? " BUSY" : "", (v & F8NPU_STATUS_WAIT) ? " WAIT" : "",
		 (v & F8NPU_STATUS_DONE) ? " DONE" : "", (v & F8NPU_STATUS_ERROR) ? " ERROR" : "");
	return buf;
}

/* ---- the pair ---- */

/* The host buffers, and the top page, which ends at 2^64: a stream there can have a descriptor
 * whose range passes 2^64 (docs/isa.md §1); no range the device is given may wrap. */
static uint8_t *side_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	struct cs_side *sd = user;

	if (sd->top_on && addr >= 0 - (uint64_t)CS_TOP_PAGE && len <= 0 - addr)
		return sd->top + (addr - (0 - (uint64_t)CS_TOP_PAGE));
	return f8npu_hostmem_port(&sd->hm).map(&sd->hm, addr, len, write);
}

/* The top page of both sides: zero, with the streams that live there. */
static void load_top(struct cs_pair *p)
{
	const struct cs_job *job = p->job;
	unsigned int s;
	int i;

	for (i = 0; i < 2; i++) {
		memset(p->side[i].top, 0, CS_TOP_PAGE);
		p->side[i].top_on = false;
		for (s = 0; s < job->nstreams; s++) {
			const struct cs_stream *st = &job->s[s];
			uint64_t n = st->top < st->stored ? st->top : st->stored, size = job->buf_size[st->buf];

			if (!st->top || !st->top_backed || st->top > CS_TOP_PAGE || st->off >= size)
				continue;
			if (n > size - st->off)
				n = size - st->off;
			memcpy(p->side[i].top + CS_TOP_PAGE - st->top, job->image[st->buf] + st->off, n);
			p->side[i].top_on = true;
		}
	}
}

int cs_pair_init(struct cs_pair *p, const struct cs_opts *opt, struct cs_stats *st)
{
	struct f8npu_rtl_config rc;
	struct f8npu_model_config mc;
	struct f8npu_dev *rtl;

	memset(p, 0, sizeof(*p));
	p->opt = opt;
	p->st = st;
	p->cur_stream = -1;
	p->rows = f8npu_rtl_rows();
	p->cols = f8npu_rtl_cols();
	snprintf(p->cfg_name, sizeof(p->cfg_name), "r%uc%u", p->rows, p->cols);
	p->side[CS_MODEL].name = "model";
	p->side[CS_RTL].name = "rtl";
	f8npu_hostmem_init(&p->side[CS_MODEL].hm);
	f8npu_hostmem_init(&p->side[CS_RTL].hm);
	p->side[CS_MODEL].port = (struct f8npu_mem){ side_map, &p->side[CS_MODEL] };
	p->side[CS_RTL].port = (struct f8npu_mem){ side_map, &p->side[CS_RTL] };

	f8npu_rtl_default_config(&rc);
	rc.vcd_path = opt->vcd;
	rtl = f8npu_rtl_create(&rc, &p->side[CS_RTL].port);
	if (!rtl) {
		fprintf(stderr, "f8-cosim: f8npu_rtl_create failed\n");
		return -1;
	}
	p->side[CS_RTL].dev = rtl;
	if (f8npu_prog_check_id(rtl)) {
		fprintf(stderr, "f8-cosim: the RTL does not identify as an f8npu 1.x (ID %#x, HW_VERSION %#x)\n",
			f8npu_dev_read(rtl, F8NPU_REG_ID), f8npu_dev_read(rtl, F8NPU_REG_HW_VERSION));
		return -1;
	}
	/* The model reports what the RTL was built with and times with the same memory model. */
	f8npu_model_default_config(&mc);
	mc.rows = p->rows;
	mc.cols = p->cols;
	mc.ibuf_bytes = f8npu_dev_read(rtl, F8NPU_REG_CAP_IBUF);
	mc.wbuf_bytes = f8npu_dev_read(rtl, F8NPU_REG_CAP_WBUF);
	mc.abuf_bytes = f8npu_dev_read(rtl, F8NPU_REG_CAP_ABUF);
	mc.dram_bytes_per_cycle = rc.dram_bytes_per_cycle ? rc.dram_bytes_per_cycle : 16;
	mc.dram_latency = rc.dram_latency;
	p->side[CS_MODEL].dev = f8npu_model_create(&mc, &p->side[CS_MODEL].port);
	if (!p->side[CS_MODEL].dev) {
		fprintf(stderr, "f8-cosim: f8npu_model_create failed\n");
		return -1;
	}
	return 0;
}

void cs_pair_fini(struct cs_pair *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		f8npu_dev_destroy(p->side[i].dev);
		p->side[i].dev = NULL;
		f8npu_hostmem_free(&p->side[i].hm);
	}
}

void cs_pair_load(struct cs_pair *p, struct cs_job *job)
{
	unsigned int b;
	int i;

	p->job = job;
	for (i = 0; i < 2; i++) {
		struct f8npu_hostmem *hm = &p->side[i].hm;

		f8npu_hostmem_free(hm);
		f8npu_hostmem_init(hm);
		for (b = 0; b < job->nbufs; b++) {
			uint8_t *data = f8npu_hostmem_alloc(hm, job->buf_size[b], NULL);

			if (!data) {
				fprintf(stderr, "f8-cosim: out of host memory\n");
				exit(2);
			}
			memcpy(data, job->image[b], job->buf_size[b]);
		}
	}
	load_top(p);
	for (b = 0; b < job->nbufs; b++)
		if (p->side[0].hm.bufs[b].addr != p->side[1].hm.bufs[b].addr) {
			fprintf(stderr, "f8-cosim: the two host memories differ in layout\n");
			exit(2);
		}
}

void cs_pair_restore(struct cs_pair *p)
{
	unsigned int b;
	int i;

	for (i = 0; i < 2; i++)
		for (b = 0; b < p->job->nbufs; b++)
			memcpy(p->side[i].hm.bufs[b].data, p->job->image[b], p->job->buf_size[b]);
	load_top(p);
}

uint64_t cs_buf_addr(const struct cs_pair *p, int b)
{
	return p->side[CS_MODEL].hm.bufs[b].addr;
}

uint64_t cs_region_base(const struct cs_pair *p, const struct cs_job *job, unsigned int r)
{
	const struct cs_region *reg = &job->reg[r];

	return reg->buf < 0 ? reg->abs : cs_buf_addr(p, reg->buf) + reg->off;
}

uint64_t cs_stream_base(const struct cs_pair *p, const struct cs_job *job, unsigned int s)
{
	if (job->s[s].top)
		return 0 - (uint64_t)job->s[s].top;
	return cs_buf_addr(p, job->s[s].buf) + job->s[s].off;
}

uint32_t cs_model_reg(struct cs_pair *p, uint32_t off)
{
	return f8npu_dev_read(p->side[CS_MODEL].dev, off);
}

void cs_write(struct cs_pair *p, uint32_t off, uint32_t val)
{
	f8npu_dev_write(p->side[CS_MODEL].dev, off, val);
	f8npu_dev_write(p->side[CS_RTL].dev, off, val);
}

uint32_t cs_read(struct cs_pair *p, uint32_t off, const char *what)
{
	uint32_t m = f8npu_dev_read(p->side[CS_MODEL].dev, off), r = f8npu_dev_read(p->side[CS_RTL].dev, off);
	char nb[32];

	if (m != r)
		cs_fail(p, "%s: %s model %#x rtl %#x", what, reg_name(off, nb, sizeof(nb)), m, r);
	return m;
}

void cs_program(struct cs_pair *p, unsigned int s)
{
	const struct cs_job *job = p->job;
	uint64_t base = cs_stream_base(p, job, s);
	unsigned int r;

	for (r = 0; r < F8NPU_REGIONS; r++) {
		uint64_t rb = job->reg[r].on ? cs_region_base(p, job, r) : 0;
		uint64_t rs = job->reg[r].on ? job->reg[r].size : 0;

		cs_write(p, F8NPU_REG_REGION_BASE_LO(r), (uint32_t)rb);
		cs_write(p, F8NPU_REG_REGION_BASE_HI(r), (uint32_t)(rb >> 32));
		cs_write(p, F8NPU_REG_REGION_SIZE_LO(r), (uint32_t)rs);
		cs_write(p, F8NPU_REG_REGION_SIZE_HI(r), (uint32_t)(rs >> 32));
	}
	cs_write(p, F8NPU_REG_CMD_BASE_LO, (uint32_t)base);
	cs_write(p, F8NPU_REG_CMD_BASE_HI, (uint32_t)(base >> 32));
	cs_write(p, F8NPU_REG_CMD_SIZE, job->s[s].cmd_size);
	p->cur_stream = (int)s;
}

/* ---- running ---- */

uint64_t cs_hang_budget(const struct cs_pair *p, uint64_t model_cycles)
{
	/* Generous against the cost model, yet a hung RTL costs seconds, not minutes. */
	return 100000 + 16 * (model_cycles + (p->job ? p->job->est_cycles : 0));
}

bool cs_run_idle(struct cs_pair *p, const char *what)
{
	struct f8npu_dev *rtl = p->side[CS_RTL].dev;
	uint64_t c = 0, mc = 0, spent = 0, budget;
	unsigned int stuck = 0;

	f8npu_dev_run(p->side[CS_MODEL].dev, UINT64_MAX, &mc);
	p->side[CS_MODEL].cycles += mc;
	budget = cs_hang_budget(p, mc);
	for (;;) {
		enum f8npu_run_result res = f8npu_dev_run(rtl, CS_RTL_SLICE, &c);

		spent += c;
		if (res == F8NPU_RUN_IDLE)
			break;
		stuck = c ? 0 : stuck + 1;
		if (spent >= budget || stuck > 1000) {
			char sb[64];

			p->side[CS_RTL].cycles += spent;
			cs_fail(p, "%s: the RTL is still busy after %" PRIu64 " cycles (the model took %" PRIu64
				   "): STATUS %s, HEAD %u",
				what, spent, mc, status_str(f8npu_dev_read(rtl, F8NPU_REG_STATUS), sb, sizeof(sb)),
				f8npu_dev_read(rtl, F8NPU_REG_CMD_HEAD));
			return false;
		}
	}
	p->side[CS_RTL].cycles += spent;
	return true;
}

void cs_run_budget(struct cs_pair *p, const uint64_t budget[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		uint64_t c = 0;

		f8npu_dev_run(p->side[i].dev, budget[i], &c);
		p->side[i].cycles += c;
	}
}

/* ---- comparing ---- */

static const uint32_t state_regs[] = {
	F8NPU_REG_STATUS,	 F8NPU_REG_ERR_CODE,	 F8NPU_REG_ERR_INDEX,	F8NPU_REG_CMD_HEAD,
	F8NPU_REG_CMD_TAIL,	 F8NPU_REG_IRQ_STATUS,	 F8NPU_REG_IRQ_MASK,	F8NPU_REG_PERF_MACS_LO,
	F8NPU_REG_PERF_MACS_HI,	 F8NPU_REG_PERF_RD_LO,	 F8NPU_REG_PERF_RD_HI,	F8NPU_REG_PERF_WR_LO,
	F8NPU_REG_PERF_WR_HI,	 F8NPU_REG_PERF_DESCS,
};
#define N_STATE (sizeof(state_regs) / sizeof(state_regs[0]))

static uint64_t read64(struct f8npu_dev *dev, uint32_t lo)
{
	uint64_t v = f8npu_dev_read(dev, lo);

	return v | (uint64_t)f8npu_dev_read(dev, lo + 4) << 32;
}

void cs_cmp_state(struct cs_pair *p, const char *what)
{
	uint32_t v[2][N_STATE];
	bool line[2], differ = false;
	size_t i;
	int s;
	uint64_t cyc, stall;

	for (s = 0; s < 2; s++) {
		for (i = 0; i < N_STATE; i++)
			v[s][i] = f8npu_dev_read(p->side[s].dev, state_regs[i]);
		line[s] = f8npu_dev_irq(p->side[s].dev);
	}
	for (i = 0; i < N_STATE; i++)
		differ |= v[0][i] != v[1][i];
	differ |= line[0] != line[1];
	if (differ) {
		char nb[32], b0[64], b1[64];

		cs_fail(p, "%s: registers differ:", what);
		for (i = 0; i < N_STATE; i++) {
			if (state_regs[i] == F8NPU_REG_STATUS)
				printf("  %-16s model %-24s rtl %-24s%s\n", "STATUS", status_str(v[0][i], b0, sizeof(b0)),
				       status_str(v[1][i], b1, sizeof(b1)), v[0][i] != v[1][i] ? "  <<<" : "");
			else if (state_regs[i] == F8NPU_REG_ERR_CODE)
				printf("  %-16s model %2u %-21s rtl %2u %-21s%s\n", "ERR_CODE", v[0][i],
				       f8npu_err_name(v[0][i]), v[1][i], f8npu_err_name(v[1][i]),
				       v[0][i] != v[1][i] ? "  <<<" : "");
			else
				printf("  %-16s model %-#24x rtl %-#24x%s\n", reg_name(state_regs[i], nb, sizeof(nb)),
				       v[0][i], v[1][i], v[0][i] != v[1][i] ? "  <<<" : "");
		}
		printf("  %-16s model %-24d rtl %-24d%s\n", "irq line", line[0], line[1],
		       line[0] != line[1] ? "  <<<" : "");
	}
	/* Timing counters are not compared, but stall cycles are a part of the cycles. */
	cyc = read64(p->side[CS_RTL].dev, F8NPU_REG_PERF_CYCLES_LO);
	stall = read64(p->side[CS_RTL].dev, F8NPU_REG_PERF_STALL_LO);
	if (stall > cyc)
		cs_fail(p, "%s: RTL PERF_STALL %" PRIu64 " > PERF_CYCLES %" PRIu64, what, stall, cyc);
}

void cs_cmp_regs(struct cs_pair *p, const char *what)
{
	static const uint32_t extra[] = { 0x200, 0x204, 0x3fc, 0x400, 0x800, 0xffc };
	uint32_t off, reported = 0;
	size_t i;

	for (i = 0; i < 128 + sizeof(extra) / sizeof(extra[0]); i++) {
		uint32_t m, r;

		off = i < 128 ? (uint32_t)i * 4 : extra[i - 128];
		if (off == F8NPU_REG_IMPL || off == F8NPU_REG_PERF_CYCLES_LO || off == F8NPU_REG_PERF_CYCLES_HI ||
		    off == F8NPU_REG_PERF_STALL_LO || off == F8NPU_REG_PERF_STALL_HI)
			continue;
		m = f8npu_dev_read(p->side[CS_MODEL].dev, off);
		r = f8npu_dev_read(p->side[CS_RTL].dev, off);
		if (m != r && reported++ < 24) {
			char nb[32];

			cs_fail(p, "%s: %s model %#x rtl %#x", what, reg_name(off, nb, sizeof(nb)), m, r);
		}
	}
	if (f8npu_dev_irq(p->side[CS_MODEL].dev) != f8npu_dev_irq(p->side[CS_RTL].dev))
		cs_fail(p, "%s: irq line model %d rtl %d", what, f8npu_dev_irq(p->side[CS_MODEL].dev),
			f8npu_dev_irq(p->side[CS_RTL].dev));
}

/* Does @a hit element bytes of @t (region base @base)? Writes "(i,y,x,k) byte b" to @buf. */
static bool locate_elem(const struct f8npu_tensor_ref *t, uint64_t base, uint64_t a, char *buf, size_t n)
{
	uint32_t es = f8npu_type_size(t->type), i, y, x;

	if (!es || a < base + t->offset || a >= base + t->offset + cs_extent(t))
		return false;
	for (i = 0; i < t->n; i++)
		for (y = 0; y < t->h; y++)
			for (x = 0; x < t->w; x++) {
				uint64_t px = base + t->offset + (uint64_t)i * t->stride_n +
					      (uint64_t)y * t->stride_h + (uint64_t)x * t->stride_w;

				if (a >= px && a < px + (uint64_t)t->c * es) {
					snprintf(buf, n, "element (%u,%u,%u,%u) byte %u", i, y, x,
						 (uint32_t)((a - px) / es), (uint32_t)((a - px) % es));
					return true;
				}
			}
	snprintf(buf, n, "inside its footprint, between elements");
	return true;
}

/* Where device address @a is: buffer, regions, and the operands whose footprints cover it. */
static void describe_addr(const struct cs_pair *p, uint64_t a)
{
	const struct cs_job *job = p->job;
	static const char *const tn[4] = { "src", "aux", "dst[0]", "dst[1]" };
	unsigned int r, s, k, n = 0;

	for (r = 0; r < F8NPU_REGIONS; r++) {
		uint64_t b;

		if (!job->reg[r].on)
			continue;
		b = cs_region_base(p, job, r);
		if (a >= b && a - b < job->reg[r].size)
			printf("      in region %u at offset %#" PRIx64 "\n", r, a - b);
	}
	for (s = 0; s < job->nstreams; s++)
		for (k = 0; k < job->s[s].ndesc && n < 6; k++) {
			const struct f8npu_desc *d = &job->s[s].d[k];
			const struct f8npu_tensor_ref *t[4] = { &d->src, &d->aux, &d->dst[0], &d->dst[1] };
			unsigned int j;

			if (d->opcode < F8NPU_OP_CONV2D || d->opcode > F8NPU_OP_ADD)
				continue;
			for (j = 0; j < 4; j++) {
				char eb[96];

				if ((j == 1 && !(d->flags & F8NPU_FLAG_AUX)) || (j == 3 && !(d->flags & F8NPU_FLAG_DST1)) ||
				    t[j]->region >= F8NPU_REGIONS || !job->reg[t[j]->region].on)
					continue;
				if (locate_elem(t[j], cs_region_base(p, job, t[j]->region), a, eb, sizeof(eb))) {
					printf("      stream %u desc %u %s: %s\n", s, k, tn[j], eb);
					n++;
				}
			}
		}
}

void cs_cmp_mem(struct cs_pair *p, bool bus_excl, const char *what)
{
	const struct cs_job *job = p->job;
	uint64_t ex_lo[2] = { 0 }, ex_hi[2] = { 0 };
	unsigned int nex = 0, b, shown = 0;

	if (bus_excl && p->cur_stream >= 0 &&
	    (cs_model_reg(p, F8NPU_REG_STATUS) & F8NPU_STATUS_ERROR) &&
	    cs_model_reg(p, F8NPU_REG_ERR_CODE) == F8NPU_ERR_BUS) {
		const struct cs_stream *s = &job->s[p->cur_stream];
		uint32_t idx = cs_model_reg(p, F8NPU_REG_ERR_INDEX);

		/* Only an operand fault: the descriptor itself was fetched. */
		if (idx < s->ndesc &&
		    s->off + F8NPU_CMD_HEADER_SIZE + (uint64_t)(idx + 1) * F8NPU_CMD_DESC_SIZE <= job->buf_size[s->buf]) {
			const struct f8npu_desc *d = &s->d[idx];
			int k;

			for (k = 0; k < ((d->flags & F8NPU_FLAG_DST1) ? 2 : 1); k++) {
				const struct f8npu_tensor_ref *t = &d->dst[k];

				if (t->region >= F8NPU_REGIONS || !job->reg[t->region].on)
					continue;
				ex_lo[nex] = cs_region_base(p, job, t->region) + t->offset;
				ex_hi[nex] = ex_lo[nex] + cs_extent(t);
				nex++;
			}
		}
	}
	for (b = 0; b < job->nbufs; b++) {
		const struct f8npu_hostmem_buf *mb = &p->side[CS_MODEL].hm.bufs[b], *rb = &p->side[CS_RTL].hm.bufs[b];
		uint64_t i, ndiff = 0, first = 0;

		if (!memcmp(mb->data, rb->data, mb->size))
			continue;
		for (i = 0; i < mb->size; i++) {
			uint64_t a = mb->addr + i;
			unsigned int e;
			bool excluded = false;

			if (mb->data[i] == rb->data[i])
				continue;
			for (e = 0; e < nex; e++)
				excluded |= a >= ex_lo[e] && a < ex_hi[e];
			if (excluded)
				continue;
			if (ndiff++ == 0)
				first = i;
			if (shown < 8) {
				if (shown == 0)
					cs_fail(p, "%s: memory differs", what);
				printf("    buffer %u (%#" PRIx64 ") +%#" PRIx64 ": model %#04x rtl %#04x\n", b, mb->addr,
				       i, mb->data[i], rb->data[i]);
				describe_addr(p, a);
				shown++;
			}
		}
		if (ndiff)
			printf("    buffer %u: %" PRIu64 " of %" PRIu64 " bytes differ, first at +%#" PRIx64 "%s\n", b,
			       ndiff, mb->size, first, nex ? " (faulting descriptor's outputs excluded)" : "");
	}
	/* The excluded bytes may differ; later jobs of the case may read them: make them equal. */
	for (b = 0; b < job->nbufs && nex; b++) {
		const struct f8npu_hostmem_buf *mb = &p->side[CS_MODEL].hm.bufs[b], *rb = &p->side[CS_RTL].hm.bufs[b];
		unsigned int e;

		for (e = 0; e < nex; e++) {
			uint64_t lo = ex_lo[e] > mb->addr ? ex_lo[e] : mb->addr;
			uint64_t hi = ex_hi[e] < mb->addr + mb->size ? ex_hi[e] : mb->addr + mb->size;

			if (lo < hi)
				memcpy(rb->data + (lo - mb->addr), mb->data + (lo - mb->addr), hi - lo);
		}
	}
}

/* ---- reporting ---- */

static void print_case_header(struct cs_pair *p)
{
	const struct cs_opts *o = p->opt;

	printf("==== MISMATCH %s case %u (%s) ====\n", p->cfg_name, p->case_idx, p->case_kind);
	printf("replay: %s --seed %" PRIu64 " --cases %u --streams %u --case %u [--verbose] [--vcd case%u.vcd]\n",
	       o->argv0, o->seed, o->cases, o->streams, p->case_idx, p->case_idx);
	if (p->job && p->job->fault)
		printf("fault: %s intended: %s\n", f8npu_err_name((uint32_t)p->job->fault), p->job->fault_what);
	printf("flow: %s\n", p->flow);
	if (p->job)
		cs_print_job(stdout, p, p->job);
	printf("---- differences (stream %d) ----\n", p->cur_stream);
}

void cs_fail(struct cs_pair *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->failed) {
		p->failed = true;
		p->st->mismatches++;
	}
	if (!p->reported) {
		p->reported = true;
		print_case_header(p);
	}
	printf("  ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static const char *op_name(uint8_t op)
{
	static const char *const names[] = { "?0", "END", "CONV2D", "POOL_MAX", "POOL_SUM", "ADD" };

	return op < 6 ? names[op] : "?";
}

static void print_tensor(FILE *f, const char *name, const struct f8npu_tensor_ref *t)
{
	static const char *const types[] = { "u8", "s8", "s32" };

	fprintf(f, "      %-7s r%-2u %-3s off %#-8x [%u][%u][%u][%u] strides n %u h %u w %u (extent %" PRIu64 ")\n",
		name, t->region, t->type < 3 ? types[t->type] : "??", t->offset, t->n, t->h, t->w, t->c, t->stride_n,
		t->stride_h, t->stride_w, cs_extent(t));
	if (t->reserved0 || t->reserved1)
		fprintf(f, "              reserved0 %#x reserved1 %#x\n", t->reserved0, t->reserved1);
}

void cs_print_desc(FILE *f, uint32_t idx, const struct f8npu_desc *d)
{
	const uint8_t *raw = (const uint8_t *)d;
	unsigned int i, nzr = 0;

	fprintf(f, "    [%u] %s (%u) flags %#x%s%s%s%s%s\n", idx, op_name(d->opcode), d->opcode, d->flags,
		(d->flags & F8NPU_FLAG_BIAS) ? " BIAS" : "", (d->flags & F8NPU_FLAG_AUX) ? " AUX" : "",
		(d->flags & F8NPU_FLAG_RELU) ? " RELU" : "", (d->flags & F8NPU_FLAG_DST1) ? " DST1" : "",
		(d->flags & F8NPU_FLAG_DEPTHWISE) ? " DEPTHWISE" : "");
	if (d->opcode == F8NPU_OP_END) {
		for (i = 1; i < sizeof(*d); i++)
			nzr += raw[i] != 0;
		if (nzr)
			fprintf(f, "      %u non-zero bytes after the opcode\n", nzr);
		return;
	}
	fprintf(f, "      kernel %ux%u stride %ux%u pad t%u b%u l%u r%u align src %u aux %u out_shift %d / %d\n",
		d->kernel_h, d->kernel_w, d->stride_h, d->stride_w, d->pad_top, d->pad_bottom, d->pad_left,
		d->pad_right, d->align_src, d->align_aux, d->out_shift[0], d->out_shift[1]);
	print_tensor(f, "src", &d->src);
	if ((d->flags & F8NPU_FLAG_AUX) || d->aux.n)
		print_tensor(f, "aux", &d->aux);
	print_tensor(f, "dst[0]", &d->dst[0]);
	if ((d->flags & F8NPU_FLAG_DST1) || d->dst[1].n)
		print_tensor(f, "dst[1]", &d->dst[1]);
	if (d->opcode == F8NPU_OP_CONV2D || d->weights.region || d->weights.offset)
		fprintf(f, "      weights r%u off %#x\n", d->weights.region, d->weights.offset);
	if ((d->flags & F8NPU_FLAG_BIAS) || d->bias.region || d->bias.offset)
		fprintf(f, "      bias    r%u off %#x\n", d->bias.region, d->bias.offset);
	for (i = 0; i < sizeof(*d); i++) {
		bool reserved = (i >= 2 && i < 4) || (i >= 14 && i < 16) || (i >= 18 && i < 32) || i >= 176 ||
				(i >= 161 && i < 164) || (i >= 169 && i < 172);

		if (reserved && raw[i])
			fprintf(f, "      reserved byte %u = %#x\n", i, raw[i]);
	}
}

void cs_print_job(FILE *f, const struct cs_pair *p, const struct cs_job *job)
{
	unsigned int r, s, k;

	fprintf(f, "  buffers:");
	for (k = 0; k < job->nbufs; k++)
		fprintf(f, " %u@%#" PRIx64 "+%" PRIu64, k, cs_buf_addr(p, (int)k), job->buf_size[k]);
	fprintf(f, "\n  regions:\n");
	for (r = 0; r < F8NPU_REGIONS; r++) {
		const struct cs_region *reg = &job->reg[r];

		if (!reg->on)
			continue;
		if (reg->buf >= 0)
			fprintf(f, "    r%-2u base %#" PRIx64 " (buffer %d +%#" PRIx64 ") size %" PRIu64 "\n", r,
				cs_region_base(p, job, r), reg->buf, reg->off, reg->size);
		else
			fprintf(f, "    r%-2u base %#" PRIx64 " size %#" PRIx64 "\n", r, reg->abs, reg->size);
	}
	for (s = 0; s < job->nstreams; s++) {
		const struct cs_stream *st = &job->s[s];

		fprintf(f,
			"  stream %u: CMD_BASE %#" PRIx64 " (buffer %d +%#" PRIx64 ", %" PRIu64
			" bytes) CMD_SIZE %u TAIL %u; header magic %#x version %u.%u desc_size %u desc_count %u%s\n",
			s, cs_stream_base(p, job, s), st->buf, st->off, job->buf_size[st->buf], st->cmd_size, st->tail,
			st->hdr.magic, st->hdr.version_major, st->hdr.version_minor, st->hdr.desc_size,
			st->hdr.desc_count,
			st->hdr.reserved[0] | st->hdr.reserved[1] | st->hdr.reserved[2] | st->hdr.reserved[3]
				? " (reserved non-zero)"
				: "");
		for (k = 0; k < st->ndesc; k++)
			cs_print_desc(f, k, &st->d[k]);
	}
}

void cs_count_outcome(struct cs_pair *p)
{
	uint32_t status = cs_model_reg(p, F8NPU_REG_STATUS), code = cs_model_reg(p, F8NPU_REG_ERR_CODE);
	const struct cs_job *job = p->job;
	int got;

	if (status & F8NPU_STATUS_BUSY)
		return; /* still waiting for a doorbell */
	got = (status & F8NPU_STATUS_ERROR) ? (int)code : 0;
	if (got)
		p->st->err_hits[code < F8NPU_ERR_COUNT_ ? code : 0]++;
	else if (status & F8NPU_STATUS_DONE)
		p->st->done++;
	if (job->fault && !job->fault_double && p->cur_stream == job->fault_stream && got != job->fault) {
		p->st->fault_missed++;
		if (p->opt->verbose)
			printf("cosim: case %u: mutation for %s (%s) ended in %s\n", p->case_idx,
			       f8npu_err_name((uint32_t)job->fault), job->fault_what, got ? f8npu_err_name(code) : "DONE");
	}
	if (!job->fault && got) {
		p->st->gen_invalid++;
		printf("cosim: generator: case %u stream %d was meant to be valid but ends in %s at %u\n", p->case_idx,
		       p->cur_stream, f8npu_err_name(code), cs_model_reg(p, F8NPU_REG_ERR_INDEX));
		if (p->opt->verbose)
			cs_print_job(stdout, p, job);
	}
}
