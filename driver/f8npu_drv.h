/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * f8npu DRM driver: the structures its files share (docs/driver.md).
 * The device is reached only through struct f8npu_dev (sim/) and the
 * register-programming layer sim/f8npu_prog.c.
 */
#ifndef F8NPU_DRV_H
#define F8NPU_DRV_H

#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/dma-fence.h>
#include <linux/interrupt.h>
#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <drm/drm_device.h>
#include <drm/drm_mm.h>

#include "f8npu_dev.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"
#include "f8npu_drm.h"

#define F8NPU_DRIVER_MAJOR F8NPU_UAPI_VERSION_MAJOR
#define F8NPU_DRIVER_MINOR F8NPU_UAPI_VERSION_MINOR

#define F8NPU_MAX_BO_SIZE BIT_ULL(32)
#define F8NPU_MAX_CMD_SIZE BIT(24)
#define F8NPU_MAX_IN_SYNCS 64u
/* Buffers of one job: the command buffer and one per region. */
#define F8NPU_JOB_MAX_BOS (F8NPU_REGIONS + 1)
#define F8NPU_NO_BO 0xff

/* Module parameters (f8npu_drv.c). */
extern unsigned int f8npu_job_timeout_ms;
extern unsigned int f8npu_max_inflight;
extern unsigned int f8npu_job_history;
extern bool f8npu_virt_hang;
extern bool f8npu_virt_fault;

/* One buffer of the running job as the device sees it. */
struct f8npu_bind {
	struct drm_mm_node node; /* device address range (+ guard page) */
	u64 iova;
	u64 size;
	u8 *vaddr; /* kernel mapping of the buffer */
};

/**
 * struct f8npu_device - one f8npu.
 * @drm: the DRM device (first: devm_drm_dev_alloc embeds it).
 * @hw: the register interface: sim/'s model (virtual) or the MMIO block.
 * @virt: the virtual device, or NULL on hardware.
 * @dev_flags: F8NPU_DEV_* of QUERY, set by the binding before f8npu_device_init().
 * @query: the answer to DRM_IOCTL_F8NPU_QUERY, read once at probe.
 * @mm: the device address space handed out to the running job's buffers.
 * @carveout: hardware only: kernel mapping of the reserved memory (board) or
 *	of the bridge's window (PCI) that holds the device address space
 *	[mm start, mm end); buffers are copied in and out of it around a
 *	job. NULL on the virtual device.
 * @carveout_base: device address of @carveout.
 * @mm_size: size of the device address space.
 * @binds: the running job's buffers (the virtual device's DMA callback
 *	reads them while the job runs; the queue worker owns them).
 * @nbinds: entries of @binds in use.
 * @wq: the job queue: ordered, so jobs run one at a time in submission order.
 * @submit_lock: fence seqnos and queue order are the same order.
 * @fence_context: the queue's dma_fence timeline.
 * @seqno: the last job's fence seqno.
 * @fence_lock: the fences' lock.
 * @irq_lock: guards @cur and @events between the interrupt handlers and
 *	the queue worker.
 * @cur: the job the device runs, or NULL.
 * @events: interrupt events latched by the hard handler for the thread.
 */
struct f8npu_device {
	struct drm_device drm;
	struct f8npu_dev *hw;
	struct f8npu_virt *virt;
	u32 dev_flags;
	struct drm_f8npu_query query;

	struct drm_mm mm;
	void *carveout;
	u64 carveout_base;
	u64 mm_size;
	struct f8npu_bind binds[F8NPU_JOB_MAX_BOS];
	unsigned int nbinds;

	struct workqueue_struct *wq;
	struct mutex submit_lock; /* seqno and queue order */
	u64 fence_context;
	u64 seqno;
	spinlock_t fence_lock; /* the fences' own */

	spinlock_t irq_lock; /* cur, events */
	struct f8npu_job *cur;
	u32 events;
};

static inline struct f8npu_device *to_f8npu(struct drm_device *drm)
{
	return container_of(drm, struct f8npu_device, drm);
}

/**
 * struct f8npu_file - per-open-file context.
 * @ref: held by the file and by each of its unfinished jobs.
 * @lock: guards @jobs, @next_id, @done, @ndone, @closed.
 * @jobs: job id -> job (one fence reference each).
 * @next_id: the next job id.
 * @done: finished jobs, oldest first, for the history limit.
 * @ndone: entries on @done.
 * @closed: the file is gone: finishing jobs no longer join @done.
 * @inflight: jobs queued or running.
 */
