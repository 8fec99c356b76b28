/* SPDX-License-Identifier: MIT */
/*
 * f8npu kernel driver uapi (driver/, module f8npu.ko), version 1.0.
 *
 * The device node is a DRM render node (/dev/dri/renderD*, driver name
 * "f8npu"); on kernels with the DRM accel subsystem it is /dev/accel/accel*.
 * Contract, errnos and job lifecycle: docs/driver.md.
 *
 * ABI rules:
 * - every struct is naturally aligned and made of __u32/__u64 (__s64) fields,
 *   with explicit padding; the kernel rejects a non-zero pad or flags field,
 *   or an unknown flag bit, with -EINVAL, so a zero always means "the 1.0
 *   behaviour" and later versions can give meaning to it;
 * - new fields are only appended to a struct (the DRM core zero-extends a
 *   shorter struct from older userspace), new ioctls only take new numbers
 *   after the last one; the uapi minor version in DRM_F8NPU_QUERY says which
 *   of them the kernel knows;
 * - user pointers are __u64; timeouts are absolute CLOCK_MONOTONIC
 *   nanoseconds (a value in the past polls).
 *
 * Buffers are GEM objects backed by shmem; PRIME export and import use the
 * standard DRM_IOCTL_PRIME_HANDLE_TO_FD / FD_TO_HANDLE, closing uses
 * DRM_IOCTL_GEM_CLOSE, sync objects DRM_IOCTL_SYNCOBJ_*.
 */
#ifndef F8NPU_DRM_H
#define F8NPU_DRM_H

#ifdef __KERNEL__
#include <drm/drm.h>
#else
#include "drm.h" /* libdrm's: pkg-config --cflags libdrm */
#endif

