/* SPDX-License-Identifier: MIT */
/*
 * The compiler: an integer model (f8-qmodel.h) into one command stream (docs/isa.md) of
 * fused device operations for a device described by its capabilities (f8-backend.h), plus
 * the contents of the regions the stream names (docs/compiler.md).
 *
 *   struct f8_cc_opts o = { .batch = 8 };
 *   struct f8_cc_prog *p;
 *   f8_cc_compile(&m, &be->caps, &o, &p, &e);   // F8_ERR_RANGE names the node and the limit
 *   f8_cc_dump(stdout, p);                      // one line per descriptor, then a summary
 *   f8_cc_run(be, p, pixels_hwc, n, logits, &st, &e);   // int32 logits [n][classes]
 *   f8_cc_free(p);
 *
 * The logits are exactly those of f8_qm_forward. A program is for a fixed batch: f8_cc_run
 * runs ceil(n / batch) jobs (the last one padded with zero images). To run many batches
 * on one backend, open a session once: its region buffers and weights stay on the device.
 *
 *   struct f8_cc_session *s;
 *   f8_cc_session_open(be, p, &s, &e);
 *   f8_cc_session_run(s, pixels_hwc, n, logits, &st, &e);   // as often as needed
 *   f8_cc_session_close(s);
 */
#ifndef F8_COMPILE_H
#define F8_COMPILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "f8-backend.h"
#include "f8-err.h"
#include "f8-qmodel.h"
#include "f8npu_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The regions of a compiled program (the command stream is a buffer of its own). */
enum f8_cc_region {
	F8_CC_R_INPUT = 0,   /* u8 images [batch][h][w][c], written per job */
	F8_CC_R_WEIGHTS = 1, /* s8 weights of every conv / linear, written once */
	F8_CC_R_BIAS = 2,    /* s32 biases, written once */
	F8_CC_R_ACT = 3,     /* activations, liveness-planned */
	F8_CC_R_LOGITS = 4,  /* s32 logits [batch][classes], read per job */
	F8_CC_REGIONS = 5
};

struct f8_cc_opts {
	uint32_t batch;       /* images per job, >= 1 (0 means 1) */
	/*
	 * Compile only nodes [first, last] (0, 0: the whole model, 1 .. nnodes - 1). The tensors
	 * of earlier nodes they read arrive in region INPUT (the pixels as u8, any other tensor
	 * as its int32 values), and those read after @last (and the logits) leave in region
	 * LOGITS as int32: see struct f8_cc_io. What a runner that places some nodes on the
	 * host uses (f8_cc_part_open).
	 */
	uint32_t first, last;
	uint32_t dram_bpc;    /* cost model: DRAM bytes per cycle (0: the model's default, 16) */
	uint32_t dram_latency; /* cost model: DRAM latency in cycles (0: the default, 64) */
};

/* One descriptor's origin and the cost model's prediction (docs/isa.md §7). */
struct f8_cc_desc_info {
	int32_t node;             /* model node whose tensor the descriptor writes (-1: END) */
	char name[72];            /* the fused nodes, e.g. "conv3+add4", or "conv3:cvt" */
	uint32_t c0, c1, y0, y1;  /* the tile: output channels [c0, c1), rows [y0, y1) */
	uint64_t cycles;          /* predicted cycles (fetch included) */
	uint64_t macs, rd_bytes, wr_bytes; /* architectural counters (fetch included) */
	/*
	 * On the first descriptor of each logical operation (0 on its other tiles), DRAM bytes
	 * of the whole operation, fetches excluded: min_bytes moves each operand, weight and
	 * output once; floor_bytes is the cost model's traffic of the operation as one untiled
	 * descriptor (the input once per channel group of a groups = 1 conv, isa.md §7).
	 */
	uint64_t min_bytes, floor_bytes;
};

/* One planned buffer: a view (type, requantization shift) of a node's tensor. */
struct f8_cc_buf {
	int32_t node;
	uint8_t region, type; /* enum f8_cc_region, enum f8npu_type */
	int8_t shift;         /* the requantization from the node's int32 tensor */
	uint64_t offset, size;
	uint32_t first, last; /* steps (fused groups) of the write and of the last read */
};

