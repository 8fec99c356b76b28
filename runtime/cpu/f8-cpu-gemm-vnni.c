// SPDX-License-Identifier: MIT
/*
 * The AVX-512 VNNI GEMM kernel of the CPU backend: vpdpbusd multiplies 4 u8 codes by 4 s8
 * weights and adds the 4 products to a 32-bit lane without saturation (unlike vpmaddubsw,
 * whose 16-bit pair sums saturate for u8 x s8), so every sum is exact. A tile is 8 output
 * pixels x 32 output channels (16 accumulators; a 16-channel layer splits its K steps over
 * two sets of 8), or 6 x 64 for wide layers; each group of 4 codes of a pixel is broadcast
 * and meets one 64-byte load of packed weights per 16 channels. The epilogue can also do
 * the fused work of the plan (a residual ADD, the int32 tensor elsewhere or not at all, the
 * readers' 8-bit codes): struct f8_cpu_fuse. Built with a function-level target, chosen at
 * run time (f8-cpu-plan.c).
 */
#include "f8-cpu-impl.h"

#ifdef F8_CPU_X86
#include <immintrin.h>
#include <string.h>

#define MR_MAX 8
#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

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

/*
 * The epilogue's constants, read once per tile into locals: stores through int32_t
 * pointers could alias the int fields of the plan and of struct f8_cpu_fuse, which would
 * make the compiler reload and rebuild them for every vector.
 */
struct epi {
	__m512i bias[4], corr[4], bsat[4]; /* bsat: the value of an overflow, bias's sign */
	__m512i max, nmax, zero, one;
	__m512i lima, nlima, limb, nlimb; /* fused ADD: sat32 bounds of the two shifts */
	__m512i mask, half, lo, hi, off;  /* codes */
	__m128i cnta, cntb, cnt;
	bool relu, sgn, nosat, add, add_relu, shr, la0, lb0;
};

/* A5 after the exact sum: minus the signed-input offset, plus the bias with one sat32 (an
 * overflow of the 32-bit add has the bias's sign; -2^31 itself becomes -(2^31 - 1)); A7. */
static TGT inline __m512i value16(__m512i acc, const struct epi *e, int c)
{
	const __m512i b = e->bias[c], s = e->sgn ? _mm512_sub_epi32(acc, e->corr[c]) : acc;
	__m512i r = _mm512_add_epi32(s, b);

	if (!e->nosat) {
		const __mmask16 ovf = _mm512_cmplt_epi32_mask(
			_mm512_and_si512(_mm512_xor_si512(b, r), _mm512_xor_si512(s, r)), e->zero);

		r = _mm512_mask_mov_epi32(r, ovf, e->bsat[c]);
		r = _mm512_max_epi32(r, e->nmax);
	}
	if (e->relu)
		r = _mm512_max_epi32(r, e->zero);
	return r;
}

/* sat32(a * 2^l), l in 0..31 (f8-cpu-elem.c: shl_sat) */
static TGT inline __m512i shl_sat16(__m512i a, bool l0, __m128i cnt, __m512i lim, __m512i nlim,
				    const struct epi *e)
{
	__m512i v;

	if (l0) /* one operand of an ADD has the ADD's FL: only -2^31 moves */
		return _mm512_max_epi32(a, e->nmax);
	v = _mm512_sll_epi32(a, cnt);

	v = _mm512_mask_mov_epi32(v, _mm512_cmpgt_epi32_mask(a, lim), e->max);
	return _mm512_mask_mov_epi32(v, _mm512_cmplt_epi32_mask(a, nlim), e->nmax);
}

/*
 * The fused epilogue (struct f8_cpu_fuse) of 16 channels of one pixel: the ADD (A6 in
 * 32-bit lanes: an overflowing add has the operands' sign), its ReLU, the int32 value, the
 * codes (A4: round half to even by the dropped bits, or a left shift of the value clamped
 * to +-256; then the clamp and the offset) stored as bytes.
 */
