// SPDX-License-Identifier: MIT
/*
 * Float 2-D convolution, forward and backward (f8-ops.h).
 *
 * groups == 1: im2col then SGEMM (OpenBLAS, single-threaded inside the pool's tasks).
 * Small images make skinny GEMMs, so a task takes a chunk of B images (a power of two,
 * chosen from the geometry alone) laid side by side: col is [K][B*P], the GEMM writes
 * [cout][B*P] and the result is scattered to NCHW. A 1x1 stride-1 unpadded conv on
 * single-image chunks uses the image itself as its column matrix.
 *
 * Backward splits the chunks into a fixed number of groups (independent of the thread
 * count): each group sums dW = dY * col^T over its chunks into its own partial in ws,
 * then the partials are added in group order, so dw is bit-identical for any thread
 * count. dx goes through dcol = W^T * dY and col2im, accumulating into dx.
 *
 * With AVX2 (the train objects are built for x86-64-v3) im2col copies rows of stride 1
 * and 2 with masked loads (padding lanes read as zero), and col2im of stride 1 adds all
 * k*k contributions to a dx row in registers: the copies cost as much as the GEMMs on
 * these small images. (A stride-1 dx computed as a conv of dY with flipped weights through
 * im2col of dY and one GEMM into dx was tried: no faster than GEMM + this col2im.)
 *
 * 3x3 stride-1 pad-1 convs of the ResNet widths skip im2col on AVX-512 machines: direct
 * kernels (d3_*, below) compute y, dx as the conv of dY with flipped weights, and dW
 * image by image into the same group partials (so still thread-count independent).
 *
 * Depthwise (groups == cin): direct loops over each plane, the inner loop along a
 * row so that gcc vectorises it; backward works per channel, so dw needs no partials.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cblas.h>
#if defined(__AVX2__) || (defined(__x86_64__) && defined(__GNUC__))
#include <immintrin.h>
#endif

#include "f8-err.h"
#include "f8-ops.h"
#include "f8-par.h"

/* Groups of the dW partial sums (fixed: results must not depend on threads). */
#define F8_CONV_PARTS 16
/* GEMM columns a chunk aims at: below ~800 the SGEMM kernels lose half their speed. */
#define F8_CONV_COLS 768
/* Chunks per batch at least (load balance over the pool). */
#define F8_CONV_MIN_CHUNKS 8
/* Larger kernels are out of range (the depthwise backward keeps k*k sums on the stack). */
#define F8_CONV_KMAX 32

/* ws slots start on 64-byte boundaries relative to ws. */
static size_t round16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

int f8_conv_geom_finish(struct f8_conv_geom *g)
{
	long long oh, ow;

	if (g->n < 1 || g->cin < 1 || g->h < 1 || g->w < 1 || g->cout < 1 || g->k < 1 ||
	    g->stride < 1 || g->pad < 0 || g->groups < 1)
		return F8_ERR_RANGE;
	if (g->groups != 1 && (g->groups != g->cin || g->cout != g->cin))
		return F8_ERR_RANGE;
	if (g->k > F8_CONV_KMAX || g->pad > 1024 || g->h > (1 << 20) || g->w > (1 << 20))
		return F8_ERR_RANGE;
	oh = ((long long)g->h + 2LL * g->pad - g->k) / g->stride + 1;
	ow = ((long long)g->w + 2LL * g->pad - g->k) / g->stride + 1;
	if (g->h + 2LL * g->pad < g->k || g->w + 2LL * g->pad < g->k || oh < 1 || ow < 1)
		return F8_ERR_RANGE;
	g->oh = (int)oh;
	g->ow = (int)ow;
	return F8_OK;
}

/* Images per chunk: a power of two, from the geometry only. */
static size_t conv_chunk(const struct f8_conv_geom *g)
{
	const size_t p = (size_t)g->oh * g->ow;
	size_t b = 1;

	while (b * p < F8_CONV_COLS && 2 * b * F8_CONV_MIN_CHUNKS <= (size_t)g->n)
		b *= 2;
	return b;
}

/* A 1x1 conv that reads every input pixel once, in place: no column matrix. */
static bool conv_direct(const struct f8_conv_geom *g)
{
	return g->k == 1 && g->stride == 1 && g->pad == 0 && conv_chunk(g) == 1;
}

static size_t conv_kdim(const struct f8_conv_geom *g)
{
	return (size_t)(g->cin / g->groups) * g->k * g->k;
}

static size_t conv_nchunks(const struct f8_conv_geom *g)
{
	return ((size_t)g->n + conv_chunk(g) - 1) / conv_chunk(g);
}

static size_t conv_parts(const struct f8_conv_geom *g)
{
	return conv_nchunks(g) < F8_CONV_PARTS ? conv_nchunks(g) : F8_CONV_PARTS;
}

/*
 * The direct 3x3 kernel (AVX-512): stride 1, pad 1, channels in blocks of 16 held in
 * registers over one whole output row: 64 channels x 7, 32 x 14 or 16 x 28 pixels
 * (28 accumulators), the ResNet stages on 28x28 inputs. It computes y from x, and dx
 * from dY (the same conv with the weights flipped and transposed). dW has its own kernel
 * (d3_dw: 16 or 32 output channels x 9 taps in registers), used when both others apply.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(F8_NO_D3)
#define F8_D3 1
#endif

/* Channel blocks of 16 for @ch output channels over rows of @w pixels, or 0 if no variant. */
static int d3_blocks(int ch, int w)
{
	if (ch % 16 != 0)
		return 0;
	if ((ch == 16 && w == 28) || (ch == 32 && w == 14) || (ch % 64 == 0 && w == 7))
		return ch == 16 ? 1 : ch == 32 ? 2 : 4;
	return 0;
}

