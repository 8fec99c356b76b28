// SPDX-License-Identifier: MIT
/*
 * The AVX-512 VNNI GEMM kernel of the CPU backend: vpdpbusd multiplies 4 u8 codes by 4 s8
 * weights and adds the 4 products to a 32-bit lane without saturation (unlike vpmaddubsw,
 * whose 16-bit pair sums saturate for u8 x s8), so every sum is exact. A tile is 8 output
 * pixels x 32 output channels (16 accumulators); each group of 4 codes of a pixel is
 * broadcast and meets one 64-byte load of packed weights per 16 channels. Built with a
 * function-level target, chosen at run time (f8-cpu-plan.c).
 */
#include "f8-cpu-impl.h"

#ifdef F8_CPU_X86
#include <immintrin.h>
#include <string.h>

#define MR_MAX 8
#define TGT __attribute__((target("avx512f,avx512bw,avx512vnni")))

static TGT inline __m512i bcast4(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm512_set1_epi32(v);
}

static TGT inline __mmask16 valid_mask(const struct f8_cpu_gemm *g, int co0)
{
	const int valid = g->cout - co0;

	return valid >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << valid) - 1);
}

/* A5 after the exact sum: minus the signed-input offset, plus the bias with one sat32 (an
 * overflow of the 32-bit add has the bias's sign; -2^31 itself becomes -(2^31 - 1)); A7. */
static TGT inline void store16(__m512i acc, const struct f8_cpu_gemm *g, int co0, int32_t *dst)
{
	const __m512i max = _mm512_set1_epi32(F8_CPU_S32_MAX), zero = _mm512_setzero_si512();
	const __m512i b = _mm512_loadu_si512(g->bias + co0);
	const __m512i s = _mm512_sub_epi32(acc, _mm512_loadu_si512(g->corr + co0));
	__m512i r = _mm512_add_epi32(s, b);
	const __mmask16 ovf = _mm512_cmplt_epi32_mask(
		_mm512_and_si512(_mm512_xor_si512(b, r), _mm512_xor_si512(s, r)), zero);

	r = _mm512_mask_mov_epi32(r, ovf, _mm512_xor_si512(_mm512_srai_epi32(b, 31), max));
	r = _mm512_max_epi32(r, _mm512_sub_epi32(zero, max));
	if (g->relu)
		r = _mm512_max_epi32(r, zero);
	_mm512_mask_storeu_epi32(dst, valid_mask(g, co0), r);
}

/*
 * One tile of @M pixels for blocks nb .. nb + NB - 1 (NB 1, 2 or 4: M x NB accumulators),
 * taps [t0, t1) (f8_cpu_gemm_fn).
 */
static TGT inline __attribute__((always_inline)) void tile(const struct f8_cpu_gemm *g,
							    const uint8_t *const *rows,
							    const ptrdiff_t *toff, int nrows,
							    int32_t *out, int nb, const int NB,
							    const int M, int t0, int t1)
{
	const size_t bstride = (size_t)g->taps * g->kgroups * 64;
	const int8_t *w = (const int8_t *)g->w + (size_t)nb * bstride + (size_t)t0 * g->kgroups * 64;
	const int co0 = nb * F8_CPU_NR;
	__mmask16 mk[4];
	__m512i acc[MR_MAX][4];
	int t, q, r, c;

#pragma GCC unroll 4
	for (c = 0; c < NB; c++)
		mk[c] = valid_mask(g, co0 + c * F8_CPU_NR);
	if (t0 == 0) {
#pragma GCC unroll 8
		for (r = 0; r < M; r++)
#pragma GCC unroll 4
			for (c = 0; c < NB; c++)
				acc[r][c] = _mm512_setzero_si512();
	} else { /* the partial sums of the taps before */
#pragma GCC unroll 8
		for (r = 0; r < M; r++) {
			const int32_t *o = out + (size_t)(r < nrows ? r : 0) * g->cout + co0;

#pragma GCC unroll 4
			for (c = 0; c < NB; c++)
				acc[r][c] = _mm512_maskz_loadu_epi32(mk[c], o + c * F8_CPU_NR);
		}
	}
	for (t = t0; t < t1; t++) {
		const uint8_t *p[MR_MAX];

#pragma GCC unroll 8
		for (r = 0; r < M; r++)
			p[r] = rows[r] + toff[t];
		for (q = 0; q < g->kgroups; q++, w += 64) {
			__m512i b[4];

#pragma GCC unroll 4
			for (c = 0; c < NB; c++)
				b[c] = _mm512_loadu_si512(w + c * bstride);
#pragma GCC unroll 8
			for (r = 0; r < M; r++) {
				const __m512i x = bcast4(p[r] + 4 * q);

#pragma GCC unroll 4
				for (c = 0; c < NB; c++)
					acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], x, b[c]);
			}
		}
	}
	for (r = 0; r < nrows; r++) {
		int32_t *o = out + (size_t)r * g->cout + co0;

#pragma GCC unroll 4
		for (c = 0; c < NB; c++) {
			if (t1 < g->taps) /* not the last K block: the raw partial sums */
				_mm512_mask_storeu_epi32(o + c * F8_CPU_NR, mk[c], acc[r][c]);
			else
				store16(acc[r][c], g, co0 + c * F8_CPU_NR, o + c * F8_CPU_NR);
		}
	}
}

static TGT void gemm_vnni(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			  const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			  int t1)
{
	int nb;

	for (nb = nb0; nb + 1 < nb1; nb += 2)
		tile(g, rows, toff, nrows, out, nb, 2, 8, t0, t1);
	if (nb < nb1)
		tile(g, rows, toff, nrows, out, nb, 1, 8, t0, t1);
}

static TGT void gemm_vnni64(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			    const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			    int t1)
{
	int nb;

	for (nb = nb0; nb + 3 < nb1; nb += 4)
		tile(g, rows, toff, nrows, out, nb, 4, 6, t0, t1);
	for (; nb + 1 < nb1; nb += 2)
		tile(g, rows, toff, nrows, out, nb, 2, 6, t0, t1);
	if (nb < nb1)
		tile(g, rows, toff, nrows, out, nb, 1, 6, t0, t1);
}

static const struct f8_cpu_kern kern_vnni64 = {
	.isa = F8_CPU_ISA_AVX512VNNI, .mr = 6, .nbs = 4, .g = 4, .esize = 1, .gemm = gemm_vnni64,
	.elem = &f8_cpu_elem_avx2,
};

const struct f8_cpu_kern f8_cpu_kern_vnni = {
	.isa = F8_CPU_ISA_AVX512VNNI, .mr = 8, .nbs = 2, .g = 4, .esize = 1, .gemm = gemm_vnni,
	.elem = &f8_cpu_elem_avx2, .wide = &kern_vnni64,
};
#endif
