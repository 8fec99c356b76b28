// SPDX-License-Identifier: MIT
/*
 * Element-wise work of the CPU backend: the requantization of a CONV/LINEAR input into
 * codes (A4), and ADD (A6, A7). Written once as branch-free 32-bit C that compilers
 * vectorize, and built twice: for the baseline and with AVX2 enabled, the build the AVX2 and
 * AVX-512 plans use (the ISA is chosen at run time, not by the compiler flags).
 */
#include "f8-cpu-impl.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* A2 with s in 1..31, then A3 into [lo, hi]. */
static ALWAYS_INLINE int32_t rq_right(int32_t v, int s, int32_t mask, int32_t half, int32_t lo,
				      int32_t hi)
{
	int32_t q = v >> s; /* floor: gcc and clang shift signed values arithmetically */
	const int32_t r = v & mask;

	q += (r > half) | ((r == half) & (q & 1));
	return q < lo ? lo : q > hi ? hi : q;
}

/* A2 with s in -31..0, then A3: beyond +-256 or a shift of 9, anything non-zero saturates
 * (the ranges are within +-255), so clamping first keeps the product within 32 bits. */
static ALWAYS_INLINE int32_t rq_left(int32_t v, int k, int32_t lo, int32_t hi)
{
	const int32_t t = v < -256 ? -256 : v > 256 ? 256 : v;
	const int32_t q = t * (1 << (k > 9 ? 9 : k));

	return q < lo ? lo : q > hi ? hi : q;
}

#define RQ_LOOP(T, EXPR)                                                                  \
	do {                                                                              \
		T *d = dst;                                                               \
		size_t px, ch;                                                            \
		for (px = 0; px < pixels; px++, src += cc, d += cp) {                     \
			for (ch = 0; ch < cc; ch++) {                                     \
				const int32_t v = src[ch];                                \
				d[ch] = (T)((EXPR) + off);                                \
			}                                                                 \
			for (; ch < cp; ch++)                                             \
				d[ch] = (T)off;                                           \
		}                                                                         \
	} while (0)

static ALWAYS_INLINE void requant_body(const int32_t *src, size_t pixels, int c, int cpad,
				       int shift, bool sgn, int off, int esize, void *dst)
{
	const int32_t lo = sgn ? -127 : 0, hi = sgn ? 127 : 255;
	size_t cc = (size_t)c, cp = (size_t)cpad;

	if (cc == cp) { /* no padding: one long vector */
		cc = cp = pixels * cc;
		pixels = 1;
	}
	if (shift > 0) {
		const int32_t mask = (int32_t)((1u << shift) - 1), half = (int32_t)1 << (shift - 1);

		if (esize == 1)
			RQ_LOOP(uint8_t, rq_right(v, shift, mask, half, lo, hi));
		else
			RQ_LOOP(uint16_t, rq_right(v, shift, mask, half, lo, hi));
	} else {
		if (esize == 1)
			RQ_LOOP(uint8_t, rq_left(v, -shift, lo, hi));
		else
			RQ_LOOP(uint16_t, rq_left(v, -shift, lo, hi));
	}
}

/* sat32(a * 2^l), l in 0..31 */
static ALWAYS_INLINE int32_t shl_sat(int32_t a, int l)
{
	const int32_t lim = F8_CPU_S32_MAX >> l;

	return a > lim ? F8_CPU_S32_MAX : a < -lim ? -F8_CPU_S32_MAX : (int32_t)((uint32_t)a << l);
}

/* sat32(a + b) for int32 a, b, in 32 bits: an overflow has the operands' sign */
static ALWAYS_INLINE int32_t add_sat(int32_t a, int32_t b)
{
	int32_t r = (int32_t)((uint32_t)a + (uint32_t)b);

	if (((a ^ r) & (b ^ r)) < 0)
		r = a < 0 ? -F8_CPU_S32_MAX : F8_CPU_S32_MAX;
	return r < -F8_CPU_S32_MAX ? -F8_CPU_S32_MAX : r;
}

static ALWAYS_INLINE void add_body(const int32_t *a, int la, const int32_t *b, int lb, bool relu,
				   size_t n, int32_t *out)
{
	size_t i;

	if (relu)
		for (i = 0; i < n; i++) {
			const int32_t v = add_sat(shl_sat(a[i], la), shl_sat(b[i], lb));

			out[i] = v < 0 ? 0 : v;
		}
	else
		for (i = 0; i < n; i++)
			out[i] = add_sat(shl_sat(a[i], la), shl_sat(b[i], lb));
}

static void requant_c(const int32_t *src, size_t pixels, int c, int cpad, int shift, bool sgn,
		      int off, int esize, void *dst)
{
	requant_body(src, pixels, c, cpad, shift, sgn, off, esize, dst);
}

static void add_c(const int32_t *a, int la, const int32_t *b, int lb, bool relu, size_t n,
		  int32_t *out)
{
	add_body(a, la, b, lb, relu, n, out);
}

const struct f8_cpu_elem f8_cpu_elem_c = { requant_c, add_c };

#ifdef F8_CPU_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

/* 8 values: A2 (RNE right shift by @s > 0, or exact left shift by @k <= 9 after the clamp
 * to +-256 of rq_left), A3 into [lo, hi], plus the code offset. */
