// SPDX-License-Identifier: MIT
/*
 * The BLAS under libf8: which OpenBLAS core runs, and that its SGEMM computes what the
 * training kernels need.
 *
 * libf8 redoes OpenBLAS's core choice only when OpenBLAS fell back to Prescott by itself
 * and OPENBLAS_CORETYPE is unset (runtime/train/f8-par.c); a user's OPENBLAS_CORETYPE is
 * never overridden. `make unit-blas-cores` runs the training suites once per core type
 * this CPU can execute, with OPENBLAS_CORETYPE set, so this test checks both branches.
 * The SGEMM products use small integers, exact in float whatever the summation order,
 * so the expected values are exact for every kernel.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "f8-par.h"
#include "train-test.h"

START_TEST(test_blas_core_choice)
{
	const char *want = getenv("OPENBLAS_CORETYPE");
	const char *got;

	ck_assert_int_eq(f8_par_set_threads(1), 0);
	got = openblas_get_corename();
	ck_assert_ptr_nonnull(got);
	if (want && *want) {
		ck_assert_msg(strcasecmp(got, want) == 0,
			      "OPENBLAS_CORETYPE=%s but OpenBLAS runs %s: libf8 overrode the user", want,
			      got);
		return;
	}
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		ck_assert_msg(strcasecmp(got, "Prescott") != 0,
			      "an AVX2 CPU left on OpenBLAS's Prescott fallback");
#endif
}
END_TEST

/* C = A B (+ C for beta 1) for every transpose pair, with tails at every block edge. */
START_TEST(test_blas_sgemm_exact)
{
	static const int dims[][3] = { { 1, 1, 1 }, { 5, 7, 3 }, { 16, 33, 9 },
				       { 17, 49, 27 }, { 64, 98, 31 }, { 3, 257, 147 } };
	const int m = dims[_i][0], n = dims[_i][1], k = dims[_i][2];
	float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
	float *c = malloc(sizeof(float) * (size_t)m * n);
	int ta, tb, i, j, q;

	ck_assert(a && b && c);
	ck_assert_int_eq(f8_par_set_threads(1), 0);
	for (i = 0; i < m * k; i++)
		a[i] = (float)((i * 7 + 3) % 9 - 4);
	for (i = 0; i < k * n; i++)
		b[i] = (float)((i * 5 + 1) % 7 - 3);
	for (ta = 0; ta < 2; ta++) {
		for (tb = 0; tb < 2; tb++) {
			for (i = 0; i < m * n; i++)
				c[i] = (float)(i % 5);
			/* A is m x k (or its transpose stored k x m), B is k x n (or n x k) */
			cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
				    tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, ta ? m : k, b,
				    tb ? k : n, 1.0f, c, n);
			for (i = 0; i < m; i++) {
				for (j = 0; j < n; j++) {
					long want = (i * n + j) % 5;

					for (q = 0; q < k; q++)
						want += (long)(ta ? a[q * m + i] : a[i * k + q]) *
							(long)(tb ? b[j * k + q] : b[q * n + j]);
					if (c[i * n + j] != (float)want)
						ck_abort_msg("%dx%dx%d ta %d tb %d: c[%d][%d] = %g, want %ld (%s)",
							     m, n, k, ta, tb, i, j, (double)c[i * n + j],
							     want, openblas_get_corename());
				}
			}
		}
	}
	free(a);
	free(b);
	free(c);
}
END_TEST

Suite *f8_train_blas_suite(void)
{
	Suite *s = suite_create("train_blas");
	TCase *tc = tcase_create("blas");

	tcase_add_test(tc, test_blas_core_choice);
	tcase_add_loop_test(tc, test_blas_sgemm_exact, 0, 6);
	suite_add_tcase(s, tc);
	return s;
}
