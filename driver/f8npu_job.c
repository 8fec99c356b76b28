// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Jobs: SUBMIT checks and queues, the queue worker runs one job at a time
 * on the device (timeout: reset, and the queue goes on), JOB_WAIT returns a
 * job's result to its submitter. Lifecycle: docs/driver.md.
 */
#include <linux/dma-resv.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_syncobj.h>
#include <drm/drm_utils.h>

#include "f8npu_drv.h"
#include "f8npu_validate.h"

/* Fences the job waits for before it starts: at most this many times its timeout. */
#define F8NPU_IN_FENCE_WAIT_FACTOR 10

static const char *f8npu_fence_driver_name(struct dma_fence *fence)
{
	return "f8npu";
}

static const char *f8npu_fence_timeline_name(struct dma_fence *fence)
{
	return "f8npu-queue";
}

/* No .release: dma_fence_free() frees the job, whose first member is the fence. */
static const struct dma_fence_ops f8npu_fence_ops = {
	.get_driver_name = f8npu_fence_driver_name,
	.get_timeline_name = f8npu_fence_timeline_name,
};

struct f8npu_file *f8npu_file_create(void)
{
	struct f8npu_file *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return NULL;
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	xa_init(&ctx->jobs);
	INIT_LIST_HEAD(&ctx->done);
	ctx->next_id = 1;
	return ctx;
}

static void f8npu_file_release(struct kref *ref)
{
	struct f8npu_file *ctx = container_of(ref, struct f8npu_file, ref);

	xa_destroy(&ctx->jobs);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

void f8npu_file_close(struct f8npu_file *ctx)
{
	struct f8npu_job *job;
	unsigned long id;

	mutex_lock(&ctx->lock);
	ctx->closed = true;
	xa_for_each(&ctx->jobs, id, job)
		dma_fence_put(&job->fence);
	xa_destroy(&ctx->jobs);
	INIT_LIST_HEAD(&ctx->done);
	mutex_unlock(&ctx->lock);
	/* Unfinished jobs keep the context until they end. */
	kref_put(&ctx->ref, f8npu_file_release);
}

/* Drop the oldest results beyond the history limit (ctx->lock held). */
static void f8npu_file_trim(struct f8npu_file *ctx)
{
	while (ctx->ndone > f8npu_job_history) {
		struct f8npu_job *job = list_first_entry(&ctx->done, struct f8npu_job, done_link);

		list_del(&job->done_link);
		ctx->ndone--;
		xa_erase(&ctx->jobs, job->id);
		dma_fence_put(&job->fence);
	}
}

/* Release what a job holds besides its fence: buffers, mappings, in-fences. */
static void f8npu_job_release_bos(struct f8npu_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nobjs; i++) {
		if (!iosys_map_is_null(&job->maps[i]))
			drm_gem_shmem_vunmap(to_drm_gem_shmem_obj(job->objs[i]), &job->maps[i]);
		drm_gem_object_put(job->objs[i]);
	}
	job->nobjs = 0;
	for (i = 0; i < job->n_in; i++)
		dma_fence_put(job->in_fences[i]);
	kfree(job->in_fences);
	job->in_fences = NULL;
	job->n_in = 0;
}

/* Index of @obj in the job's buffers, adding it (and keeping the reference) if new. */
static u8 f8npu_job_add_bo(struct f8npu_job *job, struct drm_gem_object *obj)
{
	unsigned int i;

	for (i = 0; i < job->nobjs; i++) {
		if (job->objs[i] == obj) {
			drm_gem_object_put(obj);
			return i;
		}
	}
	job->objs[job->nobjs] = obj;
	return job->nobjs++;
}