/* A tensor the host writes before a job (region INPUT) or reads after it (region LOGITS). */
struct f8_cc_io {
	int32_t node;          /* whose tensor: [batch][h][w][c] */
	uint8_t type;          /* F8NPU_TYPE_U8 (the pixels) or F8NPU_TYPE_S32 */
	uint64_t offset;       /* in its region */
	uint64_t image_bytes;  /* of one image: h * w * c * type size */
};

struct f8_cc_prog {
	uint32_t batch, classes;
	uint32_t first, last;           /* the nodes it computes */
	int32_t logits_node;            /* the model's last node */
	struct f8_cc_io *in, *out;      /* its boundary, in node order */
	uint32_t nin, nout;
	uint32_t in_h, in_w, in_c;      /* one image, u8 [h][w][c] */
	uint8_t *stream;                /* header + descriptors (END last) */
	uint32_t stream_size, ndesc;    /* ndesc includes END */
	struct f8_cc_desc_info *info;   /* [ndesc] */
	uint64_t region_size[F8_CC_REGIONS];
	uint8_t *weights, *bias;        /* contents of F8_CC_R_WEIGHTS / F8_CC_R_BIAS */
	struct f8_cc_buf *bufs;         /* the memory plan */
	uint32_t nbufs, nsteps;
	uint64_t act_peak, act_unplanned; /* activation bytes: planned vs one buffer per view */
	uint64_t cycles, macs, rd_bytes, wr_bytes; /* predicted per job, header included */
	uint64_t min_bytes, floor_bytes; /* sums of the descriptors' min_bytes / floor_bytes */
	struct f8_be_caps caps;
	struct f8npu_model_config cfg;  /* the cost model's device */
	char model_name[F8_QM_NAME_MAX];
};

/* Per-run counters: summed over the jobs of one f8_cc_run / f8_cc_session_run. */
struct f8_cc_stats {
	uint32_t jobs, images;
	uint64_t cycles, macs, rd_bytes, wr_bytes, stall_cycles, descs;
	uint64_t pred_cycles; /* the cost model's cycles for the same jobs */
};

/* @into += @add, every counter (images included). */
void f8_cc_stats_add(struct f8_cc_stats *into, const struct f8_cc_stats *add);

/*
 * Compile @m (checked with f8_qm_check) for a device with @caps. F8_OK with *@out (free with
 * f8_cc_free), or: F8_ERR_RANGE when the model does not fit the device (the message names
 * the node and the limit), F8_ERR_FORMAT for a model f8_qm_check refuses, F8_ERR_MISUSE,
 * F8_ERR_NOMEM.
 */
int f8_cc_compile(const struct f8_qm *m, const struct f8_be_caps *caps, const struct f8_cc_opts *o,
		  struct f8_cc_prog **out, struct f8_err *e);
void f8_cc_free(struct f8_cc_prog *p);
/*
 * f8_cc_compile with *@refused (may be NULL) set to the node an F8_ERR_RANGE names (the one
 * the device cannot run: an operation, a type, a shift or a limit it lacks), else -1.
 */
int f8_cc_compile_ex(const struct f8_qm *m, const struct f8_be_caps *caps,
		     const struct f8_cc_opts *o, struct f8_cc_prog **out, int32_t *refused,
		     struct f8_err *e);
/* True when @p computes the whole model: pixels in, logits out (what f8_cc_session_run runs). */
bool f8_cc_whole(const struct f8_cc_prog *p);

/* One line per descriptor, then the summary (docs/compiler.md, "The dump"). */
void f8_cc_dump(FILE *f, const struct f8_cc_prog *p);

struct f8_cc_session;

/* Allocate the program's buffers on @be and write the stream, weights and biases once. */
int f8_cc_session_open(struct f8_be *be, const struct f8_cc_prog *p, struct f8_cc_session **out,
		       struct f8_err *e);