static AVX2 inline __m256i rq8(__m256i v, int s, __m128i cnt, __m256i mask, __m256i half,
			       __m256i lo, __m256i hi, __m256i off)
{
	__m256i q;

	if (s > 0) {
		const __m256i r = _mm256_and_si256(v, mask), one = _mm256_set1_epi32(1);
		__m256i up;

		q = _mm256_sra_epi32(v, cnt);
		/* up: r > half, or r == half and q odd (all ones: subtracting adds 1) */
		up = _mm256_or_si256(_mm256_cmpgt_epi32(r, half),
				     _mm256_and_si256(_mm256_cmpeq_epi32(r, half),
						      _mm256_cmpeq_epi32(_mm256_and_si256(q, one), one)));
		q = _mm256_sub_epi32(q, up);
	} else {
		q = _mm256_max_epi32(_mm256_min_epi32(v, _mm256_set1_epi32(256)),
				     _mm256_set1_epi32(-256));
		q = _mm256_sll_epi32(q, cnt);
	}
	return _mm256_add_epi32(_mm256_max_epi32(_mm256_min_epi32(q, hi), lo), off);
}

/* The same codes as requant_body, 16 values per step (codes fit 16 bits, and 8 once the
 * offset is added: packing cannot saturate), the rest through the C of requant_body. */
static AVX2 void requant_avx2(const int32_t *src, size_t pixels, int c, int cpad, int shift,
			      bool sgn, int off, int esize, void *dst)
{
	const int32_t lo = sgn ? -127 : 0, hi = sgn ? 127 : 255;
	const int k = shift > 0 ? shift : (-shift > 9 ? 9 : -shift);
	const __m128i cnt = _mm_cvtsi32_si128(k);
	const __m256i mask = _mm256_set1_epi32(shift > 0 ? (int32_t)((1u << shift) - 1) : 0);
	const __m256i half = _mm256_set1_epi32(shift > 0 ? (int32_t)1 << (shift - 1) : 0);
	const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
	const __m256i voff = _mm256_set1_epi32(off);
	size_t cc = (size_t)c, cp = (size_t)cpad, px, i;

	if (cc == cp) { /* no padding: one long vector */
		cc = cp = pixels * cc;
		pixels = 1;
	}
	for (px = 0; px < pixels; px++, src += cc) {
		uint8_t *d8 = (uint8_t *)dst + px * cp * (size_t)esize;

		for (i = 0; i + 16 <= cc; i += 16) {
			const __m256i a = rq8(_mm256_loadu_si256((const __m256i *)(const void *)(src + i)),
					      shift, cnt, mask, half, vlo, vhi, voff);
			const __m256i b = rq8(_mm256_loadu_si256((const __m256i *)(const void *)(src + i + 8)),
					      shift, cnt, mask, half, vlo, vhi, voff);
			const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);

			if (esize == 1)
				_mm_storeu_si128((__m128i *)(void *)(d8 + i),
						 _mm_packus_epi16(_mm256_castsi256_si128(w),
								  _mm256_extracti128_si256(w, 1)));
			else
				_mm256_storeu_si256((__m256i *)(void *)(d8 + 2 * i), w);
		}
		/* the tail and the padding of this pixel */
		requant_body(src + i, 1, (int)(cc - i), (int)(cp - i), shift, sgn, off, esize,
			     d8 + i * (size_t)esize);
	}
}

/* shl_sat on 8 lanes */
static AVX2 inline __m256i shl_sat8(__m256i a, int l, __m128i cnt, __m256i max)
{
	const __m256i lim = _mm256_set1_epi32(F8_CPU_S32_MAX >> l);
	const __m256i nlim = _mm256_sub_epi32(_mm256_setzero_si256(), lim);
	__m256i v = _mm256_sll_epi32(a, cnt);

	v = _mm256_blendv_epi8(v, max, _mm256_cmpgt_epi32(a, lim));
	return _mm256_blendv_epi8(v, _mm256_sub_epi32(_mm256_setzero_si256(), max),
				  _mm256_cmpgt_epi32(nlim, a));
}

/* add_body, 8 lanes per step (add_sat's overflow test on sign bits) */
AVX2 static void add_avx2(const int32_t *a, int la, const int32_t *b, int lb, bool relu,
			  size_t n, int32_t *out)
{
	const __m256i max = _mm256_set1_epi32(F8_CPU_S32_MAX), zero = _mm256_setzero_si256();
	const __m256i nmax = _mm256_sub_epi32(zero, max);
	const __m128i ca = _mm_cvtsi32_si128(la), cb = _mm_cvtsi32_si128(lb);
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		const __m256i x = shl_sat8(_mm256_loadu_si256((const __m256i *)(const void *)(a + i)),
					   la, ca, max);
		const __m256i y = shl_sat8(_mm256_loadu_si256((const __m256i *)(const void *)(b + i)),
					   lb, cb, max);
		__m256i r = _mm256_add_epi32(x, y);
		/* the sign bit, on the whole lane: blendv reads each byte's top bit */
		const __m256i ovf = _mm256_srai_epi32(
			_mm256_and_si256(_mm256_xor_si256(x, r), _mm256_xor_si256(y, r)), 31);

		r = _mm256_blendv_epi8(r, _mm256_xor_si256(_mm256_srai_epi32(x, 31), max), ovf);
		r = _mm256_max_epi32(r, nmax);
		if (relu)
			r = _mm256_max_epi32(r, zero);
		_mm256_storeu_si256((__m256i *)(void *)(out + i), r);
	}
	add_body(a + i, la, b + i, lb, relu, n - i, out + i);
}

const struct f8_cpu_elem f8_cpu_elem_avx2 = { requant_avx2, add_avx2 };
#endif