static TGT inline void fused16(__m512i v, const struct epi *e, const int32_t *aux, int32_t *o32,
			       uint8_t *codes, __mmask16 mk)
{
	if (e->add) {
		/* the value is never -2^31 (value16's sat32 or its bound) */
		const __m512i x = e->la0 ? v : shl_sat16(v, false, e->cnta, e->lima, e->nlima, e);
		const __m512i y = shl_sat16(_mm512_maskz_loadu_epi32(mk, aux), e->lb0, e->cntb,
					    e->limb, e->nlimb, e);
		const __m512i r = _mm512_add_epi32(x, y);
		const __mmask16 ovf = _mm512_cmplt_epi32_mask(
			_mm512_and_si512(_mm512_xor_si512(x, r), _mm512_xor_si512(y, r)), e->zero);

		v = _mm512_mask_mov_epi32(r, ovf, _mm512_xor_si512(_mm512_srai_epi32(x, 31), e->max));
		v = _mm512_max_epi32(v, e->nmax);
		if (e->add_relu)
			v = _mm512_max_epi32(v, e->zero);
	}
	if (o32)
		_mm512_mask_storeu_epi32(o32, mk, v);
	if (codes) {
		__m512i q;
		__m128i b;

		if (e->shr) {
			const __m512i rem = _mm512_and_si512(v, e->mask);
			__mmask16 up;

			q = _mm512_sra_epi32(v, e->cnt);
			up = _mm512_cmpgt_epi32_mask(rem, e->half) |
			     (_mm512_cmpeq_epi32_mask(rem, e->half) & _mm512_test_epi32_mask(q, e->one));
			q = _mm512_mask_add_epi32(q, up, q, e->one);
		} else {
			q = _mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(256)),
					     _mm512_set1_epi32(-256));
			q = _mm512_sll_epi32(q, e->cnt);
		}
		q = _mm512_min_epi32(_mm512_max_epi32(q, e->lo), e->hi);
		/* narrowed in a register, then stored: vpmovdb to memory is slow on AMD */
		b = _mm512_cvtepi32_epi8(_mm512_add_epi32(q, e->off));
		if (mk == 0xffff)
			_mm_storeu_si128((__m128i *)(void *)codes, b);
		else
			_mm_mask_storeu_epi8(codes, mk, b);
	}
}

/* Rows 0 .. @nrows-1 of a tile's sums for @NB blocks from @co0: the raw partial sums of a K
 * block that is not the last, else the value (A5, A7) into @out or through the fused
 * epilogue @f. */
