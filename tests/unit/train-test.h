/* SPDX-License-Identifier: MIT */
/* Check suites of the training engine (libf8: runtime/train/), registered in main.c. */
#ifndef F8_TRAIN_TEST_H
#define F8_TRAIN_TEST_H

#include <check.h>

Suite *f8_train_ops_suite(void);   /* check_train_ops.c: kernels against float64 finite differences */
Suite *f8_train_net_suite(void);   /* check_train_net.c: text format, zoo, whole-net gradients */
Suite *f8_train_optim_suite(void); /* check_train_optim.c: SGD steps and schedule, hand-computed */
Suite *f8_train_data_suite(void);  /* check_train_data.c: IDX loader, bad files, augmentation */
Suite *f8_train_ckpt_suite(void);  /* check_train_ckpt.c: round trip, truncation, corruption */
Suite *f8_train_loop_suite(void);  /* check_train_loop.c: a short run whose loss falls, resume */

#endif
