// SPDX-License-Identifier: MIT
/*
 * Softmax cross-entropy over a batch of logits (f8-ops.h): mean loss, its gradient
 * and the count of correct argmax predictions. Serial: n x classes is tiny next to
 * the convolutions, and a fixed summation order keeps the loss reproducible.
 */
#include <math.h>
#include <stddef.h>

#include "f8-err.h"
#include "f8-ops.h"

float f8_softmax_xent(int n, int classes, const float *logits, const int *labels, float *dlogits,
		      int *correct)
{
	double total = 0.0;
	int i, k, hits = 0;

	for (i = 0; i < n; i++) {
		const float *z = logits + (size_t)i * classes;
		const int label = labels[i];
		double sum = 0.0, lse;
		float zmax = z[0];
		int best = 0;

		F8_ASSERT(label >= 0 && label < classes);
		for (k = 1; k < classes; k++) {
			if (z[k] > zmax) {
				zmax = z[k];
				best = k;
			}
		}
		hits += best == label;
		/* log-sum-exp shifted by the maximum: no overflow for large logits. */
		for (k = 0; k < classes; k++)
			sum += exp((double)z[k] - zmax);
		lse = zmax + log(sum);
		total += lse - z[label];
		if (dlogits) {
			float *d = dlogits + (size_t)i * classes;

			for (k = 0; k < classes; k++)
				d[k] = (float)((exp((double)z[k] - lse) - (k == label)) / n);
		}
	}
	if (correct)
		*correct = hits;
	return (float)(total / n);
}