static bool d3_cpu(void)
{
#ifdef F8_D3
	return __builtin_cpu_supports("avx512f");
#else
	return false;
#endif
}

static bool d3_shape(const struct f8_conv_geom *g)
{
	return g->groups == 1 && g->k == 3 && g->stride == 1 && g->pad == 1 && d3_cpu();
}

/* Forward on the direct kernel: y channels cout over rows of ow. */
static bool d3_fwd(const struct f8_conv_geom *g)
{
	return d3_shape(g) && d3_blocks(g->cout, g->ow) > 0;
}

/* dx on the direct kernel: dx channels cin over rows of w (oh == h, ow == w). */
static bool d3_dx(const struct f8_conv_geom *g)
{
	return d3_shape(g) && d3_blocks(g->cin, g->w) > 0;
}

/* The transposed weights [cin][9][cout] (forward) or flipped [cout][9][cin] (dx). */
static size_t conv_flip(const struct f8_conv_geom *g)
{
	return d3_fwd(g) || d3_dx(g) ? round16((size_t)g->cout * conv_kdim(g)) : 0;
}

/* Per thread: the column matrix, and with chunks of several images the [cout][B*P]
 * output (forward) or gathered dY (backward); the direct kernel's zero-padded copy of
 * its input image in the column slot. */
static size_t conv_slot_col(const struct f8_conv_geom *g)
{
	size_t n = conv_direct(g) ? 0 : conv_kdim(g) * conv_chunk(g) * g->oh * g->ow;

	if (d3_fwd(g) || d3_dx(g)) {
		const size_t px = (size_t)(g->h + 2) * (g->w + 2);
		/* dW: padded x and dY transposed to [P][cout], for each image of a chunk */
		const size_t dw = conv_chunk(g) * ((size_t)g->cin * px +
						   (size_t)g->cout * g->oh * g->ow);

		n = n > dw ? n : dw;
		n = n > (size_t)g->cout * px ? n : (size_t)g->cout * px;
	}
	return round16(n);
}

static size_t conv_slot_out(const struct f8_conv_geom *g)
{
	return conv_chunk(g) == 1 ? 0 : round16((size_t)g->cout * conv_chunk(g) * g->oh * g->ow);
}

size_t f8_conv_ws_floats(const struct f8_conv_geom *g)
{
	if (g->groups != 1)
		return 0;
	return conv_parts(g) * round16((size_t)g->cout * conv_kdim(g)) + conv_flip(g) +
	       (size_t)f8_par_threads() * (conv_slot_col(g) + conv_slot_out(g));
}

/* Output columns ox whose input column ox * stride + off lies inside [0, w). */
static void conv_cols(int ow, int w, int stride, int off, int *ox0, int *ox1)
{
	int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
	int b = w - 1 - off < 0 ? 0 : (w - 1 - off) / stride + 1;

	if (b > ow)
		b = ow;
	if (a > b)
		a = b;
	*ox0 = a;
	*ox1 = b;
}

#ifdef __AVX2__
/* Lanes i of ox = base + i with lo <= ox < hi, as a maskload/maskstore mask. */
static inline __m256i lane_mask(int base, int lo, int hi)
{
	const __m256i ox = _mm256_add_epi32(_mm256_set1_epi32(base),
					    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));

	return _mm256_and_si256(_mm256_cmpgt_epi32(ox, _mm256_set1_epi32(lo - 1)),
				_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), ox));
}

/*
 * out[ox] = src[ox] for ox0 <= ox < ox1, else 0, over [0, ow): one masked load per
 * 8 columns instead of three short loops (rows are 7..28 floats). Masked-off lanes
 * are not read, so src may point before or past the plane there.
 */
static inline void copy_row_s1(float *restrict out, const float *src, int ow, int ox0, int ox1)
{
	int ox;

	for (ox = 0; ox + 8 <= ow; ox += 8)
		_mm256_storeu_ps(out + ox, _mm256_maskload_ps(src + ox, lane_mask(ox, ox0, ox1)));
	if (ox < ow)
		_mm256_maskstore_ps(out + ox, lane_mask(ox, 0, ow),
				    _mm256_maskload_ps(src + ox, lane_mask(ox, ox0, ox1)));
}

/* Stride 2: out[ox] = src[2 * ox] where 0 <= 2 * ox + off < w (src = row + off), else 0;
 * two masked loads of 8 inputs, the even lanes picked. */
static inline void copy_row_s2(float *restrict out, const float *src, int off, int w, int ow)
{
	int ox;

	for (ox = 0; ox < ow; ox += 8) {
		const int i = 2 * ox;
		const __m256 lo = _mm256_maskload_ps(src + i, lane_mask(i + off, 0, w));
		const __m256 hi = _mm256_maskload_ps(src + i + 8, lane_mask(i + 8 + off, 0, w));
		/* [lo0 lo2 hi0 hi2 lo4 lo6 hi4 hi6] -> [lo0 lo2 lo4 lo6 hi0 hi2 hi4 hi6] */
		const __m256 ev = _mm256_castpd_ps(_mm256_permute4x64_pd(
			_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));

		if (ox + 8 <= ow)
			_mm256_storeu_ps(out + ox, ev);
		else
			_mm256_maskstore_ps(out + ox, lane_mask(ox, 0, ow), ev);
	}
}

