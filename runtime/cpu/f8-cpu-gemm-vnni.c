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

#define MR 8
#define TGT __attribute__((target("avx512f,avx512bw,avx512vnni")))

static TGT inline __m512i bcast4(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm512_set1_epi32(v);
}

/* A5 after the exact sum: minus the signed-input offset, plus the bias with one sat32 (an
 * overflow of the 32-bit add has the bias's sign; -2^31 itself becomes -(2^31 - 1)); A7. */
static TGT inline void store16(__m512i acc, const struct f8_cpu_gemm *g, int co0, int32_t *dst)
{
	const __m512i max = _mm512_set1_epi32(F8_CPU_S32_MAX), zero = _mm512_setzero_si512();
	const __m512i b = _mm512_loadu_si512(g->bias + co0);
	const __m512i s = _mm512_sub_epi32(acc, _mm512_loadu_si512(g->corr + co0));
	const int valid = g->cout - co0;
	__m512i r = _mm512_add_epi32(s, b);
	const __mmask16 ovf = _mm512_cmplt_epi32_mask(
		_mm512_and_si512(_mm512_xor_si512(b, r), _mm512_xor_si512(s, r)), zero);

	r = _mm512_mask_mov_epi32(r, ovf, _mm512_xor_si512(_mm512_srai_epi32(b, 31), max));
	r = _mm512_max_epi32(r, _mm512_sub_epi32(zero, max));
	if (g->relu)
		r = _mm512_max_epi32(r, zero);
	_mm512_mask_storeu_epi32(dst, valid >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << valid) - 1), r);
}

/* One tile for blocks nb (and nb + 1 when @two). */
static TGT inline __attribute__((always_inline)) void tile(const struct f8_cpu_gemm *g,
							    const uint8_t *const *rows,
							    const ptrdiff_t *toff, int nrows,
							    int32_t *out, int nb, const int two)
{
	const size_t bstride = (size_t)g->taps * g->kgroups * 64;
	const int8_t *w0 = (const int8_t *)g->w + (size_t)nb * bstride, *w1 = w0 + bstride;
	__m512i a0[MR], a1[MR];
	int t, q, r;

#pragma GCC unroll 8
	for (r = 0; r < MR; r++)
		a0[r] = a1[r] = _mm512_setzero_si512();
	for (t = 0; t < g->taps; t++) {
		const uint8_t *p[MR];

#pragma GCC unroll 8
		for (r = 0; r < MR; r++)
			p[r] = rows[r] + toff[t];
		for (q = 0; q < g->kgroups; q++) {
			const __m512i b0 = _mm512_loadu_si512(w0);
			const __m512i b1 = two ? _mm512_loadu_si512(w1) : b0;

			w0 += 64;
			w1 += 64;
#pragma GCC unroll 8
			for (r = 0; r < MR; r++) {
				const __m512i x = bcast4(p[r] + 4 * q);

				a0[r] = _mm512_dpbusd_epi32(a0[r], x, b0);
				if (two)
					a1[r] = _mm512_dpbusd_epi32(a1[r], x, b1);
			}
		}
	}
	for (r = 0; r < nrows; r++) {
		int32_t *o = out + (size_t)r * g->cout + (size_t)nb * F8_CPU_NR;

		store16(a0[r], g, nb * F8_CPU_NR, o);
		if (two)
			store16(a1[r], g, (nb + 1) * F8_CPU_NR, o + F8_CPU_NR);
	}
}

static TGT void gemm_vnni(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			  const ptrdiff_t *toff, int nrows, int32_t *out)
{
	int nb;

	for (nb = 0; nb + 1 < g->nblocks; nb += 2)
		tile(g, rows, toff, nrows, out, nb, 1);
	if (nb < g->nblocks)
		tile(g, rows, toff, nrows, out, nb, 0);
}

const struct f8_cpu_kern f8_cpu_kern_vnni = {
	.isa = F8_CPU_ISA_AVX512VNNI, .mr = MR, .g = 4, .esize = 1, .gemm = gemm_vnni,
	.elem = &f8_cpu_elem_avx2,
};
#endif
