// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * f8npu DRM driver: module, DRM driver, per-file contexts, QUERY, and the
 * device setup shared by the virtual and the device-tree device.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_prime.h>
#if IS_ENABLED(CONFIG_DRM_ACCEL)
#include <drm/drm_accel.h>
#endif

#include "f8npu_drv.h"

/* As long as amdgpu's: the virtual device under emulation (QEMU TCG) is slow. */
unsigned int f8npu_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, f8npu_job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms, "Default and largest job timeout in ms (10000)");

unsigned int f8npu_max_inflight = 64;
module_param_named(max_inflight, f8npu_max_inflight, uint, 0444);
MODULE_PARM_DESC(max_inflight, "Queued or running jobs per open file (64)");

unsigned int f8npu_job_history = 256;
module_param_named(job_history, f8npu_job_history, uint, 0444);
MODULE_PARM_DESC(job_history, "Finished jobs per open file whose result stays readable (256)");

/* Where there is no device tree (x86) there is no board: the virtual device is the default. */
static bool f8npu_virt = !IS_ENABLED(CONFIG_OF);
module_param_named(virt, f8npu_virt, bool, 0444);
MODULE_PARM_DESC(virt, "Create the virtual device (sim/'s functional model) unless a bridged device bound (1 without CONFIG_OF)");
static bool f8npu_virt_created;

static int f8npu_open(struct drm_device *drm, struct drm_file *file)
{
	file->driver_priv = f8npu_file_create();
	return file->driver_priv ? 0 : -ENOMEM;
}

static void f8npu_postclose(struct drm_device *drm, struct drm_file *file)
{
	f8npu_file_close(file->driver_priv);
}

static int f8npu_ioctl_query(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_f8npu_query *q = data;

	if (q->flags)
		return -EINVAL;
	*q = to_f8npu(drm)->query;
	/* Read at query time: both are writable module parameters. */
	q->job_timeout_ms = READ_ONCE(f8npu_job_timeout_ms);
	return 0;
}