/*
 * col2im_add for stride 1: each dx row is loaded once, gets all k*k shifted col rows
 * that read it added in registers (in the same order as the generic loop), and is
 * stored once, instead of k*k read-modify-write passes over short rows.
 */
static void col2im_add_s1(const struct f8_conv_geom *g, const float *restrict col, size_t ld,
			  float *restrict dx)
{
	const int k = g->k, pad = g->pad, ow = g->ow, oh = g->oh, w = g->w;
	int c, iy, ix, ki, kj, lo[F8_CONV_KMAX], hi[F8_CONV_KMAX];

	for (kj = 0; kj < k; kj++)
		conv_cols(ow, w, 1, kj - pad, &lo[kj], &hi[kj]);
	for (c = 0; c < g->cin; c++) {
		const float *colc = col + (size_t)c * k * k * ld;

		for (iy = 0; iy < g->h; iy++) {
			float *dxr = dx + ((size_t)c * g->h + iy) * w;

			for (ix = 0; ix < w; ix += 8) {
				const __m256i m = lane_mask(ix, 0, w);
				__m256 acc = _mm256_maskload_ps(dxr + ix, m);

				for (ki = 0; ki < k; ki++) {
					const int oy = iy + pad - ki;
					const float *rows;

					if (oy < 0 || oy >= oh)
						continue;
					rows = colc + (size_t)ki * k * ld + (size_t)oy * ow;
					for (kj = 0; kj < k; kj++) {
						/* dx[ix] gets col[ox] with ox = ix - (kj - pad) */
						const int sh = ix - (kj - pad);

						acc = _mm256_add_ps(acc, _mm256_maskload_ps(
							rows + (ptrdiff_t)kj * (ptrdiff_t)ld + sh,
							lane_mask(sh, lo[kj], hi[kj])));
					}
				}
				_mm256_maskstore_ps(dxr + ix, m, acc);
			}
		}
	}
}
#endif

/*
 * col[(c*k + ki)*k + kj][oy*ow + ox] = x[c][oy*s - pad + ki][ox*s - pad + kj] or 0,
 * rows @ld floats apart (a chunk puts its images side by side).
 */
static void im2col(const struct f8_conv_geom *g, const float *restrict x, float *restrict col,
		   size_t ld)
{
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow, oh = g->oh;
	int c, ki, kj, oy, ox, ox0, ox1;

	for (c = 0; c < g->cin; c++) {
		const float *xc = x + (size_t)c * g->h * g->w;

		for (ki = 0; ki < k; ki++) {
			for (kj = 0; kj < k; kj++) {
				float *restrict row = col + ((size_t)(c * k + ki) * k + kj) * ld;
				const int off = kj - pad;

				conv_cols(ow, g->w, s, off, &ox0, &ox1);
				for (oy = 0; oy < oh; oy++) {
					const int iy = oy * s - pad + ki;
					float *restrict out = row + (size_t)oy * ow;
					const float *restrict xr;

					if (iy < 0 || iy >= g->h) {
						for (ox = 0; ox < ow; ox++)
							out[ox] = 0.0f;
						continue;
					}
					/* valid columns read xr[ox * s + off] >= xr[0] */
					xr = xc + (size_t)iy * g->w;
#ifdef __AVX2__
					if (s == 1) {
						copy_row_s1(out, xr + off, ow, ox0, ox1);
						continue;
					}
					if (s == 2) {
						copy_row_s2(out, xr + off, off, g->w, ow);
						continue;
					}
#endif
					/* Rows are short (7..28): plain loops beat memcpy calls. */
					for (ox = 0; ox < ox0; ox++)
						out[ox] = 0.0f;
					if (s == 1) {
						for (ox = ox0; ox < ox1; ox++)
							out[ox] = xr[ox + off];
					} else {
						for (ox = ox0; ox < ox1; ox++)
							out[ox] = xr[ox * s + off];
					}
					for (ox = ox1; ox < ow; ox++)
						out[ox] = 0.0f;
				}
			}
		}
	}
}

/* The adjoint of im2col: dx[c][iy][ix] += every dcol entry that read it. */
static void col2im_add(const struct f8_conv_geom *g, const float *restrict col, size_t ld,
		       float *restrict dx)
{
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow, oh = g->oh;
	int c, ki, kj, oy, ox, ox0, ox1;

#ifdef __AVX2__
	if (s == 1) {
		col2im_add_s1(g, col, ld, dx);
		return;
	}
#endif
	for (c = 0; c < g->cin; c++) {
		float *dxc = dx + (size_t)c * g->h * g->w;

		for (ki = 0; ki < k; ki++) {
			for (kj = 0; kj < k; kj++) {
				const float *restrict row = col + ((size_t)(c * k + ki) * k + kj) * ld;
				const int off = kj - pad;

				conv_cols(ow, g->w, s, off, &ox0, &ox1);
				for (oy = 0; oy < oh; oy++) {
					const int iy = oy * s - pad + ki;
					const float *restrict in = row + (size_t)oy * ow;
					float *restrict dxr;

					if (iy < 0 || iy >= g->h)
						continue;
					dxr = dxc + (size_t)iy * g->w;
					if (s == 1) {
						for (ox = ox0; ox < ox1; ox++)
							dxr[ox + off] += in[ox];
					} else {
						for (ox = ox0; ox < ox1; ox++)
							dxr[ox * s + off] += in[ox];
					}
				}
			}
		}
	}
}

