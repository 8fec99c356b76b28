/* SPDX-License-Identifier: MIT */
/*
 * The bit-exact functional model of the f8npu: a struct f8npu_dev whose
 * registers, command processing, error codes and counters follow
 * docs/regs.md and docs/isa.md, and whose arithmetic is docs/arith.md.
 *
 * The execution core is freestanding (no libc, no allocation): the caller
 * provides the storage (f8npu_model_storage_size() bytes, 8-byte aligned),
 * so the kernel module can embed it. f8npu_model_create() in
 * f8npu_model_host.c is the userspace convenience that allocates it.
 */
#ifndef F8NPU_MODEL_H
#define F8NPU_MODEL_H

#include "f8npu_dev.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct f8npu_model_config - what the model reports and how it times.
 * @rows: @cols: MAC array geometry (CAP_ARRAY), 1..4096.
 * @ibuf_bytes: @wbuf_bytes: @abuf_bytes: on-chip buffer sizes reported in CAP_*.
 * @dram_bytes_per_cycle: cost model bandwidth B (isa.md §7), >= 1.
 * @dram_latency: cost model latency L in cycles.
 */
struct f8npu_model_config {
	uint32_t rows;
	uint32_t cols;
	uint32_t ibuf_bytes;
	uint32_t wbuf_bytes;
	uint32_t abuf_bytes;
	uint32_t dram_bytes_per_cycle;
	uint32_t dram_latency;
};

/* 16x16 array, 64/64/16 KiB buffers, 16 bytes/cycle, 64 cycles latency. */
void f8npu_model_default_config(struct f8npu_model_config *cfg);

/* Bytes of storage f8npu_model_init() needs. */
uint64_t f8npu_model_storage_size(void);

/*
 * Build a model in caller-owned storage; NULL if @cfg is out of range.
 * @cfg NULL means the default configuration. The device is in its reset state.
 */
struct f8npu_dev *f8npu_model_init(void *storage, const struct f8npu_model_config *cfg,
				   const struct f8npu_mem *mem);

struct f8npu_desc;
struct f8npu_region_table;

/*
 * The cost model's cycles (isa.md §7) of the next step of a job, known before it runs:
 * what a runner that must never pass a cycle budget asks before it lets the device take
 * the step (docs/runner.md, f8 exec --max-cycles). @cfg NULL: the default configuration.
 *
 * f8npu_model_header_cycles: fetching and checking the header of a @cmd_size-byte stream.
 * f8npu_model_desc_cycles: fetching descriptor @d, checking it against @rt (the job's
 * region table, CAP_REGIONS entries, CMD_BASE/CMD_SIZE as programmed) and executing it;
 * END, and a descriptor that fails validation, cost their fetch only.
 * Exactly what CYCLES then counts, unless the memory system refuses an access (BUS),
 * which ends the job sooner.
 */
uint64_t f8npu_model_header_cycles(const struct f8npu_model_config *cfg, uint32_t cmd_size);
uint64_t f8npu_model_desc_cycles(const struct f8npu_model_config *cfg, const struct f8npu_desc *d,
				 const struct f8npu_region_table *rt);

/*
 * The "array cycles" column of isa.md §7 for a valid compute descriptor @d (0 for END):
 * the MAC array's (or the pooling lanes') work on a @cfg->rows x @cfg->cols array. The
 * one definition of it: the model's counters, the RTL bench and the compiler all call this.
 */
uint64_t f8npu_model_array_cycles(const struct f8npu_model_config *cfg, const struct f8npu_desc *d);

/*
 * Whether the RTL runs the valid descriptor @d on its fast depthwise path (docs/rtl.md
 * "Depthwise": kernel taps on the array rows, a line buffer) on a @cfg->rows-row array:
 * the rule behind the cost of a depthwise CONV2D (isa.md §7); false for anything else.
 */
bool f8npu_model_dw_fast(const struct f8npu_model_config *cfg, const struct f8npu_desc *d);
/*
 * Taps per pass when a CONV2D (groups = 1) takes the RTL's tap packing (docs/rtl.md "Tap
 * packing": Cin <= ROWS / 2, dense u8/s8 input, kw >= 2): P = floor(ROWS / Cin); else 0.
 */
uint32_t f8npu_model_conv_pack(const struct f8npu_model_config *cfg, const struct f8npu_desc *d);
/*
 * Whether a groups = 1 CONV2D runs in the RTL's group-inner order (its input fetched once for
 * all channel groups; isa.md §7, docs/rtl.md).
 */
bool f8npu_model_conv_gi(const struct f8npu_model_config *cfg, const struct f8npu_desc *d);

/*
 * Hand the storage to the device: f8npu_dev_destroy() then calls
 * @release(storage). Without it destroy leaves the storage to its owner.
 */
void f8npu_model_set_release(struct f8npu_dev *dev, void (*release)(void *storage));

#ifndef __KERNEL__
/* Userspace: allocate and init; f8npu_dev_destroy() frees. NULL on failure. */
struct f8npu_dev *f8npu_model_create(const struct f8npu_model_config *cfg,
				     const struct f8npu_mem *mem);
#endif

#ifdef __cplusplus
}
#endif

#endif /* F8NPU_MODEL_H */