struct f8npu_file {
	struct kref ref;
	struct mutex lock; /* jobs, next_id, done, ndone, closed */
	struct xarray jobs;
	u64 next_id;
	struct list_head done;
	unsigned int ndone;
	bool closed;
	atomic_t inflight;
};

/**
 * struct f8npu_job - one submitted job; freed with its fence (first member).
 * @fence: signalled when the job ends.
 * @fdev: the device.
 * @ctx: the submitter's context (referenced until the job ends).
 * @id: job id in @ctx.
 * @work: queue item.
 * @done_link: on @ctx->done once finished.
 * @objs: the job's distinct buffers, referenced until it ends.
 * @maps: their kernel mappings, until it ends.
 * @nobjs: entries of @objs.
 * @region_bo: per region, index into @objs or F8NPU_NO_BO.
 * @cmd_bo: index of the command buffer in @objs.
 * @cmd_offset: the stream's offset in its buffer.
 * @cmd_size: the stream's size.
 * @desc_count: descriptors, from its header.
 * @in_fences: fences waited for before the start.
 * @n_in: entries of @in_fences.
 * @timeout: job timeout in jiffies.
 * @hw_done: completed by the threaded interrupt handler.
 * @res: how the device ended the job (filled by the handler).
 * @finished: the fields below are final.
 * @status: F8NPU_JOB_*.
 * @err_code: the device's error code with F8NPU_JOB_ERROR.
 * @err_index: the descriptor index of that error.
 * @perf: the job's own counters.
 * @duration_ns: start to end.
 */
struct f8npu_job {
	struct dma_fence fence;
	struct f8npu_device *fdev;
	struct f8npu_file *ctx;
	u64 id;
	struct work_struct work;
	struct list_head done_link;

	struct drm_gem_object *objs[F8NPU_JOB_MAX_BOS];
	struct iosys_map maps[F8NPU_JOB_MAX_BOS];
	unsigned int nobjs;
	u8 region_bo[F8NPU_REGIONS];
	u8 cmd_bo;
	u64 cmd_offset;
	u32 cmd_size;
	u32 desc_count;
	struct dma_fence **in_fences;
	unsigned int n_in;
	unsigned long timeout;

	struct completion hw_done;
	struct f8npu_job_result res;

	bool finished;
	u32 status;
	u32 err_code;
	u32 err_index;
	struct f8npu_perf perf;
	u64 duration_ns;
};

/* f8npu_drv.c */
int f8npu_device_init(struct f8npu_device *fdev, int irq, u64 mm_start, u64 mm_size);
void f8npu_device_fini(struct f8npu_device *fdev);
extern const struct drm_driver f8npu_drm_driver;

/* f8npu_gem.c */
int f8npu_ioctl_gem_create(struct drm_device *drm, void *data, struct drm_file *file);
int f8npu_ioctl_gem_mmap_offset(struct drm_device *drm, void *data, struct drm_file *file);
int f8npu_ioctl_gem_wait(struct drm_device *drm, void *data, struct drm_file *file);

/* f8npu_job.c */
int f8npu_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file);
int f8npu_ioctl_job_wait(struct drm_device *drm, void *data, struct drm_file *file);
struct f8npu_file *f8npu_file_create(void);
void f8npu_file_close(struct f8npu_file *ctx);

/* f8npu_irq.c */
irqreturn_t f8npu_irq_hard(int irq, void *arg);
irqreturn_t f8npu_irq_thread(int irq, void *arg);

/* f8npu_mem.c */
int f8npu_mem_bind(struct f8npu_device *fdev, struct f8npu_job *job);
void f8npu_mem_unbind(struct f8npu_device *fdev);
u8 *f8npu_mem_map(struct f8npu_device *fdev, u64 addr, u64 len);

/* f8npu_virt.c */
int f8npu_virt_register(void);
void f8npu_virt_unregister(void);
void f8npu_virt_stop(struct f8npu_virt *virt);

/* f8npu_plat.c */
extern struct platform_driver f8npu_plat_driver;

/* f8npu_pci.c (built with CONFIG_PCI) */
#if IS_ENABLED(CONFIG_PCI)
int f8npu_pci_register(void);
void f8npu_pci_unregister(void);
bool f8npu_pci_bound(void);
#else
static inline int f8npu_pci_register(void) { return 0; }
static inline void f8npu_pci_unregister(void) { }
static inline bool f8npu_pci_bound(void) { return false; }
#endif

#endif /* F8NPU_DRV_H */