struct conv_job {
	const struct f8_conv_geom *g;
	const float *x, *w, *bias, *dy;
	float *y, *dx, *dw, *dbias, *ws;
	size_t kdim, p, chunk, nchunks, slot_col, slot_out, part, parts, flip;
	bool direct, d3dx, d3dw;
};

static float *conv_slot_ptr(const struct conv_job *j, int thread)
{
	return j->ws + j->parts * j->part + j->flip + (size_t)thread * (j->slot_col + j->slot_out);
}

/* Images [i0, i1) of chunk @ch. */
static void conv_chunk_range(const struct conv_job *j, size_t ch, size_t *i0, size_t *i1)
{
	*i0 = ch * j->chunk;
	*i1 = *i0 + j->chunk < (size_t)j->g->n ? *i0 + j->chunk : (size_t)j->g->n;
}

#ifdef F8_D3
/*
 * One output row: acc[px][cb] = sum over ci < cin and the 3x3 taps of
 * wt[(ci*9 + tap)*cout + co0 + 16*cb ...] * xp[ci][ki][px + kj], xp pointing at the
 * padded input row oy (row stride wp, plane stride plane). Then
 * tmp[px*64 + 16*cb + lane] = acc.
 */
__attribute__((target("avx512f"), always_inline)) static inline void
d3_row(const float *xp, size_t plane, int wp, const float *wt, int cin, int cout, int co0,
       float *tmp, const int cbn, const int pxn)
{
	__m512 acc[28], wv[4];
	int ci, t, cb, px;

	for (t = 0; t < cbn * pxn; t++)
		acc[t] = _mm512_setzero_ps();
	for (ci = 0; ci < cin; ci++) {
		for (t = 0; t < 9; t++) {
			const float *xr = xp + ci * plane + (t / 3) * wp + t % 3;
			const float *wr = wt + ((size_t)ci * 9 + t) * cout + co0;

			for (cb = 0; cb < cbn; cb++)
				wv[cb] = _mm512_loadu_ps(wr + 16 * cb);
			for (px = 0; px < pxn; px++) {
				const __m512 xv = _mm512_set1_ps(xr[px]);

				for (cb = 0; cb < cbn; cb++)
					acc[px * cbn + cb] = _mm512_fmadd_ps(wv[cb], xv, acc[px * cbn + cb]);
			}
		}
	}
	for (px = 0; px < pxn; px++)
		for (cb = 0; cb < cbn; cb++)
			_mm512_storeu_ps(tmp + px * 64 + 16 * cb, acc[px * cbn + cb]);
}

__attribute__((target("avx512f"))) static void
d3_row_v(const float *xp, size_t plane, int wp, const float *wt, int cin, int cout, int co0,
	 float *tmp, int cbn)
{
	if (cbn == 4)
		d3_row(xp, plane, wp, wt, cin, cout, co0, tmp, 4, 7);
	else if (cbn == 2)
		d3_row(xp, plane, wp, wt, cin, cout, co0, tmp, 2, 14);
	else
		d3_row(xp, plane, wp, wt, cin, cout, co0, tmp, 1, 28);
}
#endif

#ifdef F8_D3
/*
 * dW of @nb images (image b at xp + b * xstep, dyt + b * dstep) for output channels
 * [co0, co0 + 16 * cbn), cbn <= 2, all ci: acc[tap][cb] = sum over images and pixels
 * of dyt[p][co] * xp[ci][(oy + ki) * wp + ox + kj]; then part[co][ci*9 + tap] = (first)
 * or += acc.
 */
__attribute__((target("avx512f"), always_inline)) static inline void
d3_dw(const float *xp, size_t plane, int wp, const float *dyt, int cout, int oh, int ow,
      int cin, int co0, float *part, bool first, int nb, size_t xstep, size_t dstep,
      const int cbn)
{
	float tmp[16 * 2 * 9];
	int ci, t, cb, oy, ox, l, b;

	for (ci = 0; ci < cin; ci++) {
		__m512 acc[18];

		for (t = 0; t < 9 * cbn; t++)
			acc[t] = _mm512_setzero_ps();
		for (b = 0; b < nb; b++) {
			for (oy = 0; oy < oh; oy++) {
				for (ox = 0; ox < ow; ox++) {
					const float *xr = xp + b * xstep + ci * plane + (size_t)oy * wp + ox;
					const float *dr = dyt + b * dstep + ((size_t)oy * ow + ox) * cout + co0;
					__m512 dv[2];

					for (cb = 0; cb < cbn; cb++)
						dv[cb] = _mm512_loadu_ps(dr + 16 * cb);
					for (t = 0; t < 9; t++) {
						const __m512 xv = _mm512_set1_ps(xr[(t / 3) * wp + t % 3]);

						for (cb = 0; cb < cbn; cb++)
							acc[t * cbn + cb] = _mm512_fmadd_ps(dv[cb], xv, acc[t * cbn + cb]);
					}
				}
			}
		}
		for (t = 0; t < 9; t++)
			for (cb = 0; cb < cbn; cb++)
				_mm512_storeu_ps(tmp + (t * cbn + cb) * 16, acc[t * cbn + cb]);
		for (cb = 0; cb < cbn; cb++)
			for (l = 0; l < 16; l++) {
				float *pr = part + (size_t)(co0 + 16 * cb + l) * cin * 9 + (size_t)ci * 9;

				for (t = 0; t < 9; t++) {
					const float v = tmp[(t * cbn + cb) * 16 + l];

					pr[t] = first ? v : pr[t] + v;
				}
			}
	}
}

