/* SPDX-License-Identifier: MIT */
/*
 * Device-tree overlays for ARM FPGA boards carrying an f8npu (f8 dtbo, docs/dtbo.md).
 *
 * An overlay of two fragments, written with libfdt:
 *   fragment@0, target-path "/":  reserved-memory { npu-memory@MEM { reg; no-map; } }
 *   fragment@1, target-path T:    npu@BASE { compatible = "f8npu,npu-1.0"; reg; interrupts;
 *                                            memory-region = <&npu-memory>; status = "okay"; }
 * with __symbols__ (f8npu, f8npu_memory) and the __local_fixups__ that let the loader
 * renumber the memory-region phandle. Addresses and sizes are 2 cells each: the target node
 * and the root must have #address-cells = #size-cells = <2> (arm64 boards).
 *
 *   struct f8_dtbo_board b = { .base = 0xa0000000, .irq = 89, .trigger = F8_DTBO_LEVEL_HIGH,
 *                              .mem_base = 0x70000000, .mem_size = 256 << 20, .target = "/" };
 *   if (f8_dtbo_write("npu.dtbo", &b, &e)) ...e.msg...
 */
#ifndef F8_DTBO_H
#define F8_DTBO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f8-err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The GIC's trigger flags (interrupts' third cell); an SPI is level-high or edge-rising. */
enum f8_dtbo_trigger {
	F8_DTBO_EDGE_RISING = 1,
	F8_DTBO_LEVEL_HIGH = 4, /* the f8npu's line (docs/regs.md: level-triggered) */
};

#define F8_DTBO_COMPATIBLE "f8npu,npu-1.0"
/* Register window: the device's 4 KiB register space (F8NPU_REG_SPACE_SIZE). */
#define F8_DTBO_REG_SIZE 0x1000u
/* Reserved memory is aligned to the largest arm64 page (64 KiB) so any kernel can map it. */
#define F8_DTBO_MEM_ALIGN 0x10000u
#define F8_DTBO_MEM_MIN (1u << 20) /* the driver bounces a job's buffers through it */
/* Physical addresses of an ARMv8 board without LPA: 48 bits. */
#define F8_DTBO_ADDR_LIMIT (1ull << 48)
/* GIC SPIs: interrupt IDs 32..1019, so SPI numbers 0..987. */
#define F8_DTBO_SPI_MAX 987u
#define F8_DTBO_TARGET_MAX 255

struct f8_dtbo_board {
	uint64_t base;     /* register window's physical address */
	uint32_t irq;      /* GIC SPI number (interrupt ID - 32) */
	uint32_t trigger;  /* enum f8_dtbo_trigger */
	uint64_t mem_base; /* reserved memory region */
	uint64_t mem_size;
	char target[F8_DTBO_TARGET_MAX + 1]; /* the npu node's parent, "/" by default */
};

/* Whether @b describes a board this overlay can express: F8_OK or F8_ERR_RANGE with why. */
int f8_dtbo_check(const struct f8_dtbo_board *b, struct f8_err *e);

/* The overlay of @b (checked first): *@blob malloc'd, *@size bytes. */
int f8_dtbo_build(const struct f8_dtbo_board *b, void **blob, size_t *size, struct f8_err *e);

/*
 * Read an overlay of this layout back (the blob is untrusted: every offset and length is
 * checked by libfdt): the board it describes in *@b, or F8_ERR_FORMAT naming what is missing
 * or wrong.
 */
int f8_dtbo_parse(const void *blob, size_t size, struct f8_dtbo_board *b, struct f8_err *e);

/*
 * Build the overlay of @b and write it to @path atomically: a temporary next to it, read
 * back from disk and parsed (f8_dtbo_parse) to the same board, then renamed into place.
 * @path must be absent or a regular file (not a device, FIFO, link or directory).
 */
int f8_dtbo_write(const char *path, const struct f8_dtbo_board *b, struct f8_err *e);

/*
 * A number of f8 dtbo's options: decimal digits, or "0x" and hex digits; with @size_suffix
 * an optional k, M or G (powers of 1024). No sign, no blank, no overflow of 64 bits.
 */
int f8_dtbo_parse_u64(const char *s, bool size_suffix, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
