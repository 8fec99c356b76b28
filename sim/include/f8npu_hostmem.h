/* SPDX-License-Identifier: MIT */
/*
 * Host memory for userspace device instances: a set of buffers, each at its
 * own device address, served to the device through struct f8npu_mem. Used
 * by the runner, the tests and the demo (regions and the command stream).
 */
#ifndef F8NPU_HOSTMEM_H
#define F8NPU_HOSTMEM_H

#include <stddef.h>

#include "f8npu_dev.h"

#ifdef __cplusplus
extern "C" {
#endif

#define F8NPU_HOSTMEM_MAX_BUFS 32u

struct f8npu_hostmem_buf {
	uint64_t addr;
	uint64_t size;
	uint8_t *data;
};

/* bufs[0 .. count) in allocation order; a released slot has data NULL and is reused. */
struct f8npu_hostmem {
	unsigned int count;
	struct f8npu_hostmem_buf bufs[F8NPU_HOSTMEM_MAX_BUFS];
	uint64_t next; /* device address of the next buffer: never reused, so no stale alias */
};

void f8npu_hostmem_init(struct f8npu_hostmem *hm);

/*
 * Add a zero-filled buffer of @size bytes (>= 1) at a fresh, 4 KiB aligned
 * device address with an unmapped 4 KiB guard below it; returns its data
 * or NULL (allocation failure, or too many buffers). *@addr gets the address.
 */
uint8_t *f8npu_hostmem_alloc(struct f8npu_hostmem *hm, uint64_t size, uint64_t *addr);

/* Free the buffer at device address @addr (no effect if none starts there). */
void f8npu_hostmem_release(struct f8npu_hostmem *hm, uint64_t addr);

void f8npu_hostmem_free(struct f8npu_hostmem *hm);

/* struct f8npu_mem for this host memory. */
struct f8npu_mem f8npu_hostmem_port(struct f8npu_hostmem *hm);

#ifdef __cplusplus
}
#endif

#endif /* F8NPU_HOSTMEM_H */
