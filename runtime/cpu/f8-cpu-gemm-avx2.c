// SPDX-License-Identifier: MIT
/*
 * The AVX2 GEMM kernel of the CPU backend. vpmaddubsw (u8 x s8) would add two products into
 * a saturating int16 (255 * 127 * 2 > 32767), so codes are stored as 16 bits and vpmaddwd
 * adds pairs of 16 x 16-bit products into 32-bit lanes, exactly. A tile is 6 output pixels
 * x 16 output channels (12 accumulators); weights are packed [block][tap][pair][16][2] as
 * int16. Built with a function-level target, chosen at run time (f8-cpu-plan.c).
 */
#include "f8-cpu-impl.h"

#ifdef F8_CPU_X86
#include <immintrin.h>
#include <string.h>

#define MR 6
#define TGT __attribute__((target("avx2")))

static TGT inline __m256i bcast4(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm256_set1_epi32(v);
}

/* A5 after the exact sum (see f8-cpu-gemm-vnni.c), 8 channels from co0; A7. */
static TGT inline void store8(__m256i acc, const struct f8_cpu_gemm *g, int co0, int32_t *dst)
{
	const __m256i max = _mm256_set1_epi32(F8_CPU_S32_MAX), zero = _mm256_setzero_si256();
	const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(g->bias + co0));
	const __m256i s = _mm256_sub_epi32(
		acc, _mm256_loadu_si256((const __m256i *)(const void *)(g->corr + co0)));
	const int valid = g->cout - co0;
	__m256i r = _mm256_add_epi32(s, b), ovf;

	if (valid <= 0)
		return;
	ovf = _mm256_srai_epi32(_mm256_and_si256(_mm256_xor_si256(b, r), _mm256_xor_si256(s, r)), 31);
	r = _mm256_blendv_epi8(r, _mm256_xor_si256(_mm256_srai_epi32(b, 31), max), ovf);
	r = _mm256_max_epi32(r, _mm256_sub_epi32(zero, max));
	if (g->relu)
		r = _mm256_max_epi32(r, zero);
	if (valid >= 8)
		_mm256_storeu_si256((__m256i *)(void *)dst, r);
	else
		_mm256_maskstore_epi32(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(valid),
							    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
				       r);
}

/* The lanes of 8 channels from co0 that exist */
static TGT inline __m256i lanes8(const struct f8_cpu_gemm *g, int co0)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(g->cout - co0),
				  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static TGT void gemm_avx2(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			  const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			  int t1, const struct f8_cpu_fuse *f)
{
	const size_t bstride = (size_t)g->taps * g->kgroups * 64;
	int nb, t, q, r;

	(void)f; /* F8_CPU_FUSE_NONE: the plan fuses nothing */
	for (nb = nb0; nb < nb1; nb++) {
		const int co0 = nb * F8_CPU_NR;
		const uint8_t *w = (const uint8_t *)g->w + (size_t)nb * bstride +
				   (size_t)t0 * g->kgroups * 64;
		const __m256i m0 = lanes8(g, co0), m1 = lanes8(g, co0 + 8);
		__m256i a0[MR], a1[MR];

		if (t0 == 0) {
#pragma GCC unroll 8
			for (r = 0; r < MR; r++)
				a0[r] = a1[r] = _mm256_setzero_si256();
		} else { /* the partial sums of the taps before */
#pragma GCC unroll 8
			for (r = 0; r < MR; r++) {
				const int32_t *o = out + (size_t)(r < nrows ? r : 0) * g->cout + co0;

				a0[r] = _mm256_maskload_epi32(o, m0);
				a1[r] = _mm256_maskload_epi32(o + 8, m1);
			}
		}
		for (t = t0; t < t1; t++) {
			const uint8_t *p[MR];

#pragma GCC unroll 8
			for (r = 0; r < MR; r++)
				p[r] = rows[r] + toff[(size_t)t * g->kgroups];
			for (q = 0; q < g->kgroups; q++, w += 64) {
				const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)w);
				const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32));

#pragma GCC unroll 8
				for (r = 0; r < MR; r++) {
					const __m256i x = bcast4(p[r] + 4 * q);

					a0[r] = _mm256_add_epi32(a0[r], _mm256_madd_epi16(x, b0));
					a1[r] = _mm256_add_epi32(a1[r], _mm256_madd_epi16(x, b1));
				}
			}
		}
		for (r = 0; r < nrows; r++) {
			int32_t *o = out + (size_t)r * g->cout + co0;

			if (t1 < g->taps) { /* not the last K block: the raw partial sums */
				_mm256_maskstore_epi32(o, m0, a0[r]);
				_mm256_maskstore_epi32(o + 8, m1, a1[r]);
			} else {
				store8(a0[r], g, co0, o);
				store8(a1[r], g, co0 + 8, o + 8);
			}
		}
	}
}

const struct f8_cpu_kern f8_cpu_kern_avx2 = {
	.isa = F8_CPU_ISA_AVX2, .mr = MR, .nbs = 1, .g = 2, .esize = 2, .gemm = gemm_avx2,
	.elem = &f8_cpu_elem_avx2,
};
#endif
