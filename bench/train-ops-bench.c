// SPDX-License-Identifier: MIT
/*
 * Micro-benchmark of the float training kernels on the ResNet-20 shapes (28x28 input,
 * batch 128): each conv's forward and forward+backward, then BN and ReLU on the
 * largest activation. Compare with bench/train-ops-torch.py (same shapes, PyTorch).
 * Not part of make check. Build from the top directory, e.g.:
 *   make BUILD=/tmp/b /tmp/b/libf8.a
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iruntime/include $(pkg-config --cflags openblas) \
 *      bench/train-ops-bench.c /tmp/b/libf8.a $(pkg-config --libs openblas) -lpthread -lm -o /tmp/b/ops-bench
 *   /tmp/b/ops-bench [threads] [reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

#include "f8-ops.h"
#include "f8-par.h"
#include "f8-rng.h"

#define N 128

struct shape {
	const char *name;
	int cin, h, cout, k, stride, pad, count;
};

static const struct shape shapes[] = {
	{ "conv1 1-16 k3 28", 1, 28, 16, 3, 1, 1, 1 },	   { "s1 16-16 k3 28", 16, 28, 16, 3, 1, 1, 6 },
	{ "s2a 16-32 k3/2 28", 16, 28, 32, 3, 2, 1, 1 },   { "s2sc 16-32 k1/2 28", 16, 28, 32, 1, 2, 0, 1 },
	{ "s2 32-32 k3 14", 32, 14, 32, 3, 1, 1, 5 },	   { "s3a 32-64 k3/2 14", 32, 14, 64, 3, 2, 1, 1 },
	{ "s3sc 32-64 k1/2 14", 32, 14, 64, 1, 2, 0, 1 }, { "s3 64-64 k3 7", 64, 7, 64, 3, 1, 1, 5 },
};

static double now(void)
{
	struct timespec t;

	clock_gettime(getenv("F8_BENCH_CPU") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static double min(double a, double b)
{
	return a < b ? a : b;
}

static float *frand(struct f8_rng *r, size_t n)
{
	float *p = malloc(sizeof(*p) * n);
	size_t i;

	if (!p)
		abort();
	for (i = 0; i < n; i++)
		p[i] = (float)(2 * f8_rng_uniform(r) - 1);
	return p;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 20;
	struct f8_rng r;
	double total = 0.0, t0, fwd, both;
	size_t s;
	int i;

	if (f8_par_set_threads(threads))
		return 1;
	f8_rng_init(&r, 1, 0);
	printf("%d threads, batch %d, ms per call (best of %d), OpenBLAS core %s\n", threads, N, reps,
	       openblas_get_corename());
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct shape *sh = &shapes[s];
		struct f8_conv_geom g = { .n = N, .cin = sh->cin, .h = sh->h, .w = sh->h, .cout = sh->cout,
					  .k = sh->k, .stride = sh->stride, .pad = sh->pad, .groups = 1 };
		size_t xs, ys;
		float *x, *w, *dy, *dx, *dw, *y, *ws;

		if (f8_conv_geom_finish(&g))
			return 1;
		xs = (size_t)N * g.cin * g.h * g.w;
		ys = (size_t)N * g.cout * g.oh * g.ow;
		x = frand(&r, xs);
		dx = frand(&r, xs);
		w = frand(&r, (size_t)g.cout * g.cin * g.k * g.k);
		dw = frand(&r, (size_t)g.cout * g.cin * g.k * g.k);
		dy = frand(&r, ys);
		y = frand(&r, ys);
		ws = frand(&r, f8_conv_ws_floats(&g) + 1);
		for (i = 0; i < 3; i++)
			f8_conv_fwd(&g, x, w, NULL, y, ws);
		/* the best of @reps: the machine may be shared */
		fwd = 1e30;
		for (i = 0; i < reps; i++) {
			t0 = now();
			f8_conv_fwd(&g, x, w, NULL, y, ws);
			fwd = min(fwd, (now() - t0) * 1e3);
		}
		for (i = 0; i < 2; i++)
			f8_conv_bwd(&g, x, w, dy, g.cin > 1 ? dx : NULL, dw, NULL, ws);
		both = 1e30;
		for (i = 0; i < reps; i++) {
			t0 = now();
			f8_conv_fwd(&g, x, w, NULL, y, ws);
			f8_conv_bwd(&g, x, w, dy, g.cin > 1 ? dx : NULL, dw, NULL, ws);
			both = min(both, (now() - t0) * 1e3);
		}
		total += both * sh->count;
		printf("%-22s fwd %7.3f ms  fwd+bwd %7.3f ms  x%d  (ws %.2f MB)\n", sh->name, fwd, both,
		       sh->count, f8_conv_ws_floats(&g) * 4.0 / (1 << 20));
		free(x);
		free(dx);
		free(w);
		free(dw);
		free(dy);
		free(y);
		free(ws);
	}
	printf("conv total (weighted) %.1f ms\n", total);
	{
		/* BN (train fwd + bwd) and ReLU (fwd + bwd) on 128 x 16 x 28 x 28 */
		const int c = 16, hw = 784;
		const size_t cnt = (size_t)N * c * hw;
		float *x = frand(&r, cnt), *y = frand(&r, cnt), *dy = frand(&r, cnt), *dx = frand(&r, cnt);
		float gamma[16], beta[16], rm[16], rv[16], sm[16], si[16], dg[16], db[16];

		for (i = 0; i < c; i++) {
			gamma[i] = 1;
			beta[i] = 0;
			rm[i] = 0;
			rv[i] = 1;
		}
		t0 = now();
		for (i = 0; i < reps; i++) {
			f8_bn_fwd_train(N, c, hw, x, gamma, beta, 1e-5f, 0.1f, rm, rv, sm, si, y);
			f8_bn_bwd(N, c, hw, x, dy, gamma, sm, si, dx, dg, db);
		}
		printf("bn 16x28x28 fwd+bwd   %7.3f ms\n", (now() - t0) / reps * 1e3);
		t0 = now();
		for (i = 0; i < reps; i++) {
			f8_relu_fwd(cnt, x, y);
			f8_relu_bwd(cnt, y, dy, dx);
		}
		printf("relu 16x28x28 fwd+bwd %7.3f ms\n", (now() - t0) / reps * 1e3);
		free(x);
		free(y);
		free(dy);
		free(dx);
	}
	f8_par_shutdown();
	return 0;
}
