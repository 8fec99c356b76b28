// SPDX-License-Identifier: MIT
/*
 * Stand-in for the Verilated RTL library (libf8npu-rtl.a) until it exists:
 * the functional model behind the RTL harness API, with the array geometry
 * of the configuration (-DFAKE_ROWS / -DFAKE_COLS), so that f8-cosim builds
 * and passes model against model.
 *
 * Where the contract lets an RTL differ from the model, the stand-in does
 * differ, so that the co-simulation's allowances are exercised: when the
 * memory system refuses an operand access (BUS), it scribbles over part of
 * the faulting descriptor's outputs, as a streaming engine may have written
 * some of them before the refused access.
 *
 * F8_FAKE_RTL_BUG=N injects a deliberate bug, to check that f8-cosim catches it:
 *   1 one output byte wrong in some descriptors     5 ERR_INDEX one too high after BUS
 *   2 PERF_RD one too high once 3 descriptors ran   6 STATUS.WAIT never set
 *   3 the interrupt line ignores IRQ_MASK           7 on BUS, a stray write past a dst footprint
 *   4 SOFT_RESET keeps IRQ_MASK                     8 CMD_HEAD one behind while waiting
 *   9 abort() on a refused access, as the harness does on an RTL protocol error
 */
#include <stdlib.h>
#include <string.h>

#include "cosim-rtl.h"
#include "f8npu_cmd.h"
#include "f8npu_model.h"
#include "f8npu_regs.h"

#ifndef FAKE_ROWS
#define FAKE_ROWS 16
#endif
#ifndef FAKE_COLS
#define FAKE_COLS 16
#endif

struct fake {
	struct f8npu_dev dev; /* first: the device interface */
	struct f8npu_dev *model;
	struct f8npu_mem outer; /* the caller's memory */
	struct f8npu_mem port;	/* what the model sees */
	int bug;
	struct f8npu_desc cur; /* last descriptor fetched */
	bool have_cur;
	uint8_t *last_wr; /* last output range mapped (bug 1) */
	uint64_t scribble;
	uint64_t cycles; /* clocked: run() cycles + a few per register access, like the harness */
};

static struct fake *to_fake(struct f8npu_dev *dev)
{
	return (struct fake *)dev;
}

static uint32_t mreg(struct fake *f, uint32_t off)
{
	return f8npu_dev_read(f->model, off);
}

static uint64_t mreg64(struct fake *f, uint32_t lo)
{
	return mreg(f, lo) | (uint64_t)mreg(f, lo + 4) << 32;
}

static uint64_t extent(const struct f8npu_tensor_ref *t)
{
	return (uint64_t)(t->n - 1) * t->stride_n + (uint64_t)(t->h - 1) * t->stride_h +
	       (uint64_t)(t->w - 1) * t->stride_w + (uint64_t)t->c * (t->type == F8NPU_TYPE_S32 ? 4 : 1);
}

/* Overwrite a prefix of the backed part of [addr, addr + len) with junk. */
static void scribble(struct fake *f, uint64_t addr, uint64_t len)
{
	uint64_t done = 0, want;

	f->scribble = f->scribble * 6364136223846793005ull + 1442695040888963407ull;
	want = len * (1 + (f->scribble >> 60) % 4) / 4;
	while (done < want) {
		uint64_t n = want - done < 64 ? want - done : 64;
		uint8_t *p = f->outer.map(f->outer.user, addr + done, n, true);
		uint64_t i;

		if (!p) { /* the last partly backed chunk, byte by byte */
			for (i = 0; i < n; i++) {
				p = f->outer.map(f->outer.user, addr + done + i, 1, true);
				if (!p)
					return;
				*p ^= 0xa5;
			}
			return;
		}
		for (i = 0; i < n; i++)
			p[i] = (uint8_t)(p[i] * 7 + 0x3d + i);
		done += n;
	}
}

/* A refused operand access: part of the outputs may already be written. */
static void partial_outputs(struct fake *f)
{
	const struct f8npu_desc *d = &f->cur;
	int k;

	for (k = 0; k < ((d->flags & F8NPU_FLAG_DST1) ? 2 : 1); k++) {
		const struct f8npu_tensor_ref *t = &d->dst[k];
		uint64_t base, ext;

		if (t->region >= F8NPU_REGIONS || !t->n || !t->h || !t->w || !t->c)
			continue;
		base = mreg64(f, F8NPU_REG_REGION_BASE_LO(t->region)) + t->offset;
		ext = extent(t);
		scribble(f, base, ext);
		if (f->bug == 7) {
			uint8_t *p = f->outer.map(f->outer.user, base + ext, 1, true);

			if (p)
				*p ^= 0x40;
		}
	}
}

