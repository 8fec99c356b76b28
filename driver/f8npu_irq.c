// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The interrupt path: the hard handler asks sim/'s programming layer whether
 * the interrupt is ours and acknowledges it; the threaded handler completes
 * the running job and wakes the queue worker. The virtual device calls both
 * from its work item, so this path runs in the VM tests too.
 */
#include "f8npu_drv.h"

irqreturn_t f8npu_irq_hard(int irq, void *arg)
{
	struct f8npu_device *fdev = arg;
	unsigned long flags;
	u32 events;

	events = f8npu_prog_irq(fdev->hw);
	if (!events)
		return IRQ_NONE; /* a shared line: not ours */
	spin_lock_irqsave(&fdev->irq_lock, flags);
	fdev->events |= events;
	spin_unlock_irqrestore(&fdev->irq_lock, flags);
	return IRQ_WAKE_THREAD;
}

irqreturn_t f8npu_irq_thread(int irq, void *arg)
{
	struct f8npu_device *fdev = arg;
	struct f8npu_job *job;
	u32 events;

	spin_lock_irq(&fdev->irq_lock);
	events = fdev->events;
	fdev->events = 0;
	job = fdev->cur;
	/* Taking the job makes the handler the one that completes it (f8npu_job_exec). */
	if (job && (events & F8NPU_IRQ_ALL))
		fdev->cur = NULL;
	else
		job = NULL;
	spin_unlock_irq(&fdev->irq_lock);

	if (job) {
		f8npu_prog_complete_job(fdev->hw, events, &job->res);
		complete(&job->hw_done);
	}
	return IRQ_HANDLED;
}