__attribute__((target("avx512f"))) static void
d3_dw_v(const float *xp, size_t plane, int wp, const float *dyt, int cout, int oh, int ow,
	int cin, float *part, bool first, int nb, size_t xstep, size_t dstep)
{
	int co0;

	if (cout % 32 == 0)
		for (co0 = 0; co0 < cout; co0 += 32)
			d3_dw(xp, plane, wp, dyt, cout, oh, ow, cin, co0, part, first, nb, xstep,
			      dstep, 2);
	else
		for (co0 = 0; co0 < cout; co0 += 16)
			d3_dw(xp, plane, wp, dyt, cout, oh, ow, cin, co0, part, first, nb, xstep,
			      dstep, 1);
}
#endif

#ifdef F8_D3
/*
 * Rows of 28 (16 channels): vectors along the row instead, 8 output channels x 2 vectors
 * of pixels (16 + 12) in registers: two loads and eight broadcasts per 16 FMAs, where
 * channel vectors would need a broadcast per FMA. Writes y rows directly:
 * y[co][oy][px] = (add ? y : bias) + sum.
 */
__attribute__((target("avx512f"))) static void
d3_row28(const float *xp, size_t plane, int wp, const float *wt, int cin, int cout,
	 float *y, size_t ystride, const float *bias, bool add)
{
	const __mmask16 tail = 0x0fff;
	int co0, ci, t, c;

	for (co0 = 0; co0 < cout; co0 += 8) {
		__m512 acc[8][2];

		for (c = 0; c < 8; c++)
			acc[c][0] = acc[c][1] = _mm512_setzero_ps();
		for (ci = 0; ci < cin; ci++) {
			for (t = 0; t < 9; t++) {
				const float *xr = xp + ci * plane + (t / 3) * wp + t % 3;
				const float *wr = wt + ((size_t)ci * 9 + t) * cout + co0;
				const __m512 x0 = _mm512_loadu_ps(xr);
				const __m512 x1 = _mm512_maskz_loadu_ps(tail, xr + 16);

				for (c = 0; c < 8; c++) {
					const __m512 wv = _mm512_set1_ps(wr[c]);

					acc[c][0] = _mm512_fmadd_ps(wv, x0, acc[c][0]);
					acc[c][1] = _mm512_fmadd_ps(wv, x1, acc[c][1]);
				}
			}
		}
		for (c = 0; c < 8; c++) {
			float *yr = y + (size_t)(co0 + c) * ystride;
			__m512 b0, b1;

			if (add) {
				b0 = _mm512_loadu_ps(yr);
				b1 = _mm512_maskz_loadu_ps(tail, yr + 16);
			} else {
				b0 = b1 = _mm512_set1_ps(bias ? bias[co0 + c] : 0.0f);
			}
			_mm512_storeu_ps(yr, _mm512_add_ps(b0, acc[c][0]));
			_mm512_mask_storeu_ps(yr + 16, tail, _mm512_add_ps(b1, acc[c][1]));
		}
	}
}
#endif

#ifdef F8_D3
/* Zero-padded copy of @c planes h x w into pad [c][h+2][w+2]; rows of 7..28 floats by
 * masked vectors (memcpy calls cost more than the copy). */
__attribute__((target("avx512f"))) static void d3_pad(const float *x, int c, int h, int w,
							float *pad)
{
	const int wp = w + 2;
	const size_t plane = (size_t)(h + 2) * wp;
	int ch, iy, i;

	memset(pad, 0, sizeof(*pad) * plane * c);
	for (ch = 0; ch < c; ch++)
		for (iy = 0; iy < h; iy++) {
			const float *src = x + ((size_t)ch * h + iy) * w;
			float *dst = pad + ch * plane + (size_t)(iy + 1) * wp + 1;

			for (i = 0; i < w; i += 16) {
				const __mmask16 m = (__mmask16)(w - i >= 16 ? 0xffff : (1u << (w - i)) - 1);

				_mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
			}
		}
}
#endif

#ifdef F8_D3
/* dyt[q][c] = dy[c][q], c < cout (a multiple of 16): 16 channels per gather. */
__attribute__((target("avx512f"))) static void d3_transpose(const float *dy, int cout, size_t p,
							     float *dyt)
{
	const __m512i idx = _mm512_mullo_epi32(
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		_mm512_set1_epi32((int)p));
	size_t q;
	int c0;

	for (c0 = 0; c0 < cout; c0 += 16)
		for (q = 0; q < p; q++)
			_mm512_storeu_ps(dyt + q * cout + c0,
					 _mm512_i32gather_ps(idx, dy + (size_t)c0 * p + q, 4));
}
#endif

