/* SPDX-License-Identifier: MIT */
/*
 * The Verilated RTL (rtl/f8npu_core.sv) as a struct f8npu_dev: the same
 * interface as the functional model (f8npu_model.h), so a caller switches
 * between the two by changing the create call.
 *
 * Registers are real AXI4-Lite transactions on the core's register slave,
 * each taking a few clock cycles during which the core keeps running.
 * run() clocks the core until it is idle (STATUS.BUSY clear, or STATUS.WAIT
 * set) or the budget runs out. The core's internal memory port
 * (docs/rtl.md) is served from struct f8npu_mem by a latency and bandwidth
 * model:
 *   - read and write requests are taken whenever the harness can queue them
 *     (the ready inputs drop only when 1024 responses of a stream are pending);
 *   - each request costs ceil(len / dram_bytes_per_cycle) cycles of one
 *     bandwidth server shared by both streams, served in the order taken
 *     (the read first when both are taken in the same cycle);
 *   - its response arrives dram_latency cycles after its service ends, so a
 *     request of <= B bytes taken in cycle t is answered in cycle t+1+L at the
 *     earliest; responses stay in order per stream, at most one read and one
 *     write response per cycle;
 *   - reads sample memory and writes update it when the request is taken; an
 *     unmapped range answers with the err bit (zero data, nothing written).
 * A request of length 0 or > 64, or whose address range wraps, is an RTL bug:
 * the harness prints the cycle and the request to stderr and aborts, as it
 * does on an AXI4-Lite protocol error or a register access that does not
 * finish in 10000 cycles.
 *
 * The trace (@vcd_path) has both edges of every cycle: cycle n (as counted
 * by f8npu_rtl_cycles() and the abort messages) falls at VCD time 2n and
 * rises at 2n + 1. rst_ni is low in cycles 0-3.
 *
 * One build of the library holds one geometry (f8npu_rtl_rows/cols) and one
 * copy of the Verilator runtime: a program links exactly one libf8npu-rtl.a
 * (mk/rtl.mk; with -lstdc++ -lm -pthread). Several devices may exist at once, and run
 * in different threads at once, each device used by one thread at a time (each has its
 * own VerilatedContext; sim/f8npu_rtl.cpp, "Threads").
 *
 * Usage:
 *	struct f8npu_rtl_config cfg;
 *	f8npu_rtl_default_config(&cfg);
 *	cfg.vcd_path = "core.vcd";
 *	struct f8npu_dev *dev = f8npu_rtl_create(&cfg, &mem);
 *	...as with any struct f8npu_dev (f8npu_dev.h)...
 *	f8npu_dev_destroy(dev);
 */
#ifndef F8NPU_RTL_H
#define F8NPU_RTL_H

#include "f8npu_dev.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct f8npu_rtl_config - how the harness around the RTL behaves.
 * @dram_bytes_per_cycle: memory bandwidth B shared by reads and writes, >= 1 (default 16).
 * @dram_latency: cycles from the end of a request's service to its response (default 64).
 * @vcd_path: VCD trace file (both clock edges of every cycle), or NULL for none.
 */
struct f8npu_rtl_config {
	uint32_t dram_bytes_per_cycle;
	uint32_t dram_latency;
	const char *vcd_path;
};

/* B = 16 bytes/cycle, L = 64 cycles, no trace: the model's default timing. */
void f8npu_rtl_default_config(struct f8npu_rtl_config *cfg);

/*
 * Build the Verilated core and hold it in reset for a few cycles; NULL on
 * failure (@cfg out of range, @mem without map, allocation, unwritable
 * @cfg->vcd_path). @cfg NULL means the default configuration.
 * f8npu_dev_destroy() frees everything and closes the trace.
 */
struct f8npu_dev *f8npu_rtl_create(const struct f8npu_rtl_config *cfg, const struct f8npu_mem *mem);

/* MAC array geometry this library was built with (the core's Rows, Cols). */
uint32_t f8npu_rtl_rows(void);
uint32_t f8npu_rtl_cols(void);

/*
 * For tests and benchmarks; @dev must come from f8npu_rtl_create().
 * f8npu_rtl_step: clock @cycles cycles whatever the core's state.
 * f8npu_rtl_cycles: cycles clocked since create (reset, register accesses,
 * run() and step() included).
 */
void f8npu_rtl_step(struct f8npu_dev *dev, uint64_t cycles);
uint64_t f8npu_rtl_cycles(struct f8npu_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* F8NPU_RTL_H */
