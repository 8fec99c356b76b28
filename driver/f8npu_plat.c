// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The hardware: an f8npu described by the device tree (ARM FPGA boards,
 * docs/bindings/f8npu.yaml): MMIO registers, one level-triggered interrupt,
 * and a reserved memory region that is the device's address space.
 */
#include <linux/io.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

#include "f8npu_drv.h"

/**
 * struct f8npu_mmio - the register block as a struct f8npu_dev.
 * @dev: the register interface (first: the ops find the struct from it).
 * @regs: the mapped 4 KiB register space.
 */
struct f8npu_mmio {
	struct f8npu_dev dev;
	void __iomem *regs;
};

static struct f8npu_mmio *to_mmio(struct f8npu_dev *dev)
{
	return container_of(dev, struct f8npu_mmio, dev);
}

static uint32_t f8npu_mmio_read(struct f8npu_dev *dev, uint32_t off)
{
	return readl(to_mmio(dev)->regs + off);
}

static void f8npu_mmio_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	writel(val, to_mmio(dev)->regs + off);
}

static bool f8npu_mmio_irq(struct f8npu_dev *dev)
{
	return (f8npu_mmio_read(dev, F8NPU_REG_IRQ_STATUS) &
		f8npu_mmio_read(dev, F8NPU_REG_IRQ_MASK)) != 0;
}

/* The hardware runs by itself; the driver waits for its interrupt. */
static enum f8npu_run_result f8npu_mmio_run(struct f8npu_dev *dev, uint64_t max_cycles,
					    uint64_t *cycles)
{
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE;
}

static const struct f8npu_dev_ops f8npu_mmio_ops = {
	.reg_read = f8npu_mmio_read,
	.reg_write = f8npu_mmio_write,
	.irq = f8npu_mmio_irq,
	.run = f8npu_mmio_run,
};

static int f8npu_plat_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct f8npu_device *fdev;
	struct f8npu_mmio *mmio;
	struct reserved_mem *rmem;
	struct device_node *np;
	int irq;

	fdev = devm_drm_dev_alloc(dev, &f8npu_drm_driver, struct f8npu_device, drm);
	if (IS_ERR(fdev))
		return PTR_ERR(fdev);
	mmio = devm_kzalloc(dev, sizeof(*mmio), GFP_KERNEL);
	if (!mmio)
		return -ENOMEM;
	mmio->dev.ops = &f8npu_mmio_ops;
	mmio->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(mmio->regs))
		return PTR_ERR(mmio->regs);
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;

	np = of_parse_phandle(dev->of_node, "memory-region", 0);
	if (!np)
		return dev_err_probe(dev, -EINVAL, "no memory-region\n");
	rmem = of_reserved_mem_lookup(np);
	of_node_put(np);
	if (!rmem || rmem->size < 2 * PAGE_SIZE)
		return dev_err_probe(dev, -EINVAL, "memory-region is not reserved memory\n");
	fdev->carveout = devm_memremap(dev, rmem->base, rmem->size, MEMREMAP_WC);
	if (IS_ERR(fdev->carveout))
		return PTR_ERR(fdev->carveout);
	fdev->carveout_base = rmem->base;

	fdev->hw = &mmio->dev;
	platform_set_drvdata(pdev, fdev);
	return f8npu_device_init(fdev, irq, rmem->base, rmem->size);
}

static int f8npu_plat_remove(struct platform_device *pdev)
{
	f8npu_device_fini(platform_get_drvdata(pdev));
	return 0;
}

static const struct of_device_id f8npu_of_match[] = {
	{ .compatible = "f8npu,npu-1.0" },
	{ }
};
MODULE_DEVICE_TABLE(of, f8npu_of_match);

struct platform_driver f8npu_plat_driver = {
	.probe = f8npu_plat_probe,
	.remove = f8npu_plat_remove,
	.driver = {
		.name = "f8npu",
		.of_match_table = f8npu_of_match,
	},
};
