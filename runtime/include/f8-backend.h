/* SPDX-License-Identifier: MIT */
/*
 * The job-level backend table: the one way the runtime, the CLI, the benches and the tests
 * reach a device (docs/architecture.md). A backend owns device-visible buffers and runs a
 * command stream (docs/isa.md) whose regions are those buffers; f8_be_submit waits for the
 * job to end.
 *
 *   struct f8_be *be;
 *   struct f8_err e;
 *   if (f8_be_open("rtl:4x4", &be, &e)) ...e.msg...
 *   struct f8_be_buf w, cmd;
 *   f8_be_alloc(be, bytes, &w);                 // w.ptr: host mapping, zero-filled
 *   ...write the stream into cmd.ptr and the tensors into the region buffers...
 *   struct f8_be_job job = { .cmd = &cmd, .cmd_size = n, .region = { &w, ... } };
 *   struct f8npu_job_result res;
 *   f8_be_submit(be, &job, &res);               // res.done, res.err, res.perf (this job's)
 *   f8_be_free(be, &w); f8_be_close(be);
 *
 * Backends (f8_be_open's spec, "name[:config]"):
 *   ref[:RxC]               the functional model of sim/ in this process (default 16x16)
 *   rtl:RxC                 the Verilated RTL of that array configuration, loaded at run time
 *                           from its shared object (each configuration has its own)
 *   kmod[:/dev/dri/renderD128]  the kernel driver through libdrm
 * ref and rtl also take ",without=OP[+OP...]" (conv2d, pool_max, pool_sum, add): those opcodes
 * are hidden from the caps, emulating a device that lacks them.
 * The cpu path is not a stream backend: it runs whole models (f8-cpu.h); the placement
 * (f8_cc_part_open, f8-compile.h) runs the layers a device refuses on the host.
 */
#ifndef F8_BACKEND_H
#define F8_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f8-err.h"
#include "f8npu_cmd.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h" /* F8NPU_REGIONS */

#ifdef __cplusplus
extern "C" {
#endif

/* What the device reports in its ID and capability registers (docs/regs.md). */
struct f8_be_caps {
	uint32_t hw_id, hw_version, cmd_version;
	uint32_t rows, cols;
	uint32_t ops;     /* bit n set: opcode n is supported */
	uint32_t regions; /* region table entries */
	uint32_t ibuf_bytes, wbuf_bytes, abuf_bytes;
	uint32_t max_dim, max_k;
	int32_t shift_min, shift_max;
	uint32_t align_max;
	uint32_t types; /* bit t set: enum f8npu_type t */
};

/* A device-visible buffer and its mapping in this process. */
struct f8_be_buf {
	uint8_t *ptr;
	uint64_t size;
	uint64_t dev_addr; /* where the device sees it (informational) */
	uint64_t handle;   /* backend's own (GEM handle, host-memory index) */
};

/* One job: a command stream and the buffer behind each region (NULL: region size 0). */
struct f8_be_job {
	const struct f8_be_buf *cmd;
	uint32_t cmd_size; /* bytes of the stream, <= cmd->size */
	const struct f8_be_buf *region[F8NPU_REGIONS];
	uint64_t max_cycles; /* cycle budget of the job; 0: the backend's default */
};

struct f8_be_ops {
	const char *name;
	const char *what; /* one line for f8 info */
	int (*open)(const char *config, void **priv, struct f8_err *e);
	void (*close)(void *priv);
	void (*caps)(void *priv, struct f8_be_caps *caps);
	int (*alloc)(void *priv, uint64_t size, struct f8_be_buf *buf, struct f8_err *e);
	void (*free)(void *priv, struct f8_be_buf *buf);
	/* Run @job to its end; @res->perf holds this job's counters (not accumulated). */
	int (*submit)(void *priv, const struct f8_be_job *job, struct f8npu_job_result *res,
		      struct f8_err *e);
};

struct f8_be {
	const struct f8_be_ops *ops;
	void *priv;
	struct f8_be_caps caps;
	char spec[64]; /* as opened, e.g. "rtl:4x4" */
};

/*
 * Open the backend named by @spec. F8_OK with *@out, or a negative status with @e: an
 * unknown name or malformed configuration (F8_ERR_FORMAT), a backend not present here
 * (F8_ERR_IO: no device node, no shared object for that configuration), a device of
 * another major version (F8_ERR_VERSION).
 */
int f8_be_open(const char *spec, struct f8_be **out, struct f8_err *e);
void f8_be_close(struct f8_be *be);
int f8_be_alloc(struct f8_be *be, uint64_t size, struct f8_be_buf *buf, struct f8_err *e);
void f8_be_free(struct f8_be *be, struct f8_be_buf *buf);
int f8_be_submit(struct f8_be *be, const struct f8_be_job *job, struct f8npu_job_result *res,
		 struct f8_err *e);

/*
 * The f8npu devices of this machine (the kmod backend's discovery: libdrm's drmGetDevices2,
 * then the driver name "f8npu" of each render node): up to @max node paths into @paths;
 * returns how many were found, 0 when the kernel driver is not loaded.
 */
int f8_be_kmod_devices(char paths[][64], int max);

/* The backends this build knows, in the order --backend auto prefers them. */
const struct f8_be_ops *const *f8_be_list(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
