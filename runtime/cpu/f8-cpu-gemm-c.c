// SPDX-License-Identifier: MIT
/*
 * The portable GEMM kernel of the CPU backend: plain C on the u8-code layout the AVX-512
 * VNNI kernel uses (groups of 4 codes, weights [block][tap][group][16][4]), so it runs on any
 * CPU and checks that layout independently of the intrinsics.
 */
#include "f8-cpu-impl.h"

#define MR 4
#define G 4

/* A5 after the exact sum: remove the signed-input offset, add the bias, one sat32; A7. */
static int32_t epilogue(int64_t acc, const struct f8_cpu_gemm *g, int co)
{
	int64_t v = f8_cpu_sat32(acc - g->corr[co] + g->bias[co]);

	if (g->relu && v < 0)
		v = 0;
	return (int32_t)v;
}

static void gemm_c(const struct f8_cpu_gemm *g, const uint8_t *const *rows, const ptrdiff_t *toff,
		   int nrows, int32_t *out, int nb0, int nb1, int t0, int t1,
		   const struct f8_cpu_fuse *f)
{
	const int8_t *wall = g->w;
	const size_t bstride = (size_t)g->taps * g->kgroups * F8_CPU_NR * G;
	int nb, t, q, r, l, j;

	(void)f; /* F8_CPU_FUSE_POST: the driver applies the epilogue */
	for (nb = nb0; nb < nb1; nb++) {
		const int8_t *w = wall + (size_t)nb * bstride + (size_t)t0 * g->kgroups * F8_CPU_NR * G;
		const int co0 = nb * F8_CPU_NR;
		/* exact in int32: |sum| <= 65536 * 255 * 127 < 2^31 (f8-cpu-impl.h) */
		int32_t acc[MR][F8_CPU_NR] = { { 0 } };

		if (t0 > 0) /* the partial sums of the taps before */
			for (r = 0; r < nrows; r++)
				for (l = 0; l < F8_CPU_NR && co0 + l < g->cout; l++)
					acc[r][l] = out[(size_t)r * g->cout + (size_t)co0 + l];
		for (t = t0; t < t1; t++)
			for (q = 0; q < g->kgroups; q++, w += F8_CPU_NR * G)
				for (r = 0; r < MR; r++) {
					const uint8_t *x = rows[r] + toff[(size_t)t * g->kgroups + q];

					for (l = 0; l < F8_CPU_NR; l++) {
						int32_t s = 0;

						for (j = 0; j < G; j++)
							s += x[j] * w[l * G + j];
						acc[r][l] += s;
					}
				}
		for (r = 0; r < nrows; r++)
			for (l = 0; l < F8_CPU_NR && co0 + l < g->cout; l++)
				out[(size_t)r * g->cout + (size_t)co0 + l] =
					t1 < g->taps ? acc[r][l] : epilogue(acc[r][l], g, co0 + l);
	}
}

const struct f8_cpu_kern f8_cpu_kern_portable = {
	.isa = F8_CPU_ISA_PORTABLE, .mr = MR, .nbs = 1, .g = G, .esize = 1, .fuse = F8_CPU_FUSE_POST,
	.gemm = gemm_c, .elem = &f8_cpu_elem_c,
};