/*
 * Logits [n][classes] of @n images (u8 [h][w][c] each, contiguous); @st (may be NULL) gets
 * this call's counters. A job that does not reach END is F8_ERR_IO naming the device error,
 * the descriptor and its node. A job's cycle budget is F8_CC_JOB_BUDGET(predicted cycles):
 * a device that hangs (an RTL that never finishes) fails the job instead of running forever;
 * the environment variable F8_JOB_MAX_CYCLES=N, if set, is the budget instead (tests); any other
 * value than a positive decimal number fails the run with F8_ERR_RANGE.
 */
#define F8_CC_JOB_BUDGET(pred) (16 * (pred) + (1ull << 24))
int f8_cc_session_run(struct f8_cc_session *s, const uint8_t *pixels_hwc, int n, int32_t *logits,
		      struct f8_cc_stats *st, struct f8_err *e);
/*
 * Any program: @n images of each boundary tensor, @in[j] for p->in[j] and @out[j] for
 * p->out[j], each [n][image_bytes] (int32 host-endian for S32).
 */
int f8_cc_session_run_io(struct f8_cc_session *s, const void *const *in, void *const *out, int n,
			 struct f8_cc_stats *st, struct f8_err *e);
void f8_cc_session_close(struct f8_cc_session *s);

/* Open a session, run @n images, close it. */
int f8_cc_run(struct f8_be *be, const struct f8_cc_prog *p, const uint8_t *pixels_hwc, int n,
	      int32_t *logits, struct f8_cc_stats *st, struct f8_err *e);

/*
 * Profile @p on @be with one batch of images: each descriptor runs as a job of its own on the
 * same buffers, so per_desc[i] (@p->ndesc entries) holds descriptor i's own counters (the
 * empty job's header and END are in the last entry, so the entries add up to a whole job);
 * @logits (may be NULL) gets the batch's logits, the same as f8_cc_session_run's.
 */
int f8_cc_profile(struct f8_be *be, const struct f8_cc_prog *p, const uint8_t *pixels_hwc,
		  struct f8npu_perf *per_desc, int32_t *logits, struct f8_err *e);

/*
 * Placement: @m split node by node between @be and the host (docs/compiler.md, "Placement").
 * Every node the compiler refuses for @be (f8_cc_compile_ex's refused node) runs on the host
 * with the reference kernels; the runs of nodes between them are programs of their own, with
 * a session each. F8_OK even when every node ends up on the host (f8_cc_part_where says why).
 *
 *   struct f8_cc_part *pt;
 *   f8_cc_part_open(be, &m, &(struct f8_cc_opts){ .batch = 8 }, &pt, &e);
 *   f8_cc_part_run(pt, pixels_hwc, n, logits, &st, &e);   // f8_qm_forward's logits
 *   f8_cc_part_where(pt, node, &why, &prog);              // the placement report
 *   f8_cc_part_close(pt);
 */
struct f8_cc_part;
enum f8_cc_where {
	F8_CC_UNUSED = 0,   /* not on a path to the logits */
	F8_CC_AT_INPUT = 1, /* node 0: the pixels, from the host */
	F8_CC_ON_DEVICE = 2,
	F8_CC_ON_HOST = 3,
};
int f8_cc_part_open(struct f8_be *be, const struct f8_qm *m, const struct f8_cc_opts *o,
		    struct f8_cc_part **out, struct f8_err *e);
int f8_cc_part_run(struct f8_cc_part *pt, const uint8_t *pixels_hwc, int n, int32_t *logits,
		   struct f8_cc_stats *st, struct f8_err *e);
/* Where @node runs; *@why: the device's refusal for a host node; *@prog: a device node's. */
enum f8_cc_where f8_cc_part_where(const struct f8_cc_part *pt, uint32_t node, const char **why,
				  const struct f8_cc_prog **prog);
/* The programs, in node order: stores up to @cap of them, returns how many there are. */
uint32_t f8_cc_part_programs(const struct f8_cc_part *pt, const struct f8_cc_prog **progs,
			     uint32_t cap);
void f8_cc_part_close(struct f8_cc_part *pt);

#ifdef __cplusplus
}
#endif
#endif