static uint8_t *fake_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	struct fake *f = user;
	uint8_t *p = f->outer.map(f->outer.user, addr, len, write);
	uint64_t cmd = mreg64(f, F8NPU_REG_CMD_BASE_LO);

	if (!write && len == F8NPU_CMD_HEADER_SIZE && addr == cmd) {
		f->have_cur = false;
		return p;
	}
	if (!write && len == F8NPU_CMD_DESC_SIZE && addr >= cmd + F8NPU_CMD_HEADER_SIZE &&
	    (addr - cmd - F8NPU_CMD_HEADER_SIZE) % F8NPU_CMD_DESC_SIZE == 0) {
		f->have_cur = p != NULL;
		if (p)
			memcpy(&f->cur, p, sizeof(f->cur));
		return p;
	}
	if (!p && f->bug == 9)
		abort();
	if (p && write)
		f->last_wr = p;
	if (!p && f->have_cur)
		partial_outputs(f);
	return p;
}

static uint32_t fake_reg_read(struct f8npu_dev *dev, uint32_t off)
{
	struct fake *f = to_fake(dev);
	uint32_t v = mreg(f, off);

	f->cycles += 4;
	switch (off) {
	case F8NPU_REG_PERF_RD_LO:
		if (f->bug == 2 && mreg(f, F8NPU_REG_PERF_DESCS) >= 3)
			v++;
		break;
	case F8NPU_REG_ERR_INDEX:
		if (f->bug == 5 && mreg(f, F8NPU_REG_ERR_CODE) == F8NPU_ERR_BUS && v != 0xffffffffu)
			v++;
		break;
	case F8NPU_REG_STATUS:
		if (f->bug == 6)
			v &= ~F8NPU_STATUS_WAIT;
		break;
	case F8NPU_REG_CMD_HEAD:
		if (f->bug == 8 && (mreg(f, F8NPU_REG_STATUS) & F8NPU_STATUS_WAIT) && v)
			v--;
		break;
	default:
		break;
	}
	return v;
}

static void fake_reg_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct fake *f = to_fake(dev);
	uint32_t mask = mreg(f, F8NPU_REG_IRQ_MASK);

	f->cycles += 4;
	f8npu_dev_write(f->model, off, val);
	if (f->bug == 4 && off == F8NPU_REG_CTRL && (val & F8NPU_CTRL_SOFT_RESET))
		f8npu_dev_write(f->model, F8NPU_REG_IRQ_MASK, mask);
}

static bool fake_irq(struct f8npu_dev *dev)
{
	struct fake *f = to_fake(dev);

	if (f->bug == 3)
		return mreg(f, F8NPU_REG_IRQ_STATUS) != 0;
	return f8npu_dev_irq(f->model);
}

static enum f8npu_run_result fake_run(struct f8npu_dev *dev, uint64_t max_cycles, uint64_t *cycles)
{
	struct fake *f = to_fake(dev);
	uint32_t before = mreg(f, F8NPU_REG_PERF_DESCS);
	enum f8npu_run_result r;

	uint64_t c = 0;

	f->last_wr = NULL;
	r = f8npu_dev_run(f->model, max_cycles, &c);
	f->cycles += c;
	if (cycles)
		*cycles = c;
	if (f->bug == 1 && f->last_wr && mreg(f, F8NPU_REG_PERF_DESCS) != before &&
	    mreg(f, F8NPU_REG_PERF_DESCS) % 5 == 3)
		f->last_wr[0] ^= 1;
	return r;
}

static void fake_destroy(struct f8npu_dev *dev)
{
	struct fake *f = to_fake(dev);

	f8npu_dev_destroy(f->model);
	free(f);
}

static const struct f8npu_dev_ops fake_ops = {
	fake_reg_read, fake_reg_write, fake_irq, fake_run, fake_destroy,
};

void f8npu_rtl_default_config(struct f8npu_rtl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dram_bytes_per_cycle = 16;
	cfg->dram_latency = 64;
}

void f8npu_rtl_step(struct f8npu_dev *dev, uint64_t cycles)
{
	to_fake(dev)->cycles += cycles;
}

uint64_t f8npu_rtl_cycles(struct f8npu_dev *dev)
{
	return to_fake(dev)->cycles;
}

uint32_t f8npu_rtl_rows(void)
{
	return FAKE_ROWS;
}

uint32_t f8npu_rtl_cols(void)
{
	return FAKE_COLS;
}

struct f8npu_dev *f8npu_rtl_create(const struct f8npu_rtl_config *cfg, const struct f8npu_mem *mem)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct f8npu_model_config mc;
	const char *bug = getenv("F8_FAKE_RTL_BUG");

	if (!f || !mem)
		goto fail;
	f->dev.ops = &fake_ops;
	f->outer = *mem;
	f->port.map = fake_map;
	f->port.user = f;
	f->bug = bug ? atoi(bug) : 0;
	f8npu_model_default_config(&mc);
	mc.rows = FAKE_ROWS;
	mc.cols = FAKE_COLS;
	/* Timing differs from the model's on purpose: the co-simulation must not compare it. */
	mc.dram_bytes_per_cycle = cfg && cfg->dram_bytes_per_cycle ? cfg->dram_bytes_per_cycle * 2 : 32;
	mc.dram_latency = cfg ? cfg->dram_latency / 2 : 32;
	f->model = f8npu_model_create(&mc, &f->port);
	if (!f->model)
		goto fail;
	return &f->dev;
fail:
	free(f);
	return NULL;
}