#if defined(__cplusplus)
extern "C" {
#endif

#define F8NPU_UAPI_VERSION_MAJOR 1
#define F8NPU_UAPI_VERSION_MINOR 0

#define DRM_F8NPU_QUERY 0x00
#define DRM_F8NPU_GEM_CREATE 0x01
#define DRM_F8NPU_GEM_MMAP_OFFSET 0x02
#define DRM_F8NPU_GEM_WAIT 0x03
#define DRM_F8NPU_SUBMIT 0x04
#define DRM_F8NPU_JOB_WAIT 0x05
/* New ioctls take the next number here. */

#define DRM_IOCTL_F8NPU_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_F8NPU_QUERY, struct drm_f8npu_query)
#define DRM_IOCTL_F8NPU_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_F8NPU_GEM_CREATE, struct drm_f8npu_gem_create)
#define DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_F8NPU_GEM_MMAP_OFFSET, struct drm_f8npu_gem_mmap_offset)
#define DRM_IOCTL_F8NPU_GEM_WAIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_F8NPU_GEM_WAIT, struct drm_f8npu_gem_wait)
#define DRM_IOCTL_F8NPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_F8NPU_SUBMIT, struct drm_f8npu_submit)
#define DRM_IOCTL_F8NPU_JOB_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_F8NPU_JOB_WAIT, struct drm_f8npu_job_wait)

/* drm_f8npu_query.dev_flags */
#define F8NPU_DEV_VIRTUAL 0x1u /* the functional model inside the module, not hardware */
#define F8NPU_DEV_BRIDGE 0x2u /* served by f8npu-bridge to a VM over PCI (impl: model or RTL) */

/**
 * struct drm_f8npu_query - what the driver and the device are.
 * @flags: in: must be 0.
 * @uapi_version: out: F8NPU_UAPI_VERSION_MAJOR << 16 | MINOR of the kernel.
 * @driver_version: out: the driver's version, major << 16 | minor (also in
 *	DRM_IOCTL_VERSION).
 * @hw_id: out: the ID register (0x504e3846, "F8NP").
 * @hw_version: out: HW_VERSION register, major << 16 | minor.
 * @cmd_version: out: CMD_VERSION register: command stream version accepted.
 * @impl: out: IMPL register: 0 functional model, 1 Verilated RTL, 2 FPGA.
 * @cap_array: out: CAP_ARRAY: MAC array rows [15:0], cols [31:16].
 * @cap_ops: out: CAP_OPS: bit n set: opcode n supported.
 * @cap_regions: out: CAP_REGIONS: region table entries.
 * @cap_ibuf: out: CAP_IBUF: input buffer bytes.
 * @cap_wbuf: out: CAP_WBUF: weight buffer bytes.
 * @cap_abuf: out: CAP_ABUF: accumulator buffer bytes.
 * @cap_max_dim: out: CAP_MAX_DIM: largest n, h, w or c.
 * @cap_max_k: out: CAP_MAX_K: largest kernel_h * kernel_w * cin.
 * @cap_shift: out: CAP_SHIFT: out_shift min [7:0] (s8), max [15:8], align max [23:16].
 * @cap_types: out: CAP_TYPES: bit t set: element type t supported.
 * @dev_flags: out: F8NPU_DEV_*.
 * @job_timeout_ms: out: the job timeout used when a submit asks for none,
 *	and the largest one a submit may ask for.
 * @max_inflight: out: jobs one open file may have queued or running; a
 *	further submit fails with -EAGAIN.
 * @job_history: out: finished jobs whose result one open file can still
 *	read with DRM_IOCTL_F8NPU_JOB_WAIT (older ones: -ENOENT).
 * @max_cmd_size: out: largest drm_f8npu_submit.cmd_size.
 * @max_bo_size: out: largest buffer object.
 */
struct drm_f8npu_query {
	__u32 flags;
	__u32 uapi_version;
	__u32 driver_version;
	__u32 hw_id;
	__u32 hw_version;
	__u32 cmd_version;
	__u32 impl;
	__u32 cap_array;
	__u32 cap_ops;
	__u32 cap_regions;
	__u32 cap_ibuf;
	__u32 cap_wbuf;
	__u32 cap_abuf;
	__u32 cap_max_dim;
	__u32 cap_max_k;
	__u32 cap_shift;
	__u32 cap_types;
	__u32 dev_flags;
	__u32 job_timeout_ms;
	__u32 max_inflight;
	__u32 job_history;
	__u32 max_cmd_size;
	__u64 max_bo_size;
};

/**
 * struct drm_f8npu_gem_create - allocate a buffer object.
 * @size: in: bytes, 1..max_bo_size; out: the size allocated (whole pages).
 * @flags: in: must be 0.
 * @handle: out: the GEM handle, valid in this open file only.
 *
 * The buffer is zero-filled, CPU-mapped with DRM_IOCTL_F8NPU_GEM_MMAP_OFFSET.
 */
struct drm_f8npu_gem_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
};

/**
 * struct drm_f8npu_gem_mmap_offset - where to mmap() a buffer object.
 * @handle: in: GEM handle.
 * @flags: in: must be 0.
 * @offset: out: the offset to pass to mmap() on this file descriptor.
 */
struct drm_f8npu_gem_mmap_offset {
	__u32 handle;
	__u32 flags;
	__u64 offset;
};

/**
 * struct drm_f8npu_gem_wait - wait until no queued or running job uses a buffer.
 * @handle: in: GEM handle.
 * @flags: in: must be 0.
 * @timeout_ns: in: absolute CLOCK_MONOTONIC deadline; in the past: poll.
 *
 * Returns 0 when idle, -ETIME when the deadline passed first.
 */
struct drm_f8npu_gem_wait {
	__u32 handle;
	__u32 flags;
	__s64 timeout_ns;
};

