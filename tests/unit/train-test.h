/* SPDX-License-Identifier: MIT */
/* Check suites of the training engine (libf8: runtime/train/), registered in main.c. */
#ifndef F8_TRAIN_TEST_H
#define F8_TRAIN_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "f8-rng.h"

Suite *f8_train_ops_suite(void);   /* check_train_ops.c: kernels against float64 finite differences */
Suite *f8_train_net_suite(void);   /* check_train_net.c: text format, zoo, whole-net gradients */
Suite *f8_train_optim_suite(void); /* check_train_optim.c: SGD steps and schedule, hand-computed */
Suite *f8_train_data_suite(void);  /* check_train_data.c: IDX loader, bad files, augmentation */
Suite *f8_train_ckpt_suite(void);  /* check_train_ckpt.c: round trip, truncation, corruption */
Suite *f8_train_loop_suite(void);  /* check_train_loop.c: a short run whose loss falls, resume */
Suite *f8_train_qmodel_suite(void); /* check_train_qmodel.c: quantizers, model file, integer forward */
Suite *f8_train_blas_suite(void);  /* check_train_blas.c: OpenBLAS core choice, exact SGEMM */
Suite *f8_cpu_suite(void);         /* check_cpu.c: the CPU backend equals f8_qm_forward, per ISA */
Suite *f8_place_suite(void);       /* check_place.c: models split between device and host */
Suite *f8_compile_suite(void);     /* check_compile.c: compiled programs on ref equal f8_qm_forward */
Suite *f8_image_suite(void);       /* check_image.c: PGM and PNG decoding, refused files */
Suite *f8_dtbo_suite(void);       /* check_dtbo.c: device-tree overlays round-trip, apply, refusals */
Suite *f8_qrandom_suite(void);     /* check_qrandom.c: random-weight zoo models parse, run, carry information */

/* Shared helpers (train-test.c). The temporary directory lives for one test (a checked
 * fixture calls make/remove); f8tt_path() names a file in it (4 rotating buffers). */
extern char f8tt_tmpdir[64];
void f8tt_tmpdir_make(const char *tag);
void f8tt_tmpdir_remove(void);
char *f8tt_path(const char *name);
uint8_t *f8tt_read_file(const char *path, size_t *n); /* malloc'd, asserts on failure */
void f8tt_write_file(const char *path, const void *data, size_t n);
/* In a forked child: limit the data segment to what it uses now + @headroom bytes (plain
 * builds only: ASan maps its shadow as data); _exit(100) if that cannot be done. */
void f8tt_limit_data(size_t headroom);
void f8tt_fill_uniform(struct f8_rng *r, float *p, size_t n, double lo, double hi);

#endif
