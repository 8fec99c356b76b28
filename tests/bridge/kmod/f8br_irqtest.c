// SPDX-License-Identifier: MIT
/*
 * f8br_ktest.ko (this file + sim/f8npu_prog.c; tests/bridge/kmod/Kbuild): a test module for the VM, not the driver. It binds the ivshmem-doorbell
 * device that f8npu-bridge serves (1af4:1110) and checks, from the kernel, what the driver's
 * PCI binding will rely on (docs/cosim.md): the mailbox driven under a spinlock with
 * interrupts off (also from the hard interrupt handler), sim/f8npu_prog.c on top of it through
 * a struct f8npu_dev, the device interrupt as MSI-X vector 0, a CONV2D job (tests/bridge/
 * bridge-job.h) completed by that interrupt, and a stalled job (the mailbox's STALL request)
 * that times out, is soft-reset, and is followed by a good job. It reports with pr_info lines
 * "f8br_irqtest: ..." that tests/bridge/qemu-probe.sh reads; "f8br_irqtest: ok" at the end.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "f8npu_bridge.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"
#include "bridge-job.h"

#define MB_TIMEOUT_US (20 * USEC_PER_SEC)

struct f8br {
	struct f8npu_dev dev; /* first: the prog layer's handle */
	struct pci_dev *pdev;
	void __iomem *bar0;
	void __iomem *shm;
	spinlock_t lock; /* the mailbox: one producer */
	u32 prod;
	bool dead;
	u32 events;
	unsigned int irqs;
	s64 copy_us; /* the last run_job's copy into the window */
	struct completion done;
};

static inline struct f8br *to_f8br(struct f8npu_dev *dev)
{
	return container_of(dev, struct f8br, dev);
}

static void __iomem *slot(struct f8br *b, u32 seq)
{
	return b->shm + F8BR_RING_OFFSET + 16 * (seq % F8BR_RING_ENTRIES);
}

/* Wait (spinning) until the bridge has answered every request below @upto. */
static bool wait_cons(struct f8br *b, u32 upto)
{
	unsigned int us = 0;

	while ((s32)(ioread32(b->shm + F8BR_REQ_CONS_OFF) - upto) < 0) {
		if (us++ > MB_TIMEOUT_US) {
			b->dead = true;
			return false;
		}
		udelay(1);
	}
	rmb();
	return true;
}

/* Post one request (caller holds the lock); returns its seq. */
static u32 post(struct f8br *b, u16 op, u32 off, u32 val)
{
	u32 seq = b->prod;
	void __iomem *e;

	if (seq - ioread32(b->shm + F8BR_REQ_CONS_OFF) >= F8BR_RING_ENTRIES)
		wait_cons(b, seq - F8BR_RING_ENTRIES + 1);
	e = slot(b, seq);
	iowrite32(seq, e);
	iowrite32(op, e + 4); /* op, status 0 */
	iowrite32(off, e + 8);
	iowrite32(val, e + 12);
	wmb();
	b->prod = seq + 1;
	iowrite32(b->prod, b->shm + F8BR_REQ_PROD_OFF);
	iowrite32(ioread32(b->shm + F8BR_BRIDGE_PEER_OFF) << 16 | F8BR_VEC_MAILBOX, b->bar0 + 12);
	return seq;
}

