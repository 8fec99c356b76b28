// SPDX-License-Identifier: MIT
/*
 * The register-programming layer (docs/regs.md, "Programming sequence"),
 * written once against struct f8npu_dev. Freestanding.
 */
#include "f8npu_prog.h"
#include "../uapi/f8npu_cmd.h"
#include "../uapi/f8npu_regs.h"

/* Cycles per run() slice while waiting for the interrupt. */
#define F8NPU_PROG_SLICE 1000000ull

#include "f8npu_err_names.h" /* f8npu_err_names[], generated: make cmd */

const char *f8npu_err_name(uint32_t err)
{
	return err < F8NPU_ERR_COUNT_ ? f8npu_err_names[err] : "?";
}

int f8npu_prog_check_id(struct f8npu_dev *dev)
{
	if (f8npu_dev_read(dev, F8NPU_REG_ID) != F8NPU_ID_VALUE)
		return -1;
	if (f8npu_dev_read(dev, F8NPU_REG_HW_VERSION) >> 16 != F8NPU_HW_VERSION_MAJOR)
		return -1;
	if (f8npu_dev_read(dev, F8NPU_REG_CMD_VERSION) >> 16 != F8NPU_CMD_VERSION_MAJOR)
		return -1;
	return 0;
}

void f8npu_prog_set_region(struct f8npu_dev *dev, uint32_t r, uint64_t base, uint64_t size)
{
	f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_LO(r), (uint32_t)base);
	f8npu_dev_write(dev, F8NPU_REG_REGION_BASE_HI(r), (uint32_t)(base >> 32));
	f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_LO(r), (uint32_t)size);
	f8npu_dev_write(dev, F8NPU_REG_REGION_SIZE_HI(r), (uint32_t)(size >> 32));
}

void f8npu_prog_start_job(struct f8npu_dev *dev, uint64_t cmd_base, uint32_t cmd_size,
			  uint32_t desc_count)
{
	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
	f8npu_dev_write(dev, F8NPU_REG_IRQ_STATUS, F8NPU_IRQ_ALL);
	f8npu_dev_write(dev, F8NPU_REG_CMD_BASE_LO, (uint32_t)cmd_base);
	f8npu_dev_write(dev, F8NPU_REG_CMD_BASE_HI, (uint32_t)(cmd_base >> 32));
	f8npu_dev_write(dev, F8NPU_REG_CMD_SIZE, cmd_size);
	f8npu_dev_write(dev, F8NPU_REG_CMD_TAIL, desc_count);
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_START);
}

uint32_t f8npu_prog_irq(struct f8npu_dev *dev)
{
	uint32_t events = f8npu_dev_read(dev, F8NPU_REG_IRQ_STATUS) & f8npu_dev_read(dev, F8NPU_REG_IRQ_MASK);

	if (events)
		f8npu_dev_write(dev, F8NPU_REG_IRQ_STATUS, events);
	return events;
}

void f8npu_prog_complete_job(struct f8npu_dev *dev, uint32_t events, struct f8npu_job_result *res)
{
	f8npu_prog_read_perf(dev, &res->perf);
	res->done = (events & F8NPU_IRQ_DONE) != 0;
	res->err = 0;
	res->err_index = 0;
	if (events & F8NPU_IRQ_ERROR) {
		res->err = f8npu_dev_read(dev, F8NPU_REG_ERR_CODE);
		res->err_index = f8npu_dev_read(dev, F8NPU_REG_ERR_INDEX);
	}
}

void f8npu_prog_reset(struct f8npu_dev *dev)
{
	f8npu_dev_write(dev, F8NPU_REG_CTRL, F8NPU_CTRL_SOFT_RESET);
}

void f8npu_prog_end_job(struct f8npu_dev *dev, uint64_t spent, struct f8npu_job_result *res)
{
	res->cycles = spent;
	if (res->timed_out) {
		f8npu_prog_read_perf(dev, &res->perf);
		f8npu_prog_reset(dev);
		return;
	}
	f8npu_prog_complete_job(dev, f8npu_prog_irq(dev), res);
}

void f8npu_prog_run_job(struct f8npu_dev *dev, uint64_t cmd_base, uint32_t cmd_size,
			uint32_t desc_count, uint64_t max_cycles, struct f8npu_job_result *res)
{
	uint64_t spent = 0, slice_cycles;

	res->done = false;
	res->err = 0;
	res->err_index = 0;
	res->timed_out = false;

	f8npu_prog_start_job(dev, cmd_base, cmd_size, desc_count);

	while (!f8npu_dev_irq(dev)) {
		uint64_t slice = max_cycles - spent < F8NPU_PROG_SLICE ? max_cycles - spent : F8NPU_PROG_SLICE;
		enum f8npu_run_result r;

		if (slice == 0) {
			res->timed_out = true;
			break;
		}
		r = f8npu_dev_run(dev, slice, &slice_cycles);
		spent += slice_cycles;
		/* Idle without an interrupt: waiting for a doorbell that never comes. */
		if (r == F8NPU_RUN_IDLE && !f8npu_dev_irq(dev)) {
			res->timed_out = true;
			break;
		}
		if (spent >= max_cycles && !f8npu_dev_irq(dev)) {
			res->timed_out = true;
			break;
		}
	}
	f8npu_prog_end_job(dev, spent, res);
}

static uint64_t read64(struct f8npu_dev *dev, uint32_t lo)
{
	uint64_t v = f8npu_dev_read(dev, lo);

	return v | (uint64_t)f8npu_dev_read(dev, lo + 4) << 32;
}

void f8npu_prog_read_perf(struct f8npu_dev *dev, struct f8npu_perf *perf)
{
	perf->cycles = read64(dev, F8NPU_REG_PERF_CYCLES_LO);
	perf->macs = read64(dev, F8NPU_REG_PERF_MACS_LO);
	perf->rd_bytes = read64(dev, F8NPU_REG_PERF_RD_LO);
	perf->wr_bytes = read64(dev, F8NPU_REG_PERF_WR_LO);
	perf->stall_cycles = read64(dev, F8NPU_REG_PERF_STALL_LO);
	perf->descs = f8npu_dev_read(dev, F8NPU_REG_PERF_DESCS);
}