/**
 * struct drm_f8npu_submit - queue one job.
 * @cmd_handle: in: GEM handle of the buffer holding the command stream.
 * @cmd_size: in: bytes of the stream (header + descriptors), 32..max_cmd_size.
 * @cmd_offset: in: byte offset of the stream in that buffer, a multiple of 4;
 *	[offset, offset + size) must lie inside the buffer.
 * @regions: in: user pointer to @region_count __u32 GEM handles: entry r is
 *	the buffer behind device region r (docs/isa.md), 0 leaves region r
 *	disabled. A handle may appear more than once, and may be @cmd_handle.
 * @region_count: in: entries at @regions, 0..cap_regions.
 * @in_sync_count: in: entries at @in_syncs.
 * @in_syncs: in: user pointer to @in_sync_count __u32 syncobj handles whose
 *	fences the job waits for before it starts.
 * @out_sync: in: syncobj handle that receives the job's fence, 0: none.
 * @flags: in: must be 0.
 * @timeout_ms: in: job timeout in ms, 0: query's job_timeout_ms; larger
 *	values are clamped to it. A job still running then is stopped by a
 *	device reset and ends as F8NPU_JOB_TIMEOUT; the queue goes on.
 * @pad: in: must be 0.
 * @job_id: out: the job's id in this open file (1, 2, ...), for
 *	DRM_IOCTL_F8NPU_JOB_WAIT.
 *
 * The kernel checks the stream's header (magic, version, descriptor size,
 * count within @cmd_size; -ENOEXEC otherwise) and the handles; the device
 * checks every descriptor against the region table and reports its error
 * through the job's result, not through this ioctl.
 */
struct drm_f8npu_submit {
	__u32 cmd_handle;
	__u32 cmd_size;
	__u64 cmd_offset;
	__u64 regions;
	__u32 region_count;
	__u32 in_sync_count;
	__u64 in_syncs;
	__u32 out_sync;
	__u32 flags;
	__u32 timeout_ms;
	__u32 pad;
	__u64 job_id;
};

/* drm_f8npu_job_wait.status */
#define F8NPU_JOB_PENDING 0 /* not finished (only with -ETIME) */
#define F8NPU_JOB_DONE 1    /* reached END */
#define F8NPU_JOB_ERROR 2   /* the device stopped it: err_code, err_index */
#define F8NPU_JOB_TIMEOUT 3 /* still running at its timeout: the device was reset */
#define F8NPU_JOB_CANCELED 4 /* never ran: the device went away */

/**
 * struct drm_f8npu_job_wait - wait for a job and read its result.
 * @job_id: in: from DRM_IOCTL_F8NPU_SUBMIT on this open file.
 * @timeout_ns: in: absolute CLOCK_MONOTONIC deadline; in the past: poll.
 * @flags: in: must be 0.
 * @status: out: F8NPU_JOB_*.
 * @err_code: out: with F8NPU_JOB_ERROR the device's error code (docs/regs.md
 *	"Error codes"), else 0.
 * @err_index: out: with F8NPU_JOB_ERROR the descriptor index of the error,
 *	0xffffffff for the header, else 0.
 * @cycles: out: this job's PERF_CYCLES (device cycles).
 * @macs: out: this job's PERF_MACS.
 * @rd_bytes: out: this job's PERF_RD (DMA bytes read).
 * @wr_bytes: out: this job's PERF_WR (DMA bytes written).
 * @stall_cycles: out: this job's PERF_STALL.
 * @descs: out: this job's PERF_DESCS (descriptors completed, END included).
 * @pad: in: must be 0; out: 0.
 * @duration_ns: out: wall time from the start on the device to its end.
 *
 * Returns 0 once the job has ended (whatever @status), -ETIME if the
 * deadline passed first (@status F8NPU_JOB_PENDING), -ENOENT for an id this
 * file never got or whose result left the history. May be repeated.
 */
struct drm_f8npu_job_wait {
	__u64 job_id;
	__s64 timeout_ns;
	__u32 flags;
	__u32 status;
	__u32 err_code;
	__u32 err_index;
	__u64 cycles;
	__u64 macs;
	__u64 rd_bytes;
	__u64 wr_bytes;
	__u64 stall_cycles;
	__u32 descs;
	__u32 pad;
	__u64 duration_ns;
};

#if defined(__cplusplus)
}
#endif

#endif /* F8NPU_DRM_H */