/*
 * dW partial (= if first, else +=) of the @nb images of a chunk on the direct kernel,
 * summed over the chunk in registers (one pass over the partial per chunk); buf: slot,
 * [nb][cin] padded planes then [nb] transposed dY.
 */
static void d3_dw_chunk(const struct f8_conv_geom *g, const float *x, const float *dy, int nb,
			float *part, bool first, float *buf)
{
#ifdef F8_D3
	const size_t plane = (size_t)(g->h + 2) * (g->w + 2), p = (size_t)g->oh * g->ow;
	const size_t xstep = (size_t)g->cin * plane, dstep = (size_t)g->cout * p;
	float *dyt = buf + nb * xstep;
	int b;

	for (b = 0; b < nb; b++) {
		d3_pad(x + b * (size_t)g->cin * g->h * g->w, g->cin, g->h, g->w, buf + b * xstep);
		d3_transpose(dy + b * dstep, g->cout, p, dyt + b * dstep);
	}
	d3_dw_v(buf, plane, g->w + 2, dyt, g->cout, g->oh, g->ow, g->cin, part, first, nb, xstep,
		dstep);
#else
	(void)g, (void)x, (void)dy, (void)nb, (void)part, (void)first, (void)buf;
	F8_ASSERT(0);
#endif
}

/*
 * y (+)= conv3x3(x) (+ bias) of one image, x [cin][h][w], y [cout][h][w], wt as d3_row;
 * pad: room for the zero-padded copy of x. The sums run in a fixed order per pixel.
 */
static void d3_image(const float *x, int cin, int h, int w, const float *wt, int cout,
		     const float *bias, float *y, bool add, float *pad)
{
#ifdef F8_D3
	const int wp = w + 2, cbn = d3_blocks(cout, w);
	const size_t plane = (size_t)(h + 2) * wp;
	float tmp[28 * 64];
	int oy, co0, co, px;

	d3_pad(x, cin, h, w, pad);
	if (w == 28 && cout % 8 == 0) {
		for (oy = 0; oy < h; oy++)
			d3_row28(pad + (size_t)oy * wp, plane, wp, wt, cin, cout, y + (size_t)oy * w,
				 (size_t)h * w, bias, add);
		return;
	}
	for (oy = 0; oy < h; oy++) {
		for (co0 = 0; co0 < cout; co0 += 16 * cbn) {
			d3_row_v(pad + (size_t)oy * wp, plane, wp, wt, cin, cout, co0, tmp, cbn);
			for (co = co0; co < co0 + 16 * cbn; co++) {
				float *restrict yr = y + ((size_t)co * h + oy) * w;
				const float *restrict tr = tmp + (co - co0);
				const float b = bias ? bias[co] : 0.0f;

				if (add)
					for (px = 0; px < w; px++)
						yr[px] += tr[px * 64];
				else
					for (px = 0; px < w; px++)
						yr[px] = tr[px * 64] + b;
			}
		}
	}
#else
	(void)x, (void)cin, (void)h, (void)w, (void)wt, (void)cout, (void)bias, (void)y;
	(void)add, (void)pad;
	F8_ASSERT(0);
#endif
}

/* Forward of image @i on the direct kernel. */
static void d3_fwd_image(void *ctx, size_t i, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;

	d3_image(j->x + i * g->cin * g->h * g->w, g->cin, g->h, g->w,
		 j->ws + j->parts * j->part, g->cout, j->bias, j->y + i * g->cout * j->p, false,
		 conv_slot_ptr(j, thread));
}

/* wt[ci][tap][co] = w[co][ci][tap] (forward), or [co][tap][ci] = w[co][ci][8 - tap] (dx). */
static void d3_weights(void *ctx, size_t c, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	float *wt = j->ws + j->parts * j->part;
	size_t o, t;

	(void)thread;
	if (!j->d3dx) {
		for (o = 0; o < (size_t)g->cout; o++)
			for (t = 0; t < 9; t++)
				wt[(c * 9 + t) * g->cout + o] = j->w[(o * g->cin + c) * 9 + t];
	} else {
		for (o = 0; o < (size_t)g->cin; o++)
			for (t = 0; t < 9; t++)
				wt[(c * 9 + t) * g->cin + o] = j->w[(c * g->cin + o) * 9 + 8 - t];
	}
}

static void conv_fwd_chunk(void *ctx, size_t ch, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const size_t xsz = (size_t)g->cin * g->h * g->w, ysz = (size_t)g->cout * j->p;
	float *slot = conv_slot_ptr(j, thread);
	const float *col = slot;
	float *out;
	size_t i0, i1, nb, ld, b, c, q;

	conv_chunk_range(j, ch, &i0, &i1);
	nb = i1 - i0;
	ld = nb * j->p;
	if (j->direct)
		col = j->x + i0 * xsz;
	else
		for (b = 0; b < nb; b++)
			im2col(g, j->x + (i0 + b) * xsz, slot + b * j->p, ld);
	out = j->chunk == 1 ? j->y + i0 * ysz : slot + j->slot_col;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->cout, (int)ld, (int)j->kdim, 1.0f,
		    j->w, (int)j->kdim, col, (int)ld, 0.0f, out, (int)ld);
	for (b = 0; b < nb; b++) {
		float *y = j->y + (i0 + b) * ysz;

		for (c = 0; c < (size_t)g->cout; c++) {
			float *restrict yc = y + c * j->p;
			const float *restrict oc = out + c * ld + b * j->p;
			const float bias = j->bias ? j->bias[c] : 0.0f;

			if (oc != yc)
				for (q = 0; q < j->p; q++)
					yc[q] = oc[q] + bias;
			else if (j->bias)
				for (q = 0; q < j->p; q++)
					yc[q] += bias;
		}
	}
}