static int f8npu_job_lookup_bos(struct f8npu_job *job, struct drm_file *file,
				const struct drm_f8npu_submit *args)
{
	u32 handles[F8NPU_REGIONS];
	struct drm_gem_object *obj;
	unsigned int r;

	memset(job->region_bo, F8NPU_NO_BO, sizeof(job->region_bo));
	if (copy_from_user(handles, u64_to_user_ptr(args->regions),
			   args->region_count * sizeof(handles[0])))
		return -EFAULT;

	obj = drm_gem_object_lookup(file, args->cmd_handle);
	if (!obj)
		return -ENOENT;
	job->cmd_bo = f8npu_job_add_bo(job, obj);
	if (args->cmd_offset > obj->size || args->cmd_size > obj->size - args->cmd_offset)
		return -EINVAL;

	for (r = 0; r < args->region_count; r++) {
		if (!handles[r])
			continue;
		obj = drm_gem_object_lookup(file, handles[r]);
		if (!obj)
			return -ENOENT;
		job->region_bo[r] = f8npu_job_add_bo(job, obj);
	}
	return 0;
}

/* One job at a time holds the address space: its buffers fit if their sum does. */
static int f8npu_job_check_space(const struct f8npu_device *fdev, const struct f8npu_job *job)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < job->nobjs; i++)
		total += job->objs[i]->size + PAGE_SIZE;
	return total > fdev->mm_size ? -ENOSPC : 0;
}

static int f8npu_job_vmap(struct f8npu_job *job)
{
	unsigned int i;
	int ret;

	for (i = 0; i < job->nobjs; i++) {
		ret = drm_gem_shmem_vmap(to_drm_gem_shmem_obj(job->objs[i]), &job->maps[i]);
		if (ret) {
			iosys_map_clear(&job->maps[i]);
			return ret;
		}
	}
	return 0;
}

/* The kernel refuses a stream whose header the device would refuse (sim/'s own check). */
static int f8npu_job_check_header(struct f8npu_job *job, const struct drm_f8npu_query *q)
{
	struct f8npu_cmd_header h;

	memcpy(&h, (u8 *)job->maps[job->cmd_bo].vaddr + job->cmd_offset, sizeof(h));
	if (f8npu_validate_header(&h, job->cmd_size) != F8NPU_ERR_NONE)
		return -ENOEXEC;
	if (h.version_major != q->cmd_version >> 16 || h.version_minor > (q->cmd_version & 0xffff))
		return -ENOEXEC;
	job->desc_count = h.desc_count;
	return 0;
}

static int f8npu_job_in_fences(struct f8npu_job *job, struct drm_file *file,
			       const struct drm_f8npu_submit *args)
{
	u32 *handles;
	unsigned int i;
	int ret = 0;

	if (!args->in_sync_count)
		return 0;
	handles = kcalloc(args->in_sync_count, sizeof(*handles), GFP_KERNEL);
	job->in_fences = kcalloc(args->in_sync_count, sizeof(*job->in_fences), GFP_KERNEL);
	if (!handles || !job->in_fences) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(handles, u64_to_user_ptr(args->in_syncs),
			   args->in_sync_count * sizeof(*handles))) {
		ret = -EFAULT;
		goto out;
	}
	for (i = 0; i < args->in_sync_count; i++) {
		ret = drm_syncobj_find_fence(file, handles[i], 0, 0, &job->in_fences[job->n_in]);
		if (ret)
			goto out;
		job->n_in++;
	}
out:
	kfree(handles);
	return ret;
}

static int f8npu_check_submit(const struct f8npu_device *fdev, const struct drm_f8npu_submit *args)
{
	if (args->flags || args->pad)
		return -EINVAL;
	if (args->cmd_size < F8NPU_CMD_HEADER_SIZE || args->cmd_size > F8NPU_MAX_CMD_SIZE)
		return -EINVAL;
	if (args->cmd_offset % 4)
		return -EINVAL;
	if (args->region_count > fdev->query.cap_regions)
		return -EINVAL;
	if (args->in_sync_count > F8NPU_MAX_IN_SYNCS)
		return -EINVAL;
	return 0;
}

/*
 * Implicit sync: the fences other drivers left on the job's buffers (an imported buffer
 * still being written), added to the job's in-fences. The device's own jobs run in order
 * anyway. Called with the buffers' reservations locked, before the job's fence is added.
 */
