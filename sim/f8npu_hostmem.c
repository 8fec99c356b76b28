// SPDX-License-Identifier: MIT
/*
 * Host memory: buffers at distinct device addresses. Each buffer starts on
 * a 4 KiB boundary with at least 4 KiB of unmapped addresses before it, so
 * that an access one byte outside a buffer is a bus error, never another
 * buffer's data.
 */
#include <stdlib.h>

#include "f8npu_hostmem.h"

#define HOSTMEM_FIRST_ADDR 0x10000000ull
#define HOSTMEM_PAGE 4096ull

void f8npu_hostmem_init(struct f8npu_hostmem *hm)
{
	hm->count = 0;
	hm->next = HOSTMEM_FIRST_ADDR;
}

uint8_t *f8npu_hostmem_alloc(struct f8npu_hostmem *hm, uint64_t size, uint64_t *addr)
{
	struct f8npu_hostmem_buf *b = NULL;
	unsigned int i;

	if (size == 0 || size > (1ull << 40))
		return NULL;
	for (i = 0; i < hm->count && !b; i++)
		if (!hm->bufs[i].data)
			b = &hm->bufs[i];
	if (!b) {
		if (hm->count >= F8NPU_HOSTMEM_MAX_BUFS)
			return NULL;
		b = &hm->bufs[hm->count];
	}
	b->data = calloc(1, (size_t)size);
	if (!b->data)
		return NULL;
	b->addr = hm->next;
	b->size = size;
	if (b == &hm->bufs[hm->count])
		hm->count++;
	hm->next = (b->addr + size + 2 * HOSTMEM_PAGE - 1) & ~(HOSTMEM_PAGE - 1);
	if (addr)
		*addr = b->addr;
	return b->data;
}

void f8npu_hostmem_release(struct f8npu_hostmem *hm, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < hm->count; i++) {
		struct f8npu_hostmem_buf *b = &hm->bufs[i];

		if (b->data && b->addr == addr) {
			free(b->data);
			b->data = NULL;
			b->size = 0;
			return;
		}
	}
}

void f8npu_hostmem_free(struct f8npu_hostmem *hm)
{
	unsigned int i;

	for (i = 0; i < hm->count; i++)
		free(hm->bufs[i].data);
	f8npu_hostmem_init(hm);
}

static uint8_t *hostmem_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	struct f8npu_hostmem *hm = user;
	unsigned int i;

	(void)write;
	for (i = 0; i < hm->count; i++) {
		const struct f8npu_hostmem_buf *b = &hm->bufs[i];

		if (b->data && addr >= b->addr && addr - b->addr <= b->size && len <= b->size - (addr - b->addr))
			return b->data + (addr - b->addr);
	}
	return NULL;
}

struct f8npu_mem f8npu_hostmem_port(struct f8npu_hostmem *hm)
{
	struct f8npu_mem mem = { hostmem_map, hm };

	return mem;
}
