/* SPDX-License-Identifier: MIT */
/*
 * Integer models with random weights, for any architecture the float engine reads (the zoo's
 * ResNet-18 and MobileNetV2 at 3x224x224 included): a model to benchmark or to compile
 * without training one first.
 *
 *   struct f8_qm_owned q;
 *   f8_qm_random(text, seed, "resnet18", &q, &err);   // text: f8_zoo_arch("resnet18", ...)
 *   f8_qm_encode(&q.m, &bytes, &len, &qe);            // a .f8m image f8_qm_parse accepts
 *   f8_qm_owned_free(&q);
 *
 * The float network gets the engine's own initialisation (Kaiming-normal convs, PyTorch's
 * linear) from @seed, its BN layers a random affine part (gamma 1 + N(0, 0.1^2), beta
 * N(0, 0.1^2)) and, as running statistics, the batch statistics of images of uniformly
 * random pixels (drawn from @seed too), so that every conv + BN normalises its output as a
 * trained one does. It is then exported by F8Net's rules (f8_qm_export) with raw pixels at
 * FL 8 as its input, every activation FL calibrated on the same images: a random image
 * propagates with non-trivial codes at every layer, neither all zero nor all saturated.
 * The same text and seed give the same model, byte for byte.
 */
#ifndef F8_QRANDOM_H
#define F8_QRANDOM_H

#include <stdint.h>

#include "f8-err.h"
#include "f8-qexport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Images of f8_qm_random's statistics and calibration: 64 for small inputs, 4 from 64k
 * pixels up. */
#define F8_QM_RANDOM_CALIB_SMALL 64
#define F8_QM_RANDOM_CALIB_LARGE 4

/*
 * Build @out from architecture @text (docs/arch-format.md) with random parameters from
 * @seed; @name (<= 23 printable characters) is stored as the model name. F8_OK, or the
 * status of the parse or export with @err (a network the integer model cannot express is
 * F8_ERR_RANGE, as for f8_qm_export).
 */
int f8_qm_random(const char *text, uint64_t seed, const char *name, struct f8_qm_owned *out,
		 struct f8_err *err);

#ifdef __cplusplus
}
#endif
#endif
