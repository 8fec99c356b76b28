// SPDX-License-Identifier: MIT
/*
 * Max and sum pooling of the CPU backend (docs/arith.md §3): the window's present taps
 * only; the max ignores padding, the sum counts it as 0 and is exact (int64) before its one
 * saturation. Vectors run over channels, which are contiguous. The max of int32 values is
 * an int32: it is taken in the output row itself, 32-bit lanes, one row per call (rows can
 * go to different threads), built for the baseline and with AVX2.
 */
#include "f8-cpu-impl.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE void maxpool_body(const struct f8_qm_node *q, const struct f8_qm_node *in,
				       size_t row, const int32_t *x, int32_t *out)
{
	const int c = q->c, ih = in->h, iw = in->w, oy = (int)(row % q->h);
	const int32_t lo = (q->flags & F8_QM_F_RELU) ? 0 : -F8_CPU_S32_MAX;
	const int y0 = f8_cpu_win0(oy, q->stride, q->pad);
	const int ya = y0 < 0 ? 0 : y0, yb = y0 + q->k > ih ? ih : y0 + q->k;
	int ox, y, xx, ch;

	x += row / q->h * (size_t)ih * iw * c;
	out += row * (size_t)q->w * c;
	for (ox = 0; ox < q->w; ox++, out += c) {
		const int x0 = f8_cpu_win0(ox, q->stride, q->pad);
		const int xa = x0 < 0 ? 0 : x0, xb = x0 + q->k > iw ? iw : x0 + q->k;

		/* pad < k: every window has a present tap, (ya, xa) */
		for (ch = 0; ch < c; ch++)
			out[ch] = x[((size_t)ya * iw + (size_t)xa) * c + ch];
		for (y = ya; y < yb; y++)
			for (xx = (y == ya ? xa + 1 : xa); xx < xb; xx++) {
				const int32_t *xp = x + ((size_t)y * iw + (size_t)xx) * c;

				for (ch = 0; ch < c; ch++)
					out[ch] = xp[ch] > out[ch] ? xp[ch] : out[ch];
			}
		/* A6 with no operand is one sat32 (only -2^31 changes), then ReLU (A8) */
		for (ch = 0; ch < c; ch++)
			out[ch] = out[ch] < lo ? lo : out[ch];
	}
}

static void maxpool_c(const struct f8_qm_node *q, const struct f8_qm_node *in, size_t row,
		      const int32_t *x, int32_t *out)
{
	maxpool_body(q, in, row, x, out);
}

#ifdef F8_CPU_X86
__attribute__((target("avx2"))) static void maxpool_avx2(const struct f8_qm_node *q,
							  const struct f8_qm_node *in, size_t row,
							  const int32_t *x, int32_t *out)
{
	maxpool_body(q, in, row, x, out);
}
#endif

void f8_cpu_maxpool_row(const struct f8_qm_node *q, const struct f8_qm_node *in, size_t row,
			const int32_t *x, int32_t *out, bool avx2)
{
#ifdef F8_CPU_X86
	if (avx2) {
		maxpool_avx2(q, in, row, x, out);
		return;
	}
#endif
	(void)avx2;
	maxpool_c(q, in, row, x, out);
}

void f8_cpu_pool(const struct f8_qm_node *q, const struct f8_qm_node *in, int n, const int32_t *x,
		 int64_t *acc, int32_t *out)
{
	const int c = q->c, ih = in->h, iw = in->w;
	const bool is_max = q->op == F8_QM_MAXPOOL;
	int b, oy, ox, ky, kx, ch;

	for (b = 0; b < n; b++)
		for (oy = 0; oy < q->h; oy++)
			for (ox = 0; ox < q->w; ox++, out += c) {
				const int y0 = f8_cpu_win0(oy, q->stride, q->pad);
				const int x0 = f8_cpu_win0(ox, q->stride, q->pad);
				bool any = false;

				for (ky = 0; ky < q->k; ky++) {
					const int y = y0 + ky;

					if (y < 0 || y >= ih)
						continue;
					for (kx = 0; kx < q->k; kx++) {
						const int xx = x0 + kx;
						const int32_t *xp;

						if (xx < 0 || xx >= iw)
							continue;
						xp = x + (((size_t)b * ih + (size_t)y) * iw + (size_t)xx) * c;
						if (!any)
							for (ch = 0; ch < c; ch++)
								acc[ch] = xp[ch];
						else if (is_max)
							for (ch = 0; ch < c; ch++)
								acc[ch] = xp[ch] > acc[ch] ? xp[ch] : acc[ch];
						else
							for (ch = 0; ch < c; ch++)
								acc[ch] += xp[ch];
						any = true;
					}
				}
				/* pad < k: every window has a present tap. The epilogue's A6 with no
				 * operand is one sat32, then ReLU if flagged (A8). */
				for (ch = 0; ch < c; ch++) {
					int64_t v = acc[ch];

					v = f8_cpu_sat32(v);
					if ((q->flags & F8_QM_F_RELU) && v < 0)
						v = 0;
					out[ch] = (int32_t)v;
				}
			}
}