/* Group @grp of chunks: its dW partial, and dx for its images. */
static void conv_bwd_group(void *ctx, size_t grp, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const size_t c0 = grp * j->nchunks / j->parts, c1 = (grp + 1) * j->nchunks / j->parts;
	const size_t xsz = (size_t)g->cin * g->h * g->w, ysz = (size_t)g->cout * j->p;
	float *part = j->ws + grp * j->part;
	float *slot = conv_slot_ptr(j, thread), *dyc = slot + j->slot_col;
	const int m = g->cout, kd = (int)j->kdim;
	size_t ch, i0, i1, nb, ld, b, c;

	for (ch = c0; ch < c1; ch++) {
		const float *col = slot, *dyp;

		conv_chunk_range(j, ch, &i0, &i1);
		nb = i1 - i0;
		ld = nb * j->p;
		if (j->d3dw) {
			/* a fixed sum order: chunks in order, images in order inside */
			d3_dw_chunk(g, j->x + i0 * xsz, j->dy + i0 * ysz, (int)nb, part, ch == c0,
				    slot);
			if (!j->dx)
				continue;
			F8_ASSERT(j->d3dx);
			for (b = 0; b < nb; b++)
				d3_image(j->dy + (i0 + b) * ysz, g->cout, g->oh, g->ow,
					 j->ws + j->parts * j->part, g->cin, NULL,
					 j->dx + (i0 + b) * xsz, true, slot);
			continue;
		}
		if (j->direct)
			col = j->x + i0 * xsz;
		else
			for (b = 0; b < nb; b++)
				im2col(g, j->x + (i0 + b) * xsz, slot + b * j->p, ld);
		if (j->chunk == 1) {
			dyp = j->dy + i0 * ysz;
		} else {
			/* gather dY of the chunk as [cout][nb * P] */
			for (c = 0; c < (size_t)g->cout; c++)
				for (b = 0; b < nb; b++)
					memcpy(dyc + c * ld + b * j->p, j->dy + (i0 + b) * ysz + c * j->p,
					       sizeof(*dyc) * j->p);
			dyp = dyc;
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, kd, (int)ld, 1.0f, dyp, (int)ld,
			    col, (int)ld, ch == c0 ? 0.0f : 1.0f, part, kd);
		if (!j->dx)
			continue;
		if (j->direct) {
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kd, (int)ld, m, 1.0f, j->w,
				    kd, dyp, (int)ld, 1.0f, j->dx + i0 * xsz, (int)ld);
			continue;
		}
		if (j->d3dx) {
			/* the column slot is free again: the padded dY */
			for (b = 0; b < nb; b++)
				d3_image(j->dy + (i0 + b) * ysz, g->cout, g->oh, g->ow,
					 j->ws + j->parts * j->part, g->cin, NULL,
					 j->dx + (i0 + b) * xsz, true, slot);
			continue;
		}
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kd, (int)ld, m, 1.0f, j->w, kd, dyp,
			    (int)ld, 0.0f, slot, (int)ld);
		for (b = 0; b < nb; b++)
			col2im_add(g, slot + b * j->p, ld, j->dx + (i0 + b) * xsz);
	}
}

/* Output channel @c: its dw row from the partials in group order, and dbias. */
static void conv_bwd_reduce(void *ctx, size_t c, int thread)
{
	const struct conv_job *j = ctx;
	const size_t kd = j->kdim;
	float *restrict dw = j->dw + c * kd;
	size_t grp, q, i;

	(void)thread;
	memcpy(dw, j->ws + c * kd, sizeof(*dw) * kd);
	for (grp = 1; grp < j->parts; grp++) {
		const float *restrict part = j->ws + grp * j->part + c * kd;

		for (q = 0; q < kd; q++)
			dw[q] += part[q];
	}
	if (j->dbias) {
		double sum = 0.0;

		for (i = 0; i < (size_t)j->g->n; i++) {
			const float *restrict dy = j->dy + (i * j->g->cout + c) * j->p;
			float s = 0.0f;

			for (q = 0; q < j->p; q++)
				s += dy[q];
			sum += s;
		}
		j->dbias[c] = (float)sum;
	}
}


/* Depthwise forward of plane (image, channel) = @i. */
static void dw_fwd_plane(void *ctx, size_t i, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow;
	const size_t c = i % g->cin;
	const float *restrict x = j->x + i * g->h * g->w;
	const float *restrict w = j->w + c * k * k;
	float *restrict y = j->y + i * j->p;
	const float b = j->bias ? j->bias[c] : 0.0f;
	int oy, ki, kj, ox, ox0, ox1;

	(void)thread;
	for (oy = 0; oy < g->oh; oy++) {
		float *restrict yr = y + (size_t)oy * ow;

		for (ox = 0; ox < ow; ox++)
			yr[ox] = b;
		for (ki = 0; ki < k; ki++) {
			int iy = oy * s - pad + ki;

			if (iy < 0 || iy >= g->h)
				continue;
			for (kj = 0; kj < k; kj++) {
				const float *restrict xr = x + (size_t)iy * g->w;
				const int off = kj - pad;
				const float wv = w[ki * k + kj];

				conv_cols(ow, g->w, s, off, &ox0, &ox1);
				if (s == 1) {
					for (ox = ox0; ox < ox1; ox++)
						yr[ox] += wv * xr[ox + off];
				} else {
					for (ox = ox0; ox < ox1; ox++)
						yr[ox] += wv * xr[ox * s + off];
				}
			}
		}
	}
}

