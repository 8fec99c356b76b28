/* SPDX-License-Identifier: MIT */
/*
 * F8Net's fixed-point quantizers (docs/f8net.md), shared by the export and the trainer.
 *
 * An 8-bit fixed-point number with fractional length FL stands for code * 2^-FL, with
 * code in [-127, 127] (signed: symmetric, -128 never produced) or [0, 255] (unsigned).
 * FL is 0..7 signed, 0..8 unsigned: never negative.
 */
#ifndef F8_QUANT_H
#define F8_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define F8_FL_C_SIGNED 40.0   /* FL = floor(log2(c / std)), F8Net's constants for std */
#define F8_FL_C_UNSIGNED 70.0

/* The largest FL of a format: 7 signed, 8 unsigned. */
static inline int f8_fl_max(bool is_signed)
{
	return is_signed ? 7 : 8;
}

/* The code of x: round half to even of x * 2^fl, clamped to the format. */
int32_t f8_fix_code(float x, int fl, bool is_signed);
/* Fake quantization: the code times 2^-fl, as a float (exact). */
float f8_fix_quant(float x, int fl, bool is_signed);
/* The straight-through mask of F8Net: 1 when the rounded code is strictly inside the
 * range (signed |code| < 127, unsigned 0 < code < 255), else 0. */
bool f8_fix_pass(float x, int fl, bool is_signed);

/* FL from a standard deviation: clamp(floor(log2(c / std)), 0, max); std 0 gives max. */
int f8_fl_from_std(double std, bool is_signed);
/* Unbiased (N - 1) standard deviation of @n values (0 for n < 2). */
double f8_std_unbiased(const float *x, size_t n);

/* Grid search: squared errors of every FL 0..max added into err[0..max] (for several
 * batches), then f8_fl_grid_pick chooses the smallest error, the smaller FL on ties. */
void f8_fl_grid_accumulate(const float *x, size_t n, float gain, bool is_signed, double *err);
int f8_fl_grid_pick(const double *err, bool is_signed);

/* sat32(round_half_even(x * 2^fl)): an int32 bias at fractional length fl (0..40). */
int32_t f8_fix_bias(double x, int fl);

#ifdef __cplusplus
}
#endif
#endif