static int f8npu_job_implicit_fences(struct f8npu_device *fdev, struct f8npu_job *job)
{
	struct dma_fence **fences, **all;
	unsigned int i, j, n;
	int ret;

	for (i = 0; i < job->nobjs; i++) {
		/* READ: every fence up to the readers' (the job may write any buffer). */
		ret = dma_resv_get_fences(job->objs[i]->resv, DMA_RESV_USAGE_READ, &n, &fences);
		if (ret)
			return ret;
		if (!n) {
			kfree(fences);
			continue;
		}
		all = krealloc_array(job->in_fences, job->n_in + n, sizeof(*all), GFP_KERNEL);
		if (!all) {
			for (j = 0; j < n; j++)
				dma_fence_put(fences[j]);
			kfree(fences);
			return -ENOMEM;
		}
		job->in_fences = all;
		for (j = 0; j < n; j++) {
			if (fences[j]->context == fdev->fence_context)
				dma_fence_put(fences[j]);
			else
				job->in_fences[job->n_in++] = fences[j];
		}
		kfree(fences);
	}
	return 0;
}

static void f8npu_job_run(struct work_struct *work);

/* Publish the job: fence on every buffer and the out-syncobj, id, queue. */
static int f8npu_job_queue(struct f8npu_device *fdev, struct f8npu_job *job,
			   struct drm_syncobj *out_sync, u64 *job_id)
{
	struct f8npu_file *ctx = job->ctx;
	struct ww_acquire_ctx ww;
	unsigned int i;
	int ret;

	ret = drm_gem_lock_reservations(job->objs, job->nobjs, &ww);
	if (ret)
		return ret;
	for (i = 0; i < job->nobjs; i++) {
		ret = dma_resv_reserve_fences(job->objs[i]->resv, 1);
		if (ret)
			goto unlock;
	}
	ret = f8npu_job_implicit_fences(fdev, job);
	if (ret)
		goto unlock;
	mutex_lock(&ctx->lock);
	job->id = ctx->next_id;
	ret = xa_reserve(&ctx->jobs, job->id, GFP_KERNEL);
	if (ret) {
		mutex_unlock(&ctx->lock);
		goto unlock;
	}
	ctx->next_id++;
	f8npu_file_trim(ctx);
	mutex_unlock(&ctx->lock);

	/* Nothing fails from here: the fence is published and will signal. */
	mutex_lock(&fdev->submit_lock);
	dma_fence_init(&job->fence, &f8npu_fence_ops, &fdev->fence_lock, fdev->fence_context,
		       ++fdev->seqno);
	for (i = 0; i < job->nobjs; i++)
		dma_resv_add_fence(job->objs[i]->resv, &job->fence, DMA_RESV_USAGE_WRITE);
	if (out_sync)
		drm_syncobj_replace_fence(out_sync, &job->fence);
	/* The context's reference; the queue's is below. */
	mutex_lock(&ctx->lock);
	xa_store(&ctx->jobs, job->id, job, GFP_KERNEL);
	mutex_unlock(&ctx->lock);
	dma_fence_get(&job->fence);
	INIT_WORK(&job->work, f8npu_job_run);
	*job_id = job->id;
	/* Before queueing: once queued, the worker may end the job and release its buffers. */
	drm_gem_unlock_reservations(job->objs, job->nobjs, &ww);
	queue_work(fdev->wq, &job->work);
	mutex_unlock(&fdev->submit_lock);
	return 0;
unlock:
	drm_gem_unlock_reservations(job->objs, job->nobjs, &ww);
	return ret;
}

