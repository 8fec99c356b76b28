// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The virtual device: sim/'s functional model inside the module, behind the
 * same struct f8npu_dev register interface as the hardware. A CTRL.START
 * write queues a work item that runs the model; when its interrupt line
 * rises the work item calls the driver's hard and threaded handlers, as an
 * interrupt would. Module parameters make it hang or fault on demand.
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/vmalloc.h>
#include <drm/drm_drv.h>

#include "f8npu_drv.h"
#include "f8npu_model.h"

bool f8npu_virt_hang;
module_param_named(virt_hang, f8npu_virt_hang, bool, 0644);
MODULE_PARM_DESC(virt_hang, "Virtual device: never finish a job (0)");

bool f8npu_virt_fault;
module_param_named(virt_fault, f8npu_virt_fault, bool, 0644);
MODULE_PARM_DESC(virt_fault, "Virtual device: refuse every DMA access, a BUS error (0)");

/* Device address space of the virtual device: anything but 0, far from it. */
#define F8NPU_VIRT_MM_START BIT_ULL(32)
#define F8NPU_VIRT_MM_SIZE BIT_ULL(40)
/* Model cycles per slice: the work item yields the CPU between slices. */
#define F8NPU_VIRT_SLICE 1000000ull

/**
 * struct f8npu_virt - the virtual device.
 * @dev: its register interface (first: the ops find the struct from it).
 * @fdev: the driver's device.
 * @model: the functional model in @storage.
 * @storage: vmalloc'd model storage.
 * @lock: serialises every access to the model.
 * @run: runs the model after START.
 * @stop: makes @run return (timeout).
 */
struct f8npu_virt {
	struct f8npu_dev dev;
	struct f8npu_device *fdev;
	struct f8npu_dev *model;
	void *storage;
	struct mutex lock; /* the model */
	struct work_struct run;
	bool stop;
};

static struct f8npu_virt *to_virt(struct f8npu_dev *dev)
{
	return container_of(dev, struct f8npu_virt, dev);
}

static uint32_t f8npu_virt_read(struct f8npu_dev *dev, uint32_t off)
{
	struct f8npu_virt *v = to_virt(dev);
	u32 val;

	mutex_lock(&v->lock);
	val = f8npu_dev_read(v->model, off);
	mutex_unlock(&v->lock);
	return val;
}

static void f8npu_virt_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct f8npu_virt *v = to_virt(dev);

	mutex_lock(&v->lock);
	f8npu_dev_write(v->model, off, val);
	if (off == F8NPU_REG_CTRL && (val & F8NPU_CTRL_START) && !READ_ONCE(f8npu_virt_hang)) {
		WRITE_ONCE(v->stop, false);
		queue_work(system_unbound_wq, &v->run);
	}
	mutex_unlock(&v->lock);
}

static bool f8npu_virt_irq(struct f8npu_dev *dev)
{
	struct f8npu_virt *v = to_virt(dev);
	bool irq;

	mutex_lock(&v->lock);
	irq = f8npu_dev_irq(v->model);
	mutex_unlock(&v->lock);
	return irq;
}

/* The model runs from the work item, never through the driver. */
static enum f8npu_run_result f8npu_virt_run(struct f8npu_dev *dev, uint64_t max_cycles,
					    uint64_t *cycles)
{
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE;
}

static const struct f8npu_dev_ops f8npu_virt_ops = {
	.reg_read = f8npu_virt_read,
	.reg_write = f8npu_virt_write,
	.irq = f8npu_virt_irq,
	.run = f8npu_virt_run,
};

/* The model's DMA port: a bound buffer of the running job, else a BUS error. */
static uint8_t *f8npu_virt_map(void *user, uint64_t addr, uint64_t len, bool write)
{
	struct f8npu_virt *v = user;

	if (READ_ONCE(f8npu_virt_fault))
		return NULL;
	return f8npu_mem_map(v->fdev, addr, len);
}

static void f8npu_virt_work(struct work_struct *work)
{
	struct f8npu_virt *v = container_of(work, struct f8npu_virt, run);
	enum f8npu_run_result r;
	bool irq;

	do {
		if (READ_ONCE(v->stop))
			return;
		mutex_lock(&v->lock);
		r = f8npu_dev_run(v->model, F8NPU_VIRT_SLICE, NULL);
		irq = f8npu_dev_irq(v->model);
		mutex_unlock(&v->lock);
		if (irq) {
			if (f8npu_irq_hard(-1, v->fdev) == IRQ_WAKE_THREAD)
				f8npu_irq_thread(-1, v->fdev);
			return;
		}
		cond_resched();
	} while (r == F8NPU_RUN_BUDGET);
	/* Idle without an interrupt: waiting for a doorbell; the job times out. */
}

void f8npu_virt_stop(struct f8npu_virt *v)
{
	WRITE_ONCE(v->stop, true);
	cancel_work_sync(&v->run);
}

static int f8npu_virt_probe(struct platform_device *pdev)
{
	struct f8npu_device *fdev;
	struct f8npu_virt *v;
	struct f8npu_mem mem;
	int ret;

	fdev = devm_drm_dev_alloc(&pdev->dev, &f8npu_drm_driver, struct f8npu_device, drm);
	if (IS_ERR(fdev))
		return PTR_ERR(fdev);
	v = devm_kzalloc(&pdev->dev, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	v->storage = vzalloc(f8npu_model_storage_size());
	if (!v->storage)
		return -ENOMEM;
	v->dev.ops = &f8npu_virt_ops;
	v->fdev = fdev;
	mutex_init(&v->lock);
	INIT_WORK(&v->run, f8npu_virt_work);
	mem.map = f8npu_virt_map;
	mem.user = v;
	v->model = f8npu_model_init(v->storage, NULL, &mem);
	if (!v->model) {
		ret = -EINVAL;
		goto err;
	}
	fdev->hw = &v->dev;
	fdev->virt = v;
	platform_set_drvdata(pdev, fdev);
	ret = f8npu_device_init(fdev, -1, F8NPU_VIRT_MM_START, F8NPU_VIRT_MM_SIZE);
	if (ret)
		goto err;
	return 0;
err:
	vfree(v->storage);
	return ret;
}

static int f8npu_virt_remove(struct platform_device *pdev)
{
	struct f8npu_device *fdev = platform_get_drvdata(pdev);

	f8npu_device_fini(fdev);
	f8npu_virt_stop(fdev->virt);
	vfree(fdev->virt->storage);
	return 0;
}

static struct platform_driver f8npu_virt_driver = {
	.probe = f8npu_virt_probe,
	.remove = f8npu_virt_remove,
	.driver = {
		.name = "f8npu-virt",
	},
};

static struct platform_device *f8npu_virt_pdev;

int f8npu_virt_register(void)
{
	int ret = platform_driver_register(&f8npu_virt_driver);

	if (ret)
		return ret;
	f8npu_virt_pdev = platform_device_register_simple("f8npu-virt", PLATFORM_DEVID_NONE,
							  NULL, 0);
	if (IS_ERR(f8npu_virt_pdev)) {
		platform_driver_unregister(&f8npu_virt_driver);
		return PTR_ERR(f8npu_virt_pdev);
	}
	return 0;
}

void f8npu_virt_unregister(void)
{
	platform_device_unregister(f8npu_virt_pdev);
	platform_driver_unregister(&f8npu_virt_driver);
}