/* Depthwise backward of channel @c over the whole batch: dx, dw[c], dbias[c]. */
static void dw_bwd_channel(void *ctx, size_t c, int thread)
{
	const struct conv_job *j = ctx;
	const struct f8_conv_geom *g = j->g;
	const int k = g->k, s = g->stride, pad = g->pad, ow = g->ow;
	const size_t hw = (size_t)g->h * g->w;
	const float *restrict w = j->w + c * k * k;
	double acc[F8_CONV_KMAX * F8_CONV_KMAX];
	double bsum = 0.0;
	int n, oy, ki, kj, ox, ox0, ox1, q;

	(void)thread;
	for (q = 0; q < k * k; q++)
		acc[q] = 0.0;
	for (n = 0; n < g->n; n++) {
		const size_t plane = (size_t)n * g->cin + c;
		const float *restrict x = j->x + plane * hw;
		const float *restrict dy = j->dy + plane * j->p;
		float *restrict dx = j->dx ? j->dx + plane * hw : NULL;

		for (ki = 0; ki < k; ki++) {
			for (kj = 0; kj < k; kj++) {
				const float wv = w[ki * k + kj];
				float sum = 0.0f;

				conv_cols(ow, g->w, s, kj - pad, &ox0, &ox1);
				for (oy = 0; oy < g->oh; oy++) {
					int iy = oy * s - pad + ki;
					const float *restrict dyr = dy + (size_t)oy * ow;
					ptrdiff_t off;

					if (iy < 0 || iy >= g->h)
						continue;
					off = (ptrdiff_t)iy * g->w + kj - pad;
					if (s == 1) {
						for (ox = ox0; ox < ox1; ox++)
							sum += dyr[ox] * x[off + ox];
						if (dx)
							for (ox = ox0; ox < ox1; ox++)
								dx[off + ox] += wv * dyr[ox];
					} else {
						for (ox = ox0; ox < ox1; ox++)
							sum += dyr[ox] * x[off + (ptrdiff_t)ox * s];
						if (dx)
							for (ox = ox0; ox < ox1; ox++)
								dx[off + (ptrdiff_t)ox * s] += wv * dyr[ox];
					}
				}
				acc[ki * k + kj] += sum;
			}
		}
		if (j->dbias) {
			float sum = 0.0f;

			for (q = 0; q < (int)j->p; q++)
				sum += dy[q];
			bsum += sum;
		}
	}
	for (q = 0; q < k * k; q++)
		j->dw[c * k * k + q] = (float)acc[q];
	if (j->dbias)
		j->dbias[c] = (float)bsum;
}

static void conv_job_init(struct conv_job *j, const struct f8_conv_geom *g, float *ws)
{
	memset(j, 0, sizeof(*j));
	j->g = g;
	j->ws = ws;
	j->kdim = conv_kdim(g);
	j->p = (size_t)g->oh * g->ow;
	j->chunk = conv_chunk(g);
	j->nchunks = conv_nchunks(g);
	j->direct = conv_direct(g);
	j->slot_col = conv_slot_col(g);
	j->slot_out = conv_slot_out(g);
	j->part = round16((size_t)g->cout * j->kdim);
	j->parts = conv_parts(g);
	j->flip = conv_flip(g);
}

void f8_conv_fwd(const struct f8_conv_geom *g, const float *x, const float *w, const float *bias,
		 float *y, float *ws)
{
	struct conv_job j;

	conv_job_init(&j, g, ws);
	j.x = x;
	j.w = w;
	j.bias = bias;
	j.y = y;
	if (d3_fwd(g)) {
		f8_par_for((size_t)g->cin, d3_weights, &j);
		f8_par_for((size_t)g->n, d3_fwd_image, &j);
	} else if (g->groups == 1)
		f8_par_for(j.nchunks, conv_fwd_chunk, &j);
	else
		f8_par_for((size_t)g->n * g->cin, dw_fwd_plane, &j);
}

void f8_conv_bwd(const struct f8_conv_geom *g, const float *x, const float *w, const float *dy,
		 float *dx, float *dw, float *dbias, float *ws)
{
	struct conv_job j;

	conv_job_init(&j, g, ws);
	j.x = x;
	j.w = w;
	j.dy = dy;
	j.dx = dx;
	j.dw = dw;
	j.dbias = dbias;
	if (g->groups == 1) {
		j.d3dx = dx && d3_dx(g);
		/* the direct dW where its dx (if wanted) is direct too */
		j.d3dw = d3_fwd(g) && d3_dx(g);
		if (j.d3dx)
			f8_par_for((size_t)g->cout, d3_weights, &j);
		f8_par_for(j.parts, conv_bwd_group, &j);
		f8_par_for((size_t)g->cout, conv_bwd_reduce, &j);
	} else {
		f8_par_for((size_t)g->cin, dw_bwd_channel, &j);
	}
}
