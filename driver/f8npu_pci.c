// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The bridged device: an f8npu served to a QEMU guest by f8npu-bridge (the
 * functional model or the Verilated RTL on the host) through QEMU's
 * ivshmem-doorbell PCI device 1af4:1110 (docs/cosim.md). The registers are
 * reached through a mailbox ring in BAR2, the device memory is a window of
 * BAR2 (buffers are bounced through it, as the platform binding bounces
 * through its reserved memory), and the device's interrupt line arrives as
 * MSI-X vector 0 into the driver's usual handlers.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <drm/drm_drv.h>

#include "f8npu_drv.h"
#include "f8npu_bridge.h"

/* A count, not a flag: the test sets it and the next job hangs, whenever it starts. */
static unsigned int f8npu_bridge_stall;
module_param_named(bridge_stall, f8npu_bridge_stall, uint, 0644);
MODULE_PARM_DESC(bridge_stall, "Bridged device: the next N jobs stall (hang until their timeout) (0)");

/* Bridged devices bound now. */
static atomic_t f8npu_pci_nbound = ATOMIC_INIT(0);

/* Cycles a job runs before a bridge_stall stall: it has started, not ended. */
#define F8NPU_PCI_STALL_CYCLES 64
/*
 * A request waits for at most one run slice of the bridge (about 2 ms), or for one step of the
 * functional model (bounded by the bridge's --max-job-cycles): a mailbox silent this long means
 * the bridge is gone.
 */
#define F8NPU_PCI_MB_TIMEOUT_US (10 * USEC_PER_SEC)
#define F8NPU_PCI_DOORBELL 12 /* BAR0: peer << 16 | vector */

/**
 * struct f8npu_pci - the mailbox as a struct f8npu_dev.
 * @dev: the register interface (first: the ops find the struct from it).
 * @pdev: the PCI device.
 * @bar0: ivshmem registers (the doorbell).
 * @shm: BAR2, the shared memory: control page and ring.
 * @doorbell: the value that rings the bridge.
 * @lock: serialises every use of the mailbox (the hard handler uses it too).
 * @prod: requests posted (the guest's copy of REQ_PROD).
 * @dead: the mailbox stopped answering: reads return all ones, writes are dropped.
 */
struct f8npu_pci {
	struct f8npu_dev dev;
	struct pci_dev *pdev;
	void __iomem *bar0;
	void __iomem *shm;
	u32 doorbell;
	spinlock_t lock; /* the ring, prod, dead */
	u32 prod;
	bool dead;
};

static struct f8npu_pci *to_pci(struct f8npu_dev *dev)
{
	return container_of(dev, struct f8npu_pci, dev);
}

static void __iomem *f8npu_pci_slot(struct f8npu_pci *p, u32 seq)
{
	return p->shm + F8BR_RING_OFFSET + sizeof(struct f8br_req) * (seq % F8BR_RING_ENTRIES);
}

/* Spin until the bridge has answered every request below @upto (lock held). */
static bool f8npu_pci_wait(struct f8npu_pci *p, u32 upto)
{
	unsigned int us = 0;

	while ((s32)(ioread32(p->shm + F8BR_REQ_CONS_OFF) - upto) < 0) {
		if (us++ > F8NPU_PCI_MB_TIMEOUT_US) {
			if (!p->dead)
				dev_err(&p->pdev->dev, "the bridge's mailbox stopped answering\n");
			p->dead = true;
			return false;
		}
		udelay(1);
	}
	rmb(); /* the entries' answers after REQ_CONS */
	return true;
}

/* Post one request (lock held, mailbox alive); returns its seq. */
static u32 f8npu_pci_post(struct f8npu_pci *p, u16 op, u32 off, u32 val)
{
	u32 seq = p->prod;
	void __iomem *e;

	if (seq - ioread32(p->shm + F8BR_REQ_CONS_OFF) >= F8BR_RING_ENTRIES)
		f8npu_pci_wait(p, seq - F8BR_RING_ENTRIES + 1);
	e = f8npu_pci_slot(p, seq);
	iowrite32(seq, e);
	iowrite32(op, e + 4); /* status 0 */
	iowrite32(off, e + 8);
	iowrite32(val, e + 12);
	wmb(); /* the entry before REQ_PROD */
	p->prod = seq + 1;
	iowrite32(p->prod, p->shm + F8BR_REQ_PROD_OFF);
	iowrite32(p->doorbell, p->bar0 + F8NPU_PCI_DOORBELL);
	return seq;
}