int f8npu_ioctl_submit(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct f8npu_device *fdev = to_f8npu(drm);
	struct f8npu_file *ctx = file->driver_priv;
	struct drm_f8npu_submit *args = data;
	struct drm_syncobj *out_sync = NULL;
	struct f8npu_job *job;
	unsigned int timeout_ms = READ_ONCE(f8npu_job_timeout_ms);
	int ret, idx;

	ret = f8npu_check_submit(fdev, args);
	if (ret)
		return ret;
	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	if (atomic_inc_return(&ctx->inflight) > f8npu_max_inflight) {
		ret = -EAGAIN;
		goto err_inflight;
	}
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		ret = -ENOMEM;
		goto err_inflight;
	}
	job->fdev = fdev;
	job->ctx = ctx;
	job->cmd_offset = args->cmd_offset;
	job->cmd_size = args->cmd_size;
	if (args->timeout_ms && args->timeout_ms < timeout_ms)
		timeout_ms = args->timeout_ms;
	/* At least a jiffy: a zero timeout would end every job before it starts. */
	job->timeout = max(msecs_to_jiffies(timeout_ms), 1ul);
	init_completion(&job->hw_done);

	ret = f8npu_job_lookup_bos(job, file, args);
	if (!ret)
		ret = f8npu_job_check_space(fdev, job);
	if (!ret)
		ret = f8npu_job_vmap(job);
	if (!ret)
		ret = f8npu_job_check_header(job, &fdev->query);
	if (!ret)
		ret = f8npu_job_in_fences(job, file, args);
	if (!ret && args->out_sync) {
		out_sync = drm_syncobj_find(file, args->out_sync);
		if (!out_sync)
			ret = -ENOENT;
	}
	if (ret)
		goto err_job;

	kref_get(&ctx->ref);
	ret = f8npu_job_queue(fdev, job, out_sync, &args->job_id);
	if (ret) {
		kref_put(&ctx->ref, f8npu_file_release);
		goto err_job;
	}
	/* The job is the queue's now. */
	job = NULL;
err_job:
	if (out_sync)
		drm_syncobj_put(out_sync);
	if (job) {
		f8npu_job_release_bos(job);
		kfree(job);
	}
err_inflight:
	if (ret)
		atomic_dec(&ctx->inflight);
	drm_dev_exit(idx);
	return ret;
}

static void f8npu_perf_sub(struct f8npu_perf *a, const struct f8npu_perf *b)
{
	a->cycles -= b->cycles;
	a->macs -= b->macs;
	a->rd_bytes -= b->rd_bytes;
	a->wr_bytes -= b->wr_bytes;
	a->stall_cycles -= b->stall_cycles;
	a->descs -= b->descs;
}

/* Wait for the in-fences; false if one never signalled (the job is canceled). */
static bool f8npu_job_wait_deps(struct f8npu_job *job)
{
	/* Clamped: a huge job_timeout_ms must not overflow into a negative timeout. */
	long timeout = min_t(unsigned long, job->timeout,
			     MAX_SCHEDULE_TIMEOUT / F8NPU_IN_FENCE_WAIT_FACTOR) *
		       F8NPU_IN_FENCE_WAIT_FACTOR;
	unsigned int i;

	for (i = 0; i < job->n_in; i++)
		if (dma_fence_wait_timeout(job->in_fences[i], false, timeout) <= 0)
			return false;
	return true;
}

/* Run @job on the device and wait for its end; fills the result fields. */
static void f8npu_job_exec(struct f8npu_device *fdev, struct f8npu_job *job)
{
	struct f8npu_perf before;
	struct f8npu_bind *cmd;
	u64 start;
	unsigned int r;
	bool ended;

	if (f8npu_mem_bind(fdev, job)) {
		job->status = F8NPU_JOB_CANCELED;
		return;
	}
	for (r = 0; r < fdev->query.cap_regions; r++) {
		u8 b = job->region_bo[r];

		if (b == F8NPU_NO_BO)
			f8npu_prog_set_region(fdev->hw, r, 0, 0);
		else
			f8npu_prog_set_region(fdev->hw, r, fdev->binds[b].iova,
					      fdev->binds[b].size);
	}
	f8npu_prog_read_perf(fdev->hw, &before);
	cmd = &fdev->binds[job->cmd_bo];

	spin_lock_irq(&fdev->irq_lock);
	fdev->cur = job;
	fdev->events = 0;
	spin_unlock_irq(&fdev->irq_lock);
	start = ktime_get_ns();
	f8npu_prog_start_job(fdev->hw, cmd->iova + job->cmd_offset, job->cmd_size, job->desc_count);

	ended = wait_for_completion_timeout(&job->hw_done, job->timeout) != 0;
	if (!ended) {
		if (fdev->virt)
			f8npu_virt_stop(fdev->virt);
		spin_lock_irq(&fdev->irq_lock);
		/* cur still set: the handler did not take the job, and will not now. */
		ended = !fdev->cur;
		fdev->cur = NULL;
		spin_unlock_irq(&fdev->irq_lock);
		if (ended)
			wait_for_completion(&job->hw_done);
	}
	job->duration_ns = ktime_get_ns() - start;
	if (!ended) {
		job->res.timed_out = true;
		f8npu_prog_end_job(fdev->hw, 0, &job->res);
		job->status = F8NPU_JOB_TIMEOUT;
	} else if (job->res.err) {
		job->status = F8NPU_JOB_ERROR;
		job->err_code = job->res.err;
		job->err_index = job->res.err_index;
	} else {
		job->status = F8NPU_JOB_DONE;
	}
	job->perf = job->res.perf;
	f8npu_perf_sub(&job->perf, &before);
	f8npu_mem_unbind(fdev);
}