static TGT inline __attribute__((always_inline)) void epilogue(
	const struct f8_cpu_gemm *g, __m512i (*sums)[4], int nrows, int32_t *out, int co0,
	const int NB, const __mmask16 *mk, bool partial, const struct f8_cpu_fuse *f)
{
	const size_t cout = (size_t)g->cout;
	struct epi e;
	int r, c;

	if (partial) {
		for (r = 0; r < nrows; r++)
#pragma GCC unroll 4
			for (c = 0; c < NB; c++)
				_mm512_mask_storeu_epi32(out + r * cout + co0 + c * F8_CPU_NR, mk[c],
							 sums[r][c]);
		return;
	}
	e.max = _mm512_set1_epi32(F8_CPU_S32_MAX);
	e.zero = _mm512_setzero_si512();
	e.nmax = _mm512_sub_epi32(e.zero, e.max);
	e.one = _mm512_set1_epi32(1);
	e.relu = g->relu;
	e.sgn = g->sgn;
	e.nosat = g->nosat;
#pragma GCC unroll 4
	for (c = 0; c < NB; c++) {
		e.bias[c] = _mm512_loadu_si512(g->bias + co0 + c * F8_CPU_NR);
		e.corr[c] = _mm512_loadu_si512(g->corr + co0 + c * F8_CPU_NR);
		e.bsat[c] = _mm512_xor_si512(_mm512_srai_epi32(e.bias[c], 31), e.max);
	}
	if (!f) {
		for (r = 0; r < nrows; r++)
#pragma GCC unroll 4
			for (c = 0; c < NB; c++)
				_mm512_mask_storeu_epi32(out + r * cout + co0 + c * F8_CPU_NR, mk[c],
							 value16(sums[r][c], &e, c));
		return;
	}
	e.add = f->aux;
	e.add_relu = f->add_relu;
	e.la0 = f->la == 0;
	e.lb0 = f->lb == 0;
	e.cnta = _mm_cvtsi32_si128(f->la);
	e.cntb = _mm_cvtsi32_si128(f->lb);
	e.lima = _mm512_set1_epi32(F8_CPU_S32_MAX >> f->la);
	e.nlima = _mm512_sub_epi32(e.zero, e.lima);
	e.limb = _mm512_set1_epi32(F8_CPU_S32_MAX >> f->lb);
	e.nlimb = _mm512_sub_epi32(e.zero, e.limb);
	e.shr = f->shift > 0;
	e.cnt = _mm_cvtsi32_si128(f->shift > 0 ? f->shift : -f->shift > 9 ? 9 : -f->shift);
	e.mask = _mm512_set1_epi32(f->shift > 0 ? (int32_t)((1u << f->shift) - 1) : 0);
	e.half = _mm512_set1_epi32(f->shift > 0 ? (int32_t)1 << (f->shift - 1) : 0);
	e.lo = _mm512_set1_epi32(f->lo);
	e.hi = _mm512_set1_epi32(f->hi);
	e.off = _mm512_set1_epi32(f->off);
	for (r = 0; r < nrows; r++) {
		const size_t o = r * cout + co0;
		uint8_t *codes = f->crow ? f->crow[r] + co0 : NULL;

#pragma GCC unroll 4
		for (c = 0; c < NB; c++)
			fused16(value16(sums[r][c], &e, c), &e, f->aux ? f->aux + o + c * F8_CPU_NR : NULL,
				f->o32 ? f->o32 + o + c * F8_CPU_NR : NULL,
				codes ? codes + c * F8_CPU_NR : NULL, mk[c]);
	}
}

/* The epilogue for 1, 2 and 4 blocks, out of line: its constants do not compete with the
 * tile's accumulators for registers */
#define EPILOGUE_NB(NB)                                                                         \
	static TGT __attribute__((noinline)) void epilogue##NB(                                 \
		const struct f8_cpu_gemm *g, __m512i (*sums)[4], int nrows, int32_t *out,       \
		int co0, const __mmask16 *mk, bool partial, const struct f8_cpu_fuse *f)        \
	{                                                                                       \
		epilogue(g, sums, nrows, out, co0, NB, mk, partial, f);                         \
	}
EPILOGUE_NB(1)
EPILOGUE_NB(2)
EPILOGUE_NB(4)

/*
 * One tile of @M pixels for blocks nb .. nb + NB - 1 (NB 1, 2 or 4: M x NB accumulators),
 * taps [t0, t1) (f8_cpu_gemm_fn).
 */
static TGT inline __attribute__((always_inline)) void tile(const struct f8_cpu_gemm *g,
							    const uint8_t *const *rows,
							    const ptrdiff_t *toff, int nrows,
							    int32_t *out, int nb, const int NB,
							    const int M, int t0, int t1,
							    const struct f8_cpu_fuse *f)
{
	const size_t bstride = (size_t)g->taps * g->kgroups * 64;
	const int8_t *w = (const int8_t *)g->w + (size_t)nb * bstride + (size_t)t0 * g->kgroups * 64;
	const int co0 = nb * F8_CPU_NR;
	const ptrdiff_t *ko = toff + (size_t)t0 * g->kgroups;
	const int nk = (t1 - t0) * g->kgroups;
	const uint8_t *p[MR_MAX];
	__mmask16 mk[4];
	__m512i acc[MR_MAX][4], sums[MR_MAX][4];
	int i = 0, r, c;

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
	/* one loop over the K block's (tap, group) steps, each a code offset from the table:
	 * the M row pointers stay loop-invariant (a loop per tap made gcc keep them in vector
	 * registers on the 16-channel tile, a move per broadcast) */
#pragma GCC unroll 8
	for (r = 0; r < M; r++)
		p[r] = rows[r];
	if (NB == 1) {
		/* one block: M accumulators are too few chains to cover vpdpbusd's latency, so
		 * even and odd K steps go to two sets, added at the end (exact: no saturation) */
		__m512i acc2[MR_MAX];

#pragma GCC unroll 8
		for (r = 0; r < M; r++)
			acc2[r] = _mm512_setzero_si512();
		for (i = 0; i + 1 < nk; i += 2, w += 128) {
			const ptrdiff_t o = ko[i], o2 = ko[i + 1];
			const __m512i b = _mm512_loadu_si512(w), b2 = _mm512_loadu_si512(w + 64);

#pragma GCC unroll 8
			for (r = 0; r < M; r++) {
				acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], bcast4(p[r] + o), b);
				acc2[r] = _mm512_dpbusd_epi32(acc2[r], bcast4(p[r] + o2), b2);
			}
		}