static uint32_t f8npu_pci_read(struct f8npu_dev *dev, uint32_t off)
{
	struct f8npu_pci *p = to_pci(dev);
	unsigned long flags;
	u32 seq, val = 0xffffffff;

	spin_lock_irqsave(&p->lock, flags);
	if (!p->dead) {
		seq = f8npu_pci_post(p, F8BR_OP_READ, off, 0);
		if (f8npu_pci_wait(p, seq + 1) &&
		    !(ioread32(f8npu_pci_slot(p, seq) + 4) >> 16))
			val = ioread32(f8npu_pci_slot(p, seq) + 12);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return val;
}

/* Writes are posted: a later read returns after the bridge executed them. */
static void f8npu_pci_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	struct f8npu_pci *p = to_pci(dev);
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	if (!p->dead) {
		/* The test hook: the bridge stalls the job this START begins (STALL request). */
		if (off == F8NPU_REG_CTRL && (val & F8NPU_CTRL_START)) {
			unsigned int n = READ_ONCE(f8npu_bridge_stall);

			if (n) {
				WRITE_ONCE(f8npu_bridge_stall, n - 1);
				f8npu_pci_post(p, F8BR_OP_STALL, 1, F8NPU_PCI_STALL_CYCLES);
			}
		}
		f8npu_pci_post(p, F8BR_OP_WRITE, off, val);
	}
	spin_unlock_irqrestore(&p->lock, flags);
}

static bool f8npu_pci_irq(struct f8npu_dev *dev)
{
	struct f8npu_pci *p = to_pci(dev);

	return !READ_ONCE(p->dead) && ioread32(p->shm + F8BR_IRQ_LEVEL_OFF) != 0;
}

/* The bridge runs the device; the driver waits for its interrupt. */
static enum f8npu_run_result f8npu_pci_run(struct f8npu_dev *dev, uint64_t max_cycles,
					   uint64_t *cycles)
{
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE;
}

static const struct f8npu_dev_ops f8npu_pci_ops = {
	.reg_read = f8npu_pci_read,
	.reg_write = f8npu_pci_write,
	.irq = f8npu_pci_irq,
	.run = f8npu_pci_run,
};

/*
 * Mailbox reset: the ring indices survive a guest reboot. The bridge soft-resets the device,
 * empties the ring and acknowledges the token.
 */
static int f8npu_pci_mailbox_reset(struct f8npu_pci *p)
{
	u32 token = ioread32(p->shm + F8BR_RESET_ACK_OFF) + 1;
	unsigned int i;

	iowrite32(token, p->shm + F8BR_RESET_REQ_OFF);
	iowrite32(p->doorbell, p->bar0 + F8NPU_PCI_DOORBELL);
	/* The bridge also rescans every 20 ms: a lost doorbell only costs time. */
	for (i = 0; i < 10000; i++) {
		if (ioread32(p->shm + F8BR_RESET_ACK_OFF) == token) {
			p->prod = 0;
			p->dead = false;
			return 0;
		}
		usleep_range(500, 1000);
	}
	return -ETIMEDOUT;
}

