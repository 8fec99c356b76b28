/* SPDX-License-Identifier: MIT */
/*
 * The baseline F8Net argues against (docs/f8net.md): post-training quantization with
 * per-channel int8 weights, 8-bit activations with a real scale per tensor, and
 * requantization by an int32 multiplier and a shift ("dyadic", integer-only inference as
 * in Jacob et al. 2018 / HAWQ-V3). Every requantization needs a 32 x 32-bit multiply, so
 * the device cannot run it: this is a CPU evaluation for the accuracy table only.
 *
 * Scales: weights max|W_f[o]| / 127 per output channel (BN folded with its running
 * statistics), activations max|x| / 255 (after a ReLU) or / 127 over the calibration
 * images; biases int32 at s_x * s_w[o]. Between layers a value v is requantized as
 * round(v * M * 2^-(31 + n)) with M an int32 in [2^30, 2^31), the dyadic approximation of
 * the ratio of scales; a residual add rescales both 8-bit operands to the output's scale
 * the same way (16 extra bits of headroom); the classifier's int32 accumulators are the
 * logits. The image is quantized to s8 from its normalised float value.
 */
#ifndef F8_DYADIC_H
#define F8_DYADIC_H

#include "f8-data.h"
#include "f8-err.h"
#include "f8-net.h"

#ifdef __cplusplus
extern "C" {
#endif

struct f8_dyadic;

/* Calibrate on the first @calib_images of @calib (float forward in eval mode) and build
 * the integer network. F8_ERR_RANGE naming the layer for a pattern it does not handle. */
int f8_dyadic_build(struct f8_net *net, const struct f8_dataset *calib, int calib_images,
		    const struct f8_norm *norm, struct f8_dyadic **out, struct f8_err *err);
/* Top-1 predictions of the integer network for images [0, n) of @ds (pred[n]). */
void f8_dyadic_predict(const struct f8_dyadic *d, const struct f8_dataset *ds, int n, int *pred);
void f8_dyadic_free(struct f8_dyadic *d);

#ifdef __cplusplus
}
#endif
#endif
