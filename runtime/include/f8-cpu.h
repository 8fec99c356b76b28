/* SPDX-License-Identifier: MIT */
/*
 * A fast CPU forward pass of an integer model (f8-qmodel.h), bit-exact with f8_qm_forward:
 * the same int32 logits for every image, computed with SIMD integer kernels instead of
 * sim/'s reference loops (docs/cpu-backend.md).
 *
 *   struct f8_cpu *p;
 *   f8_cpu_create(&m, F8_CPU_ISA_AUTO, &p);        // weights packed once, read-only after
 *   scratch = aligned_alloc(64, f8_cpu_scratch_bytes(p, batch));   // one per thread
 *   f8_cpu_forward(p, pixels_hwc, n, logits, scratch);             // n <= batch images
 *   f8_cpu_free(p);
 *
 * The plan is never written by f8_cpu_forward, so threads share one plan, each with its own
 * scratch. Images are processed node by node as a batch, so each layer's weights are read
 * once per batch. f8_cpu_forward_ex can instead split each layer of one batch over libf8's
 * thread pool (f8-par.h), for the latency of one image.
 */
#ifndef F8_CPU_H
#define F8_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct f8_qm;

/* Instruction sets of the 8-bit product kernels, chosen at run time. */
enum f8_cpu_isa {
	F8_CPU_ISA_AUTO = 0,       /* the best this CPU supports */
	F8_CPU_ISA_PORTABLE = 1,   /* plain C, any CPU */
	F8_CPU_ISA_AVX2 = 2,       /* 16-bit products summed in pairs (vpmaddwd) */
	F8_CPU_ISA_AVX512VNNI = 3, /* 4 u8 x s8 products per 32-bit lane (vpdpbusd) */
	F8_CPU_ISA_END_
};

/* Whether this CPU (and OS) can run @isa; PORTABLE and AUTO always can. */
bool f8_cpu_isa_supported(enum f8_cpu_isa isa);
/* The ISA F8_CPU_ISA_AUTO picks here. */
enum f8_cpu_isa f8_cpu_isa_best(void);
const char *f8_cpu_isa_name(enum f8_cpu_isa isa);

struct f8_cpu;

/*
 * Plan the forward pass of @m (a model f8_qm_parse or f8_qm_check accepted; it must outlive
 * the plan) on @isa: packs the weights for that ISA's kernels. F8_OK with *@out, or
 * F8_ERR_RANGE (@isa unknown or not supported by this CPU) or F8_ERR_NOMEM.
 */
int f8_cpu_create(const struct f8_qm *m, enum f8_cpu_isa isa, struct f8_cpu **out);
void f8_cpu_free(struct f8_cpu *p);
/* The ISA a plan runs on (never AUTO). */
enum f8_cpu_isa f8_cpu_plan_isa(const struct f8_cpu *p);
/*
 * Whether node @i of the plan's model is computed inside another node's epilogue (a residual
 * ADD fused into the conv right before it; docs/cpu-backend.md): its own time is then zero.
 */
bool f8_cpu_node_fused(const struct f8_cpu *p, uint32_t i);
/* Bytes of scratch f8_cpu_forward needs for up to @batch images (>= 1). */
size_t f8_cpu_scratch_bytes(const struct f8_cpu *p, int batch);
/*
 * Int32 logits [n][classes] of @n images (u8 [h][w][c] each, contiguous), exactly those of
 * f8_qm_forward. @scratch: f8_cpu_scratch_bytes(p, >= n) bytes, 64-byte aligned.
 */
void f8_cpu_forward(const struct f8_cpu *p, const uint8_t *pixels_hwc, int n, int32_t *logits,
		    void *scratch);

/*
 * Cache blocking of the plans f8_cpu_create makes after this call, for tests and tuning
 * (docs/cpu-backend.md): bytes of one K block's weights for a pair of 16-channel blocks (K is
 * cut between taps, at least one tap per block) and bytes of one chunk's codes per K block
 * (at least one tile of pixels per chunk). 0: the default. Not thread-safe; never changes a
 * value, only the order of the exact integer sums.
 */
void f8_cpu_set_blocking(size_t kblock_bytes, size_t chunk_bytes);

/* Options of f8_cpu_forward_ex; all zero is f8_cpu_forward. */
struct f8_cpu_opts {
	/*
	 * Split each layer of the batch over libf8's thread pool (f8-par.h: f8_par_set_threads),
	 * by output pixels or channel tiles: one image's latency scales with the threads. Each
	 * output value is still computed by one thread with the same arithmetic, so the numbers
	 * do not depend on it. The pool runs one job at a time: call from one thread only (inside
	 * a task of the pool the layers run serially, as f8_par_for does).
	 */
	bool split_layers;
	/* work (multiply-adds of a GEMM, values of an add, a pool or a requantization) below
	 * which a node is not split: 0 the default (2^24 MACs, 2^16 values); 1 splits all */
	size_t split_min;
	/* if not NULL: each node's wall time in seconds is added to node_s[node] (nnodes) */
	double *node_s;
};

/* f8_cpu_forward with @o (NULL: none); the same scratch. */
void f8_cpu_forward_ex(const struct f8_cpu *p, const uint8_t *pixels_hwc, int n, int32_t *logits,
		       void *scratch, const struct f8_cpu_opts *o);

#ifdef __cplusplus
}
#endif
#endif