static int f8npu_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct f8npu_device *fdev;
	struct f8npu_pci *p;
	u64 win_size;
	int ret, irq;

	fdev = devm_drm_dev_alloc(dev, &f8npu_drm_driver, struct f8npu_device, drm);
	if (IS_ERR(fdev))
		return PTR_ERR(fdev);
	p = devm_kzalloc(dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->dev.ops = &f8npu_pci_ops;
	p->pdev = pdev;
	spin_lock_init(&p->lock);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0) | BIT(2), "f8npu");
	if (ret)
		return ret;
	p->bar0 = pcim_iomap_table(pdev)[0];
	p->shm = pcim_iomap_table(pdev)[2];

	/* At least the control page, the ring and a few pages of window (the bridge: 1 MiB). */
	if (pci_resource_len(pdev, 2) < F8BR_WIN_OFFSET + 4 * PAGE_SIZE)
		return dev_err_probe(dev, -ENODEV, "BAR2 too small for f8npu-bridge\n");
	if (ioread32(p->shm + F8BR_MAGIC_OFF) != F8BR_MAGIC ||
	    ioread32(p->shm + F8BR_VERSION_OFF) >> 16 != F8BR_VERSION_MAJOR ||
	    ioread32(p->shm + F8BR_STATE_OFF) != F8BR_STATE_READY)
		return dev_err_probe(dev, -ENODEV, "not served by f8npu-bridge 1.x\n");
	win_size = ioread32(p->shm + F8BR_WIN_SIZE_OFF) |
		   (u64)ioread32(p->shm + F8BR_WIN_SIZE_OFF + 4) << 32;
	if (ioread32(p->shm + F8BR_WIN_OFFSET_OFF) != F8BR_WIN_OFFSET ||
	    win_size < 4 * PAGE_SIZE ||
	    win_size > pci_resource_len(pdev, 2) - F8BR_WIN_OFFSET)
		return dev_err_probe(dev, -ENODEV, "bad window: %llu bytes\n", win_size);
	p->doorbell = ioread32(p->shm + F8BR_BRIDGE_PEER_OFF) << 16 | F8BR_VEC_MAILBOX;

	ret = f8npu_pci_mailbox_reset(p);
	if (ret)
		return dev_err_probe(dev, ret, "the bridge did not acknowledge a mailbox reset\n");

	/*
	 * The window is ordinary memory on the host: a write-back mapping for the bounce copies
	 * (f8npu_mem.c), as fast as the uncached one or faster under TCG (docs/cosim.md).
	 */
	fdev->carveout = devm_memremap(dev, pci_resource_start(pdev, 2) + F8BR_WIN_OFFSET,
				       win_size, MEMREMAP_WB);
	if (IS_ERR(fdev->carveout))
		return PTR_ERR(fdev->carveout);
	fdev->carveout_base = 0;

	/* MSI-X messages are memory writes by the device: without bus mastering QEMU drops them. */
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		return dev_err_probe(dev, ret, "no MSI-X vector\n");
	irq = pci_irq_vector(pdev, F8BR_IRQ_VEC_DEVICE);

	fdev->hw = &p->dev;
	fdev->dev_flags = F8NPU_DEV_BRIDGE;
	pci_set_drvdata(pdev, fdev);
	/* Device address 0 stays unused: the window from its second page. */
	ret = f8npu_device_init(fdev, irq, PAGE_SIZE, win_size - PAGE_SIZE);
	if (!ret)
		atomic_inc(&f8npu_pci_nbound);
	return ret;
}

static void f8npu_pci_remove(struct pci_dev *pdev)
{
	struct f8npu_device *fdev = pci_get_drvdata(pdev);

	f8npu_device_fini(fdev);
	f8npu_dev_write(fdev->hw, F8NPU_REG_IRQ_MASK, 0);
	atomic_dec(&f8npu_pci_nbound);
	/* The interrupt, the vectors, the mappings and the device are released by devres. */
}

static const struct pci_device_id f8npu_pci_ids[] = {
	/* QEMU's ivshmem-doorbell: f8npu-bridge's control page says whether it is ours. */
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, f8npu_pci_ids);

static struct pci_driver f8npu_pci_driver = {
	.name = "f8npu",
	.id_table = f8npu_pci_ids,
	.probe = f8npu_pci_probe,
	.remove = f8npu_pci_remove,
};

int f8npu_pci_register(void)
{
	return pci_register_driver(&f8npu_pci_driver);
}

void f8npu_pci_unregister(void)
{
	pci_unregister_driver(&f8npu_pci_driver);
}

/* Whether a bridged device is bound (at module load: the virtual device stays out then). */
bool f8npu_pci_bound(void)
{
	return atomic_read(&f8npu_pci_nbound) > 0;
}
