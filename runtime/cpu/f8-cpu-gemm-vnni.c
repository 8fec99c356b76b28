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

/* One tile for blocks nb (and nb + 1 when @two), taps [t0, t1) (f8_cpu_gemm_fn). */
static TGT inline __attribute__((always_inline)) void tile(const struct f8_cpu_gemm *g,
							    const uint8_t *const *rows,
							    const ptrdiff_t *toff, int nrows,
							    int32_t *out, int nb, const int two,
							    int t0, int t1)
{
	const size_t bstride = (size_t)g->taps * g->kgroups * 64;
	const int8_t *w0 = (const int8_t *)g->w + (size_t)nb * bstride + (size_t)t0 * g->kgroups * 64;
	const int8_t *w1 = w0 + bstride;
	const int co0 = nb * F8_CPU_NR, co1 = co0 + F8_CPU_NR;
	__m512i a0[MR], a1[MR];
	int t, q, r;

	if (t0 == 0) {
#pragma GCC unroll 8
		for (r = 0; r < MR; r++)
			a0[r] = a1[r] = _mm512_setzero_si512();
	} else { /* the partial sums of the taps before */
		const __mmask16 m0 = valid_mask(g, co0), m1 = two ? valid_mask(g, co1) : 0;

#pragma GCC unroll 8
		for (r = 0; r < MR; r++) {
			const int32_t *o = out + (size_t)(r < nrows ? r : 0) * g->cout + co0;

			a0[r] = _mm512_maskz_loadu_epi32(m0, o);
			a1[r] = two ? _mm512_maskz_loadu_epi32(m1, o + F8_CPU_NR) : a0[r];
		}
	}
	for (t = t0; t < t1; t++) {
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
	if (t1 < g->taps) { /* not the last K block: the raw partial sums */
		const __mmask16 m0 = valid_mask(g, co0), m1 = two ? valid_mask(g, co1) : 0;

		for (r = 0; r < nrows; r++) {
			int32_t *o = out + (size_t)r * g->cout + co0;

			_mm512_mask_storeu_epi32(o, m0, a0[r]);
			if (two)
				_mm512_mask_storeu_epi32(o + F8_CPU_NR, m1, a1[r]);
		}
		return;
	}
	for (r = 0; r < nrows; r++) {
		int32_t *o = out + (size_t)r * g->cout + co0;

		store16(a0[r], g, co0, o);
		if (two)
			store16(a1[r], g, co1, o + F8_CPU_NR);
	}
}

static TGT void gemm_vnni(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			  const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			  int t1)
{
	int nb;

	for (nb = nb0; nb + 1 < nb1; nb += 2)
		tile(g, rows, toff, nrows, out, nb, 1, t0, t1);
	if (nb < nb1)
		tile(g, rows, toff, nrows, out, nb, 0, t0, t1);
}

const struct f8_cpu_kern f8_cpu_kern_vnni = {
	.isa = F8_CPU_ISA_AVX512VNNI, .mr = MR, .g = 4, .esize = 1, .gemm = gemm_vnni,
	.elem = &f8_cpu_elem_avx2,
};
#endif