#pragma GCC unroll 8
		for (r = 0; r < M; r++)
			acc[r][0] = _mm512_add_epi32(acc[r][0], acc2[r]);
	}
	for (; i < nk; i++, w += 64) {
		const ptrdiff_t o = ko[i];
		__m512i b[4];

#pragma GCC unroll 4
		for (c = 0; c < NB; c++)
			b[c] = _mm512_loadu_si512(w + c * bstride);
#pragma GCC unroll 8
		for (r = 0; r < M; r++) {
			const __m512i x = bcast4(p[r] + o);

#pragma GCC unroll 4
			for (c = 0; c < NB; c++)
				acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], x, b[c]);
		}
	}
	/* the sums leave the registers here (fully unrolled: an index only known at run time
	 * would keep acc in memory during the loop above, and gcc then copies and spills
	 * accumulators there); the epilogue runs out of line so that its constants do not
	 * compete with the accumulators for registers either */
#pragma GCC unroll 8
	for (r = 0; r < M; r++)
#pragma GCC unroll 4
		for (c = 0; c < NB; c++)
			_mm512_store_si512(&sums[r][c], acc[r][c]);
	if (NB == 4)
		epilogue4(g, sums, nrows, out, co0, mk, t1 < g->taps, f);
	else if (NB == 2)
		epilogue2(g, sums, nrows, out, co0, mk, t1 < g->taps, f);
	else
		epilogue1(g, sums, nrows, out, co0, mk, t1 < g->taps, f);
}

static TGT void gemm_vnni(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			  const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			  int t1, const struct f8_cpu_fuse *f)
{
	int nb;

	for (nb = nb0; nb + 1 < nb1; nb += 2)
		tile(g, rows, toff, nrows, out, nb, 2, 8, t0, t1, f);
	if (nb < nb1)
		tile(g, rows, toff, nrows, out, nb, 1, 8, t0, t1, f);
}

static TGT void gemm_vnni64(const struct f8_cpu_gemm *g, const uint8_t *const *rows,
			    const ptrdiff_t *toff, int nrows, int32_t *out, int nb0, int nb1, int t0,
			    int t1, const struct f8_cpu_fuse *f)
{
	int nb;

	for (nb = nb0; nb + 3 < nb1; nb += 4)
		tile(g, rows, toff, nrows, out, nb, 4, 6, t0, t1, f);
	for (; nb + 1 < nb1; nb += 2)
		tile(g, rows, toff, nrows, out, nb, 2, 6, t0, t1, f);
	if (nb < nb1)
		tile(g, rows, toff, nrows, out, nb, 1, 6, t0, t1, f);
}

static const struct f8_cpu_kern kern_vnni64 = {
	.isa = F8_CPU_ISA_AVX512VNNI, .mr = 6, .nbs = 4, .g = 4, .esize = 1,
	.fuse = F8_CPU_FUSE_NATIVE, .gemm = gemm_vnni64,
	.elem = &f8_cpu_elem_avx2,
};

const struct f8_cpu_kern f8_cpu_kern_vnni = {
	.isa = F8_CPU_ISA_AVX512VNNI, .mr = 8, .nbs = 2, .g = 4, .esize = 1,
	.fuse = F8_CPU_FUSE_NATIVE, .gemm = gemm_vnni,
	.elem = &f8_cpu_elem_avx2, .wide = &kern_vnni64,
};
#endif