static u32 mb_read(struct f8npu_dev *dev, u32 off)
{
	struct f8br *b = to_f8br(dev);
	unsigned long flags;
	u32 seq, v = 0xffffffff;

	spin_lock_irqsave(&b->lock, flags);
	if (!b->dead) {
		seq = post(b, F8BR_OP_READ, off, 0);
		if (wait_cons(b, seq + 1) && !(ioread32(slot(b, seq) + 4) >> 16))
			v = ioread32(slot(b, seq) + 12);
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return v;
}

static void mb_write(struct f8npu_dev *dev, u32 off, u32 val)
{
	struct f8br *b = to_f8br(dev);
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	if (!b->dead)
		post(b, F8BR_OP_WRITE, off, val); /* posted */
	spin_unlock_irqrestore(&b->lock, flags);
}

static bool mb_irq(struct f8npu_dev *dev)
{
	return ioread32(to_f8br(dev)->shm + F8BR_IRQ_LEVEL_OFF) != 0;
}

static enum f8npu_run_result mb_run(struct f8npu_dev *dev, u64 max_cycles, u64 *cycles)
{
	if (cycles)
		*cycles = 0;
	return F8NPU_RUN_IDLE; /* the bridge runs the device */
}

static const struct f8npu_dev_ops mb_ops = {
	.reg_read = mb_read,
	.reg_write = mb_write,
	.irq = mb_irq,
	.run = mb_run,
};

static irqreturn_t f8br_hardirq(int irq, void *data)
{
	struct f8br *b = data;
	u32 events = f8npu_prog_irq(&b->dev);

	b->irqs++;
	if (!events)
		return IRQ_NONE;
	b->events |= events;
	complete(&b->done);
	return IRQ_HANDLED;
}

static bool mailbox_reset(struct f8br *b)
{
	u32 token = ioread32(b->shm + F8BR_RESET_ACK_OFF) + 1;
	unsigned int us;

	iowrite32(token, b->shm + F8BR_RESET_REQ_OFF);
	iowrite32(ioread32(b->shm + F8BR_BRIDGE_PEER_OFF) << 16 | F8BR_VEC_MAILBOX, b->bar0 + 12);
	for (us = 0; us < 100 * 1000; us++) {
		if (ioread32(b->shm + F8BR_RESET_ACK_OFF) == token) {
			b->prod = 0;
			return true;
		}
		usleep_range(10, 20);
	}
	return false;
}

/* Copy the job in, start it, wait for its interrupt: false on timeout. */
static bool run_job(struct f8br *b, const u8 *job, u32 cmd_size, unsigned long timeout,
		    struct f8npu_job_result *res)
{
	void __iomem *win = b->shm + F8BR_WIN_OFFSET;
	ktime_t t0 = ktime_get();
	u32 r;

	memcpy_toio(win, job, F8BR_JOB_SPAN);
	b->copy_us = ktime_us_delta(ktime_get(), t0);
	memset(res, 0, sizeof(*res));
	reinit_completion(&b->done);
	b->events = 0;
	f8npu_dev_write(&b->dev, F8NPU_REG_CTRL, F8NPU_CTRL_PERF_CLEAR);
	for (r = 0; r < 4; r++)
		f8npu_prog_set_region(&b->dev, r, F8BR_JOB_SRC + r * F8BR_JOB_REGION, F8BR_JOB_REGION);
	f8npu_prog_start_job(&b->dev, F8BR_JOB_CMD, cmd_size, F8BR_JOB_DESCS);
	if (!wait_for_completion_timeout(&b->done, timeout))
		return false;
	f8npu_prog_complete_job(&b->dev, b->events, res);
	return true;
}

static void report(struct f8br *b, const char *what, const struct f8npu_job_result *res)
{
	u8 *out = kmalloc(F8BR_JOB_OUT_BYTES, GFP_KERNEL);

	if (!out)
		return;
	memcpy_fromio(out, b->shm + F8BR_WIN_OFFSET + F8BR_JOB_DST, F8BR_JOB_OUT_BYTES);
	pr_info("f8br_irqtest: %s done=%d err=%u fnv=%08x macs=%llu rd=%llu wr=%llu descs=%u irqs=%u\n",
		what, res->done, res->err, f8br_fnv(out, F8BR_JOB_OUT_BYTES), res->perf.macs,
		res->perf.rd_bytes, res->perf.wr_bytes, res->perf.descs, b->irqs);
	kfree(out);
}

/*
 * How fast the guest copies into and out of the window (the driver's bounce buffers): through
 * the uncached iomap (memcpy_toio / memcpy_fromio) and through a write-back memremap().
 */
static void copy_bench(struct f8br *b)
{
	const size_t len = 4u << 20;
	resource_size_t base = pci_resource_start(b->pdev, 2) + F8BR_WIN_OFFSET;
	void *buf = vzalloc(len), *wb;
	ktime_t t0;
	s64 us[4];

	if (!buf)
		return;
	t0 = ktime_get();
	memcpy_toio(b->shm + F8BR_WIN_OFFSET, buf, len);
	us[0] = ktime_us_delta(ktime_get(), t0);
	t0 = ktime_get();
	memcpy_fromio(buf, b->shm + F8BR_WIN_OFFSET, len);
	us[1] = ktime_us_delta(ktime_get(), t0);
	wb = memremap(base, len, MEMREMAP_WB);
	if (wb) {
		t0 = ktime_get();
		memcpy(wb, buf, len);
		us[2] = ktime_us_delta(ktime_get(), t0);
		t0 = ktime_get();
		memcpy(buf, wb, len);
		us[3] = ktime_us_delta(ktime_get(), t0);
		memunmap(wb);
		pr_info("f8br_irqtest: copy 4 MiB: iomap to %lld us, from %lld us; memremap WB to %lld us, from %lld us\n",
			us[0], us[1], us[2], us[3]);
	} else {
		pr_info("f8br_irqtest: copy 4 MiB: iomap to %lld us, from %lld us; memremap WB failed\n",
			us[0], us[1]);
	}
	vfree(buf);
}

static int f8br_test(struct f8br *b)
{
	struct f8npu_job_result res;
	u32 cmd_size, status;
	u8 *job;
	ktime_t t0;
	bool ok = true;

	job = kzalloc(F8BR_JOB_SPAN, GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	cmd_size = f8br_job_build(job);

	/* A job completed by MSI-X vector 0. */
	t0 = ktime_get();
	if (!run_job(b, job, cmd_size, 10 * HZ, &res)) {
		pr_err("f8br_irqtest: FAIL no interrupt in 10 s (irq_level %u, irq_count %u)\n",
		       ioread32(b->shm + F8BR_IRQ_LEVEL_OFF), ioread32(b->shm + F8BR_IRQ_COUNT_OFF));
		kfree(job);
		return -ETIMEDOUT;
	}
	report(b, "job", &res);
	pr_info("f8br_irqtest: job took %lld us from the first register write to the interrupt's completion (+ %lld us copying %u KiB into the window)\n",
		ktime_us_delta(ktime_get(), t0) - b->copy_us, b->copy_us, F8BR_JOB_SPAN >> 10);
	ok = ok && res.done && !res.err;

	/* A stalled job: no interrupt, BUSY; soft reset; then a good job. */
	{
		unsigned long flags;
		u32 seq;

		spin_lock_irqsave(&b->lock, flags);
		seq = post(b, F8BR_OP_STALL, 1, 50);
		wait_cons(b, seq + 1);
		spin_unlock_irqrestore(&b->lock, flags);
	}
	if (run_job(b, job, cmd_size, HZ / 2, &res)) {
		pr_err("f8br_irqtest: FAIL the stalled job raised an interrupt\n");
		ok = false;
	}
	status = f8npu_dev_read(&b->dev, F8NPU_REG_STATUS);
	pr_info("f8br_irqtest: stalled job: STATUS %#x job_state %u after 0.5 s\n", status,
		ioread32(b->shm + F8BR_JOB_STATE_OFF));
	ok = ok && (status & F8NPU_STATUS_BUSY);
	f8npu_prog_reset(&b->dev);
	status = f8npu_dev_read(&b->dev, F8NPU_REG_STATUS);
	pr_info("f8br_irqtest: after soft reset: STATUS %#x\n", status);
	ok = ok && status == 0;
	if (!run_job(b, job, cmd_size, 10 * HZ, &res)) {
		pr_err("f8br_irqtest: FAIL no interrupt for the job after the reset\n");
		ok = false;
	} else {
		report(b, "job-after-reset", &res);
		ok = ok && res.done && !res.err;
	}
	kfree(job);
	copy_bench(b);
	pr_info("f8br_irqtest: %s\n", ok && !b->dead ? "ok" : "FAILED");
	return 0;
}

static int f8br_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct f8br *b;
	int ret, irq;

	b = devm_kzalloc(&pdev->dev, sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->dev.ops = &mb_ops;
	b->pdev = pdev;
	spin_lock_init(&b->lock);
	init_completion(&b->done);
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0) | BIT(2), "f8br_irqtest");
	if (ret)
		return ret;
	b->bar0 = pcim_iomap_table(pdev)[0];
	b->shm = pcim_iomap_table(pdev)[2];
	pr_info("f8br_irqtest: BAR2 %llu MiB, IVPosition %u, magic %#x version %#x state %u\n",
		(unsigned long long)pci_resource_len(pdev, 2) >> 20, ioread32(b->bar0 + 8),
		ioread32(b->shm + F8BR_MAGIC_OFF), ioread32(b->shm + F8BR_VERSION_OFF),
		ioread32(b->shm + F8BR_STATE_OFF));
	if (ioread32(b->shm + F8BR_MAGIC_OFF) != F8BR_MAGIC ||
	    ioread32(b->shm + F8BR_VERSION_OFF) >> 16 != F8BR_VERSION_MAJOR ||
	    ioread32(b->shm + F8BR_STATE_OFF) != F8BR_STATE_READY)
		return -ENODEV;
	if (!mailbox_reset(b)) {
		pr_err("f8br_irqtest: FAIL no mailbox reset acknowledgement\n");
		return -ETIMEDOUT;
	}
	if (f8npu_prog_check_id(&b->dev)) {
		pr_err("f8br_irqtest: FAIL not an f8npu (ID %#x)\n", f8npu_dev_read(&b->dev, F8NPU_REG_ID));
		return -ENODEV;
	}
	/* MSI-X messages are memory writes by the device: without bus mastering QEMU drops them. */
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	irq = pci_irq_vector(pdev, 0);
	ret = devm_request_irq(&pdev->dev, irq, f8br_hardirq, 0, "f8br_irqtest", b);
	if (ret) {
		pci_free_irq_vectors(pdev);
		return ret;
	}
	pci_set_drvdata(pdev, b);
	pr_info("f8br_irqtest: f8npu IMPL %u, CAP_ARRAY %#x, MSI-X vector 0 = irq %d\n",
		f8npu_dev_read(&b->dev, F8NPU_REG_IMPL), f8npu_dev_read(&b->dev, F8NPU_REG_CAP_ARRAY), irq);
	f8br_test(b);
	return 0;
}

static void f8br_remove(struct pci_dev *pdev)
{
	struct f8br *b = pci_get_drvdata(pdev);

	f8npu_dev_write(&b->dev, F8NPU_REG_IRQ_MASK, 0);
	devm_free_irq(&pdev->dev, pci_irq_vector(pdev, 0), b);
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id f8br_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, f8br_ids);

static struct pci_driver f8br_driver = {
	.name = "f8br_irqtest",
	.id_table = f8br_ids,
	.probe = f8br_probe,
	.remove = f8br_remove,
};
module_pci_driver(f8br_driver);

MODULE_DESCRIPTION("f8npu bridge: kernel-side test of the mailbox and MSI-X (docs/cosim.md)");
MODULE_LICENSE("Dual MIT/GPL");
