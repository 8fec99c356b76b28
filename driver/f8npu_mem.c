// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Device addresses of the running job's buffers. Each buffer gets a range
 * of the device address space (drm_mm) for the job's duration, followed by
 * an unmapped guard page. The virtual device reaches the buffer's kernel
 * mapping through f8npu_mem_map(); on hardware the address space is the
 * reserved memory region, and the buffers are copied into it before the job
 * and back after it (no IOMMU: the region table is the protection).
 */
#include <linux/io.h>
#include <linux/string.h>
#include <drm/drm_gem.h>

#include "f8npu_drv.h"

int f8npu_mem_bind(struct f8npu_device *fdev, struct f8npu_job *job)
{
	unsigned int i;
	int ret;

	for (i = 0; i < job->nobjs; i++) {
		struct f8npu_bind *b = &fdev->binds[i];

		memset(&b->node, 0, sizeof(b->node));
		b->size = job->objs[i]->size;
		b->vaddr = job->maps[i].vaddr;
		ret = drm_mm_insert_node_generic(&fdev->mm, &b->node, b->size + PAGE_SIZE,
						 PAGE_SIZE, 0, DRM_MM_INSERT_BEST);
		if (ret) {
			fdev->nbinds = i;
			f8npu_mem_unbind(fdev);
			return ret;
		}
		b->iova = b->node.start;
		if (fdev->carveout)
			memcpy((u8 *)fdev->carveout + (b->iova - fdev->carveout_base), b->vaddr,
			       b->size);
	}
	fdev->nbinds = job->nobjs;
	/* The device reads the copies once START is written (writel orders it on ARM). */
	return 0;
}

void f8npu_mem_unbind(struct f8npu_device *fdev)
{
	unsigned int i;

	for (i = 0; i < fdev->nbinds; i++) {
		struct f8npu_bind *b = &fdev->binds[i];

		/* Outputs may be in any buffer: copy all of them back. */
		if (fdev->carveout)
			memcpy(b->vaddr, (u8 *)fdev->carveout + (b->iova - fdev->carveout_base),
			       b->size);
		drm_mm_remove_node(&b->node);
	}
	fdev->nbinds = 0;
}

u8 *f8npu_mem_map(struct f8npu_device *fdev, u64 addr, u64 len)
{
	unsigned int i;

	for (i = 0; i < fdev->nbinds; i++) {
		const struct f8npu_bind *b = &fdev->binds[i];
		u64 off = addr - b->iova;

		if (addr >= b->iova && off < b->size && len <= b->size - off)
			return b->vaddr + off;
	}
	return NULL;
}