static void f8npu_job_run(struct work_struct *work)
{
	struct f8npu_job *job = container_of(work, struct f8npu_job, work);
	struct f8npu_device *fdev = job->fdev;
	struct f8npu_file *ctx = job->ctx;
	int idx;

	if (!f8npu_job_wait_deps(job)) {
		job->status = F8NPU_JOB_CANCELED;
	} else if (!drm_dev_enter(&fdev->drm, &idx)) {
		job->status = F8NPU_JOB_CANCELED;
	} else {
		f8npu_job_exec(fdev, job);
		drm_dev_exit(idx);
	}
	f8npu_job_release_bos(job);

	mutex_lock(&ctx->lock);
	job->finished = true;
	if (!ctx->closed) {
		list_add_tail(&job->done_link, &ctx->done);
		ctx->ndone++;
	}
	mutex_unlock(&ctx->lock);
	atomic_dec(&ctx->inflight);

	if (job->status == F8NPU_JOB_ERROR)
		dma_fence_set_error(&job->fence, -EIO);
	else if (job->status == F8NPU_JOB_TIMEOUT)
		dma_fence_set_error(&job->fence, -ETIMEDOUT);
	else if (job->status == F8NPU_JOB_CANCELED)
		dma_fence_set_error(&job->fence, -ECANCELED);
	/* JOB_WAIT reads the result once the fence is signalled. */
	smp_wmb();
	dma_fence_signal(&job->fence);

	kref_put(&ctx->ref, f8npu_file_release);
	dma_fence_put(&job->fence);
}

int f8npu_ioctl_job_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct f8npu_file *ctx = file->driver_priv;
	struct drm_f8npu_job_wait *args = data;
	struct f8npu_job *job;
	long ret;

	if (args->flags || args->pad)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	job = xa_load(&ctx->jobs, args->job_id);
	if (job)
		dma_fence_get(&job->fence);
	mutex_unlock(&ctx->lock);
	if (!job)
		return -ENOENT;

	/* Jiffies may run ahead of CLOCK_MONOTONIC: never give up before the deadline. */
	do {
		ret = dma_fence_wait_timeout(&job->fence, true,
					     drm_timeout_abs_to_jiffies(args->timeout_ns));
	} while (ret == 0 && (s64)ktime_get_ns() < args->timeout_ns);
	if (ret > 0) {
		/* Signalled after the worker wrote the result. */
		smp_rmb();
		args->status = job->status;
		args->err_code = job->err_code;
		args->err_index = job->err_index;
		args->cycles = job->perf.cycles;
		args->macs = job->perf.macs;
		args->rd_bytes = job->perf.rd_bytes;
		args->wr_bytes = job->perf.wr_bytes;
		args->stall_cycles = job->perf.stall_cycles;
		args->descs = job->perf.descs;
		args->duration_ns = job->duration_ns;
		ret = 0;
	} else {
		args->status = F8NPU_JOB_PENDING;
		if (ret == 0)
			ret = -ETIME;
	}
	dma_fence_put(&job->fence);
	return ret;
}
