/* SPDX-License-Identifier: MIT */
/*
 * The register-programming layer: the sequence of docs/regs.md
 * ("Programming sequence") written once against struct f8npu_dev, for the
 * model, the RTL harness and (in the kernel) the real device. Freestanding.
 */
#ifndef F8NPU_PROG_H
#define F8NPU_PROG_H

#include "f8npu_dev.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct f8npu_perf - the performance counters (docs/regs.md).
 */
struct f8npu_perf {
	uint64_t cycles;
	uint64_t macs;
	uint64_t rd_bytes;
	uint64_t wr_bytes;
	uint64_t stall_cycles;
	uint32_t descs;
};

/**
 * struct f8npu_job_result - how a job ended.
 * @done: the job reached END.
 * @err: enum f8npu_err (0 when @done).
 * @err_index: descriptor index of the error, 0xffffffff for the header.
 * @timed_out: the cycle budget ran out; the device was soft-reset (after @perf was read).
 * @cycles: cycles the job took (from the run loop).
 * @perf: the performance counters when the job ended (they accumulate across jobs).
 */
struct f8npu_job_result {
	bool done;
	uint32_t err;
	uint32_t err_index;
	bool timed_out;
	uint64_t cycles;
	struct f8npu_perf perf;
};

/* 0 if the device is an f8npu whose hardware and command-stream majors we speak; else -1. */
int f8npu_prog_check_id(struct f8npu_dev *dev);

/* Program region @r (no effect while busy). */
void f8npu_prog_set_region(struct f8npu_dev *dev, uint32_t r, uint64_t base, uint64_t size);

/*
 * Run one job: command stream at @cmd_base (@cmd_size bytes), unmask both
 * interrupts, ring the doorbell with TAIL = @desc_count, START, run until the
 * interrupt line rises, read the counters into @res->perf, acknowledge.
 * If @max_cycles pass first, or the device idles waiting for a doorbell that
 * this call will not ring (TAIL below the stream's END), @res->timed_out is
 * set and the device is soft-reset.
 */
void f8npu_prog_run_job(struct f8npu_dev *dev, uint64_t cmd_base, uint32_t cmd_size,
			uint32_t desc_count, uint64_t max_cycles, struct f8npu_job_result *res);

/*
 * The two halves of f8npu_prog_run_job, for a runner that advances the device itself (the
 * budgeted runner of runtime/backend): start unmasks both interrupts, clears them, points
 * the queue at the stream, rings TAIL = @desc_count and starts; end stores @spent and the
 * counters into @res, soft-resets the device if @res->timed_out, else reads how the job
 * ended and acknowledges the interrupt.
 */
void f8npu_prog_start_job(struct f8npu_dev *dev, uint64_t cmd_base, uint32_t cmd_size,
			  uint32_t desc_count);
void f8npu_prog_end_job(struct f8npu_dev *dev, uint64_t spent, struct f8npu_job_result *res);

/*
 * The interrupt-driven halves of a job, for a driver whose device runs by itself (the kernel
 * module): f8npu_prog_start_job() submits; then, from the interrupt handler,
 * f8npu_prog_irq() returns the events that are ours (IRQ_STATUS & IRQ_MASK, F8NPU_IRQ_*),
 * acknowledged, 0 when the interrupt is not ours (a shared line); f8npu_prog_complete_job()
 * fills @res from those events: done, the error code and index, the counters (not
 * @res->cycles). f8npu_prog_end_job() is irq + complete, or the reset after a timeout.
 */
uint32_t f8npu_prog_irq(struct f8npu_dev *dev);
void f8npu_prog_complete_job(struct f8npu_dev *dev, uint32_t events, struct f8npu_job_result *res);

/* Stop whatever runs and return every register to its reset value (CTRL.SOFT_RESET). */
void f8npu_prog_reset(struct f8npu_dev *dev);

void f8npu_prog_read_perf(struct f8npu_dev *dev, struct f8npu_perf *perf);

/* Name of an error code ("OOB_READ"), "?" if unknown. */
const char *f8npu_err_name(uint32_t err);

#ifdef __cplusplus
}
#endif

#endif /* F8NPU_PROG_H */
