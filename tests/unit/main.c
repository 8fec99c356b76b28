// SPDX-License-Identifier: MIT
/*
 * f8-unit: every suite of tests/unit in one Check runner.
 *
 * Run from the top directory (check_arith reads docs/arith.md). Check itself
 * honours CK_RUN_SUITE, CK_RUN_CASE, CK_FORK, CK_VERBOSITY and
 * CK_DEFAULT_TIMEOUT / CK_TIMEOUT_MULTIPLIER; F8_TEST_SEED changes the
 * random layers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "f8-test.h"
#include "train-test.h"

int main(void)
{
	SRunner *sr;
	int failed;

	f8t_seed_init();
	sr = srunner_create(f8npu_arith_suite());
	srunner_add_suite(sr, f8npu_ops_suite());
	srunner_add_suite(sr, f8npu_stream_suite());
	srunner_add_suite(sr, f8npu_faults_suite());
	srunner_add_suite(sr, f8_train_ops_suite());
	srunner_add_suite(sr, f8_train_net_suite());
	srunner_add_suite(sr, f8_train_optim_suite());
	srunner_add_suite(sr, f8_train_data_suite());
	srunner_add_suite(sr, f8_train_ckpt_suite());
	srunner_add_suite(sr, f8_train_loop_suite());
	srunner_add_suite(sr, f8_train_qmodel_suite());
	srunner_add_suite(sr, f8_train_blas_suite());
	srunner_add_suite(sr, f8_cpu_suite());
	srunner_add_suite(sr, f8_compile_suite());
	srunner_add_suite(sr, f8_place_suite());
	srunner_add_suite(sr, f8_backend_suite());
	srunner_add_suite(sr, f8_image_suite());
	srunner_add_suite(sr, f8_qrandom_suite());
	srunner_add_suite(sr, f8_dtbo_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/*
	 * Without fork (CK_FORK=no, the sanitizer run) a failed assertion jumps out of its test
	 * and leaves that test's buffers behind. LeakSanitizer would report them at exit, a
	 * wall of stacks that buries the failure: _exit skips its exit-time check. Leaks are
	 * checked on every run whose tests all pass.
	 */
	if (failed) {
		fflush(stdout);
		fflush(stderr);
		_exit(EXIT_FAILURE);
	}
	return EXIT_SUCCESS;
}
