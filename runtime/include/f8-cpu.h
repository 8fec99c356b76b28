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
 * once per batch.
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
/* Bytes of scratch f8_cpu_forward needs for up to @batch images (>= 1). */
size_t f8_cpu_scratch_bytes(const struct f8_cpu *p, int batch);
/*
 * Int32 logits [n][classes] of @n images (u8 [h][w][c] each, contiguous), exactly those of
 * f8_qm_forward. @scratch: f8_cpu_scratch_bytes(p, >= n) bytes, 64-byte aligned.
 */
void f8_cpu_forward(const struct f8_cpu *p, const uint8_t *pixels_hwc, int n, int32_t *logits,
		    void *scratch);

#ifdef __cplusplus
}
#endif
#endif