static const struct drm_ioctl_desc f8npu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(F8NPU_QUERY, f8npu_ioctl_query, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(F8NPU_GEM_CREATE, f8npu_ioctl_gem_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(F8NPU_GEM_MMAP_OFFSET, f8npu_ioctl_gem_mmap_offset, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(F8NPU_GEM_WAIT, f8npu_ioctl_gem_wait, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(F8NPU_SUBMIT, f8npu_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(F8NPU_JOB_WAIT, f8npu_ioctl_job_wait, DRM_RENDER_ALLOW),
};

/* The one switch between a render node (6.1) and an accel node (6.2+). */
#if IS_ENABLED(CONFIG_DRM_ACCEL)
DEFINE_DRM_ACCEL_FOPS(f8npu_fops);
#define F8NPU_DRIVER_FEATURES (DRIVER_COMPUTE_ACCEL | DRIVER_GEM | DRIVER_SYNCOBJ)
#else
DEFINE_DRM_GEM_FOPS(f8npu_fops);
#define F8NPU_DRIVER_FEATURES (DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ)
#endif

const struct drm_driver f8npu_drm_driver = {
	.driver_features = F8NPU_DRIVER_FEATURES,
	.open = f8npu_open,
	.postclose = f8npu_postclose,
	.ioctls = f8npu_ioctls,
	.num_ioctls = ARRAY_SIZE(f8npu_ioctls),
	.fops = &f8npu_fops,
	.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
	.prime_fd_to_handle = drm_gem_prime_fd_to_handle,
	.gem_prime_import_sg_table = drm_gem_shmem_prime_import_sg_table,
	.gem_prime_mmap = drm_gem_prime_mmap,
	.name = "f8npu",
	.desc = "f8npu neural processing unit",
	.date = "20261204",
	.major = F8NPU_DRIVER_MAJOR,
	.minor = F8NPU_DRIVER_MINOR,
};

static void f8npu_read_caps(struct f8npu_device *fdev)
{
	struct drm_f8npu_query *q = &fdev->query;
	struct f8npu_dev *hw = fdev->hw;

	q->uapi_version = F8NPU_UAPI_VERSION_MAJOR << 16 | F8NPU_UAPI_VERSION_MINOR;
	q->driver_version = F8NPU_DRIVER_MAJOR << 16 | F8NPU_DRIVER_MINOR;
	q->hw_id = f8npu_dev_read(hw, F8NPU_REG_ID);
	q->hw_version = f8npu_dev_read(hw, F8NPU_REG_HW_VERSION);
	q->cmd_version = f8npu_dev_read(hw, F8NPU_REG_CMD_VERSION);
	q->impl = f8npu_dev_read(hw, F8NPU_REG_IMPL);
	q->cap_array = f8npu_dev_read(hw, F8NPU_REG_CAP_ARRAY);
	q->cap_ops = f8npu_dev_read(hw, F8NPU_REG_CAP_OPS);
	/* The region table this driver programs has at most F8NPU_REGIONS entries. */
	q->cap_regions = min(f8npu_dev_read(hw, F8NPU_REG_CAP_REGIONS), F8NPU_REGIONS);
	q->cap_ibuf = f8npu_dev_read(hw, F8NPU_REG_CAP_IBUF);
	q->cap_wbuf = f8npu_dev_read(hw, F8NPU_REG_CAP_WBUF);
	q->cap_abuf = f8npu_dev_read(hw, F8NPU_REG_CAP_ABUF);
	q->cap_max_dim = f8npu_dev_read(hw, F8NPU_REG_CAP_MAX_DIM);
	q->cap_max_k = f8npu_dev_read(hw, F8NPU_REG_CAP_MAX_K);
	q->cap_shift = f8npu_dev_read(hw, F8NPU_REG_CAP_SHIFT);
	q->cap_types = f8npu_dev_read(hw, F8NPU_REG_CAP_TYPES);
	q->dev_flags = fdev->dev_flags;
	q->max_inflight = f8npu_max_inflight;
	q->job_history = f8npu_job_history;
	q->max_cmd_size = F8NPU_MAX_CMD_SIZE;
	q->max_bo_size = F8NPU_MAX_BO_SIZE;
}

/*
 * Common setup once @fdev->hw and ->virt are in place: the device address
 * space is [@mm_start, @mm_start + @mm_size); @irq < 0: the virtual device
 * calls the handlers itself.
 */
int f8npu_device_init(struct f8npu_device *fdev, int irq, u64 mm_start, u64 mm_size)
{
	struct drm_device *drm = &fdev->drm;
	int ret;

	if (f8npu_prog_check_id(fdev->hw)) {
		drm_err(drm, "not an f8npu of hardware and command-stream major %u\n",
			F8NPU_HW_VERSION_MAJOR);
		return -ENODEV;
	}
	f8npu_prog_reset(fdev->hw);
	f8npu_read_caps(fdev);

	mutex_init(&fdev->submit_lock);
	spin_lock_init(&fdev->fence_lock);
	spin_lock_init(&fdev->irq_lock);
	fdev->fence_context = dma_fence_context_alloc(1);
	drm_mm_init(&fdev->mm, mm_start, mm_size);
	fdev->mm_size = mm_size;
	fdev->wq = alloc_ordered_workqueue("f8npu", 0);
	if (!fdev->wq) {
		drm_mm_takedown(&fdev->mm);
		return -ENOMEM;
	}

	if (irq >= 0) {
		/* Level-triggered: ONESHOT keeps the line masked until the thread ran. */
		ret = devm_request_threaded_irq(drm->dev, irq, f8npu_irq_hard, f8npu_irq_thread,
						IRQF_ONESHOT, "f8npu", fdev);
		if (ret)
			goto err_wq;
	}

	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_wq;
	drm_info(drm, "f8npu %u.%u, %ux%u array, %s, impl %u\n", fdev->query.hw_version >> 16,
		 fdev->query.hw_version & 0xffff, fdev->query.cap_array & 0xffff,
		 fdev->query.cap_array >> 16,
		 fdev->virt ? "virtual device" :
		 fdev->dev_flags & F8NPU_DEV_BRIDGE ? "bridged device (f8npu-bridge)" : "hardware",
		 fdev->query.impl);
	return 0;

err_wq:
	destroy_workqueue(fdev->wq);
	drm_mm_takedown(&fdev->mm);
	return ret;
}

void f8npu_device_fini(struct f8npu_device *fdev)
{
	/* New ioctls fail from here; queued jobs see the device gone and cancel. */
	drm_dev_unplug(&fdev->drm);
	destroy_workqueue(fdev->wq);
	f8npu_prog_reset(fdev->hw);
	drm_mm_takedown(&fdev->mm);
}

static int __init f8npu_init(void)
{
	int ret;

	ret = platform_driver_register(&f8npu_plat_driver);
	if (ret)
		return ret;
	/* Probes the bridged devices present now, before the virtual device is considered. */
	ret = f8npu_pci_register();
	if (ret)
		goto err_plat;
	/* A bridged device is the one the tests and the runtime want: no virtual device then. */
	f8npu_virt_created = f8npu_virt && !f8npu_pci_bound();
	if (!f8npu_virt_created)
		return 0;
	ret = f8npu_virt_register();
	if (ret)
		goto err_pci;
	return 0;

err_pci:
	f8npu_pci_unregister();
err_plat:
	platform_driver_unregister(&f8npu_plat_driver);
	return ret;
}

static void __exit f8npu_exit(void)
{
	if (f8npu_virt_created)
		f8npu_virt_unregister();
	f8npu_pci_unregister();
	platform_driver_unregister(&f8npu_plat_driver);
}

module_init(f8npu_init);
module_exit(f8npu_exit);

MODULE_DESCRIPTION("f8npu neural processing unit DRM driver");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_IMPORT_NS(DMA_BUF);
