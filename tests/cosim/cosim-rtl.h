/* SPDX-License-Identifier: MIT */
/*
 * The Verilated RTL harness API as the co-simulation uses it. The harness
 * declares it in sim/include/f8npu_rtl.h; until that header exists this file
 * carries the same declarations, so that the program and the stand-in
 * (fake_rtl.c) build either way.
 */
#ifndef COSIM_RTL_H
#define COSIM_RTL_H

#if defined(__has_include)
#if __has_include("f8npu_rtl.h")
#include "f8npu_rtl.h"
#define COSIM_HAVE_RTL_HEADER 1
#endif
#endif

#ifndef COSIM_HAVE_RTL_HEADER
#include <stdint.h>

#include "f8npu_dev.h"

struct f8npu_rtl_config {
	uint32_t dram_bytes_per_cycle;
	uint32_t dram_latency;
	const char *vcd_path;
};

void f8npu_rtl_default_config(struct f8npu_rtl_config *cfg);
struct f8npu_dev *f8npu_rtl_create(const struct f8npu_rtl_config *cfg, const struct f8npu_mem *mem);
uint32_t f8npu_rtl_rows(void);
uint32_t f8npu_rtl_cols(void);
void f8npu_rtl_step(struct f8npu_dev *dev, uint64_t cycles);
uint64_t f8npu_rtl_cycles(struct f8npu_dev *dev);
#endif

#endif /* COSIM_RTL_H */
