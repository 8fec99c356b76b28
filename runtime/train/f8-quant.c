// SPDX-License-Identifier: MIT
/*
 * F8Net's fixed-point quantizers (f8-quant.h). Rounding is round-half-to-even everywhere
 * (nearbyint in the default rounding mode), as torch.round and docs/arith.md A2.
 */
#include <math.h>

#include "f8-quant.h"

/* x * 2^fl is exact in float (a power-of-two scale), so rounding it once is exact RNE. */
static inline float fix_round(float x, int fl)
{
	return nearbyintf(x * ldexpf(1.0f, fl));
}

int32_t f8_fix_code(float x, int fl, bool is_signed)
{
	const float lo = is_signed ? -127.0f : 0.0f, hi = is_signed ? 127.0f : 255.0f;
	float r = fix_round(x, fl);

	if (!(r >= lo)) /* NaN too */
		r = lo;
	if (r > hi)
		r = hi;
	return (int32_t)r;
}

float f8_fix_quant(float x, int fl, bool is_signed)
{
	return (float)f8_fix_code(x, fl, is_signed) * ldexpf(1.0f, -fl);
}

bool f8_fix_pass(float x, int fl, bool is_signed)
{
	const float r = fix_round(x, fl);

	return is_signed ? fabsf(r) < 127.0f : (r > 0.0f && r < 255.0f);
}

int f8_fl_from_std(double std, bool is_signed)
{
	const double c = is_signed ? F8_FL_C_SIGNED : F8_FL_C_UNSIGNED;
	const int max = f8_fl_max(is_signed);
	double fl;

	if (!(std > 0.0))
		return max;
	fl = floor(log2(c / std));
	return fl < 0.0 ? 0 : fl > max ? max : (int)fl;
}

double f8_std_unbiased(const float *x, size_t n)
{
	double mean = 0.0, ss = 0.0;
	size_t i;

	if (n < 2)
		return 0.0;
	for (i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (i = 0; i < n; i++)
		ss += ((double)x[i] - mean) * ((double)x[i] - mean);
	return sqrt(ss / (double)(n - 1));
}

void f8_fl_grid_accumulate(const float *x, size_t n, float gain, bool is_signed, double *err)
{
	const int max = f8_fl_max(is_signed);
	int fl;
	size_t i;

	for (fl = 0; fl <= max; fl++) {
		double s = 0.0;

		for (i = 0; i < n; i++) {
			const float v = x[i] * gain;
			const double d = (double)v - (double)f8_fix_quant(v, fl, is_signed);

			s += d * d;
		}
		err[fl] += s;
	}
}

int f8_fl_grid_pick(const double *err, bool is_signed)
{
	int fl, best = 0;

	for (fl = 1; fl <= f8_fl_max(is_signed); fl++)
		if (err[fl] < err[best])
			best = fl;
	return best;
}

int32_t f8_fix_bias(double x, int fl)
{
	double r = nearbyint(ldexp(x, fl));

	if (!(r >= -2147483647.0))
		return r != r ? 0 : -2147483647;
	return r > 2147483647.0 ? 2147483647 : (int32_t)r;
}
