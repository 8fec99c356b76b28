// SPDX-License-Identifier: MIT
/*
 * Depthwise convolution of the CPU backend: one input channel per output channel, so each
 * tap is a vector multiply over channels (weights packed [tap][c] by the plan). Products
 * are at most 255 * 127 and a window at most 32 * 32 taps, so int32 sums are exact.
 */
#include "f8-cpu-impl.h"

void f8_cpu_depthwise(const struct f8_cpu_node *cn, const struct f8_qm_node *in, int n,
		      const int16_t *x, int64_t *acc64, int32_t *out)
{
	const struct f8_qm_node *q = cn->q;
	const int c = q->c, ih = in->h, iw = in->w;
	int32_t *acc = (int32_t *)(void *)acc64; /* room for c int64, so for c int32 */
	int b, oy, ox, ky, kx, ch;

	for (b = 0; b < n; b++)
		for (oy = 0; oy < q->h; oy++)
			for (ox = 0; ox < q->w; ox++, out += c) {
				const int y0 = f8_cpu_win0(oy, q->stride, q->pad);
				const int x0 = f8_cpu_win0(ox, q->stride, q->pad);

				for (ch = 0; ch < c; ch++)
					acc[ch] = 0;
				for (ky = 0; ky < q->k; ky++) {
					const int y = y0 + ky;

					if (y < 0 || y >= ih)
						continue;
					for (kx = 0; kx < q->k; kx++) {
						const int xx = x0 + kx;
						const int16_t *xp, *wp;

						if (xx < 0 || xx >= iw)
							continue;
						xp = x + (((size_t)b * ih + (size_t)y) * iw + (size_t)xx) * c;
						wp = cn->dw + ((size_t)ky * q->k + (size_t)kx) * c;
						for (ch = 0; ch < c; ch++)
							acc[ch] += (int32_t)xp[ch] * wp[ch];
					}
				}
				/* A5: the bias joins the exact sum, one saturation; then A7 */
				for (ch = 0; ch < c; ch++) {
					int64_t v = (int64_t)q->bias[ch] + acc[ch];

					v = f8_cpu_sat32(v);
					if ((q->flags & F8_QM_F_RELU) && v < 0)
						v = 0;
					out[ch] = (int32_t)v;
				}
			}
}
