// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Buffer objects: shmem GEM objects (drm_gem_shmem helpers), created,
 * mmapped and waited on through the f8npu ioctls; PRIME, close and syncobjs
 * are DRM's own ioctls.
 */
#include <linux/dma-resv.h>
#include <linux/ktime.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_utils.h>
#include <drm/drm_vma_manager.h>

#include "f8npu_drv.h"

int f8npu_ioctl_gem_create(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_f8npu_gem_create *args = data;
	struct drm_gem_shmem_object *shmem;
	int ret;

	if (args->flags)
		return -EINVAL;
	if (!args->size || args->size > F8NPU_MAX_BO_SIZE)
		return -EINVAL;
	shmem = drm_gem_shmem_create(drm, PAGE_ALIGN(args->size));
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	ret = drm_gem_handle_create(file, &shmem->base, &args->handle);
	if (!ret)
		args->size = shmem->base.size;
	/* The handle holds the object now (or it is freed on failure). */
	drm_gem_object_put(&shmem->base);
	return ret;
}

int f8npu_ioctl_gem_mmap_offset(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_f8npu_gem_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->flags)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}

int f8npu_ioctl_gem_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_f8npu_gem_wait *args = data;
	struct drm_gem_object *obj;
	long ret;

	if (args->flags)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	/* Every job adds its fence to each of its buffers (f8npu_job.c). */
	/* Jiffies may run ahead of CLOCK_MONOTONIC: never give up before the deadline. */
	do {
		ret = dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_BOOKKEEP, true,
					    drm_timeout_abs_to_jiffies(args->timeout_ns));
	} while (ret == 0 && (s64)ktime_get_ns() < args->timeout_ns);
	drm_gem_object_put(obj);
	if (ret == 0)
		return -ETIME;
	return ret < 0 ? ret : 0;
}
