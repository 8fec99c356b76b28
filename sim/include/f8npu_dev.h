/* SPDX-License-Identifier: MIT */
/*
 * "A device": the one C interface that the functional model, the Verilated
 * RTL and (through the kernel) the FPGA present. Everything above it, the
 * register-programming layer (f8npu_prog.h), the runner, the tests and the
 * runtime backends, is written once against this table.
 *
 * The device reaches memory only through the mem callback (its DMA port);
 * it raises one level-triggered interrupt line; time advances only inside
 * run(). Freestanding: no libc, so the kernel module can host the model.
 *
 * Usage:
 *	struct f8npu_dev *dev = f8npu_model_create(NULL, &mem);   (f8npu_model.h)
 *	f8npu_dev_write(dev, F8NPU_REG_IRQ_MASK, F8NPU_IRQ_ALL);
 *	...program regions and the command queue (docs/regs.md)...
 *	f8npu_dev_run(dev, UINT64_MAX, &cycles);
 *	if (f8npu_dev_irq(dev)) status = f8npu_dev_read(dev, F8NPU_REG_IRQ_STATUS);
 *	f8npu_dev_destroy(dev);
 */
#ifndef F8NPU_DEV_H
#define F8NPU_DEV_H

#ifdef __KERNEL__
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct f8npu_mem - the device's view of memory (its DMA master port).
 * @map: return a host pointer through which the device may access @len bytes
 *	of device memory at @addr (writing them if @write), or NULL if that
 *	range is not backed by memory (the device then stops with ERR_BUS).
 *	The range never wraps and @len >= 1.
 * @user: passed back to @map.
 */
struct f8npu_mem {
	uint8_t *(*map)(void *user, uint64_t addr, uint64_t len, bool write);
	void *user;
};

enum f8npu_run_result {
	F8NPU_RUN_IDLE = 0,   /* not busy, or busy waiting for the doorbell */
	F8NPU_RUN_BUDGET = 1, /* the cycle budget ran out with work pending */
};

struct f8npu_dev;

/**
 * struct f8npu_dev_ops - one device implementation.
 * @reg_read: read the 32-bit register at byte offset @off (docs/regs.md).
 * @reg_write: write it; reads/writes of undefined offsets read 0 / are ignored.
 * @irq: level of the interrupt line: (IRQ_STATUS & IRQ_MASK) != 0.
 * @run: advance time by at most about @max_cycles cycles or until idle; the
 *	cycles actually spent are stored to *@cycles (may be NULL).
 * @destroy: release the device (optional: NULL when the caller owns it).
 */
struct f8npu_dev_ops {
	uint32_t (*reg_read)(struct f8npu_dev *dev, uint32_t off);
	void (*reg_write)(struct f8npu_dev *dev, uint32_t off, uint32_t val);
	bool (*irq)(struct f8npu_dev *dev);
	enum f8npu_run_result (*run)(struct f8npu_dev *dev, uint64_t max_cycles, uint64_t *cycles);
	void (*destroy)(struct f8npu_dev *dev);
};

/* Every implementation embeds this as its first member. */
struct f8npu_dev {
	const struct f8npu_dev_ops *ops;
};

static inline uint32_t f8npu_dev_read(struct f8npu_dev *dev, uint32_t off)
{
	return dev->ops->reg_read(dev, off);
}

static inline void f8npu_dev_write(struct f8npu_dev *dev, uint32_t off, uint32_t val)
{
	dev->ops->reg_write(dev, off, val);
}

static inline bool f8npu_dev_irq(struct f8npu_dev *dev)
{
	return dev->ops->irq(dev);
}

static inline enum f8npu_run_result f8npu_dev_run(struct f8npu_dev *dev, uint64_t max_cycles,
						  uint64_t *cycles)
{
	return dev->ops->run(dev, max_cycles, cycles);
}

static inline void f8npu_dev_destroy(struct f8npu_dev *dev)
{
	if (dev && dev->ops->destroy)
		dev->ops->destroy(dev);
}

#ifdef __cplusplus
}
#endif

#endif /* F8NPU_DEV_H */
