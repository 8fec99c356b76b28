// SPDX-License-Identifier: MIT
/*
 * Max and sum pooling of the CPU backend (docs/arith.md §3): the window's present taps
 * only; the max ignores padding, the sum counts it as 0 and is exact (int64) before its one
 * saturation. Vectors run over channels, which are contiguous.
 */
#include "f8-cpu-impl.h"

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
