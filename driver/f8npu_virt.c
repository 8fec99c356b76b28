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
#include "f8npu_validate.h"

bool f8npu_virt_hang;
module_param_named(virt_hang, f8npu_virt_hang, bool, 0644);
MODULE_PARM_DESC(virt_hang, "Virtual device: never finish a job (0)");

bool f8npu_virt_fault;
module_param_named(virt_fault, f8npu_virt_fault, bool, 0644);
MODULE_PARM_DESC(virt_fault, "Virtual device: refuse every DMA access, a BUS error (0)");

/*
 * The model executes a step (the header or one descriptor) whole, so a timeout can only stop
 * a job between two of them. To bound the time one step keeps a CPU, a step that the cost
 * model prices above this many cycles is not started: the job hangs and times out. The
 * default (5 ms of a 200 MHz device, at most 2.6e8 MACs: about 0.3 s of the model natively,
 * seconds under QEMU TCG) passes every descriptor of ResNet-18 at 224x224, batch 1.
 */
static unsigned long long f8npu_virt_max_step_cycles = 1000000;
module_param_named(virt_max_step_cycles, f8npu_virt_max_step_cycles, ullong, 0644);
MODULE_PARM_DESC(virt_max_step_cycles, "Virtual device: cycles one step may take (1000000)");

/* Device address space of the virtual device: anything but 0, far from it. */
#define F8NPU_VIRT_MM_START BIT_ULL(32)
#define F8NPU_VIRT_MM_SIZE BIT_ULL(40)

/**
 * struct f8npu_virt - the virtual device.
 * @dev: its register interface (first: the ops find the struct from it).
 * @fdev: the driver's device.
 * @model: the functional model in @storage.
 * @storage: vmalloc'd model storage.
 * @lock: serialises every access to the model and the fields below.
 * @run: runs the model after START.
 * @stop: makes @run return (timeout).
 * @cfg: the model's configuration (its cost model).
 * @rt: the running job's region table and stream, latched at START.
 * @desc_count: the stream's descriptors, once its header passed.
 * @header: the next step is the header.
 * @max_step: model cycles one step of the running job may take.
 */
struct f8npu_virt {
	struct f8npu_dev dev;
	struct f8npu_device *fdev;
	struct f8npu_dev *model;
	void *storage;
	struct mutex lock; /* the model */
	struct work_struct run;
	bool stop;
	struct f8npu_model_config cfg;
	struct f8npu_region_table rt;
	u32 desc_count;
	bool header;
	u64 max_step;
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

static u64 f8npu_virt_read64(struct f8npu_virt *v, u32 lo)
{
	u64 val = f8npu_dev_read(v->model, lo); /* reading _LO latches _HI */

	return val | (u64)f8npu_dev_read(v->model, lo + 4) << 32;
}

/* At START (v->lock held): what the job's steps are priced against; registers stay put now. */
static void f8npu_virt_latch_job(struct f8npu_virt *v)
{
	struct f8npu_region_table *rt = &v->rt;
	unsigned int r;

	for (r = 0; r < F8NPU_REGIONS; r++) {
		rt->base[r] = f8npu_virt_read64(v, F8NPU_REG_REGION_BASE_LO(r));
		rt->size[r] = f8npu_virt_read64(v, F8NPU_REG_REGION_SIZE_LO(r));
	}
	rt->count = f8npu_dev_read(v->model, F8NPU_REG_CAP_REGIONS);
	rt->cmd_base = f8npu_virt_read64(v, F8NPU_REG_CMD_BASE_LO);
	rt->cmd_size = f8npu_dev_read(v->model, F8NPU_REG_CMD_SIZE);
	v->header = true;
	v->desc_count = 0;
	v->max_step = READ_ONCE(f8npu_virt_max_step_cycles);
}

static void f8npu_virt_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct f8npu_virt *v = to_virt(dev);

	mutex_lock(&v->lock);
	f8npu_dev_write(v->model, off, val);
	if (off == F8NPU_REG_CTRL && (val & F8NPU_CTRL_START) && !READ_ONCE(f8npu_virt_hang)) {
		f8npu_virt_latch_job(v);
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

/* The cost model's cycles of the job's next step (v->lock held); 0 if it fetches nothing. */
static u64 f8npu_virt_next_cycles(struct f8npu_virt *v)
{
	u32 head = f8npu_dev_read(v->model, F8NPU_REG_CMD_HEAD);
	struct f8npu_desc d;
	const u8 *p;

	if (v->header)
		return f8npu_model_header_cycles(&v->cfg, v->rt.cmd_size);
	if (head >= v->desc_count)
		return 0; /* NO_END */
	/* The header check made 32 + 256 * desc_count <= CMD_SIZE. */
	p = f8npu_mem_map(v->fdev, v->rt.cmd_base + F8NPU_CMD_HEADER_SIZE +
			  (u64)head * F8NPU_CMD_DESC_SIZE, sizeof(d));
	if (!p || READ_ONCE(f8npu_virt_fault))
		return 0; /* the fetch fails: BUS */
	memcpy(&d, p, sizeof(d));
	return f8npu_model_desc_cycles(&v->cfg, &d, &v->rt);
}

/* After the header step: the stream's descriptor count, for the next steps' prices. */
static void f8npu_virt_read_count(struct f8npu_virt *v)
{
	const u8 *p = f8npu_mem_map(v->fdev, v->rt.cmd_base, F8NPU_CMD_HEADER_SIZE);
	struct f8npu_cmd_header h;

	if (p) {
		memcpy(&h, p, sizeof(h));
		v->desc_count = h.desc_count;
	}
	v->header = false;
}

static void f8npu_virt_work(struct work_struct *work)
{
	struct f8npu_virt *v = container_of(work, struct f8npu_virt, run);
	enum f8npu_run_result r = F8NPU_RUN_BUDGET;
	bool irq;

	for (;;) {
		if (READ_ONCE(v->stop))
			return;
		mutex_lock(&v->lock);
		irq = f8npu_dev_irq(v->model);
		if (!irq) {
			if (f8npu_virt_next_cycles(v) > v->max_step) {
				/* Above virt_max_step_cycles: it hangs until the timeout. */
				mutex_unlock(&v->lock);
				return;
			}
			/* A run() of one cycle takes exactly one whole step. */
			r = f8npu_dev_run(v->model, 1, NULL);
			if (v->header)
				f8npu_virt_read_count(v);
			irq = f8npu_dev_irq(v->model);
		}
		mutex_unlock(&v->lock);
		if (irq) {
			if (f8npu_irq_hard(-1, v->fdev) == IRQ_WAKE_THREAD)
				f8npu_irq_thread(-1, v->fdev);
			return;
		}
		if (r == F8NPU_RUN_IDLE)
			return; /* waiting for a doorbell: the job times out */
		cond_resched();
	}
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
	f8npu_model_default_config(&v->cfg);
	v->model = f8npu_model_init(v->storage, &v->cfg, &mem);
	if (!v->model) {
		ret = -EINVAL;
		goto err;
	}
	fdev->hw = &v->dev;
	fdev->virt = v;
	fdev->dev_flags = F8NPU_DEV_VIRTUAL;
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
